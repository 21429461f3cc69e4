/* udp.h — the UDP query workers.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* Opens per_address sockets on every listen address of c, each served by its own
 * thread.  -1 with the reason in d (call udp_stop to clean up what did start). */
int udp_start(const struct config *c, unsigned per_address, struct diag *d) F_WUNUSED;

/* Stops every worker (within about 100 ms) and closes its socket. */
void udp_stop(void);
