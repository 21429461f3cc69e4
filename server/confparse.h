/* confparse.h — what the config's sections share: the loader's context, names, region
 * references, addresses, and the entry point of each section, for conf.c to call.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "server/conf.h"
#include "server/yamlwalk.h"

#define DAY_MS  86400000ull
#define HOUR_MS 3600000ull

/* A key that only makes sense for some values of a section's kind (policy, check type). */
struct only_for {
    const char *key;
    unsigned kinds; /* bit 1 << kind for each kind that accepts it */
    const char *where;
};

/* The config being filled in, which w->ctx carries to every handler. */
static inline struct config *cfg(struct yw *w)
{
    return w->ctx;
}

static inline struct conf_mark mark_of(const yaml_node_t *n)
{
    return (struct conf_mark){yw_line(n), yw_col(n)};
}

static inline bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static inline bool is_alnum(char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ---- shared by several sections (confparse.c) ---- */

void check_name(struct yw *w, yaml_node_t *k, const char *kind, const char *name,
                const char *example);
const char *known_names(char *buf, size_t cap, const void *items, size_t n, size_t stride);
/* Reports each key of map that the table t says the given kind does not take. */
void reject_foreign(struct yw *w, yaml_node_t *map, const struct only_for *t, size_t n,
                    unsigned kind);
bool region_list(struct yw *w, yaml_node_t *n, const char *key, struct conf_choice *out);
bool weight_set(struct yw *w, yaml_node_t *n, const char *key, struct conf_choice *out);
bool ip_parse(const char *s, struct conf_ip *ip);
bool conf_cidr_parse(struct yw *w, yaml_node_t *k, const char *s, struct conf_net *net);
bool domain_normalise(const char *in, char *out, bool allow_root);

/* ---- the sections, each filling its part of cfg(w); conf.c calls them in order ---- */

void load_server(struct yw *w, yaml_node_t *n);                              /* conf_server.c */
void load_zone_map(struct yw *w, yaml_node_t *v, struct conf_zone *z);       /* conf_dnssec.c */
void load_rrl(struct yw *w, yaml_node_t *n);                                 /* conf_server.c */
void load_geoip(struct yw *w, yaml_node_t *n);                               /* conf_geoip.c */
void load_check(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item);   /* conf_checks.c */
void load_region(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item);  /* conf_regions.c */
void load_service(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item); /* conf_services.c */
void load_fleet(struct yw *w, yaml_node_t *n);                               /* fleet/fleetconf.c */
