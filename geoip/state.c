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
    union {
        struct addr_state addr;
        struct region_state region;
        struct svc_region_state svc;
    } u;
};

static struct entry *entries;

static struct entry *find(const char *kind, const char *a, const char *b, char *key, size_t size)
{
    size_t la = strlen(kind), lb = strlen(a), lc = b ? strlen(b) : 0;
    if (la + lb + lc + 3 > size)
        return NULL;
    /* NUL bytes separate the parts so "a"+"bc" and "ab"+"c" differ. */
    memcpy(key, kind, la + 1);
    memcpy(key + la + 1, a, lb + 1);
    if (b)
        memcpy(key + la + lb + 2, b, lc + 1);
    for (struct entry *e = entries; e; e = e->next)
        if (memcmp(e->key, key, la + lb + lc + 3) == 0)
            return e;
    return NULL;
}

static struct entry *get(const char *kind, const char *a, const char *b, bool *created)
{
    char key[512];
    *created = false;
    struct entry *e = find(kind, a, b, key, sizeof(key));
    if (e)
        return e;
    size_t len = strlen(kind) + strlen(a) + (b ? strlen(b) : 0) + 3;
    if (len > sizeof(key))
        return NULL;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->key = malloc(len))) {
        free(e);
        return NULL;
    }
    memcpy(e->key, key, len);
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
    if (e && created)
        atomic_init(&e->u.svc.weight, -1);
    return e ? &e->u.svc : NULL;
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

void state_free_all(void)
{
    while (entries) {
        struct entry *e = entries;
        entries = e->next;
        free(e->key);
        free(e);
    }
}
