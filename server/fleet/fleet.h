/* fleet.h — meridiand nodes acting as one through etcd: weights and drains live in etcd
 * and every node follows them; each node publishes its probes' view of every address, and
 * every node answers from the fleet's verdict.  When etcd is away a node keeps its last
 * state and its own probes.  This header is the whole contract of server/fleet/; the key
 * layout is in fleetstate.h.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "lib/compiler.h"
#include "lib/strbuf.h"
#include "server/conf.h"

typedef void (*fleet_change_fn)(void);

/* Before the first answer: joins the fleet when c has a fleet: section, reads the shared
 * state once (each endpoint bounded by the timeout) and applies it over the state file.  0
 * also when etcd is away (the node serves its last state); -1 when the client cannot be
 * set up.  Fleet settings are read here only: changing them takes a restart. */
int fleet_init(const struct config *c) F_WUNUSED;

/* Once the loop runs and probes are set up: keeps the node in sync on base.  on_change is
 * called after the fleet's verdict changed an address. */
int fleet_start(struct event_base *base, fleet_change_fn on_change) F_WUNUSED;
void fleet_shutdown(void);

/* After a reload to c: warns when its fleet: section differs from the one in use. */
void fleet_check_reload(const struct config *c);

/* True when this node is part of a fleet. */
bool fleet_active(void);

/* meridianctl weight/drain/undrain in a fleet: the change is committed to etcd with a
 * compare-and-swap on the key's revision, then applied here and saved to the state file.
 * 0 with the reply in msg, or -1 with the reason in msg when nothing was committed.
 * service may be NULL for a drain of every service.  Blocks the main loop for at most the
 * timeout per endpoint and try. */
int fleet_set_weight(const char *service, const char *region, long weight, char *msg,
                     size_t size) F_WUNUSED;
int fleet_set_drain(const char *region, const char *service, bool drain, char *msg,
                    size_t size) F_WUNUSED;

/* After this node's own probes changed their view of an address. */
void fleet_probe_changed(void);

/* The fleet's part of `status`: text lines, or a JSON member `, "fleet": {...}`. */
void fleet_status(struct strbuf *out, bool json);
/* meridian_fleet_* metrics in Prometheus text format. */
void fleet_metrics(struct strbuf *out);
