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
runs=3
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--runs=*) runs=${1#--runs=} ;;
	*) args+=("$1") ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "vm_lane.sh: --runs takes a positive number" >&2; exit 2; }

# The runner execs the lane for --vm; call the lane directly until the
# runner is there, so the benchmark measures the same thing either way.
cmd=("$repo/run_tests.sh" --vm)
[ -x "$repo/run_tests.sh" ] || cmd=("$repo/scripts/vm/lane.sh" --vm)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Milliseconds since $1 (an EPOCHREALTIME value).
ms_since() {
	local now=${EPOCHREALTIME/./} then=${1/./}
	echo $(((now - then) / 1000))
}
fmt() { [ "$1" = - ] && echo - || printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

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
	if [ "$test" = - ] && [ "$tap" = - ]; then
		echo "vm_lane.sh: run $i produced no TAP; its stderr:" >&2
		tail -n 25 "$tmp/err$i" >&2
		exit 1
	fi
done

# best and median of a list of milliseconds ('-' entries ignored).
stats() {
	local v=() x
	for x in "$@"; do [ "$x" = - ] || v+=("$x"); done
	[ ${#v[@]} -gt 0 ] || { echo "- -"; return; }
	mapfile -t v < <(printf '%s\n' "${v[@]}" | sort -n)
	echo "${v[0]} ${v[$((${#v[@]} / 2))]}"
}
read -r b m < <(stats "${first_tap[@]}")
echo "vm_lane: to TAP version: best $(fmt "$b")s, median $(fmt "$m")s"
read -r b m < <(stats "${first_test[@]}")
echo "vm_lane: to first test:  best $(fmt "$b")s, median $(fmt "$m")s (target 45s)"
read -r b m < <(stats "${total[@]}")
echo "vm_lane: whole suite:    best $(fmt "$b")s, median $(fmt "$m")s"
