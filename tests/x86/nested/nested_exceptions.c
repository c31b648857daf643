// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_exceptions: exceptions raised in L2 and events injected into L2,
 * one body for SVM and VMX.
 *
 * Adds to the in-tree nested_exceptions_test (userspace-queued #SS, #GP on
 * vectoring, #DF, shutdown; covered here by "queued" and by
 * nested_shutdown): the exceptions L2 raises itself (#DE, #UD, #GP, #PF)
 * with exit RIP, error code and CR2 checked exactly, L1 reflecting them back
 * into L2, the same exceptions reaching L2's own IDT when L1 does not
 * intercept them, and L1 injecting events of every kind (with and without
 * error code, NMI, external interrupt) with the injection field cleared
 * after the next exit.
 *
 *   intercept  L1 intercepts each vector: the exit names the vector, the
 *              faulting RIP, the error code and (#PF) the address; L2's CR2
 *              is untouched; L1 re-injects it and L2's handler sees exactly
 *              what the CPU reported (injected events bypass intercepts).
 *   deliver    nothing intercepted: L2's IDT gets each exception, L1 sees
 *              no exit before L2 reports.
 *   inject     L1 injects events L2 did not cause; L2's handler sees vector,
 *              error code, CR2 and the RIP it was resumed at; the
 *              injection field is no longer valid after the next exit.
 *   queued     the host queues #SS with an error code into L2 through
 *              KVM_SET_VCPU_EVENTS (pending, then injected); L1 intercepts
 *              it, then with L2's IDT empty the #SS becomes #GP on
 *              vectoring (intercepted, IDT error code), then #DF.
 */
#include "kvm_util.h"
#include "test_check.h"
#include "exception.h"
#include "nested/nested.h"

#define HC_NEXT		0x6e657874ULL	/* "next": returns the case index */
#define HC_SEEN		0x7365656eULL	/* "seen": L2 took an event */
#define HC_DONE		0x646f6e65ULL
#define CR2_MARK	0xc2c2c2c2000ULL	/* what L1 leaves in L2's CR2 */
#define UNMAPPED_GVA	0x500000000000ULL	/* nothing maps it */
#define NONCANONICAL	0x8000000000000000ULL
#define EXT_VECTOR	0x40

enum mode { MODE_INTERCEPT, MODE_DELIVER, MODE_INJECT, MODE_QUEUED };

static enum mode mode;
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

/* What L2's handler saw: L2 shares L1's IDT and handler table. */
static volatile u64 seen_vector, seen_error, seen_cr2, seen_rip;
static volatile u8 skip_len;	/* bytes the handler steps over */

static void l2_handler(struct ex_regs *regs)
{
	seen_vector = regs->vector;
	seen_error = regs->error_code;
	seen_cr2 = regs->vector == PF_VECTOR ? get_cr2() : 0;
	seen_rip = regs->rip;
	regs->rip += skip_len;
}

/* Fault sites with fixed encodings: the label is the faulting RIP. */
extern char de_site[], ud_site[], gp_site[], pf_site[];

static void __attribute__((noinline)) raise_de(void)
{
	__asm__ volatile("xor %%edx, %%edx; xor %%eax, %%eax; xor %%ecx, %%ecx\n"
			 ".globl de_site\nde_site: divl %%ecx"	/* f7 f1 */
			 ::: "rax", "rcx", "rdx", "memory");
}

static void __attribute__((noinline)) raise_ud(void)
{
	__asm__ volatile(".globl ud_site\nud_site: ud2" ::: "memory");
}

static void __attribute__((noinline)) raise_gp(void)
{
	__asm__ volatile(".globl gp_site\ngp_site: movq (%%rax), %%rax" /* 48 8b 00 */
			 :: "a"(NONCANONICAL) : "memory");
}

static void __attribute__((noinline)) raise_pf(void)
{
	__asm__ volatile(".globl pf_site\npf_site: movq (%%rax), %%rax"
			 :: "a"(UNMAPPED_GVA) : "memory");
}

struct exc_case {
	const char *name;
	void (*raise)(void);
	const char *site;
	u8 len;
	u8 vector;
	bool has_error;
	u32 error;
	u64 cr2;
};

static const struct exc_case raised[] = {
	{ "#DE", raise_de, de_site, 2, DE_VECTOR, false, 0, 0 },
	{ "#UD", raise_ud, ud_site, 2, UD_VECTOR, false, 0, 0 },
	{ "#GP (non-canonical)", raise_gp, gp_site, 3, GP_VECTOR, true, 0, 0 },
	/* Not present, read, supervisor: error code 0. */
	{ "#PF (not present)", raise_pf, pf_site, 3, PF_VECTOR, true, 0,
	  UNMAPPED_GVA },
};

struct inj_case {
	const char *name;
	enum l2_event_type type;
	u8 vector;
	bool has_error;
	u32 error;
	u64 cr2;
};

static const struct inj_case injected[] = {
	{ "#UD, no error code", L2_EVENT_EXCEPTION, UD_VECTOR, false, 0, 0 },
	{ "#GP, error code", L2_EVENT_EXCEPTION, GP_VECTOR, true, 0x5a58, 0 },
	{ "#PF, error code and CR2", L2_EVENT_EXCEPTION, PF_VECTOR, true,
	  0x7, 0xfeed0000 },
	{ "#DE, vector 0", L2_EVENT_EXCEPTION, DE_VECTOR, false, 0, 0 },
	{ "NMI", L2_EVENT_NMI, NMI_VECTOR, false, 0, 0 },
	{ "external interrupt", L2_EVENT_EXTINT, EXT_VECTOR, false, 0, 0 },
};

static void l2_main(void)
{
	for (;;) {
		u64 i = l2_hypercall(HC_NEXT, 0);

		if (i == ~0ULL)
			break;
		if (mode != MODE_INJECT)
			raised[i].raise();
		l2_hypercall(HC_SEEN, i);
	}
	l2_hypercall(HC_DONE, 0);
}

static void seen_reset(void)
{
	seen_vector = seen_error = seen_cr2 = seen_rip = ~0ULL;
}

/* L2 reports after its handler ran: check what the handler saw. */
static void check_seen(struct nested_state *s, u8 vector, bool has_error,
		       u32 error, u64 cr2, u64 rip)
{
	struct l2_exit ex = l2_run(s);

	GUEST_CHECK(ex.kind == L2_EXIT_HYPERCALL && ex.nr == HC_SEEN,
		    "first exit is L2's report, got %s (raw 0x%llx) at 0x%llx",
		    l2_exit_kind_name(ex.kind), ex.raw, ex.rip);
	GUEST_CHECK_EQ(seen_vector, vector);
	GUEST_CHECK_EQ(seen_error, has_error ? error : 0);
	if (vector == PF_VECTOR)
		GUEST_CHECK_EQ(seen_cr2, cr2);
	GUEST_CHECK_EQ(seen_rip, rip);
	GUEST_CHECK(!l2_event_inject_valid(s),
		    "the injection field is not valid after the exit");
	if (ex.kind != L2_EXIT_HYPERCALL)
		GUEST_FAIL("cannot go on after a wrong exit");
	l2_skip_instruction(s);
	l2_run_to_hypercall(s, HC_NEXT);
}

static void l1_intercept(struct nested_state *s)
{
	for (u64 i = 0; i < ARRAY_SIZE(raised); i++) {
		const struct exc_case *c = &raised[i];
		struct l2_exit ex;

		GUEST_CASE("intercept %s: exit with vector, RIP, error code%s",
			   c->name, c->vector == PF_VECTOR ? ", CR2" : "");
		l2_intercept_exception(s, c->vector, true);
		l2_set_hypercall_result(s, i);
		l2_set_cr2(s, CR2_MARK);
		ex = l2_run(s);
		GUEST_CHECK(ex.kind == L2_EXIT_EXCEPTION,
			    "exception exit, got %s (raw 0x%llx)",
			    l2_exit_kind_name(ex.kind), ex.raw);
		GUEST_CHECK_EQ(ex.vector, c->vector);
		GUEST_CHECK_EQ(ex.rip, (u64)c->site);
		GUEST_CHECK_EQ(ex.has_error_code, c->has_error);
		GUEST_CHECK_EQ(ex.error_code, c->error);
		if (c->vector == PF_VECTOR) {
			GUEST_CHECK_EQ(ex.fault_addr, c->cr2);
			/* An intercepted #PF was not delivered: CR2 unchanged. */
			GUEST_CHECK_EQ(l2_get_cr2(s), CR2_MARK);
		}
		if (ex.kind != L2_EXIT_EXCEPTION)
			GUEST_FAIL("cannot go on after a wrong exit");

		GUEST_CASE("reflect %s into L2: its handler sees what L1 saw",
			   c->name);
		seen_reset();
		skip_len = c->len;
		l2_inject_event(s, L2_EVENT_EXCEPTION, ex.vector,
				ex.has_error_code, ex.error_code);
		if (c->vector == PF_VECTOR)
			l2_set_cr2(s, ex.fault_addr);
		check_seen(s, c->vector, c->has_error, c->error, c->cr2,
			   (u64)c->site);
		l2_intercept_exception(s, c->vector, false);
	}
}

static void l1_deliver(struct nested_state *s)
{
	for (u64 i = 0; i < ARRAY_SIZE(raised); i++) {
		const struct exc_case *c = &raised[i];

		GUEST_CASE("deliver %s to L2's IDT, no exit to L1", c->name);
		seen_reset();
		skip_len = c->len;
		l2_set_hypercall_result(s, i);
		check_seen(s, c->vector, c->has_error, c->error, c->cr2,
			   (u64)c->site);
	}
}

static void l1_inject(struct nested_state *s)
{
	for (u64 i = 0; i < ARRAY_SIZE(injected); i++) {
		const struct inj_case *c = &injected[i];
		u64 rip = l2_get_rip(s);

		GUEST_CASE("inject %s", c->name);
		seen_reset();
		skip_len = 0;
		l2_set_hypercall_result(s, i);
		/* VMX refuses to inject an interrupt while IF is clear. */
		if (c->type == L2_EVENT_EXTINT)
			l2_set_rflags(s, l2_get_rflags(s) | X86_EFLAGS_IF);
		if (c->vector == PF_VECTOR)
			l2_set_cr2(s, c->cr2);
		l2_inject_event(s, c->type, c->vector, c->has_error, c->error);
		/* Delivered before L2's first instruction: at RIP as resumed. */
		check_seen(s, c->vector, c->has_error, c->error, c->cr2, rip);
		l2_set_rflags(s, l2_get_rflags(s) & ~X86_EFLAGS_IF);
	}
}

/* ---- queued: the host queues #SS into L2 ---- */

#define SS_ERROR	0xdeadbeef
/* #GP while vectoring #SS through an empty IDT: IDT bit, #SS's index. */
#define GP_IDT_ERROR	(SS_VECTOR * 8 | 2)
#define GP_EXT		1	/* VMX sets EXT: #SS was an external event */

static void l2_queued(void)
{
	GUEST_SYNC(SS_VECTOR);	/* the host queues #SS here */
	GUEST_SYNC(GP_VECTOR);	/* ... again, injected */
	GUEST_SYNC(DF_VECTOR);
	for (;;)
		hlt();
}

static void expect_exception(struct nested_state *s, u8 vector, u32 error)
{
	struct l2_exit ex = l2_run(s);

	GUEST_CHECK(ex.kind == L2_EXIT_EXCEPTION,
		    "exception exit, got %s (raw 0x%llx)",
		    l2_exit_kind_name(ex.kind), ex.raw);
	GUEST_CHECK_EQ(ex.vector, vector);
	GUEST_CHECK_EQ(ex.error_code, error);
}

static void l1_queued(struct nested_state *s)
{
	bool svm = s->vendor == NESTED_SVM;
	u32 gp_error = GP_IDT_ERROR | (svm ? 0 : GP_EXT);

	l2_setup(s, l2_queued, l2_stack + sizeof(l2_stack));
	l2_intercept_exception(s, SS_VECTOR, true);
	l2_intercept_exception(s, GP_VECTOR, true);
	l2_intercept_exception(s, DF_VECTOR, true);
	l2_set_idt_limit(s, 0);

	GUEST_CASE("queued #SS, pending: L1 intercepts it with its error code");
	/* VMX error codes are 16 bits wide: KVM must drop the rest. */
	expect_exception(s, SS_VECTOR, svm ? SS_ERROR : (u16)SS_ERROR);
	GUEST_CASE("queued #SS, injected: bypasses the intercept, #GP on vectoring");
	expect_exception(s, GP_VECTOR, gp_error);
	GUEST_CASE("queued #SS, #GP not intercepted: #DF");
	l2_intercept_exception(s, GP_VECTOR, false);
	expect_exception(s, DF_VECTOR, 0);
	GUEST_DONE();
}

static void l1_main(struct nested_state *s)
{
	if (mode == MODE_QUEUED)
		l1_queued(s);
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_NEXT);
	switch (mode) {
	case MODE_INTERCEPT:
		l1_intercept(s);
		break;
	case MODE_DELIVER:
		l1_deliver(s);
		break;
	default:
		l1_inject(s);
		break;
	}
	l2_set_hypercall_result(s, ~0ULL);
	l2_run_to_hypercall(s, HC_DONE);
	GUEST_DONE();
}

static void queue_ss(struct kvm_vcpu *vcpu, bool inject)
{
	struct kvm_vcpu_events ev;

	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev);
	ev.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	ev.exception.pending = !inject;
	ev.exception.injected = inject;
	ev.exception.nr = SS_VECTOR;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = SS_ERROR;
	vcpu_ioctl(vcpu, KVM_SET_VCPU_EVENTS, &ev);
}

/* At each of L2's syncs the host queues #SS; L1 checks what it became. */
static void run_queued(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events ev;
	struct ucall uc;
	u64 cmd;

	vm_enable_cap(vcpu->vm, KVM_CAP_EXCEPTION_PAYLOAD, 1);
	for (int step = 0;; step++) {
		cmd = vcpu_run_next(vcpu, &uc);
		if (cmd == UCALL_DONE)
			break;
		TEST_ASSERT(cmd == UCALL_SYNC, "unexpected exit %s",
			    exit_reason_str(vcpu->run->exit_reason));
		queue_ss(vcpu, step > 0);
		if (step)
			continue;
		/*
		 * A pending #SS survives an immediate exit as it went in
		 * (checked within L1's open case for this #SS).
		 */
		vcpu_complete_io(vcpu);
		vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev);
		CHECK(ev.flags & KVM_VCPUEVENT_VALID_PAYLOAD, "payload flag kept");
		CHECK_EQ(ev.exception.pending, 1);
		CHECK_EQ(ev.exception.nr, SS_VECTOR);
		CHECK_EQ(ev.exception.has_error_code, 1);
		CHECK_EQ(ev.exception.error_code, SS_ERROR);
	}
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"intercept", "deliver", "inject", "queued",
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int m;

	for (m = 0; m < (int)ARRAY_SIZE(names); m++)
		if (argc == 2 && !strcmp(argv[1], names[m]))
			break;
	if (m == ARRAY_SIZE(names)) {
		fprintf(stderr, "usage: %s intercept|deliver|inject|queued\n",
			argv[0]);
		return 2;
	}
	nested_require();
	if (m == MODE_QUEUED && !kvm_check_cap(KVM_CAP_EXCEPTION_PAYLOAD))
		test_skip("KVM lacks KVM_CAP_EXCEPTION_PAYLOAD");
	mode = m;

	vm = vm_create_with_one_vcpu(&vcpu, l1_main);
	write_guest_global(vm, mode, mode);
	for (int i = 0; i < (int)ARRAY_SIZE(injected); i++)
		vm_install_exception_handler(vm, injected[i].vector,
					     l2_handler);
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	if (mode == MODE_QUEUED)
		run_queued(vcpu);
	else
		vcpu_run_to_done(vcpu, NULL, NULL);
	kvm_vm_free(vm);
	checks_exit();
}
