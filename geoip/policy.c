/* policy.c — choosing a region for a service: geo maps, nearest, latency, weighted and
 * failover, each skipping what is drained or down, and failing open when nothing is left.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/dyntypes.h"
#include "geoip/latency.h"

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

/* The candidates nearest first, ties in configured order; those without a location
 * (or at no measurable distance) left out.  Nowhere to measure from: configured order,
 * every candidate.  Writes at most nregions entries after the n already in out. */
static unsigned nearest_rank(const struct dyn *d, const struct dyn_service *s,
                             const struct place *p, struct decide_buf *buf, unsigned n)
{
    uint16_t *out = buf->regions;
    double *dist = buf->dist;
    const struct dyn_choice *c = s->set.n ? &s->set : &d->all;
    if (!p->has_coords) {
        for (unsigned i = 0; i < c->n; i++)
            out[n++] = c->regions[i];
        return n;
    }
    double lat = p->lat * M_PI / 180, lon = p->lon * M_PI / 180;
    unsigned first = n;
    for (unsigned i = 0; i < c->n; i++) {
        const struct dyn_region *r = &d->regions[c->regions[i]];
        double x = r->has_loc ? arc(lat, lon, r->lat, r->lon) : NAN;
        if (isnan(x))
            continue;
        /* Insertion after every one no farther: a stable sort, ties in config order. */
        unsigned j = n++;
        while (j > first && dist[j - 1 - first] > x) {
            out[j] = out[j - 1];
            dist[j - first] = dist[j - 1 - first];
            j--;
        }
        out[j] = c->regions[i];
        dist[j - first] = x;
    }
    return n;
}

/* ---- latency ------------------------------------------------------------------------- */

static bool listed(const uint16_t *v, unsigned n, uint16_t r)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] == r)
            return true;
    return false;
}

/* The table's rows fastest first, then the nearest ranking (RFC-less but documented: a
 * place the table lacks falls back to nearest).  A region already listed is down or
 * drained when its turn comes again, so it is listed once. */
static unsigned latency_rank(const struct dyn *d, const struct dyn_service *s,
                             const struct location *loc, struct decide_buf *buf, struct diag *trace)
{
    uint16_t *out = buf->regions;
    const struct latency_row *rows = NULL;
    unsigned prefix = 0, n = 0;
    size_t nrows = loc->known ? latency_lookup(s->latency, loc->family, loc->addr, loc->bits,
                                               loc->place.country, &rows, &prefix)
                              : 0;
    for (size_t i = 0; i < nrows; i++) {
        if (trace)
            diag_note(trace, "  latency table: %s %.1f ms", d->regions[rows[i].region].name,
                      (double)rows[i].rtt_ms);
        if (!listed(out, n, (uint16_t)rows[i].region))
            out[n++] = (uint16_t)rows[i].region;
    }
    unsigned rows_end = n;
    n = nearest_rank(d, s, &loc->place, buf, n);
    unsigned kept = rows_end;
    for (unsigned i = rows_end; i < n; i++)
        if (!listed(out, rows_end, out[i]))
            out[kept++] = out[i];
    return kept;
}

/* ---- the decision and the choice ------------------------------------------------------ */

static void from_dyn_choice(const struct dyn_choice *c, struct decision *out)
{
    *out = (struct decision){(uint16_t)c->n, c->weights != NULL, c->weights ? c->label : NULL,
                             c->regions};
}

void policy_decide(const struct dyn *d, const struct dyn_service *s, const struct location *loc,
                   struct decide_buf *buf, struct decision *out, struct diag *trace)
{
    if (trace)
        diag_note(trace, "service %s: policy %s", s->name,
                  (const char *[]){"geo", "weighted", "nearest", "latency", "failover"}[s->policy]);
    if (loc->net && s->policy != POLICY_WEIGHTED && s->policy != POLICY_FAILOVER) {
        from_dyn_choice(loc->net, out);
        return;
    }
    switch (s->policy) {
    case POLICY_GEO:
        from_dyn_choice(geo_choice(s, &loc->place, trace), out);
        return;
    case POLICY_NEAREST:
        *out = (struct decision){(uint16_t)nearest_rank(d, s, &loc->place, buf, 0), false, NULL,
                                 buf->regions};
        return;
    case POLICY_LATENCY:
        *out = (struct decision){(uint16_t)latency_rank(d, s, loc, buf, trace), false, NULL,
                                 buf->regions};
        return;
    case POLICY_WEIGHTED:
    case POLICY_FAILOVER:
        from_dyn_choice(&s->set, out);
        return;
    }
}

void policy_trace_candidates(const struct dyn *d, const struct dyn_service *s,
                             const struct dyn_choice *c, struct diag *trace)
{
    for (unsigned i = 0; i < c->n; i++)
        trace_region(d, s, c->regions[i], trace);
}

/* failback: manual.  While a region of the order is held, the ones before it wait for
 * `meridianctl failback`; only when nothing from the held one on is healthy do they serve
 * again (the ordinary pass), before any failing open.  -1: no hold decides. */
static int failover_held(const struct dyn *d, const struct dyn_service *s,
                         const struct dyn_choice *c, bool dync)
{
    for (unsigned h = 0; h < c->n; h++) {
        if (!atomic_load_explicit(&s->st[c->regions[h]]->held, memory_order_relaxed))
            continue;
        for (unsigned i = h; i < c->n; i++)
            if (eligible(d, s, c->regions[i], dync, PASS_HEALTHY))
                return c->regions[i];
        break;
    }
    return -1;
}

int policy_run(const struct dyn *d, const struct dyn_service *s, const struct dyn_choice *c,
               struct dyn_scratch *ws, bool dync, bool *fail_open)
{
    for (enum pass p = PASS_HEALTHY; p < PASSES; p++) {
        int r = s->failback_manual && p == PASS_HEALTHY ? failover_held(d, s, c, dync) : -1;
        if (r < 0)
            r = from_choice(d, s, c, ws, dync, p);
        if (r >= 0) {
            *fail_open = p != PASS_HEALTHY;
            return r;
        }
    }
    return -1;
}
