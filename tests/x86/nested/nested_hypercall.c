// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_hypercall: VMMCALL / VMCALL from L2, with and without L1
 * intercepting it, and the state L1 reads at that exit. One body for SVM
 * and VMX.
 *
 * Adds to the in-tree svm_vmcall_test (SVM only: the intercepted VMMCALL
 * exits): both vendors; the exit RIP, the arguments, the instruction length
 * (VMX) or NextRIP (SVM with NRIPS); the interrupt shadow reported at an
 * exit right after STI, and its absence otherwise; and, on SVM, the rule
 * KVM follows when L1 does not intercept VMMCALL: #UD in L2 (6.12.y
 * "KVM: nSVM: Raise #UD if unhandled VMMCALL isn't intercepted by L1").
 */
#include "kvm_util.h"
#include "test_check.h"
#include "exception.h"
#include "nested/nested.h"

#define HC_PLAIN	0x706c6e00ULL
#define HC_SHADOW	0x73686400ULL
#define HC_ARG		0xa5a5f00dULL
#define HYPERCALL_LEN	3	/* 0f 01 d9 / 0f 01 c1 */

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
static volatile u64 ud_rip;
static volatile u32 ud_count;

extern char svm_call_site[], vmx_call_site[];
extern char svm_shadow_site[], vmx_shadow_site[];
extern char svm_raw_site[];

static void __attribute__((noinline)) l2_call(bool svm)
{
	u64 rax = HC_PLAIN;

	if (svm)
		__asm__ volatile(".globl svm_call_site\nsvm_call_site: vmmcall"
				 : "+a"(rax) : "b"(HC_ARG) : "memory");
	else
		__asm__ volatile(".globl vmx_call_site\nvmx_call_site: vmcall"
				 : "+a"(rax) : "b"(HC_ARG) : "memory");
}

/* The hypercall sits in STI's shadow: the exit must say so. */
static void __attribute__((noinline)) l2_call_in_shadow(bool svm)
{
	u64 rax = HC_SHADOW;

	if (svm)
		__asm__ volatile("sti\n.globl svm_shadow_site\n"
				 "svm_shadow_site: vmmcall\ncli"
				 : "+a"(rax) : "b"(0) : "memory");
	else
		__asm__ volatile("sti\n.globl vmx_shadow_site\n"
				 "vmx_shadow_site: vmcall\ncli"
				 : "+a"(rax) : "b"(0) : "memory");
}

static void l2_main(void)
{
	bool svm = nested_cpu_vendor() == NESTED_SVM;

	l2_call(svm);
	l2_call_in_shadow(svm);
	l2_call(svm);
	if (svm) {
		u64 rax = HC_PLAIN;

		/* L1 stopped intercepting VMMCALL: KVM must raise #UD. */
		__asm__ volatile(".globl svm_raw_site\nsvm_raw_site: vmmcall"
				 : "+a"(rax) : "b"(HC_ARG) : "memory");
	}
	__asm__ volatile("hlt");
}

static void l2_ud_handler(struct ex_regs *regs)
{
	ud_rip = regs->rip;
	ud_count++;
	regs->rip += HYPERCALL_LEN;
}

static void l1_main(struct nested_state *s)
{
	bool svm = s->vendor == NESTED_SVM;
	u64 site = (u64)(svm ? svm_call_site : vmx_call_site);
	struct l2_exit ex;

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));

	GUEST_CASE("intercepted hypercall: exit code, RIP, arguments");
	ex = l2_run(s);
	GUEST_CHECK_EQ(ex.raw, svm ? SVM_EXIT_VMMCALL : EXIT_REASON_VMCALL);
	GUEST_CHECK_EQ(ex.rip, site);
	GUEST_CHECK_EQ(ex.nr, HC_PLAIN);
	GUEST_CHECK_EQ(ex.arg, HC_ARG);
	if (ex.kind != L2_EXIT_HYPERCALL)
		GUEST_FAIL("cannot go on after a wrong exit");

	GUEST_CASE("hypercall %s is the instruction's length",
		   svm ? "NextRIP" : "VM-exit instruction length");
	if (svm && !s->svm.has_nrips)
		GUEST_CASE_SKIP("the CPU has no NRIPS (QEMU's TCG omits it)");
	else
		GUEST_CHECK_EQ(ex.insn_len, HYPERCALL_LEN);
	GUEST_CASE("no interrupt shadow at a plain hypercall exit");
	GUEST_CHECK(!l2_interrupt_shadow(s), "shadow reported");
	l2_skip_instruction(s);

	GUEST_CASE("hypercall right after STI: the exit reports the interrupt shadow");
	ex = l2_run(s);
	GUEST_CHECK(ex.kind == L2_EXIT_HYPERCALL && ex.nr == HC_SHADOW,
		    "hypercall exit, got %s (raw 0x%llx)",
		    l2_exit_kind_name(ex.kind), ex.raw);
	GUEST_CHECK_EQ(ex.rip, (u64)(svm ? svm_shadow_site : vmx_shadow_site));
	GUEST_CHECK(l2_interrupt_shadow(s), "no shadow reported");
	l2_skip_instruction(s);

	GUEST_CASE("the shadow is gone at the next hypercall exit");
	ex = l2_run(s);
	GUEST_CHECK(ex.kind == L2_EXIT_HYPERCALL && ex.nr == HC_PLAIN,
		    "hypercall exit, got %s", l2_exit_kind_name(ex.kind));
	GUEST_CHECK(!l2_interrupt_shadow(s), "shadow still reported");
	l2_skip_instruction(s);

	GUEST_CASE("VMMCALL not intercepted by L1: #UD in L2, no exit to L1");
	if (!svm) {
		GUEST_CASE_SKIP("VMCALL in L2 always exits to L1 on VMX: nothing to leave unintercepted");
		GUEST_DONE();
	}
	l2_intercept_hypercall(s, false);
	ex = l2_run(s);
	GUEST_CHECK(ex.kind == L2_EXIT_HLT, "next exit is L2's HLT, got %s (raw 0x%llx)",
		    l2_exit_kind_name(ex.kind), ex.raw);
	GUEST_CHECK_EQ(ud_count, 1);
	GUEST_CHECK_EQ(ud_rip, (u64)svm_raw_site);
	GUEST_DONE();
}

static void prepare(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	vm_install_exception_handler(vm, UD_VECTOR, l2_ud_handler);
}

int main(void)
{
	nested_require();
	nested_run_l1(l1_main, prepare, NULL, NULL);
	checks_exit();
}
