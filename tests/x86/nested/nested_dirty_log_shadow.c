// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_dirty_log_shadow: KVM's dirty log for what L2 writes, step by
 * step, with L1's stage-2 off (L2 runs on L1's physical memory and page
 * tables: KVM's own paging for L1 carries L2 too) and on (L1's NPT/EPT,
 * which KVM shadows). One body for SVM and VMX.
 *
 * Adds to the in-tree vmx_dirty_log_test (VMX, EPT on, checks that written
 * pages are dirty after one collection): both vendors, L1's TDP off as well
 * as on, and a clean check at every step: after KVM_GET_DIRTY_LOG a page
 * L2 only read, or did not touch, since the last collection must be clean,
 * and a page written again after being collected must be dirty again.
 *
 * Usage: nested_dirty_log_shadow shadow|tdp
 */
#include "kvm_util.h"
#include "test_check.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x10000000ULL
#define NR_PAGES	16
#define DATA_SIZE	(2 * MiB)	/* only the first NR_PAGES are used */
#define DATA_GVA	0x300000000000ULL

/* Each step: which pages L2 writes, which it only reads (bit = page). */
struct step {
	const char *name;
	u16 write, read;
};

static const struct step steps[] = {
	{ "first writes: pages 0-7 dirty, 8-15 read and clean", 0x00ff, 0xff00 },
	{ "rewrite of collected pages 0, 2, 4: dirty again, the rest clean",
	  0x0015, 0xffea },
	{ "reads only: every page clean", 0, 0xffff },
	{ "one write to page 15 after a read-only step", 0x8000, 0x7fff },
	{ "nothing touched: every page clean", 0, 0 },
	{ "a write across the end of page 1 into page 2", 0x0006, 0 },
};

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
static bool use_tdp;

static void l2_main(void)
{
	for (u64 i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *st = &steps[i];

		for (int p = 0; p < NR_PAGES; p++) {
			volatile u64 *page = (u64 *)(DATA_GVA + p * PAGE_SIZE);

			if (st->read & BIT(p))
				(void)*page;
		}
		if (st->write == 0x0006) {
			/* One unaligned store that straddles pages 1 and 2. */
			WRITE_ONCE(*(u64 *)(DATA_GVA + 2 * PAGE_SIZE - 4), i);
		} else {
			for (int p = 0; p < NR_PAGES; p++)
				if (st->write & BIT(p))
					WRITE_ONCE(*(u64 *)(DATA_GVA +
							    p * PAGE_SIZE + 64),
						   i);
		}
		GUEST_SYNC(i);
	}
}

static void l1_main(struct nested_state *s)
{
	if (use_tdp)
		l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	else
		l2_setup_no_tdp(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, L2_HC_RETURNED);
	GUEST_DONE();
}

int main(int argc, char **argv)
{
	u64 bitmap[DATA_SIZE / PAGE_SIZE / 64];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	u64 cmd;

	if (argc != 2 || (strcmp(argv[1], "shadow") && strcmp(argv[1], "tdp"))) {
		fprintf(stderr, "usage: %s shadow|tdp\n", argv[0]);
		return 2;
	}
	use_tdp = !strcmp(argv[1], "tdp");
	if (use_tdp) {
		vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT,
						 DATA_GPA, DATA_SIZE);
	} else {
		nested_require();
		vm = vm_create_with_one_vcpu(&vcpu, l1_main);
		vm_memslot_add(vm, VM_MEM_ANON, DATA_GPA, DATA_SLOT,
			       DATA_SIZE / PAGE_SIZE, 0);
	}
	virt_map(vm, DATA_GVA, DATA_GPA, NR_PAGES * PAGE_SIZE);
	write_guest_global(vm, use_tdp, use_tdp);
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vm_memslot_set_flags(vm, DATA_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	vm_get_dirty_log(vm, DATA_SLOT, bitmap);	/* start from clean */

	for (u64 i = 0;; i++) {
		cmd = vcpu_run_next(vcpu, &uc);
		if (cmd == UCALL_DONE)
			break;
		TEST_ASSERT(cmd == UCALL_SYNC && uc.args[0] == i &&
			    i < ARRAY_SIZE(steps),
			    "expected L2's sync %llu, got cmd %llu exit %s",
			    (unsigned long long)i, (unsigned long long)cmd,
			    exit_reason_str(vcpu->run->exit_reason));
		case_begin("%s: %s", argv[1], steps[i].name);
		vm_get_dirty_log(vm, DATA_SLOT, bitmap);
		CHECK_EQ(bitmap[0] & 0xffff, steps[i].write);
		/* Nothing beyond the pages L2 uses, ever. */
		CHECK_EQ(bitmap[0] >> NR_PAGES, 0);
		case_end();
	}
	kvm_vm_free(vm);
	checks_exit();
}
