// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmx_vmentry_checks: the VMCS state VM entry refuses (Intel SDM Vol. 3C,
 * chapter 28, "VM Entries"), as KVM emulates VMLAUNCH for L1. One rule
 * broken at a time, in each of the three groups the SDM checks in order:
 *
 *   VM-execution and VM-entry controls: VMLAUNCH fails (VMfailValid) with
 *   VM-instruction error 7. Rules: a pin-based control the capability MSR
 *   does not allow; CR3-target count above 4; an entry event of type NMI
 *   whose vector is not 2.
 *   Host state: VMfailValid with error 8. Rules: HOST_CR0 without PG;
 *   HOST_CS selector 0; HOST_TR selector 0; a non-canonical HOST_FS_BASE.
 *   Guest state: a VM exit with "VM-entry failure due to invalid guest
 *   state" (reason 33 with bit 31 set), qualification 0, or 4 for the VMCS
 *   link pointer. Rules: guest CR4 without VMXE; with "load debug
 *   controls", DR7 bit 32 set or a reserved DEBUGCTL bit set; a VMCS link
 *   pointer other than ~0; activity state 4.
 *
 *   Guest TR unusable (KVM's own segment checks); guest RFLAGS bit 1
 *   clear, a check KVM leaves to the CPU: vmcs02's entry fails in hardware
 *   and KVM reflects the failure to L1.
 *
 * And the exit-information fields around such a failure: a VM exit caused
 * by a failed VM entry writes only the exit reason and qualification, so
 * VM_EXIT_INTR_INFO, VM_EXIT_INSTRUCTION_LEN and VMX_INSTRUCTION_INFO keep
 * what L1 last saw there, for a failure KVM finds and for one the CPU
 * finds. Afterwards the untouched VMCS still resumes L2.
 */
#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"

#define HC_DONE		0x646f6e65ULL

#define VMXERR_ENTRY_INVALID_CONTROL	7
#define VMXERR_ENTRY_INVALID_HOST	8
#define ENTRY_FAIL_VMCS_LINK_PTR	4
#define GUEST_STATE_FAILURE	(VMX_EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE)

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

enum rule_group { RULE_CONTROL, RULE_HOST, RULE_GUEST };

enum bad_rule {
	BAD_PIN_CONTROL,
	BAD_CR3_TARGETS,
	BAD_ENTRY_NMI_VECTOR,
	BAD_HOST_CR0_PG,
	BAD_HOST_CS_0,
	BAD_HOST_TR_0,
	BAD_HOST_FS_BASE,
	BAD_GUEST_CR4_VMXE,
	BAD_GUEST_DR7_HIGH,
	BAD_GUEST_DEBUGCTL,
	BAD_LINK_POINTER,
	BAD_ACTIVITY_STATE,
	BAD_GUEST_TR_UNUSABLE,
	BAD_GUEST_RFLAGS_BIT1,
	NR_BAD_RULES,
};

static const struct {
	const char *name;
	enum rule_group group;
	u32 field;
} rules[NR_BAD_RULES] = {
	[BAD_PIN_CONTROL] = { "a pin-based control the capability MSR forbids", RULE_CONTROL, PIN_BASED_VM_EXEC_CONTROL },
	[BAD_CR3_TARGETS] = { "CR3-target count 5", RULE_CONTROL, CR3_TARGET_COUNT },
	[BAD_ENTRY_NMI_VECTOR] = { "entry event of type NMI with vector 3", RULE_CONTROL, VM_ENTRY_INTR_INFO_FIELD },
	[BAD_HOST_CR0_PG] = { "HOST_CR0 without PG", RULE_HOST, HOST_CR0 },
	[BAD_HOST_CS_0] = { "HOST_CS selector 0", RULE_HOST, HOST_CS_SELECTOR },
	[BAD_HOST_TR_0] = { "HOST_TR selector 0", RULE_HOST, HOST_TR_SELECTOR },
	[BAD_HOST_FS_BASE] = { "non-canonical HOST_FS_BASE", RULE_HOST, HOST_FS_BASE },
	[BAD_GUEST_CR4_VMXE] = { "guest CR4 without VMXE (fixed to 1 in VMX operation)", RULE_GUEST, GUEST_CR4 },
	[BAD_GUEST_DR7_HIGH] = { "load debug controls with guest DR7 bit 32 set", RULE_GUEST, GUEST_DR7 },
	[BAD_GUEST_DEBUGCTL] = { "load debug controls with a reserved guest DEBUGCTL bit (63)", RULE_GUEST, GUEST_IA32_DEBUGCTL },
	[BAD_LINK_POINTER] = { "VMCS link pointer 0, not ~0", RULE_GUEST, VMCS_LINK_POINTER },
	[BAD_ACTIVITY_STATE] = { "guest activity state 4", RULE_GUEST, GUEST_ACTIVITY_STATE },
	[BAD_GUEST_TR_UNUSABLE] = { "guest TR unusable", RULE_GUEST, GUEST_TR_AR_BYTES },
	[BAD_GUEST_RFLAGS_BIT1] = { "guest RFLAGS bit 1 clear (checked by the CPU, not by KVM)", RULE_GUEST, GUEST_RFLAGS },
};

/* A pin-based control bit L1 may not set (allowed-1 clear), or -1. */
static int forbidden_pin_bit(void)
{
	u32 allowed1 = vmx_read_cap(MSR_IA32_VMX_PINBASED_CTLS) >> 32;

	for (int bit = 0; bit < 32; bit++)
		if (!(allowed1 & BIT(bit)))
			return bit;
	return -1;
}

static u64 bad_value(enum bad_rule rule, u64 v)
{
	switch (rule) {
	case BAD_PIN_CONTROL: return v | BIT(forbidden_pin_bit());
	case BAD_CR3_TARGETS: return 5;
	case BAD_ENTRY_NMI_VECTOR: return INTR_INFO_VALID | (2U << INTR_INFO_TYPE_SHIFT) | 3;
	case BAD_HOST_CR0_PG: return v & ~X86_CR0_PG;
	case BAD_HOST_CS_0: return 0;
	case BAD_HOST_TR_0: return 0;
	case BAD_HOST_FS_BASE: return 0x8000000000000000ULL;
	case BAD_GUEST_CR4_VMXE: return v & ~X86_CR4_VMXE;
	case BAD_GUEST_DR7_HIGH: return v | BIT_ULL(32);
	case BAD_GUEST_DEBUGCTL: return BIT_ULL(63);
	case BAD_LINK_POINTER: return 0;
	case BAD_ACTIVITY_STATE: return 4;
	case BAD_GUEST_TR_UNUSABLE: return v | VMX_AR_UNUSABLE;
	case BAD_GUEST_RFLAGS_BIT1: return v & ~X86_EFLAGS_FIXED;
	default: return v;
	}
}

#define HC_ENTERED	0x656e7472ULL	/* "entr": an entry that had to fail */

/* Where L2 starts: a refused entry must never get here. */
static void l2_main(void)
{
	l2_hypercall(HC_ENTERED, 0);
}

static void l2_ud_main(void)
{
	__asm__ volatile("ud2");
	l2_hypercall(HC_DONE, 0);
}

/* One VMLAUNCH with @rule broken; the VMCS is put back after. */
static void refused_entry(struct nested_state *s, enum bad_rule rule)
{
	u32 field = rules[rule].field;
	u64 orig = vmread(field), entry = vmread(VM_ENTRY_CONTROLS);
	u64 rip = vmread(GUEST_RIP), rsp = vmread(GUEST_RSP);
	struct l2_gprs gprs = s->gprs;
	int failed;

	GUEST_CASE("VMLAUNCH with %s: %s", rules[rule].name,
		   rules[rule].group == RULE_CONTROL ? "VMfailValid, error 7" :
		   rules[rule].group == RULE_HOST ? "VMfailValid, error 8" :
		   "VM-entry failure, invalid guest state");
	if (rule == BAD_PIN_CONTROL && forbidden_pin_bit() < 0) {
		GUEST_CASE_SKIP("every pin-based control is allowed");
		return;
	}
	if (rule == BAD_GUEST_DR7_HIGH || rule == BAD_GUEST_DEBUGCTL)
		GUEST_ASSERT(!vmwrite(VM_ENTRY_CONTROLS,
				      entry | ENTRY_LOAD_DEBUG_CONTROLS));
	GUEST_ASSERT(!vmwrite(field, bad_value(rule, orig)));
	failed = vmx_enter(&s->gprs, false);

	if (rules[rule].group == RULE_GUEST) {
		GUEST_CHECK(!failed, "VMLAUNCH failed (error %llu) instead of exiting",
			    vmread(VM_INSTRUCTION_ERROR));
		GUEST_CHECK_EQ(vmread(VM_EXIT_REASON), GUEST_STATE_FAILURE);
		GUEST_CHECK_EQ(vmread(EXIT_QUALIFICATION),
			       rule == BAD_LINK_POINTER ? ENTRY_FAIL_VMCS_LINK_PTR : 0);
	} else {
		GUEST_CHECK(failed, "VMLAUNCH entered L2 (exit reason 0x%llx)",
			    vmread(VM_EXIT_REASON));
		GUEST_CHECK_EQ(vmread(VM_INSTRUCTION_ERROR),
			       rules[rule].group == RULE_CONTROL ?
			       VMXERR_ENTRY_INVALID_CONTROL : VMXERR_ENTRY_INVALID_HOST);
	}
	GUEST_ASSERT(!vmwrite(field, orig));
	GUEST_ASSERT(!vmwrite(VM_ENTRY_CONTROLS, entry));
	/* Where a wrongly accepted entry ran L2, it ran from here. */
	GUEST_ASSERT(!vmwrite(GUEST_RIP, rip) && !vmwrite(GUEST_RSP, rsp));
	s->gprs = gprs;
	/* Whatever happened, the next entry is a VMLAUNCH again. */
	vmx_vmcs_load(&s->vmx);
}

/*
 * The exit-information fields L1 last saw: written by L1 itself (KVM lets
 * L1 VMWRITE them, IA32_VMX_MISC bit 29), so they differ from anything
 * vmcs02 holds. A failed VM entry must change only the exit reason and
 * the qualification.
 */
#define VMX_MISC_VMWRITE_ANY_FIELD	BIT_ULL(29)
static const struct {
	u32 field;
	u64 value;
} exit_info_marks[] = {
	{ VM_EXIT_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | 13 },
	{ VM_EXIT_INSTRUCTION_LEN, 7 },
	{ VMX_INSTRUCTION_INFO, 0x1234 },
};

static void exit_info_kept(struct nested_state *s, u32 field, u64 bad,
			   const char *who)
{
	u64 orig = vmread(field);

	GUEST_CASE("a VM entry failure that %s detects changes only the exit reason and qualification",
		   who);
	if (!(vmx_read_cap(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY_FIELD)) {
		GUEST_CASE_SKIP("L1 cannot VMWRITE exit-information fields (IA32_VMX_MISC bit 29 clear)");
		return;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(exit_info_marks); i++)
		GUEST_ASSERT(!vmwrite(exit_info_marks[i].field,
				      exit_info_marks[i].value));
	GUEST_ASSERT(!vmwrite(field, bad));
	GUEST_CHECK(!vmx_enter(&s->gprs, s->vmx.launched),
		    "VM%s failed (error %llu) instead of exiting",
		    s->vmx.launched ? "RESUME" : "LAUNCH",
		    vmread(VM_INSTRUCTION_ERROR));
	GUEST_CHECK_EQ(vmread(VM_EXIT_REASON), GUEST_STATE_FAILURE);
	for (unsigned int i = 0; i < ARRAY_SIZE(exit_info_marks); i++)
		GUEST_CHECK(vmread(exit_info_marks[i].field) == exit_info_marks[i].value,
			    "exit-information field 0x%x: 0x%llx, L1 left 0x%llx",
			    exit_info_marks[i].field,
			    vmread(exit_info_marks[i].field),
			    exit_info_marks[i].value);
	GUEST_ASSERT(!vmwrite(field, orig));
}

static void l1_main(struct nested_state *s)
{
	struct l2_exit ex;

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	for (int rule = 0; rule < NR_BAD_RULES; rule++)
		refused_entry(s, rule);

	/* A real exit first, so vmcs02 holds exit information of its own. */
	l2_set_rip(s, (u64)l2_ud_main);
	l2_intercept_exception(s, UD_VECTOR, true);
	ex = l2_run(s);
	GUEST_ASSERT_MSG(ex.kind == L2_EXIT_EXCEPTION && ex.vector == UD_VECTOR,
			 "expected L2's #UD exit, got %s (raw 0x%llx)",
			 l2_exit_kind_name(ex.kind), ex.raw);
	exit_info_kept(s, VMCS_LINK_POINTER, 0, "KVM");
	exit_info_kept(s, GUEST_RFLAGS, 0, "the CPU");

	GUEST_CASE("after the refused entries the VMCS resumes L2");
	l2_intercept_exception(s, UD_VECTOR, false);
	l2_set_rip(s, ex.rip + 2);		/* past the ud2 */
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_DONE), 0);
	GUEST_DONE();
}

int main(void)
{
	nested_require();
	if (!kvm_cpu_has_nested_vmx())
		test_skip("vmx_vmentry_checks checks VM entry; this host offers SVM (see svm_vmrun_checks)");
	nested_run_l1(l1_main, NULL, NULL, NULL);
	checks_exit();
}
