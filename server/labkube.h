/*
 * server/labkube.h: the one explicit context passed to every component, and
 * the configuration table that feeds the command line and --help.
 */
#ifndef LK_LABKUBE_H
#define LK_LABKUBE_H

#include <stdbool.h>
#include <stdint.h>

#define LABKUBE_VERSION "0.1.0"
#define K8S_MAJOR "1"
#define K8S_MINOR "32"
#define K8S_GIT_VERSION "v1.32.0+labkube." LABKUBE_VERSION

struct loop;
struct store;
struct registry;
struct api;
struct node;
struct controllers;
struct proxy;
struct dnssrv;

struct config {
	char *data_dir;
	char *listen;        /* "127.0.0.1:6443" */
	char *node_ip;
	char *node_name;
	char *service_cidr;
	char *node_port_range; /* "30000-32767" */
	char *lb_pool;       /* LoadBalancer addresses: CIDR or A-B range; NULL = node IP */
	char *cluster_domain;
	char *pod_cidr;      /* "10.244.0.0/16": the bridge takes the first address */
	char *cluster_dns;   /* "10.96.0.10": the pods' nameserver */
	char *dns_listen;    /* extra DNS listen addresses: "127.0.0.1:5353,..." */
	char *dns_upstream;  /* forwarders "IP[:PORT],..."; NULL: /etc/resolv.conf */
	int dns_ttl;         /* TTL of cluster records (seconds) */
	int history_revisions;
	int history_seconds;
	bool quiet;
};

struct labkube {
	struct config cfg;
	struct loop *loop;
	struct store *store;
	struct registry *reg;     /* the write path, informers, events (server/registry) */
	struct api *api;
	struct controllers *controllers; /* their state (server/controllers) */
	struct node *node;      /* the node agent (server/node), NULL when off */
	struct proxy *proxy;    /* the service proxy (proxy/), NULL when stopped */
	struct dnssrv *dns;     /* cluster DNS (dns/), NULL when stopped */
	char server_url[128];   /* http://ADDR:PORT */
};

/* Bootstrap objects every cluster has (namespaces, the kubernetes Service,
 * default ServiceAccounts); idempotent. server/controllers/bootstrap.c.
 * start returns its state (NULL: failed), stop frees it. */
void *bootstrap_start(struct labkube *lk);
void bootstrap_stop(void *state);

#endif
