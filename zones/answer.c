/* answer.c — the authoritative answer algorithm over the zone database.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/answer.h"
#include "geoip/dyn.h"
#include "zones/chaos.h"
#include "zones/dname.h"
#include "zones/edns.h"
#include "zones/packet.h"
#include "zones/response.h"
#include "zones/sign/sign.h"

#include <netinet/in.h>
#include <string.h>

#define TYPE_A     1
#define TYPE_NS    2
#define TYPE_CNAME 5
#define TYPE_SOA   6
#define TYPE_MX    15
#define TYPE_AAAA  28
#define TYPE_SRV   33
#define TYPE_DNAME 39
#define TYPE_DS    43
#define TYPE_IXFR  251
#define TYPE_AXFR  252
#define TYPE_MAILB 253
#define TYPE_MAILA 254
#define TYPE_ANY   255
#define CLASS_IN   1

/* RFC 1034 §3.6.2 leaves chain length to the server; eight is what resolvers follow. */
#define MAX_CHAIN 8

/* The name being resolved: the question at first, then each CNAME or DNAME target. */
struct cur {
    const uint8_t *name; /* lower-case wire */
    size_t len;
    unsigned labels;
    const uint8_t *off; /* label offsets */
    uint16_t ptr;       /* message offset holding this name, 0 if none */
    bool plain;         /* written there without compression: suffixes can be pointed at */
};

struct ans {
    const struct answer_env *env;
    const struct answer_client *client;
    struct query q;
    struct response r;
    const struct zone *zone;
    bool tcp;
    unsigned chain;
    uint8_t scope; /* widest ECS scope any dynamic decision in this answer needed */
    bool fail_open;
    int32_t pair;
    uint16_t sigs_made, sig_hits;
    bool have_dc;
    bool dnssec;                 /* DO=1 to a signed zone: RRSIGs and denial (RFC 4035 §3.1) */
    bool wild_denied;            /* a wildcard matched but had no data of the type */
    const struct node *wild;     /* the wildcard being answered from (RFC 4592), or NULL */
    const struct node *encloser; /* the closest encloser of a name that does not exist */
    struct dyn_client dc;
    uint8_t names[MAX_CHAIN][DNAME_MAX + 1]; /* chain targets, lower-case */
    uint8_t offs[MAX_CHAIN][DNAME_LABELS];
};

static void resolve(struct ans *a, const struct cur *c);

/* The owner for the ancestor of c with the given label count. */
static struct owner owner_at(const struct cur *c, unsigned labels)
{
    unsigned skip = c->labels - labels;
    size_t off = skip < c->labels ? c->off[skip] : c->len - 1;
    struct owner o = {c->name + off, 0};
    if (c->ptr && (c->plain || off == 0))
        o.ptr = (uint16_t)(c->ptr + off);
    return o;
}

static void truncate_answer(struct ans *a)
{
    resp_truncate(&a->r);
}

/* An RRset and, with DNSSEC, its RRSIGs (RFC 4035 §3.1.1); false when they do not fit. */
static bool put_set(struct ans *a, enum section sec, struct owner o, const struct rrset *s,
                    uint32_t ttl)
{
    if (!resp_put_rrset(&a->r, sec, o, s, ttl))
        return false;
    return !a->dnssec || !s->sigs || resp_put_rrset(&a->r, sec, o, s->sigs, ttl);
}

static void put_answer(struct ans *a, struct owner o, const struct rrset *s)
{
    if (!put_set(a, SEC_ANSWER, o, s, UINT32_MAX))
        truncate_answer(a);
}

static void sign_dynamic(struct ans *a, const uint8_t *owner, size_t ownerlen, struct owner o,
                         enum section sec, const uint8_t *wire, size_t len, uint16_t count,
                         uint32_t ttl);

/* A DYNA name whose region has no address of the asked family: its NSEC or NSEC3 lists
 * both families, so the record goes out without this one, signed like a dynamic answer.
 * False when p is not the name's own record. */
static bool prove_dynamic(struct ans *a, const struct node *n, const struct sign_proof *p)
{
    uint8_t wire[10 + DNAME_MAX + 1 + 34 * 256];
    size_t len;
    if (!a->client->sigs ||
        !sign_proof_without(a->zone, n, p, a->q.qtype, wire, sizeof(wire), &len))
        return false;
    struct owner o = {p->owner, 0};
    uint32_t ttl = p->set->ttl;
    if (!resp_put_rr(&a->r, SEC_AUTHORITY, o, rd16(wire), ttl, wire + 10, len - 10))
        truncate_answer(a);
    else
        sign_dynamic(a, p->owner, dname_len(p->owner), o, SEC_AUTHORITY, wire, len, 1, ttl);
    return true;
}

/* RFC 4035 §3.1.3, RFC 5155 §7.2: the NSEC or NSEC3 records proving q, in authority. */
static void prove(struct ans *a, enum sign_deny_kind kind, const struct cur *c,
                  const struct node *n, const struct node *ce)
{
    struct sign_denial q = {kind, c->name, c->len, n, ce};
    struct sign_proof p[SIGN_MAX_PROOFS];
    unsigned k = sign_deny(a->zone, &q, p);
    uint16_t t = a->q.qtype;
    bool dyn = n && (n->flags & NODE_DYNA) && (t == TYPE_A || t == TYPE_AAAA);
    for (unsigned i = 0; i < k && !a->r.tc; i++) {
        struct owner o = {p[i].owner, 0};
        if (dyn && prove_dynamic(a, n, &p[i]))
            continue;
        if (!put_set(a, SEC_AUTHORITY, o, p[i].set, UINT32_MAX))
            truncate_answer(a);
    }
}

static void deny(struct ans *a, const struct cur *c, uint8_t rcode)
{
    if (rcode == RCODE_NXDOMAIN) {
        prove(a, SIGN_DENY_NXDOMAIN, c, NULL, a->encloser);
    } else if (a->wild) {
        a->wild_denied = true;
        prove(a, SIGN_DENY_WILD_NODATA, c, a->wild, node_parent(a->zone, a->wild));
    } else {
        prove(a, SIGN_DENY_NODATA, c, zone_find_node(a->zone, c->name, c->len), NULL);
    }
}

/* RFC 2308 §3: the SOA in authority, its TTL the lesser of its own and MINIMUM. */
static void negative(struct ans *a, const struct cur *c, uint8_t rcode)
{
    if (a->r.tc)
        return;
    a->r.rcode = rcode;
    struct owner o = owner_at(c, a->zone->labels);
    if (!put_set(a, SEC_AUTHORITY, o, a->zone->soa, a->zone->neg_ttl))
        truncate_answer(a);
    else if (a->dnssec)
        deny(a, c, rcode);
}

/* Addresses for in-zone targets of NS, MX and SRV records (RFC 1035 §3.3.9, RFC 2782). */
static bool put_addresses(struct ans *a, const struct node *t)
{
    static const uint16_t types[2] = {TYPE_A, TYPE_AAAA};
    for (int k = 0; k < 2; k++) {
        const struct rrset *s = node_rrset(t, types[k]);
        struct owner o = {t->name, 0};
        if (s && !resp_put_rrset(&a->r, SEC_ADDITIONAL, o, s, UINT32_MAX))
            return false;
    }
    return true;
}

static void additional(struct ans *a, const struct rrset *s)
{
    const struct node *const *targets = rrset_targets(s);
    if (!targets)
        return;
    for (unsigned i = 0; i < s->count; i++) {
        const struct node *t = targets[i];
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++)
            seen = targets[j] == t;
        if (t && !seen && !(t->flags & NODE_OCCLUDED) && !put_addresses(a, t))
            return; /* optional data: what does not fit is left out, without TC */
    }
}

/* RFC 4035 §3.1.4: the DS of a signed child, or the NSEC proving there is none. */
static bool referral_ds(struct ans *a, const struct cur *c, const struct node *cut)
{
    if (!a->dnssec)
        return true;
    const struct rrset *ds = node_rrset(cut, TYPE_DS);
    if (ds)
        return put_set(a, SEC_AUTHORITY, owner_at(c, cut->labels), ds, UINT32_MAX);
    prove(a, SIGN_DENY_NO_DS, c, cut, NULL);
    return !a->r.tc;
}

/* A referral (RFC 1034 §4.3.2 step 3b): NS in authority, glue.  AA speaks for the first
 * owner in the answer section (RFC 1035 §4.1.1): it stays set when a CNAME or DNAME of
 * ours leads into the delegation, and is cleared only when the referral is all there is. */
static void referral(struct ans *a, const struct cur *c, const struct node *cut)
{
    if (a->r.count[SEC_ANSWER] == 0)
        a->r.aa = false;
    const struct rrset *ns = node_rrset(cut, TYPE_NS);
    if (!resp_put_rrset(&a->r, SEC_AUTHORITY, owner_at(c, cut->labels), ns, UINT32_MAX) ||
        !referral_ds(a, c, cut)) {
        truncate_answer(a);
        return;
    }
    const struct node *const *targets = rrset_targets(ns);
    for (unsigned i = 0; i < ns->count; i++) {
        const struct node *t = targets[i];
        if (!t || !put_addresses(a, t)) {
            /* RFC 9471 §3: glue below the cut is required; the client must retry on TCP. */
            if (t && dname_is_sub(t->name, t->namelen, cut->name, cut->namelen))
                a->r.tc = true;
            if (t)
                return;
        }
    }
}

/* Whether name (lower-case) is the question or an earlier link of the chain. */
static bool seen_before(const struct ans *a, const uint8_t *name, size_t len)
{
    if (len == a->q.qname_len && !memcmp(name, a->q.qname, len))
        return true;
    for (unsigned i = 0; i < a->chain; i++)
        if (dname_len(a->names[i]) == len && !memcmp(a->names[i], name, len))
            return true;
    return false;
}

/* Continues resolution at target (a name in wire form inside rdata, any case). */
static void follow(struct ans *a, const uint8_t *target, uint16_t ptr)
{
    if (a->chain >= MAX_CHAIN || a->r.tc)
        return;
    uint8_t *name = a->names[a->chain];
    size_t len = dname_len(target);
    memcpy(name, target, len);
    dname_lower(name);
    if (!dname_is_sub(name, len, a->zone->name, a->zone->namelen))
        return; /* out of zone: the resolver takes it from here */
    if (seen_before(a, name, len))
        return; /* a loop: each RRset is in the answer once already */
    struct cur next = {name, len, 0, a->offs[a->chain], ptr, false};
    next.labels = dname_label_offsets(name, a->offs[a->chain]);
    a->chain++;
    const struct node *wild = a->wild;
    a->wild = NULL; /* the target is a name of its own */
    resolve(a, &next);
    a->wild = wild;
}

/* RFC 1034 §4.3.2 step 3a: ANY matches the CNAME itself, so the chain is not followed. */
static bool follows_cname(const struct ans *a)
{
    return a->q.qtype != TYPE_CNAME && a->q.qtype != TYPE_ANY;
}

static void cname(struct ans *a, const struct node *n, struct owner o)
{
    const struct rrset *s = node_rrset(n, TYPE_CNAME);
    if (!put_set(a, SEC_ANSWER, o, s, UINT32_MAX)) {
        truncate_answer(a);
        return;
    }
    if (follows_cname(a))
        follow(a, s->wire + 10, resp_last_target(&a->r));
}

/* ---- dynamic names -------------------------------------------------------------------- */

/* RFC 7871 §7.1.1: the ECS address when the query has one, else the packet's source. */
static const struct dyn_client *client_of(struct ans *a)
{
    struct dyn_client *c = &a->dc;
    if (a->have_dc)
        return c;
    a->have_dc = true;
    memset(c, 0, sizeof(*c));
    const struct sockaddr *sa = a->client->src;
    if (a->q.has_ecs && a->env->ecs) {
        c->family = a->q.ecs.family == 1 ? AF_INET : AF_INET6;
        memcpy(c->addr, a->q.ecs.addr, sizeof(c->addr));
        c->bits = a->q.ecs.source;
        c->ecs = true;
    } else if (sa && sa->sa_family == AF_INET) {
        c->family = AF_INET;
        memcpy(c->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        c->bits = 32;
    } else if (sa && sa->sa_family == AF_INET6) {
        const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        bool mapped = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)b);
        c->family = mapped ? AF_INET : AF_INET6;
        memcpy(c->addr, mapped ? b + 12 : b, mapped ? 4 : 16);
        c->bits = mapped ? 32 : 128;
    }
    return c;
}

static void dyn_run(struct ans *a, const struct node *n, uint16_t qtype, struct dyn_answer *out)
{
    if (a->client->trace) {
        char name[DNAME_TEXTMAX];
        dname_to_text(n->name, name, sizeof(name));
        diag_note(a->client->trace, "name: %s is dynamic (%s, service #%u), %s query", name,
                  n->flags & NODE_DYNC ? "DYNC" : "DYNA", n->dyn_service,
                  qtype == TYPE_A      ? "A"
                  : qtype == TYPE_AAAA ? "AAAA"
                                       : "CNAME");
    }
    dyn_resolve(a->env->dyn, n->dyn_service, qtype, client_of(a), a->client->ws, out,
                a->client->trace);
    if (!out->ttl)
        out->ttl = n->dyn_ttl;
    if (out->ttl_degraded && out->ttl_degraded < out->ttl)
        out->ttl = out->ttl_degraded;
    if (out->scope > a->scope)
        a->scope = out->scope;
    a->fail_open |= out->fail_open;
    a->pair = out->pair;
}

/* Appends one record to an RRset in wire form (zonedb.h) at w; returns its length. */
static size_t wire_rr(uint8_t *w, uint16_t type, uint32_t ttl, const uint8_t *rd, size_t len)
{
    wr16(w, type);
    wr16(w + 2, CLASS_IN);
    wr32(w + 4, ttl);
    wr16(w + 8, (uint16_t)len);
    memcpy(w + 10, rd, len);
    return 10 + len;
}

/* RFC 4035 §3.1.1: the RRSIGs over an RRset made for this answer.  They are made over the
 * node's own name, so a wildcard's keep its label count (RFC 4035 §5.3.4). */
static void sign_dynamic(struct ans *a, const uint8_t *owner, size_t ownerlen, struct owner o,
                         enum section sec, const uint8_t *wire, size_t len, uint16_t count,
                         uint32_t ttl)
{
    if (!a->dnssec || a->r.tc || !a->client->sigs)
        return;
    unsigned made;
    const struct rrset *s =
        sign_cache_get(a->client->sigs, a->zone, owner, ownerlen, wire, len, count, &made);
    a->sigs_made = (uint16_t)(a->sigs_made + made);
    a->sig_hits = (uint16_t)(a->sig_hits + (s && !made));
    if (s && !resp_put_rrset(&a->r, sec, o, s, ttl))
        truncate_answer(a);
}

/* The chosen region's addresses for a DYNA name; false when there are none. */
static bool dyna(struct ans *a, const struct node *n, uint16_t qtype, struct owner o)
{
    struct dyn_answer d;
    uint8_t wire[DYN_MAX_ANSWERS * (10 + 16)];
    size_t len = 0, alen = qtype == TYPE_A ? 4 : 16;
    dyn_run(a, n, qtype, &d);
    for (unsigned i = 0; i < d.n; i++) {
        if (!resp_put_rr(&a->r, SEC_ANSWER, o, qtype, d.ttl, d.addr[i], alen)) {
            truncate_answer(a);
            return true;
        }
        len += wire_rr(wire + len, qtype, d.ttl, d.addr[i], alen);
    }
    if (d.n)
        sign_dynamic(a, n->name, n->namelen, o, SEC_ANSWER, wire, len, (uint16_t)d.n, d.ttl);
    return d.n > 0;
}

/* A DYNC name answers like a CNAME whose target the service picks. */
static void dync(struct ans *a, const struct node *n, struct owner o)
{
    struct dyn_answer d;
    dyn_run(a, n, TYPE_CNAME, &d);
    if (!d.cname) {
        a->r.rcode = RCODE_SERVFAIL;
        return;
    }
    if (!resp_put_rr(&a->r, SEC_ANSWER, o, TYPE_CNAME, d.ttl, d.cname, dname_len(d.cname))) {
        truncate_answer(a);
        return;
    }
    uint16_t target = resp_last_target(&a->r);
    uint8_t wire[10 + DNAME_MAX + 1];
    size_t len = wire_rr(wire, TYPE_CNAME, d.ttl, d.cname, dname_len(d.cname));
    sign_dynamic(a, n->name, n->namelen, o, SEC_ANSWER, wire, len, 1, d.ttl);
    if (follows_cname(a))
        follow(a, d.cname, target);
}

/* RFC 8482 §4.1: over UDP one RRset stands for all; over TCP the client gets them all. */
static void any(struct ans *a, const struct cur *c, const struct node *n, struct owner o)
{
    bool some = false;
    if (n->flags & NODE_DYNA) {
        some = dyna(a, n, TYPE_A, o);
        if ((a->tcp || !some) && !a->r.tc)
            some |= dyna(a, n, TYPE_AAAA, o);
        if (some && !a->tcp)
            return;
    }
    if (n->nrrsets == 0 && !some) {
        negative(a, c, RCODE_NOERROR);
        return;
    }
    unsigned count = a->tcp ? n->nrrsets : (n->nrrsets ? 1 : 0);
    for (unsigned i = 0; i < count && !a->r.tc; i++)
        put_answer(a, o, &n->rrsets[i]);
}

/* The records of node n for the current query type, with owner o. */
static void answer_node(struct ans *a, const struct cur *c, const struct node *n, struct owner o)
{
    uint16_t qtype = a->q.qtype;
    if ((n->flags & NODE_CNAME) && qtype != TYPE_CNAME) { /* ANY too, whatever the transport */
        cname(a, n, o);
        return;
    }
    if (n->flags & NODE_DYNC) {
        dync(a, n, o);
        return;
    }
    if (qtype == TYPE_ANY) {
        any(a, c, n, o);
        return;
    }
    if ((n->flags & NODE_DYNA) && (qtype == TYPE_A || qtype == TYPE_AAAA)) {
        if (!dyna(a, n, qtype, o) && !a->r.tc)
            negative(a, c, RCODE_NOERROR); /* the region has no address of this family */
        return;
    }
    const struct rrset *s = node_rrset(n, qtype);
    if (!s) {
        negative(a, c, RCODE_NOERROR);
        return;
    }
    put_answer(a, o, s);
    if (!a->r.tc)
        additional(a, s);
}

/* RFC 6672 §3.3: the DNAME, a CNAME synthesised from it, then the new name unless the
 * question asked for that CNAME.  ANY is followed: the name holds no CNAME of its own
 * that could match it (RFC 1034 §4.3.2 step 3a applies to data at the node). */
static void dname(struct ans *a, const struct cur *c, const struct node *d)
{
    const struct rrset *s = node_rrset(d, TYPE_DNAME);
    if (!put_set(a, SEC_ANSWER, owner_at(c, d->labels), s, UINT32_MAX)) {
        truncate_answer(a);
        return;
    }
    const uint8_t *target = s->wire + 10;
    size_t prefix = c->len - d->namelen, tlen = dname_len(target);
    if (prefix + tlen > DNAME_MAX) {
        a->r.rcode = RCODE_YXDOMAIN; /* RFC 6672 §2.2 */
        return;
    }
    uint8_t synth[DNAME_MAX + 1];
    memcpy(synth, c->name, prefix);
    memcpy(synth + prefix, target, tlen);
    struct owner o = owner_at(c, c->labels);
    if (!resp_put_rr(&a->r, SEC_ANSWER, o, TYPE_CNAME, s->ttl, synth, prefix + tlen)) {
        truncate_answer(a);
        return;
    }
    if (a->q.qtype != TYPE_CNAME)
        follow(a, synth, resp_last_target(&a->r));
}

/* Where descent stops above the name: a delegation or a DNAME (RFC 1034 §4.3.2 step 3b). */
static void stopped(struct ans *a, const struct cur *c, const struct node *stop)
{
    if (stop->flags & NODE_CUT)
        referral(a, c, stop);
    else
        dname(a, c, stop);
}

/* RFC 4592 §3.3.1; with DNSSEC the proof that no closer name exists (RFC 4035 §3.1.3.3). */
static void wildcard(struct ans *a, const struct cur *c, const struct node *wild)
{
    a->wild = wild;
    a->wild_denied = false;
    answer_node(a, c, wild, owner_at(c, c->labels));
    if (a->dnssec && !a->wild_denied && !a->r.tc)
        prove(a, SIGN_DENY_WILD_ANSWER, c, NULL, node_parent(a->zone, wild));
    a->wild = NULL;
}

static void resolve(struct ans *a, const struct cur *c)
{
    const struct zone *z = a->zone;
    const struct node *n = zone_find_node(z, c->name, c->len);
    if (n) {
        const struct node *stop = node_stop(z, n);
        if (stop)
            stopped(a, c, stop);
        else if ((n->flags & NODE_CUT) && a->q.qtype != TYPE_DS)
            referral(a, c, n); /* DS lives on the parent side of the cut (RFC 4035 §3.1.4.1) */
        else
            answer_node(a, c, n, owner_at(c, c->labels));
        return;
    }
    /* The closest encloser: the apex always exists, so this ends. */
    for (unsigned i = 1; i <= c->labels - z->labels; i++) {
        size_t off = i < c->labels ? c->off[i] : c->len - 1;
        n = zone_find_node(z, c->name + off, c->len - off);
        if (n)
            break;
    }
    const struct node *stop = node_stop(z, n), *wild;
    if (stop)
        stopped(a, c, stop);
    else if (n->flags & NODE_CUT)
        referral(a, c, n);
    else if (n->flags & NODE_DNAME)
        dname(a, c, n);
    else if ((wild = node_wildcard(z, n)))
        wildcard(a, c, wild);
    else {
        a->encloser = n;
        negative(a, c, RCODE_NXDOMAIN);
    }
}

/* The zone for the question.  A DS query for a zone apex belongs to the parent when we
 * serve that too (RFC 4035 §3.1.4.1). */
static const struct zone *find_zone(const struct ans *a)
{
    const struct query *q = &a->q;
    const struct zonedb *db = a->env->db;
    const struct zone *z = zonedb_find_zone(db, q->qname, q->qname_len, q->label_off, q->labels);
    if (!z || q->qtype != TYPE_DS || z->labels != q->labels || q->labels == 0)
        return z;
    unsigned base = q->labels > 1 ? q->label_off[1] : q->qname_len - 1u;
    uint8_t off[DNAME_LABELS];
    for (unsigned i = 1; i < q->labels; i++)
        off[i - 1] = (uint8_t)(q->label_off[i] - base);
    const struct zone *parent =
        zonedb_find_zone(db, q->qname + base, q->qname_len - base, off, q->labels - 1u);
    return parent ? parent : z;
}

/* Query types and classes answered with an error before any lookup. */
static int precheck(const struct query *q)
{
    if (q->qclass != CLASS_IN)
        return RCODE_REFUSED;
    if (q->qtype == TYPE_AXFR || q->qtype == TYPE_IXFR)
        return RCODE_REFUSED; /* no zone transfers are offered */
    if (q->qtype == TYPE_MAILA || q->qtype == TYPE_MAILB)
        return RCODE_NOTIMP;
    if (q->qtype == 41 || (q->qtype >= 128 && q->qtype < TYPE_IXFR))
        return RCODE_FORMERR; /* OPT and meta types cannot be asked for (RFC 6895 §3.1) */
    return -1;
}

static void answer(struct ans *a)
{
    if (a->q.qclass == CLASS_CH) {
        chaos_answer(a->env, &a->q, &a->r);
        return;
    }
    int rc = precheck(&a->q);
    if (rc >= 0) {
        a->r.rcode = (uint8_t)rc;
        return;
    }
    a->zone = find_zone(a);
    if (!a->zone) {
        if (a->client->trace)
            diag_note(a->client->trace, "zone: none of ours holds this name: REFUSED");
        a->r.rcode = RCODE_REFUSED;
        return;
    }
    if (a->client->trace) {
        char zn[DNAME_TEXTMAX];
        dname_to_text(a->zone->name, zn, sizeof(zn));
        diag_note(a->client->trace, "zone: %s (serial %u)", zn, a->zone->serial);
    }
    a->r.aa = true;
    a->dnssec = a->q.edns && a->q.edns_do && a->zone->sec; /* DO lives in OPT only */
    resp_set_apex(&a->r, a->zone->namelen,
                  (uint16_t)(DNS_HEADER + a->q.qname_len - a->zone->namelen));
    struct cur c = {a->q.qname, a->q.qname_len, a->q.labels, a->q.label_off, DNS_HEADER, true};
    resolve(a, &c);
}

static uint16_t udp_limit(const struct ans *a)
{
    /* a->q was filled by packet_parse, which the checker does not follow */
    // cppcheck-suppress ctuuninitvar
    if (!a->q.edns)
        return 512;
    /* RFC 6891 §6.2.5: never more than the requester offered, nor than we allow. */
    return a->q.edns_udp < a->env->udp_payload ? a->q.edns_udp : a->env->udp_payload;
}

static void classify(const struct ans *a, struct answer_info *info)
{
    const struct zone *z = a->zone;
    uint8_t rc = a->r.rcode;
    if (rc == RCODE_NXDOMAIN || (rc == RCODE_NOERROR && z && !a->r.aa))
        info->kind = rc == RCODE_NXDOMAIN ? ANS_NXDOMAIN : ANS_REFERRAL;
    else if (rc == RCODE_NOERROR && z)
        info->kind = a->r.count[SEC_ANSWER] ? ANS_POSITIVE : ANS_NODATA;
    else
        info->kind = ANS_ERROR;
    /* Rate limiting hashes the name only when it applies, from what is recorded here. */
    info->by_qname = info->kind == ANS_POSITIVE || info->kind == ANS_NODATA;
    info->zone_name = z ? z->name : NULL;
    info->zone_len = z ? z->namelen : 0;
    info->question_end = (uint16_t)a->r.qend;
}

size_t answer_query(const struct answer_env *env, const uint8_t *msg, size_t len, uint8_t *out,
                    const struct answer_client *client, struct answer_info *info)
{
    struct ans a;
    a.env = env;
    a.client = client;
    a.tcp = client->tcp;
    a.chain = 0;
    a.scope = 0;
    a.fail_open = false;
    a.pair = -1;
    a.have_dc = false;
    a.dnssec = a.wild_denied = false;
    a.sigs_made = a.sig_hits = 0;
    a.wild = a.encloser = NULL;
    a.zone = NULL;
    enum parse_result pr = packet_parse(msg, len, &a.q);
    info->dropped = pr == PARSE_DROP;
    info->fail_open = false;
    info->pair = -1;
    info->sigs_made = info->sig_hits = 0;
    info->ecs = false;
    info->cookie = COOKIE_MISSING;
    if (pr == PARSE_DROP)
        return 0;
    struct opt_reply opt;
    int opt_rc = edns_reply(env, client, &a.q, &opt, &info->cookie);
    size_t size = a.tcp ? ANSWER_TCP_MAX : udp_limit(&a);
    /* A long NSID must not push the OPT record past what the client takes: being only
     * informative, it is what gives way. */
    size_t qend = a.q.has_question ? a.q.question_end : DNS_HEADER;
    if (opt.nsid && qend + resp_opt_size(&a.q, &opt) > size)
        opt.nsid = NULL;
    resp_start(&a.r, out, size, resp_opt_size(&a.q, &opt), &a.q, msg);
    if (pr == PARSE_ERROR)
        a.r.rcode = a.q.rcode;
    else if (opt_rc >= 0)
        a.r.rcode = (uint8_t)opt_rc;
    else
        answer(&a);
    info->qtype = a.q.has_question ? a.q.qtype : 0;
    info->rcode = a.r.rcode;
    info->truncated = a.r.tc;
    info->fail_open = a.fail_open;
    info->pair = a.pair;
    info->sigs_made = a.sigs_made;
    info->sig_hits = a.sig_hits;
    classify(&a, info);
    opt.ecs.scope = a.scope; /* static answers hold everywhere: scope 0 (RFC 7871 §7.2.1) */
    info->ecs = opt.ecs.present;
    if (opt.ecs.present) {
        info->ecs_family = (uint8_t)a.q.ecs.family;
        info->ecs_source = a.q.ecs.source;
        info->ecs_scope = a.scope;
        memcpy(info->ecs_addr, a.q.ecs.addr, sizeof(info->ecs_addr));
    }
    if (!a.q.edns && a.r.rcode > 15)
        a.r.rcode = RCODE_SERVFAIL;
    size_t n = resp_finish(&a.r, &a.q, &opt, env->udp_payload);
    info->opt_start = a.r.opt_start;
    return n;
}
