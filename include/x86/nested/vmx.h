/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel VMX for L1 guest code: capability MSRs, VMCS field encodings,
 * execution controls, exit reasons, EPTP and INVEPT, and the per-vCPU
 * state an L1 hypervisor needs (VMXON region, VMCS, MSR and I/O bitmaps),
 * all in guest memory.
 *
 * Encodings and bit positions are from the SDM Vol. 3, Appendix A
 * ("VMX Capability Reporting Facility"), Appendix B ("Field Encoding in
 * VMCS") and Appendix C ("VMX Basic Exit Reasons").
 */
#ifndef KVMTEST_X86_VMX_H
#define KVMTEST_X86_VMX_H

#include "test_util.h"

/* Capability MSRs. */
#define MSR_IA32_VMX_BASIC		0x480
#define MSR_IA32_VMX_PINBASED_CTLS	0x481
#define MSR_IA32_VMX_PROCBASED_CTLS	0x482
#define MSR_IA32_VMX_EXIT_CTLS		0x483
#define MSR_IA32_VMX_ENTRY_CTLS		0x484
#define MSR_IA32_VMX_MISC		0x485
#define MSR_IA32_VMX_CR0_FIXED0		0x486
#define MSR_IA32_VMX_CR0_FIXED1		0x487
#define MSR_IA32_VMX_CR4_FIXED0		0x488
#define MSR_IA32_VMX_CR4_FIXED1		0x489
#define MSR_IA32_VMX_VMCS_ENUM		0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	0x490

/* IA32_VMX_BASIC. */
#define VMX_BASIC_REVISION_MASK		0x7fffffffULL
#define VMX_BASIC_VMCS_SIZE(b)		(((b) >> 32) & 0x1fff)
#define VMX_BASIC_TRUE_CTLS		BIT_ULL(55)

/* IA32_FEATURE_CONTROL (MSR_IA32_FEAT_CTL). */
#define FEAT_CTL_LOCKED			BIT_ULL(0)
#define FEAT_CTL_VMX_OUTSIDE_SMX	BIT_ULL(2)

/* IA32_VMX_EPT_VPID_CAP. */
#define VMX_EPT_CAP_EXEC_ONLY		BIT_ULL(0)
#define VMX_EPT_CAP_PWL4		BIT_ULL(6)
#define VMX_EPT_CAP_PWL5		BIT_ULL(7)
#define VMX_EPT_CAP_WB			BIT_ULL(14)
#define VMX_EPT_CAP_2M			BIT_ULL(16)
#define VMX_EPT_CAP_1G			BIT_ULL(17)
#define VMX_EPT_CAP_INVEPT		BIT_ULL(20)
#define VMX_EPT_CAP_AD			BIT_ULL(21)
#define VMX_EPT_CAP_INVEPT_SINGLE	BIT_ULL(25)
#define VMX_EPT_CAP_INVEPT_ALL		BIT_ULL(26)

/* EPTP (SDM "Extended-Page-Table Pointer"). */
#define EPTP_MEMTYPE_WB			6ULL
#define EPTP_PWL_SHIFT			3	/* bits 5:3: walk length - 1 */
#define EPTP_AD_ENABLE			BIT_ULL(6)

/* INVEPT types. */
#define INVEPT_SINGLE_CONTEXT		1
#define INVEPT_ALL_CONTEXT		2

/* Pin-based controls. */
#define PIN_EXT_INTR_EXITING		BIT(0)
#define PIN_NMI_EXITING			BIT(3)
#define PIN_VIRTUAL_NMIS		BIT(5)
#define PIN_PREEMPTION_TIMER		BIT(6)

/* Primary processor-based controls. */
#define CPU_INTR_WINDOW_EXITING		BIT(2)
#define CPU_USE_TSC_OFFSETTING		BIT(3)
#define CPU_HLT_EXITING			BIT(7)
#define CPU_INVLPG_EXITING		BIT(9)
#define CPU_RDTSC_EXITING		BIT(12)
#define CPU_CR3_LOAD_EXITING		BIT(15)
#define CPU_CR3_STORE_EXITING		BIT(16)
#define CPU_CR8_LOAD_EXITING		BIT(19)
#define CPU_CR8_STORE_EXITING		BIT(20)
#define CPU_NMI_WINDOW_EXITING		BIT(22)
#define CPU_MOV_DR_EXITING		BIT(23)
#define CPU_UNCOND_IO_EXITING		BIT(24)
#define CPU_USE_IO_BITMAPS		BIT(25)
#define CPU_USE_MSR_BITMAPS		BIT(28)
#define CPU_ACTIVATE_SECONDARY		BIT(31)

/* Secondary processor-based controls. */
#define CPU2_ENABLE_EPT			BIT(1)
#define CPU2_RDTSCP			BIT(3)
#define CPU2_ENABLE_VPID		BIT(5)
#define CPU2_UNRESTRICTED_GUEST		BIT(7)
#define CPU2_TSC_SCALING		BIT(25)

/* VM-exit controls. */
#define EXIT_SAVE_DEBUG_CONTROLS	BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE	BIT(9)
#define EXIT_ACK_INTR_ON_EXIT		BIT(15)
#define EXIT_SAVE_PAT			BIT(18)
#define EXIT_LOAD_PAT			BIT(19)
#define EXIT_SAVE_EFER			BIT(20)
#define EXIT_LOAD_EFER			BIT(21)
#define EXIT_SAVE_PREEMPTION_TIMER	BIT(22)

/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG_CONTROLS	BIT(2)
#define ENTRY_IA32E_MODE		BIT(9)
#define ENTRY_LOAD_PAT			BIT(14)
#define ENTRY_LOAD_EFER			BIT(15)

/*
 * VMCS field encodings. An encoding is self-describing: bit 0 selects the
 * high half of a 64-bit field, bits 9:1 are the index, bits 11:10 the
 * type (control, exit information, guest state, host state) and bits
 * 14:13 the width (16-bit, 64-bit, 32-bit, natural).
 */
enum vmcs_field {
	VIRTUAL_PROCESSOR_ID		= 0x0000,
	GUEST_ES_SELECTOR		= 0x0800,
	GUEST_CS_SELECTOR		= 0x0802,
	GUEST_SS_SELECTOR		= 0x0804,
	GUEST_DS_SELECTOR		= 0x0806,
	GUEST_FS_SELECTOR		= 0x0808,
	GUEST_GS_SELECTOR		= 0x080a,
	GUEST_LDTR_SELECTOR		= 0x080c,
	GUEST_TR_SELECTOR		= 0x080e,
	HOST_ES_SELECTOR		= 0x0c00,
	HOST_CS_SELECTOR		= 0x0c02,
	HOST_SS_SELECTOR		= 0x0c04,
	HOST_DS_SELECTOR		= 0x0c06,
	HOST_FS_SELECTOR		= 0x0c08,
	HOST_GS_SELECTOR		= 0x0c0a,
	HOST_TR_SELECTOR		= 0x0c0c,
	IO_BITMAP_A			= 0x2000,
	IO_BITMAP_B			= 0x2002,
	MSR_BITMAP			= 0x2004,
	TSC_OFFSET			= 0x2010,
	EPT_POINTER			= 0x201a,
	TSC_MULTIPLIER			= 0x2032,
	GUEST_PHYSICAL_ADDRESS		= 0x2400,
	VMCS_LINK_POINTER		= 0x2800,
	GUEST_IA32_DEBUGCTL		= 0x2802,
	GUEST_IA32_PAT			= 0x2804,
	GUEST_IA32_EFER			= 0x2806,
	HOST_IA32_PAT			= 0x2c00,
	HOST_IA32_EFER			= 0x2c02,
	PIN_BASED_VM_EXEC_CONTROL	= 0x4000,
	CPU_BASED_VM_EXEC_CONTROL	= 0x4002,
	EXCEPTION_BITMAP		= 0x4004,
	PAGE_FAULT_ERROR_CODE_MASK	= 0x4006,
	PAGE_FAULT_ERROR_CODE_MATCH	= 0x4008,
	CR3_TARGET_COUNT		= 0x400a,
	VM_EXIT_CONTROLS		= 0x400c,
	VM_EXIT_MSR_STORE_COUNT		= 0x400e,
	VM_EXIT_MSR_LOAD_COUNT		= 0x4010,
	VM_ENTRY_CONTROLS		= 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT		= 0x4014,
	VM_ENTRY_INTR_INFO_FIELD	= 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE	= 0x4018,
	VM_ENTRY_INSTRUCTION_LEN	= 0x401a,
	TPR_THRESHOLD			= 0x401c,
	SECONDARY_VM_EXEC_CONTROL	= 0x401e,
	VM_INSTRUCTION_ERROR		= 0x4400,
	VM_EXIT_REASON			= 0x4402,
	VM_EXIT_INTR_INFO		= 0x4404,
	VM_EXIT_INTR_ERROR_CODE		= 0x4406,
	IDT_VECTORING_INFO_FIELD	= 0x4408,
	IDT_VECTORING_ERROR_CODE	= 0x440a,
	VM_EXIT_INSTRUCTION_LEN		= 0x440c,
	VMX_INSTRUCTION_INFO		= 0x440e,
	GUEST_ES_LIMIT			= 0x4800,
	GUEST_CS_LIMIT			= 0x4802,
	GUEST_SS_LIMIT			= 0x4804,
	GUEST_DS_LIMIT			= 0x4806,
	GUEST_FS_LIMIT			= 0x4808,
	GUEST_GS_LIMIT			= 0x480a,
	GUEST_LDTR_LIMIT		= 0x480c,
	GUEST_TR_LIMIT			= 0x480e,
	GUEST_GDTR_LIMIT		= 0x4810,
	GUEST_IDTR_LIMIT		= 0x4812,
	GUEST_ES_AR_BYTES		= 0x4814,
	GUEST_CS_AR_BYTES		= 0x4816,
	GUEST_SS_AR_BYTES		= 0x4818,
	GUEST_DS_AR_BYTES		= 0x481a,
	GUEST_FS_AR_BYTES		= 0x481c,
	GUEST_GS_AR_BYTES		= 0x481e,
	GUEST_LDTR_AR_BYTES		= 0x4820,
	GUEST_TR_AR_BYTES		= 0x4822,
	GUEST_INTERRUPTIBILITY_INFO	= 0x4824,
	GUEST_ACTIVITY_STATE		= 0x4826,
	GUEST_SYSENTER_CS		= 0x482a,
	VMX_PREEMPTION_TIMER_VALUE	= 0x482e,
	HOST_IA32_SYSENTER_CS		= 0x4c00,
	CR0_GUEST_HOST_MASK		= 0x6000,
	CR4_GUEST_HOST_MASK		= 0x6002,
	CR0_READ_SHADOW			= 0x6004,
	CR4_READ_SHADOW			= 0x6006,
	EXIT_QUALIFICATION		= 0x6400,
	GUEST_LINEAR_ADDRESS		= 0x640a,
	GUEST_CR0			= 0x6800,
	GUEST_CR3			= 0x6802,
	GUEST_CR4			= 0x6804,
	GUEST_ES_BASE			= 0x6806,
	GUEST_CS_BASE			= 0x6808,
	GUEST_SS_BASE			= 0x680a,
	GUEST_DS_BASE			= 0x680c,
	GUEST_FS_BASE			= 0x680e,
	GUEST_GS_BASE			= 0x6810,
	GUEST_LDTR_BASE			= 0x6812,
	GUEST_TR_BASE			= 0x6814,
	GUEST_GDTR_BASE			= 0x6816,
	GUEST_IDTR_BASE			= 0x6818,
	GUEST_DR7			= 0x681a,
	GUEST_RSP			= 0x681c,
	GUEST_RIP			= 0x681e,
	GUEST_RFLAGS			= 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS	= 0x6822,
	GUEST_SYSENTER_ESP		= 0x6824,
	GUEST_SYSENTER_EIP		= 0x6826,
	HOST_CR0			= 0x6c00,
	HOST_CR3			= 0x6c02,
	HOST_CR4			= 0x6c04,
	HOST_FS_BASE			= 0x6c06,
	HOST_GS_BASE			= 0x6c08,
	HOST_TR_BASE			= 0x6c0a,
	HOST_GDTR_BASE			= 0x6c0c,
	HOST_IDTR_BASE			= 0x6c0e,
	HOST_IA32_SYSENTER_ESP		= 0x6c10,
	HOST_IA32_SYSENTER_EIP		= 0x6c12,
	HOST_RSP			= 0x6c14,
	HOST_RIP			= 0x6c16,
};

/* Width and type of a field, decoded from its encoding. */
enum vmcs_width {
	VMCS_WIDTH_16 = 0,
	VMCS_WIDTH_64 = 1,
	VMCS_WIDTH_32 = 2,
	VMCS_WIDTH_NATURAL = 3,
};
enum vmcs_type {
	VMCS_TYPE_CONTROL = 0,
	VMCS_TYPE_EXIT_INFO = 1,	/* read-only data */
	VMCS_TYPE_GUEST = 2,
	VMCS_TYPE_HOST = 3,
};
static inline enum vmcs_width vmcs_field_width(u32 field)
{
	return (field >> 13) & 3;
}
static inline enum vmcs_type vmcs_field_type(u32 field)
{
	return (field >> 10) & 3;
}
static inline unsigned int vmcs_field_index(u32 field)
{
	return (field >> 1) & 0x1ff;
}

/* Basic exit reasons (bits 15:0 of VM_EXIT_REASON). */
#define EXIT_REASON_EXCEPTION_NMI	0
#define EXIT_REASON_EXTERNAL_INTERRUPT	1
#define EXIT_REASON_TRIPLE_FAULT	2
#define EXIT_REASON_INTERRUPT_WINDOW	7
#define EXIT_REASON_NMI_WINDOW		8
#define EXIT_REASON_CPUID		10
#define EXIT_REASON_HLT			12
#define EXIT_REASON_INVLPG		14
#define EXIT_REASON_RDTSC		16
#define EXIT_REASON_VMCALL		18
#define EXIT_REASON_CR_ACCESS		28
#define EXIT_REASON_IO_INSTRUCTION	30
#define EXIT_REASON_MSR_READ		31
#define EXIT_REASON_MSR_WRITE		32
#define EXIT_REASON_INVALID_STATE	33
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_EPT_MISCONFIG	49
#define EXIT_REASON_PREEMPTION_TIMER	52
#define VMX_EXIT_REASON_ENTRY_FAILURE	BIT(31)

/* VM_EXIT_INTR_INFO. */
#define INTR_INFO_VECTOR_MASK		0xffU
#define INTR_INFO_TYPE_SHIFT		8
#define INTR_INFO_TYPE_MASK		(7U << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_HARD_EXCEPTION	(3U << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_ERROR_CODE		BIT(11)	/* deliver / has an error code */
#define INTR_INFO_VALID			BIT(31)
/* GUEST_INTERRUPTIBILITY_INFO. */
#define GUEST_INTR_STATE_STI		BIT(0)
#define GUEST_INTR_STATE_MOV_SS		BIT(1)

/* Exit qualification of an EPT violation. */
#define EPT_VIOL_READ			BIT_ULL(0)
#define EPT_VIOL_WRITE			BIT_ULL(1)
#define EPT_VIOL_FETCH			BIT_ULL(2)
#define EPT_VIOL_READABLE		BIT_ULL(3)
#define EPT_VIOL_WRITABLE		BIT_ULL(4)
#define EPT_VIOL_EXECUTABLE		BIT_ULL(5)
#define EPT_VIOL_GLA_VALID		BIT_ULL(7)
#define EPT_VIOL_GLA_TRANSLATED		BIT_ULL(8)	/* 0: paging-structure access */

/* Exit qualification of an I/O instruction. */
#define VMX_IO_SIZE_MASK		7ULL	/* size - 1 */
#define VMX_IO_IN			BIT_ULL(3)
#define VMX_IO_PORT_SHIFT		16

/* Segment access rights (VMCS AR bytes, SDM "Guest Register State"). */
#define VMX_AR_CODE64			0xa09b	/* type 0xb, S, P, L, G */
#define VMX_AR_DATA			0xc093	/* type 0x3, S, P, D/B, G */
#define VMX_AR_TSS64_BUSY		0x008b	/* type 0xb, P */
#define VMX_AR_UNUSABLE			BIT(16)

/* Per-vCPU VMX state, in guest memory: GVAs for L1, GPAs for the CPU. */
struct vmx_state {
	void *vmxon;
	u64 vmxon_gpa;
	void *vmcs;
	u64 vmcs_gpa;
	u8 *msr_bitmap;
	u64 msr_bitmap_gpa;
	u8 *io_bitmap_a;	/* ports 0x0000-0x7fff */
	u64 io_bitmap_a_gpa;
	u8 *io_bitmap_b;	/* ports 0x8000-0xffff */
	u64 io_bitmap_b_gpa;
	bool launched;
	u64 eptp;
	u64 ept_cap;
};

/* Pure helpers, usable on the host and in unit tests. */
/*
 * Adjust wanted control bits by a capability MSR: the low half says which
 * bits must be 1, the high half which may be 1.
 */
static inline u32 vmx_adjust_controls(u64 cap_msr, u32 want)
{
	return (want | (u32)cap_msr) & (u32)(cap_msr >> 32);
}
/* EPTP for a root table, walk length and A/D enable. */
u64 vmx_eptp(u64 root_gpa, int levels, bool ad);

/* L1 side. */
void vmx_enable(struct vmx_state *vmx);
void vmx_vmcs_load(struct vmx_state *vmx);
void vmx_vmcs_init(struct vmx_state *vmx, u64 l2_rip, u64 l2_rsp,
		   u64 tss_base);
void vmx_set_ept(struct vmx_state *vmx, u64 eptp);
void vmx_invept(struct vmx_state *vmx);
void vmx_intercept_io(struct vmx_state *vmx, u16 port, bool on);
u64 vmx_read_cap(u32 msr);	/* rdmsr, named for what it reads */

struct l2_gprs;
/*
 * VMLAUNCH (launched == 0) or VMRESUME into the current VMCS with the L2
 * GPRs from @gprs; back at the VM exit with them saved. Returns 0 after a
 * VM exit, 1 if the instruction failed (VM_INSTRUCTION_ERROR says why).
 */
int vmx_enter(struct l2_gprs *gprs, int launched);

static inline int vmwrite(u64 field, u64 value)
{
	u8 err;

	__asm__ volatile("vmwrite %[v], %[f]; setna %[e]"
			 : [e] "=rm"(err) : [v] "rm"(value), [f] "r"(field)
			 : "cc", "memory");
	return err;
}

static inline u64 vmread(u64 field)
{
	u64 value;

	__asm__ volatile("vmread %[f], %[v]"
			 : [v] "=rm"(value) : [f] "r"(field) : "cc", "memory");
	return value;
}

#endif /* KVMTEST_X86_VMX_H */
