// SPDX-License-Identifier: GPL-2.0-only
/*
 * Code that runs inside a TD: accepting private pages, TDG.VP.VMCALL, and
 * the TD ucall transport. A TD's registers and private memory are hidden
 * from the host, so everything the guest needs to find (its vCPU slot,
 * its shared ucall buffer) is reached from its stack pointer or from
 * globals the host set in the image before it was measured.
 */
#include "kvm_util.h"
#include "tdx_internal.h"

/*
 * Set by the host in the TD's copy of the image (before measurement), so
 * it reads as zero in every other VM and on the host.
 */
u64 tdx_guest_s_bit;

static struct tdx_vcpu_info *tdx_guest_info(void)
{
	u64 rsp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return (struct tdx_vcpu_info *)(rsp & ~(u64)(TDX_STACK_SIZE - 1));
}

u64 tdx_guest_shared_bit(void)
{
	return tdx_guest_s_bit;
}

u64 tdx_guest_vcpu_slot(void)
{
	return tdx_guest_info()->slot;
}

/*
 * A TDCALL leaf other than TDG.VP.VMCALL: RAX selects it, RCX, RDX and
 * R8-R11 are inputs and outputs (the TDX module ABI may write any of
 * them), so every one is an in/out operand and nothing stale is assumed
 * to survive. Returns RAX, the completion status.
 */
static u64 tdcall(u64 leaf, u64 *rcx, u64 *rdx, u64 *r8, u64 *r9)
{
	register u64 r8_ __asm__("r8") = *r8;
	register u64 r9_ __asm__("r9") = *r9;
	register u64 r10 __asm__("r10") = 0;
	register u64 r11 __asm__("r11") = 0;
	u64 rax = leaf;

	__asm__ volatile(".byte 0x66, 0x0f, 0x01, 0xcc"	/* tdcall */
			 : "+a"(rax), "+c"(*rcx), "+d"(*rdx), "+r"(r8_),
			   "+r"(r9_), "+r"(r10), "+r"(r11)
			 : : "memory");
	*r8 = r8_;
	*r9 = r9_;
	return rax;
}

u64 tdx_accept_page(u64 gpa, int level)
{
	u64 status;

	/*
	 * Another vCPU accepting or KVM adding a page nearby holds the
	 * S-EPT entry for a moment: TDX_OPERAND_BUSY means "try again".
	 */
	do {
		u64 rcx = gpa | level, rdx = 0, r8 = 0, r9 = 0;

		status = tdcall(TDG_MEM_PAGE_ACCEPT, &rcx, &rdx, &r8, &r9);
	} while (TDX_STATUS_CLASS(status) == TDX_OPERAND_BUSY);
	return status;
}

struct tdx_vp_info tdx_vp_info(void)
{
	u64 rcx = 0, rdx = 0, r8 = 0, r9 = 0;
	u64 status = tdcall(TDG_VP_INFO, &rcx, &rdx, &r8, &r9);

	GUEST_ASSERT_MSG(status == TDX_SUCCESS, "TDG.VP.INFO status 0x%llx",
			 (unsigned long long)status);
	return (struct tdx_vp_info){
		.gpaw = rcx & 0x3f,
		.attributes = rdx,
		.num_vcpus = (u32)r8,
		.max_vcpus = r8 >> 32,
		.vcpu_index = (u32)r9,
	};
}

void tdx_guest_accept(u64 gpa)
{
	u64 status = tdx_accept_page(gpa, TDX_ACCEPT_4K);

	GUEST_ASSERT_MSG(status == TDX_SUCCESS ||
			 TDX_STATUS_CLASS(status) == TDX_PAGE_ALREADY_ACCEPTED,
			 "TDG.MEM.PAGE.ACCEPT(0x%llx) status 0x%llx",
			 gpa, status);
}

/*
 * TDG.VP.VMCALL with R10..R15 exposed; returns the TDCALL status (RAX)
 * and leaves in @a what the VMM put in R10..R15.
 */
static u64 __tdx_tdvmcall(struct tdx_tdvmcall *a)
{
	register u64 r10 __asm__("r10") = a->r10;
	register u64 r11 __asm__("r11") = a->r11;
	register u64 r12 __asm__("r12") = a->r12;
	register u64 r13 __asm__("r13") = a->r13;
	register u64 r14 __asm__("r14") = a->r14;
	register u64 r15 __asm__("r15") = a->r15;
	u64 rax = TDG_VP_VMCALL, rcx = TDVMCALL_EXPOSE_R10_R15;

	/* The VMM may change every exposed register: all are in/out. */
	__asm__ volatile(".byte 0x66, 0x0f, 0x01, 0xcc"	/* tdcall */
			 : "+a"(rax), "+c"(rcx), "+r"(r10), "+r"(r11),
			   "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
			 : : "memory");
	*a = (struct tdx_tdvmcall){ r10, r11, r12, r13, r14, r15 };
	return rax;
}

u64 tdx_tdvmcall(struct tdx_tdvmcall *a)
{
	u64 rax = __tdx_tdvmcall(a);

	GUEST_ASSERT_MSG(rax == TDX_SUCCESS, "TDG.VP.VMCALL TDCALL status 0x%llx",
			 rax);
	return a->r10;
}

/*
 * The TD ucall transport: copy the struct into this vCPU's shared buffer
 * and tell the host where it is with an 8-byte MMIO write, which KVM turns
 * into a KVM_EXIT_MMIO. Port I/O would trap to the TDX module as #VE, and
 * the host could not read a register or the private stack anyway.
 */
void tdx_guest_ucall(struct ucall *uc)
{
	struct tdx_vcpu_info *info = tdx_guest_info();
	struct tdx_tdvmcall a;

	memcpy((void *)info->ucall_gva, uc, sizeof(*uc));
	tdx_tdvmcall_mmio_write(&a, info->mmio_gpa, 8, info->ucall_gpa);
	/* Not tdx_tdvmcall(): a failing ucall must not recurse into one. */
	__tdx_tdvmcall(&a);
}

void tdx_guest_code_returned(void)
{
	GUEST_FAIL("guest code returned; end it with GUEST_DONE()");
}
