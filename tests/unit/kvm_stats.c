// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/stats.c against a stats file laid out as api.rst describes, built in
 * a memfd: lookup by name, single values and histograms, a name that fills
 * name_size without a terminator, and a missing name.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_stats.h"
#include "test_check.h"

#define NAME_SIZE	16
#define DESC_SIZE	(sizeof(struct kvm_stats_desc) + NAME_SIZE)

struct fake_stat {
	const char *name;
	u16 size;
	u64 values[4];
};

static const struct fake_stat fake[] = {
	{ "exits", 1, { 42 } },
	{ "halt_hist", 4, { 1, 2, 3, 4 } },
	{ "sixteen_chars_xy", 1, { 7 } },	/* no NUL within name_size */
};

/* Header, id, descriptors, then the data; each data block after the last. */
static int fake_stats_fd(void)
{
	struct kvm_stats_header h = {
		.name_size = NAME_SIZE,
		.num_desc = ARRAY_SIZE(fake),
		.id_offset = sizeof(h),
		.desc_offset = sizeof(h) + NAME_SIZE,
		.data_offset = sizeof(h) + NAME_SIZE + ARRAY_SIZE(fake) * DESC_SIZE,
	};
	int fd = memfd_create("fake_kvm_stats", 0);
	u32 data_off = 0;

	TEST_ASSERT(fd >= 0, "memfd_create");
	TEST_ASSERT(pwrite(fd, &h, sizeof(h), 0) == sizeof(h), "pwrite");
	TEST_ASSERT(pwrite(fd, "kvm-1234", 9, h.id_offset) == 9, "pwrite");
	for (u32 i = 0; i < ARRAY_SIZE(fake); i++) {
		char buf[DESC_SIZE] = { 0 };
		struct kvm_stats_desc *d = (void *)buf;

		d->size = fake[i].size;
		d->offset = data_off;
		memcpy(d->name, fake[i].name, strnlen(fake[i].name, NAME_SIZE));
		TEST_ASSERT(pwrite(fd, buf, DESC_SIZE, h.desc_offset + i * DESC_SIZE) ==
			    DESC_SIZE, "pwrite");
		TEST_ASSERT(pwrite(fd, fake[i].values, d->size * 8,
				   h.data_offset + data_off) == d->size * 8, "pwrite");
		data_off += d->size * 8;
	}
	return fd;
}

int main(void)
{
	struct kvm_stats *s = kvm_stats_open(fake_stats_fd());
	u64 v[8] = { 0 };

	case_begin("header and id");
	CHECK_EQ(s->header.num_desc, ARRAY_SIZE(fake));
	CHECK(!strcmp(s->id, "kvm-1234"), "id '%s'", s->id);

	case_begin("single value by name");
	CHECK_EQ(kvm_stats_get(s, "exits"), 42);
	CHECK_EQ(kvm_stats_read(s, "exits", v, 8), 1);

	case_begin("histogram: all its values, or as many as asked");
	CHECK_EQ(kvm_stats_read(s, "halt_hist", v, 8), 4);
	CHECK(v[0] == 1 && v[3] == 4, "values %llu..%llu",
	      (unsigned long long)v[0], (unsigned long long)v[3]);
	v[2] = 0;
	CHECK_EQ(kvm_stats_read(s, "halt_hist", v, 2), 2);
	CHECK_EQ(v[2], 0);

	case_begin("a name that fills name_size");
	CHECK_EQ(kvm_stats_get(s, "sixteen_chars_xy"), 7);

	case_begin("a missing name, or a prefix of one, is not found");
	CHECK_EQ(kvm_stats_read(s, "exit", v, 1), -1);
	CHECK(!kvm_stats_find(s, "no_such_stat"), "found no_such_stat");

	kvm_stats_close(s);
	checks_exit();
}
