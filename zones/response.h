/* response.h — writing a DNS response into a caller's buffer: the header and question
 * echoed from the query, records with name compression (RFC 1035 §4.1.4), size limits
 * with roll-back, and the OPT record last (RFC 6891).
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "zones/cookie.h"
#include "zones/packet.h"
#include "zones/zonedb.h"

enum section { SEC_ANSWER, SEC_AUTHORITY, SEC_ADDITIONAL };

#define RESP_MAX_PTRS 64

/* The ECS option to echo: family and source from the query, scope decided by the answer. */
struct ecs_reply {
    bool present;
    struct ecs ecs;
    uint8_t scope;
};

/* Every option the response's OPT record carries; each may be absent. */
struct opt_reply {
    struct ecs_reply ecs;
    const uint8_t *nsid; /* RFC 5001: our identifier, or NULL */
    uint16_t nsid_len;
    uint8_t cookie[COOKIE_REPLY]; /* RFC 7873: client and server cookie */
    bool cookie_present;
    bool keepalive;             /* RFC 7828 */
    uint16_t keepalive_timeout; /* units of 100 ms */
};

struct response {
    uint8_t *buf;
    size_t len;
    size_t qend;  /* end of the echoed question */
    size_t limit; /* where sections must end: the size cap less room for the OPT record */
    uint16_t count[3];
    bool aa, tc;
    uint8_t rcode;      /* may be extended (> 15) when the query had EDNS */
    uint16_t rclass;    /* of the records resp_put_rr writes: IN unless CHAOS */
    uint16_t opt_start; /* where resp_finish put the OPT record; 0 without one */
    uint16_t last_name; /* where the last rdata name written starts */
    uint8_t apex_len;   /* the zone name's length, 0 until resp_set_apex */
    uint16_t apex_ptr;  /* where the question holds it, as the client spelt it */
    unsigned nptrs;
    uint16_t ptrs[RESP_MAX_PTRS]; /* label starts already in the message */
};

/* A snapshot to roll back to when a record set does not fit. */
struct resp_mark {
    size_t len;
    uint16_t count[3];
    unsigned nptrs;
};

/* Starts a response to q (whose wire form is msg) in buf of at most size bytes, of which
 * reserve stay free for resp_finish's OPT record.  The question is copied as received,
 * so the query's case is preserved. */
void resp_start(struct response *r, uint8_t *buf, size_t size, size_t reserve,
                const struct query *q, const uint8_t *msg);

static inline struct resp_mark resp_mark(const struct response *r)
{
    struct resp_mark m = {r->len, {r->count[0], r->count[1], r->count[2]}, r->nptrs};
    return m;
}
void resp_rollback(struct response *r, struct resp_mark m);

/* An owner name: the one at message offset ptr when ptr is non-zero, else name. */
struct owner {
    const uint8_t *name;
    uint16_t ptr;
};

/* Appends every record of s with owner o; ttl replaces the records' TTL unless it is
 * UINT32_MAX.  False, with nothing appended, when the set does not fit. */
bool resp_put_rrset(struct response *r, enum section sec, struct owner o, const struct rrset *s,
                    uint32_t ttl) F_WUNUSED;

/* Appends one record whose rdata is given in wire form; names in the rdata of types
 * RFC 3597 §4 allows are compressed. */
bool resp_put_rr(struct response *r, enum section sec, struct owner o, uint16_t type, uint32_t ttl,
                 const uint8_t *rdata, size_t rdlen) F_WUNUSED;

/* Message offset of the name of the last record appended to the answer section, which
 * lets a CNAME's target be pointed at; 0 when unknown. */
uint16_t resp_last_target(const struct response *r);

/* Tells the writer the answering zone's apex lies at message offset ptr (inside the
 * question), so names in the zone that spell it as the question does compress against it
 * without a search.  Compression only ever points at equal bytes (RFC 4343 §4.1). */
void resp_set_apex(struct response *r, size_t len, uint16_t ptr);

/* Drops every record and sets TC (RFC 2181 §9): the client retries over TCP. */
void resp_truncate(struct response *r);

/* Writes the counts and flags and appends OPT when the query had EDNS; returns the
 * message length. */
size_t resp_finish(struct response *r, const struct query *q, const struct opt_reply *opt,
                   uint16_t udp_payload);

/* Size of the OPT record resp_finish appends for q with the options in opt. */
size_t resp_opt_size(const struct query *q, const struct opt_reply *opt);

/* Cuts the finished response buf of len bytes down to its header, question (ending at
 * qend) and OPT record (at opt_start), with extended rcode rcode: an error that still
 * carries the options, such as BADCOOKIE (RFC 7873 §5.2.3).  Returns the new length. */
size_t resp_reduce_to_opt(uint8_t *buf, size_t len, size_t qend, size_t opt_start, uint8_t rcode);
