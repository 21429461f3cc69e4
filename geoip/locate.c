/* locate.c — from a client address to a place: operator networks first, then the GeoIP
 * databases.  The reference path: compile.c turns it into a tree per service, and
 * explain shows its steps.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/countries.h"
#include "geoip/dyntypes.h"
#include "geoip/nettree.h"

#include <arpa/inet.h>
#include <string.h>

uint16_t continent_index(const char *code)
{
    static const char codes[CONTINENTS][3] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    for (uint16_t i = 0; i < CONTINENTS; i++)
        if (code[0] == codes[i][0] && code[1] == codes[i][1] && !code[2])
            return i;
    return CONTINENTS;
}

/* A country-only database still yields a continent and a point for nearest. */
static void complete_place(struct place *p)
{
    const struct country_info *ci = p->country[0] ? country_find(p->country) : NULL;
    if (!ci)
        return;
    if (!p->continent[0])
        memcpy(p->continent, ci->continent, sizeof(p->continent));
    if (!p->has_coords) {
        p->has_coords = true;
        p->lat = ci->lat;
        p->lon = ci->lon;
    }
}

void locate_place(const struct dyn *d, const struct geodb_hit *h, struct place *out)
{
    geodb_place(d->geodb, h, out);
    complete_place(out);
}

static void trace_client(const struct dyn_client *c, struct diag *trace)
{
    char text[INET6_ADDRSTRLEN];
    inet_ntop(c->family, c->addr, text, sizeof(text));
    diag_note(trace, "client: %s/%u (%s)", text, c->bits,
              c->ecs ? "EDNS Client Subnet" : "the query's source address");
}

static void trace_place(const struct dyn *d, const struct location *l, struct diag *trace)
{
    const struct place *p = &l->place;
    if (!l->hit.found) {
        diag_note(trace, "database: no record (empty network /%u)", l->prefix);
        return;
    }
    char dump[2048];
    size_t n = geodb_dump(d->geodb, &l->hit, dump, sizeof(dump));
    diag_note(trace, "database: %s, network /%u, record:\n%.*s",
              geodb_describe(d->geodb, l->hit.db), l->prefix, (int)n, dump);
    diag_note(trace, "place: continent %s, country %s, subdivision %s, location %s%.2f,%.2f",
              p->continent[0] ? p->continent : "-", p->country[0] ? p->country : "-",
              p->subdivision[0] ? p->subdivision : "-", p->has_coords ? "" : "unknown ",
              (double)p->lat, (double)p->lon);
}

void locate(const struct dyn *d, const struct dyn_client *c, struct location *out,
            struct diag *trace)
{
    memset(out, 0, sizeof(*out));
    if (!c->family || c->bits == 0) {
        if (trace)
            diag_note(trace, "client: no address bits to locate (ECS source prefix 0)");
        return;
    }
    out->known = true;
    out->family = c->family;
    memcpy(out->addr, c->addr, sizeof(out->addr));
    out->bits = c->bits;
    if (trace)
        trace_client(c, trace);
    unsigned prefix = 0;
    out->net = d->nets ? nettree_lookup(d->nets, c->family, c->addr, c->bits, &prefix) : NULL;
    if (out->net) {
        out->prefix = (uint8_t)prefix;
        if (trace)
            diag_note(trace, "geoip.nets: %s decides", out->net->label);
        return;
    }
    if (!geodb_count(d->geodb)) {
        if (trace)
            diag_note(trace, "database: none configured");
        return;
    }
    out->hit = geodb_lookup(d->geodb, c->family, c->addr);
    out->prefix = out->hit.prefix;
    if (out->hit.found)
        locate_place(d, &out->hit, &out->place);
    if (trace)
        trace_place(d, out, trace);
}
