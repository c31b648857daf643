#!/bin/bash
# Benchmark of the Intel (Bochs) VM lane: where the wall time of
#   ./run_tests.sh --vm=intel [options]
# goes, from the moment the command starts.
#
#   bench/vm_intel_boot.sh [--runs N] [lane and runner options...]
#   e.g. bench/vm_intel_boot.sh --no-build -g smoke
#
# Per run it prints the wall time (seconds) to:
#   ttyS1     the first line /init writes on ttyS1 (@@KVMTEST@@ BOOTED):
#             BIOS + isolinux + kernel boot + initramfs unpack
#   start     @@KVMTEST@@ START: module load and /dev/kvm checked
#   first     the first "ok"/"not ok" line of the in-guest runner
#   total     the command's exit (the selection run and results copied back)
# and, over the runs, the best and the median of each. Target on the
# 2-core reference box: first test within 180 s.
#
# The lane keeps the guest's ttyS1 in $TMPDIR/kvmtest-vm.*/serial.log while
# it runs; we give it a private TMPDIR and watch that file. If lane.sh ever
# moves it, ttyS1/start read "-" and first/total still come from stdout.
# The suite's verdict does not matter here, only its timing.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=bench/lane_timing.sh
. "$here/lane_timing.sh"
lane_timing_args vm_intel_boot.sh 1 "$@"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-bench-intel.XXXXXX")
lpid=
cleanup() {
	# The lane kills its own backend and Bochs on TERM.
	[ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

declare -a m_tty=() m_start=() m_first=() m_total=()
for ((i = 1; i <= runs; i++)); do
	mkdir -p "$tmp/t$i"
	tty=- start=- first=-
	t0=$EPOCHREALTIME
	# stdin from /dev/null and our own session, like a CI job: proves the
	# lane needs no terminal.
	TMPDIR=$tmp/t$i setsid "$repo/run_tests.sh" --vm=intel -o "$tmp/res$i" "${args[@]}" \
		</dev/null >"$tmp/out$i" 2>"$tmp/err$i" &
	lpid=$!
	while kill -0 "$lpid" 2>/dev/null; do
		serial=$(ls "$tmp/t$i"/kvmtest-vm.*/serial.log 2>/dev/null | head -n 1)
		if [ -n "$serial" ]; then
			[ "$tty" = - ] && [ -s "$serial" ] && tty=$(ms_since "$t0")
			[ "$start" = - ] && grep -q '@@KVMTEST@@ START' "$serial" && start=$(ms_since "$t0")
		fi
		[ "$first" = - ] && grep -Eq '^(not )?ok ' "$tmp/out$i" && first=$(ms_since "$t0")
		sleep 0.2
	done
	wait "$lpid"
	rc=$?
	lpid=
	total=$(ms_since "$t0")
	[ "$first" = - ] && grep -Eq '^(not )?ok ' "$tmp/out$i" && first=$total
	printf 'run %d: ttyS1 %ss, start %ss, first test %ss, total %ss (exit %d)\n' "$i" \
		"$(fmt "$tty")" "$(fmt "$start")" "$(fmt "$first")" "$(fmt "$total")" "$rc"
	m_tty+=("$tty") m_start+=("$start") m_first+=("$first") m_total+=("$total")
	[ "$first" != - ] || run_failed vm_intel_boot.sh "$i" "ran no test" "$tmp/err$i"
done

summary 'vm_intel: to first ttyS1 line:' '' "${m_tty[@]}"
summary 'vm_intel: to runner start:    ' '' "${m_start[@]}"
summary 'vm_intel: to first test:      ' ' (target 180s)' "${m_first[@]}"
summary 'vm_intel: whole selection:    ' '' "${m_total[@]}"
