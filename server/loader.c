/* loader.c — config + zones → view.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/loader.h"
#include "geoip/dyn.h"
#include "lib/readfile.h"
#include "server/privilege.h"
#include "zones/dname.h"
#include "zones/sign/sign.h"
#include "zones/zonefile.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* What zone loading needs to know about services.  Without dyn (a config with errors,
 * checked by `meridiand -t`), what depends on the services' regions is not judged, so
 * that the zones' own errors are not buried under follow-on ones. */
struct services {
    const struct config *conf;
    const struct dyn *dyn;
};

static int resolve_service(void *ctx, const char *name)
{
    const struct services *sv = ctx;
    int i = conf_find_service(sv->conf, name);
    /* a services: section that could not be read names no service at all */
    return i < 0 && !sv->dyn && !sv->conf->nservices ? 0 : i;
}

static bool service_has_cnames(void *ctx, int service)
{
    const struct services *sv = ctx;
    return !sv->dyn || dyn_service_has_cnames(sv->dyn, (unsigned)service);
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

/* The version of a zone that failed to load which keeps serving, if there is one. */
static struct zone *keep_old(const struct view *old, const uint8_t *origin,
                             const struct conf_zone *cz, struct diag *d)
{
    struct zone *keep = old_zone(old, origin);
    if (keep) {
        atomic_fetch_add(&keep->refs, 1);
        diag_note(d, "zone %s: keeping the version loaded before (serial %u)", cz->name,
                  keep->serial);
    }
    return keep;
}

/* Signs z as the config says: answers go on from the view before until this returns. */
static bool sign(struct zone *z, const struct conf_zone *cz, const uint8_t *origin,
                 const struct view *prev, struct diag *d)
{
    struct sign_keys *keys = sign_keys_load(&cz->sign, origin, d);
    if (!keys || !sign_zone(z, keys, &cz->sign, time(NULL), old_zone(prev, origin), d))
        return false;
    const struct zone_sec *s = z->sec;
    diag_note(d, "zone %s: signed with %u key(s), %llu signatures made, %llu kept, %u %s records",
              cz->name, s->nkeys, (unsigned long long)s->signatures, (unsigned long long)s->reused,
              s->nsec3 ? s->nn3 : s->norder, s->nsec3 ? "NSEC3" : "NSEC");
    return true;
}

/* prev: the view being replaced, whose signatures may be reused; old: the one whose zone
 * keeps serving when this one fails (NULL: the caller sees to that). */
static struct zone *load_one(const struct conf_zone *cz, const struct services *sv,
                             const struct view *prev, const struct view *old, struct diag *d,
                             bool *failed)
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
    int err = readfile_check(cz->path);
    if (err) {
        diag_error(d, c->path, cz->mark.line, cz->mark.col, "zone %s: cannot read %s: %s", cz->name,
                   cz->path, readfile_strerror(err));
        *failed = true;
        return keep_old(old, origin, cz, d);
    }
    struct zone_load_opts o = {.resolve_service = resolve_service,
                               .service_has_cnames = service_has_cnames,
                               .resolve_ctx = (void *)sv,
                               .max_records = c->server.zone_max_records};
    struct zone *z = zone_load(cz->path, origin, &o, d);
    if (z && cz->dnssec && !sign(z, cz, origin, prev, d)) {
        zone_release(z);
        z = NULL;
    }
    if (z) {
        diag_note(d, "zone %s: %zu records, %zu names, serial %u, from %s", cz->name, z->nrecords,
                  z->nnodes, z->serial, cz->path);
        return z;
    }
    *failed = true;
    return keep_old(old, origin, cz, d);
}

static struct view *view_assemble(struct config *c, struct dyn *dyn, struct zone **zones, size_t n)
{
    struct view *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->conf = c;
    v->dyn = dyn;
    v->env.dyn = dyn;
    v->owns_core = true;
    v->db = zonedb_new(zones, n);
    if (!v->db) {
        free(v); /* the caller still owns c and dyn */
        return NULL;
    }
    v->env.db = v->db;
    v->env.udp_payload = (uint16_t)c->server.udp_payload;
    v->env.ecs = c->geoip.ecs;
    v->env.nsid = c->server.nsid;
    v->env.nsid_len = (uint16_t)c->server.nsid_len;
    v->env.identity = c->server.identity;
    v->env.version = c->server.version;
    v->env.cookies = c->server.cookies ? &c->server.cookie_secrets : NULL;
    /* RFC 7828 §3.1: the timeout in units of 100 milliseconds. */
    unsigned keepalive = c->server.tcp_idle_ms / 100;
    v->env.tcp_keepalive = (uint16_t)(keepalive > 65535 ? 65535 : keepalive);
    return v;
}

static void duration(char *buf, size_t size, unsigned ms)
{
    if (ms % 1000)
        snprintf(buf, size, "%ums", ms);
    else
        snprintf(buf, size, "%us", ms / 1000);
}

/* The worst case from a backend failing to the last answer naming it. */
static unsigned check_bound_ms(const struct conf_check *k)
{
    return k->interval_ms * k->fall + k->timeout_ms;
}

static void report_checks(const struct config *c, struct diag *d)
{
    for (size_t i = 0; i < c->nchecks; i++) {
        const struct conf_check *k = &c->checks[i];
        char b[32], iv[32], to[32];
        duration(b, sizeof(b), check_bound_ms(k));
        duration(iv, sizeof(iv), k->interval_ms);
        duration(to, sizeof(to), k->timeout_ms);
        diag_note(d,
                  "check %s: a failed address leaves answers within %s (interval %s x fall %u "
                  "+ timeout %s)",
                  k->name, b, iv, k->fall, to);
    }
}

/* RFC-less but promised: warn where a name's TTL is shorter than its checks' bound. */
static void warn_slow_checks(const struct view *v, const struct zone *z, const struct node *n,
                             struct diag *d)
{
    const struct config *c = v->conf;
    const struct conf_service *s = &c->services[n->dyn_service];
    unsigned ttl = s->ttl ? s->ttl : n->dyn_ttl;
    for (size_t k = 0; k < c->nchecks; k++) {
        bool used = false;
        for (unsigned r = 0; r < c->nregions && !used; r++)
            used = c->regions[r].check == (int)k && dyn_service_uses(v->dyn, n->dyn_service, r);
        unsigned bound = check_bound_ms(&c->checks[k]);
        if (!used || bound <= (uint64_t)ttl * 1000)
            continue;
        char name[DNAME_TEXTMAX], b[32];
        dname_to_text(n->name, name, sizeof(name));
        duration(b, sizeof(b), bound);
        diag_warn(d, z->file, 0, 0,
                  "%s (TTL %us, service %s) relies on check %s, which can take %s to take a "
                  "failed address out of answers; lower its interval or fall, or raise the TTL",
                  name, ttl, s->name, c->checks[k].name, b);
    }
}

/* server.user and server.group must exist before start-up binds anything (meridiand -t
 * says so too). */
static void check_accounts(const struct config *c, struct diag *d)
{
    if (c->server.user && !getpwnam(c->server.user))
        diag_error(d, c->path, 0, 0,
                   "server.user: no user \"%s\" on this system; create it or "
                   "name an existing one",
                   c->server.user);
    if (c->server.group && !getgrnam(c->server.group))
        diag_error(d, c->path, 0, 0, "server.group: no group \"%s\" on this system",
                   c->server.group);
}

static void check_timing(const struct view *v, struct diag *d)
{
    report_checks(v->conf, d);
    for (size_t i = 0; i < v->db->nzones; i++) {
        const struct zone *z = v->db->zones[i];
        for (size_t j = 0; j < z->nnodes; j++)
            if (z->nodes[j].flags & (NODE_DYNA | NODE_DYNC))
                warn_slow_checks(v, z, &z->nodes[j], d);
    }
}

/* Loads every zone c names and, unless one failed under strict or dyn is missing, builds
 * the view that owns c and dyn.  Otherwise frees them and returns NULL. */
static struct view *load_zones(struct config *c, struct dyn *dyn, const struct view *old,
                               bool strict, struct diag *d)
{
    for (unsigned i = 0; dyn && i < dyn_service_count(dyn); i++)
        if (dyn_service_tree_note(dyn, i))
            diag_note(d, "service %s: %s", dyn_service_name(dyn, i), dyn_service_tree_note(dyn, i));
    struct services sv = {c, dyn};
    struct zone **zones = calloc(c->nzones ? c->nzones : 1, sizeof(*zones));
    size_t n = 0;
    bool failed = !zones || !dyn;
    for (size_t i = 0; zones && i < c->nzones; i++) {
        struct zone *z = load_one(&c->zones[i], &sv, old, old, d, &failed);
        if (z)
            zones[n++] = z; /* a reference of ours until the zonedb takes its own */
    }
    struct view *v = (failed && strict) || !dyn ? NULL : view_assemble(c, dyn, zones, n);
    for (size_t i = 0; i < n; i++)
        zone_release(zones[i]);
    free(zones);
    if (!v) {
        dyn_free(dyn);
        conf_free(c);
        return NULL;
    }
    check_timing(v, d);
    return v;
}

struct view *loader_load(const char *path, const struct view *old, bool strict, struct diag *d)
{
    struct config *c = conf_load(path, d);
    if (!c)
        return NULL;
    unsigned before = d->errors;
    check_accounts(c, d);
    if (d->errors != before) {
        conf_free(c);
        return NULL;
    }
    struct read_identity as;
    if (privilege_read_as(c, &as, d) < 0) {
        conf_free(c);
        return NULL;
    }
    struct dyn *dyn = dyn_new(c, d);
    struct view *v = NULL;
    if (dyn)
        v = load_zones(c, dyn, old, strict, d);
    else
        conf_free(c);
    privilege_read_restore(&as);
    return v;
}

struct view *loader_check(const char *path, struct diag *d)
{
    bool clean;
    struct config *c = conf_read(path, d, &clean);
    if (!c)
        return NULL;
    if (!clean) /* half-filled, perhaps: only its zones are read from it, as this user */
        return load_zones(c, NULL, NULL, true, d);
    unsigned before = d->errors;
    check_accounts(c, d);
    if (d->errors != before)
        return load_zones(c, NULL, NULL, true, d);
    struct read_identity as;
    if (privilege_read_as(c, &as, d) < 0)
        return load_zones(c, NULL, NULL, true, d);
    struct view *v = load_zones(c, dyn_new(c, d), NULL, true, d);
    privilege_read_restore(&as);
    return v;
}

/* The config's entry for zone name (any case, trailing dot optional), or NULL. */
static const struct conf_zone *find_conf_zone(const struct config *c, const char *name)
{
    char want[DNAME_TEXTMAX];
    size_t n = strlen(name);
    snprintf(want, sizeof(want), "%s%s", name, n && name[n - 1] == '.' ? "" : ".");
    for (size_t i = 0; i < c->nzones; i++)
        if (strcasecmp(c->zones[i].name, want) == 0)
            return &c->zones[i];
    return NULL;
}

struct view *loader_reload_zone(struct view *old, const char *name, struct diag *d)
{
    const struct conf_zone *cz = find_conf_zone(old->conf, name);
    if (!cz) {
        diag_error(d, old->conf->path, 0, 0, "zone %s is not in the config; zones: see status",
                   name);
        return NULL;
    }
    struct services sv = {old->conf, old->dyn};
    bool failed = false;
    struct zone *fresh = load_one(cz, &sv, old, NULL, d, &failed);
    struct zone **zones = calloc(old->db->nzones + 1, sizeof(*zones));
    if (!fresh || !zones) {
        zone_release(fresh);
        free(zones);
        diag_note(d, "zone %s: the version loaded before keeps serving", cz->name);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < old->db->nzones; i++) {
        struct zone *z = old->db->zones[i];
        zones[n++] = dname_equal(z->name, fresh->name) ? fresh : z;
        if (zones[n - 1] != fresh)
            atomic_fetch_add(&z->refs, 1);
    }
    struct view *v = view_assemble(old->conf, old->dyn, zones, n);
    for (size_t i = 0; i < n; i++)
        zone_release(zones[i]);
    free(zones);
    if (v)
        old->owns_core = false; /* v frees them; old goes first (view.h) */
    return v;
}

int loader_print_ds(const char *path, const char *zone, FILE *out, struct diag *d)
{
    struct config *c = conf_load(path, d);
    if (!c)
        return -1;
    const struct conf_zone *cz = find_conf_zone(c, zone);
    uint8_t origin[DNAME_MAX + 1];
    const char *why;
    int rc = -1;
    if (!cz)
        diag_error(d, path, 0, 0, "zone %s is not in the config", zone);
    else if (!cz->dnssec)
        diag_error(d, path, cz->mark.line, cz->mark.col,
                   "zone %s is not signed: it has no dnssec: section", cz->name);
    else if (dname_from_text(cz->name, strlen(cz->name), NULL, origin, &why) > 0) {
        dname_lower(origin);
        struct sign_keys *keys = sign_keys_load(&cz->sign, origin, d);
        if (keys)
            rc = sign_keys_print_ds(keys, out) ? 0 : -1;
        sign_keys_free(keys);
    }
    conf_free(c);
    return rc;
}
