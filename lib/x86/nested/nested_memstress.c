// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested memstress: N L1s, each running an L2 that touches its slice of a
 * data slot under stage-2, a round at a time. See nested_memstress.h.
 */
#include <pthread.h>

#include "nested/nested_memstress.h"
#include "internal.h"

#define NMS_L2_STACK	PAGE_SIZE

static struct nms_params nms_params;
static u8 nms_l2_stacks[NMS_MAX_VCPUS][NMS_L2_STACK] __attribute__((aligned(16)));

u64 nms_pattern(u64 iteration, int vcpu, u64 page)
{
	return (iteration << 32) | ((u64)vcpu << 24) | page;
}

/* L2: one round per host sync; the host edits nms_params in between. */
static void nms_l2_main(u64 idx)
{
	for (;;) {
		u64 iter = READ_ONCE(nms_params.iteration);
		u64 slice = READ_ONCE(nms_params.slice_size);
		u64 base = READ_ONCE(nms_params.gva) + idx * slice;
		u64 first = READ_ONCE(nms_params.first_page);
		u64 nr = READ_ONCE(nms_params.nr_pages);
		bool write = READ_ONCE(nms_params.write);

		if (!nr)
			nr = slice / PAGE_SIZE - first;
		if (!(READ_ONCE(nms_params.vcpu_mask) & BIT_ULL(idx)))
			nr = 0;
		for (u64 p = first; p < first + nr; p++) {
			u64 *addr = (u64 *)(base + p * PAGE_SIZE);

			if (write)
				WRITE_ONCE(*addr, nms_pattern(iter, idx, p));
			else
				(void)READ_ONCE(*addr);
		}
		GUEST_SYNC_ARGS(idx, iter);
	}
}

/* L1: run L2 forever; it only ever comes back to us on a bug. */
static void nms_l1_main(struct nested_state *s, u64 idx)
{
	struct l2_exit ex;

	l2_setup(s, nms_l2_main, nms_l2_stacks[idx] + NMS_L2_STACK);
	s->gprs.rdi = idx;
	ex = l2_run(s);
	GUEST_FAIL("vCPU %llu: L2 exited to L1: %s (raw 0x%llx, info 0x%llx/0x%llx) at RIP 0x%llx",
		   idx, l2_exit_kind_name(ex.kind), ex.raw, ex.info1, ex.info2,
		   ex.rip);
}

struct nested_memstress *nested_memstress_create(int nr_vcpus, u64 slot_size,
						 u32 slot_flags)
{
	struct nested_memstress *ms = calloc(1, sizeof(*ms));
	struct kvm_vm *vm;

	TEST_ASSERT(ms, "out of memory");
	TEST_ASSERT(nr_vcpus > 0 && nr_vcpus <= NMS_MAX_VCPUS,
		    "nested_memstress_create: %d vCPUs (1 to %d)", nr_vcpus,
		    NMS_MAX_VCPUS);
	TEST_ASSERT(IS_ALIGNED(slot_size, PAGE_SIZE) &&
		    slot_size >= nr_vcpus * PAGE_SIZE,
		    "nested_memstress_create: slot of 0x%llx bytes for %d vCPUs",
		    slot_size, nr_vcpus);
	nested_require_tdp();

	vm = ms->vm = vm_create_with_vcpus(nr_vcpus, nms_l1_main, ms->vcpus);
	ms->nr_vcpus = nr_vcpus;
	ms->slot_size = slot_size;
	vm_memslot_add(vm, VM_MEM_ANON, NMS_GPA, NMS_SLOT,
		       slot_size / PAGE_SIZE, slot_flags);
	vm_enable_tdp(vm);
	tdp_identity_map_all(vm);
	virt_map(vm, NMS_GVA, NMS_GPA, slot_size);
	for (int i = 0; i < nr_vcpus; i++)
		vcpu_args_set(ms->vcpus[i], 2,
			      vcpu_alloc_nested_state(ms->vcpus[i]), (u64)i);

	ms->params = (struct nms_params){
		.gva = NMS_GVA,
		.slice_size = ALIGN_DOWN(slot_size / nr_vcpus, PAGE_SIZE),
		.vcpu_mask = ~0ULL,
		.write = true,
	};
	return ms;
}

struct nms_thread {
	struct nested_memstress *ms;
	int idx;
	pthread_t tid;
};

static void *nms_vcpu_thread(void *arg)
{
	struct nms_thread *t = arg;
	struct kvm_vcpu *vcpu = t->ms->vcpus[t->idx];
	struct ucall uc;

	for (;;) {
		switch (vcpu_run_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[0] == (u64)t->idx &&
				    uc.args[1] == t->ms->params.iteration,
				    "vCPU %d synced (%llu, %llu), expected (%d, %llu)",
				    t->idx, uc.args[0],
				    uc.args[1], t->idx,
				    t->ms->params.iteration);
			return NULL;
		case UCALL_PRINTF:
			printf("vCPU %d: %.*s", t->idx, (int)sizeof(uc.buffer),
			       uc.buffer);
			break;
		case UCALL_ABORT:
			report_guest_assert(&uc);
		default:
			vcpu_dump(stderr, vcpu);
			TEST_FAIL("nested memstress vCPU %d: unexpected exit %s",
				  t->idx, exit_reason_str(vcpu->run->exit_reason));
		}
	}
}

void nested_memstress_run(struct nested_memstress *ms)
{
	struct nms_thread t[NMS_MAX_VCPUS];

	ms->params.iteration++;
	write_guest_global(ms->vm, nms_params, ms->params);
	for (int i = 0; i < ms->nr_vcpus; i++) {
		t[i] = (struct nms_thread){ .ms = ms, .idx = i };
		TEST_ASSERT(!pthread_create(&t[i].tid, NULL, nms_vcpu_thread,
					    &t[i]), "pthread_create");
	}
	for (int i = 0; i < ms->nr_vcpus; i++)
		pthread_join(t[i].tid, NULL);
}

void nested_memstress_destroy(struct nested_memstress *ms)
{
	kvm_vm_free(ms->vm);
	free(ms);
}
