# scripts/runner/compare.sh: --compare OLD NEW (sourced by run_tests.sh).
# What changed between two result directories (two kernels, commits or
# hosts), per test and per case: newly failing, newly passing, newly
# skipped and skip reasons that changed, tests only one side ran, and wall
# times that moved by more than --time-threshold percent (and 0.5 s).
# Exit 1 when something newly fails (a test, or a case of a test), else 0.
#
# Reads each side's results.tsv (with --repeat: the last run of each
# test) and the 'ok N case' / 'not ok N case' lines of each test's log.

# cmp_load DIR PREFIX: PREFIX_o[name] outcome, _t seconds (ms), _d detail,
# _log the log file; PREFIX_names in order.
cmp_load() {
	local dir=$1 p=$2 name run o t d log
	[[ -d $dir ]] || bad "--compare: '$dir' is not a directory"
	[[ -r $dir/results.tsv ]] ||
		bad "--compare: no results.tsv in '$dir' (a result directory of run_tests.sh, from this version on)"
	declare -gA "${p}_o=()" "${p}_t=()" "${p}_d=()" "${p}_log=()"
	declare -ga "${p}_names=()"
	local -n O=${p}_o T=${p}_t D=${p}_d L=${p}_log N=${p}_names
	while IFS=$'\t' read -r name run o t d; do
		[[ $name == '#'* || -z $name ]] && continue
		[[ -n ${O[$name]-} ]] || N+=("$name")
		O[$name]=$o D[$name]=$d
		[[ $t =~ ^([0-9]+)\.([0-9]{3})$ ]] && T[$name]=$((10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]}))
		log=$dir/$name.log
		[[ $run != 1 && -f $dir/$name.$run.log ]] && log=$dir/$name.$run.log
		L[$name]=$log
	done <"$dir/results.tsv"
}

# cmp_cases LOG: REPLY = "state name" lines of the cases the log shows
# (pass, fail, skip), one per line; only the test's own output counts.
cmp_cases() {
	local l s=
	REPLY=
	[[ -r $1 ]] || return 0
	while IFS= read -r l; do
		[[ $l == '# ---- end of output ----' ]] && break
		case_line "$l" && s+=$REPLY$'\n'
	done <"$1"
	REPLY=$s
}

cmp_bad() { [[ $1 == FAIL || $1 == TIMEOUT ]]; }
cmp_good() { [[ $1 == PASS || $1 == XPASS || $1 == XFAIL ]]; }

# compare_dirs OLD NEW: print the changes, return 1 if something newly fails.
compare_dirs() {
	local old=$1 new=$2 name a b line worse=0 n_changes=0 ta tb
	cmp_load "$old" CA
	cmp_load "$new" CB
	local -a out_fail=() out_fixed=() out_skip=() out_other=() out_time=() out_cases=() out_gone=() out_added=()
	for name in "${CB_names[@]}"; do
		b=${CB_o[$name]}
		if [[ -z ${CA_o[$name]-} ]]; then
			out_added+=("$name: $b${CB_d[$name]:+ (${CB_d[$name]})}")
			cmp_bad "$b" && worse=1 out_fail+=("$name: new test, $b (${CB_d[$name]})")
			continue
		fi
		a=${CA_o[$name]}
		if cmp_bad "$b" && ! cmp_bad "$a"; then
			out_fail+=("$name: $a -> $b (${CB_d[$name]})")
			worse=1
		elif cmp_bad "$a" && ! cmp_bad "$b"; then
			out_fixed+=("$name: $a (${CA_d[$name]}) -> $b${CB_d[$name]:+ (${CB_d[$name]})}")
		elif [[ $b == SKIP && $a != SKIP ]]; then
			out_skip+=("$name: $a -> SKIP (${CB_d[$name]})")
		elif [[ $a == SKIP && $b == SKIP && ${CA_d[$name]} != "${CB_d[$name]}" ]]; then
			out_skip+=("$name: skip reason changed: '${CA_d[$name]}' -> '${CB_d[$name]}'")
		elif [[ $a != "$b" ]]; then
			out_other+=("$name: $a -> $b${CB_d[$name]:+ (${CB_d[$name]})}")
		elif cmp_bad "$a" && [[ ${CA_d[$name]} != "${CB_d[$name]}" ]]; then
			out_other+=("$name: still $b, now: ${CB_d[$name]} (was: ${CA_d[$name]})")
		fi
		# Cases: by name, as the two logs print them.
		local -A ca=()
		local st cn
		cmp_cases "${CA_log[$name]}"
		while IFS= read -r line; do
			[[ -n $line ]] || continue
			ca[${line#* }]=${line%% *}
		done <<<"$REPLY"
		cmp_cases "${CB_log[$name]}"
		while IFS= read -r line; do
			[[ -n $line ]] || continue
			st=${line%% *} cn=${line#* }
			a=${ca[$cn]-}
			unset "ca[$cn]"
			[[ -z $a || $a == "$st" ]] && continue
			out_cases+=("$name: case '$cn': $a -> $st")
			[[ $st == fail ]] && worse=1
		done <<<"$REPLY"
		for cn in "${!ca[@]}"; do out_cases+=("$name: case '$cn': ${ca[$cn]} -> not printed"); done
		unset ca
		# Times: both ran (not skipped), and the change is big enough.
		ta=${CA_t[$name]-} tb=${CB_t[$name]-}
		if [[ -n $ta && -n $tb && ${CA_o[$name]} != SKIP && $b != SKIP ]] &&
			(((tb - ta) * 100 > ta * opt_threshold || (ta - tb) * 100 > ta * opt_threshold)) &&
			((tb - ta > 500 || ta - tb > 500)); then
			fmt_s $((ta * 1000))
			a=$REPLY
			fmt_s $((tb * 1000))
			out_time+=("$name: ${a} s -> ${REPLY} s ($(((tb - ta) * 100 / (ta ? ta : 1)))%)")
		fi
	done
	for name in "${CA_names[@]}"; do
		[[ -n ${CB_o[$name]-} ]] || out_gone+=("$name: was ${CA_o[$name]}")
	done
	echo "# compare: $old -> $new"
	cmp_section "NEWLY FAILING" "${out_fail[@]}"
	cmp_section "CASES CHANGED" "${out_cases[@]}"
	cmp_section "NEWLY PASSING" "${out_fixed[@]}"
	cmp_section "NEWLY SKIPPED" "${out_skip[@]}"
	cmp_section "OTHER CHANGES" "${out_other[@]}"
	cmp_section "TIME (beyond ${opt_threshold}%)" "${out_time[@]}"
	cmp_section "ONLY IN NEW" "${out_added[@]}"
	cmp_section "ONLY IN OLD" "${out_gone[@]}"
	n_changes=$((${#out_fail[@]} + ${#out_cases[@]} + ${#out_fixed[@]} + ${#out_skip[@]} + ${#out_other[@]} + ${#out_time[@]} + ${#out_added[@]} + ${#out_gone[@]}))
	((n_changes)) || echo "# no changes in ${#CB_names[@]} test(s)"
	if ((worse)); then
		echo "something newly fails"
		return 1
	fi
	echo "nothing newly fails"
	return 0
}

cmp_section() {
	local title=$1 l
	shift
	(($#)) || return 0
	echo "$title:"
	for l; do printf '  %s\n' "$l"; done
}
