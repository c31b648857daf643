// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_l2_cr3: L2 runs on page tables of its own, not L1's.
 *
 * The host builds them with a second struct kvm_mmu beside vm->mmu: the
 * same walker and guest-paging masks, another root. The two roots share
 * every subtree but one, and in that one the same GVA maps to a different
 * L1 page. L1 points L2's CR3 at the second root (VMCB save area or VMCS
 * GUEST_CR3), flushes, and L2 must read the other page; the CPU's A bit
 * must land in the second mmu's leaf; and back on L1's CR3, L2 reads the
 * first page again. A KVM that ignored L1's CR3 for L2, or walked the
 * wrong tables, fails here.
 *
 * Written once for SVM and VMX; the identity stage-2 map makes L2 GPAs
 * L1 GPAs, so the second root's GPA is a valid L2 CR3.
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x20000000ULL	/* 512 MiB */
#define DATA_SIZE	(2 * MiB)
/* Alone in its top-level slot (512 GiB) of L1's tables: see main(). */
#define TEST_GVA	0x680000000000ULL

#define HC_VALUE	0x76616cULL	/* "val": arg is what L2 read */
#define VALUE_L1	0x4c31207461626c65ULL	/* page under L1's tables */
#define VALUE_L2	0x4c32207461626c65ULL	/* page under L2's own */

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (;;)
		l2_hypercall(HC_VALUE, READ_ONCE(*(u64 *)TEST_GVA));
}

static void l1_main(struct nested_state *s, u64 l2_cr3)
{
	u64 l1_cr3 = get_cr3();

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	GUEST_CASE("L2 on L1's tables reads L1's page");
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_VALUE), VALUE_L1);

	/* Changing CR3 under the same VPID/ASID does not flush: do it. */
	GUEST_CASE("l2_set_cr3 to a second kvm_mmu's root: L2 reads the page it maps");
	l2_set_cr3(s, l2_cr3);
	l2_tdp_flush(s);
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_VALUE), VALUE_L2);
	GUEST_SYNC(1);	/* the host looks at the second mmu's leaf */

	GUEST_CASE("back on L1's CR3 and flushed: L2 reads L1's page again");
	l2_set_cr3(s, l1_cr3);
	l2_tdp_flush(s);
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_VALUE), VALUE_L1);
	GUEST_DONE();
}

/*
 * A root for L2 that shares all of L1's top-level entries, so L2 runs the
 * same code on the same stack; TEST_GVA's slot is left empty for L2's own
 * subtree. Sharing goes one way only from here: later mappings in L1's
 * shared subtrees show up in L2's too, so build this last.
 */
static void share_root_but(struct kvm_vm *vm, struct kvm_mmu *dst,
			   struct kvm_mmu *src, u64 gva)
{
	int top = src->pgtable_levels - 1;
	int own = (gva >> PG_LEVEL_SHIFT(top)) % PTES_PER_TABLE;
	u64 *from = addr_gpa2hva(vm, src->pgd);
	u64 *to = addr_gpa2hva(vm, dst->pgd);

	for (int i = 0; i < PTES_PER_TABLE; i++)
		if (i != own)
			to[i] = from[i];
}

static struct kvm_mmu l2_mmu;

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	u64 *leaf = kvm_mmu_lookup(vcpu->vm, &l2_mmu, TEST_GVA, NULL);

	TEST_ASSERT(uc->args[0] == 1, "unexpected sync %llu", uc->args[0]);
	case_begin("the CPU set the accessed bit in the second mmu's leaf");
	CHECK(leaf && (*leaf & l2_mmu.arch.accessed), "PTE 0x%llx",
	      leaf ? *leaf : 0ULL);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 state, top_entry;

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	state = vcpu_alloc_nested_state(vcpu);

	top_entry = *kvm_mmu_entry(vm, &vm->mmu, TEST_GVA,
				   vm->mmu.pgtable_levels - 1);
	TEST_ASSERT(!top_entry,
		    "test bug: TEST_GVA 0x%llx shares a top-level slot with other mappings",
		    TEST_GVA);
	kvm_mmu_init(vm, &l2_mmu, vm->mmu.pgtable_levels, &vm->mmu.arch);
	share_root_but(vm, &l2_mmu, &vm->mmu, TEST_GVA);

	*(u64 *)addr_gpa2hva(vm, DATA_GPA) = VALUE_L1;
	*(u64 *)addr_gpa2hva(vm, DATA_GPA + PAGE_SIZE) = VALUE_L2;
	kvm_mmu_map(vm, &vm->mmu, TEST_GVA, DATA_GPA, PAGE_SIZE, KVM_MMU_RW);
	kvm_mmu_map(vm, &l2_mmu, TEST_GVA, DATA_GPA + PAGE_SIZE, PAGE_SIZE,
		    KVM_MMU_RW);

	vcpu_args_set(vcpu, 2, state, l2_mmu.pgd);
	vcpu_run_to_done(vcpu, on_sync, NULL);
	kvm_vm_free(vm);
	checks_exit();
}
