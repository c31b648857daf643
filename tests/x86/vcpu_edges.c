// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_edges: what KVM_RUN returns when the guest cannot go on.
 *
 *   vcpu_edges no-memslots        KVM_RUN of a VM with no memory at all
 *   vcpu_edges emulation-failure  an instruction KVM's emulator lacks
 *
 * no-memslots covers set_memory_region_test's zero-memslots case (the
 * exit is KVM_EXIT_INTERNAL_ERROR); adds: its suberror is "emulation", the
 * same with an in-kernel irqchip, and the vCPU runs on once memory with
 * code appears at the reset vector.
 * emulation-failure covers exit_on_emulation_failure_test (an x87 load
 * from MMIO, with KVM_CAP_EXIT_ON_EMULATION_FAILURE: suberror emulation,
 * the instruction bytes, the guest resumes past it); adds: the same
 * without the cap (CPL0: KVM exits rather than inject #UD) and, where
 * the lane forces emulation, an x87 load behind KVM_FEP gets #UD instead,
 * reported at the instruction past the prefix.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "exception.h"
#include "test_check.h"

#define RESET_PAGE_GPA	0xfffff000ULL
#define OUT_PORT	0x10

static void check_emulation_exit(struct kvm_run *run, const char *what)
{
	CHECK(run->exit_reason == KVM_EXIT_INTERNAL_ERROR,
	      "%s: exit %s", what, exit_reason_str(run->exit_reason));
	CHECK(run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION,
	      "%s: suberror %u", what, run->internal.suberror);
}

static void no_memslots(bool irqchip)
{
	int vm = ioctl(kvm_dev_fd(), KVM_CREATE_VM, 0), vcpu, ret;
	size_t run_size = kvm_dev_ioctl(KVM_GET_VCPU_MMAP_SIZE, NULL);
	struct kvm_userspace_memory_region region;
	struct kvm_run *run;
	u8 *page;

	TEST_ASSERT(vm >= 0, "KVM_CREATE_VM");
	if (irqchip)
		TEST_ASSERT(!ioctl(vm, KVM_CREATE_IRQCHIP, NULL), "KVM_CREATE_IRQCHIP");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	TEST_ASSERT(vcpu >= 0, "KVM_CREATE_VCPU");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	TEST_ASSERT(run != MAP_FAILED, "mmap kvm_run");

	case_begin("no memslots%s: KVM_RUN exits INTERNAL_ERROR, emulation",
		   irqchip ? ", in-kernel irqchip" : "");
	ret = ioctl(vcpu, KVM_RUN, NULL);
	CHECK_EQ(ret, 0);
	check_emulation_exit(run, "no memslots");

	case_begin("no memslots%s: with code at the reset vector, the vCPU runs on",
		   irqchip ? ", in-kernel irqchip" : "");
	page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(page != MAP_FAILED, "mmap");
	/* At 0xfffffff0, where a reset vCPU fetches: OUT imm8, AL; HLT. */
	page[0xff0] = 0xe6;
	page[0xff1] = OUT_PORT;
	page[0xff2] = 0xf4;
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = RESET_PAGE_GPA,
		.memory_size = PAGE_SIZE, .userspace_addr = (u64)page,
	};
	TEST_ASSERT(!ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region),
		    "KVM_SET_USER_MEMORY_REGION");
	ret = ioctl(vcpu, KVM_RUN, NULL);
	CHECK(ret == 0 && run->exit_reason == KVM_EXIT_IO &&
	      run->io.port == OUT_PORT && run->io.direction == KVM_EXIT_IO_OUT,
	      "rc %d, exit %s port 0x%x", ret, exit_reason_str(run->exit_reason),
	      run->io.port);
	munmap(run, run_size);
	close(vcpu);
	close(vm);
	munmap(page, PAGE_SIZE);
}

/* ---- emulation failure -------------------------------------------------- */

#define MMIO_GVA	0xc0000000ULL	/* identity-mapped, no memslot */

extern const char flds_mmio_resume[], flds_fep_resume[], flds_fep_start[];
static u32 ram_word;

static void guest_flds_mmio(void)
{
	__asm__ volatile("flds (%0)\n\t"
			 ".globl flds_mmio_resume\n"
			 "flds_mmio_resume:"
			 : : "a"(MMIO_GVA) : "memory");
	GUEST_DONE();
}

static u64 fep_ud_rip;

static void fep_ud(struct ex_regs *regs)
{
	fep_ud_rip = regs->rip;
	regs->rip = (u64)flds_fep_resume;
}

/*
 * With the forced prefix, KVM skips the prefix, finds no emulation for
 * FLDS and injects #UD, as for anything its emulator cannot decode after
 * an intercepted #UD (x86_emulate_instruction(), EMULTYPE_TRAP_UD_FORCED).
 */
static void guest_flds_fep(void)
{
	__asm__ volatile(".globl flds_fep_start\n"
			 "flds_fep_start:\n\t"
			 KVM_FEP "flds (%0)\n\t"
			 ".globl flds_fep_resume\n"
			 "flds_fep_resume:"
			 : : "a"(&ram_word) : "memory");
	GUEST_DONE();
}

static void emulation_failure(void *guest, const char *resume, bool cap,
			      const char *what)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest);
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	int ret;

	kvm_mmu_map(vm, &vm->mmu, MMIO_GVA, MMIO_GVA, PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_MMIO);
	if (cap)
		vm_enable_cap(vm, KVM_CAP_EXIT_ON_EMULATION_FAILURE, 1);

	case_begin("%s%s: INTERNAL_ERROR, emulation, with the instruction bytes",
		   what, cap ? ", KVM_CAP_EXIT_ON_EMULATION_FAILURE" : "");
	ret = __vcpu_run(vcpu);
	CHECK_EQ(ret, 0);
	check_emulation_exit(run, what);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    CHECK(run->emulation_failure.flags &
		  KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES,
		  "flags 0x%llx: no instruction bytes",
		  run->emulation_failure.flags)) {
		CHECK(run->emulation_failure.insn_size >= 2, "insn_size %u",
		      run->emulation_failure.insn_size);
		/* FLDS m32fp with (%rax): D9 /0, ModRM 00. */
		CHECK(run->emulation_failure.insn_bytes[0] == 0xd9 &&
		      run->emulation_failure.insn_bytes[1] == 0x00,
		      "instruction bytes %02x %02x, expected d9 00",
		      run->emulation_failure.insn_bytes[0],
		      run->emulation_failure.insn_bytes[1]);
	}

	case_begin("%s%s: the guest resumes past the instruction", what,
		   cap ? ", KVM_CAP_EXIT_ON_EMULATION_FAILURE" : "");
	vcpu_regs_get(vcpu, &regs);
	regs.rip = (u64)resume;
	vcpu_regs_set(vcpu, &regs);
	CHECK_EQ(vcpu_run_ucall(vcpu, &(struct ucall){ 0 }), UCALL_DONE);
	kvm_vm_free(vm);
}

static void forced_emulation_ud(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	case_begin("FLDS behind KVM_FEP: not emulated, #UD at FLDS past the prefix");
	if (!kvm_fep_enabled()) {
		case_skip("kvm.force_emulation_prefix is off");
		return;
	}
	vm = vm_create_with_one_vcpu(&vcpu, guest_flds_fep);
	vm_install_exception_handler(vm, UD_VECTOR, fep_ud);
	vcpu_run_to_done(vcpu, NULL, NULL);
	CHECK_EQ(read_guest_global(vm, fep_ud_rip), (u64)flds_fep_start + KVM_FEP_LEN);
	kvm_vm_free(vm);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	kvm_dev_fd();
	if (!strcmp(mode, "no-memslots")) {
		no_memslots(false);
		if (kvm_check_cap(KVM_CAP_IRQCHIP) > 0)
			no_memslots(true);
	} else if (!strcmp(mode, "emulation-failure")) {
		emulation_failure(guest_flds_mmio, flds_mmio_resume, false,
				  "FLDS from MMIO");
		if (kvm_check_cap(KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0)
			emulation_failure(guest_flds_mmio, flds_mmio_resume, true,
					  "FLDS from MMIO");
		forced_emulation_ud();
	} else {
		fprintf(stderr, "usage: %s no-memslots|emulation-failure\n", argv[0]);
		return 2;
	}
	checks_exit();
}
