// SPDX-License-Identifier: GPL-2.0-only
/* vCPU lifetime and KVM_RUN. */
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "internal.h"

static size_t vcpu_mmap_size(void)
{
	static size_t size;

	if (!size) {
		int ret = kvm_dev_ioctl(KVM_GET_VCPU_MMAP_SIZE, NULL);

		TEST_ASSERT(ret >= (int)sizeof(struct kvm_run),
			    "KVM_GET_VCPU_MMAP_SIZE returned %d", ret);
		size = ret;
	}
	return size;
}

/* KVM's side of a vCPU: its fd and kvm_run, in the VM vcpu->vm has now. */
static void vcpu_open(struct kvm_vcpu *vcpu)
{
	vcpu->fd = ioctl(vcpu->vm->fd, KVM_CREATE_VCPU, vcpu->id);
	TEST_ASSERT(vcpu->fd >= 0, "KVM_CREATE_VCPU(%u)", vcpu->id);
	vcpu->run = mmap(NULL, vcpu_mmap_size(), PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	TEST_ASSERT(vcpu->run != MAP_FAILED, "mmap of vCPU %u's kvm_run",
		    vcpu->id);
}

static void vcpu_close(struct kvm_vcpu *vcpu)
{
	munmap(vcpu->run, vcpu_mmap_size());
	close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

struct kvm_vcpu *vm_vcpu_add(struct kvm_vm *vm, u32 id, void *guest_code)
{
	struct kvm_vcpu *vcpu;

	TEST_ASSERT(vm->nr_vcpus < KVMT_MAX_VCPUS, "too many vCPUs");
	vcpu = calloc(1, sizeof(*vcpu));
	TEST_ASSERT(vcpu, "out of memory");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu_open(vcpu);
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	vcpu_arch_init(vcpu, guest_code);
	return vcpu;
}

void vcpu_free(struct kvm_vcpu *vcpu)
{
	vcpu_close(vcpu);
	vcpu_arch_free(vcpu);
	free(vcpu);
}

void vcpus_close(struct kvm_vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_close(vm->vcpus[i]);
}

void vcpus_reopen(struct kvm_vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		vcpu_open(vm->vcpus[i]);
		vcpu_arch_reopen(vm->vcpus[i]);
	}
}

int __vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned long cmd, void *arg)
{
	return ioctl(vcpu->fd, cmd, arg);
}

void vcpu_ioctl_named(struct kvm_vcpu *vcpu, unsigned long cmd, void *arg,
		      const char *name)
{
	int ret = ioctl(vcpu->fd, cmd, arg);

	TEST_ASSERT(ret >= 0, "%s on vCPU %u failed, rc: %d", name, vcpu->id,
		    ret);
}

int __vcpu_run(struct kvm_vcpu *vcpu)
{
	return ioctl(vcpu->fd, KVM_RUN, NULL);
}

void vcpu_run(struct kvm_vcpu *vcpu)
{
	int ret;

	do {
		ret = __vcpu_run(vcpu);
	} while (ret < 0 && errno == EINTR);
	TEST_ASSERT(ret == 0, "KVM_RUN on vCPU %u failed, rc: %d", vcpu->id,
		    ret);
}

void vcpu_complete_io(struct kvm_vcpu *vcpu)
{
	int ret;

	vcpu->run->immediate_exit = 1;
	ret = __vcpu_run(vcpu);
	vcpu->run->immediate_exit = 0;
	TEST_ASSERT(ret == -1 && errno == EINTR,
		    "KVM_RUN with immediate_exit on vCPU %u: rc %d, expected EINTR",
		    vcpu->id, ret);
}

const char *exit_reason_str(u32 exit_reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
		[KVM_EXIT_NOTIFY] = "NOTIFY",
		[KVM_EXIT_MEMORY_FAULT] = "MEMORY_FAULT",
	};

	if (exit_reason < ARRAY_SIZE(names) && names[exit_reason])
		return names[exit_reason];
	return "(unknown exit reason)";
}
