/* zonebuild.h — turns a stream of records into a struct zone: groups them into nodes and
 * RRsets, checks the zone's rules (SOA and NS at the apex, nothing outside the zone,
 * CNAME alone, DYNA/DYNC constraints) and lays every RRset out in wire form.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/zonedb.h"

struct zone_builder;

struct zone_builder *zb_new(const uint8_t *origin, const struct zone_load_opts *o,
                            struct diag *d) F_WUNUSED;

/* Adds one record (owner lower-case wire).  DYNA/DYNC carry the service name as rdata.
 * Problems are reported against file:line and make zb_finish fail. */
void zb_add(struct zone_builder *b, const uint8_t *owner, size_t ownerlen, uint16_t type,
            uint32_t ttl, const uint8_t *rdata, size_t rdlen, const char *file, unsigned line);

/* Interns a file name for the life of the build, for messages. */
const char *zb_file(struct zone_builder *b, const char *path);

/* Sizes the name table for about this many records (a hint from the file size). */
void zb_expect(struct zone_builder *b, size_t records);

/* Number of records accepted so far. */
size_t zb_count(const struct zone_builder *b);

/* Checks and builds the zone, freeing the builder; NULL when anything was wrong. */
struct zone *zb_finish(struct zone_builder *b, const char *file) F_WUNUSED;

/* Frees the builder unchecked: when the zone file could not be read at all, the zone's
 * rules ("needs an SOA") would only add noise to the one real error. */
void zb_discard(struct zone_builder *b);
