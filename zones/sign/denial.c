/* denial.c — which NSEC or NSEC3 records prove a negative or wildcard answer: RFC 4035
 * §3.1.3 for NSEC, RFC 5155 §7.2 for NSEC3.  Both chains are built at signing time; here
 * they are only searched, with no allocation.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/dname.h"
#include "zones/sign/signint.h"

#include <string.h>

/* ---- NSEC -------------------------------------------------------------------------------- */

const struct node *sign_nsec_covering(const struct zone *z, const uint8_t *name, size_t len)
{
    (void)len;
    const struct zone_sec *s = z->sec;
    /* The last node at or before name; the apex is first, and every name in the zone
     * sorts after it. */
    uint32_t lo = 0, hi = s->norder;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sign_canon_cmp(z->nodes[s->order[mid]].name, name) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return &z->nodes[s->order[lo]];
}

struct proofs {
    struct sign_proof *out;
    unsigned n;
};

static void add(struct proofs *p, const uint8_t *owner, const struct rrset *set)
{
    if (!set)
        return;
    for (unsigned i = 0; i < p->n; i++)
        if (p->out[i].set == set)
            return; /* one record can prove two things */
    p->out[p->n++] = (struct sign_proof){owner, set};
}

static void nsec_at(struct proofs *p, const struct node *n)
{
    if (n)
        add(p, n->name, node_rrset(n, 47));
}

static void nsec_cover(struct proofs *p, const struct zone *z, const uint8_t *name, size_t len)
{
    nsec_at(p, sign_nsec_covering(z, name, len));
}

/* "*." before the closest encloser's name. */
static size_t star_of(const struct node *ce, uint8_t *out)
{
    out[0] = 1;
    out[1] = '*';
    memcpy(out + 2, ce->name, ce->namelen);
    return ce->namelen + 2u;
}

static void nsec_denial(struct proofs *p, const struct zone *z, const struct sign_denial *q)
{
    uint8_t star[DNAME_MAX + 3];
    switch (q->kind) {
    case SIGN_DENY_NXDOMAIN:
        nsec_cover(p, z, q->name, q->len);
        if (q->ce && q->ce->namelen + 2u <= DNAME_MAX + 1u)
            nsec_cover(p, z, star, star_of(q->ce, star));
        break;
    case SIGN_DENY_NODATA:
        if (q->node && node_rrset(q->node, 47))
            nsec_at(p, q->node);
        else
            nsec_cover(p, z, q->name, q->len); /* an empty non-terminal */
        break;
    case SIGN_DENY_WILD_NODATA:
        nsec_at(p, q->node);
        nsec_cover(p, z, q->name, q->len);
        break;
    case SIGN_DENY_WILD_ANSWER:
        nsec_cover(p, z, q->name, q->len);
        break;
    case SIGN_DENY_NO_DS:
        nsec_at(p, q->node);
        break;
    }
}

/* ---- NSEC3 ------------------------------------------------------------------------------- */

/* RFC 5155 §5 with RFC 9276's parameters: SHA-1 over the name, no salt, no iterations. */
void sign_nsec3_hash(const uint8_t *name, size_t len, uint8_t hash[SIGN_NSEC3_HASH])
{
    ldns_sha1(name, (unsigned)len, hash);
}

/* The entry whose hash equals h, or NULL. */
const struct sign_nsec3 *sign_n3_match(const struct zone_sec *s, const uint8_t *h)
{
    uint32_t lo = 0, hi = s->nn3;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(s->n3[mid].hash, h, SIGN_NSEC3_HASH);
        if (!c)
            return &s->n3[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The entry that covers h: the last one before it, or the last of all (the chain wraps). */
const struct sign_nsec3 *sign_n3_cover(const struct zone_sec *s, const uint8_t *h)
{
    uint32_t lo = 0, hi = s->nn3;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(s->n3[mid].hash, h, SIGN_NSEC3_HASH) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &s->n3[lo ? lo - 1 : s->nn3 - 1];
}

static void n3_add(struct proofs *p, const struct sign_nsec3 *e)
{
    if (e)
        add(p, e->owner, e->set);
}

static void n3_at(struct proofs *p, const struct zone_sec *s, const uint8_t *name, size_t len)
{
    uint8_t h[SIGN_NSEC3_HASH];
    sign_nsec3_hash(name, len, h);
    n3_add(p, sign_n3_match(s, h));
}

static void n3_covering(struct proofs *p, const struct zone_sec *s, const uint8_t *name, size_t len)
{
    uint8_t h[SIGN_NSEC3_HASH];
    sign_nsec3_hash(name, len, h);
    n3_add(p, sign_n3_cover(s, h));
}

/* RFC 5155 §7.2.1: the name one label longer than the closest encloser, toward q->name. */
static const uint8_t *next_closer(const struct sign_denial *q, size_t *len)
{
    unsigned skip = dname_count_labels(q->name) - q->ce->labels - 1u;
    const uint8_t *p = q->name;
    for (unsigned i = 0; i < skip; i++)
        p += *p + 1;
    *len = q->len - (size_t)(p - q->name);
    return p;
}

/* The NSEC3 matching node n, found at signing time. */
static void n3_node(struct proofs *p, const struct zone *z, const struct node *n)
{
    uint32_t i = z->sec->n3_match[n - z->nodes];
    if (i != UINT32_MAX)
        n3_add(p, &z->sec->n3[i]);
}

/* §7.2.1: the closest encloser exists, the next closer name does not. */
static void n3_encloser(struct proofs *p, const struct zone *z, const struct sign_denial *q)
{
    size_t len;
    const uint8_t *nc = next_closer(q, &len);
    n3_node(p, z, q->ce);
    n3_covering(p, z->sec, nc, len);
}

static void nsec3_denial(struct proofs *p, const struct zone *z, const struct sign_denial *q)
{
    const struct zone_sec *s = z->sec;
    const uint8_t *nc;
    size_t len;
    uint32_t w;
    switch (q->kind) {
    case SIGN_DENY_NXDOMAIN: /* §7.2.2 */
        n3_encloser(p, z, q);
        if ((w = s->n3_wild[q->ce - z->nodes]) != UINT32_MAX)
            n3_add(p, &s->n3[w]);
        break;
    case SIGN_DENY_NODATA: /* §7.2.3; empty non-terminals have their NSEC3 too */
    case SIGN_DENY_NO_DS:  /* §7.2.7 */
        if (q->node)
            n3_node(p, z, q->node);
        else
            n3_at(p, s, q->name, q->len);
        break;
    case SIGN_DENY_WILD_NODATA: /* §7.2.5 */
        n3_encloser(p, z, q);
        n3_node(p, z, q->node);
        break;
    case SIGN_DENY_WILD_ANSWER: /* §7.2.6 */
        nc = next_closer(q, &len);
        n3_covering(p, s, nc, len);
        break;
    }
}

unsigned sign_deny(const struct zone *z, const struct sign_denial *q,
                   struct sign_proof out[SIGN_MAX_PROOFS])
{
    struct proofs p = {out, 0};
    if (z->sec->nsec3)
        nsec3_denial(&p, z, q);
    else
        nsec_denial(&p, z, q);
    return p.n;
}

/* ---- a dynamic name without an address of the asked family ------------------------------ */

/* Where the type bitmap starts in the rdata of our NSEC (after the next name) or NSEC3
 * (after the fixed fields, an empty salt and the 20-byte hash). */
static size_t bitmap_at(const struct zone *z, const uint8_t *rdata)
{
    return z->sec->nsec3 ? 6u + SIGN_NSEC3_HASH : dname_len(rdata);
}

/* The types of a bitmap (RFC 4034 §4.1.2) other than drop, into types; how many. */
static unsigned bitmap_types(const uint8_t *p, size_t len, uint16_t drop, uint16_t *types)
{
    unsigned n = 0;
    for (size_t at = 0; at + 2 <= len;) {
        unsigned win = p[at], blen = p[at + 1];
        for (unsigned b = 0; b < blen * 8u && at + 2 + b / 8 < len; b++)
            if (p[at + 2 + b / 8] & (0x80 >> (b % 8)) && (uint16_t)(win << 8 | b) != drop)
                types[n++] = (uint16_t)(win << 8 | b);
        at += 2u + blen;
    }
    return n;
}

bool sign_proof_without(const struct zone *z, const struct node *n, const struct sign_proof *p,
                        uint16_t drop, uint8_t *out, size_t size, size_t *len)
{
    if (z->sec->nsec3) {
        uint8_t h[SIGN_NSEC3_HASH];
        sign_nsec3_hash(n->name, n->namelen, h);
        const struct sign_nsec3 *e = sign_n3_match(z->sec, h);
        if (!e || e->set != p->set)
            return false;
    } else if (p->owner != n->name) {
        return false;
    }
    const uint8_t *w = p->set->wire, *rd = w + 10;
    size_t rdlen = (size_t)(w[8] << 8 | w[9]), head = bitmap_at(z, rd);
    uint16_t types[8 * 256];
    unsigned nt = bitmap_types(rd + head, rdlen - head, drop, types);
    if (10 + head + 34u * 256 > size)
        return false;
    memcpy(out, w, 10 + head);
    size_t blen = signer_bitmap(types, nt, out + 10 + head);
    out[8] = (uint8_t)((head + blen) >> 8);
    out[9] = (uint8_t)(head + blen);
    *len = 10 + head + blen;
    return true;
}
