/* view.c — publishing snapshots and reclaiming them once readers have moved on.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/view.h"
#include "geoip/dyn.h"

#include <stdlib.h>

struct retired {
    struct retired *next;
    struct view *view;
    uint64_t gen; /* readers must have seen this generation before it goes */
};

static _Atomic(struct view *) current;
static _Atomic uint64_t generation = 1;
static struct view_reader *readers[VIEW_MAX_READERS];
static atomic_uint nreaders;
static struct retired *retired; /* touched by the main loop only */

void view_free(struct view *v)
{
    if (!v)
        return;
    zonedb_free(v->db);
    if (v->owns_core) {
        dyn_free(v->dyn);
        conf_free(v->conf);
    }
    free(v);
}

struct view_reader *view_reader_new(void)
{
    unsigned i = atomic_fetch_add(&nreaders, 1);
    if (i >= VIEW_MAX_READERS)
        return NULL;
    struct view_reader *r = aligned_alloc(CACHE_LINE, sizeof(*r));
    if (!r)
        return NULL;
    atomic_init(&r->seen, atomic_load(&generation));
    atomic_init(&r->active, true);
    readers[i] = r;
    return r;
}

void view_reader_delete(struct view_reader *r)
{
    /* A stopped reader stays registered but no longer holds anything back. */
    if (r)
        atomic_store(&r->active, false);
}

void view_quiesce(struct view_reader *r)
{
    atomic_store(&r->seen, atomic_load(&generation));
}

struct view *view_current(void)
{
    return atomic_load_explicit(&current, memory_order_acquire);
}

void view_publish(struct view *v)
{
    struct view *old = atomic_exchange(&current, v);
    uint64_t gen = atomic_fetch_add(&generation, 1) + 1;
    if (!old)
        return;
    struct retired *r = malloc(sizeof(*r));
    if (!r)
        abort(); /* cannot track it safely; freeing early would be worse */
    r->view = old;
    r->gen = gen;
    r->next = retired;
    retired = r;
}

static uint64_t oldest_seen(void)
{
    uint64_t min = UINT64_MAX;
    unsigned n = atomic_load(&nreaders);
    if (n > VIEW_MAX_READERS)
        n = VIEW_MAX_READERS;
    for (unsigned i = 0; i < n; i++) {
        struct view_reader *r = readers[i];
        if (!r || !atomic_load(&r->active))
            continue;
        uint64_t s = atomic_load(&r->seen);
        if (s < min)
            min = s;
    }
    return min;
}

unsigned view_reclaim(void)
{
    uint64_t seen = oldest_seen();
    unsigned left = 0;
    for (struct retired **pp = &retired; *pp;) {
        struct retired *r = *pp;
        if (r->gen <= seen) {
            *pp = r->next;
            view_free(r->view);
            free(r);
        } else {
            left++;
            pp = &r->next;
        }
    }
    return left;
}

void view_shutdown(void)
{
    view_free(atomic_exchange(&current, NULL));
    while (retired) {
        struct retired *r = retired;
        retired = r->next;
        view_free(r->view);
        free(r);
    }
    for (unsigned i = 0; i < VIEW_MAX_READERS; i++) {
        free(readers[i]);
        readers[i] = NULL;
    }
    atomic_store(&nreaders, 0);
}
