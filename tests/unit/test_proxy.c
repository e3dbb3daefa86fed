/*
 * tests/unit/test_proxy.c: the pure planner of proxy/ (proxy_plan_build,
 * proxy_plan_diff, proxy_plan_render) without root: Services +
 * EndpointSlices -> rules, incremental diffs, affinity, no-endpoint reject,
 * node ports, externalIPs and load-balancer IPs.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
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

struct fx {
	cJSON *svcs, *slices;
	struct proxy_plan plan;
};

static void build(struct fx *f, const char *svcs, const char *slices)
{
	const cJSON *sv[64], *sl[64], *it;
	struct proxy_input in = { sv, 0, sl, 0, "10.244.0.0/16" };
	f->svcs = J(svcs);
	f->slices = J(slices);
	cJSON_ArrayForEach(it, f->svcs)
		sv[in.nsvcs++] = it;
	cJSON_ArrayForEach(it, f->slices)
		sl[in.nslices++] = it;
	proxy_plan_build(&in, &f->plan);
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
	ck_assert_uint_eq(r, 10 + 2 + 3 * 2);
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
