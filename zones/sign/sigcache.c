/* sigcache.c — signatures over dynamic answers, made on first use and kept per thread.
 * A region's answer changes only with health, weights or a reload, so nearly every query
 * is a hit; a miss signs (ldns, with allocation) and replaces whatever held the slot.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/sign/signint.h"

#include <stdlib.h>
#include <string.h>

#define SC_SLOTS 1024 /* a power of two */
#define SC_BYTES 768  /* two P-256 or Ed25519 RRSIGs with the longest signer name */

struct sc_entry {
    uint64_t hash; /* 0: empty */
    const struct zone_sec *sec;
    struct rrset set;
    uint8_t bytes[SC_BYTES];
};

struct sign_cache {
    struct sc_entry slot[SC_SLOTS];
};

struct sign_cache *sign_cache_new(void)
{
    return calloc(1, sizeof(struct sign_cache));
}

void sign_cache_free(struct sign_cache *c)
{
    free(c);
}

/* FNV-1a (64 bits) over the bytes of everything the signatures depend on. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

const struct rrset *sign_cache_get(struct sign_cache *c, const struct zone *z, const uint8_t *owner,
                                   size_t ownerlen, const uint8_t *wire, size_t wirelen,
                                   uint16_t count, unsigned *made)
{
    const struct zone_sec *sec = z->sec;
    uint64_t h = fnv(0xcbf29ce484222325ull, &sec, sizeof(sec));
    h = fnv(h, &sec->signed_at, sizeof(sec->signed_at));
    h = fnv(fnv(h, owner, ownerlen), wire, wirelen) | 1;
    struct sc_entry *e = &c->slot[h & (SC_SLOTS - 1)];
    /* A 64-bit hash of the content stands for the content: a collision is as likely as a
     * forged signature, and would make one answer bogus, never accepted wrongly. */
    *made = 0;
    if (e->hash == h && e->sec == sec)
        return &e->set;
    size_t len;
    unsigned n = sign_rrset_wire(z, owner, ownerlen, wire, count, e->bytes, SC_BYTES, &len);
    if (!n) {
        e->hash = 0;
        return NULL;
    }
    *made = n;
    e->hash = h;
    e->sec = sec;
    e->set = (struct rrset){
        .type = 46, .count = (uint16_t)n, .ttl = 0, .len = (uint32_t)len, .wire = e->bytes};
    return &e->set;
}
