// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library's promises to every test: a guest runs, syncs with
 * arguments, prints, sees host writes to shared globals; and failures in
 * the guest (an assert, an unexpected exception, returning from guest
 * code) fail the test with the guest's own file, line and message.
 */
#include <sys/wait.h>

#include "kvm_util.h"
#include "exception.h"
#include "test_check.h"

static u64 shared_value;

static void guest_main(u64 arg0, u64 arg1)
{
	GUEST_SYNC_ARGS(arg0, arg1, arg0 + arg1);
	/* The host changed shared_value in our copy of the globals. */
	GUEST_CHECK_EQ(shared_value, 0xfeedULL);
	GUEST_PRINTF("guest says %d %s 0x%llx\n", -42, "hi", shared_value);
	shared_value = 0xbeef;
	GUEST_SYNC(2);
	GUEST_DONE();
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	int *stage = data;

	switch ((*stage)++) {
	case 0:
		CHECK_EQ(uc->args[0], 3);
		CHECK_EQ(uc->args[1], 4);
		CHECK_EQ(uc->args[2], 7);
		shared_value = 0xfeed;
		sync_global_to_guest(vcpu->vm, shared_value);
		break;
	case 1:
		CHECK_EQ(uc->args[0], 2);
		sync_global_from_guest(vcpu->vm, shared_value);
		CHECK_EQ(shared_value, 0xbeef);
		break;
	default:
		TEST_FAIL("unexpected sync %d", *stage);
	}
}

static void case_run_sync_print(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	int stage = 0;

	vcpu_args_set(vcpu, 2, 3ULL, 4ULL);
	vcpu_run_to_done(vcpu, on_sync, &stage);
	kvm_vm_free(vm);
	CHECK_EQ(stage, 2);
}

enum { GUEST_ASSERT_LINE = __LINE__ + 3 };
static void guest_asserts(void)
{
	GUEST_ASSERT_MSG(1 + 1 == 3, "arithmetic is %s", "broken");
	GUEST_DONE();
}

static void guest_faults(void)
{
	__asm__ volatile("ud2");
	GUEST_DONE();
}

static void guest_returns(void)
{
}

static u64 ud_count, ud_rip;

/* A test's own handler: count the #UD and step over the 2-byte UD2. */
static void count_ud(struct ex_regs *regs)
{
	ud_count++;
	ud_rip = regs->rip;
	regs->rip += 2;
}

static void guest_handles_ud(void)
{
	extern char ud2_site[];

	__asm__ volatile("ud2_site: ud2");
	GUEST_CHECK_EQ(ud_count, 1);
	GUEST_CHECK_EQ(ud_rip, (u64)ud2_site);
	GUEST_DONE();
}

static void case_installed_handler(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_handles_ud);

	vm_install_exception_handler(vm, UD_VECTOR, count_ud);
	vcpu_run_to_done(vcpu, NULL, NULL);
	sync_global_from_guest(vm, ud_count);
	kvm_vm_free(vm);
	CHECK_EQ(ud_count, 1);
}

static void run_guest(void *guest_code)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_code);

	vcpu_run_to_done(vcpu, NULL, NULL);
	kvm_vm_free(vm);
}

/* Run @guest_code in a child; it must fail and print @expect. */
static void check_guest_failure_reported(void *guest_code, const char *expect)
{
	struct child_result res;

	run_in_child(run_guest, guest_code, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, expect),
	      "child status 0x%x, expected '%s' in output:\n%s",
	      res.status, expect, res.output);
}

/* Three guest cases, the middle one broken: a failed check goes on. */
static void guest_checks(void)
{
	GUEST_CASE("guest case one");
	GUEST_CHECK_EQ(2 * 21, 42);
	GUEST_CASE("guest case broken");
	GUEST_CHECK_EQ(2 * 21, 43);
	GUEST_CHECK(true, "unused");
	GUEST_CASE("guest case three");
	GUEST_CHECK_EQ(7 * 6, 42);
	GUEST_DONE();
}

static void run_guest_checks(void *unused)
{
	run_guest(guest_checks);
	checks_exit();
}

static void check_guest_checks_go_on(void)
{
	struct child_result res;

	run_in_child(run_guest_checks, NULL, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, "\nok 1 guest case one\n") &&
	      strstr(res.output, "check failed: 2 * 21 == 43: seen 0x2a, expected 0x2b") &&
	      strstr(res.output, "\nnot ok 2 guest case broken\n") &&
	      strstr(res.output, "\nok 3 guest case three\n"),
	      "child status 0x%x, output:\n%s", res.status, res.output);
}

int main(void)
{
	char expect[128];

	kvm_dev_fd();
	case_begin("run, sync with arguments, print, shared globals");
	case_run_sync_print();

	case_begin("guest assert fails the test with file, line and message");
	snprintf(expect, sizeof(expect),
		 "guest_smoke.c:%d: 1 + 1 == 3: arithmetic is broken",
		 GUEST_ASSERT_LINE);
	check_guest_failure_reported(guest_asserts, expect);
	case_begin("unexpected guest exception is reported");
	check_guest_failure_reported(guest_faults, "vector 6 #UD at RIP");
	case_begin("guest code that returns is reported");
	check_guest_failure_reported(guest_returns, "guest code returned");
	case_begin("an installed exception handler runs and resumes the guest");
	case_installed_handler();
	case_begin("guest checks: a failed one reports its case and the next cases run");
	check_guest_checks_go_on();
	checks_exit();
}
