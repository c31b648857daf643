// SPDX-License-Identifier: GPL-2.0-only
/* Host assertions and skips. */
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "test_check.h"
#include "internal.h"

void test_assert_fail(const char *file, int line, const char *expr,
		      const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "==== Test Assertion Failure ====\n  %s:%d: %s\n  ",
		file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  errno: %d (%s)\n", saved_errno,
		saved_errno ? strerror(saved_errno) : "none");
	check_case_abort("host assert failed");
	exit(KSFT_FAIL);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(KSFT_SKIP);
}

u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
