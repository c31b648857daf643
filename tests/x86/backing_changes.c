// SPDX-License-Identifier: GPL-2.0-only
/*
 * backing_changes: the host changes the memory behind a memslot under a
 * live guest — MADV_DONTNEED, MADV_REMOVE, mprotect, munmap — and KVM must
 * follow through its MMU notifiers: the guest sees the new contents (zeros
 * after DONTNEED of anonymous memory, the file's data after DONTNEED of
 * shared memory), a write to a read-only backing and any access to a
 * PROT_NONE or unmapped one fails KVM_RUN with EFAULT (or a memory-fault
 * exit naming the GPA) instead of reaching a stale page, and the guest
 * resumes at the same access once the backing is fixed.
 *
 * In-tree ground: mmu_stress_test (newer than 6.12: mprotect(PROT_READ)
 * under writing vCPUs, EFAULT expected). What this adds: each change is
 * followed by a guest read of every page compared with what the host sees,
 * so a stale SPTE shows; DONTNEED inside a THP (a huge SPTE partly
 * invalidated); shmem's DONTNEED vs REMOVE; PROT_NONE and munmap with
 * resumption at the faulting access.
 */
#include <sys/mman.h>

#include "kvm_util.h"
#include "test_check.h"

#define DATA_SLOT	1
#define DATA_GPA	0x40000000ULL
#define DATA_GVA	0x520000000000ULL
#define NR_PAGES	512		/* 2 MiB: one THP when aligned */

enum op {
	OP_READ,	/* one page: report its value */
	OP_WRITE,	/* one page: write cmd.value */
	OP_WRITE_ALL,	/* every page: value_of(page, cmd.range.round) */
	OP_CHECK_ALL,	/* every page: compare with want(page, &cmd.range) */
};

struct range {
	u64 first, nr, round;
	bool zeroed;		/* the range reads as zeros */
};

/* The host's order for the guest's next access. */
static struct {
	u64 op;
	u64 page;
	u64 value;
	struct range range;
} cmd;

static u64 value_of(u64 page, u64 round)
{
	return 0x4241434b00000000ULL | round << 16 | page;	/* "BACK" */
}

/* What every page holds: round's values, zeros in a zeroed range. */
static u64 want(u64 page, const struct range *r)
{
	if (r->zeroed && page - r->first < r->nr)
		return 0;
	return value_of(page, r->round);
}

static void guest_main(void)
{
	for (;;) {
		u64 page = READ_ONCE(cmd.page);
		u64 *p = (u64 *)(DATA_GVA + page * PAGE_SIZE);
		u64 v = 0, bad = 0;

		switch (READ_ONCE(cmd.op)) {
		case OP_READ:
			v = READ_ONCE(*p);
			break;
		case OP_WRITE:
			v = READ_ONCE(cmd.value);
			WRITE_ONCE(*p, v);
			break;
		case OP_WRITE_ALL:
			for (u64 i = 0; i < NR_PAGES; i++)
				WRITE_ONCE(*(u64 *)(DATA_GVA + i * PAGE_SIZE),
					   value_of(i, cmd.range.round));
			break;
		case OP_CHECK_ALL:
			/* Count mismatches; v: the first one's page + 1. */
			for (u64 i = 0; i < NR_PAGES; i++) {
				u64 seen = READ_ONCE(*(u64 *)(DATA_GVA + i * PAGE_SIZE));

				if (seen != want(i, &cmd.range) && !bad++)
					v = i + 1;
			}
			break;
		}
		GUEST_SYNC_ARGS(page, v, bad);
	}
}

struct vm_ctx {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	u8 *mem;		/* host mapping of the data slot */
};

static struct vm_ctx setup(enum vm_mem_backing backing)
{
	struct vm_ctx c;

	if (!vm_mem_backing_available(backing))
		case_skip("no %s memory on this host", vm_mem_backing_name(backing));
	c.vm = vm_create_with_one_vcpu(&c.vcpu, guest_main);
	vm_memslot_add(c.vm, backing, DATA_GPA, DATA_SLOT, NR_PAGES, 0);
	virt_map(c.vm, DATA_GVA, DATA_GPA, NR_PAGES * PAGE_SIZE);
	c.mem = addr_gpa2hva(c.vm, DATA_GPA);
	return c;
}

static u64 *host_word(struct vm_ctx *c, u64 page)
{
	return (u64 *)(c->mem + page * PAGE_SIZE);
}

/*
 * Run the guest's order already in cmd; returns KVM_RUN's result (errno
 * kept, -2 for a memory-fault exit), the value and the mismatch count.
 */
static int run_cmd(struct vm_ctx *c, u64 page, u64 *seen, u64 *bad)
{
	struct ucall uc;
	int ret;

	for (;;) {
		ret = __vcpu_run(c->vcpu);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 || c->vcpu->run->exit_reason == KVM_EXIT_MEMORY_FAULT)
			return ret < 0 ? ret : -2;
		if (!ucall_print_or_abort(get_ucall(c->vcpu, &uc), &uc))
			break;
	}
	TEST_ASSERT(uc.cmd == UCALL_SYNC && uc.args[0] == page,
		    "expected the guest's sync for page %llu, got ucall %llu (exit %s)",
		    page, uc.cmd, exit_reason_str(c->vcpu->run->exit_reason));
	*seen = uc.args[1];
	if (bad)
		*bad = uc.args[2];
	return 0;
}

/* One guest access to one page. */
static int access_page(struct vm_ctx *c, enum op op, u64 page, u64 value,
		       u64 *seen)
{
	write_guest_global(c->vm, cmd.op, op);
	write_guest_global(c->vm, cmd.page, page);
	write_guest_global(c->vm, cmd.value, value);
	return run_cmd(c, page, seen, NULL);
}

/* Resume after a failed access: the same access must now complete. */
static int resume(struct vm_ctx *c, u64 page, u64 *seen)
{
	return run_cmd(c, page, seen, NULL);
}

static void guest_write_all(struct vm_ctx *c, u64 round)
{
	u64 seen;

	write_guest_global(c->vm, cmd.op, OP_WRITE_ALL);
	write_guest_global(c->vm, cmd.page, 0);
	write_guest_global(c->vm, cmd.range.round, round);
	TEST_ASSERT(!run_cmd(c, 0, &seen, NULL), "guest writes of every page");
}

/*
 * Guest and host must both see want() in every page: a stale mapping
 * shows the guest an older value than the host has.
 */
static void check_guest_view(struct vm_ctx *c, const char *what,
			     struct range *r)
{
	u64 guest_first, guest_bad;
	int wrong = 0;
	long first_wrong = -1;

	write_guest_global(c->vm, cmd.op, OP_CHECK_ALL);
	write_guest_global(c->vm, cmd.page, 0);
	write_guest_global(c->vm, cmd.range, *r);
	TEST_ASSERT(!run_cmd(c, 0, &guest_first, &guest_bad),
		    "guest check of every page");
	for (u64 p = 0; p < NR_PAGES; p++)
		if (*host_word(c, p) != want(p, r) && !wrong++)
			first_wrong = p;
	CHECK(!guest_bad && !wrong,
	      "%s: the guest sees %llu pages with unexpected data (first %lld), the host %d (first %ld)",
	      what, guest_bad, (long long)guest_first - 1, wrong, first_wrong);
}

/* DONTNEED/REMOVE a range after the guest wrote everything. */
static void case_discard(enum vm_mem_backing backing, int advice,
			 struct range r, const char *what)
{
	struct vm_ctx c = setup(backing);

	guest_write_all(&c, r.round);
	TEST_ASSERT(!madvise(c.mem + r.first * PAGE_SIZE, r.nr * PAGE_SIZE,
			     advice), "madvise(%d) of pages %llu+%llu", advice,
		    r.first, r.nr);
	check_guest_view(&c, what, &r);
	/* Writes after the discard land in the new pages. */
	guest_write_all(&c, r.round + 1);
	r.zeroed = false;
	r.round++;
	check_guest_view(&c, "written again after the discard", &r);
	kvm_vm_free(c.vm);
}

static void case_dontneed_anon(void *arg)
{
	case_discard(VM_MEM_ANON, MADV_DONTNEED,
		     (struct range){ 100, 50, 1, true },
		     "anonymous, MADV_DONTNEED of 50 pages: they read as zeros");
}

static void case_dontneed_thp(void *arg)
{
	/* A 4 KiB hole in the middle of the THP. */
	case_discard(VM_MEM_ANON_THP, MADV_DONTNEED,
		     (struct range){ 200, 1, 1, true },
		     "THP, MADV_DONTNEED of one page inside a huge page: only it reads as zeros");
}

static void case_dontneed_shmem(void *arg)
{
	case_discard(VM_MEM_SHMEM, MADV_DONTNEED,
		     (struct range){ 100, 50, 1, false },
		     "shmem, MADV_DONTNEED: the file keeps the data, the guest sees it");
}

static void case_remove_shmem(void *arg)
{
	case_discard(VM_MEM_SHMEM, MADV_REMOVE,
		     (struct range){ 100, 50, 1, true },
		     "shmem, MADV_REMOVE: the hole reads as zeros");
}

/* The failed access: EFAULT, or a memory-fault exit for the page's GPA. */
static void check_fault(struct vm_ctx *c, int ret, u64 page, const char *what)
{
	struct kvmt_exit_memory_fault *mf = (void *)&c->vcpu->run->mmio;
	int err = errno;

	if (ret == -2 || c->vcpu->run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
		CHECK(mf->gpa <= DATA_GPA + page * PAGE_SIZE &&
		      DATA_GPA + page * PAGE_SIZE < mf->gpa + mf->size,
		      "%s: memory-fault exit for GPA 0x%llx+0x%llx, not page %llu",
		      what, mf->gpa, mf->size, page);
		return;
	}
	CHECK(ret == -1 && err == EFAULT,
	      "%s: KVM_RUN returned %d errno %d, expected EFAULT", what, ret,
	      ret < 0 ? err : 0);
}

struct protect_case {
	int prot;		/* what the backing becomes */
	enum op op;		/* the access that must fail */
	const char *name;
};

static void case_protect(void *arg)
{
	const struct protect_case *pc = arg;
	struct vm_ctx c = setup(VM_MEM_ANON);
	struct range r = { 0, 0, 1, false };
	u64 page = 300, seen = 0, v = value_of(page, 7);
	u8 *range = c.mem + 256 * PAGE_SIZE;	/* the second half */

	guest_write_all(&c, 1);
	TEST_ASSERT(!mprotect(range, 256 * PAGE_SIZE, pc->prot), "mprotect");
	if (pc->prot & PROT_READ) {
		CHECK(!access_page(&c, OP_READ, page, 0, &seen) &&
		      seen == value_of(page, 1),
		      "%s: a read still works and sees 0x%llx", pc->name, seen);
	}
	check_fault(&c, access_page(&c, pc->op, page, v, &seen), page,
		    pc->name);
	if (pc->prot & PROT_READ)
		CHECK(*host_word(&c, page) == value_of(page, 1),
		      "%s: the failed access changed the page: 0x%llx",
		      pc->name, *host_word(&c, page));
	/* A second try fails the same way: nothing was mapped behind it. */
	check_fault(&c, resume(&c, page, &seen), page, pc->name);

	TEST_ASSERT(!mprotect(range, 256 * PAGE_SIZE, PROT_READ | PROT_WRITE),
		    "mprotect back");
	CHECK(!resume(&c, page, &seen) &&
	      seen == (pc->op == OP_WRITE ? v : value_of(page, 1)),
	      "%s: after the fix the guest resumes its access (saw 0x%llx)",
	      pc->name, seen);
	if (pc->op == OP_WRITE)
		CHECK_EQ(*host_word(&c, page), v);
	if (pc->op == OP_WRITE)
		*host_word(&c, page) = value_of(page, 1);
	check_guest_view(&c, "every page after the fix", &r);
	kvm_vm_free(c.vm);
}

static void case_munmap(void *arg)
{
	struct vm_ctx c = setup(VM_MEM_ANON);
	struct range r = { 256, 256, 1, true };
	u8 *range = c.mem + r.first * PAGE_SIZE;
	u64 page = 300, seen = 0;

	guest_write_all(&c, 1);
	TEST_ASSERT(!munmap(range, r.nr * PAGE_SIZE), "munmap");
	check_fault(&c, access_page(&c, OP_READ, page, 0, &seen), page,
		    "read of an unmapped backing");
	TEST_ASSERT(mmap(range, r.nr * PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == range,
		    "mmap over the hole");
	CHECK(!resume(&c, page, &seen) && seen == 0,
	      "after mapping fresh memory the read resumes and sees 0 (saw 0x%llx)",
	      seen);
	check_guest_view(&c, "every page: zeros where memory was replaced", &r);
	kvm_vm_free(c.vm);
}

static const struct protect_case read_only = {
	PROT_READ, OP_WRITE, "write to a PROT_READ backing" };
static const struct protect_case no_access = {
	PROT_NONE, OP_READ, "read of a PROT_NONE backing" };

int main(void)
{
	kvm_dev_fd();
	run_case(case_dontneed_anon, NULL, "MADV_DONTNEED of anonymous memory");
	run_case(case_dontneed_thp, NULL, "MADV_DONTNEED of one page of a THP");
	run_case(case_dontneed_shmem, NULL, "MADV_DONTNEED of shared memory");
	run_case(case_remove_shmem, NULL, "MADV_REMOVE of shared memory");
	run_case(case_protect, (void *)&read_only,
		 "mprotect(PROT_READ): reads work, a write fails, then resumes");
	run_case(case_protect, (void *)&no_access,
		 "mprotect(PROT_NONE): a read fails, then resumes");
	run_case(case_munmap, NULL,
		 "munmap: a read fails, resumes on fresh memory mapped in place");
	checks_exit();
}
