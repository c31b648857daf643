// SPDX-License-Identifier: GPL-2.0-only
/*
 * All of an x86 vCPU's state that KVM keeps, saved and loaded the way a VMM
 * migrates a vCPU: what tests need to restore a vCPU into a new VM
 * (vm_restart()) and check that KVM lost nothing, nested state included.
 *
 * Load order matters and follows what KVM checks: CPUID is already set
 * when the vCPU is created; special registers (APIC base included) come
 * before the LAPIC, whose ID format follows the x2APIC mode; the LAPIC
 * comes before MSRs, since KVM arms a TSC-deadline write only in the
 * timer mode the LVT says; special registers and MSRs (EFER, CR4,
 * IA32_FEATURE_CONTROL, VM_HSAVE_PA) come before the nested state, which
 * KVM validates against them; plain registers come last so nothing
 * before them moves RIP.
 */
#include "kvm_util.h"
#include "apic.h"

struct kvm_x86_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_lapic_state lapic;
	bool has_lapic;
	struct kvm_debugregs debugregs;
	struct kvm_xcrs xcrs;
	bool has_xcrs;
	struct kvm_xsave *xsave;	/* KVM_CAP_XSAVE2's size, if larger */
	size_t xsave_size;
	struct kvm_msrs *msrs;
	struct kvm_nested_state *nested;	/* NULL without the cap */
};

/* Every MSR KVM lists for save/restore, plus SVM's VM_HSAVE_PA. */
static struct kvm_msrs *msrs_to_save(struct kvm_vcpu *vcpu)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	struct kvm_msrs *msrs;
	u32 n;

	/* The first call fails with E2BIG and tells the count. */
	kvm_dev_ioctl(KVM_GET_MSR_INDEX_LIST, &probe);
	list = calloc(1, sizeof(*list) + (probe.nmsrs + 1) * sizeof(u32));
	TEST_ASSERT(list, "out of memory");
	list->nmsrs = probe.nmsrs;
	TEST_ASSERT(kvm_dev_ioctl(KVM_GET_MSR_INDEX_LIST, list) == 0,
		    "KVM_GET_MSR_INDEX_LIST");
	n = list->nmsrs;
	/* Not in KVM's list, yet an L1 running L2 depends on it. */
	if (kvm_cpu_has(X86_FEATURE_SVM))
		list->indices[n++] = MSR_VM_HSAVE_PA;

	msrs = calloc(1, sizeof(*msrs) + n * sizeof(msrs->entries[0]));
	TEST_ASSERT(msrs, "out of memory");
	msrs->nmsrs = n;
	for (u32 i = 0; i < n; i++)
		msrs->entries[i].index = list->indices[i];
	free(list);
	return msrs;
}

/*
 * KVM_GET_MSRS and KVM_SET_MSRS stop at the first MSR they refuse and
 * return how many they did. Run @cmd over all of @msrs; at each refusal
 * @refused decides, and returns whether it dropped the entry from @msrs
 * (else it is stepped over).
 */
static void msrs_ioctl(struct kvm_vcpu *vcpu, unsigned long cmd,
		       struct kvm_msrs *msrs,
		       bool (*refused)(struct kvm_vcpu *vcpu,
				       struct kvm_msrs *msrs, u32 i))
{
	size_t entry_size = sizeof(msrs->entries[0]);
	struct kvm_msrs *rest = calloc(1, sizeof(*rest) +
					  msrs->nmsrs * entry_size);
	u32 done = 0;

	TEST_ASSERT(rest, "out of memory");
	while (done < msrs->nmsrs) {
		int ret;

		rest->nmsrs = msrs->nmsrs - done;
		memcpy(rest->entries, &msrs->entries[done],
		       rest->nmsrs * entry_size);
		ret = __vcpu_ioctl(vcpu, cmd, rest);
		TEST_ASSERT(ret >= 0, "%s on vCPU %u",
			    cmd == KVM_GET_MSRS ? "KVM_GET_MSRS" : "KVM_SET_MSRS",
			    vcpu->id);
		memcpy(&msrs->entries[done], rest->entries, ret * entry_size);
		done += ret;
		if (done < msrs->nmsrs && !refused(vcpu, msrs, done))
			done++;
	}
	free(rest);
}

/* One this vCPU cannot read (a feature its CPUID lacks): leave it out. */
static bool drop_unreadable(struct kvm_vcpu *vcpu, struct kvm_msrs *msrs,
			    u32 i)
{
	memmove(&msrs->entries[i], &msrs->entries[i + 1],
		(msrs->nmsrs - i - 1) * sizeof(msrs->entries[0]));
	msrs->nmsrs--;
	return true;
}

/*
 * Some MSRs KVM lists for saving cannot be written back in every VM (its
 * async-PF MSRs want an in-kernel LAPIC, which VM_IRQCHIP_NONE lacks),
 * even with the value they hold. Step over one only if the new vCPU holds
 * the saved value already, so nothing that needed restoring is dropped.
 */
static bool skip_if_already_held(struct kvm_vcpu *vcpu,
				 struct kvm_msrs *msrs, u32 i)
{
	const struct kvm_msr_entry *e = &msrs->entries[i];

	TEST_ASSERT(vcpu_get_msr(vcpu, e->index) == e->data,
		    "KVM_SET_MSRS on vCPU %u refused MSR 0x%x = 0x%llx, which the vCPU does not already hold",
		    vcpu->id, e->index, e->data);
	return false;
}

struct kvm_x86_state *vcpu_save_state(struct kvm_vcpu *vcpu)
{
	struct kvm_x86_state *st = calloc(1, sizeof(*st));
	int xsave_size = vm_check_cap(vcpu->vm, KVM_CAP_XSAVE2);
	bool xsave2 = xsave_size > (int)sizeof(struct kvm_xsave);
	int nested_size = kvm_check_cap(KVM_CAP_NESTED_STATE);

	TEST_ASSERT(st, "out of memory");
	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &st->events);
	vcpu_ioctl(vcpu, KVM_GET_MP_STATE, &st->mp_state);
	vcpu_regs_get(vcpu, &st->regs);
	vcpu_sregs_get(vcpu, &st->sregs);
	st->has_lapic = vm_has_lapic(vcpu->vm);
	if (st->has_lapic)
		vcpu_lapic_get(vcpu, &st->lapic);
	vcpu_ioctl(vcpu, KVM_GET_DEBUGREGS, &st->debugregs);
	st->has_xcrs = kvm_check_cap(KVM_CAP_XCRS) > 0;
	if (st->has_xcrs)
		vcpu_ioctl(vcpu, KVM_GET_XCRS, &st->xcrs);

	st->xsave_size = xsave2 ? (size_t)xsave_size : sizeof(*st->xsave);
	st->xsave = calloc(1, st->xsave_size);
	TEST_ASSERT(st->xsave, "out of memory");
	if (xsave2)
		vcpu_ioctl(vcpu, KVM_GET_XSAVE2, st->xsave);
	else
		vcpu_ioctl(vcpu, KVM_GET_XSAVE, st->xsave);

	st->msrs = msrs_to_save(vcpu);
	msrs_ioctl(vcpu, KVM_GET_MSRS, st->msrs, drop_unreadable);

	if (nested_size > 0) {
		st->nested = calloc(1, nested_size);
		TEST_ASSERT(st->nested, "out of memory");
		st->nested->size = nested_size;
		vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, st->nested);
	}
	return st;
}

void vcpu_load_state(struct kvm_vcpu *vcpu, struct kvm_x86_state *st)
{
	vcpu_sregs_set(vcpu, &st->sregs);
	if (st->has_lapic)
		vcpu_lapic_set(vcpu, &st->lapic);
	msrs_ioctl(vcpu, KVM_SET_MSRS, st->msrs, skip_if_already_held);
	vcpu_ioctl(vcpu, KVM_SET_XSAVE, st->xsave);
	if (st->has_xcrs)
		vcpu_ioctl(vcpu, KVM_SET_XCRS, &st->xcrs);
	vcpu_ioctl(vcpu, KVM_SET_DEBUGREGS, &st->debugregs);
	vcpu_ioctl(vcpu, KVM_SET_VCPU_EVENTS, &st->events);
	vcpu_ioctl(vcpu, KVM_SET_MP_STATE, &st->mp_state);
	if (st->nested)
		vcpu_ioctl(vcpu, KVM_SET_NESTED_STATE, st->nested);
	vcpu_regs_set(vcpu, &st->regs);
}

static u64 msr_in(const struct kvm_msrs *m, u32 index, bool *found)
{
	for (u32 i = 0; i < m->nmsrs; i++)
		if (m->entries[i].index == index) {
			*found = true;
			return m->entries[i].data;
		}
	*found = false;
	return 0;
}

/*
 * Counters of time: the TSC, APERF/MPERF, Hyper-V's VP runtime and
 * reference counter.
 */
static bool msr_moves_by_itself(u32 index)
{
	return index == MSR_IA32_TSC || index == 0xe7 || index == 0xe8 ||
	       index == 0x40000010 || index == 0x40000020;
}

static size_t first_difference(const void *a, const void *b, size_t size)
{
	const u8 *pa = a, *pb = b;
	size_t i = 0;

	while (i < size && pa[i] == pb[i])
		i++;
	return i;
}

/*
 * SVM in guest mode reports L1's saved state (vmcb01's save area) in the
 * VMCB12 slot, DR6 and DR7 included, but KVM_SET_NESTED_STATE loads
 * neither (svm_copy_vmrun_state()): #VMEXIT resets both, so nothing is
 * lost, yet they read back as reset. Everything else must match.
 */
#define SVM_NESTED_SAVE_AREA	0x400
#define SVM_SAVE_DR7		0x160	/* then DR6 at 0x168 */

static bool nested_same(const struct kvm_nested_state *a,
			const struct kvm_nested_state *b)
{
	size_t dr = offsetof(struct kvm_nested_state, data) +
		    SVM_NESTED_SAVE_AREA + SVM_SAVE_DR7;
	u8 *ca, *cb;
	bool same;

	if (a->size != b->size)
		return false;
	if (a->format != KVM_STATE_NESTED_FORMAT_SVM || a->size < dr + 16)
		return !memcmp(a, b, a->size);
	ca = malloc(a->size);
	cb = malloc(a->size);
	TEST_ASSERT(ca && cb, "out of memory");
	memcpy(ca, a, a->size);
	memcpy(cb, b, a->size);
	memset(ca + dr, 0, 16);
	memset(cb + dr, 0, 16);
	same = !memcmp(ca, cb, a->size);
	free(ca);
	free(cb);
	return same;
}

#define DIFFER(what, ...)							({ snprintf(why, len, what, ##__VA_ARGS__); false; })

bool kvm_x86_state_same(const struct kvm_x86_state *a,
			const struct kvm_x86_state *b, char *why, size_t len)
{
	struct kvm_lapic_state la, lb;

	if (memcmp(&a->regs, &b->regs, sizeof(a->regs)))
		return DIFFER("registers (RIP 0x%llx vs 0x%llx)", a->regs.rip,
			      b->regs.rip);
	if (memcmp(&a->sregs, &b->sregs, sizeof(a->sregs)))
		return DIFFER("special registers");
	if (memcmp(&a->events, &b->events, sizeof(a->events)))
		return DIFFER("vCPU events");
	if (a->mp_state.mp_state != b->mp_state.mp_state)
		return DIFFER("MP state %u vs %u", a->mp_state.mp_state,
			      b->mp_state.mp_state);
	if (memcmp(&a->debugregs, &b->debugregs, sizeof(a->debugregs)))
		return DIFFER("debug registers");
	if (a->has_xcrs && memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)))
		return DIFFER("XCRs (XCR0 0x%llx vs 0x%llx)", a->xcrs.xcrs[0].value,
			      b->xcrs.xcrs[0].value);
	if (a->xsave_size != b->xsave_size ||
	    memcmp(a->xsave, b->xsave, a->xsave_size))
		return DIFFER("XSAVE area");
	for (u32 i = 0; i < a->msrs->nmsrs; i++) {
		const struct kvm_msr_entry *e = &a->msrs->entries[i];
		bool found;
		u64 v = msr_in(b->msrs, e->index, &found);

		if (msr_moves_by_itself(e->index))
			continue;
		if (!found || v != e->data)
			return DIFFER("MSR 0x%x: 0x%llx vs %s0x%llx", e->index,
				      (unsigned long long)e->data,
				      found ? "" : "(missing) ", (unsigned long long)v);
	}
	/* So does the APIC timer's current count. */
	la = a->lapic;
	lb = b->lapic;
	*(u32 *)&la.regs[APIC_TMCCT] = *(u32 *)&lb.regs[APIC_TMCCT] = 0;
	if (a->has_lapic != b->has_lapic || memcmp(&la, &lb, sizeof(la)))
		return DIFFER("LAPIC state");
	if (!a->nested != !b->nested ||
	    (a->nested && !nested_same(a->nested, b->nested))) {
		size_t at = a->nested && b->nested ?
			    first_difference(a->nested, b->nested,
					     min_t(u32, a->nested->size, b->nested->size)) : 0;

		return DIFFER("nested state (size %u vs %u, first difference at byte 0x%zx)",
			      a->nested ? a->nested->size : 0,
			      b->nested ? b->nested->size : 0, at);
	}
	return true;
}

void kvm_x86_state_free(struct kvm_x86_state *st)
{
	if (!st)
		return;
	free(st->xsave);
	free(st->msrs);
	free(st->nested);
	free(st);
}

void vm_migrate(struct kvm_vm *vm)
{
	struct kvm_x86_state *st[KVMT_MAX_VCPUS];
	struct vm_irqchip_state *chips;
	struct kvm_clock_data clock = { 0 };

	for (int i = 0; i < vm->nr_vcpus; i++) {
		vcpu_complete_io(vm->vcpus[i]);
		st[i] = vcpu_save_state(vm->vcpus[i]);
	}
	chips = vm_irqchip_save(vm);
	vm_ioctl(vm, KVM_GET_CLOCK, &clock);
	vm_restart(vm);
	vm_irqchip_load(vm, chips);
	/* As read: KVM_CLOCK_REALTIME, if set, counts the time in between. */
	vm_ioctl(vm, KVM_SET_CLOCK, &clock);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		vcpu_load_state(vm->vcpus[i], st[i]);
		kvm_x86_state_free(st[i]);
	}
}
