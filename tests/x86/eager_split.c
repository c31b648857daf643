// SPDX-License-Identifier: GPL-2.0-only
/*
 * eager_split: huge mappings and dirty logging. With kvm.eager_page_split
 * on, enabling dirty logging on a slot mapped with 2 MiB pages splits them
 * all to 4 KiB at once (pages_2m drops by the slot's huge pages, pages_4k
 * grows by at least the slot's pages) before any vCPU runs; with manual
 * protect and INITIALLY_SET the split waits for KVM_CLEAR_DIRTY_LOG; with
 * the parameter off the huge mappings stay until written. Either way every
 * write is logged, and once logging is off the vCPUs' next accesses map
 * the slot huge again.
 *
 * In-tree ground: dirty_log_page_splitting_test (memstress over hugetlb,
 * the same stats at each step, eager_page_split required). What this adds:
 * the parameter's off state (split on write only) by setting it for the
 * test; the split measured before any vCPU runs, so it is KVM's eager split
 * and not write faults; INITIALLY_SET's split at the clear of just the
 * cleared range; and the dirty log of each pass checked exactly.
 */
#include "kvm_param.h"
#include "kvm_stats.h"
#include "memstress.h"
#include "test_check.h"

#define NR_VCPUS	2
#define SLOT_SIZE	(8 * MiB)
#define SLOT_PAGES	(SLOT_SIZE / PAGE_SIZE)
#define SLOT_HUGE	(SLOT_SIZE / (2 * MiB))

struct page_stats {
	u64 p4k, p2m;
};

static struct page_stats stats(struct memstress *ms)
{
	return (struct page_stats){
		.p4k = vm_get_stat(ms->vm, "pages_4k"),
		.p2m = vm_get_stat(ms->vm, "pages_2m"),
	};
}

/*
 * A populated VM: code and stack faulted in first (a pass touching no
 * data), then one pass over the data slot; skips if the host gave no THP.
 */
static struct memstress *populate(struct page_stats *base)
{
	struct memstress *ms = memstress_create(NR_VCPUS, SLOT_SIZE, 0,
						VM_MEM_ANON_THP);
	struct page_stats st;

	memset(addr_gpa2hva(ms->vm, MEMSTRESS_GPA), 1, SLOT_SIZE);
	ms->args.vcpu_mask = 0;
	memstress_run(ms);
	ms->args.vcpu_mask = ~0ULL;
	*base = stats(ms);
	memstress_run(ms);
	st = stats(ms);
	if (st.p2m - base->p2m != SLOT_HUGE)
		case_skip("the data slot was mapped with %llu 2 MiB pages, not %llu: no THP from the host",
			  st.p2m - base->p2m, SLOT_HUGE);
	return ms;
}

enum slot_mapping {
	SLOT_HUGE_PAGES,	/* the slot's huge pages all mapped */
	SLOT_SPLIT,		/* none of them: every one split */
	/*
	 * Split, and no vCPU ran since: every 4 KiB page of the slot is
	 * mapped. Only then can pages_4k be counted: once vCPUs run, the
	 * host's mm may zap 4 KiB SPTEs through the MMU notifier (compaction,
	 * a parallel test's memory pressure) after the pass wrote them.
	 */
	SLOT_SPLIT_ALL_4K,
};

static void check_split(struct memstress *ms, const struct page_stats *base,
			enum slot_mapping want, const char *when)
{
	struct page_stats st = stats(ms);

	if (want == SLOT_SPLIT_ALL_4K)
		CHECK(st.p2m == base->p2m && st.p4k - base->p4k >= SLOT_PAGES,
		      "%s: pages_2m +%lld, pages_4k +%lld; expected +0 and at least +%llu",
		      when, (long long)(st.p2m - base->p2m),
		      (long long)(st.p4k - base->p4k), SLOT_PAGES);
	else if (want == SLOT_SPLIT)
		CHECK(st.p2m == base->p2m,
		      "%s: pages_2m +%lld, expected +0 (no huge page left)",
		      when, (long long)(st.p2m - base->p2m));
	else
		CHECK(st.p2m - base->p2m == SLOT_HUGE,
		      "%s: pages_2m +%lld, expected the slot's %llu huge pages",
		      when, (long long)(st.p2m - base->p2m), SLOT_HUGE);
}

/* A write pass whose log must be exactly the slot. */
static void dirty_pass(struct memstress *ms, bool manual, const char *when)
{
	u64 log[SLOT_PAGES / 64];
	int missing = 0;

	memstress_run(ms);
	vm_get_dirty_log(ms->vm, MEMSTRESS_SLOT, log);
	for (u64 i = 0; i < SLOT_PAGES / 64; i++)
		missing += 64 - __builtin_popcountll(log[i]);
	CHECK(!missing, "%s: %d of %llu written pages not logged", when,
	      missing, SLOT_PAGES);
	if (manual) {
		struct kvm_clear_dirty_log c = {
			.slot = MEMSTRESS_SLOT, .num_pages = SLOT_PAGES,
			.dirty_bitmap = log,
		};

		vm_ioctl(ms->vm, KVM_CLEAR_DIRTY_LOG, &c);
	}
}

static void logging_off_rejoins(struct memstress *ms,
				const struct page_stats *base)
{
	vm_memslot_set_flags(ms->vm, MEMSTRESS_SLOT, 0);
	memstress_run(ms);
	check_split(ms, base, SLOT_HUGE_PAGES, "logging off, the slot written again");
}

static void case_eager(void *arg)
{
	struct page_stats base;
	struct memstress *ms;

	ms = populate(&base);
	vm_memslot_set_flags(ms->vm, MEMSTRESS_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	check_split(ms, &base, SLOT_SPLIT_ALL_4K, "dirty logging enabled, no vCPU run since");
	dirty_pass(ms, false, "a pass after the split");
	check_split(ms, &base, SLOT_SPLIT, "after a logged pass");
	logging_off_rejoins(ms, &base);
	memstress_destroy(ms);
}

static void case_initially_set(void *arg)
{
	u64 caps = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
	u64 ones[SLOT_PAGES / 64];
	struct kvm_clear_dirty_log c = {
		.slot = MEMSTRESS_SLOT, .dirty_bitmap = ones,
	};
	struct page_stats base, st;
	struct memstress *ms;

	if ((kvm_check_cap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) & caps) != caps)
		case_skip("no KVM_DIRTY_LOG_INITIALLY_SET");
	ms = populate(&base);
	vm_enable_cap(ms->vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, caps);
	vm_memslot_set_flags(ms->vm, MEMSTRESS_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	check_split(ms, &base, SLOT_HUGE_PAGES, "INITIALLY_SET logging enabled: nothing split yet");

	/* Clear the first 2 MiB only: only its huge page splits. */
	memset(ones, 0xff, sizeof(ones));
	c.first_page = 0;
	c.num_pages = 512;
	vm_ioctl(ms->vm, KVM_CLEAR_DIRTY_LOG, &c);
	st = stats(ms);
	CHECK(base.p2m + SLOT_HUGE - st.p2m == 1 && st.p4k - base.p4k >= 512,
	      "clearing one huge page's bits: pages_2m -%lld, pages_4k +%lld; expected -1 and at least +512",
	      (long long)(base.p2m + SLOT_HUGE - st.p2m),
	      (long long)(st.p4k - base.p4k));
	c.first_page = 512;
	c.num_pages = SLOT_PAGES - 512;
	vm_ioctl(ms->vm, KVM_CLEAR_DIRTY_LOG, &c);
	check_split(ms, &base, SLOT_SPLIT_ALL_4K, "after clearing the rest");
	dirty_pass(ms, true, "a pass after the clear");
	logging_off_rejoins(ms, &base);
	memstress_destroy(ms);
}

static void case_lazy(void *arg)
{
	struct page_stats base;
	struct memstress *ms;

	ms = populate(&base);
	vm_memslot_set_flags(ms->vm, MEMSTRESS_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	check_split(ms, &base, SLOT_HUGE_PAGES, "eager_page_split=N, logging enabled: still huge");
	dirty_pass(ms, false, "the first pass after enabling logging");
	check_split(ms, &base, SLOT_SPLIT, "writes split every huge page");
	logging_off_rejoins(ms, &base);
	memstress_destroy(ms);
}

int main(void)
{
	kvm_dev_fd();
	/* Set here, in the process that puts the old value back at exit. */
	kvm_param_set_or_skip("kvm", "eager_page_split", "Y");
	run_case(case_eager, NULL,
		 "eager_page_split=Y: enabling dirty logging splits the slot at once");
	run_case(case_initially_set, NULL,
		 "eager_page_split=Y, INITIALLY_SET: the split happens at the clear, range by range");
	kvm_param_set_or_skip("kvm", "eager_page_split", "N");
	run_case(case_lazy, NULL,
		 "eager_page_split=N: huge pages split as they are written");
	checks_exit();
}
