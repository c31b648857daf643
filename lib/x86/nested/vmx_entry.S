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
#include "nested_gprs.h"

#define HOST_RSP_FIELD	0x6c14
#define HOST_RIP_FIELD	0x6c16

	.text
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	L1_CALLEE_SAVED_PUSH
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
	L2_GPRS_LOAD %rdi, rax=1
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
	L2_GPRS_STORE %rdi, gprs_at=0, rax=1
	addq $8, %rsp
	xorl %eax, %eax
.Lout:
	L1_CALLEE_SAVED_POP
	ret
	.size vmx_enter, . - vmx_enter

	.section .note.GNU-stack, "", @progbits
