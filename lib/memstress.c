// SPDX-License-Identifier: GPL-2.0-only
/*
 * memstress: the guest loop and the host's pass-by-pass driver, shared by
 * the stage-1 and the nested placement. See memstress.h.
 */
#include "memstress.h"

static struct memstress_args memstress_args;

u64 memstress_pattern(u64 iteration, int vcpu, u64 page)
{
	return (iteration << 32) | ((u64)vcpu << 24) | page;
}

/* xorshift64*: cheap, and the same on every placement. */
static u64 memstress_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

void memstress_guest_pass(u64 idx)
{
	const struct memstress_args *a = &memstress_args;
	u64 iter = READ_ONCE(a->iteration);
	u64 slice = READ_ONCE(a->slice_size);
	u64 base = READ_ONCE(a->gva) + idx * slice;
	u64 first = READ_ONCE(a->first_page);
	u64 nr = READ_ONCE(a->nr_pages);
	u32 write_percent = READ_ONCE(a->write_percent);
	bool random = READ_ONCE(a->random);
	/* Never zero: xorshift would stay there. */
	u64 state = (READ_ONCE(a->seed) ^ (iter << 20) ^ (idx << 8)) | 1;
	u64 words = READ_ONCE(a->touched_words);
	u64 *touched = (u64 *)READ_ONCE(a->touched_gva) + idx * words;

	if (!nr)
		nr = slice / PAGE_SIZE - first;
	if (!(READ_ONCE(a->vcpu_mask) & BIT_ULL(idx)))
		return;
	if (READ_ONCE(a->flush_tlb))
		set_cr3(get_cr3());
	for (u64 i = 0; i < nr; i++) {
		u64 page = first + (random ? memstress_rand(&state) % nr : i);
		u64 *addr = (u64 *)(base + page * PAGE_SIZE);
		bool write = write_percent >= 100 ||
			     memstress_rand(&state) % 100 < write_percent;

		if (page / 64 < words)
			touched[page / 64] |= BIT_ULL(page % 64);
		if (write)
			WRITE_ONCE(*addr, memstress_pattern(iter, idx, page));
		else
			(void)READ_ONCE(*addr);
	}
}

void memstress_guest_main(u64 idx)
{
	for (;;) {
		memstress_guest_pass(idx);
		GUEST_SYNC_ARGS(idx, READ_ONCE(memstress_args.iteration));
	}
}

struct memstress *__memstress_create(int nr_vcpus, u64 slot_size,
				     u32 slot_flags,
				     enum vm_mem_backing backing,
				     void *guest_code)
{
	struct memstress *ms;
	struct kvm_vm *vm;

	TEST_ASSERT(nr_vcpus > 0 && nr_vcpus <= MEMSTRESS_MAX_VCPUS,
		    "memstress: %d vCPUs (1 to %d)", nr_vcpus,
		    MEMSTRESS_MAX_VCPUS);
	TEST_ASSERT(IS_ALIGNED(slot_size, PAGE_SIZE) &&
		    slot_size >= nr_vcpus * PAGE_SIZE,
		    "memstress: slot of 0x%llx bytes for %d vCPUs",
		    slot_size, nr_vcpus);
	if (backing != VM_MEM_ANON && !vm_mem_backing_available(backing))
		test_skip("memstress: no %s memory on this host (reserve it with scripts/reserve-hugepages.sh)",
			  vm_mem_backing_name(backing));
	ms = calloc(1, sizeof(*ms));
	TEST_ASSERT(ms, "out of memory");

	vm = ms->vm = vm_create_with_vcpus(nr_vcpus, guest_code, ms->vcpus);
	ms->nr_vcpus = nr_vcpus;
	ms->slot_size = slot_size;
	vm_memslot_add(vm, backing, MEMSTRESS_GPA, MEMSTRESS_SLOT,
		       slot_size / PAGE_SIZE, slot_flags);
	virt_map(vm, MEMSTRESS_GVA, MEMSTRESS_GPA, slot_size);
	ms->args = (struct memstress_args){
		.gva = MEMSTRESS_GVA,
		.slice_size = ALIGN_DOWN(slot_size / nr_vcpus, PAGE_SIZE),
		.vcpu_mask = ~0ULL,
		.write_percent = 100,
		.seed = 0x6d656d73ULL,	/* "mems" */
	};
	ms->args.touched_words = ALIGN_UP(ms->args.slice_size / PAGE_SIZE, 64) / 64;
	ms->args.touched_gva = vm_vaddr_alloc(vm, ALIGN_UP(nr_vcpus *
				ms->args.touched_words * 8, PAGE_SIZE));
	return ms;
}

struct memstress *memstress_create(int nr_vcpus, u64 slot_size,
				   u32 slot_flags, enum vm_mem_backing backing)
{
	struct memstress *ms = __memstress_create(nr_vcpus, slot_size,
						  slot_flags, backing,
						  memstress_guest_main);

	for (int i = 0; i < nr_vcpus; i++)
		vcpu_args_set(ms->vcpus[i], 1, (u64)i);
	return ms;
}

void memstress_destroy(struct memstress *ms)
{
	kvm_vm_free(ms->vm);
	free(ms);
}

struct memstress_thread {
	struct memstress *ms;
	int idx;
};

static void *memstress_vcpu_thread(void *arg)
{
	struct memstress_thread *t = arg;
	struct memstress *ms = t->ms;
	struct kvm_vcpu *vcpu = ms->vcpus[t->idx];
	int idx = t->idx;
	struct ucall uc;

	free(t);
	for (;;) {
		u64 cmd = vcpu_run_next(vcpu, &uc);

		if (cmd == UCALL_SYNC) {
			TEST_ASSERT(uc.args[0] == (u64)idx &&
				    uc.args[1] == ms->args.iteration,
				    "memstress vCPU %d synced (%llu, %llu), expected (%d, %llu)",
				    idx, uc.args[0], uc.args[1], idx,
				    ms->args.iteration);
			__atomic_fetch_add(&ms->synced, 1, __ATOMIC_RELEASE);
			return NULL;
		}
		if (cmd == UCALL_NONE && ms->on_exit && ms->on_exit(ms, idx)) {
			ms->exits[idx]++;
			continue;
		}
		vcpu_dump(stderr, vcpu);
		TEST_FAIL("memstress vCPU %d: unexpected exit %s (ucall %llu)",
			  idx, exit_reason_str(vcpu->run->exit_reason), cmd);
	}
}

void memstress_start(struct memstress *ms)
{
	u64 bytes = ms->nr_vcpus * ms->args.touched_words * 8;

	/* Page by page: the bitmaps need not be contiguous on the host. */
	for (u64 off = 0; off < bytes; off += PAGE_SIZE)
		memset(addr_gva2hva(ms->vm, ms->args.touched_gva + off), 0,
		       min_t(u64, PAGE_SIZE, bytes - off));
	ms->args.iteration++;
	write_guest_global(ms->vm, memstress_args, ms->args);
	ms->synced = 0;
	for (int i = 0; i < ms->nr_vcpus; i++) {
		struct memstress_thread *t = malloc(sizeof(*t));

		TEST_ASSERT(t, "out of memory");
		*t = (struct memstress_thread){ .ms = ms, .idx = i };
		TEST_ASSERT(!pthread_create(&ms->threads[i], NULL,
					    memstress_vcpu_thread, t),
			    "pthread_create");
	}
}

void memstress_wait(struct memstress *ms)
{
	for (int i = 0; i < ms->nr_vcpus; i++)
		pthread_join(ms->threads[i], NULL);
}

bool memstress_page_written(struct memstress *ms, u64 slot_page)
{
	u64 *p = addr_gpa2hva(ms->vm, MEMSTRESS_GPA + slot_page * PAGE_SIZE);

	return READ_ONCE(*p) >> 32 == ms->args.iteration;
}

void memstress_written_bitmap(struct memstress *ms, u64 *bitmap)
{
	u64 pages = ms->slot_size / PAGE_SIZE;

	memset(bitmap, 0, ALIGN_UP(pages, 64) / 8);
	for (u64 p = 0; p < pages; p++)
		if (memstress_page_written(ms, p))
			bitmap[p / 64] |= BIT_ULL(p % 64);
}

void memstress_touched_bitmap(struct memstress *ms, u64 *bitmap)
{
	u64 pages = ms->slot_size / PAGE_SIZE;
	u64 slice_pages = ms->args.slice_size / PAGE_SIZE;

	memset(bitmap, 0, ALIGN_UP(pages, 64) / 8);
	for (int v = 0; v < ms->nr_vcpus; v++) {
		for (u64 p = 0; p < slice_pages; p++) {
			u64 word = p / 64, bit = BIT_ULL(p % 64);
			u64 slot_page = v * slice_pages + p;

			if (word >= ms->args.touched_words || slot_page >= pages)
				break;
			/* One vCPU's bitmap words may straddle host pages. */
			if (*(u64 *)addr_gva2hva(ms->vm, ms->args.touched_gva +
				(v * ms->args.touched_words + word) * 8) & bit)
				bitmap[slot_page / 64] |= BIT_ULL(slot_page % 64);
		}
	}
}
