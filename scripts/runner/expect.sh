# scripts/runner/expect.sh: known outcomes (sourced by run_tests.sh).
#
# An expectations file holds 'NAME[:CASE] xfail|skip reason' lines and, to
# be picked without --expect, one or more 'match:' lines saying which hosts
# it describes:
#
#   match: module=kvm_pvm
#   match: lane=vm-amd kernel=6.12.*
#
# Within a line every KEY=GLOB must fit (AND); any line may fit (OR). Keys:
# module (a loaded KVM module: kvm_intel, kvm_amd, kvm_pvm...), vendor
# (GenuineIntel, AuthenticAMD...), kernel (uname -r), lane (vm-amd,
# vm-intel inside the VM lanes, host elsewhere). Without --expect the
# runner reads every expect/*.txt that fits; a file without 'match:' is only
# read when named by --expect.
#
# EX_kind[e]/EX_reason[e]: whole-test entry; EC_pat[e]/EC_reason[e]: the
# case-level xfail entries of entry e, newline-separated, in step.

EX_kind=() EX_reason=() EC_pat=() EC_reason=() expect_files=()
declare -A HOST=()

# host_facts: HOST[module|vendor|kernel|lane]. KVMTEST_LANE overrides the
# lane (the VM lanes' host-side checks use it).
host_facts() {
	local m w v vendor= flags=
	# The first CPU's vendor_id and flags (vendor_id comes first).
	while read -r w _ v; do
		case $w in
		vendor_id) vendor=$v ;;
		flags) flags=" $v "; break ;;
		esac
	done </proc/cpuinfo 2>/dev/null
	HOST[vendor]=$vendor
	# A kernel with both vendor modules built in shows both under
	# /sys/module; only the one this CPU can run is the host's KVM.
	HOST[module]=
	for m in /sys/module/kvm_*; do
		[[ -d $m ]] || continue
		case ${m##*/} in
		kvm_intel) [[ $flags == *" vmx "* ]] || continue ;;
		kvm_amd) [[ $flags == *" svm "* ]] || continue ;;
		esac
		HOST[module]+=" ${m##*/}"
	done
	HOST[module]=${HOST[module]# }
	HOST[kernel]=$(uname -r 2>/dev/null)
	HOST[lane]=host
	local cmdline=
	read -r cmdline </proc/cmdline 2>/dev/null
	for w in $cmdline; do
		[[ $w == kvmtest.flavour=* ]] && HOST[lane]=vm-${w#kvmtest.flavour=}
	done
	[[ -n ${KVMTEST_LANE-} ]] && HOST[lane]=$KVMTEST_LANE
	return 0
}

# expect_fits FILE: does one of its match: lines fit this host? (No when
# it has none.) A match: line with an unknown key is bad input.
expect_fits() {
	local file=$1 line k v w m ok lineno=0 has
	while IFS= read -r line || [[ -n $line ]]; do
		((lineno++))
		[[ $line =~ ^[[:space:]]*match:(.*)$ ]] || continue
		ok=1
		for w in ${BASH_REMATCH[1]}; do
			k=${w%%=*} v=${w#*=}
			[[ $w == *=* && -n $v ]] || bad "$file:$lineno: want 'match: KEY=GLOB...', not '$w'"
			case $k in
			module)
				has=0
				for m in ${HOST[module]}; do [[ $m == $v ]] && has=1; done
				((has)) || ok=0 ;;
			vendor | kernel | lane) [[ ${HOST[$k]} == $v ]] || ok=0 ;;
			*) bad "$file:$lineno: unknown match key '$k' (module, vendor, kernel, lane)" ;;
			esac
		done
		((ok)) && return 0
	done <"$file"
	return 1
}

# expect_choose: expect_files from --expect, or every fitting expect/*.txt.
expect_choose() {
	local f
	expect_files=() expect_auto=0
	if ((${#opt_expects[@]})); then
		[[ ${opt_expects[0]} == none ]] && return 0
		expect_files=("${opt_expects[@]}")
		return 0
	fi
	expect_auto=1
	host_facts
	for f in "$here"/expect/*.txt; do
		[[ -f $f ]] && expect_fits "$f" && expect_files+=("$f")
	done
	return 0
}

# expect_read FILE: its entries onto the list's entries. An entry naming
# no test draws a warning when the file was asked for by name; a picked
# file may describe tests of lists not run this time.
expect_read() {
	local file=$1 line lineno=0 tpat kind why cpat matched e
	[[ -f $file && -r $file ]] || bad "cannot read the expectations file '$file'"
	while IFS= read -r line || [[ -n $line ]]; do
		((lineno++))
		[[ $line =~ ^[[:space:]]*(#|$|match:) ]] && continue
		[[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]*(.*)$ ]] ||
			bad "$file:$lineno: want 'NAME[:CASE] xfail|skip reason'"
		tpat=${BASH_REMATCH[1]} kind=${BASH_REMATCH[2]} why=${BASH_REMATCH[3]}
		why=${why%"${why##*[![:space:]]}"}
		[[ -n $why ]] || why="listed in ${file##*/}"
		cpat=
		if [[ $tpat == *:* ]]; then cpat=${tpat#*:} tpat=${tpat%%:*}; fi
		case $kind in
		xfail) ;;
		skip) [[ -z $cpat ]] || bad "$file:$lineno: 'skip' applies to whole tests, not to case '$cpat'" ;;
		*) bad "$file:$lineno: '$kind' is neither xfail nor skip" ;;
		esac
		matched=0
		for ((e = 0; e < ${#E_name[@]}; e++)); do
			[[ ${E_name[e]} == $tpat ]] || continue
			matched=1
			if [[ -n $cpat ]]; then
				EC_pat[e]+=$cpat$'\n' EC_reason[e]+=$why$'\n'
			else
				EX_kind[e]=$kind EX_reason[e]=$why
			fi
		done
		((matched || expect_auto)) ||
			echo "# $prog: $file:$lineno: no test named '$tpat' in ${opt_lists[*]} (ignored)" >&2
	done <"$file"
}

# expect_note: the '# ' line that says which files were picked, if any.
expect_note() {
	REPLY=
	((expect_auto && ${#expect_files[@]})) || return 0
	local f s=
	for f in "${expect_files[@]}"; do s+=", ${f#"$here"/}"; done
	REPLY="expectations for this host (${HOST[lane]}, ${HOST[module]:-no KVM module}): ${s:2} (--expect none to disable)"
}

# expect_apply JOB OUTCOME STATUS: turn FAIL into XFAIL and PASS into XPASS
# as the expectations say. REPLY: the outcome, REPLY_DETAIL: the new detail.
expect_apply() {
	local j=$1 o=$2 st=$3 e=${J_e[$1]}
	REPLY=$o REPLY_DETAIL=
	if [[ ${EX_kind[e]-} == xfail ]]; then
		case $o in
		FAIL) REPLY=XFAIL REPLY_DETAIL=${EX_reason[e]-} ;;
		PASS) REPLY=XPASS REPLY_DETAIL=${EX_reason[e]-} ;;
		esac
		return
	fi
	[[ -n ${EC_pat[e]-} ]] || return
	# Case-level entries: only a plain non-zero exit with KTAP case lines can
	# be excused, and only if every failing case is covered.
	[[ $o == FAIL || $o == PASS ]] || return
	[[ $o == PASS ]] || [[ -z ${J_signal[j]} && $st != 4 ]] || return
	[[ -z ${K_bad[j]} ]] || return
	local -a cp cr
	mapfile -t cp <<<"${EC_pat[e]%$'\n'}"
	mapfile -t cr <<<"${EC_reason[e]%$'\n'}"
	local l word name k why= hitcases= nbad=0 covered=0
	while IFS= read -r l; do
		case_line "$l" || continue
		word=${REPLY%% *} name=${REPLY#* }
		[[ $word == skip ]] && continue
		if [[ $o == FAIL && $word == fail ]]; then
			((nbad++))
			for k in "${!cp[@]}"; do
				if [[ $name == ${cp[k]} ]]; then
					((covered++))
					why+="${why:+; }$name: ${cr[k]}"
					break
				fi
			done
		elif [[ $o == PASS && $word == pass ]]; then
			for k in "${!cp[@]}"; do
				[[ $name == ${cp[k]} ]] && hitcases+="${hitcases:+; }$name: ${cr[k]}" && break
			done
		fi
	done < <(grep -E '^[[:space:]]*(not[[:space:]]+)?ok[[:space:]]+[0-9]' "${J_log[j]}" 2>/dev/null)
	REPLY=$o
	if [[ $o == FAIL ]] && ((nbad > 0 && covered == nbad)); then
		REPLY=XFAIL REPLY_DETAIL=$why
	elif [[ $o == PASS && -n $hitcases ]]; then
		REPLY=XPASS REPLY_DETAIL="xfail cases passed: $hitcases"
	fi
}

# case_line LINE: a KTAP case line? REPLY = 'pass|fail|skip NAME'. Only
# "# SKIP" and "# TODO" are directives: a '#' elsewhere (a case named
# "#PF ...") belongs to the name; skipped and todo cases are neither
# failures nor passes.
case_line() {
	local word name
	[[ $1 =~ ^[[:space:]]*(not[[:space:]]+)?ok[[:space:]]+[0-9]+[[:space:]]*(-[[:space:]]+)?(.*)$ ]] || return 1
	word=${BASH_REMATCH[1]} name=${BASH_REMATCH[3]}
	if [[ $name =~ ^(.*[^[:space:]]|)[[:space:]]*#[[:space:]]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo])([^[:alnum:]].*)?$ ]]; then
		REPLY="skip ${BASH_REMATCH[1]}"
		return 0
	fi
	name=${name%"${name##*[![:space:]]}"}
	if [[ -n $word ]]; then REPLY="fail $name"; else REPLY="pass $name"; fi
}
