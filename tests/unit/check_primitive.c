// SPDX-License-Identifier: GPL-2.0-only
/*
 * The check primitive (include/test_check.h) on its own: each shape of
 * multi-case test, run in a child as a real test would run, with one case
 * broken on purpose. Exactly that case must be "not ok", the others must
 * still run and pass, and the exit code must sum it up.
 */
#include <regex.h>
#include <signal.h>
#include <sys/wait.h>

#include "test_check.h"
#include "ucall.h"
#include "internal.h"

static struct child_result res;

static bool output_has(const char *pattern)
{
	regex_t re;
	bool hit;

	TEST_ASSERT(!regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB),
		    "bad pattern %s", pattern);
	hit = !regexec(&re, res.output, 0, NULL, 0);
	regfree(&re);
	return hit;
}

#define CHECK_OUTPUT(pattern)						\
	CHECK(output_has(pattern), "no line matching '%s' in:\n%s",	\
	      pattern, res.output)

static void check_exit(int code)
{
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == code,
	      "wait status 0x%x, expected exit %d; output:\n%s",
	      res.status, code, res.output);
}

/* Shape 1: host cases in one process; the middle one fails a check. */
static void host_cases(void *arg)
{
	case_begin("first");
	CHECK_EQ(1 + 1, 2);
	case_begin("broken");
	CHECK_EQ(2 + 2, 5);
	CHECK(true, "a later check in the broken case still runs");
	case_begin("third");
	CHECK(true, "unused");
	checks_exit();
}

static void die_by_assert(void *arg)
{
	TEST_ASSERT(false, "the case dies here");
}

static void die_by_signal(void *arg)
{
	raise(SIGSEGV);
}

static void pass_in_child(void *arg)
{
	CHECK_EQ(3, 3);
}

/* Shape 2: a case per child; two die, the ones after them still run. */
static void child_cases(void *arg)
{
	run_case(die_by_assert, NULL, "asserts");
	run_case(pass_in_child, NULL, "after assert");
	run_case(die_by_signal, NULL, "segfaults");
	run_case(pass_in_child, NULL, "after signal");
	checks_exit();
}

/* Shape 3: a case that checks nothing is a defect, not a pass. */
static void empty_case(void *arg)
{
	case_begin("checks nothing");
	case_begin("checks");
	CHECK(true, "unused");
	checks_exit();
}

/* Shape 4: an assert in an open case (no child) fails that case first. */
static void assert_in_case(void *arg)
{
	case_begin("passes");
	CHECK(true, "unused");
	case_begin("asserts");
	TEST_ASSERT_EQ(1, 2);
}

static void skips(void *arg)
{
	case_begin("skipped one");
	case_skip("not on this host");
	case_begin("skipped two");
	case_skip("nor this");
	checks_exit();
}

static void feed(u64 cmd, u64 arg0, const char *text)
{
	struct ucall uc = { .cmd = cmd, .args = { arg0 } };

	snprintf(uc.buffer, sizeof(uc.buffer), "%s", text);
	TEST_ASSERT(check_handle_ucall(cmd, &uc), "ucall %llu not handled", cmd);
}

/* Shape 5: the guest's cases and checks, as the host's run loop sees them. */
static void guest_cases(void *arg)
{
	struct ucall uc = { .cmd = UCALL_SYNC };

	feed(UCALL_CASE, 0, "guest one");
	feed(UCALL_CHECK, 1, "");
	feed(UCALL_CASE, 0, "guest broken");
	feed(UCALL_CHECK, 0, "l2.c:7: check failed: x == y: seen 0x1, expected 0x2");
	feed(UCALL_CHECK, 1, "");
	feed(UCALL_CASE, 0, "guest skipped");
	feed(UCALL_CASE_SKIP, 0, "no such feature");
	feed(UCALL_CASE, 0, "guest three");
	feed(UCALL_CHECK, 1, "");
	TEST_ASSERT(!check_handle_ucall(UCALL_SYNC, &uc), "a sync is not a check");
	checks_exit();
}

/* A skip after a failed check in the same case does not hide the failure. */
static void skip_after_failure(void *arg)
{
	case_begin("fails then skips");
	CHECK_EQ(1, 2);
	case_skip("feature missing");
	case_begin("plain skip");
	case_skip("feature missing");
	checks_exit();
}

static void skip_after_failure_in_child(void *arg)
{
	CHECK_EQ(1, 2);
	case_skip("feature missing");
}

static void child_skip_after_failure(void *arg)
{
	run_case(skip_after_failure_in_child, NULL, "child fails then skips");
	checks_exit();
}

/* Shape 6: failed checks outside any case fail the test, with no TAP line. */
static void loose_check(void *arg)
{
	CHECK_EQ(1, 0);
	checks_exit();
}

int main(void)
{
	case_begin("host cases: only the broken case fails");
	run_in_child(host_cases, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^ok [0-9]+ first$");
	CHECK_OUTPUT("^not ok [0-9]+ broken$");
	CHECK_OUTPUT("^ok [0-9]+ third$");
	CHECK_OUTPUT("^# .*check_primitive.c:[0-9]+: check failed: 2 \\+ 2 == 5: seen 0x4, expected 0x5$");
	CHECK_OUTPUT("^1\\.\\.3$");

	case_begin("run_case: a case that dies fails alone, the next still runs");
	run_in_child(child_cases, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^not ok [0-9]+ asserts$");
	CHECK_OUTPUT("^ok [0-9]+ after assert$");
	CHECK_OUTPUT("^# segfaults: died: signal 11");
	CHECK_OUTPUT("^not ok [0-9]+ segfaults$");
	CHECK_OUTPUT("^ok [0-9]+ after signal$");

	case_begin("a case with no check is not ok");
	run_in_child(empty_case, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^# checks nothing: no check made");
	CHECK_OUTPUT("^not ok [0-9]+ checks nothing$");
	CHECK_OUTPUT("^ok [0-9]+ checks$");

	case_begin("an assert inside a case reports that case before exiting");
	run_in_child(assert_in_case, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^ok [0-9]+ passes$");
	CHECK_OUTPUT("^not ok [0-9]+ asserts$");

	case_begin("every case skipped: exit 4");
	run_in_child(skips, NULL, &res);
	check_exit(KSFT_SKIP);
	CHECK_OUTPUT("^ok [0-9]+ skipped one # SKIP not on this host$");

	case_begin("guest cases and checks through ucall");
	run_in_child(guest_cases, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^ok [0-9]+ guest one$");
	CHECK_OUTPUT("^# l2.c:7: check failed: x == y: seen 0x1, expected 0x2$");
	CHECK_OUTPUT("^not ok [0-9]+ guest broken$");
	CHECK_OUTPUT("^ok [0-9]+ guest skipped # SKIP no such feature$");
	CHECK_OUTPUT("^ok [0-9]+ guest three$");

	case_begin("a skip after a failed check reports the failure");
	run_in_child(skip_after_failure, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^not ok [0-9]+ fails then skips$");
	CHECK_OUTPUT("^ok [0-9]+ plain skip # SKIP feature missing$");
	run_in_child(child_skip_after_failure, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK_OUTPUT("^not ok [0-9]+ child fails then skips$");

	case_begin("a failed check outside any case fails the test");
	run_in_child(loose_check, NULL, &res);
	check_exit(KSFT_FAIL);
	CHECK(!output_has("^(not )?ok "), "no TAP line for a loose check:\n%s",
	      res.output);
	checks_exit();
}
