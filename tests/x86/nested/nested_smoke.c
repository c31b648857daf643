// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_smoke: an L1 guest runs an L2 to a hypercall and back, on SVM or
 * VMX, first with L2 on L1's physical memory directly, then under a
 * stage-2 (NPT/EPT) identity map built by vm->stage2_mmu.
 *
 * Also the library's promise that L2 can talk to the host test itself
 * (GUEST_SYNC from L2 reaches the host without L1 in the loop), which the
 * other nested tests rely on for their asserts and checks: a broken check
 * in L1 or L2 fails just its case, and an unexpected #PF in L2 is reported
 * as L2's.
 */
#include <sys/wait.h>

#include "kvm_util.h"
#include "nested/nested.h"

#define HC_PING		0x70696e67ULL	/* "ping" */
#define HC_DONE		0x646f6e65ULL	/* "done" */
#define L2_SYNC_MAGIC	0x4c32ULL	/* "L2" */

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(u64 arg)
{
	u64 ret = l2_hypercall(HC_PING, arg);

	GUEST_CHECK_EQ(ret, arg + 1);
	/* Straight to the host: L1 does not intercept the ucall port. */
	GUEST_SYNC(L2_SYNC_MAGIC);
	l2_hypercall(HC_DONE, 0);
}

static void l1_main(struct nested_state *s, u64 use_tdp)
{
	struct l2_exit ex;

	if (use_tdp)
		l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	else
		l2_setup_no_tdp(s, l2_main, l2_stack + sizeof(l2_stack));
	s->gprs.rdi = 41;

	ex = l2_run(s);
	GUEST_ASSERT_MSG(ex.kind == L2_EXIT_HYPERCALL,
			 "first exit is %s (raw 0x%llx), expected a hypercall",
			 l2_exit_kind_name(ex.kind), ex.raw);
	GUEST_CHECK_EQ(ex.nr, HC_PING);
	GUEST_CHECK_EQ(ex.arg, 41);
	l2_set_hypercall_result(s, 42);
	l2_skip_instruction(s);

	l2_run_to_hypercall(s, HC_DONE);
	GUEST_SYNC_ARGS(1, s->tdp);
	GUEST_DONE();
}

struct smoke_result {
	bool l2_synced;
	bool l1_synced;
	u64 tdp;
};

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct smoke_result *r = data;

	if (uc->args[0] == L2_SYNC_MAGIC) {
		r->l2_synced = true;
		return;
	}
	TEST_ASSERT(uc->args[0] == 1, "sync %llu, expected L1's 1", uc->args[0]);
	r->l1_synced = true;
	r->tdp = uc->args[1];
}

static void run_smoke(void *arg)
{
	bool tdp = arg != NULL;
	struct smoke_result r = { 0 };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 state;

	vm = vm_create_with_one_vcpu(&vcpu, l1_main);
	if (tdp) {
		vm_enable_tdp(vm);
		tdp_identity_map_all(vm);
	}
	state = vcpu_alloc_nested_state(vcpu);
	vcpu_args_set(vcpu, 2, state, (u64)tdp);
	vcpu_run_to_done(vcpu, on_sync, &r);
	CHECK(r.l2_synced, "L2's GUEST_SYNC never reached the host");
	CHECK(r.l1_synced, "L1 never reported back");
	CHECK_EQ(r.tdp, tdp);
	kvm_vm_free(vm);
}

/*
 * The check primitive one and two levels down: a broken case in L1 and
 * one in L2 report as exactly those cases, and the cases after them run.
 */
static void l2_checks(void)
{
	GUEST_CASE("L2 case broken");
	GUEST_CHECK_EQ(2 + 2, 5);
	GUEST_CASE("L2 case after it");
	GUEST_CHECK_EQ(2 + 2, 4);
	l2_hypercall(HC_DONE, 0);
}

static void l1_checks(struct nested_state *s)
{
	GUEST_CASE("L1 case broken");
	GUEST_CHECK_EQ(1 + 1, 3);
	l2_setup_no_tdp(s, l2_checks, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_DONE);
	GUEST_CASE("L1 case after L2");
	GUEST_CHECK_EQ(1 + 1, 2);
	GUEST_DONE();
}

/* An address no table maps: L2's read of it is a #PF L1 does not see. */
#define UNMAPPED_GVA	0xdead0000000ULL

static void l2_faults(void)
{
	(void)READ_ONCE(*(u64 *)UNMAPPED_GVA);
	l2_hypercall(HC_DONE, 0);
}

static void l1_runs_faulting_l2(struct nested_state *s)
{
	l2_setup_no_tdp(s, l2_faults, l2_stack + sizeof(l2_stack));
	l2_run(s);
	GUEST_FAIL("L2's #PF came back to L1 as an exit");
}

static void run_nested_guest(void *l1_code)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, l1_code);

	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, NULL, NULL);
	kvm_vm_free(vm);
	checks_exit();
}

static void check_l1_l2_cases(void)
{
	struct child_result res;

	run_in_child(run_nested_guest, l1_checks, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, "\nnot ok 1 L1 case broken\n") &&
	      strstr(res.output, "check failed: 2 + 2 == 5: seen 0x4, expected 0x5") &&
	      strstr(res.output, "\nnot ok 2 L2 case broken\n") &&
	      strstr(res.output, "\nok 3 L2 case after it\n") &&
	      strstr(res.output, "\nok 4 L1 case after L2\n"),
	      "child status 0x%x, output:\n%s", res.status, res.output);
}

static void check_l2_fault_reported(void)
{
	struct child_result res;

	run_in_child(run_nested_guest, l1_runs_faulting_l2, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, "vector 14 #PF") &&
	      strstr(res.output, "CR2 0xdead0000000; taken in L2") &&
	      strstr(res.output, "l2_virt_map()"),
	      "child status 0x%x, output:\n%s", res.status, res.output);
}

int main(void)
{
	nested_require();
	run_case(run_smoke, NULL, "%s: L2 hypercall round trip without TDP",
		 kvm_cpu_has_nested_svm() ? "svm" : "vmx");
	if (kvm_cpu_has_tdp()) {
		run_case(run_smoke, (void *)1,
			 "%s: L2 hypercall round trip under %s",
			 kvm_cpu_has_nested_svm() ? "svm" : "vmx",
			 kvm_cpu_has_nested_svm() ? "NPT" : "EPT");
	} else {
		case_begin("L2 hypercall round trip under TDP");
		case_skip("%s", kvm_tdp_missing_reason());
	}
	case_begin("guest checks in L1 and L2: each broken case reports alone, the next ones run");
	check_l1_l2_cases();
	case_begin("an unexpected #PF in L2 is reported as L2's, with the usual causes");
	check_l2_fault_reported();
	checks_exit();
}
