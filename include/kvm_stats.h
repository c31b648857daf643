/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's binary statistics (api.rst, KVM_GET_STATS_FD): every VM and vCPU
 * has a file of a header, an id string, one descriptor per statistic and
 * the values, read with pread. Read any statistic by the name KVM gives it
 * (e.g. "pages_4k", "nx_lpage_splits" for a VM; "exits", "halt_exits" for
 * a vCPU), as /sys/kernel/debug/kvm would show it, without debugfs.
 */
#ifndef KVMTEST_KVM_STATS_H
#define KVMTEST_KVM_STATS_H

#include <linux/kvm.h>

#include "test_util.h"

/* An open stats file with its header and descriptors read once. */
struct kvm_stats {
	int fd;
	struct kvm_stats_header header;
	char *id;		/* "kvm-<pid>" or "kvm-<pid>/vcpu-<n>" */
	void *descs;		/* header.num_desc descriptors */
	size_t desc_size;	/* each: struct kvm_stats_desc + name_size */
};

struct kvm_vm;
struct kvm_vcpu;

/* Take over @stats_fd (KVM_GET_STATS_FD's result) and read its layout. */
struct kvm_stats *kvm_stats_open(int stats_fd);
struct kvm_stats *vm_stats_open(struct kvm_vm *vm);
struct kvm_stats *vcpu_stats_open(struct kvm_vcpu *vcpu);
void kvm_stats_close(struct kvm_stats *stats);

/* The descriptor of @name, or NULL; the i-th descriptor. */
const struct kvm_stats_desc *kvm_stats_find(const struct kvm_stats *stats,
					    const char *name);
const struct kvm_stats_desc *kvm_stats_desc_at(const struct kvm_stats *stats,
					       u32 i);

/*
 * Read statistic @name now: up to @max of its values (a histogram has
 * desc->size of them, any other statistic one). Returns how many were
 * read, or -1 when there is no statistic of that name.
 */
int kvm_stats_read(const struct kvm_stats *stats, const char *name,
		   u64 *values, int max);
/* The (first) value of @name; fails the test if there is no such stat. */
u64 kvm_stats_get(const struct kvm_stats *stats, const char *name);

/* One-shot reads: open, read @name, close. */
u64 vm_get_stat(struct kvm_vm *vm, const char *name);
u64 vcpu_get_stat(struct kvm_vcpu *vcpu, const char *name);
/* The same, false (and *value untouched) when KVM has no such stat. */
bool __vm_get_stat(struct kvm_vm *vm, const char *name, u64 *value);
bool __vcpu_get_stat(struct kvm_vcpu *vcpu, const char *name, u64 *value);

#endif /* KVMTEST_KVM_STATS_H */
