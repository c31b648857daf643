// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_migrate: a running guest is moved to a new VM, as a VMM migrates
 * one, and must not notice.
 *
 * At each sync the host migrates the VM (vm_migrate()): it finishes the
 * pending exit, saves all the state KVM keeps of the vCPU (registers,
 * events, XSAVE, MSRs, debug registers, ...), closes the VM, creates a new
 * one over the same memory and loads the state into its fresh vCPU. The guest
 * then checks what each piece of state carried: an MSR it wrote
 * (KERNEL_GS_BASE), XMM15 held across the exit (XSAVE), DR0
 * (debug registers), its stack and callee-saved registers (the compiler
 * keeps the loop in them), and a TSC that did not go backwards.
 */
#include "kvm_util.h"

#define ROUNDS		3
#define KGS_BASE	0xffff8880c0de0000ULL
#define XMM_VALUE	0x584d4d3135212121ULL	/* "XMM15!!!" */
#define DR0_VALUE	0x7ffc0de0ULL

/*
 * GUEST_SYNC(round) with XMM15 holding @value across the exit, and what it
 * holds after: the sync is written out here, in the same asm statement,
 * because compiled code (ucall() included) may use any XMM register.
 */
static u64 sync_holding_xmm15(u64 round, u64 value)
{
	struct ucall uc = { .cmd = UCALL_SYNC, .args = { round } };
	u64 after;

	__asm__ volatile("movq %[in], %%xmm15\n\t"
			 "outb %%al, %%dx\n\t"
			 "movq %%xmm15, %[out]"
			 : [out] "=r"(after)
			 : [in] "r"(value), "a"(0), "d"(UCALL_PIO_PORT), "D"(&uc)
			 : "xmm15", "memory");
	return after;
}

static inline u64 get_dr0(void)
{
	u64 v;

	__asm__ volatile("mov %%dr0, %0" : "=r"(v));
	return v;
}

static void guest_main(bool use_xmm)
{
	u64 tsc = rdtsc();

	__asm__ volatile("mov %0, %%dr0" : : "r"(DR0_VALUE));
	wrmsr(MSR_KERNEL_GS_BASE, KGS_BASE);

	for (u64 round = 0; round < ROUNDS; round++) {
		u64 xmm = XMM_VALUE + round, now;

		if (use_xmm)
			xmm = sync_holding_xmm15(round, xmm);
		else
			GUEST_SYNC(round);
		now = rdtsc();
		/* The host migrated the VM at the sync; xmm is read already. */
		GUEST_CASE("round %llu: the guest finds its state intact in the new VM",
			   round);
		GUEST_CHECK_EQ(rdmsr(MSR_KERNEL_GS_BASE), KGS_BASE + round);
		GUEST_CHECK_EQ(xmm, XMM_VALUE + round);
		GUEST_CHECK_EQ(get_dr0(), DR0_VALUE);
		GUEST_CHECK(now >= tsc, "TSC went back from 0x%llx to 0x%llx",
			    tsc, now);
		tsc = now;
		wrmsr(MSR_KERNEL_GS_BASE, KGS_BASE + round + 1);
	}
	GUEST_DONE();
}

static void migrate(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	int *rounds = data;

	TEST_ASSERT_EQ(uc->args[0], (u64)*rounds);
	vm_migrate(vcpu->vm);
	(*rounds)++;
}

static void guest_sse(void)
{
	__asm__ volatile("movq %%rax, %%xmm15" : : "a"(0ULL) : "xmm15");
	GUEST_DONE();
}

/*
 * Can this KVM run SSE in a guest at all? kvm_pvm, for one, fails to
 * emulate it (KVM_EXIT_INTERNAL_ERROR) instead of running it.
 */
static bool kvm_runs_guest_sse(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_sse);
	struct ucall uc;
	bool ok = vcpu_run_ucall(vcpu, &uc) == UCALL_DONE;

	TEST_ASSERT(ok || vcpu->run->exit_reason == KVM_EXIT_INTERNAL_ERROR,
		    "SSE probe: exit %s", exit_reason_str(vcpu->run->exit_reason));
	kvm_vm_free(vm);
	return ok;
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int rounds = 0;
	bool use_xmm;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_XSAVE) > 0);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VCPU_EVENTS) > 0);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_DEBUGREGS) > 0);

	use_xmm = kvm_runs_guest_sse();
	if (!use_xmm)
		printf("# this KVM cannot run SSE in a guest (emulation failure): XMM15 is not checked\n");
	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	vcpu_args_set(vcpu, 1, (u64)use_xmm);
	vcpu_run_to_done(vcpu, migrate, &rounds);
	CHECK_EQ(rounds, ROUNDS);
	kvm_vm_free(vm);
	checks_exit();
}
