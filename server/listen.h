/* listen.h — opening the sockets queries arrive on.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* A UDP socket bound to l with SO_REUSEPORT, so that each worker has its own and the
 * kernel spreads datagrams over them.  A wildcard address gets IP_PKTINFO so replies
 * leave from the address they were sent to; rcvbuf sizes its receive buffer (0: the
 * kernel's default).  -1 with the reason in d. */
int listen_udp(const struct conf_listen *l, unsigned rcvbuf, struct diag *d) F_WUNUSED;

/* A listening TCP socket bound to l, non-blocking.  -1 with the reason in d. */
int listen_tcp(const struct conf_listen *l, unsigned backlog, struct diag *d) F_WUNUSED;

/* True when l is 0.0.0.0 or ::. */
bool listen_is_wildcard(const struct conf_listen *l);
