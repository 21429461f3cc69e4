/* fleetapply.h — turning a read of the fleet's prefix into this node's weights and drains.
 * Internal to server/fleet/.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "server/fleet/fleetstate.h"

/* Parses one kv of a range reply (keys under prefix) into e; false when it is not one to
 * use.  A weight or drain whose value is malformed comes back with *bad set, so that its
 * last good value stays.  Malformed keys are logged, once per version. */
bool fleetapply_parse(json_object *kv, const char *prefix, struct fleetstate_entry *e, bool *bad);

/* Makes this node's weights and drains exactly what the n entries say (those with bad[i]
 * keep what they have).  True when anything changed. */
bool fleetapply_state(const struct fleetstate_entry *e, const bool *bad, size_t n);

/* Sets one weight or drain; true when it changed anything. */
bool fleetapply_one(const struct fleetstate_entry *e);

/* Writes the state file (the running config's, else fallback), logging why it could not. */
void fleetapply_save(const char *fallback, const char *why);
