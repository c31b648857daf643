// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest exception routing: probes first, then a handler the test
 * installed, else a report of the unexpected exception to the host.
 */
#include "kvm_util.h"
#include "desc.h"
#include "exception.h"

#define PROBE_MAGIC	0x65626f7270ULL	/* must match probe.S */

/* Lives in the guest's copy of the image; the host edits that copy. */
static exception_handler_t exception_handlers[IDT_ENTRIES];

static const char *const vector_names[32] = {
	[DE_VECTOR] = "#DE", [DB_VECTOR] = "#DB", [NMI_VECTOR] = "NMI",
	[BP_VECTOR] = "#BP", [OF_VECTOR] = "#OF", [BR_VECTOR] = "#BR",
	[UD_VECTOR] = "#UD", [NM_VECTOR] = "#NM", [DF_VECTOR] = "#DF",
	[TS_VECTOR] = "#TS", [NP_VECTOR] = "#NP", [SS_VECTOR] = "#SS",
	[GP_VECTOR] = "#GP", [PF_VECTOR] = "#PF", [MF_VECTOR] = "#MF",
	[AC_VECTOR] = "#AC", [MC_VECTOR] = "#MC", [XM_VECTOR] = "#XM",
	[VE_VECTOR] = "#VE", [CP_VECTOR] = "#CP",
};

const char *(*unexpected_exception_hint)(const struct ex_regs *regs);

void route_exception(struct ex_regs *regs)
{
	const char *name = "", *hint = NULL;

	if (regs->r10 == PROBE_MAGIC) {
		bool user_return = regs->vector == UD_VECTOR &&
				   regs->rip == regs->r8;

		regs->rax = user_return ? PROBE_NO_FAULT : regs->vector;
		regs->rdx = user_return ? 0 : regs->error_code;
		regs->rip = regs->r9;
		regs->rsp = regs->r11;
		regs->cs = KERNEL_CS;
		regs->ss = KERNEL_DS;
		regs->r10 = 0;
		return;
	}
	if (exception_handlers[regs->vector]) {
		exception_handlers[regs->vector](regs);
		return;
	}
	if (regs->vector < ARRAY_SIZE(vector_names) && vector_names[regs->vector])
		name = vector_names[regs->vector];
	if (unexpected_exception_hint)
		hint = unexpected_exception_hint(regs);
	ucall_assert(__FILE__, __LINE__, "unexpected exception",
		     "vector %llu %s at RIP 0x%llx, error code 0x%llx, CR2 0x%llx%s%s",
		     regs->vector, name, regs->rip, regs->error_code,
		     regs->vector == PF_VECTOR ? get_cr2() : 0,
		     hint ? "; " : "", hint ? hint : "");
}

void vm_install_exception_handler(struct kvm_vm *vm, int vector,
				  exception_handler_t handler)
{
	TEST_ASSERT(vector >= 0 && vector < IDT_ENTRIES,
		    "vm_install_exception_handler: bad vector %d", vector);
	write_guest_global(vm, exception_handlers[vector], handler);
}

bool kvm_fep_enabled(void)
{
	FILE *f = fopen("/sys/module/kvm/parameters/force_emulation_prefix", "r");
	int c;

	if (!f)
		return false;
	c = fgetc(f);
	fclose(f);
	/* "Y"/"N" in older kernels, a number (bit 0: enabled) since 6.3. */
	return c == 'Y' || (c >= '1' && c <= '9' && ((c - '0') & 1));
}
