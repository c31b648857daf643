/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private guest memory, for every VM type that has it (software-protected
 * VMs, TDX, SEV-SNP): guest_memfd files and the memslots bound to them,
 * fallocate and hole punching, memory attributes, the exits KVM uses to
 * talk about private memory (KVM_EXIT_MEMORY_FAULT, KVM_EXIT_HYPERCALL
 * for KVM_HC_MAP_GPA_RANGE) and KVM_PRE_FAULT_MEMORY.
 *
 * A private memslot has two halves at the same GPAs: the guest_memfd
 * (private) and a host mapping (shared, what addr_gpa2hva() returns). The
 * memory attribute of each page says which half the guest gets.
 *
 * Naming as elsewhere: vm_foo() asserts success, __vm_foo() returns the
 * raw result (-1 with errno, or the ioctl's value).
 */
#ifndef KVMTEST_PRIVATE_MEM_H
#define KVMTEST_PRIVATE_MEM_H

#include "kvm_util.h"

/* ---- guest_memfd -------------------------------------------------------- */

/* KVM_CREATE_GUEST_MEMFD: the new fd, or -1 with errno. */
int __vm_create_guest_memfd(struct kvm_vm *vm, u64 size, u64 flags);
int vm_create_guest_memfd(struct kvm_vm *vm, u64 size, u64 flags);

/* Raw KVM_SET_USER_MEMORY_REGION2, for tests of KVM's binding rules. */
int __vm_set_user_memory_region2(struct kvm_vm *vm, u32 slot, u32 flags,
				 u64 gpa, u64 size, void *hva, int gmem_fd,
				 u64 gmem_offset);

/*
 * A memslot of @npages at @gpa whose shared half is @backing host memory
 * and whose private half is @gmem_fd from @gmem_offset, or a new
 * guest_memfd of the slot's size when @gmem_fd < 0. The slot keeps its own
 * (dup'ed) descriptor, closed when the slot goes. Attributes are not
 * touched: pages start shared unless the caller sets them private.
 * Returns 0 or -errno.
 */
int __vm_memslot_add_private(struct kvm_vm *vm, enum vm_mem_backing backing,
			     u64 gpa, u32 slot, u64 npages, int gmem_fd,
			     u64 gmem_offset);
void vm_memslot_add_private(struct kvm_vm *vm, enum vm_mem_backing backing,
			    u64 gpa, u32 slot, u64 npages, int gmem_fd,
			    u64 gmem_offset);
/* The guest_memfd behind @slot (asserts it has one). */
int vm_memslot_gmem_fd(struct kvm_vm *vm, u32 slot);

/*
 * One piece of a GPA range inside one guest_memfd slot: where its pages
 * are in the file. gmem_plan_ranges() cuts [gpa, gpa + size) into such
 * pieces; it returns how many, or -1 if part of the range is not in a
 * guest_memfd slot.
 */
struct gmem_piece {
	u32 slot;
	int fd;
	u64 offset;
	u64 size;
};
int gmem_plan_ranges(struct kvm_vm *vm, u64 gpa, u64 size,
		     struct gmem_piece *out, int max);

/* fallocate() on the guest_memfd behind [gpa, gpa + size), across slots. */
int __vm_gmem_fallocate(struct kvm_vm *vm, u64 gpa, u64 size, bool punch);
void vm_gmem_punch_hole(struct kvm_vm *vm, u64 gpa, u64 size);
void vm_gmem_allocate(struct kvm_vm *vm, u64 gpa, u64 size);

/* ---- memory attributes ------------------------------------------------- */

/* KVM_CAP_MEMORY_ATTRIBUTES of @vm: the attributes it supports. */
u64 vm_supported_memory_attributes(struct kvm_vm *vm);
/* KVM_SET_MEMORY_ATTRIBUTES; on success the library's record follows. */
int __vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			       u64 attributes);
void vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			      u64 attributes);
static inline void vm_mem_set_private(struct kvm_vm *vm, u64 gpa, u64 size)
{
	vm_set_memory_attributes(vm, gpa, size, KVM_MEMORY_ATTRIBUTE_PRIVATE);
}
static inline void vm_mem_set_shared(struct kvm_vm *vm, u64 gpa, u64 size)
{
	vm_set_memory_attributes(vm, gpa, size, 0);
}
/* What the library set last for @gpa (KVM cannot be asked). */
u64 vm_mem_attributes(struct kvm_vm *vm, u64 gpa);
bool vm_mem_is_private(struct kvm_vm *vm, u64 gpa);

/* ---- exits and pre-faulting ------------------------------------------- */

/*
 * After KVM_RUN returned @ret: was it a KVM_EXIT_MEMORY_FAULT (which comes
 * with -1/EFAULT, not 0)? If so, *mf holds the fault.
 */
bool vcpu_memory_fault(struct kvm_vcpu *vcpu, int ret,
		       struct kvmt_exit_memory_fault *mf);

/* Let KVM_HC_MAP_GPA_RANGE reach userspace as KVM_EXIT_HYPERCALL. */
void vm_enable_map_gpa_range_exit(struct kvm_vm *vm);

/* A guest's request to make pages private or shared. */
struct map_gpa_request {
	u64 gpa;
	u64 npages;
	u64 attrs;		/* KVM_MAP_GPA_RANGE_* as the guest passed */
};
/* Is the last exit a KVM_HC_MAP_GPA_RANGE? Fills @req if so. */
bool vcpu_map_gpa_exit(struct kvm_vcpu *vcpu, struct map_gpa_request *req);
/* The hypercall's result for the guest (0, or a KVM_E* error). */
void vcpu_map_gpa_exit_return(struct kvm_vcpu *vcpu, u64 ret);

/*
 * What the host does for a MAP_GPA_RANGE request: set which attributes on
 * which bytes, and whether to discard (punch) the private pages of a range
 * that becomes shared. Pure; the error is the hypercall's return value.
 */
struct conversion_plan {
	u64 gpa;
	u64 size;
	u64 attributes;		/* for KVM_SET_MEMORY_ATTRIBUTES */
	bool discard_private;	/* punch the guest_memfd after going shared */
	u64 error;		/* 0, or KVM_EINVAL: do nothing, return it */
};
struct conversion_plan plan_map_gpa(const struct map_gpa_request *req,
				    bool discard_on_share);

/*
 * Carry out @req on @vm (attributes, then the discard if planned) and
 * return what the guest's hypercall should return.
 */
u64 vm_map_gpa(struct kvm_vm *vm, const struct map_gpa_request *req,
	       bool discard_on_share);

/*
 * KVM_PRE_FAULT_MEMORY once: 0 when at least one page was mapped (KVM
 * advanced @gpa and @size), else -1 with errno.
 */
int __vcpu_pre_fault_memory(struct kvm_vcpu *vcpu, u64 *gpa, u64 *size);
/* Until the whole range is mapped; 0 or -errno of the call that failed. */
int vcpu_pre_fault_memory(struct kvm_vcpu *vcpu, u64 gpa, u64 size);

#endif /* KVMTEST_PRIVATE_MEM_H */
