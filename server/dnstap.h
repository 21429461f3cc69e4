/* dnstap.h — the optional dnstap output (dnstap.info): every query and its response as
 * dnstap frames (Frame Streams, content type "protobuf:dnstap.Dnstap") over a Unix socket
 * or to a file.  Workers copy each exchange into a lock-free ring of their own and one
 * thread encodes and writes, so the answer path never waits; exchanges that do not fit
 * are counted and dropped.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/answer.h"

struct dnstap_ring;

/* A ring for one answering thread (its only producer); NULL when out of memory. */
struct dnstap_ring *dnstap_ring_new(void) F_WUNUSED;

/* Queues one exchange: the query as received, the response as sent, the client and what
 * the answer was.  Never blocks. */
void dnstap_push(struct dnstap_ring *r, const uint8_t *query, size_t qlen, const uint8_t *resp,
                 size_t rlen, const struct sockaddr *client, const struct answer_info *info,
                 bool tcp);

/* Whether exchanges are being recorded at all (one relaxed load). */
bool dnstap_enabled(void);

/* Writes to dest from now on: a Unix socket when unix_socket, else a file; NULL turns the
 * output off.  Called again after a reload.  Exchanges queue in the rings until
 * dnstap_start has let the writer connect.  -1 with the reason in d. */
int dnstap_configure(const char *dest, bool unix_socket, struct diag *d) F_WUNUSED;

/* Lets the writer thread open its destination: call once privileges are dropped. */
int dnstap_start(struct diag *d) F_WUNUSED;

/* Messages (two per exchange) written so far, and messages dropped: their ring was full,
 * or the destination would not take them. */
uint64_t dnstap_written(void);
uint64_t dnstap_dropped(void);

/* Stops the writer after writing what is queued. */
void dnstap_shutdown(void);
