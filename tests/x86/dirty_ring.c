// SPDX-License-Identifier: GPL-2.0-only
/*
 * dirty_ring: dirty page tracking through the per-vCPU dirty ring
 * (KVM_CAP_DIRTY_LOG_RING, api.rst), as a VMM harvests it during live
 * migration.
 *
 * The guest writes chosen pages of a slot that has dirty logging on; the
 * host harvests the vCPU's ring (entries flagged DIRTY, handed back with
 * RESET, then KVM_RESET_DIRTY_RINGS) and must find exactly the pages
 * written: none missing, none extra. Pages written again after
 * the reset must be reported again, since the reset re-arms their
 * tracking. With more pages written than the ring holds, KVM must stop
 * the vCPU with KVM_EXIT_DIRTY_RING_FULL instead of losing entries, and
 * the guest must finish once the ring is harvested.
 */
#include <sys/mman.h>

#include "kvm_util.h"

#define LOG_SLOT	1
#define LOG_GPA		0x40000000ULL	/* 1 GiB */
#define LOG_GVA		0x560000000000ULL
#define LOG_PAGES	1536	/* half as many again as the ring holds */
#define RING_BYTES	((int)(4 * PAGE_SIZE))	/* 1024 entries */
#define RING_ENTRIES	((int)(RING_BYTES / sizeof(struct kvm_dirty_gfn)))

/* What the guest writes in each round: one page in 3, then in 5, ... */
#define ROUND_ALL	3	/* the last round writes all pages: ring full */
static const u64 strides[ROUND_ALL + 1] = { 3, 5, 3, 1 };

static void guest_main(void)
{
	for (int round = 0; round <= ROUND_ALL; round++) {
		for (u64 page = 0; page < LOG_PAGES; page += strides[round])
			WRITE_ONCE(*(u64 *)(LOG_GVA + page * PAGE_SIZE),
				   round << 16 | page);
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

struct ring {
	struct kvm_dirty_gfn *gfns;
	u32 next;		/* the next entry to look at */
	u8 seen[LOG_PAGES];	/* per page: times harvested this round */
	int other;		/* entries for another slot or offset */
};

/* Take every entry KVM has published, hand them back, reset the ring. */
static int harvest(struct kvm_vm *vm, struct ring *r)
{
	int n = 0, reset;

	for (;;) {
		struct kvm_dirty_gfn *e = &r->gfns[r->next % RING_ENTRIES];

		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
		      KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (e->slot == LOG_SLOT && e->offset < LOG_PAGES)
			r->seen[e->offset]++;
		else
			r->other++;
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET,
				 __ATOMIC_RELEASE);
		r->next++;
		n++;
	}
	reset = __vm_ioctl(vm, KVM_RESET_DIRTY_RINGS, NULL);
	TEST_ASSERT(reset == n, "KVM_RESET_DIRTY_RINGS reset %d entries, %d were harvested",
		    reset, n);
	return n;
}

/*
 * The round's harvest must be exactly its written pages: none missing (a
 * lost dirty page corrupts a migration), none that was not written. A page
 * may legitimately come twice: when the ring fills, the write that filled
 * it is retried after the reset re-protected its page, and is logged again.
 * So duplicates are reported, not failed.
 */
static void check_round(struct ring *r, int round, int ring_full_exits)
{
	int missing = 0, extra = 0, twice = 0, expected = 0;

	for (u64 page = 0; page < LOG_PAGES; page++) {
		bool written = page % strides[round] == 0;

		expected += written;
		missing += written && !r->seen[page];
		extra += !written && r->seen[page];
		twice += r->seen[page] > 1;
	}
	case_begin("round %d: the ring holds exactly the pages written (one in %llu)%s",
		   round, strides[round],
		   round == ROUND_ALL ? ", across ring-full exits" : "");
	CHECK(!missing && !extra && !r->other,
	      "%d written: %d missing, %d extra, %d in other slots",
	      expected, missing, extra, r->other);
	if (twice)
		tap_info("%d pages harvested twice (allowed, see above)", twice);
	if (round == ROUND_ALL) {
		case_begin("writing %d pages into a %d-entry ring stops the vCPU with KVM_EXIT_DIRTY_RING_FULL",
			   LOG_PAGES, RING_ENTRIES);
		CHECK(ring_full_exits > 0, "no KVM_EXIT_DIRTY_RING_FULL");
	}
	memset(r->seen, 0, sizeof(r->seen));
	r->other = 0;
}

int main(void)
{
	struct ring r = { 0 };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int round = 0, ring_full_exits = 0, max = kvm_check_cap(KVM_CAP_DIRTY_LOG_RING);

	if (max < RING_BYTES)
		test_skip("KVM_CAP_DIRTY_LOG_RING is %d: no dirty ring of %d bytes",
			  max, RING_BYTES);
	vm = vm_create(NULL);
	/* Before any vCPU exists, as api.rst requires. */
	vm_enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, RING_BYTES);
	vcpu = vm_vcpu_add(vm, 0, guest_main);
	vm_memslot_add(vm, VM_MEM_ANON, LOG_GPA, LOG_SLOT, LOG_PAGES,
		       KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, LOG_GVA, LOG_GPA, LOG_PAGES * PAGE_SIZE);
	r.gfns = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		      vcpu->fd, KVM_DIRTY_LOG_PAGE_OFFSET * PAGE_SIZE);
	TEST_ASSERT(r.gfns != MAP_FAILED, "mmap of vCPU 0's dirty ring");

	for (;;) {
		struct ucall uc;
		u64 cmd = vcpu_run_next(vcpu, &uc);

		if (cmd == UCALL_DONE)
			break;
		if (vcpu->run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			ring_full_exits++;
			harvest(vm, &r);
			continue;
		}
		TEST_ASSERT(cmd == UCALL_SYNC && uc.args[0] == (u64)round,
			    "expected the guest's sync %d, got ucall %llu (exit %s)",
			    round, cmd,
			    exit_reason_str(vcpu->run->exit_reason));
		harvest(vm, &r);
		check_round(&r, round, ring_full_exits);
		round++;
	}
	case_end();
	CHECK(round == ROUND_ALL + 1, "the guest ended after %d rounds", round);
	munmap(r.gfns, RING_BYTES);
	kvm_vm_free(vm);
	checks_exit();
}
