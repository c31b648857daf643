// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization, L1 side: edit a stopped L2.
 *
 * Between l2_run() calls L1 moves L2's RIP (past the exiting instruction,
 * too), gives it its own CR3, flushes stage-2 translations and chooses
 * which I/O ports and exceptions exit: in the VMCB on SVM, in the current
 * VMCS on VMX.
 */
#include "nested/nested.h"

/*
 * Set an L2 register that lives in the VMCB save area on SVM and in the
 * current VMCS's guest-state area on VMX.
 */
#define l2_set_state(s, vmcb_field, vmcs_field, val)			\
do {									\
	if ((s)->vendor == NESTED_SVM)					\
		(s)->svm.vmcb->save.vmcb_field = (val);			\
	else								\
		GUEST_ASSERT(!vmwrite(vmcs_field, (val)));		\
} while (0)

u64 l2_get_rip(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		return s->svm.vmcb->save.rip;
	return vmread(GUEST_RIP);
}

void l2_set_rip(struct nested_state *s, u64 rip)
{
	l2_set_state(s, rip, GUEST_RIP, rip);
}

void l2_skip_instruction(struct nested_state *s)
{
	int len;

	if (s->vendor == NESTED_SVM) {
		struct vmcb_control *ctl = &s->svm.vmcb->control;

		/* IOIO exits give the next RIP even without NRIPS. */
		if (ctl->exit_code == SVM_EXIT_IOIO) {
			s->svm.vmcb->save.rip = ctl->exit_info_2;
			return;
		}
		if (s->svm.has_nrips && ctl->next_rip) {
			s->svm.vmcb->save.rip = ctl->next_rip;
			return;
		}
		/*
		 * No NRIPS (QEMU's TCG, for one): the instructions L2 exits
		 * on through this library have fixed encodings.
		 */
		len = svm_exit_insn_len(ctl->exit_code);
		GUEST_ASSERT_MSG(len,
				 "l2_skip_instruction: no next RIP for exit 0x%llx (NRIPS %s) and no fixed length",
				 ctl->exit_code,
				 s->svm.has_nrips ? "on" : "off");
		s->svm.vmcb->save.rip += len;
		return;
	}
	l2_set_rip(s, vmread(GUEST_RIP) + vmread(VM_EXIT_INSTRUCTION_LEN));
}

void l2_set_cr3(struct nested_state *s, u64 cr3)
{
	l2_set_state(s, cr3, GUEST_CR3, cr3);
}

void l2_tdp_flush(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		s->flush_pending = true;
	else if (s->tdp)
		vmx_invept(&s->vmx);
}

void l2_intercept_io(struct nested_state *s, u16 port, bool on)
{
	if (s->vendor == NESTED_SVM)
		svm_intercept_io(&s->svm, port, on);
	else
		vmx_intercept_io(&s->vmx, port, on);
}

void l2_intercept_exception(struct nested_state *s, int vector, bool on)
{
	if (s->vendor == NESTED_SVM) {
		struct vmcb_control *ctl = &s->svm.vmcb->control;

		if (on)
			ctl->intercept_exceptions |= BIT(vector);
		else
			ctl->intercept_exceptions &= ~BIT(vector);
	} else {
		u64 bm = vmread(EXCEPTION_BITMAP);

		bm = on ? (bm | BIT(vector)) : (bm & ~BIT(vector));
		GUEST_ASSERT(!vmwrite(EXCEPTION_BITMAP, bm));
	}
}
