// SPDX-License-Identifier: GPL-2.0-only
/*
 * memstress placed in L2: each vCPU's L1 runs one L2 that runs the shared
 * memstress loop. See nested_memstress.h.
 */
#include "nested/nested_memstress.h"
#include "internal.h"

#define NMS_L2_STACK	PAGE_SIZE

static u8 nms_l2_stacks[MEMSTRESS_MAX_VCPUS][NMS_L2_STACK] __attribute__((aligned(16)));

/* L1: run L2 forever; it only ever comes back to us on a bug. */
static void nms_l1_main(struct nested_state *s, u64 idx)
{
	struct l2_exit ex;

	l2_setup(s, memstress_guest_main, nms_l2_stacks[idx] + NMS_L2_STACK);
	s->gprs.rdi = idx;
	ex = l2_run(s);
	GUEST_FAIL("vCPU %llu: L2 exited to L1: %s (raw 0x%llx, info 0x%llx/0x%llx) at RIP 0x%llx",
		   idx, l2_exit_kind_name(ex.kind), ex.raw, ex.info1, ex.info2,
		   ex.rip);
}

struct memstress *nested_memstress_create(int nr_vcpus, u64 slot_size,
					  u32 slot_flags)
{
	struct memstress *ms;

	nested_require_tdp();
	ms = __memstress_create(nr_vcpus, slot_size, slot_flags, VM_MEM_ANON,
				nms_l1_main);
	vm_enable_tdp(ms->vm);
	tdp_identity_map_all(ms->vm);
	for (int i = 0; i < nr_vcpus; i++)
		vcpu_args_set(ms->vcpus[i], 2,
			      vcpu_alloc_nested_state(ms->vcpus[i]), (u64)i);
	return ms;
}
