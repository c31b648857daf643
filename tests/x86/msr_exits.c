// SPDX-License-Identifier: GPL-2.0-only
/*
 * msr_exits: guest MSR accesses handed to userspace (api.rst,
 * KVM_CAP_X86_USER_SPACE_MSR and KVM_X86_SET_MSR_FILTER), as a VMM uses
 * them to emulate or police MSRs itself.
 *
 * With a filter denying one MSR and exits enabled for filtered and unknown
 * MSRs:
 *  - a guest RDMSR of the filtered MSR exits (KVM_EXIT_X86_RDMSR, reason
 *    FILTER, the index) and the guest reads what userspace answered;
 *  - a WRMSR exits with the value written, and when userspace refuses it
 *    the guest takes #GP on the WRMSR;
 *  - an MSR KVM does not know exits with reason UNKNOWN instead of #GP;
 * and once the filter is removed, KVM handles the MSR itself again: no
 * exit, and the guest reads back what it wrote.
 */
#include "kvm_util.h"
#include "exception.h"

#define FILTERED_MSR	MSR_STAR
#define UNKNOWN_MSR	0x00001234	/* no MSR of any CPU KVM models */
#define USER_VALUE	0x0023001000000000ULL	/* userspace's answer */
#define WRITE_VALUE	0x001b000800000000ULL
#define KVM_VALUE	0x0033002000000000ULL
#define UNKNOWN_VALUE	0x756e6b6e6f776eULL	/* "unknown" */

static volatile u64 gp_count;

/* RDMSR and WRMSR are both two bytes long: step over the faulting one. */
static void gp_handler(struct ex_regs *regs)
{
	gp_count++;
	regs->rip += 2;
}

/* Where the guest is: each step ends in a sync the host checks its exits at. */
enum { STEP_READ = 1, STEP_WRITE, STEP_UNKNOWN, STEP_UNFILTERED };

static void guest_main(void)
{
	GUEST_CASE("filtered RDMSR: one exit with reason FILTER; the guest reads userspace's answer");
	GUEST_CHECK_EQ(rdmsr(FILTERED_MSR), USER_VALUE);
	GUEST_SYNC(STEP_READ);

	GUEST_CASE("filtered WRMSR: one exit with the value written; refused, the guest takes #GP");
	wrmsr(FILTERED_MSR, WRITE_VALUE);
	GUEST_CHECK_EQ(gp_count, 1);
	GUEST_SYNC(STEP_WRITE);

	GUEST_CASE("RDMSR of an unknown MSR: one exit with reason UNKNOWN, answered");
	GUEST_CHECK_EQ(rdmsr(UNKNOWN_MSR), UNKNOWN_VALUE);
	GUEST_SYNC(STEP_UNKNOWN);

	GUEST_CASE("filter removed: KVM handles the MSR itself, no exit, the write reads back");
	wrmsr(FILTERED_MSR, KVM_VALUE);
	GUEST_CHECK_EQ(rdmsr(FILTERED_MSR), KVM_VALUE);
	GUEST_CHECK_EQ(gp_count, 1);
	GUEST_SYNC(STEP_UNFILTERED);
	GUEST_DONE();
}

static void set_filter(struct kvm_vm *vm, bool deny)
{
	static u8 deny_bitmap;	/* one MSR, its bit clear: denied */
	struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };

	if (deny)
		filter.ranges[0] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = 1,
			.base = FILTERED_MSR,
			.bitmap = &deny_bitmap,
		};
	vm_ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct kvm_run *run;
	int step = STEP_READ, exits = 0, as_expected = 0;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_MSR_FILTER) > 0);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_USER_SPACE_MSR) > 0);

	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	vm_install_exception_handler(vm, 13, gp_handler);
	vm_enable_cap(vm, KVM_CAP_X86_USER_SPACE_MSR,
		      KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN);
	set_filter(vm, true);
	run = vcpu->run;

	for (;;) {
		struct ucall uc;
		u64 cmd = vcpu_run_next(vcpu, &uc);

		if (cmd == UCALL_DONE)
			break;
		if (cmd == UCALL_SYNC) {
			/* Each filtered step exits once, the unfiltered one never. */
			int want = uc.args[0] == STEP_UNFILTERED ? 0 : 1;

			CHECK(exits == want && as_expected == want,
			      "step %llu: %d MSR exits, %d of them as expected; expected %d",
			      uc.args[0], exits, as_expected, want);
			if (uc.args[0] == STEP_UNKNOWN)
				set_filter(vm, false);
			exits = as_expected = 0;
			step = uc.args[0] + 1;
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_X86_RDMSR ||
			    run->exit_reason == KVM_EXIT_X86_WRMSR,
			    "unexpected exit %s", exit_reason_str(run->exit_reason));
		exits++;
		run->msr.error = 0;
		switch (step) {
		case STEP_READ:
			as_expected += run->exit_reason == KVM_EXIT_X86_RDMSR &&
				       run->msr.index == FILTERED_MSR &&
				       run->msr.reason == KVM_MSR_EXIT_REASON_FILTER;
			run->msr.data = USER_VALUE;
			break;
		case STEP_WRITE:
			as_expected += run->exit_reason == KVM_EXIT_X86_WRMSR &&
				       run->msr.index == FILTERED_MSR &&
				       run->msr.reason == KVM_MSR_EXIT_REASON_FILTER &&
				       run->msr.data == WRITE_VALUE;
			run->msr.error = 1;		/* refuse: #GP */
			break;
		case STEP_UNKNOWN:
			as_expected += run->exit_reason == KVM_EXIT_X86_RDMSR &&
				       run->msr.index == UNKNOWN_MSR &&
				       run->msr.reason == KVM_MSR_EXIT_REASON_UNKNOWN;
			run->msr.data = UNKNOWN_VALUE;
			break;
		default:
			run->msr.data = KVM_VALUE;	/* keep the guest going */
			break;
		}
	}
	kvm_vm_free(vm);
	checks_exit();
}
