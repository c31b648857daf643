// SPDX-License-Identifier: GPL-2.0-only
/*
 * SVM, L1 side: turn on EFER.SVME, point MSR_VM_HSAVE_PA at the host save
 * area, and fill a VMCB for an L2 that runs in long mode on L1's own
 * paging, descriptor tables and control registers. The VMRUN itself is in
 * svm_entry.S; the vendor-neutral loop around it in nested_run.c.
 */
#include "nested/nested.h"
#include "desc.h"

void svm_enable(struct svm_state *svm)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, svm->hsave_gpa);
}

void svm_set_flat_seg(struct vmcb_seg *seg, u16 selector, u16 attrib)
{
	seg->selector = selector;
	seg->attrib = attrib;
	seg->limit = 0xffffffff;
	seg->base = 0;
}

struct desc_ptr64 {
	u16 limit;
	u64 base;
} __attribute__((packed));

void svm_vmcb_init(struct svm_state *svm, u64 l2_rip, u64 l2_rsp)
{
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control *ctl = &vmcb->control;
	struct vmcb_save *save = &vmcb->save;
	struct desc_ptr64 gdt, idt;

	memset(vmcb, 0, sizeof(*vmcb));

	/*
	 * VMRUN must be intercepted or VMRUN fails its consistency checks;
	 * VMMCALL is how L2 calls us (it raises #UD in L2 otherwise), and HLT
	 * would otherwise halt with nothing to wake L2 up. I/O and MSRs go
	 * through permission maps that start all-clear, so the ucall port
	 * reaches L0 and the host test directly.
	 */
	ctl->intercept_misc1 = SVM_INTERCEPT_HLT | SVM_INTERCEPT_IOIO_PROT |
			       SVM_INTERCEPT_MSR_PROT | SVM_INTERCEPT_SHUTDOWN;
	ctl->intercept_misc2 = SVM_INTERCEPT2_VMRUN | SVM_INTERCEPT2_VMMCALL;
	ctl->iopm_base_pa = svm->iopm_gpa;
	ctl->msrpm_base_pa = svm->msrpm_gpa;
	ctl->asid = 1;		/* 0 is the host's and VMRUN rejects it */
	ctl->int_ctl = SVM_V_INTR_MASKING;	/* L2's IF masks only vINTR */

	__asm__ volatile("sgdt %0" : "=m"(gdt));
	__asm__ volatile("sidt %0" : "=m"(idt));
	svm_set_flat_seg(&save->cs, KERNEL_CS, SVM_ATTR_CODE64);
	svm_set_flat_seg(&save->ds, KERNEL_DS, SVM_ATTR_DATA);
	svm_set_flat_seg(&save->es, KERNEL_DS, SVM_ATTR_DATA);
	svm_set_flat_seg(&save->ss, KERNEL_DS, SVM_ATTR_DATA);
	svm_set_flat_seg(&save->fs, KERNEL_DS, SVM_ATTR_DATA);
	svm_set_flat_seg(&save->gs, KERNEL_DS, SVM_ATTR_DATA);
	save->tr.selector = TSS_SEL;
	save->tr.attrib = SVM_ATTR_TSS64_BUSY;
	save->tr.limit = 0x67;
	save->gdtr.base = gdt.base;
	save->gdtr.limit = gdt.limit;
	save->idtr.base = idt.base;
	save->idtr.limit = idt.limit;
	save->cpl = 0;
	/* The guest EFER must have SVME set too, or VMRUN fails. */
	save->efer = rdmsr(MSR_EFER);
	save->cr0 = get_cr0();
	save->cr3 = get_cr3();
	save->cr4 = get_cr4();
	save->dr6 = 0xffff0ff0;
	save->dr7 = 0x400;
	save->rflags = X86_EFLAGS_FIXED;
	save->rip = l2_rip;
	save->rsp = l2_rsp;
	save->g_pat = rdmsr(MSR_IA32_CR_PAT);
}

void svm_set_npt(struct svm_state *svm, u64 ncr3)
{
	svm->vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	svm->vmcb->control.nested_cr3 = ncr3;
}

void svm_intercept_io(struct svm_state *svm, u16 port, bool on)
{
	if (on)
		svm->iopm[port / 8] |= 1 << (port % 8);
	else
		svm->iopm[port / 8] &= ~(1 << (port % 8));
}
