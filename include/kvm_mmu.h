/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * struct kvm_mmu: one set of page tables, and the one walker that builds,
 * reads and edits them.
 *
 * A VM has two: vm->mmu, the guest's own (stage-1) tables, and
 * vm->stage2_mmu, the EPT or NPT tables an L1 guest hands to hardware for
 * its L2. Both are built by the same code; only the PTE masks in the arch
 * part differ. Every helper takes the mmu it works on and reads page-table
 * state from nowhere else. Table pages live in guest-physical memory, so
 * the host writes them through the memslot's host mapping and the guest (or
 * L1, or the CPU's walker) sees the same bytes.
 *
 * Addresses: "vaddr" is the input address the tables translate (a GVA for
 * stage-1, an L2 GPA for stage-2), "paddr" the output (a GPA of this VM).
 */
#ifndef KVMTEST_KVM_MMU_H
#define KVMTEST_KVM_MMU_H

#include <stdio.h>

#include "test_util.h"
#include "kvm_mmu_arch.h"

struct kvm_vm;

/* Page-table levels, counted from the leaf: level N maps 4 KiB << 9N. */
enum pg_level {
	PG_LEVEL_ANY = -1,	/* largest the alignment allows */
	PG_LEVEL_4K = 0,
	PG_LEVEL_2M = 1,
	PG_LEVEL_1G = 2,
	PG_LEVEL_512G = 3,
	PG_LEVEL_256T = 4,
};
#define PG_LEVEL_SHIFT(l)	(PAGE_SHIFT + 9 * (l))
#define PG_LEVEL_SIZE(l)	(1ULL << PG_LEVEL_SHIFT(l))
#define PTES_PER_TABLE		512

/*
 * Messages name a level by the size its entries map ("2 MiB"), never by
 * the enum's number: KVM and the SDM count from 1 at the 4 KiB level
 * (PG_LEVEL_4K is 1 in KVM), this enum from 0, and a bare number
 * misleads whoever reads the other. Dumps print L1 for the 4 KiB level,
 * as KVM does.
 */
static inline const char *pg_level_name(int level)
{
	static const char *const names[] = {
		"4 KiB", "2 MiB", "1 GiB", "512 GiB", "256 TiB",
	};

	return level >= 0 && level < (int)ARRAY_SIZE(names) ? names[level] :
	       "no such";
}

/* Format-independent access rights and attributes of a mapping. */
#define KVM_MMU_READ		BIT(0)
#define KVM_MMU_WRITE		BIT(1)
#define KVM_MMU_EXEC		BIT(2)
#define KVM_MMU_USER		BIT(3)	/* stage-1 only: CPL3 may access */
#define KVM_MMU_SHARED		BIT(4)	/* TDX: set the shared (S) bit */
#define KVM_MMU_ENCRYPTED	BIT(5)	/* SEV: set the C-bit */
#define KVM_MMU_MMIO		BIT(6)	/* map: the target is device MMIO, not RAM */
#define KVM_MMU_RW		(KVM_MMU_READ | KVM_MMU_WRITE)
#define KVM_MMU_RWX		(KVM_MMU_READ | KVM_MMU_WRITE | KVM_MMU_EXEC)

struct kvm_mmu {
	bool pgd_created;
	u64 pgd;		/* guest-physical address of the root table */
	int pgtable_levels;	/* 4 or 5 */
	struct kvm_mmu_arch arch;
};

/*
 * Give mmu its format and a root table allocated from vm's memory. The
 * arch part is one of the fillings in kvm_mmu_arch.h.
 */
void kvm_mmu_init(struct kvm_vm *vm, struct kvm_mmu *mmu, int pgtable_levels,
		  const struct kvm_mmu_arch *arch);

/*
 * Map [vaddr, vaddr + size) to [paddr, paddr + size) in one walk, using the
 * largest page size alignment allows, or exactly @level when it is not
 * PG_LEVEL_ANY. Existing leaves in the range are replaced; a larger leaf
 * that the range covers only in part is split first. The output range must
 * lie in the VM's memslots.
 */
void kvm_mmu_map_level(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		       u64 paddr, u64 size, unsigned int prot, int level);
static inline void kvm_mmu_map(struct kvm_vm *vm, struct kvm_mmu *mmu,
			       u64 vaddr, u64 paddr, u64 size,
			       unsigned int prot)
{
	kvm_mmu_map_level(vm, mmu, vaddr, paddr, size, prot, PG_LEVEL_ANY);
}

/* Remove the mappings of a range; returns how many leaves were cleared. */
u64 kvm_mmu_unmap(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr, u64 size);

/*
 * Give every page in a mapped range the rights @prot (KVM_MMU_*). Only the
 * presence and rights bits change: A/D, memory type, the shared or C bit
 * and bits set by hand stay, also in the leaves of a huge leaf split here.
 */
void kvm_mmu_protect(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		     u64 size, unsigned int prot);

/*
 * The leaf PTE that maps vaddr and its level, or NULL when vaddr is not
 * mapped. The pointer is into guest memory: writes to it edit the mapping.
 */
u64 *kvm_mmu_lookup(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		    int *level);

/*
 * The entry at @level on vaddr's walk (a table pointer or a leaf), or NULL
 * when the walk stops above that level. For tests that edit non-leaf
 * entries, e.g. unmap or write-protect a page-table page.
 */
u64 *kvm_mmu_entry(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		   int level);

/* Translate vaddr; false when not mapped. */
bool kvm_mmu_translate(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 vaddr,
		       u64 *paddr);

/* Decode a leaf PTE back to KVM_MMU_* rights and its output address. */
unsigned int kvm_mmu_pte_prot(const struct kvm_mmu *mmu, u64 pte);
u64 kvm_mmu_pte_paddr(const struct kvm_mmu *mmu, u64 pte, int level);

/* Print every present entry, one line each, indented by level. */
void kvm_mmu_dump(FILE *out, struct kvm_vm *vm, struct kvm_mmu *mmu);

/*
 * Check the tables' invariants: every table pointer lands on a page of
 * guest memory, no leaf sits at a level the format forbids, no reserved
 * bit is set. Fails the test on the first violation; returns the number of
 * leaves and, if @mapped is not NULL, the bytes they map.
 */
u64 kvm_mmu_verify(struct kvm_vm *vm, struct kvm_mmu *mmu, u64 *mapped);

#endif /* KVMTEST_KVM_MMU_H */
