// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_dirty_log: KVM's dirty log for memory an L2 writes under stage-2.
 *
 * KVM logs L1 GFNs: an L2 write through stage-2 must mark the L1 page it
 * lands on, never the L2 GPA it was addressed by. The data slot is laid
 * out so both are pages of the same logged slot and a mix-up shows:
 *
 *   [0, DATA)          "B": the pages L2s write, stage-2 identity
 *   [DATA, 2 DATA)     "A": stage-2 maps A -> B; L1 itself never uses A
 *   [2 DATA, +4K)      "P": a fresh page for the READ-then-WRITE case
 *
 * Writes through the identity window and through the alias window must
 * both dirty B and never A.
 *
 * READ-then-WRITE with dirty bits pre-set: a page whose stage-2 leaf and
 * guest PTE already have A/D set is read by L2, the log is collected
 * (write-protecting it again), then L2 writes it: the write must be
 * logged. A shadow of nested tables that trusts the pre-set dirty bit and
 * maps the page writable on the read fault loses that write; KVM had such
 * a bug.
 */
#include "kvm_util.h"
#include "nested/nested_memstress.h"

#define NR_VCPUS	2
#define SLICE_PAGES	16
#define DATA_SIZE	(NR_VCPUS * SLICE_PAGES * PAGE_SIZE)
#define SLOT_SIZE	(2 * DATA_SIZE + 2 * MiB)
#define A_OFFSET	DATA_SIZE
#define P_OFFSET	(2 * DATA_SIZE)
#define ALIAS_GVA	0x500000000000ULL

static struct memstress *ms;
static u64 bitmap[SLOT_SIZE / PAGE_SIZE / 64];

static void get_log(void)
{
	vm_get_dirty_log(ms->vm, MEMSTRESS_SLOT, bitmap);
}

static bool dirty(u64 offset)
{
	u64 page = offset / PAGE_SIZE;

	return bitmap[page / 64] & BIT_ULL(page % 64);
}

/* Every B page dirty, every A page clean, and B holds this round's data. */
static void check_round(void)
{
	int bad_b = 0, bad_a = 0, bad_data = 0;

	for (u64 off = 0; off < DATA_SIZE; off += PAGE_SIZE) {
		u64 page = off / PAGE_SIZE;
		int vcpu = page / SLICE_PAGES;
		u64 want = memstress_pattern(ms->args.iteration, vcpu,
				       page % SLICE_PAGES);

		bad_b += !dirty(off);
		bad_a += dirty(A_OFFSET + off);
		bad_data += *(u64 *)addr_gpa2hva(ms->vm, MEMSTRESS_GPA + off) != want;
	}
	CHECK(!bad_b, "%d L1 pages written but not logged", bad_b);
	CHECK(!bad_a, "%d L2-only GFNs logged", bad_a);
	CHECK(!bad_data, "%d pages with wrong data", bad_data);
}

/* Give a page a 4 KiB leaf of its own in both table sets, A/D pre-set. */
static void preset_dirty(u64 gva, u64 gpa)
{
	struct kvm_vm *vm = ms->vm;
	const struct kvm_mmu_arch *s2 = &vm->stage2_mmu.arch;
	u64 *pte;

	tdp_map_level(vm, gpa, gpa, PAGE_SIZE, KVM_MMU_RWX, PG_LEVEL_4K);
	pte = tdp_lookup(vm, gpa, NULL);
	*pte |= s2->accessed | s2->dirty;	/* 0 for EPT without A/D */
	kvm_mmu_map_level(vm, &vm->mmu, gva, gpa, PAGE_SIZE,
			  KVM_MMU_RW | KVM_MMU_USER, PG_LEVEL_4K);
	pte = kvm_mmu_lookup(vm, &vm->mmu, gva, NULL);
	*pte |= vm->mmu.arch.accessed | vm->mmu.arch.dirty;
}

int main(void)
{
	nested_require_tdp();
	ms = nested_memstress_create(NR_VCPUS, SLOT_SIZE,
				     KVM_MEM_LOG_DIRTY_PAGES);
	ms->args.slice_size = SLICE_PAGES * PAGE_SIZE;
	/* The alias: L2 GPAs A map to L1's B; L2 reaches A at ALIAS_GVA. */
	tdp_map(ms->vm, MEMSTRESS_GPA + A_OFFSET, MEMSTRESS_GPA, DATA_SIZE);
	virt_map(ms->vm, ALIAS_GVA, MEMSTRESS_GPA + A_OFFSET, DATA_SIZE);

	get_log();	/* start clean */

	case_begin("%d L2s write through the identity map: L1 GFNs logged, nothing else",
		   NR_VCPUS);
	ms->args.gva = MEMSTRESS_GVA;
	memstress_run(ms);
	get_log();
	check_round();

	case_begin("%d L2s write through an aliased L2 GPA range: the L1 GFNs are logged, never the L2 GPAs",
		   NR_VCPUS);
	ms->args.gva = ALIAS_GVA;
	memstress_run(ms);
	get_log();
	check_round();

	/* Second round through the alias: pages are write-protected again. */
	case_begin("a second round after collecting the log is logged again");
	memstress_run(ms);
	get_log();
	check_round();

	/* READ-then-WRITE of a fresh page with A/D pre-set in both tables. */
	case_begin("READ then WRITE with stage-2 and guest dirty bits pre-set: the write is logged");
	preset_dirty(MEMSTRESS_GVA + P_OFFSET, MEMSTRESS_GPA + P_OFFSET);
	ms->args = (struct memstress_args){
		.iteration = ms->args.iteration,
		.gva = MEMSTRESS_GVA + P_OFFSET,
		.slice_size = PAGE_SIZE,
		.nr_pages = 1,
		.vcpu_mask = BIT_ULL(0),
		.write_percent = 0,
	};
	memstress_run(ms);
	get_log();	/* collect whatever the read did; re-protect */
	ms->args.write_percent = 100;
	memstress_run(ms);
	get_log();
	CHECK(dirty(P_OFFSET), "page P written but not logged");
	CHECK_EQ(*(u64 *)addr_gpa2hva(ms->vm, MEMSTRESS_GPA + P_OFFSET),
		 memstress_pattern(ms->args.iteration, 0, 0));

	memstress_destroy(ms);
	checks_exit();
}
