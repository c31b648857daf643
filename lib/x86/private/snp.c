// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_X86_SNP_VM: the place for SEV-SNP. kvmtest cannot launch an SNP
 * guest yet (KVM_SEV_INIT2, SNP_LAUNCH_START/UPDATE/FINISH, the GHCB
 * page-state-change protocol and PVALIDATE are the missing parts), so the
 * type reports itself unavailable with that reason and the scenarios skip
 * it; filling in the hooks below is all a scenario needs.
 */
#include "private_vm.h"

static const char *snp_unavailable(void)
{
	static char why[160];
	u64 types;

	kvm_dev_fd();
	types = kvm_vm_types();
	snprintf(why, sizeof(why), (types & BIT(KVM_X86_SNP_VM)) ?
		 "KVM offers KVM_X86_SNP_VM (KVM_CAP_VM_TYPES 0x%llx), but kvmtest cannot launch SEV-SNP guests yet" :
		 "KVM_CAP_VM_TYPES is 0x%llx, without KVM_X86_SNP_VM",
		 (unsigned long long)types);
	return why;
}

const struct pvm_type pvm_snp = {
	.name = "sev-snp",
	.vm_type = KVM_X86_SNP_VM,
	.unavailable = snp_unavailable,
};
