// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_tdp_5level: L2 under 5-level stage-2 tables.
 *
 * NPT walks with the paging mode L1 executes VMRUN in, so on AMD L1 itself
 * runs with 5-level paging (a va_bits=57 VM), which needs LA57 offered to
 * L1: QEMU's default EPYC model has none, so on the AMD lane this skips
 * unless the lane boots with --vm-cpu EPYC,+svm,+npt,+la57. On Intel the
 * EPTP's walk length says 5 and L1 may stay 4-level; it needs 5-level EPT
 * walks in KVM's EPT_VPID_CAP for L1.
 *
 * L2 reads a page through the 5-level tables, then touches an unmapped L2
 * GPA and L1 must see the fault there.
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x30000000ULL
#define DATA_SIZE	(2 * MiB)
#define L2_GPA_MAPPED	(20 * GiB)
#define L2_GPA_HOLE	(20 * GiB + 2 * MiB)
#define GVA_MAPPED	0x640000000000ULL
#define GVA_HOLE	0x640000200000ULL
#define MAGIC		0x5137e7e1ULL

#define HC_VALUE	0x76616cULL

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	l2_hypercall(HC_VALUE, READ_ONCE(*(u64 *)GVA_MAPPED));
	(void)READ_ONCE(*(u64 *)GVA_HOLE);
	GUEST_FAIL("read of an unmapped L2 GPA did not exit");
}

static void l1_main(struct nested_state *s)
{
	struct l2_exit ex;

	GUEST_ASSERT_EQ(s->tdp_info.levels, 5);
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	GUEST_ASSERT_EQ(l2_run_to_hypercall(s, HC_VALUE), MAGIC);
	ex = l2_run(s);
	L2_ASSERT_TDP_FAULT(ex, L2_GPA_HOLE, KVM_MMU_READ);
	GUEST_ASSERT(!ex.present);
	GUEST_DONE();
}

int main(void)
{
	struct vm_options opts = { .va_bits = 48, .numa_node = -1 };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	const char *why;

	nested_require_tdp();
	if (!kvm_cpu_has_tdp_5level(&why))
		test_skip("%s", why);
	/* NPT's depth is L1's paging depth. */
	if (kvm_cpu_has_nested_svm())
		opts.va_bits = 57;
	vm = vm_create(&opts);
	vcpu = vm_vcpu_add(vm, 0, l1_main);
	vm_memslot_add(vm, VM_MEM_ANON, DATA_GPA, DATA_SLOT,
		       DATA_SIZE / PAGE_SIZE, 0);
	vm_enable_tdp_levels(vm, 5);
	TEST_ASSERT_EQ(vm->stage2_mmu.pgtable_levels, 5);
	tdp_identity_map_all(vm);
	tdp_map(vm, L2_GPA_MAPPED, DATA_GPA, PAGE_SIZE);
	*(u64 *)addr_gpa2hva(vm, DATA_GPA) = MAGIC;
	l2_virt_map(vm, GVA_MAPPED, L2_GPA_MAPPED, PAGE_SIZE);
	l2_virt_map(vm, GVA_HOLE, L2_GPA_HOLE, PAGE_SIZE);
	/* The walk really has a PML5 entry (the 256 TiB level) above the PML4. */
	TEST_ASSERT(tdp_entry(vm, L2_GPA_MAPPED, PG_LEVEL_256T),
		    "no PML5 entry on the stage-2 walk");

	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, NULL, NULL);
	printf("%s: L2 ran under 5-level %s, read through it and faulted at an unmapped L2 GPA\n",
	       kvm_cpu_has_nested_svm() ? "svm" : "vmx",
	       kvm_cpu_has_nested_svm() ? "NPT" : "EPT");
	kvm_vm_free(vm);
	return KSFT_PASS;
}
