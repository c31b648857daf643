#!/usr/bin/env bash
# Run the library's benchmarks and print their figures (`make bench`).
#
#   bench/run.sh [BUILD_DIR]        (default: build)
#
# Builds nothing: `make bench` builds first. vm_lifecycle needs /dev/kvm
# and is reported as skipped without it; mmu_map runs its fake-VM half
# anyway. Exits non-zero if a benchmark fails to run (not when a target
# is missed: the figures are for people, and noisy on shared machines).
set -u

build=${1:-build}
rc=0

run() {
	local bin=$build/bench/$1 status
	shift
	echo "== $(basename "$bin") $*"
	if [[ ! -x $bin ]]; then
		echo "bench/run.sh: $bin not built (run make bench)" >&2
		rc=1
		return
	fi
	"$bin" "$@"
	status=$?
	case $status in
	0) ;;
	4) echo "(skipped: no usable /dev/kvm)" ;;
	*) echo "bench/run.sh: $bin exited with status $status" >&2; rc=1 ;;
	esac
	echo
}

kvm_module=none
for m in kvm_intel kvm_amd kvm_pvm; do
	[[ -d /sys/module/$m ]] && kvm_module=$m
done
echo "kvmtest benchmarks on $(uname -r), $(nproc) CPUs, KVM module: $kvm_module," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
run vm_lifecycle --breakdown
run mmu_map

# The runner's own cost per test, and -j2 against -j1 on the real suite.
echo "== runner_overhead.sh --real"
bash "$(dirname "$0")/runner_overhead.sh" --real || rc=1
echo
echo "VM lanes (slow, run by hand): bench/vm_lane.sh, bench/vm_intel_boot.sh"
exit $rc
