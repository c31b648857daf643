// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAP for tests with several cases. The test's exit code sums the cases up
 * (fail if any failed, skip if all skipped), so run_tests.sh needs nothing
 * but the code; the per-case lines serve humans and per-case expectations.
 */
#include <stdarg.h>

#include "test_util.h"
#include "internal.h"

static int tap_planned, tap_done, tap_failed, tap_skipped;
static bool tap_started;

static void tap_header(void)
{
	if (!tap_started)
		printf("TAP version 13\n");
	tap_started = true;
}

void tap_reset(void)
{
	tap_planned = tap_done = tap_failed = tap_skipped = 0;
	tap_started = false;
}

void tap_plan(int nr_cases)
{
	tap_header();
	tap_planned = nr_cases;
	printf("1..%d\n", nr_cases);
	fflush(stdout);
}

static void tap_line(const char *status, const char *directive,
		     const char *fmt, va_list ap)
{
	tap_header();
	printf("%s %d ", status, ++tap_done);
	vprintf(fmt, ap);
	if (directive)
		printf(" # SKIP %s", directive);
	printf("\n");
	fflush(stdout);
}

void tap_result(bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line(pass ? "ok" : "not ok", NULL, fmt, ap);
	va_end(ap);
	tap_failed += !pass;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line("ok", reason, fmt, ap);
	va_end(ap);
	tap_skipped++;
}

void tap_info(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_exit(void)
{
	tap_finish(false);
}

/*
 * With no plan given up front, the plan trails the cases; with one, the
 * count must match it (a case that vanished is a failure).
 */
void tap_finish(bool failed)
{
	if (!tap_planned && tap_done) {
		printf("1..%d\n", tap_done);
	} else if (tap_done != tap_planned) {
		printf("# planned %d cases, ran %d\n", tap_planned, tap_done);
		exit(KSFT_FAIL);
	}
	printf("# %d passed, %d failed, %d skipped\n",
	       tap_done - tap_failed - tap_skipped, tap_failed, tap_skipped);
	if (tap_failed || failed)
		exit(KSFT_FAIL);
	if (tap_done && tap_skipped == tap_done) {
		printf("SKIP: every case skipped\n");
		exit(KSFT_SKIP);
	}
	exit(KSFT_PASS);
}
