#!/bin/bash
# Build only KVM (kvm.ko, kvm-amd.ko, kvm-intel.ko) from a kernel tree,
# against an installed distro kernel's headers, and lay out a modules tree
# the lane boots with that distro kernel:
#
#   scripts/vm/build-kvm-modules.sh KSRC [--kver VERSION] [-o CACHE]
#                                   [--share-with TREE] [-q]
#   ./run_tests.sh --vm --kernel /boot/vmlinuz-VERSION --modules DIR
#
# The fast way to test a change under arch/x86/kvm or virt/kvm when KSRC is
# the source of the distro kernel (Debian's linux-source-6.12 for
# linux-image-6.12.*): some 45 files instead of a whole kernel, and a
# changed file rebuilds one object and relinks a module. Changes outside
# those two directories, or config options the distro kernel lacks, need a
# whole lane kernel (build-kernel.sh).
#
# KVM_SRC's arch/x86/kvm and virt/kvm are copied (file by file, only what
# differs) to CACHE/kmod/<tree>-<version>/, built there as an external
# module (make M=), so KSRC is only read. --share-with TREE builds in TREE's
# directory instead (regress.sh: a patched copy rebuilds only what its
# patch changed). VERSION defaults to the newest
# /boot/vmlinuz-*; its headers are /lib/modules/VERSION/build
# (apt-get install linux-headers-VERSION).
#
# stdout: one line, the modules tree (DIR/lib/modules/VERSION): the distro's
# modules.dep with kvm, kvm-amd and kvm-intel pointing at the new modules,
# the other modules they need (irqbypass, ccp) from the distro's tree.
# Exit: 0 built, 1 the build failed, 2 bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ksrc= kver= cache= quiet=0 share= jobs=${KVMTEST_BUILD_JOBS:-2}
bad() { echo "build-kvm-modules.sh: $*" >&2; exit 2; }
say() { [ $quiet = 1 ] || echo "# kvm modules: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kver) [ $# -ge 2 ] || bad "--kver needs a version"; kver=$2; shift ;;
	-o) [ $# -ge 2 ] || bad "-o needs a directory"; cache=$2; shift ;;
	--share-with) [ $# -ge 2 ] || bad "--share-with needs a tree"; share=$2; shift ;;
	-q) quiet=1 ;;
	-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) bad "unknown option '$1'; see --help" ;;
	*) [ -z "$ksrc" ] || bad "one kernel tree only"; ksrc=$1 ;;
	esac
	shift
done
[ -n "$ksrc" ] || bad "usage: build-kvm-modules.sh KSRC [--kver VERSION] [-o CACHE]"
[ -f "$ksrc/arch/x86/kvm/Makefile" ] && [ -f "$ksrc/virt/kvm/Makefile.kvm" ] ||
	bad "'$ksrc' is not a Linux tree with x86 KVM (arch/x86/kvm, virt/kvm/Makefile.kvm)"
ksrc=$(cd "$ksrc" && pwd -P)
if [ -z "$kver" ]; then
	kver=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
	kver=${kver##*/vmlinuz-}
	[ -n "$kver" ] || bad "no /boot/vmlinuz-*: pass --kver VERSION"
fi
stock=/lib/modules/$kver
[ -d "$stock/build" ] || bad "no headers for $kver ($stock/build); apt-get install linux-headers-$kver"
[ -r "$stock/modules.dep" ] || bad "no $stock/modules.dep"

: "${cache:=${KVMTEST_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmtest/kernels}}"
keytree=$ksrc
[ -n "$share" ] && keytree=$(cd "$share" && pwd -P)
work=$cache/kmod/$(basename "$keytree")-$(printf '%s' "$keytree" | sha1sum | cut -c1-12)-$kver
mkdir -p "$work/src" || bad "cannot create '$work'"
# One build per directory at a time.
exec 9>"$work/.lock"
flock 9

# Bring the copy in step with KSRC: a file that differs is copied (new
# mtime, so make rebuilds what uses it); the rest keep theirs.
sync_dir() {
	local rel=$1 f
	(cd "$ksrc" && find "$rel" -type f) | while IFS= read -r f; do
		[ "$f" = arch/x86/kvm/Makefile ] && continue
		cmp -s "$ksrc/$f" "$work/src/$f" && continue
		mkdir -p "$work/src/${f%/*}"
		cp "$ksrc/$f" "$work/src/$f"
	done
}
sync_dir arch/x86/kvm
sync_dir virt/kvm
# The in-tree Makefile finds virt/kvm and KVM's headers through $(srctree),
# the headers package here: point both at the copy (trace.h's include path
# "../../arch/x86/kvm" is resolved from virt/kvm).
sed -e 's#^include $(srctree)/virt/kvm/Makefile.kvm#include $(src)/../../../virt/kvm/Makefile.kvm#' \
	-e 's#^ccflags-y += -I $(srctree)/arch/x86/kvm#ccflags-y += -I $(src) -I $(src)/../../../virt/kvm#' \
	"$ksrc/arch/x86/kvm/Makefile" >"$work/Makefile.new"
# KVM_SW_PROTECTED_VM (asked for by the repo's config; the private-memory
# tests need it) is a KVM-only switch, read by IS_ENABLED() in x86.c and
# mmu.c: a distro kernel without it gets it in these modules.
if grep -qx 'CONFIG_KVM_SW_PROTECTED_VM=y' "$here/../../config" &&
	! grep -qx 'CONFIG_KVM_SW_PROTECTED_VM=y' "$stock/build/.config"; then
	echo 'ccflags-y += -DCONFIG_KVM_SW_PROTECTED_VM=1' >>"$work/Makefile.new"
	say "$kver lacks KVM_SW_PROTECTED_VM: on in these modules"
fi
cmp -s "$work/Makefile.new" "$work/src/arch/x86/kvm/Makefile" ||
	mv "$work/Makefile.new" "$work/src/arch/x86/kvm/Makefile"
rm -f "$work/Makefile.new"

t0=$SECONDS
say "building kvm, kvm-amd, kvm-intel from $ksrc for $kver (make -j$jobs, nice 10); log: $work/build.log"
if ! nice -n 10 make -C "$stock/build" M="$work/src/arch/x86/kvm" -j"$jobs" modules >"$work/build.log" 2>&1; then
	echo "build-kvm-modules.sh: the build failed after $((SECONDS - t0))s:" >&2
	grep -E 'error:|Error [0-9]' "$work/build.log" | head -n 15 >&2
	exit 1
fi
say "built in $((SECONDS - t0))s"

# The modules tree: the distro's modules.dep with our three modules named
# uncompressed, our .ko files, the distro's files for the rest.
tree=$work/lib/modules/$kver
rm -rf "$tree"
mkdir -p "$tree"
sed -E 's#kernel/arch/x86/kvm/(kvm|kvm-amd|kvm-intel)\.ko(\.[a-z]+)?#kernel/arch/x86/kvm/\1.ko#g' \
	"$stock/modules.dep" >"$tree/modules.dep"
for dep in $(grep -E '^kernel/arch/x86/kvm/kvm(-amd|-intel)?\.ko' "$tree/modules.dep" | tr -d ':' | tr ' ' '\n' | sort -u); do
	mkdir -p "$tree/${dep%/*}"
	case $dep in
	kernel/arch/x86/kvm/*) cp "$work/src/arch/x86/kvm/${dep##*/}" "$tree/$dep" ;;
	*) ln -sf "$stock/$dep" "$tree/$dep" ;;
	esac
done
# What these modules are, for the lane's records (vm.txt, summary.txt).
src_hash=$(cd "$work/src" && find . -type f -name '*.[ch]' | LC_ALL=C sort | xargs cat | sha1sum | cut -c1-12)
echo "kvm, kvm-amd, kvm-intel from $ksrc (arch/x86/kvm + virt/kvm sources sha1 $src_hash) for $kver" >"$tree/kvmtest-source.txt"
echo "$tree"
