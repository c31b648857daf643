// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization, host side: what KVM offers L1.
 *
 * Whether KVM exposes SVM or VMX to L1, and EPT/NPT with it, read the way
 * a new vCPU would see them (CPUID and the feature MSRs on /dev/kvm), plus
 * the SKIP reasons, so every nested test skips with the same clear line on
 * hosts that cannot run it.
 */
#include "nested/nested.h"

bool kvm_cpu_has_nested_svm(void)
{
	return kvm_cpu_has(X86_FEATURE_SVM);
}

bool kvm_cpu_has_nested_vmx(void)
{
	return kvm_cpu_has(X86_FEATURE_VMX);
}

enum nested_vendor kvm_nested_vendor(void)
{
	if (kvm_cpu_has_nested_svm())
		return NESTED_SVM;
	if (kvm_cpu_has_nested_vmx())
		return NESTED_VMX;
	return NESTED_NONE;
}

bool kvm_cpu_has_nested(void)
{
	return kvm_nested_vendor() != NESTED_NONE;
}

u64 kvm_get_feature_msr(u32 index)
{
	struct {
		struct kvm_msrs header;
		struct kvm_msr_entry entry;
	} m = { .header.nmsrs = 1, .entry.index = index };

	/* KVM_GET_MSRS on /dev/kvm reads what KVM would give a new vCPU. */
	if (kvm_dev_ioctl(KVM_GET_MSRS, &m) != 1)
		return 0;
	return m.entry.data;
}

static bool vmx_has_ept(void)
{
	u64 ctls2 = kvm_get_feature_msr(MSR_IA32_VMX_PROCBASED_CTLS2);
	u64 cap = kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP);

	return ((ctls2 >> 32) & CPU2_ENABLE_EPT) &&
	       (cap & VMX_EPT_CAP_PWL4) && (cap & VMX_EPT_CAP_WB);
}

bool kvm_cpu_has_tdp(void)
{
	switch (kvm_nested_vendor()) {
	case NESTED_SVM:
		return kvm_cpu_has(X86_FEATURE_NPT);
	case NESTED_VMX:
		return vmx_has_ept();
	default:
		return false;
	}
}

const char *kvm_nested_missing_reason(void)
{
	return "nested virtualization not available: KVM exposes neither VMX nor SVM "
	       "(load kvm_amd nested=1 / kvm_intel nested=1, or run with --vm)";
}

const char *kvm_tdp_missing_reason(void)
{
	switch (kvm_nested_vendor()) {
	case NESTED_SVM:
		return "nested TDP not available: KVM exposes SVM but not NPT to L1 (kvm_amd npt=1 needed)";
	case NESTED_VMX:
		return "nested TDP not available: KVM exposes VMX but not EPT with 4-level WB walks to L1 (kvm_intel ept=1 needed)";
	default:
		return kvm_nested_missing_reason();
	}
}

void nested_require(void)
{
	if (!kvm_cpu_has_nested())
		test_skip("%s", kvm_nested_missing_reason());
}

void nested_require_tdp(void)
{
	nested_require();
	if (!kvm_cpu_has_tdp())
		test_skip("%s", kvm_tdp_missing_reason());
}

bool kvm_cpu_has_tdp_5level(const char **why_not)
{
	const char *why = NULL;

	if (!kvm_cpu_has_tdp())
		why = kvm_tdp_missing_reason();
	else if (kvm_nested_vendor() == NESTED_SVM &&
		 !kvm_cpu_has(X86_FEATURE_LA57))
		why = "5-level NPT follows L1's paging depth and KVM does not expose LA57 to L1 "
		      "(on the AMD lane boot with --vm-cpu EPYC,+svm,+npt,+la57)";
	else if (kvm_nested_vendor() == NESTED_VMX &&
		 !(kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP) &
		   VMX_EPT_CAP_PWL5))
		why = "KVM does not offer 5-level EPT walks to L1 (EPT_VPID_CAP bit 7 clear)";
	if (why_not)
		*why_not = why;
	return !why;
}
