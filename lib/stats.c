// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM binary statistics through the stats fd: the header tells where the
 * id string, the descriptors and the data live; a descriptor's offset is
 * relative to the data block and its size counts u64 values.
 */
#include <unistd.h>

#include "kvm_util.h"
#include "kvm_stats.h"

static void pread_all(int fd, void *buf, size_t len, off_t off,
		      const char *what)
{
	ssize_t n = pread(fd, buf, len, off);

	TEST_ASSERT(n == (ssize_t)len,
		    "reading the KVM stats %s (%zu bytes at %lld): got %zd",
		    what, len, (long long)off, n);
}

struct kvm_stats *kvm_stats_open(int stats_fd)
{
	struct kvm_stats *s = calloc(1, sizeof(*s));
	struct kvm_stats_header *h;

	TEST_ASSERT(s, "out of memory");
	TEST_ASSERT(stats_fd >= 0, "KVM_GET_STATS_FD");
	s->fd = stats_fd;
	h = &s->header;
	pread_all(stats_fd, h, sizeof(*h), 0, "header");
	TEST_ASSERT(h->name_size > 0 && h->name_size <= 4096,
		    "KVM stats header: name_size %u", h->name_size);

	s->id = calloc(1, h->name_size + 1);
	TEST_ASSERT(s->id, "out of memory");
	pread_all(stats_fd, s->id, h->name_size, h->id_offset, "id");

	s->desc_size = sizeof(struct kvm_stats_desc) + h->name_size;
	s->descs = calloc(h->num_desc ? h->num_desc : 1, s->desc_size);
	TEST_ASSERT(s->descs, "out of memory");
	pread_all(stats_fd, s->descs, h->num_desc * s->desc_size,
		  h->desc_offset, "descriptors");
	return s;
}

struct kvm_stats *vm_stats_open(struct kvm_vm *vm)
{
	return kvm_stats_open(__vm_ioctl(vm, KVM_GET_STATS_FD, NULL));
}

struct kvm_stats *vcpu_stats_open(struct kvm_vcpu *vcpu)
{
	return kvm_stats_open(__vcpu_ioctl(vcpu, KVM_GET_STATS_FD, NULL));
}

void kvm_stats_close(struct kvm_stats *stats)
{
	if (!stats)
		return;
	close(stats->fd);
	free(stats->id);
	free(stats->descs);
	free(stats);
}

const struct kvm_stats_desc *kvm_stats_desc_at(const struct kvm_stats *stats,
					       u32 i)
{
	TEST_ASSERT(i < stats->header.num_desc, "KVM stats: descriptor %u of %u",
		    i, stats->header.num_desc);
	return (const void *)((const char *)stats->descs + i * stats->desc_size);
}

const struct kvm_stats_desc *kvm_stats_find(const struct kvm_stats *stats,
					    const char *name)
{
	for (u32 i = 0; i < stats->header.num_desc; i++) {
		const struct kvm_stats_desc *d = kvm_stats_desc_at(stats, i);

		if (!strncmp(d->name, name, stats->header.name_size))
			return d;
	}
	return NULL;
}

int kvm_stats_read(const struct kvm_stats *stats, const char *name,
		   u64 *values, int max)
{
	const struct kvm_stats_desc *d = kvm_stats_find(stats, name);
	int n;

	if (!d)
		return -1;
	n = min_t(int, d->size, max);
	pread_all(stats->fd, values, n * sizeof(u64),
		  stats->header.data_offset + d->offset, name);
	return n;
}

u64 kvm_stats_get(const struct kvm_stats *stats, const char *name)
{
	u64 v = 0;

	TEST_ASSERT(kvm_stats_read(stats, name, &v, 1) == 1,
		    "KVM statistic '%s' not found in %s", name, stats->id);
	return v;
}

static bool stat_once(struct kvm_stats *s, const char *name, u64 *value)
{
	u64 v;
	bool found = kvm_stats_read(s, name, &v, 1) == 1;

	if (found)
		*value = v;
	kvm_stats_close(s);
	return found;
}

bool __vm_get_stat(struct kvm_vm *vm, const char *name, u64 *value)
{
	return stat_once(vm_stats_open(vm), name, value);
}

bool __vcpu_get_stat(struct kvm_vcpu *vcpu, const char *name, u64 *value)
{
	return stat_once(vcpu_stats_open(vcpu), name, value);
}

u64 vm_get_stat(struct kvm_vm *vm, const char *name)
{
	u64 v = 0;

	TEST_ASSERT(__vm_get_stat(vm, name, &v),
		    "KVM has no VM statistic '%s'", name);
	return v;
}

u64 vcpu_get_stat(struct kvm_vcpu *vcpu, const char *name)
{
	u64 v = 0;

	TEST_ASSERT(__vcpu_get_stat(vcpu, name, &v),
		    "KVM has no vCPU statistic '%s'", name);
	return v;
}
