/* stats.h — query counters.  Each worker owns one block and is its only writer, with
 * plain (non-locking) relaxed stores; readers sum the blocks when asked.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "zones/answer.h"

enum proto { PROTO_UDP, PROTO_TCP, PROTO_COUNT };

#define STATS_RCODES 24

struct stats {
    _Alignas(CACHE_LINE) _Atomic uint64_t queries[PROTO_COUNT];
    _Atomic uint64_t rcode[STATS_RCODES];
    _Atomic uint64_t truncated;
    _Atomic uint64_t dropped;   /* not answered: too short, a response, oversized */
    _Atomic uint64_t fail_open; /* dynamic answers given as if every region were up */
    _Atomic uint64_t rrl_dropped, rrl_slipped; /* UDP responses rate limited */
};

/* A single writer may increment without a locked instruction. */
static inline void stat_inc(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline void stats_count(struct stats *s, enum proto p, const struct answer_info *i)
{
    if (i->dropped) {
        stat_inc(&s->dropped);
        return;
    }
    stat_inc(&s->queries[p]);
    stat_inc(&s->rcode[i->rcode < STATS_RCODES ? i->rcode : STATS_RCODES - 1]);
    if (i->truncated)
        stat_inc(&s->truncated);
    if (i->fail_open)
        stat_inc(&s->fail_open);
}

/* A block for a new worker, registered for stats_sum; NULL when out of memory. */
struct stats *stats_new(void) F_WUNUSED;

/* Totals over every block ever registered. */
void stats_sum(struct stats *out);
void stats_free_all(void);
