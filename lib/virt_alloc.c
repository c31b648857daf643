// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-virtual allocation and the guest's view of its addresses: above
 * the walker (these map and translate through vm->mmu), which itself
 * sits above the guest-physical allocator (lib/phys_alloc.c).
 *
 * Guest-virtual ranges come from a bump pointer and are never reused, so
 * a fresh range has no stale mapping a test would have to clear.
 */
#include "kvm_util.h"

u64 vm_vaddr_reserve(struct kvm_vm *vm, u64 size, u64 align)
{
	u64 gva;

	TEST_ASSERT(!(align & (align - 1)),
		    "vm_vaddr_reserve: alignment 0x%llx is not a power of two",
		    align);
	gva = ALIGN_UP(vm->vaddr_next, align ? align : PAGE_SIZE);

	vm->vaddr_next = gva + ALIGN_UP(size, PAGE_SIZE);
	return gva;
}

u64 vm_vaddr_alloc(struct kvm_vm *vm, u64 size)
{
	u64 npages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
	u64 gpa = vm_phys_pages_alloc(vm, npages, PAGE_SIZE, KVMT_MAIN_SLOT);
	u64 gva = vm_vaddr_reserve(vm, size, PAGE_SIZE);

	kvm_mmu_map(vm, &vm->mmu, gva, gpa, npages * PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_USER);
	return gva;
}

void virt_map(struct kvm_vm *vm, u64 gva, u64 gpa, u64 size)
{
	kvm_mmu_map(vm, &vm->mmu, gva, gpa, size, KVM_MMU_RWX | KVM_MMU_USER);
}

void *addr_gva2hva(struct kvm_vm *vm, u64 gva)
{
	return addr_gpa2hva(vm, addr_gva2gpa(vm, gva));
}

void memcpy_from_guest(struct kvm_vm *vm, void *dst, u64 gva, size_t len)
{
	while (len) {
		size_t chunk = PAGE_SIZE - (gva & (PAGE_SIZE - 1));

		if (chunk > len)
			chunk = len;
		memcpy(dst, addr_gva2hva(vm, gva), chunk);
		dst = (char *)dst + chunk;
		gva += chunk;
		len -= chunk;
	}
}

u64 addr_gva2gpa(struct kvm_vm *vm, u64 gva)
{
	u64 gpa;

	TEST_ASSERT(kvm_mmu_translate(vm, &vm->mmu, gva, &gpa),
		    "addr_gva2gpa: GVA 0x%llx is not mapped",
		    gva);
	return gpa;
}
