// SPDX-License-Identifier: GPL-2.0-only
/*
 * tsc_control: the guest's TSC as the guest and the host move it
 * (IA32_TSC, IA32_TSC_ADJUST) and its frequency (KVM_GET/SET_TSC_KHZ).
 *
 * Covers tsc_msrs_test: a guest TSC write moves TSC_ADJUST by the same
 * step, a host (KVM_SET_MSRS) TSC write does not; a guest TSC_ADJUST write
 * moves the TSC, a host one does not; the host's and the guest's reads
 * agree. Adds: KVM_GET_TSC_KHZ is non-zero and KVM_SET_TSC_KHZ of the same
 * value is taken; with TSC scaling (KVM_CAP_TSC_CONTROL) a halved rate is
 * read back and the guest's TSC runs at it, and the VM-wide default
 * applies to vCPUs created after it; without scaling, a lower rate is
 * refused (EINVAL) and a higher one is taken (KVM's catch-up mode).
 */
#include <unistd.h>

#include "kvm_util.h"
#include "test_check.h"

#define MSR_IA32_TSC_ADJUST	0x0000003b
#define X86_FEATURE_TSC_ADJUST	KVM_X86_FEATURE(0x7, 0, CPUID_EBX, 1)
/* Steps far larger than the time between two reads, even under TCG. */
#define STEP			(1ULL << 40)
#define TOLERANCE		(1ULL << 34)

static bool near(u64 a, u64 b)
{
	return a - b + TOLERANCE <= 2 * TOLERANCE;
}

#define GUEST_CHECK_NEAR(a, b)						\
	GUEST_CHECK(near(a, b), "%s = 0x%llx, expected about 0x%llx", #a,\
		    (unsigned long long)(a), (unsigned long long)(b))
#define CHECK_NEAR(a, b)						\
	CHECK(near(a, b), "%s = 0x%llx, expected about 0x%llx", #a,	\
	      (unsigned long long)(a), (unsigned long long)(b))

static void guest_main(void)
{
	u64 tsc = rdtsc();

	GUEST_CASE("guest: RDTSC and RDMSR(TSC) agree, TSC_ADJUST starts at 0");
	GUEST_CHECK_NEAR(rdmsr(MSR_IA32_TSC), tsc);
	GUEST_CHECK_EQ(rdmsr(MSR_IA32_TSC_ADJUST), 0);

	GUEST_CASE("guest TSC write: TSC_ADJUST moves by the same step");
	wrmsr(MSR_IA32_TSC, tsc + STEP);
	GUEST_CHECK_NEAR(rdtsc(), tsc + STEP);
	GUEST_CHECK_NEAR(rdmsr(MSR_IA32_TSC_ADJUST), STEP);
	GUEST_SYNC(1);	/* host: reads, then writes TSC */

	GUEST_CASE("host TSC write: the guest sees the TSC, TSC_ADJUST unchanged");
	GUEST_CHECK_NEAR(rdtsc(), 4 * STEP);
	GUEST_CHECK_NEAR(rdmsr(MSR_IA32_TSC_ADJUST), STEP);
	GUEST_SYNC(2);	/* host: writes TSC_ADJUST */

	GUEST_CASE("host TSC_ADJUST write: the guest sees it, TSC unchanged");
	GUEST_CHECK_EQ(rdmsr(MSR_IA32_TSC_ADJUST), 2 * STEP);
	GUEST_CHECK_NEAR(rdtsc(), 4 * STEP);

	GUEST_CASE("guest TSC_ADJUST write: the TSC moves by the difference");
	wrmsr(MSR_IA32_TSC_ADJUST, 3 * STEP);
	GUEST_CHECK_NEAR(rdtsc(), 5 * STEP);
	GUEST_CHECK_EQ(rdmsr(MSR_IA32_TSC_ADJUST), 3 * STEP);
	GUEST_SYNC(3);	/* host: reads */
	GUEST_DONE();
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	switch (uc->args[0]) {
	case 1:
		case_begin("host reads what the guest wrote");
		CHECK_NEAR(vcpu_get_msr(vcpu, MSR_IA32_TSC_ADJUST), STEP);
		vcpu_set_msr(vcpu, MSR_IA32_TSC, 4 * STEP);
		break;
	case 2:
		vcpu_set_msr(vcpu, MSR_IA32_TSC_ADJUST, 2 * STEP);
		break;
	case 3:
		case_begin("host reads the guest's TSC_ADJUST write");
		CHECK_EQ(vcpu_get_msr(vcpu, MSR_IA32_TSC_ADJUST), 3 * STEP);
		CHECK_NEAR(vcpu_get_msr(vcpu, MSR_IA32_TSC), 5 * STEP);
		break;
	}
}

static void case_msrs(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_main);

	if (!kvm_cpu_has(X86_FEATURE_TSC_ADJUST)) {
		case_begin("IA32_TSC_ADJUST");
		case_skip("KVM does not offer TSC_ADJUST");
	} else {
		vcpu_run_to_done(vcpu, on_sync, NULL);
	}
	kvm_vm_free(vm);
}

/* Guest TSC ticks over @ms of host time, read from the host side. */
static u64 guest_tsc_over(struct kvm_vcpu *vcpu, int ms)
{
	u64 t0 = vcpu_get_msr(vcpu, MSR_IA32_TSC);

	usleep(ms * 1000);
	return vcpu_get_msr(vcpu, MSR_IA32_TSC) - t0;
}

static void case_khz(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	bool scaling = kvm_check_cap(KVM_CAP_TSC_CONTROL) > 0;
	int khz = __vcpu_ioctl(vcpu, KVM_GET_TSC_KHZ, NULL), ret;

	case_begin("KVM_GET_TSC_KHZ > 0, KVM_SET_TSC_KHZ of it is taken");
	CHECK(khz > 0, "KVM_GET_TSC_KHZ: %d", khz);
	CHECK_EQ(__vcpu_ioctl(vcpu, KVM_SET_TSC_KHZ, (void *)(long)khz), 0);

	if (scaling) {
		u64 ticks;

		case_begin("TSC scaling: half the rate read back and run at");
		CHECK_EQ(__vcpu_ioctl(vcpu, KVM_SET_TSC_KHZ, (void *)(long)(khz / 2)), 0);
		CHECK_EQ(__vcpu_ioctl(vcpu, KVM_GET_TSC_KHZ, NULL), khz / 2);
		ticks = guest_tsc_over(vcpu, 200);
		CHECK(ticks > (u64)khz / 2 * 200 * 8 / 10 &&
		      ticks < (u64)khz / 2 * 200 * 12 / 10,
		      "%llu ticks in 200 ms at %d kHz",
		      (unsigned long long)ticks, khz / 2);
	} else {
		case_begin("no TSC scaling: a lower rate refused, a higher one taken");
		ret = __vcpu_ioctl(vcpu, KVM_SET_TSC_KHZ, (void *)(long)(khz / 2));
		CHECK(ret == -1 && errno == EINVAL, "half rate: rc %d errno %d",
		      ret, errno);
		CHECK_EQ(__vcpu_ioctl(vcpu, KVM_SET_TSC_KHZ, (void *)(long)(khz * 2)), 0);
	}
	kvm_vm_free(vm);

	case_begin("VM-wide KVM_SET_TSC_KHZ: default for new vCPUs, refused after");
	if (kvm_check_cap(KVM_CAP_VM_TSC_CONTROL) <= 0) {
		case_skip("KVM has no KVM_CAP_VM_TSC_CONTROL (no TSC scaling)");
		return;
	}
	vm = vm_create(NULL);
	CHECK_EQ(__vm_ioctl(vm, KVM_SET_TSC_KHZ, (void *)(long)(khz / 2)), 0);
	vcpu = vm_vcpu_add(vm, 0, guest_main);
	CHECK_EQ(__vcpu_ioctl(vcpu, KVM_GET_TSC_KHZ, NULL), khz / 2);
	CHECK(__vm_ioctl(vm, KVM_SET_TSC_KHZ, (void *)(long)khz) == -1,
	      "VM-wide KVM_SET_TSC_KHZ taken after a vCPU was created");
	kvm_vm_free(vm);
}

int main(void)
{
	case_msrs();
	case_khz();
	checks_exit();
}
