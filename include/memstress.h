/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * memstress: one memory workload, two placements.
 *
 * N vCPUs each touch their own slice of a data memslot, one pass at a time:
 * pages in order or at random, each access a write with a chosen
 * probability. Between passes every vCPU stops at a host sync, so the host
 * can collect the dirty log, change memslots, remap or look at memory, and
 * then start the next pass. A written page holds memstress_pattern() of the
 * pass, its vCPU and page, so the host can tell from memory alone exactly
 * which pages a pass wrote.
 *
 * The guest loop (memstress_guest_main) runs either as the vCPU's own code
 * (stage-1, memstress_create() here) or as an L2 under an L1 hypervisor
 * (nested/nested_memstress.h); the host side below is shared.
 */
#ifndef KVMTEST_MEMSTRESS_H
#define KVMTEST_MEMSTRESS_H

#include <pthread.h>

#include "kvm_util.h"

#define MEMSTRESS_MAX_VCPUS	16
#define MEMSTRESS_SLOT		1
#define MEMSTRESS_GPA		0x40000000ULL	/* 1 GiB: clear of the main slot */
#define MEMSTRESS_GVA		0x400000000000ULL

/* Shared with the guest: what the next pass does. */
struct memstress_args {
	u64 iteration;		/* the pass number, part of what is written */
	u64 gva;		/* window base: vCPU i touches gva + i * slice */
	u64 slice_size;
	u64 first_page;		/* within each slice */
	u64 nr_pages;		/* pages in the range; 0: to the end of the slice */
	u64 vcpu_mask;		/* which vCPUs touch memory this pass */
	u32 write_percent;	/* chance that an access is a write, 0-100 */
	bool random;		/* nr_pages accesses to random pages of the range */
	u64 seed;		/* of the random order and the write choice */
	bool flush_tlb;		/* reload CR3 before the pass (stage-1 only) */
	u64 touched_gva;	/* per-vCPU bitmaps of the pages a pass accessed */
	u64 touched_words;	/* u64s per vCPU in them */
};

struct memstress;
/*
 * Called by a vCPU thread for an exit that is not a ucall (e.g. MMIO while
 * a memslot is away): return true to run on, false to fail the test.
 */
typedef bool (*memstress_exit_fn)(struct memstress *ms, int idx);

struct memstress {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[MEMSTRESS_MAX_VCPUS];
	int nr_vcpus;
	u64 slot_size;		/* data slot at MEMSTRESS_GPA, mapped at MEMSTRESS_GVA */
	struct memstress_args args;	/* host copy; pushed each pass */
	memstress_exit_fn on_exit;
	pthread_t threads[MEMSTRESS_MAX_VCPUS];
	u64 exits[MEMSTRESS_MAX_VCPUS];	/* non-ucall exits handled, per vCPU */
	int synced;		/* vCPUs done with the pass in flight */
};

/*
 * A VM whose @nr_vcpus vCPUs run the workload as their own code, with a
 * data slot of @slot_size bytes of @backing at MEMSTRESS_GPA (@slot_flags,
 * e.g. KVM_MEM_LOG_DIRTY_PAGES), mapped at MEMSTRESS_GVA with the largest
 * pages alignment allows. Slices default to nr_vcpus equal parts of the
 * slot, sequential writes to every page. Skips if @backing is unavailable.
 */
struct memstress *memstress_create(int nr_vcpus, u64 slot_size,
				   u32 slot_flags, enum vm_mem_backing backing);
/*
 * The part both placements share: a VM with @nr_vcpus vCPUs entering
 * @guest_code, the data slot and its stage-1 mapping, default arguments.
 */
struct memstress *__memstress_create(int nr_vcpus, u64 slot_size,
				     u32 slot_flags,
				     enum vm_mem_backing backing,
				     void *guest_code);
void memstress_destroy(struct memstress *ms);

/* Start a pass on every vCPU (one thread each) / wait until all synced. */
void memstress_start(struct memstress *ms);
void memstress_wait(struct memstress *ms);
/* Whether a vCPU of the pass memstress_start() began is still in it. */
static inline bool memstress_busy(struct memstress *ms)
{
	return __atomic_load_n(&ms->synced, __ATOMIC_ACQUIRE) < ms->nr_vcpus;
}
static inline void memstress_run(struct memstress *ms)
{
	memstress_start(ms);
	memstress_wait(ms);
}

/* The value a pass writes at the start of page @page of vCPU @vcpu's slice. */
u64 memstress_pattern(u64 iteration, int vcpu, u64 page);
/*
 * Whether the last pass wrote slot page @slot_page (its contents say so),
 * and the bitmap of all such pages (one bit per page of the slot).
 */
bool memstress_page_written(struct memstress *ms, u64 slot_page);
void memstress_written_bitmap(struct memstress *ms, u64 *bitmap);
/*
 * The pages the last pass read or wrote, as recorded by the guest, in the
 * same layout; for the default window (args.gva == MEMSTRESS_GVA), where
 * vCPU i's slice starts at slot page i * slice pages.
 */
void memstress_touched_bitmap(struct memstress *ms, u64 *bitmap);

/* Guest side: one pass for vCPU @idx; the loop of passes and syncs. */
void memstress_guest_pass(u64 idx);
void __noreturn memstress_guest_main(u64 idx);

#endif /* KVMTEST_MEMSTRESS_H */
