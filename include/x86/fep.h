/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's forced emulation prefix: with kvm.force_emulation_prefix=1, an
 * instruction preceded by "ud2; .ascii \"kvm\"" is run by KVM's emulator
 * instead of the CPU, so a test can reach the emulator's paths (its page
 * walker, its nested-TDP fault injection) with any instruction it likes.
 */
#ifndef KVMTEST_X86_FEP_H
#define KVMTEST_X86_FEP_H

#include <stdbool.h>

/* Guest code: prefix an instruction in inline assembly with it. */
#define KVM_FEP		"ud2; .byte 'k', 'v', 'm'; "

/* Host: whether the kvm module forces emulation on the prefix. */
bool kvm_fep_enabled(void);

#endif /* KVMTEST_X86_FEP_H */
