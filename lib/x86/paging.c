// SPDX-License-Identifier: GPL-2.0-only
/*
 * The three fillings of struct kvm_mmu_arch. Everything format-specific
 * about guest paging, EPT and NPT is in these few lines.
 */
#include "kvm_mmu.h"

static u64 addr_mask(int pa_bits)
{
	return GENMASK_ULL(pa_bits - 1, PAGE_SHIFT);
}

/* IA-32e paging (SDM Vol. 3, "4-Level Paging and 5-Level Paging"). */
void x86_mmu_arch_guest(struct kvm_mmu_arch *arch, int pa_bits, bool gbpages)
{
	*arch = (struct kvm_mmu_arch){
		.format = KVM_MMU_FORMAT_GUEST,
		.present = PTE_PRESENT,
		.presence = PTE_PRESENT,
		.writable = PTE_WRITABLE,
		.nx = PTE_NX,
		.user = PTE_USER,
		.accessed = PTE_ACCESSED,
		.dirty = PTE_DIRTY,
		.huge = PTE_HUGE,
		.addr_mask = addr_mask(pa_bits),
		.max_leaf_level = gbpages ? PG_LEVEL_1G : PG_LEVEL_2M,
	};
}

/*
 * EPT: no present bit (an entry is present when any of R/W/X is set),
 * execute is a permission rather than the absence of NX, leaves carry a
 * memory type, and A/D live at bits 8/9.
 */
void x86_mmu_arch_ept(struct kvm_mmu_arch *arch, int pa_bits, bool gbpages)
{
	*arch = (struct kvm_mmu_arch){
		.format = KVM_MMU_FORMAT_EPT,
		.presence = EPT_READABLE | EPT_WRITABLE | EPT_EXECUTABLE,
		.readable = EPT_READABLE,
		.writable = EPT_WRITABLE,
		.executable = EPT_EXECUTABLE,
		.accessed = EPT_ACCESSED,
		.dirty = EPT_DIRTY,
		.huge = EPT_HUGE,
		.leaf_memtype = EPT_MEMTYPE_WB,
		.addr_mask = addr_mask(pa_bits),
		.max_leaf_level = gbpages ? PG_LEVEL_1G : PG_LEVEL_2M,
	};
}

/*
 * NPT uses the guest paging format, but the walk is a user access (APM
 * Vol. 2, "Nested Paging"), so every entry has U set; no C-bit here.
 */
void x86_mmu_arch_npt(struct kvm_mmu_arch *arch, int pa_bits, bool gbpages)
{
	x86_mmu_arch_guest(arch, pa_bits, gbpages);
	arch->format = KVM_MMU_FORMAT_NPT;
	arch->always_set = PTE_USER;
}
