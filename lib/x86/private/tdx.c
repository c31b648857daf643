// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_X86_TDX_VM as a private-memory type: the TD library
 * (lib/x86/tdx/) behind the common interface.
 *
 * What differs from a software-protected VM: the host stages everything
 * before finalizing (ready), after which it cannot write private memory;
 * shared pages are mapped with the S-bit; the guest converts with
 * TDG.VP.VMCALL<MapGPA>, which KVM forwards as KVM_EXIT_HYPERCALL
 * (KVM_HC_MAP_GPA_RANGE) and may ask it to retry from a later GPA; a page
 * that became private must be accepted before use, and comes back zeroed
 * (KVM removes private pages from the TD when they go shared).
 */
#include "private_vm.h"
#include "tdx/tdx.h"

/* TDVMCALL status "retry from the GPA in R11" (GHCI, MapGPA). */
#define TDVMCALL_STATUS_RETRY	1

static u64 tdx_guest_map_gpa(u64 gpa, u64 size, bool private)
{
	u64 end = gpa + size;

	while (gpa < end) {
		struct tdx_tdvmcall a = {
			.r10 = TDVMCALL_STANDARD,
			.r11 = TDVMCALL_MAP_GPA,
			.r12 = gpa | (private ? 0 : tdx_guest_shared_bit()),
			.r13 = end - gpa,
		};
		u64 status = tdx_tdvmcall(&a);

		if (status != TDVMCALL_STATUS_RETRY)
			return status;
		/* R11: where the VMM stopped, with the S-bit as we asked. */
		gpa = a.r11 & ~tdx_guest_shared_bit();
	}
	return 0;
}

static void tdx_guest_accept_range(u64 gpa, u64 size)
{
	for (u64 off = 0; off < size; off += PAGE_SIZE)
		tdx_guest_accept(gpa + off);
}

static const struct pvm_guest_ops tdx_guest_ops = {
	.map_gpa = tdx_guest_map_gpa,
	.accept = tdx_guest_accept_range,
};

static const char *tdx_unavailable(void)
{
	static char why[128];

	kvm_dev_fd();
	if (tdx_supported())
		return NULL;
	snprintf(why, sizeof(why),
		 "KVM_CAP_VM_TYPES is 0x%llx, without KVM_X86_TDX_VM",
		 (unsigned long long)kvm_vm_types());
	return why;
}

static struct kvm_vm *tdx_type_create(int nr_vcpus, void *guest_code,
				      struct kvm_vcpu **vcpus)
{
	return tdx_vm_create(NULL, nr_vcpus, guest_code, vcpus);
}

static void tdx_type_args_set(struct kvm_vcpu *vcpu, int nargs,
			      const u64 *args)
{
	tdx_vcpu_args_set(vcpu, nargs, args[0], args[1], args[2], args[3]);
}

static void tdx_type_map(struct kvm_vm *vm, u64 gva, u64 gpa, u64 size,
			 bool shared)
{
	TEST_ASSERT(!tdx_vm_finalized(vm),
		    "TD mappings must be made before finalize: the page tables are private then");
	kvm_mmu_map(vm, &vm->mmu, gva, gpa, size,
		    KVM_MMU_RW | (shared ? KVM_MMU_SHARED : 0));
}

const struct pvm_type pvm_tdx = {
	.name = "tdx",
	.vm_type = KVM_X86_TDX_VM,
	.unavailable = tdx_unavailable,
	.create = tdx_type_create,
	.args_set = tdx_type_args_set,
	.map = tdx_type_map,
	.ready = tdx_vm_finalize,
	.free = tdx_vm_free,
	.guest = &tdx_guest_ops,
	.private_survives_conversion = false,
	.discard_on_share = true,
};
