// SPDX-License-Identifier: GPL-2.0-only
/*
 * Running a TD's vCPUs: KVM_RUN with memory-fault exits, the host half of
 * the TD ucall transport, converting pages on fault, and pre-faulting.
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

int tdx_vcpu_run(struct kvm_vcpu *vcpu)
{
	int ret;

	do {
		ret = __vcpu_run(vcpu);
	} while (ret < 0 && errno == EINTR);
	if (!ret)
		return 0;
	TEST_ASSERT(errno == EFAULT &&
		    vcpu->run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "KVM_RUN on TD vCPU %u failed, exit reason %s",
		    vcpu->id, exit_reason_str(vcpu->run->exit_reason));
	return -EFAULT;
}

u64 tdx_run_until_ucall(struct kvm_vcpu *vcpu, struct ucall *uc,
			tdx_fault_handler_t on_fault, void *data)
{
	for (;;) {
		if (tdx_vcpu_run(vcpu)) {
			struct kvmt_exit_memory_fault *mf =
				kvmt_run_memory_fault(vcpu->run);

			TEST_ASSERT(on_fault,
				    "vCPU %u: unexpected memory fault at GPA 0x%llx+0x%llx, flags 0x%llx",
				    vcpu->id, mf->gpa,
				    mf->size,
				    mf->flags);
			on_fault(vcpu, mf, data);
			continue;
		}
		u64 cmd = get_ucall(vcpu, uc);

		if (ucall_print_or_abort(cmd, uc))
			continue;
		if (cmd == UCALL_NONE)
			TEST_FAIL("TD vCPU %u: unexpected exit %s (%u) outside a ucall",
				  vcpu->id, exit_reason_str(vcpu->run->exit_reason),
				  vcpu->run->exit_reason);
		return cmd;
	}
}

void tdx_convert_on_fault(struct kvm_vcpu *vcpu,
			  struct kvmt_exit_memory_fault *mf, void *data)
{
	u64 attrs = (mf->flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) ?
		    KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;

	vm_set_memory_attributes(vcpu->vm, mf->gpa, mf->size, attrs);
}

int tdx_pre_fault_memory(struct kvm_vcpu *vcpu, u64 gpa, u64 size)
{
	struct kvm_pre_fault_memory r = { .gpa = gpa, .size = size };

	/* KVM advances gpa/size as it goes and may stop early. */
	while (r.size) {
		if (ioctl(vcpu->fd, KVM_PRE_FAULT_MEMORY, &r) < 0 &&
		    errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}
