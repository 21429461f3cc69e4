/* fleetcore.h — what the sync cycle (fleet.c) lends the control commands (fleetcmd.c).
 * Internal to server/fleet/.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "server/fleet/etcd.h"
#include "server/fleet/fleetstate.h"

struct etcd *fleet_client(void);
const char *fleet_prefix(void);
/* A command committed at revision rev: reads of etcd older than it are stale. */
void fleet_committed(long long rev);
/* Writes the state file, logging (not failing) when it cannot. */
void fleet_save(const char *why);
