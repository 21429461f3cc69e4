/* zonefile.h — loading one zone from RFC 1035 master files.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/zonedb.h"

/* Parses the master file at path (and what it includes) as the zone whose name is origin
 * (lower-case wire) and builds it.  Returns NULL after reporting every problem to d as
 * "file:line: error: …". */
struct zone *zone_load(const char *path, const uint8_t *origin, const struct zone_load_opts *o,
                       struct diag *d) F_WUNUSED;
