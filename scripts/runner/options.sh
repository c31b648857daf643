# scripts/runner/options.sh: the runner's command line (sourced by
# run_tests.sh). usage, bad input, and parse_options, which fills the opt_*
# variables and sel_t/sel_g/sel_x.

usage() {
	cat <<'EOF_USAGE'
Usage: ./run_tests.sh [options]
       ./run_tests.sh --compare OLD NEW [--time-threshold PCT]
Run kvmtest's tests (listed in tests.list) and report TAP 13 plus a summary.

Selecting (-t, -g and -x may repeat; every pattern must match some test):
  -l               list the selected tests with their groups, run nothing
  -t NAME|GLOB     run the tests whose name matches (e.g. -t 'guest_*')
  -g GROUP         run the tests in GROUP (e.g. -g mmu); -t and -g add up
  -x NAME|GLOB     exclude the tests whose name matches
  --shard K/N      run the K-th of N disjoint slices of the selection,
                   balanced by --durations (else by the list's timeouts)

Running:
  -j N             run N tests at a time (default: number of CPUs)
  --timeout S      per-test timeout in seconds for every test (0: none),
                   instead of each entry's own (or the one --durations gives)
  --durations D    recorded durations: a result directory or its
                   results.tsv; 'none' to ignore them. Default: the last run
                   on this host (results/latest-host); each test's timeout
                   becomes 10x its median there (at least 10 s, at most the
                   list's)
  --repeat N       run the selection N times; the summary counts each
                   outcome per test
  --expect FILE    known outcomes: lines 'NAME[:CASE] xfail|skip reason';
                   may repeat; 'none': no expectations. Default: every
                   expect/*.txt whose 'match:' line fits this host
  --bisect         for 'git bisect run': exit 0 good, 1 bad, 125 when
                   nothing could be tested; never anything else
  --list FILE      test list to read (default: tests.list next to this
                   script); may repeat: the suites run as one
  --bin-dir DIR    binaries of the --list before it (before any --list: of
                   every list without its own; default: build/ next to
                   this script); implies --no-build
  --no-build       do not run 'make -s' first
  --print-binaries print the binaries the lists name (one per line), run nothing
  --plan           print 'name timeout' for each selected test, run nothing

Output:
  -v               stream test output live, as '# ' lines
  -q               print only the summary
  -o DIR           result directory (default: results/<YYYYmmdd-HHMMSS>
                   next to this script, and a results/latest symlink);
                   an existing non-empty DIR is refused unless --overwrite
                   or it holds an unfinished run (INCOMPLETE)
  --overwrite      reuse a non-empty -o DIR (replaces the runner's files)
  -h, --help       this text

Comparing:
  --compare OLD NEW      what changed between two result directories, per
                         test and per case; exit 1 if something newly fails
  --time-threshold PCT   report time changes beyond PCT percent (default 50)

VM lanes (handled by scripts/vm/lane.sh; other options pass through):
  --vm[=amd|intel] run the selection in a kernel booted in an emulated
                   AMD (QEMU TCG, SVM+NPT) or Intel (Bochs, VMX+EPT) host
  --kernel IMAGE   kernel to boot (default: the newest /boot/vmlinuz-*)
  --modules DIR    where its KVM modules are ('none': built in)
  --vm-cpu MODEL   emulated CPU model
  --accel tcg|kvm  QEMU accelerator (default: tcg)
  --vm-mem MB      guest memory (default: 2048)
  --vm-smp N       guest vCPUs (default: 2)

Exit status: 0 nothing failed (skips and xfails are fine), 1 a test failed
or timed out, 2 bad usage, 130 interrupted. See docs/runner.md.
EOF_USAGE
}

# Bad input: one line saying what is wrong, one pointing at -h. Under
# --bisect a selection that does not exist at some old commit is "cannot
# test this commit" (125), not "bad commit".
bad() {
	printf '%s: %s\n' "$prog" "$1" >&2
	printf "Try '%s -h'.\n" "$prog" >&2
	exit $((opt_bisect ? 125 : 2))
}

# parse_options "$@": opt_lists[i] and opt_bin_dirs[i] pair each list with
# its binaries ('' until known).
parse_options() {
	local o v has_v a
	opt_bisect=0
	for a; do [[ $a == --bisect ]] && opt_bisect=1; done
	opt_lists=() opt_bin_dirs=() opt_bin_default= opt_no_build=0 opt_out= opt_overwrite=0
	opt_jobs= opt_timeout= opt_repeat=1 opt_verbose=0 opt_quiet=0 opt_expects=()
	opt_list_only=0 opt_print= opt_shard= opt_durations= opt_compare=() opt_threshold=50
	sel_t=() sel_g=() sel_x=()
	while (($#)); do
		o=$1 v= has_v=0
		shift
		case $o in
		--*=*) v=${o#*=} o=${o%%=*} has_v=1 ;;
		-[jtgxo]?*) v=${o:2} o=${o:0:2} has_v=1 ;;
		esac
		case $o in
		-t | -g | -x | -j | -o | --timeout | --repeat | --expect | --list | --bin-dir | --shard | \
			--durations | --time-threshold)
			if ((!has_v)); then
				(($#)) || bad "option $o needs a value"
				v=$1
				shift
			fi
			;;
		--compare)
			((has_v)) && bad "--compare takes two directories: --compare OLD NEW"
			(($# >= 2)) || bad "--compare takes two directories: --compare OLD NEW"
			opt_compare=("$1" "$2")
			shift 2
			continue
			;;
		*) ((has_v)) && bad "option $o takes no value" ;;
		esac
		case $o in
		-h | --help) usage; exit 0 ;;
		-l) opt_list_only=1 ;;
		-t) sel_t+=("$v") ;;
		-g) sel_g+=("$v") ;;
		-x) sel_x+=("$v") ;;
		-j) [[ $v =~ ^[1-9][0-9]*$ ]] || bad "-j takes a number of jobs (1 or more), not '$v'"
			opt_jobs=$v ;;
		--timeout) [[ $v =~ ^[0-9]+$ ]] || bad "--timeout takes whole seconds (0: none), not '$v'"
			opt_timeout=$((10#$v)) ;;
		--repeat) [[ $v =~ ^[1-9][0-9]*$ ]] || bad "--repeat takes a count (1 or more), not '$v'"
			opt_repeat=$v ;;
		--shard)
			[[ $v =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] && ((BASH_REMATCH[1] <= BASH_REMATCH[2])) ||
				bad "--shard takes K/N with 1 <= K <= N (e.g. --shard 2/4), not '$v'"
			opt_shard=$v ;;
		--durations) [[ -n $v ]] || bad "--durations needs a result directory, a results.tsv or 'none'"
			opt_durations=$v ;;
		--time-threshold) [[ $v =~ ^[0-9]+$ ]] || bad "--time-threshold takes a whole percentage, not '$v'"
			opt_threshold=$((10#$v)) ;;
		-o) [[ -n $v ]] || bad "-o needs a directory"
			opt_out=$v ;;
		--overwrite) opt_overwrite=1 ;;
		-v) opt_verbose=1 ;;
		-q) opt_quiet=1 ;;
		--expect) opt_expects+=("$v") ;;
		--bisect) opt_bisect=1 ;;
		--list) opt_lists+=("$v") opt_bin_dirs+=("") ;;
		--bin-dir)
			[[ -n $v ]] || bad "--bin-dir needs a directory"
			opt_no_build=1
			if ((${#opt_lists[@]})); then
				[[ -z ${opt_bin_dirs[-1]} ]] || bad "--bin-dir given twice for --list '${opt_lists[-1]}'"
				opt_bin_dirs[-1]=$v
			else
				opt_bin_default=$v
			fi ;;
		--no-build) opt_no_build=1 ;;
		--print-binaries) opt_print=binaries ;;
		--plan) opt_print=plan ;;
		-*) bad "unknown option '$o'" ;;
		*) bad "unexpected argument '$o' (to select a test: -t $o)" ;;
		esac
	done
	((opt_verbose && opt_quiet)) && bad "-v and -q exclude each other"
	local e
	for e in "${opt_expects[@]}"; do
		[[ $e == none ]] && ((${#opt_expects[@]} > 1)) && bad "--expect none excludes other --expect files"
	done
	((${#opt_lists[@]})) || opt_lists=("$here/tests.list") opt_bin_dirs=("")
	: "${opt_bin_default:=$here/build}"
	for e in "${!opt_bin_dirs[@]}"; do
		[[ -n ${opt_bin_dirs[e]} ]] || opt_bin_dirs[e]=$opt_bin_default
	done
	return 0
}
