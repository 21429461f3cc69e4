/* zonedb.h — the in-memory zone database: built once per load, then read by every
 * worker without locks until it is replaced as a whole.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/compiler.h"
#include "lib/diag.h"

/* Private-use type codes (RFC 6895 §3.1) for the two dynamic record types; they never
 * appear on the wire. */
#define TYPE_DYNA 65281
#define TYPE_DYNC 65282

/* One RRset, ready to copy into a response: count records, each laid out as
 * type(2) class(2) ttl(4) rdlength(2) rdata — everything but the owner name.  For NS, MX
 * and SRV the wire is followed (8-byte aligned) by the in-zone node each record's target
 * names, or NULL: found at load so additional-section processing needs no lookup. */
struct rrset {
    uint16_t type;
    uint16_t count;
    uint32_t ttl;
    uint32_t len;
    const uint8_t *wire;
    const struct rrset *sigs; /* its RRSIGs (type 46, same layout) in a signed zone, or NULL */
};

enum node_flag {
    NODE_APEX = 1 << 0,
    NODE_CUT = 1 << 1, /* NS below the apex: a delegation point */
    NODE_DNAME = 1 << 2,
    NODE_CNAME = 1 << 3,
    NODE_DYNA = 1 << 4,     /* A/AAAA come from service dyn_service */
    NODE_DYNC = 1 << 5,     /* a CNAME comes from service dyn_service */
    NODE_OCCLUDED = 1 << 6, /* below a cut or a DNAME: never answered from directly */
    NODE_WILDCARD = 1 << 7, /* has a child "*" (RFC 4592) */
};

#define NODE_NONE UINT32_MAX

/* A name that exists in the zone: one with records, or an empty non-terminal
 * (RFC 4592 §2.2.2) with none.  32 bytes: a million-name zone is mostly these. */
struct node {
    const uint8_t *name;        /* lower-case wire */
    const struct rrset *rrsets; /* ordered by type */
    uint32_t parent;            /* index in the zone's nodes; NODE_NONE at the apex */
    uint32_t dyn_ttl;           /* DYNA/DYNC: the record's TTL */
    uint16_t flags;
    uint16_t nrrsets;
    uint16_t dyn_service; /* DYNA/DYNC: index into the config's services */
    uint8_t namelen;
    uint8_t labels; /* not counting the root */
};

struct zone_sec;

struct zone {
    const uint8_t *name; /* lower-case wire */
    uint8_t namelen, labels;
    const struct node *apex;
    const struct rrset *soa;
    uint32_t neg_ttl; /* RFC 2308 §5: min(SOA TTL, SOA MINIMUM) */
    uint32_t serial;
    const struct node *nodes; /* every node, apex first */
    size_t nnodes, nrecords;
    const char *file;
    /* Open addressing, linear probing; a slot holds the node's hash beside its index + 1
     * (0: empty), so most misses cost no name comparison.  nslots need not be a power of
     * two: the first slot is (hash × nslots) >> 32, and the table is about 70% full. */
    struct zslot {
        uint32_t hash;
        uint32_t node;
    } * slots;
    uint32_t nslots;
    struct zone_sec *sec; /* DNSSEC state (zones/sign/sign.h); NULL when unsigned */
    atomic_int refs;      /* zonedbs holding this zone; changed only by the reloading thread */
    struct arena arena;
};

/* Every zone of one load, found by name. */
struct zonedb {
    struct zone **zones;
    size_t nzones;
    unsigned max_labels; /* of any zone name: where the longest-match search starts */
    struct zslot_z {
        uint32_t hash;
        struct zone *zone;
    } * slots;
    uint32_t mask;
};

/* Resolves a DYNA/DYNC service name to its index, or -1 when unknown. */
typedef int (*service_resolver)(void *ctx, const char *name);
/* Whether a service can answer DYNC: every region it may pick has a CNAME target. */
typedef bool (*service_cname_check)(void *ctx, int service);

struct zone_load_opts {
    service_resolver resolve_service;
    service_cname_check service_has_cnames; /* NULL: no DYNC check */
    void *resolve_ctx;
    size_t max_records; /* 0: no limit */
};

/* Drops one reference (zone_load hands the caller one); the last frees the zone. */
void zone_release(struct zone *z);

/* A database over zones (each gains a reference); NULL when out of memory. */
struct zonedb *zonedb_new(struct zone **zones, size_t n) F_WUNUSED;
void zonedb_free(struct zonedb *db);

/* The zone with the longest name that qname (lower-case wire, qlen bytes, labels
 * labels) lies in, or NULL. */
const struct zone *zonedb_find_zone(const struct zonedb *db, const uint8_t *qname, size_t qlen,
                                    const uint8_t *label_off, unsigned labels);
/* The zone's node for name, or NULL. */
const struct node *zone_find_node(const struct zone *z, const uint8_t *name, size_t len);
const struct rrset *node_rrset(const struct node *n, uint16_t type);

/* The node's parent, or NULL at the apex. */
static inline const struct node *node_parent(const struct zone *z, const struct node *n)
{
    return n->parent == NODE_NONE ? NULL : &z->nodes[n->parent];
}

/* The wildcard "*" child of n, or NULL (RFC 4592 §2.1.1). */
const struct node *node_wildcard(const struct zone *z, const struct node *n);

/* RFC 1034 §4.3.2 step 3b and RFC 6672 §3.3: the highest ancestor above n that holds a
 * cut (the apex does not count) or a DNAME (the apex does), or NULL. */
const struct node *node_stop(const struct zone *z, const struct node *n);

/* The rdata of a type that holds domain names: lead fixed bytes, then names uncompressed
 * names, then tail fixed bytes (RFC 1035 §3.3, RFC 2782, RFC 6672).  names is 0 for the
 * types whose rdata is read as opaque bytes. */
struct rdata_layout {
    uint8_t lead, names, tail;
};

static inline struct rdata_layout rdata_layout(uint16_t type)
{
    switch (type) {
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */
        return (struct rdata_layout){0, 1, 0};
    case 6: /* SOA: mname, rname, then the five counters */
        return (struct rdata_layout){0, 2, 20};
    case 15: /* MX: the preference first */
        return (struct rdata_layout){2, 1, 0};
    case 33: /* SRV: priority, weight and port first */
        return (struct rdata_layout){6, 1, 0};
    default:
        return (struct rdata_layout){0, 0, 0};
    }
}

/* For NS, MX and SRV: the in-zone node of each record's target (NULL when out of zone);
 * NULL for other types. */
const struct node *const *rrset_targets(const struct rrset *s);
bool rrset_has_targets(uint16_t type);
/* Where the target name starts in one record's rdata of such a type; -1 for others. */
int rrset_target_offset(uint16_t type);
