/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel TDX: the KVM uAPI for trust domains, the TDX-module facts a TD
 * guest needs, and kvmtest's TD helpers (host and guest side).
 *
 * Where the uAPI facts come from:
 *   - Documentation/virt/kvm/x86/intel-tdx.rst in the merged upstream
 *     kernel (6.16, plus KVM_TDX_TERMINATE_VM from 6.17): enum
 *     kvm_tdx_cmd_id, struct kvm_tdx_cmd, struct kvm_tdx_capabilities
 *     (reserved[250] after the four tdvmcallinfo words),
 *     struct kvm_tdx_init_vm, struct kvm_tdx_init_mem_region,
 *     KVM_TDX_MEASURE_MEMORY_REGION, and the creation flow.
 *   - include/uapi/linux/kvm.h of 6.16: KVM_EXIT_TDX = 40 and the "tdx"
 *     member of the kvm_run exit union (flags, nr, then a union whose
 *     members all start with "ret").
 *   - arch/x86/kvm/vmx/tdx.c of 6.16: the GPAW is chosen through
 *     CPUID.0x80000008.EAX[23:16] in KVM_TDX_INIT_VM's CPUID (48 or 52;
 *     52 needs 5-level EPT), every CPUID entry passed must be one the
 *     TDX module lists as configurable, and KVM removes TSX, WAITPKG and
 *     MWAIT from what it reports configurable.
 *   - Linux arch/x86/include/asm/shared/tdx.h and the GHCI spec: TDCALL
 *     leaf numbers, TDG.VP.VMCALL register exposure bits, sub-function
 *     numbers, TD attribute bits (DEBUG 0, SEPT_VE_DISABLE 28).
 *
 * Like kvm_abi.h, every uAPI definition is guarded so that building with
 * KHDR_INCLUDES=-I<kernel>/usr/include uses the kernel's own copy.
 */
#ifndef KVMTEST_X86_TDX_H
#define KVMTEST_X86_TDX_H

/*
 * Everything up to the __ASSEMBLER__ guard is plain numbers, shared with
 * lib/x86/tdx_boot.S.
 */

/* ---- kvmtest's TD layout -------------------------------------------------- */

/*
 * The host cannot set a TD's registers: every vCPU starts at the reset
 * vector, 0xFFFFFFF0, in 32-bit protected mode without paging. The boot
 * region, the last 16 KiB below 4 GiB, holds a parameter block the host
 * fills (three pages) and the boot stub (last page, reset vector at its
 * end). It is private, measured memory, identity-mapped in the guest's
 * page tables so the stub keeps running once it turns paging on.
 */
#define TDX_BOOT_REGION_GPA		0xFFFFC000
#define TDX_BOOT_REGION_SIZE		0x4000
#define TDX_BOOT_PARAMS_GPA		0xFFFFC000
#define TDX_BOOT_CODE_GPA		0xFFFFF000
#define TDX_RESET_VECTOR_GPA		0xFFFFFFF0
#define TDX_BOOT_SLOT			1

/*
 * Shared memory: a plain (non-guest_memfd) slot whose pages the guest maps
 * with the S-bit. Each vCPU's ucall buffer lives here, because the host
 * cannot read private memory.
 */
#define TDX_SHARED_SLOT			2
#define TDX_SHARED_GPA			0x80000000
#define TDX_SHARED_SIZE			0x200000

/* Not backed by any memslot: writes here are TD ucalls (TDVMCALL MMIO). */
#define TDX_UCALL_MMIO_GPA		0xE0000000

/* Each vCPU's stack; struct tdx_vcpu_info sits at its lowest address. */
#define TDX_STACK_SIZE			0x8000

/*
 * Parameter block offsets, shared with tdx_boot.S (which cannot include
 * C structs). tdx_host_logic.c checks them against struct tdx_boot_params.
 */
#define TDX_BP_CR0_SET			0x00
#define TDX_BP_CR4_SET			0x04
#define TDX_BP_CR3			0x08
#define TDX_BP_NR_VCPUS			0x0c
#define TDX_BP_BOOT_GDT			0x10
#define TDX_BP_BOOT_GDTR		0x30
#define TDX_BP_GDTR			0x40
#define TDX_BP_IDTR			0x50
#define TDX_BP_RETURN			0x60
#define TDX_BP_VCPUS			0x80
#define TDX_BV_ENTRY			0x00
#define TDX_BV_STACK			0x08
#define TDX_BV_ARGS			0x10
#define TDX_BV_SIZE			0x30
#define TDX_BOOT_MAX_VCPUS		\
	((3 * 4096 - TDX_BP_VCPUS) / TDX_BV_SIZE)

/* Selectors of the stub's own GDT; the same as desc.h's KERNEL_CS/DS. */
#define TDX_BOOT_CS			0x08
#define TDX_BOOT_DS			0x10

#ifndef __ASSEMBLER__

#include "private_mem.h"
#include "kmsg.h"

/* ---- KVM uAPI ---------------------------------------------------------- */

#ifndef KVM_TDX_MEASURE_MEMORY_REGION
enum kvm_tdx_cmd_id {
	KVM_TDX_CAPABILITIES = 0,
	KVM_TDX_INIT_VM,
	KVM_TDX_INIT_VCPU,
	KVM_TDX_INIT_MEM_REGION,
	KVM_TDX_FINALIZE_VM,
	KVM_TDX_GET_CPUID,
	KVM_TDX_TERMINATE_VM,

	KVM_TDX_CMD_NR_MAX,
};

/* The argument of every KVM_MEMORY_ENCRYPT_OP on a TD or its vCPUs. */
struct kvm_tdx_cmd {
	__u32 id;		/* enum kvm_tdx_cmd_id */
	__u32 flags;
	__u64 data;		/* immediate or user pointer, per command */
	__u64 hw_error;		/* SEAMCALL status on some failures */
};

struct kvm_tdx_capabilities {
	__u64 supported_attrs;
	__u64 supported_xfam;

	/* TDVMCALLs handled in the kernel / forwarded to userspace. */
	__u64 kernel_tdvmcallinfo_1_r11;
	__u64 user_tdvmcallinfo_1_r11;
	__u64 kernel_tdvmcallinfo_1_r12;
	__u64 user_tdvmcallinfo_1_r12;

	__u64 reserved[250];

	/* Configurable CPUID leaves; each register is a mask of bits. */
	struct kvm_cpuid2 cpuid;
};

struct kvm_tdx_init_vm {
	__u64 attributes;
	__u64 xfam;
	__u64 mrconfigid[6];	/* SHA-384 digests */
	__u64 mrowner[6];
	__u64 mrownerconfig[6];

	/* TD_PARAMS has 256 bytes before the CPUID values. */
	__u64 reserved[12];

	struct kvm_cpuid2 cpuid;
};

#define KVM_TDX_MEASURE_MEMORY_REGION	(1UL << 0)

struct kvm_tdx_init_mem_region {
	__u64 source_addr;
	__u64 gpa;
	__u64 nr_pages;
};
#endif /* KVM_TDX_MEASURE_MEMORY_REGION */

/*
 * KVM_TDX_TERMINATE_VM came one release after the rest (6.17), so a 6.16
 * header has the enum without it: use our own name for its value.
 */
#define KVMT_TDX_TERMINATE_VM		6

#ifndef KVM_EXIT_TDX
#define KVM_EXIT_TDX			40
#endif
/* Overlay of the kvm_run exit union for KVM_EXIT_TDX (6.16 layout). */
struct kvmt_exit_tdx {
	__u64 flags;
	__u64 nr;		/* TDVMCALL sub-function, from the guest's R11 */
	__u64 ret;		/* first field of every member of the union */
	__u64 data[5];
};

/* The exit-union overlays, at the union's start (where run->mmio is). */
#define kvmt_run_exit_union(run)	((void *)&(run)->mmio)
static inline struct kvmt_exit_memory_fault *
kvmt_run_memory_fault(struct kvm_run *run)
{
	return kvmt_run_exit_union(run);
}

/* ---- TDX architecture ---------------------------------------------------- */

/* TD ATTRIBUTES (TDX module ABI spec, TD_PARAMS.ATTRIBUTES). */
#define TDX_TD_ATTR_DEBUG		BIT_ULL(0)
#define TDX_TD_ATTR_SEPT_VE_DISABLE	BIT_ULL(28)
#define TDX_TD_ATTR_PKS			BIT_ULL(30)
#define TDX_TD_ATTR_KL			BIT_ULL(31)
#define TDX_TD_ATTR_PERFMON		BIT_ULL(63)

/* XFAM uses the XCR0/IA32_XSS bit numbering of XSAVE state components. */
#define XFEATURE_X87			BIT_ULL(0)
#define XFEATURE_SSE			BIT_ULL(1)
#define XFEATURE_AVX			BIT_ULL(2)
#define XFEATURE_AVX512			(BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(7))
#define XFEATURE_CET			(BIT_ULL(11) | BIT_ULL(12))
#define XFEATURE_AMX			(BIT_ULL(17) | BIT_ULL(18))
#define XFEATURE_XTILEDATA_NR		18
/* arch_prctl() to let this process's guests use AMX state. */
#define ARCH_REQ_XCOMP_GUEST_PERM	0x1025

/* TDCALL: "66 0F 01 CC"; RAX selects the leaf. */
#define TDG_VP_VMCALL			0
#define TDG_VP_INFO			1
#define TDG_MEM_PAGE_ACCEPT		6

/* TDCALL completion status: the class lives in bits 63:32. */
#define TDX_SUCCESS			0ULL
#define TDX_PAGE_ALREADY_ACCEPTED	0x00000B0A00000000ULL
#define TDX_OPERAND_BUSY		0x8000020000000000ULL
#define TDX_STATUS_CLASS(s)		((s) & GENMASK_ULL(63, 32))

/* Page levels in TDG.MEM.PAGE.ACCEPT's RCX[2:0]. */
#define TDX_ACCEPT_4K			0
#define TDX_ACCEPT_2M			1

/*
 * TDG.VP.VMCALL: RCX says which GPRs the VMM may see (bit n = GPR n in
 * the RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 order); R10 = 0
 * selects a GHCI-standard call whose number is in R11.
 */
#define TDVMCALL_EXPOSE_R10_R15		GENMASK_ULL(15, 10)
#define TDVMCALL_STANDARD		0
#define TDVMCALL_INSTR_CPUID		10	/* VMX exit reason numbers */
#define TDVMCALL_INSTR_HLT		12
#define TDVMCALL_INSTR_IO		30
#define TDVMCALL_INSTR_RDMSR		31
#define TDVMCALL_INSTR_WRMSR		32
#define TDVMCALL_VE_REQUEST_MMIO	48
#define TDVMCALL_MAP_GPA		0x10001
#define TDVMCALL_STATUS_SUCCESS		0


struct tdx_desc_ptr32 {
	u16 limit;
	u32 base;
} __attribute__((packed));

struct tdx_desc_ptr64 {
	u16 limit;
	u64 base;
} __attribute__((packed));

/* What the stub hands vCPU @slot: entry point, stack, four arguments. */
struct tdx_boot_vcpu {
	u64 entry;
	u64 stack_top;
	u64 args[4];		/* RDI, RSI, RDX, RCX */
};

struct tdx_boot_params {
	u32 cr0_set;		/* ORed into CR0; includes PG */
	u32 cr4_set;		/* ORed into CR4; includes PAE */
	u32 cr3;		/* vm->mmu.pgd, below 4 GiB */
	u32 nr_vcpus;
	u64 boot_gdt[4];	/* null, 64-bit code, data, unused */
	struct tdx_desc_ptr32 boot_gdtr;
	u8 pad0[10];
	struct tdx_desc_ptr64 gdtr;	/* the VM's GDT, loaded in long mode */
	u8 pad1[6];
	struct tdx_desc_ptr64 idtr;
	u8 pad2[6];
	u64 return_addr;	/* pushed: where guest code that returns lands */
	u64 reserved[3];
	struct tdx_boot_vcpu vcpus[];
};

/*
 * Per-vCPU data the guest finds from its stack pointer alone, so the
 * ucall path needs neither a TDCALL nor a register the stub must keep.
 */
struct tdx_vcpu_info {
	u64 slot;		/* index into tdx_boot_params.vcpus */
	u64 ucall_gva;		/* this vCPU's ucall buffer (shared) */
	u64 ucall_gpa;		/* the same, as a GPA without the S-bit */
	u64 mmio_gpa;		/* TDX_UCALL_MMIO_GPA | S-bit */
};

/* TDG.VP.VMCALL arguments (R10..R15 in and out). */
struct tdx_tdvmcall {
	u64 r10, r11, r12, r13, r14, r15;
};

/* ---- pure helpers (no KVM; unit-tested in tests/unit/tdx_host.c) ---- */

/* The shared bit of a TD whose guest physical address width is @gpaw. */
static inline u64 tdx_shared_bit(int gpaw)
{
	return BIT_ULL(gpaw - 1);
}

/* Fill a guest-paging mmu arch for a TD: S-bit, no address bits above it. */
void tdx_mmu_arch(struct kvm_mmu_arch *arch, int gpaw);

/* XFAM and attributes a TD may get: what is wanted and supported. */
u64 tdx_filter_xfam(u64 wanted, u64 supported);
u64 tdx_filter_attributes(u64 wanted, u64 supported);
/* XSAVE components KVM supports, from KVM_GET_SUPPORTED_CPUID leaf 0xD. */
u64 tdx_xfam_from_cpuid(const struct kvm_cpuid2 *cpuid);

struct tdx_vm_options {
	int gpaw;		/* 48 (default) or 52 */
	u64 attributes;		/* 0: SEPT_VE_DISABLE where supported */
	bool attributes_set;	/* use .attributes even when it is 0 */
	u64 xfam;		/* 0: everything KVM and the module support */
	u64 mem_size;		/* main (private) memslot, 0 = 64 MiB */
};

/*
 * KVM_TDX_INIT_VM's argument: attributes and XFAM filtered by @caps, and
 * one CPUID entry per configurable leaf of @caps that @supported has,
 * masked to the configurable bits, with the GPAW in 0x80000008.EAX[23:16].
 * Returned with malloc(); nent is in ->cpuid.nent.
 */
struct kvm_tdx_init_vm *tdx_build_init_vm(const struct kvm_tdx_capabilities *caps,
					  const struct kvm_cpuid2 *supported,
					  const struct tdx_vm_options *opts);

/* The parameter block: fixed part, then one vCPU at a time. */
void tdx_boot_params_init(struct tdx_boot_params *p, u64 cr3, u64 gdt,
			  u16 gdt_limit, u64 idt, u16 idt_limit,
			  u64 return_addr);
void tdx_boot_params_set_vcpu(struct tdx_boot_params *p, u32 slot,
			      u64 entry, u64 stack_top);

/* The 16 bytes at the reset vector: a jump to the stub's first byte. */
void tdx_boot_reset_vector(u8 out[16]);

/* The stub's code, linked into every binary (lib/x86/tdx_boot.S). */
extern const u8 tdx_boot_code[], tdx_boot_code_end[];

/* TDVMCALL<#VE.RequestMMIO> write of @size bytes of @value at @gpa. */
void tdx_tdvmcall_mmio_write(struct tdx_tdvmcall *a, u64 gpa, u8 size,
			     u64 value);
/*
 * Host: is this MMIO exit a TD ucall, and where is its buffer? (KVM
 * reports the MMIO GPA without the S-bit.)
 */
bool tdx_ucall_decode(u64 phys_addr, u32 len, u8 is_write,
		      const u8 data[8], u64 *buffer_gpa);

/* ---- host side --------------------------------------------------------- */

/* KVM_CAP_VM_TYPES has the KVM_X86_TDX_VM bit. */
bool tdx_supported(void);
/* Skip (exit 4) with the reason unless TDX is available. */
void tdx_require(void);

/*
 * Create a TD with @nr_vcpus vCPUs that start in @guest_code once the TD
 * is finalized. Image, page tables, GDT/IDT and stacks are staged in the
 * host view of the private slots; tdx_vm_finalize() copies them in.
 * Before finalizing a test may add slots, map pages and set globals
 * (write_guest_global); after it, host writes to private memory are lost.
 */
struct kvm_vm *tdx_vm_create(const struct tdx_vm_options *opts, int nr_vcpus,
			     void *guest_code, struct kvm_vcpu **vcpus);
void tdx_vm_finalize(struct kvm_vm *vm);
void tdx_vm_free(struct kvm_vm *vm);
bool tdx_vm_finalized(struct kvm_vm *vm);
int tdx_vm_gpaw(struct kvm_vm *vm);

/* Set up to four guest arguments of vCPU @vcpu (before finalize). */
void tdx_vcpu_args_set(struct kvm_vcpu *vcpu, int nargs, ...);

/* KVM_MEMORY_ENCRYPT_OP with a TDX command; returns the ioctl's result. */
int __tdx_vm_ioctl(struct kvm_vm *vm, u32 cmd, u32 flags, u64 data,
		   u64 *hw_error);
int __tdx_vcpu_ioctl(struct kvm_vcpu *vcpu, u32 cmd, u32 flags, u64 data,
		     u64 *hw_error);

/*
 * Private memory: a guest_memfd slot (private_mem.h) whose pages are all
 * PRIVATE, with an anonymous host mapping for its shared half. Delete,
 * punch and convert with the common calls (vm_memslot_delete,
 * vm_gmem_punch_hole, vm_set_memory_attributes).
 */
void tdx_memslot_add_private(struct kvm_vm *vm, u32 slot, u64 gpa,
			     u64 npages);

/* Shared pages for tests: returns the GVA (mapped with the S-bit). */
u64 tdx_shared_alloc(struct kvm_vm *vm, u64 npages, u64 *gpa);

/*
 * KVM_TDX_TERMINATE_VM (6.17+): 0, or -errno. EINVAL on a kernel that
 * predates the command is indistinguishable from EINVAL for a bad call,
 * so callers judge it together with the kernel version.
 */
int tdx_vm_terminate(struct kvm_vm *vm);

/* ---- guest side -------------------------------------------------------- */

/* What TDG.VP.INFO reports (TDX module ABI: RCX[5:0], RDX, R8, R9). */
struct tdx_vp_info {
	u32 gpaw;
	u64 attributes;
	u32 num_vcpus;
	u32 max_vcpus;
	u32 vcpu_index;
};
struct tdx_vp_info tdx_vp_info(void);

/*
 * TDG.MEM.PAGE.ACCEPT of the private page at @gpa, retried while the TDX
 * module answers TDX_OPERAND_BUSY; returns the final status.
 */
u64 tdx_accept_page(u64 gpa, int level);
/* Accept @gpa, tolerating "already accepted"; asserts on anything else. */
void tdx_guest_accept(u64 gpa);
/* TDG.VP.VMCALL; returns the TDVMCALL status (R10), updates @a. */
u64 tdx_tdvmcall(struct tdx_tdvmcall *a);
/*
 * What a TD guest does instead of the instruction (which would #VE): a
 * TDG.VP.VMCALL the VMM handles. KVM routes them like a VMM sees them
 * from a normal guest: port I/O as KVM_EXIT_IO, MMIO as KVM_EXIT_MMIO,
 * CPUID, MSRs and HLT in the kernel (MSRs to userspace where filtered).
 * Each asserts on a failed TDVMCALL; the in/read forms return the value.
 */
void tdx_io_out(u16 port, u8 size, u32 value);
u32 tdx_io_in(u16 port, u8 size);
void tdx_mmio_write(u64 gpa, u8 size, u64 value);
u64 tdx_mmio_read(u64 gpa, u8 size);
void tdx_cpuid(u32 leaf, u32 subleaf, u32 regs[4]);
u64 tdx_rdmsr(u32 msr);
void tdx_wrmsr(u32 msr, u64 value);
void tdx_hlt(bool irqs_blocked);

/* The S-bit the host chose; valid in guest code only. */
u64 tdx_guest_shared_bit(void);
/* This vCPU's slot in the boot parameters. */
u64 tdx_guest_vcpu_slot(void);

#endif /* __ASSEMBLER__ */
#endif /* KVMTEST_X86_TDX_H */
