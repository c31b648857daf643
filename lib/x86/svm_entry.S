/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * void svm_vmrun(u64 vmcb_gpa, struct l2_gprs *gprs)
 *
 * VMRUN switches RAX, RSP, RIP, RFLAGS, segments and control registers
 * through the VMCB and the host save area, but none of the other GPRs:
 * load L2's from *gprs before VMRUN and store them back after #VMEXIT,
 * keeping L1's callee-saved registers on L1's stack across. L2's RAX lives
 * in the VMCB; the C caller moves it to and from gprs->rax.
 *
 * GIF is cleared around VMRUN so nothing is taken between the register
 * loads and the world switch; #VMEXIT leaves GIF clear, STGI sets it again.
 */
#include "nested.h"

	.text
	.globl svm_vmrun
	.type svm_vmrun, @function
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rsi			/* gprs, needed after #VMEXIT */
	pushq %rdi			/* VMCB GPA, for VMRUN's RAX */

	movq L2_GPR_RCX(%rsi), %rcx
	movq L2_GPR_RDX(%rsi), %rdx
	movq L2_GPR_RBX(%rsi), %rbx
	movq L2_GPR_RBP(%rsi), %rbp
	movq L2_GPR_RDI(%rsi), %rdi
	movq L2_GPR_R8(%rsi), %r8
	movq L2_GPR_R8+8(%rsi), %r9
	movq L2_GPR_R8+16(%rsi), %r10
	movq L2_GPR_R8+24(%rsi), %r11
	movq L2_GPR_R8+32(%rsi), %r12
	movq L2_GPR_R8+40(%rsi), %r13
	movq L2_GPR_R8+48(%rsi), %r14
	movq L2_GPR_R15(%rsi), %r15
	movq L2_GPR_RSI(%rsi), %rsi
	movq (%rsp), %rax

	clgi
	vmrun %rax

	/* RAX and RSP are L1's again; the rest are L2's. */
	pushq %rsi
	movq 16(%rsp), %rsi		/* gprs */
	movq %rcx, L2_GPR_RCX(%rsi)
	movq %rdx, L2_GPR_RDX(%rsi)
	movq %rbx, L2_GPR_RBX(%rsi)
	movq %rbp, L2_GPR_RBP(%rsi)
	movq %rdi, L2_GPR_RDI(%rsi)
	movq %r8, L2_GPR_R8(%rsi)
	movq %r9, L2_GPR_R8+8(%rsi)
	movq %r10, L2_GPR_R8+16(%rsi)
	movq %r11, L2_GPR_R8+24(%rsi)
	movq %r12, L2_GPR_R8+32(%rsi)
	movq %r13, L2_GPR_R8+40(%rsi)
	movq %r14, L2_GPR_R8+48(%rsi)
	movq %r15, L2_GPR_R15(%rsi)
	popq %rax
	movq %rax, L2_GPR_RSI(%rsi)
	stgi

	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size svm_vmrun, . - svm_vmrun

	.section .note.GNU-stack, "", @progbits
