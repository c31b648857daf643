// SPDX-License-Identifier: GPL-2.0-only
/*
 * memslot_live: memslots moved, deleted and re-flagged while memstress
 * vCPUs write through them, with KVM's slot-zap quirk
 * (KVM_X86_QUIRK_SLOT_ZAP_ALL: zap every SPTE on a slot change) or, with
 * --no-zap-quirk, without it (zap only the changed slot's SPTEs).
 *
 * In-tree ground: set_memory_region_test (one vCPU spins on a value while
 * the slot moves or is deleted, with and without the quirk) and
 * memslot_modification_stress_test (slots added and removed beside
 * memstress). What this adds: every write of every vCPU is accounted for
 * exactly once — it landed in the slot's memory or exited to userspace as
 * MMIO at its own GPA with its own data — while the host moves or deletes
 * the slot under the writers; then, with the vCPUs stopped, a pass through
 * the old GPAs after a move or delete must exit for every single write (an
 * SPTE the zap missed lets a write reach the old memory), a pass through
 * the new GPAs must land every write; dirty-logging toggled under writers
 * loses no write and logs a pass exactly; READONLY cannot be toggled.
 */
#include <unistd.h>

#include "memstress.h"
#include "test_check.h"

#define NR_VCPUS	4
#define SLICE_PAGES	32
#define SLOT_PAGES	(NR_VCPUS * SLICE_PAGES)
#define SLOT_SIZE	(SLOT_PAGES * PAGE_SIZE)
#define OTHER_GPA	(MEMSTRESS_GPA + 1 * GiB)	/* where a move goes */
#define STRESS_PASSES	3
/* Between two host changes: the vCPUs need the CPU (one in the Intel lane). */
#define HOST_PAUSE_US	500

static bool no_zap_quirk;

/* MMIO writes seen in the current pass, per slot page. */
static u64 mmio_data[SLOT_PAGES];
static int mmio_writes[SLOT_PAGES];
static int mmio_stray;		/* MMIO exits outside the data slot's GPAs */
static u8 *slot_mem;		/* the data slot's host memory, wherever it is */

static bool on_mmio(struct memstress *ms, int idx)
{
	struct kvm_run *run = ms->vcpus[idx]->run;
	u64 off = run->mmio.phys_addr - MEMSTRESS_GPA;

	if (run->exit_reason != KVM_EXIT_MMIO)
		return false;
	/* The guest may be writing through the GPAs a move left behind. */
	if (off >= SLOT_SIZE)
		off = run->mmio.phys_addr - OTHER_GPA;
	if (off >= SLOT_SIZE || run->mmio.len != 8) {
		__atomic_fetch_add(&mmio_stray, 1, __ATOMIC_RELAXED);
		return true;
	}
	if (run->mmio.is_write) {
		memcpy(&mmio_data[off / PAGE_SIZE], run->mmio.data, 8);
		__atomic_fetch_add(&mmio_writes[off / PAGE_SIZE], 1,
				   __ATOMIC_RELAXED);
	} else {
		memset(run->mmio.data, 0, 8);
	}
	return true;
}

static struct memstress *ms_create(void)
{
	struct memstress *ms = memstress_create(NR_VCPUS, SLOT_SIZE, 0,
						VM_MEM_ANON);

	if (no_zap_quirk)
		vm_enable_cap(ms->vm, KVM_CAP_DISABLE_QUIRKS2,
			      KVM_X86_QUIRK_SLOT_ZAP_ALL);
	ms->on_exit = on_mmio;
	slot_mem = addr_gpa2hva(ms->vm, MEMSTRESS_GPA);
	memstress_run(ms);	/* everything faulted in and writable */
	return ms;
}

/*
 * Put the data slot at @gpa (size 0: delete it), keeping its host memory;
 * behind the library's back, so vCPU threads never see its bookkeeping
 * change. The caller puts it back as it was.
 */
static void slot_set(struct memstress *ms, u64 gpa, u64 size, u32 flags)
{
	TEST_ASSERT(!__vm_set_user_memory_region(ms->vm, MEMSTRESS_SLOT, flags,
						 gpa, size, slot_mem),
		    "KVM_SET_USER_MEMORY_REGION: slot %d at 0x%llx, 0x%llx bytes, flags 0x%x",
		    MEMSTRESS_SLOT, gpa, size, flags);
}

static void pass_start(struct memstress *ms)
{
	memset(mmio_data, 0, sizeof(mmio_data));
	memset(mmio_writes, 0, sizeof(mmio_writes));
	mmio_stray = 0;
	memstress_start(ms);
}

enum exits { EXITS_ANY, EXITS_NONE, EXITS_ALL };

/*
 * Each page's write of this pass is in memory or was an MMIO exit with
 * the same data, never both, never neither.
 */
static void check_pass(struct memstress *ms, enum exits want, const char *what)
{
	int lost = 0, twice = 0, exited = 0;

	for (int p = 0; p < SLOT_PAGES; p++) {
		u64 expect = memstress_pattern(ms->args.iteration,
					       p / SLICE_PAGES, p % SLICE_PAGES);
		bool landed = *(u64 *)(slot_mem + p * PAGE_SIZE) == expect;
		bool exit = mmio_writes[p] == 1 && mmio_data[p] == expect;

		lost += !landed && !exit;
		twice += (landed && mmio_writes[p]) || mmio_writes[p] > 1;
		exited += exit;
	}
	CHECK(!lost && !twice && !mmio_stray,
	      "%s: %d writes lost, %d both landed and exited (or exited twice), %d MMIO exits outside the slot",
	      what, lost, twice, mmio_stray);
	if (want == EXITS_ALL)
		CHECK(exited == SLOT_PAGES, "%s: %d of %d writes exited to userspace",
		      what, exited, SLOT_PAGES);
	if (want == EXITS_NONE)
		CHECK(!exited, "%s: %d of %d writes exited to userspace, none should",
		      what, exited, SLOT_PAGES);
}

static void run_pass(struct memstress *ms, enum exits want, const char *what)
{
	pass_start(ms);
	memstress_wait(ms);
	check_pass(ms, want, what);
}

/*
 * STRESS_PASSES passes, @change applied over and over while the vCPUs
 * write; each write accounted for, exits allowed as @exits says.
 */
static void churn(struct memstress *ms, void (*change)(struct memstress *ms),
		  enum exits exits, const char *what)
{
	int changes = 0;

	for (int pass = 0; pass < STRESS_PASSES; pass++) {
		pass_start(ms);
		do {
			change(ms);
			changes++;
			usleep(HOST_PAUSE_US);
		} while (memstress_busy(ms));
		memstress_wait(ms);
		check_pass(ms, exits, what);
	}
	printf("# %s: %d times in %d passes\n", what, changes, STRESS_PASSES);
}

static void move_away_and_back(struct memstress *ms)
{
	slot_set(ms, OTHER_GPA, SLOT_SIZE, 0);
	slot_set(ms, MEMSTRESS_GPA, SLOT_SIZE, 0);
}

static void delete_and_readd(struct memstress *ms)
{
	slot_set(ms, MEMSTRESS_GPA, 0, 0);
	slot_set(ms, MEMSTRESS_GPA, SLOT_SIZE, 0);
}

static void toggle_dirty_logging(struct memstress *ms)
{
	slot_set(ms, MEMSTRESS_GPA, SLOT_SIZE, KVM_MEM_LOG_DIRTY_PAGES);
	slot_set(ms, MEMSTRESS_GPA, SLOT_SIZE, 0);
}

static void case_move(void *arg)
{
	struct memstress *ms = ms_create();

	churn(ms, move_away_and_back, EXITS_ANY,
	      "moved away and back during the pass");

	vm_memslot_move(ms->vm, MEMSTRESS_SLOT, OTHER_GPA);
	run_pass(ms, EXITS_ALL, "old GPAs after the move");
	virt_map(ms->vm, MEMSTRESS_GVA, OTHER_GPA, SLOT_SIZE);
	ms->args.flush_tlb = true;
	run_pass(ms, EXITS_NONE, "new GPAs after the move");
	vm_memslot_move(ms->vm, MEMSTRESS_SLOT, MEMSTRESS_GPA);
	run_pass(ms, EXITS_ALL, "the second GPAs after moving back");
	virt_map(ms->vm, MEMSTRESS_GVA, MEMSTRESS_GPA, SLOT_SIZE);
	run_pass(ms, EXITS_NONE, "the first GPAs after moving back");
	memstress_destroy(ms);
}

static void case_delete(void *arg)
{
	struct memstress *ms = ms_create();

	churn(ms, delete_and_readd, EXITS_ANY,
	      "deleted and re-added during the pass");

	slot_set(ms, MEMSTRESS_GPA, 0, 0);
	run_pass(ms, EXITS_ALL, "after the delete");
	slot_set(ms, MEMSTRESS_GPA, SLOT_SIZE, 0);
	run_pass(ms, EXITS_NONE, "after re-adding it");
	memstress_destroy(ms);
}

static void case_flags(void *arg)
{
	struct memstress *ms = ms_create();
	u64 seen[SLOT_PAGES / 64], written[SLOT_PAGES / 64];
	u64 touched[SLOT_PAGES / 64];
	int missing = 0, extra = 0, exits = 0;

	churn(ms, toggle_dirty_logging, EXITS_NONE,
	      "dirty logging toggled during the pass");

	/*
	 * Logging on for a whole pass of random reads and writes: every write
	 * logged, nothing logged the pass did not touch (a read fault may log
	 * a page it maps writable).
	 */
	slot_set(ms, MEMSTRESS_GPA, SLOT_SIZE, KVM_MEM_LOG_DIRTY_PAGES);
	ms->args.random = true;
	ms->args.write_percent = 50;
	pass_start(ms);
	memstress_wait(ms);
	for (int p = 0; p < SLOT_PAGES; p++)
		exits += mmio_writes[p];
	CHECK(!exits && !mmio_stray, "a pass with dirty logging on: %d MMIO exits",
	      exits + mmio_stray);
	vm_get_dirty_log(ms->vm, MEMSTRESS_SLOT, seen);
	memstress_written_bitmap(ms, written);
	memstress_touched_bitmap(ms, touched);
	for (int i = 0; i < SLOT_PAGES / 64; i++) {
		missing += __builtin_popcountll(written[i] & ~seen[i]);
		extra += __builtin_popcountll(seen[i] & ~touched[i]);
	}
	CHECK(!missing && !extra,
	      "dirty log of the pass: %d written pages missing, %d untouched pages logged",
	      missing, extra);

	errno = 0;
	CHECK(__vm_set_user_memory_region(ms->vm, MEMSTRESS_SLOT,
					  KVM_MEM_READONLY, MEMSTRESS_GPA,
					  SLOT_SIZE,
					  addr_gpa2hva(ms->vm, MEMSTRESS_GPA)) == -1 &&
	      errno == EINVAL,
	      "making a live slot read-only: errno %d, expected EINVAL", errno);
	memstress_destroy(ms);
}

int main(int argc, char **argv)
{
	int quirks;

	if (argc > 1 && !strcmp(argv[1], "--no-zap-quirk")) {
		no_zap_quirk = true;
	} else if (argc > 1) {
		fprintf(stderr, "usage: %s [--no-zap-quirk]\n", argv[0]);
		return 2;
	}
	quirks = kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2);
	if (no_zap_quirk && !(quirks & KVM_X86_QUIRK_SLOT_ZAP_ALL))
		test_skip("KVM_CAP_DISABLE_QUIRKS2 is 0x%x: no KVM_X86_QUIRK_SLOT_ZAP_ALL to disable (before 6.12)",
			  quirks);

	run_case(case_move, NULL, "slot moved while %d vCPUs write%s",
		 NR_VCPUS, no_zap_quirk ? ", no slot-zap quirk" : "");
	run_case(case_delete, NULL, "slot deleted and re-added while %d vCPUs write%s",
		 NR_VCPUS, no_zap_quirk ? ", no slot-zap quirk" : "");
	run_case(case_flags, NULL, "dirty logging toggled while %d vCPUs write%s",
		 NR_VCPUS, no_zap_quirk ? ", no slot-zap quirk" : "");
	checks_exit();
}
