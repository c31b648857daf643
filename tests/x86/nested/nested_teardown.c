// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_teardown: a VM torn down while its vCPU is in L2 must go quietly
 * (no WARN or BUG in the kernel log: the runner watches it) and leave KVM
 * able to run the next nested guest. One body for SVM and VMX.
 *
 * Adds to the in-tree vmx_close_while_nested_test (VMX only: the VM is
 * closed while the vCPU sits in L2 at an exit to userspace): both vendors,
 * stage-2 on, and a second scenario where the process exits while a vCPU
 * thread is inside KVM_RUN with L2 taking stage-2 faults that L1 handles.
 *
 *   stopped   L2 exits to userspace (port I/O L1 does not intercept); the
 *             host sees guest mode in the nested state and frees the VM.
 *   running   in a child, a vCPU thread runs L1/L2 with L1 unmapping and
 *             remapping L2's page on every round; once L2 has made
 *             progress the child exits with the thread still in KVM_RUN.
 * After each, a fresh nested VM must still run L2.
 */
#include <pthread.h>
#include <unistd.h>

#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x10000000ULL
#define DATA_SIZE	(2 * MiB)
#define DATA_GVA	0x300000000000ULL
#define STOP_PORT	0x5b0
#define HC_ROUND	0x726e64ULL
#define RUNNING_ROUNDS	50	/* L2 progress before the child exits */

static u64 page_pte_gpa;	/* stage-2 leaf of L2's data page */
static volatile u64 l2_rounds;	/* L2's progress, read by the host */
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_stop_at_port(void)
{
	outb(STOP_PORT, 1);
	for (;;)
		l2_hypercall(HC_ROUND, 0);
}

static void l1_stop(struct nested_state *s)
{
	l2_setup(s, l2_stop_at_port, l2_stack + sizeof(l2_stack));
	l2_run(s);
	GUEST_FAIL("L2 came back to L1 from its teardown point");
}

static void l2_fault_forever(void)
{
	for (u64 r = 0;; r++) {
		WRITE_ONCE(*(u64 *)DATA_GVA, r);
		l2_rounds = r;
		l2_hypercall(HC_ROUND, r);
	}
}

static void l1_fault_forever(struct nested_state *s)
{
	u64 *pte = l1_phys(page_pte_gpa);
	u64 good = *pte;

	l2_setup(s, l2_fault_forever, l2_stack + sizeof(l2_stack));
	for (;;) {
		struct l2_exit ex;

		WRITE_ONCE(*pte, 0);
		l2_tdp_flush(s);
		ex = l2_run(s);
		L2_ASSERT_TDP_FAULT(ex, DATA_GPA, KVM_MMU_WRITE);
		WRITE_ONCE(*pte, good);
		l2_tdp_flush(s);
		l2_run_to_hypercall(s, HC_ROUND);
	}
}

static void l1_alive(struct nested_state *s)
{
	l2_setup(s, l2_fault_forever, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_ROUND);
	l2_run_to_hypercall(s, HC_ROUND);
	GUEST_DONE();
}

static struct kvm_vm *nested_vm(struct kvm_vcpu **vcpu, void *l1_code)
{
	struct kvm_vm *vm;

	vm = vm_create_tdp_with_one_vcpu(vcpu, l1_code, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	virt_map(vm, DATA_GVA, DATA_GPA, PAGE_SIZE);
	tdp_map_level(vm, DATA_GPA, DATA_GPA, PAGE_SIZE, KVM_MMU_RWX,
		      PG_LEVEL_4K);
	write_guest_global(vm, page_pte_gpa,
			   addr_hva2gpa(vm, tdp_lookup(vm, DATA_GPA, NULL)));
	vcpu_args_set(*vcpu, 1, vcpu_alloc_nested_state(*vcpu));
	return vm;
}

/* KVM still runs a nested guest after the teardown. */
static void check_next_vm_runs(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu, l1_alive);
	struct ucall uc;

	CHECK(vcpu_run_next(vcpu, &uc) == UCALL_DONE,
	      "a new nested VM after the teardown runs L2 to the end (exit %s)",
	      exit_reason_str(vcpu->run->exit_reason));
	kvm_vm_free(vm);
}

static void case_stopped(void)
{
	u32 size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu, l1_stop);
	struct kvm_nested_state *st;
	struct ucall uc;

	case_begin("VM freed while its vCPU is stopped in L2");
	vcpu_run_next(vcpu, &uc);
	CHECK(vcpu->run->exit_reason == KVM_EXIT_IO &&
	      vcpu->run->io.port == STOP_PORT,
	      "L2's port I/O reaches the host (exit %s)",
	      exit_reason_str(vcpu->run->exit_reason));
	if (size >= sizeof(*st)) {
		st = calloc(1, size);
		TEST_ASSERT(st, "out of memory");
		st->size = size;
		vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, st);
		CHECK(st->flags & KVM_STATE_NESTED_GUEST_MODE,
		      "the vCPU is in guest mode (flags 0x%x)", st->flags);
		free(st);
	}
	kvm_vm_free(vm);
	check_next_vm_runs();
	case_end();
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run_next(vcpu, &uc);
	/* Only a guest assert or an unexpected exit gets here. */
	TEST_FAIL("vCPU left KVM_RUN: exit %s",
		  exit_reason_str(vcpu->run->exit_reason));
	return NULL;
}

/* In a child: exit with the vCPU thread inside KVM_RUN, L2 faulting. */
static void exit_while_running(void *unused)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu, l1_fault_forever);
	volatile u64 *rounds = addr_gva2hva(vm, (u64)&l2_rounds);
	pthread_t thread;

	TEST_ASSERT(!pthread_create(&thread, NULL, vcpu_thread, vcpu),
		    "pthread_create failed");
	while (READ_ONCE(*rounds) < RUNNING_ROUNDS)
		usleep(1000);
	exit(0);
}

static void case_running(void)
{
	struct child_result res;

	case_begin("process exits while a vCPU thread runs L2 taking stage-2 faults");
	run_in_child(exit_while_running, NULL, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
	      "the child exits cleanly (status 0x%x): %s", res.status,
	      res.output);
	check_next_vm_runs();
	case_end();
}

int main(void)
{
	nested_require_tdp();
	case_stopped();
	case_running();
	checks_exit();
}
