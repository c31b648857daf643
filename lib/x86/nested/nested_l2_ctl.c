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

u64 l2_get_rflags(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		return s->svm.vmcb->save.rflags;
	return vmread(GUEST_RFLAGS);
}

void l2_set_rflags(struct nested_state *s, u64 rflags)
{
	l2_set_state(s, rflags, GUEST_RFLAGS, rflags);
}

void l2_set_idt_limit(struct nested_state *s, u16 limit)
{
	if (s->vendor == NESTED_SVM)
		s->svm.vmcb->save.idtr.limit = limit;
	else
		GUEST_ASSERT(!vmwrite(GUEST_IDTR_LIMIT, limit));
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

void l2_inject_event(struct nested_state *s, enum l2_event_type type,
		     u8 vector, bool has_error_code, u32 error_code)
{
	if (s->vendor == NESTED_SVM) {
		s->svm.vmcb->control.event_inj =
			SVM_EVTINJ_VALID | vector |
			((u64)type << SVM_EVTINJ_TYPE_SHIFT) |
			(has_error_code ? SVM_EVTINJ_VALID_ERR |
			 ((u64)error_code << SVM_EVTINJ_ERR_SHIFT) : 0);
		return;
	}
	GUEST_ASSERT(!vmwrite(VM_ENTRY_INTR_INFO_FIELD,
			      INTR_INFO_VALID | vector |
			      ((u32)type << INTR_INFO_TYPE_SHIFT) |
			      (has_error_code ? INTR_INFO_ERROR_CODE : 0)));
	GUEST_ASSERT(!vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code));
}

bool l2_event_inject_valid(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		return s->svm.vmcb->control.event_inj & SVM_EVTINJ_VALID;
	return vmread(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID;
}

bool l2_interrupt_shadow(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		return s->svm.vmcb->control.int_state & SVM_INTERRUPT_SHADOW;
	return vmread(GUEST_INTERRUPTIBILITY_INFO) &
	       (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
}

u64 l2_get_cr2(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		return s->svm.vmcb->save.cr2;
	return get_cr2();
}

/* VMX: L1 must take no #PF between this and the entry. */
void l2_set_cr2(struct nested_state *s, u64 cr2)
{
	if (s->vendor == NESTED_SVM)
		s->svm.vmcb->save.cr2 = cr2;
	else
		__asm__ volatile("mov %0, %%cr2" : : "r"(cr2) : "memory");
}

/* Set or clear @bit in a (packed) VMCB field. */
#define vmcb_set_bit(field, bit, on)					\
	((field) = (on) ? (field) | (bit) : (field) & ~(bit))

bool l2_intercept_hypercall(struct nested_state *s, bool on)
{
	if (s->vendor != NESTED_SVM)
		return on;
	vmcb_set_bit(s->svm.vmcb->control.intercept_misc2,
		     SVM_INTERCEPT2_VMMCALL, on);
	return true;
}

bool l2_intercept_shutdown(struct nested_state *s, bool on)
{
	if (s->vendor != NESTED_SVM)
		return on;
	vmcb_set_bit(s->svm.vmcb->control.intercept_misc1,
		     SVM_INTERCEPT_SHUTDOWN, on);
	return true;
}

static void vmx_set_proc_control(u32 bit, bool on)
{
	u32 proc = vmread(CPU_BASED_VM_EXEC_CONTROL);

	GUEST_ASSERT_MSG(!on || (vmx_read_cap(MSR_IA32_VMX_PROCBASED_CTLS) >> 32) & bit,
			 "processor-based control 0x%x not allowed", bit);
	GUEST_ASSERT(!vmwrite(CPU_BASED_VM_EXEC_CONTROL,
			      on ? proc | bit : proc & ~bit));
}

void l2_set_tsc_offset(struct nested_state *s, u64 offset)
{
	if (s->vendor == NESTED_SVM) {
		s->svm.vmcb->control.tsc_offset = offset;
		return;
	}
	vmx_set_proc_control(CPU_USE_TSC_OFFSETTING, true);
	GUEST_ASSERT(!vmwrite(TSC_OFFSET, offset));
}

void l2_intercept_rdtsc(struct nested_state *s, bool on)
{
	if (s->vendor == NESTED_SVM)
		vmcb_set_bit(s->svm.vmcb->control.intercept_misc1,
			     SVM_INTERCEPT_RDTSC, on);
	else
		vmx_set_proc_control(CPU_RDTSC_EXITING, on);
}

void l2_intercept_interrupts(struct nested_state *s, bool on)
{
	u32 pin;

	if (s->vendor == NESTED_SVM) {
		vmcb_set_bit(s->svm.vmcb->control.intercept_misc1,
			     SVM_INTERCEPT_INTR, on);
		vmcb_set_bit(s->svm.vmcb->control.int_ctl,
			     SVM_V_INTR_MASKING, on);
		return;
	}
	pin = vmread(PIN_BASED_VM_EXEC_CONTROL);
	GUEST_ASSERT(!vmwrite(PIN_BASED_VM_EXEC_CONTROL,
			      on ? pin | PIN_EXT_INTR_EXITING :
				   pin & ~PIN_EXT_INTR_EXITING));
}
