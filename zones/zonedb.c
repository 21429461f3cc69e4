/* zonedb.c — finding zones and names in the loaded database.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/zonedb.h"
#include "zones/dname.h"
#include "zones/sign/sign.h"

#include <stdlib.h>
#include <string.h>

const struct node *zone_find_node(const struct zone *z, const uint8_t *name, size_t len)
{
    uint32_t h = dname_hash(name, len);
    for (uint32_t i = (uint32_t)(((uint64_t)h * z->nslots) >> 32);;
         i = i + 1 < z->nslots ? i + 1 : 0) {
        const struct zslot *s = &z->slots[i];
        if (!s->node)
            return NULL;
        const struct node *n = &z->nodes[s->node - 1];
        if (s->hash == h && n->namelen == len && memcmp(n->name, name, len) == 0)
            return n;
    }
}

const struct node *node_wildcard(const struct zone *z, const struct node *n)
{
    if (!(n->flags & NODE_WILDCARD))
        return NULL;
    uint8_t name[DNAME_MAX + 2];
    name[0] = 1;
    name[1] = '*';
    memcpy(name + 2, n->name, n->namelen);
    return zone_find_node(z, name, n->namelen + 2u);
}

const struct node *node_stop(const struct zone *z, const struct node *n)
{
    if (!(n->flags & NODE_OCCLUDED))
        return NULL;
    const struct node *stop = NULL;
    for (const struct node *p = node_parent(z, n); p; p = node_parent(z, p))
        if ((p->flags & NODE_CUT) || (p->flags & NODE_DNAME))
            stop = p; /* keep climbing: the highest one wins */
    return stop;
}

/* The types whose targets get additional-section addresses (RFC 1035 §3.3.9, §3.3.11;
 * RFC 2782). */
int rrset_target_offset(uint16_t type)
{
    return type == 2 || type == 15 || type == 33 ? rdata_layout(type).lead : -1;
}

bool rrset_has_targets(uint16_t type)
{
    return rrset_target_offset(type) >= 0;
}

const struct node *const *rrset_targets(const struct rrset *s)
{
    if (!rrset_has_targets(s->type))
        return NULL;
    uintptr_t end = (uintptr_t)(s->wire + s->len);
    return (const struct node *const *)((end + 7) & ~(uintptr_t)7);
}

const struct rrset *node_rrset(const struct node *n, uint16_t type)
{
    for (unsigned i = 0; i < n->nrrsets; i++)
        if (n->rrsets[i].type == type)
            return &n->rrsets[i];
    return NULL;
}

void zone_release(struct zone *z)
{
    if (!z || atomic_fetch_sub(&z->refs, 1) > 1)
        return;
    zone_sec_free(z->sec);
    arena_free(&z->arena);
    free(z);
}

struct zonedb *zonedb_new(struct zone **zones, size_t n)
{
    struct zonedb *db = calloc(1, sizeof(*db));
    uint32_t size = 8;
    while (size < n * 2)
        size *= 2;
    if (db) {
        db->zones = calloc(n ? n : 1, sizeof(*zones));
        db->slots = calloc(size, sizeof(*db->slots));
    }
    if (!db || !db->zones || !db->slots) {
        if (db) {
            free(db->zones);
            free(db->slots);
        }
        free(db);
        return NULL;
    }
    db->mask = size - 1;
    for (size_t i = 0; i < n; i++) {
        struct zone *z = zones[i];
        atomic_fetch_add(&z->refs, 1);
        db->zones[db->nzones++] = z;
        if (z->labels > db->max_labels)
            db->max_labels = z->labels;
        uint32_t h = dname_hash(z->name, z->namelen), j = h & db->mask;
        while (db->slots[j].zone)
            j = (j + 1) & db->mask;
        db->slots[j].hash = h;
        db->slots[j].zone = z;
    }
    return db;
}

void zonedb_free(struct zonedb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->nzones; i++)
        zone_release(db->zones[i]);
    free(db->zones);
    free(db->slots);
    free(db);
}

static const struct zone *find_exact(const struct zonedb *db, const uint8_t *name, size_t len)
{
    uint32_t h = dname_hash(name, len);
    for (uint32_t i = h & db->mask;; i = (i + 1) & db->mask) {
        const struct zslot_z *s = &db->slots[i];
        if (!s->zone)
            return NULL;
        if (s->hash == h && s->zone->namelen == len && memcmp(s->zone->name, name, len) == 0)
            return s->zone;
    }
}

/* With a handful of zones, comparing suffixes beats hashing every candidate. */
#define FEW_ZONES 8

static const struct zone *find_among_few(const struct zonedb *db, const uint8_t *qname, size_t qlen)
{
    const struct zone *best = NULL;
    for (size_t i = 0; i < db->nzones; i++) {
        const struct zone *z = db->zones[i];
        if ((!best || z->namelen > best->namelen) && dname_is_sub(qname, qlen, z->name, z->namelen))
            best = z;
    }
    return best;
}

const struct zone *zonedb_find_zone(const struct zonedb *db, const uint8_t *qname, size_t qlen,
                                    const uint8_t *label_off, unsigned labels)
{
    if (db->nzones <= FEW_ZONES)
        return find_among_few(db, qname, qlen);
    /* Longest match first; no zone has more labels than max_labels. */
    unsigned skip = labels > db->max_labels ? labels - db->max_labels : 0;
    for (unsigned i = skip; i <= labels; i++) {
        size_t off = i < labels ? label_off[i] : qlen - 1;
        const struct zone *z = find_exact(db, qname + off, qlen - off);
        if (z)
            return z;
    }
    return NULL;
}
