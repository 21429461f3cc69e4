/* latency.h — the measured round-trip table of a `latency` service: for a client network or
 * country, every region with its RTT, fastest first.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* The file (latency_table: in a service) is CSV, one row per line:
 *
 *     # key,region,rtt_ms        (an optional header line "key,region,rtt_ms" may come first)
 *     198.51.100.0/24,eu-west-1,12.5
 *     2001:db8::/32,us-east-1,80
 *     GB,eu-west-1,9
 *
 * KEY is a network in CIDR notation (IPv4 or IPv6; a bare address is a network of one) or an
 * upper-case ISO 3166-1 country code; REGION a region from the config; RTT_MS the round trip
 * in milliseconds, a non-negative decimal number.  Blank lines and lines starting with # are
 * ignored, as is white space around fields.  Each KEY and REGION pair appears at most once.
 * IPv4-mapped networks (::ffff:a.b.c.d/n, n >= 96) are kept as the IPv4 networks they are. */
struct latency_table;

/* Loads path, resolving region names in c.  NULL with every problem in d as
 * "path:line: error: …". */
struct latency_table *latency_load(const char *path, const struct config *c,
                                   struct diag *d) F_WUNUSED;
void latency_free(struct latency_table *t);

struct latency_row {
    unsigned region; /* index into config.regions */
    float rtt_ms;
};

/* The rows for a client: those of the longest network that contains the first `bits` bits of
 * addr (as nettree_lookup; callers unmap IPv4-mapped addresses) if any, else those of country
 * (which may be NULL or ""), else none.  Rows come fastest first, ties in config region order.
 * Returns the row count and sets *rows (NULL when none); *prefix gets the matched network's
 * prefix length, or 0 for a country or no match.  Does not allocate. */
size_t latency_lookup(const struct latency_table *t, int family, const uint8_t *addr, unsigned bits,
                      const char *country, const struct latency_row **rows, unsigned *prefix);

/* Rows loaded, for the summary of `meridiand -t`. */
size_t latency_count(const struct latency_table *t);

/* The longest table network inside addr/prefix, 0 when none (see nettree_deepest_within). */
unsigned latency_deepest_within(const struct latency_table *t, int family, const uint8_t *addr,
                                unsigned prefix);
