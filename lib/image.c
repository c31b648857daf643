// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load the running test binary into the guest.
 *
 * Test binaries are static and not position independent, so guest code can
 * run at the very addresses the host runs it at: each loaded segment is
 * copied from our own memory into fresh guest pages and mapped at the same
 * GVA. Function pointers and globals then mean the same on both sides.
 *
 * Read-only segments (code, rodata: about 1 MiB) are not copied but mapped
 * from the executable file, privately, over the guest memory they go to:
 * a static non-PIE binary never changes them at run time, so the file's
 * pages are their contents. KVM then faults in only the few pages the
 * guest touches, straight from the page cache, where a copy cost ~270
 * page faults of fresh memory plus the copy for every VM: the largest
 * part of creating one. Writable segments are still copied, so the guest
 * starts from the host's current values of the globals.
 */
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

struct image_range {
	u64 start, end;		/* page-aligned GVAs */
	unsigned int prot;
	s64 file_off;		/* offset of start in the executable, or -1: copy */
};

struct image_ranges {
	struct image_range r[16];
	int nr;
};

static int collect_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	struct image_ranges *ranges = data;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct image_range *prev = ranges->nr ? &ranges->r[ranges->nr - 1] : NULL;
		u64 start = ALIGN_DOWN(info->dlpi_addr + ph->p_vaddr, PAGE_SIZE);
		u64 end = ALIGN_UP(info->dlpi_addr + ph->p_vaddr + ph->p_memsz,
				   PAGE_SIZE);
		unsigned int prot = KVM_MMU_READ | KVM_MMU_USER;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_flags & PF_W)
			prot |= KVM_MMU_WRITE;
		if (ph->p_flags & PF_X)
			prot |= KVM_MMU_EXEC;
		/*
		 * Segments may share a page: merge them, granting both
		 * rights, and copy the result (its pages are not one file
		 * extent).
		 */
		if (prev && start < prev->end) {
			prev->end = end > prev->end ? end : prev->end;
			prev->prot |= prot;
			prev->file_off = -1;
			continue;
		}
		TEST_ASSERT(ranges->nr < (int)ARRAY_SIZE(ranges->r),
			    "too many loadable segments");
		/* p_offset and p_vaddr are congruent modulo the page size. */
		ranges->r[ranges->nr++] = (struct image_range){
			start, end, prot,
			(ph->p_flags & PF_W) || ph->p_filesz != ph->p_memsz ? -1 :
			(s64)(ph->p_offset - (info->dlpi_addr + ph->p_vaddr - start)),
		};
	}
	return 1;	/* the first object is the executable itself */
}

/*
 * Put the file's pages at @hva, which must be private anonymous memory of
 * a memslot: shared backings have a second mapping that would not see
 * them, hugetlb cannot be split at 4 KiB, and a guest_memfd slot's memory
 * is only where its contents are staged for KVM to copy in.
 */
static bool map_from_file(struct vm_memslot *s, void *hva, u64 size,
			  int fd, s64 file_off)
{
	if (file_off < 0 || fd < 0 ||
	    (s->backing != VM_MEM_ANON && s->backing != VM_MEM_ANON_THP) ||
	    (s->region.flags & KVM_MEM_GUEST_MEMFD))
		return false;
	return mmap(hva, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		    fd, file_off) != MAP_FAILED;
}

void vm_load_image(struct kvm_vm *vm)
{
	struct image_ranges ranges = { 0 };
	/*
	 * Opened per VM rather than kept: the mappings hold the file, and a
	 * test counting its fds should not see one it never asked for. No
	 * /proc (fd < 0) just means copying everything.
	 */
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	dl_iterate_phdr(collect_segments, &ranges);
	TEST_ASSERT(ranges.nr, "the test binary has no loadable segment");
	for (int i = 0; i < ranges.nr; i++) {
		struct image_range *r = &ranges.r[i];
		u64 size = r->end - r->start;
		u64 gpa = vm_phys_pages_alloc(vm, size / PAGE_SIZE, PAGE_SIZE,
					      KVMT_MAIN_SLOT);
		void *hva = addr_gpa2hva(vm, gpa);

		if (!map_from_file(vm_memslot_of_gpa(vm, gpa), hva, size, fd,
				   r->file_off))
			memcpy(hva, (void *)r->start, size);
		kvm_mmu_map(vm, &vm->mmu, r->start, gpa, size, r->prot);
	}
	if (fd >= 0)
		close(fd);
}
