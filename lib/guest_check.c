// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checks that report and go on (include/test_check.h), guest side. Runs in
 * the guest (L1 or L2): no libc, only the guest-safe formatter.
 */
#include <stdarg.h>

#include "test_check.h"
#include "ucall.h"

static void guest_case_call(u64 cmd, const char *fmt, va_list ap)
{
	struct ucall uc;

	uc.cmd = cmd;
	guest_vsnprintf(uc.buffer, sizeof(uc.buffer), fmt, ap);
	ucall_arch_do(&uc);
}

void guest_case(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_case_call(UCALL_CASE, fmt, ap);
	va_end(ap);
}

void guest_case_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_case_call(UCALL_CASE_SKIP, fmt, ap);
	va_end(ap);
}

bool guest_check(bool pass, const char *file, int line, const char *expr,
		 const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;
	int len;

	uc.cmd = UCALL_CHECK;
	uc.args[0] = pass;
	/* A passing check is counted, not described: no formatting cost. */
	uc.buffer[0] = '\0';
	if (!pass) {
		len = guest_snprintf(uc.buffer, sizeof(uc.buffer),
				     "%s:%d: check failed: %s: ", file, line, expr);
		va_start(ap, fmt);
		if (len < (int)sizeof(uc.buffer))
			guest_vsnprintf(uc.buffer + len, sizeof(uc.buffer) - len,
					fmt, ap);
		va_end(ap);
	}
	ucall_arch_do(&uc);
	return pass;
}

bool guest_check_eq(u64 seen, u64 expected, const char *file, int line,
		    const char *expr)
{
	return guest_check(seen == expected, file, line, expr,
			   "seen 0x%llx, expected 0x%llx", seen, expected);
}
