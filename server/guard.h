/* guard.h — guard rails for operator changes: what a drain or a weight of 0 would leave
 * with no usable region.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "geoip/dyn.h"
#include "lib/strbuf.h"

/* Lists in out ("service web entry GB, service api") every service and map entry that has
 * a usable region now and would have none with w's regions taken out; returns how many. */
unsigned guard_breaks(const struct dyn *d, const struct dyn_without *w, struct strbuf *out);
