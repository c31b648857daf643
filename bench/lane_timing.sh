# What the VM lane benchmarks (vm_lane.sh, vm_intel_boot.sh) share, sourced
# by both (not run on its own): their options, the clock, and the best and
# median over the runs. What each one measures differs (a pipe read line by
# line against a log file polled), so the loops stay in the scripts.
# shellcheck shell=bash

# lane_timing_args NAME DEFAULT-RUNS ARGS...: sets runs (--runs N) and args
# (the rest, for the lane and the runner). -h prints the script's header.
lane_timing_args() {
	local name=$1
	runs=$2
	shift 2
	args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--runs) [ $# -ge 2 ] || { echo "$name: --runs needs a value" >&2; exit 2; }
			runs=$2; shift ;;
		--runs=*) runs=${1#--runs=} ;;
		-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "$name: --runs takes a positive number" >&2; exit 2; }
}

# Milliseconds since $1 (an EPOCHREALTIME value).
ms_since() {
	local now=${EPOCHREALTIME/./} then=${1/./}
	echo $(((now - then) / 1000))
}
fmt() { [ "$1" = - ] && echo - || printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# run_failed NAME RUN WHAT STDERR-FILE: a run that measured nothing ends
# the benchmark, with the tail of the lane's stderr to say why.
run_failed() {
	echo "$1: run $2 $3; its stderr:" >&2
	tail -n 25 "$4" >&2
	exit 1
}

# summary LABEL SUFFIX MS...: "LABEL best Xs, median Ys" over the runs,
# SUFFIX appended ('-' entries, a run that never got there, are ignored).
summary() {
	local label=$1 suffix=$2 v=() x
	shift 2
	for x in "$@"; do [ "$x" = - ] || v+=("$x"); done
	if [ ${#v[@]} -gt 0 ]; then
		mapfile -t v < <(printf '%s\n' "${v[@]}" | sort -n)
		set -- "${v[0]}" "${v[$((${#v[@]} / 2))]}"
	else
		set -- - -
	fi
	echo "$label best $(fmt "$1")s, median $(fmt "$2")s$suffix"
}
