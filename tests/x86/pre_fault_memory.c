// SPDX-License-Identifier: GPL-2.0-only
/*
 * pre_fault_memory: KVM_PRE_FAULT_MEMORY on an ordinary VM — map guest
 * memory into the TDP tables before the guest touches it.
 *
 * In-tree ground: pre_fault_memory_test (a 2 MiB + 4 KiB slot pre-faulted
 * whole, across its end, and outside it, checking the bytes left and
 * ENOENT; then the guest reads it). What this adds: the EINVAL rules
 * (flags, alignment, empty and wrapping ranges) with the range left as it
 * was; progress stopping at a hole between two slots with gpa and size
 * advanced exactly to it; the stats: pre-faulting maps at least the range
 * (pages_4k/2m/1g) and the guest then reads and writes all of it without
 * one TDP fault (pf_taken), where a range not pre-faulted takes faults; a
 * read-only slot pre-faulted still turns writes into MMIO exits; a deleted
 * slot gives ENOENT with and without the slot-zap quirk.
 */
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "kvm_stats.h"
#include "test_check.h"

#define SLOT_A		1
#define SLOT_B		2
#define GPA_A		0x40000000ULL		/* 4 MiB */
#define SIZE_A		(4 * MiB)
#define GPA_B		(GPA_A + SIZE_A + 2 * MiB)	/* after a 2 MiB hole */
#define SIZE_B		(2 * MiB)
#define GVA_A		0x580000000000ULL
#define GVA_B		(GVA_A + (GPA_B - GPA_A))
#define SPIN_GUARD_MS	250

/* What the guest touches next. */
static struct {
	u64 gva;
	u64 pages;
	bool write;
} cmd;

static u64 token(u64 gva)
{
	return 0x5052454641554c54ULL ^ gva;	/* "PREFAULT" */
}

static void guest_main(void)
{
	for (;;) {
		u64 bad = 0;

		GUEST_SYNC(0);
		for (u64 i = 0; i < READ_ONCE(cmd.pages); i++) {
			u64 *p = (u64 *)(READ_ONCE(cmd.gva) + i * PAGE_SIZE);

			bad += READ_ONCE(*p) != token((u64)p);
			if (READ_ONCE(cmd.write))
				WRITE_ONCE(p[1], 1);
		}
		GUEST_CHECK(!bad, "%llu pages did not hold what the host wrote",
			    bad);
	}
}

struct ctx {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

static void cmd_run(struct ctx *c, u64 gva, u64 pages, bool write);

static void fill(struct ctx *c, u64 gpa, u64 gva, u64 size)
{
	for (u64 off = 0; off < size; off += PAGE_SIZE)
		*(u64 *)addr_gpa2hva(c->vm, gpa + off) = token(gva + off);
}

static struct ctx setup(u32 flags_a)
{
	struct ctx c;

	if (!kvm_check_cap(KVM_CAP_PRE_FAULT_MEMORY))
		test_skip("KVM_CAP_PRE_FAULT_MEMORY is 0 (before 6.10, or no TDP)");
	c.vm = vm_create_with_one_vcpu(&c.vcpu, guest_main);
	vm_memslot_add(c.vm, VM_MEM_ANON_THP, GPA_A, SLOT_A,
		       SIZE_A / PAGE_SIZE, flags_a);
	vm_memslot_add(c.vm, VM_MEM_ANON_THP, GPA_B, SLOT_B,
		       SIZE_B / PAGE_SIZE, 0);
	virt_map(c.vm, GVA_A, GPA_A, SIZE_A);
	virt_map(c.vm, GVA_B, GPA_B, SIZE_B);
	/* Host-populated, so a read fault can map it writable. */
	fill(&c, GPA_A, GVA_A, SIZE_A);
	fill(&c, GPA_B, GVA_B, SIZE_B);
	cmd_run(&c, 0, 0, false);	/* the guest's own pages faulted in */
	return c;
}

static void cmd_run(struct ctx *c, u64 gva, u64 pages, bool write)
{
	struct ucall uc;
	u64 r;

	write_guest_global(c->vm, cmd.gva, gva);
	write_guest_global(c->vm, cmd.pages, pages);
	write_guest_global(c->vm, cmd.write, write);
	r = vcpu_run_next(c->vcpu, &uc);
	TEST_ASSERT(r == UCALL_SYNC, "expected the guest's sync, got ucall %llu, exit %s",
		    r, exit_reason_str(c->vcpu->run->exit_reason));
}

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	alarm_fired = 1;
}

/* Retried on EINTR, unless the EINTR is the watchdog's (see spin_guard). */
static int __pre_fault(struct ctx *c, struct kvm_pre_fault_memory *r)
{
	int ret;

	do {
		ret = __vcpu_ioctl(c->vcpu, KVM_PRE_FAULT_MEMORY, r);
	} while (ret < 0 && errno == EINTR && !alarm_fired);
	return ret;
}

/*
 * A SIGALRM after @ms interrupts a KVM_PRE_FAULT_MEMORY that spins. Short:
 * under Bochs a guest second is minutes of wall time, and a pre-fault of
 * 2 MiB that works takes far less than this on any lane.
 */
static void spin_guard(unsigned int ms)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000,
					      .tv_usec = ms % 1000 * 1000 } };

	sigaction(SIGALRM, &sa, NULL);
	alarm_fired = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

static u64 mapped_bytes(struct ctx *c)
{
	return vm_get_stat(c->vm, "pages_4k") * PAGE_SIZE +
	       vm_get_stat(c->vm, "pages_2m") * 2 * MiB +
	       vm_get_stat(c->vm, "pages_1g") * GiB;
}

static void expect_einval(struct ctx *c, u64 gpa, u64 size, u64 flags,
			  const char *what)
{
	struct kvm_pre_fault_memory r = { .gpa = gpa, .size = size,
					  .flags = flags };
	int ret = __pre_fault(c, &r);

	CHECK(ret == -1 && errno == EINVAL && r.gpa == gpa && r.size == size,
	      "%s: returned %d errno %d, range 0x%llx+0x%llx; expected EINVAL, range unchanged",
	      what, ret, ret ? errno : 0, r.gpa, r.size);
}

static void case_rules(void *arg)
{
	struct ctx c = setup(0);

	expect_einval(&c, GPA_A, PAGE_SIZE, 1, "flags 1");
	expect_einval(&c, GPA_A + 8, PAGE_SIZE, 0, "unaligned gpa");
	expect_einval(&c, GPA_A, 100, 0, "unaligned size");
	expect_einval(&c, GPA_A, 0, 0, "size 0");
	expect_einval(&c, -PAGE_SIZE, 2 * PAGE_SIZE, 0, "a range that wraps");
	kvm_vm_free(c.vm);
}

static void case_progress(void *arg)
{
	struct ctx c = setup(0);
	struct kvm_pre_fault_memory r = { .gpa = GPA_A,
					  .size = GPA_B + SIZE_B - GPA_A };
	int ret;

	ret = __pre_fault(&c, &r);
	CHECK(!ret && r.gpa == GPA_A + SIZE_A && r.size == GPA_B + SIZE_B - r.gpa,
	      "over slot A, the hole and slot B: returned %d (errno %d), stopped at 0x%llx with 0x%llx left; expected 0 at the hole 0x%llx",
	      ret, ret ? errno : 0, r.gpa, r.size, GPA_A + SIZE_A);
	ret = __pre_fault(&c, &r);
	CHECK(ret == -1 && errno == ENOENT && r.gpa == GPA_A + SIZE_A,
	      "starting in the hole: returned %d errno %d at 0x%llx; expected ENOENT, range unchanged",
	      ret, ret ? errno : 0, r.gpa);
	r = (struct kvm_pre_fault_memory){ .gpa = GPA_B, .size = SIZE_B };
	ret = __pre_fault(&c, &r);
	CHECK(!ret && r.size == 0 && r.gpa == GPA_B + SIZE_B,
	      "slot B whole: returned %d, 0x%llx left at 0x%llx", ret, r.size,
	      r.gpa);
	r = (struct kvm_pre_fault_memory){ .gpa = GPA_B + SIZE_B - PAGE_SIZE,
					   .size = 2 * PAGE_SIZE };
	ret = __pre_fault(&c, &r);
	CHECK(!ret && r.size == PAGE_SIZE && r.gpa == GPA_B + SIZE_B,
	      "across slot B's end: returned %d, 0x%llx left at 0x%llx; expected one page left at the end",
	      ret, r.size, r.gpa);
	kvm_vm_free(c.vm);
}

static void case_no_faults(void *arg)
{
	struct ctx c = setup(0);
	struct kvm_pre_fault_memory r = { .gpa = GPA_A, .size = SIZE_A };
	struct vm_memslot *main_slot = vm_memslot(c.vm, KVMT_MAIN_SLOT);
	struct kvm_pre_fault_memory m = {
		.gpa = main_slot->region.guest_phys_addr,
		.size = main_slot->region.memory_size,
	};
	u64 before, pf;

	/* The main slot too: it holds the guest's page tables for slot A. */
	CHECK(!__pre_fault(&c, &m) && !m.size,
	      "pre-faulting the main slot: 0x%llx left", m.size);
	before = mapped_bytes(&c);
	CHECK(!__pre_fault(&c, &r) && !r.size, "pre-faulting slot A: 0x%llx left",
	      r.size);
	CHECK(mapped_bytes(&c) - before >= SIZE_A,
	      "pages_4k/2m/1g grew by 0x%llx bytes for a 0x%llx-byte pre-fault",
	      mapped_bytes(&c) - before, SIZE_A);

	pf = vcpu_get_stat(c.vcpu, "pf_taken");
	cmd_run(&c, GVA_A, SIZE_A / PAGE_SIZE, true);
	CHECK(vcpu_get_stat(c.vcpu, "pf_taken") == pf,
	      "the guest read and wrote the pre-faulted 0x%llx bytes taking %llu TDP faults",
	      SIZE_A, vcpu_get_stat(c.vcpu, "pf_taken") - pf);

	pf = vcpu_get_stat(c.vcpu, "pf_taken");
	cmd_run(&c, GVA_B, SIZE_B / PAGE_SIZE, true);
	CHECK(vcpu_get_stat(c.vcpu, "pf_taken") > pf,
	      "slot B, not pre-faulted, took no TDP fault: pf_taken does not count");
	kvm_vm_free(c.vm);
}

static void case_read_only(void *arg)
{
	struct ctx c = setup(KVM_MEM_READONLY);
	struct kvm_pre_fault_memory r = { .gpa = GPA_A, .size = SIZE_A };
	struct ucall uc;

	CHECK(!__pre_fault(&c, &r) && !r.size,
	      "pre-faulting a read-only slot: 0x%llx left", r.size);
	cmd_run(&c, GVA_A, SIZE_A / PAGE_SIZE, false);
	/* A write: MMIO, pre-faulted or not. */
	write_guest_global(c.vm, cmd.pages, 1);
	write_guest_global(c.vm, cmd.write, true);
	CHECK(vcpu_run_next(c.vcpu, &uc) == UCALL_NONE &&
	      c.vcpu->run->exit_reason == KVM_EXIT_MMIO &&
	      c.vcpu->run->mmio.is_write &&
	      c.vcpu->run->mmio.phys_addr == GPA_A + 8,
	      "a write to the pre-faulted read-only slot: exit %s at 0x%llx, expected an MMIO write at 0x%llx",
	      exit_reason_str(c.vcpu->run->exit_reason),
	      c.vcpu->run->mmio.phys_addr, GPA_A + 8);
	kvm_vm_free(c.vm);
}

/*
 * Deleting a slot zaps SPTEs: all of them, making every root obsolete,
 * under KVM_X86_QUIRK_SLOT_ZAP_ALL (the default), or only the slot's
 * without it. A pre-fault of the deleted range must then say ENOENT.
 * 6.12 does not reload an obsolete root outside KVM_RUN: the pre-fault
 * retries against it until a signal arrives (fixed upstream by "KVM:
 * x86/mmu: Check and free obsolete roots in kvm_mmu_reload()").
 */
static void case_deleted(void *arg)
{
	bool zap_all = arg;
	struct ctx c = setup(0);
	struct kvm_pre_fault_memory r = { .gpa = GPA_B, .size = SIZE_B };
	int ret;

	if (!zap_all) {
		if (!(kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2) &
		      KVM_X86_QUIRK_SLOT_ZAP_ALL))
			case_skip("no KVM_X86_QUIRK_SLOT_ZAP_ALL to disable (before 6.12)");
		vm_enable_cap(c.vm, KVM_CAP_DISABLE_QUIRKS2,
			      KVM_X86_QUIRK_SLOT_ZAP_ALL);
	}
	CHECK(!__pre_fault(&c, &r), "pre-faulting slot B");
	vm_memslot_delete(c.vm, SLOT_B);
	r = (struct kvm_pre_fault_memory){ .gpa = GPA_B, .size = SIZE_B };
	spin_guard(SPIN_GUARD_MS);
	ret = __pre_fault(&c, &r);
	alarm(0);
	CHECK(!alarm_fired, "KVM_PRE_FAULT_MEMORY spun for %d ms until interrupted by a signal (errno %d): a stale root is retried forever",
	      SPIN_GUARD_MS, errno);
	if (!alarm_fired)
		CHECK(ret == -1 && errno == ENOENT && r.size == SIZE_B,
			      "after deleting slot B: returned %d errno %d, 0x%llx left; expected ENOENT",
		      ret, ret ? errno : 0, r.size);
	kvm_vm_free(c.vm);
}

int main(void)
{
	run_case(case_rules, NULL, "EINVAL: flags, alignment, empty and wrapping ranges");
	run_case(case_progress, NULL, "progress stops at a hole, ENOENT from inside it");
	run_case(case_no_faults, NULL, "pre-faulted memory is mapped: the guest takes no TDP fault");
	run_case(case_read_only, NULL, "a pre-faulted read-only slot: writes still exit as MMIO");
	run_case(case_deleted, (void *)false,
		 "a deleted slot, slot-zap quirk disabled: ENOENT");
	run_case(case_deleted, (void *)true,
		 "a deleted slot, slot-zap quirk (zap all): ENOENT");
	checks_exit();
}
