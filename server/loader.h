/* loader.h — building a complete view from the config file: the config itself, then every
 * zone it names.  Used at start-up, by `meridiand -t`, on SIGHUP and on `reload`.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/view.h"

/* Reads the config at path and loads its zones into a new view.  A zone that fails keeps
 * its version from old when old has one (so a bad edit never takes a zone off the air);
 * with strict, any failure fails the whole load.  NULL when the config itself is bad or
 * strict failed; every problem and a summary line per zone go to d. */
struct view *loader_load(const char *path, const struct view *old, bool strict,
                         struct diag *d) F_WUNUSED;

/* loader_load for `meridiand -t`: every problem at once.  Every zone the config names is
 * read even when the config or a GeoIP database has errors (zone checks that need the
 * services' regions are then left out).  NULL when anything failed. */
struct view *loader_check(const char *path, struct diag *d) F_WUNUSED;

/* A view like old with only zone name read anew from its file; the config stays.  NULL,
 * with the reason in d, when the zone is unknown or fails to load (old keeps serving).
 * On success the new view takes over old's config (old must be published away). */
struct view *loader_reload_zone(struct view *old, const char *name, struct diag *d) F_WUNUSED;

/* Prints the DS records of zone's key-signing keys from the config at path (zones are
 * not read); 0, or -1 with the reason in d. */
int loader_print_ds(const char *path, const char *zone, FILE *out, struct diag *d) F_WUNUSED;
