// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 ucall transport: OUT to a port nothing else uses, with the struct's
 * address in RDI. The host reads RDI and copies the struct out through
 * the guest's page tables.
 */
#include "kvm_util.h"
#include "internal.h"

void ucall_arch_do(struct ucall *uc)
{
	/* A VM with a transport of its own (a TD) set it in its image copy. */
	if (ucall_guest_transport) {
		ucall_guest_transport(uc);
		return;
	}
	__asm__ volatile("outb %%al, %%dx"
			 : : "a"(0), "d"(UCALL_PIO_PORT), "D"(uc) : "memory");
}

u64 get_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;

	uc->cmd = UCALL_NONE;
	if (vcpu->vm->ucall.host_get) {
		vcpu->vm->ucall.host_get(vcpu, uc);
		return uc->cmd;
	}
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != UCALL_PIO_PORT)
		return UCALL_NONE;
	vcpu_regs_get(vcpu, &regs);
	memcpy_from_guest(vcpu->vm, uc, regs.rdi, sizeof(*uc));
	return uc->cmd;
}
