/* treejump.h — the first sixteen bits of a MaxMind DB search tree in one step: a table
 * of where each /16 of a family leads, so that a lookup walks only the bits past it.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <maxminddb.h>

#include "lib/compiler.h"

struct treejump;

/* The table for family (AF_INET or AF_INET6) of m.  NULL when the database has no such
 * tree (IPv6 in an IPv4 database) or its tree is damaged: lookups then go through
 * libmaxminddb alone. */
struct treejump *treejump_build(const MMDB_s *m, int family) F_WUNUSED;
void treejump_free(struct treejump *t);

/* What MMDB_lookup_sockaddr says about an address, with the netmask counted in the
 * family's own bits (an IPv4 address in an IPv6 tree counts from its ::/96 start). */
struct treejump_result {
    bool ok;    /* false: the tree is damaged below the table */
    bool found; /* a record holds the address; offset is its data-section offset */
    uint8_t netmask;
    uint32_t offset;
};

struct treejump_result treejump_lookup(const struct treejump *t, const MMDB_s *m,
                                       const uint8_t *addr);
