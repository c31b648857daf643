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
#include "nested_gprs.h"

	.text
	.globl svm_vmrun
	.type svm_vmrun, @function
svm_vmrun:
	L1_CALLEE_SAVED_PUSH
	pushq %rsi			/* gprs, needed after #VMEXIT */
	pushq %rdi			/* VMCB GPA, for VMRUN's RAX */

	L2_GPRS_LOAD %rsi, rax=0
	movq (%rsp), %rax

	clgi
	vmrun %rax

	/* RAX and RSP are L1's again; the rest are L2's. */
	L2_GPRS_STORE %rsi, gprs_at=8, rax=0
	stgi

	addq $16, %rsp
	L1_CALLEE_SAVED_POP
	ret
	.size svm_vmrun, . - svm_vmrun

	.section .note.GNU-stack, "", @progbits
