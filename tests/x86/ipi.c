// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipi: interprocessor interrupts between vCPUs through the in-kernel
 * LAPICs, in xAPIC and x2APIC mode, each one counted where it lands.
 *
 * Covers xapic_ipi_test's ground (fixed IPIs from one vCPU to a halted
 * one, none lost); adds: exact counts per receiving vCPU for a fixed IPI
 * to one APIC ID, a self IPI (shorthand and, in x2APIC, the SELF_IPI
 * register), broadcast to all but self and to all including self, and a
 * fixed IPI to an APIC ID nobody has reaching no one; the same in both
 * APIC modes.
 */
#include <pthread.h>

#include "kvm_util.h"
#include "apic.h"
#include "test_check.h"

#define NR_VCPUS	3
#define IPI_VECTOR	0x80
#define WAKE_VECTOR	0x81
#define FIXED_ROUNDS	20
#define SPIN_LIMIT	200000000ULL

static bool stop;
static u32 ready;

/* Spin (with PAUSE) until *p reaches @want; false if it never does. */
static bool wait_for(u64 *p, u64 want)
{
	for (u64 i = 0; i < SPIN_LIMIT; i++) {
		if (READ_ONCE(*p) >= want)
			return true;
		cpu_relax();
	}
	return false;
}

static void enable_apic(bool x2)
{
	if (x2)
		x2apic_enable();
	else
		xapic_enable();
}

static void guest_ap(bool x2)
{
	enable_apic(x2);
	__atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
	while (!READ_ONCE(stop))
		safe_halt();
	cli();
	GUEST_DONE();
}

static u64 counts_snapshot(u64 *snap)
{
	for (int i = 0; i < NR_VCPUS; i++)
		snap[i] = READ_ONCE(irq_count_apic[i]);
	return READ_ONCE(irq_count[IPI_VECTOR]);
}

/* Each vCPU got exactly @want[i] more since @before. */
static void check_delta(const u64 *before, const u64 *want)
{
	for (int i = 0; i < NR_VCPUS; i++) {
		u64 target = before[i] + want[i];

		if (want[i])
			wait_for(&irq_count_apic[i], target);
		GUEST_CHECK_EQ(READ_ONCE(irq_count_apic[i]), target);
	}
}

static void guest_bsp(bool x2)
{
	const char *mode = x2 ? "x2APIC" : "xAPIC";
	u64 before[NR_VCPUS];

	enable_apic(x2);
	sti();
	while (READ_ONCE(ready) < NR_VCPUS - 1)
		cpu_relax();

	GUEST_CASE("%s: %d fixed IPIs to a halted vCPU, none lost", mode, FIXED_ROUNDS);
	counts_snapshot(before);
	for (int i = 0; i < FIXED_ROUNDS; i++) {
		apic_send_ipi(1, APIC_DM_FIXED | IPI_VECTOR);
		/* One at a time, so a lost one is not hidden by coalescing. */
		wait_for(&irq_count_apic[1], before[1] + i + 1);
	}
	check_delta(before, (u64[NR_VCPUS]){ 0, FIXED_ROUNDS, 0 });

	GUEST_CASE("%s: self IPI by shorthand", mode);
	counts_snapshot(before);
	apic_send_ipi(0, APIC_DEST_SELF | APIC_DM_FIXED | IPI_VECTOR);
	check_delta(before, (u64[NR_VCPUS]){ 1, 0, 0 });

	if (x2) {
		GUEST_CASE("x2APIC: self IPI through the SELF_IPI register");
		counts_snapshot(before);
		x2apic_write_reg(APIC_SELF_IPI, IPI_VECTOR);
		check_delta(before, (u64[NR_VCPUS]){ 1, 0, 0 });
	}

	GUEST_CASE("%s: broadcast to all but self", mode);
	counts_snapshot(before);
	apic_send_ipi(0, APIC_DEST_ALLBUT | APIC_DM_FIXED | IPI_VECTOR);
	check_delta(before, (u64[NR_VCPUS]){ 0, 1, 1 });

	GUEST_CASE("%s: broadcast to all including self", mode);
	counts_snapshot(before);
	apic_send_ipi(0, APIC_DEST_ALLINC | APIC_DM_FIXED | IPI_VECTOR);
	check_delta(before, (u64[NR_VCPUS]){ 1, 1, 1 });

	GUEST_CASE("%s: an IPI to an absent APIC ID reaches no one", mode);
	counts_snapshot(before);
	apic_send_ipi(0x42, APIC_DM_FIXED | IPI_VECTOR);
	/* A broadcast after it: once that is in, the first had its chance. */
	apic_send_ipi(0, APIC_DEST_ALLINC | APIC_DM_FIXED | IPI_VECTOR);
	check_delta(before, (u64[NR_VCPUS]){ 1, 1, 1 });

	WRITE_ONCE(stop, true);
	apic_send_ipi(0, APIC_DEST_ALLBUT | APIC_DM_FIXED | WAKE_VECTOR);
	cli();
	GUEST_DONE();
}

static void *vcpu_thread(void *arg)
{
	vcpu_run_to_done(arg, NULL, NULL);
	return NULL;
}

static void run_mode(bool x2)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vm = vm_create_with_vcpus(NR_VCPUS, guest_ap, vcpus);
	pthread_t threads[NR_VCPUS];

	vm_install_irq_counter(vm, IPI_VECTOR);
	vm_install_irq_counter(vm, WAKE_VECTOR);
	for (int i = 0; i < NR_VCPUS; i++) {
		if (i == 0) {
			struct kvm_regs regs;

			vcpu_regs_get(vcpus[0], &regs);
			regs.rip = (u64)guest_bsp;
			vcpu_regs_set(vcpus[0], &regs);
		}
		vcpu_args_set(vcpus[i], 1, (u64)x2);
	}
	for (int i = 1; i < NR_VCPUS; i++)
		TEST_ASSERT(!pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]),
			    "pthread_create");
	vcpu_run_to_done(vcpus[0], NULL, NULL);
	for (int i = 1; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);
	kvm_vm_free(vm);
}

int main(void)
{
	TEST_REQUIRE(kvm_has_irqchip());
	run_mode(false);
	if (kvm_cpu_has(X86_FEATURE_X2APIC))
		run_mode(true);
	checks_exit();
}
