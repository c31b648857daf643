// SPDX-License-Identifier: GPL-2.0-only
/*
 * smm: System Management Mode as KVM emulates it: entry by KVM_SMI or a
 * self-SMI IPI, the state-save area in SMRAM, RSM back, and a VM migrated
 * while in SMM.
 *
 * Covers smm_test (SMI from the host and from the guest's LAPIC, the SMI
 * handler runs in SMRAM at the SMBASE the host set, RSM returns, save and
 * restore in SMM); adds: KVM_RUN_X86_SMM in kvm_run's flags exactly while
 * in SMM, the SMM flag in KVM_GET_VCPU_EVENTS, the 64-bit state-save area
 * (revision, SMBASE, RIP, CR3, EFER, RAX of the interrupted guest), and
 * the guest resuming with its state after each RSM.
 */
#include "kvm_util.h"
#include "apic.h"
#include "test_check.h"

#define MSR_IA32_SMBASE		0x0000009e
#define SMRAM_GPA		0x8000000ULL	/* above the main memslot */
#define SMRAM_PAGES		16
#define SMRAM_SLOT		1
#define SMM_PORT		0xe0
#define SMM_STAGE		0xfe
#define APIC_DM_SMI		(2 << 8)
#define SMM_REVISION_64		0x00020064

/* The save area at SMBASE + 0xfe00 (AMD64 layout, which KVM uses in long mode). */
#define SAVE_EFER		0xfed0
#define SAVE_REVISION		0xfefc
#define SAVE_SMBASE		0xff00
#define SAVE_CR3		0xff50
#define SAVE_RIP		0xff78
#define SAVE_RAX		0xfff8

/* Real-mode-like SMM code at SMBASE + 0x8000: OUT a stage, then RSM. */
static const u8 smi_handler[] = {
	0xb0, SMM_STAGE,	/* mov al, SMM_STAGE */
	0xe6, SMM_PORT,		/* out SMM_PORT, al */
	0x0f, 0xaa,		/* rsm */
};

static volatile u64 marker;

static void guest_main(void)
{
	xapic_enable();
	marker = 1;
	GUEST_SYNC(1);		/* host: KVM_SMI */
	GUEST_CASE("after RSM (host SMI): the guest goes on with its state");
	GUEST_CHECK_EQ(marker, 1);
	marker = 2;
	apic_send_ipi(0, APIC_DEST_SELF | APIC_DM_SMI);
	GUEST_CASE("after RSM (self SMI, migrated in SMM): the guest goes on");
	GUEST_CHECK_EQ(marker, 2);
	GUEST_SYNC(2);
	GUEST_DONE();
}

struct ctx {
	int smm_entries;
	struct kvm_regs before;
	struct kvm_sregs sbefore;
};

/*
 * A vCPU in SMM sees memslot address space 1 only (KVM_CAP_MULTI_ADDRESS_SPACE):
 * give it the same memory as address space 0, as QEMU does. vm_restart()
 * knows only address space 0, so this is done again after a migration.
 */
static void smm_address_space_register(struct kvm_vm *vm)
{
	for (u32 id = 0; id <= SMRAM_SLOT; id++) {
		struct vm_memslot *s = vm_memslot(vm, id);

		TEST_ASSERT(!__vm_set_user_memory_region(vm, (1u << 16) | id, 0,
				s->region.guest_phys_addr, s->region.memory_size,
				(void *)s->region.userspace_addr),
			    "memslot %u in the SMM address space", id);
	}
}

static u64 save_area(struct kvm_vm *vm, u32 off, int size)
{
	u8 *p = addr_gpa2hva(vm, SMRAM_GPA + off);

	return size == 4 ? *(u32 *)p : *(u64 *)p;
}

static void in_smm(struct kvm_vcpu *vcpu, struct ctx *c)
{
	struct kvm_vcpu_events ev;
	struct kvm_vm *vm = vcpu->vm;

	c->smm_entries++;
	case_begin("SMI %d: handler in SMRAM, KVM_RUN_X86_SMM and events say SMM",
		   c->smm_entries);
	CHECK_EQ(*(u8 *)((u8 *)vcpu->run + vcpu->run->io.data_offset), SMM_STAGE);
	CHECK(vcpu->run->flags & KVM_RUN_X86_SMM, "kvm_run flags 0x%x",
	      vcpu->run->flags);
	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev);
	CHECK(ev.smi.smm, "KVM_GET_VCPU_EVENTS: smi.smm clear in SMM");

	case_begin("SMI %d: the state-save area holds the interrupted guest",
		   c->smm_entries);
	CHECK_EQ(save_area(vm, SAVE_REVISION, 4), SMM_REVISION_64);
	CHECK_EQ(save_area(vm, SAVE_SMBASE, 4), SMRAM_GPA);
	CHECK_EQ(save_area(vm, SAVE_CR3, 8), c->sbefore.cr3);
	CHECK_EQ(save_area(vm, SAVE_EFER, 8), c->sbefore.efer);
	if (c->smm_entries == 1) {
		/*
		 * The host's SMI came at the sync's exit: the one-byte OUT
		 * (EE) completes first, so RIP is just past it.
		 */
		CHECK_EQ(save_area(vm, SAVE_RIP, 8), c->before.rip + 1);
		CHECK_EQ(save_area(vm, SAVE_RAX, 8), c->before.rax);
	} else {
		vm_migrate(vm);
		smm_address_space_register(vm);
	}
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ctx c = { 0 };
	struct ucall uc;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_SMM) > 0);
	TEST_REQUIRE(kvm_has_irqchip());
	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	vm_memslot_add(vm, VM_MEM_ANON, SMRAM_GPA, SMRAM_SLOT, SMRAM_PAGES, 0);
	memcpy(addr_gpa2hva(vm, SMRAM_GPA + 0x8000), smi_handler,
	       sizeof(smi_handler));
	vcpu_set_msr(vcpu, MSR_IA32_SMBASE, SMRAM_GPA);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE) > 1);
	smm_address_space_register(vm);

	for (;;) {
		u64 cmd = vcpu_run_next(vcpu, &uc);

		if (cmd == UCALL_DONE)
			break;
		if (cmd == UCALL_SYNC) {
			case_begin("outside SMM (stage %llu): KVM_RUN_X86_SMM clear",
				   (unsigned long long)uc.args[0]);
			CHECK(!(vcpu->run->flags & KVM_RUN_X86_SMM), "flags 0x%x",
			      vcpu->run->flags);
			vcpu_regs_get(vcpu, &c.before);
			vcpu_sregs_get(vcpu, &c.sbefore);
			if (uc.args[0] == 1)
				vcpu_ioctl(vcpu, KVM_SMI, NULL);
			continue;
		}
		TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO &&
			    vcpu->run->io.port == SMM_PORT,
			    "exit %s", exit_reason_str(vcpu->run->exit_reason));
		in_smm(vcpu, &c);
	}
	case_begin("two SMIs, each handled once");
	CHECK_EQ(c.smm_entries, 2);
	kvm_vm_free(vm);
	checks_exit();
}
