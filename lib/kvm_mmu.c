// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one page-table walker.
 *
 * Map, unmap, protect, lookup, dump and verify all walk the tables of the
 * struct kvm_mmu they are given, reading nothing but its root, level count
 * and PTE masks; so the same code builds guest page tables, EPT and NPT.
 *
 * A range operation is one recursive walk: each table is visited once and
 * each entry in range handled in turn, instead of re-walking from the root
 * for every page. Mapping 16 GiB at 4 KiB thus writes 4M PTEs in a tight
 * loop and descends 8K times.
 */
#include "kvm_util.h"

enum walk_op {
	WALK_MAP,
	WALK_UNMAP,
	WALK_PROTECT,
};

struct walk {
	struct kvm_vm *vm;
	struct kvm_mmu *mmu;
	enum walk_op op;
	u64 delta;		/* MAP: paddr - vaddr, modulo 2^64 */
	int pin_level;		/* MAP: PG_LEVEL_ANY or the only leaf level */
	unsigned int prot;
	u64 leaf[PG_LEVEL_256T + 1];	/* leaf PTE template per level */
	u64 count;		/* leaves written or cleared */
};

static inline bool pte_present(const struct kvm_mmu *mmu, u64 pte)
{
	return pte & mmu->arch.presence;
}

static inline bool pte_is_leaf(const struct kvm_mmu *mmu, u64 pte, int level)
{
	return level == PG_LEVEL_4K || (pte & mmu->arch.huge);
}

static inline u64 *table_hva(struct kvm_vm *vm, const struct kvm_mmu *mmu,
			     u64 pte)
{
	return addr_gpa2hva(vm, pte & mmu->arch.addr_mask);
}

static inline int top_level(const struct kvm_mmu *mmu)
{
	return mmu->pgtable_levels - 1;
}

/* Entry pointing at a lower table: every right granted, the leaf decides. */
static u64 table_pte(const struct kvm_mmu *mmu, u64 table_gpa)
{
	const struct kvm_mmu_arch *a = &mmu->arch;

	return table_gpa | a->present | a->readable | a->writable |
	       a->executable | a->user | a->always_set;
}

static u64 leaf_template(const struct kvm_mmu *mmu, unsigned int prot,
			 int level)
{
	const struct kvm_mmu_arch *a = &mmu->arch;
	u64 pte = a->present | a->always_set | a->leaf_memtype;

	if (prot & KVM_MMU_READ)
		pte |= a->readable;
	if (prot & KVM_MMU_WRITE)
		pte |= a->writable;
	pte |= (prot & KVM_MMU_EXEC) ? a->executable : a->nx;
	if (prot & KVM_MMU_USER)
		pte |= a->user;
	if (prot & KVM_MMU_SHARED) {
		TEST_ASSERT(a->s_bit, "KVM_MMU_SHARED on an mmu with no shared bit");
		pte |= a->s_bit;
	}
	if (prot & KVM_MMU_ENCRYPTED) {
		TEST_ASSERT(a->c_bit, "KVM_MMU_ENCRYPTED on an mmu with no C-bit");
		pte |= a->c_bit;
	}
	if (level > PG_LEVEL_4K)
		pte |= a->huge;
	return pte;
}

unsigned int kvm_mmu_pte_prot(const struct kvm_mmu *mmu, u64 pte)
{
	const struct kvm_mmu_arch *a = &mmu->arch;
	unsigned int prot = 0;

	if (a->readable ? (pte & a->readable) : (pte & a->present))
		prot |= KVM_MMU_READ;
	if (pte & a->writable)
		prot |= KVM_MMU_WRITE;
	if (a->executable ? (pte & a->executable) : !(pte & a->nx))
		prot |= KVM_MMU_EXEC;
	if (a->user && (pte & a->user) && !(a->always_set & a->user))
		prot |= KVM_MMU_USER;
	if (a->s_bit && (pte & a->s_bit))
		prot |= KVM_MMU_SHARED;
	if (a->c_bit && (pte & a->c_bit))
		prot |= KVM_MMU_ENCRYPTED;
	return prot;
}

u64 kvm_mmu_pte_paddr(const struct kvm_mmu *mmu, u64 pte, int level)
{
	return pte & mmu->arch.addr_mask & ~(PG_LEVEL_SIZE(level) - 1);
}

static u64 alloc_table(struct walk *w)
{
	return vm_phys_pages_alloc(w->vm, 1, PAGE_SIZE, KVMT_MAIN_SLOT);
}

/* The bits map and protect decide: presence and access rights. */
static u64 rights_bits(const struct kvm_mmu_arch *a)
{
	return a->present | a->readable | a->writable | a->executable |
	       a->nx | a->user;
}

/*
 * Replace the huge leaf *pte by a table of leaves one level down that map
 * the same memory with the same rights, so part of it can be changed. The
 * children keep what else the leaf held (A/D, memory type, shared or C
 * bit, bits a test set by hand), all but its size bit and address.
 */
static void split_leaf(struct walk *w, u64 *pte, int level)
{
	const struct kvm_mmu_arch *a = &w->mmu->arch;
	u64 keep = (*pte & ~(a->addr_mask | a->huge | rights_bits(a))) |
		   (*pte & (a->s_bit | a->c_bit));
	u64 child_size = PG_LEVEL_SIZE(level - 1);
	u64 tmpl = leaf_template(w->mmu, kvm_mmu_pte_prot(w->mmu, *pte) &
				 ~(KVM_MMU_SHARED | KVM_MMU_ENCRYPTED),
				 level - 1) | keep;
	u64 paddr = kvm_mmu_pte_paddr(w->mmu, *pte, level);
	u64 table_gpa = alloc_table(w);
	u64 *table = addr_gpa2hva(w->vm, table_gpa);

	for (int i = 0; i < PTES_PER_TABLE; i++)
		table[i] = tmpl | (paddr + i * child_size);
	*pte = table_pte(w->mmu, table_gpa);
}

static bool leaf_fits(const struct walk *w, int level, u64 vaddr)
{
	if (w->pin_level != PG_LEVEL_ANY)
		return level == w->pin_level;
	return level <= w->mmu->arch.max_leaf_level &&
	       IS_ALIGNED(vaddr + w->delta, PG_LEVEL_SIZE(level));
}

static void walk_table(struct walk *w, u64 *table, int level, u64 vaddr,
		       u64 last);

/*
 * Handle one entry of a table at @level for [vaddr, last], a range inside
 * what the entry maps; @whole says it is all of it.
 */
static void walk_entry(struct walk *w, u64 *pte, int level, u64 vaddr,
		       u64 last, bool whole)
{
	const struct kvm_mmu *mmu = w->mmu;

	if (w->op == WALK_MAP && whole && leaf_fits(w, level, vaddr)) {
		*pte = w->leaf[level] | (vaddr + w->delta);
		w->count++;
		return;
	}

	if (!pte_present(mmu, *pte)) {
		if (w->op != WALK_MAP)
			return;
		*pte = table_pte(mmu, alloc_table(w));
	} else if (pte_is_leaf(mmu, *pte, level)) {
		if (whole && w->op == WALK_UNMAP) {
			*pte = 0;
			w->count++;
			return;
		}
		if (whole && w->op == WALK_PROTECT) {
			/* New rights; all else the leaf holds stays. */
			u64 rights = rights_bits(&mmu->arch);

			*pte = (*pte & ~rights) | (w->leaf[level] & rights);
			w->count++;
			return;
		}
		split_leaf(w, pte, level);
	}
	walk_table(w, table_hva(w->vm, mmu, *pte), level - 1, vaddr, last);
}

static void walk_table(struct walk *w, u64 *table, int level, u64 vaddr,
		       u64 last)
{
	u64 mask = PG_LEVEL_SIZE(level) - 1;
	int idx = (vaddr >> PG_LEVEL_SHIFT(level)) % PTES_PER_TABLE;

	/* The hot path: a run of 4 KiB leaves is one store per PTE. */
	if (level == PG_LEVEL_4K && w->op == WALK_MAP) {
		u64 n = ((last - vaddr) >> PAGE_SHIFT) + 1;
		u64 pte = w->leaf[0] | (vaddr + w->delta);

		for (u64 i = 0; i < n; i++, pte += PAGE_SIZE)
			table[idx + i] = pte;
		w->count += n;
		return;
	}

	for (;; idx++) {
		u64 entry_last = vaddr | mask;
		u64 chunk_last = entry_last < last ? entry_last : last;

		walk_entry(w, &table[idx], level, vaddr, chunk_last,
			   !(vaddr & mask) && chunk_last == entry_last);
		if (chunk_last == last)
			return;
		vaddr = chunk_last + 1;
	}
}

/* The largest input address this mmu translates, as an inclusive bound. */
static bool input_range_ok(const struct kvm_mmu *mmu, u64 vaddr, u64 last)
{
	int width = PG_LEVEL_SHIFT(mmu->pgtable_levels);

	/* Stage-1 addresses are canonical: sign-extended from the top bit. */
	if (mmu->arch.format == KVM_MMU_FORMAT_GUEST) {
		s64 lo = (s64)(vaddr << (64 - width)) >> (64 - width);
		s64 hi = (s64)(last << (64 - width)) >> (64 - width);

		return (u64)lo == vaddr && (u64)hi == last &&
		       (vaddr >> (width - 1)) == (last >> (width - 1));
	}
	return last < (1ULL << width);
}

static void walk_range(struct walk *w, const char *caller, u64 vaddr,
		       u64 size)
{
	struct kvm_mmu *mmu = w->mmu;
	u64 last = vaddr + size - 1;

	TEST_ASSERT(mmu->pgd_created, "%s: mmu has no root table", caller);
	TEST_ASSERT(size && IS_ALIGNED(vaddr | size, PAGE_SIZE),
		    "%s: range 0x%llx+0x%llx is not 4 KiB aligned", caller,
		    vaddr, size);
	TEST_ASSERT(last >= vaddr && input_range_ok(mmu, vaddr, last),
		    "%s: range 0x%llx+0x%llx is outside the %d-level address space",
		    caller, vaddr,
		    size, mmu->pgtable_levels);
	for (int l = 0; l < mmu->pgtable_levels; l++)
		w->leaf[l] = leaf_template(mmu, w->prot, l);
	walk_table(w, addr_gpa2hva(w->vm, mmu->pgd), top_level(mmu), vaddr,
		   last);
}

void kvm_mmu_init(struct kvm_vm *vm, struct kvm_mmu *mmu, int pgtable_levels,
		  const struct kvm_mmu_arch *arch)
{
	TEST_ASSERT(!mmu->pgd_created, "kvm_mmu_init: mmu already has a root table");
	TEST_ASSERT(pgtable_levels == 4 || pgtable_levels == 5,
		    "kvm_mmu_init: %d-level tables are not supported",
		    pgtable_levels);
	mmu->arch = *arch;
	mmu->pgtable_levels = pgtable_levels;
	mmu->pgd = vm_phys_pages_alloc(vm, 1, PAGE_SIZE, KVMT_MAIN_SLOT);
	mmu->pgd_created = true;
}

void kvm_mmu_map_level(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		       u64 paddr, u64 size, unsigned int prot, int level)
{
	struct walk w = {
		.vm = vm, .mmu = mmu, .op = WALK_MAP,
		.delta = paddr - vaddr, .pin_level = level, .prot = prot,
	};

	TEST_ASSERT(level == PG_LEVEL_ANY ||
		    (level >= PG_LEVEL_4K && level <= mmu->arch.max_leaf_level),
		    "kvm_mmu_map: %s leaves at 0x%llx are not supported by this mmu (largest: %s)",
		    pg_level_name(level), vaddr,
		    pg_level_name(mmu->arch.max_leaf_level));
	if (level != PG_LEVEL_ANY)
		TEST_ASSERT(IS_ALIGNED(vaddr | paddr | size, PG_LEVEL_SIZE(level)),
			    "kvm_mmu_map: 0x%llx -> 0x%llx (+0x%llx) is not aligned to %s pages",
			    vaddr, paddr, size, pg_level_name(level));
	TEST_ASSERT(IS_ALIGNED(paddr, PAGE_SIZE),
		    "kvm_mmu_map: paddr 0x%llx is not 4 KiB aligned",
		    paddr);
	TEST_ASSERT((prot & KVM_MMU_MMIO) || vm_gpa_range_backed(vm, paddr, size),
		    "kvm_mmu_map: paddr range 0x%llx+0x%llx is not all in memslots",
		    paddr, size);
	walk_range(&w, "kvm_mmu_map", vaddr, size);
}

u64 kvm_mmu_unmap(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr, u64 size)
{
	struct walk w = { .vm = vm, .mmu = mmu, .op = WALK_UNMAP };

	walk_range(&w, "kvm_mmu_unmap", vaddr, size);
	return w.count;
}

void kvm_mmu_protect(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		     u64 size, unsigned int prot)
{
	struct walk w = {
		.vm = vm, .mmu = mmu, .op = WALK_PROTECT,
		.prot = prot & ~(KVM_MMU_SHARED | KVM_MMU_ENCRYPTED),
	};

	walk_range(&w, "kvm_mmu_protect", vaddr, size);
}

/*
 * Walk toward vaddr's leaf and stop at @stop_level, or at the leaf when it
 * is PG_LEVEL_ANY. Returns the entry there (present or not) and its level,
 * or NULL when the walk ends above @stop_level: at a non-present entry, or
 * at a leaf when a lower level was asked for.
 */
static u64 *walk_to(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		    int stop_level, int *level)
{
	u64 *table;

	if (!mmu->pgd_created)
		return NULL;
	table = addr_gpa2hva(vm, mmu->pgd);
	for (int l = top_level(mmu);; l--) {
		u64 *pte = &table[(vaddr >> PG_LEVEL_SHIFT(l)) % PTES_PER_TABLE];
		bool at_leaf;

		if (l == stop_level) {
			*level = l;
			return pte;
		}
		if (!pte_present(mmu, *pte))
			return NULL;
		at_leaf = pte_is_leaf(mmu, *pte, l);
		if (at_leaf && stop_level == PG_LEVEL_ANY) {
			*level = l;
			return pte;
		}
		if (at_leaf)
			return NULL;
		table = table_hva(vm, mmu, *pte);
	}
}

u64 *kvm_mmu_entry(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		   int level)
{
	int found;

	return walk_to(vm, mmu, vaddr, level, &found);
}

u64 *kvm_mmu_lookup(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		    int *level)
{
	int found;
	u64 *pte = walk_to(vm, mmu, vaddr, PG_LEVEL_ANY, &found);

	if (pte && level)
		*level = found;
	return pte;
}

bool kvm_mmu_translate(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		       u64 *paddr)
{
	int level;
	u64 *pte = kvm_mmu_lookup(vm, mmu, vaddr, &level);

	if (!pte)
		return false;
	*paddr = kvm_mmu_pte_paddr(mmu, *pte, level) |
		 (vaddr & (PG_LEVEL_SIZE(level) - 1));
	return true;
}

/* Sign-extend a stage-1 input address built from table indices. */
static u64 canonical(const struct kvm_mmu *mmu, u64 vaddr)
{
	int width = PG_LEVEL_SHIFT(mmu->pgtable_levels);

	if (mmu->arch.format != KVM_MMU_FORMAT_GUEST)
		return vaddr;
	return (u64)((s64)(vaddr << (64 - width)) >> (64 - width));
}

static void dump_table(FILE *out, struct kvm_vm *vm, struct kvm_mmu *mmu,
		       u64 *table, int level, u64 base)
{
	for (int i = 0; i < PTES_PER_TABLE; i++) {
		u64 pte = table[i];
		u64 vaddr = canonical(mmu, base + ((u64)i << PG_LEVEL_SHIFT(level)));

		if (!pte_present(mmu, pte))
			continue;
		fprintf(out, "%*sL%d[%3d] 0x%016llx: 0x%016llx", 2 * (top_level(mmu) - level), "",
			level + 1, i, vaddr, pte);
		if (pte_is_leaf(mmu, pte, level)) {
			unsigned int prot = kvm_mmu_pte_prot(mmu, pte);

			fprintf(out, " -> 0x%llx %s%s%s%s%s\n",
				kvm_mmu_pte_paddr(mmu, pte, level),
				prot & KVM_MMU_READ ? "r" : "-",
				prot & KVM_MMU_WRITE ? "w" : "-",
				prot & KVM_MMU_EXEC ? "x" : "-",
				prot & KVM_MMU_USER ? "u" : "",
				prot & KVM_MMU_SHARED ? " shared" : "");
			continue;
		}
		fprintf(out, "\n");
		dump_table(out, vm, mmu, table_hva(vm, mmu, pte), level - 1, vaddr);
	}
}

void kvm_mmu_dump(FILE *out, struct kvm_vm *vm, struct kvm_mmu *mmu)
{
	fprintf(out, "%d-level tables, root at GPA 0x%llx\n",
		mmu->pgtable_levels, mmu->pgd);
	if (mmu->pgd_created)
		dump_table(out, vm, mmu, addr_gpa2hva(vm, mmu->pgd),
			   top_level(mmu), 0);
}

struct verify {
	u64 leaves;
	u64 mapped;
	u64 addr_bits;		/* every bit an address may use */
};

static void verify_table(struct kvm_vm *vm, struct kvm_mmu *mmu,
			 struct verify *v, u64 *table, int level, u64 base)
{
	const struct kvm_mmu_arch *a = &mmu->arch;

	for (int i = 0; i < PTES_PER_TABLE; i++) {
		u64 pte = table[i];
		u64 vaddr = canonical(mmu, base + ((u64)i << PG_LEVEL_SHIFT(level)));
		u64 paddr;

		if (!pte_present(mmu, pte))
			continue;
		TEST_ASSERT(!(pte & v->addr_bits & ~(a->addr_mask | a->s_bit | a->c_bit)),
			    "kvm_mmu_verify: %s-level entry for 0x%llx sets address bits beyond MAXPHYADDR: 0x%llx",
			    pg_level_name(level), vaddr, pte);
		if (!pte_is_leaf(mmu, pte, level)) {
			paddr = pte & a->addr_mask;
			TEST_ASSERT(vm_gpa_range_backed(vm, paddr, PAGE_SIZE),
				    "kvm_mmu_verify: %s-level entry for 0x%llx points to GPA 0x%llx outside guest memory",
				    pg_level_name(level), vaddr, paddr);
			TEST_ASSERT(!(pte & a->leaf_memtype),
				    "kvm_mmu_verify: %s-level table entry for 0x%llx has leaf-only bits: 0x%llx",
				    pg_level_name(level), vaddr, pte);
			verify_table(vm, mmu, v, addr_gpa2hva(vm, paddr),
				     level - 1, vaddr);
			continue;
		}
		TEST_ASSERT(level <= a->max_leaf_level,
			    "kvm_mmu_verify: %s leaf for 0x%llx, the format allows up to %s",
			    pg_level_name(level), vaddr,
			    pg_level_name(a->max_leaf_level));
		TEST_ASSERT(IS_ALIGNED(pte & a->addr_mask, PG_LEVEL_SIZE(level)),
			    "kvm_mmu_verify: %s leaf for 0x%llx has a misaligned address: 0x%llx",
			    pg_level_name(level), vaddr, pte);
		v->leaves++;
		v->mapped += PG_LEVEL_SIZE(level);
	}
}

u64 kvm_mmu_verify(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 *mapped)
{
	struct verify v = { .addr_bits = GENMASK_ULL(51, 12) };

	TEST_ASSERT(mmu->pgd_created, "kvm_mmu_verify: mmu has no root table");
	verify_table(vm, mmu, &v, addr_gpa2hva(vm, mmu->pgd), top_level(mmu), 0);
	if (mapped)
		*mapped = v.mapped;
	return v.leaves;
}
