// SPDX-License-Identifier: GPL-2.0-only
/*
 * sync_regs: registers exchanged through kvm_run (KVM_CAP_SYNC_REGS)
 * instead of KVM_GET/SET_REGS, SREGS and VCPU_EVENTS.
 *
 * Covers sync_regs_test: unknown bits in kvm_valid_regs/kvm_dirty_regs are
 * refused with EINVAL; synced values equal the GET ioctls'; dirty values
 * reach the guest and valid ones come back; with valid_regs clear, kvm_run
 * is left alone; with dirty_regs clear, the user's edits are overwritten;
 * racing writers of an invalid CR4 or exception vector leave KVM alive.
 * Adds: after each race, KVM's state is still valid (EFER.LME never
 * without CR4.PAE, no exception above vector 31 pending or injected),
 * and an exception queued through the synced events is delivered to the
 * guest.
 */
#include <pthread.h>
#include <time.h>

#include "kvm_util.h"
#include "exception.h"
#include "test_check.h"

#define SYNC_ALL	(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)
#define BAD_FIELD	0x80000000u
#define GUEST_PORT	0x80
#define RACE_SECONDS	1
/* Also bounded by count: under Bochs a guest second is minutes of wall. */
#define RACE_MAX_RUNS	2000

/* IN, then RBX + 1, forever: every exit shows RBX and what the guest did. */
void guest_loop(void);
__asm__(".pushsection .text\n"
	"guest_loop:\n"
	"1:	inb $" "0x80" ", %al\n"
	"	addq $1, %rbx\n"
	"	jmp 1b\n"
	".popsection");

static u64 ud_taken;

static void count_ud(struct ex_regs *regs)
{
	ud_taken++;
}

static struct kvm_vm *new_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, guest_loop);

	vm_install_exception_handler(vm, UD_VECTOR, count_ud);
	return vm;
}

static bool run_to_io(struct kvm_vcpu *vcpu)
{
	int ret = __vcpu_run(vcpu);

	return CHECK(!ret && vcpu->run->exit_reason == KVM_EXIT_IO &&
		     vcpu->run->io.port == GUEST_PORT,
		     "KVM_RUN rc %d errno %d exit %s", ret, ret ? errno : 0,
		     exit_reason_str(vcpu->run->exit_reason));
}

static void case_bad_fields(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = new_vm(&vcpu);
	struct kvm_run *run = vcpu->run;
	u32 bad[] = { BAD_FIELD, BAD_FIELD | SYNC_ALL };

	case_begin("unknown bits in kvm_valid_regs or kvm_dirty_regs: EINVAL");
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret;

		run->kvm_valid_regs = bad[i];
		ret = __vcpu_run(vcpu);
		CHECK(ret == -1 && errno == EINVAL,
		      "valid_regs 0x%x: rc %d errno %d", bad[i], ret, errno);
		run->kvm_valid_regs = 0;
		run->kvm_dirty_regs = bad[i];
		ret = __vcpu_run(vcpu);
		CHECK(ret == -1 && errno == EINVAL,
		      "dirty_regs 0x%x: rc %d errno %d", bad[i], ret, errno);
		run->kvm_dirty_regs = 0;
	}
	kvm_vm_free(vm);
}

static void case_read_write(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = new_vm(&vcpu);
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;

	case_begin("synced registers equal KVM_GET_REGS/SREGS/VCPU_EVENTS");
	run->kvm_valid_regs = SYNC_ALL;
	if (run_to_io(vcpu)) {
		vcpu_regs_get(vcpu, &regs);
		CHECK(!memcmp(&regs, &run->s.regs.regs, sizeof(regs)),
		      "kvm_run regs differ from KVM_GET_REGS");
		vcpu_sregs_get(vcpu, &sregs);
		CHECK(!memcmp(&sregs, &run->s.regs.sregs, sizeof(sregs)),
		      "kvm_run sregs differ from KVM_GET_SREGS");
		vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &events);
		CHECK(!memcmp(&events, &run->s.regs.events, sizeof(events)),
		      "kvm_run events differ from KVM_GET_VCPU_EVENTS");
	}

	case_begin("dirty registers reach the guest and come back");
	run->s.regs.regs.rbx = 0xbad1dea;
	run->s.regs.sregs.apic_base = (0xfee00000ULL | (1ULL << 11));
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if (run_to_io(vcpu)) {
		CHECK_EQ(run->s.regs.regs.rbx, 0xbad1dea + 1);
		CHECK_EQ(run->s.regs.sregs.apic_base, (0xfee00000ULL | (1ULL << 11)));
		vcpu_regs_get(vcpu, &regs);
		CHECK_EQ(regs.rbx, 0xbad1dea + 1);
	}

	case_begin("dirty_regs clear: the user's edit is overwritten");
	run->kvm_dirty_regs = 0;
	run->s.regs.regs.rbx = 0xdeadbeef;
	if (run_to_io(vcpu))
		CHECK(run->s.regs.regs.rbx != 0xdeadbeef, "rbx kept 0x%llx",
		      run->s.regs.regs.rbx);

	case_begin("valid_regs and dirty_regs clear: kvm_run left alone");
	run->kvm_valid_regs = 0;
	run->s.regs.regs.rbx = 0xaaaa;
	vcpu_regs_get(vcpu, &regs);
	regs.rbx = 0xbac0;
	vcpu_regs_set(vcpu, &regs);
	if (run_to_io(vcpu)) {
		CHECK_EQ(run->s.regs.regs.rbx, 0xaaaa);
		vcpu_regs_get(vcpu, &regs);
		CHECK_EQ(regs.rbx, 0xbac0 + 1);
	}

	case_begin("valid_regs clear, dirty_regs set: the guest gets kvm_run's");
	run->kvm_dirty_regs = SYNC_ALL;
	run->s.regs.regs.rbx = 0xbbbb;
	/* The events as they are: nothing injected. */
	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &run->s.regs.events);
	vcpu_sregs_get(vcpu, &run->s.regs.sregs);
	if (run_to_io(vcpu)) {
		CHECK_EQ(run->s.regs.regs.rbx, 0xbbbb);
		vcpu_regs_get(vcpu, &regs);
		CHECK_EQ(regs.rbx, 0xbbbb + 1);
	}

	case_begin("an exception queued through synced events is delivered");
	run->kvm_valid_regs = SYNC_ALL;
	run->kvm_dirty_regs = 0;
	run_to_io(vcpu);
	run->s.regs.events.flags = 0;
	run->s.regs.events.exception.injected = 1;
	run->s.regs.events.exception.nr = UD_VECTOR;
	run->s.regs.events.exception.has_error_code = 0;
	run->kvm_dirty_regs = KVM_SYNC_X86_EVENTS;
	if (run_to_io(vcpu))
		CHECK_EQ(read_guest_global(vm, ud_taken), 1);
	kvm_vm_free(vm);
}

/* Racers: keep marking state dirty that KVM must refuse or fix up. */
static void *race_cr4(void *arg)
{
	struct kvm_run *run = arg;
	u64 cr4 = run->s.regs.sregs.cr4;

	for (;;) {
		WRITE_ONCE(run->kvm_dirty_regs, KVM_SYNC_X86_SREGS);
		WRITE_ONCE(run->s.regs.sregs.cr4, cr4);
		for (int i = 0; i < 512; i++)
			__asm__ volatile("nop");
		WRITE_ONCE(run->s.regs.sregs.cr4, cr4 & ~X86_CR4_PAE);
		pthread_testcancel();
	}
	return NULL;
}

static void *race_exception_vector(void *arg)
{
	struct kvm_run *run = arg;
	struct kvm_vcpu_events *ev = &run->s.regs.events;

	for (;;) {
		WRITE_ONCE(run->kvm_dirty_regs, KVM_SYNC_X86_EVENTS);
		WRITE_ONCE(ev->flags, 0);
		WRITE_ONCE(ev->exception.nr, UD_VECTOR);
		WRITE_ONCE(ev->exception.pending, 1);
		WRITE_ONCE(ev->exception.nr, 255);
		pthread_testcancel();
	}
	return NULL;
}

static void *race_injected_and_pending(void *arg)
{
	struct kvm_run *run = arg;
	struct kvm_vcpu_events *ev = &run->s.regs.events;

	WRITE_ONCE(ev->exception.nr, UD_VECTOR);
	for (;;) {
		WRITE_ONCE(run->kvm_dirty_regs, KVM_SYNC_X86_EVENTS);
		WRITE_ONCE(ev->flags, 0);
		WRITE_ONCE(ev->exception.injected, 1);
		WRITE_ONCE(ev->exception.pending, 1);
		pthread_testcancel();
	}
	return NULL;
}

static void case_race(void *(*racer)(void *), const char *what)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = new_vm(&vcpu);
	struct kvm_run *run = vcpu->run;
	struct kvm_x86_state *good;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	pthread_t thread;
	int runs = 0;

	case_begin("racing writer of %s: KVM keeps valid state", what);
	run->kvm_valid_regs = KVM_SYNC_X86_SREGS;
	run_to_io(vcpu);
	run->kvm_valid_regs = 0;
	vcpu_complete_io(vcpu);
	good = vcpu_save_state(vcpu);
	TEST_ASSERT(!pthread_create(&thread, NULL, racer, run), "pthread_create");
	for (time_t end = time(NULL) + RACE_SECONDS;
	     time(NULL) < end && runs < RACE_MAX_RUNS; runs++) {
		struct kvm_translation tr = { .linear_address = 0 };

		/* A triple fault from the bad vectors: start over from good state. */
		if (!__vcpu_run(vcpu) && run->exit_reason == KVM_EXIT_SHUTDOWN)
			vcpu_load_state(vcpu, good);
		__vcpu_ioctl(vcpu, KVM_TRANSLATE, &tr);
	}
	TEST_ASSERT(!pthread_cancel(thread) && !pthread_join(thread, NULL),
		    "stopping the racer");
	run->kvm_dirty_regs = 0;

	vcpu_sregs_get(vcpu, &sregs);
	CHECK(!(sregs.efer & EFER_LME) || (sregs.cr4 & X86_CR4_PAE),
	      "KVM took EFER 0x%llx with CR4 0x%llx", sregs.efer, sregs.cr4);
	vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &events);
	CHECK(!(events.exception.injected || events.exception.pending) ||
	      events.exception.nr < 32,
	      "exception vector %u held (injected %u, pending %u)",
	      events.exception.nr, events.exception.injected,
	      events.exception.pending);
	printf("# %d KVM_RUNs\n", runs);
	kvm_x86_state_free(good);
	kvm_vm_free(vm);
}

int main(void)
{
	int cap = kvm_check_cap(KVM_CAP_SYNC_REGS);

	TEST_REQUIRE((cap & SYNC_ALL) == SYNC_ALL);
	case_begin("KVM_CAP_SYNC_REGS offers no unknown field");
	CHECK(!(cap & BAD_FIELD), "KVM_CAP_SYNC_REGS 0x%x", cap);
	case_bad_fields();
	case_read_write();
	case_race(race_cr4, "CR4.PAE under EFER.LME");
	case_race(race_exception_vector, "exception vector 255");
	case_race(race_injected_and_pending, "an injected and pending #UD");
	checks_exit();
}
