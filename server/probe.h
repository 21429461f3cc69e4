/* probe.h — health probes for every address of every region that names a check.
 * SPDX-License-Identifier: MIT */
#pragma once

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
int64_t probe_now_ms(void);
