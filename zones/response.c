/* response.c — the response writer and its name compression.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/response.h"

#include <string.h>

#define TYPE_OPT  41
#define PTR_LIMIT 0x3FFF /* a pointer has 14 bits of offset */

static void add_ptr(struct response *r, size_t off)
{
    if (r->nptrs < RESP_MAX_PTRS && off <= PTR_LIMIT)
        r->ptrs[r->nptrs++] = (uint16_t)off;
}

void resp_start(struct response *r, uint8_t *buf, size_t size, size_t reserve,
                const struct query *q, const uint8_t *msg)
{
    r->buf = buf;
    r->limit = size - reserve;
    r->count[0] = r->count[1] = r->count[2] = 0;
    r->aa = r->tc = false;
    r->rcode = 0;
    r->rclass = 1;
    r->opt_start = 0;
    r->nptrs = 0;
    r->last_name = 0;
    r->apex_len = 0;
    wr16(buf, q->id);
    buf[2] = (uint8_t)(0x80 | q->opcode << 3 | (q->rd ? 1 : 0));
    /* RFC 4035 §3.1.6: an authoritative server clears CD (and never sets AD). */
    buf[3] = 0;
    memset(buf + 4, 0, 8);
    r->len = r->qend = DNS_HEADER;
    if (!q->has_question)
        return;
    size_t qlen = q->question_end - DNS_HEADER;
    memcpy(buf + DNS_HEADER, msg + DNS_HEADER, qlen);
    wr16(buf + 4, 1);
    r->len = r->qend = DNS_HEADER + qlen;
    for (unsigned i = 0; i < q->labels; i++)
        add_ptr(r, DNS_HEADER + q->label_off[i]);
}

void resp_rollback(struct response *r, struct resp_mark m)
{
    r->len = m.len;
    memcpy(r->count, m.count, sizeof(r->count));
    r->nptrs = m.nptrs;
}

void resp_truncate(struct response *r)
{
    r->len = r->qend;
    r->count[0] = r->count[1] = r->count[2] = 0;
    r->nptrs = 0;
    r->tc = true;
}

/* True when the name at message offset p spells suffix byte for byte.  Case counts: a
 * pointer to labels that differ in case would change the name a reader sees, and names
 * are copied with their case (RFC 4343 §4.1). */
static bool name_at_equals(const struct response *r, size_t p, const uint8_t *suffix)
{
    const uint8_t *b = r->buf;
    for (unsigned hops = 0; hops < 32;) {
        if (p >= r->len)
            return false; /* only what this response wrote counts */
        uint8_t l = b[p];
        if ((l & 0xC0) == 0xC0) {
            p = (size_t)(l & 0x3F) << 8 | b[p + 1];
            hops++;
            continue;
        }
        if (l != *suffix)
            return false;
        if (l == 0)
            return true;
        if (memcmp(b + p + 1, suffix + 1, l) != 0)
            return false;
        p += l + 1;
        suffix += l + 1;
    }
    return false;
}

static int find_suffix(const struct response *r, const uint8_t *suffix)
{
    for (unsigned i = 0; i < r->nptrs; i++)
        if (name_at_equals(r, r->ptrs[i], suffix))
            return r->ptrs[i];
    return -1;
}

/* Where name ends in the apex exactly as the question spells it: the length of the labels
 * before it, or -1. */
static int apex_prefix(const struct response *r, const uint8_t *name)
{
    size_t len = dname_len(name), p = 0;
    if (len < r->apex_len)
        return -1;
    while (len - p > r->apex_len)
        p += name[p] + 1u;
    if (len - p != r->apex_len)
        return -1;
    if (memcmp(name + p, r->buf + r->apex_ptr, r->apex_len) != 0)
        return -1;
    return (int)p;
}

/* Most names in an answer lie in the zone: their labels, then a pointer to the apex
 * inside the question.  Cheaper than searching, and nearly as tight. */
static size_t put_under_apex(struct response *r, const uint8_t *name, size_t prefix)
{
    if (r->len + prefix + 2 > r->limit)
        return 0;
    size_t start = r->len;
    memcpy(r->buf + r->len, name, prefix);
    r->len += prefix;
    wr16(r->buf + r->len, (uint16_t)(0xC000 | r->apex_ptr));
    r->len += 2;
    for (size_t p = 0; p < prefix; p += name[p] + 1u) /* targets once the name is whole */
        add_ptr(r, start + p);
    return prefix ? start : r->apex_ptr;
}

void resp_set_apex(struct response *r, size_t len, uint16_t ptr)
{
    r->apex_len = ptr <= PTR_LIMIT ? (uint8_t)len : 0;
    r->apex_ptr = ptr;
}

/* Whether the message already holds name, or a suffix of it longer than the apex (an NS
 * target that glue repeats, a delegation in the question): pointing there is tighter
 * than labels and a pointer to the apex. */
static bool held_below_apex(const struct response *r, const uint8_t *name, size_t prefix)
{
    for (size_t at = 0; at < prefix; at += name[at] + 1u)
        if (find_suffix(r, name + at) >= 0)
            return true;
    return false;
}

/* Writes name (wire, any case) compressed against equal bytes in the message; returns the
 * offset the name can later be pointed at, or 0 when it does not fit. */
static size_t put_name(struct response *r, const uint8_t *name)
{
    int prefix = r->apex_len ? apex_prefix(r, name) : -1;
    if (prefix >= 0 && !held_below_apex(r, name, (size_t)prefix))
        return put_under_apex(r, name, (size_t)prefix);
    /* Where this name's labels start; they become pointer targets only once the name is
     * whole, or a later suffix could match bytes not yet written (a stale buffer). */
    uint16_t starts[DNAME_LABELS];
    unsigned nstarts = 0;
    size_t start = r->len, at = 0, written;
    for (;;) {
        int ptr = name[at] ? find_suffix(r, name + at) : -1;
        if (ptr >= 0) {
            if (r->len + 2 > r->limit)
                return 0;
            wr16(r->buf + r->len, (uint16_t)(0xC000 | ptr));
            r->len += 2;
            written = at ? start : (size_t)ptr;
            break;
        }
        uint8_t l = name[at];
        if (r->len + l + 1u > r->limit)
            return 0;
        memcpy(r->buf + r->len, name + at, l + 1u);
        if (l)
            starts[nstarts++] = (uint16_t)r->len;
        r->len += l + 1u;
        if (!l) {
            written = start;
            break;
        }
        at += l + 1u;
    }
    for (unsigned i = 0; i < nstarts; i++)
        add_ptr(r, starts[i]);
    return written;
}

static bool put_owner(struct response *r, struct owner o)
{
    if (o.ptr) {
        if (r->len + 2 > r->limit)
            return false;
        wr16(r->buf + r->len, (uint16_t)(0xC000 | o.ptr));
        r->len += 2;
        return true;
    }
    return put_name(r, o.name) != 0;
}

/* The rdata of RFC 1035 types whose names RFC 3597 §4 lets us compress.  The zone loader
 * has checked that it has the type's layout (zonefile.c). */
static bool put_rdata_compressed(struct response *r, uint16_t type, const uint8_t *rd, size_t rdlen)
{
    struct rdata_layout lay = rdata_layout(type);
    size_t used = lay.lead;
    if (r->len + used > r->limit)
        return false;
    memcpy(r->buf + r->len, rd, used);
    r->len += used;
    for (unsigned i = 0; i < lay.names; i++) {
        size_t at = put_name(r, rd + used);
        if (!at)
            return false;
        if (i == 0)
            r->last_name = (uint16_t)at;
        used += dname_len(rd + used);
    }
    size_t rest = rdlen - used;
    if (r->len + rest > r->limit)
        return false;
    memcpy(r->buf + r->len, rd + used, rest);
    r->len += rest;
    return true;
}

static bool compressible(uint16_t type)
{
    /* NS, CNAME, SOA, PTR, MX */
    return type == 2 || type == 5 || type == 6 || type == 12 || type == 15;
}

bool resp_put_rr(struct response *r, enum section sec, struct owner o, uint16_t type, uint32_t ttl,
                 const uint8_t *rdata, size_t rdlen)
{
    struct resp_mark m = resp_mark(r);
    if (!put_owner(r, o) || r->len + 10 > r->limit)
        goto full;
    uint8_t *hdr = r->buf + r->len;
    wr16(hdr, type);
    wr16(hdr + 2, r->rclass);
    wr32(hdr + 4, ttl);
    r->len += 10;
    size_t start = r->len;
    if (compressible(type)) {
        if (!put_rdata_compressed(r, type, rdata, rdlen))
            goto full;
    } else {
        if (r->len + rdlen > r->limit)
            goto full;
        memcpy(r->buf + r->len, rdata, rdlen);
        r->len += rdlen;
    }
    wr16(hdr + 8, (uint16_t)(r->len - start));
    r->count[sec]++;
    return true;
full:
    resp_rollback(r, m);
    return false;
}

bool resp_put_rrset(struct response *r, enum section sec, struct owner o, const struct rrset *s,
                    uint32_t ttl)
{
    struct resp_mark m = resp_mark(r);
    const uint8_t *w = s->wire;
    bool plain = !compressible(s->type);
    for (unsigned i = 0; i < s->count; i++) {
        uint16_t rdlen = rd16(w + 8);
        uint32_t t = ttl == UINT32_MAX ? s->ttl : ttl;
        if (plain) {
            /* The common case: owner (usually a pointer) and the record as stored. */
            if (!put_owner(r, o) || r->len + 10u + rdlen > r->limit)
                goto full;
            memcpy(r->buf + r->len, w, 10u + rdlen);
            if (ttl != UINT32_MAX)
                wr32(r->buf + r->len + 4, t);
            r->len += 10u + rdlen;
            r->count[sec]++;
        } else if (!resp_put_rr(r, sec, o, s->type, t, w + 10, rdlen)) {
            goto full;
        }
        w += 10 + rdlen;
    }
    return true;
full:
    resp_rollback(r, m);
    return false;
}

uint16_t resp_last_target(const struct response *r)
{
    return r->last_name;
}

static size_t ecs_addr_len(const struct opt_reply *o)
{
    return ((size_t)o->ecs.ecs.source + 7) / 8;
}

/* The OPT record's RDATA length for the options in o. */
static size_t options_len(const struct opt_reply *o)
{
    if (!o)
        return 0;
    size_t n = o->ecs.present ? 8 + ecs_addr_len(o) : 0;
    n += o->nsid ? 4u + o->nsid_len : 0;
    n += o->cookie_present ? 4 + COOKIE_REPLY : 0;
    n += o->keepalive ? 6 : 0;
    return n;
}

size_t resp_opt_size(const struct query *q, const struct opt_reply *opt)
{
    return q->edns ? 11 + options_len(opt) : 0;
}

static uint8_t *put_option(uint8_t *p, uint16_t code, const void *data, size_t len)
{
    wr16(p, code);
    wr16(p + 2, (uint16_t)len);
    memcpy(p + 4, data, len);
    return p + 4 + len;
}

static void put_options(uint8_t *p, const struct opt_reply *o)
{
    if (o->ecs.present) {
        /* RFC 7871 §7.2.1: family, source prefix and address as received, our scope. */
        uint8_t e[4 + 16];
        wr16(e, o->ecs.ecs.family);
        e[2] = o->ecs.ecs.source;
        e[3] = o->ecs.scope;
        memcpy(e + 4, o->ecs.ecs.addr, ecs_addr_len(o));
        p = put_option(p, 8, e, 4 + ecs_addr_len(o));
    }
    if (o->nsid)
        p = put_option(p, 3, o->nsid, o->nsid_len);
    if (o->cookie_present)
        p = put_option(p, 10, o->cookie, COOKIE_REPLY);
    if (o->keepalive) {
        uint8_t t[2];
        wr16(t, o->keepalive_timeout);
        put_option(p, 11, t, 2);
    }
}

static void put_opt(struct response *r, const struct query *q, const struct opt_reply *o,
                    uint16_t udp_payload)
{
    uint8_t *p = r->buf + r->len;
    size_t optlen = options_len(o);
    p[0] = 0; /* root owner */
    wr16(p + 1, TYPE_OPT);
    wr16(p + 3, udp_payload);
    /* RFC 6891 §6.1.3: extended rcode high bits, version 0, DO echoed (RFC 3225 §3). */
    p[5] = (uint8_t)(r->rcode >> 4);
    p[6] = 0;
    p[7] = q->edns_do ? 0x80 : 0;
    p[8] = 0;
    wr16(p + 9, (uint16_t)optlen);
    if (optlen)
        put_options(p + 11, o);
    r->opt_start = (uint16_t)r->len;
    r->len += 11 + optlen;
    r->count[SEC_ADDITIONAL]++;
}

size_t resp_finish(struct response *r, const struct query *q, const struct opt_reply *opt,
                   uint16_t udp_payload)
{
    uint8_t *b = r->buf;
    if (q->edns)
        put_opt(r, q, opt, udp_payload);
    b[2] = (uint8_t)((b[2] & 0xF9) | (r->aa ? 0x04 : 0) | (r->tc ? 0x02 : 0));
    b[3] = (uint8_t)((b[3] & 0xF0) | (r->rcode & 0x0F));
    wr16(b + 6, r->count[SEC_ANSWER]);
    wr16(b + 8, r->count[SEC_AUTHORITY]);
    wr16(b + 10, r->count[SEC_ADDITIONAL]);
    return r->len;
}

size_t resp_reduce_to_opt(uint8_t *buf, size_t len, size_t qend, size_t opt_start, uint8_t rcode)
{
    size_t optlen = len - opt_start;
    memmove(buf + qend, buf + opt_start, optlen);
    buf[2] &= (uint8_t)~0x06; /* neither AA nor TC: nothing was answered */
    buf[3] = (uint8_t)((buf[3] & 0xF0) | (rcode & 0x0F));
    buf[qend + 5] = (uint8_t)(rcode >> 4);
    wr16(buf + 6, 0);
    wr16(buf + 8, 0);
    wr16(buf + 10, 1);
    return qend + optlen;
}
