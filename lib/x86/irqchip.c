// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host side of interrupts: the VM's in-kernel irqchip, each vCPU's LAPIC
 * state, and the three ways a VMM raises an interrupt (an IOAPIC/PIC line,
 * an MSI, KVM_INTERRUPT into a vCPU without in-kernel PIC).
 *
 * VM_IRQCHIP_KERNEL is the default, as in the in-tree selftests and
 * Firecracker or QEMU's kernel-irqchip=on: it is the only mode where
 * KVM_IRQ_LINE reaches an in-kernel IOAPIC and PIC, so every path from a
 * line to a vector is KVM's own. Split (QEMU's q35 default, Cloud
 * Hypervisor) is one option away for tests of KVM_INTERRUPT's ExtINT path
 * or of what a userspace IOAPIC sees.
 */
#include "kvm_util.h"
#include "apic.h"

/* Ioapic routing reserved for userspace in split mode: 24 pins, as a PC. */
#define SPLIT_IRQCHIP_ROUTES	24

struct vm_irqchip_state {
	struct kvm_irqchip chips[3];	/* PIC master, PIC slave, IOAPIC */
	int nr;
};

bool kvm_has_irqchip(void)
{
	static int has = -1;

	if (has < 0)
		has = kvm_check_cap(KVM_CAP_IRQCHIP) > 0;
	return has;
}

void vm_irqchip_create(struct kvm_vm *vm)
{
	switch (vm->arch.irqchip) {
	case VM_IRQCHIP_DEFAULT:
		if (!kvm_has_irqchip()) {
			vm->arch.irqchip = VM_IRQCHIP_NONE;
			return;
		}
		vm->arch.irqchip = VM_IRQCHIP_KERNEL;
		/* fall through */
	case VM_IRQCHIP_KERNEL:
		vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL);
		break;
	case VM_IRQCHIP_SPLIT:
		TEST_REQUIRE(kvm_check_cap(KVM_CAP_SPLIT_IRQCHIP) > 0);
		vm_enable_cap(vm, KVM_CAP_SPLIT_IRQCHIP, SPLIT_IRQCHIP_ROUTES);
		break;
	case VM_IRQCHIP_NONE:
		break;
	}
}

bool vm_has_lapic(struct kvm_vm *vm)
{
	return vm->arch.irqchip == VM_IRQCHIP_KERNEL ||
	       vm->arch.irqchip == VM_IRQCHIP_SPLIT;
}

void vcpu_lapic_get(struct kvm_vcpu *vcpu, struct kvm_lapic_state *s)
{
	vcpu_ioctl(vcpu, KVM_GET_LAPIC, s);
}

void vcpu_lapic_set(struct kvm_vcpu *vcpu, struct kvm_lapic_state *s)
{
	vcpu_ioctl(vcpu, KVM_SET_LAPIC, s);
}

void vm_irq_line(struct kvm_vm *vm, u32 gsi, int level)
{
	struct kvm_irq_level line = { .irq = gsi, .level = level };

	vm_ioctl(vm, KVM_IRQ_LINE, &line);
}

int __vm_signal_msi(struct kvm_vm *vm, u32 apic_id, u8 vector)
{
	/* Intel SDM 10.11: address 0xfeeXX000 names the APIC, data the vector. */
	struct kvm_msi msi = {
		.address_lo = APIC_DEFAULT_GPA | ((apic_id & 0xff) << 12),
		.data = vector,
	};

	return __vm_ioctl(vm, KVM_SIGNAL_MSI, &msi);
}

void vm_signal_msi(struct kvm_vm *vm, u32 apic_id, u8 vector)
{
	int ret = __vm_signal_msi(vm, apic_id, vector);

	TEST_ASSERT(ret > 0,
		    "KVM_SIGNAL_MSI(APIC ID %u, vector 0x%x): rc %d (0: the interrupt was blocked)",
		    apic_id, vector, ret);
}

int __vcpu_interrupt(struct kvm_vcpu *vcpu, u8 vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return __vcpu_ioctl(vcpu, KVM_INTERRUPT, &irq);
}

void vcpu_interrupt(struct kvm_vcpu *vcpu, u8 vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	vcpu_ioctl(vcpu, KVM_INTERRUPT, &irq);
}

struct vm_irqchip_state *vm_irqchip_save(struct kvm_vm *vm)
{
	struct vm_irqchip_state *st = calloc(1, sizeof(*st));

	TEST_ASSERT(st, "out of memory");
	if (vm->arch.irqchip != VM_IRQCHIP_KERNEL)
		return st;
	for (st->nr = 0; st->nr < (int)ARRAY_SIZE(st->chips); st->nr++) {
		st->chips[st->nr].chip_id = st->nr;
		vm_ioctl(vm, KVM_GET_IRQCHIP, &st->chips[st->nr]);
	}
	return st;
}

void vm_irqchip_load(struct kvm_vm *vm, struct vm_irqchip_state *st)
{
	for (int i = 0; i < st->nr; i++)
		vm_ioctl(vm, KVM_SET_IRQCHIP, &st->chips[i]);
	free(st);
}
