/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ucall: how guest code talks to the host test.
 *
 * The guest fills a struct ucall on its own stack and traps to the host
 * (port I/O on x86); the host reads the struct through the guest's page
 * tables. Each call is one exit, so guest and host stay in lock step.
 */
#ifndef KVMTEST_UCALL_H
#define KVMTEST_UCALL_H

#include <stdarg.h>
#include "test_util.h"

enum ucall_cmd {
	UCALL_NONE,
	UCALL_SYNC,	/* args[0..5]: whatever the guest passed */
	UCALL_ABORT,	/* buffer: "file:line: expr: message" */
	UCALL_PRINTF,	/* buffer: the formatted text */
	UCALL_DONE,
	UCALL_CHECK,	/* args[0]: passed; buffer: the failure, if not */
	UCALL_CASE,	/* buffer: the name of the case that begins */
	UCALL_CASE_SKIP,/* buffer: why the current case is skipped */
};

#define UCALL_MAX_ARGS		6
#define UCALL_BUFFER_LEN	1024

struct ucall {
	u64 cmd;
	u64 args[UCALL_MAX_ARGS];
	char buffer[UCALL_BUFFER_LEN];
};

/* Guest side. */
void ucall(u64 cmd, int nargs, ...);
void __printf(1, 2) guest_printf(const char *fmt, ...);
void __noreturn __printf(4, 5)
ucall_assert(const char *file, int line, const char *expr,
	     const char *fmt, ...);
void ucall_arch_do(struct ucall *uc);

/* Guest-safe formatting: no libc, no TLS, no SIMD. */
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int __printf(3, 4) guest_snprintf(char *buf, size_t size, const char *fmt, ...);

#define __GUEST_NARGS(...)	__GUEST_NARGS_(0, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define __GUEST_NARGS_(_0, _1, _2, _3, _4, _5, _6, n, ...) n

#define GUEST_SYNC_ARGS(...)	ucall(UCALL_SYNC, __GUEST_NARGS(__VA_ARGS__), ##__VA_ARGS__)
#define GUEST_SYNC(stage)	ucall(UCALL_SYNC, 1, (u64)(stage))
#define GUEST_DONE()		ucall(UCALL_DONE, 0)
#define GUEST_PRINTF(...)	guest_printf(__VA_ARGS__)

#define GUEST_ASSERT_MSG(cond, fmt, ...)				\
do {									\
	if (!(cond))							\
		ucall_assert(__FILE__, __LINE__, #cond, fmt,		\
			     ##__VA_ARGS__);				\
} while (0)
#define GUEST_ASSERT(cond)	GUEST_ASSERT_MSG(cond, "assertion failed")
#define GUEST_ASSERT_EQ(a, b)						\
do {									\
	u64 __ga = (u64)(a), __gb = (u64)(b);				\
	if (__ga != __gb)						\
		ucall_assert(__FILE__, __LINE__, #a " == " #b,		\
			     "0x%llx != 0x%llx", __ga, __gb);		\
} while (0)
#define GUEST_FAIL(fmt, ...)						\
	ucall_assert(__FILE__, __LINE__, "failure", fmt, ##__VA_ARGS__)

/* Host side: decode the ucall behind the vCPU's last exit. */
struct kvm_vcpu;
u64 get_ucall(struct kvm_vcpu *vcpu, struct ucall *uc);

/*
 * How one VM's guest reaches the host: a property of the VM (struct
 * kvm_vm's ucall), zero for the architecture's own transport (port I/O on
 * x86). A VM whose guest cannot use that one (a TD: its OUT traps to the
 * TDX module and the host cannot read its registers) sets its own.
 */
struct ucall_transport {
	/* Guest code: deliver @uc to the host. */
	void (*guest_do)(struct ucall *uc);
	/* Host: the ucall behind the vCPU's last exit (uc->cmd UCALL_NONE if none). */
	bool (*host_get)(struct kvm_vcpu *vcpu, struct ucall *uc);
};
struct kvm_vm;
void vm_set_ucall_transport(struct kvm_vm *vm, const struct ucall_transport *t);

#endif /* KVMTEST_UCALL_H */
