// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trust domains from the host side: create, configure, load and finalize
 * a TD and its vCPUs.
 *
 * The flow: KVM_CREATE_VM(KVM_X86_TDX_VM), KVM_TDX_CAPABILITIES,
 * KVM_TDX_INIT_VM, then per vCPU KVM_CREATE_VCPU, KVM_TDX_GET_CPUID,
 * KVM_SET_CPUID2, KVM_TDX_INIT_VCPU; then KVM_TDX_INIT_MEM_REGION for the
 * initial image and KVM_TDX_FINALIZE_VM. intel-tdx.rst lists INIT_VCPU
 * before SET_CPUID2, but KVM's code decides: INIT_VCPU puts the APIC in
 * x2APIC mode, and kvm_apic_set_base() refuses that (EINVAL) until the
 * guest CPUID has X2APIC.
 *
 * Everything the guest needs at boot (the test binary, page tables, GDT,
 * IDT, stacks, the boot stub and its parameters) is first built in the
 * host mapping of the private slots, exactly as for a normal VM, and only
 * copied into private memory by KVM_TDX_INIT_MEM_REGION at finalize time.
 * That keeps the whole library (image loader, kvm_mmu walker, descriptor
 * tables) usable unchanged for TDs.
 */
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_util.h"
#include "desc.h"
#include "tdx_internal.h"
#include "internal.h"

#define TDX_DEFAULT_MEM		(64 * MiB)
#define TDX_VADDR_BASE		(1ULL << 32)
#define TDX_UCALL_MAX_VCPUS	256	/* one shared page each, first MiB */

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
		    tdx_cmd_names[cmd], ret, hw_error);
}

/* KVM fills hw_error for VM commands only: a vCPU failure is errno alone. */
static void tdx_vcpu_op(struct kvm_vcpu *vcpu, u32 cmd, u32 flags, u64 data)
{
	int ret = __tdx_vcpu_ioctl(vcpu, cmd, flags, data, NULL);

	TEST_ASSERT(!ret, "%s on vCPU %u failed, rc %d", tdx_cmd_names[cmd],
		    vcpu->id, ret);
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
			    hw_error);
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

/* Stage-1 mapping of a fresh, aligned private range: the vCPU stacks. */
static u64 tdx_stack_alloc(struct kvm_vm *vm)
{
	u64 gpa = vm_phys_pages_alloc(vm, TDX_STACK_SIZE / PAGE_SIZE,
				      TDX_STACK_SIZE, KVMT_MAIN_SLOT);
	u64 gva = vm_vaddr_reserve(vm, TDX_STACK_SIZE, TDX_STACK_SIZE);

	kvm_mmu_map(vm, &vm->mmu, gva, gpa, TDX_STACK_SIZE, KVM_MMU_RW);
	return gva;
}

/* X2APIC is CPUID.1:ECX[21]; a TD's vCPUs always run in x2APIC mode. */
static void tdx_cpuid_require_x2apic(struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *e =
		(struct kvm_cpuid_entry2 *)kvm_cpuid_entry(cpuid, 1, 0);

	TEST_ASSERT(e, "KVM_TDX_GET_CPUID has no leaf 1");
	e->ecx |= BIT(21);
}

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

	/*
	 * CPUID first, with X2APIC (a TD's APIC is always x2APIC), then
	 * INIT_VCPU, whose initial RCX says which parameter-block slot the
	 * stub reads.
	 */
	cpuid = tdx_vcpu_get_cpuid(vcpu);
	tdx_cpuid_require_x2apic(cpuid);
	vcpu_set_cpuid(vcpu, cpuid);	/* keeps its own copy */
	free(cpuid);
	tdx_vcpu_op(vcpu, KVM_TDX_INIT_VCPU, 0, slot);

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
	if (td->init->xfam & XFEATURE_AMX)
		TEST_ASSERT(!syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_GUEST_PERM,
				     XFEATURE_XTILEDATA_NR),
			    "ARCH_REQ_XCOMP_GUEST_PERM for AMX, which the TD's XFAM has");
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
	vm_arch_init(vm);

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
	vm_set_ucall_transport(vm, &(struct ucall_transport){
		.guest_do = tdx_guest_ucall, .host_get = tdx_get_ucall });

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
		int ret = __tdx_vcpu_ioctl(vcpu, KVM_TDX_INIT_MEM_REGION,
					   KVM_TDX_MEASURE_MEMORY_REGION,
					   (u64)&r, NULL);

		if (!ret)
			continue;	/* KVM updated r, normally to 0 pages */
		TEST_ASSERT(errno == EINTR || errno == EAGAIN,
			    "KVM_TDX_INIT_MEM_REGION(GPA 0x%llx, %llu pages)",
			    r.gpa,
			    r.nr_pages);
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
