/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TD boot stub. Never runs on the host: tdx_vm.c copies these bytes to
 * TDX_BOOT_CODE_GPA, and the jump at the reset vector lands on the first.
 *
 * A TD vCPU starts in 32-bit protected mode with paging off, flat
 * segments, and EFER.LME already set by the TDX module; RCX holds what the
 * host passed to KVM_TDX_INIT_VCPU, which kvmtest makes the vCPU's slot in
 * the parameter block. The stub ORs in the CR4 and CR0 bits the host
 * asked for (never clearing one: the TDX module pins some, e.g. CR4.MCE),
 * turns on paging with the host's tables, far-jumps to 64-bit code and
 * there loads the VM's GDT and IDT, the vCPU's stack and arguments.
 *
 * Everything is addressed absolutely: the code is assembled here but runs
 * at TDX_BOOT_CODE_GPA, so a label's run-time address is
 * TDX_BOOT_CODE_GPA + (label - tdx_boot_code).
 */
#include "tdx/tdx.h"

#define RUNTIME(label)	(TDX_BOOT_CODE_GPA + ((label) - tdx_boot_code))

	.section .rodata.tdx_boot, "a"
	.globl tdx_boot_code
	.globl tdx_boot_code_end

	.code32
tdx_boot_code:
	movl	%ecx, %edi			/* slot, kept across the switch */
	movl	$TDX_BOOT_PARAMS_GPA, %ebp

	movl	%cr4, %eax
	orl	TDX_BP_CR4_SET(%ebp), %eax
	movl	%eax, %cr4
	movl	TDX_BP_CR3(%ebp), %eax
	movl	%eax, %cr3
	lgdtl	TDX_BP_BOOT_GDTR(%ebp)
	movl	%cr0, %eax
	orl	TDX_BP_CR0_SET(%ebp), %eax
	movl	%eax, %cr0			/* EFER.LME + PG: IA-32e mode */
	ljmpl	$TDX_BOOT_CS, $RUNTIME(tdx_boot64)

	.code64
tdx_boot64:
	movl	$TDX_BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	movl	$TDX_BOOT_PARAMS_GPA, %ebp	/* zero-extends */
	lgdtq	TDX_BP_GDTR(%rbp)
	lidtq	TDX_BP_IDTR(%rbp)

	movl	%edi, %edi
	cmpl	TDX_BP_NR_VCPUS(%rbp), %edi
	jae	tdx_boot_bad_slot
	imulq	$TDX_BV_SIZE, %rdi, %rbx
	leaq	TDX_BP_VCPUS(%rbp, %rbx), %rbx

	movq	TDX_BV_STACK(%rbx), %rsp
	pushq	TDX_BP_RETURN(%rbp)		/* entered as if called */
	movq	TDX_BV_ENTRY(%rbx), %rax
	movq	TDX_BV_ARGS + 0(%rbx), %rdi
	movq	TDX_BV_ARGS + 8(%rbx), %rsi
	movq	TDX_BV_ARGS + 16(%rbx), %rdx
	movq	TDX_BV_ARGS + 24(%rbx), %rcx
	xorl	%ebx, %ebx
	xorl	%ebp, %ebp			/* end of the frame chain */
	jmp	*%rax

tdx_boot_bad_slot:
	/* No IDT worth the name yet: a #UD here shuts the TD down. */
	ud2
	jmp	tdx_boot_bad_slot
tdx_boot_code_end:

	.section .note.GNU-stack, "", @progbits
