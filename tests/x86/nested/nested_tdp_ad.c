// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_tdp_ad: stage-2 accessed/dirty bits as the architecture says.
 *
 * NPT always has A/D (guest paging format); EPT has them when the EPTP
 * enables them (bit 6), which vm_enable_tdp() does whenever KVM offers
 * EPT A/D to L1 — without that the test skips. The host builds a 4 KiB
 * leaf with A/D clear; after L2 reads the page the leaf must be accessed
 * and clean, as must every table entry on its walk; after L2 writes it
 * the leaf must be dirty.
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x30000000ULL
#define DATA_SIZE	(2 * MiB)
#define PAGE_GPA	(DATA_GPA + 7 * PAGE_SIZE)
#define PAGE_GVA	0x630000000000ULL

#define HC_READ_DONE	0x72ULL
#define HC_WRITE_DONE	0x77ULL

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	(void)READ_ONCE(*(u64 *)PAGE_GVA);
	l2_hypercall(HC_READ_DONE, 0);
	WRITE_ONCE(*(u64 *)PAGE_GVA, 0xd1d1);
	l2_hypercall(HC_WRITE_DONE, 0);
}

static void l1_main(struct nested_state *s)
{
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_READ_DONE);
	GUEST_SYNC(1);
	l2_run_to_hypercall(s, HC_WRITE_DONE);
	GUEST_SYNC(2);
	GUEST_DONE();
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct kvm_vm *vm = vcpu->vm;
	const struct kvm_mmu_arch *a = &vm->stage2_mmu.arch;
	u64 leaf = *tdp_lookup(vm, PAGE_GPA, NULL);
	bool walk_accessed = true;

	for (int l = PG_LEVEL_2M; l < vm->stage2_mmu.pgtable_levels; l++)
		walk_accessed &= !!(*tdp_entry(vm, PAGE_GPA, l) & a->accessed);

	if (uc->args[0] == 1) {
		case_begin("after an L2 read the leaf is accessed and clean");
		CHECK((leaf & a->accessed) && !(leaf & a->dirty), "leaf 0x%llx",
		      leaf);
		case_begin("after an L2 read every table entry on the walk is accessed");
		CHECK(walk_accessed, "a table entry above the leaf is not accessed");
	} else {
		case_begin("after an L2 write the leaf is dirty");
		CHECK((leaf & a->accessed) && (leaf & a->dirty), "leaf 0x%llx",
		      leaf);
	}
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 leaf;

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	if (!vm->stage2_mmu.arch.accessed)
		test_skip("EPT A/D bits are not offered to L1 (EPT_VPID_CAP bit 21 clear), so EPTP[6] stays off");
	tdp_map_level(vm, PAGE_GPA, PAGE_GPA, PAGE_SIZE, KVM_MMU_RWX,
		      PG_LEVEL_4K);
	leaf = *tdp_lookup(vm, PAGE_GPA, NULL);
	TEST_ASSERT(!(leaf & (vm->stage2_mmu.arch.accessed |
			      vm->stage2_mmu.arch.dirty)),
		    "fresh stage-2 leaf has A/D set: 0x%llx",
		    leaf);
	virt_map(vm, PAGE_GVA, PAGE_GPA, PAGE_SIZE);

	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, on_sync, NULL);
	/* The write the dirty bit stands for reached L1's page. */
	CHECK_EQ(*(u64 *)addr_gpa2hva(vm, PAGE_GPA), 0xd1d1);
	kvm_vm_free(vm);
	checks_exit();
}
