// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest_memfd and the memslots bound to it (KVM_SET_USER_MEMORY_REGION2).
 *
 * The slot bookkeeping is memslot.c's struct vm_memslot: the guest_memfd
 * is region.guest_memfd (flag KVM_MEM_GUEST_MEMFD), the shared half is
 * host_mem as for any slot, and memslot.c registers, deletes and frees
 * such a slot through KVM_SET_USER_MEMORY_REGION2.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include "internal.h"
#include "private_mem.h"

int __vm_create_guest_memfd(struct kvm_vm *vm, u64 size, u64 flags)
{
	struct kvm_create_guest_memfd args = { .size = size, .flags = flags };

	return ioctl(vm->fd, KVM_CREATE_GUEST_MEMFD, &args);
}

int vm_create_guest_memfd(struct kvm_vm *vm, u64 size, u64 flags)
{
	int fd = __vm_create_guest_memfd(vm, size, flags);

	TEST_ASSERT(fd >= 0, "KVM_CREATE_GUEST_MEMFD(size 0x%llx, flags 0x%llx) on a VM of type %lu",
		    (unsigned long long)size, (unsigned long long)flags,
		    vm->type);
	return fd;
}

int __vm_set_user_memory_region2(struct kvm_vm *vm, u32 slot, u32 flags,
				 u64 gpa, u64 size, void *hva, int gmem_fd,
				 u64 gmem_offset)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (u64)hva,
		.guest_memfd = gmem_fd,
		.guest_memfd_offset = gmem_offset,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, &r);
}

int __vm_memslot_add_private(struct kvm_vm *vm, enum vm_mem_backing backing,
			     u64 gpa, u32 slot, u64 npages, int gmem_fd,
			     u64 gmem_offset)
{
	u64 size = npages * PAGE_SIZE;
	int fd, ret;

	fd = gmem_fd >= 0 ? dup(gmem_fd) : __vm_create_guest_memfd(vm, size, 0);
	if (fd < 0)
		return -errno;
	/*
	 * memslot.c makes the shared half and registers the slot; with the
	 * flag set it uses KVM_SET_USER_MEMORY_REGION2 and these fields.
	 */
	ret = __vm_memslot_add_gmem(vm, backing, gpa, slot, npages, fd,
				    gmem_offset);
	if (ret)
		close(fd);
	return ret;
}

void vm_memslot_add_private(struct kvm_vm *vm, enum vm_mem_backing backing,
			    u64 gpa, u32 slot, u64 npages, int gmem_fd,
			    u64 gmem_offset)
{
	int ret = __vm_memslot_add_private(vm, backing, gpa, slot, npages,
					   gmem_fd, gmem_offset);

	errno = -ret;
	TEST_ASSERT(!ret, "adding private memslot %u (GPA 0x%llx, %llu pages, guest_memfd offset 0x%llx) to a VM of type %lu",
		    slot, (unsigned long long)gpa, (unsigned long long)npages,
		    (unsigned long long)gmem_offset, vm->type);
}

int vm_memslot_gmem_fd(struct kvm_vm *vm, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);

	TEST_ASSERT(s && (s->region.flags & KVM_MEM_GUEST_MEMFD),
		    "memslot %u is not a guest_memfd slot", slot);
	return s->region.guest_memfd;
}

int gmem_plan_ranges(struct kvm_vm *vm, u64 gpa, u64 size,
		     struct gmem_piece *out, int max)
{
	int n = 0;

	while (size) {
		struct vm_memslot *s = vm_memslot_of_gpa(vm, gpa);
		u64 off, len;

		if (!s || !(s->region.flags & KVM_MEM_GUEST_MEMFD) || n == max)
			return -1;
		off = gpa - s->region.guest_phys_addr;
		len = min_t(u64, size, s->region.memory_size - off);
		out[n++] = (struct gmem_piece){
			.slot = s->region.slot,
			.fd = s->region.guest_memfd,
			.offset = s->region.guest_memfd_offset + off,
			.size = len,
		};
		gpa += len;
		size -= len;
	}
	return n;
}

int __vm_gmem_fallocate(struct kvm_vm *vm, u64 gpa, u64 size, bool punch)
{
	int mode = FALLOC_FL_KEEP_SIZE | (punch ? FALLOC_FL_PUNCH_HOLE : 0);
	struct gmem_piece pieces[16];
	int n = gmem_plan_ranges(vm, gpa, size, pieces, ARRAY_SIZE(pieces));

	if (n < 0) {
		errno = ENOENT;
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (fallocate(pieces[i].fd, mode, pieces[i].offset,
			      pieces[i].size))
			return -1;
	return 0;
}

void vm_gmem_punch_hole(struct kvm_vm *vm, u64 gpa, u64 size)
{
	TEST_ASSERT(!__vm_gmem_fallocate(vm, gpa, size, true),
		    "fallocate(PUNCH_HOLE) on the guest_memfd of GPA 0x%llx+0x%llx",
		    (unsigned long long)gpa, (unsigned long long)size);
}

void vm_gmem_allocate(struct kvm_vm *vm, u64 gpa, u64 size)
{
	TEST_ASSERT(!__vm_gmem_fallocate(vm, gpa, size, false),
		    "fallocate() on the guest_memfd of GPA 0x%llx+0x%llx",
		    (unsigned long long)gpa, (unsigned long long)size);
}
