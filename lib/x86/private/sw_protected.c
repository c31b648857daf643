// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_X86_SW_PROTECTED_VM: private memory without hardware protection.
 *
 * The VM is an ordinary one (registers, image and page tables set by the
 * host as usual) whose guest_memfd pages are private; the memory attribute
 * alone says whether the guest gets the guest_memfd page or the host
 * mapping, there is no S-bit, and nothing needs accepting. The guest asks
 * for conversions with the KVM hypercall KVM_HC_MAP_GPA_RANGE, which KVM
 * hands to userspace (KVM_CAP_EXIT_HYPERCALL). KVM keeps guest_memfd pages
 * across attribute flips, so private contents survive a round trip
 * unless the host punches the hole.
 */
#include "private_vm.h"

/* cpuid(0).EBX of AMD ("Auth") and Hygon ("Hygo") CPUs. */
#define VENDOR_AMD_EBX		0x68747541
#define VENDOR_HYGON_EBX	0x6f677948

/* VMMCALL on AMD, VMCALL elsewhere: KVM would otherwise patch our code. */
static u64 guest_kvm_hypercall(u64 nr, u64 a0, u64 a1, u64 a2)
{
	u32 eax, ebx, ecx, edx;
	u64 ret;

	cpuid_count(0, 0, &eax, &ebx, &ecx, &edx);
	if (ebx == VENDOR_AMD_EBX || ebx == VENDOR_HYGON_EBX)
		__asm__ volatile("vmmcall" : "=a"(ret)
				 : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
	else
		__asm__ volatile("vmcall" : "=a"(ret)
				 : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
	return ret;
}

static u64 sw_guest_map_gpa(u64 gpa, u64 size, bool private)
{
	return guest_kvm_hypercall(KVM_HC_MAP_GPA_RANGE, gpa, size / PAGE_SIZE,
				   private ? KVM_MAP_GPA_RANGE_ENCRYPTED :
					     KVM_MAP_GPA_RANGE_DECRYPTED);
}

static void sw_guest_accept(u64 gpa, u64 size)
{
}

static const struct pvm_guest_ops sw_guest_ops = {
	.map_gpa = sw_guest_map_gpa,
	.accept = sw_guest_accept,
};

static const char *sw_unavailable(void)
{
	static char why[160];
	u64 types;

	kvm_dev_fd();
	types = kvm_vm_types();
	if (types & BIT(KVM_X86_SW_PROTECTED_VM))
		return NULL;
	snprintf(why, sizeof(why),
		 "KVM_CAP_VM_TYPES is 0x%llx, without KVM_X86_SW_PROTECTED_VM: the kernel needs CONFIG_KVM_SW_PROTECTED_VM=y (depends on EXPERT)",
		 (unsigned long long)types);
	return why;
}

static struct kvm_vm *sw_create(int nr_vcpus, void *guest_code,
				struct kvm_vcpu **vcpus)
{
	struct vm_options opts = {
		.type = KVM_X86_SW_PROTECTED_VM,
		.va_bits = 48,
		.numa_node = -1,
	};
	struct kvm_vm *vm = vm_create(&opts);

	for (int i = 0; i < nr_vcpus; i++)
		vcpus[i] = vm_vcpu_add(vm, i, guest_code);
	return vm;
}

static void sw_args_set(struct kvm_vcpu *vcpu, int nargs, const u64 *args)
{
	vcpu_args_set(vcpu, nargs, args[0], args[1], args[2], args[3]);
}

static void sw_map(struct kvm_vm *vm, u64 gva, u64 gpa, u64 size, bool shared)
{
	/* No S-bit: the attribute decides, the mapping is the same. */
	kvm_mmu_map(vm, &vm->mmu, gva, gpa, size, KVM_MMU_RW);
}

static void sw_ready(struct kvm_vm *vm)
{
}

const struct pvm_type pvm_sw_protected = {
	.name = "sw-protected",
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.unavailable = sw_unavailable,
	.create = sw_create,
	.args_set = sw_args_set,
	.map = sw_map,
	.ready = sw_ready,
	.free = kvm_vm_free,
	.guest = &sw_guest_ops,
	.private_survives_conversion = true,
	.discard_on_share = false,
};
