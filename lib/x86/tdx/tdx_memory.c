// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TD's memory from the host side: private slots (the common guest_memfd
 * library, lib/gmem.c, with every page made private) and shared pages the
 * guest maps with the S-bit.
 */
#include "kvm_util.h"
#include "internal.h"
#include "tdx/tdx.h"

void tdx_memslot_add_private(struct kvm_vm *vm, u32 slot, u64 gpa,
			     u64 npages)
{
	/* The shared half is also where the initial image is staged. */
	vm_memslot_add_private(vm, VM_MEM_ANON, gpa, slot, npages, -1, 0);
	vm_mem_set_private(vm, gpa, npages * PAGE_SIZE);
}

u64 tdx_shared_alloc(struct kvm_vm *vm, u64 npages, u64 *gpa)
{
	u64 pa, gva;

	/* The stage-1 tables are private once finalized: host edits are lost. */
	TEST_ASSERT(!tdx_vm_finalized(vm), "tdx_shared_alloc after finalize");
	pa = vm_phys_pages_alloc(vm, npages, PAGE_SIZE, TDX_SHARED_SLOT);
	gva = vm_vaddr_reserve(vm, npages * PAGE_SIZE, PAGE_SIZE);

	kvm_mmu_map(vm, &vm->mmu, gva, pa, npages * PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	if (gpa)
		*gpa = pa;
	return gva;
}
