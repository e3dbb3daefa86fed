/*
 * server/node/logs.c: container logs. The shim writes each line in the CRI
 * format ("2024-05-13T13:37:30.123456789Z stdout F text", P for a partial
 * line); this file reads them back as `kubectl logs` shows them, and serves
 * GET /api/v1/namespaces/NS/pods/NAME/log with container, follow,
 * tailLines, sinceSeconds, sinceTime, timestamps, previous and limitBytes
 * (k8s.io/kubernetes pkg/kubelet/kuberuntime/logs; the apiserver's
 * pod/rest/log.go for the container checks; errors as the kubelet words
 * them in validateContainerLogStatus).
 *
 * The node agent registers the handler (logs_serve) with the registry at
 * start, so the API routes to it without knowing the node. follow streams
 * chunked (serve.h's stream): new lines are picked up every 200 ms, across
 * one rotation, until the container stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "server/labkube.h"
#include "server/node/node_internal.h"
#include "server/registry/serve.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

/* ---- the CRI format (pure) ---- */

static int64_t parse_ts(const char *s, size_t len)
{
	struct tm tm = { 0 };
	int64_t frac = 0, scale = 1000000000;
	size_t i = 19;
	if (len < 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
			       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (scale > 1) {
				scale /= 10;
				frac += (s[i] - '0') * scale;
			}
	return (int64_t)timegm(&tm) * 1000000000 + frac;
}

int log_parse_line(const char *s, size_t len, struct log_line *out)
{
	const char *sp1 = memchr(s, ' ', len), *sp2, *sp3;
	if (!sp1)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - s));
	if (!sp2)
		return -1;
	sp3 = memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - s));
	out->ts = s;
	out->ts_len = (size_t)(sp1 - s);
	out->ts_ns = parse_ts(s, out->ts_len);
	if (out->ts_ns < 0)
		return -1;
	if (!sp3) {   /* no tag: the whole rest is text (older writers) */
		out->partial = false;
		out->text = sp2 + 1;
		out->text_len = len - (size_t)(sp2 + 1 - s);
		return 0;
	}
	out->partial = sp3 - sp2 == 2 && sp2[1] == 'P';
	out->text = sp3 + 1;
	out->text_len = len - (size_t)(sp3 + 1 - s);
	return 0;
}

/* Where the last `tail` lines start. */
static size_t tail_start(const char *buf, size_t len, long tail)
{
	size_t i = len;
	long lines = 0;
	if (tail < 0)
		return 0;
	if (tail == 0)
		return len;
	if (i && buf[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (buf[i - 1] == '\n' && ++lines == tail)
			return i;
		i--;
	}
	return 0;
}

void log_render(const char *buf, size_t len, const struct log_opts *o, struct strbuf *out)
{
	size_t pos = tail_start(buf, len, o->tail);
	bool at_line_start = true;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - buf - pos) : len - pos;
		struct log_line ln;
		if (log_parse_line(buf + pos, l, &ln) == 0 &&
		    (!o->since_ns || ln.ts_ns >= o->since_ns)) {
			if (o->timestamps && at_line_start) {
				sb_add(out, ln.ts, ln.ts_len);
				sb_addc(out, ' ');
			}
			sb_add(out, ln.text, ln.text_len);
			if (!ln.partial)
				sb_addc(out, '\n');
			at_line_start = !ln.partial;
		}
		pos += l + 1;
		if (o->limit >= 0 && (long long)out->len >= o->limit) {
			out->len = (size_t)o->limit;
			if (out->buf)
				out->buf[out->len] = 0;
			break;
		}
	}
}

/* ---- which container, which run ---- */

static void names_of(const cJSON *pod, struct strbuf *sb)
{
	static const char *const lists[] = { "spec.initContainers", "spec.containers",
					     "spec.ephemeralContainers" };
	const cJSON *c;
	int n = 0;
	sb_addc(sb, '[');
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		cJSON_ArrayForEach(c, jget(pod, lists[i]))
			sb_addf(sb, "%s%s", n++ ? " " : "", jstr_or(c, "name", ""));
	sb_addc(sb, ']');
}

static bool has_ctr(const cJSON *pod, const char *name, bool *init)
{
	static const char *const lists[] = { "spec.initContainers", "spec.containers",
					     "spec.ephemeralContainers" };
	const cJSON *c;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		cJSON_ArrayForEach(c, jget(pod, lists[i]))
			if (str_eq(jstr(c, "name"), name)) {
				*init = i == 0;
				return true;
			}
	return false;
}

/* apiserver validateContainer: the container name, or a 400. */
static int pick_container(const cJSON *pod, const char *want, char *out, bool *init,
			  struct lk_err *err)
{
	const char *pname = jstr_or(pod, "metadata.name", "");
	const cJSON *ctrs = jget(pod, "spec.containers");
	struct strbuf sb = STRBUF_INIT;

	if (want && *want) {
		if (!has_ctr(pod, want, init))
			return lk_error(err, LK_EBADREQUEST, "container %s is not valid for pod %s",
					want, pname);
		snprintf(out, 254, "%s", want);
		return 0;
	}
	if (cJSON_GetArraySize(ctrs) == 1) {
		snprintf(out, 254, "%s", jstr_or(cJSON_GetArrayItem(ctrs, 0), "name", ""));
		*init = false;
		return 0;
	}
	if (!cJSON_GetArraySize(ctrs))
		return lk_error(err, LK_EBADREQUEST, "a container name must be specified for pod %s",
				pname);
	names_of(pod, &sb);
	lk_error(err, LK_EBADREQUEST, "a container name must be specified for pod %s, choose one of: %s",
		 pname, sb.buf);
	sb_release(&sb);
	return -1;
}

static const char *id_of(const char *cid)
{
	return cid && str_has_prefix(cid, "labkube://") ? cid + 10 : cid;
}

/* kubelet validateContainerLogStatus: the container id to read, or a 400. */
static int pick_run(const cJSON *pod, const char *name, bool init, bool previous,
		    char *cid, struct lk_err *err)
{
	const char *pname = jstr_or(pod, "metadata.name", "");
	const cJSON *st = NULL, *cs, *last, *w, *t;
	const char *id = NULL;

	cJSON_ArrayForEach(cs, jget(pod, init ? "status.initContainerStatuses"
					      : "status.containerStatuses"))
		if (str_eq(jstr(cs, "name"), name))
			st = cs;
	if (!st)
		return lk_error(err, LK_EBADREQUEST,
				"container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating",
				name, pname);
	last = jget(st, "lastState.terminated");
	t = jget(st, "state.terminated");
	w = jget(st, "state.waiting");
	if (previous) {
		id = jstr(last, "containerID");
		if (!id || !*id)
			return lk_error(err, LK_EBADREQUEST,
					"previous terminated container \"%s\" in pod \"%s\" not found",
					name, pname);
	} else if (jget(st, "state.running")) {
		id = jstr(st, "containerID");
	} else if (t) {
		id = jstr(t, "containerID");
		if (!id || !*id)
			id = jstr(last, "containerID");
		if (!id || !*id)
			return lk_error(err, LK_EBADREQUEST, "container \"%s\" in pod \"%s\" is terminated",
					name, pname);
	} else if (last) {
		id = jstr(last, "containerID");
		if (!id || !*id)
			return lk_error(err, LK_EBADREQUEST, "container \"%s\" in pod \"%s\" is terminated",
					name, pname);
	} else {
		const char *reason = jstr_or(w, "reason", "");
		if (!strcmp(reason, "ErrImagePull"))
			reason = "image can't be pulled";
		else if (!strcmp(reason, "ImagePullBackOff"))
			reason = "trying and failing to pull image";
		return lk_error(err, LK_EBADREQUEST,
				"container \"%s\" in pod \"%s\" is waiting to start: %s", name, pname,
				*reason ? reason : "ContainerCreating");
	}
	snprintf(cid, 65, "%s", id_of(id));
	return 0;
}

/* ---- options ---- */

static int parse_opts(struct sub_call *c, struct log_opts *o, struct lk_err *err)
{
	const char *tail = c->ops->arg(c, "tailLines"), *ss = c->ops->arg(c, "sinceSeconds");
	const char *st = c->ops->arg(c, "sinceTime"), *lb = c->ops->arg(c, "limitBytes");
	struct timespec now;

	o->tail = tail ? atol(tail) : -1;
	o->limit = lb ? atoll(lb) : -1;
	o->timestamps = c->ops->arg_bool(c, "timestamps");
	o->since_ns = 0;
	if (tail && o->tail < 0)
		return lk_error(err, LK_EBADREQUEST, "tailLines: Invalid value: %ld: must be "
				"greater than or equal to 0", o->tail);
	if (lb && o->limit < 1)
		return lk_error(err, LK_EBADREQUEST, "limitBytes: Invalid value: %lld: must be "
				"greater than 0", o->limit);
	if (ss && st)
		return lk_error(err, LK_EBADREQUEST,
				"at most one of sinceTime or sinceSeconds may be specified");
	clock_gettime(CLOCK_REALTIME, &now);
	if (ss) {
		long s = atol(ss);
		if (s < 1)
			return lk_error(err, LK_EBADREQUEST, "sinceSeconds: Invalid value: %ld: "
					"must be greater than 0", s);
		o->since_ns = ((int64_t)now.tv_sec - s) * 1000000000 + now.tv_nsec;
	} else if (st) {
		time_t t = lk_parse_rfc3339(st);
		if (t < 0)
			return lk_error(err, LK_EBADREQUEST, "sinceTime: Invalid value: \"%s\"", st);
		o->since_ns = (int64_t)t * 1000000000;
	}
	return 0;
}

/* ---- follow streams ---- */

struct log_stream {
	struct node *node;
	struct sub_call *call;     /* the API's end of the stream */
	char *path, *state_path;
	int fd;
	ino_t ino;
	struct strbuf raw;         /* bytes read, not yet a whole line */
	struct strbuf out;         /* rendered, not yet handed over */
	struct log_opts o;
	struct loop_timer *timer;
	struct log_stream *next;
};

/* Whole lines of raw are rendered into out; the rest waits for its newline. */
static void render_raw(struct log_stream *s)
{
	char *last = s->raw.buf ? memrchr(s->raw.buf, '\n', s->raw.len) : NULL;
	size_t n;
	if (!last)
		return;
	n = (size_t)(last - s->raw.buf) + 1;
	if (s->o.limit != 0)
		log_render(s->raw.buf, n, &s->o, &s->out);
	if (s->o.limit > 0) {
		s->o.limit = s->o.limit > (long long)s->out.len ? s->o.limit - (long long)s->out.len : 0;
	}
	memmove(s->raw.buf, s->raw.buf + n, s->raw.len - n);
	s->raw.len -= n;
	s->raw.buf[s->raw.len] = 0;
}

static void read_more(struct log_stream *s)
{
	char buf[65536];
	ssize_t n;
	struct stat st;
	while (s->fd >= 0 && (n = read(s->fd, buf, sizeof(buf))) > 0)
		sb_add(&s->raw, buf, (size_t)n);
	if (stat(s->path, &st) == 0 && st.st_ino != s->ino) {
		/* rotated: the old file is read to its end (again: the shim
		 * may have written to it after the read above, before its
		 * rename), now the new one */
		while (s->fd >= 0 && (n = read(s->fd, buf, sizeof(buf))) > 0)
			sb_add(&s->raw, buf, (size_t)n);
		if (s->fd >= 0)
			close(s->fd);
		s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
		s->ino = st.st_ino;
		while (s->fd >= 0 && (n = read(s->fd, buf, sizeof(buf))) > 0)
			sb_add(&s->raw, buf, (size_t)n);
	}
	render_raw(s);
}

static bool ctr_done(const struct log_stream *s)
{
	char *text = lk_read_file(s->state_path, NULL);
	bool done = !text || !strstr(text, "\"running\"");
	free(text);
	return done;
}

/* Hand out what is rendered. */
static void flush(struct log_stream *s)
{
	s->call->ops->write(s->call, s->out.buf, s->out.len);
	sb_reset(&s->out);
}

static void stream_free(struct log_stream *s)
{
	for (struct log_stream **pp = &s->node->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->timer)
		loop_timer_del(s->node->lk->loop, s->timer);
	if (s->fd >= 0)
		close(s->fd);
	sb_release(&s->raw);
	sb_release(&s->out);
	free(s->path);
	free(s->state_path);
	free(s);
}

/* The stream is over: what is left goes out, then the end. */
static void stream_end(struct log_stream *s)
{
	flush(s);
	s->call->ops->end(s->call);
	stream_free(s);
}

static int64_t on_tick(struct loop *l, void *arg)
{
	struct log_stream *s = arg;
	bool done = ctr_done(s);
	read_more(s);
	if (done || s->o.limit == 0) {
		s->timer = NULL;
		stream_end(s);
		return -1;
	}
	flush(s);
	return 200;
}

/* The client left (or the API stops) first. */
static void on_gone(void *arg)
{
	stream_free(arg);
}

void logs_close_all(struct node *n)
{
	while (n->streams)
		stream_end(n->streams);
}

static void follow(struct sub_call *c, struct node *n, char *path, char *state,
		   int fd, const struct log_opts *o, struct strbuf *first)
{
	struct log_stream *s = xcalloc(1, sizeof(*s));
	struct stat st;

	s->node = n;
	s->call = c;
	s->path = path;
	s->state_path = state;
	s->fd = fd;
	s->ino = fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
	s->o = *o;
	s->o.tail = -1;
	s->next = n->streams;
	n->streams = s;
	s->timer = loop_timer_add(n->lk->loop, 200, on_tick, s);
	c->ops->stream(c, 200, "text/plain", on_gone, s);
	c->ops->write(c, first->buf, first->len);
}

/* ---- the handler ---- */

static char *pods_dir(struct node *n)
{
	char real[PATH_MAX];
	if (n->podsdir)
		return xstrdup(n->podsdir);
	return xasprintf("%s/pods", realpath(n->lk->cfg.data_dir, real) ? real : n->lk->cfg.data_dir);
}

/* The rendered log of one run; opens the current file into *fd. */
static void read_logs(const char *base, const struct log_opts *o, struct strbuf *out, int *fd)
{
	char *old = xasprintf("%s.log.1", base), *cur = xasprintf("%s.log", base);
	char *a = lk_read_file(old, NULL), buf[65536];
	struct strbuf all = STRBUF_INIT;
	ssize_t n;
	if (a)
		sb_adds(&all, a);
	*fd = open(cur, O_RDONLY | O_CLOEXEC);
	while (*fd >= 0 && (n = read(*fd, buf, sizeof(buf))) > 0)
		sb_add(&all, buf, (size_t)n);
	/* an unfinished last line waits (follow) or is dropped */
	char *last = all.buf ? memrchr(all.buf, '\n', all.len) : NULL;
	size_t whole = last ? (size_t)(last - all.buf) + 1 : 0;
	log_render(all.buf ? all.buf : "", whole, o, out);
	if (*fd >= 0 && whole < all.len)
		lseek(*fd, -(off_t)(all.len - whole), SEEK_CUR);
	sb_release(&all);
	free(a);
	free(old);
	free(cur);
}

/* GET .../namespaces/NS/pods/NAME/log, registered with the registry by
 * node_start (serve.h). */
void logs_serve(void *arg, struct sub_call *c)
{
	struct node *n = arg;
	struct lk_err err = { 0 };
	struct log_opts o;
	struct strbuf out = STRBUF_INIT;
	cJSON *pod = NULL;
	char name[254], cid[65];
	bool init = false;
	int fd = -1;

	if (strcmp(c->method, "GET") != 0) {
		lk_error(&err, LK_EMETHOD,
			 "the server does not allow this method on the requested resource");
		goto fail;
	}
	if (store_get(n->lk->store, "pods", c->ns, c->name, &pod, NULL) < 0) {
		lk_err_notfound(&err, "", "pods", c->name);
		goto fail;
	}
	if (pick_container(pod, c->ops->arg(c, "container"), name, &init, &err) < 0 ||
	    parse_opts(c, &o, &err) < 0)
		goto fail;
	if (!jstr(pod, "spec.nodeName")) {
		c->ops->reply(c, 200, "text/plain", xstrdup(""), 0);
		goto out;
	}
	if (pick_run(pod, name, init, c->ops->arg_bool(c, "previous"), cid, &err) < 0)
		goto fail;
	char *dir = pods_dir(n);
	char *base = xasprintf("%s/%s/%s/%s", dir, jstr_or(pod, "metadata.uid", ""), name, cid);
	free(dir);
	read_logs(base, &o, &out, &fd);
	if (c->ops->arg_bool(c, "follow") && !c->ops->arg_bool(c, "previous") &&
	    (o.limit < 0 || (long long)out.len < o.limit)) {
		char *path = xasprintf("%s.log", base), *state = xasprintf("%s.state", base);
		if (o.limit > 0)
			o.limit -= (long long)out.len;
		follow(c, n, path, state, fd, &o, &out);
		fd = -1;
	} else {
		size_t len = out.len;
		c->ops->reply(c, 200, "text/plain", sb_detach(&out, &len), len);
	}
	free(base);
	goto out;
fail:
	c->ops->reply_err(c, &err);
out:
	if (fd >= 0)
		close(fd);
	sb_release(&out);
	cJSON_Delete(pod);
}
