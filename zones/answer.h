/* answer.h — answering one query from the zone database: RFC 1034 §4.3.2 with CNAME
 * chains, DNAME (RFC 6672), wildcards (RFC 4592), negative answers (RFC 2308), referrals,
 * ANY (RFC 8482), EDNS (RFC 6891) and truncation.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/diag.h"
#include "zones/cookie.h"
#include "zones/zonedb.h"

struct dyn;         /* dynamic names; NULL when the config has none */
struct dyn_scratch; /* a thread's working memory for them */
struct sign_cache;  /* a thread's signatures over dynamic answers (zones/sign/sign.h) */

/* Everything an answer depends on besides the query: one consistent snapshot. */
struct answer_env {
    const struct zonedb *db;
    const struct dyn *dyn;
    uint16_t udp_payload; /* largest UDP response we send */
    bool ecs;             /* echo and use EDNS Client Subnet */
    const uint8_t *nsid;  /* RFC 5001 identifier to send when asked, or NULL */
    uint16_t nsid_len;
    const char *identity;                 /* RFC 4892 id.server. and hostname.bind. TXT, or NULL */
    const char *version;                  /* version.server. and version.bind. TXT, or NULL */
    const struct cookie_secrets *cookies; /* RFC 7873 server cookies, or NULL: off */
    uint16_t tcp_keepalive; /* RFC 7828 idle timeout sent to TCP clients, 100 ms units */
};

/* What kind of response a query got, for rate limiting (RFC-less, after the RRL scheme):
 * floods of one kind are counted together. */
enum answer_kind { ANS_POSITIVE, ANS_NODATA, ANS_NXDOMAIN, ANS_REFERRAL, ANS_ERROR };

/* Per-query outcome, for counters and logs. */
struct answer_info {
    enum answer_kind kind;
    /* The name the kind is counted under: the qname (in the response's question), or the
     * zone for NXDOMAIN and referrals, so that floods of random names still add up. */
    bool by_qname;
    const uint8_t *zone_name; /* NULL outside our zones */
    uint8_t zone_len;
    uint16_t question_end; /* where the echoed question ends in the response */
    uint16_t qtype;
    uint8_t rcode;
    bool dropped;
    bool truncated;
    bool fail_open; /* a dynamic answer ignored health: every candidate was down */
    int32_t pair;   /* the service/region pair of the last dynamic answer, or -1 */
    enum cookie_state cookie;
    uint16_t opt_start; /* where the response's OPT record starts; 0 without one */
    uint16_t sigs_made; /* RRSIGs made for dynamic answers (a signature cache miss) */
    uint16_t sig_hits;  /* dynamic RRsets whose RRSIGs came from the cache */
    bool ecs;           /* the query carried Client Subnet: */
    uint8_t ecs_family, ecs_source, ecs_scope; /* family 1 or 2 (RFC 7871 §6) */
    uint8_t ecs_addr[16];
};

#define ANSWER_TCP_MAX 65535

/* The transport side of a query. */
struct answer_client {
    const struct sockaddr *src; /* the packet's source address; NULL when unknown */
    bool tcp;
    uint32_t now;            /* seconds since the epoch, for cookies: refreshed per batch */
    struct dyn_scratch *ws;  /* the calling thread's */
    struct diag *trace;      /* explain: each step as a line; NULL when answering */
    struct sign_cache *sigs; /* NULL: dynamic answers go unsigned */
};

/* Answers the message msg into out, which holds ANSWER_TCP_MAX bytes for TCP and at
 * least the configured udp_payload (at most 4096) for UDP.  Returns the response length,
 * or 0 when nothing should be sent. */
size_t answer_query(const struct answer_env *env, const uint8_t *msg, size_t len, uint8_t *out,
                    const struct answer_client *client, struct answer_info *info);
