#!/bin/bash
# Build a kernel tree's own KVM selftests (tools/testing/selftests/kvm) as
# static binaries and write a test list for them, so kvmtest's runner and
# lanes run them with our timeouts, TAP, JUnit, expectations and
# kernel-log watch:
#
#   scripts/intree.sh [--out DIR] [-j N] KSRC
#   ./run_tests.sh --vm --list DIR/intree.list --bin-dir DIR/kvm
#   ./run_tests.sh --vm --list tests.list --list DIR/intree.list --bin-dir DIR/kvm
#
# Out of tree: the headers go to DIR/kbuild (make O= headers), the selftests to
# DIR/kvm (OUTPUT=), so KSRC is only read. A tree that is not clean (it has
# a .config or built objects) refuses O=: then the script builds from a
# copy of what it needs under DIR/src.
#
# The list: one entry per program the selftests Makefile names for x86
# (TEST_GEN_PROGS_x86_64, or TEST_GEN_PROGS_x86 from 6.14 on), named after
# the program, with the selftests' own timeout (their 'settings' file, 120 s
# in 6.12), groups 'intree' plus the area the name tells (nested, svm, vmx,
# hyperv, xen, sev, pmu, memslot, ...), and arguments where the defaults do
# not fit an emulated host (see ARGS below).
#
# Exit: 0 built and listed; 1 the build failed (its log is named); 2 bad input.
set -uo pipefail

out= jobs=2 ksrc=
die() { echo "intree.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift ;;
	--out=*) out=${1#--out=} ;;
	-j) [ $# -ge 2 ] || die "-j needs a number"; jobs=$2; shift ;;
	-j*) jobs=${1#-j} ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) [ -z "$ksrc" ] || die "one kernel tree only, not '$ksrc' and '$1'"; ksrc=$1 ;;
	esac
	shift
done
[ -n "$ksrc" ] || die "usage: scripts/intree.sh [--out DIR] [-j N] KSRC (a kernel source tree)"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j takes a number of jobs, not '$jobs'"
ksrc=$(cd "$ksrc" 2>/dev/null && pwd) || die "'$ksrc' is not a directory"
kvmdir=$ksrc/tools/testing/selftests/kvm
[ -f "$ksrc/Makefile" ] && [ -f "$kvmdir/Makefile" ] ||
	die "'$ksrc' has no tools/testing/selftests/kvm/Makefile: pass the top of a kernel source tree"
kver=$(make -s -C "$ksrc" kernelversion 2>/dev/null) || kver=unknown
: "${out:=/var/tmp/kvmtest-intree-$kver}"
mkdir -p "$out" || die "cannot create '$out'"
out=$(cd "$out" && pwd)
log=$out/build.log
: >"$log"

say() { echo "intree.sh: $*" >&2; }
fail() { say "$1; see $log"; tail -n 15 "$log" >&2; exit 1; }

# Headers: out of tree when the source allows it.
src=$ksrc
if [ -e "$ksrc/.config" ] || [ -e "$ksrc/include/config" ] || [ -e "$ksrc/usr/include/linux" ]; then
	say "$ksrc is not clean (it was configured or built there): building from a copy in $out/src"
	mkdir -p "$out/src"
	# What headers_install and the selftests read: the top Makefile,
	# scripts, the uAPI and the tools tree.
	(cd "$ksrc" && tar -cf - --exclude='*.o' --exclude='.*.cmd' Makefile Kbuild Kconfig scripts include \
		arch/x86 tools usr 2>/dev/null) | (cd "$out/src" && tar -xf -) || fail "copying $ksrc failed"
	src=$out/src
	kvmdir=$src/tools/testing/selftests/kvm
fi
# 'make headers' leaves the exported uAPI in O/usr/include already;
# headers_install only copies it again (with rsync, which not every box has).
say "exporting the uAPI headers ($kver) into $out/kbuild/usr/include"
nice -n 10 make -s -C "$src" O="$out/kbuild" ARCH=x86 headers >>"$log" 2>&1 ||
	fail "make headers failed"
say "building the KVM selftests static into $out/kvm (-j$jobs)"
mkdir -p "$out/kvm"
nice -n 10 make -s -C "$kvmdir" -j"$jobs" ARCH=x86 OUTPUT="$out/kvm" \
	KHDR_INCLUDES="-isystem $out/kbuild/usr/include" USERLDFLAGS=-static >>"$log" 2>&1 ||
	fail "the selftests build failed"

# --- the list -----------------------------------------------------------------
timeout=120
if [ -r "$kvmdir/settings" ]; then
	t=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$kvmdir/settings")
	[ -n "$t" ] && timeout=$t
fi

# Arguments where a program's defaults do not fit a 2 GiB, 2-CPU emulated
# host. (dirty_log_test has no memory option: its 1 GiB is fixed, so the
# lanes' expectation files skip it.)
declare -A ARGS=(
	[max_guest_memory_test]="-m 4 -s 1"
	# Their default 1 GiB does not fit beside the rest in a 2 GiB lane
	# (kvm_page_table_test was OOM-killed) or takes most of 120 s.
	[kvm_page_table_test]="-b 256M"
	[dirty_log_perf_test]="-b 256M"
	# Ten tests of 5 s each, every one with up to 32k memslots: a slot
	# cap and 1 s per test fit the timeout.
	[memslot_perf_test]="-s 512 -l 1"
)

groups_of() {
	local n=$1 g=intree,x86
	case $n in
	svm_*) g+=,nested,svm ;;
	vmx_*) g+=,nested,vmx ;;
	nested_*) g+=,nested,svm,vmx ;;
	hyperv_svm*) g+=,hyperv,nested,svm ;;
	hyperv_evmcs*) g+=,hyperv,nested,vmx ;;
	hyperv_*) g+=,hyperv ;;
	xen_*) g+=,xen ;;
	sev_*) g+=,sev ;;
	pmu_* | *_pmu_*) g+=,pmu ;;
	*dirty_log* | *memslot* | set_memory_region* | demand_paging* | max_guest_memory* | kvm_page_table* | access_tracking* | pre_fault* | guest_memfd* | private_mem*)
		g+=,memslot ;;
	esac
	case $n in *perf* | *stress* | max_guest_memory* | hardware_disable*) g+=,slow ;; esac
	echo "$g"
}

list=$out/intree.list
n=0
{
	echo "# The KVM selftests of $ksrc ($kver), built by scripts/intree.sh."
	echo "# Run: ./run_tests.sh --list $list --bin-dir $out/kvm"
	echo "#   name  binary  timeout  groups  [args...]"
	sed -n 's/^TEST_GEN_PROGS_x86\(_64\)\{0,1\}[[:space:]]*+=[[:space:]]*\([^[:space:]]*\).*/\2/p' \
		"$kvmdir"/Makefile "$kvmdir"/Makefile.kvm 2>/dev/null | awk '!seen[$0]++' |
		while read -r prog; do
			[ -x "$out/kvm/$prog" ] || continue
			name=${prog##*/}
			printf '%-40s %-52s %4s  %s%s\n' "$name" "$prog" "$timeout" "$(groups_of "$name")" \
				"${ARGS[$name]:+  ${ARGS[$name]}}"
		done
} >"$list"
n=$(grep -vc '^#' "$list")
[ "$n" -gt 0 ] || fail "no x86 program of the selftests was built"
# Not static means it cannot run in the lanes' initramfs.
dyn=0
for f in $(awk '!/^#/ { print $2 }' "$list"); do
	ldd "$out/kvm/$f" >/dev/null 2>&1 && dyn=$((dyn + 1))
done
[ $dyn = 0 ] || say "warning: $dyn of the binaries are not static; they will not run in the VM lanes"
say "$n programs listed in $list"
echo "$list"
