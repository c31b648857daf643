// SPDX-License-Identifier: GPL-2.0-only
/*
 * GDT, TSS and IDT of the guests: one GDT and IDT per VM, one TSS (and
 * exception stack) per vCPU so vCPUs can take ring transitions at once.
 */
#include "kvm_util.h"
#include "desc.h"
#include "exception.h"

#define EXCEPTION_STACK_PAGES	2

/* Access byte and flags of a segment descriptor. */
#define SEG_P		BIT_ULL(47)
#define SEG_S		BIT_ULL(44)
#define SEG_DPL(d)	((u64)(d) << 45)
#define SEG_TYPE(t)	((u64)(t) << 40)
#define SEG_L		BIT_ULL(53)
#define SEG_DB		BIT_ULL(54)
#define SEG_G		BIT_ULL(55)
#define SEG_LIMIT_4G	(0xffffULL | (0xfULL << 48))

void x86_gdt_init(struct kvm_vm *vm)
{
	u64 *gdt;

	vm->arch.gdt = vm_vaddr_alloc(vm, PAGE_SIZE);
	gdt = addr_gva2hva(vm, vm->arch.gdt);
	gdt[KERNEL_CS / 8] = SEG_P | SEG_S | SEG_TYPE(0xb) | SEG_L | SEG_G | SEG_LIMIT_4G;
	gdt[KERNEL_DS / 8] = SEG_P | SEG_S | SEG_TYPE(0x3) | SEG_DB | SEG_G | SEG_LIMIT_4G;
	gdt[USER_DS / 8] = SEG_P | SEG_S | SEG_DPL(3) | SEG_TYPE(0x3) | SEG_DB | SEG_G | SEG_LIMIT_4G;
	gdt[USER_CS / 8] = SEG_P | SEG_S | SEG_DPL(3) | SEG_TYPE(0xb) | SEG_L | SEG_G | SEG_LIMIT_4G;
	/*
	 * The TSS descriptor's base is per vCPU and loaded straight into TR's
	 * hidden part by KVM_SET_SREGS; the GDT copy only matters to an LTR,
	 * which guests never do. Keep a valid available-TSS descriptor anyway.
	 */
	gdt[TSS_SEL / 8] = SEG_P | SEG_TYPE(0x9) | (sizeof(struct tss64) - 1);
}

void x86_idt_init(struct kvm_vm *vm)
{
	extern const char exception_stubs[];
	struct idt_gate64 *idt;

	vm->arch.idt = vm_vaddr_alloc(vm, IDT_ENTRIES * sizeof(*idt));
	idt = addr_gva2hva(vm, vm->arch.idt);
	for (int v = 0; v < IDT_ENTRIES; v++) {
		u64 addr = (u64)exception_stubs + 16 * v;

		idt[v] = (struct idt_gate64){
			.offset0 = addr,
			.selector = KERNEL_CS,
			.type_attr = 0x80 | 0xe,	/* present, DPL0, interrupt gate */
			.offset1 = addr >> 16,
			.offset2 = addr >> 32,
		};
	}
}

u64 x86_tss_alloc(struct kvm_vm *vm)
{
	u64 stack = vm_vaddr_alloc(vm, EXCEPTION_STACK_PAGES * PAGE_SIZE);
	u64 tss_gva = vm_vaddr_alloc(vm, PAGE_SIZE);
	struct tss64 *tss = addr_gva2hva(vm, tss_gva);

	/* Where the CPU switches stacks when a user-mode probe faults. */
	tss->rsp0 = stack + EXCEPTION_STACK_PAGES * PAGE_SIZE;
	tss->iomap_base = sizeof(*tss);
	return tss_gva;
}

void x86_segment_code64(struct kvm_segment *seg, u16 selector)
{
	*seg = (struct kvm_segment){
		.selector = selector, .limit = 0xffffffff, .type = 0xb,
		.present = 1, .dpl = selector & 3, .s = 1, .l = 1, .g = 1,
	};
}

void x86_segment_data(struct kvm_segment *seg, u16 selector)
{
	*seg = (struct kvm_segment){
		.selector = selector, .limit = 0xffffffff, .type = 0x3,
		.present = 1, .dpl = selector & 3, .s = 1, .db = 1, .g = 1,
	};
}

void x86_segment_tss(struct kvm_segment *seg, u64 base)
{
	*seg = (struct kvm_segment){
		.selector = TSS_SEL, .base = base,
		.limit = sizeof(struct tss64) - 1, .type = 0xb, .present = 1,
	};
}
