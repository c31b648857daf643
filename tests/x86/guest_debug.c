// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest_debug: KVM_SET_GUEST_DEBUG (api.rst), the host debugging a guest
 * the way gdb does through a VMM's gdbstub.
 *
 *  - Single-step: every instruction of a known sequence exits with
 *    KVM_EXIT_DEBUG, in order, at its own address (no instruction skipped
 *    or reported twice), with DR6.BS set.
 *  - A hardware execution breakpoint (debugreg[0], DR7.L0) stops the guest
 *    at exactly that instruction, with DR6.B0 set; the guest sees nothing.
 *  - With debugging turned off again the guest runs to its end with no
 *    debug exit.
 */
#include "kvm_util.h"

#define DR6_B0		BIT(0)
#define DR6_BS		BIT(14)
#define DR7_L0		BIT(0)

/*
 * The code stepped through: instructions of known lengths between labels,
 * so the host knows each one's address. Plain ALU work the guest checks.
 */
extern char step_begin[], step_2[], step_3[], step_4[], step_5[], step_end[];
__asm__(".pushsection .text\n"
	".globl step_sequence\n"
	"step_sequence:\n"
	"step_begin: movl $1, %eax\n"	/* 5 bytes */
	"step_2: addl %eax, %eax\n"	/* 2 */
	"step_3: nop\n"			/* 1 */
	"step_4: addl $40, %eax\n"	/* 3 */
	"step_5: nop\n"
	"step_end: ret\n"
	".popsection\n");
extern int step_sequence(void);

static void guest_main(void)
{
	GUEST_CHECK_EQ(step_sequence(), 42);	/* single-stepped */
	GUEST_SYNC(1);
	GUEST_CHECK_EQ(step_sequence(), 42);	/* hardware breakpoint */
	GUEST_SYNC(2);
	GUEST_CHECK_EQ(step_sequence(), 42);	/* debugging off */
	GUEST_DONE();
}

static void set_debug(struct kvm_vcpu *vcpu, u32 control, u64 dr0, u64 dr7)
{
	struct kvm_guest_debug dbg = { .control = control };

	dbg.arch.debugreg[0] = dr0;
	dbg.arch.debugreg[7] = dr7;
	vcpu_ioctl(vcpu, KVM_SET_GUEST_DEBUG, &dbg);
}

/*
 * Single-step from the guest's first instruction until the one after
 * step_sequence returns. Debug settings change only at debug exits: at an
 * I/O exit (a ucall) the OUT is not finished yet, and a single-step trap
 * still pending for it would reach the next phase.
 */
static void check_single_step(struct kvm_vcpu *vcpu)
{
	const u64 want[] = { (u64)step_begin, (u64)step_2, (u64)step_3,
			     (u64)step_4, (u64)step_5, (u64)step_end };
	const int n = ARRAY_SIZE(want);
	struct kvm_run *run = vcpu->run;
	int found = 0, steps = 0, bad_dr6 = 0;
	struct ucall uc;

	case_begin("single-step: the %d instructions of the sequence exit in order at their addresses, with DR6.BS",
		   n);
	set_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, 0, 0);
	for (;;) {
		u64 cmd = vcpu_run_next(vcpu, &uc);

		TEST_ASSERT(cmd == UCALL_NONE && run->exit_reason == KVM_EXIT_DEBUG,
			    "single-step: ucall %llu / exit %s after %d steps",
			    cmd,
			    exit_reason_str(run->exit_reason), steps);
		steps++;
		bad_dr6 += !(run->debug.arch.dr6 & DR6_BS);
		if (found == n)
			break;	/* the instruction after the sequence */
		/* Each instruction of the sequence, in order, once. */
		TEST_ASSERT(run->debug.arch.pc == want[found] || !found,
			    "single-step: after %d of the sequence's instructions came RIP 0x%llx, not 0x%llx",
			    found, run->debug.arch.pc,
			    want[found]);
		found += run->debug.arch.pc == want[found];
		TEST_ASSERT(steps < 100000, "single-step never reached the sequence");
	}
	CHECK_EQ(found, n);
	CHECK(!bad_dr6, "DR6.BS clear on %d of %d steps", bad_dr6, steps);
}

/* From the debug exit above: a breakpoint on step_4, the next call's. */
static void check_hw_breakpoint(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int hits = 0;

	case_begin("hardware breakpoint on one instruction: one stop there, with DR6.B0");
	set_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
		  (u64)step_4, DR7_L0);
	for (;;) {
		u64 cmd = vcpu_run_next(vcpu, &uc);

		if (cmd == UCALL_SYNC && uc.args[0] == 1)
			continue;
		if (cmd == UCALL_SYNC && uc.args[0] == 2)
			break;
		TEST_ASSERT(cmd == UCALL_NONE && run->exit_reason == KVM_EXIT_DEBUG,
			    "breakpoint: ucall %llu / exit %s",
			    cmd, exit_reason_str(run->exit_reason));
		CHECK(run->debug.arch.pc == (u64)step_4 &&
		      (run->debug.arch.dr6 & DR6_B0),
		      "stop at 0x%llx (DR6 0x%llx), expected 0x%llx with B0",
		      run->debug.arch.pc, run->debug.arch.dr6, (u64)step_4);
		hits++;
		/* Remove it and go on: the rest runs undebugged. */
		set_debug(vcpu, 0, 0, 0);
	}
	CHECK(hits == 1, "%d stops at the breakpoint", hits);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_SET_GUEST_DEBUG) > 0);
	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	check_single_step(vcpu);
	check_hw_breakpoint(vcpu);

	case_begin("debugging off: the guest runs to its end with no debug exit");
	CHECK(vcpu_run_next(vcpu, &uc) == UCALL_DONE, "exit %s before the guest's end",
	      exit_reason_str(vcpu->run->exit_reason));
	kvm_vm_free(vm);
	checks_exit();
}
