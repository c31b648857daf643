// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 vCPU set-up: 64-bit mode straight from KVM_SET_SREGS (no firmware,
 * no mode switches), our page tables in CR3, flat segments, the VM's GDT
 * and IDT, a TSS and stack of its own.
 */
#include <stdarg.h>

#include "kvm_util.h"
#include "internal.h"
#include "apic.h"
#include "desc.h"

#define GUEST_STACK_PAGES	8

/* Where a guest function that returns lands: that is a test bug. */
static void guest_code_returned(void)
{
	GUEST_FAIL("guest code returned; end it with GUEST_DONE()");
}

void vcpu_set_cpuid(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	size_t size = sizeof(*cpuid) + cpuid->nent * sizeof(cpuid->entries[0]);

	if (vcpu->arch.cpuid != cpuid) {
		free(vcpu->arch.cpuid);
		vcpu->arch.cpuid = malloc(size);
		TEST_ASSERT(vcpu->arch.cpuid, "out of memory");
		memcpy(vcpu->arch.cpuid, cpuid, size);
	}
	vcpu_ioctl(vcpu, KVM_SET_CPUID2, vcpu->arch.cpuid);
}

void vcpu_arch_init(struct kvm_vcpu *vcpu, void *guest_code)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	u64 stack = vm_vaddr_alloc(vm, GUEST_STACK_PAGES * PAGE_SIZE);

	vcpu_set_cpuid(vcpu, kvm_supported_cpuid());

	vcpu->arch.tss = x86_tss_alloc(vm);
	vcpu->arch.stack_top = stack + GUEST_STACK_PAGES * PAGE_SIZE;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		    X86_CR0_WP | X86_CR0_PG;
	sregs.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	if (vm->mmu.pgtable_levels == 5)
		sregs.cr4 |= X86_CR4_LA57;
	sregs.efer = EFER_LME | EFER_LMA | EFER_NX;
	sregs.cr3 = vm->mmu.pgd;
	x86_segment_code64(&sregs.cs, KERNEL_CS);
	x86_segment_data(&sregs.ds, KERNEL_DS);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	x86_segment_tss(&sregs.tr, vcpu->arch.tss);
	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.gdt.base = vm->arch.gdt;
	sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs.idt.base = vm->arch.idt;
	sregs.idt.limit = IDT_ENTRIES * 16 - 1;
	vcpu_sregs_set(vcpu, &sregs);

	/* Enter as if called: the return address sits at the stack top. */
	*(u64 *)addr_gva2hva(vm, vcpu->arch.stack_top - 8) =
		(u64)guest_code_returned;
	regs.rsp = vcpu->arch.stack_top - 8;
	regs.rip = (u64)guest_code;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_regs_set(vcpu, &regs);

	/*
	 * With an in-kernel LAPIC every vCPU but the boot CPU waits for
	 * INIT/SIPI; ours start at guest_code like the boot CPU.
	 */
	if (vm_has_lapic(vm)) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		vcpu_ioctl(vcpu, KVM_SET_MP_STATE, &mp);
	}
}

/* A vCPU created again (vm_restart()) gets the CPUID it had, no state. */
void vcpu_arch_reopen(struct kvm_vcpu *vcpu)
{
	vcpu_set_cpuid(vcpu, vcpu->arch.cpuid);
}

void vcpu_arch_free(struct kvm_vcpu *vcpu)
{
	free(vcpu->arch.cpuid);
}

void vcpu_regs_get(struct kvm_vcpu *vcpu, struct kvm_regs *regs)
{
	vcpu_ioctl(vcpu, KVM_GET_REGS, regs);
}

void vcpu_regs_set(struct kvm_vcpu *vcpu, struct kvm_regs *regs)
{
	vcpu_ioctl(vcpu, KVM_SET_REGS, regs);
}

void vcpu_sregs_get(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	vcpu_ioctl(vcpu, KVM_GET_SREGS, sregs);
}

int __vcpu_sregs_set(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	return __vcpu_ioctl(vcpu, KVM_SET_SREGS, sregs);
}

void vcpu_sregs_set(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	vcpu_ioctl(vcpu, KVM_SET_SREGS, sregs);
}

void vcpu_args_set(struct kvm_vcpu *vcpu, int nargs, ...)
{
	struct kvm_regs regs;
	u64 *slots[] = { &regs.rdi, &regs.rsi, &regs.rdx, &regs.rcx,
			 &regs.r8, &regs.r9 };
	va_list ap;

	TEST_ASSERT(nargs >= 0 && nargs <= (int)ARRAY_SIZE(slots),
		    "vcpu_args_set: %d arguments, at most 6 fit in registers",
		    nargs);
	vcpu_regs_get(vcpu, &regs);
	va_start(ap, nargs);
	for (int i = 0; i < nargs; i++)
		*slots[i] = va_arg(ap, u64);
	va_end(ap);
	vcpu_regs_set(vcpu, &regs);
}

void vcpu_dump(FILE *out, struct kvm_vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (__vcpu_ioctl(vcpu, KVM_GET_REGS, &r) ||
	    __vcpu_ioctl(vcpu, KVM_GET_SREGS, &s))
		return;
	fprintf(out, "vCPU %u: rip 0x%llx rsp 0x%llx rflags 0x%llx\n"
		"  rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx rsi 0x%llx rdi 0x%llx\n"
		"  cr0 0x%llx cr2 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx\n",
		vcpu->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx,
		r.rsi, r.rdi, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	/* What KVM says went wrong: 1 is "emulation failed" (api.rst). */
	if (vcpu->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		fprintf(out, "  internal error: suberror %u, %u data words:",
			vcpu->run->internal.suberror, vcpu->run->internal.ndata);
		for (u32 i = 0; i < vcpu->run->internal.ndata &&
				i < ARRAY_SIZE(vcpu->run->internal.data); i++)
			fprintf(out, " 0x%llx",
				vcpu->run->internal.data[i]);
		fputc('\n', out);
	}
}
