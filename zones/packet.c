/* packet.c — strict, bounded parsing of incoming queries.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/packet.h"

#include <string.h>

#define TYPE_OPT           41
#define EDNS_OPT_NSID      3
#define EDNS_OPT_ECS       8
#define EDNS_OPT_COOKIE    10
#define EDNS_OPT_KEEPALIVE 11
#define ECS_FAMILY_IPV4    1
#define ECS_FAMILY_IPV6    2

/* Lower-cases eight bytes at once: each byte from 'A' to 'Z' gains 0x20.  Label length
 * bytes (at most 63) are never in that range, so a whole wire name can go through. */
static inline uint64_t lower8(uint64_t w)
{
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t seven = w & ~high;
    uint64_t above_z = seven + 0x2525252525252525ULL; /* high bit: byte > 'Z' */
    uint64_t from_a = seven + 0x3F3F3F3F3F3F3F3FULL;  /* high bit: byte >= 'A' */
    uint64_t upper = (from_a ^ above_z) & ~w & high;
    return w | (upper >> 2);
}

/* The question name: no compression (nothing but the header precedes it), lower-cased
 * copy with label offsets. */
static bool parse_qname(const uint8_t *m, size_t len, size_t *pos, struct query *q)
{
    size_t start = *pos, p = start;
    unsigned labels = 0;
    for (;;) {
        if (p >= len)
            return false;
        uint8_t l = m[p];
        if ((l & 0xC0) || p - start + l + 1 > DNAME_MAX || p + 1 + l > len)
            return false;
        if (l == 0)
            break;
        q->label_off[labels++] = (uint8_t)(p - start);
        p += 1 + l;
    }
    size_t n = p + 1 - start;
    memcpy(q->qname, m + start, n);
    /* q->qname holds DNAME_MAX + 1 = 256 bytes: whole words never run past it. */
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, q->qname + i, 8);
        w = lower8(w);
        memcpy(q->qname + i, &w, 8);
    }
    q->qname_len = (uint8_t)n;
    q->labels = (uint8_t)labels;
    *pos = p + 1;
    return true;
}

/* Skips a name that may be compressed; only its bounds matter here. */
static bool skip_name(const uint8_t *m, size_t len, size_t *pos)
{
    if (*pos < len && m[*pos] == 0) { /* the root, as OPT records have */
        (*pos)++;
        return true;
    }
    uint8_t scratch[DNAME_MAX + 1];
    return dname_unpack(m, len, pos, scratch) > 0;
}

/* RFC 7871 §6 and §7.1.1: anything malformed is FORMERR. */
static bool parse_ecs(const uint8_t *o, size_t olen, struct query *q)
{
    if (q->has_ecs || olen < 4)
        return false;
    uint16_t family = rd16(o);
    uint8_t source = o[2], scope = o[3];
    unsigned maxbits = family == ECS_FAMILY_IPV4 ? 32 : family == ECS_FAMILY_IPV6 ? 128 : 0;
    size_t addrlen = ((size_t)source + 7) / 8;
    if (!maxbits || source > maxbits || scope != 0 || olen - 4 != addrlen)
        return false;
    /* Bits past the source prefix must be zero (RFC 7871 §6). */
    if (source % 8 && (o[4 + addrlen - 1] & (0xFF >> (source % 8))))
        return false;
    q->has_ecs = true;
    q->ecs.family = family;
    q->ecs.source = source;
    memset(q->ecs.addr, 0, sizeof(q->ecs.addr));
    memcpy(q->ecs.addr, o + 4, addrlen);
    return true;
}

/* The options judged later, by what the config enables (answer.c): only recorded here. */
static void note_option(uint16_t code, const uint8_t *o, uint16_t olen, struct query *q)
{
    if (code == EDNS_OPT_NSID) {
        q->nsid = true;
    } else if (code == EDNS_OPT_KEEPALIVE) {
        q->keepalive = true;
        q->keepalive_len = olen;
    } else if (code == EDNS_OPT_COOKIE && !q->has_cookie) {
        q->has_cookie = true;
        q->cookie_len = olen;
        if (olen <= COOKIE_MAX)
            memcpy(q->cookie, o, olen);
    }
}

static bool parse_options(const uint8_t *rd, size_t rdlen, struct query *q)
{
    size_t p = 0;
    while (p < rdlen) {
        if (rdlen - p < 4)
            return false;
        uint16_t code = rd16(rd + p), olen = rd16(rd + p + 2);
        p += 4;
        if (olen > rdlen - p)
            return false;
        if (code == EDNS_OPT_ECS && !parse_ecs(rd + p, olen, q))
            return false;
        note_option(code, rd + p, olen, q);
        p += olen;
    }
    return true;
}

/* RFC 6891 §6.1.1: one OPT, owner root, in the additional section only. */
static bool parse_opt(const uint8_t *m, size_t owner, const uint8_t *rr, struct query *q)
{
    if (q->edns || m[owner] != 0)
        return false;
    q->edns = true;
    uint16_t udp = rd16(rr + 2);
    q->edns_udp = udp < 512 ? 512 : udp;
    q->edns_version = rr[5];
    q->edns_do = (rr[6] & 0x80) != 0;
    return parse_options(rr + 10, rd16(rr + 8), q);
}

/* Walks count records from *pos; OPT is accepted only where additional is true. */
static bool parse_records(const uint8_t *m, size_t len, size_t *pos, unsigned count,
                          bool additional, struct query *q)
{
    for (unsigned i = 0; i < count; i++) {
        size_t owner = *pos;
        if (!skip_name(m, len, pos) || len - *pos < 10)
            return false;
        const uint8_t *rr = m + *pos;
        size_t rdlen = rd16(rr + 8);
        if (len - *pos - 10 < rdlen)
            return false;
        if (rd16(rr) == TYPE_OPT && (!additional || !parse_opt(m, owner, rr, q)))
            return false;
        *pos += 10 + rdlen;
    }
    return true;
}

static enum parse_result fail(struct query *q, uint8_t rcode)
{
    q->rcode = rcode;
    return PARSE_ERROR;
}

enum parse_result packet_parse(const uint8_t *m, size_t len, struct query *q)
{
    if (len < DNS_HEADER || (m[2] & 0x80))
        return PARSE_DROP;
    q->id = rd16(m);
    q->opcode = (m[2] >> 3) & 0x0F;
    q->rd = m[2] & 0x01;
    q->has_question = q->edns = q->has_ecs = q->nsid = q->keepalive = q->has_cookie = false;
    q->rcode = RCODE_NOERROR;
    uint16_t qd = rd16(m + 4), an = rd16(m + 6), ns = rd16(m + 8), ar = rd16(m + 10);
    size_t pos = DNS_HEADER;
    if (qd == 1 && parse_qname(m, len, &pos, q) && len - pos >= 4) {
        q->qtype = rd16(m + pos);
        q->qclass = rd16(m + pos + 2);
        pos += 4;
        q->question_end = pos;
        q->has_question = true;
    }
    if (!q->has_question)
        return fail(q, q->opcode != 0 ? RCODE_NOTIMP : RCODE_FORMERR);
    if (!parse_records(m, len, &pos, an + ns, false, q) ||
        !parse_records(m, len, &pos, ar, true, q)) {
        q->edns = false; /* a broken OPT is not echoed */
        return fail(q, q->opcode != 0 ? RCODE_NOTIMP : RCODE_FORMERR);
    }
    /* RFC 6891 §7: an error answer to an EDNS query carries OPT too, so parse first. */
    if (q->opcode != 0)
        return fail(q, RCODE_NOTIMP);
    if (q->edns && q->edns_version > 0)
        return fail(q, RCODE_BADVERS);
    return PARSE_OK;
}
