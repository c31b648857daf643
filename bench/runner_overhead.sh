#!/usr/bin/env bash
# What run_tests.sh itself costs per test: 200 trivial passing tests (each a
# symlink to `true`) from a generated list, run at -j1; prints the wall time
# per test and, for scale, what a bare bash loop spends starting the same
# 200 processes. Target: <= 10 ms per test.
#
#   bench/runner_overhead.sh            the overhead benchmark
#   bench/runner_overhead.sh --real     also the real suite at -j1 and -j2
#   bench/runner_overhead.sh -n 500     another number of tests
#
# Run by hand; not part of make check.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
runner=$repo/run_tests.sh
n=200 real=0
while (($#)); do
	case $1 in
	--real) real=1 ;;
	-n) n=$2; shift ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "runner_overhead.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
ln -s "$(type -P true)" "$tmp/bin/t"
for ((i = 0; i < n; i++)); do printf 't%03d t 10 bench\n' "$i"; done >"$tmp/list"

us() { REPLY=${EPOCHREALTIME//[!0-9]/}; }
ms() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

# The floor: starting the same processes from bash, nothing else.
us; t0=$REPLY
for ((i = 0; i < n; i++)); do "$tmp/bin/t" & wait $!; done
us; base=$((REPLY - t0))

# --expect none and KVMTEST_KLOG unset: the same work as a normal run.
us; t0=$REPLY
"$runner" --no-build --expect none --list "$tmp/list" --bin-dir "$tmp/bin" -j 1 -q -o "$tmp/out" >"$tmp/run.txt" 2>&1
rc=$?
us; total=$((REPLY - t0))
if ((rc != 0)) || [[ $(tail -n 1 "$tmp/run.txt") != "$n passed, 0 failed, 0 skipped" ]]; then
	echo "runner_overhead.sh: the run failed (exit $rc):" >&2
	tail -n 5 "$tmp/run.txt" >&2
	exit 1
fi
echo "runner: $n trivial tests at -j1 in $(ms $((total / 1000))) s (startup, list, logs, summary, junit included)"
echo "runner: $(ms $((total / n))) ms per test (target <= 10 ms)"
echo "floor:  $(ms $((base / n))) ms per test to fork+exec+wait the same binary from bash"

if ((real)); then
	make -s -C "$repo" >&2 || { echo "runner_overhead.sh: make failed" >&2; exit 1; }
	real_1=0 real_2=0
	for j in 1 2; do
		us; t0=$REPLY
		"$runner" --no-build -j "$j" -q -o "$tmp/real$j" >"$tmp/real$j.txt" 2>&1
		us; t=$((REPLY - t0))
		eval "real_$j=$t"
		echo "real suite -j$j: $(ms $((t / 1000))) s ($(tail -n 1 "$tmp/real$j.txt"))"
	done
	((real_2)) && echo "real suite: -j2 takes $((real_2 * 100 / real_1))% of the -j1 time"
fi
