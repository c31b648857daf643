// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_insn_ud: SVM instructions that must raise #UD (AMD APM Vol. 3, the
 * instructions' exception tables), as KVM emulates them for its guest.
 *
 *   In L1, with EFER.SVME = 0: VMRUN, VMLOAD, VMSAVE, CLGI, INVLPGA, and
 *   STGI where the CPU has no SKINIT (with SKINIT, STGI stays legal).
 *   Each raises exactly one #UD at the instruction. With EFER.SVME = 1
 *   again, INVLPGA executes without one.
 *   In L2, VMMCALL that L1 does not intercept: #UD in L2, which L1 sees as
 *   its #UD intercept (exit 0x46) at the VMMCALL, not as a hypercall that
 *   KVM answered for L1.
 */
#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"
#include "exception.h"

#define HC_DONE		0x646f6e65ULL
#define SVM_INSN_LEN	3	/* every SVM instruction is 0f 01 xx */

extern char ud_vmrun[], ud_vmload[], ud_vmsave[], ud_clgi[], ud_stgi[],
	ud_invlpga[], l2_vmmcall[];

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
static volatile u64 ud_count, ud_rip;

/* L1's #UD handler: count, note where, and step over the instruction. */
static void ud_handler(struct ex_regs *regs)
{
	ud_count++;
	ud_rip = regs->rip;
	regs->rip += SVM_INSN_LEN;
}

static void l2_main(void)
{
	__asm__ volatile(".globl l2_vmmcall\nl2_vmmcall: vmmcall"
			 : : "a"(0x7564ULL) : "memory");
	l2_hypercall(HC_DONE, 0);
}

static bool l1_has_skinit(void)
{
	u32 eax, ebx, ecx, edx;

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
			 : "a"(0x80000001), "c"(0));
	return ecx & BIT(12);
}

#define EXPECT_UD(label, what, insn, ...)				\
do {									\
	GUEST_CASE("%s with EFER.SVME clear: #UD", what);		\
	ud_count = 0;							\
	__asm__ volatile(".globl " #label "\n" #label ": " insn		\
			 : : __VA_ARGS__ : "memory");			\
	GUEST_CHECK_EQ(ud_count, 1);					\
	GUEST_CHECK_EQ(ud_rip, (u64)label);				\
} while (0)

static void l1_svme_clear(struct nested_state *s)
{
	u64 efer = rdmsr(MSR_EFER);
	u64 vmcb = s->svm.vmcb_gpa;

	wrmsr(MSR_EFER, efer & ~EFER_SVME);
	EXPECT_UD(ud_vmrun, "VMRUN", "vmrun %%rax", "a"(vmcb));
	EXPECT_UD(ud_vmload, "VMLOAD", "vmload %%rax", "a"(vmcb));
	EXPECT_UD(ud_vmsave, "VMSAVE", "vmsave %%rax", "a"(vmcb));
	EXPECT_UD(ud_clgi, "CLGI", "clgi", "a"(0));
	if (l1_has_skinit()) {
		GUEST_CASE("STGI with EFER.SVME clear: #UD");
		GUEST_CASE_SKIP("the CPU has SKINIT, with which STGI stays legal");
	} else {
		EXPECT_UD(ud_stgi, "STGI", "stgi", "a"(0));
	}
	EXPECT_UD(ud_invlpga, "INVLPGA", "invlpga %%rax, %%ecx",
		  "a"(0ULL), "c"(0));
	wrmsr(MSR_EFER, efer);

	GUEST_CASE("INVLPGA with EFER.SVME set: no #UD");
	ud_count = 0;
	__asm__ volatile("invlpga %%rax, %%ecx" : : "a"(0ULL), "c"(0) : "memory");
	GUEST_CHECK_EQ(ud_count, 0);
}

static void l1_main(struct nested_state *s)
{
	struct l2_exit ex;

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l1_svme_clear(s);

	GUEST_CASE("VMMCALL in L2 not intercepted by L1: #UD in L2");
	s->svm.vmcb->control.intercept_misc2 &= ~SVM_INTERCEPT2_VMMCALL;
	l2_intercept_exception(s, UD_VECTOR, true);
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, SVM_EXIT_EXCP_BASE + UD_VECTOR);
	GUEST_CHECK_EQ(ex.rip, (u64)l2_vmmcall);
	s->svm.vmcb->control.intercept_misc2 |= SVM_INTERCEPT2_VMMCALL;
	l2_intercept_exception(s, UD_VECTOR, false);
	if (ex.raw == SVM_EXIT_EXCP_BASE + UD_VECTOR)
		l2_set_rip(s, ex.rip + SVM_INSN_LEN);
	GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_DONE), 0);
	GUEST_DONE();
}

static void prepare(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	vm_install_exception_handler(vm, UD_VECTOR, ud_handler);
}

int main(void)
{
	nested_require();
	if (!kvm_cpu_has_nested_svm())
		test_skip("svm_insn_ud checks SVM instructions; this host offers VMX");
	nested_run_l1(l1_main, prepare, NULL, NULL);
	checks_exit();
}
