// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_remap: L1 points an L2 GPA at a different L1 page by rewriting
 * its stage-2 leaf, flushes (INVEPT single-context on VMX, TLB_CONTROL on
 * the next VMRUN on SVM), and L2 must then read the new page.
 *
 * Between a remap and its flush the architecture allows either page to be
 * seen, so that read is only reported, never asserted. A 2 MiB leaf is
 * remapped the same way after the 4 KiB one.
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x20000000ULL	/* 512 MiB */
#define DATA_SIZE	(8 * MiB)
#define L2_GPA_4K	(12 * GiB)	/* not L1 memory: only stage-2 maps it */
#define L2_GPA_2M	(12 * GiB + 2 * MiB)
#define GVA_4K		0x620000000000ULL
#define GVA_2M		0x620000200000ULL

#define HC_VALUE	0x76616cULL	/* "val": arg is what L2 read */

struct remap_site {
	u64 pte_gpa;		/* the stage-2 leaf L1 rewrites */
	u64 pte[2];		/* leaf values: -> page 0, -> page 1 */
	u64 value[2];		/* what each L1 page holds */
};

static struct remap_site sites[2];	/* [0] 4 KiB, [1] 2 MiB */
static u64 l2_gvas[2];
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (;;)
		for (int i = 0; i < 2; i++)
			l2_hypercall(HC_VALUE, READ_ONCE(*(u64 *)l2_gvas[i]));
}

/* One read of site @i by L2. */
static u64 l2_read(struct nested_state *s, int i)
{
	u64 v = l2_run_to_hypercall(s, HC_VALUE);

	/* L2 alternates sites; read the other one too to stay in step. */
	if (i == 0) {
		l2_run_to_hypercall(s, HC_VALUE);
		return v;
	}
	return l2_run_to_hypercall(s, HC_VALUE);
}

static void l1_main(struct nested_state *s)
{
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));

	for (int i = 0; i < 2; i++) {
		struct remap_site *site = &sites[i];
		u64 *pte = l1_phys(site->pte_gpa);
		u64 v;

		GUEST_CASE("%s leaf remapped and flushed: L2 sees the new page, both ways",
			   i ? "2 MiB" : "4 KiB");
		GUEST_CHECK_EQ(l2_read(s, i), site->value[0]);

		WRITE_ONCE(*pte, site->pte[1]);
		l2_tdp_flush(s);
		GUEST_CHECK_EQ(l2_read(s, i), site->value[1]);

		/* Without a flush either page may show: report only. */
		WRITE_ONCE(*pte, site->pte[0]);
		v = l2_read(s, i);
		GUEST_SYNC_ARGS(i, v == site->value[0] ? 0 : 1);

		l2_tdp_flush(s);
		GUEST_CHECK_EQ(l2_read(s, i), site->value[0]);
	}
	GUEST_DONE();
}

static void add_site(struct kvm_vm *vm, int i, u64 gva, u64 l2_gpa,
		     int level)
{
	u64 size = PG_LEVEL_SIZE(level);
	u64 l1[2] = { DATA_GPA + 2 * i * size, DATA_GPA + (2 * i + 1) * size };
	struct remap_site *site = &sites[i];
	u64 *pte;

	for (int p = 0; p < 2; p++) {
		tdp_map_level(vm, l2_gpa, l1[p], size, KVM_MMU_RWX, level);
		pte = tdp_lookup(vm, l2_gpa, NULL);
		site->pte[p] = *pte;
		site->value[p] = 0x7e3a90000000ULL | (i << 8) | p;
		*(u64 *)addr_gpa2hva(vm, l1[p]) = site->value[p];
	}
	/* Start on page 0. */
	*pte = site->pte[0];
	site->pte_gpa = addr_hva2gpa(vm, pte);
	l2_virt_map(vm, gva, l2_gpa, PAGE_SIZE);
	l2_gvas[i] = gva;
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	const char *what = uc->args[0] ? "2 MiB" : "4 KiB";

	tap_info("%s leaf remapped without a flush: L2 saw the %s page (either is allowed)",
		 what, uc->args[1] ? "old" : "new");
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	add_site(vm, 0, GVA_4K, L2_GPA_4K, PG_LEVEL_4K);
	add_site(vm, 1, GVA_2M, L2_GPA_2M, PG_LEVEL_2M);
	sync_global_to_guest(vm, sites);
	sync_global_to_guest(vm, l2_gvas);

	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, on_sync, NULL);
	kvm_vm_free(vm);
	checks_exit();
}
