// SPDX-License-Identifier: GPL-2.0-only
/*
 * Vendor-neutral nested virtualization.
 *
 * Host side: what KVM offers L1, the stage-2 mmu (EPT or NPT tables built
 * by the one walker in lib/kvm_mmu.c), and per-vCPU nested state in guest
 * memory. L1 side: set up an L2, run it, and decode its exits into one
 * struct l2_exit so a test says "expect a TDP fault at GPA x on write"
 * once for both vendors.
 */
#include "nested.h"

_Static_assert(__builtin_offsetof(struct l2_gprs, rax) == L2_GPR_RAX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rcx) == L2_GPR_RCX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rdx) == L2_GPR_RDX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rbx) == L2_GPR_RBX, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rbp) == L2_GPR_RBP, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rsi) == L2_GPR_RSI, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, rdi) == L2_GPR_RDI, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, r8) == L2_GPR_R8, "gprs");
_Static_assert(__builtin_offsetof(struct l2_gprs, r15) == L2_GPR_R15, "gprs");

/* ---------------------------------------------------------------------
 * Host side: capabilities
 */

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

/* ---------------------------------------------------------------------
 * Host side: the stage-2 mmu
 */

void __vm_enable_tdp(struct kvm_vm *vm, enum kvm_mmu_format format,
		     int levels, bool gbpages, bool ad)
{
	struct kvm_mmu_arch arch;

	TEST_ASSERT(!vm->stage2_mmu.pgd_created,
		    "vm_enable_tdp: TDP is already enabled on this VM (stage-2 root at GPA 0x%llx); call it once, before vcpu_alloc_nested_state()",
		    (unsigned long long)vm->stage2_mmu.pgd);
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

	TEST_ASSERT(!vm->stage2_mmu.pgd_created,
		    "vm_enable_tdp: TDP is already enabled on this VM (stage-2 root at GPA 0x%llx); call it once, before vcpu_alloc_nested_state()",
		    (unsigned long long)vm->stage2_mmu.pgd);
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
				  (unsigned long long)cap);
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

void tdp_map_level(struct kvm_vm *vm, u64 l2_gpa, u64 l1_gpa, u64 size,
		   unsigned int prot, int level)
{
	tdp_check(vm, "tdp_map");
	TEST_ASSERT(size && IS_ALIGNED(l2_gpa | l1_gpa | size, PAGE_SIZE),
		    "tdp_map: L2 GPA 0x%llx -> L1 GPA 0x%llx (+0x%llx) is not 4 KiB aligned",
		    (unsigned long long)l2_gpa, (unsigned long long)l1_gpa,
		    (unsigned long long)size);
	TEST_ASSERT(level == PG_LEVEL_ANY ||
		    IS_ALIGNED(l2_gpa | l1_gpa | size, PG_LEVEL_SIZE(level)),
		    "tdp_map: L2 GPA 0x%llx -> L1 GPA 0x%llx (+0x%llx) is not aligned to level-%d pages",
		    (unsigned long long)l2_gpa, (unsigned long long)l1_gpa,
		    (unsigned long long)size, level);
	TEST_ASSERT(vm_gpa_range_backed(vm, l1_gpa, size),
		    "tdp_map: L1 GPA range 0x%llx+0x%llx (for L2 GPA 0x%llx) is not all in memslots",
		    (unsigned long long)l1_gpa, (unsigned long long)size,
		    (unsigned long long)l2_gpa);
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

	TEST_ASSERT(pte, "tdp_entry_gpa: the walk of L2 GPA 0x%llx stops above level %d",
		    (unsigned long long)l2_gpa, level);
	return addr_hva2gpa(vm, pte);
}

void l2_virt_map(struct kvm_vm *vm, u64 gva, u64 l2_gpa, u64 size)
{
	u64 placeholder = vm->mmu.pgd;	/* any page the walker accepts */

	TEST_ASSERT(IS_ALIGNED(gva | l2_gpa | size, PAGE_SIZE),
		    "l2_virt_map: GVA 0x%llx -> L2 GPA 0x%llx (+0x%llx) is not 4 KiB aligned",
		    (unsigned long long)gva, (unsigned long long)l2_gpa,
		    (unsigned long long)size);
	TEST_ASSERT(!((l2_gpa + size - 1) & ~vm->mmu.arch.addr_mask &
		      ~(PAGE_SIZE - 1)),
		    "l2_virt_map: L2 GPA 0x%llx+0x%llx is wider than %d bits",
		    (unsigned long long)l2_gpa, (unsigned long long)size,
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

/* ---------------------------------------------------------------------
 * Host side: per-vCPU state
 */

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

struct nested_state *nested_state_hva(struct kvm_vm *vm, u64 state_gva)
{
	return addr_gva2hva(vm, state_gva);
}

/* ---------------------------------------------------------------------
 * Exit decoding (pure)
 */

static unsigned int access_of(bool write, bool fetch)
{
	return write ? KVM_MMU_WRITE : fetch ? KVM_MMU_EXEC : KVM_MMU_READ;
}

void svm_exit_decode(u64 code, u64 info1, u64 info2, struct l2_exit *ex)
{
	*ex = (struct l2_exit){
		.kind = L2_EXIT_OTHER, .raw = code,
		.info1 = info1, .info2 = info2,
	};
	switch (code) {
	case SVM_EXIT_VMMCALL:
		ex->kind = L2_EXIT_HYPERCALL;
		break;
	case SVM_EXIT_NPF:
		ex->kind = L2_EXIT_TDP_FAULT;
		ex->gpa = info2;
		ex->access = access_of(info1 & SVM_NPF_WRITE,
				       info1 & SVM_NPF_FETCH);
		ex->present = info1 & SVM_NPF_PRESENT;
		ex->on_walk = info1 & SVM_NPF_GUEST_PAGE_TABLES;
		break;
	case SVM_EXIT_HLT:
		ex->kind = L2_EXIT_HLT;
		break;
	case SVM_EXIT_IOIO:
		ex->kind = L2_EXIT_IO;
		ex->port = info1 >> SVM_IOIO_PORT_SHIFT;
		ex->io_in = info1 & SVM_IOIO_TYPE_IN;
		/* One-hot SZ8/SZ16/SZ32 at bits 4-6 read as 1, 2, 4. */
		ex->io_size = (info1 >> SVM_IOIO_SIZE_SHIFT) & 7;
		break;
	default:
		if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
			ex->kind = L2_EXIT_EXCEPTION;
			ex->vector = code - SVM_EXIT_EXCP_BASE;
		}
		break;
	}
}

void vmx_exit_decode(u32 reason, u64 qual, u64 gpa, u32 intr_info,
		     struct l2_exit *ex)
{
	*ex = (struct l2_exit){
		.kind = L2_EXIT_OTHER, .raw = reason,
		.info1 = qual, .info2 = gpa,
	};
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE)
		return;
	switch (reason & 0xffff) {
	case EXIT_REASON_VMCALL:
		ex->kind = L2_EXIT_HYPERCALL;
		break;
	case EXIT_REASON_EPT_VIOLATION:
		ex->kind = L2_EXIT_TDP_FAULT;
		ex->gpa = gpa;
		ex->access = access_of(qual & EPT_VIOL_WRITE,
				       qual & EPT_VIOL_FETCH);
		ex->present = qual & (EPT_VIOL_READABLE | EPT_VIOL_WRITABLE |
				      EPT_VIOL_EXECUTABLE);
		/* Bit 8 is only meaningful when bit 7 says a GLA exists. */
		ex->on_walk = (qual & EPT_VIOL_GLA_VALID) &&
			      !(qual & EPT_VIOL_GLA_TRANSLATED);
		break;
	case EXIT_REASON_HLT:
		ex->kind = L2_EXIT_HLT;
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		ex->kind = L2_EXIT_IO;
		ex->port = qual >> VMX_IO_PORT_SHIFT;
		ex->io_in = qual & VMX_IO_IN;
		ex->io_size = (qual & VMX_IO_SIZE_MASK) + 1;
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		if ((intr_info & INTR_INFO_VALID) &&
		    (intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION) {
			ex->kind = L2_EXIT_EXCEPTION;
			ex->vector = intr_info & INTR_INFO_VECTOR_MASK;
		}
		break;
	}
}

int svm_exit_insn_len(u64 code)
{
	switch (code) {
	case SVM_EXIT_VMMCALL:		/* 0f 01 d9 */
	case SVM_EXIT_VMRUN:		/* 0f 01 d8 */
		return 3;
	case SVM_EXIT_CPUID:		/* 0f a2 */
	case SVM_EXIT_RDTSC:		/* 0f 31 */
		return 2;
	case SVM_EXIT_HLT:		/* f4 */
		return 1;
	default:
		return 0;
	}
}

const char *l2_exit_kind_name(enum l2_exit_kind kind)
{
	switch (kind) {
	case L2_EXIT_HYPERCALL: return "HYPERCALL";
	case L2_EXIT_TDP_FAULT: return "TDP_FAULT";
	case L2_EXIT_HLT: return "HLT";
	case L2_EXIT_IO: return "IO";
	case L2_EXIT_EXCEPTION: return "EXCEPTION";
	default: return "OTHER";
	}
}

/* ---------------------------------------------------------------------
 * L1 and L2 side (guest code)
 */

/* CPUID.0 vendor strings, EBX part: "Auth"enticAMD and "Hygo"nGenuine. */
#define CPUID_VENDOR_AMD_EBX	0x68747541
#define CPUID_VENDOR_HYGON_EBX	0x6f677948

/*
 * Lives in the image, which L2 shares: L1 fills it before L2 first runs,
 * so L2 never executes CPUID (unconditionally an exit on VMX).
 */
static enum nested_vendor cpu_vendor;

enum nested_vendor nested_cpu_vendor(void)
{
	u32 a, b, c, d;

	if (!READ_ONCE(cpu_vendor)) {
		cpuid_count(0, 0, &a, &b, &c, &d);
		WRITE_ONCE(cpu_vendor, (b == CPUID_VENDOR_AMD_EBX ||
					b == CPUID_VENDOR_HYGON_EBX) ?
				       NESTED_SVM : NESTED_VMX);
	}
	return cpu_vendor;
}

u64 l2_hypercall(u64 nr, u64 arg)
{
	u64 ret;

	if (nested_cpu_vendor() == NESTED_SVM)
		__asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(arg)
				 : "memory");
	else
		__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(arg)
				 : "memory");
	return ret;
}

/* Where L2 code that returns lands. */
static void l2_code_returned(void)
{
	l2_hypercall(L2_HC_RETURNED, 0);
	for (;;)
		hlt();
}

static void __l2_setup(struct nested_state *s, void *l2_code,
		       void *l2_stack_top, bool tdp)
{
	u64 *sp = (u64 *)ALIGN_DOWN((u64)l2_stack_top, 16);

	GUEST_ASSERT_MSG(s->vendor == nested_cpu_vendor(),
			 "nested state is for vendor %d, this CPU is %d",
			 s->vendor, nested_cpu_vendor());
	GUEST_ASSERT_MSG(!tdp || s->tdp_info.enabled,
			 "l2_setup: TDP wanted but vm_enable_tdp() was not called before vcpu_alloc_nested_state()");
	/* Enter L2 code as if called, with a return address to catch returns. */
	*--sp = (u64)l2_code_returned;

	if (s->vendor == NESTED_SVM) {
		if (!s->setup_done)
			svm_enable(&s->svm);
		svm_vmcb_init(&s->svm, (u64)l2_code, (u64)sp);
		if (tdp)
			svm_set_npt(&s->svm, s->tdp_info.root);
	} else {
		if (!s->setup_done)
			vmx_enable(&s->vmx);
		vmx_vmcs_load(&s->vmx);
		vmx_vmcs_init(&s->vmx, (u64)l2_code, (u64)sp, s->tss_base);
		if (tdp)
			vmx_set_ept(&s->vmx, s->tdp_info.eptp);
	}
	s->tdp = tdp;
	s->flush_pending = false;
	s->setup_done = true;
}

void l2_setup(struct nested_state *s, void *l2_code, void *l2_stack_top)
{
	__l2_setup(s, l2_code, l2_stack_top, s->tdp_info.enabled);
}

void l2_setup_no_tdp(struct nested_state *s, void *l2_code,
		     void *l2_stack_top)
{
	__l2_setup(s, l2_code, l2_stack_top, false);
}

static struct l2_exit svm_run(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;
	struct l2_exit ex;

	vmcb->save.rax = s->gprs.rax;
	vmcb->control.clean = 0;	/* we may have changed anything */
	/* Flushing all ASIDs needs no FlushByAsid support. */
	vmcb->control.tlb_control = s->flush_pending ?
				    SVM_TLB_CONTROL_FLUSH_ALL :
				    SVM_TLB_CONTROL_DO_NOTHING;
	s->flush_pending = false;
	svm_vmrun(s->svm.vmcb_gpa, &s->gprs);
	vmcb->control.tlb_control = SVM_TLB_CONTROL_DO_NOTHING;
	s->gprs.rax = vmcb->save.rax;

	/* VMEXIT_INVALID is -1 in the low half; some write 0 to the high. */
	GUEST_ASSERT_MSG((u32)vmcb->control.exit_code != (u32)SVM_EXIT_ERR,
			 "VMRUN failed its consistency checks (VMEXIT_INVALID): efer 0x%llx cr0 0x%llx cr3 0x%llx cr4 0x%llx dr6 0x%llx dr7 0x%llx rflags 0x%llx int_ctl 0x%x event_inj 0x%llx",
			 vmcb->save.efer, vmcb->save.cr0, vmcb->save.cr3,
			 vmcb->save.cr4, vmcb->save.dr6, vmcb->save.dr7,
			 vmcb->save.rflags, vmcb->control.int_ctl,
			 vmcb->control.event_inj);
	svm_exit_decode(vmcb->control.exit_code, vmcb->control.exit_info_1,
			vmcb->control.exit_info_2, &ex);
	ex.rip = vmcb->save.rip;
	return ex;
}

static struct l2_exit vmx_run(struct nested_state *s)
{
	struct l2_exit ex;
	u32 reason;
	u64 gpa = 0;

	if (vmx_enter(&s->gprs, s->vmx.launched))
		GUEST_FAIL("VM%s failed: VM-instruction error %llu",
			   s->vmx.launched ? "RESUME" : "LAUNCH",
			   vmread(VM_INSTRUCTION_ERROR));
	s->vmx.launched = true;
	reason = vmread(VM_EXIT_REASON);
	GUEST_ASSERT_MSG(!(reason & VMX_EXIT_REASON_ENTRY_FAILURE),
			 "VM entry failed: exit reason 0x%x, qualification 0x%llx",
			 reason, vmread(EXIT_QUALIFICATION));
	if ((reason & 0xffff) == EXIT_REASON_EPT_VIOLATION ||
	    (reason & 0xffff) == EXIT_REASON_EPT_MISCONFIG)
		gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	vmx_exit_decode(reason, vmread(EXIT_QUALIFICATION), gpa,
			vmread(VM_EXIT_INTR_INFO), &ex);
	ex.rip = vmread(GUEST_RIP);
	return ex;
}

struct l2_exit l2_run(struct nested_state *s)
{
	struct l2_exit ex;

	GUEST_ASSERT_MSG(s->setup_done, "l2_run before l2_setup");
	ex = s->vendor == NESTED_SVM ? svm_run(s) : vmx_run(s);
	if (ex.kind == L2_EXIT_HYPERCALL) {
		ex.nr = s->gprs.rax;
		ex.arg = s->gprs.rbx;
	}
	return ex;
}

u64 l2_get_rip(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		return s->svm.vmcb->save.rip;
	return vmread(GUEST_RIP);
}

void l2_set_rip(struct nested_state *s, u64 rip)
{
	if (s->vendor == NESTED_SVM)
		s->svm.vmcb->save.rip = rip;
	else
		GUEST_ASSERT(!vmwrite(GUEST_RIP, rip));
}

void l2_skip_instruction(struct nested_state *s)
{
	int len;

	if (s->vendor == NESTED_SVM) {
		struct vmcb_control *ctl = &s->svm.vmcb->control;

		/* IOIO exits give the next RIP even without NRIPS. */
		if (ctl->exit_code == SVM_EXIT_IOIO) {
			s->svm.vmcb->save.rip = ctl->exit_info_2;
			return;
		}
		if (s->svm.has_nrips && ctl->next_rip) {
			s->svm.vmcb->save.rip = ctl->next_rip;
			return;
		}
		/*
		 * No NRIPS (QEMU's TCG, for one): the instructions L2 exits
		 * on through this library have fixed encodings.
		 */
		len = svm_exit_insn_len(ctl->exit_code);
		GUEST_ASSERT_MSG(len,
				 "l2_skip_instruction: no next RIP for exit 0x%llx (NRIPS %s) and no fixed length",
				 ctl->exit_code,
				 s->svm.has_nrips ? "on" : "off");
		s->svm.vmcb->save.rip += len;
		return;
	}
	l2_set_rip(s, vmread(GUEST_RIP) + vmread(VM_EXIT_INSTRUCTION_LEN));
}

void l2_set_cr3(struct nested_state *s, u64 cr3)
{
	if (s->vendor == NESTED_SVM)
		s->svm.vmcb->save.cr3 = cr3;
	else
		GUEST_ASSERT(!vmwrite(GUEST_CR3, cr3));
}

void l2_tdp_flush(struct nested_state *s)
{
	if (s->vendor == NESTED_SVM)
		s->flush_pending = true;
	else if (s->tdp)
		vmx_invept(&s->vmx);
}

void l2_intercept_io(struct nested_state *s, u16 port, bool on)
{
	if (s->vendor == NESTED_SVM)
		svm_intercept_io(&s->svm, port, on);
	else
		vmx_intercept_io(&s->vmx, port, on);
}

void l2_intercept_exception(struct nested_state *s, int vector, bool on)
{
	if (s->vendor == NESTED_SVM) {
		struct vmcb_control *ctl = &s->svm.vmcb->control;

		if (on)
			ctl->intercept_exceptions |= BIT(vector);
		else
			ctl->intercept_exceptions &= ~BIT(vector);
	} else {
		u64 bm = vmread(EXCEPTION_BITMAP);

		bm = on ? (bm | BIT(vector)) : (bm & ~BIT(vector));
		GUEST_ASSERT(!vmwrite(EXCEPTION_BITMAP, bm));
	}
}

u64 l2_run_to_hypercall(struct nested_state *s, u64 nr)
{
	struct l2_exit ex = l2_run(s);

	GUEST_ASSERT_MSG(ex.kind == L2_EXIT_HYPERCALL && ex.nr == nr,
			 "expected L2 hypercall 0x%llx, got %s (raw 0x%llx, info 0x%llx/0x%llx, nr 0x%llx) at L2 RIP 0x%llx",
			 nr, l2_exit_kind_name(ex.kind), ex.raw, ex.info1,
			 ex.info2, ex.nr, ex.rip);
	l2_skip_instruction(s);
	return ex.arg;
}
