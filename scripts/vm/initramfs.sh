#!/bin/bash
# Build the initramfs of the kvmtest VM lanes (every flavour uses it).
#
#   initramfs.sh --out FILE [--modules DIR|none] [--repo DIR]
#                [--list FILE [--bin-dir DIR]]... [--runner FILE]
#                [--file HOST:GUEST]... [--args-file FILE]
#                [--cache DIR] [--compress none|gzip]
#
# --list may repeat, each followed by the --bin-dir of its binaries (a
# --bin-dir before any --list: for every list without its own; default
# build/): list 1 goes in as /kvmtest/tests.list with its binaries under
# /kvmtest/build, list N>1 as /kvmtest/tests-N.list and /kvmtest/build-N;
# /kvmtest/args starts with the matching --list/--bin-dir pairs.
#
# Uncompressed by default: measured here, TCG decompressing gzip in the
# guest costs more (about 2 s for 55 MB of test binaries) than QEMU copying
# the larger file into guest memory.
#
# The result is three cpio (newc) archives concatenated, which the kernel
# unpacks one after the other:
#   base     /init, static busybox, bash-static              (cached)
#   modules  kvm-amd and kvm-intel with their dependencies,  (cached per
#            decompressed, plus /lib/kvmtest/<flavour>.order  modules tree)
#   payload  /kvmtest: run_tests.sh and scripts/runner/,     (rebuilt each
#            the lists, expect/, the binaries the lists name,  time, small)
#            args
# Both module sets go in, so the same file boots either flavour: the kernel
# command line (kvmtest.flavour=amd|intel) tells /init which set to load.
#
# Exit: 0 built; 2 bad input (message on stderr, first line says what).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out= modules=none bin_dir= args_file= cache= compress=none runner=
extra=() lists=() list_bins=()

die() { echo "initramfs.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift ;;
	--modules) modules=$2; shift ;;
	--repo) repo=$2; shift ;;
	--bin-dir)
		if [ ${#lists[@]} -gt 0 ]; then list_bins[${#lists[@]} - 1]=$2; else bin_dir=$2; fi
		shift ;;
	--list) lists+=("$2"); list_bins+=(""); shift ;;
	--runner) runner=$2; shift ;;
	--file) extra+=("$2"); shift ;;
	--args-file) args_file=$2; shift ;;
	--cache) cache=$2; shift ;;
	--compress) compress=$2; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done
[ -n "$out" ] || die "--out FILE is required"
: "${bin_dir:=$repo/build}" "${cache:=$repo/build/vm-cache}"
[ ${#lists[@]} -gt 0 ] || lists=("$repo/tests.list") list_bins=("")
case $compress in gzip|none) ;; *) die "--compress gzip|none" ;; esac

busybox=$(command -v busybox || true)
bash_static=$(command -v bash-static || true)
[ -n "$busybox" ] || die "busybox not found; apt-get install busybox-static"
# A dynamically linked busybox cannot run in an initramfs without libc.
# (ldd fails on a static binary.)
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is not static; apt-get install busybox-static"
fi
[ -n "$bash_static" ] || die "bash-static not found; apt-get install bash-static"
command -v cpio >/dev/null || die "cpio not found; apt-get install cpio"

mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Pack directory $1 into the cpio $2 (compressed as asked). Sorted names and
# root ownership keep the output stable for identical input.
pack() {
	local dir=$1 dest=$2
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible) >"$dest.$$.raw"
	# Temporary names carry our PID and the final rename is atomic, so
	# concurrent lanes sharing the cache never see a half-written layer.
	if [ "$compress" = gzip ]; then
		gzip -n -1 <"$dest.$$.raw" >"$dest.$$.tmp"
		rm -f "$dest.$$.raw"
	else
		mv "$dest.$$.raw" "$dest.$$.tmp"
	fi
	mv "$dest.$$.tmp" "$dest"
}

# A short key from the identity of the inputs (path, size, mtime), so a
# cached layer is rebuilt exactly when one of them changes.
key_of() {
	{ echo "$compress"; stat -L -c '%n %s %Y' "$@"; } | sha256sum | cut -c1-16
}

# --- base layer -------------------------------------------------------------
base_key=$(key_of "$here/init" "$here/initramfs.sh" "$busybox" "$bash_static")
base=$cache/base-$base_key.cpio
if [ ! -s "$base" ]; then
	d=$work/base
	mkdir -p "$d/bin" "$d/sbin" "$d/usr/bin" "$d/usr/sbin" "$d/dev" "$d/proc" \
		"$d/sys" "$d/tmp" "$d/run" "$d/root" "$d/etc" "$d/lib/kvmtest"
	cp "$busybox" "$d/bin/busybox"
	cp "$bash_static" "$d/bin/bash-static"
	ln -s bash-static "$d/bin/bash"
	ln -s busybox "$d/bin/sh"
	install -m 0755 "$here/init" "$d/init"
	echo "root:x:0:0:root:/root:/bin/sh" >"$d/etc/passwd"
	echo "root:x:0:" >"$d/etc/group"
	pack "$d" "$base"
	# Drop older base layers (not the one just made).
	for f in "$cache"/base-*.cpio; do
		[ "$f" = "$base" ] || rm -f "$f"
	done
fi

# --- modules layer ----------------------------------------------------------
# Resolve a module's dependencies from modules.dep (which lists them all,
# transitively), depth first, so each module follows everything it needs.
declare -A dep_of=() seen=()
resolve() {
	local m=$1 d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	for d in ${dep_of[$m]:-}; do
		resolve "$d"
	done
	order+=("$m")
}

mod_layer=
if [ "$modules" != none ]; then
	[ -d "$modules" ] || die "modules tree '$modules' is not a directory"
	dep=$modules/modules.dep
	[ -r "$dep" ] || die "no modules.dep in '$modules'"
	while IFS= read -r line; do
		m=${line%%:*}
		dep_of[$m]=${line#*:}
	done <"$dep"
	# Which file is kvm-amd / kvm-intel in this tree (any compression).
	find_mod() {
		local name=$1 m
		for m in "${!dep_of[@]}"; do
			case ${m##*/} in "$name".ko|"$name".ko.xz|"$name".ko.zst|"$name".ko.gz)
				echo "$m"; return 0 ;;
			esac
		done
		return 1
	}
	# Either flavour's set may be absent (a kernel built for one vendor);
	# the lane checks for the one it boots before calling us.
	amd=$(find_mod kvm-amd) || amd=
	intel=$(find_mod kvm-intel) || intel=
	[ -n "$amd$intel" ] || die "no kvm-amd.ko* or kvm-intel.ko* in '$dep'"

	inputs=("$dep")
	declare -A want=()
	for top in $amd $intel; do
		order=()
		seen=()
		resolve "$top"
		for m in "${order[@]}"; do
			want[$m]=1
		done
	done
	for m in "${!want[@]}"; do
		[ -r "$modules/$m" ] || die "module file '$modules/$m' missing"
		inputs+=("$modules/$m")
	done
	mod_key=$(key_of "${inputs[@]}")
	mod_layer=$cache/modules-$mod_key.cpio
	if [ ! -s "$mod_layer" ]; then
		d=$work/mods/lib/kvmtest
		mkdir -p "$d"
		# busybox insmod cannot read compressed modules: unpack here.
		for m in "${!want[@]}"; do
			base_name=${m##*/}
			case $base_name in
			*.ko.xz) xz -dc "$modules/$m" >"$d/${base_name%.xz}" ;;
			*.ko.zst) zstd -q -dc "$modules/$m" >"$d/${base_name%.zst}" ;;
			*.ko.gz) gzip -dc "$modules/$m" >"$d/${base_name%.gz}" ;;
			*.ko) cp "$modules/$m" "$d/$base_name" ;;
			esac
		done
		for fl in amd intel; do
			top=$amd
			[ $fl = intel ] && top=$intel
			[ -n "$top" ] || continue
			order=()
			seen=()
			resolve "$top"
			for m in "${order[@]}"; do
				b=${m##*/}
				echo "${b%.ko*}.ko"
			done >"$d/$fl.order"
		done
		# Keep the three most recent module layers (a few kernels in turn).
		{ ls -t "$cache"/modules-*.cpio 2>/dev/null || true; } | tail -n +3 | xargs -r rm -f
		pack "$work/mods" "$mod_layer"
	fi
fi

# --- payload layer ----------------------------------------------------------
: "${runner:=$repo/run_tests.sh}"
[ -r "$runner" ] || die "runner '$runner' not readable"
d=$work/payload/kvmtest
mkdir -p "$d/expect" "$d/scripts"
cp "$runner" "$d/run_tests.sh"
# The runner's modules: beside the runner in a tree, else the repo's.
modules_dir=$(dirname "$runner")/scripts/runner
[ -d "$modules_dir" ] || modules_dir=$repo/scripts/runner
cp -r "$modules_dir" "$d/scripts/runner"
[ -d "$repo/expect" ] && cp -r "$repo/expect/." "$d/expect/"
: >"$work/list-args"
i=0
for list in "${lists[@]}"; do
	[ -r "$list" ] || die "test list '$list' not readable"
	dir=${list_bins[$i]:-$bin_dir}
	gl=tests.list gb=build
	[ $i -gt 0 ] && gl=tests-$((i + 1)).list gb=build-$((i + 1))
	i=$((i + 1))
	mkdir -p "$d/$gb"
	cp "$list" "$d/$gl"
	printf '%s\n' --list "/kvmtest/$gl" --bin-dir "/kvmtest/$gb" >>"$work/list-args"
	# Only the binaries the list names (build/ also holds objects and
	# archives), as the runner reads the list: it is the one parser.
	bins=$(bash "$repo/run_tests.sh" --print-binaries --list "$list" 2>&1) ||
		die "test list '$list': ${bins%%$'\n'*}"
	while read -r bin; do
		[ -n "$bin" ] && [ -f "$dir/$bin" ] || continue
		mkdir -p "$d/$gb/$(dirname "$bin")"
		cp "$dir/$bin" "$d/$gb/$bin"
	done <<<"$bins"
done
for pair in "${extra[@]}"; do
	src=${pair%%:*}
	dst=${pair#*:}
	[ -r "$src" ] || die "'$src' not readable"
	mkdir -p "$work/payload/$(dirname "$dst")"
	cp "$src" "$work/payload/$dst"
done
cat "$work/list-args" ${args_file:+"$args_file"} >"$d/args"
pack "$work/payload" "$work/payload.cpio"

cat "$base" ${mod_layer:+"$mod_layer"} "$work/payload.cpio" >"$out.$$.tmp"
mv "$out.$$.tmp" "$out"
