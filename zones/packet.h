/* packet.h — reading a DNS query: header, the one question, and the EDNS OPT record with
 * the options we act on: Client Subnet (RFC 7871), NSID (RFC 5001), COOKIE (RFC 7873) and
 * edns-tcp-keepalive (RFC 7828) (RFC 1035 §4.1, RFC 6891).
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "zones/dname.h"

#define DNS_HEADER 12
#define COOKIE_MAX 40 /* client (8) and server (8 to 32) cookie, RFC 7873 §4 */

enum rcode {
    RCODE_NOERROR = 0,
    RCODE_FORMERR = 1,
    RCODE_SERVFAIL = 2,
    RCODE_NXDOMAIN = 3,
    RCODE_NOTIMP = 4,
    RCODE_REFUSED = 5,
    RCODE_YXDOMAIN = 6,
    RCODE_BADVERS = 16,   /* extended: needs OPT (RFC 6891 §9) */
    RCODE_BADCOOKIE = 23, /* extended: RFC 7873 §8 */
};

enum parse_result {
    PARSE_OK,
    PARSE_DROP,  /* not a query we answer at all: too short, or a response */
    PARSE_ERROR, /* answer with q->rcode (FORMERR, NOTIMP, BADVERS) */
};

/* RFC 7871 §6: the option as received; addr holds ceil(source/8) significant bytes. */
struct ecs {
    uint16_t family; /* 1 = IPv4, 2 = IPv6 (address family numbers) */
    uint8_t source;
    uint8_t addr[16];
};

struct query {
    uint16_t id;
    uint8_t opcode;
    uint8_t rcode; /* for PARSE_ERROR */
    bool rd;
    bool has_question; /* the question parsed and can be echoed */
    uint16_t qtype, qclass;
    uint8_t qname[DNAME_MAX + 1]; /* lower-case */
    uint8_t qname_len;
    uint8_t labels;
    uint8_t label_off[DNAME_LABELS];
    size_t question_end; /* offset just past QCLASS in the request */

    bool edns;
    bool edns_do;
    uint8_t edns_version;
    uint16_t edns_udp; /* requester's payload size, at least 512 */
    bool has_ecs;
    struct ecs ecs;
    bool nsid;      /* an NSID option came (RFC 5001 §2.1: its payload is ignored) */
    bool keepalive; /* an edns-tcp-keepalive option came */
    uint16_t keepalive_len;
    /* The first COOKIE option as received: client cookie, then any server cookie.  Its
     * length is kept even when it is too long to copy, so it can be judged (cookie.h). */
    bool has_cookie;
    uint16_t cookie_len;
    uint8_t cookie[COOKIE_MAX];
};

/* Parses msg into q.  PARSE_ERROR leaves q->rcode set and has_question telling whether
 * the question may be echoed. */
enum parse_result packet_parse(const uint8_t *msg, size_t len, struct query *q) F_WUNUSED;

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
