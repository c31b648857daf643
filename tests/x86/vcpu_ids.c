// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_ids: KVM_CAP_MAX_VCPU_ID and KVM_SET_BOOT_CPU_ID, as api.rst and
 * x86.c's rules have them.
 *
 * Covers max_vcpuid_cap_test and set_boot_cpu_id (above the cap, below the
 * boot CPU, set twice, ids past the cap or with bits 63:32, BUSY after a
 * vCPU exists, the BSP flag each vCPU's guest sees); adds: setting the same
 * cap value again is accepted, a boot CPU id above a set cap is refused,
 * and a vCPU id above 255
 * is that vCPU's x2APIC ID in the guest.
 */
#include <unistd.h>

#include "kvm_util.h"
#include "apic.h"
#include "test_check.h"

#define CAP_IDS		16	/* the KVM_CAP_MAX_VCPU_ID value set here */

static int create_vcpu(struct kvm_vm *vm, long id)
{
	return __vm_ioctl(vm, KVM_CREATE_VCPU, (void *)id);
}

#define CHECK_EINVAL(ret, what)						\
	CHECK((ret) == -1 && errno == EINVAL,				\
	      "%s: rc %d errno %d, expected EINVAL", what, ret, errno)

static void case_max_vcpu_id(void)
{
	struct kvm_vm *vm = vm_create(NULL);
	int kvm_max = vm_check_cap(vm, KVM_CAP_MAX_VCPU_ID), fd;

	case_begin("KVM_CAP_MAX_VCPU_ID: limits on setting it");
	CHECK(kvm_max >= CAP_IDS, "KVM_CAP_MAX_VCPU_ID is %d", kvm_max);
	CHECK_EINVAL(__vm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, kvm_max + 1),
		     "a cap above KVM's own");
	if (kvm_check_cap(KVM_CAP_SET_BOOT_CPU_ID) > 0) {
		vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)(long)CAP_IDS);
		CHECK_EINVAL(__vm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, CAP_IDS - 1),
			     "a cap below the boot CPU id");
		vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)0L);
	}
	CHECK_EQ(__vm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, CAP_IDS), 0);
	CHECK_EQ(__vm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, CAP_IDS), 0);
	CHECK_EINVAL(__vm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, CAP_IDS + 1),
		     "a second, different cap");

	case_begin("KVM_CAP_MAX_VCPU_ID: vCPU ids against it");
	CHECK_EINVAL(create_vcpu(vm, CAP_IDS), "vCPU id == cap");
	CHECK_EINVAL(create_vcpu(vm, 1L << 32), "vCPU id with bits 63:32 set");
	fd = create_vcpu(vm, CAP_IDS - 1);
	CHECK(fd >= 0, "vCPU id cap - 1: rc %d errno %d", fd, errno);
	if (kvm_check_cap(KVM_CAP_SET_BOOT_CPU_ID) > 0)
		CHECK((long)__vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)1L) == -1 &&
		      errno == EBUSY, "KVM_SET_BOOT_CPU_ID after a vCPU: errno %d",
		      errno);
	if (fd >= 0)
		close(fd);
	kvm_vm_free(vm);
}

static void guest_report_bsp(void)
{
	GUEST_SYNC(!!(rdmsr(MSR_IA32_APICBASE) & MSR_IA32_APICBASE_BSP));
	GUEST_DONE();
}

static void on_bsp(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	*(u64 *)data = uc->args[0];
}

static void case_boot_cpu_id(void)
{
	struct kvm_vcpu *vcpus[2];
	struct kvm_vm *vm;
	u64 bsp[2] = { 2, 2 };

	case_begin("KVM_SET_BOOT_CPU_ID: refused ids");
	if (kvm_check_cap(KVM_CAP_SET_BOOT_CPU_ID) <= 0) {
		case_skip("KVM has no KVM_CAP_SET_BOOT_CPU_ID");
		return;
	}
	vm = vm_create(NULL);
	CHECK_EINVAL(__vm_ioctl(vm, KVM_SET_BOOT_CPU_ID,
				(void *)(long)(vm_check_cap(vm, KVM_CAP_MAX_VCPU_ID) + 1)),
		     "boot CPU id above KVM_CAP_MAX_VCPU_ID");
	CHECK_EINVAL(__vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)(1L << 32)),
		     "boot CPU id with bits 63:32 set");
	vm_enable_cap(vm, KVM_CAP_MAX_VCPU_ID, CAP_IDS);
	CHECK_EINVAL(__vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)(long)(CAP_IDS + 1)),
		     "boot CPU id above the VM's cap");

	case_begin("KVM_SET_BOOT_CPU_ID: the BSP flag follows it");
	vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)1L);
	for (int i = 0; i < 2; i++)
		vcpus[i] = vm_vcpu_add(vm, i, guest_report_bsp);
	for (int i = 0; i < 2; i++) {
		struct kvm_sregs sregs;

		vcpu_sregs_get(vcpus[i], &sregs);
		CHECK_EQ(!!(sregs.apic_base & MSR_IA32_APICBASE_BSP), i == 1);
		vcpu_run_to_done(vcpus[i], on_bsp, &bsp[i]);
		CHECK_EQ(bsp[i], i == 1);
	}
	CHECK((long)__vm_ioctl(vm, KVM_SET_BOOT_CPU_ID, (void *)0L) == -1 &&
	      errno == EBUSY, "KVM_SET_BOOT_CPU_ID with vCPUs: errno %d", errno);
	kvm_vm_free(vm);
}

#define HIGH_ID		300

static void guest_x2apic_id(void)
{
	x2apic_enable();
	GUEST_SYNC(x2apic_read_reg(APIC_ID));
	GUEST_DONE();
}

static void case_high_id(void)
{
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	u64 id = 0;

	case_begin("vCPU id %d is its x2APIC ID", HIGH_ID);
	if (!kvm_cpu_has(X86_FEATURE_X2APIC)) {
		case_skip("KVM offers no x2APIC");
		return;
	}
	vm = vm_create(NULL);
	vcpu = vm_vcpu_add(vm, HIGH_ID, guest_x2apic_id);
	vcpu_run_to_done(vcpu, on_bsp, &id);
	CHECK_EQ(id, HIGH_ID);
	kvm_vm_free(vm);
}

int main(void)
{
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MAX_VCPU_ID) > 0);
	case_max_vcpu_id();
	case_boot_cpu_id();
	case_high_id();
	checks_exit();
}
