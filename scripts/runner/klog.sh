# scripts/runner/klog.sh: the kernel-log watch (sourced by run_tests.sh).
# /dev/kmsg read by the runner's shell itself (no process per test), or
# failing that `dmesg` once per finished test. Lines printed while a test
# runs are kept with it (K_lines[j]); splats among them (K_bad[j]) fail it.

klog_mode= klog_fd= klog_count=0 klog_note= klog_last=
klog_patterns=('WARNING:' 'BUG:' 'kernel BUG at' 'Oops' 'KVM_BUG_ON' 'UBSAN:'
	'possible circular locking' 'possible recursive locking'
	'inconsistent lock state' 'suspicious RCU usage')
# For the runner's own tests: one extra pattern that cannot disturb anyone
# else watching this machine's kernel log.
[[ -n ${KVMTEST_KLOG_EXTRA-} ]] && klog_patterns+=("$KVMTEST_KLOG_EXTRA")

# klog_init: pick the mode; KVMTEST_KLOG=off|dmesg forces one (the
# runner's tests use both). Boot warnings are not ours: start at the end.
klog_init() {
	local want=${KVMTEST_KLOG:-auto} fd
	local -a dm
	if [[ $want == auto ]] && { exec {fd}</dev/kmsg; } 2>/dev/null; then
		klog_mode=kmsg klog_fd=$fd
		while read -t 0 -u $klog_fd && read -r -u $klog_fd _; do :; done
	elif [[ $want != off ]] && mapfile -t dm < <(dmesg 2>/dev/null) && ((${#dm[@]})); then
		klog_mode=dmesg klog_count=${#dm[@]} klog_last=${dm[-1]}
	else
		klog_fd=
		klog_note="kernel log not readable (/dev/kmsg, dmesg): kernel WARN/BUG/lockdep splats will not be caught; run as root or set kernel.dmesg_restrict=0"
		[[ $want == off ]] && klog_note="kernel log watch disabled (KVMTEST_KLOG=off)"
	fi
	return 0
}

# Attribute a kernel log line to every test running now (plus the one being
# reaped, still counted as running until its result is in).
klog_add() {
	local l=$1 p r j bad=
	for p in "${klog_patterns[@]}"; do
		[[ $l == *"$p"* ]] && bad=1 && break
	done
	for r in "${!R_job[@]}"; do
		j=${R_job[$r]-}
		K_lines[j]+=$l$'\n'
		[[ -n $bad ]] && K_bad[j]+=$l$'\n'
	done
}

klog_drain() {
	local rec text us i
	((nrunning)) || [[ $klog_mode == kmsg ]] || return
	case $klog_mode in
	kmsg)
		# A record is "prio,seq,usec,flags;text"; continuation lines (the
		# record's key=value dictionary) start with a space. A read that
		# fails after data was announced is an overrun (EPIPE): go on.
		for i in 1 2; do
			while read -t 0 -u $klog_fd && IFS= read -r -u $klog_fd rec; do
				[[ $rec == ' '* ]] && continue
				text=${rec#*;} us=${rec#*,*,} us=${us%%,*}
				[[ $us =~ ^[0-9]+$ ]] || us=0
				((nrunning)) || continue
				printf -v rec '[%5d.%06d] %s' $((us / 1000000)) $((us % 1000000)) "$text"
				klog_add "$rec"
			done
			read -t 0 -u $klog_fd || break
		done
		;;
	dmesg)
		local -a lines
		mapfile -t lines < <(dmesg 2>/dev/null)
		((${#lines[@]})) || return
		# New lines follow the last one seen; a full ring buffer keeps its
		# line count while it rotates, so look for that line, not the count.
		i=${#lines[@]}
		while ((i > 0)) && [[ ${lines[i - 1]} != "$klog_last" ]]; do ((i--)); done
		((i == 0)) && i=$((${#lines[@]} > klog_count ? klog_count : ${#lines[@]}))
		for (( ; i < ${#lines[@]}; i++)); do klog_add "${lines[i]}"; done
		klog_count=${#lines[@]} klog_last=${lines[-1]}
		;;
	esac
}

# klog_verdict J OUTCOME DETAIL: splats fail the test whatever it said.
# REPLY/REPLY_DETAIL: the outcome and detail after the kernel's say;
# J_diag[j] gets the splat lines.
klog_verdict() {
	local j=$1 m l kbad=${K_bad[$1]}
	REPLY=$2 REPLY_DETAIL=$3
	[[ -n $kbad ]] || return 0
	m=${kbad%%$'\n'*}
	m=${m#\[*\] }
	if [[ $REPLY == PASS || $REPLY == SKIP ]]; then
		REPLY=FAIL REPLY_DETAIL="kernel log: $m"
	else
		REPLY_DETAIL+="; kernel log: $m"
	fi
	while IFS= read -r l; do J_diag[j]+="# kernel: $l"$'\n'; done <<<"${kbad%$'\n'}"
	[[ -n ${J_peers[j]} ]] &&
		J_diag[j]+="# (ran alongside${J_peers[j]}: the messages may be theirs)"$'\n'
	return 0
}

# klog_footer J: what the kernel printed during job J, for its log.
klog_footer() {
	local j=$1
	[[ -n $klog_mode ]] || return 0
	if [[ -n ${K_lines[j]} ]]; then
		printf '# ---- kernel log during the run ----\n'
		[[ -n ${J_peers[j]} ]] &&
			printf '# (other tests ran at the same time:%s; their messages can be here too)\n' "${J_peers[j]}"
		printf '%s' "${K_lines[j]}"
	else
		printf '# kernel log during the run: nothing\n'
	fi
}
