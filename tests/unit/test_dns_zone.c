/*
 * tests/unit/test_dns_zone.c: the zone view of dns/ (dnszone_*) without a
 * socket: Services + EndpointSlices in, answers out, checked against the
 * Kubernetes DNS spec checklist (../shared/specs/dns-spec-checklist.md,
 * sections A-F) and RFC 2308 negative answers. Queries are filled by hand
 * (lower-case presentation names), as dnswire_parse would give them.
 *
 * The world of the checklist is tests/unit/fixtures/dnszone/checklist.json
 * (run from the top of the tree, or set LK_FIXTURES).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "dns/dns.h"

#define ZONE "cluster.local"

static struct dns_zone *Z;
static struct dns_answer A;
static bool ours;

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);
	ck_assert_msg(j != NULL, "bad fixture: %s", s);
	return j;
}

static void feed(const char *json, bool slice, bool deleted)
{
	cJSON *j = J(json);
	if (slice)
		dnszone_slice(Z, j, deleted);
	else
		dnszone_service(Z, j, deleted);
	cJSON_Delete(j);
}

#define SVC(ns, name, spec) \
	"{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\"},\"spec\":{" spec "}}"
#define SLICE(ns, name, svc, type, ports, eps) \
	"{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\",\"labels\":" \
	"{\"kubernetes.io/service-name\":\"" svc "\"}},\"addressType\":\"" type "\"," \
	"\"ports\":" ports ",\"endpoints\":" eps "}"
#define EP(ip, ready) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":" ready "}}"
#define EPH(ip, host) \
	"{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":true},\"hostname\":\"" host "\"}"
#define HTTP "[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(&sb, buf, n);
	fclose(f);
	return sb_detach(&sb, NULL);
}

/* The checklist's world: services then slices. */
static void load_checklist(void)
{
	const char *dir = getenv("LK_FIXTURES");
	char *path = xasprintf("%s/checklist.json", dir ? dir : "tests/unit/fixtures/dnszone");
	char *text = slurp(path);
	cJSON *j = J(text), *it;

	cJSON_ArrayForEach(it, jget(j, "services"))
		dnszone_service(Z, it, false);
	cJSON_ArrayForEach(it, jget(j, "slices"))
		dnszone_slice(Z, it, false);
	cJSON_Delete(j);
	free(text);
	free(path);
}

static void setup(void)
{
	Z = dnszone_new(ZONE, 5, "10.96.0.0/12,fd00:10:96::/112", "10.244.0.0/16,fd00:10:244::/64");
	dns_answer_init(&A);
}

static void setup_checklist(void)
{
	setup();
	load_checklist();
}

static void teardown(void)
{
	dnszone_free(Z);
	dns_answer_release(&A);
}

static bool ask_class(const char *name, uint16_t qtype, uint16_t qclass)
{
	struct dns_query q;

	memset(&q, 0, sizeof(q));
	snprintf(q.name, sizeof(q.name), "%s", name);
	q.qtype = qtype;
	q.qclass = qclass;
	dns_answer_reset(&A);
	ours = dnszone_answer(Z, &q, &A);
	return ours;
}

static bool ask(const char *name, uint16_t qtype)
{
	return ask_class(name, qtype, DNS_C_IN);
}

/* A record as text: "A 10.0.0.1", "SRV 0 50 80 x.y", "SOA mname rname min". */
static void rr_text(const struct dns_rr *r, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	switch (r->type) {
	case DNS_T_A:
		snprintf(buf, cap, "A %s", inet_ntop(AF_INET, r->u.a, ip, sizeof(ip)));
		break;
	case DNS_T_AAAA:
		snprintf(buf, cap, "AAAA %s", inet_ntop(AF_INET6, r->u.aaaa, ip, sizeof(ip)));
		break;
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_NS:
		snprintf(buf, cap, "%s %s", r->type == DNS_T_CNAME ? "CNAME" :
			 r->type == DNS_T_PTR ? "PTR" : "NS", r->u.target);
		break;
	case DNS_T_SRV:
		snprintf(buf, cap, "SRV %u %u %u %s", r->u.srv.prio, r->u.srv.weight,
			 r->u.srv.port, r->u.srv.target);
		break;
	case DNS_T_TXT:
		snprintf(buf, cap, "TXT %s", r->u.txt);
		break;
	case DNS_T_SOA:
		snprintf(buf, cap, "SOA %s %s %u %u %u %u", r->u.soa.mname, r->u.soa.rname,
			 r->u.soa.refresh, r->u.soa.retry, r->u.soa.expire, r->u.soa.minimum);
		break;
	default:
		snprintf(buf, cap, "TYPE%u", r->type);
	}
}

static size_t first(enum dns_section s)
{
	size_t i = 0;
	for (int k = 0; k < (int)s; k++)
		i += A.count[k];
	return i;
}

/* Does section s hold a record owned by name (NULL: any) that reads text? */
static bool has(enum dns_section s, const char *name, const char *text)
{
	char buf[600];
	for (size_t i = first(s); i < first(s) + A.count[s]; i++) {
		rr_text(&A.rr[i], buf, sizeof(buf));
		if ((!name || !strcmp(A.rr[i].name, name)) && !strcmp(buf, text))
			return true;
	}
	return false;
}

static const char *nm(const char *s)
{
	return s ? s : "*";
}

#define AN(name, text) \
	ck_assert_msg(has(DNS_SEC_AN, name, text), "no %s in answer of %s", text, nm(name))
#define NO_AN(name, text) \
	ck_assert_msg(!has(DNS_SEC_AN, name, text), "%s in answer of %s", text, nm(name))

static void assert_data(size_t n)
{
	ck_assert(ours);
	ck_assert(A.aa);
	ck_assert_uint_eq(A.rcode, DNS_R_NOERROR);
	ck_assert_uint_eq(A.count[DNS_SEC_AN], n);
	ck_assert_uint_eq(A.count[DNS_SEC_NS], 0);
}

/* A negative answer: rcode, no answer records, the SOA of owner. */
static void assert_neg(uint16_t rcode, const char *owner)
{
	ck_assert(ours);
	ck_assert(A.aa);
	ck_assert_uint_eq(A.rcode, rcode);
	ck_assert_uint_eq(A.count[DNS_SEC_AN], 0);
	ck_assert_uint_eq(A.count[DNS_SEC_NS], 1);
	ck_assert_uint_eq(A.count[DNS_SEC_AR], 0);
	ck_assert(has(DNS_SEC_NS, owner, "SOA ns.dns." ZONE " hostmaster." ZONE " 7200 1800 86400 5"));
}

#define NXDOMAIN(owner) assert_neg(DNS_R_NXDOMAIN, owner)
#define NODATA(owner) assert_neg(DNS_R_NOERROR, owner)

#define S "my-service.my-ns.svc." ZONE
#define H "my-headless.my-ns.svc." ZONE
#define X "my-ext.my-ns.svc." ZONE
#define REV "in-addr.arpa"

/* ---- A: schema version ---- */

START_TEST(a1_schema_version)
{
	ask("dns-version." ZONE, DNS_T_TXT);
	assert_data(1);
	AN("dns-version." ZONE, "TXT 1.1.0");
	ask("dns-version." ZONE, DNS_T_A);
	NODATA(ZONE);
}
END_TEST

/* ---- B: services with a ClusterIP ---- */

START_TEST(b1_b2_cluster_ip)
{
	ask(S, DNS_T_A);
	assert_data(1);
	AN(S, "A 10.96.0.50");
	ck_assert_uint_eq(A.rr[0].ttl, 5);
	ask(S, DNS_T_AAAA);             /* IPv4 only: NODATA, not NXDOMAIN */
	NODATA(ZONE);
	ask("web6.my-ns.svc." ZONE, DNS_T_AAAA);
	assert_data(1);
	AN("web6.my-ns.svc." ZONE, "AAAA fd00:10:96::50");
	ask("web6.my-ns.svc." ZONE, DNS_T_A);
	NODATA(ZONE);
	ask(S, DNS_T_TXT);
	NODATA(ZONE);
}
END_TEST

START_TEST(b3_srv_named_ports)
{
	ask("_http._tcp." S, DNS_T_SRV);
	assert_data(1);
	AN("_http._tcp." S, "SRV 0 100 80 " S);
	ck_assert_uint_eq(A.count[DNS_SEC_AR], 1);      /* the target's address */
	ck_assert(has(DNS_SEC_AR, S, "A 10.96.0.50"));
	ask("_dns-udp._udp." S, DNS_T_SRV);
	assert_data(1);
	AN("_dns-udp._udp." S, "SRV 0 100 53 " S);
	ask("_metrics._tcp." S, DNS_T_SRV);
	assert_data(1);
	AN("_metrics._tcp." S, "SRV 0 100 9090 " S);
	ask("_http._tcp." S, DNS_T_A);  /* the SRV name exists */
	NODATA(ZONE);
}
END_TEST

START_TEST(b4_b5_no_srv_unnamed_or_wrong_proto)
{
	ask("_http._tcp.unnamed.my-ns.svc." ZONE, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("_._tcp.unnamed.my-ns.svc." ZONE, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("_tcp.unnamed.my-ns.svc." ZONE, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("_http._udp." S, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("_dns-udp._tcp." S, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("http.tcp." S, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("unnamed.my-ns.svc." ZONE, DNS_T_A);        /* still resolves */
	assert_data(1);
	AN(NULL, "A 10.96.0.60");
}
END_TEST

START_TEST(b6_b7_ptr_cluster_ip)
{
	ask("50.0.96.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN("50.0.96.10.in-addr.arpa", "PTR " S);
	ask("0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR web6.my-ns.svc." ZONE);
	ask("50.0.96.10.in-addr.arpa", DNS_T_A);
	NODATA("10.in-addr.arpa");
}
END_TEST

START_TEST(b8_kubernetes)
{
	ask("kubernetes.default.svc." ZONE, DNS_T_A);
	assert_data(1);
	AN(NULL, "A 10.96.0.1");
	ask("_https._tcp.kubernetes.default.svc." ZONE, DNS_T_SRV);
	assert_data(1);
	AN(NULL, "SRV 0 100 443 kubernetes.default.svc." ZONE);
	ask("1.0.96.10.in-addr.arpa", DNS_T_PTR);
	AN(NULL, "PTR kubernetes.default.svc." ZONE);
}
END_TEST

/* ---- C: headless services ---- */

START_TEST(c1_headless_ready_endpoints)
{
	ask(H, DNS_T_A);
	assert_data(2);
	AN(H, "A 10.244.0.11");
	AN(H, "A 10.244.0.12");
	NO_AN(H, "A 10.244.0.13");
	ask(H, DNS_T_AAAA);
	NODATA(ZONE);
}
END_TEST

START_TEST(c2_headless_no_ready_nxdomain)
{
	feed(SLICE("my-ns", "my-headless-q9d4m", "my-headless", "IPv4", HTTP,
		   "[" EP("10.244.0.11", "false") "," EP("10.244.0.12", "false") "]"), true, false);
	ask(H, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("_http._tcp." H, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("_tcp." H, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("web-0." H, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("12.0.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("my-ns.svc." ZONE, DNS_T_A);        /* the namespace still has services */
	NODATA(ZONE);
}
END_TEST

START_TEST(c3_publish_not_ready)
{
	feed(SVC("my-ns", "my-headless", "\"clusterIP\":\"None\",\"publishNotReadyAddresses\":true,"
		 "\"ports\":" HTTP), false, false);
	ask(H, DNS_T_A);
	assert_data(3);
	AN(H, "A 10.244.0.13");
	ask("10-244-0-13." H, DNS_T_A);
	assert_data(1);
	/* the old annotation does the same */
	feed("{\"metadata\":{\"namespace\":\"my-ns\",\"name\":\"my-headless\",\"annotations\":"
	     "{\"service.alpha.kubernetes.io/tolerate-unready-endpoints\":\"true\"}},"
	     "\"spec\":{\"clusterIP\":\"None\"}}", false, false);
	ask(H, DNS_T_A);
	assert_data(3);
	feed(SVC("my-ns", "my-headless", "\"clusterIP\":\"None\""), false, false);
	ask(H, DNS_T_A);
	assert_data(2);
}
END_TEST

START_TEST(c4_endpoint_names)
{
	ask("web-0." H, DNS_T_A);
	assert_data(1);
	AN("web-0." H, "A 10.244.0.11");
	ask("10-244-0-12." H, DNS_T_A);
	assert_data(1);
	AN("10-244-0-12." H, "A 10.244.0.12");
	ask("10-244-0-11." H, DNS_T_A); /* one name per endpoint: its hostname */
	NXDOMAIN(ZONE);
	ask("10-244-0-13." H, DNS_T_A); /* not ready */
	NXDOMAIN(ZONE);
	ask("web-1." H, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("web-0." H, DNS_T_AAAA);
	NODATA(ZONE);
	ask("10-244-0-50." S, DNS_T_A); /* no such endpoint of the ClusterIP service */
	NXDOMAIN(ZONE);
}
END_TEST

START_TEST(c5_c7_ipv6_endpoints)
{
	const char *h6 = "headless6.my-ns.svc." ZONE;
	ask(h6, DNS_T_AAAA);
	assert_data(2);
	AN(h6, "AAAA fd00:10:244::11");
	AN(h6, "AAAA fd00:10:244::12");         /* ready absent counts as ready */
	ask(h6, DNS_T_A);
	NODATA(ZONE);
	ask("web-6.headless6.my-ns.svc." ZONE, DNS_T_AAAA);
	assert_data(1);
	ask("fd00-10-244--12.headless6.my-ns.svc." ZONE, DNS_T_AAAA);
	assert_data(1);
	AN(NULL, "AAAA fd00:10:244::12");
	ask("1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR web-6.headless6.my-ns.svc." ZONE);
	ask("2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	AN(NULL, "PTR fd00-10-244--12.headless6.my-ns.svc." ZONE);
	ask("3.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	NXDOMAIN("0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa");
}
END_TEST

START_TEST(c6_headless_srv)
{
	ask("_http._tcp." H, DNS_T_SRV);
	assert_data(2);
	AN(NULL, "SRV 0 50 80 web-0." H);
	AN(NULL, "SRV 0 50 80 10-244-0-12." H);
	ck_assert_uint_eq(A.count[DNS_SEC_AR], 2);
	ck_assert(has(DNS_SEC_AR, "web-0." H, "A 10.244.0.11"));
	ck_assert(has(DNS_SEC_AR, "10-244-0-12." H, "A 10.244.0.12"));
	ask("_tcp." H, DNS_T_A);                /* an empty non-terminal */
	NODATA(ZONE);
	ask("_udp." H, DNS_T_A);
	NXDOMAIN(ZONE);
}
END_TEST

START_TEST(c7_ptr_endpoints)
{
	ask("11.0.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(2);         /* behind the headless and the ClusterIP service */
	AN("11.0.244.10.in-addr.arpa", "PTR web-0." H);
	AN("11.0.244.10.in-addr.arpa", "PTR 10-244-0-11." S);
	ask("12.0.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR 10-244-0-12." H);
	ask("13.0.244.10.in-addr.arpa", DNS_T_PTR);   /* not ready */
	NXDOMAIN("244.10.in-addr.arpa");
}
END_TEST

/* ---- D: ExternalName ---- */

START_TEST(d1_external_name)
{
	ask(X, DNS_T_A);
	assert_data(1);
	AN(X, "CNAME www.example.com");
	ask(X, DNS_T_CNAME);
	assert_data(1);
	AN(X, "CNAME www.example.com");
	ask(X, DNS_T_AAAA);
	assert_data(1);
	ask("_http._tcp." X, DNS_T_SRV);
	NXDOMAIN(ZONE);
	/* trailing dot stripped, upper case lowered; updates follow */
	feed(SVC("my-ns", "my-ext", "\"type\":\"ExternalName\",\"externalName\":\"Bar.Example.COM.\""),
	     false, false);
	ask(X, DNS_T_CNAME);
	assert_data(1);
	AN(X, "CNAME bar.example.com");
}
END_TEST

START_TEST(d2_type_change)
{
	feed(SVC("my-ns", "my-ext", "\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.0.77\","
		 "\"ports\":[{\"name\":\"http\",\"port\":80}]"), false, false);
	ask(X, DNS_T_A);
	assert_data(1);
	AN(X, "A 10.96.0.77");
	ask(X, DNS_T_CNAME);
	NODATA(ZONE);
	ask("77.0.96.10.in-addr.arpa", DNS_T_PTR);
	AN(NULL, "PTR " X);
	/* and back: the PTR goes */
	feed(SVC("my-ns", "my-ext", "\"type\":\"ExternalName\",\"externalName\":\"foo.example.com\""),
	     false, false);
	ask(X, DNS_T_A);
	AN(X, "CNAME foo.example.com");
	ask("77.0.96.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("10.in-addr.arpa");
}
END_TEST

START_TEST(d_chase_inside_zone)
{
	feed(SVC("other", "alias", "\"type\":\"ExternalName\",\"externalName\":\"" S ".\""), false, false);
	feed(SVC("other", "alias2",
		 "\"type\":\"ExternalName\",\"externalName\":\"alias.other.svc." ZONE "\""),
	     false, false);
	ask("alias2.other.svc." ZONE, DNS_T_A);
	assert_data(3);
	ck_assert_int_eq(A.rr[0].type, DNS_T_CNAME);
	ck_assert_str_eq(A.rr[0].u.target, "alias.other.svc." ZONE);
	ck_assert_str_eq(A.rr[1].name, "alias.other.svc." ZONE);
	ck_assert_str_eq(A.rr[1].u.target, S);
	AN(S, "A 10.96.0.50");
	ask("alias2.other.svc." ZONE, DNS_T_CNAME);     /* only the first step */
	assert_data(1);
	/* a target in the zone that does not exist: NXDOMAIN after the CNAME */
	feed(SVC("other", "dangling",
		 "\"type\":\"ExternalName\",\"externalName\":\"nosuch.other.svc." ZONE "\""),
	     false, false);
	ask("dangling.other.svc." ZONE, DNS_T_A);
	ck_assert_uint_eq(A.rcode, DNS_R_NXDOMAIN);
	ck_assert_uint_eq(A.count[DNS_SEC_AN], 1);
	ck_assert(has(DNS_SEC_NS, ZONE, "SOA ns.dns." ZONE " hostmaster." ZONE " 7200 1800 86400 5"));
	/* a loop stops */
	feed(SVC("other", "loop",
		 "\"type\":\"ExternalName\",\"externalName\":\"loop.other.svc." ZONE "\""),
	     false, false);
	ask("loop.other.svc." ZONE, DNS_T_A);
	ck_assert(ours);
	ck_assert_uint_eq(A.count[DNS_SEC_AN], 1);      /* each name once (RFC 2181 5) */
	feed(SVC("other", "ping", "\"type\":\"ExternalName\",\"externalName\":\"pong.other.svc." ZONE "\""),
	     false, false);
	feed(SVC("other", "pong", "\"type\":\"ExternalName\",\"externalName\":\"ping.other.svc." ZONE "\""),
	     false, false);
	ask("ping.other.svc." ZONE, DNS_T_A);
	ck_assert_uint_eq(A.count[DNS_SEC_AN], 2);
	ck_assert_str_eq(A.rr[0].u.target, "pong.other.svc." ZONE);
	ck_assert_str_eq(A.rr[1].u.target, "ping.other.svc." ZONE);
}
END_TEST

/* ---- E: pods ---- */

START_TEST(e1_pod_records)
{
	ask("10-244-0-11.my-ns.pod." ZONE, DNS_T_A);
	assert_data(1);
	AN("10-244-0-11.my-ns.pod." ZONE, "A 10.244.0.11");
	ask("1-2-3-4.anything.pod." ZONE, DNS_T_A);     /* any address, any namespace */
	AN(NULL, "A 1.2.3.4");
	ask("10-244-0-11.my-ns.pod." ZONE, DNS_T_AAAA);
	NODATA(ZONE);
	ask("fd00-10-244--11.my-ns.pod." ZONE, DNS_T_AAAA);
	AN(NULL, "AAAA fd00:10:244::11");
	ask("10-244-0-256.my-ns.pod." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("10-244-0.my-ns.pod." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("web.my-ns.pod." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("x.10-244-0-11.my-ns.pod." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("my-ns.pod." ZONE, DNS_T_A);
	NODATA(ZONE);
	ask("pod." ZONE, DNS_T_A);
	NODATA(ZONE);
}
END_TEST

/* ---- F: general ---- */

START_TEST(f1_case_insensitive)
{
	struct dns_zone *z2 = dnszone_new("Cluster.Local.", 5, NULL, NULL);
	struct dns_query q;
	cJSON *j = J(SVC("My-Ns", "My-Service", "\"clusterIP\":\"10.96.0.50\",\"ports\":"
			 "[{\"name\":\"HTTP\",\"port\":80,\"protocol\":\"tcp\"}]"));

	/* upper case in the API objects and the configured domain */
	dnszone_service(z2, j, false);
	cJSON_Delete(j);
	memset(&q, 0, sizeof(q));
	q.qtype = DNS_T_A;
	q.qclass = DNS_C_IN;
	snprintf(q.name, sizeof(q.name), "%s", "my-service.my-ns.svc.cluster.local");
	ck_assert(dnszone_answer(z2, &q, &A));
	AN(NULL, "A 10.96.0.50");
	dns_answer_reset(&A);
	q.qtype = DNS_T_SRV;
	snprintf(q.name, sizeof(q.name), "%s", "_http._tcp.my-service.my-ns.svc.cluster.local");
	ck_assert(dnszone_answer(z2, &q, &A));
	AN(NULL, "SRV 0 100 80 my-service.my-ns.svc.cluster.local");
	dnszone_free(z2);
}
END_TEST

START_TEST(f2_nxdomain_with_soa)
{
	ask("nosuch.my-ns.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("my-service.nosuch-ns.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("nosuch-ns.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("nosuch." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("a.b.c.d." S, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("a.b.c.d.e.f.g." S, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("my\\046service.my-ns.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
}
END_TEST

START_TEST(f_empty_non_terminals_nodata)
{
	ask(ZONE, DNS_T_A);
	NODATA(ZONE);
	ask("svc." ZONE, DNS_T_A);
	NODATA(ZONE);
	ask("my-ns.svc." ZONE, DNS_T_A);
	NODATA(ZONE);
	ask("default.svc." ZONE, DNS_T_AAAA);
	NODATA(ZONE);
	ask("_tcp." S, DNS_T_SRV);
	NODATA(ZONE);
	ask("_udp." S, DNS_T_SRV);
	NODATA(ZONE);
	ask("_sctp." S, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("ns.dns." ZONE, DNS_T_A);
	NODATA(ZONE);
}
END_TEST

START_TEST(f_apex_soa_ns_any)
{
	ask(ZONE, DNS_T_SOA);
	assert_data(1);
	AN(ZONE, "SOA ns.dns." ZONE " hostmaster." ZONE " 7200 1800 86400 5");
	ask(ZONE, DNS_T_NS);
	assert_data(1);
	AN(ZONE, "NS ns.dns." ZONE);
	ask("ns.dns." ZONE, DNS_T_A);           /* no kube-dns Service yet */
	assert_neg(DNS_R_NOERROR, ZONE);
	feed(SVC("kube-system", "kube-dns", "\"clusterIP\":\"10.96.0.10\""), false, false);
	ask("ns.dns." ZONE, DNS_T_A);           /* the NS target resolves */
	assert_data(1);
	AN("ns.dns." ZONE, "A 10.96.0.10");
	ask(ZONE, DNS_T_ANY);
	assert_data(2);
	ask(S, DNS_T_ANY);
	assert_data(1);
	AN(S, "A 10.96.0.50");
	ask("web6.my-ns.svc." ZONE, DNS_T_ANY);
	AN(NULL, "AAAA fd00:10:96::50");
	ask(X, DNS_T_ANY);
	AN(X, "CNAME www.example.com");
	ask("244.10.in-addr.arpa", DNS_T_SOA);
	assert_data(1);
	AN("244.10.in-addr.arpa", "SOA ns.dns." ZONE " hostmaster." ZONE " 7200 1800 86400 5");
}
END_TEST

START_TEST(f_serial_follows_changes)
{
	uint32_t s1, s2;
	ask(ZONE, DNS_T_SOA);
	s1 = A.rr[0].u.soa.serial;
	feed(SVC("my-ns", "new", "\"clusterIP\":\"10.96.0.99\""), false, false);
	ask(ZONE, DNS_T_SOA);
	s2 = A.rr[0].u.soa.serial;
	ck_assert_uint_gt(s2, s1);
}
END_TEST

START_TEST(f_class_and_transfer)
{
	ask_class(S, DNS_T_A, DNS_C_CH);
	ck_assert(ours);
	ck_assert_uint_eq(A.rcode, DNS_R_REFUSED);
	ck_assert_uint_eq(A.n, 0);
	ask_class(S, DNS_T_A, DNS_C_ANY);
	assert_data(1);
	ask(ZONE, DNS_T_AXFR);
	ck_assert_uint_eq(A.rcode, DNS_R_REFUSED);
	ask_class("version.bind", DNS_T_TXT, DNS_C_CH); /* not ours */
	ck_assert(!ours);
}
END_TEST

START_TEST(f_not_ours_forwarded)
{
	ck_assert(!ask("www.example.com", DNS_T_A));
	ck_assert(!ask("local", DNS_T_A));
	ck_assert(!ask("xcluster.local", DNS_T_A));
	ck_assert(!ask("", DNS_T_NS));
	ck_assert(!ask("8.8.8.8.in-addr.arpa", DNS_T_PTR));
	ck_assert(!ask("1.0.168.192.in-addr.arpa", DNS_T_PTR));
	ck_assert(!ask("1.0.0.200.10.in-addr.arpa", DNS_T_PTR)); /* 10.200/16 outside 10.96/12 */
	ck_assert(!ask("200.10.in-addr.arpa", DNS_T_PTR));
	ck_assert(!ask("in-addr.arpa", DNS_T_SOA));
	ck_assert(!ask("1.0.0.0.ip6.arpa", DNS_T_PTR));
	ck_assert(!ask("xin-addr.arpa", DNS_T_PTR));
}
END_TEST

START_TEST(f_reverse_in_range)
{
	ask("99.0.96.10.in-addr.arpa", DNS_T_PTR);      /* in the service range, unknown */
	NXDOMAIN("10.in-addr.arpa");
	ask("99.9.244.10.in-addr.arpa", DNS_T_PTR);     /* in the pod range, unknown */
	NXDOMAIN("244.10.in-addr.arpa");
	ask("0.244.10.in-addr.arpa", DNS_T_PTR);        /* a partial name inside */
	NODATA("244.10.in-addr.arpa");
	ask("x.11.0.244.10.in-addr.arpa", DNS_T_PTR);   /* below an address */
	NXDOMAIN("244.10.in-addr.arpa");
	ask("011.0.244.10.in-addr.arpa", DNS_T_PTR);    /* not a decimal octet */
	NXDOMAIN("244.10.in-addr.arpa");
	ask("256.0.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("0.1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	NXDOMAIN("0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa");  /* 33 nibbles */
	ask("g.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	NXDOMAIN("0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa");
	ask("0.0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_PTR);
	NODATA("0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa");
	ask("0.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa", DNS_T_SOA);
	assert_data(1);
	ask("10.in-addr.arpa", DNS_T_SOA);              /* the /12's apex */
	assert_data(1);
	ask("10.in-addr.arpa", DNS_T_NS);
	AN(NULL, "NS ns.dns." ZONE);
}
END_TEST

/* ---- updates ---- */

#define WEB_SLICE(eps) SLICE("ns1", "web-abc", "web", "IPv4", HTTP, eps)

START_TEST(slice_before_service)
{
	feed(WEB_SLICE("[" EPH("10.244.1.5", "w0") "]"), true, false);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);                         /* no service yet */
	ask("5.1.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ck_assert_uint_eq(dnszone_service_count(Z), 0);
	feed(SVC("ns1", "web", "\"clusterIP\":\"None\",\"ports\":" HTTP), false, false);
	ck_assert_uint_eq(dnszone_service_count(Z), 1);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	AN(NULL, "A 10.244.1.5");
	ask("w0.web.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	ask("5.1.244.10.in-addr.arpa", DNS_T_PTR);
	AN(NULL, "PTR w0.web.ns1.svc." ZONE);
	/* service deleted before its slice: the names go, the slice waits */
	feed(SVC("ns1", "web", "\"clusterIP\":\"None\""), false, true);
	ck_assert_uint_eq(dnszone_service_count(Z), 0);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("5.1.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	feed(SVC("ns1", "web", "\"clusterIP\":\"None\""), false, false);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
}
END_TEST

START_TEST(slice_delete_removes_endpoints)
{
	feed(SVC("ns1", "web", "\"clusterIP\":\"None\",\"ports\":" HTTP), false, false);
	feed(WEB_SLICE("[" EPH("10.244.1.5", "w0") "," EP("10.244.1.6", "true") "]"), true, false);
	feed(SLICE("ns1", "web-def", "web", "IPv4", HTTP, "[" EP("10.244.1.7", "true") "]"), true, false);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	assert_data(3);
	feed(WEB_SLICE("[]"), true, true);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	AN(NULL, "A 10.244.1.7");
	ask("w0.web.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("5.1.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("6.1.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("7.1.244.10.in-addr.arpa", DNS_T_PTR);
	AN(NULL, "PTR 10-244-1-7.web.ns1.svc." ZONE);
	feed(SLICE("ns1", "web-def", "web", "IPv4", HTTP, "[]"), true, true);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("7.1.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	/* deleting what is not there is harmless */
	feed(SLICE("ns1", "web-def", "web", "IPv4", HTTP, "[]"), true, true);
	feed(SVC("nsx", "none", ""), false, true);
	ck_assert_uint_eq(dnszone_service_count(Z), 1);
}
END_TEST

START_TEST(slice_update_and_relabel)
{
	feed(SVC("ns1", "web", "\"clusterIP\":\"None\""), false, false);
	feed(SVC("ns1", "api", "\"clusterIP\":\"None\""), false, false);
	feed(WEB_SLICE("[" EP("10.244.1.5", "true") "]"), true, false);
	feed(WEB_SLICE("[" EP("10.244.1.8", "true") "]"), true, false);     /* update */
	ask("web.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	AN(NULL, "A 10.244.1.8");
	ask("5.1.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	/* the same slice now labelled for another service */
	feed(SLICE("ns1", "web-abc", "api", "IPv4", HTTP, "[" EP("10.244.1.8", "true") "]"), true, false);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("api.ns1.svc." ZONE, DNS_T_A);
	AN(NULL, "A 10.244.1.8");
	ask("8.1.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR 10-244-1-8.api.ns1.svc." ZONE);
}
END_TEST

START_TEST(endpoints_union_dedup)
{
	feed(SVC("ns1", "web", "\"clusterIP\":\"None\""), false, false);
	feed(WEB_SLICE("[" EP("10.244.1.5", "true") "," EP("10.244.1.6", "true") "]"), true, false);
	feed(SLICE("ns1", "web-2", "web", "IPv4", HTTP, "[" EPH("10.244.1.6", "w6") "]"), true, false);
	ask("web.ns1.svc." ZONE, DNS_T_A);
	assert_data(2);
	ask("6.1.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR w6.web.ns1.svc." ZONE);   /* the one with a hostname wins */
	/* a pod in two headless services gets two PTRs */
	feed(SVC("ns1", "api", "\"clusterIP\":\"None\""), false, false);
	feed(SLICE("ns1", "api-1", "api", "IPv4", HTTP, "[" EP("10.244.1.5", "true") "]"), true, false);
	ask("5.1.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(2);
	AN(NULL, "PTR 10-244-1-5.web.ns1.svc." ZONE);
	AN(NULL, "PTR 10-244-1-5.api.ns1.svc." ZONE);
}
END_TEST

START_TEST(multi_port_srv)
{
	feed(SVC("ns1", "db", "\"clusterIP\":\"None\",\"ports\":[{\"name\":\"sql\",\"port\":5432},"
		 "{\"name\":\"Metrics\",\"port\":9187,\"protocol\":\"TCP\"},{\"name\":\"gossip\",\"port\":7946,"
		 "\"protocol\":\"UDP\"}]"), false, false);
	feed(SLICE("ns1", "db-1", "db", "IPv4",
		   "[{\"name\":\"sql\",\"port\":15432,\"protocol\":\"TCP\"},{\"name\":\"Metrics\",\"port\":9187,"
		   "\"protocol\":\"TCP\"},{\"name\":\"gossip\",\"port\":7946,\"protocol\":\"UDP\"}]",
		   "[" EPH("10.244.2.1", "db-0") "," EPH("10.244.2.2", "db-1") "," EP("10.244.2.3", "true") ","
		   EP("10.244.2.4", "false") "]"), true, false);
	ask("_sql._tcp.db.ns1.svc." ZONE, DNS_T_SRV);
	assert_data(3);
	AN(NULL, "SRV 0 33 15432 db-0.db.ns1.svc." ZONE);      /* the slice's port */
	AN(NULL, "SRV 0 33 15432 db-1.db.ns1.svc." ZONE);
	AN(NULL, "SRV 0 33 15432 10-244-2-3.db.ns1.svc." ZONE);
	ck_assert_uint_eq(A.count[DNS_SEC_AR], 3);
	ask("_metrics._tcp.db.ns1.svc." ZONE, DNS_T_SRV);       /* port names ignore case */
	assert_data(3);
	AN(NULL, "SRV 0 33 9187 db-0.db.ns1.svc." ZONE);
	ask("_gossip._udp.db.ns1.svc." ZONE, DNS_T_SRV);
	assert_data(3);
	ask("_gossip._tcp.db.ns1.svc." ZONE, DNS_T_SRV);
	NXDOMAIN(ZONE);
	ask("_sql._tcp.db.ns1.svc." ZONE, DNS_T_ANY);
	assert_data(3);
	/* ClusterIP with several ports */
	ask("_http._tcp." S, DNS_T_SRV);
	assert_data(1);
	ask("_metrics._tcp." S, DNS_T_SRV);
	AN(NULL, "SRV 0 100 9090 " S);
}
END_TEST

START_TEST(service_without_ports_and_ips)
{
	feed(SVC("ns1", "bare", "\"clusterIP\":\"10.96.5.5\""), false, false);
	ask("bare.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	feed(SVC("ns1", "pending", ""), false, false);  /* no cluster IP yet */
	ask("pending.ns1.svc." ZONE, DNS_T_A);
	NODATA(ZONE);
	feed(SVC("ns1", "dual",
		 "\"clusterIP\":\"10.96.5.6\",\"clusterIPs\":[\"10.96.5.6\",\"fd00:10:96::6\"]"),
	     false, false);
	ask("dual.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	ask("dual.ns1.svc." ZONE, DNS_T_AAAA);
	assert_data(1);
	AN(NULL, "AAAA fd00:10:96::6");
	ask("dual.ns1.svc." ZONE, DNS_T_ANY);
	assert_data(2);
	/* garbage is ignored, never a crash */
	feed("{}", false, false);
	feed("{\"metadata\":{\"name\":\"a.b\"}}", false, false);
	feed("{\"metadata\":{\"name\":\"s\"},\"addressType\":\"FQDN\","
	     "\"endpoints\":[{\"addresses\":[\"x\"]}]}",
	     true, false);
	feed("{\"metadata\":{\"name\":\"s2\",\"labels\":{\"kubernetes.io/service-name\":\"bare\"},"
	     "\"namespace\":\"ns1\"},\"endpoints\":[{\"addresses\":[\"fd00::1\", 3, \"bad\"]}],"
	     "\"ports\":[{\"port\":99999},7]}", true, false);
	ask("bare.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
}
END_TEST

START_TEST(answer_memory_reused)
{
	size_t cap;
	ask(H, DNS_T_A);
	cap = A.cap;
	ck_assert_uint_ge(cap, 2);
	ask(H, DNS_T_A);
	ck_assert_uint_eq(A.cap, cap);
	ck_assert_uint_eq(A.n, 2);
	dns_answer_reset(&A);
	ck_assert_uint_eq(A.n, 0);
	ck_assert_uint_eq(A.count[DNS_SEC_AN], 0);
	ck_assert(!A.aa);
}
END_TEST

/* 10,000 services with two endpoints each: insert, update, delete. */
START_TEST(many_services)
{
	char svc[256], sl[512], name[128];
	int n = 10000;

	for (int i = 0; i < n; i++) {
		snprintf(svc, sizeof(svc), SVC("ns%d", "s%d", "\"clusterIP\":\"None\",\"ports\":" HTTP),
			 i % 50, i);
		snprintf(sl, sizeof(sl), SLICE("ns%d", "s%d-x", "s%d", "IPv4", HTTP,
					       "[" EP("10.245.%d.%d", "true") "," EP("10.246.%d.%d", "true") "]"),
			 i % 50, i, i, i / 256, i % 256, i / 256, i % 256);
		feed(sl, true, false);          /* slices first for half the time */
		feed(svc, false, false);
	}
	ck_assert_uint_eq(dnszone_service_count(Z), (size_t)n);
	ask("s1234.ns34.svc." ZONE, DNS_T_A);
	assert_data(2);
	AN(NULL, "A 10.245.4.210");
	AN(NULL, "A 10.246.4.210");
	ask("210.4.245.10.in-addr.arpa", DNS_T_PTR);
	ck_assert(!ours);                       /* outside the pod range given */
	for (int i = 0; i < n; i += 2) {        /* update: one endpoint each */
		snprintf(sl, sizeof(sl),
			 SLICE("ns%d", "s%d-x", "s%d", "IPv4", HTTP, "[" EP("10.244.%d.%d", "true") "]"),
			 i % 50, i, i, i / 256, i % 256);
		feed(sl, true, false);
	}
	ask("s1234.ns34.svc." ZONE, DNS_T_A);
	assert_data(1);
	ask("210.4.244.10.in-addr.arpa", DNS_T_PTR);
	AN(NULL, "PTR 10-244-4-210.s1234.ns34.svc." ZONE);
	for (int i = 0; i < n; i++) {
		if (i % 3 == 0)
			continue;
		snprintf(svc, sizeof(svc), SVC("ns%d", "s%d", ""), i % 50, i);
		feed(svc, false, true);
		snprintf(name, sizeof(name), "{\"metadata\":{\"namespace\":\"ns%d\",\"name\":\"s%d-x\"}}",
			 i % 50, i);
		feed(name, true, true);
	}
	ck_assert_uint_eq(dnszone_service_count(Z), (size_t)(n + 2) / 3);
	ask("s1234.ns34.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("210.4.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("s1236.ns36.svc." ZONE, DNS_T_A);
	assert_data(1);
	AN(NULL, "A 10.244.4.212");
}
END_TEST

/* ---- endpoints of ClusterIP services, SRV at service names (CoreDNS) ---- */

START_TEST(cluster_ip_endpoints)
{
	/* my-service (10.96.0.50) is backed by 10.244.0.11, without a hostname */
	ask("10-244-0-11." S, DNS_T_A);
	assert_data(1);
	AN("10-244-0-11." S, "A 10.244.0.11");
	ask("10-244-0-11." S, DNS_T_AAAA);
	NODATA(ZONE);
	ask(S, DNS_T_A);                /* the service name keeps the cluster IP */
	assert_data(1);
	AN(S, "A 10.96.0.50");
	ask("_http._tcp." S, DNS_T_SRV);        /* and SRV the service name */
	assert_data(1);
	AN(NULL, "SRV 0 100 80 " S);
	/* a Deployment behind a ClusterIP service: PTR of each ready pod IP,
	 * A of its hostname; not-ready pods have neither */
	feed(SVC("ns1", "app", "\"clusterIP\":\"10.96.7.7\",\"ports\":" HTTP), false, false);
	feed(SLICE("ns1", "app-1", "app", "IPv4", "[{\"name\":\"http\",\"port\":8080}]",
		   "[" EP("10.244.0.5", "true") "," EPH("10.244.0.6", "app-b") "," EP("10.244.0.7", "false")
		   "]"), true, false);
	ask("5.0.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR 10-244-0-5.app.ns1.svc." ZONE);
	ask("6.0.244.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR app-b.app.ns1.svc." ZONE);
	ask("app-b.app.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	AN(NULL, "A 10.244.0.6");
	ask("7.0.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("10-244-0-7.app.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
	ask("7.7.96.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR app.ns1.svc." ZONE);
	/* SRV at an endpoint name: the slice's ports, the endpoint as target */
	ask("app-b.app.ns1.svc." ZONE, DNS_T_SRV);
	assert_data(1);
	AN(NULL, "SRV 0 100 8080 app-b.app.ns1.svc." ZONE);
	ck_assert(has(DNS_SEC_AR, "app-b.app.ns1.svc." ZONE, "A 10.244.0.6"));
	/* the service deleted: its endpoint names and PTRs go */
	feed(SVC("ns1", "app", "\"clusterIP\":\"10.96.7.7\""), false, true);
	ask("5.0.244.10.in-addr.arpa", DNS_T_PTR);
	NXDOMAIN("244.10.in-addr.arpa");
	ask("10-244-0-5.app.ns1.svc." ZONE, DNS_T_A);
	NXDOMAIN(ZONE);
}
END_TEST

START_TEST(cluster_ip_wins_ptr)
{
	/* An address that is both a cluster IP and an endpoint: the service
	 * name only (CoreDNS's serviceRecordForIP looks at cluster IPs first). */
	feed(SVC("ns1", "odd", "\"clusterIP\":\"None\""), false, false);
	feed(SLICE("ns1", "odd-1", "odd", "IPv4", HTTP, "[" EP("10.96.0.50", "true") "]"), true, false);
	ask("50.0.96.10.in-addr.arpa", DNS_T_PTR);
	assert_data(1);
	AN(NULL, "PTR " S);
	ask("10-96-0-50.odd.ns1.svc." ZONE, DNS_T_A);   /* the name itself exists */
	assert_data(1);
}
END_TEST

START_TEST(srv_at_service_name)
{
	ask("kubernetes.default.svc." ZONE, DNS_T_SRV);
	assert_data(1);
	AN("kubernetes.default.svc." ZONE, "SRV 0 100 443 kubernetes.default.svc." ZONE);
	ck_assert_uint_eq(A.count[DNS_SEC_AR], 1);
	ck_assert(has(DNS_SEC_AR, "kubernetes.default.svc." ZONE, "A 10.96.0.1"));
	/* every port, named or not */
	ask(S, DNS_T_SRV);
	assert_data(3);
	AN(S, "SRV 0 33 80 " S);
	AN(S, "SRV 0 33 53 " S);
	AN(S, "SRV 0 33 9090 " S);
	ck_assert_uint_eq(A.count[DNS_SEC_AR], 1);
	ask("unnamed.my-ns.svc." ZONE, DNS_T_SRV);
	assert_data(1);
	AN(NULL, "SRV 0 100 80 unnamed.my-ns.svc." ZONE);
	/* headless: one per endpoint x port, the endpoint names as targets */
	ask(H, DNS_T_SRV);
	assert_data(2);
	AN(H, "SRV 0 50 80 web-0." H);
	AN(H, "SRV 0 50 80 10-244-0-12." H);
	ck_assert(has(DNS_SEC_AR, "web-0." H, "A 10.244.0.11"));
	ck_assert(has(DNS_SEC_AR, "10-244-0-12." H, "A 10.244.0.12"));
	ask("web-0." H, DNS_T_SRV);
	assert_data(1);
	AN("web-0." H, "SRV 0 100 80 web-0." H);
	/* one record per port number: kube-dns's 53/udp and 53/tcp */
	feed(SVC("kube-system", "kube-dns", "\"clusterIP\":\"10.96.0.10\",\"ports\":["
		 "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},"
		 "{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\"},"
		 "{\"name\":\"metrics\",\"port\":9153,\"protocol\":\"TCP\"}]"), false, false);
	ask("kube-dns.kube-system.svc." ZONE, DNS_T_SRV);
	assert_data(2);
	AN(NULL, "SRV 0 50 53 kube-dns.kube-system.svc." ZONE);
	AN(NULL, "SRV 0 50 9153 kube-dns.kube-system.svc." ZONE);
	ask("_dns-tcp._tcp.kube-dns.kube-system.svc." ZONE, DNS_T_SRV);
	assert_data(1);
	/* a service without ports: NODATA; headless without endpoints: NXDOMAIN */
	feed(SVC("ns1", "bare", "\"clusterIP\":\"10.96.5.5\""), false, false);
	ask("bare.ns1.svc." ZONE, DNS_T_SRV);
	NODATA(ZONE);
	feed(SVC("ns1", "hl", "\"clusterIP\":\"None\""), false, false);
	ask("hl.ns1.svc." ZONE, DNS_T_SRV);
	NXDOMAIN(ZONE);
	feed(SLICE("ns1", "hl-1", "hl", "IPv4", "[]", "[" EP("10.244.3.1", "true") "]"), true, false);
	ask("hl.ns1.svc." ZONE, DNS_T_SRV);
	NODATA(ZONE);
	ask("hl.ns1.svc." ZONE, DNS_T_A);
	assert_data(1);
	/* ExternalName: still the CNAME */
	ask(X, DNS_T_SRV);
	assert_data(1);
	AN(X, "CNAME www.example.com");
}
END_TEST

static Suite *dns_zone_suite(void)
{
	Suite *s = suite_create("dns_zone");
	TCase *t = tcase_create("checklist");
	TCase *u = tcase_create("updates");

	tcase_add_checked_fixture(t, setup_checklist, teardown);
	tcase_add_test(t, a1_schema_version);
	tcase_add_test(t, b1_b2_cluster_ip);
	tcase_add_test(t, b3_srv_named_ports);
	tcase_add_test(t, b4_b5_no_srv_unnamed_or_wrong_proto);
	tcase_add_test(t, b6_b7_ptr_cluster_ip);
	tcase_add_test(t, b8_kubernetes);
	tcase_add_test(t, c1_headless_ready_endpoints);
	tcase_add_test(t, c2_headless_no_ready_nxdomain);
	tcase_add_test(t, c3_publish_not_ready);
	tcase_add_test(t, c4_endpoint_names);
	tcase_add_test(t, c5_c7_ipv6_endpoints);
	tcase_add_test(t, c6_headless_srv);
	tcase_add_test(t, c7_ptr_endpoints);
	tcase_add_test(t, d1_external_name);
	tcase_add_test(t, d2_type_change);
	tcase_add_test(t, d_chase_inside_zone);
	tcase_add_test(t, e1_pod_records);
	tcase_add_test(t, f1_case_insensitive);
	tcase_add_test(t, f2_nxdomain_with_soa);
	tcase_add_test(t, f_empty_non_terminals_nodata);
	tcase_add_test(t, f_apex_soa_ns_any);
	tcase_add_test(t, f_serial_follows_changes);
	tcase_add_test(t, f_class_and_transfer);
	tcase_add_test(t, f_not_ours_forwarded);
	tcase_add_test(t, f_reverse_in_range);
	tcase_add_test(t, multi_port_srv);
	tcase_add_test(t, cluster_ip_endpoints);
	tcase_add_test(t, cluster_ip_wins_ptr);
	tcase_add_test(t, srv_at_service_name);
	tcase_add_test(t, answer_memory_reused);
	suite_add_tcase(s, t);

	tcase_add_checked_fixture(u, setup, teardown);
	tcase_set_timeout(u, 60);
	tcase_add_test(u, slice_before_service);
	tcase_add_test(u, slice_delete_removes_endpoints);
	tcase_add_test(u, slice_update_and_relabel);
	tcase_add_test(u, endpoints_union_dedup);
	tcase_add_test(u, service_without_ports_and_ips);
	tcase_add_test(u, many_services);
	suite_add_tcase(s, u);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dns_zone_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
