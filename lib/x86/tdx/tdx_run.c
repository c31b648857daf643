// SPDX-License-Identifier: GPL-2.0-only
/*
 * Running a TD: the host half of the TD ucall transport, and ending a TD.
 * (The run loop is the common one, pvm_run() in lib/private_vm.c.)
 *
 * A TD cannot use the port-I/O ucall, so its ucalls arrive as MMIO exits
 * that name a shared buffer (see tdx_guest_ucall() in tdx_guest.c).
 */
#include "kvm_util.h"
#include "tdx_internal.h"

bool tdx_get_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	u64 gpa;

	if (vcpu->vm->type != KVM_X86_TDX_VM)
		return false;
	if (run->exit_reason == KVM_EXIT_MMIO &&
	    tdx_ucall_decode(run->mmio.phys_addr & ~vcpu->vm->mmu.arch.s_bit,
			     run->mmio.len, run->mmio.is_write, run->mmio.data,
			     &gpa))
		memcpy(uc, addr_gpa2hva(vcpu->vm, gpa), sizeof(*uc));
	return true;
}

int tdx_vm_terminate(struct kvm_vm *vm)
{
	return __tdx_vm_ioctl(vm, KVMT_TDX_TERMINATE_VM, 0, 0, NULL) ? -errno : 0;
}
