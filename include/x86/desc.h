/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Segment and gate descriptors of the guests' GDT, TSS and IDT.
 */
#ifndef KVMTEST_X86_DESC_H
#define KVMTEST_X86_DESC_H

#include "test_util.h"

/* GDT layout shared by every guest. */
#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define USER_DS		(0x18 | 3)
#define USER_CS		(0x20 | 3)
#define TSS_SEL		0x28	/* 16-byte system descriptor */
#define GDT_ENTRIES	7

/* 64-bit TSS (SDM Vol. 3, "Task Management in 64-bit Mode"). */
struct tss64 {
	u32 reserved0;
	u64 rsp0;
	u64 rsp1;
	u64 rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

/* 64-bit interrupt gate. */
struct idt_gate64 {
	u16 offset0;
	u16 selector;
	u8 ist;
	u8 type_attr;	/* P | DPL | type 0xE (interrupt gate) */
	u16 offset1;
	u32 offset2;
	u32 reserved;
} __attribute__((packed));

#define IDT_ENTRIES	256

/* Host side, used by x86_vm_init()/x86_vcpu_init(). */
struct kvm_vm;
struct kvm_segment;
void x86_gdt_init(struct kvm_vm *vm);
void x86_idt_init(struct kvm_vm *vm);
u64 x86_tss_alloc(struct kvm_vm *vm);
void x86_segment_code64(struct kvm_segment *seg, u16 selector);
void x86_segment_data(struct kvm_segment *seg, u16 selector);
void x86_segment_tss(struct kvm_segment *seg, u64 base);

#endif /* KVMTEST_X86_DESC_H */
