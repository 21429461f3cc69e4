/* control.h — the control socket meridianctl talks to (protocol in README.md).
 * SPDX-License-Identifier: MIT */
#pragma once

#include <event2/event.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* Listens on server.control (nothing to do when unset): mode 0660, the configured
 * group.  Fails when another running server owns the socket.  -1 with the reason in d. */
int control_start(struct event_base *base, const struct config *c, struct diag *d) F_WUNUSED;

/* Closes the socket and every client, and removes the socket file. */
void control_stop(void);
