// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel-log watch for TD tests: a TDX bug in KVM or the TDX module often
 * shows only as a WARN, BUG or failed SEAMCALL in dmesg while the test
 * itself passes, so tests check what /dev/kmsg gained while they ran.
 * tdx_kmsg_is_bad() is pure and unit-tested in tests/unit/tdx_host.c.
 */
#include <fcntl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "tdx/tdx.h"

bool tdx_kmsg_is_bad(const char *record)
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

void tdx_kmsg_watch_begin(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0) {
		tap_info("cannot read /dev/kmsg (%s): kernel-log check skipped",
			 strerror(errno));
		return;
	}
	lseek(kmsg_fd, 0, SEEK_END);
}

int tdx_kmsg_watch_end(void)
{
	char rec[2048];
	int bad = 0;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: keep going */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (tdx_kmsg_is_bad(rec)) {
			tap_info("kernel log: %s", strchr(rec, ';') ?
				 strchr(rec, ';') + 1 : rec);
			bad++;
		}
	}
	close(kmsg_fd);
	kmsg_fd = -1;
	return bad;
}
