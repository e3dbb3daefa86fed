/*
 * server/resources/podspec.c: PodSpec defaults and validation shared by
 * Pod, PodTemplate and every workload template.
 *
 * Defaults follow k8s pkg/apis/core/v1/defaults.go (release-1.32):
 * SetDefaults_PodSpec, _Container, _ContainerPort, _Probe, _HTTPGetAction,
 * _Volume and the volume sources' defaultMode; plus the `{}` the Go encoder
 * writes for empty non-pointer structs (resources, securityContext) so that
 * stored objects read back as upstream's do. Pod-only defaults (requests
 * from limits, enableServiceLinks, host-network ports) live in pod.c.
 *
 * Validation is the subset of ValidatePodSpec that users hit: containers
 * (name, image, ports, volumeMounts, env names, policies), init containers,
 * volume names, restartPolicy, dnsPolicy, nodeSelector; messages as upstream.
 * Not here: pod update rules, resources, probes' handlers, security context.
 */
#include <string.h>

#include "server/resources/res_internal.h"

static const char *const pull_policies[] = { "Always", "IfNotPresent", "Never", NULL };
static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
static const char *const msg_policies[] = { "File", "FallbackToLogsOnError", NULL };
static const char *const restart_policies[] = { "Always", "OnFailure", "Never", NULL };
static const char *const dns_policies[] = { "ClusterFirstWithHostNet", "ClusterFirst",
					    "Default", "None", NULL };

/* Set key to a default when it is missing or "" (Go's zero value). */
static void dflt_str(cJSON *obj, const char *key, const char *v)
{
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cur || cJSON_IsNull(cur) || (cJSON_IsString(cur) && !*cur->valuestring))
		jset_str(obj, key, v);
}

/* Set an integer default when missing or 0. */
static void dflt_int(cJSON *obj, const char *key, long long v)
{
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cur || cJSON_IsNull(cur) || (cJSON_IsNumber(cur) && cur->valuedouble == 0))
		jset_int(obj, key, v);
}

static void dflt_obj(cJSON *obj, const char *key)
{
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cur || cJSON_IsNull(cur))
		jset(obj, key, cJSON_CreateObject());
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

/*
 * parsers.ParseImageName's tag: "latest" when neither tag nor digest is
 * given; "" when the reference does not parse (upper case in the path,
 * blanks, empty), which makes the default IfNotPresent.
 */
static const char *image_pull_default(const char *image)
{
	size_t len = strcspn(image, "@"), name_len, hl;
	const char *last = image, *colon, *path = image, *slash;
	if (!len || strpbrk(image, " \t\n"))
		return "IfNotPresent";
	for (const char *p = image; p < image + len; p++)
		if (*p == '/')
			last = p + 1;
	colon = memchr(last, ':', len - (size_t)(last - image));
	name_len = colon ? (size_t)(colon - image) : len;
	slash = memchr(image, '/', name_len);
	if (slash) {
		/* A first component with '.', ':', upper case or "localhost"
		 * is a registry host; only the path must be lower case. */
		hl = (size_t)(slash - image);
		if (memchr(image, '.', hl) || memchr(image, ':', hl) ||
		    has_upper(image, hl) || (hl == 9 && !strncmp(image, "localhost", 9)))
			path = slash + 1;
	}
	if (has_upper(path, name_len - (size_t)(path - image)))
		return "IfNotPresent";
	if (colon)
		return len - name_len == 7 && !strncmp(colon + 1, "latest", 6) ?
			       "Always" : "IfNotPresent";
	return image[len] == '@' ? "IfNotPresent" : "Always";
}

static void http_get_defaults(cJSON *handler)
{
	cJSON *hg = jget(handler, "httpGet");
	if (cJSON_IsObject(hg)) {
		dflt_str(hg, "path", "/");
		dflt_str(hg, "scheme", "HTTP");
	}
}

static void probe_defaults(cJSON *c, const char *key)
{
	cJSON *p = jget(c, key);
	if (!cJSON_IsObject(p))
		return;
	dflt_int(p, "timeoutSeconds", 1);
	dflt_int(p, "periodSeconds", 10);
	dflt_int(p, "successThreshold", 1);
	dflt_int(p, "failureThreshold", 3);
	http_get_defaults(p);
}

static void container_defaults(cJSON *c)
{
	cJSON *it;
	if (!cJSON_IsObject(c))
		return;
	if (!jstr(c, "imagePullPolicy") || !*jstr(c, "imagePullPolicy"))
		jset_str(c, "imagePullPolicy", image_pull_default(jstr_or(c, "image", "")));
	cJSON_ArrayForEach(it, jget(c, "ports"))
		if (cJSON_IsObject(it))
			dflt_str(it, "protocol", "TCP");
	cJSON_ArrayForEach(it, jget(c, "env")) {
		cJSON *ref = jget(it, "valueFrom.fieldRef");
		if (cJSON_IsObject(ref))
			dflt_str(ref, "apiVersion", "v1");
	}
	dflt_obj(c, "resources");
	dflt_str(c, "terminationMessagePath", "/dev/termination-log");
	dflt_str(c, "terminationMessagePolicy", "File");
	probe_defaults(c, "livenessProbe");
	probe_defaults(c, "readinessProbe");
	probe_defaults(c, "startupProbe");
	http_get_defaults(jget(c, "lifecycle.postStart"));
	http_get_defaults(jget(c, "lifecycle.preStop"));
}

/* Volume sources with a defaultMode of 0644 (420). */
static const char *const mode_sources[] = { "secret", "configMap", "projected",
					    "downwardAPI", NULL };

static void volume_defaults(cJSON *v)
{
	if (!cJSON_IsObject(v))
		return;
	if (res_jsize(v) == 1 && cJSON_GetObjectItemCaseSensitive(v, "name"))
		jset(v, "emptyDir", cJSON_CreateObject());
	for (const char *const *s = mode_sources; *s; s++) {
		cJSON *src = jget(v, *s);
		if (cJSON_IsObject(src) && !jget(src, "defaultMode"))
			jset_int(src, "defaultMode", 420);
	}
	if (cJSON_IsObject(jget(v, "hostPath")) && !jget(v, "hostPath.type"))
		jset_str(jget(v, "hostPath"), "type", "");
}

void podspec_defaults(cJSON *spec)
{
	cJSON *it;
	if (!cJSON_IsObject(spec))
		return;
	dflt_str(spec, "dnsPolicy", "ClusterFirst");
	dflt_str(spec, "restartPolicy", "Always");
	dflt_obj(spec, "securityContext");
	if (!cJSON_IsNumber(jget(spec, "terminationGracePeriodSeconds")))
		jset_int(spec, "terminationGracePeriodSeconds", 30);
	dflt_str(spec, "schedulerName", "default-scheduler");
	cJSON_ArrayForEach(it, jget(spec, "containers"))
		container_defaults(it);
	cJSON_ArrayForEach(it, jget(spec, "initContainers"))
		container_defaults(it);
	cJSON_ArrayForEach(it, jget(spec, "volumes"))
		volume_defaults(it);
}

void pod_template_defaults(cJSON *tmpl)
{
	if (!cJSON_IsObject(tmpl))
		return;
	cJSON *meta = jobj(tmpl, "metadata");
	if (!cJSON_GetObjectItemCaseSensitive(meta, "creationTimestamp"))
		cJSON_AddNullToObject(meta, "creationTimestamp");
	podspec_defaults(jobj(tmpl, "spec"));
}

/* ---- validation ---- */

static void check_enum(struct field_errs *fe, const char *field, const cJSON *c,
		       const char *key, const char *const *allowed,
		       const char *required_detail)
{
	const char *v = jstr(c, key);
	if (!v || !*v)
		field_err_required(fe, field, required_detail);
	else if (!res_str_in(v, allowed))
		field_err_unsupported(fe, field, v, allowed);
}

static void validate_ports(const cJSON *c, const char *base, struct field_errs *fe)
{
	char f[FP_MAX];
	cJSON *names = cJSON_CreateObject();
	const cJSON *p;
	int i = 0;
	cJSON_ArrayForEach(p, jget(c, "ports")) {
		const char *name = jstr_or(p, "name", "");
		const char *msgs[MSG_MAX];
		res_fp(f, "%s.ports[%d].name", base, i);
		if (*name && is_port_name(name, msgs))
			res_invalid_each(fe, f, name, is_port_name);
		else if (*name && cJSON_GetObjectItemCaseSensitive(names, name))
			field_err_duplicate_str(fe, f, name);
		else if (*name)
			cJSON_AddTrueToObject(names, name);
		if (!jint(p, "containerPort", 0))
			field_err_required(fe, res_fp(f, "%s.ports[%d].containerPort", base, i), NULL);
		else
			res_check_port(fe, res_fp(f, "%s.ports[%d].containerPort", base, i),
				   jint(p, "containerPort", 0));
		if (jint(p, "hostPort", 0))
			res_check_port(fe, res_fp(f, "%s.ports[%d].hostPort", base, i),
				   jint(p, "hostPort", 0));
		check_enum(fe, res_fp(f, "%s.ports[%d].protocol", base, i), p, "protocol",
			   protocols, NULL);
		i++;
	}
	cJSON_Delete(names);
}

static void validate_mounts(const cJSON *c, const char *base, const cJSON *vols,
			    struct field_errs *fe)
{
	char f[FP_MAX];
	cJSON *paths = cJSON_CreateObject();
	const cJSON *m;
	int i = 0;
	cJSON_ArrayForEach(m, jget(c, "volumeMounts")) {
		const char *name = jstr_or(m, "name", ""), *path = jstr_or(m, "mountPath", "");
		res_fp(f, "%s.volumeMounts[%d].name", base, i);
		if (!*name)
			field_err_required(fe, f, NULL);
		if (!cJSON_GetObjectItemCaseSensitive(vols, name))
			field_err_add(fe, "FieldValueNotFound", f, "Not found: \"%s\"", name);
		res_fp(f, "%s.volumeMounts[%d].mountPath", base, i);
		if (!*path)
			field_err_required(fe, f, NULL);
		if (cJSON_GetObjectItemCaseSensitive(paths, path))
			field_err_invalid_str(fe, f, path, "must be unique");
		else
			cJSON_AddTrueToObject(paths, path);
		i++;
	}
	cJSON_Delete(paths);
}

/* validateContainerCommon. */
static void validate_container(const cJSON *c, const char *base, const cJSON *vols,
			       struct field_errs *fe)
{
	char f[FP_MAX];
	const char *name = jstr_or(c, "name", "");
	const cJSON *e;
	int i = 0;
	res_fp(f, "%s.name", base);
	if (!*name)
		field_err_required(fe, f, NULL);
	else
		res_invalid_each(fe, f, name, is_dns1123_label);
	if (!*jstr_or(c, "image", ""))
		field_err_required(fe, res_fp(f, "%s.image", base), NULL);
	check_enum(fe, res_fp(f, "%s.terminationMessagePolicy", base), c,
		   "terminationMessagePolicy", msg_policies,
		   "must be 'File' or 'FallbackToLogsOnError'");
	validate_ports(c, base, fe);
	cJSON_ArrayForEach(e, jget(c, "env")) {
		if (!*jstr_or(e, "name", ""))
			field_err_required(fe, res_fp(f, "%s.env[%d].name", base, i), NULL);
		i++;
	}
	validate_mounts(c, base, vols, fe);
	check_enum(fe, res_fp(f, "%s.imagePullPolicy", base), c, "imagePullPolicy",
		   pull_policies, NULL);
}

/* Regular containers (names unique among them) then init containers
 * (unique among both). */
static void validate_containers(const cJSON *spec, const char *path,
				const cJSON *vols, struct field_errs *fe)
{
	static const char *const keys[] = { "containers", "initContainers" };
	cJSON *names = cJSON_CreateObject();
	char base[FP_MAX], f[FP_MAX];
	for (int k = 0; k < 2; k++) {
		const cJSON *c;
		int i = 0;
		if (k == 0 && res_jsize(jget(spec, keys[k])) == 0) {
			field_err_required(fe, res_fp(f, "%s.containers", path), NULL);
			continue;
		}
		cJSON_ArrayForEach(c, jget(spec, keys[k])) {
			const char *name = jstr_or(c, "name", "");
			res_fp(base, "%s.%s[%d]", path, keys[k], i++);
			validate_container(c, base, vols, fe);
			if (cJSON_GetObjectItemCaseSensitive(names, name))
				field_err_duplicate_str(fe, res_fp(f, "%s.name", base), name);
			else if (k == 0 || *name)
				cJSON_AddTrueToObject(names, name);
		}
	}
	cJSON_Delete(names);
}

/* ValidateVolumes (names only); returns the set of valid names. */
static cJSON *validate_volumes(const cJSON *spec, const char *path,
			       struct field_errs *fe)
{
	cJSON *names = cJSON_CreateObject();
	const cJSON *v;
	char f[FP_MAX];
	int i = 0;
	cJSON_ArrayForEach(v, jget(spec, "volumes")) {
		const char *name = jstr_or(v, "name", "");
		res_fp(f, "%s.volumes[%d].name", path, i++);
		if (!*name)
			field_err_required(fe, f, NULL);
		else
			res_invalid_each(fe, f, name, is_dns1123_label);
		if (cJSON_GetObjectItemCaseSensitive(names, name))
			field_err_duplicate_str(fe, f, name);
		else
			cJSON_AddTrueToObject(names, name);
	}
	return names;
}

void podspec_validate(const cJSON *spec, const char *path, struct field_errs *fe)
{
	char f[FP_MAX];
	cJSON *vols = validate_volumes(spec, path, fe);
	validate_containers(spec, path, vols, fe);
	check_enum(fe, res_fp(f, "%s.restartPolicy", path), spec, "restartPolicy",
		   restart_policies, NULL);
	check_enum(fe, res_fp(f, "%s.dnsPolicy", path), spec, "dnsPolicy",
		   dns_policies, NULL);
	resource_validate_labels(jget(spec, "nodeSelector"),
				 res_fp(f, "%s.nodeSelector", path), fe);
	cJSON_Delete(vols);
}

void pod_template_validate(const cJSON *tmpl, const char *path,
			   struct field_errs *fe)
{
	char f[FP_MAX];
	resource_validate_labels(jget(tmpl, "metadata.labels"),
				 res_fp(f, "%s.labels", path), fe);
	podspec_validate(jget(tmpl, "spec"), res_fp(f, "%s.spec", path), fe);
}
