#!/usr/bin/env bash
# run_tests.sh: the kvmtest runner. Reads tests.list, runs the selected
# entries (in parallel if asked), prints TAP 13 and a summary, and keeps
# everything under a per-run result directory. docs/runner.md has the
# details; -h the short form. The work is done by the modules in
# scripts/runner/, one concern each; this file is the order of events.
#
# Portability: this same file runs inside the VM lanes under bash-static with
# busybox as the only userland. So: bash builtins for everything on the hot
# path ($EPOCHREALTIME, read, [[ ]], arrays, wait -n -p) and only
# busybox-compatible external commands (setsid, kill, sleep, mkdir, cat,
# grep, tail, sort, ln, dmesg, uname, nproc), each used as little as
# possible: running one test costs one fork (the test itself).

# --- VM lanes: they take the whole argument list, before any parsing --------
here=${BASH_SOURCE[0]%/*}
[[ $here == "${BASH_SOURCE[0]}" ]] && here=.
for a; do
	case $a in
	--vm | --vm=*)
		if [[ ! -x $here/scripts/vm/lane.sh ]]; then
			echo "run_tests.sh: $a needs scripts/vm/lane.sh, which is not in this tree" >&2
			exit 2
		fi
		exec "$here/scripts/vm/lane.sh" "$@"
		;;
	esac
done

# Byte semantics for pattern matching (XML sanitising) and a '.' decimal
# point in $EPOCHREALTIME, whatever the caller's locale.
export LC_ALL=C
[[ $here == /* ]] || here=$PWD/$here
here=${here%/.}
prog=run_tests.sh
cmdline=("$0" "$@")

# wait -p arrived in bash 5.1.
if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
	echo "$prog: needs bash 5.1 or newer (this is $BASH_VERSION)" >&2
	exit 2
fi
for m in options list history expect klog schedule report outdir compare; do
	if ! . "$here/scripts/runner/$m.sh"; then
		echo "$prog: cannot read $here/scripts/runner/$m.sh: the runner needs its scripts/runner/ beside it" >&2
		exit 2
	fi
done

# Every exit after the options goes through here: under --bisect only 0, 1
# and 125 may leave, whatever happened.
leave() {
	local rc=$1
	if ((opt_bisect)) && ((rc != 0 && rc != 1 && rc != 125)); then
		rc=125
	fi
	exit "$rc"
}

parse_options "$@"
if ((${#opt_compare[@]})); then
	compare_dirs "${opt_compare[@]}"
	exit $?
fi

# --- what to run ----------------------------------------------------------------
for i in "${!opt_lists[@]}"; do list_read "${opt_lists[i]}" "${opt_bin_dirs[i]}"; done
nent=${#E_name[@]}
if [[ $opt_print == binaries ]]; then
	print_binaries
	exit 0
fi
select_entries
# Recorded durations: named ones, else this host's last finished run.
history_explicit=0
if [[ -n $opt_durations && $opt_durations != none ]]; then
	history_file "$opt_durations" || bad "--durations: no results.tsv at '$opt_durations'"
	history_load "$REPLY"
	history_explicit=1
elif [[ -z $opt_durations ]] && history_file "$here/results/latest-host"; then
	history_load "$REPLY"
fi
[[ -n $opt_shard ]] && shard_select "${opt_shard%/*}" "${opt_shard#*/}"
nsel=${#sel[@]}
timeouts_init
host_facts
expect_choose
for f in "${expect_files[@]}"; do expect_read "$f"; done

# --- -l, --plan: list and stop ------------------------------------------------
if ((opt_list_only)); then
	printf '%-28s %-22s %7s  %s\n' NAME GROUPS TIMEOUT COMMAND
	for e in "${sel[@]}"; do
		to=${E_eto[e]}s
		[[ $to == 0s ]] && to=none
		x=
		[[ -n ${EX_kind[e]-} ]] && x="   [${EX_kind[e]-}: ${EX_reason[e]-}]"
		[[ -n ${EC_pat[e]-} ]] && x+="   [xfail cases: ${EC_pat[e]//$'\n'/ }]"
		printf '%-28s %-22s %7s  %s%s\n' "${E_name[e]}" "${E_groups[e]}" "$to" \
			"${E_rel[e]}${E_args[e]:+ ${E_args[e]}}" "$x"
	done
	exit 0
fi
if [[ $opt_print == plan ]]; then
	for e in "${sel[@]}"; do printf '%s %s\n' "${E_name[e]}" "${E_eto[e]}"; done
	exit 0
fi
# (An empty slice, more slices than tests, is an empty run: CI still gets
# its TAP plan 1..0 and a junit.xml.)
((nsel || (nent && ${#opt_shard}))) || bad "${opt_lists[*]} lists no tests"
outdir_check

# --- build -------------------------------------------------------------------
# Ctrl-C from here on ends with a clean exit code (125 under --bisect).
trap 'echo "$prog: interrupted" >&2; leave 130' INT TERM HUP
if ((!opt_no_build)); then
	if ! command -v make >/dev/null; then
		echo "$prog: 'make' not found: build the tests elsewhere and pass --bin-dir DIR (or --no-build)" >&2
		leave $((opt_bisect ? 125 : 1))
	fi
	# stdout is the TAP stream: the build talks on stderr.
	if ! make -s -C "$here" >&2; then
		echo "$prog: the build failed ('make -s' in $here); fix it or run with --no-build" >&2
		leave $((opt_bisect ? 125 : 1))
	fi
fi

# --- host checks -------------------------------------------------------------------
outdir_create
report_open
kvm_problem=
if [[ ! -e /dev/kvm ]]; then
	kvm_problem="/dev/kvm does not exist: load KVM (modprobe kvm_intel or modprobe kvm_amd), or run the suite in an emulated host with --vm; the tests will skip"
elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	kvm_problem="no permission on /dev/kvm: add yourself to group kvm (usermod -aG kvm \$USER, then log in again), or run the suite in an emulated host with --vm; the tests will skip"
fi
klog_init
jobs=$opt_jobs
if [[ -z $jobs ]]; then
	jobs=$(nproc 2>/dev/null)
	if [[ ! $jobs =~ ^[1-9][0-9]*$ ]]; then
		jobs=0
		while read -r a _; do [[ $a == processor ]] && ((jobs++)); done </proc/cpuinfo
		((jobs)) || jobs=1
	fi
fi
jobs_init

# --- run ---------------------------------------------------------------------------
trap on_exit EXIT
trap 'interrupted=SIGINT' INT
trap 'interrupted=SIGTERM' TERM
trap 'interrupted=SIGHUP' HUP
now_us
run_start=$REPLY
printf -v run_date '%(%F %T %z)T' -1
tap "TAP version 13"
tap "1..$total"
expect_note
[[ -n $REPLY ]] && note "$REPLY"
[[ -n $history_src ]] && note "timeouts: ${HISTORY_FACTOR}x each test's median in $history_src (at least ${HISTORY_FLOOR} s, at most the list's; --durations none for the list's)"
[[ -n $kvm_problem ]] && note "$kvm_problem" && ((opt_quiet)) && echo "# $prog: $kvm_problem" >&2
[[ -n $klog_note ]] && note "$klog_note"
note "results in $out"

# Bash's own notices about test processes ("Segmentation fault ...") would
# land on the terminal out of order: during the run, the shell's stderr goes
# to a file in the result directory; our own messages use the saved fd.
exec {err_fd}>&2 2>>"$out/runner-stderr.txt"
run_jobs
stop_jobs
report_interrupted
[[ -n $ticker ]] && kill "$ticker" 2>/dev/null && wait "$ticker" 2>/dev/null
ticker=
exec 2>&$err_fd {err_fd}>&-
[[ -s $out/runner-stderr.txt ]] || rm -f "$out/runner-stderr.txt"
now_us
run_us=$((REPLY - run_start))

report_summary
write_junit
write_tsv
write_summary_txt
outdir_finish

# --- exit status --------------------------------------------------------------------------
if [[ -n $interrupted ]]; then
	((opt_bisect && failed_any)) && leave 1
	leave $((opt_bisect ? 125 : 130))
fi
if ((opt_bisect)); then
	((failed_any)) && leave 1
	# "Nothing was tested" is decided by what ran: every entry skipped
	# (a host without /dev/kvm skips them all). A missing /dev/kvm alone
	# says nothing: a selection that ran and passed is good.
	((n_pass + cnt[XFAIL] == 0)) && leave 125
	leave 0
fi
leave $((failed_any ? 1 : 0))
