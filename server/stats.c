/* stats.c — the registry of per-worker counter blocks.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 1100

const char *const stats_qtype_names[STATS_QTYPES] = {
    "A",     "NS", "CNAME",  "SOA",  "PTR",  "MX",    "TXT", "AAAA", "SRV",
    "NAPTR", "DS", "DNSKEY", "TLSA", "SVCB", "HTTPS", "ANY", "CAA",  "other"};

const char *const stats_cookie_names[COOKIE_STATES] = {"missing", "new", "valid", "invalid"};

/* One more than the slot of each query type below 256 that has its own (the order of
 * stats_qtype_names); 0 for the rest. */
const uint8_t stats_qtype_index[256] = {
    [1] = 1,  [2] = 2,   [5] = 3,   [6] = 4,   [12] = 5,  [15] = 6,  [16] = 7,  [28] = 8,
    [33] = 9, [35] = 10, [43] = 11, [48] = 12, [52] = 13, [64] = 14, [65] = 15, [255] = 16,
};

static struct stats *blocks[MAX_BLOCKS];
static unsigned nblocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* registration only */

static struct stats *block_alloc(void)
{
    struct stats *s = aligned_alloc(CACHE_LINE, sizeof(*s));
    if (s)
        memset(s, 0, sizeof(*s));
    return s;
}

struct stats *stats_new(void)
{
    struct stats *s = block_alloc();
    if (!s)
        return NULL;
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

struct stats *stats_new_total(void)
{
    return block_alloc();
}

void stats_free_total(struct stats *s)
{
    free(s);
}

static void add_all(_Atomic uint64_t *to, _Atomic uint64_t *from, size_t n)
{
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&to[i],
                              atomic_load_explicit(&to[i], memory_order_relaxed) +
                                  atomic_load_explicit(&from[i], memory_order_relaxed),
                              memory_order_relaxed);
}

#define COUNT_OF(field) (sizeof(field) / sizeof(_Atomic uint64_t))

void stats_sum(struct stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&lock);
    for (unsigned b = 0; b < nblocks; b++) {
        struct stats *s = blocks[b];
        add_all(&out->queries[0][0][0], &s->queries[0][0][0], COUNT_OF(s->queries));
        add_all(&out->truncated, &s->truncated, 1);
        add_all(&out->dropped, &s->dropped, 1);
        add_all(&out->fail_open, &s->fail_open, 1);
        add_all(&out->rrl_dropped, &s->rrl_dropped, 1);
        add_all(&out->rrl_slipped, &s->rrl_slipped, 1);
        add_all(out->cookies, s->cookies, COUNT_OF(s->cookies));
        add_all(&out->sigs_made, &s->sigs_made, 1);
        add_all(&out->sig_hits, &s->sig_hits, 1);
        add_all(out->answers, s->answers, COUNT_OF(s->answers));
    }
    pthread_mutex_unlock(&lock);
}

uint64_t stats_queries(const struct stats *s, int proto, int qtype_slot, int rcode)
{
    uint64_t n = 0;
    for (int p = 0; p < PROTO_COUNT; p++)
        for (int t = 0; t < STATS_QTYPES; t++)
            for (int r = 0; r < STATS_RCODES; r++)
                if ((proto < 0 || proto == p) && (qtype_slot < 0 || qtype_slot == t) &&
                    (rcode < 0 || rcode == r))
                    n += atomic_load_explicit(&s->queries[p][t][r], memory_order_relaxed);
    return n;
}

void stats_free_all(void)
{
    pthread_mutex_lock(&lock);
    for (unsigned b = 0; b < nblocks; b++)
        free(blocks[b]);
    nblocks = 0;
    pthread_mutex_unlock(&lock);
}
