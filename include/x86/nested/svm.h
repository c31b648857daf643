/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AMD SVM for L1 guest code: the VMCB, intercepts, exit codes, and the
 * per-vCPU state an L1 hypervisor needs (VMCB, host save area, I/O and MSR
 * permission maps), all in guest memory.
 *
 * Offsets and bit positions are from the AMD64 APM Vol. 2, Appendix B
 * ("Layout of VMCB") and chapter 15; the static_asserts below pin every
 * field we use to the offset the APM gives, so a typo fails the build.
 */
#ifndef KVMTEST_X86_SVM_H
#define KVMTEST_X86_SVM_H

#include "test_util.h"

/* A VMCB segment register: 16 bytes. */
struct vmcb_seg {
	u16 selector;
	u16 attrib;	/* packed: type, S, DPL, P, AVL, L, D/B, G */
	u32 limit;
	u64 base;
} __attribute__((packed));

/* Control area, VMCB offsets 0x000-0x3ff. */
struct vmcb_control {
	u32 intercept_cr;	/* 0x000: reads 15:0, writes 31:16 */
	u32 intercept_dr;	/* 0x004 */
	u32 intercept_exceptions; /* 0x008: bit n = vector n */
	u32 intercept_misc1;	/* 0x00c: SVM_INTERCEPT_* below */
	u32 intercept_misc2;	/* 0x010: SVM_INTERCEPT2_* below */
	u32 intercept_misc3;	/* 0x014 */
	u8 reserved_018[0x03c - 0x018];
	u16 pause_filter_thresh; /* 0x03c */
	u16 pause_filter_count;	/* 0x03e */
	u64 iopm_base_pa;	/* 0x040 */
	u64 msrpm_base_pa;	/* 0x048 */
	u64 tsc_offset;		/* 0x050 */
	u32 asid;		/* 0x058 */
	u8 tlb_control;		/* 0x05c */
	u8 reserved_05d[3];
	u32 int_ctl;		/* 0x060: V_TPR, V_IRQ, VGIF, ... */
	u32 int_vector;		/* 0x064 */
	u32 int_state;		/* 0x068: interrupt shadow */
	u8 reserved_06c[4];
	u64 exit_code;		/* 0x070 */
	u64 exit_info_1;	/* 0x078 */
	u64 exit_info_2;	/* 0x080 */
	u64 exit_int_info;	/* 0x088 */
	u64 nested_ctl;		/* 0x090: bit 0 NP_ENABLE */
	u64 avic_vapic_bar;	/* 0x098 */
	u64 ghcb_gpa;		/* 0x0a0 */
	u64 event_inj;		/* 0x0a8 */
	u64 nested_cr3;		/* 0x0b0 */
	u64 virt_ext;		/* 0x0b8 */
	u32 clean;		/* 0x0c0: VMCB clean bits */
	u32 reserved_0c4;
	u64 next_rip;		/* 0x0c8: with NRIPS */
	u8 insn_len;		/* 0x0d0 */
	u8 insn_bytes[15];	/* 0x0d1 */
	u8 reserved_0e0[0x400 - 0x0e0];
} __attribute__((packed));

/* State save area, VMCB offsets 0x400 onwards (given here from 0x400). */
struct vmcb_save {
	struct vmcb_seg es;	/* 0x400 */
	struct vmcb_seg cs;	/* 0x410 */
	struct vmcb_seg ss;	/* 0x420 */
	struct vmcb_seg ds;	/* 0x430 */
	struct vmcb_seg fs;	/* 0x440 */
	struct vmcb_seg gs;	/* 0x450 */
	struct vmcb_seg gdtr;	/* 0x460 */
	struct vmcb_seg ldtr;	/* 0x470 */
	struct vmcb_seg idtr;	/* 0x480 */
	struct vmcb_seg tr;	/* 0x490 */
	u8 reserved_4a0[0x4cb - 0x4a0];
	u8 cpl;			/* 0x4cb */
	u8 reserved_4cc[4];
	u64 efer;		/* 0x4d0 */
	u8 reserved_4d8[0x548 - 0x4d8];
	u64 cr4;		/* 0x548 */
	u64 cr3;		/* 0x550 */
	u64 cr0;		/* 0x558 */
	u64 dr7;		/* 0x560 */
	u64 dr6;		/* 0x568 */
	u64 rflags;		/* 0x570 */
	u64 rip;		/* 0x578 */
	u8 reserved_580[0x5d8 - 0x580];
	u64 rsp;		/* 0x5d8 */
	u64 s_cet;		/* 0x5e0 */
	u64 ssp;		/* 0x5e8 */
	u64 isst_addr;		/* 0x5f0 */
	u64 rax;		/* 0x5f8 */
	u64 star;		/* 0x600 */
	u64 lstar;		/* 0x608 */
	u64 cstar;		/* 0x610 */
	u64 sfmask;		/* 0x618 */
	u64 kernel_gs_base;	/* 0x620 */
	u64 sysenter_cs;	/* 0x628 */
	u64 sysenter_esp;	/* 0x630 */
	u64 sysenter_eip;	/* 0x638 */
	u64 cr2;		/* 0x640 */
	u8 reserved_648[0x668 - 0x648];
	u64 g_pat;		/* 0x668 */
	u64 dbgctl;		/* 0x670 */
	u64 br_from;		/* 0x678 */
	u64 br_to;		/* 0x680 */
	u64 last_excp_from;	/* 0x688 */
	u64 last_excp_to;	/* 0x690 */
} __attribute__((packed));

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __attribute__((packed));

#define VMCB_OFF(f)	__builtin_offsetof(struct vmcb, f)
_Static_assert(VMCB_OFF(control.intercept_exceptions) == 0x008, "VMCB layout");
_Static_assert(VMCB_OFF(control.intercept_misc1) == 0x00c, "VMCB layout");
_Static_assert(VMCB_OFF(control.intercept_misc2) == 0x010, "VMCB layout");
_Static_assert(VMCB_OFF(control.iopm_base_pa) == 0x040, "VMCB layout");
_Static_assert(VMCB_OFF(control.msrpm_base_pa) == 0x048, "VMCB layout");
_Static_assert(VMCB_OFF(control.asid) == 0x058, "VMCB layout");
_Static_assert(VMCB_OFF(control.tlb_control) == 0x05c, "VMCB layout");
_Static_assert(VMCB_OFF(control.int_ctl) == 0x060, "VMCB layout");
_Static_assert(VMCB_OFF(control.exit_code) == 0x070, "VMCB layout");
_Static_assert(VMCB_OFF(control.exit_info_1) == 0x078, "VMCB layout");
_Static_assert(VMCB_OFF(control.exit_info_2) == 0x080, "VMCB layout");
_Static_assert(VMCB_OFF(control.nested_ctl) == 0x090, "VMCB layout");
_Static_assert(VMCB_OFF(control.event_inj) == 0x0a8, "VMCB layout");
_Static_assert(VMCB_OFF(control.nested_cr3) == 0x0b0, "VMCB layout");
_Static_assert(VMCB_OFF(control.clean) == 0x0c0, "VMCB layout");
_Static_assert(VMCB_OFF(control.next_rip) == 0x0c8, "VMCB layout");
_Static_assert(VMCB_OFF(save) == 0x400, "VMCB layout");
_Static_assert(VMCB_OFF(save.cs) == 0x410, "VMCB layout");
_Static_assert(VMCB_OFF(save.gdtr) == 0x460, "VMCB layout");
_Static_assert(VMCB_OFF(save.idtr) == 0x480, "VMCB layout");
_Static_assert(VMCB_OFF(save.tr) == 0x490, "VMCB layout");
_Static_assert(VMCB_OFF(save.cpl) == 0x4cb, "VMCB layout");
_Static_assert(VMCB_OFF(save.efer) == 0x4d0, "VMCB layout");
_Static_assert(VMCB_OFF(save.cr4) == 0x548, "VMCB layout");
_Static_assert(VMCB_OFF(save.cr0) == 0x558, "VMCB layout");
_Static_assert(VMCB_OFF(save.rflags) == 0x570, "VMCB layout");
_Static_assert(VMCB_OFF(save.rip) == 0x578, "VMCB layout");
_Static_assert(VMCB_OFF(save.rsp) == 0x5d8, "VMCB layout");
_Static_assert(VMCB_OFF(save.rax) == 0x5f8, "VMCB layout");
_Static_assert(VMCB_OFF(save.cr2) == 0x640, "VMCB layout");
_Static_assert(VMCB_OFF(save.g_pat) == 0x668, "VMCB layout");
_Static_assert(sizeof(struct vmcb) <= 4096, "VMCB fits a page");

/* intercept_misc1 (VMCB 0x00c). */
#define SVM_INTERCEPT_INTR		BIT(0)
#define SVM_INTERCEPT_NMI		BIT(1)
#define SVM_INTERCEPT_VINTR		BIT(4)
#define SVM_INTERCEPT_RDTSC		BIT(14)
#define SVM_INTERCEPT_CPUID		BIT(18)
#define SVM_INTERCEPT_HLT		BIT(24)
#define SVM_INTERCEPT_INVLPG		BIT(25)
#define SVM_INTERCEPT_IOIO_PROT		BIT(27)
#define SVM_INTERCEPT_MSR_PROT		BIT(28)
#define SVM_INTERCEPT_SHUTDOWN		BIT(31)
/* intercept_misc2 (VMCB 0x010). VMRUN must be intercepted, or VMRUN fails. */
#define SVM_INTERCEPT2_VMRUN		BIT(0)
#define SVM_INTERCEPT2_VMMCALL		BIT(1)
#define SVM_INTERCEPT2_VMLOAD		BIT(2)
#define SVM_INTERCEPT2_VMSAVE		BIT(3)
#define SVM_INTERCEPT2_STGI		BIT(4)
#define SVM_INTERCEPT2_CLGI		BIT(5)

/* int_ctl (VMCB 0x060). */
#define SVM_V_TPR_MASK			0xfU
#define SVM_V_IRQ			BIT(8)
#define SVM_V_GIF			BIT(9)
#define SVM_V_INTR_PRIO_SHIFT		16
#define SVM_V_IGN_TPR			BIT(20)
#define SVM_V_INTR_MASKING		BIT(24)
#define SVM_V_GIF_ENABLE		BIT(25)

#define SVM_NESTED_CTL_NP_ENABLE	BIT_ULL(0)

/* tlb_control (VMCB 0x05c). */
#define SVM_TLB_CONTROL_DO_NOTHING	0
#define SVM_TLB_CONTROL_FLUSH_ALL	1
#define SVM_TLB_CONTROL_FLUSH_ASID	3

/* EVENTINJ (VMCB 0x0a8). */
#define SVM_EVTINJ_VALID		BIT_ULL(31)
#define SVM_EVTINJ_VALID_ERR		BIT_ULL(11)
#define SVM_EVTINJ_TYPE_SHIFT		8
#define SVM_EVTINJ_ERR_SHIFT		32

/* int_state (VMCB 0x068). */
#define SVM_INTERRUPT_SHADOW		BIT(0)

/* The TSC ratio MSR (TSCRateMSR): 8.32 fixed point, 1.0 at reset. */
#define MSR_AMD64_TSC_RATIO		0xc0000104
#define SVM_TSC_RATIO_ONE		(1ULL << 32)
#define SVM_EVTINJ_TYPE_INTR		(0ULL << 8)
#define SVM_EVTINJ_TYPE_EXCEPTION	(3ULL << 8)

/* Exit codes (APM Vol. 2, Appendix C). */
#define SVM_EXIT_READ_CR0		0x000
#define SVM_EXIT_WRITE_CR0		0x010
#define SVM_EXIT_EXCP_BASE		0x040
#define SVM_EXIT_INTR			0x060
#define SVM_EXIT_NMI			0x061
#define SVM_EXIT_VINTR			0x064
#define SVM_EXIT_RDTSC			0x06e
#define SVM_EXIT_CPUID			0x072
#define SVM_EXIT_HLT			0x078
#define SVM_EXIT_INVLPG			0x079
#define SVM_EXIT_IOIO			0x07b
#define SVM_EXIT_MSR			0x07c
#define SVM_EXIT_SHUTDOWN		0x07f
#define SVM_EXIT_VMRUN			0x080
#define SVM_EXIT_VMMCALL		0x081
#define SVM_EXIT_NPF			0x400
#define SVM_EXIT_ERR			(~0ULL)	/* VMEXIT_INVALID */

/* EXITINFO1 of an IOIO exit. */
#define SVM_IOIO_TYPE_IN		BIT_ULL(0)
#define SVM_IOIO_STR			BIT_ULL(2)
#define SVM_IOIO_REP			BIT_ULL(3)
#define SVM_IOIO_SIZE_SHIFT		4	/* bits 6:4: 1, 2 or 4 bytes, one-hot */
#define SVM_IOIO_PORT_SHIFT		16

/* EXITINFO1 of a nested page fault: a #PF error code plus two flags. */
#define SVM_NPF_PRESENT			BIT_ULL(0)
#define SVM_NPF_WRITE			BIT_ULL(1)
#define SVM_NPF_USER			BIT_ULL(2)
#define SVM_NPF_RSVD			BIT_ULL(3)
#define SVM_NPF_FETCH			BIT_ULL(4)
#define SVM_NPF_FINAL_TRANSLATION	BIT_ULL(32)
#define SVM_NPF_GUEST_PAGE_TABLES	BIT_ULL(33)

/* Segment attributes, VMCB packing of descriptor bits 40-47 and 52-55. */
#define SVM_ATTR_CODE64			0xa9b	/* P, S, type 0xb, L, G */
#define SVM_ATTR_CODE32			0xc9b	/* P, S, type 0xb, D/B, G */
#define SVM_ATTR_DATA			0xc93	/* P, S, type 0x3, D/B, G */
#define SVM_ATTR_TSS64_BUSY		0x08b	/* P, type 0xb */

#define SVM_IOPM_SIZE			(3 * 4096)	/* 65536 ports + 1 page */
#define SVM_MSRPM_SIZE			(2 * 4096)

/* Per-vCPU SVM state, in guest memory: GVAs for L1, GPAs for the CPU. */
struct svm_state {
	struct vmcb *vmcb;
	u64 vmcb_gpa;
	void *hsave;
	u64 hsave_gpa;
	u8 *iopm;
	u64 iopm_gpa;
	u8 *msrpm;
	u64 msrpm_gpa;
	bool has_nrips;
	bool has_vgif;
};

struct l2_gprs;

/* L1 side. */
void svm_enable(struct svm_state *svm);
/* A flat segment: base 0, limit 4 GiB, the selector and attributes given. */
void svm_set_flat_seg(struct vmcb_seg *seg, u16 selector, u16 attrib);
void svm_vmcb_init(struct svm_state *svm, u64 l2_rip, u64 l2_rsp);
void svm_set_npt(struct svm_state *svm, u64 ncr3);
void svm_intercept_io(struct svm_state *svm, u16 port, bool on);
/* VMRUN and back; the GPRs VMRUN does not switch are swapped with @gprs. */
void svm_vmrun(u64 vmcb_gpa, struct l2_gprs *gprs);

#endif /* KVMTEST_X86_SVM_H */
