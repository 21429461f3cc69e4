/* scrape.h — the HTTP side of /metrics: one GET or HEAD per connection, each connection
 * bounded in bytes, in time for the whole exchange, and in number.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <event2/event.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "lib/strbuf.h"

/* Writes the body of GET /metrics into b; b->failed on failure. */
typedef void (*scrape_render_fn)(struct strbuf *b);

/* Serves render's text at /metrics on addr ("127.0.0.1:9153", "[::1]:9153").  -1 with
 * the reason in d. */
int scrape_start(struct event_base *base, const char *addr, scrape_render_fn render,
                 struct diag *d) F_WUNUSED;
void scrape_stop(void);
