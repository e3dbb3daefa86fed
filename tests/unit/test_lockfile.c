/*
 * tests/unit/test_lockfile.c: common/lockfile.c, the locks that keep one
 * server per data dir and per network namespace. Real files in a temporary
 * folder, real processes: a second taker is refused and told the holder's
 * pid; a child forked by the holder (a sandbox, a probe's helper) does not
 * keep the lock once the holder is gone; the fd is closed on exec.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/lockfile.h"
#include "common/util.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lkt-lock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lock", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

/* The pid written in the file. Through the holder's own fd when this
 * process holds the lock (fd >= 0): opening and closing the file again
 * here would drop the record lock, as lockfile.h warns. */
static pid_t pid_in_file(int fd)
{
	char buf[32] = "";
	int own = fd < 0 ? open(path, O_RDONLY | O_CLOEXEC) : fd;
	ssize_t n = own < 0 ? -1 : pread(own, buf, sizeof(buf) - 1, 0);

	if (fd < 0 && own >= 0)
		close(own);
	return n > 0 ? (pid_t)atoi(buf) : -1;
}

/* In a child: try to take the lock; exit 0 when refused with holder want. */
static int child_refused(pid_t want)
{
	struct lockfile lf = LOCKFILE_INIT;
	pid_t holder = -1;
	pid_t c = fork();
	int st;

	if (c == 0) {
		int rc = lockfile_take(&lf, path, &holder);
		_exit(rc < 0 && errno == EWOULDBLOCK && holder == want ? 0 : 1);
	}
	ck_assert_int_gt(c, 0);
	ck_assert_int_eq(waitpid(c, &st, 0), c);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(take_writes_pid_release_unlinks)
{
	struct lockfile lf = LOCKFILE_INIT;
	pid_t holder = -1;

	ck_assert_int_eq(lockfile_take(&lf, path, &holder), 0);
	ck_assert_int_eq(holder, 0);
	ck_assert_int_eq(pid_in_file(lf.fd), getpid());
	ck_assert(fcntl(lf.fd, F_GETFD) & FD_CLOEXEC);
	lockfile_release(&lf);
	ck_assert_int_eq(lf.fd, -1);
	ck_assert_int_eq(access(path, F_OK), -1);
	lockfile_release(&lf);          /* twice: a no-op */
	lockfile_release(NULL);
	ck_assert_int_eq(lockfile_take(&lf, path, &holder), 0);    /* again */
	lockfile_release(&lf);
}
END_TEST

START_TEST(second_taker_told_the_holder)
{
	struct lockfile lf = LOCKFILE_INIT;
	pid_t holder;

	ck_assert_int_eq(lockfile_take(&lf, path, &holder), 0);
	ck_assert_int_eq(child_refused(getpid()), 0);
	ck_assert_int_eq(pid_in_file(lf.fd), getpid());  /* untouched by the refused */
	lockfile_release(&lf);
}
END_TEST

/* The holder forks a child that stays (as a pod's sandbox outlives the
 * server) and dies without releasing (SIGKILL): the lock is free at once,
 * the file left behind with the dead holder's pid is simply reused. */
START_TEST(forked_child_does_not_hold)
{
	struct lockfile lf = LOCKFILE_INIT;
	int ready[2], hold[2], st;
	pid_t holder, a;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	a = fork();
	if (a == 0) {
		close(ready[0]);
		if (lockfile_take(&lf, path, &holder) < 0)
			_exit(1);
		if (fork() == 0) {      /* the "sandbox": waits for hold to close */
			close(hold[1]);
			close(ready[1]);
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(0);
		}
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(waitpid(a, &st, 0), a);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(pid_in_file(-1), a);   /* left behind */
	ck_assert_int_eq(lockfile_take(&lf, path, &holder), 0);
	ck_assert_int_eq(pid_in_file(lf.fd), getpid());
	ck_assert_int_eq(child_refused(getpid()), 0);
	lockfile_release(&lf);
	close(hold[1]);                          /* the "sandbox" ends */
	close(ready[0]);
}
END_TEST

START_TEST(netns_path_and_name)
{
	struct stat st;
	char want[128], *p, *name;

	ck_assert_int_eq(stat("/proc/self/ns/net", &st), 0);
	snprintf(want, sizeof(want), "/run/x/netns-%llu-%llu.lock",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	p = lockfile_netns_path("/run/x");
	ck_assert_str_eq(p, want);
	free(p);
	name = lockfile_netns_name();
	ck_assert(str_has_prefix(name, "network namespace ") ||
		  !strcmp(name, "the host's network namespace"));
	free(name);
}
END_TEST

static Suite *lockfile_suite(void)
{
	Suite *s = suite_create("lockfile");
	TCase *t = tcase_create("lockfile");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, take_writes_pid_release_unlinks);
	tcase_add_test(t, second_taker_told_the_holder);
	tcase_add_test(t, forked_child_does_not_hold);
	tcase_add_test(t, netns_path_and_name);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lockfile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
