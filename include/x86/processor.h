/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * x86 CPU facts and helpers: control-register and MSR bits, CPUID
 * features, instructions for guest code, and the per-VM/per-vCPU x86 state
 * the library keeps.
 */
#ifndef KVMTEST_X86_PROCESSOR_H
#define KVMTEST_X86_PROCESSOR_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "test_util.h"

#define X86_CR0_PE	BIT_ULL(0)
#define X86_CR0_MP	BIT_ULL(1)
#define X86_CR0_EM	BIT_ULL(2)
#define X86_CR0_TS	BIT_ULL(3)
#define X86_CR0_ET	BIT_ULL(4)
#define X86_CR0_NE	BIT_ULL(5)
#define X86_CR0_WP	BIT_ULL(16)
#define X86_CR0_AM	BIT_ULL(18)
#define X86_CR0_NW	BIT_ULL(29)
#define X86_CR0_CD	BIT_ULL(30)
#define X86_CR0_PG	BIT_ULL(31)

#define X86_CR4_VME	BIT_ULL(0)
#define X86_CR4_PVI	BIT_ULL(1)
#define X86_CR4_TSD	BIT_ULL(2)
#define X86_CR4_DE	BIT_ULL(3)
#define X86_CR4_PSE	BIT_ULL(4)
#define X86_CR4_PAE	BIT_ULL(5)
#define X86_CR4_MCE	BIT_ULL(6)
#define X86_CR4_PGE	BIT_ULL(7)
#define X86_CR4_PCE	BIT_ULL(8)
#define X86_CR4_OSFXSR	BIT_ULL(9)
#define X86_CR4_OSXMMEXCPT BIT_ULL(10)
#define X86_CR4_UMIP	BIT_ULL(11)
#define X86_CR4_LA57	BIT_ULL(12)
#define X86_CR4_VMXE	BIT_ULL(13)
#define X86_CR4_SMXE	BIT_ULL(14)
#define X86_CR4_FSGSBASE BIT_ULL(16)
#define X86_CR4_PCIDE	BIT_ULL(17)
#define X86_CR4_OSXSAVE	BIT_ULL(18)
#define X86_CR4_SMEP	BIT_ULL(20)
#define X86_CR4_SMAP	BIT_ULL(21)
#define X86_CR4_PKE	BIT_ULL(22)

#define X86_EFLAGS_FIXED BIT_ULL(1)
#define X86_EFLAGS_IF	BIT_ULL(9)

#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define EFER_SCE		BIT_ULL(0)
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)
#define EFER_NX			BIT_ULL(11)
#define EFER_SVME		BIT_ULL(12)
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_APICBASE	0x0000001b
#define MSR_IA32_SYSENTER_ESP	0x00000175
#define MSR_IA32_SYSENTER_EIP	0x00000176
#define MSR_IA32_FEAT_CTL	0x0000003a
#define MSR_IA32_CR_PAT		0x00000277
#define MSR_IA32_MISC_ENABLE	0x000001a0
#define MSR_VM_HSAVE_PA		0xc0010117

/* Exception vectors. */
#define DE_VECTOR	0
#define DB_VECTOR	1
#define NMI_VECTOR	2
#define BP_VECTOR	3
#define OF_VECTOR	4
#define BR_VECTOR	5
#define UD_VECTOR	6
#define NM_VECTOR	7
#define DF_VECTOR	8
#define TS_VECTOR	10
#define NP_VECTOR	11
#define SS_VECTOR	12
#define GP_VECTOR	13
#define PF_VECTOR	14
#define MF_VECTOR	16
#define AC_VECTOR	17
#define MC_VECTOR	18
#define XM_VECTOR	19
#define VE_VECTOR	20
#define CP_VECTOR	21

/* #PF error code bits. */
#define PFERR_PRESENT	BIT(0)
#define PFERR_WRITE	BIT(1)
#define PFERR_USER	BIT(2)
#define PFERR_RSVD	BIT(3)
#define PFERR_FETCH	BIT(4)

/*
 * A CPUID feature: where its bit lives. X86_FEATURE_* and friends are
 * compound literals so a test names a feature once.
 */
struct x86_cpu_feature {
	u32 function;
	u32 index;
	u8 reg;		/* 0 eax, 1 ebx, 2 ecx, 3 edx */
	u8 bit;
};
#define KVM_X86_FEATURE(fn, idx, r, b)					\
	((struct x86_cpu_feature){ .function = fn, .index = idx,	\
				   .reg = r, .bit = b })
#define CPUID_EAX 0
#define CPUID_EBX 1
#define CPUID_ECX 2
#define CPUID_EDX 3

#define X86_FEATURE_VMX		KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 5)
#define X86_FEATURE_XSAVE	KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 26)
#define X86_FEATURE_OSXSAVE	KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 27)
#define X86_FEATURE_X2APIC	KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 21)
#define X86_FEATURE_PGE		KVM_X86_FEATURE(0x1, 0, CPUID_EDX, 13)
#define X86_FEATURE_LA57	KVM_X86_FEATURE(0x7, 0, CPUID_ECX, 16)
#define X86_FEATURE_SMEP	KVM_X86_FEATURE(0x7, 0, CPUID_EBX, 7)
#define X86_FEATURE_SMAP	KVM_X86_FEATURE(0x7, 0, CPUID_EBX, 20)
#define X86_FEATURE_SVM		KVM_X86_FEATURE(0x80000001, 0, CPUID_ECX, 2)
#define X86_FEATURE_NX		KVM_X86_FEATURE(0x80000001, 0, CPUID_EDX, 20)
#define X86_FEATURE_GBPAGES	KVM_X86_FEATURE(0x80000001, 0, CPUID_EDX, 26)
#define X86_FEATURE_LM		KVM_X86_FEATURE(0x80000001, 0, CPUID_EDX, 29)
#define X86_FEATURE_NPT		KVM_X86_FEATURE(0x8000000A, 0, CPUID_EDX, 0)
#define X86_FEATURE_NRIPS	KVM_X86_FEATURE(0x8000000A, 0, CPUID_EDX, 3)
#define X86_FEATURE_TSCRATEMSR	KVM_X86_FEATURE(0x8000000A, 0, CPUID_EDX, 4)
#define X86_FEATURE_VGIF	KVM_X86_FEATURE(0x8000000A, 0, CPUID_EDX, 16)

/* Guest-physical address width, CPUID 0x80000008 EAX[7:0]. */
#define X86_PROPERTY_MAX_PHY_ADDR KVM_X86_FEATURE(0x80000008, 0, CPUID_EAX, 0)

/* KVM_GET_SUPPORTED_CPUID, read once per process. */
const struct kvm_cpuid2 *kvm_supported_cpuid(void);
const struct kvm_cpuid_entry2 *kvm_cpuid_entry(const struct kvm_cpuid2 *cpuid,
					       u32 function, u32 index);
bool kvm_cpu_has(struct x86_cpu_feature feature);
u32 kvm_cpuid_reg(u32 function, u32 index, int reg);
int kvm_cpu_max_pa_bits(void);

/* The port of the ucall transport (lib/x86/ucall.c): OUT, struct in RDI. */
#define UCALL_PIO_PORT		0x1000

/*
 * The interrupt controllers KVM emulates for a VM (struct vm_options'
 * irqchip). The default is what the in-tree selftests and most VMMs' PC
 * machines use: KVM_CREATE_IRQCHIP, so KVM_IRQ_LINE reaches an IOAPIC and
 * every vCPU has a LAPIC; helpers in x86/apic.h.
 */
enum vm_irqchip {
	VM_IRQCHIP_DEFAULT,	/* KERNEL where KVM offers it, else NONE */
	VM_IRQCHIP_KERNEL,	/* KVM_CREATE_IRQCHIP: LAPICs, IOAPIC, PICs */
	VM_IRQCHIP_SPLIT,	/* KVM_CAP_SPLIT_IRQCHIP: LAPICs only */
	VM_IRQCHIP_NONE,	/* none: KVM_INTERRUPT, HLT exits to userspace */
};

/* Per-VM and per-vCPU x86 state, embedded in struct kvm_vm / kvm_vcpu. */
struct kvm_vm_arch {
	u64 gdt;		/* GVA of the shared GDT */
	u64 idt;		/* GVA of the shared IDT */
	bool has_gbpages;
	enum vm_irqchip irqchip;
	/*
	 * vcpu_alloc_nested_state() calls so far: each copied the stage-2
	 * root (or its absence), so stage-2 cannot be enabled after them.
	 */
	int nested_states;
};

struct kvm_vcpu_arch {
	u64 stack_top;		/* GVA */
	u64 tss;		/* GVA of this vCPU's TSS */
	struct kvm_cpuid2 *cpuid;	/* what KVM_SET_CPUID2 was given */
};

struct kvm_vm;
struct kvm_vcpu;

/* Host-side vCPU helpers. */
void vcpu_regs_get(struct kvm_vcpu *vcpu, struct kvm_regs *regs);
void vcpu_regs_set(struct kvm_vcpu *vcpu, struct kvm_regs *regs);
void vcpu_sregs_get(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);
void vcpu_sregs_set(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);
int __vcpu_sregs_set(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs);
u64 vcpu_get_msr(struct kvm_vcpu *vcpu, u32 index);
void vcpu_set_msr(struct kvm_vcpu *vcpu, u32 index, u64 value);
int __vcpu_set_msr(struct kvm_vcpu *vcpu, u32 index, u64 value);
/* Set the guest function's first @nargs integer arguments (SysV ABI). */
void vcpu_args_set(struct kvm_vcpu *vcpu, int nargs, ...);
void vcpu_set_cpuid(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
/* Set or clear one feature bit in the vCPU's CPUID (before its first run). */
void vcpu_cpuid_set_feature(struct kvm_vcpu *vcpu, struct x86_cpu_feature f,
			    bool on);
void vcpu_dump(FILE *out, struct kvm_vcpu *vcpu);

/*
 * Everything KVM keeps of a vCPU (registers, events, FPU/XSAVE, MSRs,
 * nested state), saved and loaded as a VMM migrating it would. Finish a
 * pending I/O exit first (vcpu_complete_io()).
 */
struct kvm_x86_state;
struct kvm_x86_state *vcpu_save_state(struct kvm_vcpu *vcpu);
void vcpu_load_state(struct kvm_vcpu *vcpu, struct kvm_x86_state *st);
void kvm_x86_state_free(struct kvm_x86_state *st);
/*
 * Whether two saved states are the same, bar what moves on its own (the
 * TSC and other time counters, the APIC timer's current count); if not, the first difference is
 * described in @why.
 */
bool kvm_x86_state_same(const struct kvm_x86_state *a,
			const struct kvm_x86_state *b, char *why, size_t len);
/*
 * Migrate the whole VM, as a VMM would, into a new KVM VM over the same
 * memory: every vCPU's pending exit finished, its state saved (its LAPIC
 * included), the VM-wide state saved (kvmclock, the in-kernel PICs and
 * IOAPIC), the VM replaced (vm_restart()) and all of it loaded again.
 */
void vm_migrate(struct kvm_vm *vm);


/* Guest-side instructions. */
static inline void outb(u16 port, u8 value)
{
	__asm__ volatile("outb %b0, %w1" : : "a"(value), "Nd"(port));
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return lo | ((u64)hi << 32);
}

static inline void wrmsr(u32 msr, u64 value)
{
	__asm__ volatile("wrmsr" : : "a"((u32)value), "d"(value >> 32),
			 "c"(msr) : "memory");
}

static inline void cpuid_count(u32 function, u32 index, u32 *eax, u32 *ebx,
			       u32 *ecx, u32 *edx)
{
	__asm__ volatile("cpuid"
			 : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
			 : "0"(function), "2"(index) : "memory");
}

static inline bool this_cpu_has(struct x86_cpu_feature f)
{
	u32 r[4];

	cpuid_count(f.function, f.index, &r[0], &r[1], &r[2], &r[3]);
	return r[f.reg] & BIT(f.bit);
}

#define DEFINE_READ_CR(n)						\
static inline u64 get_cr##n(void)					\
{									\
	u64 v;								\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v) : : "memory");	\
	return v;							\
}									\
static inline void set_cr##n(u64 v)					\
{									\
	__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");	\
}
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)

static inline void invlpg(u64 gva)
{
	__asm__ volatile("invlpg (%0)" : : "r"(gva) : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline void cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void sti(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" : : : "memory"); }

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((u64)hi << 32);
}

#endif /* KVMTEST_X86_PROCESSOR_H */
