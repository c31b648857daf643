// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_huge_pages: stage-2 leaves of 2 MiB and 1 GiB. L2 reads what the
 * host put in L1's memory and writes new values through the huge leaf, at
 * the first page, one in the middle and the last page of the leaf; the
 * host checks the writes landed at the right L1 addresses.
 *
 * The L2 GPAs are outside L1's memory (L2_BASE_*), so only the stage-2
 * leaf can make the data appear: an identity map by accident cannot pass.
 * 1 GiB leaves are skipped, with the reason, when the stage-2 cannot have
 * them (no GBPAGES for NPT, no EPT_VPID_CAP bit 17 for EPT).
 */
#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	(1 * GiB)
#define DATA_SIZE	(1 * GiB)	/* touched only at a few pages */
#define L2_BASE_2M	(8 * GiB + 2 * MiB)
#define L1_TARGET_2M	(DATA_GPA + 6 * MiB)
#define L2_BASE_1G	(16 * GiB)
#define GVA_2M		0x600000000000ULL
#define GVA_1G		0x610000000000ULL

#define HC_DONE		0x646f6e65ULL
#define NR_PROBES	6

struct probe {
	u64 gva;	/* L2's address */
	u64 l1_gpa;	/* where it must land */
	u64 expect;	/* what L2 must read */
	u64 store;	/* what L2 then writes */
};

static struct probe probes[NR_PROBES];
static int nr_probes;
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (int i = 0; i < nr_probes; i++) {
		u64 *p = (u64 *)probes[i].gva;

		GUEST_CHECK(READ_ONCE(*p) == probes[i].expect,
			    "probe %d at GVA 0x%llx read 0x%llx, expected 0x%llx",
			    i, probes[i].gva, READ_ONCE(*p), probes[i].expect);
		WRITE_ONCE(*p, probes[i].store);
	}
	l2_hypercall(HC_DONE, 0);
}

static void l1_main(struct nested_state *s)
{
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_DONE);
	GUEST_DONE();
}

/* Map one huge leaf and three probes into it: first, middle, last page. */
static void add_leaf(struct kvm_vm *vm, u64 gva, u64 l2_gpa, u64 l1_gpa,
		     int level)
{
	u64 size = PG_LEVEL_SIZE(level);
	u64 offs[3] = { 0, size / 2 + 3 * PAGE_SIZE + 0x18, size - 8 };
	int got;

	tdp_map_level(vm, l2_gpa, l1_gpa, size, KVM_MMU_RWX, level);
	TEST_ASSERT(tdp_lookup(vm, l2_gpa, &got) && got == level,
		    "stage-2 leaf for L2 GPA 0x%llx is level %d, wanted %d",
		    l2_gpa, got, level);
	for (int i = 0; i < 3; i++) {
		u64 page = ALIGN_DOWN(offs[i], PAGE_SIZE);
		struct probe *p = &probes[nr_probes++];

		l2_virt_map(vm, gva + page, l2_gpa + page, PAGE_SIZE);
		*p = (struct probe){
			.gva = gva + offs[i],
			.l1_gpa = l1_gpa + offs[i],
			.expect = 0xfeed000000000000ULL | (level << 8) | i,
			.store = 0xbeef000000000000ULL | (level << 8) | i,
		};
		*(u64 *)addr_gpa2hva(vm, p->l1_gpa) = p->expect;
	}
}

static void run(int max_level)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int total;

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	add_leaf(vm, GVA_2M, L2_BASE_2M, L1_TARGET_2M, PG_LEVEL_2M);
	if (max_level >= PG_LEVEL_1G)
		add_leaf(vm, GVA_1G, L2_BASE_1G, DATA_GPA, PG_LEVEL_1G);
	total = nr_probes;
	sync_global_to_guest(vm, probes);
	sync_global_to_guest(vm, nr_probes);

	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));
	vcpu_run_to_done(vcpu, NULL, NULL);
	for (int i = 0; i < total; i++)
		CHECK(*(u64 *)addr_gpa2hva(vm, probes[i].l1_gpa) ==
		      probes[i].store,
		      "probe %d: L2's write is not at L1 GPA 0x%llx", i,
		      probes[i].l1_gpa);
	tap_info("%s: %d probes through 2M%s leaves",
		 kvm_cpu_has_nested_svm() ? "npt" : "ept", total,
		 max_level >= PG_LEVEL_1G ? " and 1G" : "");
	kvm_vm_free(vm);
}

static void case_2m(void *arg)
{
	run(PG_LEVEL_2M);
}

static void case_1g(void *arg)
{
	run(PG_LEVEL_1G);
}

static bool stage2_has_1g(void)
{
	if (kvm_cpu_has_nested_svm())
		return kvm_cpu_has(X86_FEATURE_GBPAGES);
	return kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP) & VMX_EPT_CAP_1G;
}

int main(void)
{
	nested_require_tdp();
	run_case(case_2m, NULL,
		 "2 MiB stage-2 leaf: L2 reads and writes L1 memory at the right offsets");
	if (stage2_has_1g()) {
		run_case(case_1g, NULL,
			 "1 GiB stage-2 leaf: L2 reads and writes L1 memory at the right offsets");
	} else {
		case_begin("1 GiB stage-2 leaf");
		case_skip("%s", kvm_cpu_has_nested_svm() ?
			  "NPT has no 1 GiB pages: KVM does not expose GBPAGES" :
			  "EPT has no 1 GiB pages: EPT_VPID_CAP bit 17 clear");
	}
	checks_exit();
}
