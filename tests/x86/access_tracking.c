// SPDX-License-Identifier: GPL-2.0-only
/*
 * access_tracking: the host's idle page tracking sees what the guest
 * touches. Marking a page idle (/sys/kernel/mm/page_idle/bitmap, by PFN
 * from /proc/self/pagemap) makes the kernel ask KVM, through the
 * clear_young MMU notifier, to age the SPTE; reading the bitmap asks
 * whether it was accessed since. Pages the guest read or wrote in a pass
 * must come back non-idle, pages it did not touch must stay idle.
 *
 * In-tree ground: access_tracking_perf_test (times the passes, and
 * tolerates up to 10% of touched pages still idle, since clear_young does
 * not flush the TLB). What this adds: the guest reloads CR3 before each
 * pass, so a touched page must have been walked and the check is exact
 * both ways — touched pages non-idle, untouched pages idle — on read and
 * on write passes over half of each vCPU's slice.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memstress.h"
#include "test_check.h"

#define NR_VCPUS	2
#define SLOT_SIZE	(4 * MiB)
#define SLOT_PAGES	(SLOT_SIZE / PAGE_SIZE)
#define PAGEMAP_PFN	GENMASK_ULL(54, 0)
#define PAGEMAP_PRESENT	BIT_ULL(63)

static int idle_fd, pagemap_fd;
static u64 pfns[SLOT_PAGES];

static void open_files(void)
{
	idle_fd = open("/sys/kernel/mm/page_idle/bitmap", O_RDWR);
	if (idle_fd < 0)
		test_skip("no /sys/kernel/mm/page_idle/bitmap (errno %d): the kernel needs CONFIG_IDLE_PAGE_TRACKING",
			  errno);
}

/*
 * /proc/self/pagemap reads the mm of the process that opened it: each case
 * runs in a child of its own, so the child opens it.
 */
static void open_pagemap(void)
{
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		case_skip("cannot open /proc/self/pagemap (errno %d)", errno);
}

static void read_pfns(struct memstress *ms)
{
	u64 hva = (u64)addr_gpa2hva(ms->vm, MEMSTRESS_GPA);

	for (u64 p = 0; p < SLOT_PAGES; p++) {
		u64 e;

		TEST_ASSERT(pread(pagemap_fd, &e, 8, (hva / PAGE_SIZE + p) * 8) == 8,
			    "reading /proc/self/pagemap");
		TEST_ASSERT(e & PAGEMAP_PRESENT, "slot page %llu is not resident", p);
		pfns[p] = e & PAGEMAP_PFN;
		if (!pfns[p])
			test_skip("/proc/self/pagemap shows no PFNs: needs CAP_SYS_ADMIN");
	}
}

/*
 * The bitmap is u64 words of 64 PFNs, read and written a word at a time.
 * The word that runs past the last PFN (max_pfn) is handled but counted as
 * 0 bytes (mm/page_idle.c counts whole words only): a write of it still
 * marks its pages, a read of it returns nothing, so its pages read as not
 * idle and are left out as untrackable.
 */
static bool pfn_idle(u64 pfn)
{
	u64 word = 0;
	ssize_t ret = pread(idle_fd, &word, 8, pfn / 64 * 8);

	TEST_ASSERT(ret == 8 || ret == 0,
		    "reading the page_idle bitmap at PFN 0x%llx", pfn);
	return ret == 8 && (word & BIT_ULL(pfn % 64));
}

static void mark_idle(void)
{
	for (u64 p = 0; p < SLOT_PAGES; p++) {
		u64 word = BIT_ULL(pfns[p] % 64);
		ssize_t ret = pwrite(idle_fd, &word, 8, pfns[p] / 64 * 8);

		TEST_ASSERT(ret == 8 || ret == 0,
			    "writing the page_idle bitmap at PFN 0x%llx", pfns[p]);
	}
}

/*
 * Mark every page idle; those that cannot be (not on an LRU list yet) are
 * left out of the checks. Returns how many can be tracked.
 */
static int mark_all_idle(bool *trackable)
{
	int n = 0;

	mark_idle();
	for (u64 p = 0; p < SLOT_PAGES; p++) {
		trackable[p] = pfn_idle(pfns[p]);
		n += trackable[p];
	}
	return n;
}

static void check_pass(struct memstress *ms, const bool *trackable,
		       const char *what)
{
	u64 touched[SLOT_PAGES / 64];
	int stale = 0, young = 0, n_touched = 0;

	memstress_touched_bitmap(ms, touched);
	for (u64 p = 0; p < SLOT_PAGES; p++) {
		bool t = touched[p / 64] & BIT_ULL(p % 64);
		bool idle;

		if (!trackable[p])
			continue;
		idle = pfn_idle(pfns[p]);
		n_touched += t;
		stale += t && idle;
		young += !t && !idle;
	}
	CHECK(!stale && !young && n_touched,
	      "%s: %d of %d touched pages still idle, %d untouched pages not idle",
	      what, stale, n_touched, young);
}

static void case_pass(void *arg)
{
	u32 write_percent = (unsigned long)arg;
	struct memstress *ms = memstress_create(NR_VCPUS, SLOT_SIZE, 0,
						VM_MEM_ANON);
	static bool trackable[SLOT_PAGES];
	int n;

	open_pagemap();

	/* Idle tracking is per folio: a THP would age as one page. */
	madvise(addr_gpa2hva(ms->vm, MEMSTRESS_GPA), SLOT_SIZE, MADV_NOHUGEPAGE);
	ms->args.flush_tlb = true;
	memstress_run(ms);		/* populate */
	read_pfns(ms);

	n = mark_all_idle(trackable);
	if (n < (int)(SLOT_PAGES / 2))
		case_skip("only %d of %llu guest pages could be marked idle", n,
			  SLOT_PAGES);
	if (n < (int)SLOT_PAGES)
		printf("# %llu pages not on an LRU list yet: not checked\n",
		       SLOT_PAGES - n);

	/* The first half of each slice, then the second. */
	ms->args.write_percent = write_percent;
	ms->args.nr_pages = ms->args.slice_size / PAGE_SIZE / 2;
	memstress_run(ms);
	check_pass(ms, trackable, "first half of each slice");

	mark_all_idle(trackable);
	ms->args.first_page = ms->args.nr_pages;
	memstress_run(ms);
	check_pass(ms, trackable, "second half of each slice");
	memstress_destroy(ms);
}

int main(void)
{
	kvm_dev_fd();
	open_files();
	run_case(case_pass, (void *)0UL,
		 "guest reads: touched pages non-idle, the others idle");
	run_case(case_pass, (void *)100UL,
		 "guest writes: touched pages non-idle, the others idle");
	checks_exit();
}
