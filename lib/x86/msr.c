// SPDX-License-Identifier: GPL-2.0-only
/* Host access to one guest MSR at a time. */
#include "kvm_util.h"

struct one_msr {
	struct kvm_msrs header;
	struct kvm_msr_entry entry;
};

u64 vcpu_get_msr(struct kvm_vcpu *vcpu, u32 index)
{
	struct one_msr m = { .header.nmsrs = 1, .entry.index = index };
	int ret = __vcpu_ioctl(vcpu, KVM_GET_MSRS, &m);

	TEST_ASSERT(ret == 1, "KVM_GET_MSRS(0x%x) on vCPU %u, rc: %d", index,
		    vcpu->id, ret);
	return m.entry.data;
}

int __vcpu_set_msr(struct kvm_vcpu *vcpu, u32 index, u64 value)
{
	struct one_msr m = {
		.header.nmsrs = 1,
		.entry = { .index = index, .data = value },
	};

	return __vcpu_ioctl(vcpu, KVM_SET_MSRS, &m);
}

void vcpu_set_msr(struct kvm_vcpu *vcpu, u32 index, u64 value)
{
	int ret = __vcpu_set_msr(vcpu, index, value);

	TEST_ASSERT(ret == 1, "KVM_SET_MSRS(0x%x, 0x%llx) on vCPU %u, rc: %d",
		    index, value, vcpu->id, ret);
}
