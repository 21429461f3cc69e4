/* querylog.h — the optional query log: one line per query, written by its own thread from
 * per-worker lock-free rings, so a slow disk never slows answers; lines that do not fit
 * are counted and dropped, never waited for.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/answer.h"

struct querylog_ring;

/* A ring for one answering thread (its only producer); NULL when out of memory. */
struct querylog_ring *querylog_ring_new(void) F_WUNUSED;

/* Queues one query's line: the response in resp (for the question as the client wrote
 * it), the client, and what the answer was.  Never blocks. */
void querylog_push(struct querylog_ring *r, const uint8_t *resp, const struct sockaddr *client,
                   const struct answer_info *info, bool tcp);

/* Whether lines are being logged at all (one relaxed load). */
bool querylog_enabled(void);

/* Logs to path from now on (NULL: logging off); called again after a reload with the new
 * path.  Lines queue in the rings until querylog_start has let the writer open the file.
 * -1 with the reason in d. */
int querylog_configure(const char *path, struct diag *d) F_WUNUSED;

/* Lets the writer thread open the file and write: call once privileges are dropped. */
int querylog_start(struct diag *d) F_WUNUSED;

/* Closes and reopens the file at its path, after logrotate moved it (SIGUSR1). */
void querylog_reopen(void);

/* Lines dropped so far because a ring was full. */
uint64_t querylog_dropped(void);

/* Stops the writer after writing what is queued. */
void querylog_shutdown(void);
