#!/usr/bin/env bash
# Reserve the hugepages memslot_test's hugetlb backings need (one page of
# each size per case; a few spare for -j), so those cases run instead of
# skipping. Needs root; best effort: a kernel without 1 GiB pages, or too
# fragmented to find one, just leaves those cases skipping, and says so.
#
#   scripts/reserve-hugepages.sh [N_2M [N_1G]]     (default: 8 and 1)
#
# Only ever raises the reservation, so a host that keeps more is left alone.
set -u

want_2m=${1:-8} want_1g=${2:-1}
[[ $want_2m =~ ^[0-9]+$ && $want_1g =~ ^[0-9]+$ ]] || {
	echo "reserve-hugepages.sh: counts must be numbers (usage: $0 [N_2M [N_1G]])" >&2
	exit 2
}

reserve() {
	local dir=/sys/kernel/mm/hugepages/hugepages-$1 want=$2 have
	if [[ ! -d $dir ]]; then
		echo "reserve-hugepages.sh: this kernel has no $1 hugepages; those cases will skip"
		return
	fi
	have=$(<"$dir/nr_hugepages")
	((have >= want)) && return
	if ! echo "$want" 2>/dev/null >"$dir/nr_hugepages"; then
		echo "reserve-hugepages.sh: cannot write $dir/nr_hugepages (run as root); $1 cases will skip"
		return
	fi
	have=$(<"$dir/nr_hugepages")
	((have >= want)) ||
		echo "reserve-hugepages.sh: got $have of $want $1 hugepages (memory too fragmented?)"
}

reserve 2048kB "$want_2m"
reserve 1048576kB "$want_1g"
exit 0
