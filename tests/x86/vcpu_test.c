// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPUs as the KVM API documents them (api.rst, KVM_CREATE_VCPU and
 * KVM_CAP_NR_VCPUS/MAX_VCPUS/MAX_VCPU_ID): a VM takes up to max_vcpus vCPUs
 * with ids in [0, max_vcpu_id), each with a working fd; vCPUs of one VM run
 * at once from several threads, sharing the VM's memory, GDT and IDT but
 * with a stack and TSS of their own. (VM create/destroy cycles are
 * vm_cycles.c's.)
 *
 * Each case runs in a child process with VMs of its own, so one failure
 * does not hide the cases after it.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kvm_util.h"

/* Cap on vCPUs created in one VM: KVM allows 1024 or 4096, time is finite. */
#define VCPU_CAP		KVMT_MAX_VCPUS

static void guest_done(void)
{
	GUEST_DONE();
}

/* Run until GUEST_DONE with no syncs expected. */
static void run_to_done(struct kvm_vcpu *vcpu)
{
	vcpu_run_to_done(vcpu, NULL, NULL);
}

static int cap_or(long cap, int fallback)
{
	int v = kvm_check_cap(cap);

	return v > 0 ? v : fallback;
}

/*
 * The documented limits, with api.rst's fallbacks: no KVM_CAP_NR_VCPUS
 * means 4, no KVM_CAP_MAX_VCPUS means NR_VCPUS, no KVM_CAP_MAX_VCPU_ID
 * means MAX_VCPUS.
 */
static void vcpu_limits(int *max_vcpus, int *max_vcpu_id)
{
	int nr = cap_or(KVM_CAP_NR_VCPUS, 4);

	*max_vcpus = cap_or(KVM_CAP_MAX_VCPUS, nr);
	*max_vcpu_id = cap_or(KVM_CAP_MAX_VCPU_ID, *max_vcpus);
	printf("KVM_CAP_NR_VCPUS %d, KVM_CAP_MAX_VCPUS %d, KVM_CAP_MAX_VCPU_ID %d\n",
	       nr, *max_vcpus, *max_vcpu_id);
}

/* Every vCPU fd, the VM's and a few spare must fit in RLIMIT_NOFILE. */
static void raise_fd_limit(int nr_fds)
{
	struct rlimit rl;

	TEST_ASSERT(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur >= (rlim_t)nr_fds)
		return;
	rl.rlim_cur = nr_fds;
	if (rl.rlim_max < (rlim_t)nr_fds) {
		/* Raising the hard limit needs CAP_SYS_RESOURCE (root has it). */
		rl.rlim_max = nr_fds;
		if (setrlimit(RLIMIT_NOFILE, &rl) && errno == EPERM)
			test_skip("RLIMIT_NOFILE is below the %d fds needed and may not be raised: ulimit -n %d",
				  nr_fds, nr_fds);
	}
	TEST_ASSERT(!setrlimit(RLIMIT_NOFILE, &rl), "setrlimit(RLIMIT_NOFILE, %d)",
		    nr_fds);
}

/* ---- create vCPUs up to the limit -------------------------------------- */

static void expect_create_fails(struct kvm_vm *vm, long id, int err,
				const char *why)
{
	int fd = __vm_ioctl(vm, KVM_CREATE_VCPU, (void *)id);
	int saved = errno;

	CHECK(fd == -1 && saved == err,
	      "KVM_CREATE_VCPU(%ld) %s: returned %d, errno %d (%s); expected -1, errno %d (%s)",
	      id, why, fd, fd == -1 ? saved : 0,
	      fd == -1 ? strerror(saved) : "none", err, strerror(err));
}

static void case_max_vcpus(void *arg)
{
	int max_vcpus, max_vcpu_id, nr;
	struct vm_options opts = { .va_bits = 48, .numa_node = -1 };
	struct kvm_vcpu *last;
	struct kvm_vm *vm;
	u64 t0 = now_ns();

	vcpu_limits(&max_vcpus, &max_vcpu_id);
	nr = min_t(int, min_t(int, max_vcpus, max_vcpu_id), VCPU_CAP);
	printf("creating %d vCPUs (min of MAX_VCPUS, MAX_VCPU_ID and this test's cap of %d)\n",
	       nr, VCPU_CAP);
	raise_fd_limit(nr + 64);

	/* Each vCPU takes ~11 guest pages (stacks, TSS): size main memory for them. */
	opts.mem_size = 64 * MiB + ALIGN_UP((u64)nr * 64 * KiB, 2 * MiB);
	vm = vm_create(&opts);
	for (int i = 0; i < nr; i++)
		vm_vcpu_add(vm, i, guest_done);
	printf("created %d vCPUs in %.2f s\n", nr, (now_ns() - t0) / 1e9);

	/* Each fd is its own vCPU: registers as the library set them up. */
	for (int i = 0; i < nr; i++) {
		struct kvm_vcpu *vcpu = vm->vcpus[i];
		struct kvm_regs regs;
		struct kvm_sregs sregs;

		vcpu_regs_get(vcpu, &regs);
		CHECK(regs.rip == (u64)guest_done &&
		      regs.rsp == vcpu->arch.stack_top - 8,
		      "vCPU %d: rip 0x%llx rsp 0x%llx, expected 0x%llx 0x%llx",
		      i, regs.rip, regs.rsp, (u64)guest_done,
		      (vcpu->arch.stack_top - 8));
		vcpu_sregs_get(vcpu, &sregs);
		CHECK_EQ(sregs.tr.base, vcpu->arch.tss);
	}

	/* The first and the highest-numbered vCPU really run. */
	run_to_done(vm->vcpus[0]);
	last = vm->vcpus[nr - 1];
	run_to_done(last);

	kvm_vm_free(vm);
	printf("total %.2f s\n", (now_ns() - t0) / 1e9);
}

/*
 * Bare vCPUs (KVM_CREATE_VCPU and nothing else) are cheap enough to reach
 * a KVM_CAP_MAX_VCPUS of 4096 (a MAXSMP kernel's) where full ones are not.
 */
#define BARE_VCPU_CAP	4096

static void case_one_too_many(void *arg)
{
	int max_vcpus, max_vcpu_id, *fds;
	struct kvm_vm *vm;
	u64 t0 = now_ns();

	vcpu_limits(&max_vcpus, &max_vcpu_id);
	if (max_vcpus > BARE_VCPU_CAP)
		test_skip("KVM_CAP_MAX_VCPUS %d is above the %d vCPUs this test creates",
			  max_vcpus, BARE_VCPU_CAP);
	if (max_vcpu_id < max_vcpus)
		test_skip("KVM_CAP_MAX_VCPU_ID %d < KVM_CAP_MAX_VCPUS %d: ids run out first",
			  max_vcpu_id, max_vcpus);
	raise_fd_limit(max_vcpus + 64);
	fds = calloc(max_vcpus, sizeof(*fds));
	TEST_ASSERT(fds, "out of memory");

	/*
	 * The limit is what is tested, not the LAPIC each vCPU would get with
	 * an in-kernel irqchip: without one, thousands of vCPUs take seconds
	 * rather than minutes on an emulated host.
	 */
	vm = vm_create(&(struct vm_options){ .va_bits = 48, .numa_node = -1,
					     .irqchip = VM_IRQCHIP_NONE });
	for (int i = 0; i < max_vcpus; i++) {
		fds[i] = __vm_ioctl(vm, KVM_CREATE_VCPU, (void *)(long)i);
		TEST_ASSERT(fds[i] >= 0, "KVM_CREATE_VCPU(%d) of %d", i, max_vcpus);
	}
	/* api.rst: "No more than max_vcpus may be added." */
	expect_create_fails(vm, max_vcpus, EINVAL, "beyond KVM_CAP_MAX_VCPUS");
	printf("%d bare vCPUs, then one more refused, in %.2f s\n", max_vcpus,
	       (now_ns() - t0) / 1e9);
	for (int i = 0; i < max_vcpus; i++)
		close(fds[i]);
	free(fds);
	kvm_vm_free(vm);
}

static void case_bad_vcpu_id(void *arg)
{
	int max_vcpus, max_vcpu_id;
	struct kvm_vm *vm;

	vcpu_limits(&max_vcpus, &max_vcpu_id);
	vm = vm_create(NULL);
	/* api.rst: "The vcpu id is an integer in the range [0, max_vcpu_id)". */
	expect_create_fails(vm, max_vcpu_id, EINVAL, "id == KVM_CAP_MAX_VCPU_ID");
	expect_create_fails(vm, 0x7fffffff, EINVAL, "id 0x7fffffff");
	/* The highest valid id works, and the failures left nothing behind. */
	run_to_done(vm_vcpu_add(vm, max_vcpu_id - 1, guest_done));
	kvm_vm_free(vm);
}

static void case_duplicate_vcpu_id(void *arg)
{
	struct kvm_vm *vm = vm_create(NULL);

	vm_vcpu_add(vm, 3, guest_done);
	/* Not spelled out in api.rst; stock KVM refuses a second id 3 with EEXIST. */
	expect_create_fails(vm, 3, EEXIST, "a second vCPU with id 3");
	run_to_done(vm->vcpus[0]);
	kvm_vm_free(vm);
}

/* ---- several vCPUs in threads ------------------------------------------ */

#define MAX_THREADS	64
#define ITERATIONS	200
/*
 * The library gives each vCPU 8 pages of stack; guest_worker() uses
 * far less, so its RSP lies this close below its own stack top whatever
 * size the library picks, and outside every other vCPU's stack.
 */
#define GUEST_STACK_SIZE (8 * PAGE_SIZE)

/* Guest globals: each vCPU owns one results slot; all share the counter. */
static u64 results[MAX_THREADS];
static u64 shared_counter;

static inline u64 read_rsp(void)
{
	u64 rsp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return rsp;
}

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

static void guest_worker(u64 id, u64 iters)
{
	struct desc_ptr gdt, idt;

	for (u64 i = 0; i < iters; i++) {
		/* Work only this vCPU's id gives: the host recomputes it. */
		results[id] = results[id] * 31 + id * 1000 + i;
		__atomic_fetch_add(&shared_counter, 1, __ATOMIC_SEQ_CST);
		GUEST_SYNC_ARGS(id, i, read_rsp(), results[id]);
	}
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdt), "=m"(idt));
	GUEST_SYNC_ARGS(id, iters, gdt.base, idt.base);
	GUEST_DONE();
}

static u64 expected_result(u64 id, u64 iters)
{
	u64 r = 0;

	for (u64 i = 0; i < iters; i++)
		r = r * 31 + id * 1000 + i;
	return r;
}

struct worker {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	u64 id;
	u64 syncs;
};

/*
 * Runs in the worker's thread: asserts, not checks, because a case's tally
 * belongs to the main thread (which checks what the workers left behind).
 */
static void worker_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct worker *w = data;
	struct kvm_vm *vm = vcpu->vm;
	u64 stack_top = vcpu->arch.stack_top;

	TEST_ASSERT(uc->args[0] == w->id && uc->args[1] == w->syncs,
		    "vCPU %llu: sync (id %llu, iteration %llu), expected iteration %llu",
		    w->id, uc->args[0],
		    uc->args[1], w->syncs);
	if (w->syncs < ITERATIONS) {
		/* Its own stack: RSP lies in the stack this vCPU was given. */
		TEST_ASSERT(uc->args[2] < stack_top &&
			    uc->args[2] >= stack_top - GUEST_STACK_SIZE,
			    "vCPU %llu: RSP 0x%llx outside its stack [0x%llx, 0x%llx)",
			    w->id,
			    uc->args[2],
			    (stack_top - GUEST_STACK_SIZE),
			    stack_top);
		TEST_ASSERT_EQ(uc->args[3], expected_result(w->id, w->syncs + 1));
	} else {
		/* The VM's one GDT and IDT, seen by every vCPU. */
		TEST_ASSERT_EQ(uc->args[2], vm->arch.gdt);
		TEST_ASSERT_EQ(uc->args[3], vm->arch.idt);
	}
	w->syncs++;
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	vcpu_run_to_done(w->vcpu, worker_sync, w);
	return NULL;
}

static void case_threads(void *arg)
{
	int nr = min_t(int, max_t(int, 4, 2 * sysconf(_SC_NPROCESSORS_ONLN)),
		       MAX_THREADS);
	struct worker workers[MAX_THREADS] = { 0 };
	struct kvm_vm *vm;
	u64 t0 = now_ns();

	printf("%d vCPUs in %d threads, %d syncs each\n", nr, nr, ITERATIONS + 1);
	vm = vm_create(NULL);
	for (int i = 0; i < nr; i++) {
		workers[i].id = i;
		workers[i].vcpu = vm_vcpu_add(vm, i, guest_worker);
		vcpu_args_set(workers[i].vcpu, 2, (u64)i, (u64)ITERATIONS);
	}

	/* Shared GDT/IDT, private TSS and stack, as the hosts sees it. */
	for (int i = 0; i < nr; i++) {
		struct kvm_sregs sregs;

		vcpu_sregs_get(workers[i].vcpu, &sregs);
		CHECK(sregs.gdt.base == vm->arch.gdt &&
		      sregs.idt.base == vm->arch.idt,
		      "vCPU %d: GDT 0x%llx IDT 0x%llx, VM's are 0x%llx 0x%llx",
		      i, sregs.gdt.base, sregs.idt.base,
		      vm->arch.gdt,
		      vm->arch.idt);
		for (int j = 0; j < i; j++) {
			TEST_ASSERT(workers[j].vcpu->arch.tss != sregs.tr.base,
				    "vCPUs %d and %d share a TSS", i, j);
			TEST_ASSERT(workers[j].vcpu->arch.stack_top !=
				    workers[i].vcpu->arch.stack_top,
				    "vCPUs %d and %d share a stack", i, j);
		}
	}

	for (int i = 0; i < nr; i++)
		TEST_ASSERT(!pthread_create(&workers[i].thread, NULL,
					    worker_thread, &workers[i]),
			    "pthread_create");
	for (int i = 0; i < nr; i++)
		pthread_join(workers[i].thread, NULL);

	for (int i = 0; i < nr; i++) {
		CHECK(workers[i].syncs == ITERATIONS + 1,
		      "vCPU %d: %llu syncs, expected %d", i,
		      workers[i].syncs, ITERATIONS + 1);
		CHECK_EQ(read_guest_global(vm, results[i]),
			 expected_result(i, ITERATIONS));
	}
	/* Atomic adds from every vCPU meet in one guest page. */
	CHECK_EQ(read_guest_global(vm, shared_counter), (u64)nr * ITERATIONS);
	printf("%d syncs in %.2f s\n", nr * (ITERATIONS + 1), (now_ns() - t0) / 1e9);
	kvm_vm_free(vm);
}

/* ---- main -------------------------------------------------------------- */

static const struct {
	void (*fn)(void *arg);
	const char *name;
} cases[] = {
	{ case_max_vcpus, "vCPUs up to KVM_CAP_MAX_VCPUS (at most 1024) each have a working fd" },
	{ case_one_too_many, "one vCPU beyond KVM_CAP_MAX_VCPUS fails with EINVAL" },
	{ case_bad_vcpu_id, "vCPU id >= KVM_CAP_MAX_VCPU_ID fails with EINVAL" },
	{ case_duplicate_vcpu_id, "duplicate vCPU id fails with EEXIST" },
	{ case_threads, "vCPUs in threads: own id, stack and TSS; shared memory, GDT, IDT" },
};

int main(void)
{
	kvm_dev_fd();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(cases[i].fn, NULL, "%s", cases[i].name);
	checks_exit();
}
