/* sign.h — DNSSEC signing (RFC 4033–4035): a zone's keys read from the files ldns-keygen
 * writes, the zone signed in memory at load (DNSKEY, CDS, CDNSKEY, an RRSIG for every
 * authoritative RRset, an NSEC chain), and the denial records answers look up.  This
 * header is the whole contract of zones/sign/.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/zonedb.h"

/* RFC 7583 §3.1: a key in DNSKEY only (publish: before it signs; retire: after). */
enum sign_key_state { SIGN_KEY_ACTIVE, SIGN_KEY_PUBLISH, SIGN_KEY_RETIRE };

/* One key as the config names it: the path without ".key"/".private". */
struct sign_keyspec {
    const char *path;
    enum sign_key_state state;
    unsigned line, col; /* in the config, for messages */
};

/* How a zone is signed.  Lifetimes in seconds; defaults as Knot's (14 d, 7 d). */
struct sign_policy {
    const char *conf_file;
    const struct sign_keyspec *keys;
    size_t nkeys;
    bool nsec3;        /* deny with NSEC3 (RFC 9276: SHA-1, no salt, no iterations) */
    uint32_t lifetime; /* a signature is valid this long from signing */
    uint32_t refresh;  /* re-signed this long before the earliest expiry */
};

#define SIGN_LIFETIME_DEFAULT (14u * 86400u)
#define SIGN_REFRESH_DEFAULT  (7u * 86400u)

/* What status and metrics show of one key. */
struct sign_keyinfo {
    uint16_t tag;
    uint8_t algorithm;
    bool ksk, zsk; /* a CSK is both */
    enum sign_key_state state;
};

#define SIGN_MAX_KEYS 8

#define SIGN_NSEC3_HASH 20 /* SHA-1 */

/* One NSEC3 record of the chain: its owner's hash, owner name and RRset (with RRSIGs). */
struct sign_nsec3 {
    uint8_t hash[SIGN_NSEC3_HASH];
    const uint8_t *owner;
    const struct rrset *set;
};

/* The signing state of a loaded zone: its keys, its NSEC chain in canonical order and
 * what it took (zone.sec; NULL for an unsigned zone). */
struct zone_sec {
    struct sign_keys *keys;
    bool nsec3;      /* the denial chain: NSEC3 (RFC 5155) or NSEC */
    uint32_t *order; /* NSEC: nodes holding one, in canonical order (RFC 4034 §6.1) */
    uint32_t norder;
    struct sign_nsec3 *n3; /* NSEC3: the chain by hash */
    uint32_t nn3;
    /* NSEC3, by node index: the entry matching the node, and the one covering "*." under
     * it (UINT32_MAX below a cut), so that answers hash only the next closer name. */
    uint32_t *n3_match, *n3_wild;
    time_t signed_at, expires, refresh_at; /* expires: the earliest RRSIG expiration */
    uint64_t signatures;                   /* made at load */
    uint64_t reused;                       /* taken over unchanged from the version before */
    unsigned nkeys;
    struct sign_keyinfo info[SIGN_MAX_KEYS];
};

/* Reads and checks the policy's keys for the zone origin (lower-case wire): each error
 * (missing or unreadable file, a key of another zone, an algorithm other than 13 or 15, a
 * private key others may read) goes to d at the key's place in the config.  NULL then. */
struct sign_keys *sign_keys_load(const struct sign_policy *p, const uint8_t *origin,
                                 struct diag *d) F_WUNUSED;
void sign_keys_free(struct sign_keys *k);

/* Prints the DS records (SHA-256, RFC 4509) of the keys with the SEP flag, one per line,
 * as the parent publishes them; returns how many. */
unsigned sign_keys_print_ds(const struct sign_keys *k, FILE *out);

/* Signs z in place before it is published, taking over keys (freed with the zone).  old,
 * the version being replaced or NULL, lends the RRSIGs of RRsets that did not change when
 * it was signed with the same keys, policy and denial and is not due for refresh.  False
 * with the reason in d (the zone must not be served). */
bool sign_zone(struct zone *z, struct sign_keys *keys, const struct sign_policy *p, time_t now,
               const struct zone *old, struct diag *d) F_WUNUSED;

/* Frees what sign_zone attached (zone_release calls it). */
void zone_sec_free(struct zone_sec *s);

/* What a negative or wildcard answer must prove, and about which names. */
enum sign_deny_kind {
    SIGN_DENY_NXDOMAIN,    /* name does not exist; ce is its closest encloser */
    SIGN_DENY_NODATA,      /* node (name's, maybe an empty non-terminal) lacks the type */
    SIGN_DENY_WILD_NODATA, /* node is the wildcard that matched name, lacking the type */
    SIGN_DENY_WILD_ANSWER, /* a wildcard below ce answered for name */
    SIGN_DENY_NO_DS,       /* node is a delegation without DS */
};

struct sign_denial {
    enum sign_deny_kind kind;
    const uint8_t *name; /* lower-case wire, len bytes */
    size_t len;
    const struct node *node, *ce;
};

/* One record set of the proof, for the authority section, with its RRSIGs in set->sigs. */
struct sign_proof {
    const uint8_t *owner;
    const struct rrset *set;
};

#define SIGN_MAX_PROOFS 4

/* The NSEC or NSEC3 records proving q in signed zone z (RFC 4035 §3.1.3, RFC 5155 §7.2),
 * each once: returns how many were put in out. */
unsigned sign_deny(const struct zone *z, const struct sign_denial *q,
                   struct sign_proof out[SIGN_MAX_PROOFS]);

/* RFC 4035 §3.1.3.1 for a dynamic name that has no address of the asked family: when p
 * is n's own NSEC or NSEC3, that record with drop taken out of its type bitmap, in
 * struct rrset wire form in out (size bytes, 10 + 255 + 34 * 256 is enough), for
 * sign_cache_get to sign.  False when p is another name's record. */
bool sign_proof_without(const struct zone *z, const struct node *n, const struct sign_proof *p,
                        uint16_t drop, uint8_t *out, size_t size, size_t *len);

/* The node whose NSEC covers or matches name (lower-case wire): the last in canonical
 * order at or before it.  z must be signed with NSEC. */
const struct node *sign_nsec_covering(const struct zone *z, const uint8_t *name, size_t len);

/* Signs one RRset made at answer time (count records in struct rrset wire form, owned by
 * owner) into out, at most size bytes: RRSIG records in the same form.  Returns their
 * count, 0 on failure; *len gets their length.  Allocates: behind a sign_cache only. */
unsigned sign_rrset_wire(const struct zone *z, const uint8_t *owner, size_t ownerlen,
                         const uint8_t *wire, uint16_t count, uint8_t *out, size_t size,
                         size_t *len);

/* A thread's cache of signatures over answers made at query time (a region's addresses,
 * a DYNC's target): bounded, direct-mapped, keyed by zone signing, owner, type, TTL and
 * content; never shared between threads. */
struct sign_cache;
struct sign_cache *sign_cache_new(void) F_WUNUSED;
void sign_cache_free(struct sign_cache *c);

/* The RRSIGs over the RRset (as sign_rrset_wire takes it) of signed zone z: from the
 * cache (*made = 0), or made now and kept (*made = how many).  Valid until the next call;
 * NULL when signing failed. */
const struct rrset *sign_cache_get(struct sign_cache *c, const struct zone *z, const uint8_t *owner,
                                   size_t ownerlen, const uint8_t *wire, size_t wirelen,
                                   uint16_t count, unsigned *made);
