/* signint.h — inside zones/sign/ only: the loaded keys, their roles, and helpers the
 * signer and the answer-time signer share.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "zones/sign/sign.h"

#include <ldns/ldns.h>

struct sign_key {
    ldns_key *key;   /* the private key, owner and flags set from the .key file */
    ldns_rr *dnskey; /* as the .key file holds it */
    uint16_t tag, flags;
    uint8_t algorithm;
    enum sign_key_state state;
    bool signs_keys, signs_zone; /* its role, from the SEP flags of all the active keys */
};

struct sign_keys {
    struct sign_key k[SIGN_MAX_KEYS];
    unsigned n;
};

/* RFC 4034 §6.1 order of two lower-case wire names: <0, 0, >0. */
int sign_canon_cmp(const uint8_t *a, const uint8_t *b);

/* The ldns form of count records in struct rrset wire form, owned by owner; NULL when
 * out of memory or the wire is not what it should be. */
ldns_rr_list *sign_to_ldns(const uint8_t *owner, size_t ownerlen, const uint8_t *wire,
                           uint16_t count);

/* The keys of one role as ldns wants them (not owning them). */
ldns_key_list *sign_key_list(const struct sign_keys *k, bool keyset);
void sign_key_list_free(ldns_key_list *l);

/* One record of rr in struct rrset wire form into out; its length, 0 when it does not
 * fit.  sign_list_wire: every record of l, one after another. */
size_t sign_rr_wire(const ldns_rr *rr, uint8_t *out, size_t size);
size_t sign_list_wire(const ldns_rr_list *l, uint8_t *out, size_t size);

/* The NSEC3 entry whose hash is h, or NULL; the one covering h (the chain wraps). */
const struct sign_nsec3 *sign_n3_match(const struct zone_sec *s, const uint8_t *h);
const struct sign_nsec3 *sign_n3_cover(const struct zone_sec *s, const uint8_t *h);

/* The NSEC3 hash of a lower-case wire name with this server's parameters. */
void sign_nsec3_hash(const uint8_t *name, size_t len, uint8_t hash[SIGN_NSEC3_HASH]);

/* ---- the zone signer's parts, shared by zonesign.c and nsec3.c ---- */

#define SIGN_BUF 65536

struct signer {
    struct zone *z;
    struct node *nodes; /* z->nodes, ours to change until the zone is published */
    struct zone_sec *sec;
    ldns_key_list *keyset, *zoneset;
    uint8_t *buf;           /* SIGN_BUF bytes of scratch */
    struct arena *arena;    /* where signatures go: the zone's, or a signing thread's */
    uint64_t signatures;    /* made by this signer */
    uint64_t reused;        /* RRSIGs taken over from the previous version */
    const struct zone *old; /* the previous version, when its signatures may be reused */
    struct diag *d;
};

/* A new RRset of n records whose rdata are rd[i] (len[i] bytes), in the zone's arena. */
const struct rrset *signer_rrset(struct signer *s, uint16_t type, uint32_t ttl,
                                 const uint8_t *const *rd, const size_t *len, unsigned n);
/* Appends sets to node n's RRsets, after the ones it has. */
bool signer_append(struct signer *s, struct node *n, const struct rrset *const *add, unsigned nadd);
/* The types an NSEC (or NSEC3) at n lists, extra included: RFC 4035 §2.3, RFC 5155 §7.1. */
unsigned signer_node_types(const struct node *n, const struct rrset *const *extra, unsigned nextra,
                           bool nsec3, uint16_t *types);
/* RFC 4034 §4.1.2: the type bitmap of the n types (sorted here) into out; its length. */
size_t signer_bitmap(uint16_t *types, unsigned n, uint8_t *out);
/* The RRSIGs over set, owned by owner, by the keys of its role; NULL on failure. */
const struct rrset *signer_sign(struct signer *s, const uint8_t *owner, size_t ownerlen,
                                const struct rrset *set);
/* RFC 5155 §7.1: the NSEC3 chain over every name not below a cut, empty non-terminals
 * included, into s->sec->n3 by hash; sign_zone signs it with the rest. */
bool sign_nsec3_chain(struct signer *s);
