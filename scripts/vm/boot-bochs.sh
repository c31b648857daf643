#!/bin/bash
# Boot backend of the Intel VM lane: one Bochs run of a kernel + initramfs
# on an emulated Intel CPU with VMX and EPT (QEMU's TCG has no VMX).
#
#   boot-bochs.sh --kernel IMAGE --initrd FILE --console FILE --output FILE
#                 --cpu MODEL --mem MB --smp N --timeout S --append "cmdline"
#
# Same contract as boot-qemu.sh (scripts/vm/lane.sh drives both; the shared
# part, options and stopping Bochs, is in scripts/vm/boot-common.sh):
#   guest ttyS0 -> --console FILE (kernel console), guest ttyS1 -> --output
#   FILE (the /init protocol); both files are created empty at start.
#   --append is added to our base command line (console on ttyS0, panic=-1).
#   Bochs and everything it started is killed at --timeout seconds, on
#   SIGINT/SIGTERM/SIGHUP, and when the parent (lane.sh) goes away.
#   Exit: 0 Bochs ran and ended by itself (poweroff or panic: judge the run
#   from the two files; Bochs itself exits 1 even after a clean poweroff,
#   because it reports ACPI soft-off as a "panic"), 124 timeout, 130/143
#   signal, 2 bad usage, 3 something is not installed (one line on stderr
#   names the package), 4 Bochs refused to start (its message on stderr).
#
# How the boot works, and why:
#   Bochs has no -kernel loader, so we build an El Torito ISO (xorriso,
#   isolinux.bin + ldlinux.c32) holding the kernel, the initramfs and an
#   isolinux.cfg that boots at once, and boot it from an ATAPI CD-ROM.
#   Debian's bochs has no 'nogui' display and no 'term' plugin here, and
#   its built-in debugger stops at the first instruction: we use the rfb
#   display with timeout=0 (runs with no pty, no X, no VNC client), and
#   give the debugger its 'c' on stdin. rfb listens on a TCP port (5900+):
#   when we may, we run Bochs in a private network namespace (unshare -n)
#   so the unauthenticated VNC port is never reachable and two lanes at
#   once cannot collide on it.
#   --smp: only count=1 was seen to boot Debian's kernel here, so N > 1 is
#   noted on stderr and ignored (KVMTEST_BOCHS_SMP=N forces it; untested).
#
# Measured here (2 host cores shared with other work, Debian 6.12 kernel,
# corei7_icelake_u, wall-clock seconds from this script's start):
#   Bring-up, a 7 MB initramfs that insmods kvm-intel and powers off:
#     cmdline "console=ttyS0 panic=-1", gzip initrd     /init at 128 s
#     + quiet                                            /init at  42 s
#       (every console byte is a busy-wait on the emulated 8250, and the
#       kernel prints ~50 KB under Bochs, CPUID WARN dumps included)
#     + initrd uncompressed (6.8 MB instead of 2.2 MB)   /init at  38 s
#     + mitigations=off tsc=reliable no_timer_check     /init at  38 s
#       nokaslr lpj=                                     (noise; guest uptime
#       at /init 1.72 -> 1.47 s, so kept tsc=reliable no_timer_check)
#     lpj= buys nothing: the kernel already skips delay calibration.
#     ips=50M: /init at 51 s (worse); ips=1G: 39 s (same): kept 200M.
#     First console byte (BIOS, isolinux reading the ISO, kernel
#     decompression) comes at ~17 s; isolinux PROMPT 0/TIMEOUT 0 means no
#     boot: prompt to wait at.
#   The lane (29 MB uncompressed initramfs, lane.sh adds quiet and
#   mitigations=off): first ttyS1 line 38 s, runner START 56 s (the ~18 s
#   between is /init loading irqbypass, kvm, kvm-intel), first test 60 s,
#   all 22 entries of tests.list 167 s. bench/vm_intel_boot.sh measures it.
set -uo pipefail

kernel='' initrd='' console='' output='' cpu=corei7_icelake_u mem=2048 smp=1
timeout=900 append='' smp_note=''
# --accel is accepted for symmetry with boot-qemu.sh and ignored: Bochs has
# one "accelerator".
# shellcheck disable=SC2034
accel=''

boot_name=boot-bochs.sh
# shellcheck source=scripts/vm/boot-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/boot-common.sh"
boot_parse_args "$@"
[[ $cpu =~ ^[a-z0-9_]+$ ]] || usage "--cpu takes a Bochs model name (bochs --help cpu), e.g. corei7_icelake_u"
for f in "$kernel" "$initrd"; do
	[ -f "$f" ] && [ -r "$f" ] || usage "'$f' is not a readable file"
done
# isolinux reads its config line by line: the command line must be one line.
[[ $append != *$'\n'* ]] || usage "--append cannot contain newlines"

# --- what we need installed -------------------------------------------------
missing() { echo "boot-bochs.sh: $1 not found; apt-get install $2" >&2; exit 3; }
bochs=$(command -v bochs-bin) || missing "bochs-bin" bochs
bios=/usr/share/bochs/BIOS-bochs-latest
vgabios=/usr/share/vgabios/vgabios.bin
isolinux_bin=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -r "$bios" ] || missing "$bios" bochsbios
[ -r "$vgabios" ] || missing "$vgabios" vgabios
[ -r "$isolinux_bin" ] || missing "$isolinux_bin" isolinux
[ -r "$ldlinux" ] || missing "$ldlinux" syslinux-common
command -v xorriso >/dev/null || missing xorriso xorriso
plugins=${LTDL_LIBRARY_PATH:-/usr/lib/x86_64-linux-gnu/bochs/plugins}
ls "$plugins"/libbx_rfb_gui.so* >/dev/null 2>&1 ||
	missing "Bochs's rfb display plugin ($plugins/libbx_rfb_gui.so)" bochs

# Bochs's own word for a bad model is "cpu directive malformed": say more.
models=$("$bochs" -q --help cpu 2>&1 | sed -n '/^Supported CPU models:/,$p' | sed '1d' |
	awk 'NF == 1 && /^[a-z0-9_]+$/ { print $1 }')
if [ -n "$models" ] && ! grep -qx -- "$cpu" <<<"$models"; then
	echo "boot-bochs.sh: Bochs has no CPU model '$cpu'; with VMX and EPT: corei7_icelake_u (default), corei7_skylake_x, tigerlake" >&2
	exit 4
fi

if [ "$smp" -gt 1 ]; then
	if [ -n "${KVMTEST_BOCHS_SMP:-}" ]; then
		smp=$KVMTEST_BOCHS_SMP
	else
		# Told at the end: lane.sh quotes the first stderr line when
		# Bochs fails, and that line must be the failure.
		smp_note="boot-bochs.sh: note: --smp $smp ignored, Bochs ran 1 CPU (only count=1 was seen to boot here; KVMTEST_BOCHS_SMP=N to try more)"
		smp=1
	fi
fi

: >"$console" && : >"$output" || usage "cannot write '$console' or '$output'"

# --- a private directory for the ISO, bochsrc and Bochs's own log -----------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvmtest-bochs.XXXXXX") || usage "mktemp failed"
# KVMTEST_BOCHS_KEEP=1 keeps the directory (bochsrc, ISO, bochs.log) to debug.
trap 'boot_stop; [ -n "${KVMTEST_BOCHS_KEEP:-}" ] && echo "boot-bochs.sh: kept $tmp" >&2 || rm -rf "$tmp"' EXIT

mkdir -p "$tmp/iso/isolinux"
# Copies, not graft points: -boot-info-table patches isolinux.bin.
cp "$isolinux_bin" "$ldlinux" "$tmp/iso/isolinux/"
# Our base command line (see the measurements at the top): quiet first,
# because every console byte is a busy-wait on an emulated 8250.
# KVMTEST_BOCHS_CMDLINE replaces it (for measuring); --append follows it.
# kvm_intel.pml=0: Bochs 2.7 writes GPAs with their page offset into the
# PML log; the guest's KVM then hits WARN_ON(gpa & (PAGE_SIZE - 1)) in
# vmx_flush_pml_buffer (vmx.c:6208 in 6.12), which the runner's kernel-log
# watch rightly fails (memslot_test's dirty-log case). With PML off, KVM
# dirty-logs by write protection. --vm-append kvm_intel.pml=1 turns it back
# on (/init passes both to insmod; the later one wins).
# kvm_intel.allow_smaller_maxphyaddr=1: KVM_CAP_SMALLER_MAXPHYADDR, so
# smaller_maxphyaddr runs here (only vCPUs given a smaller MAXPHYADDR get
# the #PF intercept and emulation it costs). lane.sh adds
# kvm.force_emulation_prefix=1 for both back ends.
base=${KVMTEST_BOCHS_CMDLINE-quiet tsc=reliable no_timer_check kvm_intel.pml=0 kvm_intel.allow_smaller_maxphyaddr=1}
# PROMPT 0 + TIMEOUT 0 + one DEFAULT label: isolinux boots at once, no menu.
cat >"$tmp/iso/isolinux/isolinux.cfg" <<EOF
PROMPT 0
TIMEOUT 0
DEFAULT kvmtest
LABEL kvmtest
  KERNEL /vmlinuz
  INITRD /initrd
  APPEND console=ttyS0 panic=-1 $base $append
EOF

# The kernel and initramfs go in as graft points: no copy of a big initrd.
if ! err=$(xorriso -as mkisofs -quiet -o "$tmp/boot.iso" \
	-b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table \
	-graft-points "/isolinux=$tmp/iso/isolinux" \
	"/vmlinuz=$kernel" "/initrd=$initrd" 2>&1); then
	echo "boot-bochs.sh: xorriso could not build the boot ISO: ${err##*$'\n'}" >&2
	exit 4
fi

# Bochs's config syntax has no quoting we can rely on for odd paths: it
# sees names in its own directory, symlinked to the caller's files.
ln -s "$(realpath "$console")" "$tmp/com1"
ln -s "$(realpath "$output")" "$tmp/com2"

ips=${KVMTEST_BOCHS_IPS:-200000000}
cat >"$tmp/bochsrc" <<EOF
megs: $mem
cpu: model=$cpu, count=$smp, ips=$ips, reset_on_triple_fault=1, ignore_bad_msrs=1
romimage: file=$bios
vgaromimage: file=$vgabios
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path=boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=com1
com2: enabled=1, mode=file, dev=com2
clock: sync=none, time0=local
magic_break: enabled=0
display_library: rfb, options="timeout=0"
mouse: enabled=0
# Bochs's ALSA mixer thread aborts ("buffer overflow detected") on a host
# with no sound card: no sound at all.
sound: driver=dummy
speaker: enabled=0
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debugger_log: -
EOF

# --- run ------------------------------------------------------------------------
netns=()
unshare -n true 2>/dev/null && netns=(unshare -n --)

# Its own process group (set -m) so that one kill reaches everything, and
# a terminal's Ctrl-C reaches only us. stdin: the debugger's 'c'.
set -m
(cd "$tmp" && exec "${netns[@]}" "$bochs" -q -f bochsrc) \
	<<<"c" >"$tmp/bochs.out" 2>&1 &
pid=$!
set +m

boot_watch
if [ $rc = 0 ]; then
	wait "$pid"
	brc=$?
	pid=
	# Exit 1 is Bochs's way of ending after a guest poweroff or panic; it
	# did run if the BIOS got as far as the first serial port or the CPU.
	if [ $brc != 0 ] && ! grep -q 'CPU is in' "$tmp/bochs.log" 2>/dev/null &&
		[ ! -s "$console" ]; then
		why=$(grep -h '>>PANIC<<' "$tmp/bochs.out" "$tmp/bochs.log" 2>/dev/null |
			head -n 1 | sed 's/^.*>>PANIC<< *//')
		echo "boot-bochs.sh: bochs did not start (exit $brc): ${why:-see its output below}" >&2
		[ -n "$why" ] || tail -n 5 "$tmp/bochs.out" >&2
		rc=4
	fi
fi
[ $rc = 4 ] || [ -z "$smp_note" ] || echo "$smp_note" >&2
exit $rc
