// SPDX-License-Identifier: GPL-2.0-only
/*
 * Run a function in a child and capture its output, so a test can check
 * that a failure (a guest assert, a bad argument) is reported as it should.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

void run_in_child(void (*fn)(void *arg), void *arg, struct child_result *res)
{
	int pipefd[2];
	size_t len = 0;
	ssize_t n;
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
		fn(arg);
		fflush(stdout);
		_exit(KSFT_PASS);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], res->output + len,
			 sizeof(res->output) - 1 - len)) > 0)
		len += n;
	res->output[len] = '\0';
	close(pipefd[0]);
	TEST_ASSERT(waitpid(pid, &res->status, 0) == pid, "waitpid");
}
