// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_state: everything KVM keeps of a vCPU, saved, loaded into a new VM
 * and saved again, must come back the same, at stages where the guest
 * holds more and more state.
 *
 *   vcpu_state            plain guest
 *   vcpu_state nested     L1 running L2 at the save (KVM_GET/SET_NESTED_STATE)
 *
 * Covers state_test (save at several stages, restore into a new VM, the
 * registers read back equal, the guest and L2 go on); adds: the whole
 * state compared after the round trip, not the registers alone (special
 * registers, events, MP state, debug registers, XCR0 and XSAVE, every MSR
 * but the TSC, the LAPIC, the nested state byte for byte), an interrupt
 * pending in the LAPIC's IRR at the save delivered after it, and state
 * the guest changed (MSRs, debug registers, XCR0, TPR) read back by the
 * guest after the move.
 */
#include "kvm_util.h"
#include "apic.h"
#include "nested/nested.h"
#include "test_check.h"

#define MSR_LSTAR		0xc0000082
#define MSR_SYSCALL_MASK	0xc0000084
#define PENDING_VECTOR		0xa0
#define HC_DONE			0x646f6e65ULL	/* "done" */

static const struct { u32 msr; u64 value; } msr_values[] = {
	{ MSR_KERNEL_GS_BASE, 0xffff888012345000ULL },
	{ MSR_STAR, 0x0023001000000000ULL },
	{ MSR_LSTAR, 0xffffffff81000000ULL },
	{ MSR_SYSCALL_MASK, 0x47700 },
	{ MSR_IA32_CR_PAT, 0x0007010600070106ULL },
};

static u64 xgetbv0(void)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | ((u64)hi << 32);
}

static void guest_state_changes(void)
{
	u64 xcr0 = 0;

	GUEST_SYNC(1);					/* as the library set it up */

	for (u32 i = 0; i < ARRAY_SIZE(msr_values); i++)
		wrmsr(msr_values[i].msr, msr_values[i].value);
	__asm__ volatile("mov %0, %%dr0; mov %1, %%dr3"
			 : : "r"(0x1000ULL), "r"(0x7ffff000ULL));
	if (this_cpu_has(X86_FEATURE_XSAVE)) {
		u32 a, b, c, d;

		set_cr4(get_cr4() | X86_CR4_OSXSAVE);
		cpuid_count(0xd, 0, &a, &b, &c, &d);
		xcr0 = a & 0x7;				/* x87, SSE, AVX if offered */
		__asm__ volatile("xsetbv" : : "a"((u32)xcr0), "d"(0), "c"(0));
	}
	xapic_enable();
	xapic_write_reg(APIC_TASKPRI, 0x10);
	GUEST_SYNC(2);					/* MSRs, DRs, XCR0, LAPIC */

	GUEST_CASE("the guest's own state after the moves");
	for (u32 i = 0; i < ARRAY_SIZE(msr_values); i++)
		GUEST_CHECK(rdmsr(msr_values[i].msr) == msr_values[i].value,
			    "MSR 0x%x: 0x%llx", msr_values[i].msr,
			    (unsigned long long)rdmsr(msr_values[i].msr));
	GUEST_CHECK_EQ(xapic_read_reg(APIC_TASKPRI), 0x10);
	if (xcr0) {
		GUEST_CASE("the XCR0 the guest set, after the moves");
		GUEST_CHECK_EQ(xgetbv0(), xcr0);
	}

	/* A self-IPI with interrupts off stays pending in IRR over the move. */
	xapic_write_reg(APIC_TASKPRI, 0);
	apic_send_ipi(0, APIC_DEST_SELF | APIC_DM_FIXED | PENDING_VECTOR);
	GUEST_SYNC(3);
	GUEST_CASE("an interrupt pending at the save is delivered after it");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[PENDING_VECTOR]), 0);
	sti();
	__asm__ volatile("nop");
	cli();
	GUEST_CHECK_EQ(READ_ONCE(irq_count[PENDING_VECTOR]), 1);
	GUEST_DONE();
}

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
static u64 l2_counter;

static void l2_main(void)
{
	for (int i = 0; i < 3; i++) {
		l2_counter++;
		GUEST_SYNC(10 + i);		/* straight from L2: saved in guest mode */
	}
	l2_hypercall(HC_DONE, l2_counter);
}

static void l1_main(struct nested_state *s)
{
	u64 result;

	GUEST_SYNC(1);
	l2_setup_no_tdp(s, l2_main, l2_stack + sizeof(l2_stack));
	result = l2_run_to_hypercall(s, HC_DONE);
	GUEST_CASE("L2 ran on through each move and L1 got its result");
	GUEST_CHECK_EQ(result, 3);
	GUEST_SYNC(2);
	GUEST_DONE();
}

static void move_and_compare(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_x86_state *before, *after;
	struct vm_irqchip_state *chips;
	char why[160];

	vcpu_complete_io(vcpu);
	before = vcpu_save_state(vcpu);
	chips = vm_irqchip_save(vm);
	vm_restart(vm);
	vm_irqchip_load(vm, chips);
	vcpu_load_state(vcpu, before);
	after = vcpu_save_state(vcpu);

	case_begin("stage %llu: the state loaded into a new VM reads back the same",
		   (unsigned long long)uc->args[0]);
	CHECK(kvm_x86_state_same(before, after, why, sizeof(why)), "%s", why);
	kvm_x86_state_free(before);
	kvm_x86_state_free(after);
}

int main(int argc, char **argv)
{
	bool nested = argc > 1 && !strcmp(argv[1], "nested");
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (nested) {
		nested_require();
		TEST_REQUIRE(kvm_check_cap(KVM_CAP_NESTED_STATE) >=
			     (int)sizeof(struct kvm_nested_state));
		vm = vm_create_with_one_vcpu(&vcpu, l1_main);
		vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	} else {
		TEST_REQUIRE(kvm_has_irqchip());
		vm = vm_create_with_one_vcpu(&vcpu, guest_state_changes);
		vm_install_irq_counter(vm, PENDING_VECTOR);
	}
	vcpu_run_to_done(vcpu, move_and_compare, NULL);
	kvm_vm_free(vm);
	checks_exit();
}
