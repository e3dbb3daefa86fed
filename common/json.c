/*
 * common/json.c: see json.h.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"

/* Walk path; with create, make missing objects. */
static cJSON *walk(cJSON *obj, const char *path, bool create, const char **last)
{
	const char *p = path, *dot;
	char key[256];
	while ((dot = strchr(p, '.'))) {
		size_t n = (size_t)(dot - p);
		if (!obj || !cJSON_IsObject(obj) || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, key);
		if (!next || !cJSON_IsObject(next)) {
			if (!create)
				return NULL;
			if (next)
				cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
			next = cJSON_AddObjectToObject(obj, key);
		}
		obj = next;
		p = dot + 1;
	}
	*last = p;
	return obj;
}

cJSON *jget(const cJSON *obj, const char *path)
{
	const char *last;
	cJSON *parent = walk((cJSON *)obj, path, false, &last);
	if (!parent || !cJSON_IsObject(parent))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(parent, last);
}

const char *jstr(const cJSON *obj, const char *path)
{
	cJSON *v = jget(obj, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *jstr_or(const cJSON *obj, const char *path, const char *dflt)
{
	const char *s = jstr(obj, path);
	return s ? s : dflt;
}

long long jint(const cJSON *obj, const char *path, long long dflt)
{
	cJSON *v = jget(obj, path);
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble >= 9.2e18)
			return LLONG_MAX;
		if (v->valuedouble <= -9.2e18)
			return LLONG_MIN;
		return (long long)v->valuedouble;
	}
	if (cJSON_IsString(v) && *v->valuestring) {
		char *end;
		errno = 0;
		long long n = strtoll(v->valuestring, &end, 10);
		if (!*end && !errno)
			return n;
	}
	return dflt;
}

bool jbool(const cJSON *obj, const char *path, bool dflt)
{
	cJSON *v = jget(obj, path);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return dflt;
}

cJSON *jobj(cJSON *obj, const char *path)
{
	const char *last;
	cJSON *parent = walk(obj, path, true, &last);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, last);
	if (cJSON_IsObject(v))
		return v;
	if (v)
		cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
	return cJSON_AddObjectToObject(parent, last);
}

void jset(cJSON *obj, const char *path, cJSON *val)
{
	const char *last;
	cJSON *parent = walk(obj, path, true, &last);
	if (cJSON_GetObjectItemCaseSensitive(parent, last))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, last, val);
	else
		cJSON_AddItemToObject(parent, last, val);
}

void jset_str(cJSON *obj, const char *path, const char *v)
{
	jset(obj, path, cJSON_CreateString(v));
}

void jset_int(cJSON *obj, const char *path, long long v)
{
	jset(obj, path, cJSON_CreateNumber((double)v));
}

void jdel(cJSON *obj, const char *path)
{
	const char *last;
	cJSON *parent = walk(obj, path, false, &last);
	if (parent && cJSON_IsObject(parent))
		cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
}

char *jprint(const cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);
	if (!s)
		abort();
	return s;
}

bool jis_int(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	       fabs(v->valuedouble) < 9007199254740992.0;
}

bool jequal(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, true);
}

void jput(cJSON *obj, const char *key, cJSON *val)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, val);
}

/* ---- packed copies (see json_pack in json.h) ---- */

struct pack {
	cJSON *node;    /* next free node */
	char *str;      /* next free string byte */
};

/*
 * Keys and values that nearly every object of the kinds components cache
 * (Services, Endpoints, EndpointSlices, Pods, Nodes) repeats: a packed copy
 * points at these instead of holding its own bytes. They are never freed,
 * and a packed copy is never cJSON_Delete'd, so no flag is needed; a
 * cJSON_Duplicate of it copies them as any string. Kept sorted in strcmp
 * order (byte order: capitals first) for bsearch.
 */
static const char *const common_str[] = {
	"/dev/termination-log", "Always", "BestEffort", "Burstable", "Cluster",
	"ClusterFirst", "ClusterIP", "ContainersReady", "Deployment", "EndpointSlice",
	"Endpoints", "ErrImagePull", "Exists", "Failed", "False", "File", "Guaranteed",
	"IPv4", "IfNotPresent", "ImagePullBackOff", "Initialized", "LoadBalancer", "Local",
	"Never", "NoExecute", "Node", "NodePort", "None", "Pending", "Pod",
	"PodReadyToStartContainers", "PodScheduled", "PreemptLowerPriority", "Ready",
	"ReplicaSet", "Running", "SCTP", "Service", "SingleStack", "Succeeded", "TCP", "True",
	"UDP", "Unknown", "addressType", "addresses", "annotations", "apiVersion",
	"appProtocol", "apps/v1", "blockOwnerDeletion", "clusterIP", "clusterIPs",
	"conditions", "containerID", "containerPort", "containerStatuses", "containers",
	"controller", "creationTimestamp", "data", "default", "default-scheduler",
	"deletionTimestamp", "discovery.k8s.io/v1", "dnsPolicy", "effect",
	"enableServiceLinks", "endpoints", "endpoints.kubernetes.io/last-change-trigger-time",
	"endpointslice-controller.k8s.io", "endpointslice.kubernetes.io/managed-by", "env",
	"externalTrafficPolicy", "finalizers", "generateName", "generation", "hostIP",
	"hostIPs", "hostname", "image", "imageID", "imagePullPolicy", "ingress",
	"initContainerStatuses", "internalTrafficPolicy", "ip", "ipFamilies",
	"ipFamilyPolicy", "key", "kind", "kubernetes.io/service-name", "labels",
	"lastProbeTime", "lastState", "lastTransitionTime", "loadBalancer", "matchLabels",
	"message", "metadata", "mountPath", "name", "namespace",
	"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "nodeName",
	"nodePort", "notReadyAddresses", "observedGeneration", "operator", "ownerReferences",
	"phase", "podIP", "podIPs", "port", "ports", "preemptionPolicy", "priority",
	"protocol", "qosClass", "readOnly", "ready", "reason", "resourceVersion", "resources",
	"restartCount", "restartPolicy", "running", "schedulerName", "securityContext",
	"selector", "serviceAccount", "serviceAccountName", "serving", "sessionAffinity",
	"spec", "startTime", "started", "state", "status", "subsets", "targetPort",
	"targetRef", "terminated", "terminating", "terminationGracePeriodSeconds",
	"terminationMessagePath", "terminationMessagePolicy", "tolerationSeconds",
	"tolerations", "type", "uid", "v1", "value", "volumeMounts", "volumes", "waiting",
	"zone",
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *common(const char *s)
{
	const char *const *hit;

	hit = bsearch(&s, common_str, ARRAY_SIZE(common_str), sizeof(common_str[0]), cmp_str);
	return hit ? *hit : NULL;
}

static size_t str_bytes(const char *s)
{
	return common(s) ? 0 : strlen(s) + 1;
}

/* Nodes and string bytes of j and everything under it (not its siblings). */
static size_t pack_size(const cJSON *j, size_t *nodes)
{
	size_t bytes = 0;

	(*nodes)++;
	if (j->string)
		bytes += str_bytes(j->string);
	if (j->valuestring)
		bytes += str_bytes(j->valuestring);
	for (const cJSON *c = j->child; c; c = c->next)
		bytes += pack_size(c, nodes);
	return bytes;
}

static char *pack_str(struct pack *p, const char *s)
{
	const char *c = common(s);
	size_t n;
	char *d;

	if (c)
		return (char *)c;
	n = strlen(s) + 1;
	d = memcpy(p->str, s, n);
	p->str += n;
	return d;
}

/* Copy j and everything under it (not its siblings). */
static cJSON *pack_node(struct pack *p, const cJSON *j)
{
	cJSON *n = p->node++, *last = NULL;

	*n = (cJSON){ 0 };
	n->type = j->type & ~(cJSON_IsReference | cJSON_StringIsConst);
	n->valueint = j->valueint;
	n->valuedouble = j->valuedouble;
	if (j->string)
		n->string = pack_str(p, j->string);
	if (j->valuestring)
		n->valuestring = pack_str(p, j->valuestring);
	for (const cJSON *c = j->child; c; c = c->next) {
		cJSON *k = pack_node(p, c);
		if (last) {
			last->next = k;
			k->prev = last;
		} else {
			n->child = k;
		}
		last = k;
	}
	if (last)
		n->child->prev = last;  /* cJSON's convention: the head points at the tail */
	return n;
}

/* The block: this header, then the nodes (the root first), then strings. */
struct pack_hdr {
	size_t refs;
	size_t pad;     /* the nodes stay 16-aligned, as malloc's */
};

static struct pack_hdr *pack_hdr(const cJSON *root)
{
	return (struct pack_hdr *)root - 1;
}

cJSON *json_pack(const cJSON *obj)
{
	size_t nodes = 0, bytes = pack_size(obj, &nodes);
	struct pack_hdr *h = xmalloc(sizeof(*h) + nodes * sizeof(cJSON) + bytes);
	cJSON *root = (cJSON *)(h + 1);
	struct pack p = { root, (char *)(root + nodes) };

	h->refs = 1;
	return pack_node(&p, obj);
}

const cJSON *json_pack_ref(const cJSON *packed)
{
	pack_hdr(packed)->refs++;
	return packed;
}

void json_pack_free(const cJSON *packed)
{
	struct pack_hdr *h;

	if (!packed)
		return;
	h = pack_hdr(packed);
	if (!--h->refs)
		free(h);
}
