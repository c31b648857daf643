// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq_inject: the ways a VMM raises an interrupt, each seen by the guest.
 *
 * The in-tree suite has no program on this ground (its tests inject only
 * as a means to other ends). Checked here: KVM_IRQ_LINE on a GSI routed
 * by the in-kernel IOAPIC (a redirection entry the guest programmed)
 * delivers its vector; two edges before the vCPU runs coalesce in the
 * LAPIC's IRR, the next edge is the next interrupt; a masked pin delivers nothing, not
 * even once unmasked; KVM_SIGNAL_MSI delivers to the APIC ID in its
 * address and returns > 0; KVM_INTERRUPT is refused (ENXIO) with an
 * in-kernel PIC and, on a VM without an irqchip, delivers its vector once
 * the guest opens an interrupt window that KVM reports.
 */
#include "kvm_util.h"
#include "apic.h"
#include "exception.h"
#include "test_check.h"

#define IOAPIC_GPA		0xfec00000ULL
#define IOAPIC_REGSEL		0x00
#define IOAPIC_WINDOW		0x10
#define IOAPIC_REDTBL(pin)	(0x10 + 2 * (pin))
#define IOAPIC_MASKED		BIT(16)

#define GSI			10
#define LINE_VECTOR		0x50
#define MSI_VECTOR		0x51
#define EXT_VECTOR		0x52

static void ioapic_write(u32 reg, u32 value)
{
	WRITE_ONCE(*(volatile u32 *)(IOAPIC_GPA + IOAPIC_REGSEL), reg);
	WRITE_ONCE(*(volatile u32 *)(IOAPIC_GPA + IOAPIC_WINDOW), value);
}

/* Pin @pin: edge, active high, fixed, physical destination APIC 0. */
static void ioapic_route(int pin, u8 vector, bool masked)
{
	ioapic_write(IOAPIC_REDTBL(pin) + 1, 0);
	ioapic_write(IOAPIC_REDTBL(pin), vector | (masked ? IOAPIC_MASKED : 0));
}

/* Enable interrupts for the host's doing (at the OUT of the sync), then stop. */
static void sync_with_irqs(u64 stage)
{
	sti();
	GUEST_SYNC(stage);
	/* One instruction after STI's shadow: a pending interrupt lands here. */
	__asm__ volatile("nop");
	cli();
}

static void guest_irqchip(void)
{
	/*
	 * KVM_IRQ_LINE raises a GSI on the PICs too, and the BSP's LVT0 is
	 * ExtINT after reset: mask both PICs, as an OS using the IOAPIC does.
	 */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	xapic_enable();

	ioapic_route(GSI, LINE_VECTOR, false);
	sync_with_irqs(1);		/* host: two edges on the GSI */
	GUEST_CASE("KVM_IRQ_LINE: two edges while the vCPU is out coalesce in IRR");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[LINE_VECTOR]), 1);
	sync_with_irqs(4);		/* host: one edge */
	GUEST_CASE("KVM_IRQ_LINE: the next edge is the next interrupt");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[LINE_VECTOR]), 2);

	ioapic_route(GSI, LINE_VECTOR, true);
	sync_with_irqs(2);		/* host: an edge on the masked pin */
	ioapic_route(GSI, LINE_VECTOR, false);
	sti();
	__asm__ volatile("nop");
	cli();
	GUEST_CASE("KVM_IRQ_LINE: a masked edge is dropped, also after unmasking");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[LINE_VECTOR]), 2);

	sync_with_irqs(3);		/* host: KVM_SIGNAL_MSI */
	GUEST_CASE("KVM_SIGNAL_MSI: delivered to the APIC ID of its address");
	GUEST_CHECK_EQ(READ_ONCE(irq_count[MSI_VECTOR]), 1);
	GUEST_DONE();
}

static void on_sync_irqchip(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct kvm_vm *vm = vcpu->vm;

	switch (uc->args[0]) {
	case 1:
	case 2:
	case 4:
		for (int i = 0; i < (uc->args[0] == 1 ? 2 : 1); i++) {
			vm_irq_line(vm, GSI, 1);
			vm_irq_line(vm, GSI, 0);
		}
		break;
	case 3: {
		int ret = __vm_signal_msi(vm, 0, MSI_VECTOR);

		case_begin("KVM_SIGNAL_MSI returns > 0 (delivered)");
		CHECK(ret > 0, "rc %d errno %d", ret, errno);
		break;
	}
	}
}

static void case_irqchip(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_irqchip);

	kvm_mmu_map(vm, &vm->mmu, IOAPIC_GPA, IOAPIC_GPA, PAGE_SIZE,
		    KVM_MMU_RW | KVM_MMU_MMIO);
	vm_install_irq_counter(vm, LINE_VECTOR);
	vm_install_irq_counter(vm, MSI_VECTOR);

	case_begin("KVM_INTERRUPT with an in-kernel PIC: ENXIO");
	CHECK(__vcpu_interrupt(vcpu, EXT_VECTOR) == -1 && errno == ENXIO,
	      "errno %d", errno);
	vcpu_run_to_done(vcpu, on_sync_irqchip, NULL);
	kvm_vm_free(vm);
}

/* No LAPIC to EOI: the PIC-less, irqchip-less VM just counts. */
static u64 ext_count;

static void ext_handler(struct ex_regs *regs)
{
	ext_count++;
}

static void guest_no_irqchip(void)
{
	sti();
	for (;;) {
		if (READ_ONCE(ext_count))
			break;
		GUEST_SYNC(0);
	}
	cli();
	GUEST_CASE("KVM_INTERRUPT without an irqchip: delivered once");
	GUEST_CHECK_EQ(ext_count, 1);
	GUEST_DONE();
}

static void case_no_irqchip(void)
{
	struct kvm_vm *vm = vm_create(&(struct vm_options){
		.irqchip = VM_IRQCHIP_NONE, .numa_node = -1 });
	struct kvm_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_no_irqchip);
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	bool injected = false;

	vm_install_exception_handler(vm, EXT_VECTOR, ext_handler);
	case_begin("no irqchip: KVM reports the interrupt window, KVM_INTERRUPT injects");
	for (int i = 0; i < 100; i++) {
		u64 cmd;

		run->request_interrupt_window = !injected;
		cmd = vcpu_run_next(vcpu, &uc);
		if (cmd == UCALL_DONE)
			break;
		if (cmd == UCALL_NONE) {
			CHECK(run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN,
			      "exit %s", exit_reason_str(run->exit_reason));
			if (run->exit_reason != KVM_EXIT_IRQ_WINDOW_OPEN)
				break;
		}
		if (!injected && run->ready_for_interrupt_injection &&
		    run->if_flag) {
			CHECK_EQ(__vcpu_interrupt(vcpu, EXT_VECTOR), 0);
			injected = true;
		}
	}
	CHECK(injected, "KVM never reported the vCPU ready for injection");
	run->request_interrupt_window = 0;
	kvm_vm_free(vm);
}

int main(void)
{
	TEST_REQUIRE(kvm_has_irqchip());
	case_irqchip();
	case_no_irqchip();
	checks_exit();
}
