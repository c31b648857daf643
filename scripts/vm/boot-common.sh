# Shared part of the VM lane's boot backends, sourced by boot-qemu.sh and
# boot-bochs.sh (not run on its own). Their contract (top of boot-qemu.sh)
# is the same, so the options and how the emulator is stopped (at
# --timeout, on a signal, when lane.sh goes away) live here once.
#
# The backend, before sourcing: sets boot_name (its name in messages) and
# its defaults for kernel initrd console output cpu mem smp timeout append
# accel. Then it calls boot_parse_args "$@", starts the emulator in its own
# process group with its PID in $pid, and calls boot_watch. Its EXIT trap
# calls boot_stop, so that every way out ends the emulator.
# shellcheck shell=bash disable=SC2154  # the backend sets those variables

usage() { echo "$boot_name: $*" >&2; exit 2; }

# Every option takes a value and lands in the variable of its name.
boot_parse_args() {
	local v
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel|--initrd|--console|--output|--cpu|--mem|--smp|--timeout|--append|--accel)
			[ $# -ge 2 ] || usage "$1 needs a value"
			v=${1#--}
			printf -v "$v" '%s' "$2"
			shift ;;
		*) usage "unknown option '$1'" ;;
		esac
		shift
	done
	for v in kernel initrd console output; do
		[ -n "${!v}" ] || usage "--$v is required"
	done
	[[ $mem =~ ^[0-9]+$ && $smp =~ ^[1-9][0-9]*$ && $timeout =~ ^[0-9]+$ ]] ||
		usage "--mem, --smp and --timeout take numbers"
}

# The emulator's PID, which leads its own process group (set -m); empty
# when there is none to stop.
pid=

# Stop the emulator and everything it started, and reap it.
boot_stop() {
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null
	# QEMU and Bochs end on SIGTERM at once; make sure of it.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

# A signal ends us with 128+signal; the backend's EXIT trap stops the
# emulator. (bash runs these between commands: within the 0.2 s sleeps of
# boot_watch.)
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# boot_watch [CHECK]: wait for the emulator to end by itself, and set rc:
# 0 when it did (the backend then reaps $pid for its exit code), 124 when
# it hit --timeout, 143 when our parent went away (even a SIGKILLed lane.sh
# must not leave an emulator spinning a CPU). CHECK, a command run every
# round, stops the emulator when it fails, and rc is its exit code.
boot_watch() {
	local parent=$PPID start=$SECONDS check=${1:-}
	rc=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $((SECONDS - start)) -ge "$timeout" ]; then
			rc=124
		elif ! kill -0 "$parent" 2>/dev/null; then
			rc=143
		elif [ -n "$check" ]; then
			"$check" || rc=$?
		fi
		if [ $rc != 0 ]; then
			boot_stop
			return
		fi
		# Short sleeps keep the exit prompt after a poweroff.
		sleep 0.2
	done
}
