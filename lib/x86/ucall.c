// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 ucall transport: OUT to a port nothing else uses, with the struct's
 * address in RDI. The host reads RDI and copies the struct out through
 * the guest's page tables.
 */
#include "kvm_util.h"

/*
 * Other transports, for guests that cannot use port I/O: lib/x86/tdx_vm.c
 * sets the guest hook in a TD's copy of the image only (a TD's OUT traps
 * to the TDX module, and the host can read neither its registers nor its
 * stack), and the host hook, which returns false for VMs it does not own.
 */
void (*ucall_arch_guest_hook)(struct ucall *uc);
bool (*ucall_arch_host_hook)(struct kvm_vcpu *vcpu, struct ucall *uc);

void ucall_arch_do(struct ucall *uc)
{
	if (ucall_arch_guest_hook) {
		ucall_arch_guest_hook(uc);
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
	if (ucall_arch_host_hook && ucall_arch_host_hook(vcpu, uc))
		return uc->cmd;
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != UCALL_PIO_PORT)
		return UCALL_NONE;
	vcpu_regs_get(vcpu, &regs);
	memcpy_from_guest(vcpu->vm, uc, regs.rdi, sizeof(*uc));
	return uc->cmd;
}
