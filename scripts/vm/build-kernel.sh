#!/bin/bash
# Build a lane kernel (bzImage, KVM built in) from a kernel source tree.
#
#   scripts/vm/build-kernel.sh KSRC [--debug] [-o CACHE] [-j N] [-q]
#
# KSRC is any x86 kernel tree: a git checkout or an unpacked tarball such as
# Debian's linux-source-6.12 (scripts/install-deps.sh --kernel-src). The
# build is out of tree (make O=...): KSRC is only read. The config is
# allnoconfig + scripts/vm/kconfig/lane.config (what the emulated guest
# needs) + the repo's `config` (what the suite needs) [+ debug.config]
# [+ tdx.config where the tree has KVM's TDX code]; every requested line is
# checked against the final .config.
#
# Cache (CACHE, default $KVMTEST_KERNEL_CACHE or
# ${XDG_CACHE_HOME:-~/.cache}/kvmtest/kernels):
#   obj/<tree>-<path hash>[-debug]/   the O= directory, one per tree path and
#                                     flavour: a changed tree rebuilds only
#                                     what changed
#   img/<tree id>-<config hash>/      bzImage, config, info.txt: a tree and
#                                     config built before come back at once
#
# stdout: one line, the bzImage's path. Its directory's info.txt names the
# source identity and config hash (the lane copies it into its results).
# Exit: 0 built or cached, 1 the build failed or a config line did not land,
# 2 bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kconfig_dir=$here/kconfig

ksrc= debug=0 cache= jobs=${KVMTEST_BUILD_JOBS:-2} quiet=0

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
}
bad() { echo "build-kernel.sh: $*" >&2; exit 2; }
say() { [ $quiet = 1 ] || echo "# kernel: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--debug) debug=1 ;;
	-o|--cache) [ $# -ge 2 ] || bad "$1 needs a directory"; cache=$2; shift ;;
	-o=*|--cache=*) cache=${1#*=} ;;
	-j) [ $# -ge 2 ] || bad "-j needs a number"; jobs=$2; shift ;;
	-j*) jobs=${1#-j} ;;
	-q) quiet=1 ;;
	-h|--help) usage; exit 0 ;;
	-*) bad "unknown option '$1'; see --help" ;;
	*) [ -z "$ksrc" ] || bad "one kernel tree only ('$ksrc' and '$1')"; ksrc=$1 ;;
	esac
	shift
done
[ -n "$ksrc" ] || bad "which kernel tree? usage: build-kernel.sh KSRC [--debug] [-o CACHE]"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || bad "-j takes a number, not '$jobs'"
[ -d "$ksrc" ] || bad "'$ksrc' is not a directory; pass a kernel source tree (scripts/install-deps.sh --kernel-src unpacks one)"
ksrc=$(cd "$ksrc" && pwd -P)
[ -f "$ksrc/Makefile" ] && [ -f "$ksrc/arch/x86/kvm/Kconfig" ] ||
	bad "'$ksrc' is not a Linux source tree with x86 KVM (no arch/x86/kvm/Kconfig)"
if [ -f "$ksrc/.config" ] || [ -d "$ksrc/include/config" ]; then
	bad "'$ksrc' holds an in-tree build (.config); kbuild refuses O= builds from it: run 'make mrproper' there (it deletes that build)"
fi
for tool in make gcc flex bison bc; do
	command -v $tool >/dev/null || bad "$tool not found; scripts/install-deps.sh --kernel-src installs what a kernel build needs"
done
[ -e /usr/include/libelf.h ] || bad "libelf.h not found; apt-get install libelf-dev (scripts/install-deps.sh --kernel-src)"

: "${cache:=${KVMTEST_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmtest/kernels}}"
mkdir -p "$cache/obj" "$cache/img" || bad "cannot create the cache '$cache'; pass -o DIR"
cache=$(cd "$cache" && pwd -P)

sha() { sha1sum | cut -c1-12; }

# --- config -----------------------------------------------------------------
frags=("$kconfig_dir/lane.config" "$repo/config")
[ $debug = 1 ] && frags+=("$kconfig_dir/debug.config")
tdx=0
if grep -q '^config KVM_INTEL_TDX$' "$ksrc/arch/x86/kvm/Kconfig"; then
	frags+=("$kconfig_dir/tdx.config")
	tdx=1
fi
cfg_hash=$(cat "${frags[@]}" | sha)

# --- tree identity ----------------------------------------------------------
# git: describe + a hash of what differs from HEAD (tracked and untracked).
# Otherwise: kernel version + a hash of every file's path, size and mtime
# (a tarball's mtimes are its own, so an unpacked tarball keeps its id).
if git -C "$ksrc" rev-parse --show-toplevel >/dev/null 2>&1 &&
	[ "$(git -C "$ksrc" rev-parse --show-toplevel)" = "$ksrc" ]; then
	desc=$(git -C "$ksrc" describe --always --abbrev=12 --tags 2>/dev/null)
	head=$(git -C "$ksrc" rev-parse HEAD)
	dirty=$({
		git -C "$ksrc" diff HEAD --binary
		git -C "$ksrc" ls-files -o --exclude-standard -z |
			(cd "$ksrc" && xargs -0 -r sha1sum)
	} | sha)
	if git -C "$ksrc" diff HEAD --quiet && [ -z "$(git -C "$ksrc" ls-files -o --exclude-standard | head -n 1)" ]; then
		tree_id="git:$desc ($head)"
		tree_key=$desc
	else
		tree_id="git:$desc-dirty ($head, changes $dirty)"
		tree_key=$desc-dirty-$dirty
	fi
else
	version=$(make -s -C "$ksrc" kernelversion 2>/dev/null) || version=unknown
	meta=$(cd "$ksrc" && find . -path ./.git -prune -o -type f -printf '%P %s %T@\n' | LC_ALL=C sort | sha)
	tree_id="tree:$version ($ksrc, files $meta)"
	tree_key=$version-$meta
fi
tree_key=${tree_key//[^A-Za-z0-9._-]/_}
flav=
[ $debug = 1 ] && flav=-debug
img=$cache/img/$tree_key-$cfg_hash$flav
obj=$cache/obj/$(basename "$ksrc")-$(printf '%s' "$ksrc" | sha)$flav

if [ -s "$img/bzImage" ] && [ -s "$img/info.txt" ]; then
	say "cached: $tree_id, config $cfg_hash$flav"
	echo "$img/bzImage"
	exit 0
fi

mkdir -p "$obj" || bad "cannot create '$obj'"
# One build per O= directory at a time.
exec 9>"$obj/.kvmtest.lock"
if ! flock -n 9; then
	say "waiting for another build in $obj"
	flock 9
	if [ -s "$img/bzImage" ]; then echo "$img/bzImage"; exit 0; fi
fi

kmake() { nice -n 10 make -C "$ksrc" O="$obj" ARCH=x86_64 "$@"; }

say "tree $tree_id"
say "config $cfg_hash$flav: allnoconfig + ${frags[*]##*/}; objects in $obj"
if [ "$(cat "$obj/.kvmtest.cfghash" 2>/dev/null)" != "$cfg_hash" ] || [ ! -s "$obj/.config" ]; then
	cat "${frags[@]}" >"$obj/kvmtest.fragment"
	if ! err=$(kmake -s KCONFIG_ALLCONFIG="$obj/kvmtest.fragment" allnoconfig 2>&1); then
		printf '%s\n' "$err" | grep -v 'override: reassigning' >&2
		echo "build-kernel.sh: configuring failed (make allnoconfig above)" >&2
		exit 1
	fi
	echo "$cfg_hash" >"$obj/.kvmtest.cfghash"
fi

# Why a requested symbol did not land: absent from the tree, or the
# 'depends on' lines of its Kconfig entry.
why_not() {
	local sym=$1 where
	where=$(grep -rlE --include='Kconfig*' "^[[:space:]]*(menu)?config $sym\$" "$ksrc/arch/x86" "$ksrc/arch/Kconfig" \
		"$ksrc/init" "$ksrc/kernel" "$ksrc/mm" "$ksrc/lib" "$ksrc/drivers" "$ksrc/fs" \
		"$ksrc/virt" "$ksrc/crypto" "$ksrc/security" 2>/dev/null | head -n 1)
	if [ -z "$where" ]; then
		echo "absent"
		return
	fi
	awk -v s="$sym" '
		$0 ~ "^[[:space:]]*(menu)?config " s "$" { on = 1; next }
		on && /^[[:space:]]*(menu)?config |^(if|endif|menu|endmenu|source|choice)/ { exit }
		on && /^[[:space:]]*depends on/ { sub(/^[[:space:]]*/, ""); printf "%s%s", sep, $0; sep = "; " }
	' "$where"
	echo " (${where#"$ksrc"/})"
}

# Every line of every fragment must be in the final .config (a later
# fragment may override an earlier one: only the last request counts).
check_landed() {
	local line sym want got reason bad_lines=0 absent=()
	declare -A last=() origin=()
	local f
	for f in "${frags[@]}"; do
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*) sym=${line%%=*}; last[$sym]=$line; origin[$sym]=${f#"$repo"/} ;;
			'# CONFIG_'*' is not set') sym=${line#\# }; sym=${sym%% *}; last[$sym]=$line; origin[$sym]=${f#"$repo"/} ;;
			esac
		done <"$f"
	done
	for sym in "${!last[@]}"; do
		want=${last[$sym]}
		grep -qxF -- "$want" "$obj/.config" && continue
		got=$(grep -E "^($sym=|# $sym is not set)" "$obj/.config")
		[ -z "$got" ] && [[ $want == '# '* ]] && continue
		reason=$(why_not "${sym#CONFIG_}")
		if [ "$reason" = absent ]; then
			absent+=("${sym#CONFIG_}")
			continue
		fi
		echo "build-kernel.sh: ${origin[$sym]}: '$want' did not land (final: ${got:-unset}); ${sym#CONFIG_} ${reason:+needs: $reason}" >&2
		bad_lines=$((bad_lines + 1))
	done
	[ ${#absent[@]} -gt 0 ] && say "not in this tree (skipped): ${absent[*]}"
	[ $tdx = 0 ] && say "tree has no KVM_INTEL_TDX: TDX host options left out (tdx.config)"
	return $bad_lines
}
if ! check_landed; then
	echo "build-kernel.sh: config lines did not land (above); fix the fragment or the tree" >&2
	exit 1
fi
grep -qx 'CONFIG_KVM_SW_PROTECTED_VM=y' "$obj/.config" ||
	say "warning: CONFIG_KVM_SW_PROTECTED_VM is not set: private-memory tests will skip"

# --- build ------------------------------------------------------------------
# Progress: one status line on a terminal, a line per 250 steps otherwise;
# the whole log in $obj/build.log.
progress() {
	local line n=0 tty=0
	[ -t 2 ] && [ $quiet = 0 ] && tty=1
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$obj/build.log"
		case $line in
		'  '[A-Z]*) n=$((n + 1))
			if [ $tty = 1 ]; then
				printf '\r\033[K# kernel: %5d %.70s' $n "${line#  }" >&2
			elif [ $quiet = 0 ] && [ $((n % 250)) = 0 ]; then
				echo "# kernel: $n steps, at ${line#  }" >&2
			fi ;;
		esac
	done
	[ $tty = 1 ] && printf '\r\033[K' >&2
	return 0
}
: >"$obj/build.log"
t0=$SECONDS
say "building bzImage with make -j$jobs (nice 10); log: $obj/build.log"
kmake -j"$jobs" bzImage 2>&1 | progress
rc=${PIPESTATUS[0]}
secs=$((SECONDS - t0))
if [ "$rc" != 0 ]; then
	echo "build-kernel.sh: the kernel build failed after ${secs}s; the errors:" >&2
	grep -E 'error:|Error [0-9]|undefined reference' "$obj/build.log" | head -n 15 >&2
	echo "build-kernel.sh: full log: $obj/build.log" >&2
	exit 1
fi

tmp=$img.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$obj/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$obj/.config" "$tmp/config"
{
	echo "source: $tree_id"
	echo "config: $cfg_hash$flav (allnoconfig + ${frags[*]##*/})"
	echo "release: $(kmake -s kernelrelease 2>/dev/null)"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${secs}s, make -j$jobs"
	echo "modules: none (KVM built in)"
} >"$tmp/info.txt"
rm -rf "$img"
mv "$tmp" "$img"
say "built in $((secs / 60))m$((secs % 60))s: $img/bzImage"
echo "$img/bzImage"
