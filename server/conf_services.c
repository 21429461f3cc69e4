/* conf_services.c — the services: section: each service's policy and what it chooses
 * between: a geo map, weights, the nearest or fastest region, or a failover order.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"

#include <stdio.h>
#include <string.h>

#define MAX_TTL 2147483647ull /* RFC 2181 §8 */

static const char *const policy_names[] = {"geo", "weighted", "nearest", "latency", "failover"};

static void parse_ttl(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_service *s = obj;
    const char *t = yw_text(v);
    unsigned long long ms;
    unsigned *ttl = strcmp(f->key, "ttl") ? &s->ttl_degraded : &s->ttl;
    if (t && yw_parse_ms(t, &ms) && ms % 1000 == 0 && ms / 1000 <= MAX_TTL)
        *ttl = (unsigned)(ms / 1000);
    else
        yw_error(w, v,
                 "\"%s\" must be whole seconds from 0 to %llu, as a number or a duration, "
                 "e.g. %s: 30 or %s: 5m",
                 f->key, MAX_TTL, f->key, f->key);
}

static void parse_failback(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_service *s = obj;
    const char *t = yw_text(v);
    if (t && (!strcmp(t, "auto") || !strcmp(t, "manual")))
        s->failback_manual = !strcmp(t, "manual");
    else
        yw_error(w, v,
                 "\"%s\" must be auto (back to the primary once it is up) or manual (stay on "
                 "the secondary until meridianctl failback), e.g. %s: manual",
                 f->key, f->key);
}

static const struct yw_field service_fields[] = {
    YW_ACCEPT("policy"),
    YW_HANDLER("ttl", parse_ttl, "30"),
    YW_HANDLER("ttl_degraded", parse_ttl, "5"),
    YW_HANDLER("failback", parse_failback, "manual"),
    YW_VALUE("max_answers", YW_UINT, struct conf_service, max_answers, 0, 65535, "2"),
    YW_ACCEPT("map"),
    YW_ACCEPT("weights"),
    YW_ACCEPT("regions"),
    YW_ACCEPT("latency_table"),
    YW_ACCEPT("order"),
};

static const struct only_for service_only[] = {
    {"map", 1u << POLICY_GEO, "policy: geo"},
    {"weights", 1u << POLICY_WEIGHTED, "policy: weighted"},
    {"regions", (1u << POLICY_NEAREST) | (1u << POLICY_LATENCY), "policy: nearest or latency"},
    {"latency_table", 1u << POLICY_LATENCY, "policy: latency"},
    {"order", 1u << POLICY_FAILOVER, "policy: failover"},
    {"failback", 1u << POLICY_FAILOVER, "policy: failover"},
};

/* The value of a key the policy cannot do without, or NULL after saying how to add it. */
static yaml_node_t *required(struct yw *w, yaml_node_t *k, yaml_node_t *map,
                             const struct conf_service *s, const char *key, const char *example)
{
    yaml_node_t *v = yw_get(w, map, key);
    if (!v)
        yw_error(w, k, "service \"%s\" with policy: %s needs \"%s\", e.g. %s: %s", s->name,
                 policy_names[s->policy], key, key, example);
    return v;
}

/* Keys of a geo map: "default", a continent, an ISO 3166-1 country, an ISO 3166-2
 * subdivision ("US-CA": country, dash, one to three letters or digits). */
static bool geo_key_ok(const char *k)
{
    size_t sub = 0;
    if (!strcmp(k, "default"))
        return true;
    if (!is_upper(k[0]) || !is_upper(k[1]))
        return false;
    if (!k[2])
        return true;
    if (k[2] != '-')
        return false;
    while (k[3 + sub] && (is_upper(k[3 + sub]) || (k[3 + sub] >= '0' && k[3 + sub] <= '9')))
        sub++;
    return sub >= 1 && sub <= 3 && !k[3 + sub];
}

static void geo_key_error(struct yw *w, yaml_node_t *k, const char *key)
{
    char up[16] = "";
    size_t i = 0;
    for (; i < sizeof(up) - 1 && key[i]; i++)
        up[i] = key[i] >= 'a' && key[i] <= 'z' ? (char)(key[i] - 'a' + 'A') : key[i];
    up[i] = '\0';
    if (!key[i] && strcmp(key, up) && geo_key_ok(up))
        yw_error(w, k, "map key \"%s\" must be upper-case; write %s", key, up);
    else
        yw_error(w, k,
                 "map key \"%s\" is not a place; use default, a continent (AF AN AS EU NA "
                 "OC SA), a country such as GB, or a subdivision such as US-CA",
                 key);
}

static void geo_entry(struct yw *w, yaml_node_t *k, yaml_node_t *v, struct conf_geo_entry *e)
{
    const char *key = yw_text(k);
    e->key = arena_strdup(w->arena, key);
    e->mark = mark_of(k);
    if (!geo_key_ok(key))
        geo_key_error(w, k, key);
    if (yw_is_map(v))
        (void)weight_set(w, v, key, &e->choice);
    else
        (void)region_list(w, v, key, &e->choice);
}

static void service_geo(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    yaml_node_t *m = required(w, k, map, s, "map", "{ EU: [eu-west-1], default: [us-east-1] }");
    if (!m || !yw_mapping(w, m, "\"map\""))
        return;
    s->map = arena_alloc(w->arena, yw_len(m) * sizeof(*s->map));
    for (size_t i = 0; s->map && i < yw_len(m); i++)
        if (yw_text(yw_key(w, m, i)))
            geo_entry(w, yw_key(w, m, i), yw_value(w, m, i), &s->map[s->nmap++]);
    if (!yw_get(w, m, "default"))
        yw_error(w, m,
                 "the map of service \"%s\" has no \"default\"; add default: [REGION] for "
                 "clients that no other key matches",
                 s->name);
}

/* Distance needs a place on the map for every region the policy may pick. */
static void require_locations(struct yw *w, yaml_node_t *at, const struct conf_service *s)
{
    const struct config *c = cfg(w);
    size_t n = s->set.n ? s->set.n : c->nregions;
    if (!n)
        yw_error(w, at, "policy %s has no regions to choose from; define some under regions:",
                 policy_names[s->policy]);
    for (size_t i = 0; i < n; i++) {
        const struct conf_region *r = &c->regions[s->set.n ? s->set.regions[i] : i];
        if (!r->has_location)
            yw_error(w, at,
                     "policy %s needs the location of every region it may choose; add "
                     "location: [LAT, LON] to region \"%s\"",
                     policy_names[s->policy], r->name);
    }
}

static void service_nearest(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    static const struct yw_field table = {.key = "latency_table", .example = "rtt.csv"};
    yaml_node_t *regions = yw_get(w, map, "regions"), *t;
    if (regions && !region_list(w, regions, "regions", &s->set))
        return;
    require_locations(w, yw_get(w, map, "policy"), s);
    if (s->policy != POLICY_LATENCY)
        return;
    t = required(w, k, map, s, "latency_table", "/etc/meridian/rtt.csv");
    if (t)
        s->latency_table = yw_path(w, t, &table);
}

static void service_policy(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    yaml_node_t *v;
    switch (s->policy) {
    case POLICY_GEO:
        service_geo(w, k, map, s);
        break;
    case POLICY_WEIGHTED:
        if ((v = required(w, k, map, s, "weights", "{ us-east-1: 80, eu-west-1: 20 }")))
            (void)weight_set(w, v, "weights", &s->set);
        break;
    case POLICY_NEAREST:
    case POLICY_LATENCY:
        service_nearest(w, k, map, s);
        break;
    case POLICY_FAILOVER:
        if ((v = required(w, k, map, s, "order", "[us-east-1, eu-west-1]")))
            (void)region_list(w, v, "order", &s->set);
        break;
    }
}

static bool read_policy(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    yaml_node_t *p = yw_get(w, map, "policy");
    const char *t = yw_text(p);
    if (!p) {
        yw_error(w, k,
                 "service \"%s\" needs a policy, e.g. policy: geo (or weighted, nearest, "
                 "latency, failover)",
                 s->name);
        return false;
    }
    for (unsigned i = 0; t && i < ARRAY_LEN(policy_names); i++)
        if (!strcmp(t, policy_names[i])) {
            s->policy = (enum policy_kind)i;
            return true;
        }
    yw_error(w, p,
             "\"policy\" must be geo, weighted, nearest, latency or failover, e.g. "
             "policy: geo");
    return false;
}

void load_service(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    struct conf_service *s = item;
    char what[320];
    s->name = arena_strdup(w->arena, yw_text(k));
    s->mark = mark_of(k);
    check_name(w, k, "service", yw_text(k), "web");
    snprintf(what, sizeof(what), "service \"%s\"", yw_text(k));
    yw_fields(w, v, what, service_fields, ARRAY_LEN(service_fields), s);
    if ((!yw_is_map(v) && !yw_is_null(v)) || !read_policy(w, k, v, s))
        return;
    reject_foreign(w, v, service_only, ARRAY_LEN(service_only), s->policy);
    service_policy(w, k, v, s);
}
