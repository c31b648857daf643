/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-log watch: remember where /dev/kmsg ends now, later count the
 * WARN/BUG/KVM_BUG_ON/SEAMCALL-error records printed since. A test whose
 * kmsg_watch_begin() returned false must not report the log as clean:
 * skip its kernel-log case with the reason instead.
 */
#ifndef KVMTEST_KMSG_H
#define KVMTEST_KMSG_H

#include "test_util.h"

/* false (errno set) when /dev/kmsg cannot be read. */
bool kmsg_watch_begin(void);
/* Bad records since kmsg_watch_begin(), each printed as a TAP comment. */
int kmsg_watch_end(void);
/* Pure: is this /dev/kmsg record a kernel warning or bug report? */
bool kmsg_is_bad(const char *record);

#endif /* KVMTEST_KMSG_H */
