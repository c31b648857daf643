// SPDX-License-Identifier: GPL-2.0-only
/*
 * What KVM offers guests: KVM_GET_SUPPORTED_CPUID, read once per process
 * (it is one of the slower ioctls and every vCPU needs it).
 */
#include "kvm_util.h"

const struct kvm_cpuid2 *kvm_supported_cpuid(void)
{
	static struct kvm_cpuid2 *cpuid;
	int nent = 64;

	while (!cpuid) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      nent * sizeof(c->entries[0]));

		TEST_ASSERT(c, "out of memory");
		c->nent = nent;
		if (kvm_dev_ioctl(KVM_GET_SUPPORTED_CPUID, c) == 0) {
			cpuid = c;
			break;
		}
		TEST_ASSERT(errno == E2BIG, "KVM_GET_SUPPORTED_CPUID");
		free(c);
		nent *= 2;
	}
	return cpuid;
}

const struct kvm_cpuid_entry2 *kvm_cpuid_entry(const struct kvm_cpuid2 *cpuid,
					       u32 function, u32 index)
{
	for (u32 i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == function &&
		    (e->index == index ||
		     !(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)))
			return e;
	}
	return NULL;
}

u32 kvm_cpuid_reg(u32 function, u32 index, int reg)
{
	const struct kvm_cpuid_entry2 *e =
		kvm_cpuid_entry(kvm_supported_cpuid(), function, index);

	if (!e)
		return 0;
	switch (reg) {
	case CPUID_EAX: return e->eax;
	case CPUID_EBX: return e->ebx;
	case CPUID_ECX: return e->ecx;
	default: return e->edx;
	}
}

bool kvm_cpu_has(struct x86_cpu_feature f)
{
	return kvm_cpuid_reg(f.function, f.index, f.reg) & BIT(f.bit);
}

int kvm_cpu_max_pa_bits(void)
{
	int bits = kvm_cpuid_reg(0x80000008, 0, CPUID_EAX) & 0xff;

	/* No leaf 0x80000008 means the architectural minimum. */
	return bits ? bits : 36;
}

void vcpu_cpuid_set_feature(struct kvm_vcpu *vcpu, struct x86_cpu_feature f,
			    bool on)
{
	struct kvm_cpuid2 *cpuid = vcpu->arch.cpuid;
	struct kvm_cpuid_entry2 *e =
		(struct kvm_cpuid_entry2 *)kvm_cpuid_entry(cpuid, f.function, f.index);
	u32 *reg;

	TEST_ASSERT(e, "vCPU %u has no CPUID leaf 0x%x.%u", vcpu->id,
		    f.function, f.index);
	reg = f.reg == CPUID_EAX ? &e->eax : f.reg == CPUID_EBX ? &e->ebx :
	      f.reg == CPUID_ECX ? &e->ecx : &e->edx;
	if (on)
		*reg |= BIT(f.bit);
	else
		*reg &= ~BIT(f.bit);
	vcpu_set_cpuid(vcpu, cpuid);
}
