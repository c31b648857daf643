/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The x86 part of struct kvm_mmu: where each attribute lives in a PTE.
 *
 * Guest paging, EPT and NPT are three fillings of this one struct; the
 * walker in lib/kvm_mmu.c reads nothing but these masks, so the same code
 * builds all three. A mask of 0 means the format has no such bit.
 */
#ifndef KVMTEST_X86_KVM_MMU_ARCH_H
#define KVMTEST_X86_KVM_MMU_ARCH_H

#include <stdbool.h>
#include <stdint.h>

enum kvm_mmu_format {
	KVM_MMU_FORMAT_GUEST,	/* IA-32e paging, the guest's own tables */
	KVM_MMU_FORMAT_EPT,	/* Intel extended page tables */
	KVM_MMU_FORMAT_NPT,	/* AMD nested page tables */
};

struct kvm_mmu_arch {
	enum kvm_mmu_format format;
	uint64_t present;	/* set in every entry; 0 for EPT */
	uint64_t presence;	/* any of these set means "present" */
	uint64_t readable;	/* 0 where presence implies read */
	uint64_t writable;
	uint64_t executable;	/* 0 where execute is "nx clear" */
	uint64_t nx;
	uint64_t user;
	uint64_t accessed;
	uint64_t dirty;
	uint64_t huge;
	uint64_t c_bit;		/* SEV memory encryption */
	uint64_t s_bit;		/* TDX shared GPA bit */
	uint64_t always_set;	/* set in every entry (NPT: user) */
	uint64_t leaf_memtype;	/* EPT: memory type of leaves (WB) */
	uint64_t addr_mask;	/* bits holding the output address */
	int max_leaf_level;	/* PG_LEVEL_2M, or PG_LEVEL_1G with 1G pages */
};

/*
 * Fillings. pa_bits is the output address width; gbpages says whether 1 GiB
 * leaves are allowed.
 */
void x86_mmu_arch_guest(struct kvm_mmu_arch *arch, int pa_bits, bool gbpages);
void x86_mmu_arch_ept(struct kvm_mmu_arch *arch, int pa_bits, bool gbpages);
void x86_mmu_arch_npt(struct kvm_mmu_arch *arch, int pa_bits, bool gbpages);

/* Guest paging PTE bits, by the SDM's names. */
#define PTE_PRESENT		(1ULL << 0)
#define PTE_WRITABLE		(1ULL << 1)
#define PTE_USER		(1ULL << 2)
#define PTE_ACCESSED		(1ULL << 5)
#define PTE_DIRTY		(1ULL << 6)
#define PTE_HUGE		(1ULL << 7)
#define PTE_NX			(1ULL << 63)

/* EPT entry bits (SDM Vol. 3, "EPT Translation Mechanism"). */
#define EPT_READABLE		(1ULL << 0)
#define EPT_WRITABLE		(1ULL << 1)
#define EPT_EXECUTABLE		(1ULL << 2)
#define EPT_MEMTYPE_SHIFT	3
#define EPT_MEMTYPE_WB		(6ULL << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT		(1ULL << 6)
#define EPT_HUGE		(1ULL << 7)
#define EPT_ACCESSED		(1ULL << 8)
#define EPT_DIRTY		(1ULL << 9)

#endif /* KVMTEST_X86_KVM_MMU_ARCH_H */
