/*
 * server/node/volumes.c: a pod's volumes, as directories the shim binds at
 * each volumeMount.
 *
 *   emptyDir               <poddir>/volumes/<name>, lives as long as the pod
 *   configMap, secret,     written with the kubelet's atomic writer
 *   downwardAPI, projected (pkg/volume/util/atomic_writer.go): the payload
 *                          in a "..<timestamp>" directory, "..data" a symlink
 *                          to it, each key a symlink into "..data"; a change
 *                          of the source swaps "..data", so containers see
 *                          updates (not through subPath, as upstream)
 *   hostPath               the host's path (type checked, *OrCreate made)
 *   persistentVolumeClaim  <data-dir>/volumes/<namespace>/<claim>: a
 *                          directory that outlives the pod (no storage
 *                          classes here)
 * Anything else fails the mount with a message saying so. A missing
 * ConfigMap/Secret leaves the pod in ContainerCreating with FailedMount
 * events, retried, as upstream.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "server/labkube.h"
#include "server/node/node_internal.h"
#include "server/registry/informer.h"

/* ---- the atomic writer ---- */

struct payload {
	char **paths, **data;
	size_t *lens;
	int *modes;
	size_t n, alloc;
};

static void payload_add(struct payload *pl, const char *path, const char *data, size_t len,
			int mode)
{
	if (pl->n == pl->alloc) {
		pl->alloc = pl->alloc ? pl->alloc * 2 : 8;
		pl->paths = xrealloc(pl->paths, pl->alloc * sizeof(char *));
		pl->data = xrealloc(pl->data, pl->alloc * sizeof(char *));
		pl->lens = xrealloc(pl->lens, pl->alloc * sizeof(size_t));
		pl->modes = xrealloc(pl->modes, pl->alloc * sizeof(int));
	}
	pl->paths[pl->n] = xstrdup(path);
	pl->data[pl->n] = xstrndup(data, len);
	pl->lens[pl->n] = len;
	pl->modes[pl->n++] = mode;
}

static void payload_release(struct payload *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->paths[i]);
		free(pl->data[i]);
	}
	free(pl->paths);
	free(pl->data);
	free(pl->lens);
	free(pl->modes);
	memset(pl, 0, sizeof(*pl));
}

/* The payload equals what ..data holds now. */
static bool same(const char *dir, const struct payload *pl)
{
	char *ts = xasprintf("%s/..data", dir);
	struct stat st;
	bool eq = lstat(ts, &st) == 0;
	for (size_t i = 0; eq && i < pl->n; i++) {
		char *f = xasprintf("%s/%s", ts, pl->paths[i]);
		size_t len;
		char *cur = lk_read_file(f, &len);
		eq = cur && len == pl->lens[i] && !memcmp(cur, pl->data[i], len) &&
		     stat(f, &st) == 0 && (int)(st.st_mode & 07777) == pl->modes[i];
		free(cur);
		free(f);
	}
	free(ts);
	return eq;
}

static size_t top_len(const char *path)
{
	return strcspn(path, "/");
}

static void drop_stale_links(const char *dir, const struct payload *pl, const char *keep_ts)
{
	char *d = xstrdup(dir);
	DIR *dh = opendir(d);
	struct dirent *de;
	while (dh && (de = readdir(dh))) {
		const char *nm = de->d_name;
		bool keep = !strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, "..data") ||
			    !strcmp(nm, keep_ts);
		for (size_t i = 0; !keep && i < pl->n; i++)
			keep = strlen(nm) == top_len(pl->paths[i]) &&
			       !strncmp(nm, pl->paths[i], strlen(nm));
		if (keep)
			continue;
		char *f = xasprintf("%s/%s", dir, nm);
		if (str_has_prefix(nm, ".."))
			rm_rf(f);
		unlink(f);
		free(f);
	}
	if (dh)
		closedir(dh);
	free(d);
}

static int atomic_write(const char *dir, const struct payload *pl, struct lk_err *err)
{
	struct timespec now;
	struct tm tm;
	char ts[64], *tsdir, *tmp, *data;
	int rc = 0;

	mkdir_all(dir, 0755);
	if (same(dir, pl))
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "..%04d_%02d_%02d_%02d_%02d_%02d.%09ld", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec);
	tsdir = xasprintf("%s/%s", dir, ts);
	for (size_t i = 0; rc == 0 && i < pl->n; i++) {
		char *f = xasprintf("%s/%s", tsdir, pl->paths[i]), *slash = strrchr(f, '/');
		*slash = 0;
		mkdir_all(f, 0755);
		*slash = '/';
		rc = write_file(f, pl->data[i], pl->lens[i], pl->modes[i]);
		chmod(f, (mode_t)pl->modes[i]);
		free(f);
	}
	mkdir_all(tsdir, 0755);
	tmp = xasprintf("%s/..data_tmp", dir);
	data = xasprintf("%s/..data", dir);
	unlink(tmp);
	if (rc < 0 || symlink(ts, tmp) < 0 || rename(tmp, data) < 0) {
		rc = lk_error(err, LK_EINTERNAL, "cannot write volume files in %s: %s", dir,
			      strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < pl->n; i++) {
		char *top = xstrndup(pl->paths[i], top_len(pl->paths[i]));
		char *link = xasprintf("%s/%s", dir, top), *target = xasprintf("..data/%s", top);
		struct stat st;
		if (lstat(link, &st) < 0)
			symlink(target, link);
		free(top);
		free(link);
		free(target);
	}
	drop_stale_links(dir, pl, ts);
out:
	free(tmp);
	free(data);
	free(tsdir);
	return rc;
}

/* ---- sources ---- */

static int mode_of(const cJSON *item, const cJSON *src)
{
	return (int)jint(item, "mode", jint(src, "defaultMode", 0644)) & 07777;
}

/* configMap or secret keys into pl; 1 added, 0 optional and missing, -1 error. */
static int add_keys(struct node *n, struct npod *p, const cJSON *src, bool secret,
		    const cJSON *deflt, struct payload *pl, struct lk_err *err)
{
	const char *name = jstr_or(src, secret ? "secretName" : "name", "");
	const cJSON *obj = informer_get(secret ? n->secrets : n->configmaps, p->ns, name);
	const cJSON *items = jget(src, "items"), *it;

	if (!obj) {
		if (jbool(src, "optional", false))
			return 0;
		return lk_error(err, LK_ENOTFOUND, "%s \"%s\" not found",
				secret ? "secret" : "configmap", name);
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass ? "binaryData" : "data";
		if (secret && pass)
			break;
		cJSON_ArrayForEach(it, jget(obj, key)) {
			const char *path = it->string;
			const cJSON *item = NULL, *x;
			if (cJSON_GetArraySize(items) > 0) {
				cJSON_ArrayForEach(x, items)
					if (str_eq(jstr(x, "key"), it->string))
						item = x;
				if (!item)
					continue;
				path = jstr_or(item, "path", it->string);
			}
			bool b64 = secret || pass == 1;
			char *v = b64 ? env_b64_decode(it->valuestring) : xstrdup(it->valuestring);
			/* decoded length: binary safe enough for lab payloads */
			payload_add(pl, path, v, strlen(v), mode_of(item, deflt ? deflt : src));
			free(v);
		}
	}
	return 1;
}

static int add_downward(struct node *n, struct npod *p, const cJSON *src, const cJSON *deflt,
			struct payload *pl)
{
	struct env_src es;
	const cJSON *it;
	env_src_init(n, p, &es);
	cJSON_ArrayForEach(it, jget(src, "items")) {
		struct strbuf sb = STRBUF_INIT;
		const cJSON *ctr = NULL, *c;
		const char *cname = jstr(it, "resourceFieldRef.containerName");
		cJSON_ArrayForEach(c, jget(p->obj, "spec.containers"))
			if (!cname || str_eq(jstr(c, "name"), cname))
				ctr = ctr ? ctr : c;
		if (env_downward_value(&es, ctr, it, &sb) == 0)
			payload_add(pl, jstr_or(it, "path", "x"), sb.buf ? sb.buf : "", sb.len,
				    mode_of(it, deflt ? deflt : src));
		sb_release(&sb);
	}
	return 0;
}

static int projected(struct node *n, struct npod *p, const cJSON *v, struct payload *pl,
		     struct lk_err *err)
{
	const cJSON *src, *pj = jget(v, "projected");
	cJSON_ArrayForEach(src, jget(pj, "sources")) {
		if (jget(src, "configMap") &&
		    add_keys(n, p, jget(src, "configMap"), false, pj, pl, err) < 0)
			return -1;
		if (jget(src, "secret")) {
			/* projected secrets say "name", volume secrets "secretName" */
			cJSON *s = cJSON_Duplicate(jget(src, "secret"), 1);
			if (jstr(s, "name"))
				jset_str(s, "secretName", jstr(s, "name"));
			int rc = add_keys(n, p, s, true, pj, pl, err);
			cJSON_Delete(s);
			if (rc < 0)
				return -1;
		}
		if (jget(src, "downwardAPI"))
			add_downward(n, p, jget(src, "downwardAPI"), pj, pl);
		if (jget(src, "serviceAccountToken")) {
			char *tok = xasprintf("labkube-token-%s", p->uid);
			payload_add(pl, jstr_or(src, "serviceAccountToken.path", "token"), tok,
				    strlen(tok), mode_of(NULL, pj));
			free(tok);
		}
	}
	return 0;
}

static int host_path(const cJSON *v, struct lk_err *err)
{
	const char *path = jstr_or(v, "hostPath.path", ""), *type = jstr_or(v, "hostPath.type", "");
	struct stat st;
	bool exists = stat(path, &st) == 0;

	if (!strcmp(type, "DirectoryOrCreate") && !exists)
		return mkdir_all(path, 0755) < 0
			       ? lk_error(err, LK_EINTERNAL, "cannot create %s: %s", path, strerror(errno))
			       : 0;
	if (!strcmp(type, "FileOrCreate") && !exists) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return lk_error(err, LK_EINTERNAL, "cannot create %s: %s", path, strerror(errno));
		close(fd);
		return 0;
	}
	if ((!strcmp(type, "Directory") && (!exists || !S_ISDIR(st.st_mode))) ||
	    (!strcmp(type, "File") && (!exists || !S_ISREG(st.st_mode))) ||
	    (!strcmp(type, "Socket") && (!exists || !S_ISSOCK(st.st_mode))))
		return lk_error(err, LK_EINVALID, "hostPath type check failed: %s is not a %s",
				path, !strcmp(type, "Directory") ? "directory" :
				!strcmp(type, "File") ? "file" : "socket");
	return 0;
}

/* Where volume v lives on the host. Caller frees. */
static char *volume_dir(struct node *n, struct npod *p, const cJSON *v)
{
	const char *name = jstr_or(v, "name", "");
	if (jget(v, "hostPath"))
		return xstrdup(jstr_or(v, "hostPath.path", "/"));
	if (jget(v, "persistentVolumeClaim"))
		return xasprintf("%s/volumes/%s/%s", n->datadir, p->ns,
				 jstr_or(v, "persistentVolumeClaim.claimName", name));
	return xasprintf("%s/volumes/%s", p->dir, name);
}

static int prepare_one(struct node *n, struct npod *p, const cJSON *v, struct lk_err *err)
{
	struct payload pl = { 0 };
	char *dir = volume_dir(n, p, v);
	int rc = 0;

	if (jget(v, "hostPath"))
		rc = host_path(v, err);
	else if (jget(v, "emptyDir") || jget(v, "persistentVolumeClaim"))
		rc = mkdir_all(dir, 0777) < 0 ? lk_error(err, LK_EINTERNAL, "cannot create %s: %s",
							 dir, strerror(errno)) : (chmod(dir, 0777), 0);
	else if (jget(v, "configMap") || jget(v, "secret") || jget(v, "downwardAPI") ||
		 jget(v, "projected")) {
		if (jget(v, "configMap"))
			rc = add_keys(n, p, jget(v, "configMap"), false, NULL, &pl, err);
		else if (jget(v, "secret"))
			rc = add_keys(n, p, jget(v, "secret"), true, NULL, &pl, err);
		else if (jget(v, "downwardAPI"))
			rc = add_downward(n, p, jget(v, "downwardAPI"), NULL, &pl);
		else
			rc = projected(n, p, v, &pl, err);
		if (rc >= 0)
			rc = atomic_write(dir, &pl, err);
	} else {
		rc = lk_error(err, LK_EINVALID, "this volume type is not supported by labkube "
			      "(emptyDir, configMap, secret, downwardAPI, projected, hostPath and "
			      "persistentVolumeClaim are)");
	}
	payload_release(&pl);
	free(dir);
	return rc < 0 ? -1 : 0;
}

int volumes_prepare(struct node *n, struct npod *p, struct lk_err *err)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, jget(p->obj, "spec.volumes")) {
		struct lk_err e = { 0 };
		if (prepare_one(n, p, v, &e) < 0) {
			lk_error(err, e.code ? e.code : LK_EINTERNAL,
				 "MountVolume.SetUp failed for volume \"%s\" : %s",
				 jstr_or(v, "name", ""), e.msg);
			lk_err_clear(&e);
			return -1;
		}
	}
	return 0;
}

void volume_binds(struct node *n, struct npod *p, const cJSON *sc, cJSON *binds)
{
	const cJSON *m, *v;
	cJSON_ArrayForEach(m, jget(sc, "volumeMounts")) {
		const char *name = jstr_or(m, "name", ""), *sub = jstr(m, "subPath");
		cJSON *b;
		char *dir = NULL, *src;
		struct stat st;
		cJSON_ArrayForEach(v, jget(p->obj, "spec.volumes"))
			if (str_eq(jstr(v, "name"), name))
				dir = volume_dir(n, p, v);
		if (!dir)
			continue;
		src = sub && *sub && !strstr(sub, "..") ? xasprintf("%s/%s", dir, sub) : xstrdup(dir);
		if (stat(src, &st) < 0 && sub && *sub)
			mkdir_all(src, 0777);   /* kubelet makes a missing subPath */
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "src", src);
		cJSON_AddStringToObject(b, "dst", jstr_or(m, "mountPath", "/mnt"));
		cJSON_AddBoolToObject(b, "ro", jbool(m, "readOnly", false));
		cJSON_AddBoolToObject(b, "dir", stat(src, &st) < 0 || S_ISDIR(st.st_mode));
		cJSON_AddItemToArray(binds, b);
		free(src);
		free(dir);
	}
}
