// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel-log watch (include/kmsg.h): a KVM bug often shows only as a WARN,
 * BUG, KVM_BUG_ON or failed SEAMCALL in dmesg while the test itself
 * passes, so tests check what /dev/kmsg gained while they ran.
 * kmsg_is_bad() is pure and unit-tested in tests/unit/tdx_host.c.
 */
#include <fcntl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "kmsg.h"

bool kmsg_is_bad(const char *record)
{
	static const char *const patterns[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace",
		"general protection fault", "KVM_BUG_ON",
		"SEAMCALL", "kernel BUG",
	};
	const char *msg = strchr(record, ';');	/* "prio,seq,ts,flags;text" */

	msg = msg ? msg + 1 : record;
	for (size_t i = 0; i < ARRAY_SIZE(patterns); i++)
		if (strstr(msg, patterns[i]))
			return true;
	return false;
}

static int kmsg_fd = -1;

bool kmsg_watch_begin(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		return false;
	lseek(kmsg_fd, 0, SEEK_END);
	return true;
}

int kmsg_watch_end(void)
{
	char rec[2048];
	int bad = 0;

	TEST_ASSERT(kmsg_fd >= 0, "kmsg_watch_end() without a watch that began");
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: keep going */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (kmsg_is_bad(rec)) {
			tap_info("kernel log: %s", strchr(rec, ';') ?
				 strchr(rec, ';') + 1 : rec);
			bad++;
		}
	}
	close(kmsg_fd);
	kmsg_fd = -1;
	return bad;
}
