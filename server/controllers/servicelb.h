/*
 * server/controllers/servicelb.h: the lab-local load balancer, like the one
 * single-node distributions ship (k3s' servicelb): every Service of type
 * LoadBalancer without a loadBalancerClass gets status.loadBalancer.ingress
 * [{ip, ipMode: VIP}] with the node IP, or with the next free address of
 * --lb-pool when one is given. spec.loadBalancerIP is honoured when it is a
 * local address (the node IP, or a free address of the pool); otherwise a
 * Warning event says so and the default applies. Traffic to the ingress IP
 * is the proxy's business (proxy/), not this controller's. A Service that
 * stops being a LoadBalancer loses its status in the API's type-change drop
 * (server/resources/service.c); here its pool address is freed.
 */
#ifndef LK_SERVICELB_H
#define LK_SERVICELB_H

#include <stdint.h>

struct labkube;

void *servicelb_start(struct labkube *lk);
void servicelb_stop(void *state);

/* --lb-pool: "10.0.0.0/29" (network and broadcast left out below /31) or
 * "10.0.0.10-10.0.0.20"; host-order first/last. 0, or -1 when malformed. */
int servicelb_pool_parse(const char *s, uint32_t *first, uint32_t *last);

#endif
