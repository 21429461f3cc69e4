/* nsec3.c — the NSEC3 chain (RFC 5155 §7.1) with RFC 9276's parameters: every name of
 * the zone not below a cut, empty non-terminals included, hashed, sorted by hash, each
 * pointing at the next and signed.  Kept apart from the names: NSEC3 owners are not
 * names a query finds (RFC 5155 §7.2.8).
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/dname.h"
#include "zones/packet.h"
#include "zones/sign/signint.h"

#include <stdlib.h>
#include <string.h>

#define T_NSEC3 50

struct hashed {
    uint8_t hash[SIGN_NSEC3_HASH];
    uint32_t node;
};

static int by_hash(const void *a, const void *b)
{
    return memcmp(a, b, SIGN_NSEC3_HASH);
}

/* RFC 4648 §7, lower case: 20 bytes become 32 characters. */
static void base32hex(const uint8_t *in, char out[32])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
    for (unsigned i = 0; i < 32; i++) {
        unsigned bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned v = (unsigned)in[byte] << 8 | (byte + 1 < SIGN_NSEC3_HASH ? in[byte + 1] : 0);
        out[i] = digits[(v >> (11 - shift)) & 31];
    }
}

/* The owner: the hash as a label, then the zone's name. */
static const uint8_t *owner_of(struct signer *s, const uint8_t *hash, size_t *len)
{
    const struct zone *z = s->z;
    uint8_t *o = arena_bytes(&s->z->arena, NULL, 33u + z->namelen);
    if (!o)
        return NULL;
    o[0] = 32;
    base32hex(hash, (char *)o + 1);
    memcpy(o + 33, z->name, z->namelen);
    *len = 33u + z->namelen;
    return o;
}

static struct hashed *hash_names(struct signer *s, uint32_t *n)
{
    struct hashed *h = malloc(s->z->nnodes * sizeof(*h));
    *n = 0;
    for (uint32_t i = 0; h && i < s->z->nnodes; i++) {
        const struct node *nd = &s->nodes[i];
        if (nd->flags & NODE_OCCLUDED)
            continue;
        sign_nsec3_hash(nd->name, nd->namelen, h[*n].hash);
        h[(*n)++].node = i;
    }
    if (h)
        qsort(h, *n, sizeof(*h), by_hash);
    return h;
}

/* One NSEC3 record: hashed owner, next hash, types of the node. */
static bool add_one(struct signer *s, const struct hashed *at, const struct hashed *next,
                    struct sign_nsec3 *out)
{
    uint16_t types[1024];
    unsigned nt = signer_node_types(&s->nodes[at->node], NULL, 0, true, types);
    uint8_t rd[6 + SIGN_NSEC3_HASH + 34 * 256] = {1, 0, 0, 0, 0, SIGN_NSEC3_HASH};
    memcpy(rd + 6, next->hash, SIGN_NSEC3_HASH);
    size_t len = 6 + SIGN_NSEC3_HASH + signer_bitmap(types, nt, rd + 6 + SIGN_NSEC3_HASH);
    const uint8_t *rdp = rd;
    size_t olen;
    memcpy(out->hash, at->hash, SIGN_NSEC3_HASH);
    out->owner = owner_of(s, at->hash, &olen);
    struct rrset *set = (struct rrset *)signer_rrset(s, T_NSEC3, s->z->neg_ttl, &rdp, &len, 1);
    out->set = set;
    return out->owner && set;
}

/* Each node's matching NSEC3 and the one covering its wildcard name, so that answers need
 * hash only the next closer name (RFC 5155 §7.2.1). */
static bool index_nodes(struct signer *s)
{
    struct zone_sec *sec = s->sec;
    size_t n = s->z->nnodes;
    sec->n3_match = malloc(n * sizeof(*sec->n3_match));
    sec->n3_wild = malloc(n * sizeof(*sec->n3_wild));
    if (!sec->n3_match || !sec->n3_wild)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct node *nd = &s->nodes[i];
        sec->n3_match[i] = sec->n3_wild[i] = UINT32_MAX;
        if (nd->flags & NODE_OCCLUDED)
            continue;
        uint8_t h[SIGN_NSEC3_HASH], star[DNAME_MAX + 3] = {1, '*'};
        sign_nsec3_hash(nd->name, nd->namelen, h);
        const struct sign_nsec3 *e = sign_n3_match(sec, h);
        sec->n3_match[i] = e ? (uint32_t)(e - sec->n3) : UINT32_MAX;
        if (nd->namelen + 2u > DNAME_MAX + 1u)
            continue;
        memcpy(star + 2, nd->name, nd->namelen);
        sign_nsec3_hash(star, nd->namelen + 2u, h);
        sec->n3_wild[i] = (uint32_t)(sign_n3_cover(sec, h) - sec->n3);
    }
    return true;
}

bool sign_nsec3_chain(struct signer *s)
{
    uint32_t n;
    struct hashed *h = hash_names(s, &n);
    struct zone_sec *sec = s->sec;
    sec->n3 = h && n ? calloc(n, sizeof(*sec->n3)) : NULL;
    bool ok = sec->n3 != NULL;
    for (uint32_t i = 1; ok && i < n; i++)
        if (!memcmp(h[i].hash, h[i - 1].hash, SIGN_NSEC3_HASH)) {
            diag_error(s->d, s->z->file, 0, 0, "two names share an NSEC3 hash; use denial: nsec");
            ok = false;
        }
    for (uint32_t i = 0; ok && i < n; i++)
        ok = add_one(s, &h[i], &h[(i + 1) % n], &sec->n3[i]);
    sec->nn3 = ok ? n : 0;
    free(h);
    return ok && index_nodes(s);
}
