/* tcp.h — DNS over TCP (RFC 7766) on a thread of its own.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* Listens on every address of c and starts the TCP thread.  Limits (idle timeout,
 * connection cap) come from c and are re-read with tcp_configure after a reload; the
 * process must have called evthread_use_pthreads() first.  -1 with the reason in d. */
int tcp_start(const struct config *c, struct diag *d) F_WUNUSED;
void tcp_configure(const struct config *c);

/* Open connections now. */
unsigned tcp_clients(void);

/* Stops the thread, then closes the listeners and every connection. */
void tcp_stop(void);
