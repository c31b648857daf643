// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-only checks of the nested library's pure parts (no /dev/kvm):
 *
 *  - EPTP encoding for 4 and 5 levels, with and without A/D
 *  - stage-2 PTEs made through vm->stage2_mmu on a fake VM, for every
 *    permission and leaf size, in EPT and NPT format, bit for bit
 *  - VMCB field offsets (also pinned by static_asserts in svm.h)
 *  - VMCS field encodings: width and type decoded from the encoding
 *  - exit decoding to the vendor-neutral struct l2_exit, both vendors
 *  - VMX control adjustment by a capability MSR
 *  - per-vCPU nested state: page-aligned, contiguous maps, the TDP root
 *  - bad input: tdp_map of an unaligned or out-of-memslot range and a
 *    second vm_enable_tdp fail naming the call and the address
 */
#include <sys/wait.h>

#include "kvm_util.h"
#include "nested/nested.h"

#define FAKE_MEM	(256 * MiB)
#define OUT_SLOT	1
#define OUT_GPA		(4 * GiB)
#define OUT_SIZE	(2 * GiB)	/* lazily backed: only tables touched */

static void eptp_encoding(void)
{
	u64 root = 0x12345000;

	/* WB (6) in 2:0, walk length - 1 in 5:3, A/D enable in bit 6. */
	CHECK(vmx_eptp(root, 4, false) == 0x1234501e, "0x%llx",
	      vmx_eptp(root, 4, false));
	CHECK(vmx_eptp(root, 4, true) == 0x1234505e, "0x%llx",
	      vmx_eptp(root, 4, true));
	CHECK(vmx_eptp(root, 5, false) == 0x12345026, "0x%llx",
	      vmx_eptp(root, 5, false));
	CHECK(vmx_eptp(root, 5, true) == 0x12345066, "0x%llx",
	      vmx_eptp(root, 5, true));
}

static struct kvm_vm *fake_vm(enum kvm_mmu_format format, int levels,
			      bool ad)
{
	struct kvm_vm *vm = vm_create_fake(levels == 5 ? 57 : 48, 52,
					   FAKE_MEM);

	vm_memslot_add(vm, VM_MEM_ANON, OUT_GPA, OUT_SLOT,
		       OUT_SIZE / PAGE_SIZE, 0);
	__vm_enable_tdp(vm, format, levels, true, ad);
	return vm;
}

/* The leaf bits the architecture wants for @prot at @level. */
static u64 expected_leaf(enum kvm_mmu_format format, unsigned int prot,
			 int level)
{
	u64 pte = 0;

	if (format == KVM_MMU_FORMAT_EPT) {
		pte |= (prot & KVM_MMU_READ) ? EPT_READABLE : 0;
		pte |= (prot & KVM_MMU_WRITE) ? EPT_WRITABLE : 0;
		pte |= (prot & KVM_MMU_EXEC) ? EPT_EXECUTABLE : 0;
		pte |= EPT_MEMTYPE_WB;
		pte |= level > PG_LEVEL_4K ? EPT_HUGE : 0;
	} else {
		/* NPT: present, U always (walks are user accesses), NX. */
		pte |= PTE_PRESENT | PTE_USER;
		pte |= (prot & KVM_MMU_WRITE) ? PTE_WRITABLE : 0;
		pte |= (prot & KVM_MMU_EXEC) ? 0 : PTE_NX;
		pte |= level > PG_LEVEL_4K ? PTE_HUGE : 0;
	}
	return pte;
}

static void pte_encodings_for(enum kvm_mmu_format format, int levels)
{
	static const unsigned int prots[] = {
		KVM_MMU_READ, KVM_MMU_READ | KVM_MMU_WRITE,
		KVM_MMU_READ | KVM_MMU_EXEC, KVM_MMU_RWX,
	};
	const char *fmt_name = format == KVM_MMU_FORMAT_EPT ? "EPT" : "NPT";
	struct kvm_vm *vm = fake_vm(format, levels, true);
	u64 table_bits = format == KVM_MMU_FORMAT_EPT ?
			 (EPT_READABLE | EPT_WRITABLE | EPT_EXECUTABLE) :
			 (PTE_PRESENT | PTE_WRITABLE | PTE_USER);
	u64 l2 = 0;

	for (int level = PG_LEVEL_4K; level <= PG_LEVEL_1G; level++) {
		u64 size = PG_LEVEL_SIZE(level);

		for (unsigned int p = 0; p < ARRAY_SIZE(prots); p++) {
			u64 l1 = OUT_GPA + ((p * size) % OUT_SIZE);
			u64 *pte, *parent;
			int got;

			l2 = ALIGN_UP(l2, 1 * GiB) + 1 * GiB;
			tdp_map_level(vm, l2, l1, size, prots[p], level);
			pte = tdp_lookup(vm, l2, &got);
			CHECK(pte && got == level, "%s level %d: leaf at level %d",
			      fmt_name, level, got);
			if (!pte)
				continue;
			CHECK(*pte == (l1 | expected_leaf(format, prots[p], level)),
			      "%s %d-level, level %d, prot 0x%x: pte 0x%llx, expected 0x%llx",
			      fmt_name, levels, level, prots[p], *pte,
			      l1 | expected_leaf(format, prots[p], level));
			CHECK(kvm_mmu_pte_prot(&vm->stage2_mmu, *pte) == prots[p],
			      "%s: decoded prot 0x%x, mapped 0x%x", fmt_name,
			      kvm_mmu_pte_prot(&vm->stage2_mmu, *pte), prots[p]);
			/* The entry above the leaf points to a table: all rights. */
			parent = tdp_entry(vm, l2, level + 1);
			CHECK(parent && (*parent & ~vm->stage2_mmu.arch.addr_mask) ==
				      table_bits,
			      "%s: table entry above level %d is 0x%llx",
			      fmt_name, level, parent ? *parent : 0);
		}
	}
	/* The walk has as many levels as asked for. */
	CHECK(tdp_entry(vm, l2, levels - 1) && !tdp_entry(vm, l2, levels),
	      "%s: walk depth is not %d", fmt_name, levels);
	CHECK(kvm_mmu_verify(vm, &vm->stage2_mmu, NULL) > 0,
	      "%s: verify found no leaves", fmt_name);
	kvm_vm_free(vm);
}

static void pte_encodings(void)
{
	pte_encodings_for(KVM_MMU_FORMAT_EPT, 4);
	pte_encodings_for(KVM_MMU_FORMAT_EPT, 5);
	pte_encodings_for(KVM_MMU_FORMAT_NPT, 4);
	pte_encodings_for(KVM_MMU_FORMAT_NPT, 5);
}

static void ept_ad_and_high_gpa(void)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_EPT, 4, false);
	struct kvm_vm *vm5 = fake_vm(KVM_MMU_FORMAT_EPT, 5, true);
	u64 high = 1ULL << 50;	/* beyond 4-level reach */

	/* Without EPTP[6], bits 8/9 mean nothing: the mmu has no A/D. */
	CHECK(!vm->stage2_mmu.arch.accessed && !vm->stage2_mmu.arch.dirty,
	      "EPT without A/D still has A/D masks");
	CHECK(vm5->stage2_mmu.arch.accessed == EPT_ACCESSED &&
	      vm5->stage2_mmu.arch.dirty == EPT_DIRTY, "EPT A/D masks");
	tdp_map(vm5, high, OUT_GPA, 2 * MiB);
	CHECK(tdp_entry(vm5, high, PG_LEVEL_256T), "no PML5 entry for 2^50");
	kvm_vm_free(vm);
	kvm_vm_free(vm5);
}

static void vmcb_offsets(void)
{
	static const struct {
		const char *name;
		size_t off, want;
	} f[] = {
		{ "intercept_exceptions", VMCB_OFF(control.intercept_exceptions), 0x008 },
		{ "intercept_misc1", VMCB_OFF(control.intercept_misc1), 0x00c },
		{ "intercept_misc2", VMCB_OFF(control.intercept_misc2), 0x010 },
		{ "iopm_base_pa", VMCB_OFF(control.iopm_base_pa), 0x040 },
		{ "msrpm_base_pa", VMCB_OFF(control.msrpm_base_pa), 0x048 },
		{ "tsc_offset", VMCB_OFF(control.tsc_offset), 0x050 },
		{ "asid", VMCB_OFF(control.asid), 0x058 },
		{ "tlb_control", VMCB_OFF(control.tlb_control), 0x05c },
		{ "int_ctl", VMCB_OFF(control.int_ctl), 0x060 },
		{ "int_vector", VMCB_OFF(control.int_vector), 0x064 },
		{ "int_state", VMCB_OFF(control.int_state), 0x068 },
		{ "exit_code", VMCB_OFF(control.exit_code), 0x070 },
		{ "exit_info_1", VMCB_OFF(control.exit_info_1), 0x078 },
		{ "exit_info_2", VMCB_OFF(control.exit_info_2), 0x080 },
		{ "exit_int_info", VMCB_OFF(control.exit_int_info), 0x088 },
		{ "nested_ctl", VMCB_OFF(control.nested_ctl), 0x090 },
		{ "event_inj", VMCB_OFF(control.event_inj), 0x0a8 },
		{ "nested_cr3", VMCB_OFF(control.nested_cr3), 0x0b0 },
		{ "clean", VMCB_OFF(control.clean), 0x0c0 },
		{ "next_rip", VMCB_OFF(control.next_rip), 0x0c8 },
		{ "insn_len", VMCB_OFF(control.insn_len), 0x0d0 },
		{ "save.es", VMCB_OFF(save.es), 0x400 },
		{ "save.cs", VMCB_OFF(save.cs), 0x410 },
		{ "save.ss", VMCB_OFF(save.ss), 0x420 },
		{ "save.ds", VMCB_OFF(save.ds), 0x430 },
		{ "save.gdtr", VMCB_OFF(save.gdtr), 0x460 },
		{ "save.idtr", VMCB_OFF(save.idtr), 0x480 },
		{ "save.tr", VMCB_OFF(save.tr), 0x490 },
		{ "save.cpl", VMCB_OFF(save.cpl), 0x4cb },
		{ "save.efer", VMCB_OFF(save.efer), 0x4d0 },
		{ "save.cr4", VMCB_OFF(save.cr4), 0x548 },
		{ "save.cr3", VMCB_OFF(save.cr3), 0x550 },
		{ "save.cr0", VMCB_OFF(save.cr0), 0x558 },
		{ "save.dr7", VMCB_OFF(save.dr7), 0x560 },
		{ "save.dr6", VMCB_OFF(save.dr6), 0x568 },
		{ "save.rflags", VMCB_OFF(save.rflags), 0x570 },
		{ "save.rip", VMCB_OFF(save.rip), 0x578 },
		{ "save.rsp", VMCB_OFF(save.rsp), 0x5d8 },
		{ "save.rax", VMCB_OFF(save.rax), 0x5f8 },
		{ "save.star", VMCB_OFF(save.star), 0x600 },
		{ "save.kernel_gs_base", VMCB_OFF(save.kernel_gs_base), 0x620 },
		{ "save.cr2", VMCB_OFF(save.cr2), 0x640 },
		{ "save.g_pat", VMCB_OFF(save.g_pat), 0x668 },
		{ "save.dbgctl", VMCB_OFF(save.dbgctl), 0x670 },
	};

	CHECK(sizeof(struct vmcb_seg) == 16, "vmcb_seg is %zu bytes",
	      sizeof(struct vmcb_seg));
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		CHECK(f[i].off == f[i].want, "%s at 0x%zx, APM says 0x%zx",
		      f[i].name, f[i].off, f[i].want);
}

static void vmcs_encodings(void)
{
	static const struct {
		const char *name;
		u32 field;
		enum vmcs_width width;
		enum vmcs_type type;
	} f[] = {
		{ "VIRTUAL_PROCESSOR_ID", VIRTUAL_PROCESSOR_ID, VMCS_WIDTH_16, VMCS_TYPE_CONTROL },
		{ "GUEST_CS_SELECTOR", GUEST_CS_SELECTOR, VMCS_WIDTH_16, VMCS_TYPE_GUEST },
		{ "HOST_TR_SELECTOR", HOST_TR_SELECTOR, VMCS_WIDTH_16, VMCS_TYPE_HOST },
		{ "IO_BITMAP_A", IO_BITMAP_A, VMCS_WIDTH_64, VMCS_TYPE_CONTROL },
		{ "MSR_BITMAP", MSR_BITMAP, VMCS_WIDTH_64, VMCS_TYPE_CONTROL },
		{ "EPT_POINTER", EPT_POINTER, VMCS_WIDTH_64, VMCS_TYPE_CONTROL },
		{ "GUEST_PHYSICAL_ADDRESS", GUEST_PHYSICAL_ADDRESS, VMCS_WIDTH_64, VMCS_TYPE_EXIT_INFO },
		{ "VMCS_LINK_POINTER", VMCS_LINK_POINTER, VMCS_WIDTH_64, VMCS_TYPE_GUEST },
		{ "GUEST_IA32_EFER", GUEST_IA32_EFER, VMCS_WIDTH_64, VMCS_TYPE_GUEST },
		{ "HOST_IA32_EFER", HOST_IA32_EFER, VMCS_WIDTH_64, VMCS_TYPE_HOST },
		{ "PIN_BASED_VM_EXEC_CONTROL", PIN_BASED_VM_EXEC_CONTROL, VMCS_WIDTH_32, VMCS_TYPE_CONTROL },
		{ "SECONDARY_VM_EXEC_CONTROL", SECONDARY_VM_EXEC_CONTROL, VMCS_WIDTH_32, VMCS_TYPE_CONTROL },
		{ "VM_INSTRUCTION_ERROR", VM_INSTRUCTION_ERROR, VMCS_WIDTH_32, VMCS_TYPE_EXIT_INFO },
		{ "VM_EXIT_REASON", VM_EXIT_REASON, VMCS_WIDTH_32, VMCS_TYPE_EXIT_INFO },
		{ "VM_EXIT_INSTRUCTION_LEN", VM_EXIT_INSTRUCTION_LEN, VMCS_WIDTH_32, VMCS_TYPE_EXIT_INFO },
		{ "GUEST_TR_AR_BYTES", GUEST_TR_AR_BYTES, VMCS_WIDTH_32, VMCS_TYPE_GUEST },
		{ "VMX_PREEMPTION_TIMER_VALUE", VMX_PREEMPTION_TIMER_VALUE, VMCS_WIDTH_32, VMCS_TYPE_GUEST },
		{ "HOST_IA32_SYSENTER_CS", HOST_IA32_SYSENTER_CS, VMCS_WIDTH_32, VMCS_TYPE_HOST },
		{ "CR0_GUEST_HOST_MASK", CR0_GUEST_HOST_MASK, VMCS_WIDTH_NATURAL, VMCS_TYPE_CONTROL },
		{ "EXIT_QUALIFICATION", EXIT_QUALIFICATION, VMCS_WIDTH_NATURAL, VMCS_TYPE_EXIT_INFO },
		{ "GUEST_RIP", GUEST_RIP, VMCS_WIDTH_NATURAL, VMCS_TYPE_GUEST },
		{ "GUEST_RFLAGS", GUEST_RFLAGS, VMCS_WIDTH_NATURAL, VMCS_TYPE_GUEST },
		{ "HOST_RSP", HOST_RSP, VMCS_WIDTH_NATURAL, VMCS_TYPE_HOST },
		{ "HOST_RIP", HOST_RIP, VMCS_WIDTH_NATURAL, VMCS_TYPE_HOST },
	};

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		CHECK(vmcs_field_width(f[i].field) == f[i].width,
		      "%s (0x%x): width %d, expected %d", f[i].name, f[i].field,
		      vmcs_field_width(f[i].field), f[i].width);
		CHECK(vmcs_field_type(f[i].field) == f[i].type,
		      "%s (0x%x): type %d, expected %d", f[i].name, f[i].field,
		      vmcs_field_type(f[i].field), f[i].type);
		/* Only 64-bit fields have a "high" access (bit 0). */
		CHECK(!(f[i].field & 1), "%s has bit 0 set", f[i].name);
	}
	/* The assembly's field numbers are the enum's. */
	CHECK(HOST_RSP == 0x6c14 && HOST_RIP == 0x6c16, "HOST_RSP/RIP moved");
	CHECK(vmcs_field_index(GUEST_RIP) == 0xf, "GUEST_RIP index %u",
	      vmcs_field_index(GUEST_RIP));
}

static void exit_decoding(void)
{
	struct l2_exit ex;

	/* SVM */
	svm_exit_decode(SVM_EXIT_VMMCALL, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_HYPERCALL, "VMMCALL -> %s", l2_exit_kind_name(ex.kind));
	svm_exit_decode(SVM_EXIT_HLT, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_HLT, "HLT -> %s", l2_exit_kind_name(ex.kind));
	svm_exit_decode(SVM_EXIT_NPF, SVM_NPF_USER | SVM_NPF_FINAL_TRANSLATION,
			0x1234567, &ex);
	CHECK(ex.kind == L2_EXIT_TDP_FAULT && ex.gpa == 0x1234567 &&
	      ex.access == KVM_MMU_READ && !ex.present && !ex.on_walk,
	      "NPF read: kind %d gpa 0x%llx access 0x%x present %d walk %d",
	      ex.kind, ex.gpa, ex.access, ex.present, ex.on_walk);
	svm_exit_decode(SVM_EXIT_NPF, SVM_NPF_PRESENT | SVM_NPF_WRITE |
			SVM_NPF_USER | SVM_NPF_GUEST_PAGE_TABLES, 0x3d018, &ex);
	CHECK(ex.access == KVM_MMU_WRITE && ex.present && ex.on_walk,
	      "NPF write on walk: access 0x%x present %d walk %d", ex.access,
	      ex.present, ex.on_walk);
	svm_exit_decode(SVM_EXIT_NPF, SVM_NPF_PRESENT | SVM_NPF_FETCH |
			SVM_NPF_USER | SVM_NPF_FINAL_TRANSLATION, 0x5000, &ex);
	CHECK(ex.access == KVM_MMU_EXEC && ex.present && !ex.on_walk,
	      "NPF fetch: access 0x%x", ex.access);
	svm_exit_decode(SVM_EXIT_IOIO, (0x80ULL << 16) | (1 << 4), 0x401000, &ex);
	CHECK(ex.kind == L2_EXIT_IO && ex.port == 0x80 && ex.io_size == 1 &&
	      !ex.io_in, "IOIO out 0x80 byte: port 0x%x size %d in %d",
	      ex.port, ex.io_size, ex.io_in);
	svm_exit_decode(SVM_EXIT_IOIO, (0x1f0ULL << 16) | (1 << 6) | 1, 0, &ex);
	CHECK(ex.port == 0x1f0 && ex.io_size == 4 && ex.io_in,
	      "IOIO in 0x1f0 dword: port 0x%x size %d in %d", ex.port,
	      ex.io_size, ex.io_in);
	svm_exit_decode(SVM_EXIT_EXCP_BASE + UD_VECTOR, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_EXCEPTION && ex.vector == UD_VECTOR,
	      "#UD exit -> %s vector %d", l2_exit_kind_name(ex.kind), ex.vector);
	CHECK(!ex.has_error_code, "#UD has no error code");
	svm_exit_decode(SVM_EXIT_EXCP_BASE + PF_VECTOR, 0x6, 0xdead000, &ex);
	CHECK(ex.kind == L2_EXIT_EXCEPTION && ex.has_error_code &&
	      ex.error_code == 0x6 && ex.fault_addr == 0xdead000,
	      "#PF exit: error code 0x%x, CR2 0x%llx", ex.error_code,
	      ex.fault_addr);
	svm_exit_decode(SVM_EXIT_SHUTDOWN, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_SHUTDOWN, "SHUTDOWN -> %s", l2_exit_kind_name(ex.kind));
	svm_exit_decode(SVM_EXIT_INTR, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_INTERRUPT, "INTR -> %s", l2_exit_kind_name(ex.kind));
	svm_exit_decode(SVM_EXIT_VINTR, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_OTHER && ex.raw == SVM_EXIT_VINTR, "VINTR");
	CHECK(svm_exit_insn_len(SVM_EXIT_VMMCALL) == 3 &&
	      svm_exit_insn_len(SVM_EXIT_HLT) == 1 &&
	      svm_exit_insn_len(SVM_EXIT_NPF) == 0, "fixed lengths");

	/* VMX */
	vmx_exit_decode(EXIT_REASON_VMCALL, 0, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_HYPERCALL, "VMCALL -> %s", l2_exit_kind_name(ex.kind));
	vmx_exit_decode(EXIT_REASON_HLT, 0, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_HLT, "HLT");
	vmx_exit_decode(EXIT_REASON_EPT_VIOLATION, EPT_VIOL_READ |
			EPT_VIOL_GLA_VALID | EPT_VIOL_GLA_TRANSLATED,
			0x1234567, 0, &ex);
	CHECK(ex.kind == L2_EXIT_TDP_FAULT && ex.gpa == 0x1234567 &&
	      ex.access == KVM_MMU_READ && !ex.present && !ex.on_walk,
	      "EPT read: access 0x%x present %d walk %d", ex.access,
	      ex.present, ex.on_walk);
	vmx_exit_decode(EXIT_REASON_EPT_VIOLATION, EPT_VIOL_READ |
			EPT_VIOL_WRITE | EPT_VIOL_READABLE |
			EPT_VIOL_EXECUTABLE | EPT_VIOL_GLA_VALID, 0x3d018, 0,
			&ex);
	CHECK(ex.access == KVM_MMU_WRITE && ex.present && ex.on_walk,
	      "EPT A/D write on walk: access 0x%x present %d walk %d",
	      ex.access, ex.present, ex.on_walk);
	vmx_exit_decode(EXIT_REASON_EPT_VIOLATION, EPT_VIOL_FETCH |
			EPT_VIOL_READABLE | EPT_VIOL_GLA_VALID |
			EPT_VIOL_GLA_TRANSLATED, 0x5000, 0, &ex);
	CHECK(ex.access == KVM_MMU_EXEC && ex.present && !ex.on_walk,
	      "EPT fetch: access 0x%x", ex.access);
	/* Without a linear address, bit 8 says nothing about the walk. */
	vmx_exit_decode(EXIT_REASON_EPT_VIOLATION, EPT_VIOL_WRITE, 0x6000, 0, &ex);
	CHECK(!ex.on_walk, "EPT without GLA is not on the walk");
	vmx_exit_decode(EXIT_REASON_IO_INSTRUCTION, (0x80ULL << 16), 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_IO && ex.port == 0x80 && ex.io_size == 1 &&
	      !ex.io_in, "I/O out 0x80 byte");
	vmx_exit_decode(EXIT_REASON_IO_INSTRUCTION,
			(0x1f0ULL << 16) | VMX_IO_IN | 3, 0, 0, &ex);
	CHECK(ex.port == 0x1f0 && ex.io_size == 4 && ex.io_in, "I/O in dword");
	vmx_exit_decode(EXIT_REASON_EXCEPTION_NMI, 0, 0,
			INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | UD_VECTOR,
			&ex);
	CHECK(ex.kind == L2_EXIT_EXCEPTION && ex.vector == UD_VECTOR, "#UD");
	vmx_exit_decode(EXIT_REASON_EXCEPTION_NMI, 0xbad000, 0,
			INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION |
			INTR_INFO_ERROR_CODE | PF_VECTOR, &ex);
	CHECK(ex.kind == L2_EXIT_EXCEPTION && ex.has_error_code &&
	      ex.fault_addr == 0xbad000, "#PF: error code valid, CR2 from the qualification");
	vmx_exit_decode(EXIT_REASON_TRIPLE_FAULT, 0, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_SHUTDOWN, "triple fault -> %s", l2_exit_kind_name(ex.kind));
	vmx_exit_decode(EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_INTERRUPT, "external interrupt -> %s",
	      l2_exit_kind_name(ex.kind));
	CHECK(x86_exception_has_error_code(DF_VECTOR) &&
	      x86_exception_has_error_code(GP_VECTOR) &&
	      !x86_exception_has_error_code(DE_VECTOR) &&
	      !x86_exception_has_error_code(BP_VECTOR), "error-code vectors");
	vmx_exit_decode(EXIT_REASON_EXCEPTION_NMI, 0, 0,
			INTR_INFO_VALID | (2U << INTR_INFO_TYPE_SHIFT) | 2, &ex);
	CHECK(ex.kind == L2_EXIT_OTHER, "an NMI is not an exception exit");
	vmx_exit_decode(VMX_EXIT_REASON_ENTRY_FAILURE |
			EXIT_REASON_INVALID_STATE, 0, 0, 0, &ex);
	CHECK(ex.kind == L2_EXIT_OTHER, "entry failure -> OTHER");
	/* A misconfigured entry is not a fault: no access, its own kind. */
	vmx_exit_decode(EXIT_REASON_EPT_MISCONFIG, 0, 0x7000, 0, &ex);
	CHECK(ex.kind == L2_EXIT_TDP_MISCONFIG && ex.gpa == 0x7000,
	      "EPT misconfiguration -> %s at 0x%llx",
	      l2_exit_kind_name(ex.kind), ex.gpa);
}

static bool describes(const struct l2_exit *ex, const char *want)
{
	char buf[160];

	l2_exit_describe(ex, buf, sizeof(buf));
	return CHECK(strstr(buf, want), "'%s' lacks '%s'", buf, want);
}

/* Messages say what the exit means: GPA, access, kind, L2's RIP. */
static void exit_description(void)
{
	struct l2_exit ex;

	svm_exit_decode(SVM_EXIT_NPF, SVM_NPF_PRESENT | SVM_NPF_WRITE |
			SVM_NPF_USER | SVM_NPF_GUEST_PAGE_TABLES, 0x3d018, &ex);
	ex.rip = 0x401234;
	describes(&ex, "TDP fault at L2 GPA 0x3d018 on a write (permission, on L2's page-table walk) at L2 RIP 0x401234");
	vmx_exit_decode(EXIT_REASON_EPT_VIOLATION, EPT_VIOL_FETCH, 0x5000, 0, &ex);
	describes(&ex, "TDP fault at L2 GPA 0x5000 on a fetch (not present)");
	vmx_exit_decode(EXIT_REASON_EPT_MISCONFIG, 0, 0x7000, 0, &ex);
	describes(&ex, "EPT misconfiguration at L2 GPA 0x7000");
	svm_exit_decode(SVM_EXIT_VINTR, 0x11, 0x22, &ex);
	describes(&ex, "OTHER (raw exit 0x64, info 0x11/0x22)");
	ex = (struct l2_exit){ .kind = L2_EXIT_HYPERCALL, .nr = 0x41, .arg = 7 };
	describes(&ex, "hypercall 0x41 (arg 0x7)");
}

/*
 * The TDP fault check compares the exact GPA: a match returns true (no
 * ucall); a GPA 8 bytes off must not (the check then reports through a
 * ucall, which on the host dies on the port I/O: a child shows it).
 */
static struct l2_exit fault_at_0x5008;

static void check_gpa_off_by_8(void *arg)
{
	__l2_check_tdp_fault(fault_at_0x5008, 0x5000, KVM_MMU_READ, __FILE__,
			     __LINE__, true);
}

static void tdp_fault_exact(void)
{
	struct child_result res;

	vmx_exit_decode(EXIT_REASON_EPT_VIOLATION, EPT_VIOL_READ, 0x5008, 0,
			&fault_at_0x5008);
	CHECK(__l2_check_tdp_fault(fault_at_0x5008, 0x5008, KVM_MMU_READ,
				   __FILE__, __LINE__, true), "exact GPA refused");
	run_in_child(check_gpa_off_by_8, NULL, &res);
	CHECK(!WIFEXITED(res.status) || WEXITSTATUS(res.status) != KSFT_PASS,
	      "0x5008 accepted for 0x5000: the check compares pages, not GPAs");
}

static void control_adjust(void)
{
	/* Must-be-1: bits 1 and 2; may-be-1: bits 1, 2, 7, 31. */
	u64 cap = ((u64)(BIT(1) | BIT(2) | BIT(7) | BIT(31)) << 32) |
		  BIT(1) | BIT(2);

	CHECK(vmx_adjust_controls(cap, 0) == (BIT(1) | BIT(2)), "defaults");
	CHECK(vmx_adjust_controls(cap, BIT(7) | BIT(9)) ==
	      (BIT(1) | BIT(2) | BIT(7)), "a disallowed bit is dropped");
}

static void nested_state_layout(void)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_EPT, 4, true);
	struct kvm_vm *vm2 = fake_vm(KVM_MMU_FORMAT_NPT, 4, true);
	struct nested_state *v, *s;
	u64 gva;

	gva = __vcpu_alloc_nested_state(vm, 0, NESTED_VMX, 0);
	v = nested_state_hva(vm, gva);
	CHECK(v->vendor == NESTED_VMX && v->tdp_info.enabled &&
	      v->tdp_info.root == vm->stage2_mmu.pgd && v->tdp_info.ad,
	      "VMX state TDP info");
	CHECK(v->tdp_info.eptp == vmx_eptp(vm->stage2_mmu.pgd, 4, true) &&
	      v->vmx.eptp == v->tdp_info.eptp, "EPTP 0x%llx",
	      v->tdp_info.eptp);
	CHECK(IS_ALIGNED(v->vmx.vmxon_gpa | v->vmx.vmcs_gpa |
			 v->vmx.msr_bitmap_gpa | v->vmx.io_bitmap_a_gpa |
			 v->vmx.io_bitmap_b_gpa, PAGE_SIZE), "VMX pages aligned");
	CHECK(addr_gva2gpa(vm, (u64)v->vmx.vmcs) == v->vmx.vmcs_gpa,
	      "VMCS GVA/GPA disagree");

	gva = __vcpu_alloc_nested_state(vm2, 1, NESTED_SVM, 0);
	s = nested_state_hva(vm2, gva);
	CHECK(s->vendor == NESTED_SVM && s->vcpu_id == 1 &&
	      s->tdp_info.root == vm2->stage2_mmu.pgd &&
	      s->tdp_info.format == KVM_MMU_FORMAT_NPT, "SVM state TDP info");
	/* The CPU reads the permission maps by physical address: contiguous. */
	for (int i = 0; i < 3; i++)
		CHECK(addr_gva2gpa(vm2, (u64)s->svm.iopm + i * PAGE_SIZE) ==
		      s->svm.iopm_gpa + i * PAGE_SIZE, "IOPM page %d", i);
	for (int i = 0; i < 2; i++)
		CHECK(addr_gva2gpa(vm2, (u64)s->svm.msrpm + i * PAGE_SIZE) ==
		      s->svm.msrpm_gpa + i * PAGE_SIZE, "MSRPM page %d", i);
	CHECK(IS_ALIGNED(s->svm.vmcb_gpa | s->svm.hsave_gpa, PAGE_SIZE),
	      "VMCB/hsave aligned");
	kvm_vm_free(vm);
	kvm_vm_free(vm2);
}

/* ---- bad input: each in a child, which must fail with the message ---- */

static void bad_unaligned(void *arg)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_NPT, 4, true);

	tdp_map(vm, 0x1234, OUT_GPA, PAGE_SIZE);
}

static void bad_outside(void *arg)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_EPT, 4, true);

	tdp_map(vm, 0x40000000, 0x7000000000ULL, 2 * MiB);
}

static void bad_level(void *arg)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_EPT, 4, true);

	tdp_map_level(vm, 0x40001000, OUT_GPA, 2 * MiB, KVM_MMU_RWX,
		      PG_LEVEL_2M);
}

static void bad_twice(void *arg)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_EPT, 4, true);

	__vm_enable_tdp(vm, KVM_MMU_FORMAT_EPT, 4, true, true);
}

static void bad_tdp_after_nested_state(void *arg)
{
	struct kvm_vm *vm = vm_create_fake(48, 52, FAKE_MEM);

	__vcpu_alloc_nested_state(vm, 0, NESTED_VMX, 0);
	__vm_enable_tdp(vm, KVM_MMU_FORMAT_EPT, 4, true, true);
}

static void bad_write_only(void *arg)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_EPT, 4, true);

	tdp_map_level(vm, 0x40000000, OUT_GPA, PAGE_SIZE, KVM_MMU_WRITE,
		      PG_LEVEL_4K);
}

static void bad_protect_unmapped(void *arg)
{
	struct kvm_vm *vm = fake_vm(KVM_MMU_FORMAT_NPT, 4, true);

	tdp_map(vm, 0x40000000, OUT_GPA, PAGE_SIZE);
	tdp_protect(vm, 0x40000000, 2 * PAGE_SIZE, KVM_MMU_READ);
}

static void bad_no_tdp(void *arg)
{
	struct kvm_vm *vm = vm_create_fake(48, 52, FAKE_MEM);

	tdp_map(vm, 0, PAGE_SIZE, PAGE_SIZE);
}

/* fn() must fail (exit 1) and say @expect. */
#define CHECK_FAILS_WITH(fn, expect) __check_fails_with(fn, expect, __LINE__)
static void __check_fails_with(void (*fn)(void *), const char *expect, int line)
{
	struct child_result res;

	run_in_child(fn, NULL, &res);
	CHECK_AT(__FILE__, line,
		 WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
		 strstr(res.output, expect),
		 "status 0x%x, expected \"%s\" in:\n%s", res.status, expect,
		 res.output);
}

static const struct {
	void (*fn)(void);
	const char *name;
} cases[] = {
	{ eptp_encoding, "EPTP: WB, walk length 4/5, A/D bit 6" },
	{ pte_encodings, "EPT and NPT leaves for every permission at 4K/2M/1G, 4 and 5 levels, via stage2_mmu" },
	{ ept_ad_and_high_gpa, "EPT without A/D has no A/D masks; 5-level EPT maps an L2 GPA at 2^50" },
	{ vmcb_offsets, "VMCB field offsets match the APM" },
	{ vmcs_encodings, "VMCS field encodings decode to the SDM's width and type" },
	{ exit_decoding, "SVM and VMX exits decode to the same vendor-neutral exits" },
	{ control_adjust, "VMX controls adjusted by allowed-0/allowed-1 settings" },
	{ nested_state_layout, "nested state: aligned pages, contiguous permission maps, TDP root and EPTP" },
	{ exit_description, "exits described by GPA, access, kind and L2 RIP" },
	{ tdp_fault_exact, "the TDP fault check compares the exact GPA" },
};

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		case_begin("%s", cases[i].name);
		cases[i].fn();
	}

	case_begin("tdp_map of an unaligned range fails naming tdp_map and the address");
	CHECK_FAILS_WITH(bad_unaligned, "tdp_map: L2 GPA 0x1234 -> L1 GPA 0x100000000 (+0x1000) is not 4 KiB aligned");
	case_begin("tdp_map outside the memslots fails naming tdp_map and the address");
	CHECK_FAILS_WITH(bad_outside, "tdp_map: L1 GPA range 0x7000000000+0x200000 (for L2 GPA 0x40000000) is not all in memslots");
	case_begin("tdp_map at a misaligned pinned level, or without TDP, fails naming tdp_map");
	CHECK_FAILS_WITH(bad_level, "tdp_map: L2 GPA 0x40001000 -> L1 GPA 0x100000000 (+0x200000) is not aligned to 2 MiB pages");
	CHECK_FAILS_WITH(bad_no_tdp, "tdp_map: TDP is not enabled on this VM");
	case_begin("enabling TDP after a vCPU's nested state is refused");
	CHECK_FAILS_WITH(bad_tdp_after_nested_state, "vm_enable_tdp: 1 vCPU nested state(s) already allocated without stage-2");
	case_begin("a write-only stage-2 mapping is refused");
	CHECK_FAILS_WITH(bad_write_only, "tdp_map: L2 GPA 0x40000000: write without read (prot 0x2) is an EPT misconfiguration");
	case_begin("tdp_protect of a range with an unmapped page fails");
	CHECK_FAILS_WITH(bad_protect_unmapped, "tdp_protect: L2 GPA 0x40001000 (in 0x40000000+0x2000) has no stage-2 mapping");
	case_begin("enabling TDP twice fails naming vm_enable_tdp and the root");
	CHECK_FAILS_WITH(bad_twice, "vm_enable_tdp: TDP is already enabled on this VM (stage-2 root at GPA 0x");
	checks_exit();
}
