/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Probes: perform one access and report the exception it raised.
 *
 * Each probe puts PROBE_MAGIC in r10, the address to resume at in r9 and
 * the stack pointer to resume with in r11, then makes the access. If it
 * faults, route_exception() sees the magic and resumes at r9 with the
 * vector in rax and the error code in rdx.
 *
 * User probes drop to CPL3 with IRETQ and come back by executing UD2 at
 * the address in r8, which route_exception() turns into "no fault". UD2
 * rather than INT n through a DPL3 gate: some hypervisors (kvm_pvm) raise
 * #UD for INT n at CPL3, and every CPU delivers UD2's #UD the same way.
 *
 * Writes are plain stores of the caller's value: a locked read-modify-write
 * would be simpler to call, but single-threaded TCG performs it as a load
 * then a store, and a fault on the load loses the W bit of the error code.
 *
 * u8 probe_read(u64 addr, u64 *error_code)
 * u8 probe_write(u64 addr, u64 value, u64 *error_code)
 * u8 probe_exec(u64 addr, u64 *error_code)
 */
#define PROBE_MAGIC	0x65626f7270	/* "probe" */
#define PROBE_NO_FAULT	0xff
#define USER_DS		(0x18 | 3)
#define USER_CS		(0x20 | 3)

.macro PROBE_ENTER
	pushq %rdx		/* probe_write's error_code pointer */
	movabsq $PROBE_MAGIC, %r10
	leaq 1f(%rip), %r9
	movq %rsp, %r11
	movl $PROBE_NO_FAULT, %eax
	xorl %edx, %edx
.endm

.macro PROBE_EXIT
1:	xorl %r10d, %r10d
	popq %rcx
	movq %rdx, (%rsi)
	ret
.endm

/* probe_write's third argument is the error code pointer. */
.macro PROBE_EXIT_WRITE
1:	xorl %r10d, %r10d
	popq %rcx
	movq %rdx, (%rcx)
	ret
.endm

/* Back from CPL3: UD2 at the address in r8 means the access did not fault. */
.macro PROBE_FROM_USER
	leaq 3f(%rip), %r8
3:	ud2
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
	movq %rsi, (%rdi)
	PROBE_EXIT_WRITE

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
	PROBE_FROM_USER
	PROBE_EXIT

	.globl probe_write_user
probe_write_user:
	PROBE_ENTER
	PROBE_TO_USER
	movq %rsi, (%rdi)
	PROBE_FROM_USER
	PROBE_EXIT_WRITE

	.section .note.GNU-stack, "", @progbits
