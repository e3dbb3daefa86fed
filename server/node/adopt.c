/*
 * server/node/adopt.c: what a restarted agent finds. Pods' IPs are
 * reserved again (their "ip" files, else status.podIP), sandboxes and
 * shims of this data dir are found by their command lines in /proc and
 * adopted when their pod still should run (killed otherwise), and what
 * belonged to pods deleted meanwhile goes: directories, veths, processes.
 * Containers not adopted get their last known state from their files.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "server/node/nl.h"
#include "server/node/node_internal.h"

static struct nctr *find_ctr(struct npod *p, const char *name)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (!strcmp(p->ctrs[i].name, name))
			return &p->ctrs[i];
	return NULL;
}

static void kill_pid(pid_t pid)
{
	int fd = pidfd_open_checked(pid);
	if (fd >= 0) {
		pidfd_send_signal(fd, SIGKILL, NULL, 0);
		close(fd);
	}
}

/* A shim nobody wants: end its container (the shim then exits). */
static void kill_shim(struct node *n, pid_t shim, char **argv)
{
	char *path = xasprintf("%s/%s/%s/%s.state", n->podsdir, argv[3], argv[4], argv[5]);
	char *text = lk_read_file(path, NULL);
	cJSON *st = text ? cJSON_Parse(text) : NULL;
	pid_t pid = (pid_t)jint(st, "pid", 0);
	if (pid > 0 && proc_ppid(pid) == shim)
		kill_pid(pid);
	kill_pid(shim);
	cJSON_Delete(st);
	free(text);
	free(path);
}

static void adopt_one(struct node *n, pid_t pid, char **argv, int argc)
{
	struct npod *p = argc > 3 ? node_pod(n, argv[3]) : NULL;
	bool live = p && !p->gone && !p->finished;

	if (!strcmp(argv[1], "_sandbox")) {
		if (live && p->sb == SB_NONE) {
			p->sb_pid = pid;
			p->sb_fd = pidfd_open_checked(pid);
			p->sb = SB_READY;
			node_sb_watch(n, p);
		} else {
			kill_pid(pid);
		}
		return;
	}
	struct nctr *c = argc > 5 ? find_ctr(p, argv[4]) : NULL;
	char cur[65] = "", *dir = c ? ctr_dir(p, c) : NULL;
	char *path = dir ? xasprintf("%s/current", dir) : NULL;
	char *text = path ? lk_read_file(path, NULL) : NULL;
	if (text)
		sscanf(text, "%64s", cur);
	if (live && c && !c->shim && !strcmp(cur, argv[5]))
		runtime_adopt(n, p, c, pid);
	else if (argc > 5)
		kill_shim(n, pid, argv);
	free(text);
	free(path);
	free(dir);
}

static void scan_proc(struct node *n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char **argv = NULL;
		int argc = 0;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || proc_cmdline(pid, &argv, &argc) < 0)
			continue;
		if (argc > 3 && (!strcmp(argv[1], "_sandbox") || !strcmp(argv[1], "_shim")) &&
		    !strcmp(argv[2], n->datadir))
			adopt_one(n, pid, argv, argc);
		proc_cmdline_free(argv);
	}
	if (d)
		closedir(d);
}

static void reserve_ips(struct node *n)
{
	uint32_t ip, max = 0;
	char *path = xasprintf("%s/last-ip", n->podsdir), *text = lk_read_file(path, NULL);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	if (text && lk_ip4_parse(text, &ip) == 0 && ipam_contains(&n->ipam, ip))
		max = ip;
	free(text);
	free(path);
	for (struct npod *p = n->list; p; p = p->next) {
		if (p->host_network)
			continue;
		path = xasprintf("%s/ip", p->dir);
		text = lk_read_file(path, NULL);
		if (text)
			text[strcspn(text, "\n")] = '\0';
		const char *s = text && *text ? text : NULL;
		if (!s && !p->finished)
			s = jstr(p->obj, "status.podIP");
		if (s && lk_ip4_parse(s, &ip) == 0 && ipam_reserve(&n->ipam, ip) == 0) {
			snprintf(p->ip, sizeof(p->ip), "%s", s);
			if (!max || ip > max)
				max = ip;
		}
		free(text);
		free(path);
	}
	if (max)
		n->ipam.next = max - n->ipam.base;
}

static void stale_veth(void *arg, const char *name)
{
	struct node *n = arg;
	char veth[16];
	for (struct npod *p = n->list; p; p = p->next) {
		veth_name(p->uid, veth);
		if (!strcmp(veth, name) && p->sb != SB_NONE)
			return;
	}
	struct lk_nl *nl = nl_open(NULL);
	if (nl)
		nl_link_del(nl, name, NULL);
	lk_nl_close(nl);
}

/* After adoption: dirs of pods that are gone, veths without a sandbox,
 * and the last known state of containers that were not adopted. */
static void clean_leftovers(struct node *n)
{
	DIR *d = opendir(n->podsdir);
	struct dirent *de;
	struct lk_nl *nl = nl_open(NULL);

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR || node_pod(n, de->d_name))
			continue;
		char *path = xasprintf("%s/%s", n->podsdir, de->d_name);
		lk_log("node: pod with uid '%s' was deleted while labkube was down: cleaning up",
		       de->d_name);
		rm_rf(path);
		free(path);
	}
	if (d)
		closedir(d);
	if (nl)
		nl_links(nl, "lkv", stale_veth, n, NULL);
	lk_nl_close(nl);
	for (struct npod *p = n->list; p; p = p->next)
		for (size_t i = 0; i < p->n; i++)
			if (!p->ctrs[i].shim)
				runtime_load_state(n, p, &p->ctrs[i]);
}

void node_adopt(struct node *n)
{
	reserve_ips(n);
	scan_proc(n);
	clean_leftovers(n);
}
