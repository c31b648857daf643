// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmx_basics: the VMX exits and controls the nested library builds on,
 * checked exit by exit against the SDM:
 *
 *   VMCALL        exit reason 18 at the instruction, instruction length 3
 *   HLT           exit reason 12 (HLT exiting, always on in the library),
 *                 instruction length 1
 *   #UD           exit reason 0 with a valid hardware-exception
 *                 interruption info for vector 6, once bit 6 of the
 *                 exception bitmap is set
 *   OUT 0x80      exit reason 30, port/size/direction in the
 *                 qualification, once the I/O bitmap bit is set
 *   interrupt     with interrupt-window exiting: exit reason 7 as soon as
 *   window        L2 sets RFLAGS.IF (after STI's shadow)
 *   MOV to CR0    exit reason 28 when L2 changes a CR0 bit the guest/host
 *                 mask gives to L1 (TS), qualification CR0, MOV to CR, RAX
 *
 * The preemption timer is left out on purpose: the emulated Intel lane
 * (Bochs) hung on an in-tree preemption-timer test.
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define HC_CHECK	0x63686bULL
#define HC_DONE		0x646f6e65ULL
#define IO_PORT		0x80

extern char vmxb_vmcall[], vmxb_hlt[], vmxb_ud2[], vmxb_out[], vmxb_cr0[];
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static __attribute__((noinline)) void l2_main(void)
{
	__asm__ volatile(".globl vmxb_vmcall\n"
			 "vmxb_vmcall: vmcall"
			 : : "a"(HC_CHECK), "b"(0) : "memory");
	__asm__ volatile(".globl vmxb_hlt\nvmxb_hlt: hlt" ::: "memory");
	__asm__ volatile(".globl vmxb_ud2\nvmxb_ud2: ud2" ::: "memory");
	__asm__ volatile(".globl vmxb_out\nvmxb_out: outb %%al, %%dx"
			 : : "a"(0x5a), "d"(IO_PORT) : "memory");
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	/* Set CR0.TS; the exit leaves CR0 alone since L1 skips the MOV. */
	__asm__ volatile("mov %%cr0, %%rax\n\t"
			 "or $8, %%rax\n\t"
			 ".globl vmxb_cr0\nvmxb_cr0: mov %%rax, %%cr0"
			 : : : "rax", "memory");
	l2_hypercall(HC_DONE, 0);
}

static void l1_main(struct nested_state *s)
{
	u64 proc_cap = rdmsr((rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS) ?
			     MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
			     MSR_IA32_VMX_PROCBASED_CTLS);
	bool has_irq_window = (proc_cap >> 32) & CPU_INTR_WINDOW_EXITING;
	struct l2_exit ex;
	u32 info;

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_intercept_exception(s, UD_VECTOR, true);
	l2_intercept_io(s, IO_PORT, true);
	/* L1 owns CR0.TS: L2 sees the shadow's TS (clear). */
	GUEST_ASSERT(!vmwrite(CR0_GUEST_HOST_MASK, X86_CR0_TS));
	GUEST_ASSERT(!vmwrite(CR0_READ_SHADOW, get_cr0() & ~X86_CR0_TS));

	GUEST_CASE("VMCALL exits with reason 18 at its RIP, instruction length 3");
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, EXIT_REASON_VMCALL);
	GUEST_CHECK_EQ(ex.kind, L2_EXIT_HYPERCALL);
	GUEST_CHECK_EQ(ex.nr, HC_CHECK);
	GUEST_CHECK_EQ(ex.rip, (u64)vmxb_vmcall);
	GUEST_CHECK_EQ(vmread(VM_EXIT_INSTRUCTION_LEN), 3);
	l2_skip_instruction(s);

	GUEST_CASE("HLT exiting: reason 12, instruction length 1");
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, EXIT_REASON_HLT);
	GUEST_CHECK_EQ(ex.kind, L2_EXIT_HLT);
	GUEST_CHECK_EQ(ex.rip, (u64)vmxb_hlt);
	GUEST_CHECK_EQ(vmread(VM_EXIT_INSTRUCTION_LEN), 1);
	l2_skip_instruction(s);

	GUEST_CASE("#UD in the exception bitmap: reason 0, hardware exception vector 6");
	ex = l2_run(s);
	info = vmread(VM_EXIT_INTR_INFO);
	GUEST_CHECK_EQ(ex.raw, EXIT_REASON_EXCEPTION_NMI);
	GUEST_CHECK_EQ(ex.kind, L2_EXIT_EXCEPTION);
	GUEST_CHECK_EQ(ex.vector, UD_VECTOR);
	GUEST_CHECK(info & INTR_INFO_VALID, "VM_EXIT_INTR_INFO 0x%x", info);
	GUEST_CHECK_EQ(info & INTR_INFO_TYPE_MASK, INTR_TYPE_HARD_EXCEPTION);
	GUEST_CHECK_EQ(ex.rip, (u64)vmxb_ud2);
	l2_set_rip(s, ex.rip + 2);

	GUEST_CASE("I/O bitmap: reason 30 with port, size and direction");
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, EXIT_REASON_IO_INSTRUCTION);
	GUEST_CHECK_EQ(ex.kind, L2_EXIT_IO);
	GUEST_CHECK_EQ(ex.port, IO_PORT);
	GUEST_CHECK_EQ(ex.io_size, 1);
	GUEST_CHECK(!ex.io_in, "an OUT decoded as IN");
	GUEST_CHECK_EQ(ex.rip, (u64)vmxb_out);
	l2_skip_instruction(s);

	GUEST_CASE("interrupt-window exiting: reason 7 once L2 sets IF");
	if (has_irq_window) {
		GUEST_ASSERT(!vmwrite(CPU_BASED_VM_EXEC_CONTROL,
				      vmread(CPU_BASED_VM_EXEC_CONTROL) |
				      CPU_INTR_WINDOW_EXITING));
		ex = l2_run(s);
		GUEST_CHECK_EQ(ex.raw, EXIT_REASON_INTERRUPT_WINDOW);
		GUEST_CHECK(vmread(GUEST_RFLAGS) & X86_EFLAGS_IF, "L2's RFLAGS 0x%llx",
			    vmread(GUEST_RFLAGS));
		GUEST_ASSERT(!vmwrite(CPU_BASED_VM_EXEC_CONTROL,
				      vmread(CPU_BASED_VM_EXEC_CONTROL) &
				      ~CPU_INTR_WINDOW_EXITING));
	} else {
		GUEST_CASE_SKIP("interrupt-window exiting not allowed by the capability MSR");
	}

	GUEST_CASE("MOV to CR0 of an L1-owned bit: reason 28, qualification CR0/MOV/RAX");
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, EXIT_REASON_CR_ACCESS);
	GUEST_CHECK_EQ(ex.rip, (u64)vmxb_cr0);
	/* CR 0 (bits 3:0), MOV to CR (bits 5:4 = 0), from RAX (bits 11:8). */
	GUEST_CHECK_EQ(ex.info1 & 0xfff, 0);
	l2_skip_instruction(s);

	l2_run_to_hypercall(s, HC_DONE);
	GUEST_DONE();
}

int main(void)
{
	nested_require();
	if (!kvm_cpu_has_nested_vmx())
		test_skip("vmx_basics needs nested VMX; this host offers SVM (see svm_basics)");
	nested_run_l1(l1_main, NULL, NULL, NULL);
	checks_exit();
}
