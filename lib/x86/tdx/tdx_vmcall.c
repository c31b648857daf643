// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TD guest's port I/O, MMIO, CPUID, MSR and HLT as TDG.VP.VMCALLs (GHCI
 * register conventions: R11 the sub-function, R12.. its operands, R11 or
 * R12..R15 the results), for guest code that would otherwise take a #VE.
 */
#include "kvm_util.h"
#include "tdx/tdx.h"

static struct tdx_tdvmcall vmcall(u64 fn, u64 r12, u64 r13, u64 r14, u64 r15)
{
	struct tdx_tdvmcall a = {
		.r10 = TDVMCALL_STANDARD, .r11 = fn,
		.r12 = r12, .r13 = r13, .r14 = r14, .r15 = r15,
	};
	u64 status = tdx_tdvmcall(&a);

	GUEST_ASSERT_MSG(status == TDVMCALL_STATUS_SUCCESS,
			 "TDG.VP.VMCALL sub-function %llu: status 0x%llx",
			 (unsigned long long)fn, (unsigned long long)status);
	return a;
}

void tdx_io_out(u16 port, u8 size, u32 value)
{
	vmcall(TDVMCALL_INSTR_IO, size, 1, port, value);
}

u32 tdx_io_in(u16 port, u8 size)
{
	return vmcall(TDVMCALL_INSTR_IO, size, 0, port, 0).r11;
}

void tdx_mmio_write(u64 gpa, u8 size, u64 value)
{
	vmcall(TDVMCALL_VE_REQUEST_MMIO, size, 1, gpa, value);
}

u64 tdx_mmio_read(u64 gpa, u8 size)
{
	return vmcall(TDVMCALL_VE_REQUEST_MMIO, size, 0, gpa, 0).r11;
}

void tdx_cpuid(u32 leaf, u32 subleaf, u32 regs[4])
{
	struct tdx_tdvmcall a = vmcall(TDVMCALL_INSTR_CPUID, leaf, subleaf, 0, 0);

	regs[0] = a.r12;
	regs[1] = a.r13;
	regs[2] = a.r14;
	regs[3] = a.r15;
}

u64 tdx_rdmsr(u32 msr)
{
	return vmcall(TDVMCALL_INSTR_RDMSR, msr, 0, 0, 0).r11;
}

void tdx_wrmsr(u32 msr, u64 value)
{
	vmcall(TDVMCALL_INSTR_WRMSR, msr, value, 0, 0);
}

void tdx_hlt(bool irqs_blocked)
{
	vmcall(TDVMCALL_INSTR_HLT, irqs_blocked, 0, 0, 0);
}
