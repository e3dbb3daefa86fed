/*
 * server/node/probe.c: startup, liveness and readiness probes, as the
 * kubelet's prober workers run them (pkg/kubelet/prober): one timer per
 * probe (initialDelaySeconds, then every periodSeconds), success and
 * failure thresholds, Unhealthy events worded as upstream.
 *
 * httpGet and tcpSocket are non-blocking sockets from the agent to the pod
 * IP (the node's namespace routes to every pod, as the kubelet's host
 * network does); exec forks a child that joins the container's namespaces
 * and runs the command. All three report back to the loop; none blocks it.
 * A failed liveness or startup probe restarts the container; readiness
 * feeds containerStatuses[].ready and the pod's Ready condition. gRPC
 * probes count as passing (no gRPC client here).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "server/labkube.h"
#include "server/node/node_internal.h"

enum { P_STARTUP, P_LIVENESS, P_READINESS };
static const char *const kind_key[] = { "startupProbe", "livenessProbe", "readinessProbe" };
static const char *const kind_name[] = { "Startup", "Liveness", "Readiness" };

struct probe {
	struct node *n;
	struct npod *p;
	struct nctr *c;
	int kind;
	cJSON *spec;
	struct loop_timer *timer, *timeout;
	int successes, failures;
	bool ok;                 /* the probe's current result */
	bool busy;
	int fd;                  /* socket or exec output pipe */
	pid_t child;
	int child_fd;            /* pidfd of the exec child */
	struct strbuf buf;
	char target[128];        /* "10.244.0.5:8080" */
	char url[512];
};

static struct loop *loop_of(struct probe *pr)
{
	return pr->n->lk->loop;
}

static int64_t on_period(struct loop *l, void *arg);
static void start_one(struct node *n, struct npod *p, struct nctr *c, int kind);

/* ---- results ---- */

static void end_check(struct probe *pr)
{
	if (pr->fd >= 0) {
		loop_fd_del(loop_of(pr), pr->fd);
		close(pr->fd);
		pr->fd = -1;
	}
	if (pr->child_fd >= 0) {
		siginfo_t si;
		loop_fd_del(loop_of(pr), pr->child_fd);
		pidfd_send_signal(pr->child_fd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, (id_t)pr->child_fd, &si, WEXITED);
		close(pr->child_fd);
		pr->child_fd = -1;
	}
	if (pr->timeout) {
		loop_timer_del(loop_of(pr), pr->timeout);
		pr->timeout = NULL;
	}
	sb_reset(&pr->buf);
	pr->busy = false;
}

static void apply(struct probe *pr, bool was_ok)
{
	struct nctr *c = pr->c;
	char why[160];
	int64_t grace;

	if (pr->kind == P_READINESS) {
		if (c->ready != pr->ok) {
			c->ready = pr->ok;
			node_enqueue(pr->n, pr->p, 0);
		}
		return;
	}
	if (pr->kind == P_STARTUP && pr->ok && !c->started) {
		c->started = true;     /* now liveness and readiness; this one stops */
		start_one(pr->n, pr->p, c, P_LIVENESS);
		start_one(pr->n, pr->p, c, P_READINESS);
		node_enqueue(pr->n, pr->p, 0);
		return;
	}
	if (!pr->ok && was_ok) {
		grace = jint(pr->spec, "terminationGracePeriodSeconds",
			     jint(pr->p->obj, "spec.terminationGracePeriodSeconds", 30));
		snprintf(why, sizeof(why), "Container %s failed %s probe, will be restarted",
			 c->name, pr->kind == P_STARTUP ? "startup" : "liveness");
		runtime_kill_ctr(pr->n, pr->p, c, grace, why);
	}
}

static void result(struct probe *pr, bool ok, const char *msg)
{
	bool was_ok = pr->ok;
	end_check(pr);
	if (ok) {
		pr->failures = 0;
		if (++pr->successes >= jint(pr->spec, "successThreshold", 1))
			pr->ok = true;
	} else {
		pr->successes = 0;
		node_event(pr->n, pr->p, pr->c, "Warning", "Unhealthy", "%s probe failed: %s",
			   kind_name[pr->kind], msg);
		if (++pr->failures >= jint(pr->spec, "failureThreshold", 3))
			pr->ok = false;
	}
	if (pr->ok != was_ok || (pr->kind == P_STARTUP && pr->ok))
		apply(pr, was_ok);
}

static int64_t on_timeout(struct loop *l, void *arg)
{
	struct probe *pr = arg;
	char msg[700];
	pr->timeout = NULL;
	if (jget(pr->spec, "httpGet"))
		snprintf(msg, sizeof(msg), "Get \"%s\": context deadline exceeded "
			 "(Client.Timeout exceeded while awaiting headers)", pr->url);
	else if (jget(pr->spec, "tcpSocket"))
		snprintf(msg, sizeof(msg), "dial tcp %s: i/o timeout", pr->target);
	else
		snprintf(msg, sizeof(msg), "command timed out after %llds",
			 jint(pr->spec, "timeoutSeconds", 1));
	result(pr, false, msg);
	return -1;
}

/* ---- tcpSocket and httpGet ---- */

/* strerror as Go prints it: lower case ("connection refused"). */
static void go_errno(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	buf[0] = (char)(buf[0] >= 'A' && buf[0] <= 'Z' ? buf[0] + 32 : buf[0]);
}

static int port_of(const struct probe *pr, const cJSON *port)
{
	const cJSON *p;
	if (cJSON_IsNumber(port))
		return (int)port->valuedouble;
	if (cJSON_IsString(port)) {
		if (atoi(port->valuestring) > 0)
			return atoi(port->valuestring);
		cJSON_ArrayForEach(p, jget(node_spec_ctr(pr->p, pr->c), "ports"))
			if (str_eq(jstr(p, "name"), port->valuestring))
				return (int)jint(p, "containerPort", 0);
	}
	return -1;
}

static void on_http(struct loop *l, int fd, int events, void *arg)
{
	struct probe *pr = arg;
	char buf[4096], msg[1024];
	ssize_t n;
	int code;

	if (events & LOOP_WRITE) {
		int e = 0;
		socklen_t el = sizeof(e);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) {
			char err[128];
			go_errno(e, err, sizeof(err));
			if (*pr->url)
				snprintf(msg, sizeof(msg), "Get \"%s\": dial tcp %s: connect: %s",
					 pr->url, pr->target, err);
			else
				snprintf(msg, sizeof(msg), "dial tcp %s: connect: %s", pr->target, err);
			result(pr, false, msg);
			return;
		}
		if (!jget(pr->spec, "httpGet")) {
			result(pr, true, NULL);
			return;
		}
		if (send(fd, pr->buf.buf, pr->buf.len, MSG_NOSIGNAL) < 0) {
			result(pr, false, strerror(errno));
			return;
		}
		sb_reset(&pr->buf);
		loop_fd_mod(l, fd, LOOP_READ);
		return;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n > 0)
		sb_add(&pr->buf, buf, (size_t)n);
	if (n > 0 && !strstr(pr->buf.buf, "\r\n"))
		return;
	if (n < 0 && errno == EAGAIN)
		return;
	if (!pr->buf.buf || sscanf(pr->buf.buf, "HTTP/%*s %d", &code) != 1) {
		snprintf(msg, sizeof(msg), "Get \"%s\": EOF", pr->url);
		result(pr, false, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "HTTP probe failed with statuscode: %d", code);
	result(pr, code >= 200 && code < 400, msg);
}

static void check_net(struct probe *pr, const cJSON *act, bool http)
{
	const char *host = jstr(act, "host");
	int port = port_of(pr, jget(act, "port"));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint32_t ip;

	if (!host || !*host)
		host = pr->p->ip;
	snprintf(pr->target, sizeof(pr->target), "%s:%d", host, port);
	pr->url[0] = 0;
	if (port <= 0 || lk_ip4_parse(host, &ip) < 0) {
		result(pr, false, "invalid probe target");
		return;
	}
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons((uint16_t)port);
	if (http) {
		const cJSON *h;
		snprintf(pr->url, sizeof(pr->url), "%s://%s%s",
			 !strcasecmp(jstr_or(act, "scheme", "HTTP"), "HTTPS") ? "https" : "http",
			 pr->target, jstr_or(act, "path", "/"));
		sb_addf(&pr->buf, "GET %s HTTP/1.1\r\nHost: %s\r\n", jstr_or(act, "path", "/"),
			pr->target);
		cJSON_ArrayForEach(h, jget(act, "httpHeaders"))
			sb_addf(&pr->buf, "%s: %s\r\n", jstr_or(h, "name", "X"), jstr_or(h, "value", ""));
		sb_adds(&pr->buf, "User-Agent: kube-probe/1.32\r\nAccept: */*\r\n"
				  "Connection: close\r\n\r\n");
	}
	pr->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pr->fd < 0 || (connect(pr->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
			   errno != EINPROGRESS)) {
		char msg[512], err[128];
		go_errno(errno, err, sizeof(err));
		snprintf(msg, sizeof(msg), "dial tcp %s: connect: %s", pr->target, err);
		result(pr, false, msg);
		return;
	}
	loop_fd_add(loop_of(pr), pr->fd, LOOP_WRITE, on_http, pr);
}

/* ---- exec ---- */

static void on_exec_out(struct loop *l, int fd, int events, void *arg)
{
	struct probe *pr = arg;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0 && pr->buf.len < 65536)
		sb_add(&pr->buf, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		loop_fd_del(l, fd);
		close(fd);
		pr->fd = -1;
	}
}

static void on_exec_done(struct loop *l, int fd, int events, void *arg)
{
	struct probe *pr = arg;
	siginfo_t si = { 0 };
	char *out;

	if (pr->fd >= 0)
		on_exec_out(l, pr->fd, LOOP_READ, pr);
	waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
	loop_fd_del(l, fd);
	close(fd);
	pr->child_fd = -1;
	out = xstrdup(pr->buf.buf ? pr->buf.buf : "");
	if (si.si_code == CLD_EXITED && si.si_status == 0) {
		result(pr, true, NULL);
	} else {
		if (!*out) {
			free(out);
			out = xasprintf("command terminated with exit code %d", si.si_status);
		}
		result(pr, false, out);
	}
	free(out);
}

/* In the child: join the container, then run the command as PID >1 of its
 * PID namespace. */
static void exec_child(int cpidfd, char **argv, int out)
{
	int st;
	if (setns(cpidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) < 0)
		_exit(126);
	pid_t g = fork();
	if (g == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < 32; s++)
			signal(s, SIG_DFL);
		dup2(out, 1);
		dup2(out, 2);
		close_range(3, ~0u, 0);   /* none of the server's fds */
		if (chdir("/") < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(out, "exec: \"%s\": %s", argv[0], strerror(errno));
		_exit(127);
	}
	if (g < 0 || waitpid(g, &st, 0) < 0)
		_exit(126);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void check_exec(struct probe *pr, const cJSON *act)
{
	int p[2];
	int n = cJSON_GetArraySize(jget(act, "command")), i = 0;
	char **argv;
	const cJSON *it;
	pid_t child;

	if (n <= 0 || pr->c->pid_fd < 0) {
		result(pr, false, "no command");
		return;
	}
	argv = xcalloc((size_t)n + 1, sizeof(char *));
	cJSON_ArrayForEach(it, jget(act, "command"))
		argv[i++] = cJSON_IsString(it) ? it->valuestring : "";
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(argv);
		result(pr, false, strerror(errno));
		return;
	}
	child = fork();
	if (child == 0) {
		close(p[0]);
		fcntl(p[1], F_SETFD, 0);
		exec_child(pr->c->pid_fd, argv, p[1]);
	}
	free(argv);
	close(p[1]);
	if (child < 0) {
		close(p[0]);
		result(pr, false, strerror(errno));
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	pr->fd = p[0];
	pr->child = child;
	pr->child_fd = pidfd_open_checked(child);
	loop_fd_add(loop_of(pr), pr->fd, LOOP_READ, on_exec_out, pr);
	if (pr->child_fd >= 0)
		loop_fd_add(loop_of(pr), pr->child_fd, LOOP_READ, on_exec_done, pr);
}

/* ---- scheduling ---- */

static int64_t on_period(struct loop *l, void *arg)
{
	struct probe *pr = arg;
	const cJSON *act;

	if (pr->c->cur.state != CTR_RUNNING || (pr->kind == P_STARTUP && pr->c->started)) {
		pr->timer = NULL;
		return -1;
	}
	if (!pr->busy) {
		pr->busy = true;
		pr->timeout = loop_timer_add(l, jint(pr->spec, "timeoutSeconds", 1) * 1000,
					     on_timeout, pr);
		if ((act = jget(pr->spec, "httpGet")))
			check_net(pr, act, true);
		else if ((act = jget(pr->spec, "tcpSocket")))
			check_net(pr, act, false);
		else if ((act = jget(pr->spec, "exec")))
			check_exec(pr, act);
		else
			result(pr, true, NULL);
	}
	return jint(pr->spec, "periodSeconds", 10) * 1000;
}

static void probe_free(struct probe *pr)
{
	if (!pr)
		return;
	end_check(pr);
	if (pr->timer)
		loop_timer_del(loop_of(pr), pr->timer);
	cJSON_Delete(pr->spec);
	sb_release(&pr->buf);
	free(pr);
}

static void start_one(struct node *n, struct npod *p, struct nctr *c, int kind)
{
	const cJSON *spec = jget(node_spec_ctr(p, c), kind_key[kind]);
	struct probe *pr;
	int64_t delay;

	if (!spec || c->probes[kind])
		return;
	pr = xcalloc(1, sizeof(*pr));
	pr->n = n;
	pr->p = p;
	pr->c = c;
	pr->kind = kind;
	pr->spec = cJSON_Duplicate(spec, 1);
	pr->fd = pr->child_fd = -1;
	pr->ok = kind == P_LIVENESS;   /* alive until proven dead; not ready until ready */
	delay = jint(spec, "initialDelaySeconds", 0) * 1000;
	pr->timer = loop_timer_add(n->lk->loop, delay > 0 ? delay : 1, on_period, pr);
	c->probes[kind] = pr;
}

void probes_start(struct node *n, struct npod *p, struct nctr *c)
{
	if (c->cur.state != CTR_RUNNING)
		return;
	if (!c->started) {
		start_one(n, p, c, P_STARTUP);
		return;
	}
	start_one(n, p, c, P_LIVENESS);
	start_one(n, p, c, P_READINESS);
}

void probes_stop(struct nctr *c)
{
	for (int k = 0; k < 3; k++) {
		probe_free(c->probes[k]);
		c->probes[k] = NULL;
	}
}
