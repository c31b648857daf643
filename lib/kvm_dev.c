// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/kvm. Opened once per process: every VM a test creates reuses the fd,
 * which keeps VM creation to the ioctls that matter.
 */
#include <fcntl.h>
#include <unistd.h>

#include "kvm_util.h"

static int kvm_fd = -1;

int kvm_dev_fd(void)
{
	if (kvm_fd >= 0)
		return kvm_fd;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		if (errno == ENOENT)
			test_skip("/dev/kvm not found: load kvm_intel or kvm_amd, or run with --vm");
		if (errno == EACCES || errno == EPERM)
			test_skip("no permission on /dev/kvm: run as root or join the 'kvm' group");
		TEST_FAIL("open /dev/kvm");
	}
	TEST_ASSERT(ioctl(kvm_fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION,
		    "KVM API version is not %d", KVM_API_VERSION);
	return kvm_fd;
}

int kvm_dev_ioctl(unsigned long cmd, void *arg)
{
	return ioctl(kvm_dev_fd(), cmd, arg);
}

int kvm_check_cap(long cap)
{
	int ret = ioctl(kvm_dev_fd(), KVM_CHECK_EXTENSION, cap);

	TEST_ASSERT(ret >= 0, "KVM_CHECK_EXTENSION(%ld)", cap);
	return ret;
}
