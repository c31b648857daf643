/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host-side test helpers: assertions, skips, TAP output for tests with
 * several cases. Guest code must not use these (they call libc); guest code
 * uses the GUEST_* macros of ucall.h.
 */
#ifndef KVMTEST_TEST_UTIL_H
#define KVMTEST_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

/* The kernel's fixed-width types, so uAPI structs need no casts. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

/* kselftest exit codes, which run_tests.sh and every CI already know. */
#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK_ULL(h, l)	(((~0ULL) >> (63 - (h))) & ~((1ULL << (l)) - 1))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((u64)(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((u64)(a) - 1)) == 0)
#define KiB			(1ULL << 10)
#define MiB			(1ULL << 20)
#define GiB			(1ULL << 30)
#define PAGE_SIZE		4096ULL
#define PAGE_SHIFT		12

#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define __noreturn		__attribute__((noreturn))
#ifndef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#endif
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)		((t)(a) > (t)(b) ? (t)(a) : (t)(b))

/*
 * Print "file:line: expr: message (errno)" and exit KSFT_FAIL. errno is
 * printed because most failing asserts follow a failed ioctl.
 */
void __noreturn __printf(4, 5)
test_assert_fail(const char *file, int line, const char *expr,
		 const char *fmt, ...);

#define TEST_ASSERT(cond, fmt, ...)					\
do {									\
	if (!(cond))							\
		test_assert_fail(__FILE__, __LINE__, #cond, fmt,	\
				 ##__VA_ARGS__);			\
} while (0)

#define TEST_ASSERT_EQ(a, b)						\
do {									\
	u64 __a = (u64)(a), __b = (u64)(b);				\
	if (__a != __b)							\
		test_assert_fail(__FILE__, __LINE__, #a " == " #b,	\
				 "0x%llx != 0x%llx", __a, __b);	\
} while (0)

#define TEST_FAIL(fmt, ...)						\
	test_assert_fail(__FILE__, __LINE__, "failure", fmt, ##__VA_ARGS__)

/* Assert on the return value of a syscall or ioctl wrapper. */
#define TEST_ASSERT_SYSCALL(ret, name)					\
	TEST_ASSERT((ret) >= 0, "%s failed, rc: %ld", name, (long)(ret))

/*
 * A skip prints one "SKIP: reason" line on stdout, which run_tests.sh shows
 * as the TAP skip reason, and exits KSFT_SKIP.
 */
void __noreturn __printf(1, 2) test_skip(const char *fmt, ...);

/* One line at the top of main() naming what the test needs. */
#define TEST_REQUIRE(cond)						\
do {									\
	if (!(cond))							\
		test_skip("requires %s", #cond);			\
} while (0)

/*
 * A "# " line in the TAP stream: a note for the reader, never a result
 * (results come from the checks in test_check.h).
 */
void __printf(1, 2) tap_info(const char *fmt, ...);

/*
 * Run fn(arg) in a child process and collect its exit status and what it
 * wrote to stdout and stderr. For tests that check a failure is reported.
 */
struct child_result {
	int status;		/* as from waitpid() */
	char output[8192];	/* stdout and stderr, NUL-terminated */
};
void run_in_child(void (*fn)(void *arg), void *arg, struct child_result *res);


/* Monotonic time in nanoseconds. */
u64 now_ns(void);

#endif /* KVMTEST_TEST_UTIL_H */
