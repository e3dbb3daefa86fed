/*
 * dns/zone_internal.h: the zone view's structures, shared by the two
 * halves of dnszone_* (see dns.h): zone.c keeps the view (Services,
 * EndpointSlices, the reverse index) up to date, zone_answer.c answers
 * questions from it without allocating (beyond dns_answer_add growing its
 * array). Not for use outside those two files.
 *
 * Data (struct dns_zone):
 *   names    "svc.ns" -> struct sname: the Service (NULL until it comes, a
 *            slice may come first), its slices, and (headless or
 *            ClusterIP) the merged view of its visible endpoints (ready, or
 *            all with publishNotReadyAddresses), deduplicated by IP, sorted
 *            by IP.
 *   slices   "ns/slicename" -> struct slice (owner: its "svc.ns").
 *   nss      namespace -> number of Services in it (for "<ns>.svc.<zone>").
 *   rev      struct lk_ip -> list of struct rev (PTR owners): cluster IPs, and
 *            the visible endpoints of every service.
 * The tables own their keys (common/htab.h); zone.c owns every value:
 * snames (and through them their svc, mep and rev arrays) and slices. A
 * struct rev and a struct mep point into their sname and its slices.
 *
 * Everything runs on the loop thread.
 */
#ifndef LK_DNS_ZONE_INTERNAL_H
#define LK_DNS_ZONE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/htab.h"
#include "common/ip.h"
#include "dns/dns.h"

#define LBL 64                  /* a label + NUL */
#define MAX_RANGES 8

struct port {
	char name[LBL];         /* lower case, "" when unnamed */
	char proto[8];          /* "tcp", "udp", "sctp" */
	uint16_t port;
};

struct ep {
	struct lk_ip ip;         /* parsed: also a reverse index key */
	bool ready;
	char host[LBL];         /* lower case, "" when none */
};

struct slice {
	char *key;              /* "ns/name" */
	char *owner;            /* "svc.ns", NULL without the service-name label */
	struct ep *eps;
	size_t neps;
	struct port *ports;
	size_t nports;
};

enum svc_kind { SK_CLUSTERIP, SK_HEADLESS, SK_EXTERNAL };

struct svc {
	enum svc_kind kind;
	bool pnra;              /* publishNotReadyAddresses */
	struct lk_ip *ips;
	size_t nips;
	struct port *ports;
	size_t nports;
	char ext[DNS_RNAME_BUF];
};

struct mep {                    /* a visible endpoint of a service */
	struct lk_ip ip;
	const char *host;       /* into its slice; NULL when none */
	char dashed[48];
	const struct slice *sl;
};

struct sname;

struct rev {
	struct rev *next;
	const struct sname *sn;
	long epi;               /* index into sn->eps, -1 for a cluster IP */
	struct lk_ip ip;
};

struct sname {
	char *key;              /* "svc.ns" */
	const char *ns;         /* into key */
	struct svc *svc;
	struct slice **sl;
	size_t nsl;
	struct mep *eps;
	size_t neps;
	struct rev *revs;
	size_t nrevs;
};

struct range {                  /* a reverse zone: a configured CIDR */
	struct lk_cidr net;     /* as configured, host bits kept */
	int apexbits;
	char apex[DNS_RNAME_BUF];
};

struct dns_zone {
	char domain[DNS_RNAME_BUF];
	size_t dlen;
	char mname[DNS_RNAME_BUF], rname[DNS_RNAME_BUF];
	uint32_t ttl, serial;
	size_t nsvc;
	struct htab names, slices, nss, rev; /* see the top of this file */
	struct range rg[MAX_RANGES];
	int nrg;
};

#endif
