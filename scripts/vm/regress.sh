#!/bin/bash
# Does the suite catch it? Apply each kernel patch in turn to a scratch copy
# of a kernel tree, build the lane kernel incrementally, run the suite (or a
# selection) in the VM lane, undo the patch, and print a table
# patch -> tests that failed.
#
#   scripts/vm/regress.sh KSRC PATCH... [-- LANE/RUNNER OPTIONS]
#
# KSRC is only read: the scratch copy is a hard-link farm of it (cp -al)
# under the kernel cache, and a patched file is copied before it is changed.
# All patches share the scratch copy's O= directory, so each one rebuilds
# only what it touches (and what the previous one touched).
#
# Options after -- go to ./run_tests.sh --vm (default: the whole suite in the
# AMD lane), e.g. -- -g nested, or -- --vm=intel -t 'nested_*'.
#   --no-baseline   skip the run on the unpatched tree
#   -o DIR          where the per-patch results go (default
#                   results/regress-<timestamp>/)
#   --debug         build the debug flavour (KASAN, lockdep, PROVE_MMU)
#   --modules-only  build only KVM's modules, against the newest /boot
#                   kernel's headers (build-kvm-modules.sh), and boot that
#                   kernel with them: minutes instead of a kernel build,
#                   for patches under arch/x86/kvm and virt/kvm when KSRC
#                   is that kernel's source
#
# Output: a table, one row per patch: the tests that failed with it and did
# not fail on the unpatched tree. Exit 0 when every patch was applied, built
# and run (caught or not), 1 when one could not be, 2 bad usage.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

bad() { echo "regress.sh: $*" >&2; exit 2; }
say() { echo "# regress: $*" >&2; }

ksrc= patches=() lane_args=() baseline=1 out= debug=() modules_only=0
# A loaded machine boots the emulated guest slowly: a generous default,
# overridden by a --boot-timeout given after --.
lane_defaults=(--boot-timeout 600)
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; lane_args=("$@"); break ;;
	--no-baseline) baseline=0 ;;
	--debug) debug=(--debug) ;;
	--modules-only) modules_only=1 ;;
	-o) [ $# -ge 2 ] || bad "-o needs a directory"; out=$2; shift ;;
	-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) bad "unknown option '$1' (lane and runner options go after --)" ;;
	*) if [ -z "$ksrc" ]; then ksrc=$1; else patches+=("$1"); fi ;;
	esac
	shift
done
[ -n "$ksrc" ] && [ ${#patches[@]} -gt 0 ] || bad "usage: regress.sh KSRC PATCH... [-- lane options]"
[ -d "$ksrc" ] && [ -f "$ksrc/arch/x86/kvm/Kconfig" ] || bad "'$ksrc' is not a Linux source tree with x86 KVM"
ksrc=$(cd "$ksrc" && pwd -P)
for p in "${patches[@]}"; do
	[ -r "$p" ] || bad "patch '$p' is not readable"
done
command -v patch >/dev/null || bad "patch not found; apt-get install patch"

cache=${KVMTEST_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmtest/kernels}
key=$(basename "$ksrc")-$(printf '%s' "$ksrc" | sha1sum | cut -c1-12)
scratch=$cache/scratch/$key
touched=$cache/scratch/$key.touched
: "${out:=$repo/results/regress-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out" "$cache/scratch" || bad "cannot create '$out' or '$cache/scratch'"
out=$(cd "$out" && pwd)

# A file of the scratch copy, made its own (not KSRC's) with a new mtime:
# make rebuilds what depends on it.
unshare_file() {
	local f=$scratch/$1
	[ -e "$f" ] || return 0
	cp -p "$f" "$f.regress-tmp" && mv "$f.regress-tmp" "$f" && touch "$f"
}

# Files a patch changes, from its +++ lines (-p1).
patch_files() {
	sed -n 's/^+++ [^/]*\/\([^[:space:]]*\).*/\1/p' "$1" | sort -u
}

say "scratch copy of $ksrc in $scratch"
rm -rf "$scratch"
cp -al "$ksrc" "$scratch" || bad "cannot link-copy '$ksrc' to '$scratch'"
# What earlier runs patched is older than its objects: make it newer.
if [ -f "$touched" ]; then
	while IFS= read -r f; do unshare_file "$f"; done <"$touched"
fi

# Failures of one lane run: FAIL, TIMEOUT and XPASS lines of summary.txt,
# or the lane's own verdict when no summary came back.
run_lane() {
	local name=$1 dir=$out/$1 rc kernel_args mods
	if [ $modules_only = 1 ]; then
		if mods=$("$here/build-kvm-modules.sh" -q --share-with "$ksrc" "$scratch" 2>"$out/$name.log"); then
			kernel_args=(--kernel "$(ls /boot/vmlinuz-* | sort -V | tail -n 1)" --modules "$mods")
		else
			printf '(build failed: %s)' "$(grep -m1 'error' "$out/$name.log")"
			return 0
		fi
	else
		kernel_args=(--kernel-src "$scratch" "${debug[@]}")
	fi
	"$repo/run_tests.sh" --vm "${kernel_args[@]}" -q -o "$dir" --overwrite "${lane_defaults[@]}" \
		"${lane_args[@]}" >>"$out/$name.log" 2>&1
	rc=$?
	if [ -f "$dir/summary.txt" ]; then
		sed -n 's/^# \(FAIL\|TIMEOUT\|XPASS\) *\([^ :]*\).*/\2/p' "$dir/summary.txt" | sort -u | tr '\n' ' '
	fi
	case $rc in
	0|1) ;;
	*) printf '(lane exit %s: %s)' "$rc" "$(grep -m1 'run_tests.sh --vm:\|build-kernel.sh:' "$out/$name.log")" ;;
	esac
	return 0
}

declare -A failed=()
order=()
if [ $baseline = 1 ]; then
	say "baseline: the unpatched tree"
	failed[baseline]=$(run_lane baseline)
	order+=(baseline)
	say "baseline failures: ${failed[baseline]:-none}"
fi

status=0
for p in "${patches[@]}"; do
	name=$(basename "$p")
	name=${name%.patch}
	name=${name%.diff}
	order+=("$name")
	if ! (cd "$scratch" && patch -p1 --dry-run -s -f <"$p" >/dev/null 2>&1); then
		failed[$name]="(does not apply)"
		status=1
		say "$name: does not apply to $ksrc"
		continue
	fi
	mapfile -t files < <(patch_files "$p")
	for f in "${files[@]}"; do
		unshare_file "$f"
		grep -qxF -- "$f" "$touched" 2>/dev/null || echo "$f" >>"$touched"
	done
	(cd "$scratch" && patch -p1 -s -f <"$p") || { failed[$name]="(patch failed)"; status=1; continue; }
	say "$name: applied (${files[*]}); building and running"
	t0=$SECONDS
	failed[$name]=$(run_lane "$name")
	say "$name: $((SECONDS - t0))s, failed: ${failed[$name]:-none}"
	(cd "$scratch" && patch -R -p1 -s -f <"$p") || bad "could not undo $p in $scratch; remove it and rerun"
	for f in "${files[@]}"; do touch "$scratch/$f" 2>/dev/null; done
	[[ ${failed[$name]} == '(lane exit'* ]] && status=1
done

# --- table --------------------------------------------------------------------
{
	printf '%-60s %s\n' "patch" "failed (not failing on the unpatched tree)"
	for name in "${order[@]}"; do
		new=
		for t in ${failed[$name]}; do
			[[ $t == '('* ]] && { new=${failed[$name]}; break; }
			[ "$name" != baseline ] && [[ " ${failed[baseline]:-} " == *" $t "* ]] && continue
			new+="$t "
		done
		printf '%-60s %s\n' "$name" "${new:-none}"
	done
} | tee "$out/table.txt"
say "per-patch results and logs in $out"
exit $status
