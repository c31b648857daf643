// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memslots: host memory of each backing type, registered with KVM, and the
 * GPA -> HVA lookup every other part of the library goes through.
 */
#include <linux/memfd.h>
#include <numa.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "internal.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static const struct {
	const char *name;
	u64 page_size;
	bool shared;
	int map_flags;		/* extra mmap flags for anonymous backings */
	unsigned int memfd_flags;
} backings[NR_VM_MEM_BACKINGS] = {
	[VM_MEM_ANON] = { "anonymous", 4 * KiB },
	[VM_MEM_ANON_THP] = { "anonymous-thp", 2 * MiB },
	[VM_MEM_ANON_HUGETLB_2M] = { "anonymous-hugetlb-2mb", 2 * MiB, false,
		MAP_HUGETLB | (21 << MAP_HUGE_SHIFT) },
	[VM_MEM_ANON_HUGETLB_1G] = { "anonymous-hugetlb-1gb", 1 * GiB, false,
		MAP_HUGETLB | (30 << MAP_HUGE_SHIFT) },
	[VM_MEM_SHMEM] = { "shmem", 4 * KiB, true, 0, 0 },
	[VM_MEM_HUGETLBFS_2M] = { "hugetlbfs-2mb", 2 * MiB, true, 0,
		MFD_HUGETLB | MFD_HUGE_2MB },
	[VM_MEM_HUGETLBFS_1G] = { "hugetlbfs-1gb", 1 * GiB, true, 0,
		MFD_HUGETLB | MFD_HUGE_1GB },
};

const char *vm_mem_backing_name(enum vm_mem_backing backing)
{
	return backings[backing].name;
}

u64 vm_mem_backing_page_size(enum vm_mem_backing backing)
{
	return backings[backing].page_size;
}

/*
 * Map @size bytes of @backing, aligned to its page size so KVM can use
 * huge mappings. Returns MAP_FAILED with errno set on failure.
 */
static void *backing_mmap(enum vm_mem_backing backing, size_t size, int *fd,
			  void **alias)
{
	u64 align = backings[backing].page_size;
	void *mem, *aligned;

	*fd = -1;
	*alias = NULL;
	if (backings[backing].shared) {
		*fd = memfd_create("kvmtest", MFD_CLOEXEC |
				   backings[backing].memfd_flags);
		if (*fd < 0)
			return MAP_FAILED;
		if (ftruncate(*fd, size) < 0)
			goto err_close;
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   *fd, 0);
		if (mem == MAP_FAILED)
			goto err_close;
		*alias = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      *fd, 0);
		if (*alias == MAP_FAILED) {
			munmap(mem, size);
			goto err_close;
		}
		return mem;
	}

	if (backings[backing].map_flags & MAP_HUGETLB)
		return mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			    backings[backing].map_flags, -1, 0);

	/* Over-allocate, then trim, to get a host address aligned like the GPA. */
	mem = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return mem;
	aligned = (void *)ALIGN_UP((u64)mem, align);
	if (aligned != mem)
		munmap(mem, (char *)aligned - (char *)mem);
	munmap((char *)aligned + size,
	       (char *)mem + align - (char *)aligned);
	if (backing == VM_MEM_ANON_THP)
		madvise(aligned, size, MADV_HUGEPAGE);
	return aligned;

err_close:
	close(*fd);
	*fd = -1;
	return MAP_FAILED;
}

bool vm_mem_backing_available(enum vm_mem_backing backing)
{
	u64 size = backings[backing].page_size;
	void *mem, *alias;
	bool ok;
	int fd;

	mem = backing_mmap(backing, size, &fd, &alias);
	if (mem == MAP_FAILED)
		return false;
	/* hugetlb reservations can still fail at first touch: SIGBUS. */
	ok = madvise(mem, size, MADV_POPULATE_WRITE) == 0;
	munmap(mem, size);
	if (alias)
		munmap(alias, size);
	if (fd >= 0)
		close(fd);
	return ok;
}

struct vm_memslot *vm_memslot(struct kvm_vm *vm, u32 slot)
{
	for (int i = 0; i < vm->nr_slots; i++)
		if (vm->slots[i].region.slot == slot)
			return &vm->slots[i];
	return NULL;
}

struct vm_memslot *vm_memslot_of_gpa(struct kvm_vm *vm, u64 gpa)
{
	struct vm_memslot *s = &vm->slots[vm->last_slot];

	if (vm->last_slot < vm->nr_slots &&
	    gpa - s->region.guest_phys_addr < s->region.memory_size)
		return s;
	for (int i = 0; i < vm->nr_slots; i++) {
		s = &vm->slots[i];
		if (gpa - s->region.guest_phys_addr < s->region.memory_size) {
			vm->last_slot = i;
			return s;
		}
	}
	return NULL;
}

bool vm_gpa_range_backed(struct kvm_vm *vm, u64 gpa, u64 size)
{
	while (size) {
		struct vm_memslot *s = vm_memslot_of_gpa(vm, gpa);
		u64 left;

		if (!s)
			return false;
		left = s->region.guest_phys_addr + s->region.memory_size - gpa;
		if (left >= size)
			return true;
		gpa += left;
		size -= left;
	}
	return true;
}

void *addr_gpa2hva(struct kvm_vm *vm, u64 gpa)
{
	struct vm_memslot *s = vm_memslot_of_gpa(vm, gpa);

	TEST_ASSERT(s, "addr_gpa2hva: no memslot holds GPA 0x%llx",
		    gpa);
	return (char *)s->host_mem + (gpa - s->region.guest_phys_addr);
}

int __vm_set_user_memory_region(struct kvm_vm *vm, u32 slot, u32 flags,
				u64 gpa, u64 size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (u64)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region);
}

/* Tell KVM what @s says; guest_memfd slots need the region2 ioctl. */
static int memslot_update(struct kvm_vm *vm, struct vm_memslot *s)
{
	if (vm->fd < 0)
		return 0;
	if (s->region.flags & KVM_MEM_GUEST_MEMFD)
		return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, &s->region);
	return __vm_set_user_memory_region(vm, s->region.slot,
					   s->region.flags,
					   s->region.guest_phys_addr,
					   s->region.memory_size,
					   (void *)s->region.userspace_addr);
}

static void memslot_unmap(struct vm_memslot *s)
{
	munmap(s->host_mem, s->mmap_size);
	if (s->host_alias)
		munmap(s->host_alias, s->mmap_size);
	if (s->fd >= 0)
		close(s->fd);
	if (s->region.flags & KVM_MEM_GUEST_MEMFD)
		close(s->region.guest_memfd);
}

/*
 * The entry after the last of vm->slots (the array grows as needed), set
 * up for @size bytes at @gpa whose host mapping is @mem and, if not -1,
 * whose file is @fd. It is not counted in vm->nr_slots: the caller does
 * that once KVM has taken the slot.
 */
struct vm_memslot *vm_memslot_new(struct kvm_vm *vm, u32 slot, u32 flags,
				  u64 gpa, u64 size, void *mem, int fd)
{
	struct vm_memslot *s;

	if (vm->nr_slots == vm->max_slots) {
		vm->max_slots = vm->max_slots ? vm->max_slots * 2 : 8;
		vm->slots = realloc(vm->slots,
				    vm->max_slots * sizeof(*vm->slots));
		TEST_ASSERT(vm->slots, "out of memory");
	}
	s = &vm->slots[vm->nr_slots];
	*s = (struct vm_memslot){
		.region = {
			.slot = slot,
			.flags = flags,
			.guest_phys_addr = gpa,
			.memory_size = size,
			.userspace_addr = (u64)mem,
		},
		.host_mem = mem,
		.mmap_size = size,
		.fd = fd,
		.next_free = gpa,
	};
	return s;
}

/*
 * A slot of @backing host memory; with @gmem_fd >= 0 also bound to that
 * guest_memfd at @gmem_offset. The slot owns the fd once added; on
 * failure it stays the caller's.
 */
static int memslot_add(struct kvm_vm *vm, enum vm_mem_backing backing,
		       u64 gpa, u32 slot, u64 npages, u32 flags, int numa_node,
		       int gmem_fd, u64 gmem_offset)
{
	u64 size = npages * PAGE_SIZE;
	struct vm_memslot *s;
	void *mem, *alias;
	int fd, ret;

	TEST_ASSERT(!vm_memslot(vm, slot), "memslot %u already exists", slot);
	TEST_ASSERT(IS_ALIGNED(size, backings[backing].page_size),
		    "memslot %u: %llu pages is not a multiple of %s pages",
		    slot, npages, backings[backing].name);

	mem = backing_mmap(backing, size, &fd, &alias);
	if (mem == MAP_FAILED)
		return -errno;
	if (numa_node >= 0) {
		TEST_ASSERT(numa_available() >= 0, "NUMA is not available");
		numa_tonode_memory(mem, size, numa_node);
	}

	s = vm_memslot_new(vm, slot, flags, gpa, size, mem, fd);
	s->backing = backing;
	s->host_alias = alias;
	if (gmem_fd >= 0) {
		s->region.flags |= KVM_MEM_GUEST_MEMFD;
		s->region.guest_memfd = gmem_fd;
		s->region.guest_memfd_offset = gmem_offset;
	}
	ret = memslot_update(vm, s);
	if (ret < 0) {
		ret = -errno;
		s->region.flags &= ~KVM_MEM_GUEST_MEMFD;	/* caller's fd */
		memslot_unmap(s);
		return ret;
	}
	vm->nr_slots++;
	return 0;
}

int __vm_memslot_add(struct kvm_vm *vm, enum vm_mem_backing backing,
		     u64 gpa, u32 slot, u64 npages, u32 flags, int numa_node)
{
	return memslot_add(vm, backing, gpa, slot, npages, flags, numa_node,
			   -1, 0);
}

int __vm_memslot_add_gmem(struct kvm_vm *vm, enum vm_mem_backing backing,
			  u64 gpa, u32 slot, u64 npages, int gmem_fd,
			  u64 gmem_offset)
{
	return memslot_add(vm, backing, gpa, slot, npages, 0, -1, gmem_fd,
			   gmem_offset);
}

void vm_memslot_add(struct kvm_vm *vm, enum vm_mem_backing backing, u64 gpa,
		    u32 slot, u64 npages, u32 flags)
{
	int ret = __vm_memslot_add(vm, backing, gpa, slot, npages, flags, -1);

	errno = -ret;
	TEST_ASSERT(!ret, "adding memslot %u (%s, GPA 0x%llx, %llu pages, flags 0x%x)",
		    slot, backings[backing].name, gpa,
		    npages, flags);
}

int __vm_memslot_move(struct kvm_vm *vm, u32 slot, u64 new_gpa)
{
	struct vm_memslot *s = vm_memslot(vm, slot);
	u64 old_gpa;

	TEST_ASSERT(s, "vm_memslot_move: no memslot %u", slot);
	old_gpa = s->region.guest_phys_addr;
	s->region.guest_phys_addr = new_gpa;
	if (memslot_update(vm, s) < 0) {
		s->region.guest_phys_addr = old_gpa;
		return -errno;
	}
	s->next_free = s->next_free - old_gpa + new_gpa;
	return 0;
}

void vm_memslot_move(struct kvm_vm *vm, u32 slot, u64 new_gpa)
{
	int ret = __vm_memslot_move(vm, slot, new_gpa);

	errno = -ret;
	TEST_ASSERT(!ret, "moving memslot %u to GPA 0x%llx", slot,
		    new_gpa);
}

void vm_memslot_delete(struct kvm_vm *vm, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);

	TEST_ASSERT(s, "vm_memslot_delete: no memslot %u", slot);
	s->region.memory_size = 0;
	TEST_ASSERT(memslot_update(vm, s) == 0, "deleting memslot %u", slot);
	memslot_unmap(s);
	*s = vm->slots[--vm->nr_slots];
	vm->last_slot = 0;
}

void vm_memslot_set_flags(struct kvm_vm *vm, u32 slot, u32 flags)
{
	struct vm_memslot *s = vm_memslot(vm, slot);

	TEST_ASSERT(s, "vm_memslot_set_flags: no memslot %u", slot);
	s->region.flags = flags;
	TEST_ASSERT(memslot_update(vm, s) == 0,
		    "setting flags 0x%x on memslot %u", flags, slot);
}

void vm_get_dirty_log(struct kvm_vm *vm, u32 slot, void *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };

	vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
}

void vm_memslots_register(struct kvm_vm *vm)
{
	for (int i = 0; i < vm->nr_slots; i++) {
		struct vm_memslot *s = &vm->slots[i];

		TEST_ASSERT(!(s->region.flags & KVM_MEM_GUEST_MEMFD),
			    "memslot %u is backed by guest_memfd: its contents cannot follow the VM",
			    s->region.slot);
		TEST_ASSERT(!memslot_update(vm, s),
			    "registering memslot %u again at GPA 0x%llx",
			    s->region.slot,
			    s->region.guest_phys_addr);
	}
}

void vm_memslots_free(struct kvm_vm *vm)
{
	for (int i = 0; i < vm->nr_slots; i++)
		memslot_unmap(&vm->slots[i]);
	free(vm->slots);
	vm->slots = NULL;
	vm->nr_slots = 0;
}
