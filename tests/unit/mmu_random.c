// SPDX-License-Identifier: GPL-2.0-only
/*
 * Randomized test of the page-table walker against a reference model.
 *
 * Thousands of map (any or pinned level), unmap and protect operations
 * over random aligned ranges in a 4 GiB input window, on each format with
 * 4 and 5 levels, on fake VMs (no /dev/kvm needed). The model is a flat
 * array: 4 KiB page -> (output page, rights). After each operation the 1G
 * blocks it touched are compared page by page (so a split that damages a
 * neighbour is seen), the leaves a map just made must be the largest the
 * alignment allows (or the pinned level), and an unmap must report the
 * number of leaves it cleared. The whole window, and kvm_mmu_verify's
 * leaf count and mapped bytes, are checked every so often and at the end.
 *
 *   mmu_random [--seed N] [--ops N]
 *
 * A failure prints the seed, the configuration, the operation's index and
 * both sides; rerun with that seed to reproduce it.
 */
#include <getopt.h>

#include "kvm_util.h"

#define SZ_4K		PG_LEVEL_SIZE(PG_LEVEL_4K)
#define SZ_2M		PG_LEVEL_SIZE(PG_LEVEL_2M)
#define SZ_1G		PG_LEVEL_SIZE(PG_LEVEL_1G)

#define WINDOW		(4 * GiB)
#define WINDOW_PAGES	(WINDOW / SZ_4K)
#define OUT_SLOT	1
#define OUT_GPA		(4 * GiB)
#define OUT_SIZE	(16 * GiB)
#define MAIN_MEM	(2 * GiB)	/* lazily backed: tables only */
#define FULL_CHECK_EVERY 256
#define UNMAPPED	0xff

#define DEFAULT_SEED	0x6b766d74ULL	/* "kvmt" */
#define DEFAULT_OPS	1500

struct cfg {
	const char *name;
	enum kvm_mmu_format format;
	int levels;
};

static const struct cfg cfgs[] = {
	{ "guest 4-level", KVM_MMU_FORMAT_GUEST, 4 },
	{ "guest 5-level", KVM_MMU_FORMAT_GUEST, 5 },
	{ "EPT 4-level", KVM_MMU_FORMAT_EPT, 4 },
	{ "EPT 5-level", KVM_MMU_FORMAT_EPT, 5 },
	{ "NPT 4-level", KVM_MMU_FORMAT_NPT, 4 },
	{ "NPT 5-level", KVM_MMU_FORMAT_NPT, 5 },
};

enum op_kind { OP_MAP, OP_UNMAP, OP_PROTECT };

struct op {
	enum op_kind kind;
	u64 vaddr, size, paddr;
	unsigned int prot;
	int level;		/* MAP: PG_LEVEL_ANY or pinned */
};

struct run {
	const struct cfg *cfg;
	u64 seed;		/* the command line's, for the report */
	u64 rng;
	struct kvm_vm *vm;
	struct kvm_mmu *mmu;
	u64 base;		/* input address of the window */
	u32 *pfn;		/* model: output page of each window page */
	u8 *prot;		/* model: rights, or UNMAPPED */
	long op_idx;
	struct op history[8];	/* the last ops, for the report */
};

/* splitmix64: small, fast, and the same sequence everywhere. */
static u64 rnd(struct run *r)
{
	u64 z = (r->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 rnd_below(struct run *r, u64 n)
{
	return rnd(r) % n;
}

static const char *prot_str(unsigned int prot)
{
	static char buf[4][8];
	static int n;
	char *s = buf[n++ % 4];

	if (prot == UNMAPPED)
		return "unmapped";
	snprintf(s, 8, "%c%c%c%c", prot & KVM_MMU_READ ? 'r' : '-',
		 prot & KVM_MMU_WRITE ? 'w' : '-',
		 prot & KVM_MMU_EXEC ? 'x' : '-',
		 prot & KVM_MMU_USER ? 'u' : '-');
	return s;
}

static void print_op(const struct op *op, long idx)
{
	static const char *const names[] = { "map", "unmap", "protect" };

	printf("#   op %ld: %s 0x%llx+0x%llx", idx, names[op->kind],
	       op->vaddr, op->size);
	if (op->kind == OP_MAP)
		printf(" -> 0x%llx level %d", op->paddr, op->level);
	if (op->kind != OP_UNMAP)
		printf(" %s", prot_str(op->prot));
	printf("\n");
}

/* Print everything needed to reproduce and understand a mismatch. */
static bool __printf(2, 3) mismatch(struct run *r, const char *fmt, ...)
{
	va_list ap;

	printf("# MISMATCH: seed %llu, %s, op %ld: ", r->seed, r->cfg->name,
	       r->op_idx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n# recent operations (rerun: mmu_random --seed %llu):\n",
	       r->seed);
	for (long i = r->op_idx - 7; i <= r->op_idx; i++)
		if (i >= 0)
			print_op(&r->history[i % 8], i);
	fflush(stdout);
	return false;
}

/*
 * The run in progress, for when the library itself fails an assert (a
 * walker sanity check, kvm_mmu_verify) and exits: say where, as a
 * mismatch would.
 */
static struct run *current;

static void report_exit(void)
{
	if (current)
		mismatch(current, "the library failed an assert (above)");
}

/* The rights a format can express, as kvm_mmu_pte_prot() reports them. */
static unsigned int norm_prot(enum kvm_mmu_format format, unsigned int prot)
{
	switch (format) {
	case KVM_MMU_FORMAT_GUEST:
		return KVM_MMU_READ | (prot & (KVM_MMU_WRITE | KVM_MMU_EXEC |
					       KVM_MMU_USER));
	case KVM_MMU_FORMAT_NPT:
		return KVM_MMU_READ | (prot & (KVM_MMU_WRITE | KVM_MMU_EXEC));
	default:
		return prot & KVM_MMU_RWX;
	}
}

static unsigned int rnd_prot(struct run *r)
{
	/* EPT: the valid combinations (W needs R); execute-only included. */
	static const unsigned int ept[] = {
		KVM_MMU_READ, KVM_MMU_RW, KVM_MMU_READ | KVM_MMU_EXEC,
		KVM_MMU_RWX, KVM_MMU_EXEC,
	};

	if (r->cfg->format == KVM_MMU_FORMAT_EPT)
		return ept[rnd_below(r, ARRAY_SIZE(ept))];
	return rnd(r) & (KVM_MMU_RWX | KVM_MMU_USER);
}

static bool present(const struct run *r, u64 pte)
{
	return pte & r->mmu->arch.presence;
}

static u64 page_idx(const struct run *r, u64 vaddr)
{
	return (vaddr - r->base) / SZ_4K;
}

/*
 * Where the walk for an unmapped vaddr stops: the size of the block the
 * empty entry covers, which is all unmapped.
 */
static u64 hole_size(struct run *r, u64 vaddr)
{
	for (int l = r->mmu->pgtable_levels - 1; l >= 0; l--) {
		u64 *pte = kvm_mmu_entry(r->vm, r->mmu, vaddr, l);

		if (!pte)
			break;
		if (!present(r, *pte))
			return PG_LEVEL_SIZE(l);
	}
	TEST_FAIL("0x%llx: lookup found no leaf, but the walk has no hole",
		  vaddr);
}

/* The level a MAP with PG_LEVEL_ANY must have given the page at @a. */
static int expected_level(const struct op *op, u64 a, int max)
{
	for (int l = max; l > PG_LEVEL_4K; l--) {
		u64 block = ALIGN_DOWN(a, PG_LEVEL_SIZE(l));

		if (block >= op->vaddr &&
		    block + PG_LEVEL_SIZE(l) <= op->vaddr + op->size &&
		    IS_ALIGNED(block + op->paddr - op->vaddr, PG_LEVEL_SIZE(l)))
			return l;
	}
	return PG_LEVEL_4K;
}

static bool check_page(struct run *r, u64 a, u64 pte, int level)
{
	u64 i = page_idx(r, a), pfn;
	unsigned int prot;

	if (!present(r, pte)) {
		if (r->prot[i] == UNMAPPED)
			return true;
		return mismatch(r, "at 0x%llx: model -> 0x%llx %s, walker: unmapped (empty L%d entry 0x%llx)",
				a, (u64)r->pfn[i] << 12,
				prot_str(r->prot[i]), level, pte);
	}
	prot = kvm_mmu_pte_prot(r->mmu, pte);
	pfn = (kvm_mmu_pte_paddr(r->mmu, pte, level) >> 12) +
	      ((a & (PG_LEVEL_SIZE(level) - 1)) >> 12);
	if (r->prot[i] != prot || r->pfn[i] != pfn)
		return mismatch(r, "at 0x%llx: model -> 0x%llx %s, walker -> 0x%llx %s (pte 0x%llx, level %d)",
				a, (u64)r->pfn[i] << 12,
				prot_str(r->prot[i]), pfn << 12,
				prot_str(prot), pte, level);
	return true;
}

/* A leaf a map just made must have the level the map promises. */
static bool check_level(struct run *r, u64 block, u64 pte, int level,
			const struct op *op)
{
	int want;

	if (!op || block < op->vaddr ||
	    block + PG_LEVEL_SIZE(level) > op->vaddr + op->size)
		return true;
	want = op->level != PG_LEVEL_ANY ? op->level :
	       expected_level(op, block, r->mmu->arch.max_leaf_level);
	if (level == want)
		return true;
	return mismatch(r, "0x%llx mapped by a level %d leaf, expected level %d (pte 0x%llx)",
			block, level, want, pte);
}

/*
 * Compare [start, end) of the window with the model, leaf by leaf. @op is
 * the map just done (or NULL): its leaves must have the expected levels.
 * Returns false after reporting the first difference; *leaves counts them.
 *
 * A run of 4K entries is read straight from the table kvm_mmu_lookup()
 * pointed into rather than by one lookup per page: fragmented windows
 * have hundreds of thousands of 4K leaves, and a walk for each would
 * make the check, not the walker, the cost of this test.
 */
static bool check(struct run *r, u64 start, u64 end, const struct op *op,
		  u64 *leaves)
{
	for (u64 a = start; a < end;) {
		int level = -2;
		u64 *pte = kvm_mmu_lookup(r->vm, r->mmu, a, &level);
		u64 size, block, first, pfn;
		unsigned int prot;

		if (!pte) {
			size = hole_size(r, a);
			level = (__builtin_ctzll(size) - PAGE_SHIFT) / 9;
			if (level == PG_LEVEL_4K) {
				/* An empty 4K entry: go on through its table. */
				pte = kvm_mmu_entry(r->vm, r->mmu, a, PG_LEVEL_4K);
			} else {
				u64 last = min_t(u64, ALIGN_DOWN(a, size) + size, end);

				for (; a < last; a += SZ_4K)
					if (r->prot[page_idx(r, a)] != UNMAPPED)
						return check_page(r, a, 0, level);
				continue;
			}
		}

		if (level == PG_LEVEL_4K) {
			u64 idx = (a >> PAGE_SHIFT) % PTES_PER_TABLE;
			u64 n = min_t(u64, PTES_PER_TABLE - idx, (end - a) / SZ_4K);

			for (u64 j = 0; j < n; j++, a += SZ_4K) {
				if (!check_page(r, a, pte[j], 0))
					return false;
				if (!present(r, pte[j]))
					continue;
				if (!check_level(r, a, pte[j], 0, op))
					return false;
				++*leaves;
			}
			continue;
		}

		size = PG_LEVEL_SIZE(level);
		block = ALIGN_DOWN(a, size);
		if (block < start || block + size > end)
			return mismatch(r, "leaf 0x%llx at level %d for 0x%llx sticks out of 0x%llx-0x%llx",
					*pte, level, a, start, end);
		if (!check_level(r, block, *pte, level, op))
			return false;
		/* A huge leaf's address has no bits below its size (no PAT here). */
		if (kvm_mmu_pte_paddr(r->mmu, *pte, PG_LEVEL_4K) !=
		    kvm_mmu_pte_paddr(r->mmu, *pte, level))
			return mismatch(r, "level %d leaf for 0x%llx has a misaligned address: 0x%llx",
					level, block, *pte);
		/* Decode once, compare the model's pages in a tight loop. */
		prot = kvm_mmu_pte_prot(r->mmu, *pte);
		pfn = kvm_mmu_pte_paddr(r->mmu, *pte, level) >> PAGE_SHIFT;
		first = page_idx(r, block);
		for (u64 k = 0; k < size / SZ_4K; k++)
			if (r->prot[first + k] != prot || r->pfn[first + k] != pfn + k)
				return check_page(r, block + k * SZ_4K, *pte,
						  level);
		++*leaves;
		a = block + size;
	}
	return true;
}

/*
 * The part of the window an operation on [s, e) may change: the range
 * and the leaves it covers in part, which are split. Taken before the op.
 */
static void op_extent(struct run *r, u64 s, u64 e, u64 *lo, u64 *hi)
{
	int level;

	*lo = s;
	*hi = e;
	if (kvm_mmu_lookup(r->vm, r->mmu, s, &level))
		*lo = ALIGN_DOWN(s, PG_LEVEL_SIZE(level));
	if (kvm_mmu_lookup(r->vm, r->mmu, e - 1, &level))
		*hi = ALIGN_DOWN(e - 1, PG_LEVEL_SIZE(level)) + PG_LEVEL_SIZE(level);
}

/* The whole window, then the tables' own invariants against the model. */
static bool check_all(struct run *r)
{
	u64 leaves = 0, mapped, pages = 0, vleaves;

	if (!check(r, r->base, r->base + WINDOW, NULL, &leaves))
		return false;
	for (u64 i = 0; i < WINDOW_PAGES; i++)
		pages += r->prot[i] != UNMAPPED;
	vleaves = kvm_mmu_verify(r->vm, r->mmu, &mapped);
	if (vleaves != leaves || mapped != pages * SZ_4K)
		return mismatch(r, "kvm_mmu_verify: %llu leaves, 0x%llx bytes; walk: %llu leaves, model: 0x%llx bytes",
				vleaves, mapped, leaves,
				pages * SZ_4K);
	return true;
}

/*
 * How many leaves an unmap of [s, e) clears, from the tables as they are:
 * a leaf inside counts 1; a leaf the range covers in part is split, and
 * the pieces inside count, as the largest aligned blocks below its level.
 */
static u64 predict_unmap(struct run *r, u64 s, u64 e)
{
	u64 count = 0;

	for (u64 a = s; a < e;) {
		int level;
		u64 *pte = kvm_mmu_lookup(r->vm, r->mmu, a, &level);
		u64 size, block, x, y;

		if (!pte) {
			size = hole_size(r, a);
			a = min_t(u64, ALIGN_DOWN(a, size) + size, e);
			continue;
		}
		if (level == PG_LEVEL_4K) {
			u64 idx = (a >> PAGE_SHIFT) % PTES_PER_TABLE;
			u64 n = min_t(u64, PTES_PER_TABLE - idx, (e - a) / SZ_4K);

			for (u64 j = 0; j < n; j++)
				count += present(r, pte[j]);
			a += n * SZ_4K;
			continue;
		}
		size = PG_LEVEL_SIZE(level);
		block = ALIGN_DOWN(a, size);
		x = max_t(u64, block, s);
		y = min_t(u64, block + size, e);
		if (x == block && y == block + size) {
			count++;
		} else {
			while (x < y) {
				int l = level - 1;

				while (l > 0 && (!IS_ALIGNED(x, PG_LEVEL_SIZE(l)) ||
						 x + PG_LEVEL_SIZE(l) > y))
					l--;
				count++;
				x += PG_LEVEL_SIZE(l);
			}
		}
		a = block + size;
	}
	return count;
}

static struct op rnd_op(struct run *r)
{
	static const int gran_weights[] = { 55, 33, 12 };	/* 4K, 2M, 1G */
	struct op op = { .level = PG_LEVEL_ANY };
	u64 pick = rnd_below(r, 100), g, n;
	int gl = PG_LEVEL_4K;

	while (gl < PG_LEVEL_1G && pick >= (u64)gran_weights[gl])
		pick -= gran_weights[gl++];
	g = PG_LEVEL_SIZE(gl);
	switch (gl) {
	case PG_LEVEL_4K:
		/* Mostly short runs, sometimes enough to cross a 2M boundary. */
		n = rnd_below(r, 8) ? 1 + rnd_below(r, 32) : 1 + rnd_below(r, 1024);
		break;
	case PG_LEVEL_2M:
		n = 1 + rnd_below(r, 8);
		break;
	default:
		n = 1 + rnd_below(r, 2);
		break;
	}
	op.size = n * g;
	op.vaddr = r->base + rnd_below(r, (WINDOW - op.size) / g + 1) * g;

	pick = rnd_below(r, 100);
	op.kind = pick < 50 ? OP_MAP : pick < 70 ? OP_UNMAP : OP_PROTECT;
	op.prot = rnd_prot(r);
	if (op.kind != OP_MAP)
		return op;

	op.paddr = OUT_GPA + rnd_below(r, (OUT_SIZE - op.size) / g + 1) * g;
	pick = rnd_below(r, 100);
	if (pick < 20) {
		/* Output aligned only to 4K (or 2M): smaller leaves. */
		op.paddr += rnd_below(r, 2) && gl == PG_LEVEL_1G ? SZ_2M : SZ_4K;
		if (op.paddr + op.size > OUT_GPA + OUT_SIZE)
			op.paddr -= g;
		if (rnd_below(r, 4) == 0)
			op.level = PG_LEVEL_4K;
	} else if (pick < 45) {
		op.level = gl;			/* pinned at the range's level */
	} else if (pick < 55 && gl > PG_LEVEL_4K) {
		op.level = gl - 1;		/* pinned below it */
	}
	return op;
}

static void model_apply(struct run *r, const struct op *op)
{
	u64 first = page_idx(r, op->vaddr), n = op->size / SZ_4K;
	unsigned int prot = norm_prot(r->cfg->format, op->prot);

	for (u64 i = 0; i < n; i++) {
		switch (op->kind) {
		case OP_MAP:
			r->pfn[first + i] = op->paddr / SZ_4K + i;
			r->prot[first + i] = prot;
			break;
		case OP_UNMAP:
			r->prot[first + i] = UNMAPPED;
			break;
		case OP_PROTECT:
			if (r->prot[first + i] != UNMAPPED)
				r->prot[first + i] = prot;
			break;
		}
	}
}

/* A 1G-aligned window somewhere in the input space, across a 512G line. */
static u64 rnd_window(struct run *r)
{
	int width = PG_LEVEL_SHIFT(r->cfg->levels);
	u64 half = 1ULL << (width - 1), base;

	base = ALIGN_DOWN(rnd_below(r, half - PG_LEVEL_SIZE(3)),
			  PG_LEVEL_SIZE(3));
	base += PG_LEVEL_SIZE(3) - 2 * GiB;
	if (r->cfg->format == KVM_MMU_FORMAT_GUEST) {
		/* Either canonical half. */
		if (rnd(r) & 1)
			base |= ~(half - 1);
	} else if (rnd(r) & 1) {
		base += half;
	}
	return base;
}

static bool run_cfg(const struct cfg *cfg, u64 seed, long nr_ops)
{
	struct run r = { .cfg = cfg, .seed = seed };
	int pa_bits = cfg->levels == 5 ? 52 : 46;
	struct kvm_mmu_arch arch;
	u64 leaves, start_ns = now_ns();
	bool ok = true;
	long counts[3] = { 0 };

	/* Each configuration draws its own stream from the one seed. */
	r.rng = seed ^ (0x100000001b3ULL * (cfg - cfgs + 1));
	r.vm = vm_create_fake(cfg->levels == 5 ? 57 : 48, pa_bits, MAIN_MEM);
	vm_memslot_add(r.vm, VM_MEM_ANON, OUT_GPA, OUT_SLOT, OUT_SIZE / SZ_4K, 0);
	if (cfg->format == KVM_MMU_FORMAT_GUEST) {
		r.mmu = &r.vm->mmu;
	} else {
		if (cfg->format == KVM_MMU_FORMAT_EPT)
			x86_mmu_arch_ept(&arch, pa_bits, true);
		else
			x86_mmu_arch_npt(&arch, pa_bits, true);
		r.mmu = &r.vm->stage2_mmu;
		kvm_mmu_init(r.vm, r.mmu, cfg->levels, &arch);
	}
	r.base = rnd_window(&r);
	r.pfn = calloc(WINDOW_PAGES, sizeof(*r.pfn));
	r.prot = malloc(WINDOW_PAGES);
	TEST_ASSERT(r.pfn && r.prot, "out of memory");
	memset(r.prot, UNMAPPED, WINDOW_PAGES);
	current = &r;

	for (r.op_idx = 0; ok && r.op_idx < nr_ops; r.op_idx++) {
		struct op op = rnd_op(&r);
		u64 lo, hi, want = 0, got;

		op_extent(&r, op.vaddr, op.vaddr + op.size, &lo, &hi);
		r.history[r.op_idx % 8] = op;
		counts[op.kind]++;
		switch (op.kind) {
		case OP_MAP:
			kvm_mmu_map_level(r.vm, r.mmu, op.vaddr, op.paddr,
					  op.size, op.prot, op.level);
			break;
		case OP_UNMAP:
			want = predict_unmap(&r, op.vaddr, op.vaddr + op.size);
			got = kvm_mmu_unmap(r.vm, r.mmu, op.vaddr, op.size);
			if (got != want)
				ok = mismatch(&r, "unmap cleared %llu leaves, expected %llu",
					      got, want);
			break;
		case OP_PROTECT:
			kvm_mmu_protect(r.vm, r.mmu, op.vaddr, op.size, op.prot);
			break;
		}
		model_apply(&r, &op);
		leaves = 0;
		ok = ok && check(&r, lo, hi, op.kind == OP_MAP ? &op : NULL,
				 &leaves);
		if (ok && (r.op_idx + 1) % FULL_CHECK_EVERY == 0)
			ok = check_all(&r);
	}
	r.op_idx--;
	if (ok)
		ok = check_all(&r);
	current = NULL;
	leaves = ok ? kvm_mmu_verify(r.vm, r.mmu, NULL) : 0;
	tap_info("%s: window 0x%llx, %ld maps, %ld unmaps, %ld protects, %llu leaves at the end, %llu ms",
		 cfg->name, r.base, counts[OP_MAP], counts[OP_UNMAP],
		 counts[OP_PROTECT], leaves,
		 (now_ns() - start_ns) / 1000000);
	free(r.pfn);
	free(r.prot);
	kvm_vm_free(r.vm);
	return ok;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--seed N] [--ops N]\n"
		"  --seed N  seed of the random operations (default %llu)\n"
		"  --ops N   operations per configuration (default %d)\n",
		prog, DEFAULT_SEED, DEFAULT_OPS);
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	u64 seed = DEFAULT_SEED;
	long nr_ops = DEFAULT_OPS;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "s:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (*end)
				usage(argv[0]);
			break;
		case 'o':
			nr_ops = strtol(optarg, &end, 0);
			if (*end || nr_ops < 1)
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);

	atexit(report_exit);
	tap_info("seed %llu, %ld operations per configuration (reproduce: --seed %llu --ops %ld)",
		 seed, nr_ops, seed, nr_ops);
	for (int i = 0; i < (int)ARRAY_SIZE(cfgs); i++) {
		case_begin("%s: %ld random map/unmap/protect operations match the model",
			   cfgs[i].name, nr_ops);
		CHECK(run_cfg(&cfgs[i], seed, nr_ops),
		      "the walker and the model disagree (the MISMATCH lines above)");
	}
	checks_exit();
}
