// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM's Secure-EPT paths, driven from inside a TD. One scenario per run,
 * named by the first argument (tests.list has one line each):
 *
 *   first-touch   first private accesses after finalize: the S-EPT
 *                 non-leaf pages, then the leaves (TDH.MEM.PAGE.AUG)
 *   convert       private -> shared -> private, through
 *                 KVM_EXIT_MEMORY_FAULT and KVM_SET_MEMORY_ATTRIBUTES
 *   punch-hole    fallocate(PUNCH_HOLE) on the guest_memfd, then re-fault
 *   slot-readd    delete the memslot, add it again, then re-fault
 *   multi-vcpu    several vCPUs faulting into one empty table at once
 *   pre-fault     KVM_PRE_FAULT_MEMORY on a finalized TD
 *   teardown      VM destruction with deep S-EPT tables (and, where KVM
 *                 has it, KVM_TDX_TERMINATE_VM first)
 *
 * Private pages the guest touches after finalize are added PENDING and
 * must be accepted (TDG.MEM.PAGE.ACCEPT) before use; the accept is what
 * faults them in, and accepting zeroes the page, which the guest checks.
 *
 * Every scenario watches /dev/kmsg itself and fails on a WARN, BUG,
 * KVM_BUG_ON splat or SEAMCALL error printed while it ran.
 */
#include <pthread.h>

#include "kvm_util.h"
#include "tdx/tdx.h"

#define TEST_SLOT	10
/* 512 GiB: a PML4 entry of its own, so every S-EPT level starts empty. */
#define TEST_GPA	(512ULL << 30)
#define TEST_PAGES	1024ULL		/* 4 MiB: two 2 MiB leaf tables */
#define PATTERN(i)	(0x5e97000000000000ULL | (i))

/* Guest memory layout a scenario works with, mapped before finalize. */
struct layout {
	u64 priv_gva;	/* TEST_GPA.., private */
	u64 shared_gva;	/* the same GPAs with the S-bit */
	u64 ctl_gva;	/* a page of the shared slot, for host<->guest flags */
	u64 ctl_gpa;
};

struct ctl {
	u64 go;
	u64 done;
};

static void map_test_slot(struct kvm_vm *vm, struct layout *l)
{
	u64 size = TEST_PAGES * PAGE_SIZE;

	tdx_memslot_add_private(vm, TEST_SLOT, TEST_GPA, TEST_PAGES);
	l->priv_gva = vm_vaddr_reserve(vm, size, 2 * MiB);
	kvm_mmu_map(vm, &vm->mmu, l->priv_gva, TEST_GPA, size, KVM_MMU_RW);
	l->shared_gva = vm_vaddr_reserve(vm, size, 2 * MiB);
	kvm_mmu_map(vm, &vm->mmu, l->shared_gva, TEST_GPA, size,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	l->ctl_gva = tdx_shared_alloc(vm, 1, &l->ctl_gpa);
}

static struct kvm_vm *td_create(int nr_vcpus, void *guest_code,
				struct kvm_vcpu **vcpus, struct layout *l)
{
	struct kvm_vm *vm = tdx_vm_create(NULL, nr_vcpus, guest_code, vcpus);

	map_test_slot(vm, l);
	for (int i = 0; i < nr_vcpus; i++)
		tdx_vcpu_args_set(vcpus[i], 3, l->priv_gva, l->shared_gva,
				  l->ctl_gva);
	return vm;
}

static u64 expect_ucall(struct kvm_vcpu *vcpu, u64 cmd, u64 arg0,
			tdx_fault_handler_t on_fault, void *data)
{
	struct ucall uc;
	u64 got = tdx_run_until_ucall(vcpu, &uc, on_fault, data);

	TEST_ASSERT(got == cmd, "vCPU %u: ucall %llu, expected %llu", vcpu->id,
		    got, cmd);
	if (cmd == UCALL_SYNC)
		TEST_ASSERT(uc.args[0] == arg0, "vCPU %u: GUEST_SYNC(%llu), expected %llu",
			    vcpu->id, uc.args[0],
			    arg0);
	return uc.args[0];
}

/* Accept a page that must be new, and check it reads as zeroes. */
static void guest_accept_fresh(u64 gpa, volatile u64 *p)
{
	u64 status = tdx_accept_page(gpa, TDX_ACCEPT_4K);

	GUEST_ASSERT_MSG(status == TDX_SUCCESS,
			 "accept of GPA 0x%llx: status 0x%llx",
			 gpa, status);
	for (int i = 0; i < 512; i++)
		GUEST_ASSERT_EQ(p[i], 0);
}

static void guest_write_check(volatile u64 *p, u64 v)
{
	p[0] = v;
	p[511] = ~v;
	GUEST_ASSERT_EQ(p[0], v);
	GUEST_ASSERT_EQ(p[511], ~v);
}

/* ---- first-touch ------------------------------------------------------- */

static const u64 first_touch_pages[] = { 0, 1, 511, 512, 513, TEST_PAGES - 1 };

static void guest_first_touch(u64 priv, u64 shared, u64 ctl)
{
	for (size_t i = 0; i < ARRAY_SIZE(first_touch_pages); i++) {
		u64 off = first_touch_pages[i] * PAGE_SIZE;
		u64 status;

		guest_accept_fresh(TEST_GPA + off, (u64 *)(priv + off));
		guest_write_check((u64 *)(priv + off), PATTERN(i));
		/* The leaf is there now: a second accept says so. */
		status = tdx_accept_page(TEST_GPA + off, TDX_ACCEPT_4K);
		GUEST_ASSERT_EQ(TDX_STATUS_CLASS(status), TDX_PAGE_ALREADY_ACCEPTED);
	}
	for (size_t i = 0; i < ARRAY_SIZE(first_touch_pages); i++)
		GUEST_ASSERT_EQ(*(u64 *)(priv + first_touch_pages[i] * PAGE_SIZE),
				PATTERN(i));
	GUEST_DONE();
}

static void run_first_touch(void)
{
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = td_create(1, guest_first_touch, &vcpu, &l);

	tdx_vm_finalize(vm);
	expect_ucall(vcpu, UCALL_DONE, 0, NULL, NULL);
	tdx_vm_free(vm);
	tap_result(true, "first private touch after finalize: non-leaf then leaf S-EPT, %zu pages",
		   ARRAY_SIZE(first_touch_pages));
}

/* ---- convert ----------------------------------------------------------- */

struct convert_state {
	int to_shared, to_private;
};

static void guest_convert(u64 priv, u64 shared, u64 ctl)
{
	volatile u64 *pp = (u64 *)priv, *sp = (u64 *)shared;

	guest_accept_fresh(TEST_GPA, pp);
	pp[0] = PATTERN(1);
	GUEST_SYNC(1);

	/* Shared access to a private GPA: the host converts it. */
	GUEST_ASSERT_EQ(sp[0], PATTERN(2));	/* the host's, not ours */
	sp[1] = PATTERN(3);
	GUEST_SYNC(2);

	/* And back: the accept faults, the host converts, the page is new. */
	guest_accept_fresh(TEST_GPA, pp);
	guest_write_check(pp, PATTERN(4));
	GUEST_DONE();
}

static void convert_fault(struct kvm_vcpu *vcpu,
			  struct kvmt_exit_memory_fault *mf, void *data)
{
	struct convert_state *st = data;

	TEST_ASSERT(mf->gpa == TEST_GPA && mf->size == PAGE_SIZE,
		    "memory fault at 0x%llx+0x%llx, expected 0x%llx+0x1000",
		    mf->gpa, mf->size,
		    TEST_GPA);
	tdx_convert_on_fault(vcpu, mf, data);
	if (mf->flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) {
		st->to_private++;
	} else {
		st->to_shared++;
		/* What the guest must see through the shared mapping. */
		*(u64 *)addr_gpa2hva(vcpu->vm, TEST_GPA) = PATTERN(2);
	}
}

static void run_convert(void)
{
	struct convert_state st = { 0 };
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = td_create(1, guest_convert, &vcpu, &l);
	u64 *hva;

	tdx_vm_finalize(vm);
	hva = addr_gpa2hva(vm, TEST_GPA);
	expect_ucall(vcpu, UCALL_SYNC, 1, convert_fault, &st);
	TEST_ASSERT(hva[0] != PATTERN(1), "private data visible to the host");
	expect_ucall(vcpu, UCALL_SYNC, 2, convert_fault, &st);
	tap_result(st.to_shared == 1 && hva[1] == PATTERN(3),
		   "private -> shared on KVM_EXIT_MEMORY_FAULT; host and guest share the page (%d faults)",
		   st.to_shared);
	expect_ucall(vcpu, UCALL_DONE, 0, convert_fault, &st);
	tap_result(st.to_private == 1,
		   "shared -> private on KVM_EXIT_MEMORY_FAULT(PRIVATE); re-accepted page is zeroed (%d faults)",
		   st.to_private);
	tdx_vm_free(vm);
}

/* ---- punch-hole and slot-readd: fault, host removes, re-fault ----------- */

static void guest_refault(u64 priv, u64 shared, u64 ctl)
{
	for (int round = 1; round <= 2; round++) {
		for (u64 pg = 0; pg < TEST_PAGES; pg += 256) {
			guest_accept_fresh(TEST_GPA + pg * PAGE_SIZE,
					   (u64 *)(priv + pg * PAGE_SIZE));
			guest_write_check((u64 *)(priv + pg * PAGE_SIZE),
					  PATTERN(pg + round));
		}
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

static void run_refault(bool punch)
{
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = td_create(1, guest_refault, &vcpu, &l);

	tdx_vm_finalize(vm);
	expect_ucall(vcpu, UCALL_SYNC, 1, NULL, NULL);
	if (punch) {
		tdx_gmem_punch_hole(vm, TEST_SLOT, 0, TEST_PAGES * PAGE_SIZE);
	} else {
		tdx_memslot_delete(vm, TEST_SLOT);
		tdx_memslot_add_private(vm, TEST_SLOT, TEST_GPA, TEST_PAGES);
	}
	expect_ucall(vcpu, UCALL_SYNC, 2, NULL, NULL);
	expect_ucall(vcpu, UCALL_DONE, 0, NULL, NULL);
	tdx_vm_free(vm);
	tap_result(true, punch ?
		   "PUNCH_HOLE on the guest_memfd removes the pages; re-fault adds fresh ones" :
		   "memslot delete and re-add; re-fault adds fresh pages");
}

/* ---- multi-vcpu ---------------------------------------------------------- */

#define MULTI_VCPUS	4

static void guest_multi(u64 priv, u64 shared, u64 ctl)
{
	volatile struct ctl *c = (struct ctl *)ctl;
	u64 me = tdx_guest_vcpu_slot();

	GUEST_SYNC(1);
	while (!c->go)
		cpu_relax();
	/* All vCPUs fault into the same, still empty, leaf table. */
	guest_accept_fresh(TEST_GPA + me * PAGE_SIZE,
			   (u64 *)(priv + me * PAGE_SIZE));
	*(volatile u64 *)(priv + me * PAGE_SIZE) = PATTERN(me);
	__atomic_fetch_add(&c->done, 1, __ATOMIC_SEQ_CST);
	while (c->done < MULTI_VCPUS)
		cpu_relax();
	/* Everyone's leaf maps everyone's page. */
	for (u64 i = 0; i < MULTI_VCPUS; i++)
		GUEST_ASSERT_EQ(*(volatile u64 *)(priv + i * PAGE_SIZE),
				PATTERN(i));
	GUEST_DONE();
}

static pthread_barrier_t ready, started;

static void *multi_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;

	expect_ucall(vcpu, UCALL_SYNC, 1, NULL, NULL);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&started);
	expect_ucall(vcpu, UCALL_DONE, 0, NULL, NULL);
	return NULL;
}

static void run_multi_vcpu(void)
{
	struct kvm_vcpu *vcpus[MULTI_VCPUS];
	pthread_t threads[MULTI_VCPUS];
	struct layout l;
	struct kvm_vm *vm = td_create(MULTI_VCPUS, guest_multi, vcpus, &l);
	struct ctl *c;

	tdx_vm_finalize(vm);
	c = addr_gpa2hva(vm, l.ctl_gpa);
	pthread_barrier_init(&ready, NULL, MULTI_VCPUS + 1);
	pthread_barrier_init(&started, NULL, MULTI_VCPUS + 1);
	for (int i = 0; i < MULTI_VCPUS; i++)
		TEST_ASSERT(!pthread_create(&threads[i], NULL, multi_thread, vcpus[i]),
			    "pthread_create");
	pthread_barrier_wait(&ready);
	__atomic_store_n(&c->go, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&started);
	for (int i = 0; i < MULTI_VCPUS; i++)
		pthread_join(threads[i], NULL);
	tap_result(c->done == MULTI_VCPUS,
		   "%d vCPUs fault into one empty S-EPT table at once", MULTI_VCPUS);
	tdx_vm_free(vm);
}

/* ---- pre-fault ----------------------------------------------------------- */

#define PRE_FAULT_PAGES	16

static void guest_pre_faulted(u64 priv, u64 shared, u64 ctl)
{
	for (u64 pg = 0; pg < PRE_FAULT_PAGES; pg++) {
		/* Already added by KVM, still pending: accept works at once. */
		guest_accept_fresh(TEST_GPA + pg * PAGE_SIZE,
				   (u64 *)(priv + pg * PAGE_SIZE));
		guest_write_check((u64 *)(priv + pg * PAGE_SIZE), PATTERN(pg));
	}
	GUEST_DONE();
}

static void run_pre_fault(void)
{
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = td_create(1, guest_pre_faulted, &vcpu, &l);
	int ret;

	if (!vm_check_cap(vm, KVM_CAP_PRE_FAULT_MEMORY)) {
		for (int i = 0; i < 4; i++)
			tap_skip("KVM lacks KVM_CAP_PRE_FAULT_MEMORY",
				 "pre-fault case %d", i + 1);
		tdx_vm_free(vm);
		return;
	}
	tdx_vm_finalize(vm);
	ret = tdx_pre_fault_memory(vcpu, TEST_GPA, PRE_FAULT_PAGES * PAGE_SIZE);
	tap_result(ret == 0, "KVM_PRE_FAULT_MEMORY of private pages on a finalized TD (rc %d)",
		   ret);
	ret = tdx_pre_fault_memory(vcpu, TEST_GPA, PRE_FAULT_PAGES * PAGE_SIZE);
	tap_result(ret == 0, "KVM_PRE_FAULT_MEMORY again over mapped pages (rc %d)", ret);
	ret = tdx_pre_fault_memory(vcpu, TEST_GPA + GiB, PAGE_SIZE);
	tap_result(ret == -ENOENT, "KVM_PRE_FAULT_MEMORY outside every memslot: ENOENT (rc %d)",
		   ret);
	expect_ucall(vcpu, UCALL_DONE, 0, NULL, NULL);
	tap_result(true, "guest accepts and uses the pre-faulted pages");
	tdx_vm_free(vm);
}

/* ---- teardown ------------------------------------------------------------ */

/*
 * Small slots far apart: 4 slots in two 512 GiB regions, two 1 GiB
 * regions each, and two 2 MiB tables touched in each slot, so the S-EPT
 * has the most non-leaf pages for the fewest leaves.
 */
#define TD_SLOTS	4
#define TD_SLOT_PAGES	1024ULL
static const u64 td_page_offsets[] = { 0, PAGE_SIZE, 2 * MiB, 2 * MiB + 511 * PAGE_SIZE };

static u64 teardown_gpa(int s)
{
	return (512ULL << 30) * (1 + s / 2) + (1ULL << 30) * (s % 2);
}

static void guest_teardown(u64 gvas, u64 unused, u64 ctl)
{
	const u64 *gva = (const u64 *)gvas;

	for (int s = 0; s < TD_SLOTS; s++)
		for (size_t i = 0; i < ARRAY_SIZE(td_page_offsets); i++) {
			u64 off = td_page_offsets[i];

			guest_accept_fresh(teardown_gpa(s) + off,
					   (u64 *)(gva[s] + off));
			guest_write_check((u64 *)(gva[s] + off), PATTERN(s));
		}
	GUEST_DONE();
}

static double teardown_once(bool terminate, bool *skipped)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = tdx_vm_create(NULL, 1, guest_teardown, &vcpu);
	u64 gvas_gva = vm_vaddr_alloc(vm, PAGE_SIZE);
	u64 *gvas = addr_gva2hva(vm, gvas_gva);
	u64 t0;

	for (int s = 0; s < TD_SLOTS; s++) {
		tdx_memslot_add_private(vm, TEST_SLOT + s, teardown_gpa(s),
					TD_SLOT_PAGES);
		gvas[s] = vm_vaddr_reserve(vm, TD_SLOT_PAGES * PAGE_SIZE, 2 * MiB);
		kvm_mmu_map(vm, &vm->mmu, gvas[s], teardown_gpa(s),
			    TD_SLOT_PAGES * PAGE_SIZE, KVM_MMU_RW);
	}
	tdx_vcpu_args_set(vcpu, 1, gvas_gva);
	tdx_vm_finalize(vm);
	expect_ucall(vcpu, UCALL_DONE, 0, NULL, NULL);

	*skipped = false;
	t0 = now_ns();
	if (terminate && __tdx_vm_ioctl(vm, KVMT_TDX_TERMINATE_VM, 0, 0, NULL)) {
		TEST_ASSERT(errno == EINVAL, "KVM_TDX_TERMINATE_VM");
		*skipped = true;	/* KVM before 6.17 */
	}
	tdx_vm_free(vm);
	return (now_ns() - t0) / 1e6;
}

static void run_teardown(void)
{
	bool skipped;
	double ms = teardown_once(false, &skipped);

	tap_result(true, "teardown of a TD with deep S-EPT tables (%.1f ms)", ms);
	ms = teardown_once(true, &skipped);
	if (skipped)
		tap_skip("KVM rejects KVM_TDX_TERMINATE_VM (before 6.17)",
			 "KVM_TDX_TERMINATE_VM, then teardown");
	else
		tap_result(true, "KVM_TDX_TERMINATE_VM, then teardown (%.1f ms)", ms);
}

/* ---------------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(void);
	int cases;
} scenarios[] = {
	{ "first-touch", run_first_touch, 1 },
	{ "convert", run_convert, 2 },
	{ "punch-hole", NULL, 1 },
	{ "slot-readd", NULL, 1 },
	{ "multi-vcpu", run_multi_vcpu, 1 },
	{ "pre-fault", run_pre_fault, 4 },
	{ "teardown", run_teardown, 2 },
};

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (!strcmp(name, scenarios[i].name))
			break;
	if (i == ARRAY_SIZE(scenarios)) {
		fprintf(stderr, "usage: %s first-touch|convert|punch-hole|slot-readd|multi-vcpu|pre-fault|teardown\n",
			argv[0]);
		return KSFT_FAIL;
	}

	tdx_require();
	tap_plan(scenarios[i].cases + 1);
	tdx_kmsg_watch_begin();
	if (!strcmp(name, "punch-hole"))
		run_refault(true);
	else if (!strcmp(name, "slot-readd"))
		run_refault(false);
	else
		scenarios[i].run();
	tap_result(tdx_kmsg_watch_end() == 0,
		   "no WARN, BUG, KVM_BUG_ON or SEAMCALL error in the kernel log");
	tap_exit();
}
