// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checks that report and go on (include/test_check.h), host side: the
 * current case's tally, its one TAP line, and cases run in a child.
 */
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_check.h"
#include "internal.h"
#include "ucall.h"

/* A case that checked nothing exits with this from run_case()'s child. */
#define CASE_NO_CHECK	3

static struct {
	bool open;
	char name[256];
	int checks;
	int failed;
} cur;

/* Failed checks made outside any case: they fail the test, with no TAP line. */
static int loose_failed;
static int cases_without_check;
static bool in_child;

/* Close the open case, if any, and name the next; the caller opens it. */
static void next_case_name(const char *fmt, va_list ap)
{
	TEST_ASSERT(!in_child, "a case begun inside run_case(): a child runs one case");
	if (cur.open)
		case_end();
	vsnprintf(cur.name, sizeof(cur.name), fmt, ap);
}

void case_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	next_case_name(fmt, ap);
	va_end(ap);
	cur.open = true;
	cur.checks = 0;
	cur.failed = 0;
}

bool case_end(void)
{
	bool pass;

	if (!cur.open)
		return true;
	cur.open = false;
	if (!cur.checks) {
		tap_info("%s: no check made (a case that checks nothing proves nothing)",
			 cur.name);
		cases_without_check++;
	}
	pass = cur.checks && !cur.failed;
	tap_result(pass, "%s", cur.name);
	return pass;
}

void case_skip(const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	/* A skip never hides a check that already failed in the case. */
	if (cur.failed) {
		tap_info("%s: skipped after a failed check (%s)",
			 in_child ? "case" : cur.name, reason);
		if (in_child) {
			fflush(stdout);
			_exit(KSFT_FAIL);
		}
		case_end();
		return;
	}
	if (in_child) {
		/* run_case()'s parent turns this line into the case's SKIP. */
		printf("SKIP: %s\n", reason);
		fflush(stdout);
		_exit(KSFT_SKIP);
	}
	TEST_ASSERT(cur.open, "case_skip(\"%s\") outside a case", reason);
	cur.open = false;
	tap_skip(reason, "%s", cur.name);
}

static void record(bool pass)
{
	if (cur.open || in_child) {
		cur.checks++;
		cur.failed += !pass;
	} else {
		loose_failed += !pass;
	}
}

bool __check(bool pass, const char *file, int line, const char *expr,
	     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	record(pass);
	if (pass)
		return true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_info("%s:%d: check failed: %s: %s", file, line, expr, msg);
	return false;
}

bool __check_eq(u64 seen, u64 expected, const char *file, int line,
		const char *expr)
{
	return __check(seen == expected, file, line, expr,
		       "seen 0x%llx, expected 0x%llx", seen, expected);
}

void check_case_abort(const char *why)
{
	if (in_child || !cur.open)
		return;
	tap_info("%s: %s", cur.name, why);
	cur.failed++;
	cur.checks++;
	case_end();
	fflush(stdout);
}

void checks_exit(void)
{
	if (cur.open)
		case_end();
	if (loose_failed)
		tap_info("%d check(s) outside any case failed", loose_failed);
	tap_finish(loose_failed || cases_without_check);
}

void checks_reset(void)
{
	memset(&cur, 0, sizeof(cur));
	loose_failed = 0;
	cases_without_check = 0;
	in_child = false;
	tap_reset();
}

/*
 * The child's verdict goes to the parent as its exit code: pass, fail,
 * skip (with a "SKIP: reason" line), or "checked nothing".
 */
static void case_child(void (*fn)(void *arg), void *arg)
{
	in_child = true;
	cur.checks = 0;
	cur.failed = 0;
	fn(arg);
	fflush(stdout);
	fflush(stderr);
	_exit(cur.failed ? KSFT_FAIL : cur.checks ? KSFT_PASS : CASE_NO_CHECK);
}

struct case_child_arg {
	void (*fn)(void *arg);
	void *arg;
};

static void case_child_tramp(void *p)
{
	struct case_child_arg *c = p;

	case_child(c->fn, c->arg);
}

void run_case(void (*fn)(void *arg), void *arg, const char *fmt, ...)
{
	struct case_child_arg c = { fn, arg };
	char skip[512] = "";
	va_list ap;
	int status;

	va_start(ap, fmt);
	next_case_name(fmt, ap);
	va_end(ap);

	status = child_stream(case_child_tramp, &c, skip, sizeof(skip));
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
		tap_skip(skip[0] ? skip : "skipped", "%s", cur.name);
		return;
	}
	cur.open = true;
	cur.checks = 1;
	cur.failed = 0;
	if (WIFSIGNALED(status)) {
		tap_info("%s: died: signal %d (%s)", cur.name, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		cur.failed = 1;
	} else if (WEXITSTATUS(status) == CASE_NO_CHECK) {
		cur.checks = 0;
	} else if (WEXITSTATUS(status) != KSFT_PASS) {
		tap_info("%s: %s with status %d", cur.name,
			 WEXITSTATUS(status) == KSFT_FAIL ? "failed" : "died",
			 WEXITSTATUS(status));
		cur.failed = 1;
	}
	case_end();
}

/* The guest's checks and case boundaries, carried by ucall. */
bool check_handle_ucall(u64 cmd, struct ucall *uc)
{
	switch (cmd) {
	case UCALL_CHECK:
		record(uc->args[0]);
		if (!uc->args[0])
			tap_info("%.*s", (int)sizeof(uc->buffer), uc->buffer);
		return true;
	case UCALL_CASE:
		case_begin("%.*s", (int)sizeof(uc->buffer), uc->buffer);
		return true;
	case UCALL_CASE_SKIP:
		case_skip("%.*s", (int)sizeof(uc->buffer), uc->buffer);
		return true;
	}
	return false;
}
