/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Assembler macros for svm_entry.S and vmx_entry.S: moving L2's GPRs
 * between the CPU and a struct l2_gprs around VMRUN and VMLAUNCH/VMRESUME.
 *
 * Neither world switch saves or loads the GPRs other than RAX (SVM) and
 * RSP, so both entry paths do the same thing on either side of it: keep
 * L1's callee-saved registers on L1's stack, load L2's from memory, and at
 * the exit store L2's back. The only differences are which register holds
 * the struct l2_gprs pointer and whether RAX is among the GPRs (on SVM it
 * lives in the VMCB instead), so they are arguments here.
 */
#ifndef KVMTEST_X86_NESTED_GPRS_H
#define KVMTEST_X86_NESTED_GPRS_H

#ifndef __ASSEMBLER__
#error "nested_gprs.h is for the nested entry assembly only"
#endif

#include "nested/nested.h"

/* L1's callee-saved registers, kept on L1's stack across the switch. */
.macro L1_CALLEE_SAVED_PUSH
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro L1_CALLEE_SAVED_POP
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
.endm

/* Call \op reg, offset, \base for each GPR in struct l2_gprs (RAX if \rax). */
.macro L2_GPRS_FOR_EACH op:req, base:req, rax:req
	.if \rax
	\op %rax, L2_GPR_RAX, \base
	.endif
	\op %rcx, L2_GPR_RCX, \base
	\op %rdx, L2_GPR_RDX, \base
	\op %rbx, L2_GPR_RBX, \base
	\op %rbp, L2_GPR_RBP, \base
	\op %rsi, L2_GPR_RSI, \base
	\op %rdi, L2_GPR_RDI, \base
	\op %r8, L2_GPR_R8, \base
	\op %r9, L2_GPR_R8+8, \base
	\op %r10, L2_GPR_R8+16, \base
	\op %r11, L2_GPR_R8+24, \base
	\op %r12, L2_GPR_R8+32, \base
	\op %r13, L2_GPR_R8+40, \base
	\op %r14, L2_GPR_R8+48, \base
	\op %r15, L2_GPR_R15, \base
.endm

.macro __L2_GPR_LOAD reg, off, base
	.ifnc \reg,\base
	movq \off(\base), \reg
	.endif
.endm

.macro __L2_GPR_LOAD_BASE reg, off, base
	.ifc \reg,\base
	movq \off(\base), \reg
	.endif
.endm

.macro __L2_GPR_STORE reg, off, base
	.ifnc \reg,\base
	movq \reg, \off(\base)
	.endif
.endm

/* Store RAX (holding L2's \base) into \base's own slot. */
.macro __L2_GPR_STORE_BASE reg, off, base
	.ifc \reg,\base
	movq %rax, \off(\base)
	.endif
.endm

/*
 * Load L2's GPRs from the struct l2_gprs that \base points to; \base
 * itself last. RAX too if \rax. Leaves RFLAGS alone.
 */
.macro L2_GPRS_LOAD base:req, rax:req
	L2_GPRS_FOR_EACH __L2_GPR_LOAD, \base, \rax
	L2_GPRS_FOR_EACH __L2_GPR_LOAD_BASE, \base, 0
.endm

/*
 * Store L2's GPRs (RAX too if \rax) into the struct l2_gprs whose address
 * is at \gprs_at(%rsp), using \base to hold it. Clobbers RAX, so L2's RAX
 * must be stored by this (\rax) or be somewhere else already.
 */
.macro L2_GPRS_STORE base:req, gprs_at:req, rax:req
	pushq \base
	movq \gprs_at+8(%rsp), \base
	L2_GPRS_FOR_EACH __L2_GPR_STORE, \base, \rax
	popq %rax
	L2_GPRS_FOR_EACH __L2_GPR_STORE_BASE, \base, 0
.endm

#endif /* KVMTEST_X86_NESTED_GPRS_H */
