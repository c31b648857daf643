/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What lib/ files share with each other and tests must not call: the TAP
 * output layer behind the checks, the checks' own bookkeeping, memslot
 * registration and vCPU teardown. Only lib/ (and the library's own unit
 * tests) have this directory on their include path; a test that needs
 * one of these is asking for an API that belongs in include/.
 */
#ifndef KVMTEST_INTERNAL_H
#define KVMTEST_INTERNAL_H

#include "kvm_util.h"

/*
 * TAP output (lib/tap.c), the layer check.c prints through: one line per
 * case, the plan, the exit code that sums the cases up.
 */
void __printf(2, 3) tap_result(bool pass, const char *fmt, ...);
void __printf(2, 3) tap_skip(const char *reason, const char *fmt, ...);
/* The trailing plan and the exit code; fails also when @failed. */
void __noreturn tap_finish(bool failed);
void tap_reset(void);

/*
 * Run fn(arg) in a child, streaming its output as "# " lines; a "SKIP:"
 * line goes to @skip. Returns the wait status. The base of run_case().
 */
int child_stream(void (*fn)(void *arg), void *arg, char *skip, size_t skip_len);

/* Called by test_assert_fail(): a dying process fails its open case. */
void check_case_abort(const char *why);
/* A forked child starts with no case and no TAP output of its own. */
void checks_reset(void);
/* Host: the guest's check ucalls, decoded. False for any other ucall. */
bool check_handle_ucall(u64 cmd, struct ucall *uc);
/*
 * Guest side: this VM's ucall transport, if not the architecture's own.
 * Set in the VM's copy of the image by vm_set_ucall_transport().
 */
extern void (*ucall_guest_transport)(struct ucall *uc);
/* Fail the test with a guest assert's report. */
void __noreturn report_guest_assert(struct ucall *uc);

/* Memslots and vCPUs as vm.c, memslot.c and vcpu.c hand them around. */
void vm_memslots_free(struct kvm_vm *vm);
void vm_memslots_register(struct kvm_vm *vm);
struct vm_memslot *vm_memslot_new(struct kvm_vm *vm, u32 slot, u32 flags,
				  u64 gpa, u64 size, void *mem, int fd);
void vcpus_close(struct kvm_vm *vm);
void vcpus_reopen(struct kvm_vm *vm);
void vcpu_free(struct kvm_vcpu *vcpu);
/* A slot bound to @gmem_fd; see vm_memslot_add_private() in private_mem.h. */
int __vm_memslot_add_gmem(struct kvm_vm *vm, enum vm_mem_backing backing,
			  u64 gpa, u32 slot, u64 npages, int gmem_fd,
			  u64 gmem_offset);

/*
 * The architecture behind the common VM and vCPU code: lib/ calls
 * these, lib/<arch>/ defines them (x86: lib/x86/vm.c and vcpu.c), and no
 * common file names an architecture's function.
 */
/* vm_create()'s options applied, before the KVM VM exists; NULL: fake VM. */
void vm_arch_setup(struct kvm_vm *vm, const struct vm_options *opts);
/* The widest guest-physical address the guest may use. */
int vm_arch_pa_bits(struct kvm_vm *vm);
/* vm->mmu: the guest's own page-table format for vm->va_bits. */
void vm_arch_mmu_init(struct kvm_vm *vm);
/* Each KVM VM opened for @vm (vm_create() and vm_restart()). */
void vm_arch_open(struct kvm_vm *vm);
/* Guest memory ready: what every vCPU of the VM shares. */
void vm_arch_init(struct kvm_vm *vm);
/* A new vCPU: registers, stack, CPUID, ready to run @guest_code. */
void vcpu_arch_init(struct kvm_vcpu *vcpu, void *guest_code);
/* A vCPU created again by vm_restart(): what KVM needs before state loads. */
void vcpu_arch_reopen(struct kvm_vcpu *vcpu);
void vcpu_arch_free(struct kvm_vcpu *vcpu);

#endif /* KVMTEST_INTERNAL_H */
