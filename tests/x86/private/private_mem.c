// SPDX-License-Identifier: GPL-2.0-only
/*
 * Private-memory scenarios, each written once and run on every VM type
 * with private memory (include/private_vm.h): one TAP case per type,
 * named "<scenario> on <type>", skipped with the reason where the host
 * lacks the type. The scenario is the first argument (tests.list has one
 * line each):
 *
 *   first-touch   first private accesses: fresh zeroed pages, and the
 *                 host's (shared) view never shows what the guest wrote
 *   convert-guest private -> shared -> private asked by the guest
 *                 (KVM_HC_MAP_GPA_RANGE / MapGPA), carried out by the host
 *   convert-host  the same, decided by the host between two syncs
 *   punch-hole    fallocate(PUNCH_HOLE) under faulted-in private pages
 *   slot-readd    delete the private memslot and add it again
 *   multi-vcpu    vCPUs faulting the same and neighbouring pages at once
 *   pre-fault     KVM_PRE_FAULT_MEMORY before the first run and after a
 *                 conversion, judged by KVM's pages_4k statistic
 *   teardown      VM destruction with deep tables in far-apart slots
 *   memory-fault  KVM_EXIT_MEMORY_FAULT when the attribute does not match
 *                 the slot (private attribute, no guest_memfd)
 *   stress        several vCPUs converting their ranges back and forth
 *
 * Against the in-tree programs on the same ground: memory-fault checks
 * what private_mem_kvm_exits_test checks (flags, GPA and size of the exit
 * for a slot without guest_memfd and for a deleted slot) and adds that a
 * TD gets the same exit; stress checks what private_mem_conversions_test
 * checks (the host always sees the shared data, the guest its private
 * data, across partial conversions) and adds the check that private
 * contents survive a round trip exactly when the type promises it, and
 * runs on TDX. Every scenario ends with a kernel-log case that fails on a
 * WARN, BUG or KVM_BUG_ON printed while it ran, and skips, saying why,
 * where /dev/kmsg cannot be read.
 */
#include <pthread.h>

#include "kvm_stats.h"
#include "private_vm.h"
#include "test_check.h"
#include "tdx/tdx.h"

#define TEST_SLOT	10
#define TEST_PAGES	1024ULL		/* 4 MiB: two 2 MiB leaf tables */
#define PATTERN(i)	(0x5e97000000000000ULL | (i))
#define HOST_PATTERN(i)	(0x4057000000000000ULL | (i))

/* Passed to guests in their fourth argument. */
#define FLAG_SURVIVES	BIT(0)	/* private data survives a round trip */

/*
 * The test range: 512 GiB up when the guest's physical address width
 * allows, so every level of the tables above it starts empty.
 */
static u64 test_gpa(struct kvm_vm *vm)
{
	return 1ULL << min_t(int, 39, vm->pa_bits - 1);
}

struct layout {
	u64 gpa;
	u64 priv_gva;
	u64 shared_gva;
};

static const struct pvm_type *type;

/*
 * A VM of @type with the test slot mapped and each vCPU given
 * (priv_gva, shared_gva, gpa, flags).
 */
static struct kvm_vm *create(int nr_vcpus, void *guest_code,
			     struct kvm_vcpu **vcpus, struct layout *l)
{
	struct kvm_vm *vm = pvm_create(type, nr_vcpus, guest_code, vcpus);
	u64 size = TEST_PAGES * PAGE_SIZE;

	l->gpa = test_gpa(vm);
	l->priv_gva = vm_vaddr_reserve(vm, size, 2 * MiB);
	l->shared_gva = vm_vaddr_reserve(vm, size, 2 * MiB);
	pvm_add_private_slot(vm, TEST_SLOT, l->gpa, TEST_PAGES, l->priv_gva,
			     l->shared_gva);
	for (int i = 0; i < nr_vcpus; i++)
		pvm_args_set(vcpus[i], 4, l->priv_gva, l->shared_gva, l->gpa,
			     type->private_survives_conversion ? FLAG_SURVIVES : 0);
	return vm;
}

/* Run to the next ucall; check it is @cmd (and stage @stage for a sync). */
static bool expect(struct kvm_vcpu *vcpu, u64 cmd, u64 stage)
{
	struct ucall uc;
	u64 got = pvm_run(vcpu, &uc, NULL);

	if (!CHECK(got == cmd, "vCPU %u: ucall %llu, expected %llu", vcpu->id,
		   (unsigned long long)got, (unsigned long long)cmd))
		return false;
	return cmd != UCALL_SYNC ||
	       CHECK(uc.args[0] == stage, "vCPU %u: stage %llu, expected %llu",
		     vcpu->id, (unsigned long long)uc.args[0],
		     (unsigned long long)stage);
}

static u64 *hva(struct kvm_vm *vm, u64 gpa)
{
	return addr_gpa2hva(vm, gpa);
}

/* Guest: a page that must be new reads as zeroes. */
static void guest_check_fresh(volatile u64 *p)
{
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

static const u64 touch_pages[] = { 0, 1, 511, 512, 513, TEST_PAGES - 1 };

static void guest_first_touch(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(touch_pages); i++) {
		u64 off = touch_pages[i] * PAGE_SIZE;

		pvm_guest->accept(gpa + off, PAGE_SIZE);
		guest_check_fresh((u64 *)(priv + off));
		guest_write_check((u64 *)(priv + off), PATTERN(i));
	}
	for (size_t i = 0; i < ARRAY_SIZE(touch_pages); i++)
		GUEST_ASSERT_EQ(*(u64 *)(priv + touch_pages[i] * PAGE_SIZE),
				PATTERN(i));
	GUEST_DONE();
}

static void first_touch(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = create(1, guest_first_touch, &vcpu, &l);

	pvm_ready(vm);
	expect(vcpu, UCALL_DONE, 0);
	/* The guest's writes went to guest_memfd, not to the host mapping. */
	for (size_t i = 0; i < ARRAY_SIZE(touch_pages); i++)
		CHECK_EQ(*hva(vm, l.gpa + touch_pages[i] * PAGE_SIZE), 0);
	pvm_free(vm);
}

/* ---- convert-guest and convert-host ------------------------------------ */

/*
 * Private data P1, then shared: the guest sees the host's H1 (not P1) and
 * writes S1; then private again: P1 back where the type promises it,
 * zeroes otherwise. @by_guest: the guest asks; else the host converts
 * at stages 1 and 2 on its own.
 */
static void guest_convert(u64 priv, u64 shared, u64 gpa, u64 flags,
			  bool by_guest)
{
	volatile u64 *pp = (u64 *)priv, *sp = (u64 *)shared;

	pvm_guest->accept(gpa, PAGE_SIZE);
	pp[0] = PATTERN(1);
	if (by_guest)
		GUEST_ASSERT_EQ(guest_map_shared(gpa, PAGE_SIZE), 0);
	GUEST_SYNC(1);
	GUEST_CHECK_EQ(sp[0], HOST_PATTERN(1));
	sp[1] = PATTERN(2);
	if (by_guest)
		GUEST_ASSERT_EQ(guest_map_private(gpa, PAGE_SIZE), 0);
	GUEST_SYNC(2);
	if (!by_guest)
		pvm_guest->accept(gpa, PAGE_SIZE);
	GUEST_CHECK_EQ(pp[0], (flags & FLAG_SURVIVES) ? PATTERN(1) : 0);
	GUEST_CHECK_EQ(pp[1], 0);	/* S1 went to the shared half */
	pp[0] = PATTERN(3);
	GUEST_DONE();
}

static void guest_convert_by_guest(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	guest_convert(priv, shared, gpa, flags, true);
}

static void guest_convert_by_host(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	guest_convert(priv, shared, gpa, flags, false);
}

static void convert(bool by_guest)
{
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = create(1, by_guest ? guest_convert_by_guest :
					      guest_convert_by_host,
				   &vcpu, &l);
	u64 *h = hva(vm, l.gpa);

	h[0] = HOST_PATTERN(1);		/* the shared half, before any run */
	pvm_ready(vm);
	if (!expect(vcpu, UCALL_SYNC, 1))
		goto out;
	if (!by_guest)
		vm_mem_set_shared(vm, l.gpa, PAGE_SIZE);
	CHECK_EQ(h[0], HOST_PATTERN(1));	/* P1 stayed private */
	if (!expect(vcpu, UCALL_SYNC, 2))
		goto out;
	CHECK_EQ(h[1], PATTERN(2));		/* the guest's shared write */
	if (!by_guest)
		vm_mem_set_private(vm, l.gpa, PAGE_SIZE);
	expect(vcpu, UCALL_DONE, 0);
	CHECK_EQ(h[0], HOST_PATTERN(1));	/* P3 is private too */
out:
	pvm_free(vm);
}

static void convert_guest(void *arg)
{
	convert(true);
}

static void convert_host(void *arg)
{
	convert(false);
}

/* ---- punch-hole and slot-readd ------------------------------------------ */

#define REFAULT_STEP	64	/* pages between two touched ones */

static void guest_refault(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	for (int round = 1; round <= 2; round++) {
		for (u64 pg = 0; pg < TEST_PAGES; pg += REFAULT_STEP) {
			u64 off = pg * PAGE_SIZE;

			pvm_guest->accept(gpa + off, PAGE_SIZE);
			/* Round 2: the host removed round 1's pages. */
			guest_check_fresh((u64 *)(priv + off));
			guest_write_check((u64 *)(priv + off), PATTERN(pg + round));
		}
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

static void refault(bool punch)
{
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = create(1, guest_refault, &vcpu, &l);
	u64 size = TEST_PAGES * PAGE_SIZE;

	pvm_ready(vm);
	if (!expect(vcpu, UCALL_SYNC, 1))
		goto out;
	if (punch) {
		vm_gmem_punch_hole(vm, l.gpa, size);
	} else {
		vm_memslot_delete(vm, TEST_SLOT);
		vm_memslot_add_private(vm, VM_MEM_ANON, l.gpa, TEST_SLOT,
				       TEST_PAGES, -1, 0);
	}
	/*
	 * The shared half gets data the guest must not see: its fresh pages
	 * are private ones (attributes belong to the VM, not to the slot).
	 */
	for (u64 pg = 0; pg < TEST_PAGES; pg += REFAULT_STEP)
		*hva(vm, l.gpa + pg * PAGE_SIZE) = HOST_PATTERN(pg);
	if (expect(vcpu, UCALL_SYNC, 2))
		expect(vcpu, UCALL_DONE, 0);
out:
	pvm_free(vm);
}

static void punch_hole(void *arg)
{
	refault(true);
}

static void slot_readd(void *arg)
{
	refault(false);
}

/* ---- multi-vcpu ---------------------------------------------------------- */

#define MULTI_VCPUS	4

/* Guest globals: private to the VM, shared by its vCPUs. */
static u64 arrived, written;

static void guest_multi(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	u64 me = __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
	volatile u64 *same = (u64 *)priv;
	u64 seen = 0;

	while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < MULTI_VCPUS)
		cpu_relax();
	/* Everyone at once: one shared page, then its own and the next. */
	pvm_guest->accept(gpa, PAGE_SIZE);
	__atomic_store_n(&same[me], PATTERN(me), __ATOMIC_SEQ_CST);
	for (u64 pg = 1 + me; pg <= 2 + me; pg++) {
		pvm_guest->accept(gpa + pg * PAGE_SIZE, PAGE_SIZE);
		__atomic_fetch_add((u64 *)(priv + pg * PAGE_SIZE),
				   PATTERN(me), __ATOMIC_SEQ_CST);
	}
	__atomic_fetch_add(&written, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&written, __ATOMIC_SEQ_CST) < MULTI_VCPUS)
		cpu_relax();
	/* Count what is right: every vCPU's word, and the sums per page. */
	for (u64 i = 0; i < MULTI_VCPUS; i++)
		seen += same[i] == PATTERN(i);
	for (u64 pg = 1; pg <= MULTI_VCPUS + 1; pg++) {
		u64 want = 0;

		for (u64 i = 0; i < MULTI_VCPUS; i++)
			if (pg == 1 + i || pg == 2 + i)
				want += PATTERN(i);
		seen += *(volatile u64 *)(priv + pg * PAGE_SIZE) == want;
	}
	GUEST_SYNC_ARGS(seen);
	GUEST_DONE();
}

struct multi_thread {
	struct kvm_vcpu *vcpu;
	u64 cmd[2];
	u64 seen;
};

static void *multi_run(void *arg)
{
	struct multi_thread *t = arg;
	struct ucall uc;

	t->cmd[0] = pvm_run(t->vcpu, &uc, NULL);
	t->seen = uc.args[0];
	t->cmd[1] = pvm_run(t->vcpu, &uc, NULL);
	return NULL;
}

static void multi_vcpu(void *arg)
{
	struct kvm_vcpu *vcpus[MULTI_VCPUS];
	struct multi_thread t[MULTI_VCPUS];
	pthread_t threads[MULTI_VCPUS];
	struct layout l;
	struct kvm_vm *vm = create(MULTI_VCPUS, guest_multi, vcpus, &l);

	pvm_ready(vm);
	for (int i = 0; i < MULTI_VCPUS; i++) {
		t[i] = (struct multi_thread){ .vcpu = vcpus[i] };
		TEST_ASSERT(!pthread_create(&threads[i], NULL, multi_run, &t[i]),
			    "pthread_create");
	}
	for (int i = 0; i < MULTI_VCPUS; i++) {
		pthread_join(threads[i], NULL);
		CHECK_EQ(t[i].cmd[0], UCALL_SYNC);
		CHECK_EQ(t[i].cmd[1], UCALL_DONE);
		/* Each vCPU's view: 4 words plus 5 page sums, all right. */
		CHECK_EQ(t[i].seen, 2 * MULTI_VCPUS + 1);
	}
	pvm_free(vm);
}

/* ---- pre-fault ----------------------------------------------------------- */

#define PRE_FAULT_PAGES	16

static void guest_pre_faulted(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	u64 size = PRE_FAULT_PAGES * PAGE_SIZE;

	for (u64 pg = 0; pg < PRE_FAULT_PAGES; pg++) {
		pvm_guest->accept(gpa + pg * PAGE_SIZE, PAGE_SIZE);
		guest_check_fresh((u64 *)(priv + pg * PAGE_SIZE));
		guest_write_check((u64 *)(priv + pg * PAGE_SIZE), PATTERN(pg));
	}
	/* Round trip: the host pre-faults the private pages again. */
	GUEST_ASSERT_EQ(guest_map_shared(gpa, size), 0);
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(guest_map_private(gpa, size), 0);
	GUEST_SYNC(2);
	for (u64 pg = 0; pg < PRE_FAULT_PAGES; pg++)
		GUEST_CHECK_EQ(*(u64 *)(priv + pg * PAGE_SIZE),
			       (flags & FLAG_SURVIVES) ? PATTERN(pg) : 0);
	GUEST_DONE();
}

/* KVM_PRE_FAULT_MEMORY of the range; how many 4 KiB leaves it added. */
static s64 pre_fault_added(struct kvm_vcpu *vcpu, u64 gpa, u64 size)
{
	u64 before, after;
	int ret;

	before = vm_get_stat(vcpu->vm, "pages_4k");
	ret = vcpu_pre_fault_memory(vcpu, gpa, size);
	if (!CHECK(!ret, "KVM_PRE_FAULT_MEMORY(0x%llx+0x%llx): %s",
		   (unsigned long long)gpa, (unsigned long long)size,
		   strerror(-ret)))
		return -1;
	after = vm_get_stat(vcpu->vm, "pages_4k");
	return after - before;
}

static void pre_fault(void *arg)
{
	u64 size = PRE_FAULT_PAGES * PAGE_SIZE, gpa = 0, left;
	struct kvm_vcpu *vcpu;
	struct layout l;
	struct kvm_vm *vm = create(1, guest_pre_faulted, &vcpu, &l);

	if (!vm_check_cap(vm, KVM_CAP_PRE_FAULT_MEMORY)) {
		pvm_free(vm);
		case_skip("KVM lacks KVM_CAP_PRE_FAULT_MEMORY");
	}
	pvm_ready(vm);
	/* Before the first KVM_RUN: every page becomes a leaf now. */
	CHECK_EQ(pre_fault_added(vcpu, l.gpa, size), PRE_FAULT_PAGES);
	/* Again: nothing new to map. */
	CHECK_EQ(pre_fault_added(vcpu, l.gpa, size), 0);
	/* Outside every memslot: ENOENT; unaligned: EINVAL. */
	gpa = l.gpa + TEST_PAGES * PAGE_SIZE + GiB;
	left = PAGE_SIZE;
	CHECK(__vcpu_pre_fault_memory(vcpu, &gpa, &left) == -1 && errno == ENOENT,
	      "pre-fault outside memslots: errno %d, expected ENOENT", errno);
	gpa = l.gpa + 1;
	left = PAGE_SIZE;
	CHECK(__vcpu_pre_fault_memory(vcpu, &gpa, &left) == -1 && errno == EINVAL,
	      "unaligned pre-fault: errno %d, expected EINVAL", errno);

	if (!expect(vcpu, UCALL_SYNC, 1))
		goto out;
	/* Shared now: the private leaves are gone, nothing to pre-fault yet. */
	if (!expect(vcpu, UCALL_SYNC, 2))
		goto out;
	/* Private again, after the conversion zapped them: leaves anew. */
	CHECK_EQ(pre_fault_added(vcpu, l.gpa, size), PRE_FAULT_PAGES);
	expect(vcpu, UCALL_DONE, 0);
out:
	pvm_free(vm);
}

/* ---- teardown ------------------------------------------------------------ */

#define TD_SLOTS	4
#define TD_SLOT_PAGES	1024ULL
static const u64 td_offsets[] = { 0, PAGE_SIZE, 2 * MiB, 2 * MiB + 511 * PAGE_SIZE };

/* Slots in different 1 GiB regions, and 512 GiB regions where possible. */
static u64 teardown_gpa(struct kvm_vm *vm, int s)
{
	u64 stride = vm->pa_bits > 41 ? 512 * GiB : 2 * GiB;

	return test_gpa(vm) + (s / 2) * stride + (s % 2) * GiB;
}

static void guest_teardown(u64 gvas, u64 gpas, u64 unused, u64 flags)
{
	const u64 *gva = (const u64 *)gvas, *gpa = (const u64 *)gpas;

	for (int s = 0; s < TD_SLOTS; s++)
		for (size_t i = 0; i < ARRAY_SIZE(td_offsets); i++) {
			pvm_guest->accept(gpa[s] + td_offsets[i], PAGE_SIZE);
			guest_write_check((u64 *)(gva[s] + td_offsets[i]),
					  PATTERN(s));
		}
	GUEST_DONE();
}

static void teardown(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = pvm_create(type, 1, guest_teardown, &vcpu);
	u64 tables = vm_vaddr_alloc(vm, PAGE_SIZE);
	u64 *gva = addr_gva2hva(vm, tables), *gpa = gva + TD_SLOTS;
	u64 before, after;

	for (int s = 0; s < TD_SLOTS; s++) {
		u64 size = TD_SLOT_PAGES * PAGE_SIZE;

		gpa[s] = teardown_gpa(vm, s);
		gva[s] = vm_vaddr_reserve(vm, size, 2 * MiB);
		pvm_add_private_slot(vm, TEST_SLOT + s, gpa[s], TD_SLOT_PAGES,
				     gva[s], vm_vaddr_reserve(vm, size, 2 * MiB));
	}
	pvm_args_set(vcpu, 2, tables, tables + TD_SLOTS * sizeof(u64));
	pvm_ready(vm);
	before = vm_get_stat(vm, "pages_4k");
	expect(vcpu, UCALL_DONE, 0);
	after = vm_get_stat(vm, "pages_4k");
	/* Every touched page is a 4 KiB leaf under its own tables. */
	CHECK(after - before >= TD_SLOTS * ARRAY_SIZE(td_offsets),
	      "pages_4k grew by %llu, expected at least %zu",
	      (unsigned long long)(after - before),
	      TD_SLOTS * ARRAY_SIZE(td_offsets));
	/* What KVM gets wrong here shows in the kernel-log case. */
	pvm_free(vm);
}

/* ---- memory-fault -------------------------------------------------------- */

static void guest_touch(u64 gva, u64 gpa, u64 unused, u64 flags)
{
	pvm_guest->accept(gpa, PAGE_SIZE);
	for (;;)
		(void)READ_ONCE(*(volatile u64 *)gva);
}

static void check_fault(struct kvm_vcpu *vcpu, u64 gpa)
{
	struct kvmt_exit_memory_fault mf;
	struct ucall uc;

	if (!CHECK_EQ(pvm_run(vcpu, &uc, &mf), UCALL_NONE))
		return;
	CHECK_EQ(mf.flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	CHECK_EQ(mf.gpa, gpa);
	CHECK_EQ(mf.size, PAGE_SIZE);
}

/* Private attribute over @slot_kind: a plain slot, or no slot at all. */
static void fault_on(bool deleted)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = pvm_create(type, 1, guest_touch, &vcpu);
	u64 gpa = test_gpa(vm), gva = vm_vaddr_reserve(vm, PAGE_SIZE, PAGE_SIZE);

	if (deleted)
		pvm_add_private_slot(vm, TEST_SLOT, gpa, 1, gva,
				     vm_vaddr_reserve(vm, PAGE_SIZE, PAGE_SIZE));
	else
		vm_memslot_add(vm, VM_MEM_ANON, gpa, TEST_SLOT, 1, 0);
	type->map(vm, gva, gpa, PAGE_SIZE, false);
	vm_mem_set_private(vm, gpa, PAGE_SIZE);
	pvm_args_set(vcpu, 2, gva, gpa);
	pvm_ready(vm);
	if (deleted)
		vm_memslot_delete(vm, TEST_SLOT);
	check_fault(vcpu, gpa);
	pvm_free(vm);
}

static void memory_fault(void *arg)
{
	fault_on(false);
	fault_on(true);
}

/* ---- stress ---------------------------------------------------------------- */

#define STRESS_VCPUS	2
#define STRESS_ROUNDS	8
#define STRESS_SPAN	(64 * KiB)	/* each vCPU's own part of the slot */

enum { SYNC_SHARED = 1, SYNC_PRIVATE };

/* Sub-ranges (offset, size) of a vCPU's span, converted in turn. */
static const u64 stress_ranges[][2] = {
	{ 0, PAGE_SIZE }, { 0, 4 * PAGE_SIZE }, { PAGE_SIZE, PAGE_SIZE },
	{ 3 * PAGE_SIZE, 8 * PAGE_SIZE }, { 15 * PAGE_SIZE, PAGE_SIZE },
};

static void guest_fill(u64 va, u64 size, u8 v)
{
	memset((void *)va, v, size);
}

static bool guest_all(u64 va, u64 size, u8 v)
{
	for (u64 i = 0; i < size; i++)
		if (((volatile u8 *)va)[i] != v)
			return false;
	return true;
}

static void guest_stress(u64 priv, u64 shared, u64 gpa, u64 flags)
{
	u64 me = __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
	u64 off0 = me * STRESS_SPAN;

	for (int round = 0; round < STRESS_ROUNDS; round++)
		for (size_t i = 0; i < ARRAY_SIZE(stress_ranges); i++) {
			u64 off = off0 + stress_ranges[i][0];
			u64 size = stress_ranges[i][1];
			u8 p = 0x10 + round * 8 + i, s = 0x80 + round * 8 + i;

			GUEST_ASSERT_EQ(guest_map_shared(gpa + off, size), 0);
			guest_fill(shared + off, size, s);
			/* Host checks it sees s, and writes ~s. */
			GUEST_SYNC_ARGS(SYNC_SHARED, gpa + off, size, s);
			GUEST_ASSERT(guest_all(shared + off, size, (u8)~s));
			GUEST_ASSERT_EQ(guest_map_private(gpa + off, size), 0);
			guest_fill(priv + off, size, p);
			/* Host checks the shared half still holds ~s. */
			GUEST_SYNC_ARGS(SYNC_PRIVATE, gpa + off, size, (u8)~s);
			GUEST_ASSERT(guest_all(priv + off, size, p));
		}
	GUEST_DONE();
}

struct stress_thread {
	struct kvm_vcpu *vcpu;
	u64 syncs, mismatches, last_cmd;
};

static void *stress_run(void *arg)
{
	struct stress_thread *t = arg;
	struct ucall uc;

	while ((t->last_cmd = pvm_run(t->vcpu, &uc, NULL)) == UCALL_SYNC) {
		u8 *h = addr_gpa2hva(t->vcpu->vm, uc.args[1]);

		t->syncs++;
		for (u64 i = 0; i < uc.args[2]; i++)
			t->mismatches += h[i] != (u8)uc.args[3];
		if (uc.args[0] == SYNC_SHARED)
			memset(h, (u8)~uc.args[3], uc.args[2]);
	}
	return NULL;
}

static void stress(void *arg)
{
	struct kvm_vcpu *vcpus[STRESS_VCPUS];
	struct stress_thread t[STRESS_VCPUS];
	pthread_t threads[STRESS_VCPUS];
	struct layout l;
	struct kvm_vm *vm = create(STRESS_VCPUS, guest_stress, vcpus, &l);

	pvm_ready(vm);
	for (int i = 0; i < STRESS_VCPUS; i++) {
		t[i] = (struct stress_thread){ .vcpu = vcpus[i] };
		TEST_ASSERT(!pthread_create(&threads[i], NULL, stress_run, &t[i]),
			    "pthread_create");
	}
	for (int i = 0; i < STRESS_VCPUS; i++) {
		pthread_join(threads[i], NULL);
		CHECK_EQ(t[i].last_cmd, UCALL_DONE);
		CHECK_EQ(t[i].syncs, 2 * STRESS_ROUNDS * ARRAY_SIZE(stress_ranges));
		CHECK_EQ(t[i].mismatches, 0);
	}
	pvm_free(vm);
}

/* ---------------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(void *arg);
} scenarios[] = {
	{ "first-touch", first_touch },
	{ "convert-guest", convert_guest },
	{ "convert-host", convert_host },
	{ "punch-hole", punch_hole },
	{ "slot-readd", slot_readd },
	{ "multi-vcpu", multi_vcpu },
	{ "pre-fault", pre_fault },
	{ "teardown", teardown },
	{ "memory-fault", memory_fault },
	{ "stress", stress },
};

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	bool kmsg, ran = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (!strcmp(name, scenarios[i].name))
			break;
	if (i == ARRAY_SIZE(scenarios)) {
		fprintf(stderr, "%s: unknown scenario '%s'; one of:", argv[0], name);
		for (i = 0; i < ARRAY_SIZE(scenarios); i++)
			fprintf(stderr, " %s", scenarios[i].name);
		fprintf(stderr, "\n");
		return KSFT_FAIL;
	}
	kvm_dev_fd();
	kmsg = kmsg_watch_begin();
	for (int t = 0; pvm_types[t]; t++) {
		type = pvm_types[t];
		ran |= !type->unavailable();
		run_case(scenarios[i].run, NULL, "%s on %s", name, type->name);
	}
	case_begin("%s: no WARN, BUG or KVM_BUG_ON in the kernel log", name);
	if (!ran)
		case_skip("no VM type with private memory ran: nothing to judge in the log");
	else if (kmsg)
		CHECK_EQ(kmsg_watch_end(), 0);
	else
		case_skip("/dev/kmsg cannot be read: the kernel log was not checked");
	checks_exit();
}
