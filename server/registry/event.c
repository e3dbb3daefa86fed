/*
 * server/registry/event.c: see event.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/htab.h"
#include "common/json.h"
#include "common/util.h"
#include "server/registry/event.h"
#include "server/registry/registry.h"
#include "server/registry/write.h"
#include "server/resources/resources.h"
#include "server/store/store.h"

struct seen_event {
	char *name;
	time_t last;
};

struct event_recorder {
	struct htab seen; /* (uid, type, reason, message) → event name */
};

struct event_recorder *event_recorder_new(void)
{
	return xcalloc(1, sizeof(struct event_recorder));
}

static void seen_free(void *v)
{
	struct seen_event *se = v;
	free(se->name);
	free(se);
}

void event_recorder_free(struct event_recorder *rec)
{
	if (!rec)
		return;
	htab_clear(&rec->seen, seen_free);
	free(rec);
}

static void record(struct registry *reg, const cJSON *obj, const char *component,
		   const char *host, const char *field_path, const char *type,
		   const char *reason, const char *msg)
{
	struct lk_err err = { 0 };
	const char *ns = jstr_or(obj, "metadata.namespace", "");
	const char *name = jstr_or(obj, "metadata.name", "");
	char ts[32], *key;
	struct timespec rt;
	time_t now = time(NULL);
	struct seen_event *se;

	if (!*ns)
		ns = "default";
	key = xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", jstr_or(obj, "metadata.uid", name),
			field_path ? field_path : "", type, reason, msg);
	lk_rfc3339(now, ts);
	se = htab_gets(&reg->events->seen, key);
	if (se && now - se->last < 600) {
		cJSON *ev = NULL;
		if (store_get(reg->store, "events", ns, se->name, &ev, NULL) == 0) {
			jset_int(ev, "count", jint(ev, "count", 1) + 1);
			jset_str(ev, "lastTimestamp", ts);
			if (obj_update(reg, &res_event, ns, se->name, ev, 0, &err) == 0) {
				se->last = now;
				cJSON_Delete(ev);
				free(key);
				return;
			}
			lk_err_clear(&err);
		}
		cJSON_Delete(ev);
	}
	cJSON *ev = cJSON_CreateObject();
	clock_gettime(CLOCK_REALTIME, &rt);
	char *evname = xasprintf("%s.%llx", name, (unsigned long long)rt.tv_sec * 1000000000ull +
				 (unsigned long long)rt.tv_nsec);
	jset_str(ev, "metadata.name", evname);
	jset_str(ev, "metadata.namespace", ns);
	cJSON *io = jobj(ev, "involvedObject");
	static const char *const copy[] = { "kind", "apiVersion" };
	for (size_t i = 0; i < ARRAY_SIZE(copy); i++)
		if (jstr(obj, copy[i]))
			cJSON_AddStringToObject(io, copy[i], jstr(obj, copy[i]));
	cJSON_AddStringToObject(io, "namespace", jstr_or(obj, "metadata.namespace", ""));
	cJSON_AddStringToObject(io, "name", name);
	cJSON_AddStringToObject(io, "uid", jstr_or(obj, "metadata.uid", ""));
	cJSON_AddStringToObject(io, "resourceVersion", jstr_or(obj, "metadata.resourceVersion", ""));
	if (field_path)
		cJSON_AddStringToObject(io, "fieldPath", field_path);
	jset_str(ev, "reason", reason);
	jset_str(ev, "message", msg);
	jset_str(ev, "source.component", component);
	if (host)
		jset_str(ev, "source.host", host);
	jset_str(ev, "firstTimestamp", ts);
	jset_str(ev, "lastTimestamp", ts);
	jset_int(ev, "count", 1);
	jset_str(ev, "type", type);
	jset_str(ev, "reportingComponent", component);
	jset_str(ev, "reportingInstance", host ? host : "");
	if (obj_create(reg, &res_event, ns, ev, 0, &err) == 0) {
		se = xcalloc(1, sizeof(*se));
		se->name = evname;
		se->last = now;
		evname = NULL;
		struct seen_event *old = htab_puts(&reg->events->seen, key, se);
		if (old)
			seen_free(old);
	} else {
		lk_err_clear(&err);
	}
	free(evname);
	free(key);
	cJSON_Delete(ev);
}

void event_record(struct registry *reg, const cJSON *obj, const char *component,
		  const char *type, const char *reason, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	record(reg, obj, component, NULL, NULL, type, reason, sb.buf ? sb.buf : "");
	sb_release(&sb);
}

void event_record_path(struct registry *reg, const cJSON *obj, const char *component,
		       const char *host, const char *field_path, const char *type,
		       const char *reason, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	record(reg, obj, component, host, field_path, type, reason, sb.buf ? sb.buf : "");
	sb_release(&sb);
}
