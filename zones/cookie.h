/* cookie.h — DNS Cookies (RFC 7873) with server cookies built as RFC 9018 specifies, so
 * that every node of a fleet holding the same secret accepts the others' cookies.  A
 * check costs one SipHash in the common cases, allocates nothing and takes no lock.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/siphash.h"

#define COOKIE_CLIENT      8  /* bytes of client cookie */
#define COOKIE_SERVER      16 /* bytes of the server cookies we make (RFC 9018 §4) */
#define COOKIE_REPLY       (COOKIE_CLIENT + COOKIE_SERVER)
#define COOKIE_SECRETS_MAX 2

/* The secrets: the first makes and checks cookies; a second, during a rotation, is only
 * accepted (RFC 9018 §5), and cookies it made are answered with fresh ones. */
struct cookie_secrets {
    uint8_t key[COOKIE_SECRETS_MAX][SIPHASH_KEY];
    unsigned n; /* 1 or 2 */
};

/* What the query presented, for counters and rate limiting. */
enum cookie_state {
    COOKIE_MISSING, /* no COOKIE option (or cookies are off) */
    COOKIE_NEW,     /* a client cookie alone: the client is learning our cookie */
    COOKIE_VALID,   /* a server cookie we (or a peer with our secret) made, still fresh */
    COOKIE_INVALID, /* a server cookie that does not verify, or has expired */
    COOKIE_STATES
};

/* Whether an option of len bytes is well-formed: a client cookie alone, or with a server
 * cookie of 8 to 32 bytes (RFC 7873 §5.2.2; anything else is FORMERR). */
static inline bool cookie_len_ok(size_t len)
{
    return len == COOKIE_CLIENT || (len >= 16 && len <= 40);
}

/* Judges the well-formed option opt (len bytes) from the client at src (NULL: unknown) at
 * now (seconds since the epoch), and writes to reply the option to answer with: the
 * client cookie and a server cookie, either the one received (when valid and younger
 * than half an hour) or a new one. */
enum cookie_state cookie_check(const struct cookie_secrets *s, const uint8_t *opt, size_t len,
                               const struct sockaddr *src, uint32_t now,
                               uint8_t reply[COOKIE_REPLY]);
