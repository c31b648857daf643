// SPDX-License-Identifier: GPL-2.0-only
/*
 * The page-table walker (lib/kvm_mmu.c), on fake VMs: no /dev/kvm needed.
 *
 * Every case runs on each filling (guest paging, EPT, NPT) with 4 and 5
 * levels. The PTE bit positions are written out below from the SDM and
 * the APM rather than taken from kvm_mmu_arch.h, so a wrong mask in a
 * filling shows up here instead of being agreed with.
 */
#include <sys/wait.h>

#include "kvm_util.h"

/* IA-32e paging entries (SDM Vol. 3, "Paging"); NPT uses the same. */
#define G_P	(1ULL << 0)
#define G_W	(1ULL << 1)
#define G_U	(1ULL << 2)
#define G_A	(1ULL << 5)
#define G_D	(1ULL << 6)
#define G_PS	(1ULL << 7)
#define G_NX	(1ULL << 63)

/* EPT entries (SDM Vol. 3, "EPT Translation Mechanism"). */
#define E_R	(1ULL << 0)
#define E_W	(1ULL << 1)
#define E_X	(1ULL << 2)
#define E_WB	(6ULL << 3)	/* memory type, bits 5:3, leaves only */
#define E_PS	(1ULL << 7)
#define E_A	(1ULL << 8)
#define E_D	(1ULL << 9)
/* Ignored by the CPU in a leaf of all three formats: a test's own bit. */
#define SOFT_BIT	(1ULL << 11)

#define SZ_4K	PG_LEVEL_SIZE(PG_LEVEL_4K)
#define SZ_2M	PG_LEVEL_SIZE(PG_LEVEL_2M)
#define SZ_1G	PG_LEVEL_SIZE(PG_LEVEL_1G)

/* Output memory: a second, never-touched slot big enough for 1G leaves. */
#define OUT_SLOT	1
#define OUT_GPA		(4 * GiB)
#define OUT_SIZE	(16 * GiB)
#define MAIN_MEM	(256 * MiB)

struct cfg {
	const char *name;
	enum kvm_mmu_format format;
	int levels;
	u64 in;		/* a 512 GiB-aligned input address to work at */
};

static const struct cfg cfgs[] = {
	/* Stage-1 in the upper canonical half, so sign extension is tested. */
	{ "guest 4-level", KVM_MMU_FORMAT_GUEST, 4, 0xffff888000000000ULL },
	{ "guest 5-level", KVM_MMU_FORMAT_GUEST, 5, 0xff11000000000000ULL },
	{ "EPT 4-level", KVM_MMU_FORMAT_EPT, 4, 0x00007f8000000000ULL },
	{ "EPT 5-level", KVM_MMU_FORMAT_EPT, 5, 0x01f0008000000000ULL },
	{ "NPT 4-level", KVM_MMU_FORMAT_NPT, 4, 0x0000408000000000ULL },
	{ "NPT 5-level", KVM_MMU_FORMAT_NPT, 5, 0x0100000000000000ULL },
};

struct env {
	const struct cfg *cfg;
	struct kvm_vm *vm;
	struct kvm_mmu *mmu;
	int pa_bits;
	u64 addr_mask;
};

static void fill(enum kvm_mmu_format format, struct kvm_mmu_arch *arch,
		 int pa_bits, bool gbpages)
{
	switch (format) {
	case KVM_MMU_FORMAT_GUEST:
		x86_mmu_arch_guest(arch, pa_bits, gbpages);
		break;
	case KVM_MMU_FORMAT_EPT:
		x86_mmu_arch_ept(arch, pa_bits, gbpages);
		break;
	case KVM_MMU_FORMAT_NPT:
		x86_mmu_arch_npt(arch, pa_bits, gbpages);
		break;
	}
}

/*
 * A fresh fake VM per case keeps cases independent. Stage-1 uses the
 * VM's own mmu; EPT and NPT get vm->stage2_mmu, as vm_enable_tdp would.
 */
static struct env env_create(const struct cfg *cfg)
{
	struct env e = { .cfg = cfg, .pa_bits = cfg->levels == 5 ? 52 : 46 };
	struct kvm_mmu_arch arch;

	e.vm = vm_create_fake(cfg->levels == 5 ? 57 : 48, e.pa_bits, MAIN_MEM);
	vm_memslot_add(e.vm, VM_MEM_ANON, OUT_GPA, OUT_SLOT,
		       OUT_SIZE / PAGE_SIZE, 0);
	e.addr_mask = GENMASK_ULL(e.pa_bits - 1, 12);
	if (cfg->format == KVM_MMU_FORMAT_GUEST) {
		e.mmu = &e.vm->mmu;
	} else {
		fill(cfg->format, &arch, e.pa_bits, true);
		e.mmu = &e.vm->stage2_mmu;
		kvm_mmu_init(e.vm, e.mmu, cfg->levels, &arch);
	}
	return e;
}

/* A second mmu of the same format in the same VM, without 1G leaves. */
static struct kvm_mmu *env_mmu_no_gbpages(struct env *e)
{
	struct kvm_mmu *mmu = calloc(1, sizeof(*mmu));
	struct kvm_mmu_arch arch;

	TEST_ASSERT(mmu, "out of memory");
	fill(e->cfg->format, &arch, e->pa_bits, false);
	kvm_mmu_init(e->vm, mmu, e->cfg->levels, &arch);
	return mmu;
}

static void env_free(struct env *e)
{
	kvm_vm_free(e->vm);
}

/* The rights a format can express, as kvm_mmu_pte_prot() reports them. */
static unsigned int norm_prot(enum kvm_mmu_format format, unsigned int prot)
{
	switch (format) {
	case KVM_MMU_FORMAT_GUEST:
		/* Present implies readable. */
		return KVM_MMU_READ | (prot & (KVM_MMU_WRITE | KVM_MMU_EXEC |
					       KVM_MMU_USER));
	case KVM_MMU_FORMAT_NPT:
		/* U is set in every entry, so it says nothing. */
		return KVM_MMU_READ | (prot & (KVM_MMU_WRITE | KVM_MMU_EXEC));
	default:
		return prot & KVM_MMU_RWX;
	}
}

/* The leaf PTE a format must hold, from the bit positions above. */
static u64 expected_leaf(enum kvm_mmu_format format, unsigned int prot,
			 int level, u64 paddr)
{
	u64 pte = paddr;

	if (format == KVM_MMU_FORMAT_EPT) {
		pte |= E_WB;
		pte |= (prot & KVM_MMU_READ) ? E_R : 0;
		pte |= (prot & KVM_MMU_WRITE) ? E_W : 0;
		pte |= (prot & KVM_MMU_EXEC) ? E_X : 0;
		return pte | (level ? E_PS : 0);
	}
	pte |= G_P;
	pte |= (prot & KVM_MMU_WRITE) ? G_W : 0;
	pte |= (prot & KVM_MMU_EXEC) ? 0 : G_NX;
	if (format == KVM_MMU_FORMAT_NPT || (prot & KVM_MMU_USER))
		pte |= G_U;
	return pte | (level ? G_PS : 0);
}

/* A non-leaf entry: every right granted, no memory type, no PS. */
static u64 expected_table_flags(enum kvm_mmu_format format)
{
	return format == KVM_MMU_FORMAT_EPT ? E_R | E_W | E_X : G_P | G_W | G_U;
}

static bool entry_present(enum kvm_mmu_format format, u64 pte)
{
	return format == KVM_MMU_FORMAT_EPT ? pte & (E_R | E_W | E_X) : pte & G_P;
}

static const char *prot_str(unsigned int prot)
{
	static char buf[8][8];
	static int n;
	char *s = buf[n++ % 8];

	snprintf(s, 8, "%c%c%c%c", prot & KVM_MMU_READ ? 'r' : '-',
		 prot & KVM_MMU_WRITE ? 'w' : '-',
		 prot & KVM_MMU_EXEC ? 'x' : '-',
		 prot & KVM_MMU_USER ? 'u' : '-');
	return s;
}

/*
 * The level a MAP with PG_LEVEL_ANY must give the page at @a of
 * [start, end) mapped with paddr - vaddr = delta: the largest whose block
 * lies in the range and whose output is aligned like it.
 */
static int expected_level(u64 a, u64 start, u64 end, u64 delta, int max)
{
	for (int l = max; l > PG_LEVEL_4K; l--) {
		u64 block = ALIGN_DOWN(a, PG_LEVEL_SIZE(l));

		if (block >= start && block + PG_LEVEL_SIZE(l) - 1 <= end - 1 &&
		    IS_ALIGNED(block + delta, PG_LEVEL_SIZE(l)))
			return l;
	}
	return PG_LEVEL_4K;
}

/*
 * Walk [start, end) leaf by leaf: every page must be mapped to
 * page + delta with rights @prot, by a leaf at level @pin, or with
 * PG_LEVEL_ANY at the level expected_level() gives for a map of exactly
 * [start, end) with leaves up to @max. Returns the number of leaves, or
 * -1 after printing the first mismatch.
 */
static long check_range(struct env *e, struct kvm_mmu *mmu, u64 start,
			u64 end, u64 delta, unsigned int prot, int pin,
			int max)
{
	long leaves = 0;

	for (u64 a = start; a < end;) {
		int level = -2, want;
		u64 *pte = kvm_mmu_lookup(e->vm, mmu, a, &level);
		u64 pa;

		if (!pte) {
			tap_info("0x%llx not mapped", a);
			return -1;
		}
		want = pin != PG_LEVEL_ANY ? pin :
		       expected_level(a, start, end, delta, max);
		if (level != want) {
			tap_info("0x%llx mapped at level %d, expected %d (pte 0x%llx)",
				 a, level, want, *pte);
			return -1;
		}
		pa = kvm_mmu_pte_paddr(mmu, *pte, level);
		if (pa + (a & (PG_LEVEL_SIZE(level) - 1)) != a + delta ||
		    kvm_mmu_pte_prot(mmu, *pte) != prot) {
			tap_info("0x%llx -> 0x%llx %s, expected -> 0x%llx %s (pte 0x%llx)",
				 a, pa, prot_str(kvm_mmu_pte_prot(mmu, *pte)),
				 a + delta, prot_str(prot), *pte);
			return -1;
		}
		leaves++;
		a = ALIGN_DOWN(a, PG_LEVEL_SIZE(level)) + PG_LEVEL_SIZE(level);
	}
	return leaves;
}

/* Check every non-leaf entry on vaddr's walk down to @leaf_level. */
static bool check_table_entries(struct env *e, struct kvm_mmu *mmu, u64 vaddr,
				int leaf_level)
{
	u64 flags = expected_table_flags(e->cfg->format);

	for (int l = mmu->pgtable_levels - 1; l > leaf_level; l--) {
		u64 *pte = kvm_mmu_entry(e->vm, mmu, vaddr, l);
		u64 *child = kvm_mmu_entry(e->vm, mmu, vaddr, l - 1);

		if (!CHECK(pte && child, "no L%d/L%d entry for 0x%llx", l,
			   l - 1, vaddr))
			return false;
		CHECK((*pte & ~e->addr_mask) == flags,
		      "L%d entry 0x%llx for 0x%llx, expected flags 0x%llx",
		      l, *pte, vaddr, flags);
		CHECK(addr_gpa2hva(e->vm, *pte & e->addr_mask) ==
		      (void *)ALIGN_DOWN((u64)child, PAGE_SIZE),
		      "L%d entry 0x%llx for 0x%llx does not point at the L%d table",
		      l, *pte, vaddr, l - 1);
	}
	return true;
}

/* Rights to try per format: every combination it encodes. */
static const unsigned int guest_prots[] = {
	0, KVM_MMU_READ, KVM_MMU_WRITE, KVM_MMU_RW, KVM_MMU_READ | KVM_MMU_EXEC,
	KVM_MMU_RWX, KVM_MMU_READ | KVM_MMU_USER, KVM_MMU_RW | KVM_MMU_USER,
	KVM_MMU_READ | KVM_MMU_EXEC | KVM_MMU_USER, KVM_MMU_RWX | KVM_MMU_USER,
};
static const unsigned int ept_prots[] = {
	KVM_MMU_READ, KVM_MMU_WRITE, KVM_MMU_EXEC, KVM_MMU_RW,
	KVM_MMU_READ | KVM_MMU_EXEC, KVM_MMU_WRITE | KVM_MMU_EXEC, KVM_MMU_RWX,
};

/*
 * One leaf per (level, rights): the PTE must be exactly what the format
 * says, decode back to the rights, and the tables above it must be plain
 * table pointers. Then set A/D by hand and check protect keeps them.
 */
static void case_encodings(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	enum kvm_mmu_format f = cfg->format;
	bool ept = f == KVM_MMU_FORMAT_EPT;
	const unsigned int *prots = ept ? ept_prots : guest_prots;
	int nprots = ept ? ARRAY_SIZE(ept_prots) : ARRAY_SIZE(guest_prots);
	u64 ad = (ept ? E_A | E_D : G_A | G_D) | SOFT_BIT;

	for (int level = PG_LEVEL_4K; level <= PG_LEVEL_1G; level++) {
		for (int i = 0; i < nprots; i++) {
			u64 size = PG_LEVEL_SIZE(level);
			u64 va = cfg->in + (u64)level * 64 * GiB + i * size;
			u64 pa = OUT_GPA + (i % 8) * size;
			unsigned int prot = prots[i], other;
			u64 want = expected_leaf(f, prot, level, pa);
			int got_level = -2;
			u64 *pte;

			kvm_mmu_map_level(e.vm, e.mmu, va, pa, size, prot, level);
			pte = kvm_mmu_lookup(e.vm, e.mmu, va, &got_level);
			if (!CHECK(pte && got_level == level,
				   "level %d %s: lookup gave %p at level %d",
				   level, prot_str(prot), pte, got_level))
				continue;
			CHECK(*pte == want,
			      "level %d %s: pte 0x%llx, expected 0x%llx", level,
			      prot_str(prot), *pte, want);
			CHECK(kvm_mmu_pte_prot(e.mmu, *pte) == norm_prot(f, prot),
			      "level %d: %s decoded as %s", level, prot_str(prot),
			      prot_str(kvm_mmu_pte_prot(e.mmu, *pte)));
			CHECK(kvm_mmu_pte_paddr(e.mmu, *pte, level) == pa,
			      "level %d: paddr 0x%llx", level,
			      kvm_mmu_pte_paddr(e.mmu, *pte, level));
			if (!check_table_entries(&e, e.mmu, va, level))
				return;

			/*
			 * Protect changes the rights and keeps all else: the
			 * address, A/D, a bit the walker does not manage.
			 */
			other = prots[(i + 1) % nprots];
			*pte |= ad;
			kvm_mmu_protect(e.vm, e.mmu, va, size, other);
			want = expected_leaf(f, other, level, pa) | ad;
			CHECK(*pte == want,
			      "level %d %s -> %s: pte 0x%llx, expected 0x%llx",
			      level, prot_str(prot), prot_str(other), *pte,
			      want);
		}
	}
	env_free(&e);
}

/*
 * One map call over 4K, 2M, 1G, 2M, 4K pieces: each page gets the
 * largest leaf its alignment allows; then the same range with outputs
 * misaligned by 4K and by 2M, and on an mmu without 1G pages.
 */
static void case_map_mixed(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	u64 start = cfg->in + 4 * GiB - SZ_2M - 4 * SZ_4K;
	u64 end = cfg->in + 5 * GiB + SZ_2M + 2 * SZ_4K;
	u64 pa = OUT_GPA + 2 * GiB - SZ_2M - 4 * SZ_4K;
	struct kvm_mmu *no_gb = env_mmu_no_gbpages(&e);
	unsigned int prot = KVM_MMU_RW;
	long leaves;
	u64 mapped;
	static const struct { u64 shift_va; u64 pa_off; } variants[] = {
		{ 0, 0 }, { 8 * GiB, SZ_4K }, { 16 * GiB, SZ_2M },
	};

	for (int v = 0; v < (int)ARRAY_SIZE(variants); v++) {
		u64 s = start + variants[v].shift_va, en = end + variants[v].shift_va;
		u64 p = pa + variants[v].pa_off;

		kvm_mmu_map(e.vm, e.mmu, s, p, en - s, prot);
		leaves = check_range(&e, e.mmu, s, en, p - s,
				     norm_prot(cfg->format, prot), PG_LEVEL_ANY,
				     PG_LEVEL_1G);
		CHECK(leaves > 0, "variant %d", v);
		if (v == 0)
			CHECK(leaves == 4 + 1 + 1 + 1 + 2,
			      "%ld leaves, expected 9", leaves);
	}
	/* Every leaf made above, and nothing else, is in the tables. */
	CHECK(kvm_mmu_verify(e.vm, e.mmu, &mapped) ==
	      9 + (end - start) / SZ_4K + (4 + 1 + 512 + 1 + 2),
	      "verify counted %llu leaves",
	      kvm_mmu_verify(e.vm, e.mmu, NULL));
	CHECK(mapped == 3 * (end - start), "verify: 0x%llx bytes mapped",
	      mapped);

	kvm_mmu_map(e.vm, no_gb, start, pa, end - start, prot);
	leaves = check_range(&e, no_gb, start, end, pa - start,
			     norm_prot(cfg->format, prot), PG_LEVEL_ANY,
			     PG_LEVEL_2M);
	CHECK(leaves == 4 + 1 + 512 + 1 + 2, "no 1G pages: %ld leaves", leaves);

	/*
	 * A 512G-aligned range of 512G + 1G: the alignment would allow a
	 * 512G leaf, which no format has; 1G leaves it is. The output is a
	 * 512G slot that is never touched (MAP_NORESERVE, so it is free).
	 */
	vm_memslot_add(e.vm, VM_MEM_ANON, 512 * GiB, OUT_SLOT + 1,
		       512 * GiB / PAGE_SIZE, 0);
	start = cfg->in + PG_LEVEL_SIZE(PG_LEVEL_512G);
	kvm_mmu_map(e.vm, e.mmu, start, 512 * GiB, 512 * GiB, prot);
	kvm_mmu_map(e.vm, e.mmu, start + 512 * GiB, OUT_GPA, GiB, prot);
	leaves = check_range(&e, e.mmu, start, start + 512 * GiB,
			     512 * GiB - start, norm_prot(cfg->format, prot),
			     PG_LEVEL_1G, 0);
	CHECK(leaves == 512, "512G range: %ld leaves", leaves);
	env_free(&e);
}

/* kvm_mmu_map_level gives exactly the pinned level, also over old leaves. */
static void case_map_pinned(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	unsigned int np = norm_prot(cfg->format, KVM_MMU_RWX);
	u64 va = cfg->in + 2 * GiB, pa = OUT_GPA + 4 * GiB;
	long n;

	/* Alignment allows 1G, but 4K and 2M were asked for. */
	kvm_mmu_map_level(e.vm, e.mmu, va, pa, GiB + SZ_2M, KVM_MMU_RWX,
			  PG_LEVEL_4K);
	n = check_range(&e, e.mmu, va, va + GiB + SZ_2M, pa - va, np,
			PG_LEVEL_4K, 0);
	CHECK(n == (long)((GiB + SZ_2M) / SZ_4K), "4K pinned: %ld leaves", n);

	va += 4 * GiB;
	kvm_mmu_map_level(e.vm, e.mmu, va, pa, 2 * GiB, KVM_MMU_RWX,
			  PG_LEVEL_2M);
	n = check_range(&e, e.mmu, va, va + 2 * GiB, pa - va, np, PG_LEVEL_2M, 0);
	CHECK(n == 1024, "2M pinned: %ld leaves", n);

	va += 4 * GiB;
	kvm_mmu_map_level(e.vm, e.mmu, va, pa, 2 * GiB, KVM_MMU_RWX,
			  PG_LEVEL_1G);
	n = check_range(&e, e.mmu, va, va + 2 * GiB, pa - va, np, PG_LEVEL_1G, 0);
	CHECK(n == 2, "1G pinned: %ld leaves", n);

	/* Pinning 2M inside a 1G leaf splits it; the rest keeps its output. */
	kvm_mmu_map_level(e.vm, e.mmu, va + SZ_2M, OUT_GPA, 2 * SZ_2M,
			  KVM_MMU_READ, PG_LEVEL_2M);
	n = check_range(&e, e.mmu, va + SZ_2M, va + 3 * SZ_2M, OUT_GPA - va - SZ_2M,
			norm_prot(cfg->format, KVM_MMU_READ), PG_LEVEL_2M, 0);
	CHECK(n == 2, "2M in 1G: %ld leaves", n);
	n = check_range(&e, e.mmu, va, va + SZ_2M, pa - va, np, PG_LEVEL_2M, 0);
	CHECK(n == 1, "2M in 1G, head: %ld leaves", n);
	n = check_range(&e, e.mmu, va + 3 * SZ_2M, va + GiB, pa - va, np,
			PG_LEVEL_2M, 0);
	CHECK(n == 509, "2M in 1G, tail: %ld leaves", n);
	n = check_range(&e, e.mmu, va + GiB, va + 2 * GiB, pa - va, np,
			PG_LEVEL_1G, 0);
	CHECK(n == 1, "the next 1G leaf: %ld leaves", n);
	env_free(&e);
}

/* Lookup gives the PTE and its level; writes through it take effect. */
static void case_lookup_translate(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	u64 va = cfg->in + GiB - SZ_2M - SZ_4K, pa = OUT_GPA + GiB - SZ_2M - SZ_4K;
	static const struct { u64 off; int level; } probes[] = {
		{ 0, PG_LEVEL_4K }, { 0xabc, PG_LEVEL_4K },
		{ SZ_4K, PG_LEVEL_2M }, { SZ_4K + 0x12345, PG_LEVEL_2M },
		{ SZ_4K + SZ_2M, PG_LEVEL_1G },
		{ SZ_4K + SZ_2M + GiB - 1, PG_LEVEL_1G },
	};
	u64 *pte, gpa;
	int level;

	kvm_mmu_map(e.vm, e.mmu, va, pa, SZ_4K + SZ_2M + GiB, KVM_MMU_RW);
	for (int i = 0; i < (int)ARRAY_SIZE(probes); i++) {
		u64 a = va + probes[i].off;

		level = -2;
		pte = kvm_mmu_lookup(e.vm, e.mmu, a, &level);
		CHECK(pte && level == probes[i].level,
		      "0x%llx: level %d, expected %d", a, level,
		      probes[i].level);
		CHECK(pte == kvm_mmu_entry(e.vm, e.mmu, a, level),
		      "0x%llx: lookup and entry disagree", a);
		CHECK(kvm_mmu_lookup(e.vm, e.mmu, a, NULL) == pte,
		      "lookup with a NULL level");
		CHECK(kvm_mmu_translate(e.vm, e.mmu, a, &gpa) &&
		      gpa == pa + probes[i].off,
		      "0x%llx translated to 0x%llx, expected 0x%llx", a,
		      gpa, pa + probes[i].off);
	}
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, va - SZ_4K, &level), "below the range");
	CHECK(!kvm_mmu_translate(e.vm, e.mmu, va + SZ_4K + SZ_2M + GiB, &gpa),
	      "above the range");
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, cfg->in + 100 * GiB, NULL),
	      "far from the range");

	/* The pointer is into guest memory: retarget the 2M leaf through it. */
	pte = kvm_mmu_lookup(e.vm, e.mmu, va + SZ_4K, &level);
	*pte = (*pte & ~e.addr_mask) | (OUT_GPA + 8 * GiB);
	CHECK(kvm_mmu_translate(e.vm, e.mmu, va + SZ_4K + 0x777, &gpa) &&
	      gpa == OUT_GPA + 8 * GiB + 0x777, "retargeted: 0x%llx", gpa);
	env_free(&e);
}

/* Unmap whole leaves, then parts of huge ones, which must split. */
static void case_unmap(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	unsigned int np = norm_prot(cfg->format, KVM_MMU_RW);
	u64 va = cfg->in + GiB, pa = OUT_GPA + GiB, count;
	int level;

	kvm_mmu_map(e.vm, e.mmu, va, pa, 3 * GiB, KVM_MMU_RW);

	/* A whole 1G leaf is one leaf cleared. */
	count = kvm_mmu_unmap(e.vm, e.mmu, va, GiB);
	CHECK(count == 1, "whole 1G: %llu leaves cleared", count);
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, va, NULL) &&
	      !kvm_mmu_lookup(e.vm, e.mmu, va + GiB - 1, NULL), "1G still mapped");

	/* 2M out of the middle of the next 1G leaf: split into 2M leaves. */
	va += GiB;
	pa += GiB;
	count = kvm_mmu_unmap(e.vm, e.mmu, va + 10 * SZ_2M, SZ_2M);
	CHECK(count == 1, "2M in 1G: %llu leaves cleared", count);
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, va + 10 * SZ_2M + 0x5000, NULL),
	      "2M hole still mapped");
	CHECK(check_range(&e, e.mmu, va, va + 10 * SZ_2M, pa - va, np,
			  PG_LEVEL_2M, 0) == 10, "below the 2M hole");
	CHECK(check_range(&e, e.mmu, va + 11 * SZ_2M, va + GiB, pa - va, np,
			  PG_LEVEL_2M, 0) == 501, "above the 2M hole");

	/* 4K out of a 2M leaf made by that split: split again. */
	count = kvm_mmu_unmap(e.vm, e.mmu, va + 3 * SZ_4K, SZ_4K);
	CHECK(count == 1, "4K in 2M: %llu leaves cleared", count);
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, va + 3 * SZ_4K, NULL), "4K hole");
	CHECK(check_range(&e, e.mmu, va, va + 3 * SZ_4K, pa - va, np,
			  PG_LEVEL_4K, 0) == 3, "below the 4K hole");
	CHECK(check_range(&e, e.mmu, va + 4 * SZ_4K, va + SZ_2M, pa - va, np,
			  PG_LEVEL_4K, 0) == 508, "above the 4K hole");

	/* 4K + 2M + 4K across the third 1G leaf: it splits twice. */
	va += GiB;
	pa += GiB;
	count = kvm_mmu_unmap(e.vm, e.mmu, va + SZ_2M - SZ_4K, SZ_2M + 2 * SZ_4K);
	CHECK(count == 3, "4K+2M+4K in 1G: %llu leaves cleared", count);
	CHECK(kvm_mmu_lookup(e.vm, e.mmu, va + SZ_2M - 2 * SZ_4K, &level) &&
	      level == PG_LEVEL_4K, "page below the hole");
	CHECK(kvm_mmu_lookup(e.vm, e.mmu, va + 2 * SZ_2M + SZ_4K, &level) &&
	      level == PG_LEVEL_4K, "page above the hole");
	CHECK(kvm_mmu_lookup(e.vm, e.mmu, va + 3 * SZ_2M, &level) &&
	      level == PG_LEVEL_2M, "2M leaf above the hole");
	CHECK(kvm_mmu_lookup(e.vm, e.mmu, va, &level) && level == PG_LEVEL_4K,
	      "the split 2M leaf's first page");
	CHECK(kvm_mmu_lookup(e.vm, e.mmu, va + GiB - SZ_2M, &level) &&
	      level == PG_LEVEL_2M, "last 2M leaf");

	/* Unmapping where nothing is mapped clears nothing. */
	count = kvm_mmu_unmap(e.vm, e.mmu, cfg->in + 200 * GiB, 3 * GiB);
	CHECK(count == 0, "empty range: %llu leaves cleared", count);
	count = kvm_mmu_unmap(e.vm, e.mmu, cfg->in + GiB, GiB);
	CHECK(count == 0, "unmapped twice: %llu leaves cleared", count);
	env_free(&e);
}

/* Protect whole leaves and parts of huge ones; rights decode back. */
static void case_protect(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	enum kvm_mmu_format f = cfg->format;
	u64 va = cfg->in + 8 * GiB, pa = OUT_GPA, d = pa - va;
	unsigned int rwx = norm_prot(f, KVM_MMU_RWX), ro = norm_prot(f, KVM_MMU_READ);
	unsigned int rx = norm_prot(f, KVM_MMU_READ | KVM_MMU_EXEC);
	u64 *pte;
	int level;

	kvm_mmu_map(e.vm, e.mmu, va, pa, 2 * GiB, KVM_MMU_RWX);

	/* A whole 1G leaf stays one leaf. */
	kvm_mmu_protect(e.vm, e.mmu, va, GiB, KVM_MMU_READ);
	CHECK(check_range(&e, e.mmu, va, va + GiB, d, ro, PG_LEVEL_1G, 0) == 1,
	      "whole 1G leaf");

	/* One 2M piece of the second 1G leaf: split into 2M leaves. */
	kvm_mmu_protect(e.vm, e.mmu, va + GiB + SZ_2M, SZ_2M,
			KVM_MMU_READ | KVM_MMU_EXEC);
	CHECK(check_range(&e, e.mmu, va + GiB, va + GiB + SZ_2M, d, rwx,
			  PG_LEVEL_2M, 0) == 1, "2M before");
	CHECK(check_range(&e, e.mmu, va + GiB + SZ_2M, va + GiB + 2 * SZ_2M, d,
			  rx, PG_LEVEL_2M, 0) == 1, "2M protected");
	CHECK(check_range(&e, e.mmu, va + GiB + 2 * SZ_2M, va + 2 * GiB, d, rwx,
			  PG_LEVEL_2M, 0) == 510, "2M after");

	/* One 4K page of the read-only 1G leaf: split down to 4K. */
	pte = kvm_mmu_lookup(e.vm, e.mmu, va, &level);
	*pte |= (f == KVM_MMU_FORMAT_EPT ? E_A | E_D : G_A | G_D) | SOFT_BIT;
	kvm_mmu_protect(e.vm, e.mmu, va + SZ_2M + 5 * SZ_4K, SZ_4K, KVM_MMU_RWX);
	CHECK(check_range(&e, e.mmu, va + SZ_2M, va + SZ_2M + 5 * SZ_4K, d, ro,
			  PG_LEVEL_4K, 0) == 5, "4K before");
	CHECK(check_range(&e, e.mmu, va + SZ_2M + 5 * SZ_4K,
			  va + SZ_2M + 6 * SZ_4K, d, rwx, PG_LEVEL_4K, 0) == 1,
	      "4K protected");
	CHECK(check_range(&e, e.mmu, va + SZ_2M + 6 * SZ_4K, va + 2 * SZ_2M, d,
			  ro, PG_LEVEL_4K, 0) == 506, "4K after");
	CHECK(check_range(&e, e.mmu, va, va + SZ_2M, d, ro, PG_LEVEL_2M, 0) == 1,
	      "2M sibling");
	/* The split children keep the huge leaf's A/D and software bits. */
	pte = kvm_mmu_lookup(e.vm, e.mmu, va + SZ_2M + 5 * SZ_4K, &level);
	CHECK(*pte == (expected_leaf(f, KVM_MMU_RWX, PG_LEVEL_4K,
				     pa + SZ_2M + 5 * SZ_4K) |
		       (f == KVM_MMU_FORMAT_EPT ? E_A | E_D : G_A | G_D) |
		       SOFT_BIT),
	      "split child 0x%llx", *pte);
	pte = kvm_mmu_lookup(e.vm, e.mmu, va + 100 * SZ_2M, &level);
	CHECK(*pte == (expected_leaf(f, KVM_MMU_READ, PG_LEVEL_2M,
				     pa + 100 * SZ_2M) |
		       (f == KVM_MMU_FORMAT_EPT ? E_A | E_D : G_A | G_D) |
		       SOFT_BIT),
	      "split 2M child 0x%llx", *pte);

	/* Protect leaves holes alone: it changes rights, it does not map. */
	kvm_mmu_unmap(e.vm, e.mmu, va + 3 * SZ_2M, SZ_2M);
	kvm_mmu_protect(e.vm, e.mmu, va, GiB, KVM_MMU_RW);
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, va + 3 * SZ_2M, NULL),
	      "protect mapped a hole");
	CHECK(kvm_mmu_pte_prot(e.mmu, *kvm_mmu_lookup(e.vm, e.mmu, va, NULL)) ==
	      norm_prot(f, KVM_MMU_RW), "protect after unmap");
	env_free(&e);
}

/* kvm_mmu_entry at every level of a 4K walk and of a 1G walk. */
static void case_entry(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	u64 va4k = cfg->in + 0x123456000ULL, va1g = cfg->in + 7 * GiB;
	u64 *leaf;

	kvm_mmu_map(e.vm, e.mmu, va4k, OUT_GPA + 0x5000, SZ_4K, KVM_MMU_RW);
	kvm_mmu_map(e.vm, e.mmu, va1g, OUT_GPA + GiB, GiB, KVM_MMU_RW);

	for (int l = e.mmu->pgtable_levels - 1; l >= 0; l--) {
		u64 *pte = kvm_mmu_entry(e.vm, e.mmu, va4k, l);
		u64 *table = addr_gpa2hva(e.vm, l == e.mmu->pgtable_levels - 1 ?
					  e.mmu->pgd :
					  *kvm_mmu_entry(e.vm, e.mmu, va4k, l + 1) &
					  e.addr_mask);
		int idx = (va4k >> PG_LEVEL_SHIFT(l)) & 511;

		/* Each entry is the one indexed by the address's bits. */
		CHECK(pte == &table[idx], "L%d entry for 0x%llx at %p, expected %p",
		      l, va4k, pte, &table[idx]);
	}
	leaf = kvm_mmu_entry(e.vm, e.mmu, va4k, PG_LEVEL_4K);
	if (!CHECK(leaf, "no leaf entry for 0x%llx", va4k))
		return;
	CHECK(*leaf == expected_leaf(cfg->format, KVM_MMU_RW, 0, OUT_GPA + 0x5000),
	      "leaf 0x%llx", *leaf);
	if (!check_table_entries(&e, e.mmu, va4k, PG_LEVEL_4K))
		return;

	/* Below a 1G leaf the walk stops: no L1 or L0 entry. */
	CHECK(kvm_mmu_entry(e.vm, e.mmu, va1g, PG_LEVEL_1G) ==
	      kvm_mmu_lookup(e.vm, e.mmu, va1g, NULL), "1G leaf entry");
	CHECK(!kvm_mmu_entry(e.vm, e.mmu, va1g + SZ_2M, PG_LEVEL_2M), "L1 under 1G");
	CHECK(!kvm_mmu_entry(e.vm, e.mmu, va1g, PG_LEVEL_4K), "L0 under 1G");
	/* Nor below an empty entry; but the empty entry itself is returned. */
	leaf = kvm_mmu_entry(e.vm, e.mmu, cfg->in + 100 * GiB, PG_LEVEL_1G);
	CHECK(!kvm_mmu_entry(e.vm, e.mmu, cfg->in + 100 * GiB, PG_LEVEL_2M) &&
	      !kvm_mmu_entry(e.vm, e.mmu, cfg->in + 100 * GiB, PG_LEVEL_4K),
	      "under an empty entry");
	CHECK(leaf && !entry_present(cfg->format, *leaf), "the empty L2 entry");

	/* Clearing a non-leaf entry unmaps everything under it. */
	*kvm_mmu_entry(e.vm, e.mmu, va4k, PG_LEVEL_2M) = 0;
	CHECK(!kvm_mmu_lookup(e.vm, e.mmu, va4k, NULL), "table entry cleared");
	env_free(&e);
}

/* Dump: one line per present entry, indented by level; check a few. */
static void case_dump(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	int top = e.mmu->pgtable_levels - 1, lines = 0;
	u64 va = cfg->in + GiB + 0x1000, va2m = cfg->in + 3 * GiB;
	unsigned int prot = KVM_MMU_RW | KVM_MMU_USER;
	char want[256], *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int level;
	u64 *pte;

	TEST_ASSERT(out, "open_memstream");
	kvm_mmu_map(e.vm, e.mmu, va, OUT_GPA + 0x7000, SZ_4K, prot);
	kvm_mmu_map(e.vm, e.mmu, va2m, OUT_GPA + SZ_2M, SZ_2M, KVM_MMU_RWX);
	kvm_mmu_dump(out, e.vm, e.mmu);
	fclose(out);

	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	snprintf(want, sizeof(want), "%d-level tables, root at GPA 0x%llx\n",
		 e.mmu->pgtable_levels, e.mmu->pgd);
	CHECK(!strncmp(buf, want, strlen(want)), "header; dump:\n%s", buf);
	/* Header, the shared levels above L3, L3+L2+L1, then L3+L2 leaf (KVM's numbering). */
	CHECK(lines == 1 + (top - 2) + 3 + 2, "%d lines; dump:\n%s", lines, buf);

	pte = kvm_mmu_lookup(e.vm, e.mmu, va, &level);
	snprintf(want, sizeof(want), "\n%*sL1[%3d] 0x%016llx: 0x%016llx -> 0x%llx %s\n",
		 2 * top, "", 1, va, *pte, OUT_GPA + 0x7000,
		 /* NPT sets U everywhere, so it is not reported; EPT has none. */
		 cfg->format == KVM_MMU_FORMAT_GUEST ? "rw-u" : "rw-");
	CHECK(strstr(buf, want), "no line '%s'; dump:\n%s", want + 1, buf);

	pte = kvm_mmu_lookup(e.vm, e.mmu, va2m, &level);
	snprintf(want, sizeof(want), "\n%*sL2[%3d] 0x%016llx: 0x%016llx -> 0x%llx rwx\n",
		 2 * (top - 1), "", 0, va2m, *pte, OUT_GPA + SZ_2M);
	CHECK(strstr(buf, want), "no line '%s'; dump:\n%s", want + 1, buf);

	snprintf(want, sizeof(want), "\nL%d[%3d] 0x%016llx: 0x%016llx\n", top + 1,
		 (int)((cfg->in >> PG_LEVEL_SHIFT(top)) & 511),
		 ALIGN_DOWN(cfg->in, PG_LEVEL_SIZE(top)),
		 *kvm_mmu_entry(e.vm, e.mmu, va, top));
	CHECK(strstr(buf, want), "no line '%s'; dump:\n%s", want + 1, buf);
	free(buf);
	env_free(&e);
}

/* Verify counts leaves and bytes, through maps, splits and unmaps. */
static void case_verify(const struct cfg *cfg)
{
	struct env e = env_create(cfg);
	u64 va = cfg->in + 16 * GiB, mapped = 1, leaves;

	leaves = kvm_mmu_verify(e.vm, e.mmu, &mapped);
	CHECK(leaves == 0 && mapped == 0, "empty: %llu leaves, 0x%llx bytes",
	      leaves, mapped);
	kvm_mmu_map(e.vm, e.mmu, va - 3 * SZ_4K, OUT_GPA - 3 * SZ_4K + GiB,
		    3 * SZ_4K + GiB + SZ_2M, KVM_MMU_RW);
	leaves = kvm_mmu_verify(e.vm, e.mmu, &mapped);
	CHECK(leaves == 5 && mapped == 3 * SZ_4K + GiB + SZ_2M,
	      "mapped: %llu leaves, 0x%llx bytes", leaves, mapped);
	/* Split the 1G leaf by unmapping 4K: 511 + 511 leaves replace it. */
	kvm_mmu_unmap(e.vm, e.mmu, va + SZ_4K, SZ_4K);
	leaves = kvm_mmu_verify(e.vm, e.mmu, &mapped);
	CHECK(leaves == 5 - 1 + 511 + 511 && mapped == 2 * SZ_4K + GiB + SZ_2M,
	      "split: %llu leaves, 0x%llx bytes", leaves, mapped);
	CHECK(kvm_mmu_verify(e.vm, e.mmu, NULL) == leaves, "NULL mapped");
	env_free(&e);
}

/* Bad input: the child must exit 1 naming the call and the address. */
struct bad_input {
	const char *what;
	int cfg;
	void (*fn)(struct env *e);
	char expect[160];
};

static void bad_unaligned(struct env *e)
{
	kvm_mmu_map(e->vm, e->mmu, e->cfg->in + 0x1800, OUT_GPA, SZ_4K, KVM_MMU_RW);
}

static void bad_unaligned_size(struct env *e)
{
	kvm_mmu_unmap(e->vm, e->mmu, e->cfg->in + 0x1000, 0x1001);
}

static void bad_unaligned_paddr(struct env *e)
{
	kvm_mmu_map(e->vm, e->mmu, e->cfg->in, OUT_GPA + 0x10, SZ_4K, KVM_MMU_RW);
}

static void bad_unaligned_pinned(struct env *e)
{
	kvm_mmu_map_level(e->vm, e->mmu, e->cfg->in + SZ_4K, OUT_GPA, SZ_2M,
			  KVM_MMU_RW, PG_LEVEL_2M);
}

static void bad_outside_slots(struct env *e)
{
	/* Runs off the end of the output slot by one page. */
	kvm_mmu_map(e->vm, e->mmu, e->cfg->in, OUT_GPA + OUT_SIZE - SZ_4K,
		    2 * SZ_4K, KVM_MMU_RW);
}

static void bad_non_canonical(struct env *e)
{
	kvm_mmu_map(e->vm, e->mmu, 0x0000800000000000ULL, OUT_GPA, SZ_4K,
		    KVM_MMU_RW);
}

static void bad_crosses_hole(struct env *e)
{
	kvm_mmu_protect(e->vm, e->mmu, 0x00007ffffffff000ULL, 2 * SZ_4K,
			KVM_MMU_RW);
}

/* Both ends canonical, but the range spans the hole between the halves. */
static void bad_spans_hole(struct env *e)
{
	kvm_mmu_unmap(e->vm, e->mmu, 0x00007ffffffff000ULL,
		      0xffff800000001000ULL - 0x00007ffffffff000ULL);
}

static void bad_input_too_wide(struct env *e)
{
	kvm_mmu_map(e->vm, e->mmu, 1ULL << 48, OUT_GPA, SZ_4K, KVM_MMU_RW);
}

static void bad_level_too_high(struct env *e)
{
	struct kvm_mmu *no_gb = env_mmu_no_gbpages(e);

	kvm_mmu_map_level(e->vm, no_gb, e->cfg->in + GiB, OUT_GPA, GiB,
			  KVM_MMU_RW, PG_LEVEL_1G);
}

static void bad_level_512g(struct env *e)
{
	kvm_mmu_map_level(e->vm, e->mmu, 0, OUT_GPA, PG_LEVEL_SIZE(3),
			  KVM_MMU_RW, PG_LEVEL_512G);
}

static void run_bad(void *arg)
{
	struct bad_input *b = arg;
	struct env e = env_create(&cfgs[b->cfg]);

	b->fn(&e);
}

static void case_bad_input(struct bad_input *b)
{
	struct child_result res;

	run_in_child(run_bad, b, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, b->expect),
	      "child status 0x%x, expected exit 1 and '%s' in:\n%s",
	      res.status, b->expect, res.output);
}

static struct bad_input bad_inputs[] = {
	{ "unaligned range", 0, bad_unaligned },
	{ "unaligned size", 3, bad_unaligned_size },
	{ "unaligned paddr", 2, bad_unaligned_paddr },
	{ "range unaligned for its pinned level", 4, bad_unaligned_pinned },
	{ "output outside memslots", 2, bad_outside_slots },
	{ "non-canonical stage-1 range", 0, bad_non_canonical },
	{ "range across the canonical hole", 0, bad_crosses_hole },
	{ "range spanning the canonical hole", 0, bad_spans_hole },
	{ "stage-2 input beyond 4-level width", 2, bad_input_too_wide },
	{ "pinned 1G without 1G pages", 4, bad_level_too_high },
	{ "pinned 512G level", 1, bad_level_512g },
};

static void bad_inputs_init(void)
{
#define EXPECT(i, ...)							\
	snprintf(bad_inputs[i].expect, sizeof(bad_inputs[i].expect),	\
		 __VA_ARGS__)
	EXPECT(0, "kvm_mmu_map: range 0x%llx+0x1000 is not 4 KiB aligned",
	       cfgs[0].in + 0x1800);
	EXPECT(1, "kvm_mmu_unmap: range 0x%llx+0x1001 is not 4 KiB aligned",
	       cfgs[3].in + 0x1000);
	EXPECT(2, "kvm_mmu_map: paddr 0x%llx is not 4 KiB aligned",
	       OUT_GPA + 0x10);
	EXPECT(3, "kvm_mmu_map: 0x%llx -> 0x%llx (+0x200000) is not aligned to 2 MiB pages",
	       cfgs[4].in + SZ_4K, OUT_GPA);
	EXPECT(4, "kvm_mmu_map: paddr range 0x%llx+0x2000 is not all in memslots",
	       OUT_GPA + OUT_SIZE - SZ_4K);
	EXPECT(5, "kvm_mmu_map: range 0x800000000000+0x1000 is outside the 4-level address space");
	EXPECT(6, "kvm_mmu_protect: range 0x7ffffffff000+0x2000 is outside the 4-level address space");
	EXPECT(7, "kvm_mmu_unmap: range 0x7ffffffff000+0xffff000000002000 is outside the 4-level address space");
	EXPECT(8, "kvm_mmu_map: range 0x1000000000000+0x1000 is outside the 4-level address space");
	EXPECT(9, "kvm_mmu_map: 1 GiB leaves at 0x%llx are not supported by this mmu",
	       cfgs[4].in + GiB);
	EXPECT(10, "kvm_mmu_map: 512 GiB leaves at 0x0 are not supported by this mmu");
#undef EXPECT
}

static void (*const cases[])(const struct cfg *) = {
	case_encodings, case_map_mixed, case_map_pinned, case_lookup_translate,
	case_unmap, case_protect, case_entry, case_dump, case_verify,
};
static const char *const case_names[] = {
	"PTE encodings for every right and size", "mixed-size range map",
	"pinned levels", "lookup and translate", "unmap and split",
	"protect and split", "kvm_mmu_entry at each level", "dump",
	"verify counts",
};

int main(void)
{
	bad_inputs_init();
	for (int c = 0; c < (int)ARRAY_SIZE(cfgs); c++) {
		for (int i = 0; i < (int)ARRAY_SIZE(cases); i++) {
			case_begin("%s: %s", cfgs[c].name, case_names[i]);
			cases[i](&cfgs[c]);
		}
	}
	for (int i = 0; i < (int)ARRAY_SIZE(bad_inputs); i++) {
		case_begin("%s: %s fails, naming the call and address",
			   cfgs[bad_inputs[i].cfg].name, bad_inputs[i].what);
		case_bad_input(&bad_inputs[i]);
	}
	checks_exit();
}
