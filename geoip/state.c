/* state.c — the name-keyed registry behind the runtime state.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/state.h"

#include <stdlib.h>
#include <string.h>

/* Entries are few (regions × addresses, services × regions) and created only while a
 * config loads, so a list searched by name is enough. */
struct entry {
    struct entry *next;
    char *key;
    size_t klen; /* the parts and their NUL separators */
    union {
        struct addr_state addr;
        struct region_state region;
        struct svc_region_state svc;
        struct service_state service;
    } u;
};

static struct entry *entries;
/* Pair ids to their entries, written before an id is published through a view. */
static struct entry *pairs[STATE_MAX_PAIRS];
static _Atomic uint32_t npairs;

/* Builds the key into key (NUL bytes separate the parts, so "a"+"bc" and "ab"+"c" differ)
 * and returns its length, or 0 when it does not fit. */
static size_t make_key(const char *kind, const char *a, const char *b, char *key, size_t size)
{
    size_t la = strlen(kind), lb = strlen(a), lc = b ? strlen(b) + 1 : 0;
    size_t n = la + 1 + lb + 1 + lc;
    if (n > size)
        return 0;
    memcpy(key, kind, la + 1);
    memcpy(key + la + 1, a, lb + 1);
    if (b)
        memcpy(key + la + lb + 2, b, lc);
    return n;
}

/* The entry with the len bytes of key, or NULL. */
static struct entry *lookup(const char *key, size_t len)
{
    for (struct entry *e = entries; len && e; e = e->next)
        if (e->klen == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

static struct entry *find(const char *kind, const char *a, const char *b, char *key, size_t size)
{
    size_t len = make_key(kind, a, b, key, size);
    return lookup(key, len);
}

static struct entry *get(const char *kind, const char *a, const char *b, bool *created)
{
    char key[512];
    size_t len = make_key(kind, a, b, key, sizeof(key));
    struct entry *e = lookup(key, len);
    *created = false;
    if (e || !len)
        return e;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->key = malloc(len))) {
        free(e);
        return NULL;
    }
    memcpy(e->key, key, len);
    e->klen = len;
    e->next = entries;
    entries = e;
    *created = true;
    return e;
}

struct addr_state *state_addr(const char *region, const char *addr, bool initial_up)
{
    bool created;
    struct entry *e = get("addr", region, addr, &created);
    if (e && created)
        atomic_init(&e->u.addr.up, initial_up);
    return e ? &e->u.addr : NULL;
}

struct region_state *state_region(const char *region)
{
    bool created;
    struct entry *e = get("region", region, NULL, &created);
    return e ? &e->u.region : NULL;
}

struct svc_region_state *state_svc_region(const char *service, const char *region)
{
    bool created;
    struct entry *e = get("svc", service, region, &created);
    if (e && created) {
        atomic_init(&e->u.svc.weight, -1);
        uint32_t id = atomic_load(&npairs);
        e->u.svc.id = id;
        if (id < STATE_MAX_PAIRS)
            pairs[id] = e;
        atomic_store(&npairs, id + 1);
    }
    return e ? &e->u.svc : NULL;
}

struct service_state *state_service(const char *service)
{
    bool created;
    struct entry *e = get("service", service, NULL, &created);
    return e ? &e->u.service : NULL;
}

struct state_shift *state_service_plan(struct service_state *st)
{
    if (!st->shift)
        st->shift = calloc(1, sizeof(*st->shift));
    return st->shift;
}

struct service_state *state_service_find(const char *service)
{
    char key[512];
    struct entry *e = find("service", service, NULL, key, sizeof(key));
    return e ? &e->u.service : NULL;
}

bool state_pair_names(uint32_t id, const char **service, const char **region)
{
    if (id >= atomic_load(&npairs) || id >= STATE_MAX_PAIRS)
        return false;
    const char *kind = pairs[id]->key;
    *service = kind + strlen(kind) + 1;
    *region = *service + strlen(*service) + 1;
    return true;
}

uint32_t state_pair_count(void)
{
    uint32_t n = atomic_load(&npairs);
    return n < STATE_MAX_PAIRS ? n : STATE_MAX_PAIRS;
}

struct region_state *state_region_find(const char *region)
{
    char key[512];
    struct entry *e = find("region", region, NULL, key, sizeof(key));
    return e ? &e->u.region : NULL;
}

struct svc_region_state *state_svc_region_find(const char *service, const char *region)
{
    char key[512];
    struct entry *e = find("svc", service, region, key, sizeof(key));
    return e ? &e->u.svc : NULL;
}

static void visit(const struct entry *e, state_visit_fn fn, void *ctx)
{
    const char *kind = e->key, *a = kind + strlen(kind) + 1, *b = a + strlen(a) + 1;
    if (strcmp(kind, "region") == 0 && atomic_load(&e->u.region.drained))
        fn(ctx, NULL, a, true, -1);
    if (strcmp(kind, "svc") != 0)
        return;
    bool drained = atomic_load(&e->u.svc.drained);
    int64_t weight = atomic_load(&e->u.svc.weight);
    if (drained || weight >= 0)
        fn(ctx, a, b, drained, weight);
}

/* Every entry, oldest first (so that the state file keeps a stable order); NULL when out of
 * memory. */
static struct entry **oldest_first(size_t *count)
{
    size_t n = 0;
    for (const struct entry *e = entries; e; e = e->next)
        n++;
    struct entry **all = malloc((n ? n : 1) * sizeof(*all));
    if (!all)
        return NULL;
    size_t i = n;
    for (struct entry *e = entries; e; e = e->next)
        all[--i] = e;
    *count = n;
    return all;
}

int state_each_admin(state_visit_fn fn, void *ctx)
{
    size_t n;
    struct entry **all = oldest_first(&n);
    if (!all)
        return -1;
    for (size_t i = 0; i < n; i++)
        visit(all[i], fn, ctx);
    free(all);
    return 0;
}

/* Calls pair or service for each entry of that kind, oldest first. */
static int each_of(state_pair_fn pair, state_service_fn service, void *ctx)
{
    size_t n;
    struct entry **all = oldest_first(&n);
    if (!all)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *kind = all[i]->key, *a = kind + strlen(kind) + 1, *b = a + strlen(a) + 1;
        if (pair && strcmp(kind, "svc") == 0)
            pair(ctx, a, b, &all[i]->u.svc);
        else if (service && strcmp(kind, "service") == 0)
            service(ctx, a, &all[i]->u.service);
    }
    free(all);
    return 0;
}

int state_each_pair(state_pair_fn fn, void *ctx)
{
    return each_of(fn, NULL, ctx);
}

int state_each_service(state_service_fn fn, void *ctx)
{
    return each_of(NULL, fn, ctx);
}

void state_clear_admin(void)
{
    for (struct entry *e = entries; e; e = e->next) {
        if (strncmp(e->key, "region", 7) == 0)
            atomic_store(&e->u.region.drained, false);
        else if (strncmp(e->key, "svc", 4) == 0) {
            atomic_store(&e->u.svc.drained, false);
            atomic_store(&e->u.svc.weight, -1);
            atomic_store(&e->u.svc.held, false);
        } else if (strncmp(e->key, "service", 8) == 0) {
            atomic_store(&e->u.service.shifting, false);
            if (e->u.service.shift)
                e->u.service.shift->n = 0;
        }
    }
}

void state_free_all(void)
{
    memset(pairs, 0, sizeof(pairs));
    atomic_store(&npairs, 0);
    while (entries) {
        struct entry *e = entries;
        entries = e->next;
        if (strncmp(e->key, "service", 8) == 0)
            free(e->u.service.shift);
        free(e->key);
        free(e);
    }
}
