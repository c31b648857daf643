// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock: the paravirtual clock KVM publishes to the guest
 * (MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW) and the VM clock a
 * VMM reads and sets (KVM_GET_CLOCK, KVM_SET_CLOCK).
 *
 * Covers kvm_clock_test: after KVM_SET_CLOCK to a value, with and without
 * KVM_CLOCK_REALTIME, both KVM_GET_CLOCK and the guest read at least that
 * value. Adds: the guest's clock is monotonic over many reads, the
 * published version is even, the host's KVM_GET_CLOCK is never behind
 * what the guest read before it, setting the clock back is obeyed (within
 * a bound), KVM_CLOCK_REALTIME adds the time since its realtime stamp,
 * the wall clock is a plausible epoch time, and a disabled kvmclock page
 * is no longer written.
 */
#include <time.h>

#include "kvm_util.h"
#include "test_check.h"

#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define X86_FEATURE_KVMCLOCK2 KVM_X86_FEATURE(0x40000001, 0, CPUID_EAX, 3)
#define NSEC_PER_SEC		1000000000ULL
/* How far the guest's clock may run past a value the host set, here. */
#define SLACK_NS		(10 * NSEC_PER_SEC)

struct pvclock_vcpu_time_info {
	u32 version;
	u32 pad0;
	u64 tsc_timestamp;
	u64 system_time;
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;
	u8 pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	u32 version;
	u32 sec;
	u32 nsec;
} __attribute__((packed));

static struct pvclock_vcpu_time_info pvti __attribute__((aligned(64)));
static struct pvclock_wall_clock wall __attribute__((aligned(64)));
static bool steps_done;		/* set by the host after the last step */

enum { SYNC_READ = 1, SYNC_SET };

static u64 kvmclock_read(void)
{
	u32 version;
	u64 ns, delta;

	do {
		version = READ_ONCE(pvti.version);
		__asm__ volatile("lfence" ::: "memory");
		delta = rdtsc() - pvti.tsc_timestamp;
		if (pvti.tsc_shift < 0)
			delta >>= -pvti.tsc_shift;
		else
			delta <<= pvti.tsc_shift;
		ns = pvti.system_time +
		     (u64)(((unsigned __int128)delta * pvti.tsc_to_system_mul) >> 32);
		__asm__ volatile("lfence" ::: "memory");
	} while ((version & 1) || version != READ_ONCE(pvti.version));
	return ns;
}

static void guest_main(u64 pvti_gpa, u64 wall_gpa)
{
	u64 prev, now, version;

	wrmsr(MSR_KVM_WALL_CLOCK_NEW, wall_gpa);
	GUEST_CASE("wall clock: even version, an epoch time after 2020");
	GUEST_CHECK_EQ(READ_ONCE(wall.version) & 1, 0);
	GUEST_CHECK(wall.sec > 1577836800, "wall clock sec %u", wall.sec);

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, pvti_gpa | 1);
	GUEST_CASE("system time: published, monotonic over 10000 reads");
	GUEST_CHECK(READ_ONCE(pvti.version) && !(READ_ONCE(pvti.version) & 1),
		    "version %u", pvti.version);
	GUEST_CHECK(pvti.tsc_to_system_mul, "tsc_to_system_mul is 0");
	prev = kvmclock_read();
	for (int i = 0; i < 10000; i++) {
		now = kvmclock_read();
		if (!GUEST_CHECK(now >= prev, "clock went back from %llu to %llu",
				 (unsigned long long)prev, (unsigned long long)now))
			break;
		prev = now;
	}

	/* The host compares its KVM_GET_CLOCK with this, then sets clocks. */
	while (!READ_ONCE(steps_done)) {
		GUEST_SYNC_ARGS(SYNC_READ, kvmclock_read());
		GUEST_SYNC_ARGS(SYNC_SET, kvmclock_read());
	}

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	version = READ_ONCE(pvti.version);
	GUEST_SYNC_ARGS(SYNC_READ, 0);	/* host: KVM_SET_CLOCK, which updates enabled clocks */
	GUEST_CASE("disabled kvmclock: the page is no longer written");
	GUEST_CHECK_EQ(READ_ONCE(pvti.version), version);
	GUEST_DONE();
}

struct step {
	u64 clock;		/* KVM_SET_CLOCK's clock */
	bool realtime;		/* with KVM_CLOCK_REALTIME, stamped 1 s ago */
	const char *name;
};

static const struct step steps[] = {
	{ 100 * NSEC_PER_SEC, false, "forward to 100 s" },
	{ 3600 * NSEC_PER_SEC, false, "forward to 1 hour" },
	{ 5 * NSEC_PER_SEC, false, "back to 5 s" },
	{ 50 * NSEC_PER_SEC, true, "50 s with KVM_CLOCK_REALTIME 1 s ago" },
};

struct ctx {
	u32 step;
	u64 last_guest;
	bool realtime_ok;
};

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
	struct ctx *c = data;
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_clock_data cd = { 0 };
	const struct step *s;

	if (uc->args[0] == SYNC_READ) {
		if (c->step >= ARRAY_SIZE(steps)) {
			/* The last round: the guest disabled kvmclock. */
			vm_ioctl(vm, KVM_GET_CLOCK, &cd);
			cd.flags = 0;
			vm_ioctl(vm, KVM_SET_CLOCK, &cd);
			return;
		}
		vm_ioctl(vm, KVM_GET_CLOCK, &cd);
		case_begin("KVM_GET_CLOCK is not behind the guest (before: %s)",
			   steps[c->step].name);
		CHECK(cd.clock >= uc->args[1], "host 0x%llx < guest 0x%llx",
		      cd.clock, (unsigned long long)uc->args[1]);

		s = &steps[c->step];
		memset(&cd, 0, sizeof(cd));
		cd.clock = s->clock;
		if (s->realtime) {
			struct timespec ts;

			if (!c->realtime_ok)
				return;
			clock_gettime(CLOCK_REALTIME, &ts);
			cd.flags = KVM_CLOCK_REALTIME;
			cd.realtime = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec -
				      NSEC_PER_SEC;
		}
		vm_ioctl(vm, KVM_SET_CLOCK, &cd);
		memset(&cd, 0, sizeof(cd));
		vm_ioctl(vm, KVM_GET_CLOCK, &cd);
		case_begin("KVM_SET_CLOCK %s: KVM_GET_CLOCK agrees", s->name);
		CHECK(cd.clock >= s->clock + (s->realtime ? NSEC_PER_SEC : 0) &&
		      cd.clock < s->clock + SLACK_NS,
		      "KVM_GET_CLOCK 0x%llx after setting 0x%llx", cd.clock,
		      (unsigned long long)s->clock);
		return;
	}

	s = &steps[c->step];
	if (!s->realtime || c->realtime_ok) {
		u64 min = s->clock + (s->realtime ? NSEC_PER_SEC : 0);

		case_begin("KVM_SET_CLOCK %s: the guest reads it", s->name);
		CHECK(uc->args[1] >= min && uc->args[1] < s->clock + SLACK_NS,
		      "guest read %llu ns, set %llu ns",
		      (unsigned long long)uc->args[1], (unsigned long long)s->clock);
	} else {
		case_begin("KVM_SET_CLOCK %s", s->name);
		case_skip("KVM_GET_CLOCK reports no KVM_CLOCK_REALTIME");
	}
	c->step++;
	if (c->step == ARRAY_SIZE(steps))
		write_guest_global(vm, steps_done, true);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct kvm_clock_data cd = { 0 };
	struct ctx c = { 0 };

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_ADJUST_CLOCK) > 0);
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_KVMCLOCK2));
	c.realtime_ok = kvm_check_cap(KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME;

	vm = vm_create_with_one_vcpu(&vcpu, guest_main);
	vm_ioctl(vm, KVM_GET_CLOCK, &cd);
	vcpu_args_set(vcpu, 2, addr_gva2gpa(vm, (u64)&pvti),
		      addr_gva2gpa(vm, (u64)&wall));
	vcpu_run_to_done(vcpu, on_sync, &c);
	kvm_vm_free(vm);
	checks_exit();
}
