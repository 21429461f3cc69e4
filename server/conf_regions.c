/* conf_regions.c — the regions: section: each region's location, addresses or cname, and
 * the check that watches it.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool degrees(const yaml_node_t *n, double *out)
{
    const char *s = yw_text(n);
    char *end;
    if (!s || !*s)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

static void parse_location(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    double lat, lon;
    if (yw_len(v) != 2 || !yw_is_seq(v) || !degrees(yw_item(w, v, 0), &lat) ||
        !degrees(yw_item(w, v, 1), &lon)) {
        yw_error(w, v, "\"%s\" must be [latitude, longitude] in degrees, e.g. %s: %s", f->key,
                 f->key, f->example);
    } else if (fabs(lat) > 90) {
        yw_error(w, yw_item(w, v, 0),
                 "latitude %g is out of range; it must be from -90 (south) "
                 "to 90 (north)",
                 lat);
    } else if (fabs(lon) > 180) {
        yw_error(w, yw_item(w, v, 1),
                 "longitude %g is out of range; it must be from -180 (west) "
                 "to 180 (east)",
                 lon);
    } else {
        r->has_location = true;
        r->lat = lat;
        r->lon = lon;
    }
}

static void address_one(struct yw *w, yaml_node_t *n, struct conf_region *r)
{
    const char *t = yw_text(n);
    struct conf_ip *ip = &r->addresses[r->naddresses];
    if (!t || !ip_parse(t, ip)) {
        yw_error(w, n,
                 "\"%s\" is not an IPv4 or IPv6 address; write one address per item, e.g. "
                 "192.0.2.10 or \"2001:db8::10\"",
                 t ? t : "(not text)");
        return;
    }
    for (size_t i = 0; i < r->naddresses; i++)
        if (!strcmp(r->addresses[i].text, ip->text)) {
            yw_error(w, n, "address %s is listed twice; remove one", ip->text);
            return;
        }
    r->naddresses++;
}

static void parse_addresses(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    size_t n = yw_list_len(v);
    if (!n) {
        yw_error(w, v, "\"%s\" must be an IP address or a list of them, e.g. %s: %s", f->key,
                 f->key, f->example);
        return;
    }
    r->addresses = arena_alloc(w->arena, n * sizeof(*r->addresses));
    for (size_t i = 0; r->addresses && i < n; i++)
        address_one(w, yw_list_item(w, v, i), r);
}

static void parse_cname(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    const char *t = yw_text(v);
    char name[256];
    if (t && domain_normalise(t, name, false))
        r->cname = arena_strdup(w->arena, name);
    else
        yw_error(w, v, "\"cname\" must be a domain name, e.g. cname: %s", f->example);
}

static void unknown_check(struct yw *w, yaml_node_t *v, const char *name)
{
    const struct config *c = cfg(w);
    char list[400];
    yw_error(w, v, "unknown check \"%s\"; known checks: %s", name,
             known_names(list, sizeof(list), c->checks, c->nchecks, sizeof(*c->checks)));
}

static void parse_check_ref(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    struct config *c = cfg(w);
    const char *t = yw_text(v);
    for (size_t i = 0; t && i < c->nchecks; i++)
        if (c->checks[i].name && !strcmp(c->checks[i].name, t)) {
            r->check = (int)i;
            return;
        }
    if (!t || yw_is_null(v))
        yw_error(w, v, "\"%s\" must name a check, e.g. %s: %s", f->key, f->key, f->example);
    else if (!c->nchecks)
        yw_error(w, v, "unknown check \"%s\"; no checks are defined, add it under checks:", t);
    else
        unknown_check(w, v, t);
}

static const struct yw_field region_fields[] = {
    YW_HANDLER("location", parse_location, "[38.9, -77.0]"),
    YW_HANDLER("addresses", parse_addresses, "[192.0.2.10, \"2001:db8::10\"]"),
    YW_HANDLER("cname", parse_cname, "us-east-1.lb.example.net."),
    YW_HANDLER("check", parse_check_ref, "web-health"),
};

void load_region(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    struct conf_region *r = item;
    char what[320];
    r->name = arena_strdup(w->arena, yw_text(k));
    r->mark = mark_of(k);
    r->check = -1;
    check_name(w, k, "region", yw_text(k), "us-east-1");
    snprintf(what, sizeof(what), "region \"%s\"", yw_text(k));
    yw_fields(w, v, what, region_fields, ARRAY_LEN(region_fields), r);
    if ((yw_is_map(v) || yw_is_null(v)) && !yw_get(w, v, "addresses") && !yw_get(w, v, "cname"))
        yw_error(w, k,
                 "region \"%s\" has no addresses; add addresses: [IP, ...] or, for DYNC "
                 "services only, a cname:",
                 yw_text(k));
}
