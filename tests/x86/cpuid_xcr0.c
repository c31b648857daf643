// SPDX-License-Identifier: GPL-2.0-only
/*
 * cpuid_xcr0: the CPUID the guest sees is the one the VMM set, and XCR0
 * takes exactly the state components that CPUID offers.
 *
 * Covers cpuid_test (the guest's CPUID equals the vCPU's entries, bar the
 * bits KVM updates at run time; KVM_GET_CPUID2 returns what was set, and
 * E2BIG with nent untouched when given too few entries; KVM_SET_CPUID2
 * after KVM_RUN only with identical entries, not with a changed feature
 * leaf or MAXPHYADDR)
 * and xcr0_cpuid_test (XSETBV of all offered components works, of any
 * component not offered #GPs, AVX-512's three components only together).
 * Adds: XCR0 without x87, AVX without SSE and XCR index 1 #GP; the same
 * XSETBV checks through KVM's emulator (KVM_FEP) where the lane forces
 * emulation; the host sees the guest's XCR0 (KVM_GET_XCRS) and
 * KVM_SET_XCRS refuses a component not offered.
 */
#include "kvm_util.h"
#include "exception.h"
#include "test_check.h"

#define MAX_ENTRIES	256
#define XFEATURE_FP	BIT_ULL(0)
#define XFEATURE_SSE	BIT_ULL(1)
#define XFEATURE_AVX	BIT_ULL(2)
#define XFEATURE_AVX512	(BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(7))

static struct kvm_cpuid_entry2 expected[MAX_ENTRIES];
static u32 nr_expected;
static bool fep;

/* Bits KVM computes at run time from guest state, not from the entries. */
static void mask_dynamic(u32 fn, u32 idx, u32 r[4])
{
	switch (fn) {
	case 0x1:
		r[CPUID_EBX] &= 0x00ffffff;		/* initial APIC ID */
		r[CPUID_ECX] &= ~BIT(27);		/* OSXSAVE */
		r[CPUID_EDX] &= ~BIT(9);		/* APIC: APIC base EN */
		break;
	case 0x7:
		if (idx == 0)
			r[CPUID_ECX] &= ~BIT(4);	/* OSPKE */
		break;
	case 0xb:
	case 0x1f:
		r[CPUID_EDX] = 0;			/* x2APIC ID */
		break;
	case 0xd:
		if (idx < 2)
			r[CPUID_EBX] = 0;		/* size for XCR0 (|XSS) */
		break;
	case 0x8000001e:
		r[CPUID_EAX] = 0;			/* extended APIC ID */
		break;
	}
}

static u64 xgetbv(u32 index)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return lo | ((u64)hi << 32);
}

static void guest_cpuid(void)
{
	GUEST_CASE("the guest's CPUID equals the vCPU's %u entries", nr_expected);
	for (u32 i = 0; i < nr_expected; i++) {
		const struct kvm_cpuid_entry2 *e = &expected[i];
		u32 got[4], want[4] = { e->eax, e->ebx, e->ecx, e->edx };

		cpuid_count(e->function, e->index, &got[0], &got[1], &got[2], &got[3]);
		mask_dynamic(e->function, e->index, got);
		mask_dynamic(e->function, e->index, want);
		for (int r = 0; r < 4; r++)
			GUEST_CHECK(got[r] == want[r],
				    "CPUID 0x%x.%u reg %d: 0x%x, expected 0x%x",
				    e->function, e->index, r, got[r], want[r]);
	}
}

static void xcr0_checks(bool emulated, u64 supported)
{
	u8 (*xsetbv)(u32, u64) = emulated ? probe_xsetbv_fep : probe_xsetbv;
	const char *how = emulated ? " (KVM's emulator)" : "";

	GUEST_CASE("XSETBV of every offered component%s", how);
	GUEST_CHECK_EQ(xsetbv(0, supported), PROBE_NO_FAULT);
	GUEST_CHECK_EQ(xgetbv(0), supported);

	GUEST_CASE("XSETBV of a component not offered: #GP%s", how);
	for (int b = 0; b < 64; b++)
		if (!(supported & BIT_ULL(b)))
			GUEST_CHECK(xsetbv(0, supported | BIT_ULL(b)) == GP_VECTOR,
				    "XCR0 bit %d taken", b);
	GUEST_CHECK_EQ(xgetbv(0), supported);

	GUEST_CASE("XSETBV without x87, AVX without SSE, XCR1: #GP%s", how);
	GUEST_CHECK_EQ(xsetbv(0, supported & ~XFEATURE_FP), GP_VECTOR);
	if (supported & XFEATURE_AVX)
		GUEST_CHECK_EQ(xsetbv(0, XFEATURE_FP | XFEATURE_AVX), GP_VECTOR);
	GUEST_CHECK_EQ(xsetbv(1, XFEATURE_FP), GP_VECTOR);
	if ((supported & XFEATURE_AVX512) == XFEATURE_AVX512)
		GUEST_CHECK_EQ(xsetbv(0, (supported & ~XFEATURE_AVX512) | BIT_ULL(5)),
			       GP_VECTOR);
}

static void guest_main(void)
{
	u32 a, b, c, d;
	u64 supported;

	guest_cpuid();
	if (!this_cpu_has(X86_FEATURE_XSAVE)) {
		GUEST_CASE("XCR0");
		GUEST_CASE_SKIP("the guest's CPUID has no XSAVE");
		GUEST_DONE();
	}
	set_cr4(get_cr4() | X86_CR4_OSXSAVE);
	GUEST_CASE("CR4.OSXSAVE shows in CPUID, XCR0 starts as x87 only");
	GUEST_CHECK(this_cpu_has(X86_FEATURE_OSXSAVE), "CPUID.1:ECX.OSXSAVE clear");
	GUEST_CHECK_EQ(xgetbv(0), XFEATURE_FP);

	cpuid_count(0xd, 0, &a, &b, &c, &d);
	supported = a | ((u64)d << 32);
	xcr0_checks(false, supported);
	if (fep)
		xcr0_checks(true, supported);
	GUEST_SYNC(supported);
	GUEST_DONE();
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct kvm_xcrs xcrs = { 0 };

	case_begin("KVM_GET_XCRS shows the guest's XCR0; KVM_SET_XCRS refuses more");
	vcpu_ioctl(vcpu, KVM_GET_XCRS, &xcrs);
	CHECK(xcrs.nr_xcrs >= 1 && xcrs.xcrs[0].xcr == 0, "nr_xcrs %u", xcrs.nr_xcrs);
	CHECK_EQ(xcrs.xcrs[0].value, uc->args[0]);
	if (~uc->args[0] & BIT_ULL(62)) {
		xcrs.xcrs[0].value |= BIT_ULL(62);
		CHECK(__vcpu_ioctl(vcpu, KVM_SET_XCRS, &xcrs) == -1 && errno == EINVAL,
		      "XCR0 bit 62 taken by KVM_SET_XCRS (errno %d)", errno);
	}
}

static bool entries_equal(const struct kvm_cpuid_entry2 *a,
			  const struct kvm_cpuid_entry2 *b)
{
	u32 ra[4] = { a->eax, a->ebx, a->ecx, a->edx };
	u32 rb[4] = { b->eax, b->ebx, b->ecx, b->edx };

	mask_dynamic(a->function, a->index, ra);
	mask_dynamic(b->function, b->index, rb);
	return a->function == b->function && a->index == b->index &&
	       a->flags == b->flags && !memcmp(ra, rb, sizeof(ra));
}

static void check_get_cpuid2(struct kvm_vcpu *vcpu)
{
	const struct kvm_cpuid2 *set = vcpu->arch.cpuid;
	struct kvm_cpuid2 *got = calloc(1, sizeof(*got) +
					set->nent * sizeof(got->entries[0]));

	TEST_ASSERT(got, "out of memory");
	got->nent = set->nent;
	case_begin("KVM_GET_CPUID2 returns the entries set (bar run-time bits)");
	vcpu_ioctl(vcpu, KVM_GET_CPUID2, got);
	CHECK_EQ(got->nent, set->nent);
	for (u32 i = 0; i < set->nent && i < got->nent; i++)
		CHECK(entries_equal(&got->entries[i], &set->entries[i]),
		      "entry %u: CPUID 0x%x.%u differs", i,
		      set->entries[i].function, set->entries[i].index);

	case_begin("KVM_GET_CPUID2 with too few entries: E2BIG, nent untouched");
	for (u32 n = 0; n < set->nent; n += set->nent - 1 ? set->nent - 1 : 1) {
		int ret;

		got->nent = n;
		ret = __vcpu_ioctl(vcpu, KVM_GET_CPUID2, got);
		CHECK(ret == -1 && errno == E2BIG, "nent %u: rc %d errno %d", n,
		      ret, errno);
		CHECK_EQ(got->nent, n);
	}
	free(got);
}

/* KVM_SET_CPUID2 after KVM_RUN with @fn's @reg changed by @change: refused. */
static void expect_cpuid_change_refused(struct kvm_vcpu *vcpu, u32 fn,
					int reg, u32 change, const char *what)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      vcpu->arch.cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(size);
	int ret;

	TEST_ASSERT(c, "out of memory");
	memcpy(c, vcpu->arch.cpuid, size);
	for (u32 i = 0; i < c->nent; i++) {
		u32 *r[4] = { &c->entries[i].eax, &c->entries[i].ebx,
			      &c->entries[i].ecx, &c->entries[i].edx };

		if (c->entries[i].function == fn && c->entries[i].index == 0)
			*r[reg] -= change;
	}
	ret = __vcpu_ioctl(vcpu, KVM_SET_CPUID2, c);
	CHECK(ret == -1, "%s after KVM_RUN taken", what);
	if (ret == -1)
		printf("# %s after KVM_RUN: errno %d (%s)\n", what, errno,
		       strerror(errno));
	free(c);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	struct kvm_cpuid2 *cpuid = vcpu->arch.cpuid;

	TEST_ASSERT(cpuid->nent <= MAX_ENTRIES, "%u CPUID entries", cpuid->nent);
	memcpy(addr_gva2hva(vm, (u64)expected), cpuid->entries,
	       cpuid->nent * sizeof(cpuid->entries[0]));
	write_guest_global(vm, nr_expected, cpuid->nent);
	write_guest_global(vm, fep, kvm_fep_enabled());
	if (!kvm_fep_enabled())
		printf("# kvm.force_emulation_prefix is off: the emulator's XSETBV is not checked\n");
	check_get_cpuid2(vcpu);
	vcpu_run_to_done(vcpu, on_sync, NULL);

	case_begin("KVM_SET_CPUID2 after KVM_RUN: the same entries taken, changes refused");
	CHECK_EQ(__vcpu_ioctl(vcpu, KVM_SET_CPUID2, vcpu->arch.cpuid), 0);
	expect_cpuid_change_refused(vcpu, 0x7, CPUID_EBX, 1, "a changed feature leaf");
	expect_cpuid_change_refused(vcpu, 0x80000008, CPUID_EAX, 1, "a smaller MAXPHYADDR");
	kvm_vm_free(vm);
	checks_exit();
}
