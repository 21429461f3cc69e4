/* zonesign.c — a loaded zone signed in memory before it is published: DNSKEY, CDS and
 * CDNSKEY at the apex (RFC 4034 §2, RFC 7344), an NSEC chain over the authoritative names
 * (RFC 4034 §4, RFC 4035 §2.3) and an RRSIG over every authoritative RRset (§2.2).
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/dname.h"
#include "zones/packet.h"
#include "zones/sign/signint.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_A          1
#define T_NS         2
#define T_CNAME      5
#define T_AAAA       28
#define T_DS         43
#define T_RRSIG      46
#define T_NSEC       47
#define T_DNSKEY     48
#define T_CDS        59
#define T_CDNSKEY    60
#define T_NSEC3PARAM 51

/* ---- new RRsets ----------------------------------------------------------------------- */

/* An RRset of n records whose rdata are rd[i] (len[i] bytes), in the zone's arena. */
const struct rrset *signer_rrset(struct signer *s, uint16_t type, uint32_t ttl,
                                 const uint8_t *const *rd, const size_t *len, unsigned n)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += 10 + len[i];
    struct rrset *set = arena_alloc(&s->z->arena, sizeof(*set));
    uint8_t *w = arena_bytes(&s->z->arena, NULL, total);
    if (!set || !w)
        return NULL;
    *set = (struct rrset){
        .type = type, .count = (uint16_t)n, .ttl = ttl, .len = (uint32_t)total, .wire = w};
    for (unsigned i = 0; i < n; i++) {
        wr16(w, type);
        wr16(w + 2, 1);
        wr32(w + 4, ttl);
        wr16(w + 8, (uint16_t)len[i]);
        memcpy(w + 10, rd[i], len[i]);
        w += 10 + len[i];
    }
    return set;
}

/* Appends sets to node n's RRsets: after the existing ones, so that ANY over UDP (which
 * answers with the first) is what it was unsigned. */
bool signer_append(struct signer *s, struct node *n, const struct rrset *const *add, unsigned nadd)
{
    struct rrset *sets = arena_alloc(&s->z->arena, (n->nrrsets + nadd) * sizeof(*sets));
    if (!sets)
        return false;
    if (n->nrrsets)
        memcpy(sets, n->rrsets, n->nrrsets * sizeof(*sets));
    for (unsigned i = 0; i < nadd; i++)
        sets[n->nrrsets + i] = *add[i];
    n->rrsets = sets;
    n->nrrsets = (uint16_t)(n->nrrsets + nadd);
    return true;
}

/* The rdata of rr: its fields one after another. */
static size_t ldns_rdata(const ldns_rr *rr, uint8_t *out, size_t size)
{
    size_t n = sign_rr_wire(rr, out, size);
    if (!n)
        return 0;
    memmove(out, out + 10, n - 10);
    return n - 10;
}

/* DNSKEY with every key; CDS and CDNSKEY (RFC 7344 §4) with the active keys the parent's
 * DS should name. */
static bool apex_keys(struct signer *s, const struct rrset **out)
{
    const struct sign_keys *k = s->sec->keys;
    uint8_t *rd[3][SIGN_MAX_KEYS];
    size_t len[3][SIGN_MAX_KEYS];
    unsigned n[3] = {0, 0, 0};
    uint8_t *p = s->buf;
    for (unsigned i = 0; i < k->n; i++) {
        const struct sign_key *key = &k->k[i];
        size_t l = ldns_rdata(key->dnskey, p, 1024);
        rd[0][n[0]] = p, len[0][n[0]++] = l;
        p += l;
        if (!key->signs_keys)
            continue;
        rd[2][n[2]] = rd[0][n[0] - 1], len[2][n[2]++] = l;
        ldns_rr *ds = ldns_key_rr2ds(key->dnskey, LDNS_SHA256);
        size_t dl = ds ? ldns_rdata(ds, p, 1024) : 0;
        ldns_rr_free(ds);
        if (!dl)
            return false;
        rd[1][n[1]] = p, len[1][n[1]++] = dl;
        p += dl;
    }
    uint32_t ttl = s->z->soa->ttl;
    static const uint16_t types[3] = {T_DNSKEY, T_CDS, T_CDNSKEY};
    for (int t = 0; t < 3; t++)
        if (!(out[t] = signer_rrset(s, types[t], ttl, (const uint8_t *const *)rd[t], len[t], n[t])))
            return false;
    return true;
}

/* ---- the NSEC chain -------------------------------------------------------------------- */

/* RFC 4035 §2.3: names with authoritative data or a delegation; glue and empty
 * non-terminals have none. */
static bool in_chain(const struct node *n)
{
    return !(n->flags & NODE_OCCLUDED) && (n->nrrsets || (n->flags & (NODE_DYNA | NODE_DYNC)));
}

static int by_canon(const void *a, const void *b, void *ctx)
{
    const struct node *nodes = ctx;
    return sign_canon_cmp(nodes[*(const uint32_t *)a].name, nodes[*(const uint32_t *)b].name);
}

static bool chain_order(struct signer *s)
{
    struct zone_sec *sec = s->sec;
    sec->order = malloc(s->z->nnodes * sizeof(*sec->order));
    if (!sec->order)
        return false;
    for (uint32_t i = 0; i < s->z->nnodes; i++)
        if (in_chain(&s->nodes[i]))
            sec->order[sec->norder++] = i;
    qsort_r(sec->order, sec->norder, sizeof(*sec->order), by_canon, s->nodes);
    return true;
}

static int by_type(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* RFC 4034 §4.1.2: windows of up to 32 bytes, each led by its number and length. */
size_t signer_bitmap(uint16_t *types, unsigned n, uint8_t *out)
{
    qsort(types, n, sizeof(*types), by_type);
    size_t len = 0;
    for (unsigned i = 0; i < n;) {
        uint8_t win = (uint8_t)(types[i] >> 8), *hdr = out + len, bits[32] = {0};
        unsigned used = 0;
        for (; i < n && types[i] >> 8 == win; i++) {
            uint8_t lo = (uint8_t)types[i];
            bits[lo / 8] |= (uint8_t)(0x80 >> (lo % 8));
            used = lo / 8u + 1;
        }
        hdr[0] = win;
        hdr[1] = (uint8_t)used;
        memcpy(hdr + 2, bits, used);
        len += 2 + used;
    }
    return len;
}

/* The types an NSEC at n lists: at a delegation only NS and DS (RFC 4035 §2.3). */
unsigned signer_node_types(const struct node *n, const struct rrset *const *extra, unsigned nextra,
                           bool nsec3, uint16_t *types)
{
    unsigned k = 0;
    bool cut = n->flags & NODE_CUT;
    for (unsigned i = 0; i < n->nrrsets; i++)
        if (!cut || n->rrsets[i].type == T_NS || n->rrsets[i].type == T_DS)
            types[k++] = n->rrsets[i].type;
    for (unsigned i = 0; i < nextra; i++)
        types[k++] = extra[i]->type;
    if (n->flags & NODE_DYNA) {
        types[k++] = T_A;
        types[k++] = T_AAAA;
    }
    if (n->flags & NODE_DYNC)
        types[k++] = T_CNAME;
    if (!nsec3) {
        types[k++] = T_NSEC;
        types[k++] = T_RRSIG; /* the NSEC's own */
    } else if (k && (!cut || node_rrset(n, T_DS))) {
        types[k++] = T_RRSIG; /* RFC 5155 §7.1: only where something is signed */
    }
    return k;
}

static bool add_nsec(struct signer *s, uint32_t at, uint32_t next, const struct rrset **extra,
                     unsigned nextra)
{
    struct node *n = &s->nodes[at];
    const struct node *nx = &s->nodes[next];
    uint16_t types[1024];
    unsigned nt = signer_node_types(n, extra, nextra, false, types);
    uint8_t rd[DNAME_MAX + 1 + 34 * 256];
    memcpy(rd, nx->name, nx->namelen);
    size_t len = nx->namelen + signer_bitmap(types, nt, rd + nx->namelen);
    const uint8_t *rdp = rd;
    const struct rrset *nsec = signer_rrset(s, T_NSEC, s->z->neg_ttl, &rdp, &len, 1);
    if (!nsec)
        return false;
    extra[nextra++] = nsec;
    return signer_append(s, n, extra, nextra);
}

static bool chain_build(struct signer *s)
{
    const struct rrset *extra[4];
    if (!apex_keys(s, extra))
        return false;
    if (s->sec->nsec3) {
        /* RFC 5155 §4 with RFC 9276 §3.1: SHA-1, no flags, no iterations, no salt. */
        static const uint8_t param[5] = {1, 0, 0, 0, 0};
        const uint8_t *rd = param;
        size_t len = sizeof(param);
        extra[3] = signer_rrset(s, T_NSEC3PARAM, s->z->neg_ttl, &rd, &len, 1);
        return extra[3] && signer_append(s, (struct node *)s->z->apex, extra, 4) &&
               sign_nsec3_chain(s);
    }
    if (!chain_order(s))
        return false;
    struct zone_sec *sec = s->sec;
    for (uint32_t i = 0; i < sec->norder; i++) {
        uint32_t at = sec->order[i], next = sec->order[(i + 1) % sec->norder];
        bool apex = &s->nodes[at] == s->z->apex;
        if (!add_nsec(s, at, next, extra, apex ? 3 : 0))
            return false;
    }
    return true;
}

/* ---- signatures ------------------------------------------------------------------------ */

const struct rrset *signer_sign(struct signer *s, const uint8_t *owner, size_t ownerlen,
                                const struct rrset *set)
{
    bool keyset = set->type == T_DNSKEY || set->type == T_CDS || set->type == T_CDNSKEY;
    ldns_rr_list *l = sign_to_ldns(owner, ownerlen, set->wire, set->count);
    ldns_rr_list *sigs = l ? ldns_sign_public(l, keyset ? s->keyset : s->zoneset) : NULL;
    size_t len = sigs ? sign_list_wire(sigs, s->buf, SIGN_BUF) : 0;
    unsigned count = sigs ? (unsigned)ldns_rr_list_rr_count(sigs) : 0;
    ldns_rr_list_deep_free(l);
    ldns_rr_list_deep_free(sigs);
    if (!len || !count)
        return NULL;
    struct rrset *out = arena_alloc(s->arena, sizeof(*out));
    uint8_t *w = arena_bytes(s->arena, s->buf, len);
    if (!out || !w)
        return NULL;
    *out = (struct rrset){.type = T_RRSIG,
                          .count = (uint16_t)count,
                          .ttl = set->ttl,
                          .len = (uint32_t)len,
                          .wire = w};
    s->signatures += count;
    return out;
}

/* ---- signatures kept from the version before ------------------------------------------- */

/* The RRSIGs the previous version has over exactly this RRset (owner, type, TTL, rdata),
 * or NULL. */
static const struct rrset *reusable(const struct signer *s, const struct node *n,
                                    const struct rrset *set)
{
    const struct node *on = s->old ? zone_find_node(s->old, n->name, n->namelen) : NULL;
    const struct rrset *os = on ? node_rrset(on, set->type) : NULL;
    if (!os || !os->sigs || os->len != set->len || os->ttl != set->ttl ||
        memcmp(os->wire, set->wire, set->len) != 0)
        return NULL;
    return os->sigs;
}

static const struct rrset *copy_sigs(struct signer *s, const struct rrset *sigs)
{
    struct rrset *out = arena_memdup(s->arena, sigs, sizeof(*sigs));
    uint8_t *w = out ? arena_bytes(s->arena, sigs->wire, sigs->len) : NULL;
    if (!w)
        return NULL;
    out->wire = w;
    s->reused += sigs->count;
    return out;
}

/* Whether old was signed as z is about to be: same keys in the same roles and states, the
 * same denial, and not due for refresh. */
static bool can_reuse(const struct zone_sec *sec, const struct zone *old, time_t now)
{
    const struct zone_sec *o = old ? old->sec : NULL;
    if (!o || o->nsec3 != sec->nsec3 || o->nkeys != sec->nkeys || now >= o->refresh_at)
        return false;
    for (unsigned i = 0; i < o->nkeys; i++) {
        const struct sign_keyinfo *a = &o->info[i], *b = &sec->info[i];
        if (a->tag != b->tag || a->algorithm != b->algorithm || a->ksk != b->ksk ||
            a->zsk != b->zsk || a->state != b->state)
            return false;
    }
    return true;
}

/* RFC 4035 §2.2: every authoritative RRset; at a delegation only DS and NSEC. */
static bool sign_node(struct signer *s, struct node *n)
{
    if (n->flags & NODE_OCCLUDED)
        return true;
    bool cut = n->flags & NODE_CUT;
    struct rrset *sets = (struct rrset *)n->rrsets;
    for (unsigned i = 0; i < n->nrrsets; i++) {
        if (cut && sets[i].type != T_DS && sets[i].type != T_NSEC)
            continue;
        const struct rrset *was = reusable(s, n, &sets[i]);
        sets[i].sigs = was ? copy_sigs(s, was) : signer_sign(s, n->name, n->namelen, &sets[i]);
        if (!sets[i].sigs)
            return false;
    }
    return true;
}

/* ---- every RRset signed, the work split over threads ----------------------------------- */

#define SIGN_THREADS_MAX 8

/* One thread's share: items from..to, nodes first, then NSEC3 records; its signatures go
 * to an arena of its own, which the zone adopts afterwards. */
struct part {
    struct signer s;
    struct arena arena;
    size_t from, to;
    bool ok, started;
    pthread_t thread;
};

static bool sign_item(struct signer *s, size_t i)
{
    if (i < s->z->nnodes)
        return sign_node(s, &s->nodes[i]);
    const struct sign_nsec3 *e = &s->sec->n3[i - s->z->nnodes];
    struct rrset *set = (struct rrset *)e->set;
    const struct sign_nsec3 *was = s->old ? sign_n3_match(s->old->sec, e->hash) : NULL;
    if (was && was->set->len == set->len && was->set->ttl == set->ttl &&
        !memcmp(was->set->wire, set->wire, set->len))
        set->sigs = copy_sigs(s, was->set->sigs);
    else
        set->sigs = signer_sign(s, e->owner, dname_len(e->owner), set);
    return set->sigs != NULL;
}

static void *part_run(void *arg)
{
    struct part *p = arg;
    p->ok = p->s.buf && p->s.keyset && p->s.zoneset;
    for (size_t i = p->from; p->ok && i < p->to; i++)
        p->ok = sign_item(&p->s, i);
    return NULL;
}

static void part_init(struct part *p, const struct signer *s, size_t from, size_t to)
{
    p->s = *s;
    arena_init(&p->arena);
    p->s.arena = &p->arena;
    p->s.signatures = 0;
    p->s.buf = malloc(SIGN_BUF);
    p->s.keyset = sign_key_list(s->sec->keys, true);
    p->s.zoneset = sign_key_list(s->sec->keys, false);
    p->from = from;
    p->to = to;
    p->started = false;
}

/* Signing is all in the crypto library and independent per RRset: it scales with cores.
 * ldns only reads the keys, and OpenSSL signs with one key from several threads. */
static bool sign_all(struct signer *s)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t total = s->z->nnodes + s->sec->nn3;
    unsigned n = cpus < 2 || total < 4096  ? 1
                 : cpus > SIGN_THREADS_MAX ? SIGN_THREADS_MAX
                                           : (unsigned)cpus;
    struct part parts[SIGN_THREADS_MAX];
    for (unsigned t = 0; t < n; t++) {
        part_init(&parts[t], s, total * t / n, total * (t + 1) / n);
        if (t)
            parts[t].started = pthread_create(&parts[t].thread, NULL, part_run, &parts[t]) == 0;
    }
    bool ok = true;
    for (unsigned t = 0; t < n; t++) {
        struct part *p = &parts[t];
        if (p->started)
            pthread_join(p->thread, NULL);
        else
            part_run(p); /* the first share, or one whose thread did not start */
        ok &= p->ok;
        arena_adopt(&s->z->arena, &p->arena);
        s->sec->signatures += p->s.signatures;
        s->sec->reused += p->s.reused;
        free(p->s.buf);
        sign_key_list_free(p->s.keyset);
        sign_key_list_free(p->s.zoneset);
    }
    return ok;
}

static void set_validity(struct sign_keys *k, uint32_t inception, uint32_t expiration)
{
    for (unsigned i = 0; i < k->n; i++) {
        ldns_key_set_inception(k->k[i].key, inception);
        ldns_key_set_expiration(k->k[i].key, expiration);
    }
}

static void describe_keys(struct zone_sec *sec)
{
    const struct sign_keys *k = sec->keys;
    sec->nkeys = k->n;
    for (unsigned i = 0; i < k->n; i++)
        sec->info[i] = (struct sign_keyinfo){.tag = k->k[i].tag,
                                             .algorithm = k->k[i].algorithm,
                                             .ksk = k->k[i].signs_keys,
                                             .zsk = k->k[i].signs_zone,
                                             .state = k->k[i].state};
}

bool sign_zone(struct zone *z, struct sign_keys *keys, const struct sign_policy *p, time_t now,
               const struct zone *old, struct diag *d)
{
    struct zone_sec *sec = calloc(1, sizeof(*sec));
    struct signer s = {.z = z,
                       .nodes = (struct node *)z->nodes,
                       .sec = sec,
                       .buf = malloc(SIGN_BUF),
                       .arena = &z->arena,
                       .d = d};
    if (!sec || !s.buf) {
        free(sec);
        free(s.buf);
        sign_keys_free(keys);
        diag_error(d, z->file, 0, 0, "out of memory signing the zone");
        return false;
    }
    z->sec = sec;
    sec->keys = keys;
    sec->nsec3 = p->nsec3;
    describe_keys(sec);
    /* An hour back for clocks behind ours (RFC 6781 §4.1.2). */
    sec->signed_at = now;
    sec->expires = now + (time_t)p->lifetime;
    sec->refresh_at = sec->expires - (time_t)p->refresh;
    set_validity(keys, (uint32_t)(now - 3600), (uint32_t)sec->expires);
    s.keyset = sign_key_list(keys, true);
    s.zoneset = sign_key_list(keys, false);
    s.old = can_reuse(sec, old, now) ? old : NULL;
    bool ok = s.keyset && s.zoneset && chain_build(&s);
    ok = ok && sign_all(&s);
    if (ok && sec->reused && old->sec->expires < sec->expires) {
        sec->expires = old->sec->expires; /* the reused signatures expire first */
        sec->refresh_at = sec->expires - (time_t)p->refresh;
    }
    if (ok)
        z->soa = node_rrset(z->apex, 6); /* the apex's RRsets moved: the SOA with them */
    sign_key_list_free(s.keyset);
    sign_key_list_free(s.zoneset);
    free(s.buf);
    if (!ok)
        diag_error(d, z->file, 0, 0,
                   "signing the zone failed (out of memory, or a key ldns "
                   "could not sign with)");
    return ok;
}

void zone_sec_free(struct zone_sec *s)
{
    if (!s)
        return;
    sign_keys_free(s->keys);
    free(s->order);
    free(s->n3);
    free(s->n3_match);
    free(s->n3_wild);
    free(s);
}
