/*
 * images/img_pause.c: registry.k8s.io/pause, the sandbox image
 * (kubernetes/build/pause/linux/pause.c): warns when it is not PID 1,
 * reaps children, and on SIGINT or SIGTERM prints "Shutting down, got
 * signal: Terminated" and exits 0. "-v" prints its version (the tag).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/img.h"

static volatile sig_atomic_t got_signal;

static void sigdown(int sig)
{
	got_signal = sig;
}

static void sigreap(int sig)
{
	int e = errno;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

int img_pause_main(int argc, char **argv)
{
	struct sigaction down = { .sa_handler = sigdown };
	struct sigaction reap = { .sa_handler = sigreap, .sa_flags = SA_NOCLDSTOP };
	sigset_t block, old;

	for (int i = 1; i < argc; i++)
		if (!strcasecmp(argv[i], "-v")) {
			const char *v = img_version();
			printf("pause.c v%s\n", strcmp(v, "latest") ? v : "3.10");
			return 0;
		}
	if (getpid() != 1)
		fprintf(stderr, "Warning: pause should be the first process\n");
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &down, NULL);
	sigaction(SIGTERM, &down, NULL);
	sigaction(SIGCHLD, &reap, NULL);
	while (!got_signal)
		sigsuspend(&old);
	psignal(got_signal, "Shutting down, got signal");
	return 0;
}
