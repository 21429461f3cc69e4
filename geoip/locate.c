/* locate.c — from a client address to a place: operator networks first, then the GeoIP
 * databases, with whole locations cached per thread by client prefix and decoded records
 * by database record.
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

static uint64_t cache_key(const struct dyn *d, const struct geodb_hit *h)
{
    return (uint64_t)d->id << 40 | (uint64_t)h->db << 32 | h->record;
}

static void cached_place(const struct dyn *d, const struct geodb_hit *h, struct dyn_scratch *ws,
                         struct place *out)
{
    uint64_t key = cache_key(d, h);
    /* Fibonacci hashing spreads neighbouring record offsets over the slots. */
    struct cached_place *slot = &ws->places[(key * 0x9E3779B97F4A7C15ULL) >> 52];
    if (slot->key != key) {
        geodb_place(d->geodb, h, &slot->place);
        complete_place(&slot->place);
        slot->key = key;
    }
    *out = slot->place;
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

/* RFC 7871 §7.3: the scope must not cover an operator network that decides otherwise. */
static void floor_prefix(const struct dyn *d, struct location *l)
{
    unsigned deeper = d->nets ? nettree_deepest_within(d->nets, l->family, l->addr, l->prefix) : 0;
    if (deeper > l->prefix)
        l->prefix = (uint8_t)deeper;
}

static void locate_fresh(const struct dyn *d, const struct dyn_client *c, struct dyn_scratch *ws,
                         struct location *out, struct diag *trace)
{
    memset(out, 0, sizeof(*out));
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
        floor_prefix(d, out);
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
    floor_prefix(d, out);
    if (out->hit.found)
        cached_place(d, &out->hit, ws, &out->place);
    if (trace)
        trace_place(d, out, trace);
}

/* The set of a client prefix.  Addresses arrive with the bits past the prefix zeroed
 * (packet.c and dyn_client_parse see to it), so equal prefixes have equal bytes. */
static struct cached_location *client_set(struct dyn_scratch *ws, const struct dyn_client *c)
{
    uint64_t hi, lo;
    memcpy(&hi, c->addr, 8);
    memcpy(&lo, c->addr + 8, 8);
    uint64_t h =
        (hi ^ (lo * 0xC2B2AE3D27D4EB4FULL) ^ ((uint64_t)c->bits << 8 | (unsigned)c->family)) *
        0x9E3779B97F4A7C15ULL;
    return &ws->clients[(h >> (64 - CLIENT_SETS_LOG2)) * CLIENT_WAYS];
}

static bool same_client(const struct location *l, const struct dyn_client *c)
{
    return l->family == c->family && l->bits == c->bits && !memcmp(l->addr, c->addr, 16);
}

/* A location depends on the client prefix and the load alone (health and weights act
 * later, in the policy), and resolvers send the same prefixes again and again: the tree
 * walks through the databases, the operator networks and the record decoding are done
 * once per prefix and thread.  explain (trace) always walks, to show every step. */
const struct location *locate(const struct dyn *d, const struct dyn_client *c,
                              struct dyn_scratch *ws, struct location *buf, struct diag *trace)
{
    if (!c->family || c->bits == 0) {
        memset(buf, 0, sizeof(*buf));
        if (trace)
            diag_note(trace, "client: no address bits to locate (ECS source prefix 0)");
        return buf;
    }
    if (trace) {
        locate_fresh(d, c, ws, buf, trace);
        return buf;
    }
    struct cached_location *set = client_set(ws, c);
    for (unsigned i = 0; i < CLIENT_WAYS; i++)
        if (set[i].id == d->id && same_client(&set[i].loc, c))
            return &set[i].loc;
    /* A miss: the entries move one way down, the last one leaves, the new one goes first. */
    memmove(set + 1, set, (CLIENT_WAYS - 1) * sizeof(*set));
    locate_fresh(d, c, ws, &set[0].loc, NULL);
    set[0].id = d->id;
    return &set[0].loc;
}
