/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checks that report and go on: the one way a kvmtest test with several
 * cases says what it found.
 *
 * A test is a sequence of cases. Each case is opened by case_begin() (host)
 * or GUEST_CASE() (guest, L1 or L2), collects any number of checks, and is
 * closed by the next case, by case_end(), or by checks_exit(). Closing a
 * case prints exactly one KTAP line, so run_tests.sh can match expectations
 * per case:
 *
 *	ok N name			every check of the case passed
 *	not ok N name			a check failed (each failure is a
 *					"# file:line: ..." line above it)
 *	not ok N name # no check made	a case that checked nothing is a
 *					defect of the test, not a pass
 *	ok N name # SKIP reason		case_skip() / GUEST_CASE_SKIP()
 *
 * A failed CHECK() records the failure with what was expected and what was
 * seen, then lets the test go on. TEST_ASSERT() and GUEST_ASSERT() remain
 * for what makes going on meaningless; if one fires inside an open case,
 * that case is reported as failed before the process exits. To let later
 * cases run even when one dies (a guest assert, an unexpected exit, a
 * signal), run each case in a child with run_case().
 *
 * checks_exit() ends the test: exit 1 if any check failed or a case made
 * no check, 4 if every case skipped, 0 otherwise. The plan line ("1..N")
 * is printed there, after the cases (TAP allows a trailing plan), so a
 * test need not count its cases in advance.
 */
#ifndef KVMTEST_TEST_CHECK_H
#define KVMTEST_TEST_CHECK_H

#include "test_util.h"

/* Host side. */
void __printf(1, 2) case_begin(const char *fmt, ...);
bool case_end(void);
void __printf(1, 2) case_skip(const char *fmt, ...);
void __noreturn checks_exit(void);

/*
 * The check itself. Returns @pass so a test can skip what depends on a
 * failed check. @file and @line name the call site: library helpers that
 * check on a test's behalf take them from their caller (see CHECK_AT()).
 */
bool __printf(5, 6) __check(bool pass, const char *file, int line,
			    const char *expr, const char *fmt, ...);
bool __check_eq(u64 seen, u64 expected, const char *file, int line,
		const char *expr);

#define CHECK(cond, fmt, ...)						\
	__check(!!(cond), __FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__)
#define CHECK_AT(file, line, cond, fmt, ...)				\
	__check(!!(cond), file, line, #cond, fmt, ##__VA_ARGS__)
/* "seen" first, as in the sentence "seen should equal expected". */
#define CHECK_EQ(seen, expected)					\
	__check_eq((u64)(seen), (u64)(expected), __FILE__, __LINE__,	\
		   #seen " == " #expected)

/*
 * Run fn(arg) as one case in a child process: whatever kills it (an assert,
 * a guest assert, a signal) fails that case only and the next case still
 * runs. Checks made in the child count for the case; a case_skip() or
 * test_skip() in the child skips it.
 */
void __printf(3, 4) run_case(void (*fn)(void *arg), void *arg,
			     const char *fmt, ...);

/*
 * Guest side: the same checks from guest code (L1 or L2), carried to the
 * host by ucall. The host's run loops (vcpu_run_next() and everything on
 * top of it) record them as if made on the host.
 */
void __printf(1, 2) guest_case(const char *fmt, ...);
void __printf(1, 2) guest_case_skip(const char *fmt, ...);
bool __printf(5, 6) guest_check(bool pass, const char *file, int line,
				const char *expr, const char *fmt, ...);
bool guest_check_eq(u64 seen, u64 expected, const char *file, int line,
		    const char *expr);

#define GUEST_CASE(fmt, ...)		guest_case(fmt, ##__VA_ARGS__)
#define GUEST_CASE_SKIP(fmt, ...)	guest_case_skip(fmt, ##__VA_ARGS__)
#define GUEST_CHECK(cond, fmt, ...)					\
	guest_check(!!(cond), __FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__)
#define GUEST_CHECK_EQ(seen, expected)					\
	guest_check_eq((u64)(seen), (u64)(expected), __FILE__, __LINE__,\
		       #seen " == " #expected)

#endif /* KVMTEST_TEST_CHECK_H */
