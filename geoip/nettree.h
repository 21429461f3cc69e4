/* nettree.h — longest-prefix match over IPv4 and IPv6 networks, for geoip.nets and the
 * networks of a latency table.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

/* A set of networks, each with a caller's non-NULL value.  IPv4 and IPv6 are separate trees:
 * an IPv4-mapped address ::ffff:a.b.c.d never matches an IPv4 network here, so callers unmap it
 * first and look up a.b.c.d as AF_INET (with bits - 96).  Built by one thread; once built, any
 * number of threads may look up at once. */
struct nettree;

struct nettree *nettree_new(void) F_WUNUSED;
void nettree_free(struct nettree *t);

/* Adds network addr/prefix (AF_INET: 4 address bytes, prefix <= 32; AF_INET6: 16 bytes,
 * prefix <= 128; anything else is a caller bug and asserts) with value.  Host bits past the
 * prefix are ignored.  Returns 0, -1 if that exact network is already present (its value is
 * left unchanged), -2 out of memory (the tree is unchanged). */
int nettree_add(struct nettree *t, int family, const uint8_t *addr, unsigned prefix,
                const void *value) F_WUNUSED;

/* The value of the longest network that contains the first `bits` bits of addr, or NULL.
 * bits (at most 32 or 128) is what is known of the address — an ECS source prefix — so a
 * network longer than bits never matches.  *prefix (if prefix is not NULL) gets that network's
 * prefix length, or 0.  Does not allocate. */
const void *nettree_lookup(const struct nettree *t, int family, const uint8_t *addr, unsigned bits,
                           unsigned *prefix);

/* Networks added. */
size_t nettree_count(const struct nettree *t);

/* Records, for nettree_deepest_within, the longest network under every node.  Call after
 * the last nettree_add. */
void nettree_seal(struct nettree *t);

/* The prefix length of the longest network that lies inside addr/prefix (0 when none).
 * An ECS scope must reach at least that far: a shorter one would let a resolver reuse the
 * answer for clients that one of those networks sends elsewhere. */
unsigned nettree_deepest_within(const struct nettree *t, int family, const uint8_t *addr,
                                unsigned prefix);
