#!/usr/bin/env bash
# Install what kvmtest needs from Debian's archive (run as root).
#
#   scripts/install-deps.sh          build and run on this host
#   scripts/install-deps.sh --vm     also the emulated AMD (QEMU) and
#                                    Intel (Bochs) VM lanes
set -euo pipefail

base=(gcc make libc6-dev libnuma-dev libcap-dev python3)
vm=(qemu-system-x86 linux-image-6.12-amd64 busybox-static bash-static
    cpio xz-utils zstd bochs bochsbios vgabios isolinux syslinux-common
    xorriso)

case "${1:-}" in
"") wanted=("${base[@]}") ;;
--vm) wanted=("${base[@]}" "${vm[@]}") ;;
*) echo "install-deps.sh: unknown option '$1' (use --vm or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
((${#missing[@]})) || exit 0
if ((EUID != 0)); then
	echo "install-deps.sh: need root to install: ${missing[*]} (try: sudo $0 $*)" >&2
	exit 1
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
