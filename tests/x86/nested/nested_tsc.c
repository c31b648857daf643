// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_tsc: the TSC L2 sees is L1's, offset (and scaled, where offered)
 * the way L1 asked. One body for SVM and VMX.
 *
 * Adds to the in-tree vmx_tsc_adjust_test and vmx_nested_tsc_scaling_test
 * (VMX only): both vendors; RDTSC and the IA32_TSC MSR read by L2 checked
 * against L1's own TSC read before and after, with a positive and a
 * negative offset; an RDTSC intercept; and the TSC ratio (SVM TSC_RATIO
 * MSR / VMX TSC multiplier) where KVM offers it to L1, skipped with the
 * reason otherwise.
 */
#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"

#define HC_TSC		0x747363ULL	/* "tsc": arg is L2's reading */
#define BIG_OFFSET	(1ULL << 50)
#define RDTSC_LEN	2

static bool tsc_scaling;	/* from the host: KVM offers it to L1 */
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (;;) {
		l2_hypercall(HC_TSC, rdtsc());
		l2_hypercall(HC_TSC, rdmsr(MSR_IA32_TSC));
	}
}

/* One L2 reading, with L1's TSC just before and just after it. */
static void check_reading(struct nested_state *s, const char *how,
			  u64 mult, u64 offset)
{
	u64 before = rdtsc(), seen, after;

	seen = l2_run_to_hypercall(s, HC_TSC);
	after = rdtsc();
	GUEST_CHECK(seen - offset >= before * mult,
		    "%s: L2 read 0x%llx, below L1's 0x%llx x %llu + 0x%llx",
		    how, seen, before, mult, offset);
	GUEST_CHECK(seen - offset <= after * mult,
		    "%s: L2 read 0x%llx, above L1's 0x%llx x %llu + 0x%llx",
		    how, seen, after, mult, offset);
}

static void set_ratio(struct nested_state *s, u64 mult)
{
	if (s->vendor == NESTED_SVM) {
		wrmsr(MSR_AMD64_TSC_RATIO, mult * SVM_TSC_RATIO_ONE);
		return;
	}
	GUEST_ASSERT(!vmwrite(SECONDARY_VM_EXEC_CONTROL,
			      vmread(SECONDARY_VM_EXEC_CONTROL) |
			      CPU2_TSC_SCALING));
	GUEST_ASSERT(!vmwrite(TSC_MULTIPLIER, mult << 48));
}

static void l1_main(struct nested_state *s)
{
	u64 negative = -(rdtsc() / 2);
	struct l2_exit ex;

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));

	GUEST_CASE("L2's RDTSC and IA32_TSC = L1's TSC + a positive offset");
	l2_set_tsc_offset(s, BIG_OFFSET);
	check_reading(s, "RDTSC", 1, BIG_OFFSET);
	check_reading(s, "RDMSR", 1, BIG_OFFSET);

	GUEST_CASE("L2's RDTSC and IA32_TSC = L1's TSC + a negative offset");
	l2_set_tsc_offset(s, negative);
	check_reading(s, "RDTSC", 1, negative);
	check_reading(s, "RDMSR", 1, negative);

	GUEST_CASE("RDTSC intercepted by L1: exit at L2's RDTSC");
	l2_intercept_rdtsc(s, true);
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, s->vendor == NESTED_SVM ? SVM_EXIT_RDTSC :
						      EXIT_REASON_RDTSC);
	if (s->vendor == NESTED_VMX || s->svm.has_nrips)
		GUEST_CHECK_EQ(ex.insn_len, RDTSC_LEN);
	/* Emulate it the way L1 would, then stop intercepting. */
	s->gprs.rdx = 0;
	l2_set_hypercall_result(s, 0);
	l2_skip_instruction(s);
	l2_intercept_rdtsc(s, false);
	l2_run_to_hypercall(s, HC_TSC);
	l2_run_to_hypercall(s, HC_TSC);	/* the RDMSR one */

	GUEST_CASE("L2's TSC = L1's x 2 + offset with a TSC ratio of 2");
	if (!tsc_scaling) {
		GUEST_CASE_SKIP("KVM does not offer %s to L1 here",
				s->vendor == NESTED_SVM ? "TSCRateMSR" :
				"the TSC-scaling control");
		GUEST_DONE();
	}
	set_ratio(s, 2);
	l2_set_tsc_offset(s, BIG_OFFSET);
	check_reading(s, "RDTSC", 2, BIG_OFFSET);
	check_reading(s, "RDMSR", 2, BIG_OFFSET);
	GUEST_DONE();
}

static bool kvm_offers_tsc_scaling(void)
{
	if (kvm_nested_vendor() == NESTED_SVM)
		return kvm_cpu_has(X86_FEATURE_TSCRATEMSR);
	return (kvm_get_feature_msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) &
	       CPU2_TSC_SCALING;
}

static void prepare(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	write_guest_global(vm, tsc_scaling, kvm_offers_tsc_scaling());
}

int main(void)
{
	nested_require();
	nested_run_l1(l1_main, prepare, NULL, NULL);
	checks_exit();
}
