/* state.c — the name-keyed registry behind the runtime state.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A config may hold thousands of regions and services, and every service has an entry
 * for every region, so entries are found through a hash table that doubles as it fills;
 * a list keeps their order of creation for the state file. */
struct entry {
    struct entry *next;  /* in order of creation */
    struct entry *hnext; /* in its bucket */
    uint64_t hash;
    char *key;
    size_t klen; /* the parts and their NUL separators */
    union {
        struct addr_state addr;
        struct region_state region;
        struct svc_region_state svc;
        struct service_state service;
    } u;
};

/* A reload builds its view on a thread of its own, creating entries while the main loop
 * looks names up; the lock covers the table and the list, not the states themselves. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries, **tail = &entries;
static struct entry **buckets;
static size_t nbuckets, nentries; /* nbuckets: 0 or a power of two */
/* Pair ids to their entries, written before an id is published through a view. */
static struct entry *pairs[STATE_MAX_PAIRS];
static _Atomic uint32_t npairs;

/* The key of kind/a/b (NUL bytes separate the parts, so "a"+"bc" and "ab"+"c" differ),
 * malloc'd, with its length in len; NULL when out of memory. */
static char *make_key(const char *kind, const char *a, const char *b, size_t *len)
{
    size_t la = strlen(kind), lb = strlen(a), lc = b ? strlen(b) + 1 : 0;
    char *key = malloc(la + 1 + lb + 1 + lc);
    if (!key)
        return NULL;
    memcpy(key, kind, la + 1);
    memcpy(key + la + 1, a, lb + 1);
    if (b)
        memcpy(key + la + lb + 2, b, lc);
    *len = la + 1 + lb + 1 + lc;
    return key;
}

/* FNV-1a, 64 bits: keys are short names that the operator wrote. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    return h;
}

/* The entry with the len bytes of key, or NULL. */
static struct entry *lookup(const char *key, size_t len, uint64_t h)
{
    if (!nbuckets)
        return NULL;
    for (struct entry *e = buckets[h & (nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

/* Keeps the table at most one entry per bucket on average; false when out of memory. */
static bool make_room(void)
{
    if (nentries < nbuckets)
        return true;
    size_t n = nbuckets ? 2 * nbuckets : 256;
    struct entry **b = calloc(n, sizeof(*b));
    if (!b)
        return false;
    for (struct entry *e = entries; e; e = e->next) {
        e->hnext = b[e->hash & (n - 1)];
        b[e->hash & (n - 1)] = e;
    }
    free(buckets);
    buckets = b;
    nbuckets = n;
    return true;
}

static struct entry *find(const char *kind, const char *a, const char *b)
{
    size_t len;
    char *key = make_key(kind, a, b, &len);
    if (!key)
        return NULL;
    pthread_mutex_lock(&lock);
    struct entry *e = lookup(key, len, hash_key(key, len));
    pthread_mutex_unlock(&lock);
    free(key);
    return e;
}

/* The entry of key (which it takes over), created when missing and readied by init while
 * the lock still hides it; NULL when out of memory. */
static struct entry *get_locked(char *key, size_t len, void (*init)(struct entry *, void *),
                                void *arg)
{
    uint64_t h = hash_key(key, len);
    struct entry *e = lookup(key, len, h);
    if (e || !make_room() || !(e = calloc(1, sizeof(*e)))) {
        free(key);
        return e;
    }
    e->key = key;
    e->klen = len;
    e->hash = h;
    e->hnext = buckets[h & (nbuckets - 1)];
    buckets[h & (nbuckets - 1)] = e;
    *tail = e;
    tail = &e->next;
    nentries++;
    if (init)
        init(e, arg);
    return e;
}

static struct entry *get(const char *kind, const char *a, const char *b,
                         void (*init)(struct entry *, void *), void *arg)
{
    size_t len;
    char *key = make_key(kind, a, b, &len);
    if (!key)
        return NULL;
    pthread_mutex_lock(&lock);
    struct entry *e = get_locked(key, len, init, arg);
    pthread_mutex_unlock(&lock);
    return e;
}

static void init_addr(struct entry *e, void *arg)
{
    atomic_init(&e->u.addr.up, *(bool *)arg);
}

static void init_region(struct entry *e, void *arg)
{
    (void)arg;
    atomic_init(&e->u.region.drained, false);
}

static void init_pair(struct entry *e, void *arg)
{
    (void)arg;
    atomic_init(&e->u.svc.drained, false);
    atomic_init(&e->u.svc.weight, -1);
    uint32_t id = atomic_load(&npairs);
    e->u.svc.id = id;
    if (id < STATE_MAX_PAIRS)
        pairs[id] = e;
    atomic_store(&npairs, id + 1);
}

struct addr_state *state_addr(const char *region, const char *addr, bool initial_up)
{
    struct entry *e = get("addr", region, addr, init_addr, &initial_up);
    return e ? &e->u.addr : NULL;
}

struct region_state *state_region(const char *region)
{
    struct entry *e = get("region", region, NULL, init_region, NULL);
    return e ? &e->u.region : NULL;
}

struct svc_region_state *state_svc_region(const char *service, const char *region)
{
    struct entry *e = get("svc", service, region, init_pair, NULL);
    return e ? &e->u.svc : NULL;
}

struct service_state *state_service(const char *service)
{
    struct entry *e = get("service", service, NULL, NULL, NULL);
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
    struct entry *e = find("service", service, NULL);
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
    struct entry *e = find("region", region, NULL);
    return e ? &e->u.region : NULL;
}

struct svc_region_state *state_svc_region_find(const char *service, const char *region)
{
    struct entry *e = find("svc", service, region);
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
    /* The list is in order of creation; a reload's thread may add to it meanwhile. */
    pthread_mutex_lock(&lock);
    size_t n = nentries, i = 0;
    struct entry **all = malloc((n ? n : 1) * sizeof(*all));
    for (struct entry *e = entries; all && e && i < n; e = e->next)
        all[i++] = e;
    pthread_mutex_unlock(&lock);
    *count = i;
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
    pthread_mutex_lock(&lock);
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
    pthread_mutex_unlock(&lock);
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
    tail = &entries;
    free(buckets);
    buckets = NULL;
    nbuckets = nentries = 0;
}
