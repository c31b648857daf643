/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the lib/x86/tdx_*.c files share and tests must not see: the guest
 * symbols the host patches into a TD's image before it is measured.
 */
#ifndef KVMTEST_X86_TDX_INTERNAL_H
#define KVMTEST_X86_TDX_INTERNAL_H

#include "tdx/tdx.h"

/* tdx_guest.c: the S-bit, set by tdx_vm_create() with write_guest_global. */
extern u64 tdx_guest_s_bit;

/* tdx_guest.c: the guest side of a TD's ucall transport. */
void tdx_guest_ucall(struct ucall *uc);

/* tdx_guest.c: where guest code that returns lands (the stub pushes it). */
void tdx_guest_code_returned(void);

/* tdx_run.c: its host side (KVM_EXIT_MMIO to the buffer). */
bool tdx_get_ucall(struct kvm_vcpu *vcpu, struct ucall *uc);

#endif /* KVMTEST_X86_TDX_INTERNAL_H */
