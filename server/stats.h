/* stats.h — query counters.  Each worker owns one block and is its only writer, with
 * plain (non-locking) relaxed stores; readers sum the blocks when asked.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "geoip/state.h"
#include "lib/compiler.h"
#include "zones/answer.h"

enum proto { PROTO_UDP, PROTO_TCP, PROTO_COUNT };

#define STATS_RCODES 24 /* 0–22 as themselves, everything above in the last */

/* Query types counted by name; the rest share the last slot. */
#define STATS_QTYPES 18
extern const char *const stats_qtype_names[STATS_QTYPES];

/* What each cookie_state is called in stats and metrics: "missing", "new", … */
extern const char *const stats_cookie_names[COOKIE_STATES];

struct stats {
    _Alignas(CACHE_LINE) _Atomic uint64_t queries[PROTO_COUNT][STATS_QTYPES][STATS_RCODES];
    _Atomic uint64_t truncated;
    _Atomic uint64_t dropped;   /* not answered: too short, a response, oversized */
    _Atomic uint64_t fail_open; /* dynamic answers given as if every region were up */
    _Atomic uint64_t rrl_dropped, rrl_slipped; /* UDP responses rate limited */
    _Atomic uint64_t cookies[COOKIE_STATES];   /* queries by what their cookie proved */
    _Atomic uint64_t sigs_made, sig_hits;      /* DNSSEC over dynamic answers (sign.h) */
    _Atomic uint64_t answers[STATE_MAX_PAIRS]; /* dynamic answers by service/region pair */
};

/* A single writer may increment without a locked instruction. */
static inline void stat_inc(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

extern const uint8_t stats_qtype_index[256]; /* qtype below 256 → slot + 1, or 0 */

static inline unsigned stats_qtype_slot(uint16_t qtype)
{
    if (qtype < 256 && stats_qtype_index[qtype])
        return stats_qtype_index[qtype] - 1u;
    return qtype == 257 ? STATS_QTYPES - 2 : STATS_QTYPES - 1; /* CAA, or other */
}

static inline void stats_count(struct stats *s, enum proto p, const struct answer_info *i)
{
    if (i->dropped) {
        stat_inc(&s->dropped);
        return;
    }
    unsigned rc = i->rcode < STATS_RCODES ? i->rcode : STATS_RCODES - 1;
    stat_inc(&s->queries[p][stats_qtype_slot(i->qtype)][rc]);
    stat_inc(&s->cookies[i->cookie]);
    if (i->truncated)
        stat_inc(&s->truncated);
    if (i->fail_open)
        stat_inc(&s->fail_open);
    if (i->pair >= 0 && i->pair < STATE_MAX_PAIRS)
        stat_inc(&s->answers[i->pair]);
    if (i->sigs_made)
        atomic_store_explicit(
            &s->sigs_made, atomic_load_explicit(&s->sigs_made, memory_order_relaxed) + i->sigs_made,
            memory_order_relaxed);
    if (i->sig_hits)
        stat_inc(&s->sig_hits);
}

/* A block for a new worker, registered for stats_sum; NULL when out of memory. */
struct stats *stats_new(void) F_WUNUSED;

/* Totals over every block ever registered, into a block from stats_new_total. */
struct stats *stats_new_total(void) F_WUNUSED;
void stats_sum(struct stats *out);
void stats_free_total(struct stats *s);
void stats_free_all(void);

/* Sums over one dimension of out->queries. */
uint64_t stats_queries(const struct stats *s, int proto, int qtype_slot, int rcode);
