// SPDX-License-Identifier: GPL-2.0-only
/*
 * apic_timer: the LAPIC timer KVM emulates, in its three modes.
 *
 * The in-tree suite has no program on this ground (apic_bus_clock_test
 * checks only the bus frequency): here a one-shot timer fires once, its
 * current count runs down and ends at 0; a periodic timer fires again and
 * again and stops when its initial count is cleared; a masked LVT counts
 * down but delivers nothing; a TSC-deadline timer fires once at or after
 * its deadline, clears the deadline MSR, fires at once for a past
 * deadline, and ignores deadline writes in one-shot mode. Both in xAPIC
 * and x2APIC mode (TSC-deadline in x2APIC only).
 */
#include "kvm_util.h"
#include "apic.h"
#include "exception.h"
#include "test_check.h"

#define TIMER_VECTOR	0x90
/* KVM's APIC bus runs at 1 GHz by default: 1,000,000 ticks are 1 ms. */
#define ONE_MS_TICKS	1000000
#define SPIN_LIMIT	400000000ULL

static u64 fired;
static u64 fired_tsc;

static void timer_handler(struct ex_regs *regs)
{
	WRITE_ONCE(fired_tsc, rdtsc());
	WRITE_ONCE(fired, fired + 1);
	apic_eoi();
}

static u32 rd(bool x2, u32 reg)
{
	return x2 ? x2apic_read_reg(reg) : xapic_read_reg(reg);
}

static void wr(bool x2, u32 reg, u32 v)
{
	if (x2)
		x2apic_write_reg(reg, v);
	else
		xapic_write_reg(reg, v);
}

/* Halt with interrupts on until @n timer interrupts in all, or give up. */
static bool wait_fired(u64 n)
{
	for (u64 i = 0; i < SPIN_LIMIT && READ_ONCE(fired) < n; i++) {
		safe_halt();
		cli();
	}
	return READ_ONCE(fired) >= n;
}

/* Take an interrupt that became pending while interrupts were off. */
static void drain_pending(void)
{
	sti();
	__asm__ volatile("nop");
	cli();
}

/* Let @ticks of APIC time pass with the timer otherwise idle. */
static void idle_ticks(bool x2, u32 ticks)
{
	wr(x2, APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	wr(x2, APIC_TMICT, ticks);
	for (u64 i = 0; i < SPIN_LIMIT && rd(x2, APIC_TMCCT); i++)
		cpu_relax();
}

static void guest_main(bool x2, bool tsc_deadline)
{
	const char *mode = x2 ? "x2APIC" : "xAPIC";
	u32 c1, c2;
	u64 n;

	if (x2)
		x2apic_enable();
	else
		xapic_enable();
	wr(x2, APIC_TDCR, APIC_TDR_DIV_1);

	GUEST_CASE("%s: one-shot fires once, count runs down to 0", mode);
	WRITE_ONCE(fired, 0);
	wr(x2, APIC_LVTT, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);
	wr(x2, APIC_TMICT, 50 * ONE_MS_TICKS);
	c1 = rd(x2, APIC_TMCCT);
	c2 = rd(x2, APIC_TMCCT);
	GUEST_CHECK(c1 <= 50 * ONE_MS_TICKS && c2 <= c1,
		    "TMCCT %u then %u, from %u", c1, c2, 50 * ONE_MS_TICKS);
	GUEST_CHECK(wait_fired(1), "the one-shot timer never fired");
	GUEST_CHECK_EQ(rd(x2, APIC_TMCCT), 0);
	idle_ticks(x2, 5 * ONE_MS_TICKS);
	GUEST_CHECK_EQ(READ_ONCE(fired), 1);

	GUEST_CASE("%s: periodic fires repeatedly, stops when TMICT is 0", mode);
	WRITE_ONCE(fired, 0);
	wr(x2, APIC_LVTT, APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
	wr(x2, APIC_TMICT, 2 * ONE_MS_TICKS);
	GUEST_CHECK(wait_fired(3), "periodic timer fired %llu times",
		    (unsigned long long)READ_ONCE(fired));
	GUEST_CHECK(rd(x2, APIC_TMCCT) <= 2 * ONE_MS_TICKS, "TMCCT 0x%x",
		    rd(x2, APIC_TMCCT));
	wr(x2, APIC_TMICT, 0);
	drain_pending();
	n = READ_ONCE(fired);
	idle_ticks(x2, 10 * ONE_MS_TICKS);
	GUEST_CHECK_EQ(READ_ONCE(fired), n);

	GUEST_CASE("%s: a masked timer counts down and delivers nothing", mode);
	WRITE_ONCE(fired, 0);
	wr(x2, APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	wr(x2, APIC_TMICT, ONE_MS_TICKS);
	for (u64 i = 0; i < SPIN_LIMIT && rd(x2, APIC_TMCCT); i++)
		cpu_relax();
	sti();
	for (int i = 0; i < 1000; i++)
		cpu_relax();
	cli();
	GUEST_CHECK_EQ(READ_ONCE(fired), 0);

	if (!x2)
		GUEST_DONE();
	if (!tsc_deadline) {
		GUEST_CASE("TSC-deadline");
		GUEST_CASE_SKIP("KVM has no KVM_CAP_TSC_DEADLINE_TIMER");
		GUEST_DONE();
	}

	GUEST_CASE("TSC-deadline: fires once, not before the deadline, MSR cleared");
	{
		u64 deadline;

		WRITE_ONCE(fired, 0);
		wr(x2, APIC_LVTT, APIC_LVT_TIMER_TSCDEADLINE | TIMER_VECTOR);
		deadline = rdtsc() + 2000000;
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		GUEST_CHECK(wait_fired(1), "the TSC-deadline timer never fired");
		GUEST_CHECK(fired_tsc >= deadline, "fired at TSC 0x%llx < deadline 0x%llx",
			    (unsigned long long)fired_tsc, (unsigned long long)deadline);
		GUEST_CHECK_EQ(rdmsr(MSR_IA32_TSC_DEADLINE), 0);
		idle_ticks(x2, 5 * ONE_MS_TICKS);
		GUEST_CHECK_EQ(READ_ONCE(fired), 1);

		GUEST_CASE("TSC-deadline: a deadline in the past fires at once");
		wr(x2, APIC_LVTT, APIC_LVT_TIMER_TSCDEADLINE | TIMER_VECTOR);
		wrmsr(MSR_IA32_TSC_DEADLINE, 1);
		GUEST_CHECK(wait_fired(2), "a past deadline never fired");

		GUEST_CASE("TSC-deadline: the MSR is ignored in one-shot mode");
		wr(x2, APIC_LVTT, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);
		wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 1000);
		GUEST_CHECK_EQ(rdmsr(MSR_IA32_TSC_DEADLINE), 0);
		idle_ticks(x2, 5 * ONE_MS_TICKS);
		GUEST_CHECK_EQ(READ_ONCE(fired), 2);
	}
	GUEST_DONE();
}

static void run_mode(bool x2)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	bool tsc_deadline = kvm_check_cap(KVM_CAP_TSC_DEADLINE_TIMER) > 0;

	vm_install_exception_handler(vm, TIMER_VECTOR, timer_handler);
	/* KVM emulates it for any host, but says so by a cap, not CPUID. */
	if (tsc_deadline)
		vcpu_cpuid_set_feature(vcpu, X86_FEATURE_TSC_DEADLINE_TIMER, true);
	vcpu_args_set(vcpu, 2, (u64)x2, (u64)tsc_deadline);
	vcpu_run_to_done(vcpu, NULL, NULL);
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
