// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest_memfd API on its own (in-tree guest_memfd_test ground): what
 * KVM_CREATE_GUEST_MEMFD accepts, that the file cannot be mapped, read or
 * written, which fallocate modes it takes, the rules for binding it to
 * memslots, and that it outlives its VM.
 *
 * Checks what guest_memfd_test checks (sizes, flags, mmap/read/write
 * refusal, fallocate alignment and bounds, punch-hole, distinct inodes)
 * and adds the binding rules — offsets, bounds, a signed-looking offset
 * (the "binding offset+size as unsigned" fix of 6.12.y), overlapping and
 * disjoint second slots, a file of another VM, a VM without private
 * memory — and the file's life after its VM is gone.
 *
 * On Debian's stock 6.12 guest_memfd can be created on a default VM
 * (CONFIG_KVM_AMD_SEV selects private memory) but only bound where the VM
 * type has private memory; the binding case needs a software-protected VM
 * and skips, saying so, without one.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private_vm.h"
#include "test_check.h"

#define GMEM_SIZE	(64 * PAGE_SIZE)

/* A VM that can create guest_memfd: a default one if KVM lets it. */
static struct kvm_vm *gmem_vm(void)
{
	struct vm_options opts = { .va_bits = 48, .numa_node = -1 };
	struct kvm_vm *vm = vm_create(&opts);
	int fd = __vm_create_guest_memfd(vm, PAGE_SIZE, 0);
	int err = errno;

	if (fd >= 0) {
		close(fd);
		return vm;
	}
	kvm_vm_free(vm);
	if (pvm_sw_protected.unavailable())
		test_skip("KVM_CREATE_GUEST_MEMFD on a default VM fails (%s) and %s",
			  strerror(err), pvm_sw_protected.unavailable());
	opts.type = KVM_X86_SW_PROTECTED_VM;
	return vm_create(&opts);
}

static void create_rules(void *arg)
{
	struct kvm_vm *vm = gmem_vm();
	struct stat a, b;
	int fd1, fd2;

	CHECK(__vm_create_guest_memfd(vm, 0, 0) < 0 && errno == EINVAL,
	      "size 0: errno %d, expected EINVAL", errno);
	CHECK(__vm_create_guest_memfd(vm, PAGE_SIZE + 1, 0) < 0 && errno == EINVAL,
	      "unaligned size: errno %d, expected EINVAL", errno);
	CHECK(__vm_create_guest_memfd(vm, -PAGE_SIZE, 0) < 0 && errno == EINVAL,
	      "negative size: errno %d, expected EINVAL", errno);
	/* Bits 0 and 1 became flags in later kernels; the rest never were. */
	for (int bit = 2; bit < 64; bit++)
		CHECK(__vm_create_guest_memfd(vm, PAGE_SIZE, BIT_ULL(bit)) < 0 &&
		      errno == EINVAL, "flag bit %d: errno %d, expected EINVAL",
		      bit, errno);

	fd1 = vm_create_guest_memfd(vm, PAGE_SIZE, 0);
	fd2 = vm_create_guest_memfd(vm, 2 * PAGE_SIZE, 0);
	TEST_ASSERT(!fstat(fd1, &a) && !fstat(fd2, &b), "fstat");
	CHECK_EQ(a.st_size, PAGE_SIZE);
	CHECK_EQ(b.st_size, 2 * PAGE_SIZE);
	CHECK_EQ(a.st_blksize, PAGE_SIZE);
	CHECK(a.st_ino != b.st_ino, "two guest_memfds share inode %lu",
	      (unsigned long)a.st_ino);
	/* The size is fixed at creation. */
	CHECK(ftruncate(fd1, 2 * PAGE_SIZE) < 0, "ftruncate of a guest_memfd succeeded");
	close(fd1);
	close(fd2);
	kvm_vm_free(vm);
}

static void no_access(void *arg)
{
	struct kvm_vm *vm = gmem_vm();
	int fd = vm_create_guest_memfd(vm, GMEM_SIZE, 0);
	char buf[64];
	void *p;

	p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p == MAP_FAILED, "mmap of a guest_memfd (flags 0) succeeded");
	if (p != MAP_FAILED)
		munmap(p, PAGE_SIZE);
	CHECK(read(fd, buf, sizeof(buf)) < 0, "read() of a guest_memfd succeeded");
	CHECK(write(fd, buf, sizeof(buf)) < 0, "write() to a guest_memfd succeeded");
	CHECK(pread(fd, buf, sizeof(buf), 0) < 0, "pread() succeeded");
	CHECK(pwrite(fd, buf, sizeof(buf), 0) < 0, "pwrite() succeeded");
	close(fd);
	kvm_vm_free(vm);
}

#define FALLOC(mode, off, len)	fallocate(fd, mode, off, len)
#define KEEP			FALLOC_FL_KEEP_SIZE
#define PUNCH			(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

static void fallocate_modes(void *arg)
{
	struct kvm_vm *vm = gmem_vm();
	int fd = vm_create_guest_memfd(vm, GMEM_SIZE, 0);

	CHECK(!FALLOC(KEEP, 0, GMEM_SIZE), "allocate all: errno %d", errno);
	CHECK(FALLOC(0, 0, PAGE_SIZE) < 0 && errno == EOPNOTSUPP,
	      "without KEEP_SIZE: errno %d, expected EOPNOTSUPP", errno);
	CHECK(FALLOC(FALLOC_FL_ZERO_RANGE | KEEP, 0, PAGE_SIZE) < 0 &&
	      errno == EOPNOTSUPP, "ZERO_RANGE: errno %d, expected EOPNOTSUPP", errno);
	CHECK(FALLOC(KEEP, 1, PAGE_SIZE) < 0 && errno == EINVAL,
	      "unaligned offset: errno %d, expected EINVAL", errno);
	CHECK(FALLOC(KEEP, 0, PAGE_SIZE - 1) < 0 && errno == EINVAL,
	      "unaligned length: errno %d, expected EINVAL", errno);
	CHECK(FALLOC(KEEP, GMEM_SIZE, PAGE_SIZE) < 0,
	      "allocating at the end succeeded");
	CHECK(FALLOC(KEEP, GMEM_SIZE - PAGE_SIZE, 2 * PAGE_SIZE) < 0,
	      "allocating across the end succeeded");
	CHECK(FALLOC(PUNCH, 1, PAGE_SIZE) < 0 && errno == EINVAL,
	      "unaligned punch: errno %d, expected EINVAL", errno);
	CHECK(!FALLOC(PUNCH, PAGE_SIZE, PAGE_SIZE), "punch: errno %d", errno);
	CHECK(!FALLOC(PUNCH, GMEM_SIZE, PAGE_SIZE),
	      "punch past the end: errno %d", errno);
	CHECK(!FALLOC(KEEP, PAGE_SIZE, PAGE_SIZE), "refill the hole: errno %d", errno);
	close(fd);
	kvm_vm_free(vm);
}

static int bind(struct kvm_vm *vm, u32 slot, u64 gpa, u64 size, int fd,
		u64 offset, void *hva)
{
	return __vm_set_user_memory_region2(vm, slot, KVM_MEM_GUEST_MEMFD, gpa,
					    size, hva, fd, offset);
}

static void binding_rules(void *arg)
{
	struct vm_options opts = { .va_bits = 48, .numa_node = -1 };
	const char *no = pvm_sw_protected.unavailable();
	struct kvm_vm *vm, *other;
	u64 gpa = 4 * GiB, half = GMEM_SIZE / 2;
	int fd, other_fd;
	void *hva;

	if (no)
		case_skip("binding needs a VM with private memory: %s", no);
	opts.type = KVM_X86_SW_PROTECTED_VM;
	vm = vm_create(&opts);
	other = vm_create(&opts);
	fd = vm_create_guest_memfd(vm, GMEM_SIZE, 0);
	other_fd = vm_create_guest_memfd(other, GMEM_SIZE, 0);
	hva = mmap(NULL, GMEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(hva != MAP_FAILED, "mmap");

	CHECK(bind(vm, 10, gpa, half, fd, 1, hva) < 0 && errno == EINVAL,
	      "unaligned offset: errno %d, expected EINVAL", errno);
	CHECK(bind(vm, 10, gpa, half, fd, GMEM_SIZE - PAGE_SIZE, hva) < 0 &&
	      errno == EINVAL, "range past the file's end: errno %d, expected EINVAL",
	      errno);
	/* As a signed loff_t this offset is negative and "fits": it must not. */
	CHECK(bind(vm, 10, gpa, half, fd, 1ULL << 63, hva) < 0 && errno == EINVAL,
	      "offset 1<<63: errno %d, expected EINVAL", errno);
	CHECK(bind(vm, 10, gpa, half, other_fd, 0, hva) < 0 && errno == EINVAL,
	      "another VM's guest_memfd: errno %d, expected EINVAL", errno);
	CHECK(bind(vm, 10, gpa, half, vm->kvm_fd, 0, hva) < 0 && errno == EINVAL,
	      "a file that is not a guest_memfd: errno %d, expected EINVAL", errno);

	CHECK(!bind(vm, 10, gpa, half, fd, 0, hva), "first half: errno %d", errno);
	/* The same pages of the file again, through a second slot. */
	CHECK(bind(vm, 11, gpa + GiB, half, fd, 0, hva) < 0 && errno == EINVAL,
	      "second slot on the same range: errno %d, expected EINVAL", errno);
	CHECK(bind(vm, 11, gpa + GiB, half, fd, PAGE_SIZE, hva) < 0 &&
	      errno == EINVAL, "second slot overlapping by all but a page: errno %d, expected EINVAL",
	      errno);
	CHECK(!bind(vm, 11, gpa + GiB, half, fd, half, (char *)hva + half),
	      "second slot on the other half: errno %d", errno);
	/* A guest_memfd slot cannot change its flags or move. */
	CHECK(__vm_set_user_memory_region2(vm, 10, 0, gpa, half, hva, fd, 0) < 0,
	      "dropping KVM_MEM_GUEST_MEMFD from a live slot succeeded");
	/* Deleting slot 10 frees its range for a new binding. */
	CHECK(!bind(vm, 10, gpa, 0, fd, 0, hva), "delete: errno %d", errno);
	CHECK(!bind(vm, 12, gpa + 2 * GiB, half, fd, 0, hva),
	      "rebinding the freed range: errno %d", errno);

	close(fd);
	close(other_fd);
	kvm_vm_free(other);
	kvm_vm_free(vm);
	munmap(hva, GMEM_SIZE);
}

/* A VM without private memory refuses the flag, whatever the file. */
static void default_vm_refuses(void *arg)
{
	struct kvm_vm *vm = gmem_vm();
	struct kvm_vm *plain = vm_create(NULL);
	int fd = vm_create_guest_memfd(vm, GMEM_SIZE, 0);
	int own = __vm_create_guest_memfd(plain, GMEM_SIZE, 0);
	void *hva = mmap(NULL, GMEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(hva != MAP_FAILED, "mmap");
	if (own >= 0) {
		CHECK(bind(plain, 10, 4 * GiB, GMEM_SIZE, own, 0, hva) < 0 &&
		      errno == EINVAL,
		      "guest_memfd slot on a default VM: errno %d, expected EINVAL",
		      errno);
		close(own);
	}
	CHECK(bind(plain, 10, 4 * GiB, GMEM_SIZE, fd, 0, hva) < 0 && errno == EINVAL,
	      "guest_memfd slot with another VM's file on a default VM: errno %d, expected EINVAL",
	      errno);
	/* The default VM still takes a plain slot there. */
	CHECK(!__vm_set_user_memory_region2(plain, 10, 0, 4 * GiB, GMEM_SIZE,
					    hva, -1, 0),
	      "plain slot through KVM_SET_USER_MEMORY_REGION2: errno %d", errno);
	close(fd);
	kvm_vm_free(plain);
	kvm_vm_free(vm);
	munmap(hva, GMEM_SIZE);
}

static void outlives_vm(void *arg)
{
	struct kvm_vm *vm = gmem_vm();
	int fd = vm_create_guest_memfd(vm, GMEM_SIZE, 0);
	struct stat st;

	kvm_vm_free(vm);	/* closes the VM fd; the file holds the VM */
	CHECK(!fstat(fd, &st) && st.st_size == GMEM_SIZE,
	      "fstat after the VM fd closed: errno %d, size %lld", errno,
	      (long long)st.st_size);
	CHECK(!fallocate(fd, KEEP, 0, PAGE_SIZE), "allocate after the VM: errno %d",
	      errno);
	CHECK(!fallocate(fd, PUNCH, 0, PAGE_SIZE), "punch after the VM: errno %d",
	      errno);
	close(fd);
}

int main(void)
{
	kvm_dev_fd();
	run_case(create_rules, NULL, "create: sizes, flags, fstat, distinct inodes, fixed size");
	run_case(no_access, NULL, "no mmap, read or write");
	run_case(fallocate_modes, NULL, "fallocate: modes, alignment, bounds, punch-hole");
	run_case(binding_rules, NULL, "binding: offsets, bounds, other files, overlap, second slot");
	run_case(default_vm_refuses, NULL, "binding: a default VM refuses guest_memfd slots");
	run_case(outlives_vm, NULL, "the file outlives its VM");
	checks_exit();
}
