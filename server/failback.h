/* failback.h — failover services with `failback: manual`: once traffic fails over for
 * health, it is held on the region it moved to, even after the primary recovers, until
 * `meridianctl failback`.  The hold is kept in the state file.  Main loop only.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "lib/compiler.h"
#include "server/view.h"

/* Sets, moves or drops each manual service's hold after a change of health or state. */
void failback_check(void);

/* The region (config index) service si's traffic is held on, or -1. */
int failback_held(const struct view *v, unsigned si);

/* Sends service's traffic back to the first usable region of its order.  0 with what was
 * done in msg; -1 with the reason in msg. */
int failback_release(const char *service, char *msg, size_t size) F_WUNUSED;
