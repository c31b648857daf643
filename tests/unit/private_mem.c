// SPDX-License-Identifier: GPL-2.0-only
/*
 * Private-memory logic that needs no KVM: the record of memory attributes,
 * how a MAP_GPA_RANGE request becomes a conversion plan, how a GPA range
 * is cut into guest_memfd pieces across slots, and what each VM type
 * declares about itself.
 */
#include "internal.h"
#include "private_vm.h"
#include "test_check.h"

#define P	KVM_MEMORY_ATTRIBUTE_PRIVATE

static void attr_record(void)
{
	struct mem_attr_map m = { 0 };

	case_begin("attribute record: set, overwrite, split, merge, query");
	CHECK_EQ(mem_attr_map_get(&m, 0x1000), 0);
	mem_attr_map_set(&m, 0x10000, 0x10000, P);
	CHECK_EQ(m.nr, 1);
	CHECK_EQ(mem_attr_map_get(&m, 0x10000), P);
	CHECK_EQ(mem_attr_map_get(&m, 0x1ffff), P);
	CHECK_EQ(mem_attr_map_get(&m, 0x20000), 0);
	CHECK_EQ(mem_attr_map_get(&m, 0xffff), 0);

	/* A shared hole in the middle splits the range in two. */
	mem_attr_map_set(&m, 0x14000, 0x1000, 0);
	CHECK_EQ(m.nr, 2);
	CHECK_EQ(mem_attr_map_get(&m, 0x13fff), P);
	CHECK_EQ(mem_attr_map_get(&m, 0x14000), 0);
	CHECK_EQ(mem_attr_map_get(&m, 0x15000), P);
	CHECK(!mem_attr_map_uniform(&m, 0x10000, 0x10000, P), "hole not seen");
	CHECK(mem_attr_map_uniform(&m, 0x15000, 0xb000, P), "right part");
	CHECK(mem_attr_map_uniform(&m, 0x14000, 0x1000, 0), "the hole");

	/* Filling the hole merges back into one range. */
	mem_attr_map_set(&m, 0x14000, 0x1000, P);
	CHECK_EQ(m.nr, 1);
	CHECK(mem_attr_map_uniform(&m, 0x10000, 0x10000, P), "merged");

	/* Overlapping both ends, then everything shared again. */
	mem_attr_map_set(&m, 0x8000, 0x10000, P);
	mem_attr_map_set(&m, 0x1c000, 0x10000, P);
	CHECK_EQ(m.nr, 1);
	CHECK_EQ(m.r[0].start, 0x8000);
	CHECK_EQ(m.r[0].end, 0x2c000);
	CHECK(!mem_attr_map_uniform(&m, 0x4000, 0x8000, P),
	      "a range starting before the record is not all private");
	mem_attr_map_set(&m, 0, 0x100000, 0);
	CHECK_EQ(m.nr, 0);

	/* Many disjoint ranges stay sorted and findable. */
	for (u64 i = 0; i < 100; i++)
		mem_attr_map_set(&m, (99 - i) * 0x2000, 0x1000, P);
	CHECK_EQ(m.nr, 100);
	for (u64 i = 0; i < 100; i++) {
		CHECK_EQ(mem_attr_map_get(&m, i * 0x2000), P);
		CHECK_EQ(mem_attr_map_get(&m, i * 0x2000 + 0x1000), 0);
	}
	mem_attr_map_free(&m);
}

static struct conversion_plan plan(u64 gpa, u64 npages, u64 attrs,
				   bool discard)
{
	struct map_gpa_request r = { gpa, npages, attrs };

	return plan_map_gpa(&r, discard);
}

static void conversion_planning(void)
{
	struct conversion_plan p;

	case_begin("conversion plan from MAP_GPA_RANGE requests");
	p = plan(0x200000, 16, KVM_MAP_GPA_RANGE_ENCRYPTED, true);
	CHECK_EQ(p.error, 0);
	CHECK_EQ(p.gpa, 0x200000);
	CHECK_EQ(p.size, 16 * PAGE_SIZE);
	CHECK_EQ(p.attributes, P);
	CHECK(!p.discard_private, "going private discards nothing");

	p = plan(0x200000, 16, KVM_MAP_GPA_RANGE_DECRYPTED, true);
	CHECK_EQ(p.attributes, 0);
	CHECK(p.discard_private, "a type that discards on share does");
	p = plan(0x200000, 16, KVM_MAP_GPA_RANGE_DECRYPTED, false);
	CHECK(!p.discard_private, "a type that keeps contents does not");

	/* The page-size hint: the range must be aligned to it. */
	p = plan(0x200000, 512, KVM_MAP_GPA_RANGE_PAGE_SZ_2M, false);
	CHECK_EQ(p.error, 0);
	p = plan(0x201000, 512, KVM_MAP_GPA_RANGE_PAGE_SZ_2M, false);
	CHECK_EQ(p.error, KVM_EINVAL);
	p = plan(0x200000, 16, KVM_MAP_GPA_RANGE_PAGE_SZ_2M, false);
	CHECK_EQ(p.error, KVM_EINVAL);
	p = plan(0, 16, 3, false);		/* no such page size */
	CHECK_EQ(p.error, KVM_EINVAL);
	p = plan(0, 16, 1 << 5, false);	/* undefined bit */
	CHECK_EQ(p.error, KVM_EINVAL);
	p = plan(0, 0, 0, false);
	CHECK_EQ(p.error, KVM_EINVAL);
	p = plan(~0ULL << 12, 2, 0, false);	/* wraps */
	CHECK_EQ(p.error, KVM_EINVAL);
}

static void gmem_pieces(void)
{
	struct kvm_vm *vm = vm_create_fake(48, 40, 16 * MiB);
	struct gmem_piece pc[4];
	struct vm_memslot *s;
	int n;

	case_begin("a GPA range cut into guest_memfd pieces across slots");
	/* Two guest_memfd slots back to back, and a plain one after. */
	s = vm_memslot_new(vm, 10, KVM_MEM_GUEST_MEMFD, GiB, 2 * MiB, NULL, -1);
	s->region.guest_memfd = 100;
	s->region.guest_memfd_offset = 4 * MiB;
	vm->nr_slots++;
	s = vm_memslot_new(vm, 11, KVM_MEM_GUEST_MEMFD, GiB + 2 * MiB, MiB,
			   NULL, -1);
	s->region.guest_memfd = 101;
	vm->nr_slots++;
	vm_memslot_new(vm, 12, 0, GiB + 3 * MiB, MiB, NULL, -1);
	vm->nr_slots++;

	n = gmem_plan_ranges(vm, GiB + MiB, 2 * MiB, pc, 4);
	CHECK_EQ(n, 2);
	CHECK_EQ(pc[0].slot, 10);
	CHECK_EQ(pc[0].fd, 100);
	CHECK_EQ(pc[0].offset, 5 * MiB);
	CHECK_EQ(pc[0].size, MiB);
	CHECK_EQ(pc[1].slot, 11);
	CHECK_EQ(pc[1].offset, 0);
	CHECK_EQ(pc[1].size, MiB);
	CHECK_EQ(gmem_plan_ranges(vm, GiB + 2 * MiB, 2 * MiB, pc, 4), -1);
	CHECK_EQ(gmem_plan_ranges(vm, 2 * GiB, PAGE_SIZE, pc, 4), -1);
	CHECK_EQ(gmem_plan_ranges(vm, GiB, 3 * MiB, pc, 1), -1);
	/* The fake slots own no files: keep vm_memslots_free off them. */
	vm->nr_slots = 1;
	kvm_vm_free(vm);
}

static void type_table(void)
{
	case_begin("VM types: each declares what differs");
	CHECK(pvm_sw_protected.private_survives_conversion,
	      "a software-protected VM keeps guest_memfd pages across flips");
	CHECK(!pvm_sw_protected.discard_on_share, "sw-protected: no discard");
	CHECK_EQ(pvm_sw_protected.vm_type, KVM_X86_SW_PROTECTED_VM);
	CHECK(!pvm_tdx.private_survives_conversion,
	      "a TD's page comes back zeroed");
	CHECK(pvm_tdx.discard_on_share, "TDX: shared pages free their private half");
	CHECK_EQ(pvm_tdx.vm_type, KVM_X86_TDX_VM);
	CHECK_EQ(pvm_snp.vm_type, KVM_X86_SNP_VM);
	for (int i = 0; pvm_types[i]; i++) {
		const struct pvm_type *t = pvm_types[i];

		CHECK(t->name && t->unavailable, "type %d has a name and a check", i);
		/* A type that can run must have every hook. */
		if (t->create)
			CHECK(t->args_set && t->map && t->ready && t->free &&
			      t->guest && t->guest->map_gpa && t->guest->accept,
			      "%s: a hook is missing", t->name);
	}
	CHECK(!pvm_snp.create, "SEV-SNP is declared, not implemented");
}

int main(void)
{
	attr_record();
	conversion_planning();
	gmem_pieces();
	type_table();
	checks_exit();
}
