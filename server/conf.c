/* conf.c — the YAML configuration: the file read section by section in dependency order
 * (each section in its conf_*.c), zones named once each, and lookups by name.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/conf.h"
#include "server/confparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void load_fn(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item);

/* ---- zones ---- */

static void load_zone(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    struct conf_zone *z = item;
    const char *t = yw_text(k);
    const struct yw_field f = {.key = t, .example = "zones/example.com.zone"};
    char name[256];
    z->mark = mark_of(k);
    if (!domain_normalise(t, name, true)) {
        yw_error(w, k, "zone name \"%s\" is not a domain name; write it like example.com", t);
        snprintf(name, sizeof(name), "%s", t);
    }
    z->name = arena_strdup(w->arena, name);
    if (yw_is_map(v))
        load_zone_map(w, v, z);
    else
        z->path = yw_path(w, v, &f);
}

/* "Example.com" and "example.com." are different keys to YAML but the same zone. */
static void check_zone_twice(struct yw *w, const struct config *c)
{
    for (size_t i = 1; i < c->nzones; i++)
        for (size_t j = 0; j < i; j++)
            if (c->zones[i].name && c->zones[j].name &&
                !strcmp(c->zones[i].name, c->zones[j].name)) {
                diag_error(w->d, w->file, c->zones[i].mark.line, c->zones[i].mark.col,
                           "zone %s is listed twice (first at line %u); remove one",
                           c->zones[i].name, c->zones[j].mark.line);
                break;
            }
}

/* ---- the whole file ---- */

/* One item per key of a named section, loaded in the order written, so that item i is
 * the i-th name and indices into the array are stable. */
static void *load_named(struct yw *w, yaml_node_t *n, const char *what, size_t size, size_t *count,
                        load_fn *fn)
{
    char *items;
    *count = 0;
    if (!yw_mapping(w, n, what) || !(items = arena_alloc(w->arena, yw_len(n) * size)))
        return NULL;
    for (size_t i = 0; i < yw_len(n); i++) {
        yaml_node_t *k = yw_key(w, n, i);
        if (!yw_text(k))
            continue; /* reported by yw_open */
        fn(w, k, yw_value(w, n, i), items + size * *count);
        (*count)++;
    }
    return items;
}

static const struct yw_field root_fields[] = {
    YW_ACCEPT("server"),   YW_ACCEPT("geoip"), YW_ACCEPT("regions"), YW_ACCEPT("checks"),
    YW_ACCEPT("services"), YW_ACCEPT("zones"), YW_ACCEPT("rrl"),     YW_ACCEPT("fleet"),
};

/* Sections are read in dependency order, whatever order they were written in: regions
 * name checks; nets and services name regions. */
static void load_root(struct yw *w)
{
    struct config *c = cfg(w);
    yaml_node_t *root = yw_root(w);
    if (!root || yw_is_null(root)) {
        diag_error(w->d, w->file, 0, 0,
                   "the config is empty; write at least one section, e.g. "
                   "zones: { example.com: example.com.zone }");
        return;
    }
    if (!yw_is_map(root)) {
        yw_error(w, root,
                 "the top level must be a mapping of sections (server:, geoip:, regions:, "
                 "checks:, services:, zones:), not %s",
                 yw_is_seq(root) ? "a list" : "a single value");
        return;
    }
    yw_fields(w, root, "the top level", root_fields, ARRAY_LEN(root_fields), NULL);
    load_server(w, yw_get(w, root, "server"));
    load_rrl(w, yw_get(w, root, "rrl"));
    c->checks = load_named(w, yw_get(w, root, "checks"), "checks", sizeof(*c->checks), &c->nchecks,
                           load_check);
    c->regions = load_named(w, yw_get(w, root, "regions"), "regions", sizeof(*c->regions),
                            &c->nregions, load_region);
    load_geoip(w, yw_get(w, root, "geoip"));
    c->services = load_named(w, yw_get(w, root, "services"), "services", sizeof(*c->services),
                             &c->nservices, load_service);
    c->zones =
        load_named(w, yw_get(w, root, "zones"), "zones", sizeof(*c->zones), &c->nzones, load_zone);
    check_zone_twice(w, c);
    load_fleet(w, yw_get(w, root, "fleet"));
}

struct config *conf_read(const char *path, struct diag *d, bool *clean)
{
    struct config *c = calloc(1, sizeof(*c));
    unsigned errors = d->errors;
    struct yw w;
    if (!c) {
        diag_error(d, path, 0, 0, "out of memory while loading the config");
        return NULL;
    }
    arena_init(&c->arena);
    c->path = arena_strdup(&c->arena, path);
    c->server.udp_payload = 1232;
    c->server.tcp_idle_ms = 10000;
    c->server.tcp_max_clients = 1024;
    c->server.tcp_max_per_client = 16;
    c->server.tcp_backlog = 1024;
    c->server.tcp_lifetime_ms = 120000;
    c->server.udp_rcvbuf = 4u << 20;
    c->server.zone_max_records = 10000000;
    c->server.cookies = true;
    c->rrl.rate = 100;
    c->rrl.slip = 2;
    c->rrl.ipv4_prefix = 24;
    c->rrl.ipv6_prefix = 56;
    c->geoip.ecs = true;
    c->fleet.timeout_ms = 2000;
    if (yw_open(&w, path, d, &c->arena)) {
        w.ctx = c;
        load_root(&w);
    }
    yw_close(&w);
    if (c->arena.failed) {
        diag_error(d, path, 0, 0, "out of memory while loading the config");
        conf_free(c);
        return NULL;
    }
    *clean = d->errors == errors;
    return c;
}

struct config *conf_load(const char *path, struct diag *d)
{
    bool clean;
    struct config *c = conf_read(path, d, &clean);
    if (c && !clean) {
        conf_free(c);
        return NULL;
    }
    return c;
}

void conf_free(struct config *c)
{
    if (!c)
        return;
    arena_free(&c->arena);
    free(c);
}

int conf_find_region(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nregions; i++)
        if (c->regions[i].name && !strcmp(c->regions[i].name, name))
            return (int)i;
    return -1;
}

int conf_find_service(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nservices; i++)
        if (c->services[i].name && !strcmp(c->services[i].name, name))
            return (int)i;
    return -1;
}
