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
static void case_uapi_layout(void)
{
	CHECK_EQ(sizeof(struct kvm_tdx_cmd), 24);
	CHECK_EQ(offsetof(struct kvm_tdx_cmd, id), 0);
	CHECK_EQ(offsetof(struct kvm_tdx_cmd, flags), 4);
	CHECK_EQ(offsetof(struct kvm_tdx_cmd, data), 8);
	CHECK_EQ(offsetof(struct kvm_tdx_cmd, hw_error), 16);

	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, supported_attrs), 0);
	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, supported_xfam), 8);
	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r11), 16);
	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, user_tdvmcallinfo_1_r11), 24);
	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r12), 32);
	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, user_tdvmcallinfo_1_r12), 40);
	CHECK_EQ(offsetof(struct kvm_tdx_capabilities, cpuid), 2048);
	CHECK_EQ(sizeof(struct kvm_tdx_capabilities), 2048 + 8);

	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, attributes), 0);
	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, xfam), 8);
	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, mrconfigid), 16);
	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, mrowner), 64);
	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, mrownerconfig), 112);
	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, reserved), 160);
	CHECK_EQ(offsetof(struct kvm_tdx_init_vm, cpuid), 256);
	CHECK_EQ(sizeof(struct kvm_tdx_init_vm), 256 + 8);

	CHECK_EQ(sizeof(struct kvm_tdx_init_mem_region), 24);
	CHECK_EQ(offsetof(struct kvm_tdx_init_mem_region, source_addr), 0);
	CHECK_EQ(offsetof(struct kvm_tdx_init_mem_region, gpa), 8);
	CHECK_EQ(offsetof(struct kvm_tdx_init_mem_region, nr_pages), 16);
	CHECK_EQ(KVM_TDX_MEASURE_MEMORY_REGION, 1);

	CHECK(KVM_TDX_CAPABILITIES == 0 && KVM_TDX_INIT_VM == 1 &&
	      KVM_TDX_INIT_VCPU == 2 && KVM_TDX_INIT_MEM_REGION == 3 &&
	      KVM_TDX_FINALIZE_VM == 4 && KVM_TDX_GET_CPUID == 5 &&
	      KVMT_TDX_TERMINATE_VM == 6, "not as documented");
	CHECK_EQ(KVM_MEMORY_ENCRYPT_OP, 0xc008aeba);
	CHECK_EQ(KVM_X86_TDX_VM, 5);
	CHECK_EQ(KVM_EXIT_TDX, 40);
	CHECK_EQ(KVM_EXIT_MEMORY_FAULT, 39);

	/* The exit union starts 32 bytes into kvm_run; overlays sit there. */
	CHECK_EQ(offsetof(struct kvm_run, mmio), 32);
	CHECK_EQ(offsetof(struct kvmt_exit_tdx, nr), 8);
	CHECK_EQ(offsetof(struct kvmt_exit_tdx, ret), 16);
	CHECK_EQ(offsetof(struct kvmt_exit_tdx, data), 24);
	CHECK(sizeof(struct kvmt_exit_tdx) <= 256, "not as documented");
}

static void case_shared_bit(void)
{
	CHECK_EQ(tdx_shared_bit(48), 0x0000800000000000ULL);
	CHECK_EQ(tdx_shared_bit(52), 0x0008000000000000ULL);
}

/* S-bit leaves on a fake VM whose mmu is filled for a TD of @gpaw. */
static void case_shared_pte(int gpaw)
{
	struct kvm_vm *vm = vm_create_fake(48, gpaw - 1, 16 * MiB);
	u64 s_bit = tdx_shared_bit(gpaw);
	u64 shared_gva = 0x40000000, private_gva = 0x40200000;
	u64 huge_gva = 0x80000000, gpa = 0x200000, pa;
	u64 *pte;
	int level;

	tdx_mmu_arch(&vm->mmu.arch, gpaw);
	CHECK(vm->mmu.arch.s_bit == s_bit && !(vm->mmu.arch.addr_mask & s_bit), "GPAW %d", gpaw);

	kvm_mmu_map(vm, &vm->mmu, shared_gva, gpa, PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	kvm_mmu_map(vm, &vm->mmu, private_gva, gpa, PAGE_SIZE, KVM_MMU_RW);
	pte = kvm_mmu_lookup(vm, &vm->mmu, shared_gva, &level);
	CHECK(pte && level == PG_LEVEL_4K && (*pte & s_bit) &&
	      kvm_mmu_pte_paddr(&vm->mmu, *pte, level) == gpa &&
	      (kvm_mmu_pte_prot(&vm->mmu, *pte) & KVM_MMU_SHARED) &&
	      (*pte & (PTE_PRESENT | PTE_WRITABLE)) == (PTE_PRESENT | PTE_WRITABLE) &&
	      (*pte & ~(s_bit | PTE_NX | 0xfffULL)) == gpa, "GPAW %d", gpaw);
	CHECK(kvm_mmu_translate(vm, &vm->mmu, shared_gva + 0x123, &pa) &&
	      pa == gpa + 0x123, "GPAW %d", gpaw);
	pte = kvm_mmu_lookup(vm, &vm->mmu, private_gva, &level);
	CHECK(pte && !(*pte & s_bit) &&
	      !(kvm_mmu_pte_prot(&vm->mmu, *pte) & KVM_MMU_SHARED), "GPAW %d", gpaw);

	/* A 2 MiB shared leaf split by a protect keeps the S-bit below. */
	kvm_mmu_map(vm, &vm->mmu, huge_gva, 0x400000, 2 * MiB,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	pte = kvm_mmu_lookup(vm, &vm->mmu, huge_gva, &level);
	CHECK(pte && level == PG_LEVEL_2M && (*pte & s_bit), "GPAW %d", gpaw);
	kvm_mmu_protect(vm, &vm->mmu, huge_gva + PAGE_SIZE, PAGE_SIZE,
			KVM_MMU_READ);
	pte = kvm_mmu_lookup(vm, &vm->mmu, huge_gva + 2 * PAGE_SIZE, &level);
	CHECK(pte && level == PG_LEVEL_4K && (*pte & s_bit) &&
	      kvm_mmu_pte_paddr(&vm->mmu, *pte, level) == 0x402000, "GPAW %d", gpaw);
	pte = kvm_mmu_lookup(vm, &vm->mmu, huge_gva + PAGE_SIZE, &level);
	CHECK(pte && (*pte & s_bit) && !(*pte & PTE_WRITABLE), "GPAW %d", gpaw);

	kvm_mmu_verify(vm, &vm->mmu, NULL);
	kvm_vm_free(vm);
}

static void case_filters(void)
{
	u64 supported = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX |
			XFEATURE_AVX512 | BIT_ULL(11) | XFEATURE_AMX | BIT_ULL(9);

	/* A group present only in part (CET: 11 without 12) is dropped. */
	CHECK(tdx_filter_xfam(~0ULL, supported) ==
	      (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_AVX512 |
	       XFEATURE_AMX | BIT_ULL(9)), "not as expected");
	/* Asking for part of AVX-512 gets none of it; x87/SSE always. */
	CHECK(tdx_filter_xfam(XFEATURE_AVX | BIT_ULL(5), supported) ==
	      (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX), "not as expected");
	CHECK(tdx_filter_xfam(0, XFEATURE_X87) == XFEATURE_X87, "not as expected");
	CHECK(tdx_filter_attributes(TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE,
				    TDX_TD_ATTR_SEPT_VE_DISABLE) ==
	      TDX_TD_ATTR_SEPT_VE_DISABLE, "not as expected");
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

static void case_init_vm(int gpaw)
{
	struct kvm_tdx_capabilities *caps =
		calloc(1, sizeof(*caps) + 4 * sizeof(caps->cpuid.entries[0]));
	struct kvm_cpuid2 *sup = cpuid_alloc(6);
	struct tdx_vm_options opts = { .gpaw = gpaw };
	const struct kvm_cpuid_entry2 *e;
	struct kvm_tdx_init_vm *init;

	/* What the module lets userspace configure (masks). */
	caps->supported_attrs = TDX_TD_ATTR_SEPT_VE_DISABLE | TDX_TD_ATTR_DEBUG;
	caps->supported_xfam = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX |
			       XFEATURE_AVX512;
	caps->cpuid.nent = 4;
	caps->cpuid.entries[0] = (struct kvm_cpuid_entry2){
		.function = 0x1, .ecx = 0xffffffff, .edx = 0x0000ffff };
	/* KVM_TDX_CAPABILITIES leaves every entry's flags 0, as KVM does. */
	caps->cpuid.entries[1] = (struct kvm_cpuid_entry2){
		.function = 0x7, .index = 0,
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
	CHECK(init->attributes == TDX_TD_ATTR_SEPT_VE_DISABLE, "GPAW %d", gpaw);
	CHECK(init->xfam == (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX), "GPAW %d", gpaw);
	CHECK(init->cpuid.nent == 3, "GPAW %d", gpaw);
	CHECK(!find(&init->cpuid, 0x14, 0) && !find(&init->cpuid, 0x40000000, 0) &&
	      !find(&init->cpuid, 0xd, 0), "GPAW %d", gpaw);
	/* The flags come from KVM_GET_SUPPORTED_CPUID, not from the caps (below). */
	e = find(&init->cpuid, 0x1, 0);
	CHECK(e && e->ecx == BIT(0) && e->edx == 0x0001, "GPAW %d", gpaw);	/* no MWAIT */
	e = find(&init->cpuid, 0x7, 0);
	CHECK(e && e->ebx == BIT(5) && e->ecx == BIT(16) &&	/* no TSX, WAITPKG */
	      e->flags == KVM_CPUID_FLAG_SIGNIFCANT_INDEX, "GPAW %d", gpaw);
	e = find(&init->cpuid, 0x80000008, 0);
	CHECK(e && e->eax == ((u32)gpaw << 16 | 0x302e), "GPAW %d", gpaw);
	for (int i = 0; i < 6; i++)
		CHECK(!init->mrconfigid[i] && !init->mrowner[i] &&
		      !init->mrownerconfig[i], "GPAW %d", gpaw);
	free(init);

	/*
	 * Explicit choices are still filtered; with caps that lack
	 * 0x80000008 none is invented (KVM would reject it): GPAW 48 only.
	 */
	opts.attributes = TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_PERFMON;
	opts.xfam = XFEATURE_AVX512 | XFEATURE_AMX;
	caps->cpuid.nent = 1;
	if (gpaw == 48) {
		init = tdx_build_init_vm(caps, sup, &opts);
		CHECK_EQ(init->attributes, TDX_TD_ATTR_DEBUG);
		CHECK_EQ(init->xfam, XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX512);
		CHECK(init->cpuid.nent == 1 && !find(&init->cpuid, 0x80000008, 0),
		      "0x80000008 invented without the caps offering it");
		free(init);
	}

	/* The default XFAM leaves AMX out even where KVM and the module have it. */
	caps->supported_xfam |= XFEATURE_AMX;
	sup->entries[2].eax |= XFEATURE_AMX;
	opts = (struct tdx_vm_options){ .gpaw = gpaw };
	caps->cpuid.nent = 3;
	init = tdx_build_init_vm(caps, sup, &opts);
	CHECK(!(init->xfam & XFEATURE_AMX), "GPAW %d: AMX in the default XFAM", gpaw);
	free(init);
	free(caps);
	free(sup);
}

static void case_boot_params(int nr_vcpus)
{
	size_t size = TDX_BP_VCPUS + nr_vcpus * TDX_BV_SIZE;
	struct tdx_boot_params *p = calloc(1, 3 * PAGE_SIZE);
	u8 *raw = (u8 *)p;

	TEST_ASSERT(p, "out of memory");
	CHECK(TDX_BOOT_MAX_VCPUS == 253 && size <= 3 * PAGE_SIZE, "%d vCPUs", nr_vcpus);
	tdx_boot_params_init(p, 0x5000, 0x100001000ULL, 55, 0x100002000ULL,
			     4095, 0x401234);
	for (int i = 0; i < nr_vcpus; i++)
		tdx_boot_params_set_vcpu(p, i, 0x401000 + i,
					 0x100010000ULL + i * TDX_STACK_SIZE);

	CHECK((p->cr0_set & (X86_CR0_PE | X86_CR0_PG | X86_CR0_NE)) ==
	      (X86_CR0_PE | X86_CR0_PG | X86_CR0_NE), "%d vCPUs", nr_vcpus);
	CHECK((p->cr4_set & X86_CR4_PAE) && !(p->cr4_set & X86_CR4_LA57), "%d vCPUs", nr_vcpus);
	CHECK(p->cr3 == 0x5000 && p->nr_vcpus == (u32)nr_vcpus, "%d vCPUs", nr_vcpus);
	/* The stub's GDT: 64-bit code (L=1, D=0) at 0x08, data at 0x10. */
	CHECK(p->boot_gdt[0] == 0, "%d vCPUs", nr_vcpus);
	CHECK((p->boot_gdt[1] & BIT_ULL(53)) && !(p->boot_gdt[1] & BIT_ULL(54)) &&
	      (p->boot_gdt[1] & BIT_ULL(47)) && ((p->boot_gdt[1] >> 40) & 0xf) == 0xb, "%d vCPUs", nr_vcpus);
	CHECK((p->boot_gdt[2] & BIT_ULL(47)) && ((p->boot_gdt[2] >> 40) & 0xf) == 0x3, "%d vCPUs", nr_vcpus);
	CHECK(p->boot_gdtr.base == TDX_BOOT_PARAMS_GPA + TDX_BP_BOOT_GDT &&
	      p->boot_gdtr.limit == 31, "%d vCPUs", nr_vcpus);
	CHECK(p->gdtr.base == 0x100001000ULL && p->gdtr.limit == 55, "%d vCPUs", nr_vcpus);
	CHECK(p->idtr.base == 0x100002000ULL && p->idtr.limit == 4095, "%d vCPUs", nr_vcpus);
	CHECK(*(u64 *)(raw + TDX_BP_RETURN) == 0x401234, "%d vCPUs", nr_vcpus);
	/* Read through the byte offsets the stub uses, not the struct. */
	CHECK(*(u32 *)(raw + TDX_BP_CR3) == 0x5000 &&
	      *(u32 *)(raw + TDX_BP_NR_VCPUS) == (u32)nr_vcpus &&
	      *(u64 *)(raw + TDX_BP_GDTR + 2) == 0x100001000ULL &&
	      *(u32 *)(raw + TDX_BP_BOOT_GDTR + 2) == TDX_BOOT_PARAMS_GPA + TDX_BP_BOOT_GDT, "%d vCPUs", nr_vcpus);
	for (int i = 0; i < nr_vcpus; i++) {
		u8 *v = raw + TDX_BP_VCPUS + i * TDX_BV_SIZE;

		CHECK(*(u64 *)(v + TDX_BV_ENTRY) == 0x401000ULL + i &&
		      *(u64 *)(v + TDX_BV_STACK) == 0x100010000ULL + i * TDX_STACK_SIZE &&
		      *(u64 *)(v + TDX_BV_ARGS) == 0, "%d vCPUs", nr_vcpus);
	}
	free(p);
}

static void bad_cr3(void *arg)
{
	struct tdx_boot_params p;

	tdx_boot_params_init(&p, 1ULL << 32, 0, 0, 0, 0, 0);
	exit(0);
}

static void case_boot_params_rejects_high_cr3(void)
{
	struct child_result res;

	run_in_child(bad_cr3, NULL, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, "below 4 GiB"),
	      "status 0x%x, output:\n%s", res.status, res.output);
}

static void case_reset_vector_and_stub(void)
{
	size_t len = tdx_boot_code_end - tdx_boot_code;
	u8 rv[16];
	u32 rel, target;
	bool found = false;

	tdx_boot_reset_vector(rv);
	memcpy(&rel, &rv[1], 4);
	CHECK(rv[0] == 0xe9 && (u32)(TDX_RESET_VECTOR_GPA + 5 + rel) == TDX_BOOT_CODE_GPA, "not as expected");
	CHECK(len > 0 && len <= PAGE_SIZE - 16, "not as expected");
	/* First instruction: mov %ecx, %edi (the slot from INIT_VCPU). */
	CHECK(tdx_boot_code[0] == 0x89 && tdx_boot_code[1] == 0xcf, "not as expected");
	/* The far jump lands inside the stub's page, on selector 0x08. */
	for (size_t i = 0; i + 7 <= len; i++) {
		if (tdx_boot_code[i] != 0xea || tdx_boot_code[i + 5] != TDX_BOOT_CS ||
		    tdx_boot_code[i + 6] != 0)
			continue;
		memcpy(&target, &tdx_boot_code[i + 1], 4);
		found = target > TDX_BOOT_CODE_GPA + i &&
			target < TDX_BOOT_CODE_GPA + len;
	}
	CHECK(found, "no far jump to selector 0x%x inside the stub", TDX_BOOT_CS);
}

static void case_ucall_encoding(void)
{
	u64 s_bit = tdx_shared_bit(48), buf = TDX_SHARED_GPA + 3 * PAGE_SIZE;
	struct tdx_tdvmcall a;
	u8 data[8];
	u64 out = 0;

	tdx_tdvmcall_mmio_write(&a, TDX_UCALL_MMIO_GPA | s_bit, 8, buf);
	CHECK(a.r10 == TDVMCALL_STANDARD && a.r11 == 48 && a.r12 == 8 &&
	      a.r13 == 1 && a.r14 == (TDX_UCALL_MMIO_GPA | s_bit) && a.r15 == buf, "not as expected");
	CHECK(TDVMCALL_EXPOSE_R10_R15 == 0xfc00, "not as expected");

	/* What KVM puts in kvm_run.mmio for that call (S-bit stripped). */
	memcpy(data, &buf, 8);
	CHECK(tdx_ucall_decode(TDX_UCALL_MMIO_GPA, 8, 1, data, &out) && out == buf, "not as expected");
	CHECK(!tdx_ucall_decode(TDX_UCALL_MMIO_GPA, 4, 1, data, &out), "not as expected");
	CHECK(!tdx_ucall_decode(TDX_UCALL_MMIO_GPA, 8, 0, data, &out), "not as expected");
	CHECK(!tdx_ucall_decode(TDX_UCALL_MMIO_GPA + 8, 8, 1, data, &out), "not as expected");
	/* The per-vCPU buffers fit the shared slot's first MiB. */
	CHECK(sizeof(struct ucall) <= PAGE_SIZE, "not as expected");
}

static void case_kmsg_patterns(void)
{
	CHECK(kmsg_is_bad("4,812,1234,-;WARNING: CPU: 3 PID: 99 at arch/x86/kvm/mmu/tdp_mmu.c:1234 foo"), "a WARN");
	CHECK(kmsg_is_bad("3,813,1235,-;kvm_intel: SEAMCALL TDH_MEM_PAGE_AUG failed: 0x8000000000000000"), "a failed SEAMCALL");
	CHECK(kmsg_is_bad("4,814,1236,-;Call Trace:"), "a call trace");
	CHECK(!kmsg_is_bad("6,815,1237,-;kvm_intel: TDX is supported."), "an info line");
	CHECK(!kmsg_is_bad("6,816,1238,-;virbr0: port 1(vnet0) entered blocking state"), "another driver's line");
}

int main(void)
{
	case_begin("TDX uAPI struct sizes, offsets and numbers");
	case_uapi_layout();
	case_begin("shared bit from GPAW 48 and 52");
	case_shared_bit();
	case_begin("GPAW 48: KVM_MMU_SHARED leaves carry bit 47 and the right address");
	case_shared_pte(48);
	case_begin("GPAW 52: KVM_MMU_SHARED leaves carry bit 51 and the right address");
	case_shared_pte(52);
	case_begin("XFAM and attribute filtering");
	case_filters();
	case_begin("KVM_TDX_INIT_VM struct for GPAW 48");
	case_init_vm(48);
	case_begin("KVM_TDX_INIT_VM struct for GPAW 52");
	case_init_vm(52);
	case_begin("boot parameter block, 1 vCPU");
	case_boot_params(1);
	case_begin("boot parameter block, 8 vCPUs");
	case_boot_params(8);
	case_begin("boot parameters refuse a root above 4 GiB");
	case_boot_params_rejects_high_cr3();
	case_begin("reset-vector jump and boot stub far jump");
	case_reset_vector_and_stub();
	case_begin("TDVMCALL MMIO ucall encoding and decoding");
	case_ucall_encoding();
	case_begin("kernel-log records classified");
	case_kmsg_patterns();
	checks_exit();
}
