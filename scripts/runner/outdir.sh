# scripts/runner/outdir.sh: the result directory (sourced by run_tests.sh).
# Earlier results are never overwritten: the default is a new
# results/<stamp>; -o DIR must be new or empty, unless --overwrite, or
# unless DIR holds an unfinished run. A run marks its directory INCOMPLETE
# from start to its last file; an interrupted one keeps the mark, so the
# next run with the same -o reuses the directory instead of refusing it.

INCOMPLETE=INCOMPLETE

# outdir_check: a bad -o is bad input: say so before a long build, not after.
outdir_check() {
	[[ -n $opt_out ]] || return 0
	[[ -e $opt_out && ! -d $opt_out ]] && bad "-o '$opt_out' exists and is not a directory"
	shopt -s nullglob dotglob
	old=("$opt_out"/*)
	shopt -u nullglob dotglob
	((${#old[@]} == 0 || opt_overwrite)) || [[ -e $opt_out/$INCOMPLETE ]] ||
		bad "-o '$opt_out' is not empty: earlier results are never overwritten; pick a new directory or add --overwrite"
	return 0
}

# outdir_create: out=the directory, made (and cleared of a run's files when
# reused), marked INCOMPLETE.
outdir_create() {
	local f n stamp
	printf -v stamp '%(%Y%m%d-%H%M%S)T' -1
	if [[ -n $opt_out ]]; then
		out=$opt_out
		[[ -e $out/$INCOMPLETE ]] && ((!opt_overwrite)) &&
			echo "# $prog: -o '$out' holds an unfinished run: its files are replaced" >&2
		# Only what a run writes goes; anything else stays.
		for f in "${old[@]}"; do
			case ${f##*/} in
			*.log | results.tap | results.tsv | junit.xml | summary.txt | runner-stderr.txt | "$INCOMPLETE") rm -f "$f" ;;
			esac
		done
		mkdir -p "$out" || { echo "$prog: cannot create '$out'" >&2; leave 1; }
	else
		out=$here/results/$stamp
		if ! mkdir -p "$here/results" 2>/dev/null; then
			echo "$prog: cannot create '$here/results' (read-only tree?): use -o DIR" >&2
			leave 1
		fi
		# Two runs in the same second get -2, -3...: mkdir (not -p) fails
		# if the directory exists, so even simultaneous runs never share one.
		n=1
		until mkdir "$out" 2>/dev/null; do
			((++n < 100)) || { echo "$prog: cannot create a directory under '$here/results': use -o DIR" >&2; leave 1; }
			out=$here/results/$stamp-$n
		done
		ln -sfn "${out##*/}" "$here/results/latest" 2>/dev/null
	fi
	[[ $out == /* || $out == ./* || $out == ../* ]] || out=./$out
	printf 'run started %(%F %T %z)T by pid %d; removed when it ends, kept if it was interrupted\n' -1 $$ \
		>"$out/$INCOMPLETE"
}

# outdir_finish: a run that ended (not interrupted) is complete; the
# default directory of a finished host run is the one --durations reads
# next time (results/latest-host).
outdir_finish() {
	[[ -n $interrupted ]] && return 0
	rm -f "$out/$INCOMPLETE"
	[[ -z $opt_out && ${HOST[lane]:-host} == host ]] && ln -sfn "${out##*/}" "$here/results/latest-host" 2>/dev/null
	return 0
}
