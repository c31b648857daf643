/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM module parameters (/sys/module/<module>/parameters/<name>), for tests
 * of behaviour a parameter switches: read one, or set one for the rest of
 * the process and have it put back when the process exits.
 */
#ifndef KVMTEST_KVM_PARAM_H
#define KVMTEST_KVM_PARAM_H

#include "test_util.h"

/* The value, without its newline; false if it cannot be read. */
bool kvm_param_read(const char *module, const char *name, char *buf,
		    size_t len);
/* True if the value is Y, y or 1. Skips the test if it cannot be read. */
bool kvm_param_is_on(const char *module, const char *name);
/*
 * Set @name to @value until the process (the one that called this, not a
 * child) exits, when the old value is written back. Skips the test, with
 * the old value, if the parameter cannot be read or written.
 */
void kvm_param_set_or_skip(const char *module, const char *name,
			   const char *value);

#endif /* KVMTEST_KVM_PARAM_H */
