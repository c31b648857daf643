// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_emul_fault: stage-2 faults that KVM's emulator, not the CPU, finds
 * on L2's behalf must reach L1 as the CPU would have reported them: NPF
 * with the exact EXITINFO1 (error code, final-translation vs page-table
 * bit) and EXITINFO2, or an EPT violation with the exact exit
 * qualification (access, the entry's RWX, GVA valid / translated) and GPA.
 * One body for SVM and VMX.
 *
 * No in-tree selftest covers this ground (KVM's own paging_tmpl.h carries
 * a FIXME for the page-table case on SVM); what it adds is all of it.
 *
 *   string-io  INS into / OUTS from L2 pages that L1 unmapped in stage-2
 *              (a 4K leaf, and a whole stage-2 page-table page): KVM
 *              emulates string I/O after the port exit, so its emulator
 *              meets the fault.
 *   fep        KVM_FEP-prefixed loads and stores (kvm.force_emulation_prefix)
 *              into an unmapped leaf, a read-only leaf, and an L2 address
 *              whose own page-table page is unmapped in stage-2 (the fault
 *              is on L2's walk).
 *
 * For each: L1 breaks the entry, runs L2, checks the exit exactly, repairs
 * the entry, and L2's access then completes. The GPA's offset within the
 * page is a case of its own ("GPA to the byte").
 */
#include "kvm_util.h"
#include "test_check.h"
#include "exception.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x10000000ULL	/* 256 MiB */
#define DATA_SIZE	(4 * MiB)
#define DATA_GVA	0x300000000000ULL
#define WALK_GVA	0x310000005000ULL	/* alone in its page table, entry 5 */
#define TEST_PORT	0x5a0
#define IN_BYTE		0x5a

#define HC_NEXT		0x6e657874ULL
#define HC_DONE		0x646f6e65ULL

enum access_insn { INSB, OUTSB, FEP_LOAD, FEP_STORE };

struct emul_case {
	const char *name;
	enum access_insn insn;
	u64 gva;
	u64 pte_gpa;		/* the stage-2 entry L1 breaks */
	u64 good, bad;
	/* What the CPU would report. */
	u64 gpa;
	bool write;		/* the faulting access is a write */
	bool present;		/* the stage-2 translation existed */
	u8 rwx;			/* EPT: the leaf's R/W/X bits (0: none) */
	bool on_walk;		/* on L2's own page-table walk */
};

#define MAX_CASES	4
static struct emul_case cases[MAX_CASES];
static int nr_cases;
static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_access(const struct emul_case *c)
{
	u64 val = 0;

	switch (c->insn) {
	case INSB:
		__asm__ volatile("insb" : : "D"(c->gva), "d"(TEST_PORT)
				 : "memory");
		break;
	case OUTSB:
		__asm__ volatile("outsb" : : "S"(c->gva), "d"(TEST_PORT)
				 : "memory");
		break;
	case FEP_LOAD:
		__asm__ volatile(KVM_FEP "movq (%1), %0"
				 : "=r"(val) : "r"(c->gva) : "memory");
		break;
	case FEP_STORE:
		__asm__ volatile(KVM_FEP "movq %0, (%1)"
				 : : "r"(val), "r"(c->gva) : "memory");
		break;
	}
}

static void l2_main(void)
{
	for (;;) {
		u64 i = l2_hypercall(HC_NEXT, 0);

		if (i >= (u64)nr_cases)
			break;
		l2_access(&cases[i]);
	}
	l2_hypercall(HC_DONE, 0);
}

/* The architectural report of @c: EXITINFO1 / the exit qualification. */
static u64 expected_info(struct nested_state *s, const struct emul_case *c)
{
	if (s->vendor == NESTED_SVM)
		return (c->on_walk ? SVM_NPF_GUEST_PAGE_TABLES :
				     SVM_NPF_FINAL_TRANSLATION) |
		       SVM_NPF_USER | (c->write ? SVM_NPF_WRITE : 0) |
		       (c->present ? SVM_NPF_PRESENT : 0);
	return (c->write ? EPT_VIOL_WRITE : EPT_VIOL_READ) |
	       ((u64)c->rwx << 3) | EPT_VIOL_GLA_VALID |
	       (c->on_walk ? 0 : EPT_VIOL_GLA_TRANSLATED);
}

static void l1_main(struct nested_state *s)
{
	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	l2_run_to_hypercall(s, HC_NEXT);

	for (int i = 0; i < nr_cases; i++) {
		struct emul_case *c = &cases[i];
		u64 *pte = l1_phys(c->pte_gpa);
		struct l2_exit ex;

		GUEST_CASE("%s", c->name);
		l2_set_hypercall_result(s, i);
		WRITE_ONCE(*pte, c->bad);
		l2_tdp_flush(s);

		ex = l2_run(s);
		GUEST_CHECK(ex.kind == L2_EXIT_TDP_FAULT,
			    "TDP fault exit, got %s (raw 0x%llx, info 0x%llx/0x%llx)",
			    l2_exit_kind_name(ex.kind), ex.raw, ex.info1,
			    ex.info2);
		GUEST_CHECK_EQ(ex.gpa & ~0xfffULL, c->gpa & ~0xfffULL);
		GUEST_CHECK_EQ(ex.info1, expected_info(s, c));
		/* A case of its own: an L1 emulating MMIO needs the byte. */
		GUEST_CASE("%s: GPA to the byte", c->name);
		GUEST_CHECK_EQ(ex.gpa, c->gpa);

		WRITE_ONCE(*pte, c->good);
		l2_tdp_flush(s);
		l2_run_to_hypercall(s, HC_NEXT);
	}
	l2_set_hypercall_result(s, ~0ULL);
	l2_run_to_hypercall(s, HC_DONE);
	GUEST_DONE();
}

/* A case on the 4K stage-2 leaf of DATA page @page. */
static void leaf_case(struct kvm_vm *vm, const char *name,
		      enum access_insn insn, u64 page, bool read_only)
{
	const struct kvm_mmu_arch *a = &vm->stage2_mmu.arch;
	u64 gpa = DATA_GPA + page * PAGE_SIZE + 0x18;
	u64 *pte;

	tdp_map_level(vm, gpa & ~0xfffULL, gpa & ~0xfffULL, PAGE_SIZE,
		      KVM_MMU_RWX, PG_LEVEL_4K);
	pte = tdp_lookup(vm, gpa, NULL);
	cases[nr_cases++] = (struct emul_case){
		.name = name, .insn = insn,
		.gva = DATA_GVA + (gpa - DATA_GPA),
		.pte_gpa = addr_hva2gpa(vm, pte),
		.good = *pte,
		.bad = read_only ? *pte & ~a->writable : 0,
		.gpa = gpa,
		.write = insn == INSB || insn == FEP_STORE,
		.present = read_only,
		/* EPT: readable and executable are left (bits 0 and 2). */
		.rwx = read_only ? 5 : 0,
	};
}

/* INS/OUTS through a stage-2 PDE that L1 clears: no table below it. */
static void table_case(struct kvm_vm *vm, const char *name,
		       enum access_insn insn, u64 gpa)
{
	u64 *pde;

	tdp_map_level(vm, gpa & ~0xfffULL, gpa & ~0xfffULL, PAGE_SIZE,
		      KVM_MMU_RWX, PG_LEVEL_4K);
	pde = tdp_entry(vm, gpa, PG_LEVEL_2M);
	TEST_ASSERT(pde && !(*pde & vm->stage2_mmu.arch.huge),
		    "stage-2 PDE over 0x%llx is not a table",
		    (unsigned long long)gpa);
	cases[nr_cases++] = (struct emul_case){
		.name = name, .insn = insn,
		.gva = DATA_GVA + (gpa - DATA_GPA),
		.pte_gpa = addr_hva2gpa(vm, pde),
		.good = *pde, .bad = 0,
		.gpa = gpa, .write = insn == INSB || insn == FEP_STORE,
	};
}

/*
 * A load from WALK_GVA, the only mapping in its last-level table, whose
 * stage-2 leaf L1 clears: the emulator's walk of L2's tables faults.
 */
static void walk_case(struct kvm_vm *vm, const char *name)
{
	u64 *gpte_table, pt_gpa;

	virt_map(vm, WALK_GVA, DATA_GPA + 6 * PAGE_SIZE, PAGE_SIZE);
	gpte_table = kvm_mmu_entry(vm, &vm->mmu, WALK_GVA, PG_LEVEL_2M);
	pt_gpa = *gpte_table & vm->mmu.arch.addr_mask;
	tdp_map_level(vm, pt_gpa, pt_gpa, PAGE_SIZE, KVM_MMU_RWX, PG_LEVEL_4K);
	cases[nr_cases++] = (struct emul_case){
		.name = name, .insn = FEP_LOAD, .gva = WALK_GVA,
		.pte_gpa = addr_hva2gpa(vm, tdp_lookup(vm, pt_gpa, NULL)),
		.good = *tdp_lookup(vm, pt_gpa, NULL), .bad = 0,
		.gpa = pt_gpa + 8 * ((WALK_GVA >> 12) & 511),
		/* The walk sets the PTE's accessed bit: a write, on NPT. */
		.write = vm->stage2_mmu.arch.format != KVM_MMU_FORMAT_EPT ||
			 vm->stage2_mmu.arch.accessed,
		.on_walk = true,
	};
}

/* The host side of L2's port I/O: IN gets IN_BYTE, OUT is dropped. */
static void serve_port(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == TEST_PORT,
		    "unexpected exit %s (%u)", exit_reason_str(run->exit_reason),
		    run->exit_reason);
	if (run->io.direction == KVM_EXIT_IO_IN)
		memset((u8 *)run + run->io.data_offset, IN_BYTE,
		       run->io.size * run->io.count);
}

int main(int argc, char **argv)
{
	bool fep = argc == 2 && !strcmp(argv[1], "fep");
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	if (argc != 2 || (!fep && strcmp(argv[1], "string-io"))) {
		fprintf(stderr, "usage: %s string-io|fep\n", argv[0]);
		return 2;
	}
	nested_require_tdp();
	if (fep && !kvm_fep_enabled())
		test_skip("forced emulation is off: boot with kvm.force_emulation_prefix=1");

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	virt_map(vm, DATA_GVA, DATA_GPA, DATA_SIZE);
	if (fep) {
		leaf_case(vm, "FEP store into a stage-2 unmapped leaf", FEP_STORE, 1, false);
		leaf_case(vm, "FEP load from a stage-2 unmapped leaf", FEP_LOAD, 2, false);
		leaf_case(vm, "FEP store into a stage-2 read-only leaf", FEP_STORE, 3, true);
		walk_case(vm, "FEP load whose L2 page-table page is stage-2 unmapped");
	} else {
		leaf_case(vm, "INS into a stage-2 unmapped leaf", INSB, 1, false);
		leaf_case(vm, "OUTS from a stage-2 unmapped leaf", OUTSB, 2, false);
		table_case(vm, "INS under a stage-2 unmapped page-table page", INSB,
			   DATA_GPA + 2 * MiB + 5 * PAGE_SIZE + 0x40);
		table_case(vm, "OUTS under a stage-2 unmapped page-table page", OUTSB,
			   DATA_GPA + 2 * MiB + 9 * PAGE_SIZE + 0x80);
	}
	sync_global_to_guest(vm, cases);
	sync_global_to_guest(vm, nr_cases);
	vcpu_args_set(vcpu, 1, vcpu_alloc_nested_state(vcpu));

	while (vcpu_run_next(vcpu, &uc) != UCALL_DONE)
		serve_port(vcpu);
	kvm_vm_free(vm);
	checks_exit();
}
