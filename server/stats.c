/* stats.c — the registry of per-worker counter blocks.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 1100

static struct stats *blocks[MAX_BLOCKS];
static unsigned nblocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* registration only */

struct stats *stats_new(void)
{
    struct stats *s = aligned_alloc(CACHE_LINE, sizeof(*s));
    if (!s)
        return NULL;
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&lock);
    if (nblocks == MAX_BLOCKS) {
        pthread_mutex_unlock(&lock);
        free(s);
        return NULL;
    }
    blocks[nblocks++] = s;
    pthread_mutex_unlock(&lock);
    return s;
}

static void add(_Atomic uint64_t *to, _Atomic uint64_t *from)
{
    atomic_store_explicit(to,
                          atomic_load_explicit(to, memory_order_relaxed) +
                              atomic_load_explicit(from, memory_order_relaxed),
                          memory_order_relaxed);
}

void stats_sum(struct stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&lock);
    for (unsigned b = 0; b < nblocks; b++) {
        struct stats *s = blocks[b];
        for (int p = 0; p < PROTO_COUNT; p++)
            add(&out->queries[p], &s->queries[p]);
        for (int r = 0; r < STATS_RCODES; r++)
            add(&out->rcode[r], &s->rcode[r]);
        add(&out->truncated, &s->truncated);
        add(&out->dropped, &s->dropped);
        add(&out->fail_open, &s->fail_open);
        add(&out->rrl_dropped, &s->rrl_dropped);
        add(&out->rrl_slipped, &s->rrl_slipped);
    }
    pthread_mutex_unlock(&lock);
}

void stats_free_all(void)
{
    pthread_mutex_lock(&lock);
    for (unsigned b = 0; b < nblocks; b++)
        free(blocks[b]);
    nblocks = 0;
    pthread_mutex_unlock(&lock);
}
