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
runs=1
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) [ $# -ge 2 ] || { echo "vm_intel_boot.sh: --runs needs a value" >&2; exit 2; }
		runs=$2; shift ;;
	--runs=*) runs=${1#--runs=} ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) args+=("$1") ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "vm_intel_boot.sh: --runs takes a positive number" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-bench-intel.XXXXXX")
lpid=
cleanup() {
	# The lane kills its own backend and Bochs on TERM.
	[ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Milliseconds since $1 (an EPOCHREALTIME value).
ms_since() {
	local now=${EPOCHREALTIME/./} then=${1/./}
	echo $(((now - then) / 1000))
}
fmt() { [ "$1" = - ] && echo - || printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

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
	if [ "$first" = - ]; then
		echo "vm_intel_boot.sh: run $i ran no test; its stderr:" >&2
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
read -r b m < <(stats "${m_tty[@]}")
echo "vm_intel: to first ttyS1 line: best $(fmt "$b")s, median $(fmt "$m")s"
read -r b m < <(stats "${m_start[@]}")
echo "vm_intel: to runner start:     best $(fmt "$b")s, median $(fmt "$m")s"
read -r b m < <(stats "${m_first[@]}")
echo "vm_intel: to first test:       best $(fmt "$b")s, median $(fmt "$m")s (target 180s)"
read -r b m < <(stats "${m_total[@]}")
echo "vm_intel: whole selection:     best $(fmt "$b")s, median $(fmt "$m")s"
