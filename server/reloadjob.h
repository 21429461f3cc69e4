/* reloadjob.h — reading the config and every zone for a reload on a thread of its own, so
 * that the main loop keeps probing and answering the control socket meanwhile.  The new
 * view is handed to the main loop, which alone publishes it.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <event2/event.h>
#include <stdbool.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/view.h"

/* Called on the main loop when a job is over: v is the new view (NULL when the config
 * failed), d what the load said; both become the callee's. */
typedef void (*reloadjob_done_fn)(struct view *v, struct diag *d);

/* Starts the thread, which waits for jobs; after root is dropped.  -1 on failure. */
int reloadjob_init(struct event_base *base, reloadjob_done_fn done) F_WUNUSED;

/* Starts loading path on that thread, keeping zones of old (the current view, which must
 * stay current until done is called) that fail.  -1 when a job is under way already. */
int reloadjob_start(const char *path, const struct view *old) F_WUNUSED;
bool reloadjob_running(void);

/* Waits for a job under way, throws its result away and ends the thread; at exit. */
void reloadjob_shutdown(void);
