/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the library believes the memory attributes of a VM's GPAs are.
 *
 * KVM has no ioctl that reads attributes back, so the library records
 * every KVM_SET_MEMORY_ATTRIBUTES that succeeded; tests ask the record
 * ("is this page private now?") and check KVM's behaviour against it
 * (memory-fault flags, what the guest reads). Pure bookkeeping: no KVM,
 * unit-tested in tests/unit/private_mem.c.
 */
#ifndef KVMTEST_MEM_ATTR_H
#define KVMTEST_MEM_ATTR_H

#include "test_util.h"

/* [start, end) has @attrs; ranges are sorted, disjoint, attrs != 0. */
struct mem_attr_range {
	u64 start;
	u64 end;
	u64 attrs;
};

struct mem_attr_map {
	struct mem_attr_range *r;
	int nr;
	int max;
};

/* Give [start, start + size) the attributes @attrs (0 = none, shared). */
void mem_attr_map_set(struct mem_attr_map *m, u64 start, u64 size, u64 attrs);
/* The attributes of the byte at @gpa. */
u64 mem_attr_map_get(const struct mem_attr_map *m, u64 gpa);
/* Does every byte of [start, start + size) have exactly @attrs? */
bool mem_attr_map_uniform(const struct mem_attr_map *m, u64 start, u64 size,
			  u64 attrs);
void mem_attr_map_free(struct mem_attr_map *m);

#endif /* KVMTEST_MEM_ATTR_H */
