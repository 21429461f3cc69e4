/* cookie.c — server cookies as RFC 9018 §4 lays them out: version 1, three reserved bytes,
 * a 32-bit timestamp, and 8 bytes of SipHash-2-4 over the client cookie, those 8 bytes
 * and the client's address.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/cookie.h"

#include <netinet/in.h>
#include <string.h>

#define COOKIE_VERSION 1
/* RFC 9018 §4.3: a cookie lives an hour, may come from up to five minutes ahead (another
 * node's clock), and is renewed once it is older than half an hour. */
#define COOKIE_LIFETIME 3600
#define COOKIE_SKEW     300
#define COOKIE_RENEW    1800

/* The hash input: client cookie, version, reserved, timestamp, then the address. */
#define HASHED_HEAD 16

/* The client's address as RFC 9018 hashes it: 4 bytes for IPv4 (an IPv4-mapped IPv6
 * address too, so that dual-stack and IPv4 sockets agree), else 16. */
static size_t client_ip(const struct sockaddr *src, uint8_t *out)
{
    if (src && src->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)src)->sin_addr, 4);
        return 4;
    }
    if (src && src->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)src)->sin6_addr;
        bool mapped = IN6_IS_ADDR_V4MAPPED(a);
        memcpy(out, a->s6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
        return mapped ? 4 : 16;
    }
    return 0;
}

/* Writes the hash of in (HASHED_HEAD + iplen bytes) under key into out's last 8 bytes,
 * little-endian as the reference SipHash writes it. */
static void put_hash(const uint8_t *key, const uint8_t *in, size_t iplen, uint8_t *out)
{
    uint64_t h = siphash24(key, in, HASHED_HEAD + iplen);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(h >> (8 * i));
}

/* Whether the 8 hash bytes at got are key's hash of in; compared without an early exit. */
static bool hash_matches(const uint8_t *key, const uint8_t *in, size_t iplen, const uint8_t *got)
{
    uint8_t want[8];
    put_hash(key, in, iplen, want);
    uint8_t diff = 0;
    for (int i = 0; i < 8; i++)
        diff |= (uint8_t)(want[i] ^ got[i]);
    return diff == 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Which secret made the server cookie of opt (index), or -1 when none did or it has
 * expired.  in holds the hash input with the received header and timestamp. */
static int verify(const struct cookie_secrets *s, const uint8_t *opt, size_t len, const uint8_t *in,
                  size_t iplen, uint32_t now)
{
    if (len != COOKIE_REPLY || opt[8] != COOKIE_VERSION)
        return -1; /* not one of ours: a peer's of another kind, or an older version */
    /* Serial arithmetic (RFC 1982), so the clock wrapping in 2106 changes nothing. */
    int32_t age = (int32_t)(now - rd32(opt + 12));
    if (age > COOKIE_LIFETIME || age < -COOKIE_SKEW)
        return -1;
    for (unsigned k = 0; k < s->n; k++)
        if (hash_matches(s->key[k], in, iplen, opt + 16))
            return (int)k;
    return -1;
}

enum cookie_state cookie_check(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
                               const struct sockaddr *src, uint32_t now,
                               uint8_t reply[COOKIE_REPLY])
{
    uint8_t in[HASHED_HEAD + 16];
    size_t iplen = client_ip(src, in + HASHED_HEAD);
    memcpy(in, opt, COOKIE_CLIENT);
    enum cookie_state st = COOKIE_NEW;
    if (len > COOKIE_CLIENT) {
        memcpy(in + COOKIE_CLIENT, opt + COOKIE_CLIENT, 8); /* version, reserved, time */
        int k = verify(s, opt, len, in, iplen, now);
        st = k < 0 ? COOKIE_INVALID : COOKIE_VALID;
        /* A fresh cookie of the current secret goes back as it came: one hash, not two. */
        if (k == 0 && (int32_t)(now - rd32(opt + 12)) <= COOKIE_RENEW) {
            memcpy(reply, opt, COOKIE_REPLY);
            return st;
        }
    }
    in[8] = COOKIE_VERSION;
    memset(in + 9, 0, 3);
    in[12] = (uint8_t)(now >> 24);
    in[13] = (uint8_t)(now >> 16);
    in[14] = (uint8_t)(now >> 8);
    in[15] = (uint8_t)now;
    memcpy(reply, in, HASHED_HEAD);
    put_hash(s->key[0], in, iplen, reply + HASHED_HEAD);
    return st;
}
