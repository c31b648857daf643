/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Vendor-neutral nested virtualization: an L1 guest that runs an L2 under
 * EPT (Intel) or NPT (AMD), written once for both.
 *
 * Host side: vm_enable_tdp() gives the VM a stage-2 struct kvm_mmu
 * (vm->stage2_mmu, EPT or NPT format) whose tables the same walker builds
 * as the guest's own; tdp_map() and friends edit it; every vCPU's L1 hands
 * the same root to the CPU. vcpu_alloc_nested_state() allocates one vCPU's
 * VMCB/VMCS and friends in guest memory and returns the GVA to pass to the
 * L1 guest code.
 *
 * L1 side: l2_setup(), l2_run() returning a struct l2_exit ("TDP fault at
 * GPA x with access w", "hypercall nr, arg"), l2_skip_instruction(),
 * l2_tdp_flush(). L2 side: l2_hypercall().
 *
 * L2 shares L1's page tables, IDT and GDT. The ucall port is not
 * intercepted, so GUEST_ASSERT/GUEST_PRINTF work in L2 too as long as its
 * stack and the image are identity-mapped in stage-2.
 */
#ifndef KVMTEST_X86_NESTED_H
#define KVMTEST_X86_NESTED_H

/*
 * Offsets in struct l2_gprs for the entry assembly, which includes this
 * header for nothing else; nested_run.c checks them against the struct.
 */
#define L2_GPR_RAX	0
#define L2_GPR_RCX	8
#define L2_GPR_RDX	16
#define L2_GPR_RBX	24
#define L2_GPR_RBP	32
#define L2_GPR_RSI	40
#define L2_GPR_RDI	48
#define L2_GPR_R8	56
#define L2_GPR_R15	112

#ifndef __ASSEMBLER__

#include "kvm_util.h"
#include "nested/svm.h"
#include "nested/vmx.h"

enum nested_vendor {
	NESTED_NONE = 0,
	NESTED_SVM,
	NESTED_VMX,
};

/* The L2 registers VMRUN/VMLAUNCH leave to software (RSP: VMCB/VMCS). */
struct l2_gprs {
	u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/* Stage-2 facts every vCPU's L1 needs, copied from vm->stage2_mmu. */
struct nested_tdp_info {
	bool enabled;
	enum kvm_mmu_format format;
	int levels;
	bool ad;		/* EPT A/D enabled (NPT: always) */
	u64 root;		/* stage2_mmu.pgd */
	u64 eptp;		/* VMX: the EPTP built from root */
};

/* One vCPU's nested state, in guest memory. */
struct nested_state {
	enum nested_vendor vendor;
	u32 vcpu_id;
	u64 tss_base;		/* L1's TSS: VMX reloads TR from the VMCS */
	struct nested_tdp_info tdp_info;	/* the VM's stage-2 */
	bool tdp;		/* this L2 runs under stage-2 */
	bool flush_pending;	/* SVM: flush the TLB on the next VMRUN */
	bool setup_done;
	struct l2_gprs gprs;
	struct svm_state svm;
	struct vmx_state vmx;
};

/* What an L2 exit means, the same on both vendors. */
enum l2_exit_kind {
	L2_EXIT_HYPERCALL,	/* VMMCALL / VMCALL */
	L2_EXIT_TDP_FAULT,	/* NPF / EPT violation */
	L2_EXIT_HLT,
	L2_EXIT_IO,
	L2_EXIT_EXCEPTION,	/* an intercepted exception */
	L2_EXIT_SHUTDOWN,	/* SVM SHUTDOWN / VMX triple fault */
	L2_EXIT_TDP_MISCONFIG,	/* EPT misconfiguration: an entry EPT forbids */
	L2_EXIT_INTERRUPT,	/* an intercepted external interrupt */
	L2_EXIT_OTHER,
};

struct l2_exit {
	enum l2_exit_kind kind;
	u64 raw;		/* SVM exit code / VMX exit reason */
	u64 info1;		/* SVM EXITINFO1 / VMX exit qualification */
	u64 info2;		/* SVM EXITINFO2 / VMX guest-physical address */
	u64 rip;		/* L2 RIP of the exit */
	/* L2_EXIT_TDP_FAULT (and the GPA of L2_EXIT_TDP_MISCONFIG) */
	u64 gpa;		/* the L2 GPA that faulted, exact */
	unsigned int access;	/* KVM_MMU_READ, _WRITE or _EXEC */
	bool present;		/* a translation existed: a permission fault */
	bool on_walk;		/* on L2's own page-table walk */
	/* L2_EXIT_HYPERCALL: l2_hypercall()'s arguments */
	u64 nr, arg;
	/* L2_EXIT_IO */
	u16 port;
	u8 io_size;
	bool io_in;
	/* L2_EXIT_EXCEPTION */
	u8 vector;
	bool has_error_code;	/* VMX: as reported; SVM: the vector's */
	u32 error_code;		/* EXITINFO1 / VM-exit interruption error code */
	u64 fault_addr;		/* #PF: CR2 (EXITINFO2 / exit qualification) */
	/* Length of the exiting instruction, 0 where the exit does not say. */
	u8 insn_len;
};

/* Event types, numbered as both EVENTINJ and VM-entry interruption info. */
enum l2_event_type {
	L2_EVENT_EXTINT = 0,
	L2_EVENT_NMI = 2,
	L2_EVENT_EXCEPTION = 3,
};

/* Hypercall number the library uses when L2 code returns. */
#define L2_HC_RETURNED	0x6c32726574ULL	/* "l2ret" */

/* ---- Host side ---- */

/* What KVM offers L1. */
bool kvm_cpu_has_nested_svm(void);
bool kvm_cpu_has_nested_vmx(void);
bool kvm_cpu_has_nested(void);
enum nested_vendor kvm_nested_vendor(void);
bool kvm_cpu_has_tdp(void);
/* Why kvm_cpu_has_nested()/kvm_cpu_has_tdp() is false, for a SKIP line. */
const char *kvm_nested_missing_reason(void);
const char *kvm_tdp_missing_reason(void);
/* Skip the test, with the reason, unless nested (with TDP) is available. */
void nested_require(void);
void nested_require_tdp(void);
/* A VMX capability MSR as KVM reports it to L1 (KVM_GET_MSRS on /dev/kvm). */
u64 kvm_get_feature_msr(u32 index);

/*
 * Give vm a stage-2 mmu for this CPU's vendor: EPT or NPT masks, the level
 * count (0: the default: 4 for EPT, L1's paging depth for NPT, which must
 * match it), 1 GiB leaves when the stage-2 supports them. Call before
 * vcpu_alloc_nested_state(); all vCPUs share the root. Skips the test when
 * KVM cannot do it; calling it twice fails.
 */
void vm_enable_tdp(struct kvm_vm *vm);
void vm_enable_tdp_levels(struct kvm_vm *vm, int levels);
/* The pure part, for unit tests on fake VMs. */
void __vm_enable_tdp(struct kvm_vm *vm, enum kvm_mmu_format format,
		     int levels, bool gbpages, bool ad);
/* Whether 5-level stage-2 tables can be used here, and why not. */
bool kvm_cpu_has_tdp_5level(const char **why_not);

/*
 * The usual start of a nested TDP test: skip unless KVM offers nested TDP,
 * then a VM with one vCPU running @l1_code, an anonymous memslot @slot of
 * @size bytes at @gpa, vm_enable_tdp() and tdp_identity_map_all().
 */
struct kvm_vm *vm_create_tdp_with_one_vcpu(struct kvm_vcpu **vcpu,
					   void *l1_code, u32 slot, u64 gpa,
					   u64 size);

/*
 * Map [l2_gpa, +size) to [l1_gpa, +size) in stage-2, RWX, largest pages
 * alignment allows (or exactly @level). Fails naming tdp_map and the
 * addresses if the range is unaligned or l1 range is not in memslots.
 */
void tdp_map(struct kvm_vm *vm, u64 l2_gpa, u64 l1_gpa, u64 size);
void tdp_map_level(struct kvm_vm *vm, u64 l2_gpa, u64 l1_gpa, u64 size,
		   unsigned int prot, int level);
/* Identity-map every memslot of the VM (and L1's view of them, below). */
void tdp_identity_map_all(struct kvm_vm *vm);
u64 tdp_unmap(struct kvm_vm *vm, u64 l2_gpa, u64 size);
void tdp_protect(struct kvm_vm *vm, u64 l2_gpa, u64 size, unsigned int prot);
/* The stage-2 leaf that maps l2_gpa (NULL if none) and its level. */
u64 *tdp_lookup(struct kvm_vm *vm, u64 l2_gpa, int *level);
/* The stage-2 entry at @level on l2_gpa's walk (table pointer or leaf). */
u64 *tdp_entry(struct kvm_vm *vm, u64 l2_gpa, int level);
/* The GPA of such an entry, for L1 code that edits it (see l1_phys()). */
u64 tdp_entry_gpa(struct kvm_vm *vm, u64 l2_gpa, int level);
/* GPA of a pointer into guest memory (a PTE from the lookups above). */
u64 addr_hva2gpa(struct kvm_vm *vm, const void *hva);

/*
 * L1 sees all of its memory at L1_PHYS_MAP_BASE + GPA (vm_enable_tdp and
 * tdp_identity_map_all map it), so an L1 hypervisor can edit its own
 * stage-2 tables the way a real one does, through its own stores.
 */
#define L1_PHYS_MAP_BASE	0x100000000000ULL
void vm_map_l1_phys(struct kvm_vm *vm);

/*
 * Map GVA -> L2 GPA in L1's page tables (which L2 shares). Unlike
 * virt_map() the L2 GPA need not be L1 memory; it is translated by
 * stage-2, not by the host.
 */
void l2_virt_map(struct kvm_vm *vm, u64 gva, u64 l2_gpa, u64 size);

/* Allocate one vCPU's nested state in guest memory; returns its GVA. */
u64 vcpu_alloc_nested_state(struct kvm_vcpu *vcpu);
/*
 * The host side of most nested tests: a VM with one vCPU whose L1 is
 * @l1_main(struct nested_state *s), run until GUEST_DONE with @on_sync
 * serving the syncs, then freed. @prepare, if set, runs between creating
 * the VM and the first run (exception handlers, globals, stage-2 maps).
 */
void nested_run_l1(void *l1_main,
		   void (*prepare)(struct kvm_vm *vm, struct kvm_vcpu *vcpu),
		   ucall_handler_t on_sync, void *data);
u64 __vcpu_alloc_nested_state(struct kvm_vm *vm, u32 vcpu_id,
			      enum nested_vendor vendor, u64 tss_base);
/* Host view of a vCPU's state (host pointer into guest memory). */
struct nested_state *nested_state_hva(struct kvm_vm *vm, u64 state_gva);

/* ---- L1 side (guest code) ---- */

/* The vendor this CPU is, from CPUID; cached so L2 never runs CPUID. */
enum nested_vendor nested_cpu_vendor(void);
static inline void *l1_phys(u64 gpa)
{
	return (void *)(L1_PHYS_MAP_BASE + gpa);
}

/*
 * Enable SVM/VMX, prepare a VMCB/VMCS for an L2 that starts at l2_code
 * (called with RDI = state->gprs.rdi, returning to a hypercall
 * L2_HC_RETURNED) on the stack ending at l2_stack_top, with L1's CR3, in
 * long mode; stage-2 on if the VM had vm_enable_tdp() when the state was
 * allocated (l2_setup_no_tdp() forces it off).
 */
void l2_setup(struct nested_state *s, void *l2_code, void *l2_stack_top);
void l2_setup_no_tdp(struct nested_state *s, void *l2_code,
		     void *l2_stack_top);
/* Run L2 until it exits to L1; decode the exit. */
struct l2_exit l2_run(struct nested_state *s);
/* Step L2's RIP past the instruction that exited. */
void l2_skip_instruction(struct nested_state *s);
u64 l2_get_rip(struct nested_state *s);
void l2_set_rip(struct nested_state *s, u64 rip);
u64 l2_get_rflags(struct nested_state *s);
void l2_set_rflags(struct nested_state *s, u64 rflags);
/* Shrink L2's IDT (0: every event L2 takes faults, then triple-faults). */
void l2_set_idt_limit(struct nested_state *s, u16 limit);
/* Give L2 page tables of its own instead of L1's (an L2 GPA under TDP). */
void l2_set_cr3(struct nested_state *s, u64 cr3);
/* Flush stage-2 translations: INVEPT / TLB control on the next VMRUN. */
void l2_tdp_flush(struct nested_state *s);
/* Intercept (or not) L2's accesses to an I/O port. */
void l2_intercept_io(struct nested_state *s, u16 port, bool on);
/* Intercept (or not) an exception vector raised in L2. */
void l2_intercept_exception(struct nested_state *s, int vector, bool on);
/*
 * Deliver an event to L2 on the next entry: EVENTINJ on SVM, the VM-entry
 * interruption-information field on VMX. Error codes only for exceptions.
 */
void l2_inject_event(struct nested_state *s, enum l2_event_type type,
		     u8 vector, bool has_error_code, u32 error_code);
/* Whether the injection field still holds a valid event (after an exit). */
bool l2_event_inject_valid(struct nested_state *s);
/* L2 was in an interrupt shadow (STI / MOV SS) at the last exit. */
bool l2_interrupt_shadow(struct nested_state *s);
/* L2's CR2: the VMCB's on SVM; on VMX the register itself (not switched). */
u64 l2_get_cr2(struct nested_state *s);
void l2_set_cr2(struct nested_state *s, u64 cr2);
/*
 * Intercept (or not) L2's hypercall instruction. VMCALL always exits on
 * VMX: returns false there when @on is false (cannot be turned off).
 */
bool l2_intercept_hypercall(struct nested_state *s, bool on);
/*
 * Whether external interrupts arriving while L2 runs exit to L1 (SVM: INTR
 * intercept and V_INTR_MASKING; VMX: external-interrupt exiting, not
 * acknowledged on exit) or are delivered through L2's IDT by L2's IF.
 */
void l2_intercept_interrupts(struct nested_state *s, bool on);
/* Intercept (or not) L2's shutdown; VMX: triple faults always exit. */
bool l2_intercept_shutdown(struct nested_state *s, bool on);
/* L2's TSC = L1's TSC + @offset (TSC offsetting on, both vendors). */
void l2_set_tsc_offset(struct nested_state *s, u64 offset);
void l2_intercept_rdtsc(struct nested_state *s, bool on);
/*
 * Run L2 to its next exit, asserting it is the hypercall @nr; skip it.
 * A failure names the caller's line and the decoded exit.
 */
#define l2_run_to_hypercall(s, nr)					\
	__l2_run_to_hypercall(s, nr, __FILE__, __LINE__)
u64 __l2_run_to_hypercall(struct nested_state *s, u64 nr, const char *file,
			  int line);
/* Set the value l2_hypercall() returns in L2. */
static inline void l2_set_hypercall_result(struct nested_state *s, u64 v)
{
	s->gprs.rax = v;
}
const char *l2_exit_kind_name(enum l2_exit_kind kind);
/*
 * The exit in words, for messages: "TDP fault at L2 GPA 0x... on a write
 * (permission) at L2 RIP 0x...". Guest-safe; returns the length.
 */
int l2_exit_describe(const struct l2_exit *ex, char *buf, size_t size);

/*
 * An exit must be a TDP fault at exactly L2 GPA @gpa (byte, not page)
 * with @access. L2_CHECK_TDP_FAULT reports and goes on (GUEST_CHECK) and
 * returns whether it matched; L2_ASSERT_TDP_FAULT ends the test. Both
 * name the caller's line and print the decoded exit.
 */
#define L2_CHECK_TDP_FAULT(ex, gpa, access)				\
	__l2_check_tdp_fault(ex, gpa, access, __FILE__, __LINE__, false)
#define L2_ASSERT_TDP_FAULT(ex, gpa, access)				\
	((void)__l2_check_tdp_fault(ex, gpa, access, __FILE__, __LINE__, true))
bool __l2_check_tdp_fault(struct l2_exit ex, u64 gpa,
			  unsigned int access, const char *file, int line,
			  bool fatal);

/* ---- L2 side ---- */

/* Exit to L1 with nr in RAX and arg in RBX; returns what L1 put in RAX. */
u64 l2_hypercall(u64 nr, u64 arg);

/* ---- Pure decoders (unit-tested) ---- */
void svm_exit_decode(u64 code, u64 info1, u64 info2, struct l2_exit *ex);
void vmx_exit_decode(u32 reason, u64 qual, u64 gpa, u32 intr_info,
		     struct l2_exit *ex);
/* Exception vectors that push an error code (SDM/APM exception tables). */
bool x86_exception_has_error_code(u8 vector);
/* Length of the instruction behind an SVM exit, where it is fixed; else 0. */
int svm_exit_insn_len(u64 code);

#endif /* __ASSEMBLER__ */
#endif /* KVMTEST_X86_NESTED_H */
