// SPDX-License-Identifier: GPL-2.0-only
/*
 * binary_stats: the stats fd of a VM and of its vCPUs (KVM_GET_STATS_FD),
 * read through lib/stats.c.
 *
 * Covers kvm_binary_stats_test: the header's blocks do not overlap, every
 * descriptor has a valid type, unit, base and exponent, a NUL-terminated
 * name, size 1 unless a histogram, a bucket size only for linear
 * histograms, data inside the data block; the id string names the VM or
 * vCPU; several fds per VM and vCPU; the file cannot be written. Adds:
 * counters that must move do, by the right amount: a vCPU's io_exits
 * grows by exactly the guest's port-I/O exits, its exits by at least
 * that, and the VM's pages_4k/2m/1g count the memory the guest touched.
 */
#include <unistd.h>

#include "kvm_util.h"
#include "kvm_stats.h"
#include "test_check.h"

#define SYNCS	10

static void check_layout(struct kvm_stats *s, const char *what)
{
	const struct kvm_stats_header *h = &s->header;
	u64 data_end = 0;

	case_begin("%s: header, descriptors and id", what);
	CHECK_EQ(h->flags, 0);
	CHECK(h->name_size > 0 && h->num_desc > 0, "name_size %u num_desc %u",
	      h->name_size, h->num_desc);
	CHECK(h->id_offset + h->name_size <= h->desc_offset ||
	      h->desc_offset + h->num_desc * s->desc_size <= h->id_offset,
	      "id and descriptor blocks overlap");
	CHECK(h->desc_offset + h->num_desc * s->desc_size <= h->data_offset,
	      "descriptors run into the data block");
	for (u32 i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = kvm_stats_desc_at(s, i);
		u32 type = d->flags & KVM_STATS_TYPE_MASK;
		u32 unit = d->flags & KVM_STATS_UNIT_MASK;
		u32 base = d->flags & KVM_STATS_BASE_MASK;
		bool hist = type == KVM_STATS_TYPE_LINEAR_HIST ||
			    type == KVM_STATS_TYPE_LOG_HIST;
		size_t len = strnlen(d->name, h->name_size);

		if (!CHECK(len > 0 && len < h->name_size, "descriptor %u: name length %zu",
			   i, len))
			continue;
		CHECK(type <= KVM_STATS_TYPE_MAX && unit <= KVM_STATS_UNIT_MAX &&
		      base <= KVM_STATS_BASE_MAX, "%s: flags 0x%x", d->name, d->flags);
		if (unit == KVM_STATS_UNIT_NONE || unit == KVM_STATS_UNIT_BOOLEAN ||
		    unit == KVM_STATS_UNIT_CYCLES)
			CHECK(d->exponent == 0, "%s: exponent %d", d->name, d->exponent);
		if (unit == KVM_STATS_UNIT_SECONDS)
			CHECK(d->exponent <= 0, "%s: exponent %d", d->name, d->exponent);
		CHECK(hist ? d->size > 1 : d->size == 1, "%s: size %u", d->name, d->size);
		CHECK(type == KVM_STATS_TYPE_LINEAR_HIST ? d->bucket_size > 0 :
		      d->bucket_size == 0, "%s: bucket_size %u", d->name, d->bucket_size);
		data_end = max_t(u64, data_end, d->offset + d->size * sizeof(u64));
	}
	{
		void *data = malloc(data_end);
		ssize_t n;

		TEST_ASSERT(data, "out of memory");
		n = pread(s->fd, data, data_end, h->data_offset);
		CHECK(n == (ssize_t)data_end, "reading the %llu-byte data block: %zd",
		      (unsigned long long)data_end, n);
		free(data);
	}
	CHECK(write(s->fd, "x", 1) == -1, "the stats fd took a write");
}

static void guest_main(u64 *p)
{
	for (int i = 0; i < SYNCS; i++)
		GUEST_SYNC(i);
	for (int i = 0; i < 512; i++)
		WRITE_ONCE(p[i * 512], i);	/* one write per 4 KiB page */
	GUEST_DONE();
}

/* The pages KVM maps for the VM at all sizes; 0 without these stats. */
static u64 mapped_pages(struct kvm_stats *vs)
{
	static const char *const names[] = { "pages_4k", "pages_2m", "pages_1g" };
	u64 sum = 0;

	for (u32 i = 0; i < ARRAY_SIZE(names); i++) {
		u64 v;

		if (kvm_stats_read(vs, names[i], &v, 1) == 1)
			sum += v;
	}
	return sum;
}

static void on_sync(struct kvm_vcpu *vcpu, struct ucall *uc, void *data)
{
}

int main(void)
{
	struct kvm_vcpu *vcpus[2];
	struct kvm_vm *vm;
	struct kvm_stats *vs, *vs2, *cs[2];
	char want[64];
	u64 io0, ex0, io1, ex1, pages0, pages1;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_BINARY_STATS_FD) > 0);
	vm = vm_create_with_vcpus(2, guest_main, vcpus);
	/* Fresh memory the guest touches only after its syncs. */
	vcpu_args_set(vcpus[0], 1, vm_vaddr_alloc(vm, 2 * MiB));

	vs = vm_stats_open(vm);
	check_layout(vs, "VM");
	snprintf(want, sizeof(want), "kvm-%d", getpid());
	CHECK(!strcmp(vs->id, want), "VM id '%s', expected '%s'", vs->id, want);
	for (int i = 0; i < 2; i++) {
		char what[16];

		cs[i] = vcpu_stats_open(vcpus[i]);
		snprintf(what, sizeof(what), "vCPU %d", i);
		check_layout(cs[i], what);
		snprintf(want, sizeof(want), "kvm-%d/vcpu-%d", getpid(), i);
		CHECK(!strcmp(cs[i]->id, want), "vCPU id '%s', expected '%s'",
		      cs[i]->id, want);
	}

	case_begin("a second stats fd of the VM reads the same layout");
	vs2 = vm_stats_open(vm);
	CHECK_EQ(vs2->header.num_desc, vs->header.num_desc);
	kvm_stats_close(vs2);

	pages0 = mapped_pages(vs);
	io0 = kvm_stats_get(cs[0], "io_exits");
	ex0 = kvm_stats_get(cs[0], "exits");
	vcpu_run_to_done(vcpus[0], on_sync, NULL);
	io1 = kvm_stats_get(cs[0], "io_exits");
	ex1 = kvm_stats_get(cs[0], "exits");
	pages1 = mapped_pages(vs);

	case_begin("vCPU io_exits counts each port-I/O exit, exits at least those");
	/* SYNCS syncs and GUEST_DONE: one OUT each. */
	CHECK_EQ(io1 - io0, SYNCS + 1);
	CHECK(ex1 - ex0 >= SYNCS + 1, "exits grew by %llu",
	      (unsigned long long)(ex1 - ex0));
	case_begin("the idle vCPU's counters stay put");
	CHECK_EQ(kvm_stats_get(cs[1], "io_exits"), 0);

	case_begin("VM pages_4k/2m/1g grow with the memory the guest touched");
	if (kvm_stats_find(vs, "pages_4k"))
		CHECK(pages1 > pages0, "mapped pages %llu -> %llu",
		      (unsigned long long)pages0, (unsigned long long)pages1);
	else
		case_skip("this KVM has no pages_4k statistic (shadow paging)");

	for (int i = 0; i < 2; i++)
		kvm_stats_close(cs[i]);
	kvm_stats_close(vs);
	kvm_vm_free(vm);
	checks_exit();
}
