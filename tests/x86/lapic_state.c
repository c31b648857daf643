// SPDX-License-Identifier: GPL-2.0-only
/*
 * lapic_state: the local APIC's registers through KVM_GET/SET_LAPIC and
 * across a migration, in xAPIC and in x2APIC mode.
 *
 * Covers xapic_state_test: ICR writes read back through KVM_GET_LAPIC in
 * both modes (busy bit clear, the x2APIC destination in ICR2 unshifted),
 * the APIC ID's format in the saved state with and without
 * KVM_X2APIC_API_USE_32BIT_IDS. Adds: registers the guest wrote (TPR, LVTs,
 * divide, SPIV, LDR) seen by the host, a host KVM_SET_LAPIC seen by the
 * guest, every register intact after vm_migrate(), and in x2APIC mode the
 * derived LDR and a #GP for writing the read-only ID.
 */
#include "kvm_util.h"
#include "apic.h"
#include "exception.h"
#include "test_check.h"

#define VCPU_ID		5
#define ICR_DEST	0x7e	/* no such APIC: the IPI goes nowhere */
#define ICR_VECTOR	0xf3
#define TPR_GUEST	0x20
#define TPR_HOST	0x30
#define LVT0_VALUE	(APIC_LVT_MASKED | 0x31)
#define LVTERR_VALUE	(APIC_LVT_MASKED | 0x33)
#define TDCR_VALUE	0x3		/* divide by 16 */
#define XAPIC_LDR	0x5a000000

struct regs_seen {
	u32 tpr, lvt0, lvterr, tdcr, spiv, ldr, icr, icr2;
};

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

static void read_all(bool x2, struct regs_seen *r)
{
	r->tpr = rd(x2, APIC_TASKPRI);
	r->lvt0 = rd(x2, APIC_LVT0);
	r->lvterr = rd(x2, APIC_LVTERR);
	r->tdcr = rd(x2, APIC_TDCR);
	r->spiv = rd(x2, APIC_SPIV);
	r->ldr = rd(x2, APIC_LDR);
	if (x2) {
		u64 icr = rdmsr(X2APIC_MSR(APIC_ICR));

		r->icr = icr;
		r->icr2 = icr >> 32;
	} else {
		r->icr = rd(false, APIC_ICR);
		r->icr2 = rd(false, APIC_ICR2);
	}
}

static void guest_main(bool x2)
{
	struct regs_seen before, after;

	if (x2)
		x2apic_enable();
	else
		xapic_enable();
	wr(x2, APIC_TASKPRI, TPR_GUEST);
	wr(x2, APIC_LVT0, LVT0_VALUE);
	wr(x2, APIC_LVTERR, LVTERR_VALUE);
	wr(x2, APIC_TDCR, TDCR_VALUE);
	if (!x2)
		wr(false, APIC_LDR, XAPIC_LDR);
	apic_send_ipi(ICR_DEST, APIC_DM_FIXED | ICR_VECTOR);
	GUEST_SYNC(1);		/* host: KVM_GET_LAPIC, then TPR by KVM_SET_LAPIC */

	GUEST_CASE("%s: a host KVM_SET_LAPIC is what the guest reads", x2 ? "x2APIC" : "xAPIC");
	GUEST_CHECK_EQ(rd(x2, APIC_TASKPRI), TPR_HOST);
	if (x2) {
		u32 id = x2apic_read_reg(APIC_ID);

		GUEST_CASE("x2APIC: ID is the vCPU id, LDR derived from it, ID read-only");
		GUEST_CHECK_EQ(id, VCPU_ID);
		GUEST_CHECK_EQ(x2apic_read_reg(APIC_LDR),
			       ((id >> 4) << 16) | (1u << (id & 0xf)));
		GUEST_CHECK_EQ(probe_wrmsr(X2APIC_MSR(APIC_ID), 0x42), GP_VECTOR);
	}
	read_all(x2, &before);
	GUEST_SYNC(2);		/* host: vm_migrate() */

	GUEST_CASE("%s: every register intact after migration", x2 ? "x2APIC" : "xAPIC");
	read_all(x2, &after);
	GUEST_CHECK_EQ(after.tpr, before.tpr);
	GUEST_CHECK_EQ(after.lvt0, before.lvt0);
	GUEST_CHECK_EQ(after.lvterr, before.lvterr);
	GUEST_CHECK_EQ(after.tdcr, before.tdcr);
	GUEST_CHECK_EQ(after.spiv, before.spiv);
	GUEST_CHECK_EQ(after.ldr, before.ldr);
	GUEST_CHECK_EQ(after.icr & ~APIC_ICR_BUSY, before.icr & ~APIC_ICR_BUSY);
	GUEST_CHECK_EQ(after.icr2, before.icr2);
	GUEST_CHECK_EQ(apic_in_x2apic_mode(), x2);
	GUEST_DONE();
}

struct ctx {
	bool x2;
	bool api_32bit_ids;
};

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct ctx *c = data;
	struct kvm_lapic_state s;
	const char *mode = c->x2 ? "x2APIC" : "xAPIC";

	if (uc->args[0] == 2) {
		vm_migrate(vcpu->vm);
		return;
	}
	vcpu_lapic_get(vcpu, &s);
	case_begin("%s: what the guest wrote is in KVM_GET_LAPIC", mode);
	CHECK_EQ(lapic_state_reg(&s, APIC_TASKPRI), TPR_GUEST);
	CHECK_EQ(lapic_state_reg(&s, APIC_LVT0), LVT0_VALUE);
	CHECK_EQ(lapic_state_reg(&s, APIC_LVTERR), LVTERR_VALUE);
	CHECK_EQ(lapic_state_reg(&s, APIC_TDCR), TDCR_VALUE);
	CHECK(lapic_state_reg(&s, APIC_SPIV) & APIC_SPIV_APIC_ENABLED,
	      "SPIV 0x%x", lapic_state_reg(&s, APIC_SPIV));
	if (!c->x2)
		CHECK_EQ(lapic_state_reg(&s, APIC_LDR), XAPIC_LDR);

	case_begin("%s: ICR as written, delivered (busy clear)", mode);
	CHECK_EQ(lapic_state_reg(&s, APIC_ICR), APIC_DM_FIXED | ICR_VECTOR);
	CHECK_EQ(lapic_state_reg(&s, APIC_ICR2),
		 c->x2 ? ICR_DEST : ICR_DEST << 24);

	case_begin("%s: APIC ID format in the state (32-bit IDs %s)", mode,
		   c->api_32bit_ids ? "on" : "off");
	CHECK_EQ(lapic_state_reg(&s, APIC_ID),
		 c->x2 && c->api_32bit_ids ? VCPU_ID : VCPU_ID << 24);

	lapic_state_set_reg(&s, APIC_TASKPRI, TPR_HOST);
	vcpu_lapic_set(vcpu, &s);
}

static void run_mode(bool x2, bool api_32bit_ids)
{
	struct kvm_vm *vm = vm_create(NULL);
	struct kvm_vcpu *vcpu;
	struct ctx c = { .x2 = x2, .api_32bit_ids = api_32bit_ids };

	if (api_32bit_ids)
		vm_enable_cap(vm, KVM_CAP_X2APIC_API,
			      KVM_X2APIC_API_USE_32BIT_IDS);
	vcpu = vm_vcpu_add(vm, VCPU_ID, guest_main);
	vcpu_args_set(vcpu, 1, (u64)x2);
	vcpu_run_to_done(vcpu, on_sync, &c);
	kvm_vm_free(vm);
}

int main(void)
{
	TEST_REQUIRE(kvm_has_irqchip());
	run_mode(false, false);
	if (!kvm_cpu_has(X86_FEATURE_X2APIC)) {
		case_begin("x2APIC");
		case_skip("KVM offers no x2APIC");
		checks_exit();
	}
	run_mode(true, false);
	if (kvm_check_cap(KVM_CAP_X2APIC_API) & KVM_X2APIC_API_USE_32BIT_IDS)
		run_mode(true, true);
	checks_exit();
}
