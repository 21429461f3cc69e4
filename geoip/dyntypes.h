/* dyntypes.h — the compiled regions and services shared by the dynamic-name modules
 * (dyn.c builds them, locate.c and policy.c read them).  Not for use elsewhere.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "geoip/dectree.h"
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
    const struct dyn_choice **map; /* every key's choice, in config order */
    unsigned nmap;
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
    /* geo, nearest and latency: the compiled tree (shared with services of the same
     * inputs) and its decisions as this load's choices, by decision id */
    struct dectree *tree;
    const struct dyn_choice **choices;
    const char *tree_note; /* how the tree came to be, for -t and the reload log */
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

struct dyn_scratch {
    uint64_t rng;
};

/* Room for one decision while it is worked out: 2 × regions + 1 each. */
struct decide_buf {
    uint16_t *regions;
    double *dist;
};

/* locate.c: the client's location, looked up step by step (the reference path, which
 * compile.c turns into trees, and which explain traces). */
void locate(const struct dyn *d, const struct dyn_client *c, struct location *out,
            struct diag *trace);
/* The place of a database record, completed from the country table. */
void locate_place(const struct dyn *d, const struct geodb_hit *h, struct place *out);
uint16_t continent_index(const char *code); /* 0..6, or CONTINENTS when unknown */

/* policy.c: the decision for a location: everything the map, the ranking or the table
 * say, before health, drains and weights act.  May point into buf or the service. */
void policy_decide(const struct dyn *d, const struct dyn_service *s, const struct location *loc,
                   struct decide_buf *buf, struct decision *out, struct diag *trace);
/* The region a choice gives now, or -1; *fail_open set when health was ignored. */
int policy_run(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
               struct dyn_scratch *ws, bool dync, bool *fail_open);
void policy_trace_candidates(const struct dyn *d, const struct dyn_service *s,
                             const struct dyn_choice *c, struct diag *trace);

/* compile.c: the service's tree, from the databases, geoip.nets and its latency table,
 * or one compiled before from the same inputs (this load's or the previous one's).
 * False out of memory. */
bool compile_service(struct dyn *d, struct dyn_service *s, const struct conf_service *cs);
void compile_release(struct dectree *t);
/* The database networks (pieces where every database's walk ends) in addr/prefix. */
unsigned long compile_count_networks(const struct dyn *d, int family, const uint8_t *addr,
                                     unsigned prefix);
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
