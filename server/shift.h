/* shift.h — gradual weight shifts: a weighted service's weights move toward a target in
 * steps on a main-loop timer, and go back to where they started if a region gaining
 * traffic turns unhealthy or the service starts failing open.  The plan is kept in the
 * state file (state.h's struct state_shift), so a restart resumes it.  Main loop only.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/strbuf.h"

struct event_base;

/* Starts the timer and resumes the plans the state file brought back. */
int shift_init(struct event_base *base) F_WUNUSED;
void shift_shutdown(void);

/* Starts a shift of service: regions[i] toward to[i], at most step per region every
 * every_ms.  force: even where the target leaves a service or entry without a usable
 * region.  0 with what was done in msg; -1 with the reason in msg. */
int shift_start(const char *service, unsigned n, char regions[][256], const int64_t *to,
                uint32_t step, uint64_t every_ms, bool force, char *msg, size_t size) F_WUNUSED;

/* "pause", "resume" or "abort" (back to the starting weights) service's shift. */
int shift_control(const char *verb, const char *service, char *msg, size_t size) F_WUNUSED;

/* Every plan, or service's only, with its state, weights and last outcome. */
void shift_status(struct strbuf *out, bool json, const char *service);

/* One line on service's shifts for status ("running, 2 step(s), 0 rollback(s); last: …"),
 * and the state ("running", "paused", "idle"); false when it never had one. */
bool shift_summary(const char *service, char *buf, size_t size, const char **state);

/* Rolls back each shift whose gaining region turned unhealthy or whose service fails open. */
void shift_check(void);

/* True when service has a running (not paused) shift: a manual weight must wait. */
bool shift_running(const char *service);

/* For metrics: each service that ever had a shift, with steps and rollbacks so far and
 * whether one runs now. */
typedef void (*shift_metric_fn)(void *ctx, const char *service, bool running, uint64_t steps,
                                uint64_t rollbacks);
void shift_each(shift_metric_fn fn, void *ctx);
