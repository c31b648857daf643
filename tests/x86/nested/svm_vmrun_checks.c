// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_vmrun_checks: the state VMRUN refuses (AMD APM Vol. 2, 15.5.1, "VMRUN
 * consistency checks"), from both doors KVM has for it.
 *
 * In L1: a VMCB that breaks one rule at a time. VMRUN must not enter L2 but
 * #VMEXIT with VMEXIT_INVALID: the exit code -1 in all 64 bits, and the
 * event L1 asked to inject (EVENTINJ.V) not left pending. Rules:
 *   EFER.SVME = 0; CR0.CD = 0 with CR0.NW = 1; CR0[63:32] != 0;
 *   DR6[63:32] != 0; DR7[63:32] != 0; EFER or CR4 reserved bits set;
 *   EFER.LME = CR0.PG = 1 with CR4.PAE = 0, with CR0.PE = 0, or with
 *   CS.L = CS.D = 1; CR3 above MAXPHYADDR in long mode;
 *   VMRUN not intercepted; ASID 0; nested paging with an nCR3 above
 *   MAXPHYADDR.
 * Afterwards the untouched VMCB still enters L2, and an event injected
 * through EVENTINJ is delivered to L2 once and is no longer pending in the
 * VMCB at the next #VMEXIT.
 *
 * From the host: KVM_SET_NESTED_STATE while L2 runs must refuse a saved
 * VMCB12 that VMRUN would have refused (the same checks guard migration),
 * and accept the state as taken.
 */
#include <errno.h>

#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"
#include "exception.h"

#define INJ_VECTOR	0x41
#define HC_DONE		0x646f6e65ULL	/* "done": arg is the injected count */

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
static volatile u64 injected_count;
static struct vmcb good;

enum bad_rule {
	BAD_SVME,
	BAD_CR0_NW,
	BAD_CR0_HIGH,
	BAD_DR6_HIGH,
	BAD_DR7_HIGH,
	BAD_EFER_RSVD,
	BAD_CR4_RSVD,
	BAD_LONG_NO_PAE,
	BAD_LONG_NO_PE,
	BAD_LONG_CS_L_D,
	BAD_CR3_HIGH,
	BAD_NO_VMRUN_INTERCEPT,
	BAD_ASID_0,
	BAD_NCR3_HIGH,
	NR_BAD_RULES,
};

static const char *const rule_name[NR_BAD_RULES] = {
	[BAD_SVME] = "EFER.SVME clear",
	[BAD_CR0_NW] = "CR0.NW set with CR0.CD clear",
	[BAD_CR0_HIGH] = "CR0 bit 32 set",
	[BAD_DR6_HIGH] = "DR6 bit 32 set",
	[BAD_DR7_HIGH] = "DR7 bit 32 set",
	[BAD_EFER_RSVD] = "EFER reserved bit 63 set",
	[BAD_CR4_RSVD] = "CR4 reserved bit 63 set",
	[BAD_LONG_NO_PAE] = "EFER.LME and CR0.PG with CR4.PAE clear",
	[BAD_LONG_NO_PE] = "EFER.LME and CR0.PG with CR0.PE clear",
	[BAD_LONG_CS_L_D] = "EFER.LME and CR0.PG with CS.L and CS.D both set",
	[BAD_CR3_HIGH] = "long-mode CR3 above MAXPHYADDR",
	[BAD_NO_VMRUN_INTERCEPT] = "VMRUN intercept clear",
	[BAD_ASID_0] = "ASID 0",
	[BAD_NCR3_HIGH] = "nested paging with nCR3 above MAXPHYADDR",
};

/* CS attribute bits in the VMCB's packing (descriptor bits 53 and 54). */
#define SVM_ATTR_L	BIT(9)
#define SVM_ATTR_DB	BIT(10)

static u32 l1_maxphyaddr(void)
{
	u32 eax, ebx, ecx, edx;

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
			 : "a"(0x80000008), "c"(0));
	return eax & 0xff;
}

static bool l1_has_npt(void)
{
	u32 eax, ebx, ecx, edx;

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
			 : "a"(0x8000000a), "c"(0));
	return edx & BIT(0);
}

/* Shared by L1 and the host: @maxpa is the guest's MAXPHYADDR. */
static void break_rule(struct vmcb *vmcb, enum bad_rule rule, u32 maxpa)
{
	struct vmcb_save *save = &vmcb->save;
	struct vmcb_control *ctl = &vmcb->control;
	u64 above_maxphy = BIT_ULL(maxpa);

	switch (rule) {
	case BAD_SVME: save->efer &= ~EFER_SVME; break;
	case BAD_CR0_NW: save->cr0 = (save->cr0 & ~X86_CR0_CD) | X86_CR0_NW; break;
	case BAD_CR0_HIGH: save->cr0 |= BIT_ULL(32); break;
	case BAD_DR6_HIGH: save->dr6 |= BIT_ULL(32); break;
	case BAD_DR7_HIGH: save->dr7 |= BIT_ULL(32); break;
	case BAD_EFER_RSVD: save->efer |= BIT_ULL(63); break;
	case BAD_CR4_RSVD: save->cr4 |= BIT_ULL(63); break;
	case BAD_LONG_NO_PAE: save->cr4 &= ~X86_CR4_PAE; break;
	case BAD_LONG_NO_PE: save->cr0 &= ~X86_CR0_PE; break;
	case BAD_LONG_CS_L_D: save->cs.attrib |= SVM_ATTR_L | SVM_ATTR_DB; break;
	case BAD_CR3_HIGH: save->cr3 |= above_maxphy; break;
	case BAD_NO_VMRUN_INTERCEPT: ctl->intercept_misc2 &= ~SVM_INTERCEPT2_VMRUN; break;
	case BAD_ASID_0: ctl->asid = 0; break;
	case BAD_NCR3_HIGH:
		ctl->nested_ctl |= SVM_NESTED_CTL_NP_ENABLE;
		ctl->nested_cr3 = above_maxphy;
		break;
	default: break;
	}
}

static void injected_handler(struct ex_regs *regs)
{
	injected_count++;
}

static void l2_main(void)
{
	l2_hypercall(HC_DONE, injected_count);
	GUEST_FAIL("L2 resumed after its last hypercall");
}

static void refused_vmruns(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;
	struct l2_gprs gprs = s->gprs;
	bool npt = l1_has_npt();
	u32 maxpa = l1_maxphyaddr();

	for (int rule = 0; rule < NR_BAD_RULES; rule++) {
		GUEST_CASE("VMRUN with %s: VMEXIT_INVALID", rule_name[rule]);
		if (rule == BAD_NCR3_HIGH && !npt) {
			GUEST_CASE_SKIP("no nested paging offered to L1");
			continue;
		}
		*vmcb = good;
		break_rule(vmcb, rule, maxpa);
		vmcb->control.event_inj = SVM_EVTINJ_VALID |
					  SVM_EVTINJ_TYPE_INTR | INJ_VECTOR;
		s->gprs = gprs;
		svm_vmrun(s->svm.vmcb_gpa, &s->gprs);
		GUEST_CHECK_EQ(vmcb->control.exit_code, SVM_EXIT_ERR);
		GUEST_CHECK_EQ(vmcb->control.event_inj & SVM_EVTINJ_VALID, 0);
		GUEST_CHECK_EQ(injected_count, 0);
	}
	*vmcb = good;
	s->gprs = gprs;
}

static void l1_main(struct nested_state *s)
{
	struct vmcb *vmcb = s->svm.vmcb;

	l2_setup_no_tdp(s, l2_main, l2_stack + sizeof(l2_stack));
	good = *vmcb;
	refused_vmruns(s);

	GUEST_CASE("after the refused VMRUNs, an event injected through EVENTINJ is delivered to L2 once and not left pending");
	vmcb->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR |
				  INJ_VECTOR;
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_DONE), 1);
	GUEST_CHECK_EQ(vmcb->control.event_inj & SVM_EVTINJ_VALID, 0);
	GUEST_DONE();
}

/*
 * The host's door: L2 syncs to the host (L1 does not intercept the ucall
 * port), so the vCPU is in guest mode when the host takes its nested state
 * and feeds back variants of the saved VMCB12 (controls: L1's VMCB12; save
 * area: L1's own state, which #VMEXIT will load).
 */
static void l2_sync_main(void)
{
	GUEST_SYNC(2);
	l2_hypercall(HC_DONE, 0);
}

static void l1_sync_main(struct nested_state *s)
{
	l2_setup(s, l2_sync_main, l2_stack + sizeof(l2_stack));
	GUEST_ASSERT_EQ(l2_run_to_hypercall(s, HC_DONE), 0);
	GUEST_DONE();
}

static void set_refused(struct kvm_vcpu *vcpu)
{
	u32 size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	struct kvm_nested_state *st = calloc(1, size);
	struct kvm_nested_state *bad = calloc(1, size);
	int ret;

	TEST_ASSERT(st && bad, "out of memory");
	/* The OUT behind this ucall must be done before state is taken. */
	vcpu_complete_io(vcpu);
	st->size = size;
	vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, st);
	TEST_ASSERT(st->flags & KVM_STATE_NESTED_GUEST_MODE,
		    "L2 synced but the vCPU is not in guest mode (flags 0x%x)",
		    st->flags);

	for (int rule = 0; rule < NR_BAD_RULES; rule++) {
		case_begin("KVM_SET_NESTED_STATE in L2, saved VMCB12 with %s: EINVAL",
			   rule_name[rule]);
		memcpy(bad, st, size);
		break_rule((struct vmcb *)bad->data.svm[0].vmcb12, rule,
			   kvm_cpu_max_pa_bits());
		ret = __vcpu_ioctl(vcpu, KVM_SET_NESTED_STATE, bad);
		CHECK(ret == -1 && errno == EINVAL,
		      "refused with EINVAL (rc %d, errno %d)", ret, ret ? errno : 0);
	}
	case_begin("KVM_SET_NESTED_STATE in L2 with the state as taken: accepted, L2 runs on");
	ret = __vcpu_ioctl(vcpu, KVM_SET_NESTED_STATE, st);
	CHECK(ret == 0, "accepted (rc %d, errno %d)", ret, ret ? errno : 0);
	TEST_ASSERT(ret == 0, "KVM_SET_NESTED_STATE failed; cannot go on");
	free(bad);
	free(st);
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	if (uc->args[0] == 2)
		set_refused(vcpu);
}

static void prepare(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	vm_install_exception_handler(vm, INJ_VECTOR, injected_handler);
}

static void run_l1(void *l1_code)
{
	nested_run_l1(l1_code, prepare, on_sync, NULL);
}

int main(void)
{
	nested_require();
	if (!kvm_cpu_has_nested_svm())
		test_skip("svm_vmrun_checks checks VMRUN; this host offers VMX");
	run_l1(l1_main);
	if (kvm_check_cap(KVM_CAP_NESTED_STATE) < (int)sizeof(struct kvm_nested_state))
		case_skip("KVM_SET_NESTED_STATE: KVM_CAP_NESTED_STATE says KVM cannot save nested state");
	else
		run_l1(l1_sync_main);
	checks_exit();
}
