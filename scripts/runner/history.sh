# scripts/runner/history.sh: recorded durations (sourced by run_tests.sh).
# A run writes results.tsv (report.sh); the next one reads it back to
# balance --shard slices and to derive per-test timeouts, so a hang is
# declared in seconds instead of at the list's generous limit.
#
# H_ms[name]: median wall time (ms) of the runs that finished (any outcome
# but a timeout): what a shard costs. H_pass_ms[name]: median of the
# passing runs only: a timeout from a test that skipped or crashed early
# would kill the next, real run.

declare -A H_ms=() H_pass_ms=()
history_src=
HISTORY_FACTOR=10 HISTORY_FLOOR=10

# history_file SRC: REPLY = the results.tsv that SRC (a result directory or
# the file) names, or fail.
history_file() {
	REPLY=$1
	[[ -d $REPLY ]] && REPLY=$REPLY/results.tsv
	[[ -f $REPLY && -r $REPLY ]]
}

# history_load FILE: read results.tsv (name, run, outcome, seconds, detail).
history_load() {
	local file=$1 name run o t rest ms n
	local -A all=() pass=()
	while IFS=$'\t' read -r name run o t rest; do
		[[ $name == '#'* || -z $name ]] && continue
		[[ $t =~ ^([0-9]+)\.([0-9]{3})$ ]] || continue
		ms=$((10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]}))
		[[ $o == TIMEOUT || $o == NOTRUN ]] && continue
		all[$name]+=" $ms"
		[[ $o == PASS || $o == XPASS ]] && pass[$name]+=" $ms"
	done <"$file"
	for n in "${!all[@]}"; do median ${all[$n]}; H_ms[$n]=$REPLY; done
	for n in "${!pass[@]}"; do median ${pass[$n]}; H_pass_ms[$n]=$REPLY; done
	history_src=$file
}

# median N...: REPLY = the median (the lower one of an even count). An
# insertion sort in the shell: a few values per test, and no fork (a run
# reads the durations of every test in the list).
median() {
	local -a v=()
	local x i
	for x; do
		for ((i = ${#v[@]}; i > 0 && v[i - 1] > x; i--)); do v[i]=${v[i - 1]}; done
		v[i]=$x
	done
	REPLY=${v[(${#v[@]} - 1) / 2]}
}

# effective_timeout E: REPLY = entry E's timeout in seconds (0: none):
# --timeout if given, else FACTOR x its recorded passing median (rounded
# up, at least FLOOR), never above the list's own. REPLY_NOTE says where a
# derived one comes from.
effective_timeout() {
	local e=$1 to=${E_to[$1]} ms
	REPLY_NOTE=
	if [[ -n $opt_timeout ]]; then
		REPLY=$opt_timeout
		return
	fi
	ms=${H_pass_ms[${E_name[e]}]-}
	if [[ -n $ms ]]; then
		ms=$(((ms * HISTORY_FACTOR + 999) / 1000))
		((ms < HISTORY_FLOOR)) && ms=$HISTORY_FLOOR
		if ((to == 0 || ms < to)); then
			to=$ms
			REPLY_NOTE="${HISTORY_FACTOR}x its median in $history_src; --timeout or --durations none for the list's"
		fi
	fi
	REPLY=$to
}

# timeouts_init: E_eto[e] and E_tonote[e] for every selected entry.
timeouts_init() {
	local e
	E_eto=() E_tonote=()
	for e in "${sel[@]}"; do
		effective_timeout "$e"
		E_eto[e]=$REPLY E_tonote[e]=$REPLY_NOTE
	done
}
