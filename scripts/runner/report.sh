# scripts/runner/report.sh: what a run tells (sourced by run_tests.sh): the
# TAP stream (stdout and results.tap, in list order), the summary,
# junit.xml, results.tsv (read back by --durations and --compare) and
# summary.txt.

# report_open: colours (on a terminal only) and results.tap.
report_open() {
	c_ok= c_fail= c_skip= c_x= c_off=
	if [[ -t 1 && -z ${NO_COLOR-} && ${TERM-} != dumb ]]; then
		c_ok=$'\e[32m' c_fail=$'\e[1;31m' c_skip=$'\e[33m' c_x=$'\e[36m' c_off=$'\e[0m'
	fi
	exec {tap_fd}>"$out/results.tap"
}

# A line for the TAP stream: on stdout (unless -q) and in results.tap.
tap() {
	printf '%s\n' "$1" >&$tap_fd
	((opt_quiet)) || printf '%s\n' "${2:-$1}"
}
# A '# ' note: stdout keeps TAP valid and carries it into CI logs.
note() { tap "# $*"; }

# Record a result and queue its TAP line (printed in list order by flush).
settle() {
	local j=$1 o=$2 d=$3 us=$4 n=$(($1 + 1)) name=${E_name[J_e[$1]]} t
	fmt_s "$us"
	t=$REPLY
	J_out[j]=$o J_detail[j]=$d J_time[j]=$t J_state[j]="done"
	((ndone++))
	case $o in
	PASS) J_line[j]="ok $n $name # time=${t}s" ;;
	FAIL | TIMEOUT) J_line[j]="not ok $n $name # time=${t}s (${d})"; failed_any=1 ;;
	SKIP) J_line[j]="ok $n $name # SKIP ${d} (time=${t}s)" ;;
	XFAIL) J_line[j]="not ok $n $name # TODO ${d} (time=${t}s)" ;;
	XPASS) J_line[j]="ok $n $name # TODO XPASS: ${d} (time=${t}s)" ;;
	esac
}

print_one() {
	local j=$1 l=${J_line[$1]} c
	case ${J_out[j]} in
	PASS) c=$c_ok ;; SKIP) c=$c_skip ;; XFAIL | XPASS) c=$c_x ;; *) c=$c_fail ;;
	esac
	if [[ -z $c ]]; then
		tap "$l"
	elif [[ $l == 'not ok'* ]]; then
		tap "$l" "$c${l:0:6}$c_off${l:6}"
	else
		tap "$l" "$c${l:0:2}$c_off${l:2}"
	fi
	if [[ -n ${J_diag[j]} ]]; then
		printf '%s' "${J_diag[j]}" >&$tap_fd
		((opt_quiet)) || printf '%s' "${J_diag[j]}"
	fi
}

# TAP lines go out in list order: a result waits for those before it.
flush() {
	while ((next_print < total)) && [[ ${J_state[next_print]} == "done" ]]; do
		print_one $((next_print++))
	done
}

# report_interrupted: what finished, in list order, then Bail out.
report_interrupted() {
	local j
	[[ -n $interrupted ]] || return 0
	for ((j = next_print; j < total; j++)); do
		[[ ${J_state[j]} == "done" ]] && print_one "$j"
	done
	tap "Bail out! interrupted by $interrupted"
}

# report_summary: the summary lines (names every test that did not pass),
# to stdout and results.tap. Counts over every run of every test; timeouts
# count as failed, XPASS as passed, XFAIL apart.
report_summary() {
	local j o e k name runs d s l
	declare -gA cnt=([PASS]=0 [FAIL]=0 [TIMEOUT]=0 [SKIP]=0 [XFAIL]=0 [XPASS]=0)
	local -A per=() per_logs=() per_detail=()
	for ((j = 0; j < total; j++)); do
		[[ ${J_state[j]} == "done" ]] || continue
		o=${J_out[j]} e=${J_e[j]}
		cnt[$o]=$((cnt[$o] + 1))
		per[$e:$o]=$((${per[$e:$o]-0} + 1))
		per_logs[$e:$o]+=" ${J_log[j]}"
		# Distinct details only (a repeated test usually fails the same way).
		[[ $'\n'${per_detail[$e:$o]-} == *$'\n'"${J_detail[j]}"$'\n'* ]] || per_detail[$e:$o]+=${J_detail[j]}$'\n'
	done
	n_pass=$((cnt[PASS] + cnt[XPASS]))
	n_fail=$((cnt[FAIL] + cnt[TIMEOUT]))
	n_skip=${cnt[SKIP]}

	summary=()
	fmt_s "$run_us"
	local f xfiles=
	for f in "${expect_files[@]}"; do xfiles+="${xfiles:+ or }${f#"$here"/}"; done
	summary+=("# Summary: $total test run(s) of $nsel test(s) in ${REPLY} s, -j $jobs${opt_shard:+, shard $opt_shard}; logs in $out")
	for o in FAIL TIMEOUT XPASS XFAIL SKIP; do
		for e in "${sel[@]}"; do
			k=${per[$e:$o]-}
			[[ -n $k ]] || continue
			name=${E_name[e]}
			runs=
			((opt_repeat > 1)) && runs=" [$k of $opt_repeat runs]"
			d=${per_detail[$e:$o]%$'\n'}
			d=${d//$'\n'/ | }
			case $o in
			FAIL | TIMEOUT) summary+=("# $(printf '%-8s' "$o") $name$runs: $d; log:${per_logs[$e:$o]-}") ;;
			XPASS) summary+=("# XPASS    $name$runs: passed although expected to fail ($d): update ${xfiles:-the expectations}") ;;
			*) summary+=("# $(printf '%-8s' "$o") $name$runs: $d") ;;
			esac
		done
	done
	if ((opt_repeat > 1)); then
		for e in "${sel[@]}"; do
			s=
			for o in PASS:passed FAIL:failed TIMEOUT:timed\ out SKIP:skipped XFAIL:xfail XPASS:xpass; do
				[[ -n ${per[$e:${o%%:*}]-} ]] && s+=", ${per[$e:${o%%:*}]-} ${o#*:}"
			done
			summary+=("# per test: ${E_name[e]}: ${s:2}")
		done
	fi
	if ((${#unfinished[@]})); then
		s=
		for j in "${unfinished[@]}"; do
			s+=" ${E_name[J_e[j]]}"
			((opt_repeat > 1)) && s+="#${J_rep[j]}"
			[[ ${J_state[j]} == interrupted ]] && s+="(stopped)"
		done
		summary+=("# NOT RUN  interrupted by $interrupted before these finished:$s")
	fi
	summary+=("# ${cnt[TIMEOUT]} timed out, ${cnt[XFAIL]} xfail, ${cnt[XPASS]} xpass$( ((${#unfinished[@]})) && echo ", ${#unfinished[@]} not finished")")
	summary+=("$n_pass passed, $n_fail failed, $n_skip skipped")

	for l in "${summary[@]}"; do
		printf '%s\n' "$l" >&$tap_fd
		if [[ -n $c_off ]]; then
			case $l in
			'# FAIL'* | '# TIMEOUT'*) l=$c_fail$l$c_off ;;
			'# XPASS'* | '# NOT RUN'*) l=$c_x$l$c_off ;;
			esac
		fi
		printf '%s\n' "$l"
	done
	exec {tap_fd}>&-
}

xml() {
	local s=$1
	s=${s//&/&amp;} s=${s//</&lt;} s=${s//>/&gt;} s=${s//\"/&quot;}
	# XML 1.0 allows no control characters, and the file says UTF-8:
	# anything else becomes '?'.
	REPLY=${s//[^[:print:]$'\t\n']/?}
}

write_junit() {
	local j e name o t tests=0 nf=0 ne=0 ns=0 body= cls tail
	for ((j = 0; j < total; j++)); do
		e=${J_e[j]}
		name=${E_name[e]}
		((opt_repeat > 1)) && name+=" (run ${J_rep[j]})"
		xml "$name"
		name=$REPLY
		cls=kvmtest.${E_groups[e]%%,*}
		((tests++))
		o=${J_out[j]}
		[[ ${J_state[j]} == "done" ]] || o=NOTRUN
		t=${J_time[j]:-0}
		body+="    <testcase classname=\"$cls\" name=\"$name\" time=\"$t\">"$'\n'
		xml "${J_detail[j]}"
		case $o in
		FAIL | TIMEOUT)
			((nf++))
			body+="      <failure type=\"${o,,}\" message=\"$REPLY\">log: ${J_log[j]}</failure>"$'\n'
			tail=$(tail -n 100 "${J_log[j]}" 2>/dev/null)
			xml "$tail"
			body+="      <system-out>$REPLY</system-out>"$'\n'
			;;
		SKIP) ((ns++)); body+="      <skipped message=\"$REPLY\"/>"$'\n' ;;
		XFAIL) ((ns++)); body+="      <skipped type=\"xfail\" message=\"expected failure: $REPLY\"/>"$'\n' ;;
		XPASS) body+="      <system-out>XPASS: passed although expected to fail: $REPLY</system-out>"$'\n' ;;
		NOTRUN)
			if [[ ${J_state[j]} == interrupted ]]; then
				((ne++))
				body+="      <error type=\"interrupted\" message=\"stopped by $interrupted\">log: ${J_log[j]}</error>"$'\n'
			else
				((ns++))
				body+="      <skipped message=\"not run: interrupted by $interrupted\"/>"$'\n'
			fi
			;;
		esac
		body+="    </testcase>"$'\n'
	done
	local host=localhost ts suite=kvmtest
	[[ -n $opt_shard ]] && suite+=" (shard $opt_shard)"
	read -r host </proc/sys/kernel/hostname 2>/dev/null
	xml "$host"
	host=$REPLY
	printf -v ts '%(%Y-%m-%dT%H:%M:%S)T' "${run_start:0:${#run_start}-6}"
	fmt_s "$run_us"
	{
		printf '<?xml version="1.0" encoding="UTF-8"?>\n'
		printf '<testsuites name="kvmtest" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s">\n' \
			"$tests" "$nf" "$ne" "$ns" "$REPLY"
		printf '  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s" timestamp="%s" hostname="%s">\n' \
			"$suite" "$tests" "$nf" "$ne" "$ns" "$REPLY" "$ts" "$host"
		printf '%s' "$body"
		printf '  </testsuite>\n</testsuites>\n'
	} >"$out/junit.xml"
}

# write_tsv: one line per job, tab-separated: name, run, outcome (PASS FAIL
# TIMEOUT SKIP XFAIL XPASS NOTRUN), seconds, detail; the per-case lines of
# its log are in the log itself.
write_tsv() {
	local j o
	{
		printf '# name\trun\toutcome\tseconds\tdetail\n'
		for ((j = 0; j < total; j++)); do
			o=${J_out[j]}
			[[ ${J_state[j]} == "done" ]] || o=NOTRUN
			printf '%s\t%s\t%s\t%s\t%s\n' "${E_name[J_e[j]]}" "${J_rep[j]}" "$o" "${J_time[j]:-0.000}" \
				"${J_detail[j]//$'\t'/ }"
		done
	} >"$out/results.tsv"
}

git_head() {
	local d=$here/.git common ref h line r
	# The VM lane's copy has no .git: the lane passes the host's HEAD.
	[[ -e $d ]] || { REPLY=${KVMTEST_GIT_HEAD:-"(not a git checkout)"}; return; }
	if command -v git >/dev/null; then
		REPLY=$(git -C "$here" describe --always --dirty --abbrev=40 2>/dev/null) && [[ -n $REPLY ]] && return
	fi
	# No git (a VM, a minimal box): read HEAD by hand. In a worktree .git
	# is a file naming the worktree's own git dir, whose HEAD is its own
	# but whose refs live in the main repository's ("commondir").
	if [[ -f $d ]]; then
		read -r line <"$d"
		d=${line#gitdir: }
		[[ $d == /* ]] || d=$here/$d
	fi
	common=$d
	if [[ -f $d/commondir ]]; then
		read -r common <"$d/commondir"
		[[ $common == /* ]] || common=$d/$common
	fi
	read -r ref <"$d/HEAD" 2>/dev/null
	if [[ $ref == 'ref: '* ]]; then
		ref=${ref#ref: }
		if [[ -f $common/$ref ]]; then
			read -r h <"$common/$ref"
		else
			while read -r h r; do [[ $r == "$ref" ]] && break; h=; done <"$common/packed-refs" 2>/dev/null
		fi
		REPLY="${h:-unknown} ($ref)"
	else
		REPLY=${ref:-unknown}
	fi
}

# write_summary_txt: what ran where, then the summary.
write_summary_txt() {
	local p v m
	{
		printf 'kvmtest run\n'
		printf 'date:        %s\n' "$run_date"
		printf -v REPLY ' %q' "${cmdline[@]}"
		printf 'command:    %s\n' "$REPLY"
		printf 'kernel:      %s\n' "$(uname -r 2>/dev/null)"
		printf 'uname -a:    %s\n' "$(uname -a 2>/dev/null)"
		git_head
		printf 'git HEAD:    %s\n' "$REPLY"
		[[ -n ${KVMTEST_KERNEL_SOURCE-} ]] && printf 'kernel src:  %s\n' "$KVMTEST_KERNEL_SOURCE"
		printf 'test list:   %s\n' "${opt_lists[*]}"
		printf 'binaries:    %s\n' "${opt_bin_dirs[*]}"
		printf 'expect file: %s\n' "${expect_files[*]:-none}"
		printf 'durations:   %s\n' "${history_src:-none}"
		printf 'shard:       %s\n' "${opt_shard:-none}"
		printf 'jobs:        %s\n' "$jobs"
		printf '/dev/kvm:    %s\n' "${kvm_problem:-present, read-write}"
		printf 'kernel log:  %s\n' "${klog_mode:-${klog_note}}"
		printf '\nKVM module parameters:\n'
		shopt -s nullglob
		for p in /sys/module/kvm*/parameters/*; do
			v=
			read -r v <"$p" 2>/dev/null || v=${v:-"(unreadable)"}
			m=${p#/sys/module/} m=${m%%/*}
			printf '  %s.%s=%s\n' "$m" "${p##*/}" "$v"
		done
		shopt -u nullglob
		printf '\nResult:\n'
		printf '%s\n' "${summary[@]}"
	} >"$out/summary.txt"
}
