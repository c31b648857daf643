# scripts/runner/list.sh: the test lists and the selection (sourced by
# run_tests.sh). The only reader of tests.list: the Makefile
# (--print-binaries) and the VM lanes (--plan) ask the runner.
#
#   name  binary  timeout  groups  [args...]
#
# E_*: one element per entry of all lists, in list order. E_bin is the
# full path (the list's --bin-dir joined with the binary column).

E_name=() E_bin=() E_rel=() E_to=() E_groups=() E_args=()
declare -A E_index=()

# list_read FILE BINDIR
list_read() {
	local file=$1 dir=$2 line lineno=0
	local -a f
	[[ -f $file && -r $file ]] || bad "cannot read the test list '$file'"
	while IFS= read -r line || [[ -n $line ]]; do
		((lineno++))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		set -f
		f=($line)
		set +f
		((${#f[@]} >= 4)) || bad "$file:$lineno: want 'name binary timeout groups [args...]'"
		[[ ${f[0]} =~ ^[A-Za-z0-9_.+-]+$ ]] || bad "$file:$lineno: bad test name '${f[0]}'"
		[[ -z ${E_index[${f[0]}]-} ]] ||
			bad "$file:$lineno: test '${f[0]}' is listed twice (names are unique across every --list)"
		[[ ${f[2]} =~ ^[0-9]+$ ]] || bad "$file:$lineno: timeout '${f[2]}' is not whole seconds"
		E_index[${f[0]}]=${#E_name[@]}
		E_name+=("${f[0]}") E_rel+=("${f[1]}") E_bin+=("$dir/${f[1]}") E_to+=($((10#${f[2]})))
		E_groups+=("${f[3]}") E_args+=("${f[*]:4}")
	done <"$file"
}

# select_entries: sel=(entry indices) from sel_t/sel_g/sel_x. Every
# pattern must match something: a typo should not silently run nothing
# (or everything).
select_entries() {
	local e n s p where="${opt_lists[*]}"
	local -A hit=()
	sel=()
	for ((e = 0; e < ${#E_name[@]}; e++)); do
		n=${E_name[e]}
		s=$(((${#sel_t[@]} + ${#sel_g[@]}) == 0))
		for p in "${sel_t[@]}"; do [[ $n == $p ]] && s=1 hit[t:$p]=1; done
		for p in "${sel_g[@]}"; do [[ ,${E_groups[e]}, == *,$p,* ]] && s=1 hit[g:$p]=1; done
		for p in "${sel_x[@]}"; do [[ $n == $p ]] && s=0 hit[x:$p]=1; done
		((s)) && sel+=("$e")
	done
	for p in "${sel_t[@]}"; do [[ -n ${hit[t:$p]-} ]] || bad "-t '$p' matches no test in $where"; done
	for p in "${sel_g[@]}"; do [[ -n ${hit[g:$p]-} ]] || bad "-g '$p' matches no group in $where"; done
	for p in "${sel_x[@]}"; do [[ -n ${hit[x:$p]-} ]] || bad "-x '$p' matches no test in $where"; done
	return 0
}

# shard_select K N: keep in sel only the K-th of N slices. Longest first,
# each to the slice with the least work so far (ties: the lower slice);
# weights are whole milliseconds from the recorded durations (else the
# timeout), names break ties, so every host with the same list and
# durations cuts the same slices, and every entry lands in exactly one.
shard_select() {
	local k=$1 n=$2 e i best w
	local -a load order keep
	for ((i = 0; i < n; i++)); do load[i]=0; done
	mapfile -t order < <(for e in "${sel[@]}"; do
		entry_weight "$e"
		# Heaviest first by a plain sort (busybox's too): the key
		# counts down.
		printf '%012d %s %d\n' $((999999999999 - REPLY)) "${E_name[e]}" "$e"
	done | sort)
	for w in "${order[@]}"; do
		e=${w##* } w=${w%% *}
		w=$((999999999999 - 10#$w)) best=0
		for ((i = 1; i < n; i++)); do ((load[i] < load[best])) && best=$i; done
		load[best]=$((load[best] + w))
		((best == k - 1)) && keep[e]=1
	done
	local -a s=()
	for e in "${sel[@]}"; do [[ -n ${keep[e]-} ]] && s+=("$e"); done
	sel=("${s[@]}")
	return 0
}

# entry_weight E: REPLY = milliseconds the entry is expected to take:
# its recorded median when durations were given explicitly (--durations),
# else its timeout. (This host's own last run differs from host to host:
# slices cut from it would not add up across a CI matrix.)
entry_weight() {
	local ms=
	((history_explicit)) && ms=${H_ms[${E_name[$1]}]-}
	[[ -n $ms ]] || ms=$((E_to[$1] * 1000))
	((ms > 0)) || ms=1
	REPLY=$ms
}

# print_binaries: every binary the lists name, once each, in list order
# (the list's column: the Makefile builds build/<that>).
print_binaries() {
	local e
	local -A done_bin=()
	for e in "${!E_rel[@]}"; do
		[[ -n ${done_bin[${E_rel[e]}]-} ]] && continue
		done_bin[${E_rel[e]}]=1
		printf '%s\n' "${E_rel[e]}"
	done
}
