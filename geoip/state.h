/* state.h — what changes while the server runs and outlives every reload: each address's
 * health (from probes), each region's drain, and per-service weights and drains (from the
 * control socket).  Entries are created by name when a config is loaded and never move,
 * so a view holds plain pointers to them; workers read them with relaxed atomic loads and
 * see a change on their next query, without a lock.  Only the main loop changes states;
 * entries are also created by the thread that builds a reload's view, under a lock that
 * covers finding and creating entries (never answering a query).
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/compiler.h"

#define STATE_RESULT_MAX 96

struct addr_state {
    atomic_bool up;
    atomic_bool suspect; /* up, but its last probe failed: answers carry ttl_degraded */
    /* Probe bookkeeping, main loop only. */
    unsigned fails, passes; /* consecutive */
    int64_t last_change_ms; /* wall clock, 0 = never changed */
    double latency_ms;      /* of the last probe */
    char last_result[STATE_RESULT_MAX];
    bool probed; /* at least one probe has finished */
};

struct region_state {
    atomic_bool drained;
};

/* One region within one service. */
/* Answer counters are kept per worker in arrays indexed by this pair's id, which never
 * changes: ids below STATE_MAX_PAIRS are counted, later ones are not. */
#define STATE_MAX_PAIRS 4096

struct svc_region_state {
    atomic_bool drained;
    _Atomic int64_t weight; /* -1: the config's weight */
    uint32_t id;            /* 0, 1, 2… in order of creation */
    atomic_bool held;       /* failback: manual: traffic is held on this region */
};

/* A gradual weight shift of one service (main loop only): every `every_ms` each region's
 * weight moves by at most `step` from where it is toward `to`; `from` is where it started,
 * for a rollback.  n == 0: no plan. */
#define STATE_SHIFT_MAX 16
#define STATE_NAME_MAX  253
struct state_shift {
    unsigned n;
    char regions[STATE_SHIFT_MAX][STATE_NAME_MAX + 1];
    int64_t from[STATE_SHIFT_MAX], to[STATE_SHIFT_MAX];
    uint32_t step;
    uint64_t every_ms;
    bool paused;
};

/* One service as a whole. */
struct service_state {
    atomic_bool shifting;      /* a shift runs: answers carry the service's ttl_degraded */
    struct state_shift *shift; /* NULL until the first plan (state_service_plan) */
};

/* Finds or creates an entry; NULL only when out of memory.  initial_up applies when the
 * address is first seen. */
struct addr_state *state_addr(const char *region, const char *addr, bool initial_up) F_WUNUSED;
struct region_state *state_region(const char *region) F_WUNUSED;
struct svc_region_state *state_svc_region(const char *service, const char *region) F_WUNUSED;
struct service_state *state_service(const char *service) F_WUNUSED;
/* The service's shift plan, allocated empty when it has none yet; NULL: out of memory. */
struct state_shift *state_service_plan(struct service_state *st) F_WUNUSED;

/* The names of pair id; false when no such pair was ever created. */
bool state_pair_names(uint32_t id, const char **service, const char **region);
uint32_t state_pair_count(void);

/* Looks up without creating; NULL when never created. */
struct region_state *state_region_find(const char *region);
struct svc_region_state *state_svc_region_find(const char *service, const char *region);
struct service_state *state_service_find(const char *service);

/* Visits every service/region pair, and every service, oldest first.  -1: out of memory. */
typedef void (*state_pair_fn)(void *ctx, const char *service, const char *region,
                              struct svc_region_state *st);
typedef void (*state_service_fn)(void *ctx, const char *service, struct service_state *st);
int state_each_pair(state_pair_fn fn, void *ctx) F_WUNUSED;
int state_each_service(state_service_fn fn, void *ctx) F_WUNUSED;

static inline bool state_up(const struct addr_state *a)
{
    return atomic_load_explicit(&a->up, memory_order_relaxed);
}

static inline bool state_drained(const struct region_state *r)
{
    return atomic_load_explicit(&r->drained, memory_order_relaxed);
}

/* Visits every operator decision in the registry: each drained region (service NULL),
 * and each service/region pair that is drained or has a weight set (weight -1: none). */
typedef void (*state_visit_fn)(void *ctx, const char *service, const char *region, bool drained,
                               int64_t weight);
int state_each_admin(state_visit_fn fn, void *ctx) F_WUNUSED; /* -1: out of memory */

/* Clears every drain, weight, hold and shift (before a state file is applied anew). */
void state_clear_admin(void);

/* Frees everything at exit, once no reader is left. */
void state_free_all(void);
