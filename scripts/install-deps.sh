#!/usr/bin/env bash
# Install what kvmtest needs from Debian's archive (run as root).
#
#   scripts/install-deps.sh              build and run on this host
#   scripts/install-deps.sh --vm         also the emulated AMD (QEMU) and
#                                        Intel (Bochs) VM lanes
#   scripts/install-deps.sh --kernel-src also what building a lane kernel
#                                        needs (scripts/vm/build-kernel.sh),
#                                        and Debian's linux-source-6.12
#                                        unpacked into the kernel cache
#                                        (its path is printed last)
#
# --kernel-src unpacks into $KVMTEST_SRC_CACHE, default /var/cache/kvmtest/src
# (root) or ${XDG_CACHE_HOME:-~/.cache}/kvmtest/src; an unpacked tree that
# matches the tarball is kept.
set -euo pipefail

base=(gcc make libc6-dev libnuma-dev libcap-dev python3)
vm=(qemu-system-x86 linux-image-6.12-amd64 busybox-static bash-static
    cpio xz-utils zstd bochs bochsbios vgabios isolinux syslinux-common
    xorriso)
kbuild=(bc bison flex libelf-dev libssl-dev dwarves cpio xz-utils patch
	linux-source-6.12)

kernel_src=0
case "${1:-}" in
"") wanted=("${base[@]}") ;;
--vm) wanted=("${base[@]}" "${vm[@]}") ;;
--kernel-src) wanted=("${base[@]}" "${vm[@]}" "${kbuild[@]}") kernel_src=1 ;;
*) echo "install-deps.sh: unknown option '$1' (use --vm, --kernel-src or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	if ((EUID != 0)); then
		echo "install-deps.sh: need root to install: ${missing[*]} (try: sudo $0 $*)" >&2
		exit 1
	fi
	echo "install-deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
((kernel_src)) || exit 0

# --- the kernel tree --------------------------------------------------------
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "install-deps.sh: linux-source-6.12 installed no /usr/src/linux-source-6.12.tar.*" >&2; exit 1; }
if ((EUID == 0)); then dflt=/var/cache/kvmtest/src; else dflt=${XDG_CACHE_HOME:-$HOME/.cache}/kvmtest/src; fi
dest=${KVMTEST_SRC_CACHE:-$dflt}
tree=$dest/linux-source-6.12
# The tarball's size and mtime say which one the tree was unpacked from.
stamp="$(stat -c '%s %Y' "$tarball") $tarball"
if [ -f "$tree/Makefile" ] && [ "$(cat "$dest/.linux-source-6.12.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "install-deps.sh: $tree is unpacked already"
else
	echo "install-deps.sh: unpacking $tarball into $dest"
	mkdir -p "$dest"
	rm -rf "$tree" "$dest/.linux-source-6.12.stamp"
	tar -C "$dest" -xaf "$tarball"
	echo "$stamp" >"$dest/.linux-source-6.12.stamp"
fi
echo "$tree"
