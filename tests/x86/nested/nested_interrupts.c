// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_interrupts: an external interrupt (an MSI the host signals through
 * the in-kernel LAPIC) that arrives while L2 runs either exits to L1, when
 * L1 intercepts interrupts, or goes through L2's IDT, when it does not.
 * One body for SVM and VMX.
 *
 * Adds to the in-tree svm_int_ctl_test (SVM only: V_IRQ and a self-IPI with
 * INTR intercepted) and vmx_apic_access_test: both vendors, a host-signalled
 * MSI landing while the vCPU is in L2, the interrupt intercept on (exit,
 * nothing delivered before L1 opens its window, then exactly once to L1) and
 * off (exactly once through L2's IDT, no exit to L1).
 */
#include "kvm_util.h"
#include "test_check.h"
#include "apic.h"
#include "nested/nested.h"

#define VEC_TO_L1	0x51
#define VEC_TO_L2	0x52
#define SYNC_FOR_L1	1	/* the host signals VEC_TO_L1 here */
#define SYNC_FOR_L2	2	/* ... and VEC_TO_L2 here */
#define HC_TOOK		0x746f6f6bULL	/* "took": L2 took its interrupt */
#define HC_SPIN		0x7370696eULL

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	GUEST_SYNC(SYNC_FOR_L1);
	l2_hypercall(HC_SPIN, 0);	/* the interrupt exit comes first */

	__asm__ volatile("sti" ::: "memory");
	GUEST_SYNC(SYNC_FOR_L2);
	while (!READ_ONCE(irq_count[VEC_TO_L2]))
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	l2_hypercall(HC_TOOK, READ_ONCE(irq_count[VEC_TO_L2]));
}

static void l1_main(struct nested_state *s)
{
	struct l2_exit ex;

	GUEST_CASE("interrupt while L2 runs, L1 intercepting: exit to L1, then L1 takes it once");
	if (!this_cpu_has(X86_FEATURE_X2APIC)) {
		GUEST_CASE_SKIP("no x2APIC in the guest's CPUID");
		GUEST_DONE();
	}
	x2apic_enable();
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_intercept_interrupts(s, true);
	/*
	 * SVM: with V_INTR_MASKING, L1's IF at VMRUN gates physical
	 * interrupts in L2; GIF, clear around VMRUN, keeps them off L1 until
	 * the exit. VMX: the exit clears L1's IF.
	 */
	sti();
	ex = l2_run(s);
	cli();
	GUEST_CHECK(ex.kind == L2_EXIT_INTERRUPT,
		    "interrupt exit, got %s (raw 0x%llx) at 0x%llx",
		    l2_exit_kind_name(ex.kind), ex.raw, ex.rip);
	if (s->vendor == NESTED_VMX) {
		/* Not acknowledged on exit: it is still pending at the LAPIC. */
		GUEST_CHECK_EQ(READ_ONCE(irq_count[VEC_TO_L1]), 0);
	}
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[VEC_TO_L1]), 1);
	GUEST_CHECK_EQ(READ_ONCE(irq_count[VEC_TO_L2]), 0);
	l2_run_to_hypercall(s, HC_SPIN);

	GUEST_CASE("interrupt while L2 runs, not intercepted: L2's IDT takes it once, no exit");
	l2_intercept_interrupts(s, false);
	ex = l2_run(s);
	GUEST_CHECK(ex.kind == L2_EXIT_HYPERCALL && ex.nr == HC_TOOK,
		    "L2's report is the next exit, got %s (raw 0x%llx)",
		    l2_exit_kind_name(ex.kind), ex.raw);
	GUEST_CHECK_EQ(ex.arg, 1);
	GUEST_CHECK_EQ(READ_ONCE(irq_count[VEC_TO_L1]), 1);
	GUEST_DONE();
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	u64 cmd;

	nested_require();
	vm = vm_create_with_one_vcpu(&vcpu, l1_main);
	if (!vm_has_lapic(vm))
		test_skip("the VM has no in-kernel LAPIC");
	vm_install_irq_counter(vm, VEC_TO_L1);
	vm_install_irq_counter(vm, VEC_TO_L2);
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));

	while ((cmd = vcpu_run_next(vcpu, &uc)) != UCALL_DONE) {
		TEST_ASSERT(cmd == UCALL_SYNC, "unexpected exit %s",
			    exit_reason_str(vcpu->run->exit_reason));
		vm_signal_msi(vm, 0, uc.args[0] == SYNC_FOR_L1 ? VEC_TO_L1 :
								 VEC_TO_L2);
	}
	kvm_vm_free(vm);
	checks_exit();
}
