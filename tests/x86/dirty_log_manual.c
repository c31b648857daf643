// SPDX-License-Identifier: GPL-2.0-only
/*
 * dirty_log_manual: the dirty bitmap while memstress vCPUs write, with
 * KVM_GET_DIRTY_LOG alone and with KVM_CLEAR_DIRTY_LOG under
 * KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (and INITIALLY_SET).
 *
 * In-tree ground: dirty_log_test (a vCPU writes while the host collects,
 * each page's contents checked against its bit) and dirty_log_perf_test
 * (many vCPUs, manual protect, clears in chunks). What this adds: every
 * collected log is checked against the exact sets of pages written since
 * the last clear (read back from memory: each write names its pass) and
 * touched since then (recorded by the guest), both ways — a written page
 * missing is a lost write, an untouched page logged is a stale bit (KVM
 * may log a page only read: its read fault maps it writable); random access with a write
 * percentage; GET leaving bits set until CLEAR under manual protect,
 * partial clears, INITIALLY_SET's all-ones start; and the argument rules
 * of KVM_CLEAR_DIRTY_LOG and of enabling the capability. With --nested
 * the same passes run in L2s under stage-2 (vmx_dirty_log_test ground,
 * there one L2 writing a few pages, checked one by one).
 */
#include <unistd.h>

#include "memstress.h"
#include "nested/nested_memstress.h"
#include "test_check.h"

#define NR_VCPUS	4
#define SLICE_PAGES	64
#define SLOT_PAGES	(NR_VCPUS * SLICE_PAGES)
#define BITMAP_WORDS	(SLOT_PAGES / 64)
#define HALF_PAGES	(SLOT_PAGES / 2)

/* Between two collections: the vCPUs need the CPU (one in the Intel lane). */
#define HOST_PAUSE_US	500
#define CONCURRENT_PASSES	3

typedef u64 bitmap_t[BITMAP_WORDS];

/* --nested: the same workload run by L2s, each under its vCPU's L1. */
static bool nested;

/* The workload in its placement, sequential writes to every page. */
static struct memstress *ms_create_seq(u32 slot_flags)
{
	if (nested)
		return nested_memstress_create(NR_VCPUS, SLOT_PAGES * PAGE_SIZE,
					       slot_flags);
	return memstress_create(NR_VCPUS, SLOT_PAGES * PAGE_SIZE, slot_flags,
				VM_MEM_ANON);
}

static struct memstress *ms_create(u32 slot_flags)
{
	struct memstress *ms = ms_create_seq(slot_flags);

	ms->args.random = true;
	ms->args.write_percent = 50;
	return ms;
}

static void get_log(struct memstress *ms, u64 *bitmap)
{
	vm_get_dirty_log(ms->vm, MEMSTRESS_SLOT, bitmap);
}

static int __clear_log(struct kvm_vm *vm, u32 slot, u64 first, u32 num,
		       u64 *bitmap)
{
	struct kvm_clear_dirty_log c = {
		.slot = slot,
		.first_page = first,
		.num_pages = num,
		.dirty_bitmap = bitmap,
	};

	return __vm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &c);
}

/* Clear [first, first + num) of the bits set in @bitmap (slot-relative). */
static void clear_log(struct memstress *ms, u64 first, u32 num, u64 *bitmap)
{
	TEST_ASSERT(!__clear_log(ms->vm, MEMSTRESS_SLOT, first, num,
				 bitmap + first / 64),
		    "KVM_CLEAR_DIRTY_LOG of pages %llu+%u", first, num);
}

/* Skips the case (in its child) when KVM lacks a manual-protect flag. */
static void enable_manual(struct memstress *ms, u64 flags)
{
	int caps = kvm_check_cap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);

	if ((caps & flags) != flags)
		case_skip("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is 0x%x, this case needs 0x%llx",
			  caps, flags);
	vm_enable_cap(ms->vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags);
}

static int popcount(const u64 *bitmap)
{
	int n = 0;

	for (int i = 0; i < BITMAP_WORDS; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}

/*
 * What a log may hold: every page written since the last clear (@must),
 * and nothing that was not touched at all since then (@may). KVM may log a
 * page a pass only read: a read fault maps a writable host page writable
 * and marks it dirty then, so the write that may follow needs no fault.
 */
struct expect {
	bitmap_t must, may;
};

static void expect_none(struct expect *e)
{
	memset(e, 0, sizeof(*e));
}

/* Add the pages the last pass wrote and touched. */
static void expect_pass(struct memstress *ms, struct expect *e)
{
	bitmap_t w, t;

	memstress_written_bitmap(ms, w);
	memstress_touched_bitmap(ms, t);
	for (int i = 0; i < BITMAP_WORDS; i++) {
		e->must[i] |= w[i];
		e->may[i] |= t[i] | w[i];
	}
}

/*
 * The check: a written page missing is a lost write; a page logged that
 * was not touched since the last clear is a stale bit.
 */
static void check_log(const u64 *seen, const struct expect *e,
		      const char *what)
{
	int missing = 0, stale = 0, read_only = 0;
	long first_missing = -1, first_stale = -1;

	for (int p = 0; p < SLOT_PAGES; p++) {
		u64 bit = BIT_ULL(p % 64);
		bool s = seen[p / 64] & bit;

		if ((e->must[p / 64] & bit) && !s && !missing++)
			first_missing = p;
		if (s && !(e->may[p / 64] & bit) && !stale++)
			first_stale = p;
		read_only += s && (e->may[p / 64] & ~e->must[p / 64] & bit);
	}
	CHECK(!missing && !stale,
	      "%s: %d of %d written pages missing (first %ld), %d untouched pages logged (first %ld)",
	      what, missing, popcount(e->must), first_missing, stale,
	      first_stale);
	if (read_only)
		printf("# %s: %d pages only read were logged\n", what, read_only);
}

/* A pass, added to what the log may and must hold, then the log checked. */
static void pass_and_check(struct memstress *ms, struct expect *e,
			   u64 *seen, const char *what)
{
	memstress_run(ms);
	expect_pass(ms, e);
	get_log(ms, seen);
	check_log(seen, e, what);
}

static void or_into(u64 *dst, const u64 *src)
{
	for (int i = 0; i < BITMAP_WORDS; i++)
		dst[i] |= src[i];
}

/* A sequential all-write pass: each vCPU's pattern on each page of its slice. */
static void case_workload(void *arg)
{
	struct memstress *ms = ms_create_seq(0);
	int wrong = 0;

	memstress_run(ms);
	for (int p = 0; p < SLOT_PAGES; p++) {
		u64 *hva = addr_gpa2hva(ms->vm, MEMSTRESS_GPA + p * PAGE_SIZE);

		wrong += *hva != memstress_pattern(1, p / SLICE_PAGES,
						   p % SLICE_PAGES);
	}
	CHECK(!wrong, "%d of %d pages do not hold their vCPU's write",
	      wrong, SLOT_PAGES);
	memstress_destroy(ms);
}

/* Without manual protect: each GET returns and resets exactly one pass. */
static void case_get(void *arg)
{
	struct memstress *ms = ms_create(KVM_MEM_LOG_DIRTY_PAGES);
	struct expect e;
	bitmap_t seen;

	expect_none(&e);
	get_log(ms, seen);
	check_log(seen, &e, "before any pass");
	for (int pass = 1; pass <= 3; pass++) {
		memstress_run(ms);
		get_log(ms, seen);
		expect_none(&e);
		expect_pass(ms, &e);
		check_log(seen, &e, "KVM_GET_DIRTY_LOG after a pass");
	}
	get_log(ms, seen);
	expect_none(&e);
	check_log(seen, &e, "a second GET with no pass between");
	memstress_destroy(ms);
}

/* Manual protect: bits accumulate until cleared; clears act on ranges. */
static void case_manual(void *arg)
{
	struct memstress *ms = ms_create(KVM_MEM_LOG_DIRTY_PAGES);
	struct expect e;
	bitmap_t seen;

	enable_manual(ms, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
	expect_none(&e);
	pass_and_check(ms, &e, seen, "after pass 1");

	pass_and_check(ms, &e, seen, "pass 2 without a clear: passes 1 and 2");

	clear_log(ms, 0, SLOT_PAGES, seen);
	get_log(ms, seen);
	expect_none(&e);
	check_log(seen, &e, "right after clearing everything");

	pass_and_check(ms, &e, seen, "pass 3 after the clear (pages write-protected again)");

	/* Clear only the first half: the second half's bits stay. */
	clear_log(ms, 0, HALF_PAGES, seen);
	memset(e.must, 0, sizeof(e.must) / 2);
	memset(e.may, 0, sizeof(e.may) / 2);
	get_log(ms, seen);
	check_log(seen, &e, "after clearing the first half of pass 3's bits");

	pass_and_check(ms, &e, seen, "pass 4: its pages and pass 3's uncleared half");
	memstress_destroy(ms);
}

/* INITIALLY_SET: logging starts with every bit set, tracking at the clear. */
static void case_initially_set(void *arg)
{
	struct memstress *ms = ms_create(0);
	struct expect e;
	bitmap_t seen;

	enable_manual(ms, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
			  KVM_DIRTY_LOG_INITIALLY_SET);
	memstress_run(ms);	/* fault everything in before logging starts */
	vm_memslot_set_flags(ms->vm, MEMSTRESS_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	memset(&e, 0xff, sizeof(e));
	get_log(ms, seen);
	check_log(seen, &e, "logging just enabled");

	memstress_run(ms);
	get_log(ms, seen);
	check_log(seen, &e, "a pass before any clear");

	clear_log(ms, 0, SLOT_PAGES, e.must);
	memstress_run(ms);
	expect_none(&e);
	expect_pass(ms, &e);
	get_log(ms, seen);
	check_log(seen, &e, "the first pass after clearing everything");
	memstress_destroy(ms);
}

/*
 * The VMM's migration loop: collect (and, in manual mode, clear) over and
 * over while the vCPUs write; the union of a pass's collections must hold
 * every page it wrote and nothing it did not touch.
 */
static void case_concurrent(void *arg)
{
	bool manual = arg;
	struct memstress *ms = ms_create(KVM_MEM_LOG_DIRTY_PAGES);
	bitmap_t seen, uni;
	struct expect e;
	int collections = 0;

	if (manual)
		enable_manual(ms, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
	for (int pass = 1; pass <= CONCURRENT_PASSES; pass++) {
		memset(uni, 0, sizeof(uni));
		memstress_start(ms);
		do {
			get_log(ms, seen);
			if (manual)
				clear_log(ms, 0, SLOT_PAGES, seen);
			or_into(uni, seen);
			collections++;
			usleep(HOST_PAUSE_US);
		} while (memstress_busy(ms));
		memstress_wait(ms);
		get_log(ms, seen);
		if (manual)
			clear_log(ms, 0, SLOT_PAGES, seen);
		or_into(uni, seen);
		expect_none(&e);
		expect_pass(ms, &e);
		check_log(uni, &e, "union of one pass's collections");
	}
	printf("# %d collections during %d passes\n", collections,
	       CONCURRENT_PASSES);
	memstress_destroy(ms);
}

static void expect_errno(int ret, int err, const char *what)
{
	CHECK(ret == -1 && errno == err, "%s: returned %d errno %d, expected errno %d",
	      what, ret, ret < 0 ? errno : 0, err);
}

static void case_rules(void *arg)
{
	struct memstress *ms = ms_create(KVM_MEM_LOG_DIRTY_PAGES);
	struct kvm_vm *vm = ms->vm;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };
	bitmap_t bits = { 0 };
	u32 odd_slot = MEMSTRESS_SLOT + 1;

	cap.args[0] = KVM_DIRTY_LOG_INITIALLY_SET;
	expect_errno(__vm_ioctl(vm, KVM_ENABLE_CAP, &cap), EINVAL,
		     "INITIALLY_SET without MANUAL_PROTECT_ENABLE");
	cap.args[0] = BIT_ULL(2);
	expect_errno(__vm_ioctl(vm, KVM_ENABLE_CAP, &cap), EINVAL,
		     "an unknown manual-protect flag");
	enable_manual(ms, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);

	expect_errno(__clear_log(vm, MEMSTRESS_SLOT, 32, 64, bits), EINVAL,
		     "CLEAR at a first_page that is not a multiple of 64");
	expect_errno(__clear_log(vm, MEMSTRESS_SLOT, 0, 63, bits), EINVAL,
		     "CLEAR of 63 pages short of the slot's end");
	expect_errno(__clear_log(vm, MEMSTRESS_SLOT, 64, SLOT_PAGES, bits),
		     EINVAL, "CLEAR past the slot's end");
	expect_errno(__clear_log(vm, 4000, 0, 64, bits), ENOENT,
		     "CLEAR of a slot that does not exist");

	/* A slot of 100 pages: a clear may end at its end, unaligned. */
	vm_memslot_add(vm, VM_MEM_ANON, MEMSTRESS_GPA + SLOT_PAGES * PAGE_SIZE,
		       odd_slot, 100, KVM_MEM_LOG_DIRTY_PAGES);
	CHECK_EQ(__clear_log(vm, odd_slot, 64, 36, bits), 0);
	expect_errno(__clear_log(vm, odd_slot, 64, 37, bits), EINVAL,
		     "CLEAR of 37 pages from page 64 of a 100-page slot");

	vm_memslot_set_flags(vm, odd_slot, 0);
	expect_errno(__clear_log(vm, odd_slot, 0, 64, bits), ENOENT,
		     "CLEAR of a slot without dirty logging");
	{
		struct kvm_dirty_log log = { .slot = odd_slot,
					     .dirty_bitmap = bits };

		expect_errno(__vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), ENOENT,
			     "GET of a slot without dirty logging");
	}
	memstress_destroy(ms);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--nested")) {
		nested = true;
		nested_require_tdp();
	} else if (argc > 1) {
		fprintf(stderr, "usage: %s [--nested]\n", argv[0]);
		return 2;
	}
	run_case(case_workload, NULL,
		 "memstress: %d vCPUs each write their own slice", NR_VCPUS);
	run_case(case_get, NULL,
		 "KVM_GET_DIRTY_LOG: each pass logged exactly, random 50%% writes");
	run_case(case_manual, NULL,
		 "manual protect: GET keeps bits until KVM_CLEAR_DIRTY_LOG, partial clears");
	run_case(case_initially_set, NULL,
		 "INITIALLY_SET: all bits set when logging starts, exact after a clear");
	run_case(case_concurrent, (void *)false,
		 "GET while %d vCPUs write: the union is exactly each pass", NR_VCPUS);
	run_case(case_concurrent, (void *)true,
		 "GET+CLEAR while %d vCPUs write: the union is exactly each pass",
		 NR_VCPUS);
	run_case(case_rules, NULL,
		 "KVM_CLEAR_DIRTY_LOG and manual-protect argument rules");
	checks_exit();
}
