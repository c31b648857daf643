// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-physical page allocation: below the walker (lib/kvm_mmu.c takes
 * its table pages from here) and needing nothing from it.
 *
 * Each memslot hands out pages from a bump pointer and never reuses them:
 * fresh anonymous memory is already zero, so new page-table pages need no
 * clearing and the allocator costs a few instructions.
 */
#include "kvm_util.h"

u64 vm_phys_pages_alloc(struct kvm_vm *vm, u64 npages, u64 align, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);
	u64 end, gpa;

	TEST_ASSERT(s, "vm_phys_pages_alloc: no memslot %u", slot);
	/* ALIGN_UP() masks: any other alignment could hand out used pages. */
	TEST_ASSERT(!(align & (align - 1)),
		    "vm_phys_pages_alloc: alignment 0x%llx is not a power of two",
		    align);
	end = s->region.guest_phys_addr + s->region.memory_size;
	gpa = ALIGN_UP(s->next_free, align ? align : PAGE_SIZE);
	TEST_ASSERT(gpa + npages * PAGE_SIZE <= end,
		    "vm_phys_pages_alloc: slot %u out of memory (%llu pages wanted at 0x%llx, slot ends at 0x%llx)",
		    slot, npages,
		    gpa, end);
	s->next_free = gpa + npages * PAGE_SIZE;
	return gpa;
}
