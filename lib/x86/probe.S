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


/*
 * Instruction probes: ECX selects, EDX:EAX carries the value, so the
 * result cannot be returned in EAX until the instruction is done; a fault
 * leaves the vector in EAX and resumes at 1, past the "no fault" move.
 * r8 is cleared so route_exception() cannot mistake a #UD here for the
 * user probes' way back.
 */
.macro PROBE_INSN_ENTER
	xorl %r8d, %r8d
	movabsq $PROBE_MAGIC, %r10
	leaq 1f(%rip), %r9
	movq %rsp, %r11
.endm

.macro PROBE_INSN_EXIT
	movl $PROBE_NO_FAULT, %eax
1:	xorl %r10d, %r10d
	ret
.endm

/* u8 probe_rdmsr(u32 msr, u64 *value): *value is written only on success. */
.macro PROBE_RDMSR prefix
	movl %edi, %ecx
	PROBE_INSN_ENTER
	\prefix
	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, (%rsi)
	PROBE_INSN_EXIT
.endm

/* u8 probe_wrmsr(u32 msr, u64 value), and XSETBV with the same shape. */
.macro PROBE_WRITE_PAIR insn, prefix
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	PROBE_INSN_ENTER
	\prefix
	\insn
	PROBE_INSN_EXIT
.endm

/* KVM's forced-emulation prefix (kvm.force_emulation_prefix=1). */
.macro FEP
	ud2
	.byte 'k', 'v', 'm'
.endm
.macro NOFEP
.endm

	.globl probe_rdmsr
probe_rdmsr:
	PROBE_RDMSR NOFEP

	.globl probe_wrmsr
probe_wrmsr:
	PROBE_WRITE_PAIR wrmsr, NOFEP

	.globl probe_xsetbv
probe_xsetbv:
	PROBE_WRITE_PAIR xsetbv, NOFEP

	.globl probe_rdmsr_fep
probe_rdmsr_fep:
	PROBE_RDMSR FEP

	.globl probe_wrmsr_fep
probe_wrmsr_fep:
	PROBE_WRITE_PAIR wrmsr, FEP

	.globl probe_xsetbv_fep
probe_xsetbv_fep:
	PROBE_WRITE_PAIR xsetbv, FEP

/* Memory probes through KVM's emulator: its page walker, not the CPU's. */
	.globl probe_read_fep
probe_read_fep:
	PROBE_ENTER
	FEP
	movq (%rdi), %rcx
	PROBE_EXIT

	.globl probe_write_fep
probe_write_fep:
	PROBE_ENTER
	FEP
	movq %rsi, (%rdi)
	PROBE_EXIT_WRITE

	.section .note.GNU-stack, "", @progbits
