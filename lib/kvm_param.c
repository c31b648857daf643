// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM module parameters through sysfs. See kvm_param.h.
 */
#include <unistd.h>

#include "kvm_param.h"

#define MAX_SAVED	8

static struct {
	char module[32], name[64], value[64];
} saved[MAX_SAVED];
static int nr_saved;
static pid_t saver;

static void param_path(char *path, size_t len, const char *module,
		       const char *name)
{
	snprintf(path, len, "/sys/module/%s/parameters/%s", module, name);
}

bool kvm_param_read(const char *module, const char *name, char *buf,
		    size_t len)
{
	char path[160];
	FILE *f;
	bool ok;

	param_path(path, sizeof(path), module, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

static bool param_write(const char *module, const char *name,
			const char *value)
{
	char path[160];
	FILE *f;
	bool ok;

	param_path(path, sizeof(path), module, name);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fputs(value, f) >= 0;
	return fclose(f) == 0 && ok;
}

bool kvm_param_is_on(const char *module, const char *name)
{
	char v[64];

	if (!kvm_param_read(module, name, v, sizeof(v)))
		test_skip("cannot read %s.%s: module not loaded, or too old",
			  module, name);
	return !strcmp(v, "Y") || !strcmp(v, "y") || !strcmp(v, "1");
}

/* Newest first, so a parameter set twice ends with its first old value. */
static void params_restore(void)
{
	if (getpid() != saver)
		return;
	while (nr_saved--)
		param_write(saved[nr_saved].module, saved[nr_saved].name,
			    saved[nr_saved].value);
}

void kvm_param_set_or_skip(const char *module, const char *name,
			   const char *value)
{
	char old[64];

	TEST_ASSERT(nr_saved < MAX_SAVED, "more than %d parameters changed",
		    MAX_SAVED);
	if (!kvm_param_read(module, name, old, sizeof(old)))
		test_skip("cannot read %s.%s: module not loaded, or too old",
			  module, name);
	if (!nr_saved) {
		saver = getpid();
		atexit(params_restore);
	}
	if (!param_write(module, name, value))
		test_skip("cannot set %s.%s=%s (it is %s): not root, or a value the kernel refuses",
			  module, name, value, old);
	snprintf(saved[nr_saved].module, sizeof(saved[0].module), "%s", module);
	snprintf(saved[nr_saved].name, sizeof(saved[0].name), "%s", name);
	snprintf(saved[nr_saved].value, sizeof(saved[0].value), "%s", old);
	nr_saved++;
}
