// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization, host side: one vCPU's nested state.
 *
 * struct nested_state lives in guest memory, where L1 code reads it: the
 * VMCB and host save area or the VMXON region, VMCS and bitmaps, and the
 * stage-2 facts (root, EPTP) copied from vm->stage2_mmu, so each vCPU's L1
 * starts L2 on the VM's one set of stage-2 tables.
 */
#include "nested/nested.h"

static void *alloc_pages(struct kvm_vm *vm, int npages, u64 *gpa)
{
	/* One vm_vaddr_alloc is one physical run: contiguous GPAs. */
	u64 gva = vm_vaddr_alloc(vm, npages * PAGE_SIZE);

	*gpa = addr_gva2gpa(vm, gva);
	return (void *)gva;
}

u64 __vcpu_alloc_nested_state(struct kvm_vm *vm, u32 vcpu_id,
			      enum nested_vendor vendor, u64 tss_base)
{
	u64 gva = vm_vaddr_alloc(vm, sizeof(struct nested_state));
	struct nested_state *s = addr_gva2hva(vm, gva);
	struct kvm_mmu *s2 = &vm->stage2_mmu;

	_Static_assert(sizeof(struct nested_state) <= PAGE_SIZE,
		       "nested_state must not straddle GPA runs");
	memset(s, 0, sizeof(*s));
	vm->arch.nested_states++;
	s->vendor = vendor;
	s->vcpu_id = vcpu_id;
	s->tss_base = tss_base;
	if (s2->pgd_created) {
		s->tdp_info = (struct nested_tdp_info){
			.enabled = true,
			.format = s2->arch.format,
			.levels = s2->pgtable_levels,
			.ad = s2->arch.accessed != 0,
			.root = s2->pgd,
		};
		if (s2->arch.format == KVM_MMU_FORMAT_EPT)
			s->tdp_info.eptp = vmx_eptp(s2->pgd, s2->pgtable_levels,
						    s->tdp_info.ad);
	}

	switch (vendor) {
	case NESTED_SVM:
		s->svm.vmcb = alloc_pages(vm, 1, &s->svm.vmcb_gpa);
		s->svm.hsave = alloc_pages(vm, 1, &s->svm.hsave_gpa);
		s->svm.iopm = alloc_pages(vm, SVM_IOPM_SIZE / PAGE_SIZE,
					  &s->svm.iopm_gpa);
		s->svm.msrpm = alloc_pages(vm, SVM_MSRPM_SIZE / PAGE_SIZE,
					   &s->svm.msrpm_gpa);
		if (vm->fd >= 0) {
			s->svm.has_nrips = kvm_cpu_has(X86_FEATURE_NRIPS);
			s->svm.has_vgif = kvm_cpu_has(X86_FEATURE_VGIF);
		}
		break;
	case NESTED_VMX:
		s->vmx.vmxon = alloc_pages(vm, 1, &s->vmx.vmxon_gpa);
		s->vmx.vmcs = alloc_pages(vm, 1, &s->vmx.vmcs_gpa);
		s->vmx.msr_bitmap = alloc_pages(vm, 1, &s->vmx.msr_bitmap_gpa);
		s->vmx.io_bitmap_a = alloc_pages(vm, 1, &s->vmx.io_bitmap_a_gpa);
		s->vmx.io_bitmap_b = alloc_pages(vm, 1, &s->vmx.io_bitmap_b_gpa);
		s->vmx.eptp = s->tdp_info.eptp;
		break;
	default:
		TEST_FAIL("vcpu_alloc_nested_state: no nested vendor");
	}
	return gva;
}

u64 vcpu_alloc_nested_state(struct kvm_vcpu *vcpu)
{
	enum nested_vendor vendor = kvm_nested_vendor();

	TEST_ASSERT(vendor != NESTED_NONE, "vcpu_alloc_nested_state: %s",
		    kvm_nested_missing_reason());
	return __vcpu_alloc_nested_state(vcpu->vm, vcpu->id, vendor,
					 vcpu->arch.tss);
}

void nested_run_l1(void *l1_main,
		   void (*prepare)(struct kvm_vm *vm, struct kvm_vcpu *vcpu),
		   ucall_handler_t on_sync, void *data)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, l1_main);

	if (prepare)
		prepare(vm, vcpu);
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, on_sync, data);
	kvm_vm_free(vm);
}

struct nested_state *nested_state_hva(struct kvm_vm *vm, u64 state_gva)
{
	return addr_gva2hva(vm, state_gva);
}
