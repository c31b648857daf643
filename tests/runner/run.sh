#!/usr/bin/env bash
# Self-test of run_tests.sh (make check runs it). Drives the runner over the
# fake tests in tests/runner/fake/ (shell scripts: pass, fail, skip, hang,
# crash, huge output, multi-case...) through --list/--bin-dir/--no-build,
# and checks outcomes, TAP, junit.xml, exit codes, timeouts, signals and
# result directories. Then repeats the core scenarios under bash-static
# with only busybox on PATH, as in the VM lanes.
#
#   tests/runner/run.sh            all checks (about 20 s)
#   tests/runner/run.sh -v         also show each failing check's output
#
# Prints "ok - ..." / "FAIL - ..." per check and "N passed, N failed" last;
# exits non-zero if any check failed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
runner=$repo/run_tests.sh
fake=$here/fake
verbose=0
[[ ${1-} == -v ]] && verbose=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-runner-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export FAKE_STATE=$tmp/state
# Short grace and heartbeat so the timeout checks take seconds, not minutes.
export KVMTEST_KILL_GRACE=1
mkdir -p "$FAKE_STATE"

npass=0 nfail=0
ok() { echo "ok - $*"; ((npass++)); }
ko() {
	echo "FAIL - $*"
	((nfail++))
	if ((verbose)) && [[ -n ${last-} ]]; then
		sed 's/^/    | /' "$tmp/$last.out" "$tmp/$last.err" 2>/dev/null | head -60
	fi
}
# check DESCRIPTION COMMAND...: one check, passing when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else ko "$what"; fi
}
none_alive() { ! alive "$@"; }
has() { grep -qF -- "$2" "$1"; }     # has FILE TEXT
hasre() { grep -qE -- "$2" "$1"; }   # hasre FILE REGEX
hasnt() { ! grep -qF -- "$2" "$1"; } # hasnt FILE TEXT
lastline() { [[ $(tail -n 1 "$1") == "$2" ]]; }
rc_is() { [[ $rc == "$1" ]]; }

# shellcheck disable=SC2046 # kvmtest_env prints NAME=value words on purpose
# How the runner is started: plain bash here; bash-static with a busybox
# PATH and a clean environment in the VM-like pass at the end (the
# KVMTEST_* knobs set for one run are passed through).
shell=() shell_bin=bash
kvmtest_env() {
	((${#shell[@]})) || return
	local v
	for v in ${!KVMTEST_@}; do printf '%s=%s\n' "$v" "${!v}"; done
}
tag= ftag=
# run NAME [runner args...]: output in $tmp/NAME.out/.err, exit code in
# $rc, results in $tmp/NAME.d (unless the args carry their own -o).
run() {
	local name=$1 a list=(--list "$fake/fake.list")
	shift
	last=$name
	# --list may repeat (several suites in one run): a check's own --list
	# replaces the fake one.
	for a; do [[ $a == --list ]] && list=(); done
	"${shell[@]}" $(kvmtest_env) "$shell_bin" "$runner" --no-build --bin-dir "$fake" "${list[@]}" \
		--durations none "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
	rc=$?
}

# TAP 13 as the runner promises it: the version line, the plan, test lines
# numbered 1..N in order with a time, '# ' comments, an optional
# "Bail out!", and the plain count line last.
tap_valid() {
	local f=$1 want=$2 n=0 i=0 l
	local -a lines
	mapfile -t lines <"$f"
	[[ ${lines[0]-} == "TAP version 13" ]] || { echo "no TAP version line" >&2; return 1; }
	[[ ${lines[1]-} == "1..$want" ]] || { echo "bad plan ${lines[1]-}" >&2; return 1; }
	for ((i = 2; i < ${#lines[@]}; i++)); do
		l=${lines[i]}
		if [[ $l =~ ^(not\ )?ok\ ([0-9]+)\ [^\ ]+ ]]; then
			((++n == BASH_REMATCH[2])) || { echo "test $n numbered ${BASH_REMATCH[2]}" >&2; return 1; }
			[[ $l == *time=* ]] || { echo "no time: $l" >&2; return 1; }
		elif [[ $l == '#'* || $l == 'Bail out!'* ]]; then
			:
		elif ((i == ${#lines[@]} - 1)) && [[ $l =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]]; then
			:
		else
			echo "not TAP: $l" >&2
			return 1
		fi
	done
	[[ -n ${3-} ]] || ((n == want)) || { echo "$n test lines, want $want" >&2; return 1; }
}

# Names of the TAP test lines, in order, space-separated.
tap_names() {
	local l s=
	while IFS= read -r l; do
		[[ $l =~ ^(not\ )?ok\ [0-9]+\ ([^\ ]+) ]] && s+=" ${BASH_REMATCH[2]}"
	done <"$1"
	echo "${s# }"
}

# Processes still alive (zombies count as dead: their parent is gone).
alive() {
	local p st
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] || continue
		read -r _ _ st _ </proc/$p/stat 2>/dev/null || continue
		[[ $st != Z ]] && return 0
	done
	return 1
}
# Any process left running one of the fake tests?
leftovers() {
	local d cmd
	local -a a
	for d in /proc/[0-9]*; do
		{ mapfile -d '' -t a <"$d/cmdline"; } 2>/dev/null || continue
		cmd="${a[*]}"
		[[ $cmd == *"$fake/"* ]] || continue
		alive "${d#/proc/}" && echo "leftover: ${d#/proc/} $cmd" >&2 && return 0
	done
	return 1
}

junit_check() { # FILE TESTS FAILURES SKIPPED NAMES...
	command -v python3 >/dev/null || { echo "(no python3: junit.xml not parsed)" >&2; return 0; }
	python3 - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
f, tests, failures, skipped, *names = sys.argv[1:]
root = ET.parse(f).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1, suites
s = suites[0]
cases = s.findall("testcase")
assert s.get("tests") == tests == str(len(cases)), (s.get("tests"), tests, len(cases))
nf = sum(1 for c in cases if c.find("failure") is not None)
ns = sum(1 for c in cases if c.find("skipped") is not None)
assert s.get("failures") == failures == str(nf), (s.get("failures"), failures, nf)
assert s.get("skipped") == skipped == str(ns), (s.get("skipped"), skipped, ns)
for c in cases:
    float(c.get("time"))
    assert c.get("classname", "").startswith("kvmtest"), c.get("classname")
    fl = c.find("failure")
    if fl is not None:
        assert fl.get("message"), c.get("name")
assert [c.get("name") for c in cases] == names, [c.get("name") for c in cases]
float(s.get("time"))
EOF
}

# ---------------------------------------------------------------------------
basic_scenario() {
	# Every kind of outcome at once, four at a time: slow_first is listed
	# first and finishes last, so list order has to be restored.
	run basic$ftag -g basic -j 4 --expect "$fake/fake.expect" -o "$tmp/basic$ftag.d"
	local o=$tmp/basic$ftag.out d=$tmp/basic$ftag.d
	check "$tag basic: exit 1 when tests fail" rc_is 1
	check "$tag basic: valid TAP, 12 tests" tap_valid "$o" 12
	check "$tag basic: list order under -j4" \
		[ "$(tap_names "$o")" = "slow_first pass pass_args fail skip crash huge multi_xfail multi_fail xpass expect_skip missing" ]
	check "$tag basic: pass" hasre "$o" '^ok 2 pass # time=[0-9.]+s$'
	check "$tag basic: same binary, other args" hasre "$o" '^ok 3 pass_args '
	check "$tag basic: fail" hasre "$o" '^not ok 4 fail # time=.*exit 1'
	check "$tag basic: skip reason from the test's last SKIP line" \
		hasre "$o" '^ok 5 skip # SKIP no frobnicator on this host \(time='
	check "$tag basic: signal named" hasre "$o" '^not ok 6 crash .*killed by SIGSEGV'
	check "$tag basic: huge output passes" hasre "$o" '^ok 7 huge '
	check "$tag basic: huge output all in the log" test "$(wc -c <"$d/huge.log")" -gt 5000000
	check "$tag basic: case-level xfail" hasre "$o" '^not ok 8 multi_xfail # TODO beta: beta is a known failure here'
	check "$tag basic: uncovered failing case stays a failure" hasre "$o" '^not ok 9 multi_fail # time='
	check "$tag basic: xpass" hasre "$o" '^ok 10 xpass # TODO XPASS'
	check "$tag basic: expect skip, not run" hasre "$o" '^ok 11 expect_skip # SKIP not on this host'
	check "$tag basic: expect skip really not run" hasnt "$d/expect_skip.log" "ASSERTION"
	check "$tag basic: missing binary is a failure" hasre "$o" '^not ok 12 missing .*no_such_binary not found'
	check "$tag basic: summary names failures with logs" \
		hasre "$o" "^# FAIL +fail: exit 1; log: $d/fail.log$"
	check "$tag basic: summary names the crash" hasre "$o" "^# FAIL +crash: killed by SIGSEGV; log: $d/crash.log$"
	check "$tag basic: summary names the missing binary" hasre "$o" "^# FAIL +missing: .*log: $d/missing.log$"
	check "$tag basic: summary names skips" hasre "$o" '^# SKIP +skip: no frobnicator on this host$'
	check "$tag basic: summary names xfail" hasre "$o" '^# XFAIL +multi_xfail: '
	check "$tag basic: summary names xpass loudly" hasre "$o" '^# XPASS +xpass: passed although expected to fail'
	check "$tag basic: counts line before last" \
		[ "$(tail -n 2 "$o" | head -n 1)" = "# 0 timed out, 1 xfail, 1 xpass" ]
	check "$tag basic: last line" lastline "$o" "5 passed, 4 failed, 2 skipped"
	check "$tag basic: results.tap is the stream" cmp -s "$o" "$d/results.tap"
	check "$tag basic: log has command line" has "$d/fail.log" "# command: $fake/fail"
	check "$tag basic: log has output" has "$d/fail.log" "ASSERTION FAILED at fake.c:42"
	check "$tag basic: log has stderr too" has "$d/pass.log" "pass: a line on stderr"
	check "$tag basic: log has exit code" has "$d/fail.log" "# exit status: 1"
	check "$tag basic: log has wall time" hasre "$d/fail.log" '^# wall time: [0-9]+\.[0-9]{3} s$'
	check "$tag basic: junit.xml well-formed and sensible" junit_check "$d/junit.xml" 12 4 3 \
		slow_first pass pass_args fail skip crash huge multi_xfail multi_fail xpass expect_skip missing
	check "$tag basic: summary.txt has uname -r" has "$d/summary.txt" "kernel:      $(uname -r)"
	check "$tag basic: summary.txt has git HEAD" hasre "$d/summary.txt" '^git HEAD: +[0-9a-f]{7,}'
	check "$tag basic: summary.txt has the date" hasre "$d/summary.txt" '^date: +[0-9]{4}-'
	if compgen -G '/sys/module/kvm/parameters/*' >/dev/null; then
		check "$tag basic: summary.txt has KVM parameters" hasre "$d/summary.txt" '^  kvm\.[a-z_]+='
	fi
	check "$tag basic: no shell errors during the run" \
		eval '! grep -sv "Segmentation fault" "$d/runner-stderr.txt" | grep -q .'
	check "$tag basic: nothing left running" eval '! leftovers'
}

timeout_scenario() {
	# hang ignores nothing, hang_term ignores SIGTERM; both leave a child.
	rm -f "$FAKE_STATE"/hang*.pids
	KVMTEST_HEARTBEAT=1 run timeout$ftag -g hang -t pass -j 3 --timeout 2 -o "$tmp/timeout$ftag.d"
	local o=$tmp/timeout$ftag.out
	check "$tag timeout: exit 1" rc_is 1
	check "$tag timeout: valid TAP" tap_valid "$o" 3
	check "$tag timeout: the run goes on" hasre "$o" '^ok 1 pass '
	check "$tag timeout: reported" hasre "$o" '^not ok 2 hang # time=2\.[0-9]+s \(timed out after 2 s\)'
	check "$tag timeout: SIGTERM ignored, SIGKILL sent" hasre "$o" '^not ok 3 hang_term .*SIGKILL'
	check "$tag timeout: summary names them" hasre "$o" '^# TIMEOUT +hang_term: '
	check "$tag timeout: counts" [ "$(tail -n 2 "$o" | head -n 1)" = "# 2 timed out, 0 xfail, 0 xpass" ]
	check "$tag timeout: timeouts count as failed" lastline "$o" "1 passed, 2 failed, 0 skipped"
	local pids
	pids=$(cat "$FAKE_STATE"/hang*.pids 2>/dev/null)
	check "$tag timeout: tests wrote their pids" [ "$(echo $pids | wc -w)" = 4 ]
	check "$tag timeout: tests and their children killed" none_alive $pids
	check "$tag timeout: heartbeat on stderr names test and pid" hasre "$tmp/timeout$ftag.err" 'still running: .*hang \(pid [0-9]+, [0-9]+ s\)'
	check "$tag timeout: no heartbeat on stdout" hasnt "$o" "still running"
}

sigint_scenario() { # SIGNAL
	local sig=$1 name=sig$1$ftag start
	rm -f "$FAKE_STATE"/hang*.pids
	last=$name
	start=$SECONDS
	# Job control gives the runner its own process group and, unlike a
	# plain background job, does not start it with SIGINT ignored.
	set -m
	"${shell[@]}" $(kvmtest_env) "$shell_bin" "$runner" --no-build --list "$fake/fake.list" --bin-dir "$fake" \
		-t pass -g hang -t flaky -j 2 -o "$tmp/$name.d" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
	local pid=$!
	set +m
	# Wait until both hanging tests are up (at most 10 s).
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(cat "$FAKE_STATE"/hang*.pids 2>/dev/null | wc -l) -ge 2 ]] && break
		sleep 0.1
	done
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	local o=$tmp/$name.out pids
	check "$tag SIG$sig: exit 130" rc_is 130
	check "$tag SIG$sig: stops within the grace" [ $((SECONDS - start)) -le 6 ]
	check "$tag SIG$sig: TAP so far, then Bail out" tap_valid "$o" 4 partial
	check "$tag SIG$sig: finished test reported" hasre "$o" '^ok 1 pass '
	check "$tag SIG$sig: Bail out line" hasre "$o" "^Bail out! interrupted by SIG$sig"
	check "$tag SIG$sig: partial summary names unfinished tests" \
		hasre "$o" "^# NOT RUN +interrupted by SIG$sig before these finished: hang\(stopped\) hang_term\(stopped\) flaky$"
	check "$tag SIG$sig: partial summary count line" lastline "$o" "1 passed, 0 failed, 0 skipped"
	check "$tag SIG$sig: junit.xml written" junit_check "$tmp/$name.d/junit.xml" 4 0 1 pass hang hang_term flaky
	pids=$(cat "$FAKE_STATE"/hang*.pids 2>/dev/null)
	check "$tag SIG$sig: no test process outlives the runner" eval '! alive $pids && ! leftovers'
}

# ---------------------------------------------------------------------------
basic_scenario
timeout_scenario
sigint_scenario INT
sigint_scenario TERM

# Start order: a "slow" entry listed last still starts first (-j1 -v
# streams output in run order), while TAP keeps list order.
printf '%s\n' 'quick pass 20 order' 'quick2 pass 20 order' 'long slow 20 order,slow 1' >"$tmp/slow.list"
run slowfirst --list "$tmp/slow.list" -j 1 -v -o "$tmp/slowfirst.d"
check "slow group: exit 0" rc_is 0
check "slow group: TAP in list order" [ "$(tap_names "$tmp/slowfirst.out")" = "quick quick2 long" ]
check "slow group: started first" \
	[ "$(grep -m1 -o 'slow: done\|pass: hello' "$tmp/slowfirst.out")" = "slow: done" ]

# Exclusive group: such an entry runs alone under -j, and the others wait
# for it once it is next (it is not put off to the end).
printf '%s\n' 'a mark 20 order a' 'b mark 20 order b' 'x mark 20 order,exclusive x' \
	'c mark 20 order c' 'd mark 20 order d' >"$tmp/excl.list"
export KVMTEST_MARKS=$tmp/excl.marks
rm -f "$KVMTEST_MARKS"
run exclusive --list "$tmp/excl.list" -j 4 -o "$tmp/excl.d"
check "exclusive group: exit 0" rc_is 0
# Alone: the line before "start x" ends a test, the one after is "end x".
check "exclusive group: nothing runs beside it" \
	[ "$(grep -A1 '^start x$' "$KVMTEST_MARKS" | tail -n 1)" = "end x" ]
check "exclusive group: all before it ended first" \
	[ "$(sed -n '/^start x$/q;p' "$KVMTEST_MARKS" | grep -c '^end')" = 2 ]
check "exclusive group: the rest start after it" \
	[ "$(sed -n '/^end x$/,$p' "$KVMTEST_MARKS" | grep -c '^start')" = 2 ]
unset KVMTEST_MARKS

# --repeat: counts per test; flaky fails every second run.
rm -f "$FAKE_STATE/flaky.count"
run repeat -t flaky -t pass --repeat 3 -o "$tmp/repeat.d"
check "repeat: exit 1" rc_is 1
check "repeat: valid TAP, 6 runs" tap_valid "$tmp/repeat.out" 6
check "repeat: counts every run" lastline "$tmp/repeat.out" "5 passed, 1 failed, 0 skipped"
check "repeat: per-test counts" has "$tmp/repeat.out" "# per test: flaky: 2 passed, 1 failed"
check "repeat: failing run named" hasre "$tmp/repeat.out" "^# FAIL +flaky \[1 of 3 runs\]: exit 1; log: $tmp/repeat.d/flaky.2.log$"
check "repeat: one log per run" test -f "$tmp/repeat.d/pass.3.log"

# Exit codes, normal and --bisect.
run ec1 -t pass -o "$tmp/ec1.d"
check "exit 0 when all pass" rc_is 0
run ec2 -t pass -t skip -o "$tmp/ec2.d"
check "exit 0 with skips" rc_is 0
run ec3 -t multi_xfail --expect "$fake/fake.expect" -o "$tmp/ec3.d"
check "exit 0 with an xfail" rc_is 0
run ec4 -t xpass --expect "$fake/fake.expect" -o "$tmp/ec4.d"
check "exit 0 with an xpass" rc_is 0
run bi1 -t pass --bisect -o "$tmp/bi1.d"
check "bisect: 0 when the selection passes" rc_is 0
run bi2 -t pass -t fail --bisect -o "$tmp/bi2.d"
check "bisect: 1 when something fails" rc_is 1
run bi3 -t crash --bisect -o "$tmp/bi3.d"
check "bisect: a crash is 1, not 128+signal" rc_is 1
run bi4 -g skips --expect "$fake/fake.expect" --bisect -o "$tmp/bi4.d"
check "bisect: 125 when everything skipped" rc_is 125
run bi5 -t missing --bisect -o "$tmp/bi5.d"
check "bisect: a missing binary is a failure" rc_is 1

# Bad input: two lines on stderr, exit 2 (125 under --bisect), nothing run.
bad_input() { # DESCRIPTION ARGS...
	local what=$1
	shift
	run bad -o "$tmp/bad.d" "$@"
	local err
	err=$(cat "$tmp/bad.err")
	# (err is read by the eval below)
	check "bad input ($what): exit 2, two lines" \
		eval '[[ $rc == 2 && $err == "run_tests.sh: "*$'"'\\n'"'"Try '"'"'run_tests.sh -h'"'"'." && $(wc -l <"$tmp/bad.err") == 2 ]]'
	check "bad input ($what): nothing written" eval '[[ ! -e $tmp/bad.d && ! -s $tmp/bad.out ]]'
	rm -rf "$tmp/bad.d"
}
bad_input "unknown option" --frobnicate
bad_input "stray argument" pass
bad_input "-t matching nothing" -t 'nosuch*'
bad_input "-g matching nothing" -g nosuch
bad_input "-x matching nothing" -x nosuch
bad_input "-j 0" -j 0
bad_input "-j x" -j x
bad_input "--repeat 0" --repeat 0
bad_input "--timeout -1" --timeout -1
bad_input "--timeout x" --timeout 1x
bad_input "missing value" -t
bad_input "unreadable expectations" --expect "$tmp/no-such-expect"
bad_input "bad expectations line" --expect "$fake/fake.list"
bad_input "unreadable list" --list "$tmp/no-such-list"
run bad -o "$tmp/bad.d" --bisect -t nosuch
check "bad input under --bisect: 125 (cannot test), never 2" rc_is 125

# Result directories are never overwritten.
run od1 -t pass -o "$tmp/od"
before=$(cat "$tmp/od/pass.log")
run od2 -t fail -o "$tmp/od"
check "-o: existing non-empty dir refused" rc_is 2
check "-o: refused with a reason" has "$tmp/od2.err" "not empty"
check "-o: earlier results untouched" [ "$(cat "$tmp/od/pass.log")" = "$before" ]
touch "$tmp/od/keep.me"
run od3 -t fail -o "$tmp/od" --overwrite
check "--overwrite: runs" rc_is 1
check "--overwrite: old logs replaced" eval '[[ ! -e $tmp/od/pass.log && -e $tmp/od/fail.log ]]'
check "--overwrite: other files kept" test -e "$tmp/od/keep.me"
# Default: results/<stamp> next to the script, plus results/latest.
tree=$tmp/tree
mkdir -p "$tree"
cp "$runner" "$tree/"
mkdir -p "$tree/scripts"
cp -r "$repo/scripts/runner" "$tree/scripts/"
ln -s "$fake" "$tree/build"
printf 'pass pass 10 g\n' >"$tree/tests.list"
(cd "$tree" && ./run_tests.sh --no-build >"$tmp/dd1.out" 2>&1 && ./run_tests.sh --no-build >"$tmp/dd2.out" 2>&1)
rc=$?
dirs=("$tree"/results/2*)
check "default dir: runs with the defaults (list, build/ next to the script)" rc_is 0
check "default dir: a new timestamped dir per run" eval '((${#dirs[@]} == 2)) && [[ ${dirs[0]##*/} =~ ^[0-9]{8}-[0-9]{6}$ ]]'
check "default dir: results/latest is the newest" [ "$(readlink "$tree/results/latest")" = "${dirs[1]##*/}" ]

# -v streams output as '# ' lines before the test's result; -q prints the
# summary only; -l lists.
run verbose -t pass -g verbose -j 1 -v -o "$tmp/verbose.d"
check "-v: valid TAP" tap_valid "$tmp/verbose.out" 2
check "-v: output streamed with '# '" \
	eval '[[ $(grep -n "^# pass: hello from the test" "$tmp/verbose.out" | cut -d: -f1) -lt $(grep -n "^ok 1 pass" "$tmp/verbose.out" | cut -d: -f1) ]]'
check "-v: last line without newline too" has "$tmp/verbose.out" "# chatty: no newline at the end"
run quiet -t pass -t fail -q -o "$tmp/quiet.d"
check "-q: no test lines on stdout" hasnt "$tmp/quiet.out" "ok 1"
check "-q: summary on stdout" lastline "$tmp/quiet.out" "1 passed, 1 failed, 0 skipped"
check "-q: results.tap complete" hasre "$tmp/quiet.d/results.tap" '^not ok 2 fail'
run list -l -g order -x fail
check "-l: exit 0" rc_is 0
check "-l: names with groups" hasre "$tmp/list.out" '^pass_args +basic,order,good +20s +pass --mode fast'
check "-l: selection applied" eval "! grep -qE '^(fail|hang) ' '$tmp/list.out'"
run help -h
check "-h: exit 0" rc_is 0
for opt in -l -t -g -x -j --timeout -o --repeat -v -q --expect --bisect --list --bin-dir \
	--no-build --overwrite '--shard K/N' '--durations D' --print-binaries --plan '--compare OLD NEW' \
	'--time-threshold PCT' '--vm[=amd|intel]' '--kernel IMAGE' '--modules DIR' '--vm-cpu MODEL' \
	'--accel tcg|kvm' '--vm-mem MB' '--vm-smp N'; do
	grep -qE -- "^  $(printf '%s' "$opt" | sed 's/[][|.*]/\\&/g')( |,|$)" "$tmp/help.out" || { ko "-h: documents $opt"; continue; }
	((npass++))
done
echo "ok - -h: documents every option"

# Kernel log: the klog test writes a marker to /dev/kmsg that this run
# (only) treats as a splat.
if [[ -w /dev/kmsg && -r /dev/kmsg ]]; then
	KVMTEST_KLOG_EXTRA=kvmtest-runner-selftest-splat run klog -t klog -t pass -j 1 -o "$tmp/klog.d"
	check "kernel log: splat fails the test" hasre "$tmp/klog.out" '^not ok 2 klog .*kernel log: kvmtest-runner-selftest-splat'
	check "kernel log: splat printed" hasre "$tmp/klog.out" '^# kernel: \[ *[0-9]+\.[0-9]+\] kvmtest-runner-selftest-splat'
	check "kernel log: only the test's own window (-j1)" hasre "$tmp/klog.out" '^ok 1 pass '
	check "kernel log: saved to the test's log" has "$tmp/klog.d/klog.log" "kvmtest-runner-selftest-splat: fake splat"
	if dmesg >/dev/null 2>&1; then
		KVMTEST_KLOG=dmesg KVMTEST_KLOG_EXTRA=kvmtest-runner-selftest-splat run klogd -t klog -t pass -j 1 -o "$tmp/klogd.d"
		check "kernel log via dmesg: splat fails the test" hasre "$tmp/klogd.out" '^not ok 2 klog .*kernel log: .*kvmtest-runner-selftest-splat'
		check "kernel log via dmesg: only the test's own window" hasre "$tmp/klogd.out" '^ok 1 pass '
	fi
else
	echo "skip - kernel log checks: /dev/kmsg not readable and writable here"
fi
KVMTEST_KLOG=off run klogoff -t pass -o "$tmp/klogoff.d"
check "kernel log: unreadable is said once" [ "$(grep -c 'kernel log watch' "$tmp/klogoff.out")" = 1 ]

# This host's default expectations (kvm_pvm).
if [[ -d /sys/module/kvm_pvm && -f $repo/expect/kvm_pvm.txt ]]; then
	run pvm -t pass -o "$tmp/pvm.d"
	check "kvm_pvm: default expectations announced" hasre "$tmp/pvm.out" '^# expectations for this host \(host, .*kvm_pvm.*\): expect/kvm_pvm.txt'
	run pvm2 -t pass --expect none -o "$tmp/pvm2.d"
	check "kvm_pvm: --expect none disables them" hasnt "$tmp/pvm2.out" "expectations for this host"
fi

# --- exit statuses, several lists, --plan, --shard, --durations, --compare, INCOMPLETE ---
run st254 -t exit254 -o "$tmp/st254.d"
check "exit 254: a failure with its code, not a signal" hasre "$tmp/st254.out" '^not ok 1 exit254 # time=[0-9.]+s \(exit 254\)$'

# Two lists in one run: the second's binaries from its own --bin-dir.
mkdir -p "$tmp/other"
ln -sf "$fake/pass" "$tmp/other/o_pass"
printf 'other_pass  o_pass  20  other\n' >"$tmp/other.list"
run twolists --list "$fake/fake.list" --list "$tmp/other.list" --bin-dir "$tmp/other" -t pass -t other_pass -o "$tmp/twolists.d"
check "two lists: both suites in one run" eval '[[ $rc == 0 && "$(tap_names "$tmp/twolists.out")" == "pass other_pass" ]]'
printf 'pass  pass  20  dup\n' >"$tmp/dup.list"
run duplists --list "$fake/fake.list" --list "$tmp/dup.list" -o "$tmp/duplists.d"
check "two lists: a name in both is bad input" eval '[[ $rc == 2 ]] && has "$tmp/duplists.err" "listed twice"'
run printbin --print-binaries
check "--print-binaries: each binary once" eval '[[ $rc == 0 && $(grep -c "^pass$" "$tmp/printbin.out") == 1 && $(wc -l <"$tmp/printbin.out") == 13 ]]'
run plan --plan -g order --timeout 7
check "--plan: name and timeout of each selected test" [ "$(head -n 2 "$tmp/plan.out" | tr '\n' ' ')" = "slow_first 7 pass 7 " ]

# --shard: the union of the slices is the unsharded selection, for N 1..5.
want=$(run shard0 -l -g basic -x missing; awk 'NR > 1 { print $1 }' "$tmp/shard0.out" | sort | tr '\n' ' ')
for n in 1 2 3 4 5; do
	got=
	for ((k = 1; k <= n; k++)); do
		run "shard$k-$n" -l -g basic -x missing --shard "$k/$n"
		got+=$(awk 'NR > 1 { print $1 }' "$tmp/shard$k-$n.out")$'\n'
	done
	got=$(printf '%s' "$got" | grep . | sort | tr '\n' ' ')
	check "--shard: N=$n: slices add up to the selection, once each" [ "$got" = "$want" ]
done
run shardrun -g order --shard 2/3 -o "$tmp/shardrun.d"
# (Equal timeouts: the names decide, so this slice is known.)
check "--shard: runs its slice" eval '[[ $rc == 0 && "$(tap_names "$tmp/shardrun.out")" == "slow_first pass" ]]'
check "--shard: junit names the shard" has "$tmp/shardrun.d/junit.xml" "kvmtest (shard 2/3)"
run shardempty -t pass --shard 2/3 -o "$tmp/shardempty.d"
check "--shard: an empty slice is an empty run (plan 1..0, junit.xml)" \
	eval '[[ $rc == 0 ]] && tap_valid "$tmp/shardempty.out" 0 && test -s "$tmp/shardempty.d/junit.xml"'
bad_input "--shard 0/2" --shard 0/2
bad_input "--shard 3/2" --shard 3/2
bad_input "--shard x" --shard x

# --durations: a recorded median makes a hanging test time out at the
# floor (10 s) instead of the list's 60 s.
printf '# name\trun\toutcome\tseconds\tdetail\nhang\t1\tPASS\t0.100\t\n' >"$tmp/dur.tsv"
rm -f "$FAKE_STATE"/hang*.pids
run durations -t hang --durations "$tmp/dur.tsv" -o "$tmp/durations.d"
check "--durations: a hang declared at 10x the median, floor 10 s" \
	hasre "$tmp/durations.out" '^not ok 1 hang # time=1[0-9]\.[0-9]+s \(timed out after 10 s \(10x its median in '
check "--durations: the run says where its timeouts come from" hasre "$tmp/durations.out" '^# timeouts: 10x each test.s median in '
check "results.tsv: one line per run, read back by --durations" \
	hasre "$tmp/durations.d/results.tsv" $'^hang\t1\tTIMEOUT\t1[0-9]\\.[0-9]{3}\ttimed out after 10 s'
bad_input "--durations without results.tsv" --durations "$tmp"

# --compare through the command line, on two runs of this file.
run cmp1 -t pass -t skip -o "$tmp/cmp1.d"
run cmp2 -t fail -t skip -o "$tmp/cmp2.d"
sed -i 's/^fail\t/pass\t/' "$tmp/cmp2.d/results.tsv"
cp "$tmp/cmp2.d/fail.log" "$tmp/cmp2.d/pass.log"
"$runner" --compare "$tmp/cmp1.d" "$tmp/cmp2.d" >"$tmp/cmp.out" 2>&1
rc=$?
check "--compare: exit 1 on a new failure, named with its reason" eval '[[ $rc == 1 ]] && hasre "$tmp/cmp.out" "^  pass: PASS -> FAIL \(exit 1\)$"'
"$runner" --compare "$tmp/cmp1.d" "$tmp/cmp1.d" >"$tmp/cmp.out" 2>&1
check "--compare: exit 0 when nothing changed" eval '[[ $? == 0 ]] && has "$tmp/cmp.out" "# no changes in 2 test(s)"'
bad_input "--compare with one directory" --compare "$tmp/cmp1.d"

# An interrupted run leaves INCOMPLETE; the next run with that -o reuses it.
run inc1 -t pass -o "$tmp/inc.d"
check "INCOMPLETE: gone after a finished run" test ! -e "$tmp/inc.d/INCOMPLETE"
echo "interrupted" >"$tmp/inc.d/INCOMPLETE"
run inc2 -t fail -o "$tmp/inc.d"
check "INCOMPLETE: the next run reuses the directory" eval '[[ $rc == 1 && ! -e $tmp/inc.d/pass.log && -e $tmp/inc.d/fail.log ]]'
check "INCOMPLETE: ... and says so" has "$tmp/inc2.err" "holds an unfinished run"
check "INCOMPLETE: the SIGINT run kept its mark" test -e "$tmp/sigINT.d/INCOMPLETE"

# Expectations picked by match: lines (a tree of our own: expect/ beside
# the runner), and --expect none.
mkdir -p "$tree/expect"
printf 'match: lane=host\npass xfail known here\n' >"$tree/expect/mine.txt"
printf 'match: lane=vm-nosuch\npass skip not here\n' >"$tree/expect/other.txt"
(cd "$tree" && ./run_tests.sh --no-build -o "$tmp/match.d" >"$tmp/match.out" 2>&1)
check "expect: the file whose match: fits is picked, the other not" \
	eval 'hasre "$tmp/match.out" "^ok 1 pass # TODO XPASS: known here" && has "$tmp/match.out" "expect/mine.txt" && hasnt "$tmp/match.out" "other.txt"'
(cd "$tree" && ./run_tests.sh --no-build --expect none -o "$tmp/match2.d" >"$tmp/match2.out" 2>&1)
check "expect: --expect none: none picked" hasre "$tmp/match2.out" '^ok 1 pass # time='
(cd "$tree" && KVMTEST_LANE=vm-nosuch ./run_tests.sh --no-build -o "$tmp/match3.d" >"$tmp/match3.out" 2>&1)
check "expect: KVMTEST_LANE picks the lane's file" hasre "$tmp/match3.out" '^ok 1 pass # SKIP not here'
# --list with another list: no warnings about the picked files' entries.
printf 'match: lane=host\nnot_in_that_list xfail x\n' >"$tree/expect/mine.txt"
(cd "$tree" && ./run_tests.sh --no-build --list "$tmp/other.list" --bin-dir "$tmp/other" -o "$tmp/match4.d" >"$tmp/match4.out" 2>&1)
check "expect: another --list draws no warnings about picked files" hasnt "$tmp/match4.out" "no test named"

# --- as in the VM lanes: bash-static, busybox only ---------------------------------
bash_static=$(command -v bash-static)
busybox=$(command -v busybox)
if [[ -n $bash_static && -n $busybox ]]; then
	mkdir -p "$tmp/bb"
	"$busybox" --install -s "$tmp/bb"
	shell=(env -i "PATH=$tmp/bb" "FAKE_STATE=$FAKE_STATE") shell_bin=$bash_static
	tag=" [bash-static+busybox]" ftag=-bb
	# The runner itself must not reach for GNU tools: with PATH holding only
	# busybox applets, anything else would fail loudly here.
	basic_scenario
	timeout_scenario
	sigint_scenario INT
	shell=() shell_bin=bash
	tag= ftag=
else
	echo "skip - bash-static+busybox checks: apt-get install bash-static busybox-static"
fi

check "nothing of the fake tests left running at the end" eval '! leftovers'
echo "$npass passed, $nfail failed"
((nfail == 0))
