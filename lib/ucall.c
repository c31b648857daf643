// SPDX-License-Identifier: GPL-2.0-only
/*
 * ucall, both sides: the guest's calls, and the host's loop that runs a
 * vCPU and dispatches what the guest asked for.
 */
#include "kvm_util.h"
#include "internal.h"
#include "test_check.h"

void (*ucall_guest_transport)(struct ucall *uc);

void vm_set_ucall_transport(struct kvm_vm *vm, const struct ucall_transport *t)
{
	vm->ucall = *t;
	write_guest_global(vm, ucall_guest_transport, t->guest_do);
}

void ucall(u64 cmd, int nargs, ...)
{
	/*
	 * Not "= { .cmd = cmd }": that zeroes the 1 KiB buffer, one rep stos
	 * that some hypervisors (kvm_pvm) emulate instruction by instruction,
	 * on every sync.
	 */
	struct ucall uc;
	va_list ap;

	uc.cmd = cmd;
	uc.buffer[0] = '\0';
	va_start(ap, nargs);
	for (int i = 0; i < UCALL_MAX_ARGS; i++)
		uc.args[i] = i < nargs ? va_arg(ap, u64) : 0;
	va_end(ap);
	ucall_arch_do(&uc);
}

void guest_printf(const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;

	uc.cmd = UCALL_PRINTF;
	va_start(ap, fmt);
	guest_vsnprintf(uc.buffer, sizeof(uc.buffer), fmt, ap);
	va_end(ap);
	ucall_arch_do(&uc);
}

void ucall_assert(const char *file, int line, const char *expr,
		  const char *fmt, ...)
{
	struct ucall uc;
	int len;
	va_list ap;

	uc.cmd = UCALL_ABORT;
	len = guest_snprintf(uc.buffer, sizeof(uc.buffer), "%s:%d: %s: ",
			     file, line, expr);
	va_start(ap, fmt);
	if (len < (int)sizeof(uc.buffer))
		guest_vsnprintf(uc.buffer + len, sizeof(uc.buffer) - len, fmt, ap);
	va_end(ap);
	for (;;)
		ucall_arch_do(&uc);	/* the host never resumes an abort */
}

void report_guest_assert(struct ucall *uc)
{
	check_case_abort("guest assert failed");
	fflush(stdout);
	fprintf(stderr, "==== Guest Assertion Failure ====\n  %.*s\n",
		(int)sizeof(uc->buffer), uc->buffer);
	exit(KSFT_FAIL);
}

u64 vcpu_run_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	vcpu_run(vcpu);
	return get_ucall(vcpu, uc);
}

bool ucall_print_or_abort(u64 cmd, struct ucall *uc)
{
	if (cmd == UCALL_ABORT)
		report_guest_assert(uc);
	if (check_handle_ucall(cmd, uc))
		return true;
	if (cmd != UCALL_PRINTF)
		return false;
	printf("%.*s", (int)sizeof(uc->buffer), uc->buffer);
	fflush(stdout);
	return true;
}

u64 vcpu_run_next(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	for (;;) {
		u64 cmd = vcpu_run_ucall(vcpu, uc);

		if (!ucall_print_or_abort(cmd, uc))
			return cmd;
	}
}

void vcpu_run_to_done(struct kvm_vcpu *vcpu, ucall_handler_t on_sync,
		      void *data)
{
	struct ucall uc;

	for (;;) {
		switch (vcpu_run_next(vcpu, &uc)) {
		case UCALL_DONE:
			return;
		case UCALL_SYNC:
			TEST_ASSERT(on_sync, "unexpected GUEST_SYNC(0x%llx)",
				    uc.args[0]);
			on_sync(vcpu, &uc, data);
			break;
		default:
			vcpu_dump(stderr, vcpu);
			TEST_FAIL("vCPU %u: unexpected exit %s (%u) outside a ucall",
				  vcpu->id,
				  exit_reason_str(vcpu->run->exit_reason),
				  vcpu->run->exit_reason);
		}
	}
}
