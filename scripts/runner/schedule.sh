# scripts/runner/schedule.sh: running the jobs (sourced by run_tests.sh):
# start order, -j slots, one fork per test in its own process group,
# timeouts (TERM, then KILL), the heartbeat, the outcome of an exit
# status, and stopping everything on Ctrl-C.
#
# One job per (entry, repetition); J_* are indexed by job number, which is
# also the TAP number minus one.

now_us() { REPLY=${EPOCHREALTIME//[!0-9]/}; }
fmt_s() { printf -v REPLY '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

kill_group() {
	# The whole process group, so the test's children go too; the pid alone
	# if the child has not reached setsid() yet.
	kill -s "$1" -- "-$2" 2>/dev/null || kill -s "$1" "$2" 2>/dev/null
}

# jobs_init: the J_* arrays, the log names and the start order.
jobs_init() {
	local j e r want_slow is_slow
	total=$((nsel * opt_repeat))
	J_e=() J_rep=() J_state=() J_pid=() J_start=() J_end=() J_deadline=() J_killat=()
	J_timedout=() J_out=() J_detail=() J_time=() J_log=() J_line=() J_diag=() J_signal=()
	K_lines=() K_bad=() J_peers=() J_to=()
	for ((j = 0; j < total; j++)); do
		e=${sel[j % nsel]}
		J_e[j]=$e J_rep[j]=$((j / nsel + 1)) J_state[j]=pending J_signal[j]=
		J_timedout[j]= J_killat[j]=0 J_diag[j]= K_lines[j]= K_bad[j]= J_peers[j]= J_detail[j]= J_time[j]= J_out[j]=
		if ((opt_repeat > 1)); then
			J_log[j]=$out/${E_name[e]}.${J_rep[j]}.log
		else
			J_log[j]=$out/${E_name[e]}.log
		fi
	done
	# Start order: within each --repeat round, entries of the "slow" group
	# go first, so under -j the longest runs overlap the short ones instead
	# of starting last and running alone (TAP still comes out in list order).
	J_order=()
	for ((r = 0; r < total; r += nsel)); do
		for want_slow in 1 0; do
			for ((j = r; j < r + nsel; j++)); do
				is_slow=0
				[[ ,${E_groups[J_e[j]]}, == *,slow,* ]] && is_slow=1
				((is_slow == want_slow)) && J_order+=("$j")
			done
		done
	done
	declare -gA R_job=() E_running=() V_fd=() V_part=() # R_job: pid -> job, for the running ones
	nrunning=0 ndone=0 next_pending=0 next_print=0
	interrupted= ticker= failed_any=0
	grace=${KVMTEST_KILL_GRACE:-3}
	[[ $grace =~ ^[0-9]+$ ]] || grace=3
	hb_every=${KVMTEST_HEARTBEAT:-10}
	[[ $hb_every =~ ^[0-9]+$ ]] && ((hb_every > 0)) || hb_every=10
	now_us
	hb_next=$((REPLY + hb_every * 1000000))
	# The ticker wakes `wait -n` up for timeouts, the heartbeat and -v.
	tick=1
	((opt_verbose)) && tick=0.2
	return 0
}

# -v: stream each running test's log through a read fd of our own. The
# header lines written before the test started are skipped.
HEADER_LINES=4
vstream() {
	local j=$1 final=$2 fd=${V_fd[$1]-} l pre='# '
	((jobs > 1)) && pre="# ${E_name[J_e[j]]}: "
	while IFS= read -r -u "$fd" l; do
		printf '%s%s%s\n' "$pre" "${V_part[$j]-}" "$l"
		V_part[$j]=
	done
	V_part[$j]+=$l
	if ((final)); then
		[[ -n ${V_part[$j]-} ]] && printf '%s%s\n' "$pre" "${V_part[$j]-}"
		exec {fd}<&-
		unset "V_fd[$j]" "V_part[$j]"
	fi
}

# Start job j, or settle it at once (expect skip, missing binary).
launch() {
	local j=$1 e=${J_e[$1]} bin=${E_bin[${J_e[$1]}]} args to r log=${J_log[$1]}
	now_us
	J_start[j]=$REPLY J_state[j]=running
	if [[ ${EX_kind[e]-} == skip ]]; then
		printf 'not run: the expectations say skip: %s\n' "${EX_reason[e]-}" >"$log"
		settle "$j" SKIP "${EX_reason[e]-}" 0
		return
	fi
	if [[ ! -f $bin || ! -x $bin ]]; then
		printf '%s\n' "not run: $bin is missing or not executable (not built? run make, or check --bin-dir)" >"$log"
		settle "$j" FAIL "binary $bin not found or not executable" 0
		return
	fi
	set -f
	args=(${E_args[e]})
	set +f
	to=${E_eto[e]}
	local tos=${to}s
	((to)) || tos=none
	[[ -n ${E_tonote[e]-} ]] && tos+=" (${E_tonote[e]})"
	# Header: exactly HEADER_LINES lines (vstream skips them).
	{
		printf '# test: %s (run %d of %d)\n' "${E_name[e]}" "${J_rep[j]}" "$opt_repeat"
		printf '# command:'
		printf ' %q' "$bin" "${args[@]}"
		printf '\n# started: %(%F %T %z)T, timeout %s\n' -1 "$tos"
		printf '# ---- output (stdout and stderr) ----\n'
	} >"$log"
	# One fork: the child execs setsid, which execs the test in a new
	# session/process group (pgid = pid), so a timeout can kill the group.
	setsid "$bin" "${args[@]}" >>"$log" 2>&1 </dev/null &
	J_pid[j]=$!
	R_job[$!]=$j
	E_running[$e]=$!
	((nrunning++))
	if ((to)); then J_deadline[j]=$((J_start[j] + to * 1000000)); else J_deadline[j]=0; fi
	J_to[j]=$to
	if ((nrunning > 1)); then
		local k
		for r in "${!R_job[@]}"; do
			k=${R_job[$r]-}
			((k == j)) && continue
			J_peers[j]+=" ${E_name[J_e[k]]}"
			J_peers[k]+=" ${E_name[e]}"
		done
	fi
	if ((opt_verbose)); then
		local fd n
		exec {fd}<"$log"
		for ((n = 0; n < HEADER_LINES; n++)); do read -r -u $fd _; done
		V_fd[$j]=$fd
	fi
}

# status_outcome STATUS LOG: REPLY = PASS|SKIP|FAIL, REPLY_DETAIL why,
# REPLY_SIGNAL the signal's name when the status says the test died of one.
# bash reports death by signal N as 128+N (N up to 64); 193-255 can only be
# exit codes (254: an in-tree selftest's failed assert). An exit code from
# 129 to 192 looks the same as a signal to any shell: such a test is
# reported as killed by that signal.
status_outcome() {
	local st=$1 m sig=
	REPLY_DETAIL= REPLY_SIGNAL=
	if ((st == 0)); then
		REPLY=PASS
	elif ((st == 4)); then
		REPLY=SKIP
		# Our library prints "SKIP: <reason>"; kselftest's ksft_exit_skip()
		# "1..0 # SKIP <reason>" (or "ok N # SKIP <reason>"), the in-tree
		# KVM selftests' print_skip() "<reason>, skipping test". The last
		# one wins.
		m=$(grep -E '^SKIP: |^(1\.\.0|ok [0-9]+) # SKIP |, skipping test$' "$2" 2>/dev/null | tail -n 1)
		case $m in
		'SKIP: '*) m=${m#SKIP: } ;;
		*' # SKIP '*) m=${m#* # SKIP } ;;
		*', skipping test') m=${m%, skipping test} ;;
		esac
		REPLY_DETAIL=${m#- }
		[[ -n $REPLY_DETAIL ]] || REPLY_DETAIL="exit 4 (skip) without a 'SKIP: reason' line"
	elif ((st > 128 && st <= 128 + 64)); then
		sig=$(kill -l $((st - 128)) 2>/dev/null)
		REPLY=FAIL REPLY_SIGNAL=SIG${sig:-$((st - 128))} REPLY_DETAIL="killed by SIG${sig:-$((st - 128))}"
	else
		REPLY=FAIL REPLY_DETAIL="exit $st"
	fi
}

# A finished test: work out its outcome from its exit status, output and
# the kernel log, then write the log footer and queue its TAP line.
reap() {
	local j=$1 st=$2 e=${J_e[$1]} log=${J_log[$1]} outcome detail
	((opt_verbose)) && [[ -n ${V_fd[$j]-} ]] && vstream "$j" 1
	klog_drain
	unset "R_job[${J_pid[j]}]"
	unset "E_running[$e]"
	((nrunning--))
	# Children the test left behind die with it.
	kill -s KILL -- "-${J_pid[j]}" 2>/dev/null

	if [[ -n ${J_timedout[j]} ]]; then
		outcome=TIMEOUT detail="timed out after ${J_to[j]} s${J_timedout[j]#1}"
		[[ -n ${E_tonote[e]-} ]] && detail+=" (${E_tonote[e]})"
	else
		status_outcome "$st" "$log"
		outcome=$REPLY detail=$REPLY_DETAIL J_signal[j]=$REPLY_SIGNAL
	fi
	klog_verdict "$j" "$outcome" "$detail"
	outcome=$REPLY detail=$REPLY_DETAIL
	expect_apply "$j" "$outcome" "$st"
	outcome=$REPLY
	[[ -n $REPLY_DETAIL ]] && detail=$REPLY_DETAIL

	# The last lines of a failure's output, unless already streamed.
	if [[ $outcome == FAIL || $outcome == TIMEOUT ]] && ((!opt_verbose)); then
		local tl
		while IFS= read -r tl; do
			case $tl in '# test: '* | '# command: '* | '# started: '* | '# ---- output'*) continue ;; esac
			J_diag[j]+="#   $tl"$'\n'
		done < <(tail -n 5 "$log" 2>/dev/null)
		J_diag[j]+="# log: $log"$'\n'
	fi

	now_us
	J_end[j]=$REPLY
	{
		printf '# ---- end of output ----\n'
		printf '# exit status: %s\n' "$st"
		[[ -n ${J_timedout[j]} ]] && printf '# timed out after %s s: process group killed\n' "${J_to[j]}"
		fmt_s $((J_end[j] - J_start[j]))
		printf '# wall time: %s s\n' "$REPLY"
		printf '# result: %s%s\n' "$outcome" "${detail:+ ($detail)}"
		klog_footer "$j"
	} >>"$log"
	settle "$j" "$outcome" "$detail" $((J_end[j] - J_start[j]))
}

# Whether entry E is in the "exclusive" group: it changes state that every
# VM on the host sees (a KVM module parameter, say), so it runs alone.
is_exclusive() { [[ ,${E_groups[$1]}, == *,exclusive,* ]]; }

# Pick the next job to start: the first pending one in start order whose
# entry is not already running (--repeat never runs one entry twice at the
# same time). An exclusive job starts only when nothing runs, and nothing
# starts beside it; once it is the next in order, the others wait for it
# (it is not put off to the end).
pick() {
	local i k r lim=$((next_pending + nsel + jobs))
	for r in "${!R_job[@]}"; do
		is_exclusive "${J_e[${R_job[$r]}]}" && return 1
	done
	while ((next_pending < total)) && [[ ${J_state[J_order[next_pending]]} != pending ]]; do ((next_pending++)); done
	for ((i = next_pending; i < total && i < lim; i++)); do
		k=${J_order[i]}
		[[ ${J_state[k]} == pending ]] || continue
		[[ -z ${E_running[${J_e[k]}]-} ]] || continue
		if is_exclusive "${J_e[k]}"; then
			((nrunning == 0)) || return 1
		fi
		REPLY=$k
		return 0
	done
	return 1
}

# When a background job dies while the shell waits for a foreground command
# (grep, tail), bash may report it right there and drop it from its job
# table: `wait -n` never returns it. It is gone (kill -0 fails) and
# `wait PID` still knows its status, so look for such jobs after each wake.
reap_lost() {
	local r st
	for r in "${!R_job[@]}"; do
		kill -0 "$r" 2>/dev/null && continue
		wait "$r" 2>/dev/null
		st=$?
		[[ -n ${R_job[$r]-} ]] && reap "${R_job[$r]-}" "$st"
	done
}

# Timeouts: TERM the group at the deadline, KILL after a grace, and after
# another grace give up on a process stuck in the kernel (report it).
check_timeouts() {
	local r j
	now_us
	for r in "${!R_job[@]}"; do
		j=${R_job[$r]-}
		if [[ -z ${J_timedout[j]} ]]; then
			((J_deadline[j] && REPLY >= J_deadline[j])) || continue
			J_timedout[j]=1
			kill_group TERM "$r"
			J_killat[j]=$((REPLY + grace * 1000000))
		elif ((J_killat[j] && REPLY >= J_killat[j])); then
			if [[ ${J_timedout[j]} == 1 ]]; then
				J_timedout[j]="1 (ignored SIGTERM: SIGKILL sent)"
				kill_group KILL "$r"
				J_killat[j]=$((REPLY + grace * 1000000))
			else
				# Unkillable (D state): report it, stop waiting for it.
				J_timedout[j]="1 (could not be killed: pid $r is stuck in the kernel)"
				reap "$j" 137
			fi
		fi
	done
}

heartbeat() {
	local r j s= age
	now_us
	((REPLY >= hb_next)) || return
	hb_next=$((REPLY + hb_every * 1000000))
	for r in "${!R_job[@]}"; do
		j=${R_job[$r]-}
		age=$(((REPLY - J_start[j]) / 1000000))
		((age >= hb_every)) && s+=", ${E_name[J_e[j]]} (pid $r, ${age} s)"
	done
	[[ -n $s ]] && printf '# %s: %(%T)T still running: %s\n' "$prog" -1 "${s:2}" >&$err_fd
}

start_ticker() {
	[[ -n $ticker ]] && return
	sleep "${1:-$tick}" &
	ticker=$!
}

on_exit() {
	# No test outlives the runner, whatever path led here.
	local r
	for r in "${!R_job[@]}"; do kill_group KILL "$r"; done
	[[ -n $ticker ]] && kill "$ticker" 2>/dev/null
}

# run_jobs: start, wait, reap until every job is done or a signal came.
run_jobs() {
	local wpid st j
	while ((ndone < total)) && [[ -z $interrupted ]]; do
		while ((nrunning < jobs)) && [[ -z $interrupted ]] && pick; do
			launch "$REPLY"
		done
		flush
		((ndone < total)) || break
		((nrunning)) || continue
		start_ticker
		wpid=
		# (bash's own "Segmentation fault ..." job notice would go to
		# stderr: the test's result says it better.)
		wait -n -p wpid 2>/dev/null
		st=$?
		if [[ -n ${wpid-} ]]; then
			if [[ ${wpid-} == "$ticker" ]]; then
				ticker=
				# A long test's kernel messages are collected as they
				# come, so a flood cannot overrun the kernel's buffer.
				[[ $klog_mode == kmsg ]] && klog_drain
			elif [[ -n ${R_job[${wpid-}]-} ]]; then
				reap "${R_job[${wpid-}]-}" "$st"
			fi
		fi
		reap_lost
		((opt_verbose)) && for j in "${!V_fd[@]}"; do vstream "$j" 0; done
		check_timeouts
		heartbeat
	done
	flush
	# A bash error inside the loop ends it early: never report that as a pass.
	if [[ -z $interrupted ]] && ((ndone < total)); then
		echo "$prog: internal error: the run loop stopped with $((total - ndone)) test(s) unfinished (see $out/runner-stderr.txt); please report this" >&$err_fd
		interrupted="an internal error"
	fi
	return 0
}

# stop_jobs: interrupted: stop what runs (TERM, then KILL after the grace),
# keep what finished; unfinished=(jobs that did not finish).
stop_jobs() {
	local r j st wpid stop_by killed=0
	unfinished=()
	[[ -n $interrupted ]] || return 0
	trap '' INT TERM HUP
	# Short ticks from here: stopping should take about the grace, no more.
	[[ -n $ticker ]] && kill "$ticker" 2>/dev/null && wait "$ticker" 2>/dev/null
	ticker=
	for r in "${!R_job[@]}"; do kill_group TERM "$r"; done
	now_us
	stop_by=$((REPLY + grace * 1000000))
	while ((nrunning)); do
		now_us
		if ((REPLY >= stop_by)); then
			((killed)) && break
			for r in "${!R_job[@]}"; do kill_group KILL "$r"; done
			killed=1 stop_by=$((REPLY + grace * 1000000))
		fi
		start_ticker 0.1
		wpid=
		wait -n -p wpid 2>/dev/null
		st=$?
		if [[ ${wpid-} == "$ticker" ]]; then
			ticker=
		elif [[ -n ${wpid-} && -n ${R_job[${wpid-}]-} ]]; then
			j=${R_job[${wpid-}]-}
			((opt_verbose)) && [[ -n ${V_fd[$j]-} ]] && vstream "$j" 1
			unset "R_job[${wpid-}]"
			((nrunning--))
			kill -s KILL -- "-${wpid-}" 2>/dev/null
			printf '# ---- interrupted (%s): test stopped ----\n' "$interrupted" >>"${J_log[j]}"
			J_state[j]=interrupted
		fi
	done
	for ((j = 0; j < total; j++)); do
		case ${J_state[j]} in
		running | interrupted) unfinished+=("$j") J_state[j]=interrupted ;;
		pending) unfinished+=("$j") ;;
		esac
	done
	return 0
}
