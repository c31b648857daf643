// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_state_sync: state that KVM keeps in more than one place while it
 * runs L2 (vmcb01, vmcb02, vcpu->arch, its cache of vmcb12) must reach L1
 * and L2 from the place that holds the live value. Each case is one such
 * piece of state, with the architectural rule it follows (AMD APM Vol. 2,
 * chapter 15):
 *
 *   GIF: VMRUN with GIF set whose VMCB fails the consistency checks
 *   #VMEXITs with VMEXIT_INVALID, and every #VMEXIT clears GIF. So an
 *   interrupt pending before that VMRUN waits for STGI, whatever L1's IF.
 *
 *   EFER.LMA: VMRUN ignores LMA when LME is clear (LMA is LME && PG). L2
 *   runs in 32-bit protected mode and the EFER L1 reads back at #VMEXIT
 *   has LMA clear.
 *
 *   CR2: the host changes L2's CR2 with KVM_SET_SREGS while L2 is active,
 *   then queues an NMI that L1 intercepts, so the #VMEXIT happens before L2
 *   runs again. vmcb12's CR2 must be the value the host set, not the one
 *   the hardware last saved (the restore-then-exit path of a migration).
 *
 *   VMLOAD/VMSAVE in L2 that L1 does not intercept: they move L2's live
 *   hidden state (STAR, LSTAR, CSTAR, SFMASK, KernelGsBase, SYSENTER_ESP),
 *   which L2 inherits from L1 because VMRUN does not switch it. VMSAVE must
 *   store the values L1 left there; after VMLOAD, RDMSR in L2 must return
 *   the loaded ones.
 */
#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"
#include "apic.h"
#include "desc.h"
#include "exception.h"

#define HC_DONE		0x646f6e65ULL
#define SYNC_CR2	0x637232ULL	/* "cr2": L2 wrote its CR2 */
#define CR2_BY_L2	0x7fee1000ULL
#define CR2_BY_HOST	0x5eed2000ULL
#define GIF_VECTOR	0x42

/* The MSRs VMLOAD/VMSAVE move that L1's code never relies on. */
static const struct {
	u32 msr;
	u32 vmcb_offset;
	const char *name;
} hidden[] = {
	{ MSR_STAR, VMCB_OFF(save.star), "STAR" },
	{ MSR_LSTAR, VMCB_OFF(save.lstar), "LSTAR" },
	{ MSR_CSTAR, VMCB_OFF(save.cstar), "CSTAR" },
	{ MSR_SYSCALL_MASK, VMCB_OFF(save.sfmask), "SFMASK" },
	{ MSR_KERNEL_GS_BASE, VMCB_OFF(save.kernel_gs_base), "KernelGsBase" },
	{ MSR_IA32_SYSENTER_ESP, VMCB_OFF(save.sysenter_esp), "SYSENTER_ESP" },
};
#define NR_HIDDEN	ARRAY_SIZE(hidden)

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
/* Set by the host: GPAs below 4 GiB, for L2 code that runs unpaged. */
static u64 stub32_gpa;
static u64 vmcb_a_gpa, vmcb_b_gpa;
static struct vmcb *vmcb_a, *vmcb_b;
/* What L2 read with RDMSR after its VMLOAD. */
static u64 l2_read[NR_HIDDEN];
static volatile u64 nmi_count;

/*
 * An NMI that L1 intercepts stays pending across the #VMEXIT and is taken
 * by L1 once GIF is set again (after l2_run()'s STGI).
 */
static void nmi_handler(struct ex_regs *regs)
{
	nmi_count++;
}

/* The VMCB save-area field that holds hidden[i]'s MSR (8-byte aligned). */
static u64 *vmcb_hidden(struct vmcb *vmcb, unsigned int i)
{
	return (u64 *)((u8 *)vmcb + hidden[i].vmcb_offset);
}

/* A value per MSR and round that no other MSR or round has (32 bits). */
static u64 hidden_value(unsigned int i, u64 round)
{
	return 0x40000000ULL | (round << 16) | (i << 8) | 0x55;
}

/* ---- GIF ---- */

static void gif_after_invalid_vmrun(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;
	u64 efer = vmcb->save.efer;

	GUEST_CASE("VMRUN with GIF set refused (VMEXIT_INVALID): GIF clear after, a pending interrupt waits for STGI");
	irq_count[GIF_VECTOR] = 0;
	__asm__ volatile("cli; stgi" ::: "memory");
	apic_send_ipi(apic_id(), APIC_DEST_SELF | GIF_VECTOR);
	vmcb->save.efer &= ~EFER_SVME;
	/* Nothing of L2 runs: only RAX, RSP and RIP would be switched. */
	__asm__ volatile("vmrun %%rax"
			 : : "a"(s->svm.vmcb_gpa)
			 : "memory", "cc", "rbx", "rcx", "rdx", "rsi", "rdi",
			   "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
	vmcb->save.efer = efer;
	GUEST_CHECK_EQ(vmcb->control.exit_code, SVM_EXIT_ERR);
	/* IF set, GIF clear: the interrupt must stay pending. */
	__asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[GIF_VECTOR]), 0);
	__asm__ volatile("stgi; sti; nop; nop; nop; cli" ::: "memory");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[GIF_VECTOR]), 1);
}

/* ---- EFER.LMA without LME ---- */

static void lma_without_lme(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;
	struct vmcb saved = *vmcb;
	struct l2_exit ex;

	GUEST_CASE("VMRUN with EFER.LMA set and EFER.LME clear: LMA ignored, L2 runs in protected mode, #VMEXIT EFER has LMA clear");
	vmcb->save.efer = EFER_SVME | EFER_LMA;
	vmcb->save.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	vmcb->save.cr4 = 0;
	vmcb->save.cr3 = 0;
	svm_set_flat_seg(&vmcb->save.cs, KERNEL_CS, SVM_ATTR_CODE32);
	svm_set_flat_seg(&vmcb->save.ds, KERNEL_DS, SVM_ATTR_DATA);
	svm_set_flat_seg(&vmcb->save.es, KERNEL_DS, SVM_ATTR_DATA);
	svm_set_flat_seg(&vmcb->save.ss, KERNEL_DS, SVM_ATTR_DATA);
	vmcb->save.rip = stub32_gpa;
	vmcb->save.rsp = stub32_gpa + PAGE_SIZE;
	ex = l2_run(s);
	GUEST_CHECK(ex.raw == SVM_EXIT_VMMCALL && ex.rip == stub32_gpa,
		    "L2's VMMCALL at 0x%llx, got exit 0x%llx at 0x%llx",
		    stub32_gpa, ex.raw, ex.rip);
	GUEST_CHECK_EQ(vmcb->save.efer & (EFER_LMA | EFER_LME), 0);
	*vmcb = saved;
}

/* ---- CR2 ---- */

static void l2_cr2_main(void)
{
	__asm__ volatile("mov %0, %%cr2" : : "r"(CR2_BY_L2) : "memory");
	GUEST_SYNC(SYNC_CR2);
	l2_hypercall(HC_DONE, 0);
}

static void cr2_set_by_host(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;
	struct l2_exit ex;

	GUEST_CASE("CR2 the host set with KVM_SET_SREGS in L2 is vmcb12's CR2 at the #VMEXIT before L2 runs again");
	l2_setup_no_tdp(s, l2_cr2_main, l2_stack + sizeof(l2_stack));
	vmcb->control.intercept_misc1 |= SVM_INTERCEPT_NMI;
	ex = l2_run(s);
	GUEST_CHECK(ex.raw == SVM_EXIT_NMI, "NMI exit, got 0x%llx at 0x%llx",
		    ex.raw, ex.rip);
	GUEST_CHECK_EQ(vmcb->save.cr2, CR2_BY_HOST);
	GUEST_CHECK_EQ(nmi_count, 1);
	vmcb->control.intercept_misc1 &= ~SVM_INTERCEPT_NMI;
}

/* Host side of the CR2 case, at L2's sync. */
static void host_sets_cr2(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events events;
	struct kvm_sregs sregs;

	vcpu_complete_io(vcpu);
	vcpu_sregs_get(vcpu, &sregs);
	CHECK_EQ(sregs.cr2, CR2_BY_L2);
	sregs.cr2 = CR2_BY_HOST;
	vcpu_sregs_set(vcpu, &sregs);
	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &events);
	events.nmi.pending = 1;
	events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	vcpu_ioctl(vcpu, KVM_SET_VCPU_EVENTS, &events);
}

/* ---- VMLOAD/VMSAVE executed by L2 ---- */

static void l2_vmsave_vmload_main(void)
{
	__asm__ volatile("vmsave %%rax" : : "a"(vmcb_b_gpa) : "memory");
	__asm__ volatile("vmload %%rax" : : "a"(vmcb_a_gpa) : "memory");
	for (unsigned int i = 0; i < NR_HIDDEN; i++)
		l2_read[i] = rdmsr(hidden[i].msr);
	l2_hypercall(HC_DONE, 0);
}

static void vmsave_vmload_in_l2(struct nested_state *s)
{
	u64 l1_values[NR_HIDDEN];
	unsigned int i;

	GUEST_CASE("VMSAVE in L2, not intercepted by L1: stores L2's live STAR/LSTAR/CSTAR/SFMASK/KernelGsBase/SYSENTER_ESP");
	l2_setup_no_tdp(s, l2_vmsave_vmload_main,
			l2_stack + sizeof(l2_stack));
	GUEST_ASSERT(!(s->svm.vmcb->control.intercept_misc2 &
		       (SVM_INTERCEPT2_VMLOAD | SVM_INTERCEPT2_VMSAVE)));
	/* L2 inherits these from L1: VMRUN does not switch them. */
	__asm__ volatile("vmsave %%rax" : : "a"(vmcb_a_gpa) : "memory");
	for (i = 0; i < NR_HIDDEN; i++) {
		l1_values[i] = rdmsr(hidden[i].msr);
		wrmsr(hidden[i].msr, hidden_value(i, 1));
		*vmcb_hidden(vmcb_a, i) = hidden_value(i, 2);
	}
	memset(vmcb_b, 0, sizeof(*vmcb_b));
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_DONE), 0);
	for (i = 0; i < NR_HIDDEN; i++)
		GUEST_CHECK(*vmcb_hidden(vmcb_b, i) == hidden_value(i, 1),
			    "VMSAVE stored %s 0x%llx, L2's was 0x%llx", hidden[i].name,
			    *vmcb_hidden(vmcb_b, i), hidden_value(i, 1));

	GUEST_CASE("VMLOAD in L2, not intercepted by L1: L2's RDMSR returns the loaded STAR/LSTAR/CSTAR/SFMASK/KernelGsBase/SYSENTER_ESP");
	for (i = 0; i < NR_HIDDEN; i++)
		GUEST_CHECK(l2_read[i] == hidden_value(i, 2),
			    "after VMLOAD L2 read %s 0x%llx, loaded 0x%llx",
			    hidden[i].name, l2_read[i], hidden_value(i, 2));
	for (i = 0; i < NR_HIDDEN; i++)
		wrmsr(hidden[i].msr, l1_values[i]);
}

static void l2_refused_main(void)
{
	GUEST_FAIL("L2 ran from a VMCB that VMRUN must refuse");
}

static void l1_main(struct nested_state *s)
{
	x2apic_enable();
	l2_setup_no_tdp(s, l2_refused_main, l2_stack + sizeof(l2_stack));
	gif_after_invalid_vmrun(s);
	lma_without_lme(s);
	cr2_set_by_host(s);
	vmsave_vmload_in_l2(s);
	GUEST_DONE();
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	if (uc->args[0] == SYNC_CR2)
		host_sets_cr2(vcpu);
}

/* A page below 4 GiB for L1 and L2 alike; returns its GPA. */
static u64 low_page(struct kvm_vm *vm, struct vmcb **gva)
{
	u64 va = vm_vaddr_alloc(vm, PAGE_SIZE);
	u64 gpa = addr_gva2gpa(vm, va);

	TEST_ASSERT(gpa + PAGE_SIZE <= BIT_ULL(32),
		    "page at GPA 0x%llx: L2 runs it unpaged, below 4 GiB", gpa);
	if (gva)
		*gva = (struct vmcb *)va;
	return gpa;
}

/* Handlers, and the low pages for the stub and the two save areas. */
static void prepare(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	static const u8 stub32[] = { 0x0f, 0x01, 0xd9, 0xeb, 0xfe }; /* vmmcall; jmp . */
	struct vmcb *a, *b;

	vm_install_irq_counter(vm, GIF_VECTOR);
	vm_install_exception_handler(vm, NMI_VECTOR, nmi_handler);
	stub32_gpa = low_page(vm, NULL);
	memcpy(addr_gpa2hva(vm, stub32_gpa), stub32, sizeof(stub32));
	vmcb_a_gpa = low_page(vm, &a);
	vmcb_b_gpa = low_page(vm, &b);
	write_guest_global(vm, stub32_gpa, stub32_gpa);
	write_guest_global(vm, vmcb_a_gpa, vmcb_a_gpa);
	write_guest_global(vm, vmcb_b_gpa, vmcb_b_gpa);
	write_guest_global(vm, vmcb_a, a);
	write_guest_global(vm, vmcb_b, b);
}

int main(void)
{
	nested_require();
	if (!kvm_cpu_has_nested_svm())
		test_skip("svm_state_sync checks SVM state; this host offers VMX");
	if (!kvm_cpu_has(X86_FEATURE_X2APIC))
		test_skip("no x2APIC offered (the GIF case sends itself an IPI)");
	nested_run_l1(l1_main, prepare, on_sync, NULL);
	checks_exit();
}
