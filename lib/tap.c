// SPDX-License-Identifier: GPL-2.0-only
/*
 * TAP for tests with several cases. The test's exit code sums the cases up
 * (fail if any failed, skip if all skipped), so run_tests.sh needs nothing
 * but the code; the per-case lines serve humans and per-case expectations.
 */
#include <stdarg.h>

#include "test_util.h"
#include "internal.h"

static int tap_done, tap_failed, tap_skipped;
static bool tap_started;

static void tap_header(void)
{
	if (!tap_started)
		printf("TAP version 13\n");
	tap_started = true;
}

void tap_reset(void)
{
	tap_done = tap_failed = tap_skipped = 0;
	tap_started = false;
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

/*
 * The plan trails the cases (TAP allows it), so no test counts its cases
 * in advance; a case that dies is still reported, by check.c, as not ok.
 */
void tap_finish(bool failed)
{
	if (tap_done)
		printf("1..%d\n", tap_done);
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
