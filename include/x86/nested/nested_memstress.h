/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A memstress-style nested workload: N vCPUs, each an L1 that runs one L2,
 * each L2 touching its own slice of a data memslot under a stage-2
 * identity map, one round per nested_memstress_run(). Between rounds the
 * host may read the dirty log, edit stage-2 or move the window L2s touch
 * through (e.g. to an alias of the same L1 pages).
 *
 * L2 reports each round to the host directly (GUEST_SYNC from L2), so a
 * round costs one exit per vCPU, not an L1 round trip: TCG-friendly.
 */
#ifndef KVMTEST_X86_NESTED_MEMSTRESS_H
#define KVMTEST_X86_NESTED_MEMSTRESS_H

#include "nested/nested.h"

#define NMS_MAX_VCPUS	16
#define NMS_SLOT	1
#define NMS_GPA		0x40000000ULL	/* 1 GiB: clear of the main slot */
#define NMS_GVA		0x400000000000ULL

/* Shared with the guest: what the next round does. */
struct nms_params {
	u64 iteration;		/* the value L2s write, and report back */
	u64 gva;		/* window base: vCPU i touches gva + i * slice */
	u64 slice_size;
	u64 first_page;		/* within each slice */
	u64 nr_pages;		/* 0: to the end of the slice */
	u64 vcpu_mask;		/* which vCPUs touch memory this round */
	bool write;
};

struct nested_memstress {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[NMS_MAX_VCPUS];
	int nr_vcpus;
	u64 slot_size;		/* data slot at NMS_GPA, mapped at NMS_GVA */
	struct nms_params params;	/* host copy; pushed each round */
};

/*
 * A VM with @nr_vcpus vCPUs, a data slot of @slot_size bytes at NMS_GPA
 * with @slot_flags (e.g. KVM_MEM_LOG_DIRTY_PAGES), stage-2 identity-mapped
 * and mapped in L1/L2's page tables at NMS_GVA, and each vCPU's L1 set up
 * to run its L2 on the first nested_memstress_run(). Slices default to
 * nr_vcpus equal parts of the slot.
 */
struct nested_memstress *nested_memstress_create(int nr_vcpus, u64 slot_size,
						 u32 slot_flags);
/* Run one round on every vCPU (one thread each) and wait for all of them. */
void nested_memstress_run(struct nested_memstress *ms);
void nested_memstress_destroy(struct nested_memstress *ms);
/* The value an L2 writes at the start of page @page of its slice. */
u64 nms_pattern(u64 iteration, int vcpu, u64 page);

#endif /* KVMTEST_X86_NESTED_MEMSTRESS_H */
