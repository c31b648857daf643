// SPDX-License-Identifier: GPL-2.0-only
/* x86 per-VM set-up: the descriptor tables every vCPU shares. */
#include "kvm_util.h"
#include "desc.h"

void x86_vm_init(struct kvm_vm *vm)
{
	x86_gdt_init(vm);
	x86_idt_init(vm);
}
