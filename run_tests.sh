#!/usr/bin/env bash
# run_tests.sh: the kvmtest runner. Reads tests.list, runs the selected
# entries (in parallel if asked), prints TAP 13 and a summary, and keeps
# everything under a per-run result directory. docs/runner.md has the
# details; -h the short form.
#
# Portability: this same file runs inside the VM lanes under bash-static with
# busybox as the only userland. So: bash builtins for everything on the hot
# path ($EPOCHREALTIME, read, [[ ]], arrays, wait -n -p) and only
# busybox-compatible external commands (setsid, kill, sleep, mkdir, cat,
# grep, tail, ln, dmesg, uname, nproc), each used as little as possible:
# running one test costs one fork (the test itself).

# --- VM lanes: they take the whole argument list, before any parsing --------
here=${BASH_SOURCE[0]%/*}
[[ $here == "${BASH_SOURCE[0]}" ]] && here=.
for a; do
	case $a in
	--vm | --vm=*)
		if [[ ! -x $here/scripts/vm/lane.sh ]]; then
			echo "run_tests.sh: $a needs scripts/vm/lane.sh, which is not in this tree" >&2
			exit 2
		fi
		exec "$here/scripts/vm/lane.sh" "$@"
		;;
	esac
done

# Byte semantics for pattern matching (XML sanitising) and a '.' decimal
# point in $EPOCHREALTIME, whatever the caller's locale.
export LC_ALL=C
[[ $here == /* ]] || here=$PWD/$here
here=${here%/.}
prog=run_tests.sh
cmdline=("$0" "$@")

# wait -p arrived in bash 5.1.
if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
	echo "$prog: needs bash 5.1 or newer (this is $BASH_VERSION)" >&2
	exit 2
fi

usage() {
	cat <<'EOF'
Usage: ./run_tests.sh [options]
Run kvmtest's tests (listed in tests.list) and report TAP 13 plus a summary.

Selecting (-t, -g and -x may repeat; every pattern must match some test):
  -l               list the selected tests with their groups, run nothing
  -t NAME|GLOB     run the tests whose name matches (e.g. -t 'guest_*')
  -g GROUP         run the tests in GROUP (e.g. -g mmu); -t and -g add up
  -x NAME|GLOB     exclude the tests whose name matches

Running:
  -j N             run N tests at a time (default: number of CPUs)
  --timeout S      per-test timeout in seconds for every test (0: none),
                   instead of each entry's own
  --repeat N       run the selection N times; the summary counts each
                   outcome per test
  --expect FILE    known outcomes on this host: lines 'NAME[:CASE] xfail|skip
                   reason'; 'none' disables the kvm_pvm default
                   (expect/kvm_pvm.txt when /sys/module/kvm_pvm exists)
  --bisect         for 'git bisect run': exit 0 good, 1 bad, 125 when
                   nothing could be tested; never anything else
  --list FILE      test list to read (default: tests.list next to this script)
  --bin-dir DIR    test binaries built elsewhere (default: build/ next to
                   this script); implies --no-build
  --no-build       do not run 'make -s' first

Output:
  -v               stream test output live, as '# ' lines
  -q               print only the summary
  -o DIR           result directory (default: results/<YYYYmmdd-HHMMSS>
                   next to this script, and a results/latest symlink);
                   an existing non-empty DIR is refused unless --overwrite
  --overwrite      reuse a non-empty -o DIR (replaces the runner's files)
  -h, --help       this text

VM lanes (handled by scripts/vm/lane.sh; other options pass through):
  --vm[=amd|intel] run the selection in a kernel booted in an emulated
                   AMD (QEMU TCG, SVM+NPT) or Intel (Bochs, VMX+EPT) host
  --kernel IMAGE   kernel to boot (default: the newest /boot/vmlinuz-*)
  --modules DIR    where its KVM modules are ('none': built in)
  --vm-cpu MODEL   emulated CPU model
  --accel tcg|kvm  QEMU accelerator (default: tcg)
  --vm-mem MB      guest memory (default: 2048)
  --vm-smp N       guest vCPUs (default: 2)

Exit status: 0 nothing failed (skips and xfails are fine), 1 a test failed
or timed out, 2 bad usage, 130 interrupted. See docs/runner.md.
EOF
}

# --- options -----------------------------------------------------------------
opt_bisect=0
for a; do [[ $a == --bisect ]] && opt_bisect=1; done

# Bad input: one line saying what is wrong, one pointing at -h. Under
# --bisect a selection that does not exist at some old commit is "cannot
# test this commit" (125), not "bad commit".
bad() {
	printf '%s: %s\n' "$prog" "$1" >&2
	printf "Try '%s -h'.\n" "$prog" >&2
	exit $((opt_bisect ? 125 : 2))
}

opt_list=$here/tests.list opt_bin_dir= opt_no_build=0 opt_out= opt_overwrite=0
opt_jobs= opt_timeout= opt_repeat=1 opt_verbose=0 opt_quiet=0 opt_expect=
opt_list_only=0
sel_t=() sel_g=() sel_x=()

while (($#)); do
	o=$1 v= has_v=0
	shift
	case $o in
	--*=*) v=${o#*=} o=${o%%=*} has_v=1 ;;
	-[jtgxo]?*) v=${o:2} o=${o:0:2} has_v=1 ;;
	esac
	case $o in
	-t | -g | -x | -j | -o | --timeout | --repeat | --expect | --list | --bin-dir)
		if ((!has_v)); then
			(($#)) || bad "option $o needs a value"
			v=$1
			shift
		fi
		;;
	*) ((has_v)) && bad "option $o takes no value" ;;
	esac
	case $o in
	-h | --help) usage; exit 0 ;;
	-l) opt_list_only=1 ;;
	-t) sel_t+=("$v") ;;
	-g) sel_g+=("$v") ;;
	-x) sel_x+=("$v") ;;
	-j) [[ $v =~ ^[1-9][0-9]*$ ]] || bad "-j takes a number of jobs (1 or more), not '$v'"
		opt_jobs=$v ;;
	--timeout) [[ $v =~ ^[0-9]+$ ]] || bad "--timeout takes whole seconds (0: none), not '$v'"
		opt_timeout=$((10#$v)) ;;
	--repeat) [[ $v =~ ^[1-9][0-9]*$ ]] || bad "--repeat takes a count (1 or more), not '$v'"
		opt_repeat=$v ;;
	-o) [[ -n $v ]] || bad "-o needs a directory"
		opt_out=$v ;;
	--overwrite) opt_overwrite=1 ;;
	-v) opt_verbose=1 ;;
	-q) opt_quiet=1 ;;
	--expect) opt_expect=$v ;;
	--bisect) opt_bisect=1 ;;
	--list) opt_list=$v ;;
	--bin-dir) opt_bin_dir=$v ;;
	--no-build) opt_no_build=1 ;;
	-*) bad "unknown option '$o'" ;;
	*) bad "unexpected argument '$o' (to select a test: -t $o)" ;;
	esac
done
((opt_verbose && opt_quiet)) && bad "-v and -q exclude each other"
if [[ -z $opt_bin_dir ]]; then
	opt_bin_dir=$here/build
else
	opt_no_build=1
fi

# --- the test list -------------------------------------------------------------
# E_*: one element per list entry, in list order.
E_name=() E_bin=() E_to=() E_groups=() E_args=()
[[ -f $opt_list && -r $opt_list ]] || bad "cannot read the test list '$opt_list'"
declare -A seen_name=()
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
	((lineno++))
	[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
	set -f
	f=($line)
	set +f
	((${#f[@]} >= 4)) || bad "$opt_list:$lineno: want 'name binary timeout groups [args...]'"
	[[ ${f[0]} =~ ^[A-Za-z0-9_.+-]+$ ]] || bad "$opt_list:$lineno: bad test name '${f[0]}'"
	[[ -z ${seen_name[${f[0]}]-} ]] || bad "$opt_list:$lineno: test '${f[0]}' is listed twice"
	[[ ${f[2]} =~ ^[0-9]+$ ]] || bad "$opt_list:$lineno: timeout '${f[2]}' is not whole seconds"
	seen_name[${f[0]}]=1
	E_name+=("${f[0]}") E_bin+=("${f[1]}") E_to+=($((10#${f[2]}))) E_groups+=("${f[3]}")
	E_args+=("${f[*]:4}")
done <"$opt_list"
nent=${#E_name[@]}

# --- selection ---------------------------------------------------------------
# Every -t/-g/-x pattern must match something: a typo should not silently
# run nothing (or everything).
declare -A hit=()
sel=()
for ((e = 0; e < nent; e++)); do
	n=${E_name[e]}
	s=$(((${#sel_t[@]} + ${#sel_g[@]}) == 0))
	for p in "${sel_t[@]}"; do [[ $n == $p ]] && s=1 hit[t:$p]=1; done
	for p in "${sel_g[@]}"; do [[ ,${E_groups[e]}, == *,$p,* ]] && s=1 hit[g:$p]=1; done
	for p in "${sel_x[@]}"; do [[ $n == $p ]] && s=0 hit[x:$p]=1; done
	((s)) && sel+=("$e")
done
for p in "${sel_t[@]}"; do [[ -n ${hit[t:$p]-} ]] || bad "-t '$p' matches no test in $opt_list"; done
for p in "${sel_g[@]}"; do [[ -n ${hit[g:$p]-} ]] || bad "-g '$p' matches no group in $opt_list"; done
for p in "${sel_x[@]}"; do [[ -n ${hit[x:$p]-} ]] || bad "-x '$p' matches no test in $opt_list"; done
nsel=${#sel[@]}

# --- expectations --------------------------------------------------------------
# EX_kind[e]/EX_reason[e]: whole-test entry; EC_pat[e]/EC_reason[e]: the
# case-level xfail entries of entry e, newline-separated, in step.
EX_kind=() EX_reason=() EC_pat=() EC_reason=()
expect_file= expect_note=
if [[ -z $opt_expect && -d /sys/module/kvm_pvm && -f $here/expect/kvm_pvm.txt ]]; then
	expect_file=$here/expect/kvm_pvm.txt
	expect_note="kvm_pvm host: known differences from $expect_file (--expect none to disable)"
elif [[ -n $opt_expect && $opt_expect != none ]]; then
	expect_file=$opt_expect
fi
if [[ -n $expect_file ]]; then
	[[ -f $expect_file && -r $expect_file ]] || bad "cannot read the expectations file '$expect_file'"
	lineno=0
	while IFS= read -r line || [[ -n $line ]]; do
		((lineno++))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		[[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]*(.*)$ ]] ||
			bad "$expect_file:$lineno: want 'NAME[:CASE] xfail|skip reason'"
		tpat=${BASH_REMATCH[1]} kind=${BASH_REMATCH[2]} why=${BASH_REMATCH[3]}
		why=${why%"${why##*[![:space:]]}"}
		[[ -n $why ]] || why="listed in ${expect_file##*/}"
		cpat=
		if [[ $tpat == *:* ]]; then cpat=${tpat#*:} tpat=${tpat%%:*}; fi
		case $kind in
		xfail) ;;
		skip) [[ -z $cpat ]] || bad "$expect_file:$lineno: 'skip' applies to whole tests, not to case '$cpat'" ;;
		*) bad "$expect_file:$lineno: '$kind' is neither xfail nor skip" ;;
		esac
		matched=0
		for ((e = 0; e < nent; e++)); do
			[[ ${E_name[e]} == $tpat ]] || continue
			matched=1
			if [[ -n $cpat ]]; then
				EC_pat[e]+=$cpat$'\n' EC_reason[e]+=$why$'\n'
			else
				EX_kind[e]=$kind EX_reason[e]=$why
			fi
		done
		((matched)) || echo "# $prog: $expect_file:$lineno: no test named '$tpat' in $opt_list (ignored)" >&2
	done <"$expect_file"
fi

# --- -l: list and stop -------------------------------------------------------
if ((opt_list_only)); then
	printf '%-28s %-22s %7s  %s\n' NAME GROUPS TIMEOUT COMMAND
	for e in "${sel[@]}"; do
		to=${E_to[e]}s
		[[ -n $opt_timeout ]] && to=${opt_timeout}s
		[[ $to == 0s ]] && to=none
		x=
		[[ -n ${EX_kind[e]-} ]] && x="   [${EX_kind[e]-}: ${EX_reason[e]-}]"
		[[ -n ${EC_pat[e]-} ]] && x+="   [xfail cases: ${EC_pat[e]//$'\n'/ }]"
		printf '%-28s %-22s %7s  %s%s\n' "${E_name[e]}" "${E_groups[e]}" "$to" \
			"${E_bin[e]}${E_args[e]:+ ${E_args[e]}}" "$x"
	done
	exit 0
fi
((nsel)) || bad "$opt_list lists no tests"

# --- exit codes -----------------------------------------------------------------
# Every exit after this point goes through here: under --bisect only 0, 1
# and 125 may leave, whatever happened.
leave() {
	local rc=$1
	if ((opt_bisect)) && ((rc != 0 && rc != 1 && rc != 125)); then
		rc=125
	fi
	exit "$rc"
}

# A non-empty -o DIR is bad input: say so before a long build, not after.
if [[ -n $opt_out ]]; then
	[[ -e $opt_out && ! -d $opt_out ]] && bad "-o '$opt_out' exists and is not a directory"
	shopt -s nullglob dotglob
	old=("$opt_out"/*)
	shopt -u nullglob dotglob
	((${#old[@]} == 0 || opt_overwrite)) ||
		bad "-o '$opt_out' is not empty: earlier results are never overwritten; pick a new directory or add --overwrite"
fi

# --- build -------------------------------------------------------------------
# Ctrl-C from here on ends with a clean exit code (125 under --bisect).
trap 'echo "$prog: interrupted" >&2; leave 130' INT TERM HUP
if ((!opt_no_build)); then
	if ! command -v make >/dev/null; then
		echo "$prog: 'make' not found: build the tests elsewhere and pass --bin-dir DIR (or --no-build)" >&2
		leave $((opt_bisect ? 125 : 1))
	fi
	# stdout is the TAP stream: the build talks on stderr.
	if ! make -s -C "$here" >&2; then
		echo "$prog: the build failed ('make -s' in $here); fix it or run with --no-build" >&2
		leave $((opt_bisect ? 125 : 1))
	fi
fi

# --- result directory -----------------------------------------------------------
printf -v run_stamp '%(%Y%m%d-%H%M%S)T' -1
if [[ -n $opt_out ]]; then
	out=$opt_out
	# --overwrite: only what a run writes goes; anything else stays.
	for f in "${old[@]}"; do
		case ${f##*/} in
		*.log | results.tap | junit.xml | summary.txt | runner-stderr.txt) rm -f "$f" ;;
		esac
	done
	mkdir -p "$out" || { echo "$prog: cannot create '$out'" >&2; leave 1; }
else
	out=$here/results/$run_stamp
	if ! mkdir -p "$here/results" 2>/dev/null; then
		echo "$prog: cannot create '$here/results' (read-only tree?): use -o DIR" >&2
		leave 1
	fi
	# Two runs in the same second get -2, -3...: mkdir (not -p) fails if
	# the directory exists, so even simultaneous runs never share one.
	n=1
	until mkdir "$out" 2>/dev/null; do
		((++n < 100)) || { echo "$prog: cannot create a directory under '$here/results': use -o DIR" >&2; leave 1; }
		out=$here/results/$run_stamp-$n
	done
	ln -sfn "${out##*/}" "$here/results/latest" 2>/dev/null
fi
[[ $out == /* || $out == ./* || $out == ../* ]] || out=./$out

# --- output helpers --------------------------------------------------------------
c_ok= c_fail= c_skip= c_x= c_off=
if [[ -t 1 && -z ${NO_COLOR-} && ${TERM-} != dumb ]]; then
	c_ok=$'\e[32m' c_fail=$'\e[1;31m' c_skip=$'\e[33m' c_x=$'\e[36m' c_off=$'\e[0m'
fi
exec {tap_fd}>"$out/results.tap"
# A line for the TAP stream: on stdout (unless -q) and in results.tap.
tap() {
	printf '%s\n' "$1" >&$tap_fd
	((opt_quiet)) || printf '%s\n' "${2:-$1}"
}
# A '# ' note: stdout keeps TAP valid and carries it into CI logs.
note() { tap "# $*"; }

now_us() { REPLY=${EPOCHREALTIME//[!0-9]/}; }
fmt_s() { printf -v REPLY '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

kill_group() {
	# The whole process group, so the test's children go too; the pid alone
	# if the child has not reached setsid() yet.
	kill -s "$1" -- "-$2" 2>/dev/null || kill -s "$1" "$2" 2>/dev/null
}

# --- host checks -----------------------------------------------------------------
kvm_problem=
if [[ ! -e /dev/kvm ]]; then
	kvm_problem="/dev/kvm does not exist: load KVM (modprobe kvm_intel or modprobe kvm_amd), or run the suite in an emulated host with --vm; the tests will skip"
elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	kvm_problem="no permission on /dev/kvm: add yourself to group kvm (usermod -aG kvm \$USER, then log in again), or run the suite in an emulated host with --vm; the tests will skip"
fi

# Kernel log: /dev/kmsg read by this shell itself (no process per test), or
# failing that `dmesg` once per finished test.
klog_mode= klog_fd= klog_count=0
klog_patterns=('WARNING:' 'BUG:' 'kernel BUG at' 'Oops' 'KVM_BUG_ON' 'UBSAN:'
	'possible circular locking' 'possible recursive locking'
	'inconsistent lock state' 'suspicious RCU usage')
# For the runner's own tests: one extra pattern that cannot disturb anyone
# else watching this machine's kernel log.
[[ -n ${KVMTEST_KLOG_EXTRA-} ]] && klog_patterns+=("$KVMTEST_KLOG_EXTRA")
klog_note= klog_last=
# KVMTEST_KLOG=off|dmesg forces a mode (the runner's tests use both).
klog_want=${KVMTEST_KLOG:-auto}
if [[ $klog_want == auto ]] && { exec {klog_fd}</dev/kmsg; } 2>/dev/null; then
	klog_mode=kmsg
	# Skip what was printed before this run (boot warnings are not ours).
	while read -t 0 -u $klog_fd && read -r -u $klog_fd _; do :; done
elif [[ $klog_want != off ]] && mapfile -t _dm < <(dmesg 2>/dev/null) && ((${#_dm[@]})); then
	klog_mode=dmesg klog_count=${#_dm[@]} klog_last=${_dm[-1]}
	unset _dm
else
	klog_fd=
	klog_note="kernel log not readable (/dev/kmsg, dmesg): kernel WARN/BUG/lockdep splats will not be caught; run as root or set kernel.dmesg_restrict=0"
	[[ $klog_want == off ]] && klog_note="kernel log watch disabled (KVMTEST_KLOG=off)"
fi

jobs=$opt_jobs
if [[ -z $jobs ]]; then
	jobs=$(nproc 2>/dev/null)
	if [[ ! $jobs =~ ^[1-9][0-9]*$ ]]; then
		jobs=0
		while read -r a _; do [[ $a == processor ]] && ((jobs++)); done </proc/cpuinfo
		((jobs)) || jobs=1
	fi
fi

# --- jobs ----------------------------------------------------------------------
# One job per (entry, repetition); J_* are indexed by job number, which is
# also the TAP number minus one.
total=$((nsel * opt_repeat))
J_e=() J_rep=() J_state=() J_pid=() J_start=() J_end=() J_deadline=() J_killat=()
J_timedout=() J_out=() J_detail=() J_time=() J_log=() J_line=() J_diag=()
K_lines=() K_bad=() J_peers=() J_to=()
for ((j = 0; j < total; j++)); do
	e=${sel[j % nsel]}
	J_e[j]=$e J_rep[j]=$((j / nsel + 1)) J_state[j]=pending
	J_timedout[j]= J_killat[j]=0 J_diag[j]= K_lines[j]= K_bad[j]= J_peers[j]= J_detail[j]= J_time[j]= J_out[j]=
	if ((opt_repeat > 1)); then
		J_log[j]=$out/${E_name[e]}.${J_rep[j]}.log
	else
		J_log[j]=$out/${E_name[e]}.log
	fi
done
# Start order: within each --repeat round, entries of the "slow" group go
# first, so under -j the longest runs overlap the short ones instead of
# starting last and running alone (TAP still comes out in list order).
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
declare -A R_job=() # pid -> job, for the running ones
declare -A E_running=()
nrunning=0 ndone=0 next_pending=0 next_print=0
interrupted= ticker= failed_any=0

# Attribute kernel log lines to every test running now (plus the one being
# reaped, still counted as running until its result is in).
klog_add() {
	local l=$1 p r j bad=
	for p in "${klog_patterns[@]}"; do
		[[ $l == *"$p"* ]] && bad=1 && break
	done
	for r in "${!R_job[@]}"; do
		j=${R_job[$r]-}
		K_lines[j]+=$l$'\n'
		[[ -n $bad ]] && K_bad[j]+=$l$'\n'
	done
}
klog_drain() {
	local rec text us i
	((nrunning)) || [[ $klog_mode == kmsg ]] || return
	case $klog_mode in
	kmsg)
		# A record is "prio,seq,usec,flags;text"; continuation lines (the
		# record's key=value dictionary) start with a space. A read that
		# fails after data was announced is an overrun (EPIPE): go on.
		for i in 1 2; do
			while read -t 0 -u $klog_fd && IFS= read -r -u $klog_fd rec; do
				[[ $rec == ' '* ]] && continue
				text=${rec#*;} us=${rec#*,*,} us=${us%%,*}
				[[ $us =~ ^[0-9]+$ ]] || us=0
				((nrunning)) || continue
				printf -v rec '[%5d.%06d] %s' $((us / 1000000)) $((us % 1000000)) "$text"
				klog_add "$rec"
			done
			read -t 0 -u $klog_fd || break
		done
		;;
	dmesg)
		local -a lines
		mapfile -t lines < <(dmesg 2>/dev/null)
		((${#lines[@]})) || return
		# New lines follow the last one seen; a full ring buffer keeps its
		# line count while it rotates, so look for that line, not the count.
		i=${#lines[@]}
		while ((i > 0)) && [[ ${lines[i - 1]} != "$klog_last" ]]; do ((i--)); done
		((i == 0)) && i=$((${#lines[@]} > klog_count ? klog_count : ${#lines[@]}))
		for (( ; i < ${#lines[@]}; i++)); do klog_add "${lines[i]}"; done
		klog_count=${#lines[@]} klog_last=${lines[-1]}
		;;
	esac
}

# -v: stream each running test's log through a read fd of our own. The
# header lines written before the test started are skipped.
declare -A V_fd=() V_part=()
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
	local j=$1 e=${J_e[$1]} bin args to r log=${J_log[$1]}
	bin=$opt_bin_dir/${E_bin[e]}
	now_us
	J_start[j]=$REPLY J_state[j]=running
	if [[ ${EX_kind[e]-} == skip ]]; then
		printf 'not run: %s says skip: %s\n' "$expect_file" "${EX_reason[e]-}" >"$log"
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
	to=${E_to[e]}
	[[ -n $opt_timeout ]] && to=$opt_timeout
	local tos=${to}s
	((to)) || tos=none
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

# A finished test: work out its outcome from its exit status, output and
# the kernel log, then write the log footer and queue its TAP line.
reap() {
	local j=$1 st=$2 e=${J_e[$1]} log=${J_log[$1]} outcome detail= m sig
	((opt_verbose)) && [[ -n ${V_fd[$j]-} ]] && vstream "$j" 1
	klog_drain
	unset "R_job[${J_pid[j]}]"
	unset "E_running[$e]"
	((nrunning--))
	# Children the test left behind die with it.
	kill -s KILL -- "-${J_pid[j]}" 2>/dev/null

	if [[ -n ${J_timedout[j]} ]]; then
		outcome=TIMEOUT detail="timed out after ${J_to[j]} s${J_timedout[j]#1}"
	elif ((st == 0)); then
		outcome=PASS
	elif ((st == 4)); then
		outcome=SKIP
		# The library prints "SKIP: <reason>"; the last one wins.
		m=$(grep '^SKIP: ' "$log" 2>/dev/null | tail -n 1)
		detail=${m#SKIP: }
		[[ -n $detail ]] || detail="exit 4 (skip) without a 'SKIP: reason' line"
	elif ((st > 128)); then
		sig=$(kill -l $((st - 128)) 2>/dev/null)
		outcome=FAIL detail="killed by SIG${sig:-$((st - 128))}"
	else
		outcome=FAIL detail="exit $st"
	fi

	# Kernel splats fail the test whatever it said.
	local kbad=${K_bad[j]}
	if [[ -n $kbad ]]; then
		m=${kbad%%$'\n'*}
		m=${m#\[*\] }
		if [[ $outcome == PASS || $outcome == SKIP ]]; then
			outcome=FAIL detail="kernel log: $m"
		else
			detail+="; kernel log: $m"
		fi
		local l
		while IFS= read -r l; do J_diag[j]+="# kernel: $l"$'\n'; done <<<"${kbad%$'\n'}"
		[[ -n ${J_peers[j]} ]] &&
			J_diag[j]+="# (ran alongside${J_peers[j]}: the messages may be theirs)"$'\n'
	fi

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
		if [[ -n $klog_mode ]]; then
			if [[ -n ${K_lines[j]} ]]; then
				printf '# ---- kernel log during the run ----\n'
				[[ -n ${J_peers[j]} ]] &&
					printf '# (other tests ran at the same time:%s; their messages can be here too)\n' "${J_peers[j]}"
				printf '%s' "${K_lines[j]}"
			else
				printf '# kernel log during the run: nothing\n'
			fi
		fi
	} >>"$log"
	settle "$j" "$outcome" "$detail" $((J_end[j] - J_start[j]))
}

# expect_apply JOB OUTCOME STATUS: turn FAIL into XFAIL and PASS into XPASS
# as the expectations say. REPLY: the outcome, REPLY_DETAIL: the new detail.
expect_apply() {
	local j=$1 o=$2 st=$3 e=${J_e[$1]}
	REPLY=$o REPLY_DETAIL=
	if [[ ${EX_kind[e]-} == xfail ]]; then
		case $o in
		FAIL) REPLY=XFAIL REPLY_DETAIL=${EX_reason[e]-} ;;
		PASS) REPLY=XPASS REPLY_DETAIL=${EX_reason[e]-} ;;
		esac
		return
	fi
	[[ -n ${EC_pat[e]-} ]] || return
	# Case-level entries: only a plain non-zero exit with KTAP case lines can
	# be excused, and only if every failing case is covered.
	[[ $o == FAIL || $o == PASS ]] || return
	[[ $o == PASS ]] || ((st > 0 && st < 128 && st != 4)) || return
	[[ -z ${K_bad[j]} ]] || return
	local -a cp cr
	mapfile -t cp <<<"${EC_pat[e]%$'\n'}"
	mapfile -t cr <<<"${EC_reason[e]%$'\n'}"
	local l word name k why= hitcases= nbad=0 covered=0
	while IFS= read -r l; do
		[[ $l =~ ^[[:space:]]*(not[[:space:]]+)?ok[[:space:]]+[0-9]+[[:space:]]*(-[[:space:]]+)?(.*)$ ]] || continue
		word=${BASH_REMATCH[1]} name=${BASH_REMATCH[3]}
		# Only "# SKIP" and "# TODO" are directives: a '#' elsewhere (a
		# case named "#PF ...") belongs to the name. Skipped and todo
		# cases are neither failures nor passes.
		[[ $name =~ ^(.*[^[:space:]]|)[[:space:]]*#[[:space:]]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo])([^[:alnum:]].*)?$ ]] && continue
		name=${name%"${name##*[![:space:]]}"}
		if [[ $o == FAIL && -n $word ]]; then
			((nbad++))
			for k in "${!cp[@]}"; do
				if [[ $name == ${cp[k]} ]]; then
					((covered++))
					why+="${why:+; }$name: ${cr[k]}"
					break
				fi
			done
		elif [[ $o == PASS && -z $word ]]; then
			for k in "${!cp[@]}"; do
				[[ $name == ${cp[k]} ]] && hitcases+="${hitcases:+; }$name: ${cr[k]}" && break
			done
		fi
	done < <(grep -E '^[[:space:]]*(not[[:space:]]+)?ok[[:space:]]+[0-9]' "${J_log[j]}" 2>/dev/null)
	if [[ $o == FAIL ]] && ((nbad > 0 && covered == nbad)); then
		REPLY=XFAIL REPLY_DETAIL=$why
	elif [[ $o == PASS && -n $hitcases ]]; then
		REPLY=XPASS REPLY_DETAIL="xfail cases passed: $hitcases"
	fi
}

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

# Pick the next job to start: the first pending one in start order whose
# entry is not already running (--repeat never runs one entry twice at the
# same time).
pick() {
	local i k lim=$((next_pending + nsel + jobs))
	while ((next_pending < total)) && [[ ${J_state[J_order[next_pending]]} != pending ]]; do ((next_pending++)); done
	for ((i = next_pending; i < total && i < lim; i++)); do
		k=${J_order[i]}
		[[ ${J_state[k]} == pending ]] || continue
		[[ -z ${E_running[${J_e[k]}]-} ]] || continue
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
grace=${KVMTEST_KILL_GRACE:-3}
[[ $grace =~ ^[0-9]+$ ]] || grace=3
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

hb_every=${KVMTEST_HEARTBEAT:-10}
[[ $hb_every =~ ^[0-9]+$ ]] && ((hb_every > 0)) || hb_every=10
now_us
hb_next=$((REPLY + hb_every * 1000000))
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

# The ticker wakes `wait -n` up for timeouts, the heartbeat and -v.
tick=1
((opt_verbose)) && tick=0.2
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
trap on_exit EXIT
trap 'interrupted=SIGINT' INT
trap 'interrupted=SIGTERM' TERM
trap 'interrupted=SIGHUP' HUP

# --- run ---------------------------------------------------------------------------
now_us
run_start=$REPLY
printf -v run_date '%(%F %T %z)T' -1
tap "TAP version 13"
tap "1..$total"
[[ -n $expect_note ]] && note "$expect_note"
[[ -n $kvm_problem ]] && note "$kvm_problem" && ((opt_quiet)) && echo "# $prog: $kvm_problem" >&2
[[ -n $klog_note ]] && note "$klog_note"
note "results in $out"

# Bash's own notices about test processes ("Segmentation fault ...") would
# land on the terminal out of order: during the run, the shell's stderr goes
# to a file in the result directory; our own messages use the saved fd.
exec {err_fd}>&2 2>>"$out/runner-stderr.txt"

while ((ndone < total)) && [[ -z $interrupted ]]; do
	while ((nrunning < jobs)) && [[ -z $interrupted ]] && pick; do
		launch "$REPLY"
	done
	flush
	((ndone < total)) || break
	((nrunning)) || continue
	start_ticker
	wpid=
	# (bash's own "Segmentation fault ..." job notice would go to stderr:
	# the test's result says it better.)
	wait -n -p wpid 2>/dev/null
	st=$?
	if [[ -n ${wpid-} ]]; then
		if [[ ${wpid-} == "$ticker" ]]; then
			ticker=
			# A long test's kernel messages are collected as they come,
			# so a flood cannot overrun the kernel's buffer before it ends.
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

# --- interrupted: stop what runs, keep what finished ------------------------------------
unfinished=()
if [[ -n $interrupted ]]; then
	trap '' INT TERM HUP
	# Short ticks from here: stopping should take about the grace, no more.
	[[ -n $ticker ]] && kill "$ticker" 2>/dev/null && wait "$ticker" 2>/dev/null
	ticker=
	for r in "${!R_job[@]}"; do kill_group TERM "$r"; done
	now_us
	stop_by=$((REPLY + grace * 1000000)) killed=0
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
	# What finished is printed in list order; what did not is named below.
	for ((j = next_print; j < total; j++)); do
		[[ ${J_state[j]} == "done" ]] && print_one "$j"
	done
	tap "Bail out! interrupted by $interrupted"
fi
[[ -n $ticker ]] && kill "$ticker" 2>/dev/null && wait "$ticker" 2>/dev/null
ticker=
exec 2>&$err_fd {err_fd}>&-
[[ -s $out/runner-stderr.txt ]] || rm -f "$out/runner-stderr.txt"
now_us
run_us=$((REPLY - run_start))

# --- summary --------------------------------------------------------------------------
# Counts over every run of every test; timeouts count as failed, XPASS as
# passed, XFAIL apart.
declare -A cnt=([PASS]=0 [FAIL]=0 [TIMEOUT]=0 [SKIP]=0 [XFAIL]=0 [XPASS]=0)
declare -A per=() per_logs=() per_detail=()
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
summary+=("# Summary: $total test run(s) of $nsel test(s) in ${REPLY} s, -j $jobs; logs in $out")
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
		XPASS) summary+=("# XPASS    $name$runs: passed although expected to fail ($d): update ${expect_file:-the expectations}") ;;
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

# --- junit.xml --------------------------------------------------------------------------
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
	local host=localhost ts
	read -r host </proc/sys/kernel/hostname 2>/dev/null
	xml "$host"
	host=$REPLY
	printf -v ts '%(%Y-%m-%dT%H:%M:%S)T' "${run_start:0:${#run_start}-6}"
	fmt_s "$run_us"
	{
		printf '<?xml version="1.0" encoding="UTF-8"?>\n'
		printf '<testsuites name="kvmtest" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s">\n' \
			"$tests" "$nf" "$ne" "$ns" "$REPLY"
		printf '  <testsuite name="kvmtest" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s" timestamp="%s" hostname="%s">\n' \
			"$tests" "$nf" "$ne" "$ns" "$REPLY" "$ts" "$host"
		printf '%s' "$body"
		printf '  </testsuite>\n</testsuites>\n'
	} >"$out/junit.xml"
}
write_junit

# --- summary.txt: what ran where --------------------------------------------------------
git_head() {
	local d=$here/.git common ref h line
	[[ -e $d ]] || { REPLY="(not a git checkout)"; return; }
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
{
	printf 'kvmtest run\n'
	printf 'date:        %s\n' "$run_date"
	printf -v REPLY ' %q' "${cmdline[@]}"
	printf 'command:    %s\n' "$REPLY"
	printf 'kernel:      %s\n' "$(uname -r 2>/dev/null)"
	printf 'uname -a:    %s\n' "$(uname -a 2>/dev/null)"
	git_head
	printf 'git HEAD:    %s\n' "$REPLY"
	printf 'test list:   %s\n' "$opt_list"
	printf 'binaries:    %s\n' "$opt_bin_dir"
	printf 'expect file: %s\n' "${expect_file:-none}"
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

# --- exit status --------------------------------------------------------------------------
if [[ -n $interrupted ]]; then
	((opt_bisect && failed_any)) && leave 1
	leave $((opt_bisect ? 125 : 130))
fi
if ((opt_bisect)); then
	((failed_any)) && leave 1
	# "Nothing was tested" is decided by what ran: every entry skipped
	# (a host without /dev/kvm skips them all). A missing /dev/kvm alone
	# says nothing: a selection that ran and passed is good.
	((n_pass + cnt[XFAIL] == 0)) && leave 125
	leave 0
fi
leave $((failed_any ? 1 : 0))
