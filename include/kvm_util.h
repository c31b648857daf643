/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM and vCPU API: what a test calls to get a guest running.
 *
 * Naming follows the in-tree selftests so KVM developers feel at home:
 * vm_foo() asserts success, __vm_foo() returns the raw result for tests that
 * expect a failure.
 */
#ifndef KVMTEST_KVM_UTIL_H
#define KVMTEST_KVM_UTIL_H

#include <sys/ioctl.h>

#include "test_util.h"
#include "test_check.h"
#include "kvm_abi.h"
#include "kvm_mmu.h"
#include "mem_attr.h"
#include "ucall.h"
#include "processor.h"

#define KVMT_MAX_VCPUS		1024
#define KVMT_MAIN_SLOT		0

/* Backing of a memslot's host memory. */
enum vm_mem_backing {
	VM_MEM_ANON,		/* private anonymous, 4 KiB pages */
	VM_MEM_ANON_THP,	/* private anonymous, MADV_HUGEPAGE */
	VM_MEM_ANON_HUGETLB_2M,	/* MAP_HUGETLB, 2 MiB pages */
	VM_MEM_ANON_HUGETLB_1G,	/* MAP_HUGETLB, 1 GiB pages */
	VM_MEM_SHMEM,		/* memfd, MAP_SHARED: a second mapping sees it */
	VM_MEM_HUGETLBFS_2M,	/* memfd MFD_HUGETLB 2 MiB, MAP_SHARED */
	VM_MEM_HUGETLBFS_1G,	/* memfd MFD_HUGETLB 1 GiB, MAP_SHARED */
	NR_VM_MEM_BACKINGS,
};

struct vm_memslot {
	struct kvm_userspace_memory_region2 region;
	enum vm_mem_backing backing;
	void *host_mem;		/* host mapping of guest_phys_addr */
	void *host_alias;	/* second mapping of shared backings */
	size_t mmap_size;
	int fd;			/* memfd of shared backings, else -1 */
	u64 next_free;		/* bump pointer of the page allocator */
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	u32 id;
	int fd;
	struct kvm_run *run;
	struct kvm_vcpu_arch arch;
};

struct vm_options {
	unsigned long type;	/* KVM_CREATE_VM type, e.g. KVM_X86_DEFAULT_VM */
	int va_bits;		/* 48 (4-level paging) or 57 (5-level) */
	u64 mem_size;		/* size of the main memslot, 0 = default */
	enum vm_mem_backing backing;
	int numa_node;		/* bind main memory to this node, -1 = any */
	bool no_image;		/* do not load the test binary (fake VMs) */
	enum vm_irqchip irqchip;	/* 0: the in-kernel irqchip (x86/apic.h) */
};

struct kvm_vm {
	int kvm_fd;
	int fd;			/* -1 for a fake VM (host-only unit tests) */
	unsigned long type;
	int va_bits;
	int pa_bits;

	struct vm_memslot *slots;
	int nr_slots;
	int max_slots;
	int last_slot;		/* lookup cache: the slot hit last */

	struct kvm_vcpu *vcpus[KVMT_MAX_VCPUS];
	int nr_vcpus;

	struct kvm_mmu mmu;		/* the guest's own page tables */
	struct kvm_mmu stage2_mmu;	/* EPT/NPT an L1 gives its L2 */

	u64 vaddr_next;		/* bump pointer for vm_vaddr_alloc() */
	struct mem_attr_map mem_attrs;	/* what KVM_SET_MEMORY_ATTRIBUTES set */
	struct ucall_transport ucall;	/* zero: the architecture's own */
	struct kvm_vm_arch arch;
};

/* /dev/kvm and its capabilities; both skip the test when KVM is absent. */
int kvm_dev_fd(void);
int kvm_check_cap(long cap);
int kvm_dev_ioctl(unsigned long cmd, void *arg);

/* VM lifetime. */
struct kvm_vm *vm_create(const struct vm_options *opts);
struct kvm_vm *vm_create_fake(int va_bits, int pa_bits, u64 mem_size);
struct kvm_vm *vm_create_with_one_vcpu(struct kvm_vcpu **vcpu,
				       void *guest_code);
struct kvm_vm *vm_create_with_vcpus(int nr_vcpus, void *guest_code,
				    struct kvm_vcpu **vcpus);
void kvm_vm_free(struct kvm_vm *vm);
/*
 * Put a new KVM VM behind @vm, as on the target of a migration: the same
 * memory (every memslot registered again over the same host mapping), page
 * tables and library state as they are, each vCPU created again with its
 * id and CPUID but no state; give it one with vcpu_load_state(). The old
 * VM and vCPUs are closed first, so nothing of them stays in KVM.
 */
void vm_restart(struct kvm_vm *vm);

int __vm_ioctl(struct kvm_vm *vm, unsigned long cmd, void *arg);
void vm_ioctl_named(struct kvm_vm *vm, unsigned long cmd, void *arg,
		    const char *name);
#define vm_ioctl(vm, cmd, arg) vm_ioctl_named(vm, cmd, arg, #cmd)
int vm_check_cap(struct kvm_vm *vm, long cap);
void vm_enable_cap(struct kvm_vm *vm, u32 cap, u64 arg0);
int __vm_enable_cap(struct kvm_vm *vm, u32 cap, u64 arg0);

/* Memslots. */
int __vm_memslot_add(struct kvm_vm *vm, enum vm_mem_backing backing,
		     u64 gpa, u32 slot, u64 npages, u32 flags, int numa_node);
void vm_memslot_add(struct kvm_vm *vm, enum vm_mem_backing backing, u64 gpa,
		    u32 slot, u64 npages, u32 flags);
int __vm_memslot_move(struct kvm_vm *vm, u32 slot, u64 new_gpa);
void vm_memslot_move(struct kvm_vm *vm, u32 slot, u64 new_gpa);
void vm_memslot_delete(struct kvm_vm *vm, u32 slot);
void vm_memslot_set_flags(struct kvm_vm *vm, u32 slot, u32 flags);
struct vm_memslot *vm_memslot(struct kvm_vm *vm, u32 slot);
struct vm_memslot *vm_memslot_of_gpa(struct kvm_vm *vm, u64 gpa);
bool vm_gpa_range_backed(struct kvm_vm *vm, u64 gpa, u64 size);
void vm_get_dirty_log(struct kvm_vm *vm, u32 slot, void *bitmap);
bool vm_mem_backing_available(enum vm_mem_backing backing);
const char *vm_mem_backing_name(enum vm_mem_backing backing);
u64 vm_mem_backing_page_size(enum vm_mem_backing backing);

/* Raw KVM_SET_USER_MEMORY_REGION, for tests of KVM's argument checks. */
int __vm_set_user_memory_region(struct kvm_vm *vm, u32 slot, u32 flags,
				u64 gpa, u64 size, void *hva);

/* Guest-physical pages, from a slot's bump allocator (never reused). */
u64 vm_phys_pages_alloc(struct kvm_vm *vm, u64 npages, u64 align, u32 slot);
static inline u64 vm_phys_page_alloc(struct kvm_vm *vm)
{
	return vm_phys_pages_alloc(vm, 1, PAGE_SIZE, KVMT_MAIN_SLOT);
}

/* Guest-virtual memory: fresh pages mapped read/write at a new address. */
u64 vm_vaddr_alloc(struct kvm_vm *vm, u64 size);
u64 vm_vaddr_reserve(struct kvm_vm *vm, u64 size, u64 align);
void virt_map(struct kvm_vm *vm, u64 gva, u64 gpa, u64 size);

/* Host views of guest addresses. */
void *addr_gpa2hva(struct kvm_vm *vm, u64 gpa);
void *addr_gva2hva(struct kvm_vm *vm, u64 gva);
u64 addr_gva2gpa(struct kvm_vm *vm, u64 gva);
/* Copy from guest virtual memory that may span pages of any GPA. */
void memcpy_from_guest(struct kvm_vm *vm, void *dst, u64 gva, size_t len);

/*
 * Guest and host share the test binary's globals by value: the guest runs
 * a copy loaded at VM creation. These copy one global across.
 */
#define sync_global_to_guest(vm, g)					\
	memcpy(addr_gva2hva(vm, (u64)&(g)), &(g), sizeof(g))
#define sync_global_from_guest(vm, g)					\
	memcpy(&(g), addr_gva2hva(vm, (u64)&(g)), sizeof(g))
#define write_guest_global(vm, g, val)					\
	(*(typeof(g) *)addr_gva2hva(vm, (u64)&(g)) = (val))
#define read_guest_global(vm, g)					\
	(*(typeof(g) *)addr_gva2hva(vm, (u64)&(g)))

/* Load the running test binary's code and data at the same addresses. */
void vm_load_image(struct kvm_vm *vm);

/* vCPUs. */
struct kvm_vcpu *vm_vcpu_add(struct kvm_vm *vm, u32 id, void *guest_code);
int __vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned long cmd, void *arg);
void vcpu_ioctl_named(struct kvm_vcpu *vcpu, unsigned long cmd, void *arg,
		      const char *name);
#define vcpu_ioctl(vcpu, cmd, arg) vcpu_ioctl_named(vcpu, cmd, arg, #cmd)
int __vcpu_run(struct kvm_vcpu *vcpu);
void vcpu_run(struct kvm_vcpu *vcpu);
/*
 * Finish the instruction behind the last exit (an I/O or MMIO access)
 * without running on: KVM_RUN with immediate_exit, as api.rst advises
 * before saving vCPU state, so no half-done operation is left in KVM.
 */
void vcpu_complete_io(struct kvm_vcpu *vcpu);
const char *exit_reason_str(u32 exit_reason);

/* Assert the last exit was @reason, naming both on failure. */
#define TEST_ASSERT_EXIT_REASON(vcpu, reason)				\
	TEST_ASSERT((vcpu)->run->exit_reason == (reason),		\
		    "exit reason %s, expected %s",			\
		    exit_reason_str((vcpu)->run->exit_reason),		\
		    exit_reason_str(reason))

/*
 * Run until the guest calls GUEST_DONE(). Guest printfs are printed, a
 * guest assert fails the test with the guest's file, line and message, and
 * each GUEST_SYNC is handed to on_sync (NULL: a sync is an error).
 */
typedef void (*ucall_handler_t)(struct kvm_vcpu *vcpu, struct ucall *uc,
				void *data);
void vcpu_run_to_done(struct kvm_vcpu *vcpu, ucall_handler_t on_sync,
		      void *data);

/*
 * Run until the guest syncs (UCALL_SYNC), finishes (UCALL_DONE) or exits
 * for anything but a ucall (UCALL_NONE: the exit is in vcpu->run), for
 * tests that handle exits of their own. Guest printfs are printed and a
 * guest assert fails the test, as in vcpu_run_to_done().
 */
u64 vcpu_run_next(struct kvm_vcpu *vcpu, struct ucall *uc);

/*
 * The ucalls every run loop handles alike: print a guest printf, record a
 * guest check or case boundary (and say so: run on), fail the test on a
 * guest assert; false for anything else.
 */
bool ucall_print_or_abort(u64 cmd, struct ucall *uc);

/* Run once and return the ucall the guest made (UCALL_NONE if none). */
u64 vcpu_run_ucall(struct kvm_vcpu *vcpu, struct ucall *uc);

#endif /* KVMTEST_KVM_UTIL_H */
