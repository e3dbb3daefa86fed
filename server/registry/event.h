/*
 * server/registry/event.h: recording core v1 Events, written through the
 * validated write path.
 */
#ifndef LK_EVENT_H
#define LK_EVENT_H

#include <cjson/cJSON.h>

struct registry;
struct event_recorder;

/* The recorder's state, one per registry (registry_new makes it): which
 * (object, type, reason, message) it wrote last, and when. */
struct event_recorder *event_recorder_new(void);
void event_recorder_free(struct event_recorder *rec);

/*
 * Events, as upstream's recorder writes them: core v1 Event named
 * "<object>.<hex time>", involvedObject from obj, source.component =
 * component (and host when given); a repeat of the same (object, type,
 * reason, message) within 10 minutes bumps count and lastTimestamp instead
 * (remembered in reg->events: another registry counts its own).
 */
void event_record(struct registry *reg, const cJSON *obj, const char *component,
		  const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Same, with the container's fieldPath (spec.containers{name}) and host. */
void event_record_path(struct registry *reg, const cJSON *obj, const char *component,
		       const char *host, const char *field_path, const char *type,
		       const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

#endif
