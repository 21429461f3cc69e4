/* view.h — the snapshot queries are answered from (config, zones, dynamic data), and the
 * quiescent-state scheme that lets workers read it without locks: a worker announces
 * the generation it has seen each time it holds no reference, and a replaced snapshot is
 * freed once every worker has moved past it.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "server/conf.h"
#include "zones/answer.h"
#include "zones/zonedb.h"

struct view {
    struct config *conf;
    struct zonedb *db;
    struct dyn *dyn;
    struct answer_env env;
    /* Whether conf and dyn are freed with this view.  A view that reloads one zone takes
     * them over from its predecessor, which is always freed first. */
    bool owns_core;
};

/* One per thread that reads views outside the main loop; on its own cache line. */
struct view_reader {
    _Alignas(CACHE_LINE) _Atomic uint64_t seen;
    atomic_bool active;
};

/* Frees every part of v. */
void view_free(struct view *v);

/* The reader registry; at most VIEW_MAX_READERS readers. */
#define VIEW_MAX_READERS 1024
struct view_reader *view_reader_new(void) F_WUNUSED;
void view_reader_delete(struct view_reader *r);

/* Called by a reader whenever it holds no view: every earlier view may then go. */
void view_quiesce(struct view_reader *r);

/* The current view; valid for a reader until its next view_quiesce, and for the main
 * loop until it returns to the event loop. */
struct view *view_current(void);

/* Makes v current.  The previous view is retired and freed by view_reclaim once no
 * reader can hold it. */
void view_publish(struct view *v);

/* Frees retired views no reader can see any more; returns how many remain retired. */
unsigned view_reclaim(void);

/* Unpublishes and frees everything at shutdown, after the readers have stopped. */
void view_shutdown(void);
