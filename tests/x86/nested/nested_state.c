// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_state: KVM_GET_NESTED_STATE / KVM_SET_NESTED_STATE (api.rst) taken
 * while L2 runs, the way a VMM saves and restores a vCPU that is running a
 * nested guest for migration.
 *
 * L2 counts through hypercalls to L1, which checks every value. Part-way,
 * L2 syncs straight to the host (L1 does not intercept the ucall port), so
 * the vCPU is in guest mode when the host
 *  - asks with a buffer too small for the data: E2BIG, the size needed,
 *    and nothing written past the buffer;
 *  - gets the state: guest mode flagged, this vendor's format, a header
 *    naming L1's own structures (the VMXON region and current VMCS; the
 *    VMCB), and saved VMCS12/VMCB12 contents that match what L1 wrote;
 *  - sets it back: the other vendor's format is refused with EINVAL, the
 *    state as taken is accepted;
 * and later, at a second sync, saves the whole vCPU (nested state
 * included), replaces the VM by a new one over the same memory and loads
 * it there, as a migration does. L2 must go on counting from where it was
 * and L1 on checking, as if nothing happened: a KVM that loses L1's or
 * L2's state on the way breaks the count, or L1 at its next exit.
 */
#include <errno.h>

#include "kvm_util.h"
#include "nested/nested.h"

#define DATA_SLOT	1
#define DATA_GPA	0x20000000ULL	/* 512 MiB */
#define DATA_SIZE	(2 * MiB)

#define HC_COUNT	0x636e74ULL	/* "cnt": arg is L2's counter */
#define SYNC_AT		8		/* L2 syncs to the host before this */
#define MIGRATE_AT	12		/* ... and again, to be migrated */
#define COUNT_TO	16
#define CANARY		0xa5

static u8 l2_stack[PAGE_SIZE] __attribute__((aligned(16)));

static void l2_main(void)
{
	for (u64 i = 0;; i++) {
		if (i == SYNC_AT)
			GUEST_SYNC(1);
		if (i == MIGRATE_AT)
			GUEST_SYNC(2);
		l2_hypercall(HC_COUNT, i);
	}
}

static void l1_main(struct nested_state *s)
{
	u64 wrong = 0, first_wrong = 0;

	l2_setup(s, l2_main, l2_stack + sizeof(l2_stack));
	for (u64 i = 0; i < COUNT_TO; i++) {
		if (l2_run_to_hypercall(s, HC_COUNT) != i && !wrong++)
			first_wrong = i;
	}
	/* In the host's last case, opened at the migration. */
	GUEST_CHECK(!wrong, "%llu of %d counts wrong, the first at %llu",
		    wrong, COUNT_TO, first_wrong);
	GUEST_DONE();
}

static u64 state_gva;
static int syncs;

/*
 * A buffer whose size field covers only the header: KVM must answer E2BIG
 * with the size it needs, and write nothing past the size it was given
 * (the rest of the allocation is a canary here).
 */
static void check_get_too_small(struct kvm_vcpu *vcpu, u32 max_size)
{
	const size_t given = sizeof(struct kvm_nested_state);
	u8 *buf = malloc(max_size);
	struct kvm_nested_state *small = (struct kvm_nested_state *)buf;
	size_t first_bad = 0;
	int ret, err;

	TEST_ASSERT(buf, "out of memory");
	memset(buf, 0, given);
	memset(buf + given, CANARY, max_size - given);
	small->size = given;
	ret = __vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, small);
	err = errno;
	case_begin("GET with a header-sized buffer in L2: E2BIG and the size needed");
	CHECK(ret == -1 && err == E2BIG && small->size > given &&
	      small->size <= max_size,
	      "rc %d, errno %d, size %u, cap %u", ret, ret ? err : 0,
	      small->size, max_size);
	for (size_t i = given; i < max_size && !first_bad; i++)
		if (buf[i] != CANARY)
			first_bad = i;
	case_begin("GET with a header-sized buffer writes nothing past it");
	CHECK(!first_bad, "first byte changed: %zu of %u", first_bad, max_size);
	free(buf);
}

static void check_svm_state(struct kvm_vm *vm, struct nested_state *s,
			    struct kvm_nested_state *st)
{
	const struct vmcb *saved = (const struct vmcb *)st->data.svm[0].vmcb12;

	case_begin("SVM format; header names L1's VMCB");
	CHECK_EQ(st->format, KVM_STATE_NESTED_FORMAT_SVM);
	CHECK_EQ(st->hdr.svm.vmcb_pa, s->svm.vmcb_gpa);
	case_begin("saved VMCB12 controls are L1's: NPT on, nCR3 of stage2_mmu, VMMCALL intercepted");
	CHECK(saved->control.nested_ctl & SVM_NESTED_CTL_NP_ENABLE,
	      "nested_ctl 0x%llx", saved->control.nested_ctl);
	CHECK_EQ(saved->control.nested_cr3, s->tdp_info.root);
	CHECK(saved->control.intercept_misc2 & SVM_INTERCEPT2_VMMCALL,
	      "intercept_misc2 0x%x", saved->control.intercept_misc2);
}

static void check_vmx_state(struct kvm_vm *vm, struct nested_state *s,
			    struct kvm_nested_state *st)
{
	u32 saved_rev = *(const u32 *)st->data.vmx[0].vmcs12;
	u32 l1_rev = *(u32 *)addr_gpa2hva(vm, s->vmx.vmcs_gpa);

	case_begin("VMX format; header names L1's VMXON region and current VMCS");
	CHECK_EQ(st->format, KVM_STATE_NESTED_FORMAT_VMX);
	CHECK_EQ(st->hdr.vmx.vmxon_pa, s->vmx.vmxon_gpa);
	CHECK_EQ(st->hdr.vmx.vmcs12_pa, s->vmx.vmcs_gpa);
	case_begin("saved VMCS12 carries the revision L1 wrote in its VMCS");
	CHECK_EQ(saved_rev, l1_rev);
}

/*
 * The second sync: the whole vCPU, nested state included, into a new VM
 * over the same memory, as a migration would (L2 still running). The new
 * vCPU can only be in guest mode if the migrated state said so.
 */
static void migrate(struct kvm_vcpu *vcpu)
{
	u32 max_size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	struct kvm_nested_state *now = calloc(1, max_size);

	TEST_ASSERT(now, "out of memory");
	case_begin("after the round trip and a migration to a new VM, L2 counted on to %d and L1 checked every value",
		   COUNT_TO);
	vm_migrate(vcpu->vm);
	now->size = max_size;
	vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, now);
	CHECK(now->flags & KVM_STATE_NESTED_GUEST_MODE,
	      "migrated vCPU is not in nested guest mode (flags 0x%x)",
	      now->flags);
	free(now);
}

static void round_trip(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	struct nested_state *s = nested_state_hva(vm, state_gva);
	u32 max_size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	struct kvm_nested_state *st = calloc(1, max_size);
	struct kvm_nested_state *wrong = calloc(1, max_size);
	int ret;

	TEST_ASSERT(st && wrong, "out of memory");
	/* The OUT behind this ucall must be done before state is taken. */
	vcpu_complete_io(vcpu);

	check_get_too_small(vcpu, max_size);

	st->size = max_size;
	vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, st);
	case_begin("GET in L2: KVM_STATE_NESTED_GUEST_MODE set");
	CHECK(st->flags & KVM_STATE_NESTED_GUEST_MODE, "flags 0x%x, %u bytes",
	      st->flags, st->size);
	if (s->vendor == NESTED_SVM)
		check_svm_state(vm, s, st);
	else
		check_vmx_state(vm, s, st);

	memcpy(wrong, st, max_size);
	wrong->format = st->format == KVM_STATE_NESTED_FORMAT_SVM ?
			KVM_STATE_NESTED_FORMAT_VMX : KVM_STATE_NESTED_FORMAT_SVM;
	ret = __vcpu_ioctl(vcpu, KVM_SET_NESTED_STATE, wrong);
	case_begin("SET with the other vendor's format: EINVAL");
	CHECK(ret == -1 && errno == EINVAL, "rc %d, errno %d", ret,
	      ret ? errno : 0);

	case_begin("SET of the state as taken is accepted");
	ret = __vcpu_ioctl(vcpu, KVM_SET_NESTED_STATE, st);
	TEST_ASSERT(ret == 0, "KVM_SET_NESTED_STATE: rc %d, errno %d; L2 cannot go on",
		    ret, errno);
	CHECK_EQ(ret, 0);
	free(wrong);
	free(st);
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	TEST_ASSERT(uc->args[0] == (u64)syncs + 1, "sync %llu after %d syncs",
		    uc->args[0], syncs);
	syncs++;
	if (syncs == 1)
		round_trip(vcpu);
	else
		migrate(vcpu);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int cap;

	nested_require_tdp();
	cap = kvm_check_cap(KVM_CAP_NESTED_STATE);
	if (cap < (int)sizeof(struct kvm_nested_state))
		test_skip("KVM_CAP_NESTED_STATE is %d: KVM cannot save nested state",
			  cap);

	vm = vm_create_tdp_with_one_vcpu(&vcpu, l1_main, DATA_SLOT, DATA_GPA,
					 DATA_SIZE);
	state_gva = vcpu_alloc_nested_state(vcpu);
	vcpu_args_set(vcpu, 1, state_gva);

	vcpu_run_to_done(vcpu, on_sync, NULL);
	CHECK(syncs == 2, "L2 reached %d of its 2 sync points", syncs);
	kvm_vm_free(vm);
	checks_exit();
}
