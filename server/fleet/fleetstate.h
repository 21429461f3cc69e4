/* fleetstate.h — the fleet's key layout in etcd, and the meaning of each value.  Every key
 * lives under the configured prefix (default /meridian/):
 *
 *   PREFIX/state/weight/SERVICE/REGION    "0".."1000000"  the region's weight in the service
 *   PREFIX/state/drain/REGION             "1" (or "0")    the region out of every service
 *   PREFIX/state/drain/REGION/SERVICE     "1" (or "0")    the region out of one service
 *   PREFIX/nodes/NODE                     "alive"         under NODE's lease: NODE is alive
 *   PREFIX/health/NODE/REGION/ADDRESS     "up" | "down"   under NODE's lease: NODE's probes
 *
 * Names are 1 to 253 characters of [A-Za-z0-9_.-]; values are ASCII without spaces or a
 * trailing newline.  A key that breaks the layout or a value that breaks its rule is
 * malformed: it is logged and ignored, whatever else it says.  Internal to server/fleet/.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/compiler.h"

#define FLEETSTATE_NAME_MAX 253

enum fleetstate_kind { FS_WEIGHT, FS_DRAIN, FS_NODE, FS_HEALTH };

/* What one key says once parsed. */
struct fleetstate_entry {
    enum fleetstate_kind kind;
    char node[FLEETSTATE_NAME_MAX + 1];    /* FS_NODE, FS_HEALTH */
    char service[FLEETSTATE_NAME_MAX + 1]; /* FS_WEIGHT; FS_DRAIN: "" for every service */
    char region[FLEETSTATE_NAME_MAX + 1];  /* FS_WEIGHT, FS_DRAIN, FS_HEALTH */
    char address[48];                      /* FS_HEALTH */
    long weight;                           /* FS_WEIGHT */
    bool on;                               /* FS_DRAIN: drained; FS_HEALTH: up */
};

/* Parses key (the prefix already taken off) and its value.  0; 1 for a key outside the
 * layout's folders (left alone, not an error: later versions may add some); with the
 * reason in err, -1 for a malformed key, -2 for a malformed value of a well-formed key
 * (out then names what the key is about, so its last good value can be kept). */
int fleetstate_parse(const char *key, const char *value, struct fleetstate_entry *out, char *err,
                     size_t errsize) F_WUNUSED;

/* The full keys.  service may be NULL for a drain of every service. */
void fleetstate_weight_key(char *buf, size_t size, const char *prefix, const char *service,
                           const char *region);
void fleetstate_drain_key(char *buf, size_t size, const char *prefix, const char *region,
                          const char *service);
void fleetstate_node_key(char *buf, size_t size, const char *prefix, const char *node);
void fleetstate_health_key(char *buf, size_t size, const char *prefix, const char *node,
                           const char *region, const char *address);
