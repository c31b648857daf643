// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest side of the local APIC: switching modes, EOI, IPIs, and a counting
 * interrupt handler. The xAPIC page is mapped by the library at XAPIC_GVA
 * (lib/x86/irqchip.c); x2APIC goes through MSRs.
 */
#include "kvm_util.h"
#include "apic.h"
#include "exception.h"

u64 irq_count[256];
u64 irq_count_apic[IRQ_COUNT_APIC_IDS];

static void apic_sw_enable(bool x2apic)
{
	if (x2apic)
		x2apic_write_reg(APIC_SPIV,
				 x2apic_read_reg(APIC_SPIV) | APIC_SPIV_APIC_ENABLED);
	else
		xapic_write_reg(APIC_SPIV,
				xapic_read_reg(APIC_SPIV) | APIC_SPIV_APIC_ENABLED);
}

void xapic_enable(void)
{
	u64 base = rdmsr(MSR_IA32_APICBASE);

	/* x2APIC -> xAPIC is only legal through disabled (SDM 10.12.5). */
	if (base & MSR_IA32_APICBASE_EXTD) {
		base &= ~(MSR_IA32_APICBASE_EXTD | MSR_IA32_APICBASE_ENABLE);
		wrmsr(MSR_IA32_APICBASE, base);
	}
	wrmsr(MSR_IA32_APICBASE, base | MSR_IA32_APICBASE_ENABLE);
	apic_sw_enable(false);
}

void x2apic_enable(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) |
		  MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD);
	apic_sw_enable(true);
}

bool apic_in_x2apic_mode(void)
{
	return rdmsr(MSR_IA32_APICBASE) & MSR_IA32_APICBASE_EXTD;
}

u32 apic_id(void)
{
	if (apic_in_x2apic_mode())
		return x2apic_read_reg(APIC_ID);
	return xapic_read_reg(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	if (apic_in_x2apic_mode())
		x2apic_write_reg(APIC_EOI, 0);
	else
		xapic_write_reg(APIC_EOI, 0);
}

void xapic_send_ipi(u32 dest_id, u32 icr)
{
	xapic_write_reg(APIC_ICR2, dest_id << 24);
	xapic_write_reg(APIC_ICR, icr);
}

void x2apic_send_ipi(u32 dest_id, u32 icr)
{
	x2apic_write_reg(APIC_ICR, ((u64)dest_id << 32) | icr);
}

void apic_send_ipi(u32 dest_id, u32 icr)
{
	if (apic_in_x2apic_mode())
		x2apic_send_ipi(dest_id, icr);
	else
		xapic_send_ipi(dest_id, icr);
}

static void irq_counter(struct ex_regs *regs)
{
	u32 id = apic_id();

	__atomic_fetch_add(&irq_count[regs->vector & 0xff], 1, __ATOMIC_SEQ_CST);
	if (id < IRQ_COUNT_APIC_IDS)
		__atomic_fetch_add(&irq_count_apic[id], 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

void vm_install_irq_counter(struct kvm_vm *vm, int vector)
{
	TEST_ASSERT(vector >= 32 && vector < 256,
		    "vm_install_irq_counter: vector %d is not an interrupt vector (32-255)",
		    vector);
	vm_install_exception_handler(vm, vector, irq_counter);
}
