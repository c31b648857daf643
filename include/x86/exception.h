/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest exception handling: an IDT whose default handlers report any
 * unexpected exception to the host (vector, RIP, error code, CR2), per-vector
 * handlers a test can install, and probes that perform one access and
 * return the exception it raised instead of dying.
 */
#ifndef KVMTEST_X86_EXCEPTION_H
#define KVMTEST_X86_EXCEPTION_H

#include "test_util.h"

/* The frame the entry stubs build; handlers may edit it. */
struct ex_regs {
	u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 vector;
	u64 error_code;
	u64 rip;
	u64 cs;
	u64 rflags;
	u64 rsp;
	u64 ss;
};

typedef void (*exception_handler_t)(struct ex_regs *regs);

struct kvm_vm;
/* Host side: route @vector to @handler in the guest (NULL: default). */
void vm_install_exception_handler(struct kvm_vm *vm, int vector,
				  exception_handler_t handler);

/* Guest side: the entry point every stub calls. */
void route_exception(struct ex_regs *regs);

/*
 * Guest side: what code that runs a nested guest knows about where an
 * unexpected exception was taken ("in L2: ..."), or NULL. Set by the
 * nested library so the generic report can say it was L2.
 */
extern const char *(*unexpected_exception_hint)(const struct ex_regs *regs);

/*
 * Probes, for guest code: do one access and return the vector it raised,
 * or PROBE_NO_FAULT; *error_code gets the exception's error code. Writes
 * store @value (8 bytes). The _user variants make the access from CPL3.
 */
#define PROBE_NO_FAULT		0xff
u8 probe_read(u64 addr, u64 *error_code);
u8 probe_write(u64 addr, u64 value, u64 *error_code);
u8 probe_exec(u64 addr, u64 *error_code);	/* calls a RET at addr */
u8 probe_read_user(u64 addr, u64 *error_code);
u8 probe_write_user(u64 addr, u64 value, u64 *error_code);

/*
 * Instruction probes: RDMSR, WRMSR, XSETBV (ECX = @msr or the XCR) that
 * return the vector they raised (#GP, #UD) or PROBE_NO_FAULT.
 */
u8 probe_rdmsr(u32 msr, u64 *value);
u8 probe_wrmsr(u32 msr, u64 value);
u8 probe_xsetbv(u32 xcr, u64 value);

/*
 * Forced emulation: an instruction behind KVM_FEP is run by KVM's
 * emulator instead of the CPU, when the host's kvm module has
 * force_emulation_prefix set (kvm_fep_enabled(); without it, the prefix
 * raises #UD). The _fep probes do that for the probes above, so a test
 * can compare what the emulator and the CPU do with the same access.
 */
#define KVM_FEP			"ud2; .byte 'k', 'v', 'm';"
#define KVM_FEP_LEN		5
bool kvm_fep_enabled(void);	/* host side: /sys/module/kvm/parameters */
u8 probe_rdmsr_fep(u32 msr, u64 *value);
u8 probe_wrmsr_fep(u32 msr, u64 value);
u8 probe_xsetbv_fep(u32 xcr, u64 value);
u8 probe_read_fep(u64 addr, u64 *error_code);
u8 probe_write_fep(u64 addr, u64 value, u64 *error_code);

#endif /* KVMTEST_X86_EXCEPTION_H */
