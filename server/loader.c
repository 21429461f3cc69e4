/* loader.c — config + zones → view.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/loader.h"
#include "geoip/dyn.h"
#include "zones/dname.h"
#include "zones/zonefile.h"

#include <stdlib.h>
#include <string.h>

/* What zone loading needs to know about services. */
struct services {
    const struct config *conf;
    const struct dyn *dyn;
};

static int resolve_service(void *ctx, const char *name)
{
    return conf_find_service(((const struct services *)ctx)->conf, name);
}

static bool service_has_cnames(void *ctx, int service)
{
    return dyn_service_has_cnames(((const struct services *)ctx)->dyn, (unsigned)service);
}

/* The zone called name in old, or NULL. */
static struct zone *old_zone(const struct view *old, const uint8_t *name)
{
    if (!old)
        return NULL;
    for (size_t i = 0; i < old->db->nzones; i++)
        if (dname_equal(old->db->zones[i]->name, name))
            return old->db->zones[i];
    return NULL;
}

static struct zone *load_one(const struct conf_zone *cz, const struct services *sv,
                             const struct view *old, struct diag *d, bool *failed)
{
    const struct config *c = sv->conf;
    uint8_t origin[DNAME_MAX + 1];
    const char *why;
    if (dname_from_text(cz->name, strlen(cz->name), NULL, origin, &why) < 0) {
        diag_error(d, c->path, cz->mark.line, cz->mark.col, "bad zone name %s: %s", cz->name, why);
        *failed = true;
        return NULL;
    }
    dname_lower(origin);
    struct zone_load_opts o = {.resolve_service = resolve_service,
                               .service_has_cnames = service_has_cnames,
                               .resolve_ctx = (void *)sv};
    struct zone *z = zone_load(cz->path, origin, &o, d);
    if (z) {
        diag_note(d, "zone %s: %zu records, %zu names, serial %u, from %s", cz->name, z->nrecords,
                  z->nnodes, z->serial, cz->path);
        return z;
    }
    *failed = true;
    struct zone *keep = old_zone(old, origin);
    if (keep)
        atomic_fetch_add(&keep->refs, 1);
    if (keep)
        diag_note(d, "zone %s: keeping the version loaded before (serial %u)", cz->name,
                  keep->serial);
    else
        diag_note(d, "zone %s: not loaded", cz->name);
    return keep;
}

static struct view *view_assemble(struct config *c, struct dyn *dyn, struct zone **zones, size_t n)
{
    struct view *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->conf = c;
    v->dyn = dyn;
    v->env.dyn = dyn;
    v->db = zonedb_new(zones, n);
    if (!v->db) {
        free(v); /* the caller still owns c and dyn */
        return NULL;
    }
    v->env.db = v->db;
    v->env.udp_payload = (uint16_t)c->server.udp_payload;
    v->env.ecs = c->geoip.ecs;
    return v;
}

struct view *loader_load(const char *path, const struct view *old, bool strict, struct diag *d)
{
    struct config *c = conf_load(path, d);
    if (!c)
        return NULL;
    struct dyn *dyn = dyn_new(c, d);
    if (!dyn) {
        conf_free(c);
        return NULL;
    }
    struct services sv = {c, dyn};
    struct zone **zones = calloc(c->nzones ? c->nzones : 1, sizeof(*zones));
    size_t n = 0;
    bool failed = !zones;
    for (size_t i = 0; zones && i < c->nzones; i++) {
        struct zone *z = load_one(&c->zones[i], &sv, old, d, &failed);
        if (z)
            zones[n++] = z; /* a reference of ours until the zonedb takes its own */
    }
    struct view *v = (failed && strict) ? NULL : view_assemble(c, dyn, zones, n);
    for (size_t i = 0; i < n; i++)
        zone_release(zones[i]);
    free(zones);
    if (!v) {
        dyn_free(dyn);
        conf_free(c);
    }
    return v;
}
