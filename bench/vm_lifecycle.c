// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a test pays for a VM: create one with a vCPU, run the guest to
 * GUEST_DONE, free it; against the floor of doing the same with raw
 * ioctls (one VM, one small memslot, one vCPU, a 16-bit guest that
 * executes a single OUT, one KVM_RUN).
 *
 *   vm_lifecycle [--iterations N] [--rounds R] [--breakdown] [--only raw|ours]
 *                [--irqchip kernel|split|none]
 *
 * The two loops alternate in rounds (each round runs N/R of each, in
 * turns of which goes first) so that drift in the host (other load,
 * caches, frequency) hits both; the figures are the medians of the
 * rounds' per-iteration times. --breakdown also times the phases of ours;
 * --only runs one of the loops, for perf record. --irqchip gives both loops
 * that irqchip (default: kernel, what vm_create() gives a test), so the
 * ratio compares like with like and the absolute figures show its cost.
 */
#include <fcntl.h>
#include <getopt.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define RAW_MEM_SIZE	(64 * KiB)
#define RAW_CODE_GPA	0x1000
#define RAW_PORT	0x10

static void guest_done(void)
{
	GUEST_DONE();
}

static struct vm_options bench_opts = { .va_bits = 48, .numa_node = -1,
					.irqchip = VM_IRQCHIP_KERNEL };

/* Where an iteration's time goes, summed over a round. */
enum { PH_CREATE, PH_VCPU, PH_RUN, PH_FREE, NR_PHASES };
struct phases {
	u64 ns[NR_PHASES];
};

static void phases_add(struct phases *ph, u64 t0, u64 t1, u64 t2, u64 t3)
{
	ph->ns[PH_CREATE] += t1 - t0;
	ph->ns[PH_VCPU] += t2 - t1;
	ph->ns[PH_RUN] += t3 - t2;
	ph->ns[PH_FREE] += now_ns() - t3;
}

static void ours_once(struct phases *ph)
{
	u64 t0 = now_ns(), t1, t2, t3;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!ph) {
		/* What a test calls (vm_create_with_one_vcpu(), with an irqchip). */
		vm = vm_create(&bench_opts);
		vcpu = vm_vcpu_add(vm, 0, guest_done);
		vcpu_run_to_done(vcpu, NULL, NULL);
		kvm_vm_free(vm);
		return;
	}
	/* The same, split where the phases can be timed. */
	vm = vm_create(&bench_opts);
	t1 = now_ns();
	vcpu = vm_vcpu_add(vm, 0, guest_done);
	t2 = now_ns();
	vcpu_run_to_done(vcpu, NULL, NULL);
	t3 = now_ns();
	kvm_vm_free(vm);
	phases_add(ph, t0, t1, t2, t3);
}

/*
 * The floor: nothing but the ioctls a VM that runs one instruction needs.
 * Real mode needs no page tables, GDT or IDT: CS base 0, RIP at the code.
 */
static void raw_once(int kvm_fd, size_t run_size, struct phases *ph)
{
	static const u8 code[] = { 0xe6, RAW_PORT, 0xf4 };	/* out %al,$0x10; hlt */
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = RAW_MEM_SIZE,
	};
	struct kvm_regs regs = { .rip = RAW_CODE_GPA, .rflags = X86_EFLAGS_FIXED };
	struct kvm_sregs sregs;
	struct kvm_run *run;
	int vm_fd, vcpu_fd, ret;
	u64 t0 = now_ns(), t1, t2, t3;
	u8 *mem;

	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	TEST_ASSERT(vm_fd >= 0, "KVM_CREATE_VM");
	if (bench_opts.irqchip == VM_IRQCHIP_KERNEL) {
		TEST_ASSERT(!ioctl(vm_fd, KVM_CREATE_IRQCHIP, NULL), "KVM_CREATE_IRQCHIP");
	} else if (bench_opts.irqchip == VM_IRQCHIP_SPLIT) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP,
					      .args = { 24 } };

		TEST_ASSERT(!ioctl(vm_fd, KVM_ENABLE_CAP, &cap), "KVM_CAP_SPLIT_IRQCHIP");
	}
	mem = mmap(NULL, RAW_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap guest memory");
	memcpy(mem + RAW_CODE_GPA, code, sizeof(code));
	region.userspace_addr = (u64)mem;
	ret = ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
	TEST_ASSERT(!ret, "KVM_SET_USER_MEMORY_REGION");

	t1 = now_ns();
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	TEST_ASSERT(vcpu_fd >= 0, "KVM_CREATE_VCPU");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu_fd, 0);
	TEST_ASSERT(run != MAP_FAILED, "mmap kvm_run");
	ret = ioctl(vcpu_fd, KVM_GET_SREGS, &sregs);
	TEST_ASSERT(!ret, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ret = ioctl(vcpu_fd, KVM_SET_SREGS, &sregs);
	TEST_ASSERT(!ret, "KVM_SET_SREGS");
	ret = ioctl(vcpu_fd, KVM_SET_REGS, &regs);
	TEST_ASSERT(!ret, "KVM_SET_REGS");
	t2 = now_ns();
	ret = ioctl(vcpu_fd, KVM_RUN, NULL);
	TEST_ASSERT(!ret && run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == RAW_PORT,
		    "raw guest: KVM_RUN %d, exit %s, port 0x%x", ret,
		    exit_reason_str(run->exit_reason), run->io.port);

	t3 = now_ns();
	munmap(run, run_size);
	close(vcpu_fd);
	close(vm_fd);
	munmap(mem, RAW_MEM_SIZE);
	if (ph)
		phases_add(ph, t0, t1, t2, t3);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median(u64 *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--iterations N] [--rounds R] [--breakdown] [--only raw|ours] [--irqchip kernel|split|none]\n",
		prog);
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "breakdown", no_argument, NULL, 'b' },
		{ "only", required_argument, NULL, 'o' },
		{ "irqchip", required_argument, NULL, 'i' },
		{ 0 },
	};
	int iterations = 500, rounds = 10, per_round, c;
	bool breakdown = false, skip_raw = false, skip_ours = false;
	u64 *raw_ns, *ours_ns, raw_med, ours_med;
	struct phases *raw_ph, *ours_ph;
	size_t run_size;
	int kvm_fd;

	while ((c = getopt_long(argc, argv, "n:r:bo:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!strcmp(optarg, "kernel"))
				bench_opts.irqchip = VM_IRQCHIP_KERNEL;
			else if (!strcmp(optarg, "split"))
				bench_opts.irqchip = VM_IRQCHIP_SPLIT;
			else if (!strcmp(optarg, "none"))
				bench_opts.irqchip = VM_IRQCHIP_NONE;
			else
				usage(argv[0]);
			break;
		case 'n':
			iterations = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'b':
			breakdown = true;
			break;
		case 'o':
			skip_raw = !strcmp(optarg, "ours");
			skip_ours = !strcmp(optarg, "raw");
			if (!skip_raw && !skip_ours)
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (iterations < 1 || rounds < 1 || rounds > iterations)
		usage(argv[0]);
	per_round = iterations / rounds;

	/* /dev/kvm opened once, for both loops, as the floor allows. */
	kvm_fd = kvm_dev_fd();
	run_size = kvm_dev_ioctl(KVM_GET_VCPU_MMAP_SIZE, NULL);
	raw_ns = calloc(rounds, sizeof(*raw_ns));
	ours_ns = calloc(rounds, sizeof(*ours_ns));
	raw_ph = calloc(rounds, sizeof(*raw_ph));
	ours_ph = calloc(rounds, sizeof(*ours_ph));
	TEST_ASSERT(raw_ns && ours_ns && raw_ph && ours_ph, "out of memory");

	/* Warm up both: the first VM of a process reads CPUID, sizes, etc. */
	raw_once(kvm_fd, run_size, NULL);
	ours_once(NULL);

	for (int r = 0; r < rounds; r++) {
		for (int turn = 0; turn < 2; turn++) {
			bool raw = (turn == 0) == (r % 2 == 0);
			u64 t0 = now_ns();

			if ((raw && skip_raw) || (!raw && skip_ours)) {
				(raw ? raw_ns : ours_ns)[r] = 1;
				continue;
			}
			for (int i = 0; i < per_round; i++) {
				if (raw)
					raw_once(kvm_fd, run_size,
						 breakdown ? &raw_ph[r] : NULL);
				else
					ours_once(breakdown ? &ours_ph[r] : NULL);
			}
			(raw ? raw_ns : ours_ns)[r] = (now_ns() - t0) / per_round;
		}
	}

	raw_med = median(raw_ns, rounds);
	ours_med = median(ours_ns, rounds);
	printf("vm_lifecycle: %d iterations each in %d alternating rounds; medians of the rounds' means:\n",
	       per_round * rounds, rounds);
	if (!skip_raw)
		printf("  raw ioctls (floor):             %8.1f us\n", raw_med / 1e3);
	if (!skip_ours)
		printf("  vm_create_with_one_vcpu + run:  %8.1f us\n", ours_med / 1e3);
	if (!skip_raw && !skip_ours)
		printf("  ratio:                          %8.2fx (target <= 1.5x)\n",
		       (double)ours_med / raw_med);
	if (breakdown) {
		printf("  by phase, us:      create   vCPU    run   free\n");
		for (int raw = 1; raw >= 0; raw--) {
			struct phases *ph = raw ? raw_ph : ours_ph;
			u64 v[rounds];

			printf("    %-14s", raw ? "raw" : "ours");
			for (int p = 0; p < NR_PHASES; p++) {
				for (int r = 0; r < rounds; r++)
					v[r] = ph[r].ns[p] / per_round;
				printf(" %6.1f", median(v, rounds) / 1e3);
			}
			printf("\n");
		}
	}
	return 0;
}
