/* dyn.h — dynamic names: which region serves this client, and with which addresses or
 * CNAME target.  Built once per config load from the regions and services; answered
 * from by every worker without locks or allocation.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

struct dyn;
struct dyn_scratch;

/* Where the client is, as the query tells it: the ECS address and source prefix when
 * present (RFC 7871 §7.1.1), else the packet's source address with every bit known. */
struct dyn_client {
    int family; /* AF_INET or AF_INET6; 0 when nothing is known */
    uint8_t addr[16];
    uint8_t bits;
    bool ecs;
};

#define DYN_MAX_ANSWERS 64

struct dyn_answer {
    int region; /* index into the config's regions; -1 when none */
    uint32_t ttl;
    uint32_t ttl_degraded; /* when not 0, the answer's TTL is at most this: it may soon change */
    uint8_t scope;         /* ECS scope prefix (RFC 7871 §7.2.1), never above the source prefix */
    bool fail_open;        /* every candidate was down: answered as if all were up */
    int32_t pair;          /* the service/region pair's counter id (state.h), or -1 */
    unsigned n;
    const uint8_t *addr[DYN_MAX_ANSWERS]; /* 4 or 16 bytes each, by the query type */
    const uint8_t *cname;                 /* DYNC: the target in wire form */
};

/* Compiles the config's regions and services and opens its GeoIP databases.  NULL with
 * the reasons in d. */
struct dyn *dyn_new(const struct config *c, struct diag *d) F_WUNUSED;
void dyn_free(struct dyn *d);

/* Whether region (config index) has an address up, or none to check. */
bool dyn_region_healthy(const struct dyn *d, unsigned region);

/* A failover service's order, as config region indexes; 0 for other policies. */
unsigned dyn_failover_order(const struct dyn *d, unsigned service, const uint16_t **regions);

/* Whether the service may use region: not drained anywhere or here, not weighted 0. */
bool dyn_region_admitted(const struct dyn *d, unsigned service, unsigned region);

/* The services, for reports. */
unsigned dyn_service_count(const struct dyn *d);
const char *dyn_service_name(const struct dyn *d, unsigned service);

/* True when the service may ever pick the region (config index). */
bool dyn_service_uses(const struct dyn *d, unsigned service, unsigned region);

/* True when no region the service can pick is both in service and healthy: its answers
 * are failing open. */
bool dyn_service_all_down(const struct dyn *d, unsigned service);

/* A change being weighed: the regions marked in regions (by config index, nregions of
 * them) taken out of one service (its index), or out of every service when service is -1. */
struct dyn_without {
    int service;
    const bool *regions;
};

/* Fail open is decided per entry of a service: each key of a geo map and each geoip.nets
 * network (for the location policies) is one, and the one set of a weighted or failover
 * service is labelled "*". */
unsigned dyn_entry_count(const struct dyn *d, unsigned service);
const char *dyn_entry_label(const struct dyn *d, unsigned service, unsigned entry);

/* True when the entry has a usable region: not drained, not weighted 0, an address up;
 * with w's regions taken out when w is not NULL. */
bool dyn_entry_usable(const struct dyn *d, unsigned service, unsigned entry,
                      const struct dyn_without *w);

/* True when every region the service can pick has a CNAME target (DYNC needs one). */
bool dyn_service_has_cnames(const struct dyn *d, unsigned service);

/* How the service's decision tree came to be (size, compile time), or NULL for a
 * service that needs none; for meridiand -t and the reload log. */
const char *dyn_service_tree_note(const struct dyn *d, unsigned service);

/* Per-thread working memory: a random stream (weighted choices, shuffled addresses). */
struct dyn_scratch *dyn_scratch_new(void) F_WUNUSED;
void dyn_scratch_free(struct dyn_scratch *ws);

/* Answers service for client: qtype 1 (A) or 28 (AAAA) fills addresses, 5 (CNAME) the
 * target.  trace, when not NULL, receives each step of the decision as a line. */
void dyn_resolve(const struct dyn *d, unsigned service, uint16_t qtype,
                 const struct dyn_client *client, struct dyn_scratch *ws, struct dyn_answer *out,
                 struct diag *trace);

/* Fills client from an address in text ("198.51.100.7", "2001:db8::/48"); false when
 * the text is not an address. */
bool dyn_client_parse(const char *text, struct dyn_client *client);
