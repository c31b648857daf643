// SPDX-License-Identifier: GPL-2.0-only
/*
 * nx_huge_pages: the iTLB-multihit mitigation (kvm.nx_huge_pages). With
 * it on, KVM maps guest memory huge only while it is not executed: an
 * instruction fetch from a 2 MiB page splits its mapping into 4 KiB ones
 * (nx_lpage_splits +1, pages_2m -1), reads of other huge pages leave them
 * huge, and the recovery thread later zaps split pages so a read maps them
 * huge again. KVM_CAP_VM_DISABLE_NX_HUGE_PAGES turns the mitigation off
 * for one VM. All checked through the VM's binary stats.
 *
 * In-tree ground: nx_huge_pages_test (+ its .sh, which sets the module
 * parameters). What this adds: the parameters are set and restored by the
 * test itself (skipping, with their values, where they cannot be set); the
 * guest-visible result is checked too (the executed code ran, the data
 * read is the host's); and a fetch from a page already split does not
 * split again.
 */
#include <unistd.h>

#include "kvm_util.h"
#include "kvm_param.h"
#include "kvm_stats.h"
#include "test_check.h"

#define HP_SLOT		1
#define HP_GPA		0x40000000ULL
#define HP_GVA		0x5c0000000000ULL
#define NR_HP		3
#define HP_SIZE		(2 * MiB)
#define RET_OPCODE	0xc3
#define DATA		0x6e78687567650000ULL	/* "nxhuge" */

enum op { OP_READ, OP_EXEC };

static struct {
	u64 op;
	u64 gva;
} cmd;

static void guest_main(void)
{
	for (;;) {
		u64 v = 0;

		if (READ_ONCE(cmd.op) == OP_EXEC)
			((void (*)(void))READ_ONCE(cmd.gva))();
		else
			v = READ_ONCE(*(u64 *)(READ_ONCE(cmd.gva) + 8));
		GUEST_SYNC(v);
	}
}

/* Mitigation on, fast recovery of every split page; skip if we cannot. */
static void params_set(void)
{
	char nx[32];

	if (kvm_param_read("kvm", "nx_huge_pages", nx, sizeof(nx)) &&
	    !strcmp(nx, "never"))
		test_skip("kvm.nx_huge_pages is \"never\": the mitigation cannot be turned on");
	kvm_param_set_or_skip("kvm", "nx_huge_pages", "1");
	/* No recovery until the test wants it: TCG is slower than 100 ms. */
	kvm_param_set_or_skip("kvm", "nx_huge_pages_recovery_ratio", "0");
	kvm_param_set_or_skip("kvm", "nx_huge_pages_recovery_period_ms", "100");
}

struct ctx {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

static u64 hp_gva(int i)
{
	return HP_GVA + i * HP_SIZE;
}

static struct ctx setup(bool disable_nx)
{
	struct ctx c;

	c.vm = vm_create(NULL);
	/* Before any vCPU exists, or KVM refuses. */
	if (disable_nx)
		vm_enable_cap(c.vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	c.vcpu = vm_vcpu_add(c.vm, 0, guest_main);
	vm_memslot_add(c.vm, VM_MEM_ANON_HUGETLB_2M, HP_GPA, HP_SLOT,
		       NR_HP * HP_SIZE / PAGE_SIZE, 0);
	kvm_mmu_map(c.vm, &c.vm->mmu, HP_GVA, HP_GPA, NR_HP * HP_SIZE,
		    KVM_MMU_RWX);
	for (int i = 0; i < NR_HP; i++) {
		u8 *hva = addr_gpa2hva(c.vm, HP_GPA + i * HP_SIZE);

		hva[0] = RET_OPCODE;
		*(u64 *)(hva + 8) = DATA + i;
	}
	return c;
}

static void step(struct ctx *c, enum op op, int hp)
{
	struct ucall uc;
	u64 r;

	write_guest_global(c->vm, cmd.op, op);
	write_guest_global(c->vm, cmd.gva, hp_gva(hp));
	r = vcpu_run_next(c->vcpu, &uc);
	TEST_ASSERT(r == UCALL_SYNC, "expected the guest's sync, got ucall %llu, exit %s",
		    r, exit_reason_str(c->vcpu->run->exit_reason));
	if (op == OP_READ)
		CHECK_EQ(uc.args[0], DATA + hp);
}

static void expect(struct ctx *c, u64 pages_2m, u64 splits, const char *when)
{
	u64 seen_2m = vm_get_stat(c->vm, "pages_2m");
	u64 seen_splits = vm_get_stat(c->vm, "nx_lpage_splits");

	CHECK(seen_2m == pages_2m && seen_splits == splits,
	      "%s: pages_2m %llu, nx_lpage_splits %llu; expected %llu and %llu",
	      when, seen_2m, seen_splits, pages_2m, splits);
}

static void case_split(void *arg)
{
	bool disable = arg;
	struct ctx c = setup(disable);
	int on = !disable;

	expect(&c, 0, 0, "before the guest touches the slot");
	step(&c, OP_READ, 0);
	expect(&c, 1, 0, "read of huge page 0");
	step(&c, OP_READ, 1);
	expect(&c, 2, 0, "read of huge page 1");
	step(&c, OP_EXEC, 0);
	expect(&c, on ? 1 : 2, on, "code run from huge page 0");
	step(&c, OP_EXEC, 2);
	expect(&c, on ? 1 : 3, 2 * on, "code run from huge page 2");
	step(&c, OP_READ, 0);
	step(&c, OP_EXEC, 0);
	expect(&c, on ? 1 : 3, 2 * on, "huge page 0 read and run again");
	if (!on) {
		kvm_vm_free(c.vm);
		return;
	}

	/*
	 * The recovery thread zaps split pages (ratio 1: all of them each
	 * period). Set in this child only: the parent restores the original.
	 */
	kvm_param_set_or_skip("kvm", "nx_huge_pages_recovery_ratio", "1");
	for (int ms = 0; ms < 5000 && vm_get_stat(c.vm, "nx_lpage_splits");
	     ms += 50)
		usleep(50 * 1000);
	expect(&c, 1, 0, "after NX huge page recovery");
	step(&c, OP_READ, 2);
	expect(&c, 2, 0, "a read of recovered huge page 2 maps it huge");
	kvm_vm_free(c.vm);
}

int main(void)
{
	kvm_dev_fd();
	if (!vm_mem_backing_available(VM_MEM_ANON_HUGETLB_2M))
		test_skip("no 2 MiB hugetlb pages (echo %d > /proc/sys/vm/nr_hugepages, or scripts/reserve-hugepages.sh)",
			  NR_HP);
	params_set();
	run_case(case_split, (void *)false,
		 "kvm.nx_huge_pages=1: a fetch splits its huge page, recovery rejoins it");
	if (kvm_check_cap(KVM_CAP_VM_DISABLE_NX_HUGE_PAGES))
		run_case(case_split, (void *)true,
			 "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES: fetches leave huge pages huge");
	checks_exit();
}
