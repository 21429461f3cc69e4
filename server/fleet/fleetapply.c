/* fleetapply.c — a read of etcd made this node's weights and drains: each kv parsed (a
 * malformed one logged once per version), then set entry by entry, and the state file
 * rewritten as the node's last known copy.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/fleetapply.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/fleet/etcd.h"
#include "server/statefile.h"
#include "server/view.h"

#include <stdint.h>
#include <string.h>

#define SEEN_MAX 256

/* Malformed key@revision already logged, as hashes; forgotten all at once when full. */
static uint64_t seen[SEEN_MAX];
static size_t nseen;

static uint64_t hash_seen(const char *key, long long rev)
{
    uint64_t x = 1469598103934665603ull ^ (uint64_t)rev;
    for (; *key; key++)
        x = (x ^ (unsigned char)*key) * 1099511628211ull;
    return x;
}

/* A malformed key is logged once per version of it, not on every read. */
static void malformed(const char *prefix, const char *key, long long rev, const char *why)
{
    uint64_t x = hash_seen(key, rev);
    for (size_t i = 0; i < nseen; i++)
        if (seen[i] == x)
            return;
    if (nseen == SEEN_MAX)
        nseen = 0;
    seen[nseen++] = x;
    log_warn("fleet: ignoring %s%s (revision %lld): %s", prefix, key, rev, why);
}

bool fleetapply_parse(json_object *kv, const char *prefix, struct fleetstate_entry *e, bool *bad)
{
    char key[1100], value[64], why[200];
    json_object *k = NULL, *v = NULL;
    json_object_object_get_ex(kv, "key", &k);
    json_object_object_get_ex(kv, "value", &v);
    long long rev = etcd_int(kv, "mod_revision", 0);
    size_t plen = strlen(prefix);
    if (etcd_unb64(k, key, sizeof(key)) < (long)plen || strncmp(key, prefix, plen))
        return false;
    long vlen = v ? etcd_unb64(v, value, sizeof(value)) : 0;
    if (!v)
        value[0] = '\0';
    if (vlen < 0 || (size_t)vlen != strlen(value)) {
        malformed(prefix, key + plen, rev, "the value is not short text");
        return false;
    }
    int rc = fleetstate_parse(key + plen, value, e, why, sizeof(why));
    if (rc < 0)
        malformed(prefix, key + plen, rev, why);
    *bad = rc == -2 && (e->kind == FS_WEIGHT || e->kind == FS_DRAIN);
    return rc == 0 || *bad;
}

/* The entries wanted by the snapshot, for clearing what it no longer holds.  bad[i]: entry
 * i has a malformed value, so whatever this node has for it stays. */
struct wanted {
    const struct fleetstate_entry *e;
    const bool *bad;
    size_t n;
    bool changed;
};

static bool wants(const struct wanted *w, enum fleetstate_kind kind, const char *service,
                  const char *region)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->e[i].kind == kind && !strcmp(w->e[i].region, region) &&
            !strcmp(w->e[i].service, service ? service : "") &&
            (kind != FS_DRAIN || w->e[i].on || w->bad[i]))
            return true;
    return false;
}

static void clear_unwanted(void *ctx, const char *service, const char *region, bool drained,
                           int64_t weight)
{
    struct wanted *w = ctx;
    if (!service) {
        struct region_state *rs = state_region_find(region);
        if (drained && rs && !wants(w, FS_DRAIN, NULL, region)) {
            atomic_store(&rs->drained, false);
            w->changed = true;
        }
        return;
    }
    struct svc_region_state *st = state_svc_region_find(service, region);
    if (st && drained && !wants(w, FS_DRAIN, service, region)) {
        atomic_store(&st->drained, false);
        w->changed = true;
    }
    if (st && weight >= 0 && !wants(w, FS_WEIGHT, service, region)) {
        atomic_store(&st->weight, -1);
        w->changed = true;
    }
}

bool fleetapply_one(const struct fleetstate_entry *e)
{
    if (e->kind == FS_DRAIN && !e->service[0]) {
        struct region_state *rs = state_region(e->region);
        return rs && atomic_exchange(&rs->drained, e->on) != e->on;
    }
    struct svc_region_state *st = state_svc_region(e->service, e->region);
    if (!st)
        return false;
    if (e->kind == FS_DRAIN)
        return atomic_exchange(&st->drained, e->on) != e->on;
    return atomic_exchange(&st->weight, (int64_t)e->weight) != e->weight;
}

void fleetapply_save(const char *fallback, const char *why)
{
    /* Before the first view is published, the config fleet_init was given decides. */
    const struct view *v = view_current();
    const char *path = v ? v->conf->server.state : fallback;
    struct diag d;
    if (!path)
        return;
    diag_init(&d);
    if (statefile_save(path, &d) < 0)
        log_err("fleet: %s, but the state file keeps its old copy: %s", why,
                d.text ? d.text : "cannot write it");
    diag_free(&d);
}

/* Entries are set one by one, never cleared first, so no query sees a moment with none. */
bool fleetapply_state(const struct fleetstate_entry *e, const bool *bad, size_t n)
{
    struct wanted w = {e, bad, n, false};
    for (size_t i = 0; i < n; i++)
        if (!bad[i] && (e[i].kind == FS_WEIGHT || e[i].kind == FS_DRAIN))
            w.changed |= fleetapply_one(&e[i]);
    if (state_each_admin(clear_unwanted, &w) < 0)
        log_err("fleet: out of memory while applying the shared state");
    return w.changed;
}
