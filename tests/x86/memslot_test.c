// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memslots as the KVM API documents them (api.rst, KVM_SET_USER_MEMORY_REGION
 * and KVM_GET_DIRTY_LOG): a slot is guest memory the host shares with the
 * guest; moving or deleting it leaves nothing at the old GPA, so accesses
 * there exit to userspace as KVM_EXIT_MMIO; a read-only slot turns writes
 * into MMIO exits; bad arguments are rejected with the errno stock KVM
 * returns; dirty logging reports exactly the pages the guest wrote; every
 * host backing (shmem, THP, hugetlb, NUMA-bound) works behind a slot.
 *
 * Each case runs in a child process with a VM of its own, so one failure
 * does not hide the cases after it.
 */
#include <numa.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define TEST_SLOT	1
/* Above the 64 MiB main slot; 1 GiB aligned so any backing fits. */
#define SLOT_GPA	(1ULL << 30)
#define SLOT_GPA2	(2ULL << 30)
#define BIG_GPA		(4ULL << 30)

/* Values that say who wrote them and where, so a misplaced byte shows. */
#define HOST_PATTERN(i)		(0x484f535400000000ULL | (u64)(i))	/* "HOST" */
#define GUEST_PATTERN(i)	(0x4755455300000000ULL | (u64)(i))	/* "GUES" */
#define MMIO_READ_VALUE		0x1122334455667788ULL

/* Many-slots case: far past any small-array fast path, still quick. */
#define MANY_SLOTS_MAX		512

/* ---- host helpers ---------------------------------------------------- */

static void expect_sync(struct kvm_vcpu *vcpu, u64 stage)
{
	struct ucall uc;
	u64 cmd = vcpu_run_next(vcpu, &uc);

	TEST_ASSERT(cmd == UCALL_SYNC && uc.args[0] == stage,
		    "expected GUEST_SYNC(%llu), got exit %s, ucall %llu, arg0 0x%llx",
		    stage,
		    exit_reason_str(vcpu->run->exit_reason),
		    cmd, uc.args[0]);
}

static void expect_done(struct kvm_vcpu *vcpu)
{
	struct ucall uc;
	u64 cmd = vcpu_run_next(vcpu, &uc);

	TEST_ASSERT(cmd == UCALL_DONE,
		    "expected GUEST_DONE, got exit %s, ucall %llu, arg0 0x%llx",
		    exit_reason_str(vcpu->run->exit_reason),
		    cmd, uc.args[0]);
}

/*
 * Run to the next exit, which must be KVM_EXIT_MMIO for a @len-byte access
 * at @gpa in direction @is_write. Returns kvm_run so the caller can check
 * the written data or supply the read data before resuming.
 */
static struct kvm_run *expect_mmio(struct kvm_vcpu *vcpu, u64 gpa, u32 len,
				   bool is_write)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	u64 cmd = vcpu_run_next(vcpu, &uc);

	TEST_ASSERT(cmd == UCALL_NONE && run->exit_reason == KVM_EXIT_MMIO,
		    "expected an MMIO %s of %u bytes at GPA 0x%llx, got exit %s (ucall %llu)",
		    is_write ? "write" : "read", len, gpa,
		    exit_reason_str(run->exit_reason), cmd);
	CHECK(run->mmio.phys_addr == gpa && run->mmio.len == len &&
	      run->mmio.is_write == is_write,
	      "MMIO exit is a %s of %u bytes at GPA 0x%llx, expected a %s of %u bytes at 0x%llx",
	      run->mmio.is_write ? "write" : "read", run->mmio.len,
	      run->mmio.phys_addr,
	      is_write ? "write" : "read", len, gpa);
	return run;
}

static void expect_mmio_write(struct kvm_vcpu *vcpu, u64 gpa, u32 len, u64 data)
{
	struct kvm_run *run = expect_mmio(vcpu, gpa, len, true);
	u64 got = 0;

	memcpy(&got, run->mmio.data, len);
	CHECK(got == data,
	      "MMIO write at GPA 0x%llx carries 0x%llx, the guest wrote 0x%llx",
	      gpa, got,
	      data);
}

/* The value the next KVM_RUN completes the guest's MMIO read with. */
static void expect_mmio_read(struct kvm_vcpu *vcpu, u64 gpa, u32 len, u64 data)
{
	struct kvm_run *run = expect_mmio(vcpu, gpa, len, false);

	memcpy(run->mmio.data, &data, len);
}

/* A fresh GVA range mapped to [gpa, gpa + size). */
static u64 map_fresh_gva(struct kvm_vm *vm, u64 gpa, u64 size, u64 align)
{
	u64 gva = vm_vaddr_reserve(vm, size, align);

	virt_map(vm, gva, gpa, size);
	return gva;
}

static u64 *host_u64(void *base, u64 offset)
{
	return (u64 *)((char *)base + offset);
}

/* ---- add a slot; guest and host see each other's writes -------------- */

#define RW_PAGES	16

static void guest_rw(u64 gva, u64 npages)
{
	for (u64 i = 0; i < npages; i++) {
		u64 page = gva + i * PAGE_SIZE;

		GUEST_CHECK_EQ(READ_ONCE(*(u64 *)page), HOST_PATTERN(i));
		WRITE_ONCE(*(u64 *)(page + 8), GUEST_PATTERN(i));
		WRITE_ONCE(*(u64 *)(page + PAGE_SIZE - 8), GUEST_PATTERN(i));
	}
	GUEST_DONE();
}

static void case_add(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_rw);
	void *host;
	u64 gva;

	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, RW_PAGES, 0);
	host = vm_memslot(vm, TEST_SLOT)->host_mem;
	TEST_ASSERT(addr_gpa2hva(vm, SLOT_GPA + 3 * PAGE_SIZE) ==
		    (char *)host + 3 * PAGE_SIZE, "GPA -> HVA of the new slot");
	gva = map_fresh_gva(vm, SLOT_GPA, RW_PAGES * PAGE_SIZE, PAGE_SIZE);
	for (u64 i = 0; i < RW_PAGES; i++)
		*host_u64(host, i * PAGE_SIZE) = HOST_PATTERN(i);

	vcpu_args_set(vcpu, 2, gva, (u64)RW_PAGES);
	vcpu_run_to_done(vcpu, NULL, NULL);

	for (u64 i = 0; i < RW_PAGES; i++) {
		CHECK_EQ(*host_u64(host, i * PAGE_SIZE), HOST_PATTERN(i));
		CHECK_EQ(*host_u64(host, i * PAGE_SIZE + 8), GUEST_PATTERN(i));
		CHECK_EQ(*host_u64(host, i * PAGE_SIZE + PAGE_SIZE - 8),
			 GUEST_PATTERN(i));
	}
	kvm_vm_free(vm);
}

/* ---- move a slot ------------------------------------------------------ */

#define MOVE_PAGES	4

static void guest_move(u64 gva, u64 gva_old)
{
	/* Before the move both GVAs reach the slot at its old GPA. */
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)gva), HOST_PATTERN(0));
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)gva_old), HOST_PATTERN(0));
	WRITE_ONCE(*(u64 *)(gva + 16), GUEST_PATTERN(0));
	GUEST_SYNC(1);

	/* The host moved the slot and pointed gva at the new GPA. */
	for (u64 i = 0; i < MOVE_PAGES; i++)
		invlpg(gva + i * PAGE_SIZE);
	for (u64 i = 0; i < MOVE_PAGES; i++)
		GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + i * PAGE_SIZE)),
			       HOST_PATTERN(i));
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + 16)), GUEST_PATTERN(0));
	WRITE_ONCE(*(u64 *)(gva + PAGE_SIZE + 24), GUEST_PATTERN(1));
	GUEST_SYNC(2);

	/* Nothing is left at the old GPA: both directions go to userspace. */
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva_old + 0x20)), MMIO_READ_VALUE);
	WRITE_ONCE(*(u64 *)(gva_old + PAGE_SIZE + 0x28), GUEST_PATTERN(2));
	GUEST_DONE();
}

static void case_move(void *arg)
{
	u64 size = MOVE_PAGES * PAGE_SIZE, gva, gva_old;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_move);
	void *host;

	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, MOVE_PAGES, 0);
	host = vm_memslot(vm, TEST_SLOT)->host_mem;
	for (u64 i = 0; i < MOVE_PAGES; i++)
		*host_u64(host, i * PAGE_SIZE) = HOST_PATTERN(i);
	/*
	 * Map both GVAs while the old GPA is still backed (the walker only
	 * maps GPAs in a memslot); gva_old keeps pointing there after the move.
	 */
	gva = map_fresh_gva(vm, SLOT_GPA, size, PAGE_SIZE);
	gva_old = map_fresh_gva(vm, SLOT_GPA, size, PAGE_SIZE);
	vcpu_args_set(vcpu, 2, gva, gva_old);

	expect_sync(vcpu, 1);
	CHECK_EQ(*host_u64(host, 16), GUEST_PATTERN(0));

	vm_memslot_move(vm, TEST_SLOT, SLOT_GPA2);
	TEST_ASSERT(vm_gpa_range_backed(vm, SLOT_GPA2, size) &&
		    !vm_gpa_range_backed(vm, SLOT_GPA, PAGE_SIZE),
		    "library view of the moved slot");
	virt_map(vm, gva, SLOT_GPA2, size);

	expect_sync(vcpu, 2);
	CHECK_EQ(*host_u64(host, PAGE_SIZE + 24), GUEST_PATTERN(1));

	expect_mmio_read(vcpu, SLOT_GPA + 0x20, 8, MMIO_READ_VALUE);
	expect_mmio_write(vcpu, SLOT_GPA + PAGE_SIZE + 0x28, 8, GUEST_PATTERN(2));
	expect_done(vcpu);
	/* The write to the old GPA must not have reached the slot's memory. */
	CHECK_EQ(*host_u64(host, PAGE_SIZE + 0x28), 0);
	kvm_vm_free(vm);
}

/* ---- delete a slot ---------------------------------------------------- */

static void guest_delete(u64 gva)
{
	WRITE_ONCE(*(u64 *)gva, GUEST_PATTERN(0));
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + 8)), HOST_PATTERN(0));
	GUEST_SYNC(1);

	/* Deleted: every access is an MMIO exit of its own size and direction. */
	GUEST_CHECK_EQ(READ_ONCE(*(u32 *)(gva + 0x10)), 0xcafef00d);
	WRITE_ONCE(*(u8 *)(gva + PAGE_SIZE + 0x21), 0x5a);
	WRITE_ONCE(*(u64 *)(gva + 0x800), GUEST_PATTERN(2));
	GUEST_CHECK_EQ(READ_ONCE(*(u16 *)(gva + PAGE_SIZE + 0x102)), 0xbeef);
	GUEST_SYNC(2);

	/* Re-added with fresh memory: no stale mapping of the old pages. */
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + 8)), HOST_PATTERN(7));
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)gva), 0);
	GUEST_DONE();
}

static void case_delete(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_delete);
	void *host;
	u64 gva;

	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, 2, 0);
	host = vm_memslot(vm, TEST_SLOT)->host_mem;
	*host_u64(host, 8) = HOST_PATTERN(0);
	gva = map_fresh_gva(vm, SLOT_GPA, 2 * PAGE_SIZE, PAGE_SIZE);
	vcpu_args_set(vcpu, 1, gva);

	expect_sync(vcpu, 1);
	CHECK_EQ(*host_u64(host, 0), GUEST_PATTERN(0));

	vm_memslot_delete(vm, TEST_SLOT);
	TEST_ASSERT(!vm_gpa_range_backed(vm, SLOT_GPA, PAGE_SIZE),
		    "library still has a slot at the deleted GPA");
	expect_mmio_read(vcpu, SLOT_GPA + 0x10, 4, 0xcafef00d);
	expect_mmio_write(vcpu, SLOT_GPA + PAGE_SIZE + 0x21, 1, 0x5a);
	expect_mmio_write(vcpu, SLOT_GPA + 0x800, 8, GUEST_PATTERN(2));
	expect_mmio_read(vcpu, SLOT_GPA + PAGE_SIZE + 0x102, 2, 0xbeef);
	expect_sync(vcpu, 2);

	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, 2, 0);
	*host_u64(vm_memslot(vm, TEST_SLOT)->host_mem, 8) = HOST_PATTERN(7);
	expect_done(vcpu);
	kvm_vm_free(vm);
}

/* ---- read-only slot --------------------------------------------------- */

static void guest_readonly(u64 gva)
{
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)gva), HOST_PATTERN(0));
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + PAGE_SIZE + 0x40)), HOST_PATTERN(1));
	GUEST_SYNC(1);

	WRITE_ONCE(*(u64 *)(gva + PAGE_SIZE + 0x40), GUEST_PATTERN(1));
	GUEST_SYNC(2);
	/* The write went to userspace, not to memory. */
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + PAGE_SIZE + 0x40)), HOST_PATTERN(1));
	WRITE_ONCE(*(u8 *)(gva + 3), 0xee);
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)gva), HOST_PATTERN(0));
	GUEST_SYNC(3);

	/* Host writes to a read-only slot are still seen by the guest. */
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + 0x100)), HOST_PATTERN(9));
	GUEST_DONE();
}

static void case_readonly(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	void *host;
	u64 gva;

	if (!kvm_check_cap(KVM_CAP_READONLY_MEM))
		test_skip("KVM_CAP_READONLY_MEM is 0");
	vm = vm_create_with_one_vcpu(&vcpu, guest_readonly);
	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, 2, KVM_MEM_READONLY);
	host = vm_memslot(vm, TEST_SLOT)->host_mem;
	*host_u64(host, 0) = HOST_PATTERN(0);
	*host_u64(host, PAGE_SIZE + 0x40) = HOST_PATTERN(1);
	/* Writable in the guest's tables: only the slot forbids the write. */
	gva = map_fresh_gva(vm, SLOT_GPA, 2 * PAGE_SIZE, PAGE_SIZE);
	vcpu_args_set(vcpu, 1, gva);

	expect_sync(vcpu, 1);
	expect_mmio_write(vcpu, SLOT_GPA + PAGE_SIZE + 0x40, 8, GUEST_PATTERN(1));
	CHECK_EQ(*host_u64(host, PAGE_SIZE + 0x40), HOST_PATTERN(1));
	expect_sync(vcpu, 2);
	expect_mmio_write(vcpu, SLOT_GPA + 3, 1, 0xee);
	expect_sync(vcpu, 3);
	CHECK_EQ(*host_u64(host, 0), HOST_PATTERN(0));
	*host_u64(host, 0x100) = HOST_PATTERN(9);
	expect_done(vcpu);
	kvm_vm_free(vm);
}

/* ---- rejected arguments ------------------------------------------------ */

static void expect_errno(int ret, int err, const char *what)
{
	int saved = errno;

	CHECK(ret == -1 && saved == err,
	      "%s: returned %d, errno %d (%s); expected -1, errno %d (%s)",
	      what, ret, ret == -1 ? saved : 0,
	      ret == -1 ? strerror(saved) : "none", err, strerror(err));
}

/* A VM with slot 1 at [SLOT_GPA, +4 pages) and spare host memory. */
static struct kvm_vm *errors_vm(void **mem)
{
	struct kvm_vm *vm = vm_create(NULL);

	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, 4, 0);
	*mem = mmap(NULL, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(*mem != MAP_FAILED, "mmap");
	return vm;
}

static void case_overlap(void *arg)
{
	static const struct {
		s64 start, npages;	/* in pages, relative to SLOT_GPA */
		const char *what;
	} shapes[] = {
		{ 0, 4, "the same range" },
		{ -2, 4, "overlapping its first page" },
		{ 3, 4, "overlapping its last page" },
		{ 1, 2, "inside it" },
		{ -1, 6, "containing it" },
	};
	void *mem;
	struct kvm_vm *vm = errors_vm(&mem);
	char what[128];
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		snprintf(what, sizeof(what), "slot 2 %s", shapes[i].what);
		ret = __vm_set_user_memory_region(vm, 2, 0,
				SLOT_GPA + shapes[i].start * (s64)PAGE_SIZE,
				shapes[i].npages * PAGE_SIZE, mem);
		expect_errno(ret, EEXIST, what);
	}
	ret = __vm_set_user_memory_region(vm, 2, 0, 0x100000, PAGE_SIZE, mem);
	expect_errno(ret, EEXIST, "slot 2 inside the main slot");
	ret = __vm_memslot_move(vm, TEST_SLOT, PAGE_SIZE);
	CHECK(ret == -EEXIST,
	      "moving slot 1 onto the main slot returned %d, expected -EEXIST (%d)",
	      ret, -EEXIST);

	/* Touching is not overlapping: the page right after slot 1 is free. */
	ret = __vm_set_user_memory_region(vm, 2, 0, SLOT_GPA + 4 * PAGE_SIZE,
					  PAGE_SIZE, mem);
	CHECK(ret == 0, "slot 2 adjacent to slot 1 was rejected");
	ret = __vm_set_user_memory_region(vm, 2, 0, SLOT_GPA + 4 * PAGE_SIZE,
					  0, mem);
	TEST_ASSERT(ret == 0, "deleting slot 2");
	munmap(mem, 16 * PAGE_SIZE);
	kvm_vm_free(vm);
}

static void case_unaligned_gpa(void *arg)
{
	void *mem;
	struct kvm_vm *vm = errors_vm(&mem);

	expect_errno(__vm_set_user_memory_region(vm, 2, 0, SLOT_GPA2 + 1,
						 PAGE_SIZE, mem),
		     EINVAL, "GPA + 1");
	expect_errno(__vm_set_user_memory_region(vm, 2, 0, SLOT_GPA2 + 0x800,
						 PAGE_SIZE, mem),
		     EINVAL, "GPA + 0x800");
	munmap(mem, 16 * PAGE_SIZE);
	kvm_vm_free(vm);
}

static void case_unaligned_size(void *arg)
{
	void *mem;
	struct kvm_vm *vm = errors_vm(&mem);

	expect_errno(__vm_set_user_memory_region(vm, 2, 0, SLOT_GPA2,
						 PAGE_SIZE + 1, mem),
		     EINVAL, "size 4 KiB + 1");
	expect_errno(__vm_set_user_memory_region(vm, 2, 0, SLOT_GPA2,
						 PAGE_SIZE / 2, mem),
		     EINVAL, "size 2 KiB");
	munmap(mem, 16 * PAGE_SIZE);
	kvm_vm_free(vm);
}

static void case_unaligned_hva(void *arg)
{
	void *mem;
	struct kvm_vm *vm = errors_vm(&mem);

	expect_errno(__vm_set_user_memory_region(vm, 2, 0, SLOT_GPA2,
						 PAGE_SIZE, (char *)mem + 1),
		     EINVAL, "host address + 1");
	expect_errno(__vm_set_user_memory_region(vm, 2, 0, SLOT_GPA2,
						 PAGE_SIZE, (char *)mem + 0x800),
		     EINVAL, "host address + 0x800");
	munmap(mem, 16 * PAGE_SIZE);
	kvm_vm_free(vm);
}

static void case_bad_slot_id(void *arg)
{
	int nr_slots = kvm_check_cap(KVM_CAP_NR_MEMSLOTS);
	int nr_as = kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE);
	void *mem;
	struct kvm_vm *vm = errors_vm(&mem);
	char what[96];

	/* api.rst: without the capability there is one address space. */
	if (nr_as < 1)
		nr_as = 1;
	printf("KVM_CAP_NR_MEMSLOTS %d, KVM_CAP_MULTI_ADDRESS_SPACE %d\n",
	       nr_slots, kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE));
	TEST_ASSERT(nr_slots > 1 && nr_slots <= 0xffff,
		    "KVM_CAP_NR_MEMSLOTS is %d", nr_slots);
	snprintf(what, sizeof(what), "slot id %d (= KVM_CAP_NR_MEMSLOTS)", nr_slots);
	expect_errno(__vm_set_user_memory_region(vm, nr_slots, 0, SLOT_GPA2,
						 PAGE_SIZE, mem),
		     EINVAL, what);
	expect_errno(__vm_set_user_memory_region(vm, 0xffff, 0, SLOT_GPA2,
						 PAGE_SIZE, mem),
		     EINVAL, "slot id 0xffff");
	snprintf(what, sizeof(what), "address space %d (bits 16-31 of slot)", nr_as);
	expect_errno(__vm_set_user_memory_region(vm, 2 | (nr_as << 16), 0,
						 SLOT_GPA2, PAGE_SIZE, mem),
		     EINVAL, what);
	munmap(mem, 16 * PAGE_SIZE);
	kvm_vm_free(vm);
}

static void case_bad_change(void *arg)
{
	void *mem;
	struct kvm_vm *vm = errors_vm(&mem);
	struct vm_memslot *s = vm_memslot(vm, TEST_SLOT);
	void *hva = s->host_mem;

	/* api.rst: a slot may be moved or get new flags, not be resized. */
	expect_errno(__vm_set_user_memory_region(vm, TEST_SLOT, 0, SLOT_GPA,
						 2 * PAGE_SIZE, hva),
		     EINVAL, "shrinking slot 1");
	expect_errno(__vm_set_user_memory_region(vm, TEST_SLOT, 0, SLOT_GPA,
						 8 * PAGE_SIZE, mem),
		     EINVAL, "growing slot 1");
	/* Only the documented flags (and guest_memfd's, via region2) exist. */
	expect_errno(__vm_set_user_memory_region(vm, 2, BIT(15), SLOT_GPA2,
						 PAGE_SIZE, mem),
		     EINVAL, "unknown flag bit 15");
	/* "to make a *new* slot read-only": an existing one cannot become so. */
	if (kvm_check_cap(KVM_CAP_READONLY_MEM))
		expect_errno(__vm_set_user_memory_region(vm, TEST_SLOT,
							 KVM_MEM_READONLY,
							 SLOT_GPA,
							 4 * PAGE_SIZE, hva),
			     EINVAL, "making slot 1 read-only");
	munmap(mem, 16 * PAGE_SIZE);
	kvm_vm_free(vm);
}

/* ---- many slots ------------------------------------------------------- */

static void guest_many(u64 gva, u64 nr)
{
	for (u64 i = 0; i < nr; i++) {
		u64 page = gva + i * PAGE_SIZE;

		/* The right slot is behind each page: the host tagged them. */
		GUEST_CHECK_EQ(READ_ONCE(*(u64 *)page), HOST_PATTERN(i));
		WRITE_ONCE(*(u8 *)(page + 8 + i % 64), (u8)(i ^ 0xa5));
	}
	GUEST_DONE();
}

static void case_many_slots(void *arg)
{
	int nr_slots = kvm_check_cap(KVM_CAP_NR_MEMSLOTS);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u32 *ids;
	u64 gva, t0 = now_ns();
	int nr;

	/* The main slot takes one id; the others are ours, up to the cap. */
	nr = min_t(int, nr_slots - 1, MANY_SLOTS_MAX);
	TEST_ASSERT(nr > 0, "KVM_CAP_NR_MEMSLOTS is %d", nr_slots);
	printf("KVM_CAP_NR_MEMSLOTS %d: adding %d one-page slots", nr_slots, nr);
	if (nr < nr_slots - 1)
		printf(" (capped at %d to stay fast)", MANY_SLOTS_MAX);
	printf("\n");

	ids = calloc(nr, sizeof(*ids));
	TEST_ASSERT(ids, "out of memory");
	/* Ids 1..nr-1, and the highest valid id last, so the limit is exact. */
	for (int i = 0; i < nr; i++)
		ids[i] = i == nr - 1 ? (u32)nr_slots - 1 : (u32)i + 1;

	vm = vm_create_with_one_vcpu(&vcpu, guest_many);
	gva = vm_vaddr_reserve(vm, nr * PAGE_SIZE, PAGE_SIZE);
	for (int i = 0; i < nr; i++) {
		/* A hole after each slot, so a slot-size bug cannot hide. */
		u64 gpa = SLOT_GPA + 2ULL * i * PAGE_SIZE;

		vm_memslot_add(vm, VM_MEM_ANON, gpa, ids[i], 1, 0);
		*(u64 *)vm_memslot(vm, ids[i])->host_mem = HOST_PATTERN(i);
		virt_map(vm, gva + i * PAGE_SIZE, gpa, PAGE_SIZE);
	}
	vcpu_args_set(vcpu, 2, gva, (u64)nr);
	vcpu_run_to_done(vcpu, NULL, NULL);

	for (int i = 0; i < nr; i++) {
		u8 *page = vm_memslot(vm, ids[i])->host_mem;

		CHECK(page[8 + i % 64] == (u8)(i ^ 0xa5),
		      "slot %u: byte 0x%x, the guest wrote 0x%x", ids[i],
		      page[8 + i % 64], (u8)(i ^ 0xa5));
	}
	printf("%d slots added, touched and checked in %.2f s\n", nr,
	       (now_ns() - t0) / 1e9);
	free(ids);
	kvm_vm_free(vm);
}

/* ---- dirty logging ---------------------------------------------------- */

#define DIRTY_PAGES	128	/* two words of bitmap */

/*
 * The guest touches nothing else in the slot: KVM may log a page it maps
 * writable on a read fault (stock x86 KVM does), and api.rst only promises
 * that written pages are logged, so a read is no test of the log.
 */
static void guest_dirty(u64 gva)
{
	WRITE_ONCE(*(u64 *)(gva + 1 * PAGE_SIZE), GUEST_PATTERN(1));
	WRITE_ONCE(*(u64 *)(gva + 3 * PAGE_SIZE + 0x10), GUEST_PATTERN(3));
	WRITE_ONCE(*(u8 *)(gva + 7 * PAGE_SIZE + 0xfff), 7);
	GUEST_SYNC(1);
	/* Pages already logged once must be logged again. */
	WRITE_ONCE(*(u64 *)(gva + 3 * PAGE_SIZE + 0x18), GUEST_PATTERN(3));
	WRITE_ONCE(*(u64 *)(gva + 70 * PAGE_SIZE), GUEST_PATTERN(70));
	GUEST_SYNC(2);
	GUEST_DONE();
}

static void expect_dirty(struct kvm_vm *vm, const char *when, u64 want0,
			 u64 want1)
{
	u64 bitmap[DIRTY_PAGES / 64] = { 0 };

	vm_get_dirty_log(vm, TEST_SLOT, bitmap);
	CHECK(bitmap[0] == want0 && bitmap[1] == want1,
	      "%s: dirty bitmap 0x%016llx%016llx, expected 0x%016llx%016llx",
	      when, bitmap[1],
	      bitmap[0], want1,
	      want0);
}

static void case_dirty_log(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, guest_dirty);
	u64 gva;

	vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, DIRTY_PAGES,
		       KVM_MEM_LOG_DIRTY_PAGES);
	/* Host writes go around KVM and are not logged. */
	*host_u64(vm_memslot(vm, TEST_SLOT)->host_mem, 5 * PAGE_SIZE) =
		HOST_PATTERN(5);
	gva = map_fresh_gva(vm, SLOT_GPA, DIRTY_PAGES * PAGE_SIZE, PAGE_SIZE);
	vcpu_args_set(vcpu, 1, gva);

	/* Manual protect is not enabled, so the log starts empty. */
	expect_dirty(vm, "before the guest ran", 0, 0);
	expect_sync(vcpu, 1);
	expect_dirty(vm, "after writes to pages 1, 3, 7",
		     BIT_ULL(1) | BIT_ULL(3) | BIT_ULL(7), 0);
	/* Without KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 a get clears the log. */
	expect_dirty(vm, "second get, nothing written", 0, 0);
	expect_sync(vcpu, 2);
	expect_dirty(vm, "after writes to pages 3, 70", BIT_ULL(3),
		     BIT_ULL(70 - 64));
	expect_done(vcpu);
	expect_dirty(vm, "after GUEST_DONE", 0, 0);
	kvm_vm_free(vm);
}

/* ---- backings --------------------------------------------------------- */

static void guest_backing(u64 gva, u64 size)
{
	u64 offs[] = { 0, size / 2 + 0x18, size - 16 };

	for (u64 i = 0; i < ARRAY_SIZE(offs); i++) {
		GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + offs[i])), HOST_PATTERN(i));
		WRITE_ONCE(*(u64 *)(gva + offs[i] + 8), GUEST_PATTERN(i));
	}
	GUEST_SYNC(1);
	/* The host wrote through the second mapping of a shared backing. */
	GUEST_CHECK_EQ(READ_ONCE(*(u64 *)(gva + offs[1])), HOST_PATTERN(0x100));
	GUEST_DONE();
}

/* Why @backing cannot be tested here, as a how-to for the user. */
static const char *backing_missing(enum vm_mem_backing backing)
{
	static char why[256];
	const char *dir, *size;

	switch (backing) {
	case VM_MEM_ANON_HUGETLB_2M:
	case VM_MEM_HUGETLBFS_2M:
		dir = "/sys/kernel/mm/hugepages/hugepages-2048kB";
		size = "2 MiB";
		break;
	case VM_MEM_ANON_HUGETLB_1G:
	case VM_MEM_HUGETLBFS_1G:
		dir = "/sys/kernel/mm/hugepages/hugepages-1048576kB";
		size = "1 GiB";
		break;
	default:
		snprintf(why, sizeof(why), "%s memory cannot be mapped here",
			 vm_mem_backing_name(backing));
		return why;
	}
	if (access(dir, F_OK))
		snprintf(why, sizeof(why), "the kernel has no %s hugepages (%s)",
			 size, dir);
	else
		snprintf(why, sizeof(why),
			 "no free %s hugepage: echo 1 > %s/nr_hugepages", size,
			 dir);
	return why;
}

/* AnonHugePages of the smaps entry holding @addr, in KiB; -1 if unknown. */
static long smaps_anon_huge_kb(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (unsigned long)addr >= start &&
			     (unsigned long)addr < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void case_backing(void *arg)
{
	enum vm_mem_backing backing = (enum vm_mem_backing)(long)arg;
	u64 size = max_t(u64, vm_mem_backing_page_size(backing), 2 * MiB);
	u64 offs[] = { 0, size / 2 + 0x18, size - 16 }, gva;
	struct kvm_vcpu *vcpu;
	struct vm_memslot *s;
	struct kvm_vm *vm;
	void *host, *alias;
	int ret;

	if (!vm_mem_backing_available(backing))
		test_skip("%s", backing_missing(backing));
	vm = vm_create_with_one_vcpu(&vcpu, guest_backing);
	ret = __vm_memslot_add(vm, backing, BIG_GPA, TEST_SLOT,
			       size / PAGE_SIZE, 0, -1);
	if (ret == -ENOMEM)
		test_skip("%s", backing_missing(backing));
	errno = -ret;
	TEST_ASSERT(!ret, "adding a %s slot of %llu MiB",
		    vm_mem_backing_name(backing), (size / MiB));
	s = vm_memslot(vm, TEST_SLOT);
	host = s->host_mem;
	alias = s->host_alias;
	TEST_ASSERT(!alias == !(backing == VM_MEM_SHMEM ||
				backing == VM_MEM_HUGETLBFS_2M ||
				backing == VM_MEM_HUGETLBFS_1G),
		    "%s: host_alias %p", vm_mem_backing_name(backing), alias);
	/* Write through the alias when there is one: it is the same memory. */
	for (u64 i = 0; i < ARRAY_SIZE(offs); i++)
		*host_u64(alias ? alias : host, offs[i]) = HOST_PATTERN(i);
	/* Aligned like the GPA, so the guest may map it with large pages. */
	gva = map_fresh_gva(vm, BIG_GPA, size, min_t(u64, size, 1 * GiB));
	vcpu_args_set(vcpu, 2, gva, size);

	expect_sync(vcpu, 1);
	for (u64 i = 0; i < ARRAY_SIZE(offs); i++) {
		CHECK_EQ(*host_u64(host, offs[i] + 8), GUEST_PATTERN(i));
		if (alias)
			CHECK_EQ(*host_u64(alias, offs[i] + 8),
				 GUEST_PATTERN(i));
	}
	*host_u64(alias ? alias : host, offs[1]) = HOST_PATTERN(0x100);
	expect_done(vcpu);

	if (backing == VM_MEM_ANON_THP)
		printf("AnonHugePages of the slot after the guest touched it: %ld kB\n",
		       smaps_anon_huge_kb(host));
	kvm_vm_free(vm);
}

/* ---- NUMA ------------------------------------------------------------- */

#define NUMA_PAGES	8

static void guest_touch(u64 gva, u64 npages)
{
	for (u64 i = 0; i < npages; i++)
		WRITE_ONCE(*(u64 *)(gva + i * PAGE_SIZE), GUEST_PATTERN(i));
	GUEST_DONE();
}

static void case_numa(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	void *pages[NUMA_PAGES];
	int status[NUMA_PAGES];
	struct bitmask *allowed;
	int node = -1, ret;
	void *host;
	u64 gva;

	if (numa_available() < 0)
		test_skip("NUMA is not available (libnuma: no mempolicy support)");
	/* The highest node we may allocate on: on a multi-node box not node 0. */
	allowed = numa_get_mems_allowed();
	for (int n = numa_max_node(); n >= 0 && node < 0; n--)
		if (numa_bitmask_isbitset(allowed, n) && numa_node_size64(n, NULL) > 0)
			node = n;
	numa_bitmask_free(allowed);
	if (node < 0)
		test_skip("no NUMA node with memory is allowed for this process");
	printf("binding the slot to node %d of %d\n", node, numa_max_node() + 1);

	vm = vm_create_with_one_vcpu(&vcpu, guest_touch);
	ret = __vm_memslot_add(vm, VM_MEM_ANON, SLOT_GPA, TEST_SLOT, NUMA_PAGES,
			       0, node);
	errno = -ret;
	TEST_ASSERT(!ret, "adding a slot bound to node %d", node);
	host = vm_memslot(vm, TEST_SLOT)->host_mem;
	gva = map_fresh_gva(vm, SLOT_GPA, NUMA_PAGES * PAGE_SIZE, PAGE_SIZE);
	vcpu_args_set(vcpu, 2, gva, (u64)NUMA_PAGES);
	/* The host never touches the pages: KVM faults them in for the guest. */
	vcpu_run_to_done(vcpu, NULL, NULL);

	for (int i = 0; i < NUMA_PAGES; i++)
		pages[i] = (char *)host + i * PAGE_SIZE;
	ret = numa_move_pages(0, NUMA_PAGES, pages, NULL, status, 0);
	TEST_ASSERT(ret == 0, "move_pages() to query the pages' nodes");
	for (int i = 0; i < NUMA_PAGES; i++) {
		CHECK(status[i] == node,
		      "page %d of the slot is on node %d (status), expected %d",
		      i, status[i], node);
		CHECK_EQ(*host_u64(pages[i], 0), GUEST_PATTERN(i));
	}
	kvm_vm_free(vm);
}

/* ---- main ------------------------------------------------------------- */

static const enum vm_mem_backing backings_tested[] = {
	VM_MEM_SHMEM, VM_MEM_ANON_THP, VM_MEM_ANON_HUGETLB_2M,
	VM_MEM_ANON_HUGETLB_1G, VM_MEM_HUGETLBFS_2M, VM_MEM_HUGETLBFS_1G,
};

static const struct {
	void (*fn)(void *arg);
	const char *name;
} cases[] = {
	{ case_add, "add a slot: guest and host see each other's writes" },
	{ case_move, "move a slot: data follows, old GPA exits as MMIO" },
	{ case_delete, "delete a slot: accesses exit as MMIO with address, size, direction; re-add is fresh" },
	{ case_readonly, "read-only slot: reads see host data, writes exit as MMIO, memory unchanged" },
	{ case_overlap, "overlapping slots rejected with EEXIST, adjacent accepted" },
	{ case_unaligned_gpa, "unaligned GPA rejected with EINVAL" },
	{ case_unaligned_size, "unaligned size rejected with EINVAL" },
	{ case_unaligned_hva, "unaligned host address rejected with EINVAL" },
	{ case_bad_slot_id, "slot id >= KVM_CAP_NR_MEMSLOTS or bad address space rejected with EINVAL" },
	{ case_bad_change, "resize, unknown flag, read-only toggle of a slot rejected with EINVAL" },
	{ case_many_slots, "many one-page slots, up to KVM_CAP_NR_MEMSLOTS" },
	{ case_dirty_log, "dirty log: exactly the written pages, cleared by each get" },
};

int main(void)
{
	kvm_dev_fd();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(cases[i].fn, NULL, "%s", cases[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(backings_tested); i++)
		run_case(case_backing, (void *)(long)backings_tested[i],
			 "backing %s", vm_mem_backing_name(backings_tested[i]));
	run_case(case_numa, NULL,
		 "NUMA-bound slot: guest-touched pages are on the node");
	checks_exit();
}
