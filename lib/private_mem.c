// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes, the exits that speak of private memory, conversion
 * requests from the guest, and KVM_PRE_FAULT_MEMORY (include/private_mem.h).
 */
#include <pthread.h>

#include "private_mem.h"

/* vCPU threads carry out conversions at once: one writer of the record. */
static pthread_mutex_t attrs_lock = PTHREAD_MUTEX_INITIALIZER;

u64 vm_supported_memory_attributes(struct kvm_vm *vm)
{
	int ret = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);

	return ret > 0 ? (u64)ret : 0;
}

int __vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			       u64 attributes)
{
	struct kvm_memory_attributes a = {
		.address = gpa, .size = size, .attributes = attributes,
	};
	int ret = ioctl(vm->fd, KVM_SET_MEMORY_ATTRIBUTES, &a);

	if (!ret) {
		pthread_mutex_lock(&attrs_lock);
		mem_attr_map_set(&vm->mem_attrs, gpa, size, attributes);
		pthread_mutex_unlock(&attrs_lock);
	}
	return ret;
}

void vm_set_memory_attributes(struct kvm_vm *vm, u64 gpa, u64 size,
			      u64 attributes)
{
	TEST_ASSERT(!__vm_set_memory_attributes(vm, gpa, size, attributes),
		    "KVM_SET_MEMORY_ATTRIBUTES(0x%llx+0x%llx, 0x%llx) on a VM of type %lu",
		    (unsigned long long)gpa, (unsigned long long)size,
		    (unsigned long long)attributes, vm->type);
}

u64 vm_mem_attributes(struct kvm_vm *vm, u64 gpa)
{
	u64 attrs;

	pthread_mutex_lock(&attrs_lock);
	attrs = mem_attr_map_get(&vm->mem_attrs, gpa);
	pthread_mutex_unlock(&attrs_lock);
	return attrs;
}

bool vm_mem_is_private(struct kvm_vm *vm, u64 gpa)
{
	return vm_mem_attributes(vm, gpa) & KVM_MEMORY_ATTRIBUTE_PRIVATE;
}

bool vcpu_memory_fault(struct kvm_vcpu *vcpu, int ret,
		       struct kvmt_exit_memory_fault *mf)
{
	/* api.rst: only EFAULT and EHWPOISON make exit_reason meaningful. */
	if (ret != -1 || (errno != EFAULT && errno != EHWPOISON) ||
	    vcpu->run->exit_reason != KVM_EXIT_MEMORY_FAULT)
		return false;
	/* The exit union starts where run->mmio does. */
	memcpy(mf, &vcpu->run->mmio, sizeof(*mf));
	return true;
}

void vm_enable_map_gpa_range_exit(struct kvm_vm *vm)
{
	int allowed = vm_check_cap(vm, KVM_CAP_EXIT_HYPERCALL);

	if (!(allowed & BIT(KVM_HC_MAP_GPA_RANGE)))
		test_skip("KVM_CAP_EXIT_HYPERCALL (0x%x) lacks KVM_HC_MAP_GPA_RANGE",
			  allowed);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT(KVM_HC_MAP_GPA_RANGE));
}

bool vcpu_map_gpa_exit(struct kvm_vcpu *vcpu, struct map_gpa_request *req)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_HYPERCALL ||
	    run->hypercall.nr != KVM_HC_MAP_GPA_RANGE)
		return false;
	*req = (struct map_gpa_request){
		.gpa = run->hypercall.args[0],
		.npages = run->hypercall.args[1],
		.attrs = run->hypercall.args[2],
	};
	return true;
}

void vcpu_map_gpa_exit_return(struct kvm_vcpu *vcpu, u64 ret)
{
	vcpu->run->hypercall.ret = ret;
}

struct conversion_plan plan_map_gpa(const struct map_gpa_request *req,
				    bool discard_on_share)
{
	static const u64 page_sizes[] = {
		[KVM_MAP_GPA_RANGE_PAGE_SZ_4K] = 4 * KiB,
		[KVM_MAP_GPA_RANGE_PAGE_SZ_2M] = 2 * MiB,
		[KVM_MAP_GPA_RANGE_PAGE_SZ_1G] = 1 * GiB,
	};
	u64 size_code = req->attrs & 0xf;
	bool private = req->attrs & KVM_MAP_GPA_RANGE_ENCRYPTED;
	struct conversion_plan p = { .error = KVM_EINVAL };
	u64 size = req->npages * PAGE_SIZE;

	/*
	 * The ABI's page-size hint must be one it defines and the range
	 * must be aligned to it; KVM checked page alignment and wrap-around
	 * already, but the host is the one that acts on the range.
	 */
	if ((req->attrs & ~(u64)(0xf | KVM_MAP_GPA_RANGE_ENCRYPTED)) ||
	    size_code >= ARRAY_SIZE(page_sizes) || !req->npages ||
	    req->npages > (~0ULL >> PAGE_SHIFT) ||
	    req->gpa + size < req->gpa ||
	    !IS_ALIGNED(req->gpa | size, page_sizes[size_code]))
		return p;
	p = (struct conversion_plan){
		.gpa = req->gpa,
		.size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
		.discard_private = !private && discard_on_share,
	};
	return p;
}

u64 vm_map_gpa(struct kvm_vm *vm, const struct map_gpa_request *req,
	       bool discard_on_share)
{
	struct conversion_plan p = plan_map_gpa(req, discard_on_share);

	if (p.error)
		return p.error;
	if (__vm_set_memory_attributes(vm, p.gpa, p.size, p.attributes))
		return KVM_EINVAL;
	if (p.discard_private)
		vm_gmem_punch_hole(vm, p.gpa, p.size);
	return 0;
}

int __vcpu_pre_fault_memory(struct kvm_vcpu *vcpu, u64 *gpa, u64 *size)
{
	struct kvm_pre_fault_memory r = { .gpa = *gpa, .size = *size };
	int ret = ioctl(vcpu->fd, KVM_PRE_FAULT_MEMORY, &r);

	*gpa = r.gpa;
	*size = r.size;
	return ret;
}

int vcpu_pre_fault_memory(struct kvm_vcpu *vcpu, u64 gpa, u64 size)
{
	/* KVM may stop early (a signal, a reschedule): go on from there. */
	while (size) {
		if (__vcpu_pre_fault_memory(vcpu, &gpa, &size) < 0 &&
		    errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}
