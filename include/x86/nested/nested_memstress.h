/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * memstress (memstress.h) placed in L2: N vCPUs, each an L1 that runs one
 * L2, each L2 running the shared memstress loop on its own slice of the
 * data memslot under a stage-2 identity map. Between passes the host may
 * read the dirty log, edit stage-2 or move the window L2s touch through
 * (e.g. to an alias of the same L1 pages).
 *
 * L2 reports each pass to the host directly (GUEST_SYNC from L2), so a
 * pass costs one exit per vCPU, not an L1 round trip: TCG-friendly.
 */
#ifndef KVMTEST_X86_NESTED_MEMSTRESS_H
#define KVMTEST_X86_NESTED_MEMSTRESS_H

#include "memstress.h"
#include "nested/nested.h"

/*
 * A VM with @nr_vcpus vCPUs, a data slot of @slot_size bytes at
 * MEMSTRESS_GPA with @slot_flags (e.g. KVM_MEM_LOG_DIRTY_PAGES), stage-2
 * identity-mapped and mapped in L1/L2's page tables at MEMSTRESS_GVA, and
 * each vCPU's L1 set up to run its L2 on the first memstress_run().
 * Slices default to nr_vcpus equal parts of the slot. Skips without
 * VMX/SVM and TDP.
 */
struct memstress *nested_memstress_create(int nr_vcpus, u64 slot_size,
					  u32 slot_flags);

#endif /* KVMTEST_X86_NESTED_MEMSTRESS_H */
