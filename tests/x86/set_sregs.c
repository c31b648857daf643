// SPDX-License-Identifier: GPL-2.0-only
/*
 * set_sregs: what KVM_SET_SREGS must refuse (EINVAL, state untouched) and
 * what it must take and read back unchanged.
 *
 * Covers set_sregs_test: every CR4 bit KVM supports is accepted before
 * KVM_SET_CPUID2, each unsupported one refused; CR0 bits 63:32, NW without
 * CD and PG without PE refused; an APIC base with EXTD but not EN refused,
 * EN alone accepted. Adds: the long-mode combinations (LME+PG without PAE
 * or without LMA, LMA or a 64-bit CS outside long mode, a CR3 above
 * MAXPHYADDR in long mode) refused; after KVM_SET_CPUID2, CR4 bits the
 * vCPU's CPUID lacks refused; EFER reserved bits refused by KVM_SET_MSRS
 * and by the guest's WRMSR (#GP); x2APIC mode without CPUID X2APIC refused.
 */
#include <unistd.h>

#include "kvm_util.h"
#include "apic.h"
#include "exception.h"
#include "test_check.h"

#define X86_FEATURE_UMIP	KVM_X86_FEATURE(0x7, 0, CPUID_ECX, 2)
#define X86_FEATURE_FSGSBASE	KVM_X86_FEATURE(0x7, 0, CPUID_EBX, 0)
#define X86_FEATURE_PCID	KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 17)
#define X86_FEATURE_SMX		KVM_X86_FEATURE(0x1, 0, CPUID_ECX, 6)
#define X86_FEATURE_PKU		KVM_X86_FEATURE(0x7, 0, CPUID_ECX, 3)

static const struct {
	u64 bit;
	const char *name;
	struct x86_cpu_feature feature;
} cr4_features[] = {
	{ X86_CR4_UMIP, "UMIP", X86_FEATURE_UMIP },
	{ X86_CR4_LA57, "LA57", X86_FEATURE_LA57 },
	{ X86_CR4_VMXE, "VMXE", X86_FEATURE_VMX },
	{ X86_CR4_SMXE, "SMXE", X86_FEATURE_SMX },
	{ X86_CR4_FSGSBASE, "FSGSBASE", X86_FEATURE_FSGSBASE },
	{ X86_CR4_PCIDE, "PCIDE", X86_FEATURE_PCID },
	{ X86_CR4_OSXSAVE, "OSXSAVE", X86_FEATURE_XSAVE },
	{ X86_CR4_SMEP, "SMEP", X86_FEATURE_SMEP },
	{ X86_CR4_SMAP, "SMAP", X86_FEATURE_SMAP },
	{ X86_CR4_PKE, "PKE", X86_FEATURE_PKU },
};

#define CR4_ALWAYS (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
		    X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | \
		    X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

static u64 cr4_supported(void)
{
	u64 cr4 = CR4_ALWAYS;

	for (u32 i = 0; i < ARRAY_SIZE(cr4_features); i++)
		if (kvm_cpu_has(cr4_features[i].feature))
			cr4 |= cr4_features[i].bit;
	return cr4;
}

/*
 * KVM_SET_SREGS of @orig with one change must fail with EINVAL and leave
 * the vCPU's sregs as they were (@orig, set before).
 */
static void expect_refused(int fd, const struct kvm_sregs *orig,
			   const struct kvm_sregs *bad, const char *what)
{
	struct kvm_sregs now;
	int ret = ioctl(fd, KVM_SET_SREGS, bad);

	CHECK(ret == -1 && errno == EINVAL, "%s: rc %d errno %d, expected EINVAL",
	      what, ret, ret ? errno : 0);
	TEST_ASSERT(!ioctl(fd, KVM_GET_SREGS, &now), "KVM_GET_SREGS");
	CHECK(!memcmp(&now, orig, sizeof(now)), "%s: refused, yet sregs changed",
	      what);
}

static void refuse_cr_bit(int fd, const struct kvm_sregs *orig, bool cr4,
			  u64 bit, const char *name)
{
	struct kvm_sregs bad = *orig;
	char what[64];

	if ((cr4 ? orig->cr4 : orig->cr0) & bit)
		return;
	if (cr4)
		bad.cr4 |= bit;
	else
		bad.cr0 |= bit;
	snprintf(what, sizeof(what), "CR%d.%s (0x%llx)", cr4 ? 4 : 0, name,
		 (unsigned long long)bit);
	expect_refused(fd, orig, &bad, what);
}

/* A bare vCPU: no KVM_SET_CPUID2, so KVM judges by what it supports. */
static void case_before_cpuid(void)
{
	struct kvm_vm *vm = vm_create(&(struct vm_options){ .no_image = true,
							    .numa_node = -1 });
	int fd = __vm_ioctl(vm, KVM_CREATE_VCPU, (void *)0L);
	struct kvm_sregs sregs;
	u64 cr4 = cr4_supported();

	case_begin("before KVM_SET_CPUID2: every supported CR4 bit is accepted");
	TEST_ASSERT(fd >= 0, "KVM_CREATE_VCPU");
	TEST_ASSERT(!ioctl(fd, KVM_GET_SREGS, &sregs), "KVM_GET_SREGS");
	sregs.cr0 = 0;
	sregs.cr4 |= cr4;
	CHECK_EQ(ioctl(fd, KVM_SET_SREGS, &sregs), 0);
	TEST_ASSERT(!ioctl(fd, KVM_GET_SREGS, &sregs), "KVM_GET_SREGS");
	CHECK_EQ(sregs.cr4, cr4);

	case_begin("before KVM_SET_CPUID2: unsupported CR4 bits, bad CR0 refused");
	for (u32 i = 0; i < ARRAY_SIZE(cr4_features); i++)
		refuse_cr_bit(fd, &sregs, true, cr4_features[i].bit,
			      cr4_features[i].name);
	for (int b = 32; b < 64; b++)
		refuse_cr_bit(fd, &sregs, false, BIT_ULL(b), "reserved");
	refuse_cr_bit(fd, &sregs, false, X86_CR0_NW, "NW without CD");
	refuse_cr_bit(fd, &sregs, false, X86_CR0_PG, "PG without PE");
	close(fd);
	kvm_vm_free(vm);
}

static void guest_efer_probe(u64 bit)
{
	u64 efer = rdmsr(MSR_EFER);

	GUEST_CHECK_EQ(probe_wrmsr(MSR_EFER, efer | bit), GP_VECTOR);
	GUEST_CHECK_EQ(rdmsr(MSR_EFER), efer);
	GUEST_DONE();
}

/* Long-mode sregs as the library set them, one rule broken at a time. */
static void case_long_mode_rules(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_efer_probe);
	struct kvm_sregs good, bad;
	int pa_bits = kvm_cpu_max_pa_bits();

	vcpu_sregs_get(vcpu, &good);
	case_begin("long-mode combinations KVM must refuse");
	bad = good; bad.cr4 &= ~X86_CR4_PAE;
	expect_refused(vcpu->fd, &good, &bad, "EFER.LME+CR0.PG without CR4.PAE");
	bad = good; bad.efer &= ~EFER_LMA;
	expect_refused(vcpu->fd, &good, &bad, "EFER.LME+CR0.PG without EFER.LMA");
	bad = good; bad.cr0 &= ~X86_CR0_PG; bad.cs.l = 0;
	expect_refused(vcpu->fd, &good, &bad, "EFER.LMA without CR0.PG");
	bad = good; bad.cr0 &= ~X86_CR0_PG; bad.efer &= ~EFER_LMA;
	expect_refused(vcpu->fd, &good, &bad, "a 64-bit CS outside long mode");
	if (pa_bits < 52) {
		bad = good; bad.cr3 |= BIT_ULL(pa_bits);
		expect_refused(vcpu->fd, &good, &bad, "CR3 above MAXPHYADDR");
	}

	case_begin("after KVM_SET_CPUID2: CR4 bits the CPUID lacks refused");
	for (u32 i = 0; i < ARRAY_SIZE(cr4_features); i++)
		if (!kvm_cpu_has(cr4_features[i].feature))
			refuse_cr_bit(vcpu->fd, &good, true, cr4_features[i].bit,
				      cr4_features[i].name);
	refuse_cr_bit(vcpu->fd, &good, true, BIT_ULL(63), "reserved bit 63");

	case_begin("valid sregs are taken and read back unchanged");
	bad = good;
	bad.cr0 |= X86_CR0_AM;
	bad.cr4 |= X86_CR4_PGE | X86_CR4_DE;
	bad.cr2 = 0x1234000;
	bad.cr8 = 5;
	CHECK_EQ(__vcpu_sregs_set(vcpu, &bad), 0);
	vcpu_sregs_get(vcpu, &good);
	CHECK_EQ(good.cr0, bad.cr0);
	CHECK_EQ(good.cr4, bad.cr4);
	CHECK_EQ(good.cr2, bad.cr2);
	CHECK_EQ(good.cr8, bad.cr8);
	CHECK_EQ(good.efer, bad.efer);

	case_begin("EFER reserved bit 2: KVM_SET_MSRS refuses, the guest's WRMSR #GPs");
	CHECK_EQ(__vcpu_set_msr(vcpu, MSR_EFER, good.efer | BIT_ULL(2)), 0);
	CHECK_EQ(vcpu_get_msr(vcpu, MSR_EFER), good.efer);
	vcpu_args_set(vcpu, 1, BIT_ULL(2));
	vcpu_run_to_done(vcpu, NULL, NULL);

	case_begin("APIC base: EXTD without EN refused, EN alone accepted");
	vcpu_sregs_get(vcpu, &good);
	bad = good;
	bad.apic_base = MSR_IA32_APICBASE_EXTD;
	expect_refused(vcpu->fd, &good, &bad, "APIC base EXTD without EN");
	bad.apic_base = MSR_IA32_APICBASE_ENABLE;
	CHECK_EQ(__vcpu_sregs_set(vcpu, &bad), 0);
	kvm_vm_free(vm);
}

static void case_x2apic_needs_cpuid(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_efer_probe);
	struct kvm_sregs good, bad;

	case_begin("x2APIC mode refused when the vCPU's CPUID has no X2APIC");
	vcpu_cpuid_set_feature(vcpu, X86_FEATURE_X2APIC, false);
	vcpu_sregs_get(vcpu, &good);
	bad = good;
	bad.apic_base = APIC_DEFAULT_GPA | MSR_IA32_APICBASE_ENABLE |
			MSR_IA32_APICBASE_EXTD;
	expect_refused(vcpu->fd, &good, &bad, "APIC base EN|EXTD without X2APIC");
	kvm_vm_free(vm);
}

int main(void)
{
	case_before_cpuid();
	case_long_mode_rules();
	case_x2apic_needs_cpuid();
	checks_exit();
}
