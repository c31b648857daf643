// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_migrate_stress: hundreds of save/restore rounds (vm_migrate(): the
 * whole vCPU, nested state included, into a new VM over the same memory)
 * while L2 keeps taking stage-2 faults that L1 handles. One body for SVM
 * and VMX.
 *
 * Adds to the in-tree state_test (a handful of save/restore points on a
 * scripted L1/L2 run): many rounds, alternating between L2 running (guest
 * mode, must survive as such) and L1 holding an unhandled TDP-fault exit;
 * every fault is checked (GPA, write) after the move, and every store L2
 * made is in memory at the end.
 *
 * Usage: nested_migrate_stress [ROUNDS]   (default 100; each round is two
 * migrations)
 */
#include <errno.h>

#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x10000000ULL	/* 256 MiB */
#define DATA_SIZE	(2 * MiB)
#define DATA_GVA	0x300000000000ULL
#define NR_PAGES	64

#define HC_ROUND	0x726e64ULL	/* "rnd" */
#define SYNC_L2		1	/* L2 in guest mode, before its store */
#define SYNC_L1		2	/* L1, holding L2's fault exit */
#define PATTERN(r)	(0xab00000000000000ULL | (r))

static u64 rounds;
static u64 pte_gpa[NR_PAGES];	/* the stage-2 leaf of each data page */
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (u64 r = 0; r < rounds; r++) {
		GUEST_SYNC_ARGS(SYNC_L2, r, 0, 0);
		WRITE_ONCE(*(u64 *)(DATA_GVA + (r % NR_PAGES) * PAGE_SIZE),
			   PATTERN(r));
		l2_hypercall(HC_ROUND, r);
	}
}

static void l1_main(struct nested_state *s)
{
	GUEST_CASE("%llu rounds of stage-2 faults across migrations", rounds);
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	for (u64 r = 0; r < rounds; r++) {
		u64 *pte = l1_phys(pte_gpa[r % NR_PAGES]);
		u64 good = READ_ONCE(*pte);
		struct l2_exit ex;

		WRITE_ONCE(*pte, 0);
		l2_tdp_flush(s);
		ex = l2_run(s);
		GUEST_SYNC_ARGS(SYNC_L1, r, 0, 0);
		L2_ASSERT_TDP_FAULT(ex, DATA_GPA + (r % NR_PAGES) * PAGE_SIZE,
				    KVM_MMU_WRITE);
		WRITE_ONCE(*pte, good);
		l2_tdp_flush(s);
		GUEST_CHECK_EQ(l2_run_to_hypercall(s, HC_ROUND), r);
	}
	GUEST_DONE();
}

static bool in_guest_mode(struct kvm_vcpu *vcpu, struct kvm_nested_state *st,
			  u32 size)
{
	st->size = size;
	vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, st);
	return st->flags & KVM_STATE_NESTED_GUEST_MODE;
}

int main(int argc, char **argv)
{
	u64 expect_round[2] = { 0, 0 }, migrations = 0;
	struct kvm_nested_state *st;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	char *end;
	u32 size;

	rounds = argc > 1 ? strtoull(argv[1], &end, 0) : 100;
	if (argc > 2 || (argc > 1 && (*end || !rounds))) {
		fprintf(stderr, "usage: %s [ROUNDS]  (a positive number; default 100)\n",
			argv[0]);
		return 2;
	}
	nested_require_tdp();
	size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	if (size < sizeof(*st))
		test_skip("KVM_CAP_NESTED_STATE is %u: KVM cannot save nested state",
			  size);
	st = calloc(1, size);
	TEST_ASSERT(st, "out of memory");

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	virt_map(vm, DATA_GVA, DATA_GPA, NR_PAGES * PAGE_SIZE);
	tdp_map_level(vm, DATA_GPA, DATA_GPA, NR_PAGES * PAGE_SIZE,
		      KVM_MMU_RWX, PG_LEVEL_4K);
	for (int i = 0; i < NR_PAGES; i++)
		pte_gpa[i] = addr_hva2gpa(vm, tdp_lookup(vm, DATA_GPA +
							 i * PAGE_SIZE, NULL));
	sync_global_to_guest(vm, pte_gpa);
	write_guest_global(vm, rounds, rounds);
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));

	while (vcpu_run_next(vcpu, &uc) != UCALL_DONE) {
		u64 where = uc.args[0], r = uc.args[1];

		TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO &&
			    (where == SYNC_L2 || where == SYNC_L1),
			    "unexpected exit %s", exit_reason_str(vcpu->run->exit_reason));
		/* Syncs come in order: a lost or replayed step shows here. */
		CHECK(r == expect_round[where - 1],
		      "sync %llu at round %llu, expected round %llu",
		      (unsigned long long)where, (unsigned long long)r,
		      (unsigned long long)expect_round[where - 1]);
		expect_round[where - 1] = r + 1;
		vm_migrate(vm);
		migrations++;
		CHECK(in_guest_mode(vcpu, st, size) == (where == SYNC_L2),
		      "round %llu: after migrating from %s, guest mode is %s",
		      (unsigned long long)r, where == SYNC_L2 ? "L2" : "L1",
		      st->flags & KVM_STATE_NESTED_GUEST_MODE ? "on" : "off");
	}
	CHECK_EQ(migrations, 2 * rounds);
	for (u64 r = rounds > NR_PAGES ? rounds - NR_PAGES : 0; r < rounds; r++)
		CHECK_EQ(*(u64 *)addr_gpa2hva(vm, DATA_GPA +
					      (r % NR_PAGES) * PAGE_SIZE),
			 PATTERN(r));
	free(st);
	kvm_vm_free(vm);
	checks_exit();
}
