// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load the running test binary into the guest.
 *
 * Test binaries are static and not position independent, so guest code can
 * run at the very addresses the host runs it at: each loaded segment is
 * copied from our own memory into fresh guest pages and mapped at the same
 * GVA. Function pointers and globals then mean the same on both sides.
 */
#include <link.h>

#include "kvm_util.h"

struct image_range {
	u64 start, end;		/* page-aligned GVAs */
	unsigned int prot;
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
		/* Segments may share a page: merge them, granting both rights. */
		if (prev && start < prev->end) {
			prev->end = end > prev->end ? end : prev->end;
			prev->prot |= prot;
			continue;
		}
		TEST_ASSERT(ranges->nr < (int)ARRAY_SIZE(ranges->r),
			    "too many loadable segments");
		ranges->r[ranges->nr++] = (struct image_range){ start, end, prot };
	}
	return 1;	/* the first object is the executable itself */
}

void vm_load_image(struct kvm_vm *vm)
{
	struct image_ranges ranges = { 0 };

	dl_iterate_phdr(collect_segments, &ranges);
	TEST_ASSERT(ranges.nr, "the test binary has no loadable segment");
	for (int i = 0; i < ranges.nr; i++) {
		struct image_range *r = &ranges.r[i];
		u64 size = r->end - r->start;
		u64 gpa = vm_phys_pages_alloc(vm, size / PAGE_SIZE, PAGE_SIZE,
					      KVMT_MAIN_SLOT);

		memcpy(addr_gpa2hva(vm, gpa), (void *)r->start, size);
		kvm_mmu_map(vm, &vm->mmu, r->start, gpa, size, r->prot);
	}
}
