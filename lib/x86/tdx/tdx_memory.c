// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TD's memory from the host side: private/shared memory attributes,
 * guest_memfd-backed private memslots, punching holes in them, and shared
 * pages the guest maps with the S-bit.
 *
 * guest_memfd slots are kept here rather than in memslot.c, which speaks
 * KVM_SET_USER_MEMORY_REGION (v1, no guest_memfd). The bookkeeping is the
 * same struct vm_memslot, with the guest_memfd in ->fd so that
 * vm_memslots_free() closes it with the VM.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "internal.h"
#include "tdx/tdx.h"

int __vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			       u64 attributes)
{
	struct kvm_memory_attributes a = {
		.address = gpa, .size = size, .attributes = attributes,
	};

	return ioctl(vm->fd, KVM_SET_MEMORY_ATTRIBUTES, &a);
}

void vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			      u64 attributes)
{
	TEST_ASSERT(!__vm_set_memory_attributes(vm, gpa, size, attributes),
		    "KVM_SET_MEMORY_ATTRIBUTES(0x%llx+0x%llx, 0x%llx)",
		    gpa, size,
		    attributes);
}

void tdx_memslot_add_private(struct kvm_vm *vm, u32 slot, u64 gpa,
			     u64 npages)
{
	u64 size = npages * PAGE_SIZE;
	struct kvm_create_guest_memfd cg = { .size = size };
	struct vm_memslot *s;
	void *mem;
	int gmem;

	TEST_ASSERT(!vm_memslot(vm, slot), "memslot %u already exists", slot);
	gmem = ioctl(vm->fd, KVM_CREATE_GUEST_MEMFD, &cg);
	TEST_ASSERT(gmem >= 0, "KVM_CREATE_GUEST_MEMFD(%llu bytes)",
		    size);
	/* The shared view; also where the initial image is staged. */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap of %llu bytes for memslot %u",
		    size, slot);

	s = vm_memslot_new(vm, slot, KVM_MEM_GUEST_MEMFD, gpa, size, mem,
			   gmem);
	s->region.guest_memfd = gmem;
	TEST_ASSERT(!ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, &s->region),
		    "KVM_SET_USER_MEMORY_REGION2(slot %u, GPA 0x%llx, %llu pages, guest_memfd)",
		    slot, gpa, npages);
	vm->nr_slots++;
	vm_set_memory_attributes(vm, gpa, size, KVM_MEMORY_ATTRIBUTE_PRIVATE);
}

void tdx_memslot_delete(struct kvm_vm *vm, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);
	struct kvm_userspace_memory_region2 r;

	TEST_ASSERT(s, "tdx_memslot_delete: no memslot %u", slot);
	r = s->region;
	r.memory_size = 0;
	TEST_ASSERT(!ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, &r),
		    "deleting guest_memfd memslot %u", slot);
	munmap(s->host_mem, s->mmap_size);
	if (s->fd >= 0)
		close(s->fd);
	*s = vm->slots[--vm->nr_slots];
	vm->last_slot = 0;
}

int tdx_memslot_gmem_fd(struct kvm_vm *vm, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);

	TEST_ASSERT(s && (s->region.flags & KVM_MEM_GUEST_MEMFD),
		    "memslot %u is not a guest_memfd slot", slot);
	return s->region.guest_memfd;
}

void tdx_gmem_punch_hole(struct kvm_vm *vm, u32 slot, u64 offset, u64 size)
{
	int fd = tdx_memslot_gmem_fd(vm, slot);
	u64 off = vm_memslot(vm, slot)->region.guest_memfd_offset + offset;

	TEST_ASSERT(!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       off, size),
		    "fallocate(PUNCH_HOLE) on slot %u's guest_memfd at 0x%llx+0x%llx",
		    slot, off, size);
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
