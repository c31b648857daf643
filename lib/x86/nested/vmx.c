// SPDX-License-Identifier: GPL-2.0-only
/*
 * VMX, L1 side: IA32_FEATURE_CONTROL, the CR0/CR4 fixed bits, VMXON, and
 * a VMCS for an L2 that runs in long mode on L1's own paging, descriptor
 * tables and control registers, with controls adjusted to what the
 * capability MSRs allow (the TRUE_* ones when VMX_BASIC says they exist).
 * The VMLAUNCH/VMRESUME itself is in vmx_entry.S; the vendor-neutral loop
 * around it in nested_run.c.
 */
#include "nested/nested.h"
#include "desc.h"

u64 vmx_eptp(u64 root_gpa, int levels, bool ad)
{
	return root_gpa | EPTP_MEMTYPE_WB |
	       ((u64)(levels - 1) << EPTP_PWL_SHIFT) |
	       (ad ? EPTP_AD_ENABLE : 0);
}

u64 vmx_read_cap(u32 msr)
{
	return rdmsr(msr);
}

static inline u8 vmxon(u64 pa)
{
	u8 err;

	__asm__ volatile("vmxon %[pa]; setna %[e]"
			 : [e] "=rm"(err) : [pa] "m"(pa) : "cc", "memory");
	return err;
}

static inline u8 vmclear(u64 pa)
{
	u8 err;

	__asm__ volatile("vmclear %[pa]; setna %[e]"
			 : [e] "=rm"(err) : [pa] "m"(pa) : "cc", "memory");
	return err;
}

static inline u8 vmptrld(u64 pa)
{
	u8 err;

	__asm__ volatile("vmptrld %[pa]; setna %[e]"
			 : [e] "=rm"(err) : [pa] "m"(pa) : "cc", "memory");
	return err;
}

void vmx_enable(struct vmx_state *vmx)
{
	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	u32 revision = basic & VMX_BASIC_REVISION_MASK;
	u64 feat = rdmsr(MSR_IA32_FEAT_CTL);
	u64 cr0, cr4;

	/*
	 * VMXON #GPs unless firmware locked FEATURE_CONTROL with VMX allowed
	 * outside SMX; we are the firmware here, so do it if nobody has.
	 */
	if (!(feat & FEAT_CTL_LOCKED))
		wrmsr(MSR_IA32_FEAT_CTL,
		      feat | FEAT_CTL_LOCKED | FEAT_CTL_VMX_OUTSIDE_SMX);
	else
		GUEST_ASSERT_MSG(feat & FEAT_CTL_VMX_OUTSIDE_SMX,
				 "IA32_FEATURE_CONTROL is locked with VMX off: 0x%llx",
				 feat);

	/* Bits fixed to 1 in FIXED0 must be set, bits clear in FIXED1 clear. */
	cr0 = get_cr0();
	cr0 |= rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	cr0 &= rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	set_cr0(cr0);
	cr4 = get_cr4() | X86_CR4_VMXE;
	cr4 |= rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	cr4 &= rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	set_cr4(cr4);

	GUEST_ASSERT_MSG(VMX_BASIC_VMCS_SIZE(basic) <= PAGE_SIZE,
			 "VMCS size %llu > 4096", VMX_BASIC_VMCS_SIZE(basic));
	*(u32 *)vmx->vmxon = revision;
	GUEST_ASSERT_MSG(!vmxon(vmx->vmxon_gpa), "VMXON at 0x%llx failed",
			 vmx->vmxon_gpa);
	vmx->ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
}

/*
 * Make the VMCS current and "clear", so the next entry is a VMLAUNCH:
 * the first time, and whenever L2 is set up afresh.
 */
void vmx_vmcs_load(struct vmx_state *vmx)
{
	*(u32 *)vmx->vmcs = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_REVISION_MASK;
	GUEST_ASSERT_MSG(!vmclear(vmx->vmcs_gpa), "VMCLEAR of 0x%llx failed",
			 vmx->vmcs_gpa);
	GUEST_ASSERT_MSG(!vmptrld(vmx->vmcs_gpa), "VMPTRLD of 0x%llx failed",
			 vmx->vmcs_gpa);
	vmx->launched = false;
}

#define VMWRITE(f, v)							\
do {									\
	u64 __v = (v);							\
	GUEST_ASSERT_MSG(!vmwrite(f, __v), "VMWRITE %s = 0x%llx failed",	\
			 #f, __v);					\
} while (0)

/*
 * A control field's value: what we want, adjusted by what the capability
 * MSR allows; bits in @need must survive the adjustment.
 */
static u32 controls(u32 msr, u32 true_msr, u32 want, u32 need)
{
	bool has_true = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
	u64 cap = rdmsr(has_true && true_msr ? true_msr : msr);
	u32 val = vmx_adjust_controls(cap, want);

	GUEST_ASSERT_MSG((val & need) == need,
			 "VMX control MSR 0x%x (0x%llx) does not allow 0x%x",
			 has_true && true_msr ? true_msr : msr, cap, need);
	return val;
}

struct desc_ptr64 {
	u16 limit;
	u64 base;
} __attribute__((packed));

void vmx_vmcs_init(struct vmx_state *vmx, u64 l2_rip, u64 l2_rsp,
		   u64 tss_base)
{
	struct desc_ptr64 gdt, idt;
	u32 proc;

	__asm__ volatile("sgdt %0" : "=m"(gdt));
	__asm__ volatile("sidt %0" : "=m"(idt));

	/* Controls. */
	VMWRITE(PIN_BASED_VM_EXEC_CONTROL,
		controls(MSR_IA32_VMX_PINBASED_CTLS,
			 MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0, 0));
	/*
	 * HLT exits (nothing would wake L2); I/O and MSR accesses go through
	 * bitmaps that start all-clear, so the ucall port reaches L0 and the
	 * host test directly. The secondary controls carry EPT.
	 */
	proc = controls(MSR_IA32_VMX_PROCBASED_CTLS,
			MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
			CPU_HLT_EXITING | CPU_USE_IO_BITMAPS |
			CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY,
			CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS);
	VMWRITE(CPU_BASED_VM_EXEC_CONTROL, proc);
	if (proc & CPU_ACTIVATE_SECONDARY)
		VMWRITE(SECONDARY_VM_EXEC_CONTROL,
			controls(MSR_IA32_VMX_PROCBASED_CTLS2, 0, 0, 0));
	VMWRITE(VM_EXIT_CONTROLS,
		controls(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
			 EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER |
			 EXIT_SAVE_EFER | EXIT_LOAD_PAT | EXIT_SAVE_PAT,
			 EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER));
	VMWRITE(VM_ENTRY_CONTROLS,
		controls(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
			 ENTRY_IA32E_MODE | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
			 ENTRY_IA32E_MODE | ENTRY_LOAD_EFER));
	VMWRITE(EXCEPTION_BITMAP, 0);
	VMWRITE(PAGE_FAULT_ERROR_CODE_MASK, 0);
	VMWRITE(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	VMWRITE(CR3_TARGET_COUNT, 0);
	VMWRITE(VM_EXIT_MSR_STORE_COUNT, 0);
	VMWRITE(VM_EXIT_MSR_LOAD_COUNT, 0);
	VMWRITE(VM_ENTRY_MSR_LOAD_COUNT, 0);
	VMWRITE(VM_ENTRY_INTR_INFO_FIELD, 0);
	VMWRITE(IO_BITMAP_A, vmx->io_bitmap_a_gpa);
	VMWRITE(IO_BITMAP_B, vmx->io_bitmap_b_gpa);
	VMWRITE(MSR_BITMAP, vmx->msr_bitmap_gpa);
	/* L2 owns CR0/CR4 outright: no bits are host-owned, no CR exits. */
	VMWRITE(CR0_GUEST_HOST_MASK, 0);
	VMWRITE(CR4_GUEST_HOST_MASK, 0);
	VMWRITE(CR0_READ_SHADOW, get_cr0());
	VMWRITE(CR4_READ_SHADOW, get_cr4());

	/* Host state: L1 as it is now; RSP/RIP are written by vmx_enter. */
	VMWRITE(HOST_CR0, get_cr0());
	VMWRITE(HOST_CR3, get_cr3());
	VMWRITE(HOST_CR4, get_cr4());
	VMWRITE(HOST_ES_SELECTOR, KERNEL_DS);
	VMWRITE(HOST_CS_SELECTOR, KERNEL_CS);
	VMWRITE(HOST_SS_SELECTOR, KERNEL_DS);
	VMWRITE(HOST_DS_SELECTOR, KERNEL_DS);
	VMWRITE(HOST_FS_SELECTOR, KERNEL_DS);
	VMWRITE(HOST_GS_SELECTOR, KERNEL_DS);
	VMWRITE(HOST_TR_SELECTOR, TSS_SEL);
	VMWRITE(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	VMWRITE(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	/* The exit reloads TR from here: it must be L1's real TSS. */
	VMWRITE(HOST_TR_BASE, tss_base);
	VMWRITE(HOST_GDTR_BASE, gdt.base);
	VMWRITE(HOST_IDTR_BASE, idt.base);
	VMWRITE(HOST_IA32_SYSENTER_CS, 0);
	VMWRITE(HOST_IA32_SYSENTER_ESP, 0);
	VMWRITE(HOST_IA32_SYSENTER_EIP, 0);
	VMWRITE(HOST_IA32_EFER, rdmsr(MSR_EFER));
	VMWRITE(HOST_IA32_PAT, rdmsr(MSR_IA32_CR_PAT));

	/* Guest state: long mode on L1's paging and descriptor tables. */
	VMWRITE(VMCS_LINK_POINTER, ~0ULL);	/* no shadow VMCS */
	VMWRITE(GUEST_CR0, get_cr0());
	VMWRITE(GUEST_CR3, get_cr3());
	VMWRITE(GUEST_CR4, get_cr4());
	VMWRITE(GUEST_IA32_EFER, rdmsr(MSR_EFER));
	VMWRITE(GUEST_IA32_PAT, rdmsr(MSR_IA32_CR_PAT));
	VMWRITE(GUEST_IA32_DEBUGCTL, 0);
	VMWRITE(GUEST_DR7, 0x400);
	VMWRITE(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	VMWRITE(GUEST_RIP, l2_rip);
	VMWRITE(GUEST_RSP, l2_rsp);
	VMWRITE(GUEST_INTERRUPTIBILITY_INFO, 0);
	VMWRITE(GUEST_ACTIVITY_STATE, 0);
	VMWRITE(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	VMWRITE(GUEST_SYSENTER_CS, 0);
	VMWRITE(GUEST_SYSENTER_ESP, 0);
	VMWRITE(GUEST_SYSENTER_EIP, 0);

	VMWRITE(GUEST_CS_SELECTOR, KERNEL_CS);
	VMWRITE(GUEST_CS_BASE, 0);
	VMWRITE(GUEST_CS_LIMIT, 0xffffffff);
	VMWRITE(GUEST_CS_AR_BYTES, VMX_AR_CODE64);
#define DATA_SEG(s)							\
	do {								\
		VMWRITE(GUEST_##s##_SELECTOR, KERNEL_DS);		\
		VMWRITE(GUEST_##s##_BASE, 0);				\
		VMWRITE(GUEST_##s##_LIMIT, 0xffffffff);			\
		VMWRITE(GUEST_##s##_AR_BYTES, VMX_AR_DATA);		\
	} while (0)
	DATA_SEG(ES);
	DATA_SEG(SS);
	DATA_SEG(DS);
	DATA_SEG(FS);
	DATA_SEG(GS);
#undef DATA_SEG
	VMWRITE(GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
	VMWRITE(GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
	VMWRITE(GUEST_LDTR_SELECTOR, 0);
	VMWRITE(GUEST_LDTR_BASE, 0);
	VMWRITE(GUEST_LDTR_LIMIT, 0);
	VMWRITE(GUEST_LDTR_AR_BYTES, VMX_AR_UNUSABLE);
	/* IA-32e guests need a usable, busy 64-bit TSS in TR. */
	VMWRITE(GUEST_TR_SELECTOR, TSS_SEL);
	VMWRITE(GUEST_TR_BASE, tss_base);
	VMWRITE(GUEST_TR_LIMIT, 0x67);
	VMWRITE(GUEST_TR_AR_BYTES, VMX_AR_TSS64_BUSY);
	VMWRITE(GUEST_GDTR_BASE, gdt.base);
	VMWRITE(GUEST_GDTR_LIMIT, gdt.limit);
	VMWRITE(GUEST_IDTR_BASE, idt.base);
	VMWRITE(GUEST_IDTR_LIMIT, idt.limit);
}

void vmx_set_ept(struct vmx_state *vmx, u64 eptp)
{
	u64 cap = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);

	GUEST_ASSERT_MSG((cap >> 32) & CPU2_ENABLE_EPT,
			 "EPT not allowed by PROCBASED_CTLS2 0x%llx", cap);
	GUEST_ASSERT_MSG(vmread(CPU_BASED_VM_EXEC_CONTROL) &
			 CPU_ACTIVATE_SECONDARY,
			 "secondary controls are off; EPT needs them");
	VMWRITE(SECONDARY_VM_EXEC_CONTROL,
		vmread(SECONDARY_VM_EXEC_CONTROL) | CPU2_ENABLE_EPT);
	VMWRITE(EPT_POINTER, eptp);
	vmx->eptp = eptp;
}

struct invept_desc {
	u64 eptp;
	u64 reserved;
};

/*
 * INVEPT the current EPTP: single-context when the CPU has it, else all
 * contexts (both flush what we need; single is what a real L1 would use).
 */
void vmx_invept(struct vmx_state *vmx)
{
	struct invept_desc desc = { .eptp = vmx->eptp };
	u64 type = (vmx->ept_cap & VMX_EPT_CAP_INVEPT_SINGLE) ?
		   INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT;
	u8 err;

	GUEST_ASSERT_MSG(vmx->ept_cap & VMX_EPT_CAP_INVEPT,
			 "INVEPT not supported (EPT_VPID_CAP 0x%llx)",
			 vmx->ept_cap);
	__asm__ volatile("invept %[d], %[t]; setna %[e]"
			 : [e] "=rm"(err) : [d] "m"(desc), [t] "r"(type)
			 : "cc", "memory");
	GUEST_ASSERT_MSG(!err, "INVEPT type %llu failed", type);
}

void vmx_intercept_io(struct vmx_state *vmx, u16 port, bool on)
{
	u8 *map = port < 0x8000 ? vmx->io_bitmap_a : vmx->io_bitmap_b;
	u16 bit = port & 0x7fff;

	if (on)
		map[bit / 8] |= 1 << (bit % 8);
	else
		map[bit / 8] &= ~(1 << (bit % 8));
}
