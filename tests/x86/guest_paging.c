// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest paging built by the library's one walker (struct kvm_mmu), checked
 * against what the real KVM does with it: 4K/2M/1G leaves, #PF error codes
 * and CR2, accessed/dirty bits, remap/protect/unmap followed by INVLPG,
 * huge-leaf splitting, 4- versus 5-level address width.
 *
 * The guest is a small access server. For each step the host writes one
 * request (read, write, fetch, user-mode read/write, INVLPG, ...) into the
 * guest's copy of `request` and runs the vCPU to the next sync, which
 * reports what happened: exception vector (or none), error code, CR2 and the
 * value read. A case is therefore one straight sequence on the host: edit
 * the tables with kvm_mmu_*(), let the guest touch memory, check what it
 * saw, how it faulted and what it left behind.
 *
 * Checks report and go on (test_check.h): one broken behaviour is one
 * "not ok" and the other cases still report, which is what per-host
 * expectation lists need. Asserts (TEST_ASSERT, an unexpected exit) mean
 * the shared vCPU cannot be trusted: they fail the open case and end the
 * test.
 *
 * Usage: guest_paging [--la57]
 *   --la57  run every case on a VM with 5-level paging (skips without LA57)
 */
#include "kvm_util.h"
#include "exception.h"

/* ---- Guest side ---------------------------------------------------- */

enum guest_op {
	OP_READ,
	OP_WRITE,
	OP_FETCH,		/* call a RET at the address */
	OP_READ_USER,		/* the read, from CPL3 */
	OP_WRITE_USER,
	OP_INVLPG,
	OP_READ_CR4,
	NR_GUEST_OPS,
};

static const char *const op_names[NR_GUEST_OPS] = {
	[OP_READ] = "read", [OP_WRITE] = "write", [OP_FETCH] = "fetch",
	[OP_READ_USER] = "user read", [OP_WRITE_USER] = "user write",
	[OP_INVLPG] = "invlpg", [OP_READ_CR4] = "read CR4",
};

struct guest_request {
	u64 op;
	u64 addr;
	u64 value;	/* what OP_WRITE and OP_WRITE_USER store */
};

/* Written by the host into the guest's copy before each run. */
static struct guest_request request;

static void guest_server(void)
{
	for (;;) {
		u64 op = READ_ONCE(request.op);
		u64 addr = READ_ONCE(request.addr);
		u64 value = READ_ONCE(request.value);
		u64 error_code = 0;
		u8 vector = PROBE_NO_FAULT;
		u64 cr2;

		/* Only a #PF writes CR2: zero it so a stale one cannot pass. */
		set_cr2(0);
		switch (op) {
		case OP_READ:
			vector = probe_read(addr, &error_code);
			break;
		case OP_WRITE:
			vector = probe_write(addr, value, &error_code);
			break;
		case OP_FETCH:
			vector = probe_exec(addr, &error_code);
			break;
		case OP_READ_USER:
			vector = probe_read_user(addr, &error_code);
			break;
		case OP_WRITE_USER:
			vector = probe_write_user(addr, value, &error_code);
			break;
		case OP_INVLPG:
			invlpg(addr);
			break;
		case OP_READ_CR4:
			value = get_cr4();
			break;
		default:
			GUEST_FAIL("bad request %llu", op);
		}
		cr2 = get_cr2();

		/*
		 * The probes only make the access; now that it is known not
		 * to fault, do the real load or store of the data.
		 */
		if (vector == PROBE_NO_FAULT) {
			if (op == OP_READ || op == OP_READ_USER)
				value = READ_ONCE(*(u64 *)addr);
			else if (op == OP_WRITE || op == OP_WRITE_USER)
				WRITE_ONCE(*(u64 *)addr, value);
		}
		GUEST_SYNC_ARGS((u64)vector, error_code, cr2, value);
	}
}

/* ---- Host side: running the guest, failing a case ------------------ */

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
static struct kvm_mmu *mmu;	/* &vm->mmu: the tables the CPU walks */

struct guest_access {
	u8 vector;		/* PROBE_NO_FAULT if the access completed */
	u64 error_code;
	u64 cr2;
	u64 value;
};

static struct guest_access guest_do(enum guest_op op, u64 addr, u64 value)
{
	struct guest_request req = { .op = op, .addr = addr, .value = value };
	struct ucall uc;

	write_guest_global(vm, request, req);
	switch (vcpu_run_next(vcpu, &uc)) {
	case UCALL_SYNC:
		return (struct guest_access){
			.vector = uc.args[0], .error_code = uc.args[1],
			.cr2 = uc.args[2], .value = uc.args[3],
		};
	default:
		/* The vCPU state is unknown now: no later case can trust it. */
		vcpu_dump(stderr, vcpu);
		TEST_FAIL("guest %s of 0x%llx: unexpected exit %s",
			  op_names[op], addr,
			  exit_reason_str(vcpu->run->exit_reason));
	}
}

/* The access must complete; returns the value a read saw. */
static u64 __expect_ok(int line, enum guest_op op, u64 gva, u64 value)
{
	struct guest_access a = guest_do(op, gva, value);

	CHECK_AT(__FILE__, line, a.vector == PROBE_NO_FAULT,
		 "guest %s of 0x%llx: vector %u, error code 0x%llx, CR2 0x%llx",
		 op_names[op], gva, a.vector, a.error_code, a.cr2);
	return a.value;
}

/*
 * The access @a must have raised @vector with @error_code; a #PF must leave
 * the address in CR2, anything else must leave CR2 alone.
 */
static void __check_fault(int line, enum guest_op op, u64 gva,
			  struct guest_access a, u8 vector, u64 error_code)
{
	u64 cr2 = vector == PF_VECTOR ? gva : 0;

	CHECK_AT(__FILE__, line,
		 a.vector == vector && a.error_code == error_code && a.cr2 == cr2,
		 "guest %s of 0x%llx: vector %u error code 0x%llx CR2 0x%llx, expected vector %u error code 0x%llx CR2 0x%llx%s",
		 op_names[op], gva, a.vector, a.error_code, a.cr2, vector,
		 error_code, cr2,
		 a.vector == PROBE_NO_FAULT ? " (no fault)" : "");
}

#define guest_read(gva)		__expect_ok(__LINE__, OP_READ, gva, 0)
#define guest_write(gva, v)	__expect_ok(__LINE__, OP_WRITE, gva, v)
#define guest_fetch(gva)	__expect_ok(__LINE__, OP_FETCH, gva, 0)
#define guest_read_user(gva)	__expect_ok(__LINE__, OP_READ_USER, gva, 0)
#define guest_write_user(gva, v) __expect_ok(__LINE__, OP_WRITE_USER, gva, v)
#define guest_invlpg(gva)	__expect_ok(__LINE__, OP_INVLPG, gva, 0)
#define CHECK_PF(a, op, gva, ec) __check_fault(__LINE__, op, gva, a, PF_VECTOR, ec)
#define EXPECT_PF(op, gva, ec)	CHECK_PF(guest_do(op, gva, 0), op, gva, ec)
#define EXPECT_GP(op, gva)						\
	__check_fault(__LINE__, op, gva, guest_do(op, gva, 0), GP_VECTOR, 0)

#define PF_P	PFERR_PRESENT
#define PF_W	PFERR_WRITE
#define PF_U	PFERR_USER
#define PF_RSVD	PFERR_RSVD
#define PF_I	PFERR_FETCH

/* ---- Host side: memory helpers ------------------------------------- */

/* A value unique to each GPA, so reading the wrong page shows. */
static u64 marker(u64 gpa)
{
	return 0x6b766d7400000000ULL ^ gpa;	/* "kvmt" */
}

static u64 *host_ptr(u64 gpa)
{
	return addr_gpa2hva(vm, gpa);
}

/* Host memory at @gpa gets its marker; returns the marker. */
static u64 plant_marker(u64 gpa)
{
	*host_ptr(gpa) = marker(gpa);
	return marker(gpa);
}

/*
 * @size bytes of fresh guest memory, aligned for the largest page that
 * fits in them, so any of them can back a leaf of that size.
 */
static u64 phys_alloc(u64 size, u32 slot)
{
	int level = size >= GiB ? PG_LEVEL_1G :
		    size >= PG_LEVEL_SIZE(PG_LEVEL_2M) ? PG_LEVEL_2M :
		    PG_LEVEL_4K;

	return vm_phys_pages_alloc(vm, size / PAGE_SIZE, PG_LEVEL_SIZE(level),
				   slot);
}

/* Fresh guest-virtual range, never mapped before; @align: power of 2. */
static u64 gva_alloc(u64 size, u64 align)
{
	return vm_vaddr_reserve(vm, size, align);
}

static u64 *leaf_pte(u64 gva, int expect_level)
{
	int level = -1;
	u64 *pte = kvm_mmu_lookup(vm, mmu, gva, &level);

	/* The library mapped it: not finding it means the walker is broken. */
	TEST_ASSERT(pte, "GVA 0x%llx is not mapped", gva);
	CHECK(level == expect_level, "GVA 0x%llx: leaf at level %d, expected %d",
	      gva, level, expect_level);
	return pte;
}

/* ---- Cases ---------------------------------------------------------- */

#define SLOT_1G		1
#define SLOT_1G_GPA	(4 * GiB)

/*
 * Map one leaf of @level, pinned so the walker cannot pick another size;
 * the guest must see host writes and the host guest writes, at the right
 * bytes, at the start, inside and at the very end of the page.
 */
static void check_leaf_level(int level, u32 slot)
{
	u64 size = PG_LEVEL_SIZE(level);
	u64 gpa = phys_alloc(size, slot);
	u64 gva = gva_alloc(size, size);
	/* 0x238: offset bits inside a 4 KiB page must be carried over too. */
	u64 offsets[] = { 0, size / 2 + 0x238, size - 8 };

	kvm_mmu_map_level(vm, mmu, gva, gpa, size, KVM_MMU_RW, level);
	leaf_pte(gva, level);
	leaf_pte(gva + size - 1, level);

	for (size_t i = 0; i < ARRAY_SIZE(offsets); i++) {
		u64 off = offsets[i];
		u64 expect = plant_marker(gpa + off);
		u64 paddr;

		CHECK(kvm_mmu_translate(vm, mmu, gva + off, &paddr) &&
		      paddr == gpa + off, "GVA 0x%llx translates to 0x%llx",
		      (gva + off),
		      paddr);
		CHECK_EQ(guest_read(gva + off), expect);
		guest_write(gva + off, ~expect);
		CHECK_EQ(*host_ptr(gpa + off), ~expect);
	}
}

static void case_leaf_4k(void)
{
	check_leaf_level(PG_LEVEL_4K, KVMT_MAIN_SLOT);
}

static void case_leaf_2m(void)
{
	check_leaf_level(PG_LEVEL_2M, KVMT_MAIN_SLOT);
}

static void case_leaf_1g(void)
{
	if (!vm->arch.has_gbpages) {
		case_skip("KVM_GET_SUPPORTED_CPUID lacks 1 GiB pages (0x80000001 EDX.Page1GB)");
		return;
	}
	/*
	 * The main memslot is too small for a 1 GiB-aligned GiB. Anonymous
	 * memory is backed on first touch, so this costs a few pages.
	 */
	vm_memslot_add(vm, VM_MEM_ANON, SLOT_1G_GPA, SLOT_1G, GiB / PAGE_SIZE, 0);
	check_leaf_level(PG_LEVEL_1G, SLOT_1G);
}

/*
 * One page per kind of mapping for the #PF cases, all in one page table:
 * ABSENT's tables exist, only its leaf is not present. NX and X map the
 * same RET byte, so only the mapping decides whether a fetch may run it.
 */
enum { RO, RW, USER_RW, USER_RO, NX, X, ABSENT, NR_FAULT_PAGES };

static const u64 *fault_pages(void)
{
	static const unsigned int prot[NR_FAULT_PAGES] = {
		[RO] = KVM_MMU_READ,
		[RW] = KVM_MMU_RW,
		[USER_RW] = KVM_MMU_RW | KVM_MMU_USER,
		[USER_RO] = KVM_MMU_READ | KVM_MMU_USER,
		[NX] = KVM_MMU_READ,
		[X] = KVM_MMU_READ | KVM_MMU_EXEC,
	};
	static u64 page[NR_FAULT_PAGES];
	u64 gva, gpa;

	if (page[0])
		return page;
	gva = gva_alloc(NR_FAULT_PAGES * PAGE_SIZE, PG_LEVEL_SIZE(PG_LEVEL_2M));
	gpa = phys_alloc(NR_FAULT_PAGES * PAGE_SIZE, KVMT_MAIN_SLOT);
	*(u8 *)host_ptr(gpa + NX * PAGE_SIZE) = 0xc3;	/* RET */
	for (int i = 0; i < NR_FAULT_PAGES; i++) {
		u64 backing = gpa + (i == X ? NX : i) * PAGE_SIZE;

		page[i] = gva + i * PAGE_SIZE;
		if (i != ABSENT)
			kvm_mmu_map(vm, mmu, page[i], backing, PAGE_SIZE,
				    prot[i]);
	}
	return page;
}

/* R/W: with CR0.WP set, supervisor writes obey it too. */
static void case_pf_write_protect(void)
{
	const u64 *page = fault_pages();

	guest_read(page[RO]);
	EXPECT_PF(OP_WRITE, page[RO], PF_P | PF_W);
	guest_write(page[RW], 1);
}

/* U/S: CPL3 may not touch supervisor pages; R/W applies to user pages. */
static void case_pf_user(void)
{
	const u64 *page = fault_pages();

	EXPECT_PF(OP_READ_USER, page[RW], PF_P | PF_U);
	EXPECT_PF(OP_WRITE_USER, page[RW], PF_P | PF_W | PF_U);
	EXPECT_PF(OP_WRITE_USER, page[USER_RO], PF_P | PF_W | PF_U);
}

/* The positive control of case_pf_user(): what U/S and R/W allow works. */
static void case_user_access(void)
{
	const u64 *page = fault_pages();

	guest_read_user(page[USER_RW]);
	guest_write_user(page[USER_RW], 2);
	guest_read_user(page[USER_RO]);
}

/* NX (EFER.NXE is set): fetches fault with I/D set, reads do not. */
static void case_pf_nx(void)
{
	const u64 *page = fault_pages();

	EXPECT_PF(OP_FETCH, page[NX], PF_P | PF_I);
	guest_read(page[NX]);
	guest_fetch(page[X]);
}

/* Not present at the leaf: P clear, the other bits describe the access. */
static void case_pf_not_present(void)
{
	const u64 *page = fault_pages();

	EXPECT_PF(OP_READ, page[ABSENT], 0);
	EXPECT_PF(OP_WRITE, page[ABSENT], PF_W);
	EXPECT_PF(OP_READ_USER, page[ABSENT], PF_U);
	EXPECT_PF(OP_FETCH, page[ABSENT], PF_I);
}

/*
 * PS (bit 7) is reserved in a PML4E on Intel and AMD alike: the walk must
 * fault with P and RSVD set. The range gets its own PML4E so nothing else
 * depends on the entry while it is broken.
 */
static void case_reserved_bit(void)
{
	u64 gva = gva_alloc(PG_LEVEL_SIZE(PG_LEVEL_512G),
			    PG_LEVEL_SIZE(PG_LEVEL_512G));
	u64 gpa = phys_alloc(PAGE_SIZE, KVMT_MAIN_SLOT);
	u64 expect = plant_marker(gpa);
	struct guest_access read, write;
	u64 *pml4e;

	kvm_mmu_map(vm, mmu, gva, gpa, PAGE_SIZE, KVM_MMU_RW);
	pml4e = kvm_mmu_entry(vm, mmu, gva, PG_LEVEL_512G);
	TEST_ASSERT(pml4e, "no PML4E for 0x%llx", gva);

	/* Never used while valid, so no TLB entry can hide the change. */
	*pml4e |= PTE_HUGE;
	read = guest_do(OP_READ, gva, 0);
	write = guest_do(OP_WRITE, gva, 0);
	/* Repair first: a failed check must not leave later cases a bad PML4E. */
	*pml4e &= ~PTE_HUGE;
	CHECK_PF(read, OP_READ, gva, PF_P | PF_RSVD);
	CHECK_PF(write, OP_WRITE, gva, PF_P | PF_W | PF_RSVD);

	/* Entries with reserved bits are never cached: no INVLPG needed. */
	CHECK_EQ(guest_read(gva), expect);
}

/*
 * The CPU sets A in every entry it walks and D in the leaf on a write;
 * the walker must read them back from the same PTEs.
 */
static void check_accessed_dirty(int level)
{
	u64 size = PG_LEVEL_SIZE(level);
	u64 gpa = phys_alloc(size, KVMT_MAIN_SLOT);
	u64 gva = gva_alloc(size, size);
	u64 a = mmu->arch.accessed, d = mmu->arch.dirty;
	u64 *pte;

	kvm_mmu_map_level(vm, mmu, gva, gpa, size, KVM_MMU_RW, level);
	pte = leaf_pte(gva, level);
	CHECK(!(*pte & (a | d)), "new leaf 0x%llx has A/D set",
	      *pte);

	guest_read(gva + size / 2);
	CHECK(*pte & a, "read left A clear: 0x%llx", *pte);
	/* D is never set speculatively or by a read. */
	CHECK(!(*pte & d), "read set D: 0x%llx", *pte);
	for (int l = level + 1; l < mmu->pgtable_levels; l++) {
		u64 *entry = kvm_mmu_entry(vm, mmu, gva, l);

		CHECK(entry && (*entry & a), "level %d entry 0x%llx: A clear",
		      l, (entry ? *entry : 0));
	}

	guest_write(gva + size - 8, 1);
	CHECK((*pte & (a | d)) == (a | d), "write left A/D clear: 0x%llx",
	      *pte);

	/*
	 * Cleared behind the guest's back (as access tracking does), they
	 * come back once the guest drops its TLB entry: the next write must
	 * walk the tables again.
	 */
	*pte &= ~(a | d);
	guest_invlpg(gva);
	guest_write(gva, 2);
	CHECK((*pte & (a | d)) == (a | d),
	      "write after INVLPG left A/D clear: 0x%llx",
	      *pte);
}

static void case_accessed_dirty(void)
{
	check_accessed_dirty(PG_LEVEL_4K);
	check_accessed_dirty(PG_LEVEL_2M);
}

/*
 * Point a mapping the guest has used at other memory: after INVLPG the
 * guest must read the new page. For 2 MiB, INVLPG of any address in the
 * page must drop the whole translation.
 */
static void check_remap(int level)
{
	u64 size = PG_LEVEL_SIZE(level);
	u64 gpa_a = phys_alloc(size, KVMT_MAIN_SLOT);
	u64 gpa_b = phys_alloc(size, KVMT_MAIN_SLOT);
	u64 gva = gva_alloc(size, size);
	u64 off = size / 2 + 0x238;
	u64 marker_a = plant_marker(gpa_a + off);
	u64 marker_b = plant_marker(gpa_b + off);

	kvm_mmu_map_level(vm, mmu, gva, gpa_a, size, KVM_MMU_RW, level);
	CHECK_EQ(guest_read(gva + off), marker_a);

	kvm_mmu_map_level(vm, mmu, gva, gpa_b, size, KVM_MMU_RW, level);
	CHECK_EQ(kvm_mmu_pte_paddr(mmu, *leaf_pte(gva, level), level), gpa_b);
	guest_invlpg(gva);
	CHECK_EQ(guest_read(gva + off), marker_b);
	CHECK_EQ(*host_ptr(gpa_a + off), marker_a);
}

static void case_remap_invlpg(void)
{
	check_remap(PG_LEVEL_4K);
	check_remap(PG_LEVEL_2M);
}

/* Take rights away from a mapping the guest has in its TLB. */
static void case_protect_unmap_invlpg(void)
{
	u64 gpa = phys_alloc(PAGE_SIZE, KVMT_MAIN_SLOT);
	u64 gva = gva_alloc(PAGE_SIZE, PAGE_SIZE);

	kvm_mmu_map(vm, mmu, gva, gpa, PAGE_SIZE, KVM_MMU_RW);
	/* A completed write caches a writable, dirty translation. */
	guest_write(gva, 0x1234);

	kvm_mmu_protect(vm, mmu, gva, PAGE_SIZE, KVM_MMU_READ);
	CHECK_EQ(kvm_mmu_pte_prot(mmu, *leaf_pte(gva, PG_LEVEL_4K)),
		 KVM_MMU_READ);
	guest_invlpg(gva);
	EXPECT_PF(OP_WRITE, gva, PF_P | PF_W);
	CHECK_EQ(guest_read(gva), 0x1234);

	CHECK_EQ(kvm_mmu_unmap(vm, mmu, gva, PAGE_SIZE), 1);
	CHECK(!kvm_mmu_lookup(vm, mmu, gva, NULL), "unmapped GVA still mapped");
	guest_invlpg(gva);
	EXPECT_PF(OP_READ, gva, 0);
	EXPECT_PF(OP_WRITE, gva, PF_W);
}

/*
 * The same edits made the way an OS makes them: the guest stores to its
 * own PTE, then INVLPG. KVM must notice the store (with shadow paging it
 * traps writes to table pages; host stores like the cases above bypass
 * that), and the walker must read back what the guest wrote.
 */
static void case_guest_pte_edit(void)
{
	u64 gpa_a = phys_alloc(PAGE_SIZE, KVMT_MAIN_SLOT);
	u64 gpa_b = phys_alloc(PAGE_SIZE, KVMT_MAIN_SLOT);
	u64 gva = gva_alloc(PAGE_SIZE, PAGE_SIZE);
	u64 table_gva = gva_alloc(PAGE_SIZE, PAGE_SIZE);
	u64 marker_a = plant_marker(gpa_a), marker_b = plant_marker(gpa_b);
	u64 *table_entry, pte_gva, pte, paddr;

	kvm_mmu_map(vm, mmu, gva, gpa_a, PAGE_SIZE, KVM_MMU_RW);
	/* Give the guest a mapping of the page table that holds gva's PTE. */
	table_entry = kvm_mmu_entry(vm, mmu, gva, PG_LEVEL_2M);
	TEST_ASSERT(table_entry, "no PDE for 0x%llx", gva);
	kvm_mmu_map(vm, mmu, table_gva, *table_entry & mmu->arch.addr_mask,
		    PAGE_SIZE, KVM_MMU_RW);
	pte_gva = table_gva + (gva >> PAGE_SHIFT) % PTES_PER_TABLE * 8;

	CHECK_EQ(guest_read(gva), marker_a);
	pte = guest_read(pte_gva);
	CHECK_EQ(pte, *leaf_pte(gva, PG_LEVEL_4K));

	guest_write(pte_gva, (pte & ~mmu->arch.addr_mask) | gpa_b);
	guest_invlpg(gva);
	CHECK_EQ(guest_read(gva), marker_b);
	CHECK(kvm_mmu_translate(vm, mmu, gva, &paddr) && paddr == gpa_b,
	      "walker translates 0x%llx to 0x%llx", gva,
	      paddr);

	pte = guest_read(pte_gva);
	guest_write(pte_gva, pte & ~mmu->arch.writable);
	guest_invlpg(gva);
	EXPECT_PF(OP_WRITE, gva, PF_P | PF_W);
	CHECK_EQ(kvm_mmu_pte_prot(mmu, *leaf_pte(gva, PG_LEVEL_4K)),
		 KVM_MMU_READ);

	guest_write(pte_gva, 0);
	guest_invlpg(gva);
	EXPECT_PF(OP_READ, gva, 0);
	CHECK(!kvm_mmu_lookup(vm, mmu, gva, NULL), "cleared PTE still maps");
}

/*
 * Write-protect one 4 KiB page inside a 2 MiB leaf: the walker splits the
 * leaf into 512 that map the same memory; only the one page may fault.
 */
static void case_split_huge_leaf(void)
{
	u64 size = PG_LEVEL_SIZE(PG_LEVEL_2M);
	u64 gpa = phys_alloc(size, KVMT_MAIN_SLOT);
	u64 gva = gva_alloc(size, size);
	u64 ro_off = 5 * PAGE_SIZE;
	u64 rw_offs[] = { 0, ro_off - 8, ro_off + PAGE_SIZE, size - 8 };
	u64 expect = plant_marker(gpa + ro_off);
	u64 *pte;

	kvm_mmu_map_level(vm, mmu, gva, gpa, size, KVM_MMU_RW, PG_LEVEL_2M);
	/* Cache the writable 2 MiB translation. */
	guest_write(gva, 1);

	kvm_mmu_protect(vm, mmu, gva + ro_off, PAGE_SIZE, KVM_MMU_READ);
	pte = leaf_pte(gva + ro_off, PG_LEVEL_4K);
	CHECK_EQ(kvm_mmu_pte_prot(mmu, *pte), KVM_MMU_READ);
	CHECK_EQ(kvm_mmu_pte_paddr(mmu, *pte, PG_LEVEL_4K), gpa + ro_off);
	pte = leaf_pte(gva + size - 1, PG_LEVEL_4K);
	CHECK_EQ(kvm_mmu_pte_prot(mmu, *pte), KVM_MMU_RW);
	CHECK_EQ(kvm_mmu_pte_paddr(mmu, *pte, PG_LEVEL_4K),
		 gpa + size - PAGE_SIZE);

	/*
	 * INVLPG drops the 2 MiB TLB entry covering the address and all
	 * paging-structure caches, so one is enough for the new table.
	 */
	guest_invlpg(gva + ro_off);
	EXPECT_PF(OP_WRITE, gva + ro_off, PF_P | PF_W);
	CHECK_EQ(guest_read(gva + ro_off), expect);
	for (size_t i = 0; i < ARRAY_SIZE(rw_offs); i++) {
		u64 v = ~marker(gpa + rw_offs[i]);

		guest_write(gva + rw_offs[i], v);
		CHECK_EQ(*host_ptr(gpa + rw_offs[i]), v);
	}
}

/* Canonical with 57 bits (bits 48-56 in use, bit 56 clear), not with 48. */
#define LA57_GVA	0x00f0000000000000ULL
/* Non-canonical with 57 bits: bit 56 set, bits 63:57 clear. */
#define NONCANONICAL_57	0x0100000000000000ULL

static void case_address_width(void)
{
	u64 cr4 = guest_do(OP_READ_CR4, 0, 0).value;
	u64 gpa, expect;

	if (mmu->pgtable_levels == 4) {
		CHECK(!(cr4 & X86_CR4_LA57), "CR4 0x%llx", cr4);
		/* A non-canonical address is #GP, never a walk. */
		EXPECT_GP(OP_READ, LA57_GVA);
		EXPECT_GP(OP_WRITE, LA57_GVA);
		return;
	}

	CHECK(cr4 & X86_CR4_LA57, "CR4 0x%llx", cr4);
	gpa = phys_alloc(PAGE_SIZE, KVMT_MAIN_SLOT);
	expect = plant_marker(gpa + 0x238);
	kvm_mmu_map(vm, mmu, LA57_GVA, gpa, PAGE_SIZE, KVM_MMU_RW);
	/* The PML5 index is what makes this address need a fifth level. */
	CHECK(kvm_mmu_entry(vm, mmu, LA57_GVA, PG_LEVEL_256T) !=
	      kvm_mmu_entry(vm, mmu, 0, PG_LEVEL_256T), "same PML5E as GVA 0");
	CHECK_EQ(guest_read(LA57_GVA + 0x238), expect);
	guest_write(LA57_GVA + 0x238, ~expect);
	CHECK_EQ(*host_ptr(gpa + 0x238), ~expect);
	EXPECT_GP(OP_READ, NONCANONICAL_57);
}

/*
 * kvm_mmu_verify() over everything the cases did (splits, remaps,
 * unmaps, a broken-and-repaired PML4E), then exact leaf and byte counts
 * across a small map and unmap, and the dump's line for it.
 */
static void case_dump_verify(void)
{
	u64 gva = gva_alloc(2 * PG_LEVEL_SIZE(PG_LEVEL_2M),
			    PG_LEVEL_SIZE(PG_LEVEL_2M));
	u64 gpa = phys_alloc(PG_LEVEL_SIZE(PG_LEVEL_2M), KVMT_MAIN_SLOT);
	u64 gva_2m = gva + PG_LEVEL_SIZE(PG_LEVEL_2M);
	u64 leaves, mapped, leaves0, mapped0;
	char want_va[32], want_pa[48], line[256] = "", *dump = NULL, *hit;
	size_t dump_size;
	FILE *out;

	leaves0 = kvm_mmu_verify(vm, mmu, &mapped0);
	/* At least the image, a stack and the cases' own leaves. */
	CHECK(leaves0 >= 10 && mapped0 >= leaves0 * PAGE_SIZE,
	      "%llu leaves mapping 0x%llx bytes",
	      leaves0, mapped0);

	kvm_mmu_map(vm, mmu, gva, gpa, 3 * PAGE_SIZE, KVM_MMU_READ);
	kvm_mmu_map(vm, mmu, gva_2m, gpa, PG_LEVEL_SIZE(PG_LEVEL_2M),
		    KVM_MMU_RW);
	leaves = kvm_mmu_verify(vm, mmu, &mapped);
	CHECK_EQ(leaves, leaves0 + 4);
	CHECK_EQ(mapped, mapped0 + 3 * PAGE_SIZE + PG_LEVEL_SIZE(PG_LEVEL_2M));

	out = open_memstream(&dump, &dump_size);
	TEST_ASSERT(out, "open_memstream");
	kvm_mmu_dump(out, vm, mmu);
	fclose(out);
	snprintf(want_va, sizeof(want_va), "0x%016llx: ",
		 (gva + PAGE_SIZE));
	snprintf(want_pa, sizeof(want_pa), " -> 0x%llx r--",
		 (gpa + PAGE_SIZE));
	hit = strstr(dump, want_va);
	if (hit)
		snprintf(line, sizeof(line), "%.*s",
			 (int)(strchrnul(hit, '\n') - hit), hit);
	free(dump);
	CHECK(line[0], "no dump line for GVA %s", want_va);
	tap_info("dump: ...%s", line);
	CHECK(strstr(line, want_pa), "dump line lacks '%s'", want_pa);

	CHECK_EQ(kvm_mmu_unmap(vm, mmu, gva, 2 * PG_LEVEL_SIZE(PG_LEVEL_2M)), 4);
	leaves = kvm_mmu_verify(vm, mmu, &mapped);
	CHECK_EQ(leaves, leaves0);
	CHECK_EQ(mapped, mapped0);
}

static const struct {
	void (*fn)(void);
	const char *name;
} cases[] = {
	{ case_leaf_4k, "4 KiB leaf: guest and host see each other's bytes" },
	{ case_leaf_2m, "2 MiB leaf: guest and host see each other's bytes" },
	{ case_leaf_1g, "1 GiB leaf: guest and host see each other's bytes" },
	{ case_pf_write_protect, "#PF P|W: write to a read-only page" },
	{ case_pf_user, "#PF P|U: CPL3 access to a supervisor page" },
	{ case_user_access, "CPL3 reads and writes user pages" },
	{ case_pf_nx, "#PF P|I: fetch from an NX page" },
	{ case_pf_not_present, "#PF without P: not-present page" },
	{ case_reserved_bit, "#PF P|RSVD for a reserved bit in a PML4E" },
	{ case_accessed_dirty, "CPU-set accessed/dirty bits seen by lookup (4 KiB, 2 MiB)" },
	{ case_remap_invlpg, "remap + INVLPG: guest reads the new page (4 KiB, 2 MiB)" },
	{ case_protect_unmap_invlpg, "protect/unmap + INVLPG: the access now faults" },
	{ case_guest_pte_edit, "guest edits its own PTE + INVLPG; the walker sees it" },
	{ case_split_huge_leaf, "protecting 4 KiB inside a 2 MiB leaf splits it" },
	{ case_address_width, "address width follows the paging depth (CR4.LA57)" },
	{ case_dump_verify, "verify and dump the VM's tables" },
};

int main(int argc, char *argv[])
{
	struct vm_options opts = { .va_bits = 48, .numa_node = -1 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--la57")) {
			opts.va_bits = 57;
		} else {
			fprintf(stderr, "usage: %s [--la57]\n", argv[0]);
			return KSFT_FAIL;
		}
	}
	kvm_dev_fd();
	if (opts.va_bits == 57 && !kvm_cpu_has(X86_FEATURE_LA57))
		test_skip("KVM does not support 5-level paging (CPUID 7.0 ECX.LA57)");

	vm = vm_create(&opts);
	vcpu = vm_vcpu_add(vm, 0, guest_server);
	mmu = &vm->mmu;
	tap_info("%d-level guest paging, 1 GiB pages %s",
		 mmu->pgtable_levels, vm->arch.has_gbpages ? "on" : "off");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		case_begin("%s", cases[i].name);
		cases[i].fn();
	}
	case_end();
	kvm_vm_free(vm);
	checks_exit();
}
