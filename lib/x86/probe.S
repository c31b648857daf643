/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Probes: perform one access and report the exception it raised.
 *
 * Each probe puts PROBE_MAGIC in r10, the address to resume at in r9 and
 * the stack pointer to resume with in r11, then makes the access. If it
 * faults, route_exception() sees the magic and resumes at r9 with the
 * vector in rax and the error code in rdx. User probes drop to CPL3 with
 * IRETQ and come back with INT $0x81 (a DPL3 gate), which the same path
 * turns into "no fault".
 *
 * u8 probe_xxx(u64 addr, u64 *error_code)
 */
#define PROBE_MAGIC	0x65626f7270	/* "probe" */
#define PROBE_NO_FAULT	0xff
#define USER_DS		(0x18 | 3)
#define USER_CS		(0x20 | 3)

.macro PROBE_ENTER
	movabsq $PROBE_MAGIC, %r10
	leaq 1f(%rip), %r9
	movq %rsp, %r11
	movl $PROBE_NO_FAULT, %eax
	xorl %edx, %edx
.endm

.macro PROBE_EXIT
1:	xorl %r10d, %r10d
	movq %rdx, (%rsi)
	ret
.endm

/* Enter CPL3 at label 2 on the current stack. */
.macro PROBE_TO_USER
	pushq $USER_DS
	pushq %r11
	pushfq
	pushq $USER_CS
	leaq 2f(%rip), %rcx
	pushq %rcx
	iretq
2:
.endm

	.text
	.globl probe_read
probe_read:
	PROBE_ENTER
	movq (%rdi), %rcx
	PROBE_EXIT

	.globl probe_write
probe_write:
	PROBE_ENTER
	/* A locked RMW of zero: a write access that leaves the data alone. */
	lock orb $0, (%rdi)
	PROBE_EXIT

	.globl probe_exec
probe_exec:
	PROBE_ENTER
	call *%rdi
	PROBE_EXIT

	.globl probe_read_user
probe_read_user:
	PROBE_ENTER
	PROBE_TO_USER
	movq (%rdi), %rcx
	int $0x81
	PROBE_EXIT

	.globl probe_write_user
probe_write_user:
	PROBE_ENTER
	PROBE_TO_USER
	lock orb $0, (%rdi)
	int $0x81
	PROBE_EXIT

	.section .note.GNU-stack, "", @progbits
