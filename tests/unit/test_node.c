/*
 * tests/unit/test_node.c: the node agent's pure cores (server/node/):
 * the pod IP allocator, /etc/hosts and /etc/resolv.conf, container
 * environments (service links as kubelet envvars.go makes them, valueFrom,
 * envFrom, $(VAR) expansion), the restart back-off, pod status (phase,
 * conditions, containerStatuses, api-machinery.md §7) and the CRI log
 * format. Runs without root, a store or a network.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "server/node/node_internal.h"

static cJSON *J(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "bad test JSON: %s", text);
	return j;
}

/* ---- ipam ---- */

START_TEST(ipam_sequence)
{
	struct ipam a;
	uint32_t ip;
	char s[LK_IP4_STRLEN];

	ck_assert_int_eq(ipam_init(&a, "10.244.0.0/16", NULL), 0);
	ck_assert_str_eq(lk_ip4_format(ipam_gateway(&a), s), "10.244.0.1");
	ck_assert_int_eq(ipam_alloc(&a, &ip), 0);
	ck_assert_str_eq(lk_ip4_format(ip, s), "10.244.0.2");
	ck_assert_int_eq(ipam_alloc(&a, &ip), 0);
	ck_assert_str_eq(lk_ip4_format(ip, s), "10.244.0.3");
	/* freed addresses are not handed out again at once (round robin) */
	ipam_free(&a, ip);
	ck_assert_int_eq(ipam_alloc(&a, &ip), 0);
	ck_assert_str_eq(lk_ip4_format(ip, s), "10.244.0.4");
	/* the gateway and the network address cannot be freed */
	ipam_free(&a, ipam_gateway(&a));
	ck_assert(ipam_used(&a, ipam_gateway(&a)));
	ipam_release_all(&a);
}
END_TEST

START_TEST(ipam_reserved_and_full)
{
	struct ipam a;
	uint32_t ip, seen[8];
	char s[LK_IP4_STRLEN];
	int n = 0;

	ck_assert_int_eq(ipam_init(&a, "192.168.7.0/29", NULL), 0);
	ck_assert_int_eq(lk_ip4_parse("192.168.7.3", &ip), 0);
	ck_assert_int_eq(ipam_reserve(&a, ip), 0);      /* an existing pod's */
	ck_assert_int_eq(lk_ip4_parse("10.0.0.1", &ip), 0);
	ck_assert_int_eq(ipam_reserve(&a, ip), -1);     /* outside */
	while (ipam_alloc(&a, &ip) == 0)
		seen[n++] = ip;
	/* .0 network, .1 gateway, .3 reserved, .7 broadcast: .2 .4 .5 .6 left */
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(lk_ip4_format(seen[0], s), "192.168.7.2");
	ck_assert_str_eq(lk_ip4_format(seen[1], s), "192.168.7.4");
	ck_assert_str_eq(lk_ip4_format(seen[3], s), "192.168.7.6");
	ipam_free(&a, seen[1]);
	ck_assert_int_eq(ipam_alloc(&a, &ip), 0);
	ck_assert_str_eq(lk_ip4_format(ip, s), "192.168.7.4");
	ipam_release_all(&a);
	ck_assert_int_eq(ipam_init(&a, "10.0.0.0/33", NULL), -1);
	ck_assert_int_eq(ipam_init(&a, "nonsense", NULL), -1);
}
END_TEST

/* ---- pod files ---- */

START_TEST(hosts_file)
{
	cJSON *pod = J("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},\"spec\":{}}");
	char *h = pod_hosts_file(pod, "10.244.0.7", "cluster.local");
	ck_assert_str_eq(h, "# Kubernetes-managed hosts file.\n"
			    "127.0.0.1\tlocalhost\n"
			    "::1\tlocalhost ip6-localhost ip6-loopback\n"
			    "fe00::0\tip6-localnet\n"
			    "fe00::0\tip6-mcastprefix\n"
			    "fe00::1\tip6-allnodes\n"
			    "fe00::2\tip6-allrouters\n"
			    "10.244.0.7\tweb-1\n");
	free(h);
	cJSON_Delete(pod);

	pod = J("{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\"},\"spec\":{\"hostname\":\"db-0\","
		"\"subdomain\":\"db\",\"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"foo\",\"bar\"]}]}}");
	h = pod_hosts_file(pod, "10.244.0.8", "cluster.local");
	ck_assert(strstr(h, "10.244.0.8\tdb-0.db.ns.svc.cluster.local\tdb-0\n") != NULL);
	ck_assert(str_has_suffix(h, "\n# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n"));
	free(h);
	cJSON_Delete(pod);
}
END_TEST

START_TEST(hostname_truncated)
{
	char buf[80];
	cJSON *pod = J("{\"metadata\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbb\"}}");
	pod_hostname(pod, buf, sizeof(buf));
	/* cut at 63 ("...a-"), then the trailing '-' goes */
	ck_assert_int_eq(strlen(buf), 62);
	ck_assert(buf[61] == 'a');
	cJSON_Delete(pod);
}
END_TEST

START_TEST(resolv_conf)
{
	cJSON *pod = J("{\"metadata\":{\"namespace\":\"shop\"},\"spec\":{}}");
	char *r = pod_resolv_conf(pod, "10.96.0.10", "cluster.local", "nameserver 8.8.8.8\n");
	ck_assert_str_eq(r, "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
			    "nameserver 10.96.0.10\n"
			    "options ndots:5\n");
	free(r);
	cJSON_Delete(pod);

	pod = J("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsPolicy\":\"None\",\"dnsConfig\":"
		"{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"x.y\"],\"options\":[{\"name\":\"ndots\","
		"\"value\":\"2\"},{\"name\":\"edns0\"}]}}}");
	r = pod_resolv_conf(pod, "10.96.0.10", "cluster.local", NULL);
	ck_assert_str_eq(r, "search x.y\nnameserver 1.1.1.1\noptions ndots:2 edns0\n");
	free(r);
	cJSON_Delete(pod);

	/* dnsConfig options merge over ClusterFirst's; Default copies the node's */
	pod = J("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsConfig\":{\"options\":"
		"[{\"name\":\"ndots\",\"value\":\"1\"}]}}}");
	r = pod_resolv_conf(pod, "10.96.0.10", "k.local", NULL);
	ck_assert_str_eq(r, "search a.svc.k.local svc.k.local k.local\n"
			    "nameserver 10.96.0.10\noptions ndots:1\n");
	free(r);
	cJSON_Delete(pod);
	pod = J("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsPolicy\":\"Default\"}}");
	r = pod_resolv_conf(pod, "10.96.0.10", "k.local",
			    "# generated\nnameserver 192.0.2.53\nsearch lab.example\noptions rotate\n");
	ck_assert_str_eq(r, "search lab.example\nnameserver 192.0.2.53\noptions rotate\n");
	free(r);
	cJSON_Delete(pod);
}
END_TEST

/* ---- environment ---- */

static const char *services_json =
	"[{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"},"
	"  \"spec\":{\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"name\":\"https\",\"port\":443,\"protocol\":\"TCP\"}]}},"
	" {\"metadata\":{\"name\":\"redis-master\",\"namespace\":\"shop\"},"
	"  \"spec\":{\"clusterIP\":\"10.96.7.7\",\"ports\":[{\"port\":6379,\"protocol\":\"TCP\"}]}},"
	" {\"metadata\":{\"name\":\"dns\",\"namespace\":\"shop\"},"
	"  \"spec\":{\"clusterIP\":\"10.96.0.53\",\"ports\":[{\"name\":\"dns-udp\",\"port\":53,\"protocol\":\"UDP\"},"
	"   {\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\"}]}},"
	" {\"metadata\":{\"name\":\"headless\",\"namespace\":\"shop\"},"
	"  \"spec\":{\"clusterIP\":\"None\",\"ports\":[{\"port\":80}]}},"
	" {\"metadata\":{\"name\":\"other\",\"namespace\":\"elsewhere\"},"
	"  \"spec\":{\"clusterIP\":\"10.96.9.9\",\"ports\":[{\"port\":80}]}}]";

struct fixture {
	cJSON *svcs, *cms, *secrets;
	const cJSON *arr[16];
	size_t n;
};

static const cJSON *fx_cm(void *arg, const char *name)
{
	struct fixture *f = arg;
	return cJSON_GetObjectItemCaseSensitive(f->cms, name);
}

static const cJSON *fx_secret(void *arg, const char *name)
{
	struct fixture *f = arg;
	return cJSON_GetObjectItemCaseSensitive(f->secrets, name);
}

static void fx_init(struct fixture *f, struct env_src *s, cJSON *pod)
{
	const cJSON *it;
	memset(f, 0, sizeof(*f));
	memset(s, 0, sizeof(*s));
	f->svcs = J(services_json);
	f->cms = J("{\"cfg\":{\"data\":{\"color\":\"blue\",\"size\":\"L\",\"bad key\":\"x\"}}}");
	f->secrets = J("{\"db\":{\"data\":{\"password\":\"czNjcmV0\"}}}");   /* s3cret */
	cJSON_ArrayForEach(it, f->svcs)
		f->arr[f->n++] = it;
	s->pod = pod;
	s->pod_ip = "10.244.0.9";
	s->host_ip = "192.0.2.1";
	s->node_name = "node1";
	s->services = f->arr;
	s->nservices = f->n;
	s->configmap = fx_cm;
	s->secret = fx_secret;
	s->arg = f;
	s->alloc_cpu_milli = 4000;
	s->alloc_memory = 8LL << 30;
}

static void fx_release(struct fixture *f)
{
	cJSON_Delete(f->svcs);
	cJSON_Delete(f->cms);
	cJSON_Delete(f->secrets);
}

START_TEST(service_links)
{
	struct fixture f;
	struct env_src s;
	struct env_list e = { 0 };
	cJSON *pod = J("{\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":{}}");

	fx_init(&f, &s, pod);
	service_env(&s, &e);
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_SERVICE_HOST"), "10.96.7.7");
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_SERVICE_PORT"), "6379");
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_PORT"), "tcp://10.96.7.7:6379");
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_PORT_6379_TCP"), "tcp://10.96.7.7:6379");
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_PORT_6379_TCP_PROTO"), "tcp");
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_PORT_6379_TCP_PORT"), "6379");
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_PORT_6379_TCP_ADDR"), "10.96.7.7");
	ck_assert_ptr_null(env_get(&e, "REDIS_MASTER_SERVICE_PORT_"));
	/* named ports, the first port (UDP) as the Docker link */
	ck_assert_str_eq(env_get(&e, "DNS_SERVICE_PORT"), "53");
	ck_assert_str_eq(env_get(&e, "DNS_SERVICE_PORT_DNS_UDP"), "53");
	ck_assert_str_eq(env_get(&e, "DNS_SERVICE_PORT_DNS_TCP"), "53");
	ck_assert_str_eq(env_get(&e, "DNS_PORT"), "udp://10.96.0.53:53");
	ck_assert_str_eq(env_get(&e, "DNS_PORT_53_UDP_PROTO"), "udp");
	ck_assert_str_eq(env_get(&e, "DNS_PORT_53_TCP"), "tcp://10.96.0.53:53");
	/* kubernetes of default, always; headless and other namespaces never */
	ck_assert_str_eq(env_get(&e, "KUBERNETES_SERVICE_HOST"), "10.96.0.1");
	ck_assert_str_eq(env_get(&e, "KUBERNETES_SERVICE_PORT_HTTPS"), "443");
	ck_assert_str_eq(env_get(&e, "KUBERNETES_PORT_443_TCP"), "tcp://10.96.0.1:443");
	ck_assert_ptr_null(env_get(&e, "HEADLESS_SERVICE_HOST"));
	ck_assert_ptr_null(env_get(&e, "OTHER_SERVICE_HOST"));
	/* 7 for redis-master, 2+2+9 for dns, 8 for kubernetes */
	ck_assert_int_eq(e.n, 7 + 13 + 8);
	ck_assert_str_eq(e.names[0], "DNS_SERVICE_HOST");   /* by service name */
	env_release(&e);

	/* enableServiceLinks: false keeps only the master service */
	jset(pod, "spec.enableServiceLinks", cJSON_CreateFalse());
	service_env(&s, &e);
	ck_assert_int_eq(e.n, 8);
	ck_assert_str_eq(env_get(&e, "KUBERNETES_SERVICE_PORT"), "443");
	env_release(&e);
	fx_release(&f);
	cJSON_Delete(pod);
}
END_TEST

START_TEST(container_environment)
{
	struct fixture f;
	struct env_src s;
	struct env_list e = { 0 };
	struct lk_err err = { 0 };
	cJSON *pod = J("{\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\",\"labels\":{\"b\":\"2\",\"a\":\"1\"}},"
		       "\"spec\":{\"nodeName\":\"node1\"}}");
	cJSON *ctr = J("{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":\"64Mi\"}},"
		"\"envFrom\":[{\"configMapRef\":{\"name\":\"cfg\"},\"prefix\":\"CFG_\"}],"
		"\"env\":[{\"name\":\"GREETING\",\"value\":\"hi $(CFG_color) $$(X) $(NOPE) $(REDIS_MASTER_SERVICE_HOST)\"},"
		"{\"name\":\"PW\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"db\",\"key\":\"password\"}}},"
		"{\"name\":\"MY_IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
		"{\"name\":\"MY_NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
		"{\"name\":\"LABELS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}}},"
		"{\"name\":\"LABEL_A\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['a']\"}}},"
		"{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}},"
		"{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}},"
		"{\"name\":\"OPT\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"missing\",\"key\":\"k\",\"optional\":true}}},"
		"{\"name\":\"REDIS_MASTER_SERVICE_PORT\",\"value\":\"mine\"}]}");

	fx_init(&f, &s, pod);
	ck_assert_int_eq(container_env(&s, ctr, "p", &e, &err), 0);
	ck_assert_str_eq(e.names[0], "PATH");
	ck_assert_str_eq(e.names[1], "HOSTNAME");
	ck_assert_str_eq(env_get(&e, "HOSTNAME"), "p");
	ck_assert_str_eq(env_get(&e, "CFG_color"), "blue");
	ck_assert_ptr_null(env_get(&e, "CFG_bad key"));
	ck_assert_str_eq(env_get(&e, "GREETING"), "hi blue $(X) $(NOPE) 10.96.7.7");
	ck_assert_str_eq(env_get(&e, "PW"), "s3cret");
	ck_assert_str_eq(env_get(&e, "MY_IP"), "10.244.0.9");
	ck_assert_str_eq(env_get(&e, "MY_NODE"), "node1");
	ck_assert_str_eq(env_get(&e, "LABELS"), "a=\"1\"\nb=\"2\"");
	ck_assert_str_eq(env_get(&e, "LABEL_A"), "1");
	ck_assert_str_eq(env_get(&e, "MEM"), "64");
	ck_assert_str_eq(env_get(&e, "CPU"), "4");    /* no limit: the node's */
	ck_assert_ptr_null(env_get(&e, "OPT"));
	/* the container's own variable wins over the service link */
	ck_assert_str_eq(env_get(&e, "REDIS_MASTER_SERVICE_PORT"), "mine");
	ck_assert_str_eq(env_get(&e, "KUBERNETES_SERVICE_HOST"), "10.96.0.1");
	ck_assert_str_eq(e.names[e.n - 1], "HOME");
	env_release(&e);

	/* a missing ConfigMap is CreateContainerConfigError, worded as upstream */
	cJSON *bad = J("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"k\"}}}]}");
	ck_assert_int_eq(container_env(&s, bad, "p", &e, &err), -1);
	ck_assert_str_eq(err.msg, "configmap \"nope\" not found");
	lk_err_clear(&err);
	env_release(&e);
	cJSON_Delete(bad);
	bad = J("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"db\",\"key\":\"user\"}}}]}");
	ck_assert_int_eq(container_env(&s, bad, "p", &e, &err), -1);
	ck_assert_str_eq(err.msg, "couldn't find key user in Secret shop/db");
	lk_err_clear(&err);
	env_release(&e);
	cJSON_Delete(bad);
	bad = J("{\"envFrom\":[{\"secretRef\":{\"name\":\"gone\"}}]}");
	ck_assert_int_eq(container_env(&s, bad, "p", &e, &err), -1);
	ck_assert_str_eq(err.msg, "secret \"gone\" not found");
	lk_err_clear(&err);
	env_release(&e);
	cJSON_Delete(bad);
	fx_release(&f);
	cJSON_Delete(ctr);
	cJSON_Delete(pod);
}
END_TEST

START_TEST(expansion)
{
	struct env_list e = { 0 };
	char *s;
	env_set(&e, "A", "x");
	env_set(&e, "B", "$(A)y");
	static const char *const cases[][2] = {
		{ "$(A)", "x" }, { "$(B)", "$(A)y" }, { "$$(A)", "$(A)" }, { "$$$(A)", "$x" },
		{ "$(Z)", "$(Z)" }, { "$(A", "$(A" }, { "a$b", "a$b" }, { "$", "$" },
		{ "pre-$(A)-post", "pre-x-post" }, { "", "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		s = env_expand(cases[i][0], &e);
		ck_assert_msg(!strcmp(s, cases[i][1]), "expand(%s) = %s, want %s", cases[i][0], s,
			      cases[i][1]);
		free(s);
	}
	env_release(&e);
}
END_TEST

/* ---- back-off ---- */

START_TEST(backoff_schedule)
{
	struct backoff b = { 0 };
	static const char *const want[] = { "10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s" };
	int64_t t = 1000000;
	char d[32];

	ck_assert(!backoff_in(&b, t, t));          /* first exit: restart at once */
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		backoff_next(&b, t);
		go_duration(b.dur, d, sizeof(d));
		ck_assert_str_eq(d, want[i]);
		t += 1000;                          /* it ran for a second */
		ck_assert(backoff_in(&b, t, t + b.dur - 1));
		ck_assert(!backoff_in(&b, t, t + b.dur));
		t += b.dur;
	}
	/* ten minutes without trouble: start over */
	t += 2 * BACKOFF_MAX_MS + 1;
	ck_assert(!backoff_in(&b, t, t));
	backoff_next(&b, t);
	ck_assert_int_eq(b.dur, BACKOFF_INITIAL_MS);
	go_duration(3723000, d, sizeof(d));
	ck_assert_str_eq(d, "1h2m3s");
}
END_TEST

/* ---- status ---- */

static struct nctr *mk(struct nctr *c, const char *name, bool init, enum ctr_state st,
		       int code, const char *reason)
{
	memset(c, 0, sizeof(*c));
	c->name = (char *)name;
	c->init = init;
	c->cur.state = st;
	c->cur.exit_code = code;
	if (reason)
		snprintf(c->cur.reason, sizeof(c->cur.reason), "%s", reason);
	if (st != CTR_WAITING) {
		snprintf(c->cur.id, sizeof(c->cur.id), "abc%s", name);
		c->cur.started_at = 1700000000;
		c->cur.finished_at = st == CTR_TERMINATED ? 1700000005 : 0;
	}
	c->ready = st == CTR_RUNNING;
	c->started = st == CTR_RUNNING;
	return c;
}

static const char *phase(const char *policy, struct nctr *c, size_t n, size_t ninit)
{
	static char buf[32];
	char *text = xasprintf("{\"spec\":{\"restartPolicy\":\"%s\"}}", policy);
	cJSON *pod = J(text);
	struct pod_view v = { .pod = pod, .ctrs = c, .n = n, .ninit = ninit, .now = 1700000100 };
	snprintf(buf, sizeof(buf), "%s", pod_phase(&v));
	cJSON_Delete(pod);
	free(text);
	return buf;
}

START_TEST(phases)
{
	struct nctr c[3];
	mk(&c[0], "a", false, CTR_WAITING, 0, NULL);
	ck_assert_str_eq(phase("Always", c, 1, 0), "Pending");
	mk(&c[0], "a", false, CTR_RUNNING, 0, NULL);
	ck_assert_str_eq(phase("Always", c, 1, 0), "Running");
	mk(&c[0], "a", false, CTR_TERMINATED, 0, NULL);
	ck_assert_str_eq(phase("Always", c, 1, 0), "Running");
	ck_assert_str_eq(phase("OnFailure", c, 1, 0), "Succeeded");
	ck_assert_str_eq(phase("Never", c, 1, 0), "Succeeded");
	mk(&c[0], "a", false, CTR_TERMINATED, 1, NULL);
	ck_assert_str_eq(phase("Never", c, 1, 0), "Failed");
	ck_assert_str_eq(phase("OnFailure", c, 1, 0), "Running");
	/* CrashLoopBackOff: waiting after a termination counts as stopped */
	mk(&c[0], "a", false, CTR_WAITING, 0, "CrashLoopBackOff");
	c[0].has_last = true;
	c[0].last.state = CTR_TERMINATED;
	c[0].last.exit_code = 1;
	ck_assert_str_eq(phase("Always", c, 1, 0), "Running");
	/* init containers */
	mk(&c[0], "i", true, CTR_RUNNING, 0, NULL);
	mk(&c[1], "a", false, CTR_WAITING, 0, NULL);
	ck_assert_str_eq(phase("Always", c, 2, 1), "Pending");
	mk(&c[0], "i", true, CTR_TERMINATED, 2, NULL);
	ck_assert_str_eq(phase("Never", c, 2, 1), "Failed");
	ck_assert_str_eq(phase("Always", c, 2, 1), "Pending");
	mk(&c[0], "i", true, CTR_TERMINATED, 0, NULL);
	mk(&c[1], "a", false, CTR_RUNNING, 0, NULL);
	mk(&c[2], "b", false, CTR_WAITING, 0, NULL);
	ck_assert_str_eq(phase("Always", c, 3, 1), "Pending");
	mk(&c[2], "b", false, CTR_RUNNING, 0, NULL);
	ck_assert_str_eq(phase("Always", c, 3, 1), "Running");
}
END_TEST

static const cJSON *cond_of(const cJSON *st, const char *type)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, jget(st, "conditions"))
		if (str_eq(jstr(c, "type"), type))
			return c;
	return NULL;
}

START_TEST(status_object)
{
	struct nctr c[3];
	cJSON *pod = J("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"restartPolicy\":\"Always\","
		"\"initContainers\":[{\"name\":\"i\",\"image\":\"busybox\"}],"
		"\"containers\":[{\"name\":\"a\",\"image\":\"nginx\"},{\"name\":\"b\",\"image\":\"nginx\"}]},"
		"\"status\":{\"phase\":\"Pending\",\"qosClass\":\"BestEffort\",\"conditions\":["
		"{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastTransitionTime\":\"2023-01-01T00:00:00Z\"},"
		"{\"type\":\"PodReadyToStartContainers\",\"status\":\"True\",\"lastTransitionTime\":\"2023-01-01T00:00:01Z\"}]}}");
	struct pod_view v = { .pod = pod, .ctrs = c, .n = 3, .ninit = 1, .sandbox_ready = true,
			      .pod_ip = "10.244.0.5", .host_ip = "192.0.2.1",
			      .start_time = 1700000000, .now = 1700000100 };
	cJSON *st;
	const char *order[] = { "PodReadyToStartContainers", "Initialized", "Ready",
				"ContainersReady", "PodScheduled" };
	int i = 0;
	const cJSON *it;

	mk(&c[0], "i", true, CTR_RUNNING, 0, NULL);
	mk(&c[1], "a", false, CTR_WAITING, 0, NULL);
	mk(&c[2], "b", false, CTR_WAITING, 0, NULL);
	st = pod_status_build(&v);
	ck_assert_str_eq(jstr(st, "phase"), "Pending");
	cJSON_ArrayForEach(it, jget(st, "conditions"))
		ck_assert_str_eq(jstr(it, "type"), order[i++]);
	ck_assert_int_eq(i, 5);
	/* unchanged conditions keep their transition time */
	ck_assert_str_eq(jstr(cond_of(st, "PodReadyToStartContainers"), "lastTransitionTime"),
			 "2023-01-01T00:00:01Z");
	ck_assert_str_eq(jstr(cond_of(st, "Initialized"), "message"),
			 "containers with incomplete status: [i]");
	ck_assert_str_eq(jstr(cond_of(st, "Initialized"), "reason"), "ContainersNotInitialized");
	ck_assert_str_eq(jstr(cond_of(st, "Ready"), "message"),
			 "containers with unready status: [a b]");
	ck_assert(cJSON_IsNull(jget(cond_of(st, "Ready"), "lastProbeTime")));
	it = cJSON_GetArrayItem(jget(st, "containerStatuses"), 0);
	ck_assert_str_eq(jstr(it, "state.waiting.reason"), "PodInitializing");
	ck_assert_str_eq(jstr(it, "image"), "nginx");
	ck_assert_ptr_null(jget(it, "containerID"));
	ck_assert_str_eq(jstr(st, "podIP"), "10.244.0.5");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(jget(st, "hostIPs"), 0), "ip"), "192.0.2.1");
	ck_assert_str_eq(jstr(st, "startTime"), "2023-11-14T22:13:20Z");
	ck_assert_str_eq(jstr(st, "qosClass"), "BestEffort");
	cJSON_Delete(st);

	/* all up */
	mk(&c[0], "i", true, CTR_TERMINATED, 0, NULL);
	mk(&c[1], "a", false, CTR_RUNNING, 0, NULL);
	mk(&c[2], "b", false, CTR_RUNNING, 0, NULL);
	c[2].restarts = 2;
	c[2].has_last = true;
	c[2].last.state = CTR_TERMINATED;
	c[2].last.exit_code = 137;
	snprintf(c[2].last.id, sizeof(c[2].last.id), "old");
	st = pod_status_build(&v);
	ck_assert_str_eq(jstr(st, "phase"), "Running");
	ck_assert_str_eq(jstr(cond_of(st, "Ready"), "status"), "True");
	ck_assert_ptr_null(jget(cond_of(st, "Ready"), "reason"));
	ck_assert_str_eq(jstr(cond_of(st, "Initialized"), "status"), "True");
	it = cJSON_GetArrayItem(jget(st, "initContainerStatuses"), 0);
	ck_assert_str_eq(jstr(it, "state.terminated.reason"), "Completed");
	ck_assert_str_eq(jstr(it, "state.terminated.containerID"), "labkube://abci");
	it = cJSON_GetArrayItem(jget(st, "containerStatuses"), 1);
	ck_assert_int_eq(jint(it, "restartCount", -1), 2);
	ck_assert_str_eq(jstr(it, "lastState.terminated.reason"), "Error");
	ck_assert_int_eq(jint(it, "lastState.terminated.exitCode", 0), 137);
	ck_assert_str_eq(jstr(it, "state.running.startedAt"), "2023-11-14T22:13:20Z");
	ck_assert_str_eq(jstr(it, "containerID"), "labkube://abcb");
	ck_assert(cJSON_IsTrue(jget(it, "ready")) && cJSON_IsTrue(jget(it, "started")));
	cJSON_Delete(st);
	cJSON_Delete(pod);
}
END_TEST

START_TEST(status_completed)
{
	struct nctr c[1];
	cJSON *pod = J("{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\"}]}}");
	struct pod_view v = { .pod = pod, .ctrs = c, .n = 1, .now = 1700000100 };
	cJSON *st;

	mk(&c[0], "a", false, CTR_TERMINATED, 0, NULL);
	st = pod_status_build(&v);
	ck_assert_str_eq(jstr(st, "phase"), "Succeeded");
	ck_assert_str_eq(jstr(cond_of(st, "Ready"), "reason"), "PodCompleted");
	ck_assert_str_eq(jstr(cond_of(st, "ContainersReady"), "reason"), "PodCompleted");
	ck_assert_str_eq(jstr(cond_of(st, "PodReadyToStartContainers"), "status"), "False");
	cJSON_Delete(st);
	mk(&c[0], "a", false, CTR_TERMINATED, 3, NULL);
	st = pod_status_build(&v);
	ck_assert_str_eq(jstr(st, "phase"), "Failed");
	ck_assert_str_eq(jstr(cond_of(st, "Ready"), "reason"), "PodFailed");
	cJSON_Delete(st);
	cJSON_Delete(pod);
}
END_TEST

/* ---- logs ---- */

static const char *log_text =
	"2024-05-13T13:37:30.1Z stdout F one\n"
	"2024-05-13T13:37:31.000000002Z stderr F two\n"
	"2024-05-13T13:37:32Z stdout P thr\n"
	"2024-05-13T13:37:32.5Z stdout F ee\n"
	"2024-05-13T13:37:33Z stdout F four\n";

static char *render(long tail, int64_t since, bool ts, long long limit)
{
	struct strbuf sb = STRBUF_INIT;
	struct log_opts o = { tail, since, ts, limit };
	log_render(log_text, strlen(log_text), &o, &sb);
	return sb_detach(&sb, NULL);
}

START_TEST(log_format)
{
	struct log_line l;
	char *s;
	const char *line = "2024-05-13T13:37:30.123456789Z stdout F hello world";
	ck_assert_int_eq(log_parse_line(line, strlen(line), &l), 0);
	ck_assert_int_eq(l.ts_ns % 1000000000, 123456789);
	ck_assert(!l.partial);
	ck_assert_int_eq((int)l.text_len, 11);
	ck_assert_int_eq(log_parse_line("garbage", 7, &l), -1);

	s = render(-1, 0, false, -1);
	ck_assert_str_eq(s, "one\ntwo\nthree\nfour\n");
	free(s);
	s = render(2, 0, false, -1);
	ck_assert_str_eq(s, "ee\nfour\n");
	free(s);
	s = render(0, 0, false, -1);
	ck_assert_str_eq(s, "");
	free(s);
	s = render(1, 0, true, -1);
	ck_assert_str_eq(s, "2024-05-13T13:37:33Z four\n");
	free(s);
	s = render(-1, 1715607452LL * 1000000000, true, -1);   /* 13:37:32 */
	ck_assert_str_eq(s, "2024-05-13T13:37:32Z three\n2024-05-13T13:37:33Z four\n");
	free(s);
	s = render(-1, 0, false, 6);
	ck_assert_str_eq(s, "one\ntw");
	free(s);
}
END_TEST

/* v compared to want, JSON written with ' for ". */
static void ck_json(const cJSON *v, const char *want)
{
	char *q = xstrdup(want);
	for (char *p = q; *p; p++)
		if (*p == '\'')
			*p = '"';
	cJSON *w = J(q);
	free(q);
	char *got = jprint(v), *exp = jprint(w);
	ck_assert_msg(jequal(v, w), "\n got: %s\nwant: %s", got, exp);
	free(got);
	free(exp);
	cJSON_Delete(w);
}

/* ---- this host's Node (nodestatus.c) ---- */

START_TEST(node_object)
{
	struct node_facts f = { "node1", "192.0.2.1", "amd64", "6.1.0", "Debian GNU/Linux 12",
				"mid", "bid", "uuid", 4, 8000000, 100000000 };
	cJSON *n = nodestatus_build(&f);
	ck_json(jget(n, "metadata.labels"),
		"{'beta.kubernetes.io/arch':'amd64','beta.kubernetes.io/os':'linux',"
		"'kubernetes.io/arch':'amd64','kubernetes.io/hostname':'node1',"
		"'kubernetes.io/os':'linux','node-role.kubernetes.io/control-plane':''}");
	ck_json(jget(n, "status.capacity"),
		"{'cpu':'4','ephemeral-storage':'100000000Ki','hugepages-1Gi':'0',"
		"'hugepages-2Mi':'0','memory':'8000000Ki','pods':'110'}");
	ck_json(jget(n, "status.addresses"), "[{'type':'InternalIP','address':'192.0.2.1'},"
		"{'type':'Hostname','address':'node1'}]");
	ck_assert_str_eq(jstr(n, "status.nodeInfo.containerRuntimeVersion"), "labkube://0.1.0");
	ck_assert_str_eq(jstr(n, "status.nodeInfo.kubeletVersion"), "v1.32.0+labkube.0.1.0");
	ck_assert_int_eq(jint(n, "status.daemonEndpoints.kubeletEndpoint.Port", 0), 10250);
	cJSON_Delete(n);
}
END_TEST

START_TEST(node_conditions)
{
	time_t t0 = lk_parse_rfc3339("2024-05-01T10:00:00Z");
	cJSON *c = nodestatus_conditions(NULL, NULL, t0, true), *d, *e;
	const cJSON *ready = cJSON_GetArrayItem(c, 3);
	ck_assert_int_eq(cJSON_GetArraySize(c), 4);
	ck_json(ready, "{'type':'Ready','status':'True','lastHeartbeatTime':'2024-05-01T10:00:00Z',"
		"'lastTransitionTime':'2024-05-01T10:00:00Z','reason':'KubeletReady',"
		"'message':'kubelet is posting ready status'}");
	/* A heartbeat later: transition time kept. */
	d = nodestatus_conditions(c, NULL, t0 + 40, true);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(d, 3), "lastTransitionTime"), "2024-05-01T10:00:00Z");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(d, 3), "lastHeartbeatTime"), "2024-05-01T10:00:40Z");
	/* The agent cannot run pods: NotReady with its message. */
	e = nodestatus_conditions(d, "no CAP_NET_ADMIN", t0 + 50, true);
	ck_json(cJSON_GetArrayItem(e, 3), "{'type':'Ready','status':'False',"
		"'lastHeartbeatTime':'2024-05-01T10:00:50Z','lastTransitionTime':"
		"'2024-05-01T10:00:50Z','reason':'KubeletNotReady','message':'no CAP_NET_ADMIN'}");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(e, 0), "lastTransitionTime"), "2024-05-01T10:00:00Z");
	cJSON_Delete(c);
	cJSON_Delete(d);
	cJSON_Delete(e);
}
END_TEST

static Suite *node_suite(void)
{
	Suite *s = suite_create("node");
	TCase *t = tcase_create("core");
	tcase_add_test(t, ipam_sequence);
	tcase_add_test(t, ipam_reserved_and_full);
	tcase_add_test(t, hosts_file);
	tcase_add_test(t, hostname_truncated);
	tcase_add_test(t, resolv_conf);
	tcase_add_test(t, service_links);
	tcase_add_test(t, container_environment);
	tcase_add_test(t, expansion);
	tcase_add_test(t, backoff_schedule);
	tcase_add_test(t, phases);
	tcase_add_test(t, status_object);
	tcase_add_test(t, status_completed);
	tcase_add_test(t, log_format);
	tcase_add_test(t, node_object);
	tcase_add_test(t, node_conditions);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(node_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
