#!/bin/bash
# kvmtest VM lane: run the suite inside a kernel booted in an emulator.
#
#   ./run_tests.sh --vm[=amd|intel] [lane options] [runner options]
#
# run_tests.sh execs this script, with its whole argument list, whenever
# one of them is --vm or --vm=*. We build the tests, pack them with the
# runner into an initramfs (scripts/vm/initramfs.sh), boot it with
# scripts/vm/boot-<flavour>.sh, stream the in-guest runner's TAP to stdout,
# copy its result directory back and exit with its exit code.
#
# Problems of the lane itself (no emulator, no kernel, wrong modules, a
# kernel that does not reach /init, modules that do not load, no /dev/kvm)
# are told apart from test failures: one line "run_tests.sh --vm: ...",
# the tail of the guest console, exit 2 (125 under --bisect, so that
# `git bisect run` skips the commit instead of calling it bad). Once the
# tests have started, a guest kernel panic or hang is the kernel under test
# failing: exit 1.
#
# See docs/vm-lane.md.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

flavour=amd kernel= modules= modules_given=0 vm_cpu= accel=tcg vm_mem=2048
kernel_src= kernel_debug=0
vm_smp=2 boot_timeout= vm_timeout= vm_append=
outdir= overwrite=0 no_build=0 bin_dir= bisect=0 quiet=0
list_only=0 help=0 repeat=1 durations=
runner_args=() lists=() list_bins=() expects=()

lane_fail_code() { [ $bisect = 1 ] && echo 125 || echo 2; }

# One clear line, the console's tail when there is one, and the lane code.
lane_fail() {
	echo "run_tests.sh --vm: $1" >&2
	if [ -n "${console:-}" ] && [ -s "$console" ]; then
		echo "--- last lines of the guest console ($(keep_console)):" >&2
		tail -n 20 "$console" | tr -d '\r' >&2
	fi
	exit "$(lane_fail_code)"
}

usage() {
	cat <<'EOF'
usage: ./run_tests.sh --vm[=amd|intel] [lane options] [runner options]

Boots a kernel in an emulator (QEMU on an emulated AMD CPU with SVM+NPT for
--vm / --vm=amd; Bochs on an emulated Intel CPU for --vm=intel) and runs the
suite inside it with the same runner.

Lane options:
  --vm[=amd|intel]     flavour (default amd)
  --kernel IMAGE       bzImage/vmlinuz to boot (default: newest /boot/vmlinuz-*)
  --kernel-src KSRC    build (or reuse) a lane kernel from the kernel tree
                       KSRC (scripts/vm/build-kernel.sh) and boot it
  --debug              with --kernel-src: the debug flavour (KASAN, lockdep,
                       KVM_PROVE_MMU, DEBUG_VM)
  --modules DIR|none   /lib/modules/<version> tree holding kvm-amd/kvm-intel;
                       'none' when KVM is built in (default: the tree of the
                       default kernel, or /lib/modules/<version of IMAGE>)
  --vm-cpu MODEL       emulated CPU (default EPYC,+svm,+npt,+la57 for amd)
  --accel tcg|kvm      QEMU accelerator (default tcg; kvm needs nested virt)
  --vm-mem MB          guest memory (default 2048)
  --vm-smp N           guest CPUs (default 2; TCG then runs single-threaded)
  --boot-timeout S     limit for reaching the tests (default 60 tcg, 300 intel)
  --vm-timeout S       limit for the whole run (default: from the selection)
  --vm-append STR      extra kernel command line

Runner options (-t -g -x -j --timeout --repeat --shard -v -q --bisect ...)
run inside the guest. -o DIR, --overwrite, --no-build, --bin-dir, --list,
--expect and --durations act on the host: results (per-test logs,
results.tap, junit.xml and the guest's console.log) land in DIR, default
results/<timestamp>-vm/ (an interrupted run leaves INCOMPLETE there; the
next run with the same -o reuses it). --list may repeat, each followed by
its --bin-dir: the suites run in one boot. Without --expect the guest's
runner picks the expect/*.txt whose 'match:' fits (lane=vm-<flavour>);
--expect none: no expectations. Without --durations the last run of this
lane (results/latest-vm-<flavour>) sets the per-test timeouts.
Exit: the runner's code; 2 (125 with --bisect) when the lane itself failed.
EOF
}

# --- arguments --------------------------------------------------------------
while [ $# -gt 0 ]; do
	a=$1
	val=
	case $a in
	--*=*) opt=${a%%=*} val=${a#*=} has_val=1 ;;
	*) opt=$a has_val=0 ;;
	esac
	# Options with a value consume the next word unless given as --opt=v.
	case $opt in
	--kernel|--kernel-src|--modules|--vm-cpu|--accel|--vm-mem|--vm-smp|--boot-timeout|--vm-timeout|--vm-append|-o|--bin-dir|--list|--expect|--durations|-t|-g|-x|-j|--timeout|--repeat|--shard)
		if [ $has_val = 0 ]; then
			[ $# -ge 2 ] || { echo "run_tests.sh --vm: $opt needs a value" >&2; exit 2; }
			val=$2
			shift
		fi ;;
	esac
	case $opt in
	--vm) [ $has_val = 1 ] && flavour=$val ;;
	--kernel) kernel=$val ;;
	--kernel-src) kernel_src=$val ;;
	--debug) kernel_debug=1 ;;
	--modules) modules=$val modules_given=1 ;;
	--vm-cpu) vm_cpu=$val ;;
	--accel) accel=$val ;;
	--vm-mem) vm_mem=$val ;;
	--vm-smp) vm_smp=$val ;;
	--boot-timeout) boot_timeout=$val ;;
	--vm-timeout) vm_timeout=$val ;;
	--vm-append) vm_append=$val ;;
	-o) outdir=$val ;;
	--overwrite) overwrite=1 ;;
	--no-build) no_build=1 ;;
	--bin-dir)
		# Like the runner's: the binaries of the --list before it.
		if [ ${#lists[@]} -gt 0 ]; then list_bins[${#lists[@]} - 1]=$val; else bin_dir=$val; fi ;;
	--list) lists+=("$val") list_bins+=("") ;;
	--expect) expects+=("$val") ;;
	--durations) durations=$val ;;
	-h|--help) help=1 ;;
	-l) list_only=1 ;;
	*)
		# Everything else belongs to the in-guest runner, as given.
		case $opt in
		--bisect) bisect=1 ;;
		-q) quiet=1 ;;
		--repeat) repeat=$val ;;
		esac
		case $opt in
		-t|-g|-x|-j|--timeout|--repeat|--shard) runner_args+=("$opt" "$val") ;;
		*) runner_args+=("$a") ;;
		esac ;;
	esac
	shift
done

if [ $help = 1 ]; then
	usage
	exit 0
fi

bad() { echo "run_tests.sh --vm: $*" >&2; exit 2; }
case $flavour in amd|intel) ;; *) bad "unknown flavour '--vm=$flavour'; use --vm=amd or --vm=intel" ;; esac
case $accel in tcg|kvm) ;; *) bad "--accel takes tcg or kvm" ;; esac
for v in vm_mem vm_smp boot_timeout vm_timeout repeat; do
	[[ -z ${!v} || ${!v} =~ ^[0-9]+$ ]] || bad "--${v//_/-} takes a number, not '${!v}'"
done
for a in "${runner_args[@]}"; do
	# /init reads the runner's arguments one per line.
	[[ $a != *$'\n'* ]] || bad "runner arguments cannot contain newlines"
done

# The lists with their binaries, and the expectations, as the runner
# takes them (it pairs each --bin-dir with the --list before it).
[ ${#lists[@]} -gt 0 ] || lists=("$repo/tests.list") list_bins=("")
list_args=()
[ -n "$bin_dir" ] && list_args+=(--bin-dir "$bin_dir")
for i in "${!lists[@]}"; do
	list_args+=(--list "${lists[i]}")
	[ -n "${list_bins[i]}" ] && list_args+=(--bin-dir "${list_bins[i]}")
done
expect_args=()
for e in "${expects[@]}"; do expect_args+=(--expect "$e"); done
# Recorded durations: the last run of this lane, unless named.
if [ -z "$durations" ] && [ -r "$repo/results/latest-vm-$flavour/results.tsv" ]; then
	durations=$repo/results/latest-vm-$flavour/results.tsv
fi
[ -d "$durations" ] && durations=$durations/results.tsv
durations_args=(--durations "${durations:-none}")

# -l only lists the selection: the host's runner does that without a VM
# (expectations as the guest would pick them).
if [ $list_only = 1 ]; then
	KVMTEST_LANE=vm-$flavour exec "$repo/run_tests.sh" -l "${list_args[@]}" "${expect_args[@]}" \
		"${durations_args[@]}" "${runner_args[@]}"
fi

say() { [ $quiet = 1 ] || echo "# vm: $*" >&2; }

# --- what to boot -----------------------------------------------------------
backend=$here/boot-qemu.sh
[ $flavour = intel ] && backend=$here/boot-bochs.sh
[ -x "$backend" ] || lane_fail "no boot backend $backend for --vm=$flavour; use --vm=amd"
if [ $flavour = amd ]; then
	command -v qemu-system-x86_64 >/dev/null ||
		lane_fail "qemu-system-x86_64 not found; apt-get install qemu-system-x86"
	: "${vm_cpu:=EPYC,+svm,+npt,+la57}" "${boot_timeout:=60}"
	# QEMU with KVM gives the guest only what the host CPU has: no SVM on
	# the host, no kvm_amd in the guest (and on some hosts KVM cannot run
	# the guest kernel at all).
	if [ "$accel" = kvm ]; then
		[ -c /dev/kvm ] && [ -w /dev/kvm ] ||
			lane_fail "--accel kvm needs a usable /dev/kvm on this host; use --accel tcg (the default)"
		grep -qw svm /proc/cpuinfo ||
			lane_fail "--accel kvm needs a host CPU with SVM (nested virtualization) and this one shows none in /proc/cpuinfo; use --accel tcg (the default)"
	fi
	kvm_mod=kvm-amd
else
	: "${vm_cpu:=corei7_icelake_u}" "${boot_timeout:=300}"
	kvm_mod=kvm-intel
fi

# The version a bzImage carries, read from its setup header (the offset of
# the version string is at 0x20e, relative to 0x200), e.g. "6.12.1-amd64".
image_version() {
	local off
	off=$(od -An -t u2 -j $((0x20e)) -N 2 "$1" 2>/dev/null | tr -d ' ') || return 1
	[ -n "$off" ] || return 1
	dd if="$1" bs=1 skip=$((off + 0x200)) count=128 2>/dev/null | tr '\0' '\n' |
		head -n 1 | awk '{ print $1 }'
}

# --kernel-src: build-kernel.sh prints the image; its info.txt names the
# tree and config. KVM is built in. A build failure under --bisect is 125
# (git bisect skips the commit).
kernel_info=
if [ -n "$kernel_src" ]; then
	[ -z "$kernel" ] || bad "--kernel and --kernel-src exclude each other; pass one"
	kb_args=("$kernel_src")
	[ $kernel_debug = 1 ] && kb_args+=(--debug)
	[ $quiet = 1 ] && kb_args+=(-q)
	# KVMTEST_BUILD_KERNEL: another builder (the lane's own tests use a
	# stand-in that builds nothing).
	kernel=$("${KVMTEST_BUILD_KERNEL:-$here/build-kernel.sh}" "${kb_args[@]}" | tail -n 1)
	[ -n "$kernel" ] && [ -f "$kernel" ] ||
		lane_fail "no lane kernel from '$kernel_src' (scripts/vm/build-kernel.sh said why, above)"
	kernel_info=${kernel%/*}/info.txt
	[ $modules_given = 1 ] || modules=none modules_given=1
elif [ $kernel_debug = 1 ]; then
	bad "--debug picks the flavour of a kernel built with --kernel-src KSRC; add it, or leave --debug out"
fi

if [ -z "$kernel" ]; then
	kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kernel" ] ||
		lane_fail "no kernel in /boot; apt-get install linux-image-amd64 (or linux-image-6.12-amd64), or pass --kernel IMAGE"
	if [ $modules_given = 0 ]; then
		modules=/lib/modules/${kernel##*/vmlinuz-}
	fi
fi
case $kernel in /*) ;; *) kernel=$PWD/$kernel ;; esac
[ -e "$kernel" ] || lane_fail "kernel image '$kernel' does not exist; pass --kernel with a bzImage/vmlinuz (apt-get install linux-image-amd64 provides one)"
[ -f "$kernel" ] && [ -r "$kernel" ] || lane_fail "kernel image '$kernel' is not a readable file; check the path and its permissions"
kver=$(image_version "$kernel") || kver=
if [ -z "$kver" ] || [ "$(dd if="$kernel" bs=1 skip=$((0x202)) count=4 2>/dev/null)" != HdrS ]; then
	lane_fail "'$kernel' is not an x86 bzImage; pass arch/x86/boot/bzImage or a /boot/vmlinuz-*"
fi
if [ $modules_given = 0 ] && [ -z "$modules" ]; then
	# A kernel of our own: its installed tree if there is one, else assume
	# KVM is built in (/init says so clearly if /dev/kvm does not appear).
	if [ -d "/lib/modules/$kver" ]; then modules=/lib/modules/$kver; else modules=none; fi
fi
if [ "$modules" != none ]; then
	[ -d "$modules" ] || lane_fail "modules tree '$modules' is not a directory; pass --modules /lib/modules/<version> or --modules none for KVM built in"
	[ -r "$modules/modules.dep" ] || lane_fail "no modules.dep in '$modules'; run depmod, or pass the /lib/modules/<version> tree (make modules_install INSTALL_MOD_PATH=DIR gives DIR/lib/modules/<version>)"
	grep -Eq "(^|/)$kvm_mod\.ko(\.[a-z]+)?:" "$modules/modules.dep" ||
		lane_fail "no $kvm_mod.ko* in modules tree '$modules'; pass the tree built with this kernel (CONFIG_KVM_${flavour^^}=m), or --modules none if KVM is built in"
	mver=${modules%/}
	mver=${mver##*/}
	if [ "$mver" != "$kver" ] && [ -n "$kver" ]; then
		say "warning: kernel is $kver but modules tree is $mver; insmod may refuse them"
	fi
fi

# --- build ------------------------------------------------------------------
if [ $no_build = 0 ] && [ -f "$repo/Makefile" ]; then
	if ! make -s -C "$repo" >&2; then
		lane_fail "building the tests failed (make -s); fix the build, or pass --no-build"
	fi
fi
for l in "${lists[@]}"; do
	[ -r "$l" ] || bad "test list '$l' not readable"
done
for e in "${expects[@]}"; do
	[ "$e" = none ] || [ -r "$e" ] || bad "expectations file '$e' not readable"
done

# The selection and each test's timeout, from the host's runner (the one
# reader of test lists): bad runner input (-t matching nothing, a broken
# list or expectations file) shows here in a fraction of a second, not
# after a boot, and the lane's limits follow what will run.
plan=
if [ -z "${KVMTEST_VM_RUNNER:-}" ] && [ -x "$repo/run_tests.sh" ]; then
	errf=$(mktemp "${TMPDIR:-/tmp}/kvmtest-plan.XXXXXX") || bad "cannot create a temporary file"
	plan=$(KVMTEST_LANE=vm-$flavour "$repo/run_tests.sh" --plan "${list_args[@]}" "${expect_args[@]}" \
		"${durations_args[@]}" "${runner_args[@]}" 2>"$errf")
	rc=$?
	err=$(cat "$errf")
	rm -f "$errf"
	if [ $rc != 0 ]; then
		printf '%s\n' "$err" >&2
		exit "$rc"
	fi
fi
# (A stand-in runner, KVMTEST_VM_RUNNER, is the lane's own tests: no plan,
# the limits are boot and silence.)

# --- results directory ------------------------------------------------------
if [ -z "$outdir" ]; then
	outdir=$repo/results/$(date +%Y%m%d-%H%M%S)-vm
	# Never reuse one: a second run in the same second gets a suffix.
	n=1
	while [ -e "$outdir" ]; do outdir=${outdir%-vm*}-vm.$n; n=$((n + 1)); done
elif [ -e "$outdir" ] && [ -n "$(ls -A "$outdir" 2>/dev/null)" ]; then
	# An interrupted lane leaves INCOMPLETE behind: its directory is
	# reused, not refused.
	[ $overwrite = 1 ] || [ -e "$outdir/INCOMPLETE" ] ||
		bad "'$outdir' exists and is not empty; pass --overwrite or another -o DIR"
	[ -e "$outdir/INCOMPLETE" ] && say "'$outdir' holds an unfinished run: replacing it"
	rm -rf "$outdir"
fi
mkdir -p "$outdir" || bad "cannot create '$outdir'"
echo "lane started $(date '+%F %T %z') by pid $$; removed when it ends, kept if it was interrupted" >"$outdir/INCOMPLETE"
# Like the runner: results/latest names the newest default result dir.
[ "${outdir%/*}" = "$repo/results" ] && ln -sfn "${outdir##*/}" "$repo/results/latest" 2>/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-vm.XXXXXX")
console=$work/console.log
serial=$work/serial.log
bpid= wpid= rpid=
keep_console() {
	cp "$console" "$outdir/console.log" 2>/dev/null
	printf '%s' "$outdir/console.log"
}
cleanup() {
	# Our children only, by PID: the backend kills its emulator's group.
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	if [ -n "$bpid" ] && kill -0 "$bpid" 2>/dev/null; then
		kill -TERM "$bpid" 2>/dev/null
		wait "$bpid" 2>/dev/null
	fi
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	rm -rf "$work"
	# A lane that ended, whatever its verdict, leaves a complete directory.
	[ -n "$interrupted" ] || rm -f "$outdir/INCOMPLETE"
}
interrupted=
trap cleanup EXIT
trap 'interrupted=1; echo "run_tests.sh --vm: interrupted; partial results in $outdir (marked INCOMPLETE: the next run with -o there reuses it)" >&2; cp "$console" "$outdir/console.log" 2>/dev/null; exit 130' INT TERM HUP

# --- initramfs ----------------------------------------------------------------
# What was tested, for the in-guest runner's summary.txt (the guest has no
# git and no view of the kernel's tree): /init exports lane.env.
kvmtest_head=$(git -C "$repo" describe --always --dirty --abbrev=40 2>/dev/null) || kvmtest_head="(not a git checkout)"
if [ -n "$kernel_info" ] && [ -r "$kernel_info" ]; then
	kernel_source="$(sed -n 's/^source: //p' "$kernel_info"), config $(sed -n 's/^config: //p' "$kernel_info")"
else
	kernel_source="image $kernel, sha1 $(sha1sum <"$kernel" | cut -c1-12) (tree unknown: built elsewhere)"
fi
# Modules built by build-kvm-modules.sh say where they came from.
if [ "$modules" != none ] && [ -r "$modules/kvmtest-source.txt" ]; then
	kernel_source="$kernel_source; modules: $(head -n 1 "$modules/kvmtest-source.txt")"
fi
printf 'KVMTEST_GIT_HEAD=%q\nKVMTEST_KERNEL_SOURCE=%q\n' "$kvmtest_head" "$kernel_source" >"$work/lane.env"
# Without --expect the guest's runner picks the expect/*.txt whose match:
# line fits it (lane=vm-<flavour> among them).
guest_args=() ir_files=()
n=0
for e in "${expects[@]}"; do
	if [ "$e" = none ]; then
		guest_args+=(--expect none)
		continue
	fi
	n=$((n + 1))
	guest_args+=(--expect "/kvmtest/user-expect-$n.txt")
	ir_files+=(--file "$e:kvmtest/user-expect-$n.txt")
done
if [ -n "$durations" ] && [ "$durations" != none ]; then
	guest_args+=(--durations /kvmtest/durations.tsv)
	ir_files+=(--file "$durations:kvmtest/durations.tsv")
else
	guest_args+=(--durations none)
fi
guest_args+=("${runner_args[@]}")
# (printf with no arguments would still print one empty line.)
: >"$work/args"
[ ${#guest_args[@]} -gt 0 ] && printf '%s\n' "${guest_args[@]}" >"$work/args"

# KVMTEST_VM_RUNNER: another runner script to pack (the lane's own tests).
ir_opts=(--out "$work/initrd.img" --modules "$modules" --repo "$repo" "${list_args[@]}"
	--runner "${KVMTEST_VM_RUNNER:-$repo/run_tests.sh}"
	--args-file "$work/args" --cache "$repo/build/vm-cache"
	--compress "${KVMTEST_VM_COMPRESS:-none}" "${ir_files[@]}")
ir_opts+=(--file "$work/lane.env:kvmtest/lane.env")
if ! err=$("$here/initramfs.sh" "${ir_opts[@]}" 2>&1); then
	lane_fail "building the initramfs failed: ${err%%$'\n'*}; see scripts/vm/initramfs.sh --help"
fi

# --- the lane's limits ---------------------------------------------------------
# The runner enforces each test's timeout inside the guest; the lane only
# catches a guest or runner that hangs, two ways:
# - silence: once the tests started, the runner prints a result or a
#   heartbeat at least every 10 s of guest time; no output at all for
#   $stall s of wall time is a hung guest (KVMTEST_VM_STALL overrides);
# - the whole run: every selected test running to its timeout (from the
#   runner's plan: durations-derived ones are short) one after the other,
#   plus 10 s each, plus boot and the copy back.
# Per-test timeouts run on the guest's clock. Under QEMU's TCG that clock
# keeps up with the wall; Bochs' guest clock runs several times slower than
# the wall, hence the factor.
slow=1 stall=90
[ $flavour = intel ] && slow=10 stall=300
[[ ${KVMTEST_VM_STALL:-} =~ ^[0-9]+$ ]] && stall=$KVMTEST_VM_STALL
plan_sum=0
while read -r _name to; do
	[[ $to =~ ^[0-9]+$ ]] || continue
	# A test without a timeout ("0") is bounded by the silence watchdog.
	plan_sum=$((plan_sum + to + 10))
done <<<"$plan"
if [ -z "$vm_timeout" ]; then
	vm_timeout=$((boot_timeout + 120 + slow * repeat * plan_sum))
fi

# --- boot ---------------------------------------------------------------------
# kvm.force_emulation_prefix=1: tests reach KVM's emulator through KVM_FEP.
# no_timer_check: on a loaded host TCG misses the IO-APIC timer check's
# window and the kernel panics ("IO-APIC + timer doesn't work!").
append="quiet mitigations=off no_timer_check kvm.force_emulation_prefix=1 kvmtest.flavour=$flavour${vm_append:+ $vm_append}"
say "booting $kernel (${kver:-?}) on $vm_cpu, $vm_smp CPU(s), ${vm_mem} MB, $accel; limits: boot ${boot_timeout}s, silence ${stall}s, run ${vm_timeout}s"
{
	echo "kernel: $kernel ($kver)"
	echo "modules: $modules"
	echo "flavour: $flavour"
	echo "cpu: $vm_cpu accel: $accel smp: $vm_smp mem: $vm_mem"
	echo "cmdline: $append"
	echo "runner args: ${guest_args[*]}"
	echo "kvmtest HEAD: $kvmtest_head"
	echo "kernel source: $kernel_source"
} >"$outdir/vm.txt"

: >"$serial"
: >"$console"
backend_args=(--kernel "$kernel" --initrd "$work/initrd.img" --console "$console"
	--output "$serial" --cpu "$vm_cpu" --mem "$vm_mem" --smp "$vm_smp"
	--timeout "$vm_timeout" --append "$append")
[ $flavour = amd ] && backend_args+=(--accel "$accel")
"$backend" "${backend_args[@]}" 2>"$work/backend.err" &
bpid=$!

# Boot watchdog: no START from /init within the boot limit means the kernel
# (or /init) never got there. Polls, so it ends with the backend.
(
	t0=$SECONDS
	while kill -0 "$bpid" 2>/dev/null; do
		grep -q '^@@KVMTEST@@ \(START\|LANE-ERROR\)' "$serial" && break
		if [ $((SECONDS - t0)) -ge "$boot_timeout" ]; then
			: >"$work/boot-timeout"
			kill -TERM "$bpid" 2>/dev/null
			exit 0
		fi
		sleep 0.5
	done
	# Then the silence watchdog (see the lane's limits).
	size=-1 t0=$SECONDS
	while kill -0 "$bpid" 2>/dev/null; do
		now=$(stat -c %s "$serial" 2>/dev/null || echo 0)
		[ "$now" != "$size" ] && size=$now t0=$SECONDS
		if [ $((SECONDS - t0)) -ge "$stall" ]; then
			: >"$work/stalled"
			kill -TERM "$bpid" 2>/dev/null
			exit 0
		fi
		sleep 1
	done
) &
wpid=$!

# Live: the runner's stream between START and RESULTS-BEGIN goes to our
# stdout as it arrives; INFO lines become "# vm:" notes on stderr. A bash
# loop, not awk: mawk reads a pipe in blocks and would hold the TAP back.
relay() {
	local line on=0 pre word
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [[ $line == *'@@KVMTEST@@ '* ]]; then
			# A marker glued to output that lacked its newline.
			pre=${line%%@@KVMTEST@@ *}
			[ $on = 1 ] && [ -n "$pre" ] && printf '%s\n' "$pre"
			line=${line#"$pre"@@KVMTEST@@ }
			word=${line%% *}
			case $word in
			START) on=1 ;;
			RESULTS-BEGIN) on=0 ;;
			INFO) [ $quiet = 1 ] || printf '# vm: %s\n' "${line#INFO }" >&2 ;;
			esac
			continue
		fi
		# Paths the runner prints name the guest's result dir: show where
		# the same files land on the host.
		[ $on = 1 ] && printf '%s\n' "${line//\/tmp\/kvmtest-results/$outdir}"
	done
	return 0
}
# In the background with `wait`, so that a signal runs our trap at once
# (bash runs traps only between foreground commands). tail stops when the
# backend does.
tail -n +1 -s 0.1 -F --pid="$bpid" "$serial" 2>/dev/null | relay &
rpid=$!
wait "$rpid"
rpid=
wait "$bpid"
brc=$?
bpid=
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
wpid=
tr -d '\r' <"$serial" >"$work/serial.txt"

# --- verdict ------------------------------------------------------------------
marker() { sed -n "s/^.*@@KVMTEST@@ $1 \{0,1\}//p" "$work/serial.txt" | tail -n 1; }
started=$(grep -c '@@KVMTEST@@ START' "$work/serial.txt")
exit_line=$(grep '@@KVMTEST@@ EXIT ' "$work/serial.txt" | tail -n 1)
panic=$(grep -a -m1 -o 'Kernel panic - not syncing.*' "$console" | tr -d '\r')

if [ "$brc" = 3 ] || [ "$brc" = 4 ]; then
	# QEMU prints warnings first (unsupported CPU features): the error is
	# the line worth showing.
	emsg=$(grep -m1 -iE 'error|failed|not found|cannot|can.t' "$work/backend.err" || head -n 1 "$work/backend.err")
	lane_fail "the emulator failed: ${emsg:-no message}; check --vm-cpu and --accel (tcg works everywhere)"
fi

# Results come back even when the runner failed: unpack what there is.
if grep -q '@@KVMTEST@@ RESULTS-END' "$work/serial.txt"; then
	sed -n '/@@KVMTEST@@ RESULTS-BEGIN/,/@@KVMTEST@@ RESULTS-END/p' "$work/serial.txt" |
		sed '1d;$d' | base64 -d 2>/dev/null | tar -xzf - -C "$outdir" 2>/dev/null ||
		echo "run_tests.sh --vm: warning: the guest's result directory came back damaged" >&2
fi
cp "$console" "$outdir/console.log" 2>/dev/null

if [ -n "$exit_line" ]; then
	rc=${exit_line##*EXIT }
	[[ $rc =~ ^[0-9]+$ ]] || rc=1
	# git bisect run aborts on codes above 127: a runner killed by a signal
	# in the guest tells nothing about the commit.
	if [ $bisect = 1 ] && [ "$rc" -gt 127 ]; then rc=125; fi
	# The durations of the next run of this lane come from here.
	[ "${outdir%/*}" = "$repo/results" ] && [ -s "$outdir/results.tsv" ] &&
		ln -sfn "${outdir##*/}" "$repo/results/latest-vm-$flavour" 2>/dev/null
	[ $quiet = 1 ] || echo "# vm: results in $outdir" >&2
	exit "$rc"
fi

lane_err=$(marker LANE-ERROR)
if [ -n "$lane_err" ]; then
	case $lane_err in
	insmod*)
		# The module's own words on the console tell which fix applies.
		if grep -Eq '(SVM|VMX) not supported|no (SVM|VMX) support|not supported by CPU' "$console"; then
			lane_fail "$lane_err: the emulated CPU lacks $([ $flavour = amd ] && echo SVM || echo VMX); use a --vm-cpu model with it (default $([ $flavour = amd ] && echo 'EPYC,+svm,+npt,+la57' || echo corei7_icelake_u))"
		elif grep -Eiq 'invalid module format|Exec format error|version magic|disagrees about version' <<<"$lane_err$(cat "$console")"; then
			lane_fail "$lane_err: the modules do not match the kernel; pass the tree built with it (--modules /lib/modules/$kver), or --modules none if KVM is built in"
		else
			lane_fail "$lane_err; check that --modules matches --kernel and that --vm-cpu has SVM/VMX"
		fi ;;
	*/dev/kvm*)
		if [ "$modules" = none ]; then
			lane_fail "$lane_err with --modules none; build the kernel with CONFIG_KVM=y and CONFIG_KVM_${flavour^^}=y, or pass its modules tree with --modules DIR"
		else
			lane_fail "$lane_err; check --vm-cpu (it needs SVM/VMX) and the console below"
		fi ;;
	*) lane_fail "$lane_err; see $outdir/console.log" ;;
	esac
fi

if [ "$started" = 0 ]; then
	if [ -n "$panic" ]; then
		lane_fail "the guest kernel panicked before the tests started ($panic); check the kernel config (initramfs, serial 8250 console) and --vm-append"
	elif [ -e "$work/boot-timeout" ]; then
		lane_fail "the guest did not reach the tests within ${boot_timeout}s; raise --boot-timeout, or check that the kernel boots (console below)"
	elif [ "$brc" = 124 ]; then
		lane_fail "the emulator hit the run limit (${vm_timeout}s) before the tests started; raise --vm-timeout"
	else
		lane_fail "the guest stopped before the tests started (emulator exit $brc); see the console below"
	fi
fi

# The tests had started: what ended the run is the kernel under test.
running=$(grep -E '^(ok|not ok) [0-9]+' "$work/serial.txt" | tail -n 1)
if [ -n "$panic" ]; then
	echo "run_tests.sh --vm: the guest kernel panicked while the tests ran ($panic; last result: ${running:-none}): counted as a failure; see $outdir/console.log" >&2
elif [ -e "$work/stalled" ]; then
	echo "run_tests.sh --vm: the guest printed nothing for ${stall}s while the tests ran (last result: ${running:-none}): a hung guest kernel, counted as a failure; see $outdir/console.log" >&2
elif [ "$brc" = 124 ]; then
	echo "run_tests.sh --vm: the run exceeded the lane limit of ${vm_timeout}s (last result: ${running:-none}): counted as a failure; raise --vm-timeout if the tests need longer" >&2
else
	echo "run_tests.sh --vm: the guest stopped before the runner finished (emulator exit $brc; last result: ${running:-none}): counted as a failure; see $outdir/console.log" >&2
fi
tail -n 20 "$console" | tr -d '\r' >&2
exit 1
