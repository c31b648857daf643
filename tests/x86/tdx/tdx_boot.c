// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every TDX test stands on: a TD boots through the reset-vector stub
 * into 64-bit guest code on each vCPU with the host's arguments, talks to
 * the host through the TDVMCALL ucall (sync with arguments, printf, done,
 * a guest assert that fails the test with file and line), sees the GPA
 * width the host asked for (TDG.VP.INFO, from the TDX module, not from
 * the library), and is ended with KVM_TDX_TERMINATE_VM where KVM has it.
 * The private-memory scenarios run on TDs in tests/x86/private/.
 */
#include <sys/utsname.h>
#include <sys/wait.h>

#include "private_vm.h"
#include "test_check.h"
#include "tdx/tdx.h"

#define NR_VCPUS	2

static u64 host_value;

static void guest_main(u64 a0, u64 a1)
{
	u64 slot = tdx_guest_vcpu_slot();
	struct tdx_vp_info info = tdx_vp_info();

	GUEST_SYNC_ARGS(slot, a0, a1, info.gpaw, info.num_vcpus);
	/* Set by the host before finalize: part of the measured image. */
	GUEST_ASSERT_EQ(host_value, 0xfeed);
	GUEST_PRINTF("TD vCPU %llu says hello\n", slot);
	GUEST_DONE();
}

/* KVM_TDX_TERMINATE_VM came with 6.17. */
static bool kernel_before_6_17(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	return major < 6 || (major == 6 && minor < 17);
}

static void boot(void *arg)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vm = tdx_vm_create(NULL, NR_VCPUS, guest_main, vcpus);
	int ret;

	for (int i = 0; i < NR_VCPUS; i++)
		tdx_vcpu_args_set(vcpus[i], 2, 100ULL + i, 200ULL + i);
	write_guest_global(vm, host_value, 0xfeed);
	tdx_vm_finalize(vm);

	for (int i = 0; i < NR_VCPUS; i++) {
		struct ucall uc;

		if (!CHECK_EQ(pvm_run(vcpus[i], &uc, NULL), UCALL_SYNC))
			continue;
		CHECK_EQ(uc.args[0], i);
		CHECK_EQ(uc.args[1], 100ULL + i);
		CHECK_EQ(uc.args[2], 200ULL + i);
		CHECK_EQ(uc.args[3], tdx_vm_gpaw(vm));
		CHECK_EQ(uc.args[4], NR_VCPUS);
		CHECK_EQ(pvm_run(vcpus[i], &uc, NULL), UCALL_DONE);
	}

	ret = tdx_vm_terminate(vm);
	if (ret == -EINVAL && kernel_before_6_17()) {
		tdx_vm_free(vm);
		case_skip("KVM_TDX_TERMINATE_VM: EINVAL on a kernel before 6.17, which lacks it");
	}
	CHECK(!ret, "KVM_TDX_TERMINATE_VM: %s", strerror(-ret));
	tdx_vm_free(vm);
}

/* Not backed by any memslot: the host answers MMIO here. */
#define TEST_MMIO_GPA	0xE0001000ULL
#define TEST_PORT	0x80

static void guest_vmcalls(void)
{
	u64 mmio = TEST_MMIO_GPA | tdx_guest_shared_bit();
	u32 regs[4];

	tdx_io_out(TEST_PORT, 1, 0xab);
	GUEST_CHECK_EQ(tdx_io_in(TEST_PORT, 2), 0x1234);
	tdx_mmio_write(mmio, 4, 0xcafe0001);
	GUEST_CHECK_EQ(tdx_mmio_read(mmio, 8), 0x0123456789abcdefULL);
	/* CPUID is answered in the kernel: what KVM_TDX_GET_CPUID said. */
	tdx_cpuid(0, 0, regs);
	GUEST_SYNC_ARGS(regs[0], regs[1], regs[2], regs[3]);
	GUEST_DONE();
}

static void vmcalls(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = tdx_vm_create(NULL, 1, guest_vmcalls, &vcpu);
	struct kvm_run *run = vcpu->run;
	const struct kvm_cpuid_entry2 *leaf0;
	struct ucall uc;
	u64 v = 0x0123456789abcdefULL;

	tdx_vm_finalize(vm);
	vcpu_run(vcpu);
	if (CHECK_EQ(run->exit_reason, KVM_EXIT_IO)) {
		CHECK_EQ(run->io.direction, KVM_EXIT_IO_OUT);
		CHECK_EQ(run->io.port, TEST_PORT);
		CHECK_EQ(run->io.size, 1);
		CHECK_EQ(*((u8 *)run + run->io.data_offset), 0xab);
	}
	vcpu_run(vcpu);
	if (CHECK_EQ(run->exit_reason, KVM_EXIT_IO)) {
		CHECK_EQ(run->io.direction, KVM_EXIT_IO_IN);
		CHECK_EQ(run->io.size, 2);
		*(u16 *)((u8 *)run + run->io.data_offset) = 0x1234;
	}
	vcpu_run(vcpu);
	if (CHECK_EQ(run->exit_reason, KVM_EXIT_MMIO)) {
		/* KVM reports the GPA without the S-bit. */
		CHECK_EQ(run->mmio.phys_addr, TEST_MMIO_GPA);
		CHECK_EQ(run->mmio.is_write, 1);
		CHECK_EQ(run->mmio.len, 4);
		CHECK_EQ(*(u32 *)run->mmio.data, 0xcafe0001);
	}
	vcpu_run(vcpu);
	if (CHECK_EQ(run->exit_reason, KVM_EXIT_MMIO)) {
		CHECK_EQ(run->mmio.is_write, 0);
		CHECK_EQ(run->mmio.len, 8);
		memcpy(run->mmio.data, &v, 8);
	}
	leaf0 = kvm_cpuid_entry(vcpu->arch.cpuid, 0, 0);
	if (CHECK_EQ(pvm_run(vcpu, &uc, NULL), UCALL_SYNC) &&
	    CHECK(leaf0, "the TD's CPUID has leaf 0")) {
		CHECK_EQ(uc.args[0], leaf0->eax);
		CHECK_EQ(uc.args[1], leaf0->ebx);
		CHECK_EQ(uc.args[2], leaf0->ecx);
		CHECK_EQ(uc.args[3], leaf0->edx);
	}
	CHECK_EQ(pvm_run(vcpu, &uc, NULL), UCALL_DONE);
	tdx_vm_free(vm);
}

enum { ASSERT_LINE = __LINE__ + 3 };
static void guest_asserts(void)
{
	GUEST_ASSERT_MSG(2 + 2 == 5, "TD arithmetic is %s", "broken");
	GUEST_DONE();
}

static void run_asserting_td(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = tdx_vm_create(NULL, 1, guest_asserts, &vcpu);
	struct ucall uc;

	tdx_vm_finalize(vm);
	pvm_run(vcpu, &uc, NULL);
	tdx_vm_free(vm);
}

static void guest_assert(void *arg)
{
	struct child_result res;
	char expect[128];

	snprintf(expect, sizeof(expect), "tdx_boot.c:%d: 2 + 2 == 5: TD arithmetic is broken",
		 ASSERT_LINE);
	run_in_child(run_asserting_td, NULL, &res);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == KSFT_FAIL &&
	      strstr(res.output, expect),
	      "child status 0x%x, expected '%s' in:\n%s", res.status, expect,
	      res.output);
}

int main(void)
{
	bool kmsg;

	tdx_require();
	kmsg = kmsg_watch_begin();
	run_case(boot, NULL, "TD boots on %d vCPUs: arguments, GPAW and vCPU count from TDG.VP.INFO, ucalls over TDVMCALL, KVM_TDX_TERMINATE_VM",
		 NR_VCPUS);
	run_case(vmcalls, NULL, "TDG.VP.VMCALL port I/O and MMIO reach the host as KVM_EXIT_IO and KVM_EXIT_MMIO; CPUID answered as KVM_TDX_GET_CPUID said");
	run_case(guest_assert, NULL, "guest assert in a TD fails the test with file and line");
	case_begin("no WARN, BUG, KVM_BUG_ON or SEAMCALL error in the kernel log");
	if (kmsg)
		CHECK_EQ(kmsg_watch_end(), 0);
	else
		case_skip("/dev/kmsg cannot be read: the kernel log was not checked");
	checks_exit();
}
