/* probe.h — health probes for every address of every region that names a check.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "lib/compiler.h"
#include "server/conf.h"

/* Called on the loop after any address changed state. */
typedef void (*probe_change_fn)(void);

int probe_init(struct event_base *base, probe_change_fn on_change) F_WUNUSED;
void probe_shutdown(void);

/* Makes the running probes match config c: new addresses and changed checks start
 * probing, removed ones stop; state is kept per region and address across reloads. */
void probe_sync(const struct config *c);

unsigned probe_count(void);

/* In a fleet, the fleet's verdict sets each address's state: probes keep their own view,
 * which probe_each reports, and no longer set it.  Turned off, each address takes its own
 * probes' view again at once. */
void probe_set_external_verdict(bool on);

struct addr_state;
/* Visits every probed address with this node's own view of it. */
typedef void (*probe_visit_fn)(void *ctx, const char *region, const char *addr, bool up,
                               struct addr_state *st);
void probe_each(probe_visit_fn fn, void *ctx);

/* Probes leave from this local address (NULL or "": wherever the kernel routes them). */
void probe_set_source(const char *addr);
int64_t probe_now_ms(void);
