// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trust domains: create, configure, load and finalize a TD, run it, and
 * the guest side of talking to the host from inside one.
 *
 * The flow follows Documentation/virt/kvm/x86/intel-tdx.rst ("KVM TDX
 * creation flow"): KVM_CREATE_VM(KVM_X86_TDX_VM), KVM_TDX_CAPABILITIES,
 * KVM_TDX_INIT_VM, then per vCPU KVM_CREATE_VCPU, KVM_TDX_INIT_VCPU,
 * KVM_SET_CPUID2; then KVM_TDX_INIT_MEM_REGION for the initial image and
 * KVM_TDX_FINALIZE_VM.
 *
 * Everything the guest needs at boot (the test binary, page tables, GDT,
 * IDT, stacks, the boot stub and its parameters) is first built in the
 * host mapping of the private slots, exactly as for a normal VM, and only
 * copied into private memory by KVM_TDX_INIT_MEM_REGION at finalize time.
 * That keeps the whole library (image loader, kvm_mmu walker, descriptor
 * tables) usable unchanged for TDs.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "desc.h"
#include "tdx.h"

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

#define TDX_DEFAULT_MEM		(64 * MiB)
#define TDX_VADDR_BASE		(1ULL << 32)
#define TDX_UCALL_MAX_VCPUS	256	/* one shared page each, first MiB */

/* Segment descriptors of the stub's GDT (SDM Vol. 3, 3.4.5). */
#define TDX_DESC_CODE64		0x00af9b000000ffffULL	/* P S type=0xb L G */
#define TDX_DESC_DATA		0x00cf93000000ffffULL	/* P S type=0x3 DB G */

/*
 * What a TD has beyond struct kvm_vm. The kvm_vm comes first, so the
 * pointer tests hold is also the allocation kvm_vm_free() frees.
 */
struct tdx_vm {
	struct kvm_vm vm;
	int gpaw;
	bool finalized;
	struct kvm_tdx_capabilities *caps;
	struct kvm_tdx_init_vm *init;
};

static struct tdx_vm *to_tdx(struct kvm_vm *vm)
{
	TEST_ASSERT(vm->type == KVM_X86_TDX_VM, "not a TD (VM type %lu)",
		    vm->type);
	return (struct tdx_vm *)vm;
}

/* ---- pure helpers ------------------------------------------------------ */

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
	bool have_80000008 = false;

	TEST_ASSERT(gpaw == 48 || gpaw == 52, "TD GPAW must be 48 or 52, not %d",
		    gpaw);
	/* One more slot: 0x80000008 must be there even if caps lack it. */
	init = calloc(1, sizeof(*init) + (n + 1) * sizeof(init->cpuid.entries[0]));
	TEST_ASSERT(init, "out of memory");

	attrs = opts && (opts->attributes || opts->attributes_set) ?
		opts->attributes : TDX_TD_ATTR_SEPT_VE_DISABLE;
	init->attributes = tdx_filter_attributes(attrs, caps->supported_attrs);
	xfam = opts && opts->xfam ? opts->xfam : tdx_xfam_from_cpuid(supported);
	init->xfam = tdx_filter_xfam(xfam, caps->supported_xfam);

	for (u32 i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *mask = &caps->cpuid.entries[i];
		const struct kvm_cpuid_entry2 *have =
			kvm_cpuid_entry(supported, mask->function, mask->index);
		struct kvm_cpuid_entry2 *e;

		/*
		 * KVM_TDX_INIT_VM fails on a leaf the module cannot configure,
		 * so only the caps' leaves go in, with only their bits.
		 */
		if (!have && mask->function != 0x80000008)
			continue;
		e = &init->cpuid.entries[init->cpuid.nent++];
		*e = (struct kvm_cpuid_entry2){
			.function = mask->function,
			.index = mask->index,
			.flags = mask->flags,
		};
		if (have) {
			e->eax = have->eax & mask->eax;
			e->ebx = have->ebx & mask->ebx;
			e->ecx = have->ecx & mask->ecx;
			e->edx = have->edx & mask->edx;
		}
		tdx_cpuid_clear_unsupported(e);
		if (e->function == 0x80000008) {
			/* KVM's GPAW interface: 0x80000008.EAX[23:16]. */
			e->eax = (e->eax & ~GENMASK_ULL(23, 16)) | (gpaw << 16);
			have_80000008 = true;
		}
	}
	if (!have_80000008)
		init->cpuid.entries[init->cpuid.nent++] =
			(struct kvm_cpuid_entry2){ .function = 0x80000008,
						   .eax = gpaw << 16 };
	return init;
}

void tdx_boot_params_init(struct tdx_boot_params *p, u64 cr3, u64 gdt,
			  u16 gdt_limit, u64 idt, u16 idt_limit,
			  u64 return_addr)
{
	TEST_ASSERT(cr3 < (1ULL << 32) && !(cr3 & (PAGE_SIZE - 1)),
		    "TD page-table root 0x%llx must be a page below 4 GiB: the stub loads CR3 in 32-bit mode",
		    (unsigned long long)cr3);
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
		    (unsigned long long)stack_top);
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

bool tdx_kmsg_is_bad(const char *record)
{
	static const char *const patterns[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace",
		"general protection fault", "KVM_BUG_ON",
		"SEAMCALL", "kernel BUG",
	};
	const char *msg = strchr(record, ';');	/* "prio,seq,ts,flags;text" */

	msg = msg ? msg + 1 : record;
	for (size_t i = 0; i < ARRAY_SIZE(patterns); i++)
		if (strstr(msg, patterns[i]))
			return true;
	return false;
}

/* ---- guest side -------------------------------------------------------- */

/*
 * Set by the host in the TD's copy of the image (before measurement), so
 * they read as zero in every other VM and on the host.
 */
static u64 tdx_guest_s_bit;

static struct tdx_vcpu_info *tdx_guest_info(void)
{
	u64 rsp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return (struct tdx_vcpu_info *)(rsp & ~(u64)(TDX_STACK_SIZE - 1));
}

u64 tdx_guest_shared_bit(void)
{
	return tdx_guest_s_bit;
}

u64 tdx_guest_vcpu_slot(void)
{
	return tdx_guest_info()->slot;
}

u64 tdx_accept_page(u64 gpa, int level)
{
	u64 rax = TDG_MEM_PAGE_ACCEPT, rcx = gpa | level;

	__asm__ volatile(".byte 0x66, 0x0f, 0x01, 0xcc"	/* tdcall */
			 : "+a"(rax), "+c"(rcx) : : "memory");
	return rax;
}

void tdx_guest_accept(u64 gpa)
{
	u64 status = tdx_accept_page(gpa, TDX_ACCEPT_4K);

	GUEST_ASSERT_MSG(status == TDX_SUCCESS ||
			 TDX_STATUS_CLASS(status) == TDX_PAGE_ALREADY_ACCEPTED,
			 "TDG.MEM.PAGE.ACCEPT(0x%llx) status 0x%llx",
			 (unsigned long long)gpa, (unsigned long long)status);
}

u64 tdx_tdvmcall(struct tdx_tdvmcall *a)
{
	register u64 r10 __asm__("r10") = a->r10;
	register u64 r11 __asm__("r11") = a->r11;
	register u64 r12 __asm__("r12") = a->r12;
	register u64 r13 __asm__("r13") = a->r13;
	register u64 r14 __asm__("r14") = a->r14;
	register u64 r15 __asm__("r15") = a->r15;
	u64 rax = TDG_VP_VMCALL, rcx = TDVMCALL_EXPOSE_R10_R15;

	/* The VMM may change every exposed register: all are in/out. */
	__asm__ volatile(".byte 0x66, 0x0f, 0x01, 0xcc"	/* tdcall */
			 : "+a"(rax), "+c"(rcx), "+r"(r10), "+r"(r11),
			   "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
			 : : "memory");
	GUEST_ASSERT_MSG(rax == TDX_SUCCESS, "TDG.VP.VMCALL TDCALL status 0x%llx",
			 (unsigned long long)rax);
	*a = (struct tdx_tdvmcall){ r10, r11, r12, r13, r14, r15 };
	return r10;
}

/*
 * The TD ucall transport: copy the struct into this vCPU's shared buffer
 * and tell the host where it is with an 8-byte MMIO write, which KVM turns
 * into a KVM_EXIT_MMIO. Port I/O would trap to the TDX module as #VE, and
 * the host could not read a register or the private stack anyway.
 */
static void tdx_guest_ucall(struct ucall *uc)
{
	struct tdx_vcpu_info *info = tdx_guest_info();
	struct tdx_tdvmcall a;

	memcpy((void *)info->ucall_gva, uc, sizeof(*uc));
	tdx_tdvmcall_mmio_write(&a, info->mmio_gpa, 8, info->ucall_gpa);
	/* Not tdx_tdvmcall(): a failing ucall must not recurse into one. */
	{
		register u64 r10 __asm__("r10") = a.r10;
		register u64 r11 __asm__("r11") = a.r11;
		register u64 r12 __asm__("r12") = a.r12;
		register u64 r13 __asm__("r13") = a.r13;
		register u64 r14 __asm__("r14") = a.r14;
		register u64 r15 __asm__("r15") = a.r15;
		u64 rax = TDG_VP_VMCALL, rcx = TDVMCALL_EXPOSE_R10_R15;

		__asm__ volatile(".byte 0x66, 0x0f, 0x01, 0xcc"
				 : "+a"(rax), "+c"(rcx), "+r"(r10), "+r"(r11),
				   "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
				 : : "memory");
	}
}

static void tdx_guest_code_returned(void)
{
	GUEST_FAIL("guest code returned; end it with GUEST_DONE()");
}

/* ---- host side: capabilities and ioctls --------------------------------- */

bool tdx_supported(void)
{
	int types = kvm_check_cap(KVM_CAP_VM_TYPES);

	return types > 0 && (types & BIT(KVM_X86_TDX_VM));
}

void tdx_require(void)
{
	kvm_dev_fd();
	if (!tdx_supported())
		test_skip("TDX not available: KVM_CAP_VM_TYPES lacks KVM_X86_TDX_VM");
}

static int tdx_op(int fd, u32 cmd, u32 flags, u64 data, u64 *hw_error)
{
	struct kvm_tdx_cmd c = { .id = cmd, .flags = flags, .data = data };
	int ret = ioctl(fd, KVM_MEMORY_ENCRYPT_OP, &c);

	if (hw_error)
		*hw_error = c.hw_error;
	return ret;
}

int __tdx_vm_ioctl(struct kvm_vm *vm, u32 cmd, u32 flags, u64 data,
		   u64 *hw_error)
{
	return tdx_op(vm->fd, cmd, flags, data, hw_error);
}

int __tdx_vcpu_ioctl(struct kvm_vcpu *vcpu, u32 cmd, u32 flags, u64 data,
		     u64 *hw_error)
{
	return tdx_op(vcpu->fd, cmd, flags, data, hw_error);
}

static const char *const tdx_cmd_names[] = {
	"KVM_TDX_CAPABILITIES", "KVM_TDX_INIT_VM", "KVM_TDX_INIT_VCPU",
	"KVM_TDX_INIT_MEM_REGION", "KVM_TDX_FINALIZE_VM", "KVM_TDX_GET_CPUID",
	"KVM_TDX_TERMINATE_VM",
};

static void tdx_vm_op(struct kvm_vm *vm, u32 cmd, u32 flags, void *data)
{
	u64 hw_error;
	int ret = __tdx_vm_ioctl(vm, cmd, flags, (u64)data, &hw_error);

	TEST_ASSERT(!ret, "%s failed, rc %d, SEAMCALL status 0x%llx",
		    tdx_cmd_names[cmd], ret, (unsigned long long)hw_error);
}

static void tdx_vcpu_op(struct kvm_vcpu *vcpu, u32 cmd, u32 flags, u64 data)
{
	u64 hw_error;
	int ret = __tdx_vcpu_ioctl(vcpu, cmd, flags, data, &hw_error);

	TEST_ASSERT(!ret, "%s on vCPU %u failed, rc %d, SEAMCALL status 0x%llx",
		    tdx_cmd_names[cmd], vcpu->id, ret,
		    (unsigned long long)hw_error);
}

static struct kvm_tdx_capabilities *tdx_get_caps(struct kvm_vm *vm)
{
	for (u32 nent = 64;; nent *= 2) {
		struct kvm_tdx_capabilities *caps =
			calloc(1, sizeof(*caps) + nent * sizeof(caps->cpuid.entries[0]));
		u64 hw_error;

		TEST_ASSERT(caps, "out of memory");
		caps->cpuid.nent = nent;
		if (!__tdx_vm_ioctl(vm, KVM_TDX_CAPABILITIES, 0, (u64)caps,
				    &hw_error))
			return caps;
		TEST_ASSERT(errno == E2BIG && nent < 4096,
			    "KVM_TDX_CAPABILITIES failed, SEAMCALL status 0x%llx",
			    (unsigned long long)hw_error);
		free(caps);
	}
}

/* What the TDX module virtualizes for this vCPU, for KVM_SET_CPUID2. */
static struct kvm_cpuid2 *tdx_vcpu_get_cpuid(struct kvm_vcpu *vcpu)
{
	for (u32 nent = 64;; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      nent * sizeof(c->entries[0]));

		TEST_ASSERT(c, "out of memory");
		c->nent = nent;
		if (!__tdx_vcpu_ioctl(vcpu, KVM_TDX_GET_CPUID, 0, (u64)c, NULL))
			return c;
		TEST_ASSERT(errno == E2BIG && nent < 4096,
			    "KVM_TDX_GET_CPUID on vCPU %u", vcpu->id);
		free(c);
	}
}

/* ---- host side: memory --------------------------------------------------- */

int __vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			       u64 attributes)
{
	struct kvm_memory_attributes a = {
		.address = gpa, .size = size, .attributes = attributes,
	};

	return ioctl(vm->fd, KVM_SET_MEMORY_ATTRIBUTES, &a);
}

void vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			      u64 attributes)
{
	TEST_ASSERT(!__vm_set_memory_attributes(vm, gpa, size, attributes),
		    "KVM_SET_MEMORY_ATTRIBUTES(0x%llx+0x%llx, 0x%llx)",
		    (unsigned long long)gpa, (unsigned long long)size,
		    (unsigned long long)attributes);
}

/*
 * guest_memfd slots are kept here rather than in memslot.c, which speaks
 * KVM_SET_USER_MEMORY_REGION (v1, no guest_memfd). The bookkeeping is the
 * same struct vm_memslot, with the guest_memfd in ->fd so that
 * vm_memslots_free() closes it with the VM.
 */
static struct vm_memslot *tdx_slot_append(struct kvm_vm *vm)
{
	if (vm->nr_slots == vm->max_slots) {
		vm->max_slots = vm->max_slots ? vm->max_slots * 2 : 8;
		vm->slots = realloc(vm->slots, vm->max_slots * sizeof(*vm->slots));
		TEST_ASSERT(vm->slots, "out of memory");
	}
	return &vm->slots[vm->nr_slots];
}

void tdx_memslot_add_private(struct kvm_vm *vm, u32 slot, u64 gpa,
			     u64 npages)
{
	u64 size = npages * PAGE_SIZE;
	struct kvm_create_guest_memfd cg = { .size = size };
	struct vm_memslot *s;
	void *mem;
	int gmem;

	TEST_ASSERT(!vm_memslot(vm, slot), "memslot %u already exists", slot);
	gmem = ioctl(vm->fd, KVM_CREATE_GUEST_MEMFD, &cg);
	TEST_ASSERT(gmem >= 0, "KVM_CREATE_GUEST_MEMFD(%llu bytes)",
		    (unsigned long long)size);
	/* The shared view; also where the initial image is staged. */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap of %llu bytes for memslot %u",
		    (unsigned long long)size, slot);

	s = tdx_slot_append(vm);
	*s = (struct vm_memslot){
		.region = {
			.slot = slot,
			.flags = KVM_MEM_GUEST_MEMFD,
			.guest_phys_addr = gpa,
			.memory_size = size,
			.userspace_addr = (u64)mem,
			.guest_memfd_offset = 0,
			.guest_memfd = gmem,
		},
		.backing = VM_MEM_ANON,
		.host_mem = mem,
		.mmap_size = size,
		.fd = gmem,
		.next_free = gpa,
	};
	TEST_ASSERT(!ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, &s->region),
		    "KVM_SET_USER_MEMORY_REGION2(slot %u, GPA 0x%llx, %llu pages, guest_memfd)",
		    slot, (unsigned long long)gpa, (unsigned long long)npages);
	vm->nr_slots++;
	vm_set_memory_attributes(vm, gpa, size, KVM_MEMORY_ATTRIBUTE_PRIVATE);
}

void tdx_memslot_delete(struct kvm_vm *vm, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);
	struct kvm_userspace_memory_region2 r;

	TEST_ASSERT(s, "tdx_memslot_delete: no memslot %u", slot);
	r = s->region;
	r.memory_size = 0;
	TEST_ASSERT(!ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION2, &r),
		    "deleting guest_memfd memslot %u", slot);
	munmap(s->host_mem, s->mmap_size);
	if (s->fd >= 0)
		close(s->fd);
	*s = vm->slots[--vm->nr_slots];
	vm->last_slot = 0;
}

int tdx_memslot_gmem_fd(struct kvm_vm *vm, u32 slot)
{
	struct vm_memslot *s = vm_memslot(vm, slot);

	TEST_ASSERT(s && (s->region.flags & KVM_MEM_GUEST_MEMFD),
		    "memslot %u is not a guest_memfd slot", slot);
	return s->region.guest_memfd;
}

void tdx_gmem_punch_hole(struct kvm_vm *vm, u32 slot, u64 offset, u64 size)
{
	int fd = tdx_memslot_gmem_fd(vm, slot);
	u64 off = vm_memslot(vm, slot)->region.guest_memfd_offset + offset;

	TEST_ASSERT(!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       off, size),
		    "fallocate(PUNCH_HOLE) on slot %u's guest_memfd at 0x%llx+0x%llx",
		    slot, (unsigned long long)off, (unsigned long long)size);
}

u64 tdx_shared_alloc(struct kvm_vm *vm, u64 npages, u64 *gpa)
{
	u64 pa, gva;

	/* The stage-1 tables are private once finalized: host edits are lost. */
	TEST_ASSERT(!tdx_vm_finalized(vm), "tdx_shared_alloc after finalize");
	pa = vm_phys_pages_alloc(vm, npages, PAGE_SIZE, TDX_SHARED_SLOT);
	gva = vm_vaddr_reserve(vm, npages * PAGE_SIZE, PAGE_SIZE);

	kvm_mmu_map(vm, &vm->mmu, gva, pa, npages * PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_SHARED);
	if (gpa)
		*gpa = pa;
	return gva;
}

/* Stage-1 mapping of a fresh, aligned private range: the vCPU stacks. */
static u64 tdx_stack_alloc(struct kvm_vm *vm)
{
	u64 gpa = vm_phys_pages_alloc(vm, TDX_STACK_SIZE / PAGE_SIZE,
				      TDX_STACK_SIZE, KVMT_MAIN_SLOT);
	u64 gva = vm_vaddr_reserve(vm, TDX_STACK_SIZE, TDX_STACK_SIZE);

	kvm_mmu_map(vm, &vm->mmu, gva, gpa, TDX_STACK_SIZE, KVM_MMU_RW);
	return gva;
}

/* ---- host side: TD lifetime --------------------------------------------- */

static bool tdx_get_ucall(struct kvm_vcpu *vcpu, struct ucall *uc);

static struct tdx_boot_params *tdx_params(struct kvm_vm *vm)
{
	return addr_gpa2hva(vm, TDX_BOOT_PARAMS_GPA);
}

static struct kvm_vcpu *tdx_vcpu_add(struct kvm_vm *vm, u32 slot,
				     void *guest_code)
{
	int mmap_size = kvm_dev_ioctl(KVM_GET_VCPU_MMAP_SIZE, NULL);
	struct kvm_vcpu *vcpu = calloc(1, sizeof(*vcpu));
	struct tdx_vcpu_info *info;
	struct kvm_cpuid2 *cpuid;
	u64 stack, ucall_gpa;

	TEST_ASSERT(vcpu, "out of memory");
	TEST_ASSERT(slot < TDX_UCALL_MAX_VCPUS && slot < TDX_BOOT_MAX_VCPUS,
		    "TD vCPU %u: at most %d are supported", slot,
		    TDX_UCALL_MAX_VCPUS);
	vcpu->vm = vm;
	vcpu->id = slot;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, slot);
	TEST_ASSERT(vcpu->fd >= 0, "KVM_CREATE_VCPU(%u) on a TD", slot);
	vcpu->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	TEST_ASSERT(vcpu->run != MAP_FAILED, "mmap of vCPU %u's kvm_run", slot);
	vm->vcpus[vm->nr_vcpus++] = vcpu;

	/* The initial RCX: which parameter-block slot the stub reads. */
	tdx_vcpu_op(vcpu, KVM_TDX_INIT_VCPU, 0, slot);
	cpuid = tdx_vcpu_get_cpuid(vcpu);
	vcpu_set_cpuid(vcpu, cpuid);	/* keeps its own copy */
	free(cpuid);

	stack = tdx_stack_alloc(vm);
	ucall_gpa = TDX_SHARED_GPA + slot * PAGE_SIZE;
	info = addr_gva2hva(vm, stack);
	*info = (struct tdx_vcpu_info){
		.slot = slot,
		.ucall_gva = TDX_VADDR_BASE - TDX_SHARED_SIZE +
			     slot * PAGE_SIZE,
		.ucall_gpa = ucall_gpa,
		.mmio_gpa = TDX_UCALL_MMIO_GPA | vm->mmu.arch.s_bit,
	};
	tdx_boot_params_set_vcpu(tdx_params(vm), slot, (u64)guest_code,
				 stack + TDX_STACK_SIZE);
	return vcpu;
}

struct kvm_vm *tdx_vm_create(const struct tdx_vm_options *opts, int nr_vcpus,
			     void *guest_code, struct kvm_vcpu **vcpus)
{
	static const struct tdx_vm_options defaults;
	struct tdx_vm *td;
	struct kvm_vm *vm;
	struct kvm_mmu_arch arch;
	u64 mem_size;
	u8 reset[16];

	tdx_require();
	if (!opts)
		opts = &defaults;
	TEST_ASSERT(nr_vcpus > 0 && nr_vcpus <= TDX_UCALL_MAX_VCPUS,
		    "a TD with %d vCPUs", nr_vcpus);
	td = calloc(1, sizeof(*td));
	TEST_ASSERT(td, "out of memory");
	vm = &td->vm;
	vm->kvm_fd = kvm_dev_fd();
	vm->type = KVM_X86_TDX_VM;
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, KVM_X86_TDX_VM);
	TEST_ASSERT(vm->fd >= 0, "KVM_CREATE_VM(KVM_X86_TDX_VM)");
	td->gpaw = opts->gpaw ? opts->gpaw : 48;

	/* A TD's EOI is protected: only the split irqchip is allowed. */
	vm_enable_cap(vm, KVM_CAP_SPLIT_IRQCHIP, 24);

	td->caps = tdx_get_caps(vm);
	td->init = tdx_build_init_vm(td->caps, kvm_supported_cpuid(), opts);
	tdx_vm_op(vm, KVM_TDX_INIT_VM, 0, td->init);

	/* Memory: main and boot are private, the ucall area is shared. */
	mem_size = opts->mem_size ? opts->mem_size : TDX_DEFAULT_MEM;
	tdx_memslot_add_private(vm, KVMT_MAIN_SLOT, 0, mem_size / PAGE_SIZE);
	vm_memslot(vm, KVMT_MAIN_SLOT)->next_free = PAGE_SIZE;
	tdx_memslot_add_private(vm, TDX_BOOT_SLOT, TDX_BOOT_REGION_GPA,
				TDX_BOOT_REGION_SIZE / PAGE_SIZE);
	vm_memslot_add(vm, VM_MEM_ANON, TDX_SHARED_GPA, TDX_SHARED_SLOT,
		       TDX_SHARED_SIZE / PAGE_SIZE, 0);

	vm->va_bits = 48;
	vm->pa_bits = td->gpaw - 1;
	vm->vaddr_next = TDX_VADDR_BASE;
	tdx_mmu_arch(&arch, td->gpaw);
	kvm_mmu_init(vm, &vm->mmu, 4, &arch);

	vm_load_image(vm);
	x86_vm_init(vm);

	/* The stub keeps running at its physical address once paging is on. */
	kvm_mmu_map(vm, &vm->mmu, TDX_BOOT_REGION_GPA, TDX_BOOT_REGION_GPA,
		    TDX_BOOT_REGION_SIZE, KVM_MMU_RWX);
	TEST_ASSERT(tdx_boot_code_end - tdx_boot_code <= (long)(PAGE_SIZE - 16),
		    "TD boot stub does not fit its page");
	memcpy(addr_gpa2hva(vm, TDX_BOOT_CODE_GPA), tdx_boot_code,
	       tdx_boot_code_end - tdx_boot_code);
	tdx_boot_reset_vector(reset);
	memcpy(addr_gpa2hva(vm, TDX_RESET_VECTOR_GPA), reset, sizeof(reset));
	tdx_boot_params_init(tdx_params(vm), vm->mmu.pgd, vm->arch.gdt,
			     GDT_ENTRIES * 8 - 1, vm->arch.idt,
			     IDT_ENTRIES * 16 - 1,
			     (u64)tdx_guest_code_returned);

	/*
	 * The ucall buffers: the first MiB of the shared slot, one page per
	 * vCPU, mapped with the S-bit just below TDX_VADDR_BASE.
	 */
	vm_memslot(vm, TDX_SHARED_SLOT)->next_free = TDX_SHARED_GPA + MiB;
	kvm_mmu_map(vm, &vm->mmu, TDX_VADDR_BASE - TDX_SHARED_SIZE,
		    TDX_SHARED_GPA, MiB, KVM_MMU_RW | KVM_MMU_SHARED);

	write_guest_global(vm, tdx_guest_s_bit, vm->mmu.arch.s_bit);
	write_guest_global(vm, ucall_arch_guest_hook, tdx_guest_ucall);
	ucall_arch_host_hook = tdx_get_ucall;

	for (int i = 0; i < nr_vcpus; i++) {
		struct kvm_vcpu *vcpu = tdx_vcpu_add(vm, i, guest_code);

		if (vcpus)
			vcpus[i] = vcpu;
	}
	return vm;
}

/* KVM_TDX_INIT_MEM_REGION, resumed where KVM stopped when interrupted. */
static void tdx_init_mem_region(struct kvm_vcpu *vcpu, u64 gpa, u64 npages)
{
	struct kvm_tdx_init_mem_region r = {
		.source_addr = (u64)addr_gpa2hva(vcpu->vm, gpa),
		.gpa = gpa,
		.nr_pages = npages,
	};

	while (r.nr_pages) {
		u64 hw_error;
		int ret = __tdx_vcpu_ioctl(vcpu, KVM_TDX_INIT_MEM_REGION,
					   KVM_TDX_MEASURE_MEMORY_REGION,
					   (u64)&r, &hw_error);

		if (!ret)
			continue;	/* KVM updated r, normally to 0 pages */
		TEST_ASSERT(errno == EINTR || errno == EAGAIN,
			    "KVM_TDX_INIT_MEM_REGION(GPA 0x%llx, %llu pages), SEAMCALL status 0x%llx",
			    (unsigned long long)r.gpa,
			    (unsigned long long)r.nr_pages,
			    (unsigned long long)hw_error);
	}
}

void tdx_vm_finalize(struct kvm_vm *vm)
{
	struct tdx_vm *td = to_tdx(vm);
	struct vm_memslot *main_slot = vm_memslot(vm, KVMT_MAIN_SLOT);
	u64 used = main_slot->next_free - main_slot->region.guest_phys_addr;

	TEST_ASSERT(!td->finalized, "TD already finalized");
	TEST_ASSERT(vm->nr_vcpus, "a TD needs its vCPUs before finalizing");
	/* Attributes are PRIVATE since the slots were added. */
	tdx_init_mem_region(vm->vcpus[0], main_slot->region.guest_phys_addr,
			    used / PAGE_SIZE);
	tdx_init_mem_region(vm->vcpus[0], TDX_BOOT_REGION_GPA,
			    TDX_BOOT_REGION_SIZE / PAGE_SIZE);
	tdx_vm_op(vm, KVM_TDX_FINALIZE_VM, 0, NULL);
	td->finalized = true;
}

void tdx_vm_free(struct kvm_vm *vm)
{
	struct tdx_vm *td;

	if (!vm)
		return;
	td = to_tdx(vm);
	free(td->caps);
	free(td->init);
	kvm_vm_free(vm);
}

bool tdx_vm_finalized(struct kvm_vm *vm)
{
	return to_tdx(vm)->finalized;
}

int tdx_vm_gpaw(struct kvm_vm *vm)
{
	return to_tdx(vm)->gpaw;
}

const struct kvm_tdx_capabilities *tdx_vm_caps(struct kvm_vm *vm)
{
	return to_tdx(vm)->caps;
}

void tdx_vcpu_args_set(struct kvm_vcpu *vcpu, int nargs, ...)
{
	struct tdx_boot_vcpu *bv = &tdx_params(vcpu->vm)->vcpus[vcpu->id];
	va_list ap;

	TEST_ASSERT(!tdx_vm_finalized(vcpu->vm),
		    "TD vCPU arguments must be set before finalizing");
	TEST_ASSERT(nargs >= 0 && nargs <= (int)ARRAY_SIZE(bv->args),
		    "a TD vCPU takes at most %zu arguments",
		    ARRAY_SIZE(bv->args));
	va_start(ap, nargs);
	for (int i = 0; i < nargs; i++)
		bv->args[i] = va_arg(ap, u64);
	va_end(ap);
}

/* ---- host side: running ------------------------------------------------- */

static bool tdx_get_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	u64 gpa;

	if (vcpu->vm->type != KVM_X86_TDX_VM)
		return false;
	if (run->exit_reason == KVM_EXIT_MMIO &&
	    tdx_ucall_decode(run->mmio.phys_addr & ~vcpu->vm->mmu.arch.s_bit,
			     run->mmio.len, run->mmio.is_write, run->mmio.data,
			     &gpa))
		memcpy(uc, addr_gpa2hva(vcpu->vm, gpa), sizeof(*uc));
	return true;
}

int tdx_vcpu_run(struct kvm_vcpu *vcpu)
{
	int ret;

	do {
		ret = __vcpu_run(vcpu);
	} while (ret < 0 && errno == EINTR);
	if (!ret)
		return 0;
	TEST_ASSERT(errno == EFAULT &&
		    vcpu->run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "KVM_RUN on TD vCPU %u failed, exit reason %s",
		    vcpu->id, exit_reason_str(vcpu->run->exit_reason));
	return -EFAULT;
}

u64 tdx_run_until_ucall(struct kvm_vcpu *vcpu, struct ucall *uc,
			tdx_fault_handler_t on_fault, void *data)
{
	for (;;) {
		if (tdx_vcpu_run(vcpu)) {
			struct kvmt_exit_memory_fault *mf =
				kvmt_run_memory_fault(vcpu->run);

			TEST_ASSERT(on_fault,
				    "vCPU %u: unexpected memory fault at GPA 0x%llx+0x%llx, flags 0x%llx",
				    vcpu->id, (unsigned long long)mf->gpa,
				    (unsigned long long)mf->size,
				    (unsigned long long)mf->flags);
			on_fault(vcpu, mf, data);
			continue;
		}
		switch (get_ucall(vcpu, uc)) {
		case UCALL_PRINTF:
			printf("%.*s", (int)sizeof(uc->buffer), uc->buffer);
			fflush(stdout);
			continue;
		case UCALL_ABORT:
			report_guest_assert(uc);
		case UCALL_NONE:
			TEST_FAIL("TD vCPU %u: unexpected exit %s (%u) outside a ucall",
				  vcpu->id, exit_reason_str(vcpu->run->exit_reason),
				  vcpu->run->exit_reason);
		default:
			return uc->cmd;
		}
	}
}

void tdx_convert_on_fault(struct kvm_vcpu *vcpu,
			  struct kvmt_exit_memory_fault *mf, void *data)
{
	u64 attrs = (mf->flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) ?
		    KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;

	vm_set_memory_attributes(vcpu->vm, mf->gpa, mf->size, attrs);
}

int tdx_pre_fault_memory(struct kvm_vcpu *vcpu, u64 gpa, u64 size)
{
	struct kvm_pre_fault_memory r = { .gpa = gpa, .size = size };

	/* KVM advances gpa/size as it goes and may stop early. */
	while (r.size) {
		if (ioctl(vcpu->fd, KVM_PRE_FAULT_MEMORY, &r) < 0 &&
		    errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

/* ---- kernel log ---------------------------------------------------------- */

static int kmsg_fd = -1;

void tdx_kmsg_watch_begin(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0) {
		tap_info("cannot read /dev/kmsg (%s): kernel-log check skipped",
			 strerror(errno));
		return;
	}
	lseek(kmsg_fd, 0, SEEK_END);
}

int tdx_kmsg_watch_end(void)
{
	char rec[2048];
	int bad = 0;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: keep going */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (tdx_kmsg_is_bad(rec)) {
			tap_info("kernel log: %s", strchr(rec, ';') ?
				 strchr(rec, ';') + 1 : rec);
			bad++;
		}
	}
	close(kmsg_fd);
	kmsg_fd = -1;
	return bad;
}
