// SPDX-License-Identifier: GPL-2.0-only
/*
 * Run a function in a child and capture its output, so a test can check
 * that a failure (a guest assert, a bad argument) is reported as it should.
 */
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_check.h"
#include "internal.h"

/*
 * Fork a child that runs fn(arg) with stdout and stderr on a pipe, and
 * exits KSFT_PASS if fn returns. Returns the child's pid; *out_fd is the
 * pipe's read end.
 */
static pid_t spawn_child(void (*fn)(void *arg), void *arg, int *out_fd)
{
	int pipefd[2];
	pid_t pid;

	TEST_ASSERT(pipe(pipefd) == 0, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		/* A pipe would make stdout fully buffered: stream by line. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		/* The child is a test of its own: no case, no TAP line yet. */
		checks_reset();
		fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(KSFT_PASS);
	}
	close(pipefd[1]);
	*out_fd = pipefd[0];
	return pid;
}

void run_in_child(void (*fn)(void *arg), void *arg, struct child_result *res)
{
	int fd;
	size_t len = 0;
	ssize_t n;
	pid_t pid = spawn_child(fn, arg, &fd);

	for (;;) {
		char discard[512];

		/*
		 * Once the buffer is full keep draining: a child blocked on
		 * a full pipe would never exit and waitpid() would hang.
		 */
		if (len < sizeof(res->output) - 1)
			n = read(fd, res->output + len,
				 sizeof(res->output) - 1 - len);
		else
			n = read(fd, discard, sizeof(discard));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < sizeof(res->output) - 1)
			len += n;
	}
	res->output[len] = '\0';
	close(fd);
	TEST_ASSERT(waitpid(pid, &res->status, 0) == pid, "waitpid");
}

/*
 * Run fn(arg) in a child and stream what it prints as "# " lines while it
 * runs, so a case that hangs until the runner's timeout still shows how far
 * it got. A "SKIP: reason" line (test_skip(), case_skip()) is kept in
 * @skip instead. Returns the child's wait status.
 */
int child_stream(void (*fn)(void *arg), void *arg, char *skip, size_t skip_len)
{
	char line[1024];
	size_t len = 0;
	int fd, status;
	pid_t pid;

	pid = spawn_child(fn, arg, &fd);
	for (;;) {
		ssize_t n = read(fd, line + len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || line[len] == '\n' || len == sizeof(line) - 2) {
			if (n > 0 && line[len] != '\n')
				len++;
			line[len] = '\0';
			if (!strncmp(line, "SKIP: ", 6))
				snprintf(skip, skip_len, "%s", line + 6);
			else if (len)
				tap_info("%s", line);
			len = 0;
			if (n <= 0)
				break;
			continue;
		}
		len++;
	}
	close(fd);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	return status;
}
