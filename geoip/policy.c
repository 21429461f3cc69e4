/* policy.c — choosing a region for a service: geo maps, nearest, latency, weighted and
 * failover, each skipping what is drained or down, and failing open when nothing is left.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/dyntypes.h"
#include "geoip/latency.h"
#include "geoip/nettree.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* How strict a pass over the candidates is.  When no candidate passes the first, the
 * second ignores health (fail open, as Route 53 does); the third ignores drains too, so
 * that a service always answers something. */
enum pass { PASS_HEALTHY, PASS_ADMIN, PASS_ANY, PASSES };

bool region_healthy(const struct dyn_region *r)
{
    if (r->nv4 + r->nv6 == 0)
        return true; /* a CNAME-only region has nothing to probe */
    for (unsigned i = 0; i < r->nv4; i++)
        if (state_up(r->v4st[i]))
            return true;
    for (unsigned i = 0; i < r->nv6; i++)
        if (state_up(r->v6st[i]))
            return true;
    return false;
}

static int64_t weight_override(const struct dyn_service *s, unsigned r)
{
    return atomic_load_explicit(&s->st[r]->weight, memory_order_relaxed);
}

bool region_admin_ok(const struct dyn *d, const struct dyn_service *s, unsigned r)
{
    return !state_drained(d->regions[r].st) &&
           !atomic_load_explicit(&s->st[r]->drained, memory_order_relaxed) &&
           weight_override(s, r) != 0;
}

static bool eligible(const struct dyn *d, const struct dyn_service *s, unsigned r, bool dync,
                     enum pass pass)
{
    if (dync && !d->regions[r].cname)
        return false;
    if (pass == PASS_ANY)
        return true;
    if (!region_admin_ok(d, s, r))
        return false;
    return pass == PASS_ADMIN || region_healthy(&d->regions[r]);
}

static void trace_region(const struct dyn *d, const struct dyn_service *s, unsigned r,
                         struct diag *trace)
{
    const struct dyn_region *g = &d->regions[r];
    const char *why = state_drained(g->st)              ? "drained"
                      : atomic_load(&s->st[r]->drained) ? "drained here"
                      : weight_override(s, r) == 0      ? "weight 0"
                      : !region_healthy(g)              ? "down"
                                                        : "up";
    diag_note(trace, "  candidate %s: %s%s", g->name, why,
              atomic_load(&s->st[r]->held) ? ", traffic held here (failback: manual)" : "");
}

static int ordered(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
                   bool dync, enum pass pass)
{
    for (unsigned i = 0; i < c->n; i++)
        if (eligible(d, s, c->regions[i], dync, pass))
            return c->regions[i];
    return -1;
}

static uint64_t effective_weight(const struct dyn_service *s, const struct dyn_choice *c,
                                 unsigned i)
{
    int64_t w = weight_override(s, c->regions[i]);
    return w >= 0 ? (uint64_t)w : c->weights[i];
}

bool choice_usable(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
                   const struct dyn_without *w)
{
    bool here = w && w->regions && (w->service < 0 || &d->services[w->service] == s);
    for (unsigned i = 0; i < c->n; i++) {
        unsigned r = c->regions[i];
        if (here && w->regions[r])
            continue;
        if (region_admin_ok(d, s, r) && region_healthy(&d->regions[r]) &&
            (!c->weights || effective_weight(s, c, i) > 0))
            return true;
    }
    return false;
}

/* Proportional choice among the eligible, weights renormalised over them. */
static int weighted(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
                    struct dyn_scratch *ws, bool dync, enum pass pass)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < c->n; i++)
        if (eligible(d, s, c->regions[i], dync, pass))
            total += effective_weight(s, c, i);
    if (total == 0)
        return pass == PASS_ANY ? ordered(d, s, c, dync, pass) : -1;
    uint64_t x = scratch_random(ws) % total;
    for (unsigned i = 0; i < c->n; i++) {
        if (!eligible(d, s, c->regions[i], dync, pass))
            continue;
        uint64_t w = effective_weight(s, c, i);
        if (x < w)
            return c->regions[i];
        x -= w;
    }
    return -1;
}

static int from_choice(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
                       struct dyn_scratch *ws, bool dync, enum pass pass)
{
    return c->weights ? weighted(d, s, c, ws, dync, pass) : ordered(d, s, c, dync, pass);
}

/* ---- geo ----------------------------------------------------------------------------- */

static const struct dyn_choice *geo_choice(const struct dyn_service *s, const struct place *p,
                                           struct diag *trace)
{
    const struct dyn_choice *c = NULL;
    if (s->nsubdivs && p->country[0] && p->subdivision[0]) {
        char key[40];
        snprintf(key, sizeof(key), "%s-%s", p->country, p->subdivision);
        for (unsigned i = 0; i < s->nsubdivs && !c; i++)
            if (strcmp(s->subdivs[i].key, key) == 0)
                c = s->subdivs[i].choice;
    }
    const char *cc = p->country;
    if (!c && s->by_country && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z')
        c = s->by_country[(cc[0] - 'A') * 26 + (cc[1] - 'A')];
    uint16_t ci = continent_index(p->continent);
    if (!c && ci < CONTINENTS)
        c = s->by_continent[ci];
    if (!c)
        c = s->deflt;
    if (trace)
        diag_note(trace, "policy geo: map key %s", c->label);
    return c;
}

/* ---- nearest ------------------------------------------------------------------------- */

/* Great-circle distance in radians (haversine; both points in radians). */
static double arc(double lat1, double lon1, double lat2, double lon2)
{
    double a = sin((lat2 - lat1) / 2), b = sin((lon2 - lon1) / 2);
    double h = a * a + cos(lat1) * cos(lat2) * b * b;
    return 2 * asin(sqrt(h < 1 ? h : 1));
}

static int nearest(const struct dyn *d, const struct dyn_service *s, const struct place *p,
                   bool dync, enum pass pass)
{
    const struct dyn_choice *c = s->set.n ? &s->set : &d->all;
    if (!p->has_coords)
        return ordered(d, s, c, dync, pass); /* nowhere to measure from: configured order */
    double lat = p->lat * M_PI / 180, lon = p->lon * M_PI / 180, best = 10;
    int pick = -1;
    for (unsigned i = 0; i < c->n; i++) {
        const struct dyn_region *r = &d->regions[c->regions[i]];
        if (!r->has_loc || !eligible(d, s, c->regions[i], dync, pass))
            continue;
        double x = arc(lat, lon, r->lat, r->lon);
        if (x < best) {
            best = x;
            pick = c->regions[i];
        }
    }
    return pick;
}

/* ---- latency ------------------------------------------------------------------------- */

static int latency(const struct dyn *d, const struct dyn_service *s, const struct location *loc,
                   const struct latency_row *rows, size_t n, bool dync, enum pass pass)
{
    for (size_t i = 0; i < n; i++)
        if (eligible(d, s, rows[i].region, dync, pass))
            return (int)rows[i].region;
    return nearest(d, s, &loc->place, dync, pass); /* RFC-less but documented: fall back */
}

/* ---- the entry point ----------------------------------------------------------------- */

struct ctx {
    const struct dyn *d;
    const struct dyn_service *s;
    const struct location *loc;
    struct dyn_scratch *ws;
    bool dync;
    const struct dyn_choice *choice; /* geo, or nets for a location policy */
    const struct latency_row *rows;
    size_t nrows;
};

/* failback: manual.  While a region of the order is held, the ones before it wait for
 * `meridianctl failback`; only when nothing from the held one on is healthy do they serve
 * again, before any failing open. */
static int failover(const struct ctx *x, enum pass pass)
{
    const struct dyn_choice *c = &x->s->set;
    for (unsigned h = 0; x->s->failback_manual && pass == PASS_HEALTHY && h < c->n; h++) {
        if (!atomic_load_explicit(&x->s->st[c->regions[h]]->held, memory_order_relaxed))
            continue;
        for (unsigned i = h; i < c->n; i++)
            if (eligible(x->d, x->s, c->regions[i], x->dync, pass))
                return c->regions[i];
        break;
    }
    return ordered(x->d, x->s, c, x->dync, pass);
}

static int run_pass(const struct ctx *x, enum pass pass)
{
    switch (x->s->policy) {
    case POLICY_GEO:
        return from_choice(x->d, x->s, x->choice, x->ws, x->dync, pass);
    case POLICY_NEAREST:
        return x->choice ? from_choice(x->d, x->s, x->choice, x->ws, x->dync, pass)
                         : nearest(x->d, x->s, &x->loc->place, x->dync, pass);
    case POLICY_LATENCY:
        return x->choice ? from_choice(x->d, x->s, x->choice, x->ws, x->dync, pass)
                         : latency(x->d, x->s, x->loc, x->rows, x->nrows, x->dync, pass);
    case POLICY_WEIGHTED:
        return from_choice(x->d, x->s, &x->s->set, x->ws, x->dync, pass);
    case POLICY_FAILOVER:
        return failover(x, pass);
    }
    return -1;
}

static void trace_candidates(const struct ctx *x, struct diag *trace)
{
    const struct dyn_choice *c = x->choice ? x->choice : &x->s->set;
    if (x->s->policy == POLICY_LATENCY && !x->choice) {
        for (size_t i = 0; i < x->nrows; i++)
            diag_note(trace, "  latency table: %s %.1f ms", x->d->regions[x->rows[i].region].name,
                      (double)x->rows[i].rtt_ms);
    }
    for (unsigned i = 0; i < c->n; i++)
        trace_region(x->d, x->s, c->regions[i], trace);
}

/* The ECS scope the decision depends on: location policies depend on the network that
 * placed the client; weighted and failover answers are the same everywhere. */
static uint8_t decided_scope(const struct ctx *x, unsigned latency_prefix)
{
    const struct location *l = x->loc;
    if (x->s->policy == POLICY_WEIGHTED || x->s->policy == POLICY_FAILOVER || !l->known)
        return 0;
    if (x->s->policy != POLICY_LATENCY || l->net)
        return l->prefix;
    /* A table network decided, or the place did.  Either way no longer table network or
     * operator network inside the scope may send these clients elsewhere (RFC 7871 §7.3). */
    unsigned p = x->nrows && latency_prefix ? latency_prefix : l->prefix;
    unsigned deeper = latency_deepest_within(x->s->latency, l->family, l->addr, p);
    p = deeper > p ? deeper : p;
    deeper = x->d->nets ? nettree_deepest_within(x->d->nets, l->family, l->addr, p) : 0;
    return (uint8_t)(deeper > p ? deeper : p);
}

int policy_pick(const struct dyn *d, const struct dyn_service *s, const struct location *loc,
                struct dyn_scratch *ws, bool dync, bool *fail_open, uint8_t *scope,
                struct diag *trace)
{
    struct ctx x = {d, s, loc, ws, dync, loc->net, NULL, 0};
    unsigned lat_prefix = 0;
    if (trace)
        diag_note(trace, "service %s: policy %s", s->name,
                  (const char *[]){"geo", "weighted", "nearest", "latency", "failover"}[s->policy]);
    if (s->policy == POLICY_GEO && !x.choice)
        x.choice = geo_choice(s, &loc->place, trace);
    if (s->policy == POLICY_LATENCY && !x.choice && loc->known)
        x.nrows = latency_lookup(s->latency, loc->family, loc->addr, loc->bits, loc->place.country,
                                 &x.rows, &lat_prefix);
    if (trace)
        trace_candidates(&x, trace);
    *scope = decided_scope(&x, lat_prefix);
    for (enum pass p = PASS_HEALTHY; p < PASSES; p++) {
        int r = run_pass(&x, p);
        if (r >= 0) {
            *fail_open = p != PASS_HEALTHY;
            return r;
        }
    }
    return -1;
}
