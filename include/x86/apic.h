/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local APIC: register layout (SDM Vol. 3, "Advanced Programmable
 * Interrupt Controller"), guest helpers for xAPIC (MMIO) and x2APIC (MSRs),
 * and the host side of interrupts: the VM's irqchip, LAPIC state and the
 * ways a VMM injects an interrupt.
 */
#ifndef KVMTEST_X86_APIC_H
#define KVMTEST_X86_APIC_H

#include "test_util.h"
#include "processor.h"

/* xAPIC MMIO base: GPA, and the GVA the library maps it at (identity). */
#define APIC_DEFAULT_GPA	0xfee00000ULL
#define XAPIC_GVA		APIC_DEFAULT_GPA

/* IA32_APIC_BASE. */
#define MSR_IA32_APICBASE_BSP	BIT_ULL(8)
#define MSR_IA32_APICBASE_EXTD	BIT_ULL(10)	/* x2APIC mode */
#define MSR_IA32_APICBASE_ENABLE BIT_ULL(11)
#define MSR_IA32_APICBASE_BASE	GENMASK_ULL(51, 12)

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + offset / 16. */
#define APIC_ID			0x020
#define APIC_LVR		0x030
#define APIC_TASKPRI		0x080
#define APIC_PROCPRI		0x0a0
#define APIC_EOI		0x0b0
#define APIC_LDR		0x0d0
#define APIC_DFR		0x0e0
#define APIC_SPIV		0x0f0
#define APIC_ISR		0x100
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVTT		0x320
#define APIC_LVTTHMR		0x330
#define APIC_LVTPC		0x340
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_LVTERR		0x370
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0
#define APIC_SELF_IPI		0x3f0	/* x2APIC only */

#define APIC_BASE_MSR		0x800
#define X2APIC_MSR(reg)		(APIC_BASE_MSR + ((reg) >> 4))

#define APIC_SPIV_APIC_ENABLED	BIT(8)
#define APIC_VECTOR_MASK	0xff

/* ICR (low half in xAPIC) and LVT bits. */
#define APIC_DM_FIXED		(0 << 8)
#define APIC_DM_NMI		(4 << 8)
#define APIC_DM_INIT		(5 << 8)
#define APIC_DM_STARTUP		(6 << 8)
#define APIC_DEST_LOGICAL	BIT(11)
#define APIC_ICR_BUSY		BIT(12)
#define APIC_INT_ASSERT		BIT(14)
#define APIC_INT_LEVELTRIG	BIT(15)
#define APIC_DEST_SELF		(1 << 18)
#define APIC_DEST_ALLINC	(2 << 18)
#define APIC_DEST_ALLBUT	(3 << 18)
#define APIC_LVT_MASKED		BIT(16)
#define APIC_LVT_TIMER_ONESHOT	(0 << 17)
#define APIC_LVT_TIMER_PERIODIC	(1 << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2 << 17)
#define APIC_TDR_DIV_1		0xb

#define MSR_IA32_TSC_DEADLINE	0x000006e0

#define X86_FEATURE_APIC	KVM_X86_FEATURE(0x1, 0, CPUID_EDX, 9)
#define X86_FEATURE_TSC_DEADLINE_TIMER KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 24)

/*
 * Guest side. The xAPIC helpers use the MMIO page the library maps at
 * XAPIC_GVA in every VM with an in-kernel LAPIC; the x2APIC helpers use
 * the MSRs. apic_*() pick by the vCPU's current mode (one RDMSR).
 */
static inline u32 xapic_read_reg(u32 reg)
{
	return READ_ONCE(*(volatile u32 *)(XAPIC_GVA + reg));
}

static inline void xapic_write_reg(u32 reg, u32 value)
{
	WRITE_ONCE(*(volatile u32 *)(XAPIC_GVA + reg), value);
}

static inline u64 x2apic_read_reg(u32 reg)
{
	return rdmsr(X2APIC_MSR(reg));
}

static inline void x2apic_write_reg(u32 reg, u64 value)
{
	wrmsr(X2APIC_MSR(reg), value);
}

void xapic_enable(void);		/* xAPIC mode, software-enabled */
void x2apic_enable(void);		/* x2APIC mode, software-enabled */
bool apic_in_x2apic_mode(void);
u32 apic_id(void);			/* this vCPU's APIC ID, either mode */
void apic_eoi(void);
/* Send an IPI: @icr is the low ICR word (vector, mode, shorthand). */
void xapic_send_ipi(u32 dest_id, u32 icr);
void x2apic_send_ipi(u32 dest_id, u32 icr);
void apic_send_ipi(u32 dest_id, u32 icr);

/* STI then HLT: the interrupt shadow makes the pair atomic. */
static inline void safe_halt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

/*
 * A ready-made interrupt handler: counts each interrupt on its vector in
 * irq_count[] and, for APIC IDs below IRQ_COUNT_APIC_IDS, per receiving
 * vCPU in irq_count_apic[] (atomically: any vCPU may take one), then sends
 * the EOI. Install with vm_install_irq_counter(); read with READ_ONCE in
 * the guest or read_guest_global() on the host.
 */
#define IRQ_COUNT_APIC_IDS	8
extern u64 irq_count[256];
extern u64 irq_count_apic[IRQ_COUNT_APIC_IDS];
struct kvm_vm;
void vm_install_irq_counter(struct kvm_vm *vm, int vector);

/* Host side. */
struct kvm_vcpu;

/*
 * Called on every KVM VM the library opens (vm_create(), vm_restart()):
 * creates what vm->arch.irqchip asks for, resolving VM_IRQCHIP_DEFAULT.
 */
void vm_irqchip_create(struct kvm_vm *vm);
bool vm_has_lapic(struct kvm_vm *vm);
/* KVM_CAP_IRQCHIP: default VMs get an in-kernel irqchip and LAPICs. */
bool kvm_has_irqchip(void);

void vcpu_lapic_get(struct kvm_vcpu *vcpu, struct kvm_lapic_state *s);
void vcpu_lapic_set(struct kvm_vcpu *vcpu, struct kvm_lapic_state *s);
static inline u32 lapic_state_reg(const struct kvm_lapic_state *s, u32 reg)
{
	return *(const u32 *)&s->regs[reg];
}
static inline void lapic_state_set_reg(struct kvm_lapic_state *s, u32 reg,
				       u32 value)
{
	*(u32 *)&s->regs[reg] = value;
}

/* KVM_IRQ_LINE on a GSI of the in-kernel IOAPIC/PIC (VM_IRQCHIP_KERNEL). */
void vm_irq_line(struct kvm_vm *vm, u32 gsi, int level);
/* KVM_SIGNAL_MSI: a fixed, edge, physical-mode MSI to @apic_id. */
int __vm_signal_msi(struct kvm_vm *vm, u32 apic_id, u8 vector);
void vm_signal_msi(struct kvm_vm *vm, u32 apic_id, u8 vector);
/* KVM_INTERRUPT: only without an in-kernel PIC (none or split). */
int __vcpu_interrupt(struct kvm_vcpu *vcpu, u8 vector);
void vcpu_interrupt(struct kvm_vcpu *vcpu, u8 vector);

/*
 * The VM-wide irqchip state (PICs and IOAPIC) a migration carries, for
 * VM_IRQCHIP_KERNEL; a no-op without one.
 */
struct vm_irqchip_state;
struct vm_irqchip_state *vm_irqchip_save(struct kvm_vm *vm);
void vm_irqchip_load(struct kvm_vm *vm, struct vm_irqchip_state *st);

#endif /* KVMTEST_X86_APIC_H */
