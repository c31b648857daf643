// SPDX-License-Identifier: GPL-2.0-only
/*
 * smaller_maxphyaddr: a guest told by CPUID 0x80000008 that physical
 * addresses have fewer bits than the host's. Bits of a guest page-table
 * entry between the guest's MAXPHYADDR and the host's are reserved for the
 * guest: an access through such an entry, leaf or table pointer, must
 * raise #PF with RSVD set, although the hardware walking with the host's
 * width would take the bit for an address bit. KVM makes that true with
 * TDP by trapping the access (an EPT violation at an illegal GPA, or #PF
 * intercepted) and walking the tables in its emulator; kvm_intel only
 * does so with allow_smaller_maxphyaddr=1, kvm_amd only without NPT.
 *
 * In-tree ground: smaller_maxphyaddr_emulation_test (one FLDS through a
 * PTE with the bit set: emulation failure with TDP, #PF(RSVD) without).
 * What this adds: loads, stores and a table pointer with the bit set, the
 * exact error code and CR2 each time, the guest's CPUID, and a GPA just
 * under the guest's limit still being ordinary memory.
 */
#include "kvm_util.h"
#include "exception.h"
#include "test_check.h"

#define GUEST_MAXPHYADDR	36
#define RSVD_BIT		BIT_ULL(GUEST_MAXPHYADDR)
#define HIGH_SLOT		1
#define HIGH_GPA		(BIT_ULL(GUEST_MAXPHYADDR) - 2 * MiB)
#define LEAF_GVA		0x600000000000ULL	/* its PTE has the bit */
#define TABLE_GVA		0x600040000000ULL	/* its PDE has the bit */
#define HIGH_GVA		0x600080000000ULL
#define TOKEN			0x736d616c6c6d6178ULL	/* "smallmax" */

static void check_rsvd_fault(u8 vector, u64 ec, u64 want_ec, u64 gva)
{
	GUEST_CHECK_EQ(vector, PF_VECTOR);
	GUEST_CHECK_EQ(ec, want_ec);
	GUEST_CHECK_EQ(get_cr2(), gva);
}

static void guest_main(void)
{
	u32 eax, ebx, ecx, edx;
	u64 ec = 0;
	u8 vector;

	GUEST_CASE("CPUID 0x80000008 gives the guest %d physical address bits",
		   GUEST_MAXPHYADDR);
	cpuid_count(0x80000008, 0, &eax, &ebx, &ecx, &edx);
	GUEST_CHECK_EQ(eax & 0xff, GUEST_MAXPHYADDR);

	GUEST_CASE("read through a PTE with bit %d set: #PF, P|RSVD",
		   GUEST_MAXPHYADDR);
	vector = probe_read(LEAF_GVA, &ec);
	check_rsvd_fault(vector, ec, PFERR_PRESENT | PFERR_RSVD, LEAF_GVA);

	GUEST_CASE("write through a PTE with bit %d set: #PF, P|W|RSVD",
		   GUEST_MAXPHYADDR);
	vector = probe_write(LEAF_GVA + 8, 1, &ec);
	check_rsvd_fault(vector, ec, PFERR_PRESENT | PFERR_WRITE | PFERR_RSVD,
			 LEAF_GVA + 8);

	GUEST_CASE("read through a PDE with bit %d set: #PF, P|RSVD",
		   GUEST_MAXPHYADDR);
	vector = probe_read(TABLE_GVA, &ec);
	check_rsvd_fault(vector, ec, PFERR_PRESENT | PFERR_RSVD, TABLE_GVA);

	GUEST_CASE("a GPA just under 2^%d is ordinary memory", GUEST_MAXPHYADDR);
	vector = probe_read(HIGH_GVA, &ec);
	GUEST_CHECK_EQ(vector, PROBE_NO_FAULT);
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)HIGH_GVA), TOKEN);
	GUEST_DONE();
}

/* A fresh page mapped at @gva with a 4 KiB leaf; its GPA. */
static u64 map_page(struct kvm_vm *vm, u64 gva, u64 gpa)
{
	kvm_mmu_map_level(vm, &vm->mmu, gva, gpa, PAGE_SIZE, KVM_MMU_RW,
			  PG_LEVEL_4K);
	return gpa;
}

static void set_guest_maxphyaddr(struct kvm_vcpu *vcpu, int bits)
{
	const struct kvm_cpuid2 *cur = vcpu->arch.cpuid;
	size_t size = sizeof(*cur) + cur->nent * sizeof(cur->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	bool found = false;

	TEST_ASSERT(cpuid, "out of memory");
	memcpy(cpuid, cur, size);
	for (u32 i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function != 0x80000008)
			continue;
		cpuid->entries[i].eax = (cpuid->entries[i].eax & ~0xffu) | bits;
		found = true;
	}
	TEST_ASSERT(found, "no CPUID leaf 0x80000008 to shrink");
	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int host_bits;

	if (!kvm_check_cap(KVM_CAP_SMALLER_MAXPHYADDR))
		test_skip("KVM_CAP_SMALLER_MAXPHYADDR is 0: kvm_amd offers it only with npt=0, kvm_intel only with allow_smaller_maxphyaddr=1");
	host_bits = kvm_cpu_max_pa_bits();
	if (host_bits <= GUEST_MAXPHYADDR)
		test_skip("KVM's MAXPHYADDR is %d: nothing to shrink to %d",
			  host_bits, GUEST_MAXPHYADDR);

	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	set_guest_maxphyaddr(vcpu, GUEST_MAXPHYADDR);

	*(u64 *)addr_gpa2hva(vm, map_page(vm, LEAF_GVA, vm_phys_page_alloc(vm))) = TOKEN;
	*kvm_mmu_lookup(vm, &vm->mmu, LEAF_GVA, NULL) |= RSVD_BIT;
	map_page(vm, TABLE_GVA, vm_phys_page_alloc(vm));
	*kvm_mmu_entry(vm, &vm->mmu, TABLE_GVA, PG_LEVEL_2M) |= RSVD_BIT;

	vm_memslot_add(vm, VM_MEM_ANON, HIGH_GPA, HIGH_SLOT, 1, 0);
	map_page(vm, HIGH_GVA, HIGH_GPA);
	*(u64 *)addr_gpa2hva(vm, HIGH_GPA) = TOKEN;

	vcpu_run_to_done(vcpu, NULL, NULL);
	kvm_vm_free(vm);
	checks_exit();
}
