// SPDX-License-Identifier: GPL-2.0-only
/*
 * demand_paging: guest memory that does not exist until userspace provides
 * it, the way post-copy live migration feeds a guest.
 *
 * The host mapping of a memslot is registered with userfaultfd in
 * missing-page mode. A guest's first access to one of its pages makes KVM
 * fault on absent host memory: the vCPU thread waits in the kernel while a
 * host thread answers with UFFDIO_COPY of a page whose contents name it.
 * Several vCPUs fault at once, each on its own share of the slot. The
 * guests check that every page holds what was served for it, then write
 * to it; the host checks that each page was asked for exactly once (a
 * fault KVM lost, or retried without need, shows) and that the guests'
 * writes reached the host mapping.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_util.h"

#define DATA_SLOT	1
#define DATA_GPA	0x40000000ULL	/* 1 GiB */
#define DATA_GVA	0x540000000000ULL
#define NR_VCPUS	4
#define PAGES_PER_VCPU	128
#define NR_PAGES	(NR_VCPUS * PAGES_PER_VCPU)
#define WRITTEN		0x77726974ULL	/* "writ" */

static u64 served_value(u64 page)
{
	return 0x5345525645440000ULL | page;	/* "SERVED" + page */
}

/*
 * Per vCPU: pages whose served contents it did not see. Counted, not
 * checked in the guest: the vCPUs run in threads, and a case's checks are
 * the main thread's to make.
 */
static u64 wrong_reads[NR_VCPUS];

static void guest_main(u64 first_page)
{
	for (u64 i = 0; i < PAGES_PER_VCPU; i++) {
		u64 page = first_page + i;
		u64 *p = (u64 *)(DATA_GVA + page * PAGE_SIZE);

		if (READ_ONCE(p[0]) != served_value(page))
			wrong_reads[first_page / PAGES_PER_VCPU]++;
		WRITE_ONCE(p[1], WRITTEN | page << 32);
	}
	GUEST_DONE();
}

struct server {
	int uffd;
	int stop[2];		/* a pipe: readable when the server must end */
	u8 *base;		/* host mapping of the slot */
	int requests[NR_PAGES];
	int stray;		/* faults outside the slot or not page faults */
};

/* Answer each missing-page fault with the page's served contents. */
static void *serve(void *arg)
{
	struct server *s = arg;
	u64 *page_buf = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	struct pollfd fds[2] = {
		{ .fd = s->uffd, .events = POLLIN },
		{ .fd = s->stop[0], .events = POLLIN },
	};

	TEST_ASSERT(page_buf, "out of memory");
	for (;;) {
		struct uffdio_copy copy = { 0 };
		struct uffd_msg msg;
		u64 page;

		TEST_ASSERT(poll(fds, 2, -1) > 0, "poll on the userfaultfd");
		if (fds[1].revents)
			break;
		if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;	/* EAGAIN: another wakeup took it */
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			s->stray++;
			continue;
		}
		page = (msg.arg.pagefault.address - (u64)s->base) / PAGE_SIZE;
		if (page >= NR_PAGES) {
			s->stray++;
			continue;
		}
		s->requests[page]++;
		memset(page_buf, 0, PAGE_SIZE);
		page_buf[0] = served_value(page);
		copy.dst = (u64)s->base + page * PAGE_SIZE;
		copy.src = (u64)page_buf;
		copy.len = PAGE_SIZE;
		if (!ioctl(s->uffd, UFFDIO_COPY, &copy))
			continue;
		/*
		 * Asked again for a page already served: the second request
		 * is counted (and fails the test); wake its waiter anyway.
		 */
		TEST_ASSERT(errno == EEXIST, "UFFDIO_COPY of page %llu",
			    page);
		TEST_ASSERT(!ioctl(s->uffd, UFFDIO_WAKE, &(struct uffdio_range){
					.start = copy.dst, .len = PAGE_SIZE }),
			    "UFFDIO_WAKE of page %llu", page);
	}
	free(page_buf);
	return NULL;
}

static int uffd_open(void)
{
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };

	if (uffd < 0 && (errno == EPERM || errno == EACCES))
		test_skip("userfaultfd: permission denied (run as root, or sysctl vm.unprivileged_userfaultfd=1)");
	if (uffd < 0)
		test_skip("userfaultfd unavailable (errno %d): the kernel needs CONFIG_USERFAULTFD",
			  errno);
	TEST_ASSERT(!ioctl(uffd, UFFDIO_API, &api), "UFFDIO_API");
	return uffd;
}

static void *run_vcpu(void *arg)
{
	vcpu_run_to_done(arg, NULL, NULL);
	return NULL;
}

int main(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS], server_thread;
	struct server s = { 0 };
	struct uffdio_register reg = { 0 };
	int once = 0, lost = 0, written = 0;
	struct kvm_vm *vm;

	s.uffd = uffd_open();
	vm = vm_create_with_vcpus(NR_VCPUS, guest_main, vcpus);
	vm_memslot_add(vm, VM_MEM_ANON, DATA_GPA, DATA_SLOT, NR_PAGES, 0);
	virt_map(vm, DATA_GVA, DATA_GPA, NR_PAGES * PAGE_SIZE);
	s.base = addr_gpa2hva(vm, DATA_GPA);

	reg.range.start = (u64)s.base;
	reg.range.len = NR_PAGES * PAGE_SIZE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	TEST_ASSERT(!ioctl(s.uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER");
	TEST_ASSERT(!pipe(s.stop), "pipe");
	TEST_ASSERT(!pthread_create(&server_thread, NULL, serve, &s),
		    "pthread_create");

	for (int i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 1, (u64)i * PAGES_PER_VCPU);
		TEST_ASSERT(!pthread_create(&threads[i], NULL, run_vcpu, vcpus[i]),
			    "pthread_create");
	}
	for (int i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);
	case_begin("%d vCPUs read the contents served for each of their %d pages",
		   NR_VCPUS, PAGES_PER_VCPU);
	for (int i = 0; i < NR_VCPUS; i++)
		CHECK(!read_guest_global(vm, wrong_reads[i]),
		      "vCPU %d read %llu of its pages with other contents", i,
		      read_guest_global(vm, wrong_reads[i]));

	TEST_ASSERT(write(s.stop[1], "", 1) == 1, "stopping the server");
	pthread_join(server_thread, NULL);
	for (int i = 0; i < NR_PAGES; i++) {
		u64 *p = (u64 *)(s.base + (u64)i * PAGE_SIZE);

		once += s.requests[i] == 1;
		lost += s.requests[i] == 0;
		written += p[1] == (WRITTEN | (u64)i << 32);
	}
	case_begin("each of %d pages was asked for exactly once", NR_PAGES);
	CHECK(once == NR_PAGES && !s.stray,
	      "%d once, %d never, %d other events", once, lost, s.stray);
	case_begin("the guests' writes reached the host mapping");
	CHECK(written == NR_PAGES, "%d of %d pages", written, NR_PAGES);
	kvm_vm_free(vm);
	checks_exit();
}
