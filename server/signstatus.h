/* signstatus.h — what the control commands and metrics show of signed zones: keys, tags,
 * roles, the next refresh and the earliest expiry, and the DS records for the parent.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "lib/strbuf.h"
#include "server/view.h"

/* The signing state of every zone of v, for status: "zones:" lines, or a JSON array. */
void signstatus_zones(const struct view *v, struct strbuf *out, bool json);

/* The DS records of the served zone name (text, any case, trailing dot optional), one
 * per line; false with a sentence in out when it is not a served signed zone. */
bool signstatus_ds(const struct view *v, const char *name, struct strbuf *out);

/* Prometheus families: per-zone signatures made at signing, next refresh, earliest
 * expiry. */
void signstatus_metrics(const struct view *v, struct strbuf *out);
