#!/usr/bin/env bash
# Run the host-only unit tests (BUILD_DIR/unit/*): no /dev/kvm needed.
#
#   scripts/run_unit_tests.sh [BUILD_DIR]      (default: build)
#
# Prints one TAP stream: each binary's own TAP output indented as a
# subtest, then "ok N name" or "not ok N name # reason", then a last plain
# line "N passed, N failed" (", N skipped" only when some were). Exits 1
# when any test failed or there were none to run, so `make check` stops.
# Environment: UNIT_TIMEOUT (seconds per binary, default 120).
set -u

build=${1:-build}
timeout_s=${UNIT_TIMEOUT:-120}
dir=$build/unit

tests=()
for t in "$dir"/*; do
	[[ -f $t && -x $t ]] && tests+=("$t")
done
if ((${#tests[@]} == 0)); then
	echo "run_unit_tests.sh: no unit tests in $dir (run make first)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

passed=0 failed=0 skipped=0 n=0
failed_names=()
echo "TAP version 13"
echo "1..${#tests[@]}"
for t in "${tests[@]}"; do
	name=${t##*/}
	n=$((n + 1))
	start=$(date +%s.%N)
	# Indent the binary's lines so its own "ok"/"not ok" read as a
	# subtest, not as results of this stream. PIPESTATUS keeps the
	# binary's status rather than sed's.
	timeout -k 5 "$timeout_s" "$t" 2>&1 | sed 's/^/    /'
	rc=${PIPESTATUS[0]}
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
	case $rc in
	0)
		echo "ok $n $name # ${secs}s"
		passed=$((passed + 1))
		;;
	4)
		echo "ok $n $name # SKIP (exit 4, ${secs}s)"
		skipped=$((skipped + 1))
		;;
	*)
		if ((rc == 124 || rc == 137)); then
			why="timed out after ${timeout_s}s"
		elif ((rc > 128)); then
			why="killed by signal $((rc - 128))"
		else
			why="exit status $rc"
		fi
		echo "not ok $n $name # $why, ${secs}s"
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	esac
done

((failed)) && echo "# failed: ${failed_names[*]}"
summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
