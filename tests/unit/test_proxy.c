/*
 * tests/unit/test_proxy.c: the pure planner of proxy/ (proxy_plan_build,
 * proxy_plan_diff, proxy_plan_render) without root: Services +
 * EndpointSlices -> rules, incremental diffs, affinity, no-endpoint reject,
 * node ports, externalIPs and load-balancer IPs, traffic policies (Local:
 * node-local endpoints, no masquerade for external clients, drop without
 * local endpoints) and the healthCheckNodePort answer; the health check
 * servers themselves (proxy/health.c) in a network namespace of their own
 * (that one test needs root, and fails without it).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"
#include "proxy/proxy.h"

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);
	ck_assert_msg(j != NULL, "bad fixture: %s", s);
	return j;
}

#define SVC(name, extra) \
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"" name "\"},\"spec\":{" extra "}}"
#define SLICE(svc, ports, eps) \
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"" svc "-x\",\"labels\":" \
	"{\"kubernetes.io/service-name\":\"" svc "\"}},\"addressType\":\"IPv4\"," \
	"\"ports\":" ports ",\"endpoints\":" eps "}"
#define EP(ip, ready) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":" ready "}}"
#define EPN(ip, ready, node) "{\"addresses\":[\"" ip "\"],\"nodeName\":\"" node "\"," \
	"\"conditions\":{\"ready\":" ready "}}"

struct fx {
	cJSON *svcs, *slices;
	struct proxy_plan plan;
};

static void build_on(struct fx *f, const char *node, const char *svcs, const char *slices)
{
	const cJSON *sv[64], *sl[64], *it;
	struct proxy_input in = { sv, 0, sl, 0, "10.244.0.0/16", node };
	f->svcs = J(svcs);
	f->slices = J(slices);
	cJSON_ArrayForEach(it, f->svcs)
		sv[in.nsvcs++] = it;
	cJSON_ArrayForEach(it, f->slices)
		sl[in.nslices++] = it;
	proxy_plan_build(&in, &f->plan);
}

static void build(struct fx *f, const char *svcs, const char *slices)
{
	build_on(f, NULL, svcs, slices);
}

/* The text of chain name in a rendering (up to its closing brace). */
static char *chain_text(const char *txt, const char *name)
{
	char *hdr = xasprintf("\tchain %s {\n", name), *r = NULL;
	const char *a = strstr(txt, hdr), *b = a ? strstr(a, "\n\t}\n") : NULL;
	if (a && b)
		r = xasprintf("%.*s", (int)(b - a), a);
	free(hdr);
	return r;
}

static void release(struct fx *f)
{
	proxy_plan_release(&f->plan);
	cJSON_Delete(f->svcs);
	cJSON_Delete(f->slices);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

START_TEST(cluster_ip_and_endpoints)
{
	struct fx f;
	char *txt;
	build(&f, "[" SVC("web", "\"clusterIP\":\"10.96.0.20\",\"ports\":[{\"port\":80,\"targetPort\":8080}]") "]",
	      "[" SLICE("web", "[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]",
			"[" EP("10.244.0.3", "true") "," EP("10.244.0.2", "true") "," EP("10.244.0.9", "false") "]") "]");
	ck_assert_uint_eq(f.plan.n, 1);
	ck_assert_str_eq(f.plan.svcs[0].chain, "svc-default/web/tcp/80");
	ck_assert_uint_eq(f.plan.svcs[0].neps, 2);   /* the unready one is left out */
	ck_assert_uint_eq(f.plan.svcs[0].eps[0].ip, ip("10.244.0.2")); /* sorted */
	ck_assert_uint_eq(f.plan.svcs[0].eps[0].port, 8080);
	ck_assert_uint_eq(f.plan.svcs[0].vips[0], ip("10.96.0.20"));
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "10.96.0.20 . tcp . 80 : goto svc-default/web/tcp/80"));
	ck_assert_ptr_nonnull(strstr(txt, "meta l4proto tcp dnat ip to numgen random mod 2 map "
				     "{ 0 : 10.244.0.2 . 8080, 1 : 10.244.0.3 . 8080 }"));
	ck_assert_ptr_nonnull(strstr(txt, "ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x4000"));
	ck_assert_ptr_nonnull(strstr(txt, "10.244.0.2 . 10.244.0.2, 10.244.0.3 . 10.244.0.3"));
	ck_assert_ptr_nonnull(strstr(txt, "iifname != \"lo\" ip daddr 127.0.0.0/8 drop"));
	free(txt);
	release(&f);
}
END_TEST

START_TEST(no_endpoints_reject)
{
	struct fx f;
	char *txt;
	build(&f, "[" SVC("empty", "\"clusterIP\":\"10.96.0.21\",\"ports\":[{\"port\":80}]") "]", "[]");
	ck_assert_uint_eq(f.plan.n, 1);
	ck_assert_uint_eq(f.plan.svcs[0].neps, 0);
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "10.96.0.21 . tcp . 80 : goto reject-chain"));
	ck_assert_ptr_null(strstr(txt, "chain svc-default/empty"));
	free(txt);
	release(&f);
}
END_TEST

START_TEST(skipped_services)
{
	struct fx f;
	build(&f, "[" SVC("headless", "\"clusterIP\":\"None\",\"ports\":[{\"port\":80}]") ","
		  SVC("ext", "\"type\":\"ExternalName\",\"externalName\":\"example.com\"") ","
		  "{\"metadata\":{\"namespace\":\"default\",\"name\":\"other\",\"labels\":"
		  "{\"service.kubernetes.io/service-proxy-name\":\"x\"}},\"spec\":{\"clusterIP\":"
		  "\"10.96.0.5\",\"ports\":[{\"port\":80}]}}]", "[]");
	ck_assert_uint_eq(f.plan.n, 0);
	release(&f);
}
END_TEST

START_TEST(nodeport_external_lb_udp_named)
{
	struct fx f;
	char *txt;
	build(&f, "[{\"metadata\":{\"namespace\":\"ns1\",\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\","
		  "\"clusterIP\":\"10.96.0.30\",\"externalIPs\":[\"192.0.2.50\"],\"ports\":["
		  "{\"name\":\"http\",\"port\":80,\"targetPort\":\"web\",\"nodePort\":30080},"
		  "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\",\"nodePort\":30053}]},"
		  "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]}}}]",
	      "[{\"metadata\":{\"namespace\":\"ns1\",\"name\":\"lb-a\",\"labels\":{\"kubernetes.io/service-name\":\"lb\"}},"
	      "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"},"
	      "{\"name\":\"dns\",\"port\":5353,\"protocol\":\"UDP\"}],\"endpoints\":[" EP("10.244.0.7", "true") "]}]");
	ck_assert_uint_eq(f.plan.n, 2);
	/* sorted by chain: .../tcp/http before .../udp/dns */
	ck_assert_str_eq(f.plan.svcs[0].chain, "svc-ns1/lb/tcp/http");
	ck_assert_str_eq(f.plan.svcs[1].chain, "svc-ns1/lb/udp/dns");
	ck_assert_uint_eq(f.plan.svcs[0].nvips, 3);
	ck_assert_uint_eq(f.plan.svcs[0].nodeport, 30080);
	ck_assert_uint_eq(f.plan.svcs[1].proto, IPPROTO_UDP);
	ck_assert_uint_eq(f.plan.svcs[1].eps[0].port, 5353);
	txt = proxy_plan_render(&f.plan, "ns1/lb");
	ck_assert_ptr_nonnull(strstr(txt, "192.0.2.50 . tcp . 80 : goto svc-ns1/lb/tcp/http"));
	ck_assert_ptr_nonnull(strstr(txt, "192.0.2.1 . tcp . 80 : goto svc-ns1/lb/tcp/http"));
	ck_assert_ptr_nonnull(strstr(txt, "tcp . 30080 : goto svc-ns1/lb/tcp/http"));
	ck_assert_ptr_nonnull(strstr(txt, "udp . 30053 : goto svc-ns1/lb/udp/dns"));
	ck_assert_ptr_nonnull(strstr(txt, "fib daddr type local meta l4proto . th dport vmap @service-nodeports"));
	free(txt);
	txt = proxy_plan_render(&f.plan, "ns1/other");
	ck_assert_ptr_null(strstr(txt, "svc-ns1/lb"));
	free(txt);
	release(&f);
}
END_TEST

START_TEST(affinity)
{
	struct fx f;
	char *txt;
	size_t c, r;
	build(&f, "[" SVC("s", "\"clusterIP\":\"10.96.0.40\",\"sessionAffinity\":\"ClientIP\","
		  "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":60}},\"ports\":[{\"port\":80}]") "]",
	      "[" SLICE("s", "[{\"name\":\"\",\"port\":80,\"protocol\":\"TCP\"}]",
			"[" EP("10.244.0.2", "true") "," EP("10.244.0.3", "true") "]") "]");
	ck_assert_uint_eq(f.plan.svcs[0].affinity, 60);
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "set aff-default/s/tcp/80__10.244.0.2/80 {"));
	ck_assert_ptr_nonnull(strstr(txt, "flags dynamic,timeout"));
	ck_assert_ptr_nonnull(strstr(txt, "timeout 60s"));
	ck_assert_ptr_nonnull(strstr(txt, "ip saddr @aff-default/s/tcp/80__10.244.0.3/80 goto ep-default/s/tcp/80__10.244.0.3/80"));
	ck_assert_ptr_nonnull(strstr(txt, "update @aff-default/s/tcp/80__10.244.0.2/80 { ip saddr }"));
	free(txt);
	proxy_plan_counts(&f.plan, &c, &r);
	ck_assert_uint_eq(c, 6 + 1 + 2);
	ck_assert_uint_eq(r, 11 + 2 + 3 * 2);
	release(&f);
}
END_TEST

START_TEST(terminating_fallback)
{
	struct fx f;
	build(&f, "[" SVC("t", "\"clusterIP\":\"10.96.0.50\",\"ports\":[{\"port\":80}]") "]",
	      "[" SLICE("t", "[{\"name\":\"\",\"port\":80,\"protocol\":\"TCP\"}]",
			"[{\"addresses\":[\"10.244.0.4\"],\"conditions\":{\"ready\":false,\"serving\":true,\"terminating\":true}}]") "]");
	ck_assert_uint_eq(f.plan.svcs[0].neps, 1);
	release(&f);
}
END_TEST

struct diffs {
	int added, removed, changed;
	char last[128];
};

static void on_diff(void *arg, const struct proxy_svc *o, const struct proxy_svc *n)
{
	struct diffs *d = arg;
	if (!o)
		d->added++;
	else if (!n)
		d->removed++;
	else
		d->changed++;
	snprintf(d->last, sizeof(d->last), "%s", (n ? n : o)->chain);
}

START_TEST(incremental_diff)
{
	struct fx a, b;
	struct diffs d = { 0 };
	build(&a, "[" SVC("a", "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80}]") ","
		  SVC("b", "\"clusterIP\":\"10.96.0.2\",\"ports\":[{\"port\":80}]") ","
		  SVC("c", "\"clusterIP\":\"10.96.0.3\",\"ports\":[{\"port\":80}]") "]",
	      "[" SLICE("b", "[{\"name\":\"\",\"port\":80,\"protocol\":\"TCP\"}]", "[" EP("10.244.0.2", "true") "]") "]");
	/* b gains an endpoint, c goes, d comes, a unchanged */
	build(&b, "[" SVC("a", "\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80}]") ","
		  SVC("b", "\"clusterIP\":\"10.96.0.2\",\"ports\":[{\"port\":80}]") ","
		  SVC("d", "\"clusterIP\":\"10.96.0.4\",\"ports\":[{\"port\":80}]") "]",
	      "[" SLICE("b", "[{\"name\":\"\",\"port\":80,\"protocol\":\"TCP\"}]",
			"[" EP("10.244.0.2", "true") "," EP("10.244.0.3", "true") "]") "]");
	ck_assert_uint_eq(proxy_plan_diff(&a.plan, &b.plan, on_diff, &d), 3);
	ck_assert_int_eq(d.added, 1);
	ck_assert_int_eq(d.removed, 1);
	ck_assert_int_eq(d.changed, 1);
	memset(&d, 0, sizeof(d));
	ck_assert_uint_eq(proxy_plan_diff(&b.plan, &b.plan, on_diff, &d), 0);
	ck_assert_ptr_nonnull(proxy_plan_find(&b.plan, "svc-default/d/tcp/80"));
	ck_assert_ptr_null(proxy_plan_find(&b.plan, "svc-default/c/tcp/80"));
	release(&a);
	release(&b);
}
END_TEST

/* A pod replaced by another (same count, new address) is a change: the
 * incremental sync must reprogram that service, not keep the dead IP. */
START_TEST(endpoint_replaced_is_a_diff)
{
	struct fx a, b;
	struct diffs d = { 0 };
#define ONE_SVC "[" SVC("b", "\"clusterIP\":\"10.96.0.2\",\"ports\":[{\"port\":80}]") "]"
#define B_PORTS "[{\"name\":\"\",\"port\":80,\"protocol\":\"TCP\"}]"
	build(&a, ONE_SVC, "[" SLICE("b", B_PORTS, "[" EP("10.244.0.2", "true") "," EP("10.244.0.3", "true") "]") "]");
	build(&b, ONE_SVC, "[" SLICE("b", B_PORTS, "[" EP("10.244.0.2", "true") "," EP("10.244.0.4", "true") "]") "]");
#undef ONE_SVC
#undef B_PORTS
	ck_assert(!proxy_svc_equal(&a.plan.svcs[0], &b.plan.svcs[0]));
	ck_assert_uint_eq(proxy_plan_diff(&a.plan, &b.plan, on_diff, &d), 1);
	ck_assert_int_eq(d.changed, 1);
	ck_assert_str_eq(d.last, "svc-default/b/tcp/80");
	release(&a);
	release(&b);
}
END_TEST


/* A LoadBalancer with externalTrafficPolicy Local: 2 endpoints here, 1 on
 * another node. External destinations go to ext-, which short-circuits pods
 * and the host to all endpoints and sends the rest, unmasqueraded, to the
 * local ones; the cluster IP keeps all endpoints. */
#define LB_LOCAL(etp, itp) \
	"[{\"metadata\":{\"namespace\":\"ns1\",\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\"," \
	"\"clusterIP\":\"10.96.0.40\",\"externalTrafficPolicy\":\"" etp "\"," \
	"\"internalTrafficPolicy\":\"" itp "\",\"healthCheckNodePort\":32000," \
	"\"ports\":[{\"port\":80,\"nodePort\":30080}]}," \
	"\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]}}}]"
#define LB_SLICE(eps) \
	"[{\"metadata\":{\"namespace\":\"ns1\",\"name\":\"lb-a\",\"labels\":{\"kubernetes.io/service-name\":\"lb\"}}," \
	"\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]," \
	"\"endpoints\":" eps "}]"
#define THREE_EPS "[" EPN("10.244.0.3", "true", "n1") "," EPN("10.244.0.2", "true", "n1") "," \
	EPN("10.244.0.9", "true", "n2") "," EPN("10.244.0.8", "false", "n1") "]"

START_TEST(external_local)
{
	struct fx f;
	char *txt, *ext, *loc;
	size_t c, r;
	build_on(&f, "n1", LB_LOCAL("Local", "Cluster"), LB_SLICE(THREE_EPS));
	ck_assert_uint_eq(f.plan.n, 1);
	const struct proxy_svc *s = &f.plan.svcs[0];
	ck_assert(s->ext_local && !s->int_local);
	ck_assert_uint_eq(s->neps, 3);
	ck_assert_uint_eq(s->nleps, 2);      /* n2's and the unready one are not local */
	ck_assert_uint_eq(s->leps[0].ip, ip("10.244.0.2"));
	ck_assert_uint_eq(s->leps[1].ip, ip("10.244.0.3"));
	ck_assert(s->leps_ready);
	ck_assert_uint_eq(s->hcport, 32000);
	ck_assert_str_eq(s->xchain, "ext-ns1/lb/tcp/80");
	ck_assert_str_eq(s->lchain, "local-ns1/lb/tcp/80");
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "10.96.0.40 . tcp . 80 : goto svc-ns1/lb/tcp/80"));
	ck_assert_ptr_nonnull(strstr(txt, "192.0.2.1 . tcp . 80 : goto ext-ns1/lb/tcp/80"));
	ck_assert_ptr_nonnull(strstr(txt, "tcp . 30080 : goto ext-ns1/lb/tcp/80"));
	ext = chain_text(txt, "ext-ns1/lb/tcp/80");
	ck_assert_ptr_nonnull(ext);
	ck_assert_ptr_nonnull(strstr(ext, "ip saddr 10.244.0.0/16 goto svc-ns1/lb/tcp/80"));
	ck_assert_ptr_nonnull(strstr(ext, "fib saddr type local meta mark set meta mark | 0x4000"));
	ck_assert_ptr_nonnull(strstr(ext, "fib saddr type local goto svc-ns1/lb/tcp/80"));
	ck_assert_ptr_nonnull(strstr(ext, "goto local-ns1/lb/tcp/80"));
	loc = chain_text(txt, "local-ns1/lb/tcp/80");
	ck_assert_ptr_nonnull(loc);
	ck_assert_ptr_null(strstr(loc, "mark"));    /* external clients keep their address */
	ck_assert_ptr_nonnull(strstr(loc, "numgen random mod 2 map { 0 : 10.244.0.2 . 8080, "
				      "1 : 10.244.0.3 . 8080 }"));
	proxy_plan_counts(&f.plan, &c, &r);
	ck_assert_uint_eq(c, 6 + 3);
	ck_assert_uint_eq(r, 11 + 2 + 1 + 4);
	free(ext);
	free(loc);
	free(txt);
	release(&f);
}
END_TEST

START_TEST(external_local_without_local_endpoints)
{
	struct fx f;
	char *txt, *ext;
	build_on(&f, "n3", LB_LOCAL("Local", "Cluster"), LB_SLICE(THREE_EPS));
	const struct proxy_svc *s = &f.plan.svcs[0];
	ck_assert_uint_eq(s->nleps, 0);
	ck_assert_ptr_null(s->lchain);
	ck_assert_ptr_nonnull(s->xchain);
	txt = proxy_plan_render(&f.plan, NULL);
	ext = chain_text(txt, "ext-ns1/lb/tcp/80");
	ck_assert_ptr_nonnull(ext);
	ck_assert_ptr_nonnull(strstr(ext, "ip saddr 10.244.0.0/16 goto svc-ns1/lb/tcp/80"));
	ck_assert_ptr_nonnull(strstr(ext, "\t\tdrop"));  /* upstream drops, not rejects */
	ck_assert_ptr_null(strstr(txt, "chain local-"));
	free(ext);
	free(txt);
	release(&f);
	/* no endpoints at all: reject, as with Cluster */
	build_on(&f, "n1", LB_LOCAL("Local", "Cluster"), LB_SLICE("[]"));
	ck_assert_ptr_null(f.plan.svcs[0].xchain);
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "tcp . 30080 : goto reject-chain"));
	free(txt);
	release(&f);
}
END_TEST

START_TEST(external_cluster_unchanged)
{
	struct fx f;
	char *txt;
	build_on(&f, "n1", LB_LOCAL("Cluster", "Cluster"), LB_SLICE(THREE_EPS));
	const struct proxy_svc *s = &f.plan.svcs[0];
	ck_assert(!s->ext_local && !s->int_local);
	ck_assert_ptr_null(s->lchain);
	ck_assert_ptr_null(s->xchain);
	ck_assert_uint_eq(s->hcport, 0);     /* only with Local */
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "tcp . 30080 : goto svc-ns1/lb/tcp/80"));
	/* external clients are not in the pod CIDR: masqueraded */
	ck_assert_ptr_nonnull(strstr(txt, "ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x4000"));
	free(txt);
	release(&f);
	/* eTP Local means nothing for a service not reachable from outside */
	build_on(&f, "n1", "[" SVC("in", "\"clusterIP\":\"10.96.0.41\",\"externalTrafficPolicy\":"
				   "\"Local\",\"ports\":[{\"port\":80}]") "]", "[]");
	ck_assert(!f.plan.svcs[0].ext_local);
	release(&f);
}
END_TEST

START_TEST(internal_local)
{
	struct fx f;
	char *txt, *loc;
	build_on(&f, "n1", "[" SVC("web", "\"clusterIP\":\"10.96.0.50\",\"internalTrafficPolicy\":"
				   "\"Local\",\"ports\":[{\"port\":80}]") "]",
		 "[" SLICE("web", "[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]",
			   "[" EPN("10.244.0.2", "true", "n1") "," EPN("10.244.0.9", "true", "n2") "]") "]");
	const struct proxy_svc *s = &f.plan.svcs[0];
	ck_assert(s->int_local && !s->ext_local);
	ck_assert_uint_eq(s->nleps, 1);
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "10.96.0.50 . tcp . 80 : goto local-default/web/tcp/80"));
	loc = chain_text(txt, "local-default/web/tcp/80");
	ck_assert_ptr_nonnull(loc);
	ck_assert_ptr_nonnull(strstr(loc, "ip daddr 10.96.0.50 ip saddr != 10.244.0.0/16 meta mark set"));
	ck_assert_ptr_nonnull(strstr(loc, "numgen random mod 1 map { 0 : 10.244.0.2 . 8080 }"));
	free(loc);
	free(txt);
	release(&f);
	/* endpoints elsewhere only: dropped; none at all: rejected */
	build_on(&f, "n3", "[" SVC("web", "\"clusterIP\":\"10.96.0.50\",\"internalTrafficPolicy\":"
				   "\"Local\",\"ports\":[{\"port\":80}]") ","
		 SVC("none", "\"clusterIP\":\"10.96.0.51\",\"internalTrafficPolicy\":"
		     "\"Local\",\"ports\":[{\"port\":80}]") "]",
		 "[" SLICE("web", "[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]",
			   "[" EPN("10.244.0.2", "true", "n1") "]") "]");
	txt = proxy_plan_render(&f.plan, NULL);
	ck_assert_ptr_nonnull(strstr(txt, "10.96.0.50 . tcp . 80 : drop"));
	ck_assert_ptr_nonnull(strstr(txt, "10.96.0.51 . tcp . 80 : goto reject-chain"));
	free(txt);
	release(&f);
}
END_TEST

/* Every @aff-X the rendering uses has its `set aff-X`, every `goto ep-X`
 * its chain; returns how many references it checked. */
static int refs_defined(const char *txt)
{
	int n = 0;
	for (const char *a = strstr(txt, "@aff-"); a; a = strstr(a + 1, "@aff-"), n++) {
		size_t len = strcspn(a + 1, " \n,}");
		char *def = xasprintf("\tset %.*s {\n", (int)len, a + 1);
		ck_assert_msg(strstr(txt, def) != NULL, "missing %s", def);
		free(def);
	}
	for (const char *g = strstr(txt, "goto ep-"); g; g = strstr(g + 1, "goto ep-"), n++) {
		size_t len = strcspn(g + 5, " \n,}");
		char *def = xasprintf("\tchain %.*s {\n", (int)len, g + 5);
		ck_assert_msg(strstr(txt, def) != NULL, "missing %s", def);
		free(def);
	}
	return n;
}

/* A local endpoint that is only serving+terminating while a ready one is
 * elsewhere: local- sends to an endpoint svc- does not have; its ep- chain
 * and aff- set must exist all the same. */
START_TEST(affinity_local_terminating)
{
	struct fx f;
	char *txt, *loc;
	size_t c, r;
	build_on(&f, "n1", "[" SVC("a", "\"clusterIP\":\"10.96.0.60\",\"sessionAffinity\":\"ClientIP\","
				   "\"internalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80}]") ","
		 SVC("b", "\"clusterIP\":\"10.96.0.61\",\"type\":\"NodePort\",\"sessionAffinity\":\"ClientIP\","
		     "\"externalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80,\"nodePort\":30061}]") "]",
		 "[" SLICE("a", "[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]",
			   "[" EP("10.244.0.5", "true") ","
			   "{\"addresses\":[\"10.244.0.6\"],\"nodeName\":\"n1\",\"conditions\":"
			   "{\"ready\":false,\"serving\":true,\"terminating\":true}}]") ","
		 SLICE("b", "[{\"name\":\"\",\"port\":8080,\"protocol\":\"TCP\"}]",
			   "[" EPN("10.244.0.5", "true", "n2") ","
			   "{\"addresses\":[\"10.244.0.6\"],\"nodeName\":\"n1\",\"conditions\":"
			   "{\"ready\":false,\"serving\":true,\"terminating\":true}}]") "]");
	ck_assert_uint_eq(f.plan.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct proxy_svc *s = &f.plan.svcs[i];
		ck_assert_uint_eq(s->neps, 1);
		ck_assert_uint_eq(s->nleps, 1);
		ck_assert(!s->leps_ready);
		ck_assert_uint_eq(s->naeps, 2);
		ck_assert_uint_eq(s->aeps[0].ip, ip("10.244.0.5"));
		ck_assert_uint_eq(s->aeps[1].ip, ip("10.244.0.6"));
	}
	txt = proxy_plan_render(&f.plan, NULL);
	loc = chain_text(txt, "local-default/a/tcp/80");
	ck_assert_ptr_nonnull(loc);
	ck_assert_ptr_nonnull(strstr(loc, "ip saddr @aff-default/a/tcp/80__10.244.0.6/8080 goto ep-default/a/tcp/80__10.244.0.6/8080"));
	free(loc);
	ck_assert_int_ge(refs_defined(txt), 2 * (2 + 2 + 2 + 2));
	ck_assert_ptr_nonnull(strstr(txt, "10.244.0.6 . 10.244.0.6"));    /* hairpin */
	free(txt);
	/* a: 1 svc, 2 ep, 1 local; b: 1 svc, 2 ep, 1 local, 1 ext */
	proxy_plan_counts(&f.plan, &c, &r);
	ck_assert_uint_eq(c, 6 + 4 + 5);
	ck_assert_uint_eq(r, 11 + (2 + 1 + 4 + 3) + (2 + 1 + 4 + 2 + 4));
	release(&f);
}
END_TEST

START_TEST(policy_change_is_a_diff)
{
	struct fx a, b;
	struct diffs d = { 0 };
	build_on(&a, "n1", LB_LOCAL("Cluster", "Cluster"), LB_SLICE(THREE_EPS));
	build_on(&b, "n1", LB_LOCAL("Local", "Cluster"), LB_SLICE(THREE_EPS));
	ck_assert_uint_eq(proxy_plan_diff(&a.plan, &b.plan, on_diff, &d), 1);
	ck_assert_int_eq(d.changed, 1);
	release(&a);
	release(&b);
}
END_TEST

START_TEST(health_response)
{
	size_t len;
	char *r = proxy_health_response("ns1/lb", 2, true, &len);
	const char *body = "{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"lb\"\n"
			   "\t},\n\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}";
	ck_assert_uint_eq(len, strlen(r));
	ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 200 OK\r\n") == r ? r : NULL);
	ck_assert_ptr_nonnull(strstr(r, "\r\nContent-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nX-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nX-Load-Balancing-Endpoint-Weight: 2\r\n"));
	ck_assert_str_eq(strstr(r, "\r\n\r\n") + 4, body);
	free(r);
	r = proxy_health_response("ns1/lb", 0, true, &len);
	ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 503 Service Unavailable\r\n") == r ? r : NULL);
	ck_assert_ptr_nonnull(strstr(r, "\"localEndpoints\": 0,"));
	free(r);
	r = proxy_health_response("ns1/lb", 3, false, &len);  /* proxy unhealthy */
	ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 503") == r ? r : NULL);
	ck_assert_ptr_nonnull(strstr(r, "\"serviceProxyHealthy\": false"));
	free(r);
}
END_TEST

/* ---- proxy/health.c on a loop, in a private network namespace ---- */

#define HC_PORT 32001
#define HC_REQ "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
#define HC_NO_NETNS 77  /* the child's exit codes besides the step numbers */
#define HC_NO_LO 78

/* The scenario, one step per timer tick of the loop (loop_stop ends a loop
 * for good, so it runs once): rc is 0 or the number of the failed check. */
struct hc_run {
	struct loop *l;
	struct proxy_health *h;
	struct proxy_plan *pa, *pb;
	int step, fd, rc;
	int ticks;              /* in the current step */
	long iters, iters0;     /* loop iterations */
	struct rlimit lim;
	char buf[4096];
	size_t n;
};

static int hc_client(uint16_t port, const char *req)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (req && write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	return fd;
}

/* What r->fd sent so far into r->buf; true at its end. */
static bool hc_read(struct hc_run *r)
{
	ssize_t k;
	while ((k = recv(r->fd, r->buf + r->n, sizeof(r->buf) - 1 - r->n, MSG_DONTWAIT)) > 0)
		r->n += (size_t)k;
	r->buf[r->n] = 0;
	return k == 0;
}

static void hc_next(struct hc_run *r, int fd)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->n = 0;
	r->buf[0] = 0;
	r->ticks = 0;
	r->step++;
}

static int hc_fail(struct hc_run *r, int rc)
{
	r->rc = rc;
	loop_stop(r->l);
	return -1;
}

static int64_t hc_step(struct loop *l, void *arg)
{
	struct hc_run *r = arg;
	struct rlimit low;
	int spare;

	r->ticks++;
	switch (r->step) {
	case 0: /* B4: the port moves from a to b in one sync: b listens at once */
		proxy_health_sync(r->h, r->pa, true);
		proxy_health_sync(r->h, r->pb, true);
		hc_next(r, hc_client(HC_PORT, HC_REQ));
		return r->fd < 0 ? hc_fail(r, 2) : 10;
	case 1:
		if (!hc_read(r))
			return r->ticks > 300 ? hc_fail(r, 3) : 10;
		if (!strstr(r->buf, "\"name\": \"b\"") || !strstr(r->buf, "HTTP/1.1 503"))
			return hc_fail(r, 3);
		/* B2: out of descriptors with no connection to give up: the
		 * listener leaves the loop (no busy loop), back at the next sync */
		hc_next(r, hc_client(HC_PORT, HC_REQ));
		if (r->fd < 0)
			return hc_fail(r, 4);
		spare = dup(0);
		close(spare);
		getrlimit(RLIMIT_NOFILE, &r->lim);
		low = r->lim;
		low.rlim_cur = (rlim_t)spare;
		setrlimit(RLIMIT_NOFILE, &low);
		r->iters0 = r->iters;
		return 10;
	case 2:
		if (r->ticks < 10)
			return 10;
		setrlimit(RLIMIT_NOFILE, &r->lim);
		if (r->iters - r->iters0 > 100)
			return hc_fail(r, 5);
		proxy_health_sync(r->h, r->pb, true);
		r->ticks = 0;
		r->step++;
		return 10;
	case 3:
		if (!hc_read(r))
			return r->ticks > 300 ? hc_fail(r, 6) : 10;
		if (!strstr(r->buf, "\"name\": \"b\""))
			return hc_fail(r, 6);
		/* B3: a connection that sends nothing is closed after 10 s */
		hc_next(r, hc_client(HC_PORT, NULL));
		return r->fd < 0 ? hc_fail(r, 7) : 50;
	case 4:
		if (hc_read(r))
			return hc_fail(r, 8);
		r->step++;
		return 11000;
	case 5:
		proxy_health_sync(r->h, r->pb, true);
		r->ticks = 0;
		r->step++;
		return 10;
	default:
		if (!hc_read(r))
			return r->ticks > 100 ? hc_fail(r, 9) : 10;
		return hc_fail(r, 0);
	}
}

static void hc_iter(struct loop *l, void *arg)
{
	((struct hc_run *)arg)->iters++;
}

static int health_child(void)
{
	struct proxy_svc a = { .svc = (char *)"default/a", .hcport = HC_PORT };
	struct proxy_svc b = { .svc = (char *)"default/b", .hcport = HC_PORT };
	struct proxy_plan pa = { .svcs = &a, .n = 1 }, pb = { .svcs = &b, .n = 1 };
	struct hc_run r = { .l = loop_new(), .pa = &pa, .pb = &pb, .fd = -1, .rc = 1 };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return HC_NO_LO;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return HC_NO_LO;
	close(s);
	r.h = proxy_health_new(r.l);
	loop_before_sleep(r.l, hc_iter, &r);
	loop_timer_add(r.l, 0, hc_step, &r);
	loop_run(r.l);
	if (r.fd >= 0)
		close(r.fd);
	proxy_health_free(r.h);
	loop_free(r.l);
	return r.rc;
}

/* The test needs a network namespace of its own (root: CI and `make test`
 * run as root). Without one it fails: a skip here would pass CI with the
 * health check servers never run. */
START_TEST(health_servers)
{
	int st;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(unshare(CLONE_NEWNET) < 0 ? HC_NO_NETNS : health_child());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "health check child ended by signal %d",
		      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	ck_assert_msg(WEXITSTATUS(st) != HC_NO_NETNS,
		      "health_servers needs unshare(CLONE_NEWNET): run the unit tests as root");
	ck_assert_msg(WEXITSTATUS(st) != HC_NO_LO,
		      "health_servers: cannot bring up lo in its network namespace");
	ck_assert_msg(WEXITSTATUS(st) == 0, "health check server: step %d failed",
		      WEXITSTATUS(st));
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *t = tcase_create("plan");
	tcase_add_test(t, cluster_ip_and_endpoints);
	tcase_add_test(t, no_endpoints_reject);
	tcase_add_test(t, skipped_services);
	tcase_add_test(t, nodeport_external_lb_udp_named);
	tcase_add_test(t, affinity);
	tcase_add_test(t, terminating_fallback);
	tcase_add_test(t, incremental_diff);
	tcase_add_test(t, endpoint_replaced_is_a_diff);
	tcase_add_test(t, external_local);
	tcase_add_test(t, external_local_without_local_endpoints);
	tcase_add_test(t, external_cluster_unchanged);
	tcase_add_test(t, internal_local);
	tcase_add_test(t, affinity_local_terminating);
	tcase_add_test(t, policy_change_is_a_diff);
	tcase_add_test(t, health_response);
	suite_add_tcase(s, t);
	t = tcase_create("health");
	tcase_set_timeout(t, 60);       /* waits out the 10 s idle timeout */
	tcase_add_test(t, health_servers);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proxy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
