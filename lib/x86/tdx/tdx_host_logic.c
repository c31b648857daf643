// SPDX-License-Identifier: GPL-2.0-only
/*
 * TD setup that is pure computation: the TD's paging format, which XFAM,
 * attributes and CPUID go into KVM_TDX_INIT_VM, the boot stub's parameter
 * block and reset vector, and the TDVMCALL/ucall encodings.
 *
 * Nothing here issues an ioctl or touches guest memory, so that
 * tests/unit/tdx_host.c can check all of it on any machine, without
 * /dev/kvm or TDX hardware.
 */
#include "kvm_util.h"
#include "desc.h"
#include "tdx/tdx.h"

/* The layout tdx_boot.S assumes. */
_Static_assert(offsetof(struct tdx_boot_params, cr0_set) == TDX_BP_CR0_SET, "bp");
_Static_assert(offsetof(struct tdx_boot_params, cr4_set) == TDX_BP_CR4_SET, "bp");
_Static_assert(offsetof(struct tdx_boot_params, cr3) == TDX_BP_CR3, "bp");
_Static_assert(offsetof(struct tdx_boot_params, nr_vcpus) == TDX_BP_NR_VCPUS, "bp");
_Static_assert(offsetof(struct tdx_boot_params, boot_gdt) == TDX_BP_BOOT_GDT, "bp");
_Static_assert(offsetof(struct tdx_boot_params, boot_gdtr) == TDX_BP_BOOT_GDTR, "bp");
_Static_assert(offsetof(struct tdx_boot_params, gdtr) == TDX_BP_GDTR, "bp");
_Static_assert(offsetof(struct tdx_boot_params, idtr) == TDX_BP_IDTR, "bp");
_Static_assert(offsetof(struct tdx_boot_params, return_addr) == TDX_BP_RETURN, "bp");
_Static_assert(offsetof(struct tdx_boot_params, vcpus) == TDX_BP_VCPUS, "bp");
_Static_assert(offsetof(struct tdx_boot_vcpu, entry) == TDX_BV_ENTRY, "bv");
_Static_assert(offsetof(struct tdx_boot_vcpu, stack_top) == TDX_BV_STACK, "bv");
_Static_assert(offsetof(struct tdx_boot_vcpu, args) == TDX_BV_ARGS, "bv");
_Static_assert(sizeof(struct tdx_boot_vcpu) == TDX_BV_SIZE, "bv");
_Static_assert(TDX_BOOT_CS == KERNEL_CS && TDX_BOOT_DS == KERNEL_DS,
	       "the stub's selectors must stay valid in the VM's GDT");
_Static_assert(sizeof(struct tdx_vcpu_info) <= 256, "stack bottom");

/* Segment descriptors of the stub's GDT (SDM Vol. 3, 3.4.5). */
#define TDX_DESC_CODE64		0x00af9b000000ffffULL	/* P S type=0xb L G */
#define TDX_DESC_DATA		0x00cf93000000ffffULL	/* P S type=0x3 DB G */

void tdx_mmu_arch(struct kvm_mmu_arch *arch, int gpaw)
{
	TEST_ASSERT(gpaw == 48 || gpaw == 52, "TD GPAW must be 48 or 52, not %d",
		    gpaw);
	/*
	 * The S-bit is the top GPA bit; a private output address never has
	 * it, so the address field ends just below it and the walker's
	 * translations come out without it. 1 GiB leaves stay off: the TD's
	 * CPUID, not the host's, decides whether it has them.
	 */
	x86_mmu_arch_guest(arch, gpaw - 1, false);
	arch->s_bit = tdx_shared_bit(gpaw);
}

/*
 * XSAVE components that are only usable as a group: the TDX module
 * rejects an XFAM with part of one.
 */
static const u64 xfam_groups[] = {
	XFEATURE_AVX512, XFEATURE_CET, XFEATURE_AMX,
};

u64 tdx_filter_xfam(u64 wanted, u64 supported)
{
	/* x87 and SSE state are architecturally always enabled in XCR0. */
	u64 xfam = (wanted | XFEATURE_X87 | XFEATURE_SSE) & supported;

	for (size_t i = 0; i < ARRAY_SIZE(xfam_groups); i++)
		if ((xfam & xfam_groups[i]) != xfam_groups[i])
			xfam &= ~xfam_groups[i];
	return xfam;
}

u64 tdx_filter_attributes(u64 wanted, u64 supported)
{
	return wanted & supported;
}

u64 tdx_xfam_from_cpuid(const struct kvm_cpuid2 *cpuid)
{
	const struct kvm_cpuid_entry2 *xcr0 = kvm_cpuid_entry(cpuid, 0xd, 0);
	const struct kvm_cpuid_entry2 *xss = kvm_cpuid_entry(cpuid, 0xd, 1);
	u64 xfam = XFEATURE_X87 | XFEATURE_SSE;

	if (xcr0)
		xfam |= xcr0->eax | ((u64)xcr0->edx << 32);
	if (xss)
		xfam |= xss->ecx | ((u64)xss->edx << 32);
	return xfam;
}

/* Bits KVM reports unconfigurable for TDs; cleared even if caps allow. */
static void tdx_cpuid_clear_unsupported(struct kvm_cpuid_entry2 *e)
{
	if (e->function == 0x1)
		e->ecx &= ~BIT(3);			/* MONITOR/MWAIT */
	if (e->function == 0x7 && e->index == 0) {
		e->ebx &= ~(BIT(4) | BIT(11));		/* HLE, RTM */
		e->ecx &= ~BIT(5);			/* WAITPKG */
	}
}

struct kvm_tdx_init_vm *tdx_build_init_vm(const struct kvm_tdx_capabilities *caps,
					  const struct kvm_cpuid2 *supported,
					  const struct tdx_vm_options *opts)
{
	u32 n = caps->cpuid.nent;
	struct kvm_tdx_init_vm *init;
	u64 attrs, xfam;
	int gpaw = opts && opts->gpaw ? opts->gpaw : 48;
	bool gpaw_set = false;

	TEST_ASSERT(gpaw == 48 || gpaw == 52, "TD GPAW must be 48 or 52, not %d",
		    gpaw);
	init = calloc(1, sizeof(*init) + n * sizeof(init->cpuid.entries[0]));
	TEST_ASSERT(init, "out of memory");

	attrs = opts && (opts->attributes || opts->attributes_set) ?
		opts->attributes : TDX_TD_ATTR_SEPT_VE_DISABLE;
	init->attributes = tdx_filter_attributes(attrs, caps->supported_attrs);
	/*
	 * AMX state needs the process's permission first
	 * (ARCH_REQ_XCOMP_GUEST_PERM), so it is only in XFAM when asked for;
	 * tdx_vm_create() requests the permission then.
	 */
	xfam = opts && opts->xfam ? opts->xfam :
	       tdx_xfam_from_cpuid(supported) & ~XFEATURE_AMX;
	init->xfam = tdx_filter_xfam(xfam, caps->supported_xfam);

	for (u32 i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *mask = &caps->cpuid.entries[i];
		const struct kvm_cpuid_entry2 *have =
			kvm_cpuid_entry(supported, mask->function, mask->index);
		struct kvm_cpuid_entry2 *e;

		/*
		 * KVM_TDX_INIT_VM rejects a leaf it did not offer, so only the
		 * caps' leaves go in, with only their bits, and only those
		 * KVM_GET_SUPPORTED_CPUID has. The caps' entries carry no
		 * flags: whether the index is significant (leaf 7 subleaf 1
		 * versus subleaf 0) comes from KVM_GET_SUPPORTED_CPUID.
		 */
		if (!have)
			continue;
		e = &init->cpuid.entries[init->cpuid.nent++];
		*e = (struct kvm_cpuid_entry2){
			.function = mask->function,
			.index = mask->index,
			.flags = have->flags,
			.eax = have->eax & mask->eax,
			.ebx = have->ebx & mask->ebx,
			.ecx = have->ecx & mask->ecx,
			.edx = have->edx & mask->edx,
		};
		tdx_cpuid_clear_unsupported(e);
		if (e->function == 0x80000008) {
			/* KVM's GPAW interface: 0x80000008.EAX[23:16]. */
			e->eax = (e->eax & ~GENMASK_ULL(23, 16)) | (gpaw << 16);
			gpaw_set = true;
		}
	}
	/* Without a configurable 0x80000008 the module's default (48) holds. */
	TEST_ASSERT(gpaw_set || gpaw == 48,
		    "GPAW %d needs CPUID 0x80000008 among KVM_TDX_CAPABILITIES' configurable leaves",
		    gpaw);
	return init;
}

void tdx_boot_params_init(struct tdx_boot_params *p, u64 cr3, u64 gdt,
			  u16 gdt_limit, u64 idt, u16 idt_limit,
			  u64 return_addr)
{
	TEST_ASSERT(cr3 < (1ULL << 32) && !(cr3 & (PAGE_SIZE - 1)),
		    "TD page-table root 0x%llx must be a page below 4 GiB: the stub loads CR3 in 32-bit mode",
		    cr3);
	memset(p, 0, sizeof(*p));
	/* PG turns on IA-32e paging (EFER.LME is set); the rest as vcpu.c. */
	p->cr0_set = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		     X86_CR0_WP | X86_CR0_PG;
	p->cr4_set = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	p->cr3 = cr3;
	p->boot_gdt[TDX_BOOT_CS / 8] = TDX_DESC_CODE64;
	p->boot_gdt[TDX_BOOT_DS / 8] = TDX_DESC_DATA;
	p->boot_gdtr.limit = sizeof(p->boot_gdt) - 1;
	p->boot_gdtr.base = TDX_BOOT_PARAMS_GPA + TDX_BP_BOOT_GDT;
	p->gdtr.limit = gdt_limit;
	p->gdtr.base = gdt;
	p->idtr.limit = idt_limit;
	p->idtr.base = idt;
	p->return_addr = return_addr;
}

void tdx_boot_params_set_vcpu(struct tdx_boot_params *p, u32 slot,
			      u64 entry, u64 stack_top)
{
	TEST_ASSERT(slot < TDX_BOOT_MAX_VCPUS,
		    "TD vCPU slot %u: the boot parameters hold %lu", slot,
		    (unsigned long)TDX_BOOT_MAX_VCPUS);
	TEST_ASSERT(!(stack_top & 15), "TD stack top 0x%llx is not 16-byte aligned",
		    stack_top);
	p->vcpus[slot].entry = entry;
	p->vcpus[slot].stack_top = stack_top;
	if (slot >= p->nr_vcpus)
		p->nr_vcpus = slot + 1;
}

void tdx_boot_reset_vector(u8 out[16])
{
	/* JMP rel32 from the byte after it; 32-bit code, so the sum wraps. */
	u32 rel = (u32)(TDX_BOOT_CODE_GPA - (TDX_RESET_VECTOR_GPA + 5));

	memset(out, 0xcc, 16);		/* int3: never reached */
	out[0] = 0xe9;
	memcpy(&out[1], &rel, sizeof(rel));
}

void tdx_tdvmcall_mmio_write(struct tdx_tdvmcall *a, u64 gpa, u8 size,
			     u64 value)
{
	*a = (struct tdx_tdvmcall){
		.r10 = TDVMCALL_STANDARD,
		.r11 = TDVMCALL_VE_REQUEST_MMIO,
		.r12 = size,
		.r13 = 1,		/* write */
		.r14 = gpa,
		.r15 = value,
	};
}

bool tdx_ucall_decode(u64 phys_addr, u32 len, u8 is_write,
		      const u8 data[8], u64 *buffer_gpa)
{
	if (phys_addr != TDX_UCALL_MMIO_GPA || len != 8 || !is_write)
		return false;
	memcpy(buffer_gpa, data, sizeof(*buffer_gpa));
	return true;
}
