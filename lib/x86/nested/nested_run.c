// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization, L1 side: set up an L2 and run it.
 *
 * l2_setup() enables SVM or VMX and prepares the VMCB or VMCS (stage-2
 * on or off); l2_run() enters L2 through svm_entry.S or vmx_entry.S and
 * returns the exit decoded as a struct l2_exit, the same for both vendors.
 */
#include "nested/nested.h"
#include "exception.h"

/* The entry assembly addresses struct l2_gprs through these offsets. */
_Static_assert(__builtin_offsetof(struct l2_gprs, rax) == L2_GPR_RAX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rcx) == L2_GPR_RCX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rdx) == L2_GPR_RDX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rbx) == L2_GPR_RBX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rbp) == L2_GPR_RBP, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rsi) == L2_GPR_RSI, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rdi) == L2_GPR_RDI, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, r8) == L2_GPR_R8, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, r15) == L2_GPR_R15, "gprs");

/* Where L2 code that returns lands. */
static void l2_code_returned(void)
{
	l2_hypercall(L2_HC_RETURNED, 0);
	for (;;)
		hlt();
}

static void __l2_setup(struct nested_state *s, void *l2_code,
		       void *l2_stack_top, bool tdp)
{
	u64 *sp = (u64 *)ALIGN_DOWN((u64)l2_stack_top, 16);

	GUEST_ASSERT_MSG(s->vendor == nested_cpu_vendor(),
			 "nested state is for vendor %d, this CPU is %d",
			 s->vendor, nested_cpu_vendor());
	GUEST_ASSERT_MSG(!tdp || s->tdp_info.enabled,
			 "l2_setup: TDP wanted but vm_enable_tdp() was not called before vcpu_alloc_nested_state()");
	/* Enter L2 code as if called, with a return address to catch returns. */
	*--sp = (u64)l2_code_returned;

	if (s->vendor == NESTED_SVM) {
		if (!s->setup_done)
			svm_enable(&s->svm);
		svm_vmcb_init(&s->svm, (u64)l2_code, (u64)sp);
		if (tdp)
			svm_set_npt(&s->svm, s->tdp_info.root);
	} else {
		if (!s->setup_done)
			vmx_enable(&s->vmx);
		vmx_vmcs_load(&s->vmx);
		vmx_vmcs_init(&s->vmx, (u64)l2_code, (u64)sp, s->tss_base);
		if (tdp)
			vmx_set_ept(&s->vmx, s->tdp_info.eptp);
	}
	s->tdp = tdp;
	s->flush_pending = false;
	s->setup_done = true;
}

void l2_setup(struct nested_state *s, void *l2_code, void *l2_stack_top)
{
	__l2_setup(s, l2_code, l2_stack_top, s->tdp_info.enabled);
}

void l2_setup_no_tdp(struct nested_state *s, void *l2_code,
		     void *l2_stack_top)
{
	__l2_setup(s, l2_code, l2_stack_top, false);
}

static struct l2_exit svm_run(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;
	struct l2_exit ex;

	vmcb->save.rax = s->gprs.rax;
	vmcb->control.clean = 0;	/* we may have changed anything */
	/* Flushing all ASIDs needs no FlushByAsid support. */
	vmcb->control.tlb_control = s->flush_pending ?
				    SVM_TLB_CONTROL_FLUSH_ALL :
				    SVM_TLB_CONTROL_DO_NOTHING;
	s->flush_pending = false;
	svm_vmrun(s->svm.vmcb_gpa, &s->gprs);
	vmcb->control.tlb_control = SVM_TLB_CONTROL_DO_NOTHING;
	s->gprs.rax = vmcb->save.rax;

	/* VMEXIT_INVALID is -1 in the low half; some write 0 to the high. */
	GUEST_ASSERT_MSG((u32)vmcb->control.exit_code != (u32)SVM_EXIT_ERR,
			 "VMRUN failed its consistency checks (VMEXIT_INVALID): efer 0x%llx cr0 0x%llx cr3 0x%llx cr4 0x%llx dr6 0x%llx dr7 0x%llx rflags 0x%llx int_ctl 0x%x event_inj 0x%llx",
			 vmcb->save.efer, vmcb->save.cr0, vmcb->save.cr3,
			 vmcb->save.cr4, vmcb->save.dr6, vmcb->save.dr7,
			 vmcb->save.rflags, vmcb->control.int_ctl,
			 vmcb->control.event_inj);
	svm_exit_decode(vmcb->control.exit_code, vmcb->control.exit_info_1,
			vmcb->control.exit_info_2, &ex);
	ex.rip = vmcb->save.rip;
	/* NextRIP is only defined for instruction intercepts, with NRIPS. */
	if (s->svm.has_nrips && vmcb->control.next_rip > ex.rip &&
	    vmcb->control.next_rip - ex.rip <= 15)
		ex.insn_len = vmcb->control.next_rip - ex.rip;
	return ex;
}

static struct l2_exit vmx_run(struct nested_state *s)
{
	struct l2_exit ex;
	u32 reason;
	u64 gpa = 0;

	if (vmx_enter(&s->gprs, s->vmx.launched))
		GUEST_FAIL("VM%s failed: VM-instruction error %llu",
			   s->vmx.launched ? "RESUME" : "LAUNCH",
			   vmread(VM_INSTRUCTION_ERROR));
	s->vmx.launched = true;
	reason = vmread(VM_EXIT_REASON);
	GUEST_ASSERT_MSG(!(reason & VMX_EXIT_REASON_ENTRY_FAILURE),
			 "VM entry failed: exit reason 0x%x, qualification 0x%llx",
			 reason, vmread(EXIT_QUALIFICATION));
	if ((reason & 0xffff) == EXIT_REASON_EPT_VIOLATION ||
	    (reason & 0xffff) == EXIT_REASON_EPT_MISCONFIG)
		gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	vmx_exit_decode(reason, vmread(EXIT_QUALIFICATION), gpa,
			vmread(VM_EXIT_INTR_INFO), &ex);
	ex.rip = vmread(GUEST_RIP);
	if (ex.kind == L2_EXIT_EXCEPTION && ex.has_error_code)
		ex.error_code = vmread(VM_EXIT_INTR_ERROR_CODE);
	/* Instruction-length is defined for instruction exits and faults. */
	if (ex.kind != L2_EXIT_TDP_FAULT && ex.kind != L2_EXIT_SHUTDOWN)
		ex.insn_len = vmread(VM_EXIT_INSTRUCTION_LEN);
	return ex;
}

/* vCPUs inside l2_run(): an exception L1 did not intercept is L2's then. */
static int l2_running;

static const char *l2_exception_hint(const struct ex_regs *regs)
{
	if (!__atomic_load_n(&l2_running, __ATOMIC_RELAXED))
		return NULL;
	if (regs->vector == PF_VECTOR)
		return "taken in L2 (an L2 was running): is the address mapped for L2 (l2_virt_map(), tdp_map() for its L2 GPA), and was the global it reads synced (sync_global_to_guest())?";
	return "taken in L2 (an L2 was running)";
}

struct l2_exit l2_run(struct nested_state *s)
{
	struct l2_exit ex;

	GUEST_ASSERT_MSG(s->setup_done, "l2_run before l2_setup");
	unexpected_exception_hint = l2_exception_hint;
	__atomic_add_fetch(&l2_running, 1, __ATOMIC_RELAXED);
	ex = s->vendor == NESTED_SVM ? svm_run(s) : vmx_run(s);
	__atomic_sub_fetch(&l2_running, 1, __ATOMIC_RELAXED);
	if (ex.kind == L2_EXIT_HYPERCALL) {
		ex.nr = s->gprs.rax;
		ex.arg = s->gprs.rbx;
	}
	return ex;
}

u64 __l2_run_to_hypercall(struct nested_state *s, u64 nr, const char *file,
			  int line)
{
	struct l2_exit ex = l2_run(s);
	char seen[160];

	if (ex.kind != L2_EXIT_HYPERCALL || ex.nr != nr) {
		l2_exit_describe(&ex, seen, sizeof(seen));
		ucall_assert(file, line, "l2_run_to_hypercall",
			     "expected L2 hypercall 0x%llx, got %s", nr, seen);
	}
	l2_skip_instruction(s);
	return ex.arg;
}
