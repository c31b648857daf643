// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM lifetime: create a VM with its main memslot, page tables, the test
 * binary loaded and what the architecture shares between vCPUs ready
 * (vm_arch_*() in lib/internal.h); free it all again.
 */
#include <unistd.h>

#include "kvm_util.h"
#include "internal.h"

/*
 * Default size of the main memslot. It holds the test image (about 1 MiB),
 * page tables, stacks and test data; only what is touched is ever backed.
 */
#define DEFAULT_MAIN_MEM	(64 * MiB)

/* Where vm_vaddr_alloc() starts: far above the image at 4 MiB. */
#define VADDR_ALLOC_BASE	(1ULL << 32)

static void vm_init_common(struct kvm_vm *vm, int va_bits, int pa_bits)
{
	vm->va_bits = va_bits;
	vm->pa_bits = pa_bits;
	vm->vaddr_next = VADDR_ALLOC_BASE;
	vm_arch_mmu_init(vm);
}

/* KVM's VM behind @vm, of @vm->type. */
static void vm_open(struct kvm_vm *vm)
{
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, vm->type);
	TEST_ASSERT(vm->fd >= 0, "KVM_CREATE_VM(type %lu)", vm->type);
	vm_arch_open(vm);
}

struct kvm_vm *vm_create(const struct vm_options *opts)
{
	static const struct vm_options defaults = { .va_bits = 48,
						    .numa_node = -1 };
	struct kvm_vm *vm;
	u64 mem_size;
	int ret;

	if (!opts)
		opts = &defaults;
	vm = calloc(1, sizeof(*vm));
	TEST_ASSERT(vm, "out of memory");

	vm->kvm_fd = kvm_dev_fd();
	vm->type = opts->type;
	vm_arch_setup(vm, opts);
	vm_open(vm);

	mem_size = opts->mem_size ? opts->mem_size : DEFAULT_MAIN_MEM;
	ret = __vm_memslot_add(vm, opts->backing, 0, KVMT_MAIN_SLOT,
			       mem_size / PAGE_SIZE, 0, opts->numa_node);
	errno = -ret;
	TEST_ASSERT(!ret, "adding the main memslot (%s, %llu MiB)",
		    vm_mem_backing_name(opts->backing),
		    (mem_size / MiB));
	/* Leave GPA 0 unused so a zero GPA is always a bug. */
	vm_memslot(vm, KVMT_MAIN_SLOT)->next_free = PAGE_SIZE;

	vm_init_common(vm, opts->va_bits ? opts->va_bits : 48,
		       vm_arch_pa_bits(vm));
	if (!opts->no_image)
		vm_load_image(vm);
	vm_arch_init(vm);
	return vm;
}

/*
 * A VM with no KVM behind it: memslots are plain host memory. The page
 * table code runs on it unchanged, which is what the unit tests need.
 */
struct kvm_vm *vm_create_fake(int va_bits, int pa_bits, u64 mem_size)
{
	struct kvm_vm *vm = calloc(1, sizeof(*vm));

	TEST_ASSERT(vm, "out of memory");
	vm->kvm_fd = -1;
	vm->fd = -1;
	vm_arch_setup(vm, NULL);
	vm_memslot_add(vm, VM_MEM_ANON, 0, KVMT_MAIN_SLOT,
		       mem_size / PAGE_SIZE, 0);
	vm_memslot(vm, KVMT_MAIN_SLOT)->next_free = PAGE_SIZE;
	vm_init_common(vm, va_bits, pa_bits);
	return vm;
}

struct kvm_vm *vm_create_with_vcpus(int nr_vcpus, void *guest_code,
				    struct kvm_vcpu **vcpus)
{
	struct kvm_vm *vm = vm_create(NULL);

	for (int i = 0; i < nr_vcpus; i++)
		vcpus[i] = vm_vcpu_add(vm, i, guest_code);
	return vm;
}

struct kvm_vm *vm_create_with_one_vcpu(struct kvm_vcpu **vcpu,
				       void *guest_code)
{
	return vm_create_with_vcpus(1, guest_code, vcpu);
}

void vm_restart(struct kvm_vm *vm)
{
	TEST_ASSERT(vm->fd >= 0, "vm_restart: a fake VM has no KVM VM to replace");
	vcpus_close(vm);
	close(vm->fd);
	vm_open(vm);
	vm_memslots_register(vm);
	vcpus_reopen(vm);
}

void kvm_vm_free(struct kvm_vm *vm)
{
	if (!vm)
		return;
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(vm->vcpus[i]);
	if (vm->fd >= 0)
		close(vm->fd);
	vm_memslots_free(vm);
	mem_attr_map_free(&vm->mem_attrs);
	free(vm);
}

int __vm_ioctl(struct kvm_vm *vm, unsigned long cmd, void *arg)
{
	return ioctl(vm->fd, cmd, arg);
}

void vm_ioctl_named(struct kvm_vm *vm, unsigned long cmd, void *arg,
		    const char *name)
{
	int ret = ioctl(vm->fd, cmd, arg);

	TEST_ASSERT(ret >= 0, "%s failed, rc: %d", name, ret);
}

int vm_check_cap(struct kvm_vm *vm, long cap)
{
	int ret = ioctl(vm->fd, KVM_CHECK_EXTENSION, cap);

	TEST_ASSERT(ret >= 0, "KVM_CHECK_EXTENSION(%ld) on the VM", cap);
	return ret;
}

int __vm_enable_cap(struct kvm_vm *vm, u32 cap, u64 arg0)
{
	struct kvm_enable_cap ec = { .cap = cap, .args = { arg0 } };

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &ec);
}

void vm_enable_cap(struct kvm_vm *vm, u32 cap, u64 arg0)
{
	int ret = __vm_enable_cap(vm, cap, arg0);

	TEST_ASSERT(ret >= 0, "KVM_ENABLE_CAP(%u, 0x%llx) failed, rc: %d", cap,
		    (unsigned long long)arg0, ret);
}
