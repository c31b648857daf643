// SPDX-License-Identifier: GPL-2.0-only
/*
 * The private-memory VM types behind one interface (include/private_vm.h):
 * choosing a type, and what every type does alike — the test slot, the
 * run loop that carries out the guest's conversion requests.
 */
#include <stdarg.h>

#include "private_vm.h"

/* Set by pvm_create() in the guest's copy of the image. */
const struct pvm_guest_ops *pvm_guest;

const struct pvm_type *const pvm_types[] = {
	&pvm_sw_protected,
	&pvm_tdx,
	&pvm_snp,
	NULL,
};

u64 kvm_vm_types(void)
{
	int types = kvm_check_cap(KVM_CAP_VM_TYPES);

	return types > 0 ? (u64)types : 0;
}

const struct pvm_type *pvm_type_of(struct kvm_vm *vm)
{
	for (int i = 0; pvm_types[i]; i++)
		if (pvm_types[i]->vm_type == vm->type)
			return pvm_types[i];
	TEST_FAIL("VM type %lu has no private-memory support in kvmtest",
		  vm->type);
}

const struct pvm_type *pvm_any_type(void)
{
	char why[512] = "";
	size_t n = 0;

	for (int i = 0; pvm_types[i]; i++) {
		const char *no = pvm_types[i]->unavailable();

		if (!no)
			return pvm_types[i];
		n += snprintf(why + n, n < sizeof(why) ? sizeof(why) - n : 0,
			      "%s%s: %s", i ? "; " : "", pvm_types[i]->name, no);
	}
	test_skip("no VM type with private memory runs here (%s)", why);
}

struct kvm_vm *pvm_create(const struct pvm_type *t, int nr_vcpus,
			  void *guest_code, struct kvm_vcpu **vcpus)
{
	const char *no = t->unavailable();
	struct kvm_vm *vm;

	if (no)
		test_skip("%s", no);
	vm = t->create(nr_vcpus, guest_code, vcpus);
	write_guest_global(vm, pvm_guest, t->guest);
	vm_enable_map_gpa_range_exit(vm);
	return vm;
}

void pvm_add_private_slot(struct kvm_vm *vm, u32 slot, u64 gpa, u64 npages,
			  u64 priv_gva, u64 shared_gva)
{
	const struct pvm_type *t = pvm_type_of(vm);
	u64 size = npages * PAGE_SIZE;

	vm_memslot_add_private(vm, VM_MEM_ANON, gpa, slot, npages, -1, 0);
	vm_mem_set_private(vm, gpa, size);
	t->map(vm, priv_gva, gpa, size, false);
	t->map(vm, shared_gva, gpa, size, true);
}

void pvm_args_set(struct kvm_vcpu *vcpu, int nargs, ...)
{
	u64 args[4] = { 0 };
	va_list ap;

	TEST_ASSERT(nargs >= 0 && nargs <= 4, "at most 4 guest arguments");
	va_start(ap, nargs);
	for (int i = 0; i < nargs; i++)
		args[i] = va_arg(ap, u64);
	va_end(ap);
	pvm_type_of(vcpu->vm)->args_set(vcpu, nargs, args);
}

void pvm_ready(struct kvm_vm *vm)
{
	pvm_type_of(vm)->ready(vm);
}

void pvm_free(struct kvm_vm *vm)
{
	if (vm)
		pvm_type_of(vm)->free(vm);
}

u64 pvm_run(struct kvm_vcpu *vcpu, struct ucall *uc,
	    struct kvmt_exit_memory_fault *mf)
{
	const struct pvm_type *t = pvm_type_of(vcpu->vm);

	for (;;) {
		struct kvmt_exit_memory_fault fault;
		struct map_gpa_request req;
		int ret = __vcpu_run(vcpu);
		u64 cmd;

		if (ret < 0 && errno == EINTR)
			continue;
		if (vcpu_memory_fault(vcpu, ret, &fault)) {
			TEST_ASSERT(mf, "vCPU %u: unexpected KVM_EXIT_MEMORY_FAULT at GPA 0x%llx+0x%llx, flags 0x%llx",
				    vcpu->id, (unsigned long long)fault.gpa,
				    (unsigned long long)fault.size,
				    (unsigned long long)fault.flags);
			*mf = fault;
			return UCALL_NONE;
		}
		TEST_ASSERT(!ret, "KVM_RUN on vCPU %u of a %s VM failed, rc %d",
			    vcpu->id, t->name, ret);
		if (vcpu_map_gpa_exit(vcpu, &req)) {
			vcpu_map_gpa_exit_return(vcpu,
				vm_map_gpa(vcpu->vm, &req, t->discard_on_share));
			continue;
		}
		cmd = get_ucall(vcpu, uc);
		if (ucall_print_or_abort(cmd, uc))
			continue;
		TEST_ASSERT(cmd != UCALL_NONE,
			    "vCPU %u of a %s VM: unexpected exit %s (%u)",
			    vcpu->id, t->name,
			    exit_reason_str(vcpu->run->exit_reason),
			    vcpu->run->exit_reason);
		return cmd;
	}
}

u64 guest_map_private(u64 gpa, u64 size)
{
	u64 ret = pvm_guest->map_gpa(gpa, size, true);

	if (!ret)
		pvm_guest->accept(gpa, size);
	return ret;
}

u64 guest_map_shared(u64 gpa, u64 size)
{
	return pvm_guest->map_gpa(gpa, size, false);
}
