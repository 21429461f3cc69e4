/* fleethealth.h — health by consensus: the live nodes and their views of each address, as
 * the last snapshot of etcd showed them, and the verdict every node answers from.
 * Internal to server/fleet/.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/strbuf.h"
#include "server/conf.h"
#include "server/fleet/fleetstate.h"

/* Keeps the FS_NODE and FS_HEALTH entries of a snapshot (copied) as the fleet's view. */
void fleethealth_take(const struct fleetstate_entry *e, size_t n);
/* Forgets the fleet's view (etcd is away): the verdict is this node's own probes', and a
 * node that was isolated is no longer (it says so).  fleethealth_forget does it silently,
 * at exit. */
void fleethealth_away(void);
void fleethealth_forget(void);

/* Sets every probed address to the verdict: down when at least quorum of the live nodes
 * see it down; this node's own view where no live node reported it.  Logs each change, and
 * whether this node is isolated: it has seen every address down for hold_ms while another
 * live node sees one up.  True when an address changed. */
bool fleethealth_decide(const char *self, enum fleet_quorum q, unsigned count, unsigned hold_ms);

/* request_put operations for a txn: this node's view of every probed address, under the
 * lease.  A new JSON array. */
json_object *fleethealth_puts(const char *prefix, const char *self, long long lease);

bool fleethealth_isolated(void);
size_t fleethealth_live(void);
/* Status: the live nodes, each node's view of each address and the verdict. */
void fleethealth_status(struct strbuf *out, bool json);
