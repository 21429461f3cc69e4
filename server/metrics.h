/* metrics.h — Prometheus metrics at http://server.metrics/metrics.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <event2/event.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* Serves /metrics on server.metrics (nothing when unset).  -1 with the reason in d. */
int metrics_start(struct event_base *base, const struct config *c, struct diag *d) F_WUNUSED;
void metrics_stop(void);
