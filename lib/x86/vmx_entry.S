/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * int vmx_enter(struct l2_gprs *gprs, int launched)
 *
 * A VM exit restores RSP and RIP from the VMCS host-state area and leaves
 * every other GPR as L2 had it, so: write HOST_RSP/HOST_RIP right here
 * (the stack pointer at the exit must be this frame's), load L2's GPRs,
 * VMLAUNCH or VMRESUME, and at the exit point store L2's GPRs back and
 * unwind. Returns 0 after a VM exit, 1 when VMLAUNCH/VMRESUME itself
 * failed (no exit happened; the VMCS's VM_INSTRUCTION_ERROR says why).
 */
#include "nested.h"

#define HOST_RSP_FIELD	0x6c14
#define HOST_RIP_FIELD	0x6c16

	.text
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* gprs, needed at the exit */

	movq $HOST_RSP_FIELD, %rax
	vmwrite %rsp, %rax
	jbe .Lfail_early
	leaq .Lvm_exit(%rip), %rdx
	movq $HOST_RIP_FIELD, %rax
	vmwrite %rdx, %rax
	jbe .Lfail_early

	/* Decide launch/resume now: the loads below leave RFLAGS alone. */
	testl %esi, %esi
	movq L2_GPR_RAX(%rdi), %rax
	movq L2_GPR_RCX(%rdi), %rcx
	movq L2_GPR_RDX(%rdi), %rdx
	movq L2_GPR_RBX(%rdi), %rbx
	movq L2_GPR_RBP(%rdi), %rbp
	movq L2_GPR_RSI(%rdi), %rsi
	movq L2_GPR_R8(%rdi), %r8
	movq L2_GPR_R8+8(%rdi), %r9
	movq L2_GPR_R8+16(%rdi), %r10
	movq L2_GPR_R8+24(%rdi), %r11
	movq L2_GPR_R8+32(%rdi), %r12
	movq L2_GPR_R8+40(%rdi), %r13
	movq L2_GPR_R8+48(%rdi), %r14
	movq L2_GPR_R15(%rdi), %r15
	movq L2_GPR_RDI(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp .Lfail
1:	vmresume
.Lfail:
	/* No VM exit: the GPRs hold L2's values, L1's are on the stack. */
	addq $8, %rsp
	movl $1, %eax
	jmp .Lout

.Lfail_early:
	addq $8, %rsp
	movl $1, %eax
	jmp .Lout

.Lvm_exit:
	pushq %rdi
	movq 8(%rsp), %rdi		/* gprs */
	movq %rax, L2_GPR_RAX(%rdi)
	movq %rcx, L2_GPR_RCX(%rdi)
	movq %rdx, L2_GPR_RDX(%rdi)
	movq %rbx, L2_GPR_RBX(%rdi)
	movq %rbp, L2_GPR_RBP(%rdi)
	movq %rsi, L2_GPR_RSI(%rdi)
	movq %r8, L2_GPR_R8(%rdi)
	movq %r9, L2_GPR_R8+8(%rdi)
	movq %r10, L2_GPR_R8+16(%rdi)
	movq %r11, L2_GPR_R8+24(%rdi)
	movq %r12, L2_GPR_R8+32(%rdi)
	movq %r13, L2_GPR_R8+40(%rdi)
	movq %r14, L2_GPR_R8+48(%rdi)
	movq %r15, L2_GPR_R15(%rdi)
	popq %rax
	movq %rax, L2_GPR_RDI(%rdi)
	addq $8, %rsp
	xorl %eax, %eax
.Lout:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size vmx_enter, . - vmx_enter

	.section .note.GNU-stack, "", @progbits
