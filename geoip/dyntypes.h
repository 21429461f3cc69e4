/* dyntypes.h — the compiled regions and services shared by the dynamic-name modules
 * (dyn.c builds them, locate.c and policy.c read them).  Not for use elsewhere.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "geoip/dyn.h"
#include "geoip/geodb.h"
#include "geoip/state.h"
#include "lib/arena.h"
#include "server/conf.h"

struct latency_table;
struct nettree;

struct dyn_region {
    const char *name;
    bool has_loc;
    double lat, lon; /* radians */
    unsigned nv4, nv6;
    const uint8_t *v4, *v6; /* nv4 × 4 and nv6 × 16 bytes */
    struct addr_state **v4st, **v6st;
    const uint8_t *cname; /* wire form, or NULL */
    struct region_state *st;
};

/* An ordered fallback list, or a weighted set when weights is not NULL. */
struct dyn_choice {
    unsigned n;
    const uint16_t *regions;
    const uint32_t *weights;
    const char *label; /* the map key or net it came from, for explain */
};

#define COUNTRY_SLOTS (26 * 26)
#define CONTINENTS    7

struct dyn_subdiv {
    char key[40]; /* "US-CA" */
    const struct dyn_choice *choice;
};

struct dyn_service {
    const char *name;
    enum policy_kind policy;
    uint32_t ttl;          /* 0: the record's */
    uint32_t ttl_degraded; /* 0: none */
    bool failback_manual;  /* failover: a region with its held flag set keeps the traffic */
    unsigned max_answers;
    /* geo: the most specific key wins; each table is filled at load */
    const struct dyn_choice **by_country; /* COUNTRY_SLOTS, or NULL when no country key */
    const struct dyn_choice *by_continent[CONTINENTS];
    const struct dyn_choice *deflt;
    struct dyn_subdiv *subdivs;
    unsigned nsubdivs;
    /* weighted: regions and weights; failover: the order; nearest and latency: the
     * candidates (every region when the config names none) */
    struct dyn_choice set;
    struct latency_table *latency;
    struct svc_region_state **st; /* by region index */
    struct service_state *sst;
    /* The entries fail open is decided by: geo map keys in config order, then geoip.nets
     * (for location policies); one set for weighted and failover services. */
    const struct dyn_choice **entries;
    unsigned nentries;
};

/* Where a query's client is, and how much of its address decided that. */
struct location {
    int family; /* the client address looked up: family, bytes, known bits */
    uint8_t addr[16];
    uint8_t bits;
    const struct dyn_choice *net; /* a geoip.nets entry: it decides alone */
    struct geodb_hit hit;
    struct place place; /* continent and coordinates completed from the country table */
    bool known;         /* there was an address to look up */
    uint8_t prefix;     /* of the network that decided */
};

struct dyn {
    uint32_t id; /* tells cached records of an older load apart */
    const struct config *conf;
    struct dyn_region *regions;
    unsigned nregions;
    struct dyn_choice all; /* every region in config order: nearest's default candidates */
    struct dyn_service *services;
    unsigned nservices;
    struct geodb *geodb;
    struct nettree *nets;
    const struct dyn_choice **net_choices; /* geoip.nets entries, in config order */
    unsigned nnets;
    struct arena arena;
};

#define PLACE_SLOTS 4096
/* The location cache: 32,768 sets of two entries, 8 MB a thread.  Two ways, because a
 * resolver's working set of prefixes cycles: two prefixes sharing a slot of a
 * direct-mapped table would evict each other on every query. */
#define CLIENT_SETS_LOG2 15
#define CLIENT_WAYS      2
#define CLIENT_SLOTS     ((1u << CLIENT_SETS_LOG2) * CLIENT_WAYS)

struct dyn_scratch {
    uint64_t rng;
    struct cached_place { /* decoded records, by database record */
        uint64_t key;
        struct place place;
    } places[PLACE_SLOTS];
    struct cached_location {      /* whole locations, by client prefix */
        _Alignas(64) uint32_t id; /* of the dyn that located it; 0: empty.  Aligned: an
                                     entry spans two cache lines, not three */
        struct location loc;      /* its family, addr and bits are the key */
    } clients[CLIENT_SLOTS];
};

/* locate.c */
/* The client's location: an entry of the per-thread cache, or buf (filled) when traced
 * or when there is nothing to cache.  Valid until the next call on ws. */
const struct location *locate(const struct dyn *d, const struct dyn_client *c,
                              struct dyn_scratch *ws, struct location *buf, struct diag *trace);
uint16_t continent_index(const char *code); /* 0..6, or CONTINENTS when unknown */

/* policy.c: the region for the service, or -1; *fail_open set when health was ignored. */
int policy_pick(const struct dyn *d, const struct dyn_service *s, const struct location *loc,
                struct dyn_scratch *ws, bool dync, bool *fail_open, uint8_t *scope,
                struct diag *trace);
bool region_healthy(const struct dyn_region *r);
/* Whether choice c still has a region to answer with (admitted, weighted above 0 in a
 * weighted set, healthy), with the regions w marks taken out. */
bool choice_usable(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
                   const struct dyn_without *w);
/* Not drained (everywhere or for this service) and not set to weight 0 at run time. */
bool region_admin_ok(const struct dyn *d, const struct dyn_service *s, unsigned r);

static inline uint64_t scratch_random(struct dyn_scratch *ws)
{
    /* xorshift64*: a stream per thread, no syscall and no shared state */
    uint64_t x = ws->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ws->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}
