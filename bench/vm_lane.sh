#!/bin/bash
# Benchmark of the AMD VM lane: how long from the command to the first test,
# and how long the whole suite takes in the lane.
#
#   bench/vm_lane.sh [--runs N] [lane and runner options...]
#
# Runs `./run_tests.sh --vm OPTIONS` N times (default 3) and reports, per run
# and as the best and median: time to the runner's "TAP version" line, to
# its first "ok"/"not ok" line, and the total wall time. Target on the
# 2-core reference box: first test within 45 s.
# The first run may also build the tests and the cached initramfs layers;
# --no-build among the options leaves the build out of the measurement.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=bench/lane_timing.sh
. "$here/lane_timing.sh"
lane_timing_args vm_lane.sh 3 "$@"

# The runner execs the lane for --vm; call the lane directly until the
# runner is there, so the benchmark measures the same thing either way.
cmd=("$repo/run_tests.sh" --vm)
[ -x "$repo/run_tests.sh" ] || cmd=("$repo/scripts/vm/lane.sh" --vm)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

declare -a first_tap=() first_test=() total=()
for ((i = 1; i <= runs; i++)); do
	tap=- test=-
	t0=$EPOCHREALTIME
	while IFS= read -r line; do
		if [ "$tap" = - ] && [[ $line == 'TAP version'* ]]; then tap=$(ms_since "$t0"); fi
		if [ "$test" = - ] && [[ $line =~ ^(not\ )?ok\  ]]; then test=$(ms_since "$t0"); fi
	# The suite's verdict does not matter here, only its timing.
	done < <("${cmd[@]}" -o "$tmp/run$i" "${args[@]}" 2>"$tmp/err$i")
	tot=$(ms_since "$t0")
	printf 'run %d: TAP version %ss, first test %ss, total %ss\n' "$i" "$(fmt "$tap")" "$(fmt "$test")" "$(fmt "$tot")"
	first_tap+=("$tap") first_test+=("$test") total+=("$tot")
	[ "$test" != - ] || [ "$tap" != - ] || run_failed vm_lane.sh "$i" "produced no TAP" "$tmp/err$i"
done

summary 'vm_lane: to TAP version:' '' "${first_tap[@]}"
summary 'vm_lane: to first test: ' ' (target 45s)' "${first_test[@]}"
summary 'vm_lane: whole suite:   ' '' "${total[@]}"
