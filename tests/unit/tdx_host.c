// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side TDX logic that needs no TDX hardware and no /dev/kvm: the uAPI
 * layouts against the documented ones, the shared bit and S-bit PTEs, the
 * KVM_TDX_INIT_VM builder, the boot stub and its parameter block, and the
 * TD ucall encoding.
 */
#include <stddef.h>
#include <sys/wait.h>

#include "kvm_util.h"
#include "tdx/tdx.h"

/* Layouts as Documentation/virt/kvm/x86/intel-tdx.rst (6.16+) gives them. */
static bool case_uapi_layout(void)
{
	bool ok = true;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			tap_info("layout check failed: %s", #cond);	\
			ok = false;					\
		}							\
	} while (0)
	CHECK(sizeof(struct kvm_tdx_cmd) == 24);
	CHECK(offsetof(struct kvm_tdx_cmd, id) == 0);
	CHECK(offsetof(struct kvm_tdx_cmd, flags) == 4);
	CHECK(offsetof(struct kvm_tdx_cmd, data) == 8);
	CHECK(offsetof(struct kvm_tdx_cmd, hw_error) == 16);

	CHECK(offsetof(struct kvm_tdx_capabilities, supported_attrs) == 0);
	CHECK(offsetof(struct kvm_tdx_capabilities, supported_xfam) == 8);
	CHECK(offsetof(struct kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r11) == 16);
	CHECK(offsetof(struct kvm_tdx_capabilities, user_tdvmcallinfo_1_r11) == 24);
	CHECK(offsetof(struct kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r12) == 32);
	CHECK(offsetof(struct kvm_tdx_capabilities, user_tdvmcallinfo_1_r12) == 40);
	CHECK(offsetof(struct kvm_tdx_capabilities, cpuid) == 2048);
	CHECK(sizeof(struct kvm_tdx_capabilities) == 2048 + 8);

	CHECK(offsetof(struct kvm_tdx_init_vm, attributes) == 0);
	CHECK(offsetof(struct kvm_tdx_init_vm, xfam) == 8);
	CHECK(offsetof(struct kvm_tdx_init_vm, mrconfigid) == 16);
	CHECK(offsetof(struct kvm_tdx_init_vm, mrowner) == 64);
	CHECK(offsetof(struct kvm_tdx_init_vm, mrownerconfig) == 112);
	CHECK(offsetof(struct kvm_tdx_init_vm, reserved) == 160);
	CHECK(offsetof(struct kvm_tdx_init_vm, cpuid) == 256);
	CHECK(sizeof(struct kvm_tdx_init_vm) == 256 + 8);

	CHECK(sizeof(struct kvm_tdx_init_mem_region) == 24);
	CHECK(offsetof(struct kvm_tdx_init_mem_region, source_addr) == 0);
	CHECK(offsetof(struct kvm_tdx_init_mem_region, gpa) == 8);
	CHECK(offsetof(struct kvm_tdx_init_mem_region, nr_pages) == 16);
	CHECK(KVM_TDX_MEASURE_MEMORY_REGION == 1);

	CHECK(KVM_TDX_CAPABILITIES == 0 && KVM_TDX_INIT_VM == 1 &&
	      KVM_TDX_INIT_VCPU == 2 && KVM_TDX_INIT_MEM_REGION == 3 &&
	      KVM_TDX_FINALIZE_VM == 4 && KVM_TDX_GET_CPUID == 5 &&
	      KVMT_TDX_TERMINATE_VM == 6);
	CHECK(KVM_MEMORY_ENCRYPT_OP == 0xc008aeba);
	CHECK(KVM_X86_TDX_VM == 5);
	CHECK(KVM_EXIT_TDX == 40);
	CHECK(KVM_EXIT_MEMORY_FAULT == 39);

	/* The exit union starts 32 bytes into kvm_run; overlays sit there. */
	CHECK(offsetof(struct kvm_run, mmio) == 32);
	CHECK(offsetof(struct kvmt_exit_tdx, nr) == 8);
	CHECK(offsetof(struct kvmt_exit_tdx, ret) == 16);
	CHECK(offsetof(struct kvmt_exit_tdx, data) == 24);
	CHECK(sizeof(struct kvmt_exit_tdx) <= 256);
#undef CHECK
	return ok;
}

static bool case_shared_bit(void)
{
	return tdx_shared_bit(48) == 0x0000800000000000ULL &&
	       tdx_shared_bit(52) == 0x0008000000000000ULL;
}

/* S-bit leaves on a fake VM whose mmu is filled for a TD of @gpaw. */
static bool case_shared_pte(int gpaw)
{
	struct kvm_vm *vm = vm_create_fake(48, gpaw - 1, 16 * MiB);
	u64 s_bit = tdx_shared_bit(gpaw);
	u64 shared_gva = 0x40000000, private_gva = 0x40200000;
	u64 huge_gva = 0x80000000, gpa = 0x200000, pa;
	u64 *pte;
	int level;
	bool ok = true;

	tdx_mmu_arch(&vm->mmu.arch, gpaw);
	ok &= vm->mmu.arch.s_bit == s_bit && !(vm->mmu.arch.addr_mask & s_bit);

	kvm_mmu_map(vm, &vm->mmu, shared_gva, gpa, PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	kvm_mmu_map(vm, &vm->mmu, private_gva, gpa, PAGE_SIZE, KVM_MMU_RW);
	pte = kvm_mmu_lookup(vm, &vm->mmu, shared_gva, &level);
	ok &= pte && level == PG_LEVEL_4K && (*pte & s_bit) &&
	      kvm_mmu_pte_paddr(&vm->mmu, *pte, level) == gpa &&
	      (kvm_mmu_pte_prot(&vm->mmu, *pte) & KVM_MMU_SHARED) &&
	      (*pte & (PTE_PRESENT | PTE_WRITABLE)) == (PTE_PRESENT | PTE_WRITABLE) &&
	      (*pte & ~(s_bit | PTE_NX | 0xfffULL)) == gpa;
	ok &= kvm_mmu_translate(vm, &vm->mmu, shared_gva + 0x123, &pa) &&
	      pa == gpa + 0x123;
	pte = kvm_mmu_lookup(vm, &vm->mmu, private_gva, &level);
	ok &= pte && !(*pte & s_bit) &&
	      !(kvm_mmu_pte_prot(&vm->mmu, *pte) & KVM_MMU_SHARED);

	/* A 2 MiB shared leaf split by a protect keeps the S-bit below. */
	kvm_mmu_map(vm, &vm->mmu, huge_gva, 0x400000, 2 * MiB,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	pte = kvm_mmu_lookup(vm, &vm->mmu, huge_gva, &level);
	ok &= pte && level == PG_LEVEL_2M && (*pte & s_bit);
	kvm_mmu_protect(vm, &vm->mmu, huge_gva + PAGE_SIZE, PAGE_SIZE,
			KVM_MMU_READ);
	pte = kvm_mmu_lookup(vm, &vm->mmu, huge_gva + 2 * PAGE_SIZE, &level);
	ok &= pte && level == PG_LEVEL_4K && (*pte & s_bit) &&
	      kvm_mmu_pte_paddr(&vm->mmu, *pte, level) == 0x402000;
	pte = kvm_mmu_lookup(vm, &vm->mmu, huge_gva + PAGE_SIZE, &level);
	ok &= pte && (*pte & s_bit) && !(*pte & PTE_WRITABLE);

	kvm_mmu_verify(vm, &vm->mmu, NULL);
	kvm_vm_free(vm);
	return ok;
}

static bool case_filters(void)
{
	u64 supported = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX |
			XFEATURE_AVX512 | BIT_ULL(11) | XFEATURE_AMX | BIT_ULL(9);
	bool ok = true;

	/* A group present only in part (CET: 11 without 12) is dropped. */
	ok &= tdx_filter_xfam(~0ULL, supported) ==
	      (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_AVX512 |
	       XFEATURE_AMX | BIT_ULL(9));
	/* Asking for part of AVX-512 gets none of it; x87/SSE always. */
	ok &= tdx_filter_xfam(XFEATURE_AVX | BIT_ULL(5), supported) ==
	      (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX);
	ok &= tdx_filter_xfam(0, XFEATURE_X87) == XFEATURE_X87;
	ok &= tdx_filter_attributes(TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE,
				    TDX_TD_ATTR_SEPT_VE_DISABLE) ==
	      TDX_TD_ATTR_SEPT_VE_DISABLE;
	return ok;
}

static struct kvm_cpuid2 *cpuid_alloc(int nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	TEST_ASSERT(c, "out of memory");
	c->nent = nent;
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c,
					   u32 fn, u32 idx)
{
	for (u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static bool case_init_vm(int gpaw)
{
	struct kvm_tdx_capabilities *caps =
		calloc(1, sizeof(*caps) + 4 * sizeof(caps->cpuid.entries[0]));
	struct kvm_cpuid2 *sup = cpuid_alloc(6);
	struct tdx_vm_options opts = { .gpaw = gpaw };
	const struct kvm_cpuid_entry2 *e;
	struct kvm_tdx_init_vm *init;
	bool ok = true;

	/* What the module lets userspace configure (masks). */
	caps->supported_attrs = TDX_TD_ATTR_SEPT_VE_DISABLE | TDX_TD_ATTR_DEBUG;
	caps->supported_xfam = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX |
			       XFEATURE_AVX512;
	caps->cpuid.nent = 4;
	caps->cpuid.entries[0] = (struct kvm_cpuid_entry2){
		.function = 0x1, .ecx = 0xffffffff, .edx = 0x0000ffff };
	caps->cpuid.entries[1] = (struct kvm_cpuid_entry2){
		.function = 0x7, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.ebx = 0xffffffff, .ecx = 0xffffffff };
	caps->cpuid.entries[2] = (struct kvm_cpuid_entry2){
		.function = 0x80000008, .eax = 0x00ffffff };
	caps->cpuid.entries[3] = (struct kvm_cpuid_entry2){
		.function = 0x14, .eax = 0xffffffff };	/* KVM lacks it */

	/* What KVM_GET_SUPPORTED_CPUID says. */
	sup->entries[0] = (struct kvm_cpuid_entry2){
		.function = 0x1, .ecx = BIT(0) | BIT(3), .edx = 0xffff0001 };
	sup->entries[1] = (struct kvm_cpuid_entry2){
		.function = 0x7, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.ebx = BIT(4) | BIT(5) | BIT(11), .ecx = BIT(5) | BIT(16) };
	sup->entries[2] = (struct kvm_cpuid_entry2){
		.function = 0xd, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x7 };
	sup->entries[3] = (struct kvm_cpuid_entry2){
		.function = 0xd, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ecx = 0 };
	sup->entries[4] = (struct kvm_cpuid_entry2){
		.function = 0x80000008, .eax = 0x302e };
	sup->entries[5] = (struct kvm_cpuid_entry2){
		.function = 0x40000000, .eax = 0x40000001 };

	init = tdx_build_init_vm(caps, sup, &opts);
	ok &= init->attributes == TDX_TD_ATTR_SEPT_VE_DISABLE;
	ok &= init->xfam == (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX);
	ok &= init->cpuid.nent == 3;
	ok &= !find(&init->cpuid, 0x14, 0) && !find(&init->cpuid, 0x40000000, 0) &&
	      !find(&init->cpuid, 0xd, 0);
	e = find(&init->cpuid, 0x1, 0);
	ok &= e && e->ecx == BIT(0) && e->edx == 0x0001;	/* no MWAIT */
	e = find(&init->cpuid, 0x7, 0);
	ok &= e && e->ebx == BIT(5) && e->ecx == BIT(16) &&	/* no TSX, WAITPKG */
	      e->flags == KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e = find(&init->cpuid, 0x80000008, 0);
	ok &= e && e->eax == ((u32)gpaw << 16 | 0x302e);
	for (int i = 0; i < 6; i++)
		ok &= !init->mrconfigid[i] && !init->mrowner[i] &&
		      !init->mrownerconfig[i];
	free(init);

	/* Explicit choices are still filtered; 0x80000008 is always there. */
	opts.attributes = TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_PERFMON;
	opts.xfam = XFEATURE_AVX512 | XFEATURE_AMX;
	caps->cpuid.nent = 1;
	init = tdx_build_init_vm(caps, sup, &opts);
	ok &= init->attributes == TDX_TD_ATTR_DEBUG;
	ok &= init->xfam == (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX512);
	ok &= init->cpuid.nent == 2 && find(&init->cpuid, 0x80000008, 0) &&
	      find(&init->cpuid, 0x80000008, 0)->eax == (u32)gpaw << 16;
	free(init);
	free(caps);
	free(sup);
	return ok;
}

static bool case_boot_params(int nr_vcpus)
{
	size_t size = TDX_BP_VCPUS + nr_vcpus * TDX_BV_SIZE;
	struct tdx_boot_params *p = calloc(1, 3 * PAGE_SIZE);
	u8 *raw = (u8 *)p;
	bool ok = true;

	TEST_ASSERT(p, "out of memory");
	ok &= TDX_BOOT_MAX_VCPUS == 253 && size <= 3 * PAGE_SIZE;
	tdx_boot_params_init(p, 0x5000, 0x100001000ULL, 55, 0x100002000ULL,
			     4095, 0x401234);
	for (int i = 0; i < nr_vcpus; i++)
		tdx_boot_params_set_vcpu(p, i, 0x401000 + i,
					 0x100010000ULL + i * TDX_STACK_SIZE);

	ok &= (p->cr0_set & (X86_CR0_PE | X86_CR0_PG | X86_CR0_NE)) ==
	      (X86_CR0_PE | X86_CR0_PG | X86_CR0_NE);
	ok &= (p->cr4_set & X86_CR4_PAE) && !(p->cr4_set & X86_CR4_LA57);
	ok &= p->cr3 == 0x5000 && p->nr_vcpus == (u32)nr_vcpus;
	/* The stub's GDT: 64-bit code (L=1, D=0) at 0x08, data at 0x10. */
	ok &= p->boot_gdt[0] == 0;
	ok &= (p->boot_gdt[1] & BIT_ULL(53)) && !(p->boot_gdt[1] & BIT_ULL(54)) &&
	      (p->boot_gdt[1] & BIT_ULL(47)) && ((p->boot_gdt[1] >> 40) & 0xf) == 0xb;
	ok &= (p->boot_gdt[2] & BIT_ULL(47)) && ((p->boot_gdt[2] >> 40) & 0xf) == 0x3;
	ok &= p->boot_gdtr.base == TDX_BOOT_PARAMS_GPA + TDX_BP_BOOT_GDT &&
	      p->boot_gdtr.limit == 31;
	ok &= p->gdtr.base == 0x100001000ULL && p->gdtr.limit == 55;
	ok &= p->idtr.base == 0x100002000ULL && p->idtr.limit == 4095;
	ok &= *(u64 *)(raw + TDX_BP_RETURN) == 0x401234;
	/* Read through the byte offsets the stub uses, not the struct. */
	ok &= *(u32 *)(raw + TDX_BP_CR3) == 0x5000 &&
	      *(u32 *)(raw + TDX_BP_NR_VCPUS) == (u32)nr_vcpus &&
	      *(u64 *)(raw + TDX_BP_GDTR + 2) == 0x100001000ULL &&
	      *(u32 *)(raw + TDX_BP_BOOT_GDTR + 2) == TDX_BOOT_PARAMS_GPA + TDX_BP_BOOT_GDT;
	for (int i = 0; i < nr_vcpus; i++) {
		u8 *v = raw + TDX_BP_VCPUS + i * TDX_BV_SIZE;

		ok &= *(u64 *)(v + TDX_BV_ENTRY) == 0x401000ULL + i &&
		      *(u64 *)(v + TDX_BV_STACK) == 0x100010000ULL + i * TDX_STACK_SIZE &&
		      *(u64 *)(v + TDX_BV_ARGS) == 0;
	}
	free(p);
	return ok;
}

static void bad_cr3(void *arg)
{
	struct tdx_boot_params p;

	tdx_boot_params_init(&p, 1ULL << 32, 0, 0, 0, 0, 0);
	exit(0);
}

static bool case_boot_params_rejects_high_cr3(void)
{
	struct child_result res;

	run_in_child(bad_cr3, NULL, &res);
	return WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	       strstr(res.output, "below 4 GiB");
}

static bool case_reset_vector_and_stub(void)
{
	size_t len = tdx_boot_code_end - tdx_boot_code;
	u8 rv[16];
	u32 rel, target;
	bool ok = true, found = false;

	tdx_boot_reset_vector(rv);
	memcpy(&rel, &rv[1], 4);
	ok &= rv[0] == 0xe9 && (u32)(TDX_RESET_VECTOR_GPA + 5 + rel) == TDX_BOOT_CODE_GPA;
	ok &= len > 0 && len <= PAGE_SIZE - 16;
	/* First instruction: mov %ecx, %edi (the slot from INIT_VCPU). */
	ok &= tdx_boot_code[0] == 0x89 && tdx_boot_code[1] == 0xcf;
	/* The far jump lands inside the stub's page, on selector 0x08. */
	for (size_t i = 0; i + 7 <= len; i++) {
		if (tdx_boot_code[i] != 0xea || tdx_boot_code[i + 5] != TDX_BOOT_CS ||
		    tdx_boot_code[i + 6] != 0)
			continue;
		memcpy(&target, &tdx_boot_code[i + 1], 4);
		found = target > TDX_BOOT_CODE_GPA + i &&
			target < TDX_BOOT_CODE_GPA + len;
	}
	return ok && found;
}

static bool case_ucall_encoding(void)
{
	u64 s_bit = tdx_shared_bit(48), buf = TDX_SHARED_GPA + 3 * PAGE_SIZE;
	struct tdx_tdvmcall a;
	u8 data[8];
	u64 out = 0;
	bool ok = true;

	tdx_tdvmcall_mmio_write(&a, TDX_UCALL_MMIO_GPA | s_bit, 8, buf);
	ok &= a.r10 == TDVMCALL_STANDARD && a.r11 == 48 && a.r12 == 8 &&
	      a.r13 == 1 && a.r14 == (TDX_UCALL_MMIO_GPA | s_bit) && a.r15 == buf;
	ok &= TDVMCALL_EXPOSE_R10_R15 == 0xfc00;

	/* What KVM puts in kvm_run.mmio for that call (S-bit stripped). */
	memcpy(data, &buf, 8);
	ok &= tdx_ucall_decode(TDX_UCALL_MMIO_GPA, 8, 1, data, &out) && out == buf;
	ok &= !tdx_ucall_decode(TDX_UCALL_MMIO_GPA, 4, 1, data, &out);
	ok &= !tdx_ucall_decode(TDX_UCALL_MMIO_GPA, 8, 0, data, &out);
	ok &= !tdx_ucall_decode(TDX_UCALL_MMIO_GPA + 8, 8, 1, data, &out);
	/* The per-vCPU buffers fit the shared slot's first MiB. */
	ok &= sizeof(struct ucall) <= PAGE_SIZE;
	return ok;
}

static bool case_kmsg_patterns(void)
{
	return tdx_kmsg_is_bad("4,812,1234,-;WARNING: CPU: 3 PID: 99 at arch/x86/kvm/mmu/tdp_mmu.c:1234 foo") &&
	       tdx_kmsg_is_bad("3,813,1235,-;kvm_intel: SEAMCALL TDH_MEM_PAGE_AUG failed: 0x8000000000000000") &&
	       tdx_kmsg_is_bad("4,814,1236,-;Call Trace:") &&
	       !tdx_kmsg_is_bad("6,815,1237,-;kvm_intel: TDX is supported.") &&
	       !tdx_kmsg_is_bad("6,816,1238,-;virbr0: port 1(vnet0) entered blocking state");
}

int main(void)
{
	tap_plan(13);
	tap_result(case_uapi_layout(), "TDX uAPI struct sizes, offsets and numbers");
	tap_result(case_shared_bit(), "shared bit from GPAW 48 and 52");
	tap_result(case_shared_pte(48), "GPAW 48: KVM_MMU_SHARED leaves carry bit 47 and the right address");
	tap_result(case_shared_pte(52), "GPAW 52: KVM_MMU_SHARED leaves carry bit 51 and the right address");
	tap_result(case_filters(), "XFAM and attribute filtering");
	tap_result(case_init_vm(48), "KVM_TDX_INIT_VM struct for GPAW 48");
	tap_result(case_init_vm(52), "KVM_TDX_INIT_VM struct for GPAW 52");
	tap_result(case_boot_params(1), "boot parameter block, 1 vCPU");
	tap_result(case_boot_params(8), "boot parameter block, 8 vCPUs");
	tap_result(case_boot_params_rejects_high_cr3(), "boot parameters refuse a root above 4 GiB");
	tap_result(case_reset_vector_and_stub(), "reset-vector jump and boot stub far jump");
	tap_result(case_ucall_encoding(), "TDVMCALL MMIO ucall encoding and decoding");
	tap_result(case_kmsg_patterns(), "kernel-log records classified");
	tap_exit();
}
