// SPDX-License-Identifier: GPL-2.0-only
/*
 * How fast the walker builds page tables: 16 GiB of guest virtual memory
 * mapped at 4 KiB pages by one kvm_mmu_map_level(..., PG_LEVEL_4K) call,
 * i.e. 4M PTEs in ~8K fresh table pages (32 MiB), into a real VM's
 * memory and into a fake VM's; 2M and 1G leaves for reference.
 *
 *   mmu_map [--reps N]
 *
 * The output range is a second 16 GiB memslot that is never touched, so
 * it costs nothing; the tables come from the main slot. "cold" is the
 * first map in a fresh VM: it includes the host's page faults on the
 * table pages, as a test would see. "warm" maps the same range again,
 * rewriting the PTEs of tables that now exist. Each figure is the median
 * of N fresh VMs.
 */
#include <getopt.h>
#include <unistd.h>

#include "kvm_util.h"

#define MAP_SIZE	(16 * GiB)
#define OUT_SLOT	1
#define OUT_GPA		(64 * GiB)
/* 4M PTEs need 8K + 16 + 1 table pages: 32 MiB and change. */
#define MAIN_MEM	(128 * MiB)
#define MAP_VA		(1ULL << 40)
/* 2M and 1G maps are short: repeat them over fresh VA to be measurable. */
#define REPEAT_2M	64
#define REPEAT_1G	2048

enum { COLD_4K, WARM_4K, COLD_2M, COLD_1G, NR_FIGURES };

static const char *const figure_names[NR_FIGURES] = {
	"4K leaves, cold", "4K leaves, warm", "2M leaves", "1G leaves",
};

static u64 ptes_per_call(int figure)
{
	switch (figure) {
	case COLD_2M:
		return MAP_SIZE / PG_LEVEL_SIZE(PG_LEVEL_2M);
	case COLD_1G:
		return MAP_SIZE / PG_LEVEL_SIZE(PG_LEVEL_1G);
	default:
		return MAP_SIZE / PAGE_SIZE;
	}
}

static struct kvm_vm *create(bool fake)
{
	struct vm_options opts = {
		.mem_size = MAIN_MEM, .va_bits = 48, .numa_node = -1,
	};
	struct kvm_vm *vm = fake ? vm_create_fake(48, 48, MAIN_MEM) :
				   vm_create(&opts);

	vm_memslot_add(vm, VM_MEM_ANON, OUT_GPA, OUT_SLOT, MAP_SIZE / PAGE_SIZE, 0);
	return vm;
}

/* Nanoseconds per call of each figure, in one fresh VM. */
static void measure(bool fake, u64 ns[NR_FIGURES])
{
	struct kvm_vm *vm = create(fake);
	struct kvm_mmu gb = { 0 };
	struct kvm_mmu_arch arch;
	u64 t0, mapped, leaves;

	t0 = now_ns();
	kvm_mmu_map_level(vm, &vm->mmu, MAP_VA, OUT_GPA, MAP_SIZE, KVM_MMU_RW,
			  PG_LEVEL_4K);
	ns[COLD_4K] = now_ns() - t0;

	t0 = now_ns();
	kvm_mmu_map_level(vm, &vm->mmu, MAP_VA, OUT_GPA, MAP_SIZE, KVM_MMU_RW,
			  PG_LEVEL_4K);
	ns[WARM_4K] = now_ns() - t0;

	t0 = now_ns();
	for (u64 i = 1; i <= REPEAT_2M; i++)
		kvm_mmu_map_level(vm, &vm->mmu, MAP_VA + i * MAP_SIZE, OUT_GPA,
				  MAP_SIZE, KVM_MMU_RW, PG_LEVEL_2M);
	ns[COLD_2M] = (now_ns() - t0) / REPEAT_2M;

	/*
	 * This host's KVM may not offer 1 GiB pages to guests (vm->mmu then
	 * has no 1G leaves); the walker does not care, so time them on a
	 * second guest-format mmu that has them.
	 */
	x86_mmu_arch_guest(&arch, vm->pa_bits, true);
	kvm_mmu_init(vm, &gb, 4, &arch);
	t0 = now_ns();
	for (u64 i = 0; i < REPEAT_1G; i++)
		kvm_mmu_map_level(vm, &gb, MAP_VA + i * MAP_SIZE, OUT_GPA,
				  MAP_SIZE, KVM_MMU_RW, PG_LEVEL_1G);
	ns[COLD_1G] = (now_ns() - t0) / REPEAT_1G;

	/* Not timed: the tables hold what was asked for. */
	leaves = kvm_mmu_verify(vm, &gb, &mapped);
	TEST_ASSERT(leaves == REPEAT_1G * 16 && mapped == REPEAT_1G * MAP_SIZE,
		    "1G: %llu leaves", leaves);
	leaves = kvm_mmu_verify(vm, &vm->mmu, &mapped);
	TEST_ASSERT(mapped >= (REPEAT_2M + 1) * MAP_SIZE &&
		    leaves >= MAP_SIZE / PAGE_SIZE + REPEAT_2M * 8192,
		    "4K+2M: %llu leaves", leaves);
	kvm_vm_free(vm);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reps", required_argument, NULL, 'n' },
		{ 0 },
	};
	int reps = 5, c;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c != 'n' || (reps = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: %s [--reps N]\n", argv[0]);
			return KSFT_FAIL;
		}
	}

	printf("mmu_map: 16 GiB per kvm_mmu_map_level call, median of %d fresh VMs\n",
	       reps);
	/* Fake first: it needs no /dev/kvm, so its figures print anyway. */
	for (int fake = 1; fake >= 0; fake--) {
		u64 ns[NR_FIGURES][reps];
		u64 one[NR_FIGURES];

		if (!fake && access("/dev/kvm", R_OK | W_OK)) {
			printf("  real VM: skipped, no usable /dev/kvm\n");
			break;
		}
		for (int r = 0; r < reps; r++) {
			measure(fake, one);
			for (int f = 0; f < NR_FIGURES; f++)
				ns[f][r] = one[f];
		}
		printf("  %s VM:\n", fake ? "fake" : "real");
		for (int f = 0; f < NR_FIGURES; f++) {
			u64 med;

			qsort(ns[f], reps, sizeof(u64), cmp_u64);
			med = ns[f][reps / 2];
			printf("    %-16s %10.1f us per call, %8.1f M PTEs/s%s\n",
			       figure_names[f], med / 1e3,
			       ptes_per_call(f) * 1e3 / med,
			       f == COLD_4K ? "  (target >= 100)" : "");
		}
	}
	return 0;
}
