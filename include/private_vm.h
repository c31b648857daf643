/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VMs with private memory, of whatever kind the host runs: one small
 * interface so that a private-memory scenario is written once and runs on
 * a software-protected VM, a TD, and (room left) an SEV-SNP guest.
 *
 * What differs per type lives in the type's own file (lib/x86/private/):
 * how the VM is made and started, how the guest asks for a conversion
 * (a KVM hypercall, a TDVMCALL), what the guest must do with a page that
 * became private (nothing, TDG.MEM.PAGE.ACCEPT), how a shared page is
 * mapped (the same GPA, the S-bit), and what the type promises about
 * contents across conversions.
 */
#ifndef KVMTEST_PRIVATE_VM_H
#define KVMTEST_PRIVATE_VM_H

#include "private_mem.h"

/* Guest side: called from guest code through the type's table. */
struct pvm_guest_ops {
	/*
	 * Ask the host to make [gpa, gpa + size) private or shared; returns
	 * 0 when the host did it, else the hypercall's error.
	 */
	u64 (*map_gpa)(u64 gpa, u64 size, bool private);
	/* Make pages that just became private usable (TDX: accept them). */
	void (*accept)(u64 gpa, u64 size);
};

struct pvm_type {
	const char *name;		/* as TAP case names show it */
	unsigned long vm_type;		/* KVM_CREATE_VM's argument */

	/* NULL when this host runs the type, else why not (one line). */
	const char *(*unavailable)(void);
	struct kvm_vm *(*create)(int nr_vcpus, void *guest_code,
				 struct kvm_vcpu **vcpus);
	/* Up to four guest arguments, before pvm_ready(). */
	void (*args_set)(struct kvm_vcpu *vcpu, int nargs, const u64 *args);
	/* Map @size at @gva to @gpa, as a private or a shared page. */
	void (*map)(struct kvm_vm *vm, u64 gva, u64 gpa, u64 size, bool shared);
	/* Done with setting up: after this, vCPUs run (TDX: finalize). */
	void (*ready)(struct kvm_vm *vm);
	void (*free)(struct kvm_vm *vm);

	const struct pvm_guest_ops *guest;

	/*
	 * What the type promises. A software-protected VM keeps a private
	 * page's contents across private -> shared -> private (the
	 * guest_memfd page stays unless the host punches it); a TD gets the
	 * page back zeroed (KVM removes it from the TD on the way out).
	 */
	bool private_survives_conversion;
	/* Host should punch the guest_memfd of a range that goes shared. */
	bool discard_on_share;
};

/* Every private-memory type kvmtest knows, NULL-terminated. */
extern const struct pvm_type *const pvm_types[];

/* The type of @vm (asserts it is one of pvm_types). */
const struct pvm_type *pvm_type_of(struct kvm_vm *vm);

/* KVM_CAP_VM_TYPES of this host, 0 when the capability is absent. */
u64 kvm_vm_types(void);

/*
 * "Make me a protected VM of any kind this host runs": the first type of
 * pvm_types that is available, or a skip (exit 4) naming why each is not.
 */
const struct pvm_type *pvm_any_type(void);

/* Host helpers over the table, for scenario bodies. */
struct kvm_vm *pvm_create(const struct pvm_type *t, int nr_vcpus,
			  void *guest_code, struct kvm_vcpu **vcpus);
/*
 * A private test slot: a guest_memfd slot over @npages at @gpa whose
 * pages are private, mapped at @priv_gva as private and at @shared_gva as
 * shared (the same GPAs; a TD's shared mapping has the S-bit).
 */
void pvm_add_private_slot(struct kvm_vm *vm, u32 slot, u64 gpa, u64 npages,
			  u64 priv_gva, u64 shared_gva);
void pvm_args_set(struct kvm_vcpu *vcpu, int nargs, ...);
void pvm_ready(struct kvm_vm *vm);
void pvm_free(struct kvm_vm *vm);

/*
 * Run @vcpu until it makes a ucall other than a printf or a check, or
 * until a KVM_EXIT_MEMORY_FAULT. Conversion hypercalls (MAP_GPA_RANGE)
 * are carried out on the way, as a VMM would. Returns the ucall, or
 * UCALL_NONE for a memory fault (then *mf holds it; NULL: fail the test).
 */
u64 pvm_run(struct kvm_vcpu *vcpu, struct ucall *uc,
	    struct kvmt_exit_memory_fault *mf);

/* Guest side: the ops of the VM the guest runs in (set by pvm_create). */
extern const struct pvm_guest_ops *pvm_guest;
u64 guest_map_private(u64 gpa, u64 size);
u64 guest_map_shared(u64 gpa, u64 size);

/* Per-type files (lib/x86/private/). */
extern const struct pvm_type pvm_sw_protected;
extern const struct pvm_type pvm_tdx;
extern const struct pvm_type pvm_snp;

#endif /* KVMTEST_PRIVATE_VM_H */
