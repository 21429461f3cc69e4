/* failopen.h — watching which services and map entries answer as if every region were up
 * (fail open), so that each start and end is logged once, whatever caused it: a probe, a
 * reload, a drain, a weight, a shift step.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

struct dyn;

/* Compares the current view's services and entries with the last check and logs each
 * change.  Main loop only. */
void failopen_check(void);

/* True when some entry of service (an index into d) fails open right now. */
bool failopen_service_any(const struct dyn *d, unsigned service);

/* Frees what the watch remembers, at exit. */
void failopen_free(void);
