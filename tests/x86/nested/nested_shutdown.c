// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_shutdown: a triple fault in L2 is L1's business, not the end of
 * the VM, unless L1 says otherwise. One body for SVM and VMX.
 *
 * Adds to the in-tree triple_fault_event_test and svm_nested_shutdown_test
 * (each one vendor): both vendors in one body, a triple fault L2 causes
 * itself (an exception through an empty IDT) as well as one the host
 * injects, and L1 going on to run a new L2 afterwards.
 *
 *   L2 triple-faults (#UD through an empty IDT, #GP, #DF): L1 gets a
 *   SHUTDOWN (SVM, intercepted) / triple-fault (VMX) exit; L1 then runs a
 *   fresh L2; the host queues a triple fault (KVM_VCPUEVENT_VALID_TRIPLE_FAULT)
 *   while L2 runs: L1 gets the same exit; finally (SVM) with the SHUTDOWN
 *   intercept off the whole vCPU shuts down: KVM_EXIT_SHUTDOWN to the host.
 */
#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"

#define HC_ALIVE	0x616c6976ULL	/* "aliv" */
#define ALIVE_ARG	42

static bool have_tf_event;	/* KVM_CAP_X86_TRIPLE_FAULT_EVENT, from the host */
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_triple_fault(void)
{
	__asm__ volatile("ud2");
}

static void l2_alive(void)
{
	l2_hypercall(HC_ALIVE, ALIVE_ARG);
}

/* The host queues a triple fault at this sync. */
static void l2_sync_then_alive(void)
{
	GUEST_SYNC(1);
	l2_hypercall(HC_ALIVE, ALIVE_ARG);
}

static void check_shutdown_exit(struct nested_state *s)
{
	struct l2_exit ex = l2_run(s);

	GUEST_CHECK(ex.kind == L2_EXIT_SHUTDOWN,
		    "shutdown exit, got %s (raw 0x%llx, info 0x%llx) at 0x%llx",
		    l2_exit_kind_name(ex.kind), ex.raw, ex.info1, ex.rip);
	GUEST_CHECK_EQ(ex.raw, s->vendor == NESTED_SVM ? SVM_EXIT_SHUTDOWN :
						      EXIT_REASON_TRIPLE_FAULT);
}

static void l1_main(struct nested_state *s)
{
	u8 *stack_top = l2_stack + sizeof(l2_stack);

	GUEST_CASE("triple fault in L2 exits to L1");
	l2_setup(s, l2_triple_fault, stack_top);
	l2_set_idt_limit(s, 0);
	l2_intercept_shutdown(s, true);
	check_shutdown_exit(s);

	GUEST_CASE("L1 runs a new L2 after the triple fault");
	l2_setup(s, l2_alive, stack_top);
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_ALIVE), ALIVE_ARG);

	GUEST_CASE("triple fault queued by the host while L2 runs exits to L1");
	if (have_tf_event) {
		l2_setup(s, l2_sync_then_alive, stack_top);
		l2_intercept_shutdown(s, true);
		check_shutdown_exit(s);
	} else {
		GUEST_CASE_SKIP("KVM lacks KVM_CAP_X86_TRIPLE_FAULT_EVENT");
	}

	/* The host checks this case: the vCPU must shut down. */
	GUEST_CASE("SHUTDOWN not intercepted: the vCPU shuts down");
	if (s->vendor != NESTED_SVM) {
		GUEST_CASE_SKIP("VMX has no shutdown intercept to turn off: a triple fault in L2 always exits to L1");
		GUEST_DONE();
	}
	l2_setup(s, l2_triple_fault, stack_top);
	l2_set_idt_limit(s, 0);
	l2_intercept_shutdown(s, false);
	l2_run(s);
	GUEST_FAIL("L1 got an exit from an L2 that should have shut the vCPU down");
}

static void queue_triple_fault(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events ev;

	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev);
	ev.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	ev.triple_fault.pending = 1;
	vcpu_ioctl(vcpu, KVM_SET_VCPU_EVENTS, &ev);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	u64 cmd;

	nested_require();
	vm = vm_create_with_one_vcpu(&vcpu, l1_main);
	if (kvm_check_cap(KVM_CAP_X86_TRIPLE_FAULT_EVENT)) {
		vm_enable_cap(vm, KVM_CAP_X86_TRIPLE_FAULT_EVENT, 1);
		write_guest_global(vm, have_tf_event, true);
	}
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));

	for (;;) {
		cmd = vcpu_run_next(vcpu, &uc);
		if (cmd == UCALL_DONE)
			break;
		if (cmd == UCALL_SYNC) {
			queue_triple_fault(vcpu);
			continue;
		}
		/* Only the last, SVM-only case ends here. */
		CHECK(vcpu->run->exit_reason == KVM_EXIT_SHUTDOWN,
		      "exit %s (%u), expected SHUTDOWN",
		      exit_reason_str(vcpu->run->exit_reason),
		      vcpu->run->exit_reason);
		break;
	}
	kvm_vm_free(vm);
	checks_exit();
}
