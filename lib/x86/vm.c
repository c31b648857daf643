// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 per-VM set-up: the irqchip of each KVM VM opened, the descriptor
 * tables every vCPU shares and, with a LAPIC, the xAPIC page mapped.
 */
#include "kvm_util.h"
#include "internal.h"
#include "apic.h"
#include "desc.h"

void vm_arch_setup(struct kvm_vm *vm, const struct vm_options *opts)
{
	if (!opts) {
		/* No KVM to ask: give the walker every page size. */
		vm->arch.has_gbpages = true;
		return;
	}
	vm->arch.irqchip = opts->irqchip;
	if (opts->va_bits == 57)
		TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_LA57));
	vm->arch.has_gbpages = kvm_cpu_has(X86_FEATURE_GBPAGES);
}

int vm_arch_pa_bits(struct kvm_vm *vm)
{
	return kvm_cpu_max_pa_bits();
}

void vm_arch_mmu_init(struct kvm_vm *vm)
{
	struct kvm_mmu_arch arch;

	TEST_ASSERT(vm->va_bits == 48 || vm->va_bits == 57,
		    "guest VA width must be 48 or 57 bits, not %d", vm->va_bits);
	x86_mmu_arch_guest(&arch, vm->pa_bits, vm->arch.has_gbpages);
	kvm_mmu_init(vm, &vm->mmu, vm->va_bits == 57 ? 5 : 4, &arch);
}

void vm_arch_open(struct kvm_vm *vm)
{
	vm_irqchip_create(vm);
}

void vm_arch_init(struct kvm_vm *vm)
{
	x86_gdt_init(vm);
	x86_idt_init(vm);
	/* Identity-mapped, so guest code uses one address for both. */
	if (vm_has_lapic(vm))
		kvm_mmu_map(vm, &vm->mmu, XAPIC_GVA, APIC_DEFAULT_GPA, PAGE_SIZE,
			    KVM_MMU_RW | KVM_MMU_MMIO);
}
