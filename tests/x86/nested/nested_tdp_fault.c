// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_tdp_fault: L1 breaks its own stage-2 tables the way a hypervisor
 * does (a store to a PTE, then a flush) and checks that L2's access exits
 * as an NPF / EPT violation with the right L2 GPA and access; then it
 * repairs the entry and L2's access completes.
 *
 *   leaf unmapped        stage-2 4K leaf cleared, L2 reads
 *   table unmapped       stage-2 non-leaf entry (a PDE) cleared, L2 writes
 *   leaf read-only       W cleared in the leaf, L2 writes
 *   leaf no-exec         X cleared (NX set) in the leaf, L2 calls into it
 *   page table read-only the stage-2 leaf of L2's *own* page-table page is
 *                        read-only, so the walk's accessed-bit update
 *                        faults: a write at that table's GPA, on the walk
 *
 * The host computes where each entry is and what it should hold, with the
 * same walker that built the tables; L1 does the edits through its view of
 * its own memory (l1_phys()).
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x10000000ULL	/* 256 MiB */
#define DATA_SIZE	(4 * MiB)
#define DATA_GVA	0x300000000000ULL
#define WALK_GVA	0x310000000000ULL	/* alone in its page table */

#define HC_NEXT		0x6e657874ULL	/* "next": returns the case index */
#define HC_DONE		0x646f6e65ULL

struct fault_case {
	const char *name;
	u64 gva;		/* what L2 touches */
	unsigned int l2_access;	/* how */
	u64 pte_gpa;		/* the stage-2 entry L1 breaks */
	u64 good, bad;
	u64 fault_gpa;		/* what L1 must see */
	unsigned int fault_access;
	bool present;
	bool on_walk;
};

#define MAX_CASES	8
static struct fault_case cases[MAX_CASES];
static int nr_cases;
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (;;) {
		u64 i = l2_hypercall(HC_NEXT, 0);
		struct fault_case *c = &cases[i];

		if (i >= (u64)nr_cases)
			break;
		switch (c->l2_access) {
		case KVM_MMU_READ:
			(void)READ_ONCE(*(u64 *)c->gva);
			break;
		case KVM_MMU_WRITE:
			WRITE_ONCE(*(u64 *)c->gva, 0x5eed0000 + i);
			break;
		case KVM_MMU_EXEC:
			((void (*)(void))c->gva)();
			break;
		}
	}
	l2_hypercall(HC_DONE, 0);
}

static void l1_main(struct nested_state *s)
{
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_NEXT);

	for (int i = 0; i < nr_cases; i++) {
		struct fault_case *c = &cases[i];
		u64 *pte = l1_phys(c->pte_gpa);
		struct l2_exit ex;

		/* L2 waits in HC_NEXT: give it case i, after the break. */
		l2_set_hypercall_result(s, i);
		WRITE_ONCE(*pte, c->bad);
		l2_tdp_flush(s);

		GUEST_CASE("%s: %s: a %s fault at L2 GPA 0x%llx",
			   s->vendor == NESTED_SVM ? "npt" : "ept", c->name,
			   c->fault_access == KVM_MMU_WRITE ? "write" :
			   c->fault_access == KVM_MMU_EXEC ? "fetch" : "read",
			   c->fault_gpa);
		ex = l2_run(s);
		/* Anything but a fault leaves L2 elsewhere: no later case holds. */
		GUEST_ASSERT_MSG(ex.kind == L2_EXIT_TDP_FAULT,
				 "%s: expected a TDP fault, got %s", c->name,
				 l2_exit_kind_name(ex.kind));
		L2_CHECK_TDP_FAULT(ex, c->fault_gpa, c->fault_access);
		GUEST_CHECK(ex.present == c->present,
			    "present %d, expected %d (info 0x%llx)",
			    ex.present, c->present, ex.info1);
		GUEST_CHECK(ex.on_walk == c->on_walk,
			    "fault on the walk %d, expected %d (info 0x%llx)",
			    ex.on_walk, c->on_walk, ex.info1);

		/* Repair: L2 retries the access and asks for the next case. */
		WRITE_ONCE(*pte, c->good);
		l2_tdp_flush(s);
		l2_run_to_hypercall(s, HC_NEXT);
	}
	l2_set_hypercall_result(s, ~0ULL);
	l2_run_to_hypercall(s, HC_DONE);
	GUEST_DONE();
}

/* A case on a 4 KiB stage-2 leaf of DATA page @page, with its entry edited. */
static void leaf_case(struct kvm_vm *vm, const char *name, u64 page,
		      unsigned int l2_access, u64 clear, u64 set,
		      bool present, unsigned int fault_access)
{
	u64 gpa = DATA_GPA + page * PAGE_SIZE;
	u64 *pte;
	int level;

	/* Split whatever covers it so this page has a leaf of its own. */
	tdp_map_level(vm, gpa, gpa, PAGE_SIZE, KVM_MMU_RWX, PG_LEVEL_4K);
	pte = tdp_lookup(vm, gpa, &level);
	TEST_ASSERT(pte && level == PG_LEVEL_4K, "no 4K stage-2 leaf for 0x%llx",
		    gpa);
	cases[nr_cases++] = (struct fault_case){
		.name = name,
		.gva = DATA_GVA + page * PAGE_SIZE,
		.l2_access = l2_access,
		.pte_gpa = addr_hva2gpa(vm, pte),
		.good = *pte,
		.bad = clear == ~0ULL ? 0 : ((*pte & ~clear) | set),
		.fault_gpa = gpa,
		.fault_access = fault_access,
		.present = present,
	};
}

static void add_cases(struct kvm_vm *vm)
{
	const struct kvm_mmu_arch *a = &vm->stage2_mmu.arch;
	u64 table_gpa = DATA_GPA + 2 * MiB + 5 * PAGE_SIZE;
	u64 *pde, *gpte_table, pt_gpa;
	int level;

	leaf_case(vm, "leaf unmapped", 1, KVM_MMU_READ, ~0ULL, 0, false,
		  KVM_MMU_READ);
	leaf_case(vm, "leaf read-only", 2, KVM_MMU_WRITE, a->writable, 0, true,
		  KVM_MMU_WRITE);
	/* EPT: clear X; NPT: set NX. A RET is what L2 calls. */
	*(u8 *)addr_gpa2hva(vm, DATA_GPA + 3 * PAGE_SIZE) = 0xc3;
	leaf_case(vm, "leaf no-exec", 3, KVM_MMU_EXEC, a->executable, a->nx,
		  true, KVM_MMU_EXEC);

	/* A non-leaf entry: the PDE over a split 2 MiB region. */
	tdp_map_level(vm, table_gpa, table_gpa, PAGE_SIZE, KVM_MMU_RWX,
		      PG_LEVEL_4K);
	pde = tdp_entry(vm, table_gpa, PG_LEVEL_2M);
	TEST_ASSERT(pde && !(*pde & a->huge), "PDE over 0x%llx is not a table",
		    table_gpa);
	cases[nr_cases++] = (struct fault_case){
		.name = "table unmapped",
		.gva = DATA_GVA + (table_gpa - DATA_GPA),
		.l2_access = KVM_MMU_WRITE,
		.pte_gpa = addr_hva2gpa(vm, pde),
		.good = *pde,
		.bad = 0,
		.fault_gpa = table_gpa,
		.fault_access = KVM_MMU_WRITE,
	};

	/*
	 * L2's own page table: WALK_GVA is the only mapping in its last-level
	 * table, the leaf's accessed bit is clear, so the first walk must
	 * write that table; stage-2 makes it read-only.
	 */
	virt_map(vm, WALK_GVA, DATA_GPA + 6 * PAGE_SIZE, PAGE_SIZE);
	gpte_table = kvm_mmu_entry(vm, &vm->mmu, WALK_GVA, PG_LEVEL_2M);
	pt_gpa = *gpte_table & vm->mmu.arch.addr_mask;
	TEST_ASSERT(!(*kvm_mmu_lookup(vm, &vm->mmu, WALK_GVA, &level) &
		      vm->mmu.arch.accessed), "guest PTE already accessed");
	tdp_map_level(vm, pt_gpa, pt_gpa, PAGE_SIZE, KVM_MMU_RWX, PG_LEVEL_4K);
	cases[nr_cases] = (struct fault_case){
		.name = "page table read-only",
		.gva = WALK_GVA,
		.l2_access = KVM_MMU_READ,
		.pte_gpa = addr_hva2gpa(vm, tdp_lookup(vm, pt_gpa, NULL)),
		.fault_gpa = pt_gpa,
		.fault_access = KVM_MMU_WRITE,
		.present = true,
		.on_walk = true,
	};
	cases[nr_cases].good = *tdp_lookup(vm, pt_gpa, NULL);
	cases[nr_cases].bad = cases[nr_cases].good & ~a->writable;
	nr_cases++;
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	virt_map(vm, DATA_GVA, DATA_GPA, DATA_SIZE);
	add_cases(vm);
	sync_global_to_guest(vm, cases);
	sync_global_to_guest(vm, nr_cases);

	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, NULL, NULL);
	kvm_vm_free(vm);
	checks_exit();
}
