#!/usr/bin/env bash
# Unit tests of the runner's modules (scripts/runner/*.sh), function by
# function, with no test process run: list reading and selection, --shard
# slices, recorded durations and the timeouts they give, expectation files'
# match: lines, exit statuses, KTAP case lines, --compare on crafted result
# directories. make check runs it before tests/runner/run.sh, which drives
# the whole runner.
#
#   tests/runner/units.sh       prints "ok - ..." / "FAIL - ..." and a count
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export LC_ALL=C
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-runner-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

npass=0 nfail=0
check() {
	local what=$1
	shift
	if "$@"; then echo "ok - $what"; ((npass++)); else echo "FAIL - $what"; ((nfail++)); fi
}
eq() { [[ $1 == "$2" ]] || { echo "    got '$1', want '$2'" >&2; return 1; }; }

prog=run_tests.sh
for m in options list history expect klog schedule report outdir compare; do
	. "$repo/scripts/runner/$m.sh"
done
# bad() exits: the cases that expect bad input run in a subshell.
opt_bisect=0
fails() { ("$@") >/dev/null 2>"$tmp/bad.err"; [[ $? == 2 ]]; }
reset_entries() {
	E_name=() E_bin=() E_rel=() E_to=() E_groups=() E_args=() E_index=()
	sel_t=() sel_g=() sel_x=() opt_lists=(x) opt_timeout= history_explicit=0
	H_ms=() H_pass_ms=() history_src=
}

# --- list.sh ----------------------------------------------------------------
reset_entries
cat >"$tmp/a.list" <<'L'
# comment
t1  x/one   45  g1,slow
t2  x/two   60  g2        --flag  value
   
t3  x/one   0   g1
L
printf 'u1  y/u   120  intree,x86\n' >"$tmp/b.list"
list_read "$tmp/a.list" /bin/a
list_read "$tmp/b.list" /bin/b
check "list: entries of two lists in order" eq "${E_name[*]}" "t1 t2 t3 u1"
check "list: binaries joined with each list's dir" eq "${E_bin[1]} ${E_bin[3]}" "/bin/a/x/two /bin/b/y/u"
check "list: args are the rest of the line" eq "${E_args[1]}" "--flag value"
check "list: --print-binaries names each binary once" eq "$(print_binaries | tr '\n' ' ')" "x/one x/two y/u "
printf 't1 z 1 g\n' >"$tmp/dup.list"
check "list: a name in two lists is bad input" fails list_read "$tmp/dup.list" /bin/c
check "list: ... saying so" grep -q "listed twice (names are unique across every --list)" "$tmp/bad.err"
printf 'bad name! z 1 g\n' >"$tmp/badname.list"
check "list: a bad name is bad input" fails list_read "$tmp/badname.list" /x
printf 'n z 1x g\n' >"$tmp/badto.list"
check "list: a bad timeout is bad input" fails list_read "$tmp/badto.list" /x
printf 'n z 1\n' >"$tmp/short.list"
check "list: a short line is bad input" fails list_read "$tmp/short.list" /x
sel_g=(g1) sel_x=(t3)
select_entries
check "select: -g then -x" eq "${sel[*]}" "0"
sel_g=() sel_x=() sel_t=('t*' u1)
select_entries
check "select: -t globs add up" eq "${sel[*]}" "0 1 2 3"
sel_t=(nosuch)
check "select: a -t matching nothing is bad input" fails select_entries

# --- shards -------------------------------------------------------------------
# 23 entries with uneven weights: every N from 1 to 5 cuts the selection
# into disjoint slices that add up to it, and the same input always cuts
# the same slices.
reset_entries
for ((i = 1; i <= 23; i++)); do
	printf 's%02d x/s %d g\n' "$i" $(((i * 37) % 50 + 1))
done >"$tmp/s.list"
list_read "$tmp/s.list" /b
select_entries
all="${sel[*]}"
saved=("${sel[@]}")
for n in 1 2 3 4 5; do
	union=() max=0 min=999999999
	for ((k = 1; k <= n; k++)); do
		sel=("${saved[@]}")
		shard_select "$k" "$n"
		union+=("${sel[@]}")
		w=0
		for e in "${sel[@]}"; do entry_weight "$e"; w=$((w + REPLY)); done
		((w > max)) && max=$w
		((w < min)) && min=$w
		sel=("${saved[@]}")
		shard_select "$k" "$n"
		again="${sel[*]}"
		sel=("${saved[@]}")
		shard_select "$k" "$n"
		[[ ${sel[*]} == "$again" ]] || echo "    shard $k/$n not stable" >&2
	done
	sorted=$(printf '%s\n' "${union[@]}" | sort -n | tr '\n' ' ')
	check "shard: N=$n: slices disjoint, union is the selection" eq "$sorted" "$(printf '%s\n' $all | sort -n | tr '\n' ' ')"
	check "shard: N=$n: weights within 25% of each other ($min..$max ms)" test $(((max - min) * 100)) -le $((max * 25))
done
# Recorded durations steer the cut only when given explicitly.
sel=("${saved[@]}")
shard_select 1 2
by_timeout="${sel[*]}"
for ((i = 1; i <= 23; i++)); do H_ms[$(printf 's%02d' $i)]=$((i == 1 ? 900000 : 10)); done
sel=("${saved[@]}")
shard_select 1 2
check "shard: this host's own durations do not change the cut" eq "${sel[*]}" "$by_timeout"
history_explicit=1
sel=("${saved[@]}")
shard_select 1 2
check "shard: explicit durations do (the one long test alone)" eq "${sel[*]}" "0"
history_explicit=0

# --- history.sh ---------------------------------------------------------------
reset_entries
printf 'fast x 120 g\nslow x 120 g\nflaky x 120 g\nnever x 30 g\nnolimit x 0 g\n' >"$tmp/h.list"
list_read "$tmp/h.list" /b
printf '# name\trun\toutcome\tseconds\tdetail\n' >"$tmp/r.tsv"
printf 'fast\t1\tPASS\t0.200\t\nfast\t2\tPASS\t0.400\t\nfast\t3\tPASS\t0.300\t\n' >>"$tmp/r.tsv"
printf 'slow\t1\tPASS\t9.000\t\nflaky\t1\tFAIL\t0.010\texit 1\nflaky\t2\tTIMEOUT\t120.000\tx\n' >>"$tmp/r.tsv"
printf 'never\t1\tSKIP\t0.001\tno kvm\nnolimit\t1\tPASS\t2.000\t\n' >>"$tmp/r.tsv"
history_load "$tmp/r.tsv"
check "history: median of the passing runs" eq "${H_pass_ms[fast]}" 300
check "history: timeouts and skips give no passing median" eq "${H_pass_ms[flaky]-}${H_pass_ms[never]-}" ""
check "history: a shard weight counts failures and skips, not timeouts" eq "${H_ms[flaky]} ${H_ms[never]}" "10 1"
effective_timeout 0
check "history: 10x a short median is the floor (10 s)" eq "$REPLY" 10
check "history: ... and says where it comes from" eq "${REPLY_NOTE%% in *}" "10x its median"
effective_timeout 1
check "history: 10x the median, rounded up" eq "$REPLY" 90
effective_timeout 2
check "history: no passing run: the list's timeout" eq "$REPLY" 120
effective_timeout 4
check "history: a list's 'no timeout' gets one from the median" eq "$REPLY" 20
H_pass_ms[slow]=60000
effective_timeout 1
check "history: never above the list's own" eq "$REPLY" 120
opt_timeout=7
effective_timeout 1
check "history: --timeout wins" eq "$REPLY" 7
median 5 1 4 2
check "median: lower middle of an even count" eq "$REPLY" 2

# --- expect.sh ----------------------------------------------------------------
HOST=([module]="kvm kvm_amd" [vendor]=AuthenticAMD [kernel]=6.12.117+deb12-amd64 [lane]=vm-amd)
printf 'match: lane=vm-amd\nx xfail y\n' >"$tmp/e1"
printf 'match: module=kvm_intel\nmatch: vendor=Authentic* kernel=6.12.*\n' >"$tmp/e2"
printf 'match: module=kvm_amd lane=host\n' >"$tmp/e3"
printf 'x xfail no match line\n' >"$tmp/e4"
printf 'match: colour=blue\n' >"$tmp/e5"
check "expect: match on the lane" expect_fits "$tmp/e1"
check "expect: any match line may fit; globs" expect_fits "$tmp/e2"
check "expect: every key of a line must fit" eval '! expect_fits "$tmp/e3"'
check "expect: a file without match: is never picked" eval '! expect_fits "$tmp/e4"'
check "expect: an unknown key is bad input" fails expect_fits "$tmp/e5"
KVMTEST_LANE=vm-intel host_facts
check "expect: KVMTEST_LANE names the lane" eq "${HOST[lane]}" vm-intel
HOST[lane]=vm-amd
reset_entries
list_read "$tmp/a.list" /b
expect_auto=1
printf 'match: lane=vm-amd\nt1 xfail known\nother_suite_test skip not here\nt2:*case?one* xfail c1\n' >"$tmp/e6"
expect_read "$tmp/e6" 2>"$tmp/warn"
check "expect: entries land on their tests" eq "${EX_kind[0]}:${EX_reason[0]}" "xfail:known"
check "expect: case entries too" eq "${EC_pat[1]}" "*case?one*"$'\n'
check "expect: a picked file's entries for other lists: no warning" test ! -s "$tmp/warn"
expect_auto=0
expect_read "$tmp/e6" 2>"$tmp/warn"
check "expect: a named file's entry for no test: a warning" grep -q "no test named 'other_suite_test'" "$tmp/warn"

# --- schedule.sh: exit statuses -------------------------------------------------
printf 'SKIP: no frob\n' >"$tmp/log"
status_outcome 0 "$tmp/log"
check "status: 0 passes" eq "$REPLY" PASS
status_outcome 4 "$tmp/log"
check "status: 4 skips with the reason" eq "$REPLY:$REPLY_DETAIL" "SKIP:no frob"
printf 'TAP version 13\n1..0 # SKIP - Requirement not met: nested VMX\n' >"$tmp/log2"
status_outcome 4 "$tmp/log2"
check "status: kselftest's '1..0 # SKIP' reason" eq "$REPLY_DETAIL" "Requirement not met: nested VMX"
printf 'KVM_CAP_HYPERV_ENLIGHTENED_VMCS not available, skipping test\n' >"$tmp/log2"
status_outcome 4 "$tmp/log2"
check "status: the in-tree print_skip() reason" eq "$REPLY_DETAIL" "KVM_CAP_HYPERV_ENLIGHTENED_VMCS not available"
status_outcome 254 "$tmp/log"
check "status: 254 is an exit code, not SIG126" eq "$REPLY:$REPLY_DETAIL:$REPLY_SIGNAL" "FAIL:exit 254:"
status_outcome 255 "$tmp/log"
check "status: 255 is an exit code" eq "$REPLY_DETAIL" "exit 255"
status_outcome 139 "$tmp/log"
check "status: 139 is SIGSEGV" eq "$REPLY_DETAIL:$REPLY_SIGNAL" "killed by SIGSEGV:SIGSEGV"

# --- case lines -------------------------------------------------------------------
case_line "not ok 5 #PF with P set"
check "case line: '#' inside a name" eq "$REPLY" "fail #PF with P set"
case_line "ok 3 gamma # SKIP no gamma"
check "case line: SKIP directive" eq "$REPLY" "skip gamma"
case_line "ok 1 - alpha  "
check "case line: '- ' and trailing blanks" eq "$REPLY" "pass alpha"
check "case line: not a case" eval '! case_line "# ok 1 x"'

# --- compare.sh on crafted result directories --------------------------------------
opt_threshold=50
mkres() { # DIR then lines "name outcome seconds detail"
	local d=$1 n o t dt
	shift
	mkdir -p "$d"
	printf '# name\trun\toutcome\tseconds\tdetail\n' >"$d/results.tsv"
	for l; do
		read -r n o t dt <<<"$l"
		printf '%s\t1\t%s\t%s\t%s\n' "$n" "$o" "$t" "$dt" >>"$d/results.tsv"
	done
}
mkres "$tmp/old" "stays PASS 1.000" "breaks PASS 1.000" "fixed FAIL 1.000 exit 1" \
	"skipnow PASS 1.000" "skipwhy SKIP 0.001 no frob" "cases FAIL 1.000 exit 1" "slower PASS 1.000" "gone PASS 1.000"
mkres "$tmp/new" "stays PASS 1.100" "breaks FAIL 1.000 exit 254" "fixed PASS 1.000" \
	"skipnow SKIP 0.001 no TDX" "skipwhy SKIP 0.001 no bar" "cases FAIL 1.000 exit 1" "slower PASS 3.000" "added PASS 1.000"
printf 'ok 1 alpha\nnot ok 2 beta\nok 3 gamma\n# ---- end of output ----\nnot ok 9 after the end\n' >"$tmp/old/cases.log"
printf 'ok 1 alpha\nok 2 beta\nnot ok 3 gamma\n' >"$tmp/new/cases.log"
compare_dirs "$tmp/old" "$tmp/new" >"$tmp/cmp.out"
rc=$?
c=$(cat "$tmp/cmp.out")
check "compare: exit 1 when something newly fails" eq "$rc" 1
check "compare: newly failing, with the reason" grep -q '^  breaks: PASS -> FAIL (exit 254)$' "$tmp/cmp.out"
check "compare: newly passing" grep -q '^  fixed: FAIL (exit 1) -> PASS$' "$tmp/cmp.out"
check "compare: newly skipped, with the reason" grep -q '^  skipnow: PASS -> SKIP (no TDX)$' "$tmp/cmp.out"
check "compare: skip reason changed" grep -q "^  skipwhy: skip reason changed: 'no frob' -> 'no bar'$" "$tmp/cmp.out"
check "compare: a case newly failing" grep -q "^  cases: case 'gamma': pass -> fail$" "$tmp/cmp.out"
check "compare: a case fixed" grep -q "^  cases: case 'beta': fail -> pass$" "$tmp/cmp.out"
check "compare: only the test's own output holds cases" eval '! grep -q "after the end" "$tmp/cmp.out"'
check "compare: time beyond the threshold" grep -q '^  slower: 1.000 s -> 3.000 s (200%)$' "$tmp/cmp.out"
check "compare: time within it not reported" eval '! grep -q "^  stays:" "$tmp/cmp.out"'
check "compare: tests on one side only" eval '[[ $c == *"ONLY IN NEW:"*"added: PASS"*"ONLY IN OLD:"*"gone: was PASS"* ]]'
mkres "$tmp/new2" "stays PASS 1.000" "breaks PASS 1.000" "fixed PASS 1.000" "skipnow PASS 1.000" \
	"skipwhy SKIP 0.001 no frob" "cases FAIL 1.000 exit 1" "slower PASS 1.000" "gone PASS 1.000"
compare_dirs "$tmp/old" "$tmp/new2" >"$tmp/cmp2.out"
check "compare: exit 0 when only fixes" eq "$?" 0
compare_dirs "$tmp/old" "$tmp/old" >"$tmp/cmp3.out"
check "compare: the same directory twice: no changes" grep -q '^# no changes in 8 test(s)$' "$tmp/cmp3.out"
check "compare: a directory without results.tsv is bad input" fails compare_dirs "$tmp/old" "$tmp"

echo "$npass passed, $nfail failed"
((nfail == 0))
