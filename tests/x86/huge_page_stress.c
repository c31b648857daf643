// SPDX-License-Identifier: GPL-2.0-only
/*
 * huge_page_stress: memstress vCPUs over a 1 GiB slot backed by THP or
 * 2 MiB hugetlb pages, while the host rebuilds the guest's mapping of it
 * between passes at each page size — 4 KiB, 2 MiB, 1 GiB (pinned levels of
 * the walker) — and rotates which physical slice each vCPU's window maps.
 * Every write of a pass must land in the page the current mapping names,
 * and no page of a slice the vCPU no longer maps may receive it: a stale
 * translation anywhere (KVM's TDP or shadow tables, the guest's TLB after
 * its CR3 reload) shows as a write in the wrong slice. KVM must map the
 * huge backing huge (pages_2m) whatever size the guest maps it with.
 *
 * In-tree ground: kvm_page_table_test (stage-2 built, remapped and dirty-
 * logged over a backing of any page size, timed) and
 * max_guest_memory_test. What this adds: the guest's own page size varied
 * pass by pass over the same host backing, windows remapped to other
 * physical memory between passes with the written location checked
 * exactly, and the TDP mapping size checked through the stats.
 */
#include "kvm_stats.h"
#include "memstress.h"
#include "test_check.h"

#define NR_VCPUS	4
#define SLOT_SIZE	GiB
#define SLICE		(SLOT_SIZE / NR_VCPUS)
#define WINDOW_PAGES	32		/* touched at the start of each slice */

static enum vm_mem_backing backing = VM_MEM_ANON_THP;

/* Map vCPU i's window to physical slice (i + rot) % NR_VCPUS at @level. */
static void remap(struct memstress *ms, int level, int rot)
{
	struct kvm_vm *vm = ms->vm;

	if (level == PG_LEVEL_1G) {
		/* One leaf covers all slices: only the identity layout. */
		kvm_mmu_map_level(vm, &vm->mmu, MEMSTRESS_GVA, MEMSTRESS_GPA,
				  SLOT_SIZE, KVM_MMU_RWX, level);
		return;
	}
	for (int i = 0; i < NR_VCPUS; i++) {
		u64 gva = MEMSTRESS_GVA + i * SLICE;
		u64 gpa = MEMSTRESS_GPA + ((i + rot) % NR_VCPUS) * SLICE;

		/* A 2 MiB window holds the touched pages at either size. */
		kvm_mmu_map_level(vm, &vm->mmu, gva, gpa, 2 * MiB, KVM_MMU_RWX,
				  level);
	}
}

static u64 *slot_word(struct memstress *ms, int slice, u64 page)
{
	return addr_gpa2hva(ms->vm, MEMSTRESS_GPA + slice * SLICE +
			    page * PAGE_SIZE);
}

static void check_pass(struct memstress *ms, int rot, const char *what)
{
	int missing = 0, stray = 0, written = 0;

	for (int slice = 0; slice < NR_VCPUS; slice++) {
		int vcpu = (slice - rot + NR_VCPUS) % NR_VCPUS;

		for (u64 p = 0; p < WINDOW_PAGES; p++) {
			u64 v = *slot_word(ms, slice, p);

			if (v >> 32 != ms->args.iteration)
				continue;
			written++;
			stray += v != memstress_pattern(ms->args.iteration,
							vcpu, p);
		}
	}
	/* Sequential full writes: every window page, each by its mapper. */
	missing = NR_VCPUS * WINDOW_PAGES - written;
	CHECK(!missing && !stray,
	      "%s: %d writes missing, %d pages written by a vCPU that does not map them",
	      what, missing, stray);
}

static void run_levels(struct memstress *ms)
{
	static const struct {
		int level;
		const char *name;
	} levels[] = {
		{ PG_LEVEL_4K, "4 KiB" }, { PG_LEVEL_2M, "2 MiB" },
		{ PG_LEVEL_1G, "1 GiB" }, { PG_LEVEL_4K, "4 KiB again" },
		{ PG_LEVEL_2M, "2 MiB again" },
	};
	char what[96];

	ms->args.nr_pages = WINDOW_PAGES;
	ms->args.flush_tlb = true;
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		int level = levels[i].level;

		if (level == PG_LEVEL_1G && !ms->vm->arch.has_gbpages) {
			printf("# no 1 GiB guest pages (CPUID GBPAGES): that step left out\n");
			continue;
		}
		for (int rot = 0; rot < (level == PG_LEVEL_1G ? 1 : NR_VCPUS);
		     rot++) {
			remap(ms, level, rot);
			memstress_run(ms);
			snprintf(what, sizeof(what),
				 "guest pages of %s, windows rotated by %d",
				 levels[i].name, rot);
			check_pass(ms, rot, what);
		}
	}
}

static void case_stress(void *arg)
{
	struct memstress *ms = memstress_create(NR_VCPUS, SLOT_SIZE, 0, backing);

	run_levels(ms);
	memstress_destroy(ms);
}

/* A huge host page under 4 KiB guest pages is still mapped huge by KVM. */
static void case_tdp_size(void *arg)
{
	struct memstress *ms = memstress_create(NR_VCPUS, SLOT_SIZE, 0, backing);
	u64 before;

	ms->args.vcpu_mask = 0;
	memstress_run(ms);		/* fault in code and stack first */
	ms->args.vcpu_mask = ~0ULL;
	ms->args.nr_pages = WINDOW_PAGES;
	remap(ms, PG_LEVEL_4K, 0);
	for (int i = 0; i < NR_VCPUS; i++)
		*slot_word(ms, i, 0) = 0;	/* host-populated huge pages */
	before = vm_get_stat(ms->vm, "pages_2m");
	memstress_run(ms);
	CHECK(vm_get_stat(ms->vm, "pages_2m") - before >= NR_VCPUS,
	      "%d windows in %s memory under 4 KiB guest pages: pages_2m grew by %lld",
	      NR_VCPUS, vm_mem_backing_name(backing),
	      (long long)(vm_get_stat(ms->vm, "pages_2m") - before));
	memstress_destroy(ms);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "hugetlb")) {
		backing = VM_MEM_ANON_HUGETLB_2M;
	} else if (argc > 1 && strcmp(argv[1], "thp")) {
		fprintf(stderr, "usage: %s [thp|hugetlb]\n", argv[0]);
		return 2;
	}
	kvm_dev_fd();
	run_case(case_stress, NULL,
		 "%d vCPUs, %s backing, guest pages of each size, windows remapped between passes",
		 NR_VCPUS, vm_mem_backing_name(backing));
	run_case(case_tdp_size, NULL,
		 "%s backing under 4 KiB guest pages is mapped 2 MiB by KVM",
		 vm_mem_backing_name(backing));
	checks_exit();
}
