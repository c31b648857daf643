// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization, host side: the stage-2 (TDP) page tables.
 *
 * vm_enable_tdp() gives the VM a second struct kvm_mmu, vm->stage2_mmu, in
 * EPT or NPT format, built by the same walker (lib/kvm_mmu.c) as the
 * guest's own tables; tdp_map() and friends edit it with the addresses
 * checked and named in the failure. Also here: L1's view of its own memory
 * at L1_PHYS_MAP_BASE, so L1 code can edit stage-2 entries itself, and
 * L1 page-table mappings to L2 GPAs that are not L1 memory.
 */
#include "nested/nested.h"

/* Stage-2 is enabled once, before any vCPU's nested state copies it. */
static void tdp_check_enable(struct kvm_vm *vm)
{
	TEST_ASSERT(!vm->stage2_mmu.pgd_created,
		    "vm_enable_tdp: TDP is already enabled on this VM (stage-2 root at GPA 0x%llx); call it once, before vcpu_alloc_nested_state()",
		    vm->stage2_mmu.pgd);
	TEST_ASSERT(!vm->arch.nested_states,
		    "vm_enable_tdp: %d vCPU nested state(s) already allocated without stage-2, so their L2 would run without TDP: call vm_enable_tdp() before vcpu_alloc_nested_state()",
		    vm->arch.nested_states);
}

void __vm_enable_tdp(struct kvm_vm *vm, enum kvm_mmu_format format,
		     int levels, bool gbpages, bool ad)
{
	struct kvm_mmu_arch arch;

	tdp_check_enable(vm);
	switch (format) {
	case KVM_MMU_FORMAT_EPT:
		x86_mmu_arch_ept(&arch, vm->pa_bits, gbpages);
		/* Without EPTP[6] bits 8/9 are ignored: the format has no A/D. */
		if (!ad)
			arch.accessed = arch.dirty = 0;
		break;
	case KVM_MMU_FORMAT_NPT:
		x86_mmu_arch_npt(&arch, vm->pa_bits, gbpages);
		break;
	default:
		TEST_FAIL("vm_enable_tdp: format %d is not a stage-2 format",
			  format);
	}
	kvm_mmu_init(vm, &vm->stage2_mmu, levels, &arch);
}

void vm_enable_tdp_levels(struct kvm_vm *vm, int levels)
{
	u64 cap;

	tdp_check_enable(vm);
	TEST_ASSERT(levels == 0 || levels == 4 || levels == 5,
		    "vm_enable_tdp: %d-level stage-2 tables do not exist", levels);
	nested_require_tdp();

	if (kvm_nested_vendor() == NESTED_SVM) {
		/* The nested walk uses the paging mode L1 runs VMRUN in. */
		if (!levels)
			levels = vm->mmu.pgtable_levels;
		TEST_ASSERT(levels == vm->mmu.pgtable_levels,
			    "vm_enable_tdp: %d-level NPT needs L1 in %d-level paging, but this VM's guest paging has %d levels (vm_create with va_bits %d)",
			    levels, levels, vm->mmu.pgtable_levels,
			    levels == 5 ? 57 : 48);
		__vm_enable_tdp(vm, KVM_MMU_FORMAT_NPT, levels,
				kvm_cpu_has(X86_FEATURE_GBPAGES), true);
	} else {
		cap = kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP);
		if (!levels)
			levels = 4;
		if (levels == 5 && !(cap & VMX_EPT_CAP_PWL5))
			test_skip("vm_enable_tdp: KVM does not offer 5-level EPT walks to L1 (EPT_VPID_CAP 0x%llx)",
				  cap);
		__vm_enable_tdp(vm, KVM_MMU_FORMAT_EPT, levels,
				cap & VMX_EPT_CAP_1G, cap & VMX_EPT_CAP_AD);
		if (!(cap & VMX_EPT_CAP_2M))
			vm->stage2_mmu.arch.max_leaf_level = PG_LEVEL_4K;
	}
	vm_map_l1_phys(vm);
}

void vm_enable_tdp(struct kvm_vm *vm)
{
	vm_enable_tdp_levels(vm, 0);
}

struct kvm_vm *vm_create_tdp_with_one_vcpu(struct kvm_vcpu **vcpu,
					   void *l1_code, u32 slot, u64 gpa,
					   u64 size)
{
	struct kvm_vm *vm;

	nested_require_tdp();
	vm = vm_create_with_one_vcpu(vcpu, l1_code);
	vm_memslot_add(vm, VM_MEM_ANON, gpa, slot, size / PAGE_SIZE, 0);
	vm_enable_tdp(vm);
	tdp_identity_map_all(vm);
	return vm;
}

void vm_map_l1_phys(struct kvm_vm *vm)
{
	for (int i = 0; i < vm->nr_slots; i++) {
		struct kvm_userspace_memory_region2 *r = &vm->slots[i].region;

		kvm_mmu_map(vm, &vm->mmu, L1_PHYS_MAP_BASE + r->guest_phys_addr,
			    r->guest_phys_addr, r->memory_size, KVM_MMU_RW);
	}
}

static void tdp_check(struct kvm_vm *vm, const char *caller)
{
	TEST_ASSERT(vm->stage2_mmu.pgd_created,
		    "%s: TDP is not enabled on this VM (call vm_enable_tdp() first)",
		    caller);
}

/*
 * Write without read: EPT calls such an entry a misconfiguration (L2's
 * access exits as L2_EXIT_TDP_MISCONFIG, not as a fault) and NPT cannot
 * express it (W implies R). A test that wants the misconfigured EPT entry
 * builds it with kvm_mmu_map() on &vm->stage2_mmu.
 */
static void tdp_check_prot(const char *caller, u64 l2_gpa, unsigned int prot)
{
	TEST_ASSERT(!(prot & KVM_MMU_WRITE) || (prot & KVM_MMU_READ),
		    "%s: L2 GPA 0x%llx: write without read (prot 0x%x) is an EPT misconfiguration and not expressible in NPT; add KVM_MMU_READ",
		    caller, l2_gpa, prot);
}

/* Every page of the range must have a stage-2 leaf. */
static void tdp_check_mapped(struct kvm_vm *vm, const char *caller,
			     u64 l2_gpa, u64 size)
{
	for (u64 a = l2_gpa; a < l2_gpa + size;) {
		int level;

		TEST_ASSERT(kvm_mmu_lookup(vm, &vm->stage2_mmu, a, &level),
			    "%s: L2 GPA 0x%llx (in 0x%llx+0x%llx) has no stage-2 mapping; tdp_map() it first",
			    caller, a, l2_gpa, size);
		a = ALIGN_DOWN(a, PG_LEVEL_SIZE(level)) + PG_LEVEL_SIZE(level);
	}
}

void tdp_map_level(struct kvm_vm *vm, u64 l2_gpa, u64 l1_gpa, u64 size,
		   unsigned int prot, int level)
{
	tdp_check(vm, "tdp_map");
	tdp_check_prot("tdp_map", l2_gpa, prot);
	TEST_ASSERT(size && IS_ALIGNED(l2_gpa | l1_gpa | size, PAGE_SIZE),
		    "tdp_map: L2 GPA 0x%llx -> L1 GPA 0x%llx (+0x%llx) is not 4 KiB aligned",
		    l2_gpa, l1_gpa,
		    size);
	TEST_ASSERT(level == PG_LEVEL_ANY ||
		    IS_ALIGNED(l2_gpa | l1_gpa | size, PG_LEVEL_SIZE(level)),
		    "tdp_map: L2 GPA 0x%llx -> L1 GPA 0x%llx (+0x%llx) is not aligned to %s pages",
		    l2_gpa, l1_gpa, size, pg_level_name(level));
	TEST_ASSERT(vm_gpa_range_backed(vm, l1_gpa, size),
		    "tdp_map: L1 GPA range 0x%llx+0x%llx (for L2 GPA 0x%llx) is not all in memslots",
		    l1_gpa, size,
		    l2_gpa);
	kvm_mmu_map_level(vm, &vm->stage2_mmu, l2_gpa, l1_gpa, size, prot,
			  level);
}

void tdp_map(struct kvm_vm *vm, u64 l2_gpa, u64 l1_gpa, u64 size)
{
	tdp_map_level(vm, l2_gpa, l1_gpa, size, KVM_MMU_RWX, PG_LEVEL_ANY);
}

void tdp_identity_map_all(struct kvm_vm *vm)
{
	tdp_check(vm, "tdp_identity_map_all");
	for (int i = 0; i < vm->nr_slots; i++) {
		struct kvm_userspace_memory_region2 *r = &vm->slots[i].region;

		tdp_map(vm, r->guest_phys_addr, r->guest_phys_addr,
			r->memory_size);
	}
	/* Slots added since vm_enable_tdp() need L1's view too. */
	vm_map_l1_phys(vm);
}

u64 tdp_unmap(struct kvm_vm *vm, u64 l2_gpa, u64 size)
{
	tdp_check(vm, "tdp_unmap");
	return kvm_mmu_unmap(vm, &vm->stage2_mmu, l2_gpa, size);
}

void tdp_protect(struct kvm_vm *vm, u64 l2_gpa, u64 size, unsigned int prot)
{
	tdp_check(vm, "tdp_protect");
	tdp_check_prot("tdp_protect", l2_gpa, prot);
	tdp_check_mapped(vm, "tdp_protect", l2_gpa, size);
	kvm_mmu_protect(vm, &vm->stage2_mmu, l2_gpa, size, prot);
}

u64 *tdp_lookup(struct kvm_vm *vm, u64 l2_gpa, int *level)
{
	tdp_check(vm, "tdp_lookup");
	return kvm_mmu_lookup(vm, &vm->stage2_mmu, l2_gpa, level);
}

u64 *tdp_entry(struct kvm_vm *vm, u64 l2_gpa, int level)
{
	tdp_check(vm, "tdp_entry");
	return kvm_mmu_entry(vm, &vm->stage2_mmu, l2_gpa, level);
}

u64 addr_hva2gpa(struct kvm_vm *vm, const void *hva)
{
	const char *p = hva;

	for (int i = 0; i < vm->nr_slots; i++) {
		struct vm_memslot *s = &vm->slots[i];
		u64 size = s->region.memory_size;

		if (p >= (char *)s->host_mem && p < (char *)s->host_mem + size)
			return s->region.guest_phys_addr +
			       (p - (char *)s->host_mem);
		if (s->host_alias && p >= (char *)s->host_alias &&
		    p < (char *)s->host_alias + size)
			return s->region.guest_phys_addr +
			       (p - (char *)s->host_alias);
	}
	TEST_FAIL("addr_hva2gpa: %p is not in guest memory", hva);
}

u64 tdp_entry_gpa(struct kvm_vm *vm, u64 l2_gpa, int level)
{
	u64 *pte = tdp_entry(vm, l2_gpa, level);

	TEST_ASSERT(pte, "tdp_entry_gpa: the walk of L2 GPA 0x%llx stops above the %s level",
		    l2_gpa, pg_level_name(level));
	return addr_hva2gpa(vm, pte);
}

void l2_virt_map(struct kvm_vm *vm, u64 gva, u64 l2_gpa, u64 size)
{
	u64 placeholder = vm->mmu.pgd;	/* any page the walker accepts */

	TEST_ASSERT(IS_ALIGNED(gva | l2_gpa | size, PAGE_SIZE),
		    "l2_virt_map: GVA 0x%llx -> L2 GPA 0x%llx (+0x%llx) is not 4 KiB aligned",
		    gva, l2_gpa,
		    size);
	TEST_ASSERT(!((l2_gpa + size - 1) & ~vm->mmu.arch.addr_mask &
		      ~(PAGE_SIZE - 1)),
		    "l2_virt_map: L2 GPA 0x%llx+0x%llx is wider than %d bits",
		    l2_gpa, size,
		    vm->pa_bits);
	if (vm_gpa_range_backed(vm, l2_gpa, size)) {
		virt_map(vm, gva, l2_gpa, size);
		return;
	}
	/*
	 * The walker insists outputs are this VM's memory, which an L2 GPA
	 * need not be: build 4 KiB leaves to a placeholder, then point each
	 * at its L2 GPA.
	 */
	for (u64 off = 0; off < size; off += PAGE_SIZE) {
		u64 *pte;

		kvm_mmu_map_level(vm, &vm->mmu, gva + off, placeholder,
				  PAGE_SIZE, KVM_MMU_RWX | KVM_MMU_USER,
				  PG_LEVEL_4K);
		pte = kvm_mmu_lookup(vm, &vm->mmu, gva + off, NULL);
		*pte = (*pte & ~vm->mmu.arch.addr_mask) | (l2_gpa + off);
	}
}
