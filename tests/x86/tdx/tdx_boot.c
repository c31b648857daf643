// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every TDX test stands on: a TD boots through the reset-vector stub
 * into 64-bit guest code on each vCPU with the host's arguments, and talks
 * to the host through the TDVMCALL ucall (sync with arguments, printf,
 * done, and a guest assert that fails the test with file and line).
 */
#include <sys/wait.h>

#include "kvm_util.h"
#include "private_vm.h"
#include "tdx/tdx.h"

#define NR_VCPUS	2

static u64 host_value;

static void guest_main(u64 a0, u64 a1)
{
	u64 slot = tdx_guest_vcpu_slot();

	GUEST_SYNC_ARGS(slot, a0, a1, tdx_guest_shared_bit());
	/* Set by the host before finalize: part of the measured image. */
	GUEST_ASSERT_EQ(host_value, 0xfeed);
	GUEST_PRINTF("TD vCPU %llu says hello\n", slot);
	GUEST_DONE();
}

static bool case_boot(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vm = tdx_vm_create(NULL, NR_VCPUS, guest_main, vcpus);
	u64 s_bit = vm->mmu.arch.s_bit;
	bool ok = s_bit == tdx_shared_bit(tdx_vm_gpaw(vm));

	for (int i = 0; i < NR_VCPUS; i++)
		tdx_vcpu_args_set(vcpus[i], 2, 100ULL + i, 200ULL + i);
	write_guest_global(vm, host_value, 0xfeed);
	tdx_vm_finalize(vm);

	for (int i = 0; i < NR_VCPUS; i++) {
		struct ucall uc;

		ok &= pvm_run(vcpus[i], &uc, NULL) == UCALL_SYNC &&
		      uc.args[0] == (u64)i && uc.args[1] == 100ULL + i &&
		      uc.args[2] == 200ULL + i && uc.args[3] == s_bit;
		ok &= pvm_run(vcpus[i], &uc, NULL) == UCALL_DONE;
	}
	tdx_vm_free(vm);
	return ok;
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

static bool case_guest_assert(void)
{
	struct child_result res;
	char expect[128];

	snprintf(expect, sizeof(expect), "tdx_boot.c:%d: 2 + 2 == 5: TD arithmetic is broken",
		 ASSERT_LINE);
	run_in_child(run_asserting_td, NULL, &res);
	if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != KSFT_FAIL ||
	    !strstr(res.output, expect)) {
		tap_info("child status 0x%x, expected '%s' in:\n%s", res.status,
			 expect, res.output);
		return false;
	}
	return true;
}

int main(void)
{
	tdx_require();
	tap_plan(3);
	tdx_kmsg_watch_begin();
	tap_result(case_boot(), "TD boots on %d vCPUs; ucall sync, printf, done over TDVMCALL",
		   NR_VCPUS);
	tap_result(case_guest_assert(), "guest assert in a TD fails the test with file and line");
	tap_result(tdx_kmsg_watch_end() == 0,
		   "no WARN, BUG, KVM_BUG_ON or SEAMCALL error in the kernel log");
	tap_exit();
}
