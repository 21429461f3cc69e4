/* tcp.h — DNS over TCP (RFC 7766) on the main event loop.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <event2/event.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* Listens on every address of c.  Limits (idle timeout, connection cap) come from c and
 * are re-read with tcp_configure after a reload.  -1 with the reason in d. */
int tcp_start(struct event_base *base, const struct config *c, struct diag *d) F_WUNUSED;
void tcp_configure(const struct config *c);

/* Open connections now. */
unsigned tcp_clients(void);

/* Closes the listeners and every connection. */
void tcp_stop(void);
