// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization: decoding L2 exits.
 *
 * Turns an SVM exit code with EXITINFO1/2, or a VMX exit reason with its
 * qualification, into one struct l2_exit, so a test checks "TDP fault at
 * GPA x on a write" once for both vendors. Pure functions: L1 calls them
 * after every exit and the host-only unit tests call them directly.
 */
#include "nested/nested.h"

/* What every exit records; the vendor decoder then refines the kind. */
static void exit_init(struct l2_exit *ex, u64 raw, u64 info1, u64 info2)
{
	*ex = (struct l2_exit){
		.kind = L2_EXIT_OTHER, .raw = raw,
		.info1 = info1, .info2 = info2,
	};
}

static void exit_tdp_fault(struct l2_exit *ex, u64 gpa, bool write,
			   bool fetch, bool present, bool on_walk)
{
	ex->kind = L2_EXIT_TDP_FAULT;
	ex->gpa = gpa;
	ex->access = write ? KVM_MMU_WRITE : fetch ? KVM_MMU_EXEC : KVM_MMU_READ;
	ex->present = present;
	ex->on_walk = on_walk;
}

static void exit_io(struct l2_exit *ex, u16 port, bool in, u8 size)
{
	ex->kind = L2_EXIT_IO;
	ex->port = port;
	ex->io_in = in;
	ex->io_size = size;
}

void svm_exit_decode(u64 code, u64 info1, u64 info2, struct l2_exit *ex)
{
	exit_init(ex, code, info1, info2);
	switch (code) {
	case SVM_EXIT_VMMCALL:
		ex->kind = L2_EXIT_HYPERCALL;
		break;
	case SVM_EXIT_NPF:
		exit_tdp_fault(ex, info2, info1 & SVM_NPF_WRITE,
			       info1 & SVM_NPF_FETCH, info1 & SVM_NPF_PRESENT,
			       info1 & SVM_NPF_GUEST_PAGE_TABLES);
		break;
	case SVM_EXIT_HLT:
		ex->kind = L2_EXIT_HLT;
		break;
	case SVM_EXIT_SHUTDOWN:
		ex->kind = L2_EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_INTR:
		ex->kind = L2_EXIT_INTERRUPT;
		break;
	case SVM_EXIT_IOIO:
		/* One-hot SZ8/SZ16/SZ32 at bits 4-6 read as 1, 2, 4. */
		exit_io(ex, info1 >> SVM_IOIO_PORT_SHIFT,
			info1 & SVM_IOIO_TYPE_IN,
			(info1 >> SVM_IOIO_SIZE_SHIFT) & 7);
		break;
	default:
		if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
			ex->kind = L2_EXIT_EXCEPTION;
			ex->vector = code - SVM_EXIT_EXCP_BASE;
			/* EXITINFO1 is the error code, EXITINFO2 CR2 (#PF). */
			ex->has_error_code =
				x86_exception_has_error_code(ex->vector);
			ex->error_code = ex->has_error_code ? (u32)info1 : 0;
			if (ex->vector == PF_VECTOR)
				ex->fault_addr = info2;
		}
		break;
	}
}

void vmx_exit_decode(u32 reason, u64 qual, u64 gpa, u32 intr_info,
		     struct l2_exit *ex)
{
	exit_init(ex, reason, qual, gpa);
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE)
		return;
	switch (reason & 0xffff) {
	case EXIT_REASON_VMCALL:
		ex->kind = L2_EXIT_HYPERCALL;
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		/* No access type: the entry itself is invalid (e.g. W without R). */
		ex->kind = L2_EXIT_TDP_MISCONFIG;
		ex->gpa = gpa;
		break;
	case EXIT_REASON_EPT_VIOLATION:
		/* Bit 8 is only meaningful when bit 7 says a GLA exists. */
		exit_tdp_fault(ex, gpa, qual & EPT_VIOL_WRITE,
			       qual & EPT_VIOL_FETCH,
			       qual & (EPT_VIOL_READABLE | EPT_VIOL_WRITABLE |
				       EPT_VIOL_EXECUTABLE),
			       (qual & EPT_VIOL_GLA_VALID) &&
			       !(qual & EPT_VIOL_GLA_TRANSLATED));
		break;
	case EXIT_REASON_HLT:
		ex->kind = L2_EXIT_HLT;
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		ex->kind = L2_EXIT_SHUTDOWN;
		break;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		ex->kind = L2_EXIT_INTERRUPT;
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		exit_io(ex, qual >> VMX_IO_PORT_SHIFT, qual & VMX_IO_IN,
			(qual & VMX_IO_SIZE_MASK) + 1);
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		if ((intr_info & INTR_INFO_VALID) &&
		    (intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION) {
			ex->kind = L2_EXIT_EXCEPTION;
			ex->vector = intr_info & INTR_INFO_VECTOR_MASK;
			/* The error code itself is a VMCS field of its own. */
			ex->has_error_code = intr_info & INTR_INFO_ERROR_CODE;
			if (ex->vector == PF_VECTOR)
				ex->fault_addr = qual;
		}
		break;
	}
}

bool x86_exception_has_error_code(u8 vector)
{
	switch (vector) {
	case DF_VECTOR: case TS_VECTOR: case NP_VECTOR: case SS_VECTOR:
	case GP_VECTOR: case PF_VECTOR: case AC_VECTOR: case CP_VECTOR:
		return true;
	default:
		return false;
	}
}

int svm_exit_insn_len(u64 code)
{
	switch (code) {
	case SVM_EXIT_VMMCALL:		/* 0f 01 d9 */
	case SVM_EXIT_VMRUN:		/* 0f 01 d8 */
		return 3;
	case SVM_EXIT_CPUID:		/* 0f a2 */
	case SVM_EXIT_RDTSC:		/* 0f 31 */
		return 2;
	case SVM_EXIT_HLT:		/* f4 */
		return 1;
	default:
		return 0;
	}
}

const char *l2_exit_kind_name(enum l2_exit_kind kind)
{
	switch (kind) {
	case L2_EXIT_HYPERCALL: return "HYPERCALL";
	case L2_EXIT_TDP_FAULT: return "TDP_FAULT";
	case L2_EXIT_HLT: return "HLT";
	case L2_EXIT_IO: return "IO";
	case L2_EXIT_EXCEPTION: return "EXCEPTION";
	case L2_EXIT_SHUTDOWN: return "SHUTDOWN";
	case L2_EXIT_TDP_MISCONFIG: return "TDP_MISCONFIG";
	case L2_EXIT_INTERRUPT: return "INTERRUPT";
	default: return "OTHER";
	}
}

static const char *access_name(unsigned int access)
{
	return access == KVM_MMU_WRITE ? "write" :
	       access == KVM_MMU_EXEC ? "fetch" : "read";
}

int l2_exit_describe(const struct l2_exit *ex, char *buf, size_t size)
{
	int n;

	switch (ex->kind) {
	case L2_EXIT_HYPERCALL:
		n = guest_snprintf(buf, size, "hypercall 0x%llx (arg 0x%llx)",
				   ex->nr, ex->arg);
		break;
	case L2_EXIT_TDP_FAULT:
		n = guest_snprintf(buf, size,
				   "TDP fault at L2 GPA 0x%llx on a %s (%s%s)",
				   ex->gpa, access_name(ex->access),
				   ex->present ? "permission" : "not present",
				   ex->on_walk ? ", on L2's page-table walk" : "");
		break;
	case L2_EXIT_TDP_MISCONFIG:
		n = guest_snprintf(buf, size,
				   "EPT misconfiguration at L2 GPA 0x%llx (an entry EPT forbids, such as write without read)",
				   ex->gpa);
		break;
	case L2_EXIT_IO:
		n = guest_snprintf(buf, size, "I/O %s port 0x%x, %u bytes",
				   ex->io_in ? "in from" : "out to", ex->port,
				   ex->io_size);
		break;
	case L2_EXIT_EXCEPTION:
		n = guest_snprintf(buf, size, "exception vector %u", ex->vector);
		if (ex->has_error_code && n < (int)size)
			n += guest_snprintf(buf + n, size - n,
					    ", error code 0x%x", ex->error_code);
		if (ex->vector == PF_VECTOR && n < (int)size)
			n += guest_snprintf(buf + n, size - n, ", CR2 0x%llx",
					    ex->fault_addr);
		break;
	case L2_EXIT_SHUTDOWN:
		n = guest_snprintf(buf, size, "shutdown (triple fault)");
		break;
	case L2_EXIT_INTERRUPT:
		n = guest_snprintf(buf, size, "external interrupt");
		break;
	case L2_EXIT_HLT:
		n = guest_snprintf(buf, size, "HLT");
		break;
	default:
		n = guest_snprintf(buf, size,
				   "OTHER (raw exit 0x%llx, info 0x%llx/0x%llx)",
				   ex->raw, ex->info1, ex->info2);
		break;
	}
	if (n < (int)size)
		n += guest_snprintf(buf + n, size - n, " at L2 RIP 0x%llx",
				    ex->rip);
	return n;
}

bool __l2_check_tdp_fault(struct l2_exit ex, u64 gpa, unsigned int access,
			  const char *file, int line, bool fatal)
{
	bool ok = ex.kind == L2_EXIT_TDP_FAULT && ex.gpa == gpa &&
		  ex.access == access;
	char seen[160];

	if (!ok)
		l2_exit_describe(&ex, seen, sizeof(seen));
	if (!ok && fatal)
		ucall_assert(file, line, "L2_ASSERT_TDP_FAULT",
			     "expected a TDP fault at L2 GPA 0x%llx on a %s, got %s",
			     gpa, access_name(access), seen);
	if (!fatal)
		guest_check(ok, file, line, "L2_CHECK_TDP_FAULT",
			    "expected a TDP fault at L2 GPA 0x%llx on a %s, got %s",
			    gpa, access_name(access), ok ? "it" : seen);
	return ok;
}
