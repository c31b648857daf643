#!/bin/bash
# Boot backend of the AMD VM lane: one QEMU run of a kernel + initramfs.
#
#   boot-qemu.sh --kernel IMAGE --initrd FILE --console FILE --output FILE
#                --cpu MODEL --mem MB --smp N --timeout S --append "cmdline"
#                [--accel tcg|kvm]
#
# The contract every boot-<flavour>.sh keeps (scripts/vm/lane.sh drives it):
#   guest ttyS0 -> --console FILE (kernel console), guest ttyS1 -> --output
#   FILE (the /init protocol); both files are created empty at start.
#   --append is added to the backend's own base command line, which has the
#   console on ttyS0, panic=-1 (a panic ends the run at once) and no reboot.
#   The emulator and everything it started is killed at --timeout seconds,
#   on SIGINT/SIGTERM/SIGHUP, and when the parent (lane.sh) goes away.
#   Exit: 0 the emulator ended by itself (poweroff or panic: judge the run
#   from the two files, not from this code), 124 timeout, 130/143 signal,
#   2 bad usage, 3 emulator not installed (one line on stderr says which
#   package), 4 the emulator refused to start (its message on stderr).
# --accel is this backend's own: tcg by default; kvm needs a host with
# nested virtualization. The options and the stopping of the emulator are
# shared with boot-bochs.sh: scripts/vm/boot-common.sh.
set -uo pipefail

kernel= initrd= console= output= cpu='EPYC,+svm,+npt,+la57' mem=2048 smp=1
timeout=600 append= accel=tcg

boot_name=boot-qemu.sh
# shellcheck source=scripts/vm/boot-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/boot-common.sh"
boot_parse_args "$@"

qemu=$(command -v qemu-system-x86_64) || {
	echo "qemu-system-x86_64 not found; apt-get install qemu-system-x86" >&2
	exit 3
}

case $accel in
tcg)
	# Multi-threaded TCG crashed the 6.12 guest kernel with several vCPUs;
	# one host thread running all vCPUs in turn is stable.
	accel_opt=tcg
	[ "$smp" -gt 1 ] && accel_opt=tcg,thread=single
	# A larger translation cache means fewer re-translations (MB).
	accel_opt+=",tb-size=256"
	;;
kvm) accel_opt=kvm ;;
*) usage "--accel tcg|kvm" ;;
esac

# QEMU option values escape a comma by doubling it.
qarg() { printf '%s' "${1//,/,,}"; }

: >"$console" && : >"$output" || usage "cannot write '$console' or '$output'"

trap 'boot_stop; rm -f "$output.qemu-err"' EXIT
# The emulator gets its own process group (set -m) so that one kill reaches
# it and anything it spawned, and a terminal's Ctrl-C reaches only us.
set -m
"$qemu" -nodefaults -no-user-config -display none -no-reboot \
	-machine pc -accel "$accel_opt" -cpu "$cpu" -smp "$smp" -m "$mem" \
	-kernel "$kernel" -initrd "$initrd" \
	-chardev "file,id=con,path=$(qarg "$console")" -serial chardev:con \
	-chardev "file,id=out,path=$(qarg "$output")" -serial chardev:out \
	-append "console=ttyS0 panic=-1 $append" \
	</dev/null 2>"$output.qemu-err" &
pid=$!
set +m

# With -accel kvm, QEMU stops the guest on a KVM internal error and waits
# forever: end it now rather than at the timeout.
kvm_internal_error() {
	if [ "$accel" = kvm ] && grep -q 'KVM internal error' "$output.qemu-err" 2>/dev/null; then
		return 4
	fi
}
boot_watch kvm_internal_error
if [ $rc = 4 ]; then
	cat "$output.qemu-err" >&2
elif [ $rc = 0 ]; then
	wait "$pid"
	qrc=$?
	pid=
	# QEMU exits 0 after a guest poweroff or, with -no-reboot, a panic;
	# non-zero means it could not start (bad CPU model, unreadable file).
	if [ $qrc != 0 ]; then
		cat "$output.qemu-err" >&2
		rc=4
	fi
fi
exit $rc
