/* daemon.h — the running server: the main event loop with its TCP listeners, signals,
 * reloads and the reclaiming of replaced views; UDP workers beside it.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/view.h"

#include <stdint.h>

/* Serves v (already loaded from conf_path) until SIGTERM or SIGINT; returns the exit
 * status. */
int daemon_run(const char *conf_path, struct view *v) F_WUNUSED;

/* Reloads config and zones from the config file on a thread of its own; the main loop
 * keeps running meanwhile.  When it is over, on the main loop, fn(arg, rc, text): rc 0
 * when everything loaded, 1 when the new config is serving but some zone kept its
 * previous version, -1 when nothing changed; text holds the details, a line each.  A
 * request made during a reload is served by the one after it.  -1 when it cannot start. */
typedef void (*reload_done_fn)(void *arg, int rc, const char *text);
int daemon_reload_start(reload_done_fn fn, void *arg) F_WUNUSED;
/* arg is going away: its fn is not called. */
void daemon_reload_forget(void *arg);

/* Reloads one zone from its file, keeping the config.  0, or -1 with the reason in d
 * while the zone's previous version keeps serving. */
int daemon_reload_zone(const char *zone, struct diag *d) F_WUNUSED;

/* The one-line verdict on a reload that returned rc: "reload done", "reload done with
 * errors: …" or "reload failed: …". */
const char *daemon_reload_verdict(int rc);

/* Runs after anything that may change which regions answer (a probe result, a reload, a
 * control command, a shift step): logs fail open as it starts and ends.  Main loop only. */
void daemon_state_changed(void);

/* Reload outcomes since start, for metrics. */
struct reload_stats {
    uint64_t ok, partial, failed;
    int64_t last_success_ms; /* wall clock */
};
void daemon_reload_stats(struct reload_stats *out);
