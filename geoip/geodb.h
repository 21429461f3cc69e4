/* geodb.h — GeoIP databases (libmaxminddb): the GeoIP2/GeoLite2 schema and the flat
 * schemas of DB-IP and ip-location-db, told apart by the database's metadata, with every
 * field path overridable in the config.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* What a database says about a place.  Codes are upper-case and NUL-terminated; empty
 * when the database does not say. */
struct place {
    char continent[3];
    char country[3];
    char subdivision[32]; /* ISO 3166-2 part after the dash ("CA" of US-CA), or as stored */
    bool has_coords;
    float lat, lon; /* degrees */
};

struct geodb;

/* Opens every database of the config.  NULL with the reasons in d. */
struct geodb *geodb_open(const struct conf_geoip *g, struct diag *d) F_WUNUSED;
void geodb_close(struct geodb *g);
unsigned geodb_count(const struct geodb *g);
/* "GeoLite2-City (GeoIP2 schema)" and the like, for logs and explain. */
const char *geodb_describe(const struct geodb *g, unsigned i);

/* One database's verdict on an address (family AF_INET or AF_INET6).  prefix is the
 * length of the network that holds the address, in that family's bits, even when the
 * database has no record for it (an empty network still has a size).  found tells
 * whether a record exists; record identifies it within database db (for caching). */
struct geodb_hit {
    bool found;
    unsigned db;
    uint8_t prefix;
    uint32_t record;
};

/* Looks addr up in the databases in order; the first that holds a record wins.  The
 * prefix is the longest network seen on the way, so that it holds for every database
 * asked, the empty networks of those without a record included. */
struct geodb_hit geodb_lookup(const struct geodb *g, int family, const uint8_t *addr);

/* A step through one database's search tree, for walking it whole (compile.c): a node
 * to go on from, a record, an empty network, or nothing (the database has no tree for
 * the family, or it is damaged there: lookups skip the database alike). */
enum geodb_step { GEODB_NONE, GEODB_NODE, GEODB_RECORD, GEODB_EMPTY };
struct geodb_cursor {
    uint8_t step;   /* enum geodb_step */
    uint32_t value; /* NODE: node number; RECORD: the record, as geodb_hit.record */
};

/* Where database db's walk for family starts (the root, or ::/96 for IPv4 in an IPv6
 * tree). */
struct geodb_cursor geodb_start(const struct geodb *g, unsigned db, int family);
/* The cursor one bit further down; anything but a node stays where it is. */
struct geodb_cursor geodb_down(const struct geodb *g, unsigned db, struct geodb_cursor c,
                               unsigned bit);

/* Reads the place out of a record found by geodb_lookup. */
void geodb_place(const struct geodb *g, const struct geodb_hit *h, struct place *out);

/* Writes the record as indented text (for explain); returns bytes written. */
size_t geodb_dump(const struct geodb *g, const struct geodb_hit *h, char *buf, size_t size);
