/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest exception entry. 256 stubs, 16 bytes apart so the IDT builder can
 * compute their addresses; each pushes a dummy error code where the CPU
 * pushes none, then the vector, and joins the common path that saves the
 * GPRs as a struct ex_regs and calls route_exception().
 */
	.text
	.align 16
	.globl exception_stubs
exception_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp exception_common
	.set vec, vec + 1
	.endr

exception_common:
	/* Pushed in reverse so rax ends up at the lowest address. */
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdi
	pushq %rsi
	pushq %rbp
	pushq %rbx
	pushq %rdx
	pushq %rcx
	pushq %rax
	/* 22 quadwords on a stack the CPU aligned to 16: still aligned. */
	movq %rsp, %rdi
	call route_exception
	popq %rax
	popq %rcx
	popq %rdx
	popq %rbx
	popq %rbp
	popq %rsi
	popq %rdi
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	addq $16, %rsp		/* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
