// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 per-VM set-up: the irqchip of each KVM VM opened, the descriptor
 * tables every vCPU shares and, with a LAPIC, the xAPIC page mapped.
 */
#include "kvm_util.h"
#include "apic.h"
#include "desc.h"

void x86_vm_open(struct kvm_vm *vm)
{
	vm_irqchip_create(vm);
}

void x86_vm_init(struct kvm_vm *vm)
{
	x86_gdt_init(vm);
	x86_idt_init(vm);
	/* Identity-mapped, so guest code uses one address for both. */
	if (vm_has_lapic(vm))
		kvm_mmu_map(vm, &vm->mmu, XAPIC_GVA, APIC_DEFAULT_GPA, PAGE_SIZE,
			    KVM_MMU_RW | KVM_MMU_MMIO);
}
