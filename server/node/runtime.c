/*
 * server/node/runtime.c: a pod's containers, driven from the loop.
 *
 * Starting a container: look its image up in the catalog (ErrImagePull /
 * ImagePullBackOff when missing), compute its environment (a missing
 * ConfigMap/Secret is CreateContainerConfigError), resolve its argv, write
 * what the shim runs to <id>.json and spawn `labkube _shim`. The shim's
 * report pipe says when it runs (Started) or why it could not
 * (StartError); its pidfd says when it is gone, and its <id>.state file
 * how it ended. Restarts follow restartPolicy with the kubelet's back-off
 * (CrashLoopBackOff); init containers run one by one before the others.
 * Events are the kubelet's (api-machinery.md §7).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "images/images.h"
#include "server/labkube.h"
#include "server/node/node_internal.h"
#include "server/registry/informer.h"

char *ctr_dir(const struct npod *p, const struct nctr *c)
{
	return xasprintf("%s/%s", p->dir, c->name);
}

static struct loop *loop_of(struct npod *p)
{
	return p->node->lk->loop;
}

static void set_waiting(struct nctr *c, const char *reason, const char *msg)
{
	if (c->cur.state == CTR_TERMINATED) {
		ctr_run_copy(&c->last, &c->cur);
		c->has_last = true;
	}
	ctr_run_clear(&c->cur);
	c->cur.state = CTR_WAITING;
	snprintf(c->cur.reason, sizeof(c->cur.reason), "%s", reason ? reason : "");
	ctr_run_set_msg(&c->cur, msg);
}

static void set_terminated(struct nctr *c, int code, int sig, const char *reason,
			   const char *msg, int64_t started, int64_t finished)
{
	char id[65];
	snprintf(id, sizeof(id), "%s", c->cur.id);
	ctr_run_clear(&c->cur);
	c->cur.state = CTR_TERMINATED;
	c->cur.exit_code = code;
	c->cur.signal = sig;
	snprintf(c->cur.reason, sizeof(c->cur.reason), "%s", reason ? reason : "");
	ctr_run_set_msg(&c->cur, msg);
	c->cur.started_at = started;
	c->cur.finished_at = finished;
	memcpy(c->cur.id, id, sizeof(id));
	c->ready = c->started = false;
}

/* ---- capabilities and user (securityContext) ---- */

static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
/* The container runtimes' default set. */
static const uint64_t default_caps = (1ull << 0) | (1ull << 1) | (1ull << 3) |
	(1ull << 4) | (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 8) |
	(1ull << 10) | (1ull << 13) | (1ull << 18) | (1ull << 27) | (1ull << 29) |
	(1ull << 31);

static uint64_t cap_bits(const cJSON *list)
{
	uint64_t m = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, list) {
		const char *s = cJSON_IsString(it) ? it->valuestring : "";
		if (!strncasecmp(s, "CAP_", 4))
			s += 4;
		if (!strcasecmp(s, "ALL"))
			return ~0ull;
		for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
			if (!strcasecmp(s, cap_names[i]))
				m |= 1ull << i;
	}
	return m;
}

static void security(const cJSON *pod, const cJSON *sc, cJSON *spec)
{
	const cJSON *ps = jget(pod, "spec.securityContext"), *cs = jget(sc, "securityContext");
	static const char *const ids[][2] = { { "runAsUser", "uid" }, { "runAsGroup", "gid" } };
	if (!jbool(cs, "privileged", false)) {
		uint64_t m = default_caps & ~cap_bits(jget(cs, "capabilities.drop"));
		m |= cap_bits(jget(cs, "capabilities.add"));
		cJSON_AddNumberToObject(spec, "caps", (double)(m & ((1ull << 41) - 1)));
	}
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		const cJSON *v = jget(cs, ids[i][0]);
		if (!cJSON_IsNumber(v))
			v = jget(ps, ids[i][0]);
		if (cJSON_IsNumber(v))
			cJSON_AddNumberToObject(spec, ids[i][1], v->valuedouble);
	}
}

/* ---- image, environment, argv ---- */

static const struct image *pull(struct node *n, struct npod *p, struct nctr *c,
				const cJSON *sc)
{
	const char *ref = jstr_or(sc, "image", "");
	const struct image *img = image_lookup(ref);
	int64_t now = wall_ms();
	char *msg;

	if (img) {
		c->pull_failed = false;
		memset(&c->pull_bo, 0, sizeof(c->pull_bo));
		snprintf(c->image_id, sizeof(c->image_id), "labkube://%s", img->name);
		node_event(n, p, c, "Normal", "Pulled",
			   "Container image \"%s\" already present on machine", ref);
		return img;
	}
	msg = xasprintf("image \"%s\" is not built into labkube and no registry is "
			"reachable; built-in images: %s", ref, image_names());
	if (c->pull_failed && backoff_in(&c->pull_bo, c->pull_bo.last, now)) {
		if (strcmp(c->cur.reason, "ImagePullBackOff") != 0) {
			char *bo = xasprintf("Back-off pulling image \"%s\": ErrImagePull: %s",
					     ref, msg);
			set_waiting(c, "ImagePullBackOff", bo);
			free(bo);
			node_event(n, p, c, "Normal", "BackOff", "Back-off pulling image \"%s\"", ref);
			node_event(n, p, c, "Warning", "Failed", "Error: ImagePullBackOff");
		}
		c->retry_at = c->pull_bo.last + c->pull_bo.dur;
	} else {
		backoff_next(&c->pull_bo, now);
		c->pull_failed = true;
		set_waiting(c, "ErrImagePull", msg);
		node_event(n, p, c, "Warning", "Failed", "Failed to pull image \"%s\": %s", ref, msg);
		node_event(n, p, c, "Warning", "Failed", "Error: ErrImagePull");
		c->retry_at = now + 1000;   /* show ImagePullBackOff next */
	}
	node_enqueue(n, p, c->retry_at - now);
	free(msg);
	return NULL;
}

struct svc_walk {
	const cJSON **arr;
	size_t n, alloc;
};

static int collect_svc(void *arg, const cJSON *svc)
{
	struct svc_walk *w = arg;
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? w->alloc * 2 : 32;
		w->arr = xrealloc(w->arr, w->alloc * sizeof(*w->arr));
	}
	w->arr[w->n++] = svc;
	return 0;
}

static const cJSON *cm_lookup(void *arg, const char *name)
{
	struct npod *p = arg;
	return informer_get(p->node->configmaps, p->ns, name);
}

static const cJSON *secret_lookup(void *arg, const char *name)
{
	struct npod *p = arg;
	return informer_get(p->node->secrets, p->ns, name);
}

void env_src_init(struct node *n, struct npod *p, struct env_src *s)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	memset(s, 0, sizeof(*s));
	s->pod = p->obj;
	s->pod_ip = p->ip;
	s->host_ip = n->lk->cfg.node_ip;
	s->node_name = n->lk->cfg.node_name;
	s->alloc_cpu_milli = sysconf(_SC_NPROCESSORS_ONLN) * 1000LL;
	s->alloc_memory = (long long)pages * psize;
	s->configmap = cm_lookup;
	s->secret = secret_lookup;
	s->arg = p;
}

static int make_env(struct node *n, struct npod *p, const cJSON *sc, struct env_list *env,
		    struct lk_err *err)
{
	struct svc_walk w = { 0 };
	struct env_src s;
	char host[64];
	int rc;

	env_src_init(n, p, &s);
	informer_foreach(n->services, NULL, collect_svc, &w);
	s.services = w.arr;
	s.nservices = w.n;
	pod_hostname(p->obj, host, sizeof(host));
	rc = container_env(&s, sc, host, env, err);
	free(w.arr);
	return rc;
}

/* command/args with $(VAR) expanded; NULL when absent or empty. */
static char **expanded(const cJSON *arr, const struct env_list *env)
{
	int n = cJSON_GetArraySize(arr), i = 0;
	const cJSON *it;
	char **v;
	if (n <= 0)
		return NULL;
	v = xcalloc((size_t)n + 1, sizeof(char *));
	cJSON_ArrayForEach(it, arr)
		v[i++] = env_expand(cJSON_IsString(it) ? it->valuestring : "", env);
	return v;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static cJSON *strv_json(char *const *v)
{
	cJSON *a = cJSON_CreateArray();
	for (; v && *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	return a;
}

static void add_bind(cJSON *binds, const char *src, const char *dst, bool ro, bool dir)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "src", src);
	cJSON_AddStringToObject(b, "dst", dst);
	cJSON_AddBoolToObject(b, "ro", ro);
	cJSON_AddBoolToObject(b, "dir", dir);
	cJSON_AddItemToArray(binds, b);
}

/* The pod's /etc files, its service account token and its volumes. */
static cJSON *pod_binds(struct npod *p, const cJSON *sc)
{
	static const char *const files[][2] = { { "hosts", "/etc/hosts" },
		{ "hostname", "/etc/hostname" }, { "resolv.conf", "/etc/resolv.conf" } };
	cJSON *binds = cJSON_CreateArray();
	char *path;

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		path = xasprintf("%s/%s", p->dir, files[i][0]);
		add_bind(binds, path, files[i][1], false, false);
		free(path);
	}
	if (jbool(p->obj, "spec.automountServiceAccountToken", true)) {
		path = xasprintf("%s/sa", p->dir);
		add_bind(binds, path, "/var/run/secrets/kubernetes.io/serviceaccount", true, true);
		free(path);
	}
	volume_binds(p->node, p, sc, binds);
	return binds;
}

static cJSON *shim_spec(struct node *n, struct npod *p, const cJSON *sc, char **argv,
			const struct env_list *env)
{
	cJSON *spec = cJSON_CreateObject(), *e = cJSON_CreateArray();
	char *path;

	cJSON_AddNumberToObject(spec, "sandbox", p->sb_pid);
	cJSON_AddBoolToObject(spec, "hostNetwork", p->host_network);
	cJSON_AddItemToObject(spec, "argv", strv_json(argv));
	for (size_t i = 0; i < env->n; i++) {
		path = xasprintf("%s=%s", env->names[i], env->values[i]);
		cJSON_AddItemToArray(e, cJSON_CreateString(path));
		free(path);
	}
	cJSON_AddItemToObject(spec, "env", e);
	if (jstr(sc, "workingDir") && *jstr(sc, "workingDir"))
		cJSON_AddStringToObject(spec, "cwd", jstr(sc, "workingDir"));
	cJSON_AddItemToObject(spec, "binds", pod_binds(p, sc));
	cJSON_AddItemToObject(spec, "mask", cJSON_CreateStringArray(
		(const char *const[]){ n->datadir }, 1));
	security(p->obj, sc, spec);
	return spec;
}

/* ---- spawning the shim ---- */

static void on_report(struct loop *l, int fd, int events, void *arg);
static void on_shim_exit(struct loop *l, int fd, int events, void *arg);

/* Keep the logs of this run and the previous one. */
static void prune(const char *dir, const char *keep1, const char *keep2)
{
	char *cmd_dir = xstrdup(dir);
	struct dirent *de;
	DIR *d = opendir(cmd_dir);
	while (d && (de = readdir(d))) {
		size_t idlen = strcspn(de->d_name, ".");
		if (idlen != 64 || (keep1 && !strncmp(de->d_name, keep1, 64)) ||
		    (keep2 && *keep2 && !strncmp(de->d_name, keep2, 64)))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		unlink(path);
		free(path);
	}
	if (d)
		closedir(d);
	free(cmd_dir);
}

static int spawn(struct node *n, struct npod *p, struct nctr *c, cJSON *spec,
		 struct lk_err *err)
{
	char cid[65], *dir = ctr_dir(p, c), *path, *text, cur[128], *errlog;
	uint32_t r;
	int rc = -1;

	for (int i = 0; i < 8; i++) {
		r = lk_random_u32();
		snprintf(cid + i * 8, 9, "%08x", r);
	}
	mkdir_all(dir, 0755);
	path = xasprintf("%s/%s.json", dir, cid);
	text = jprint(spec);
	if (write_file(path, text, strlen(text), 0600) < 0) {
		lk_error(err, LK_EINTERNAL, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	prune(dir, cid, c->cur.state == CTR_TERMINATED ? c->cur.id
			: c->has_last ? c->last.id : NULL);
	char *argv[] = { "labkube", "_shim", n->datadir, p->uid, c->name, cid, NULL };
	errlog = xasprintf("%s/shim.err", dir);
	c->shim = spawn_self(argv, &c->report_fd, errlog, err);
	free(errlog);
	if (c->shim < 0) {
		c->shim = 0;
		goto out;
	}
	if (c->created)
		c->restarts++;
	c->created = true;
	snprintf(cur, sizeof(cur), "%s %d\n", cid, c->restarts);
	free(path);
	path = xasprintf("%s/current", dir);
	write_file(path, cur, strlen(cur), 0644);
	c->shim_fd = pidfd_open_checked(c->shim);
	c->starting = true;
	sb_reset(&c->report);
	set_waiting(c, NULL, NULL);
	memcpy(c->cur.id, cid, sizeof(cid));
	loop_fd_add(loop_of(p), c->report_fd, LOOP_READ, on_report, c);
	if (c->shim_fd >= 0)
		loop_fd_add(loop_of(p), c->shim_fd, LOOP_READ, on_shim_exit, c);
	rc = 0;
out:
	free(text);
	free(path);
	free(dir);
	return rc;
}

static void start_ctr(struct node *n, struct npod *p, struct nctr *c)
{
	const cJSON *sc = node_spec_ctr(p, c);
	const struct image *img = pull(n, p, c, sc);
	struct env_list env = { 0 };
	struct lk_err err = { 0 };
	char **cmd = NULL, **args = NULL, **argv = NULL;
	const char *why = NULL;
	cJSON *spec = NULL;

	if (!img)
		return;
	c->config_error = false;
	if (make_env(n, p, sc, &env, &err) < 0) {
		c->config_error = true;
		set_waiting(c, "CreateContainerConfigError", err.msg);
		node_event(n, p, c, "Warning", "Failed", "Error: %s", err.msg);
		c->retry_at = wall_ms() + BACKOFF_INITIAL_MS;
		node_enqueue(n, p, BACKOFF_INITIAL_MS);
		goto out;
	}
	cmd = expanded(jget(sc, "command"), &env);
	args = expanded(jget(sc, "args"), &env);
	argv = image_ref_argv(jstr_or(sc, "image", ""), (const char *const *)cmd,
			      (const char *const *)args, &why);
	if (!argv) {
		set_waiting(c, "CreateContainerError", why ? why : "no command specified");
		node_event(n, p, c, "Warning", "Failed", "Error: %s", c->cur.message);
		c->retry_at = wall_ms() + BACKOFF_INITIAL_MS;
		node_enqueue(n, p, BACKOFF_INITIAL_MS);
		goto out;
	}
	spec = shim_spec(n, p, sc, argv, &env);
	if (spawn(n, p, c, spec, &err) < 0) {
		set_waiting(c, "RunContainerError", err.msg);
		node_event(n, p, c, "Warning", "Failed", "Error: %s", err.msg);
		c->retry_at = wall_ms() + BACKOFF_INITIAL_MS;
		node_enqueue(n, p, BACKOFF_INITIAL_MS);
		goto out;
	}
	node_event(n, p, c, "Normal", "Created", "Created container %s", c->name);
	free(c->image);
	c->image = xstrdup(jstr_or(sc, "image", ""));
out:
	cJSON_Delete(spec);
	image_argv_free(argv);
	strv_free(cmd);
	strv_free(args);
	env_release(&env);
	lk_err_clear(&err);
}

/* ---- reports and exits ---- */

static void close_report(struct nctr *c)
{
	if (c->report_fd < 0)
		return;
	loop_fd_del(loop_of(c->pod), c->report_fd);
	close(c->report_fd);
	c->report_fd = -1;
}

static void started(struct node *n, struct npod *p, struct nctr *c, pid_t pid, int64_t ns)
{
	const cJSON *sc = node_spec_ctr(p, c);
	char id[65];
	memcpy(id, c->cur.id, sizeof(id));
	ctr_run_clear(&c->cur);
	c->cur.state = CTR_RUNNING;
	c->cur.started_at = ns / 1000000000;
	memcpy(c->cur.id, id, sizeof(id));
	c->pid = pid;
	if (proc_ppid(pid) == c->shim)
		c->pid_fd = pidfd_open_checked(pid);
	c->ready = !jget(sc, "readinessProbe");
	c->started = !jget(sc, "startupProbe");
	node_event(n, p, c, "Normal", "Started", "Started container %s", c->name);
	probes_start(n, p, c);
	if (c->killing && c->pid_fd >= 0)
		pidfd_send_signal(c->pid_fd, wall_ms() >= c->kill_at ? SIGKILL : SIGTERM, NULL, 0);
}

static void read_report(struct node *n, struct npod *p, struct nctr *c, bool eof)
{
	char buf[1024], msg[1024];
	ssize_t r;
	int pid;
	long long ns;

	while ((r = read(c->report_fd, buf, sizeof(buf))) > 0)
		sb_add(&c->report, buf, (size_t)r);
	if (r < 0 && errno == EAGAIN && !eof && !(c->report.buf && strchr(c->report.buf, '\n')))
		return;
	close_report(c);
	c->starting = false;
	const char *line = c->report.buf ? c->report.buf : "";
	if (sscanf(line, "started %d %lld", &pid, &ns) == 2) {
		started(n, p, c, pid, ns);
	} else {
		int64_t now = wall_ms() / 1000;
		snprintf(msg, sizeof(msg), "%s", str_has_prefix(line, "failed ") ? line + 7
			 : "the container's shim exited before the container started");
		msg[strcspn(msg, "\n")] = 0;
		set_terminated(c, 128, 0, "StartError", msg, now, now);
		node_event(n, p, c, "Warning", "Failed", "Error: %s", msg);
	}
	node_enqueue(n, p, 0);
}

static void on_report(struct loop *l, int fd, int events, void *arg)
{
	struct nctr *c = arg;
	read_report(c->pod->node, c->pod, c, false);
}

/* A time in ns of a state file, in seconds. */
static int64_t secs(const cJSON *st, const char *key)
{
	const cJSON *v = jget(st, key);
	return cJSON_IsNumber(v) ? (int64_t)(v->valuedouble / 1e9) : 0;
}

/* The <id>.state of a run: 1 running (pid, started), 0 exited (into r),
 * -1 none. */
static int read_state(const struct npod *p, const struct nctr *c, const char *cid,
		      struct ctr_run *r, pid_t *pid)
{
	char *dir = ctr_dir(p, c), *path = xasprintf("%s/%s.state", dir, cid);
	char *text = lk_read_file(path, NULL);
	cJSON *st = text ? cJSON_Parse(text) : NULL;
	int rc = -1;

	if (st && str_eq(jstr(st, "state"), "running")) {
		*pid = (pid_t)jint(st, "pid", 0);
		r->started_at = secs(st, "startedAt");
		rc = 1;
	} else if (st && str_eq(jstr(st, "state"), "exited")) {
		ctr_run_clear(r);
		r->state = CTR_TERMINATED;
		r->exit_code = (int)jint(st, "exitCode", 0);
		r->signal = (int)jint(st, "signal", 0);
		snprintf(r->reason, sizeof(r->reason), "%s", jstr_or(st, "reason", ""));
		ctr_run_set_msg(r, jstr(st, "message"));
		r->started_at = secs(st, "startedAt");
		r->finished_at = secs(st, "finishedAt");
		snprintf(r->id, sizeof(r->id), "%s", cid);
		rc = 0;
	}
	cJSON_Delete(st);
	free(text);
	free(path);
	free(dir);
	return rc;
}

static void forget_processes(struct npod *p, struct nctr *c)
{
	if (c->shim_fd >= 0) {
		siginfo_t si;
		loop_fd_del(loop_of(p), c->shim_fd);
		waitid(P_PIDFD, (id_t)c->shim_fd, &si, WEXITED | WNOHANG);
		close(c->shim_fd);
	}
	if (c->pid_fd >= 0)
		close(c->pid_fd);
	c->shim_fd = c->pid_fd = -1;
	c->shim = c->pid = 0;
}

static void on_shim_exit(struct loop *l, int fd, int events, void *arg)
{
	struct nctr *c = arg;
	struct npod *p = c->pod;
	struct ctr_run r = { 0 };
	pid_t pid = 0;
	char cid[65];

	if (!pidfd_exited(fd))
		return;
	if (c->report_fd >= 0)
		read_report(p->node, p, c, true);
	forget_processes(p, c);
	probes_stop(c);
	snprintf(cid, sizeof(cid), "%s", c->cur.id);
	if (read_state(p, c, cid, &r, &pid) == 0) {
		set_terminated(c, r.exit_code, r.signal, r.reason, r.message, r.started_at,
			       r.finished_at);
	} else if (c->cur.state != CTR_TERMINATED) {
		int64_t now = wall_ms() / 1000;
		set_terminated(c, 137, 0, "ContainerStatusUnknown",
			       "The container could not be located when the pod was terminated",
			       c->cur.started_at ? c->cur.started_at : now, now);
	}
	ctr_run_clear(&r);
	c->starting = c->killing = false;
	node_enqueue(p->node, p, 0);
}

/* ---- adoption after a restart of the agent ---- */

static int read_current(const struct npod *p, const struct nctr *c, char *cid, int *restarts)
{
	char *dir = ctr_dir(p, c), *path = xasprintf("%s/current", dir);
	char *text = lk_read_file(path, NULL);
	int rc = text && sscanf(text, "%64s %d", cid, restarts) == 2 ? 0 : -1;
	free(text);
	free(path);
	free(dir);
	return rc;
}

/* lastState.terminated from the status the API holds. */
static void last_from_api(struct npod *p, struct nctr *c)
{
	const cJSON *cs, *t;
	cJSON_ArrayForEach(cs, jget(p->obj, c->init ? "status.initContainerStatuses"
						     : "status.containerStatuses")) {
		if (!str_eq(jstr(cs, "name"), c->name) || !(t = jget(cs, "lastState.terminated")))
			continue;
		ctr_run_clear(&c->last);
		c->last.state = CTR_TERMINATED;
		c->last.exit_code = (int)jint(t, "exitCode", 0);
		snprintf(c->last.reason, sizeof(c->last.reason), "%s", jstr_or(t, "reason", ""));
		ctr_run_set_msg(&c->last, jstr(t, "message"));
		c->last.started_at = lk_parse_rfc3339(jstr_or(t, "startedAt", ""));
		c->last.finished_at = lk_parse_rfc3339(jstr_or(t, "finishedAt", ""));
		const char *id = jstr_or(t, "containerID", "");
		snprintf(c->last.id, sizeof(c->last.id), "%s",
			 str_has_prefix(id, "labkube://") ? id + 10 : "");
		c->has_last = true;
	}
}

static void image_id(struct nctr *c, const cJSON *sc)
{
	const struct image *img = image_lookup(jstr_or(sc, "image", ""));
	if (img)
		snprintf(c->image_id, sizeof(c->image_id), "labkube://%s", img->name);
}

void runtime_load_state(struct node *n, struct npod *p, struct nctr *c)
{
	char cid[65];
	struct ctr_run r = { 0 };
	pid_t pid = 0;

	if (read_current(p, c, cid, &c->restarts) < 0)
		return;
	c->created = true;
	last_from_api(p, c);
	image_id(c, node_spec_ctr(p, c));
	memcpy(c->cur.id, cid, sizeof(cid));
	if (read_state(p, c, cid, &r, &pid) == 0) {
		set_terminated(c, r.exit_code, r.signal, r.reason, r.message, r.started_at,
			       r.finished_at);
	} else {
		int64_t now = wall_ms() / 1000;
		set_terminated(c, 137, 0, "ContainerStatusUnknown",
			       "The container could not be located when the pod was terminated",
			       r.started_at ? r.started_at : now, now);
	}
	ctr_run_clear(&r);
}

void runtime_adopt(struct node *n, struct npod *p, struct nctr *c, pid_t shim)
{
	const cJSON *sc = node_spec_ctr(p, c);
	struct ctr_run r = { 0 };
	char cid[65];
	pid_t pid = 0;

	if (read_current(p, c, cid, &c->restarts) < 0)
		return;
	c->created = true;
	last_from_api(p, c);
	image_id(c, sc);
	c->shim = shim;
	c->shim_fd = pidfd_open_checked(shim);
	ctr_run_clear(&c->cur);
	memcpy(c->cur.id, cid, sizeof(cid));
	if (read_state(p, c, cid, &r, &pid) == 1 && proc_ppid(pid) == shim) {
		c->cur.state = CTR_RUNNING;
		c->cur.started_at = r.started_at;
		c->pid = pid;
		c->pid_fd = pidfd_open_checked(pid);
		c->ready = !jget(sc, "readinessProbe");
		c->started = !jget(sc, "startupProbe");
		probes_start(n, p, c);
	}
	ctr_run_clear(&r);
	if (c->shim_fd >= 0)
		loop_fd_add(loop_of(p), c->shim_fd, LOOP_READ, on_shim_exit, c);
}

/* ---- killing ---- */

void runtime_kill_ctr(struct node *n, struct npod *p, struct nctr *c, int64_t grace_s,
		      const char *why)
{
	int64_t now = wall_ms();
	if (!c->shim)
		return;
	if (c->killing) {
		if (now >= c->kill_at && c->pid_fd >= 0)
			pidfd_send_signal(c->pid_fd, SIGKILL, NULL, 0);
		else if (now < c->kill_at)
			node_enqueue(n, p, c->kill_at - now + 20);
		return;
	}
	c->killing = true;
	c->kill_at = now + grace_s * 1000;
	if (why && *why)
		node_event(n, p, c, "Normal", "Killing", "%s", why);
	else if (!why)
		node_event(n, p, c, "Normal", "Killing", "Stopping container %s", c->name);
	if (c->pid_fd >= 0)
		pidfd_send_signal(c->pid_fd, grace_s > 0 ? SIGTERM : SIGKILL, NULL, 0);
	if (grace_s > 0)
		node_enqueue(n, p, grace_s * 1000 + 20);
}

void runtime_kill_all(struct node *n, struct npod *p, int64_t grace_s, const char *why)
{
	for (size_t i = 0; i < p->n; i++)
		runtime_kill_ctr(n, p, &p->ctrs[i], grace_s, why);
}

bool runtime_all_stopped(const struct npod *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->ctrs[i].shim || p->ctrs[i].starting)
			return false;
	return true;
}

void runtime_ctr_release(struct node *n, struct nctr *c)
{
	probes_stop(c);
	close_report(c);
	forget_processes(c->pod, c);
	sb_release(&c->report);
	ctr_run_clear(&c->cur);
	ctr_run_clear(&c->last);
	free(c->image);
	free(c->name);
}

/* ---- the step ---- */

/* The run a restart decision is about: the one that just ended. */
static const struct ctr_run *ended(const struct nctr *c)
{
	if (c->cur.state == CTR_TERMINATED)
		return &c->cur;
	if (c->cur.state == CTR_WAITING && c->has_last && *c->cur.reason &&
	    !strcmp(c->cur.reason, "CrashLoopBackOff"))
		return &c->last;
	return NULL;
}

/* Restart c now, or wait in CrashLoopBackOff. */
static void restart(struct node *n, struct npod *p, struct nctr *c, const struct ctr_run *e)
{
	int64_t now = wall_ms(), ev = e->finished_at * 1000;
	if (backoff_in(&c->bo, ev, now)) {
		char d[32];
		if (strcmp(c->cur.reason, "CrashLoopBackOff") != 0) {
			go_duration(c->bo.dur, d, sizeof(d));
			char *msg = xasprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
					      d, c->name, p->name, p->ns, p->uid);
			set_waiting(c, "CrashLoopBackOff", msg);
			free(msg);
			node_event(n, p, c, "Warning", "BackOff",
				   "Back-off restarting failed container %s in pod %s_%s(%s)",
				   c->name, p->name, p->ns, p->uid);
		}
		node_enqueue(n, p, ev + c->bo.dur - now + 10);
		return;
	}
	backoff_next(&c->bo, ev);
	start_ctr(n, p, c);
}

static bool wants_restart(const struct npod *p, const struct nctr *c, const struct ctr_run *e)
{
	const char *policy = jstr_or(p->obj, "spec.restartPolicy", "Always");
	if (c->init)
		return e->exit_code != 0 && strcmp(policy, "Never") != 0;
	return !strcmp(policy, "Always") || (!strcmp(policy, "OnFailure") && e->exit_code != 0);
}

/* `kubectl set image` on a pod: the kubelet restarts the container. */
static void spec_change(struct node *n, struct npod *p, struct nctr *c)
{
	const char *img = jstr_or(node_spec_ctr(p, c), "image", "");
	char why[400];
	if (!c->image || c->killing || !strcmp(c->image, img))
		return;
	snprintf(why, sizeof(why), "Container %s definition changed, will be restarted", c->name);
	c->changed = true;
	runtime_kill_ctr(n, p, c, jint(p->obj, "spec.terminationGracePeriodSeconds", 30), why);
}

/* One container's turn: true when it runs or has finished for good. */
static bool step_ctr(struct node *n, struct npod *p, struct nctr *c)
{
	const struct ctr_run *e;
	if (c->shim || c->starting) {
		if (c->cur.state == CTR_RUNNING && !c->init)
			spec_change(n, p, c);
		return c->cur.state == CTR_RUNNING;
	}
	e = ended(c);
	if (e && c->changed) {
		c->changed = false;
		start_ctr(n, p, c);
		return false;
	}
	if (e) {
		if (wants_restart(p, c, e))
			restart(n, p, c, e);
		return !wants_restart(p, c, e);
	}
	if (c->retry_at && wall_ms() < c->retry_at) {
		node_enqueue(n, p, c->retry_at - wall_ms());
		return false;
	}
	c->retry_at = 0;
	start_ctr(n, p, c);
	return false;
}

void runtime_step(struct node *n, struct npod *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->ctrs[i].killing)   /* a liveness restart: enforce its grace */
			runtime_kill_ctr(n, p, &p->ctrs[i], 0, NULL);
	for (size_t i = 0; i < p->ninit; i++) {
		struct nctr *c = &p->ctrs[i];
		if (c->cur.state == CTR_TERMINATED && c->cur.exit_code == 0 && !c->shim)
			continue;
		step_ctr(n, p, c);
		return;   /* init containers run one at a time */
	}
	for (size_t i = p->ninit; i < p->n; i++)
		step_ctr(n, p, &p->ctrs[i]);
}
