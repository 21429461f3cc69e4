/* dyn.c — compiling regions and services at load, and answering a dynamic name.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/dyn.h"
#include "geoip/dyntypes.h"
#include "geoip/latency.h"
#include "geoip/nettree.h"
#include "zones/dname.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_uint next_id = 1;

/* ---- regions ------------------------------------------------------------------------- */

static bool region_addresses(struct dyn *d, struct dyn_region *r, const struct conf_region *cr,
                             bool initial_up)
{
    uint8_t *v4 = arena_alloc(&d->arena, cr->naddresses * 4 + 1);
    uint8_t *v6 = arena_alloc(&d->arena, cr->naddresses * 16 + 1);
    struct addr_state **s4 = arena_alloc(&d->arena, (cr->naddresses + 1) * sizeof(*s4));
    struct addr_state **s6 = arena_alloc(&d->arena, (cr->naddresses + 1) * sizeof(*s6));
    if (!v4 || !v6 || !s4 || !s6)
        return false;
    for (size_t i = 0; i < cr->naddresses; i++) {
        const struct conf_ip *ip = &cr->addresses[i];
        struct addr_state *st = state_addr(cr->name, ip->text, initial_up);
        if (!st)
            return false;
        if (ip->family == AF_INET) {
            memcpy(v4 + 4 * r->nv4, ip->addr, 4);
            s4[r->nv4++] = st;
        } else {
            memcpy(v6 + 16 * r->nv6, ip->addr, 16);
            s6[r->nv6++] = st;
        }
    }
    r->v4 = v4;
    r->v6 = v6;
    r->v4st = s4;
    r->v6st = s6;
    return true;
}

static bool region_build(struct dyn *d, struct dyn_region *r, const struct config *c,
                         const struct conf_region *cr)
{
    r->name = cr->name;
    r->has_loc = cr->has_location;
    r->lat = cr->lat * M_PI / 180;
    r->lon = cr->lon * M_PI / 180;
    r->st = state_region(cr->name);
    bool initial_up = cr->check < 0 || !c->checks[cr->check].initial_down;
    if (!r->st || !region_addresses(d, r, cr, initial_up))
        return false;
    if (cr->cname) {
        uint8_t wire[DNAME_MAX + 1];
        const char *why;
        int n = dname_from_text(cr->cname, strlen(cr->cname), NULL, wire, &why);
        if (n < 0 || !(r->cname = arena_memdup(&d->arena, wire, (size_t)n)))
            return false;
    }
    return true;
}

/* ---- services ------------------------------------------------------------------------ */

static const struct dyn_choice *choice_build(struct dyn *d, const struct conf_choice *cc,
                                             const char *label)
{
    struct dyn_choice *c = arena_alloc(&d->arena, sizeof(*c));
    uint16_t *regions = arena_alloc(&d->arena, (cc->n + 1) * sizeof(*regions));
    uint32_t *weights = cc->weights ? arena_alloc(&d->arena, (cc->n + 1) * sizeof(*weights)) : NULL;
    if (!c || !regions || (cc->weights && !weights))
        return NULL;
    for (size_t i = 0; i < cc->n; i++) {
        regions[i] = (uint16_t)cc->regions[i];
        if (weights)
            weights[i] = cc->weights[i];
    }
    c->n = (unsigned)cc->n;
    c->regions = regions;
    c->weights = weights;
    c->label = arena_strdup(&d->arena, label);
    return c;
}

static bool geo_key(struct dyn *d, struct dyn_service *s, const struct conf_geo_entry *e)
{
    const struct dyn_choice *c = choice_build(d, &e->choice, e->key);
    if (!c)
        return false;
    const char *k = e->key;
    size_t len = strlen(k);
    s->map[s->nmap++] = c;
    if (strcmp(k, "default") == 0) {
        s->deflt = c;
    } else if (len == 2 && continent_index(k) < CONTINENTS) {
        s->by_continent[continent_index(k)] = c; /* "AS" is Asia, never American Samoa */
    } else if (len == 2) {
        if (!s->by_country && !(s->by_country = arena_alloc(&d->arena, COUNTRY_SLOTS * sizeof(c))))
            return false;
        s->by_country[(k[0] - 'A') * 26 + (k[1] - 'A')] = c;
    } else {
        struct dyn_subdiv *sd = &s->subdivs[s->nsubdivs++];
        snprintf(sd->key, sizeof(sd->key), "%s", k);
        sd->choice = c;
    }
    return true;
}

/* The choice geo_key filed key under. */
static const struct dyn_choice *geo_lookup_key(const struct dyn_service *s, const char *k)
{
    size_t len = strlen(k);
    if (strcmp(k, "default") == 0)
        return s->deflt;
    if (len == 2 && continent_index(k) < CONTINENTS)
        return s->by_continent[continent_index(k)];
    if (len == 2)
        return s->by_country[(k[0] - 'A') * 26 + (k[1] - 'A')];
    for (unsigned i = 0; i < s->nsubdivs; i++)
        if (strcmp(s->subdivs[i].key, k) == 0)
            return s->subdivs[i].choice;
    return s->deflt;
}

static bool service_geo(struct dyn *d, struct dyn_service *s, const struct conf_service *cs)
{
    s->subdivs = arena_alloc(&d->arena, (cs->nmap + 1) * sizeof(*s->subdivs));
    s->map = arena_alloc(&d->arena, (cs->nmap + 1) * sizeof(*s->map));
    if (!s->subdivs || !s->map)
        return false;
    for (size_t i = 0; i < cs->nmap; i++)
        if (!geo_key(d, s, &cs->map[i]))
            return false;
    return s->deflt != NULL;
}

static bool service_build(struct dyn *d, struct dyn_service *s, const struct config *c,
                          const struct conf_service *cs, struct diag *diag)
{
    s->name = cs->name;
    s->policy = cs->policy;
    s->ttl = cs->ttl;
    s->ttl_degraded = cs->ttl_degraded;
    s->failback_manual = cs->failback_manual;
    s->max_answers = cs->max_answers;
    if (!(s->sst = state_service(cs->name)))
        return false;
    s->st = arena_alloc(&d->arena, (c->nregions + 1) * sizeof(*s->st));
    if (!s->st)
        return false;
    for (size_t r = 0; r < c->nregions; r++)
        if (!(s->st[r] = state_svc_region(cs->name, c->regions[r].name)))
            return false;
    const struct dyn_choice *set = choice_build(d, &cs->set, cs->name);
    if (!set)
        return false;
    s->set = *set;
    if (cs->policy == POLICY_LATENCY) {
        s->latency = latency_load(cs->latency_table, c, diag);
        if (!s->latency)
            return false;
    }
    return cs->policy != POLICY_GEO || service_geo(d, s, cs);
}

/* ---- operator networks --------------------------------------------------------------- */

static bool nets_build(struct dyn *d, const struct conf_geoip *g)
{
    if (!g->nnets)
        return true;
    d->net_choices = arena_alloc(&d->arena, g->nnets * sizeof(*d->net_choices));
    if (!d->net_choices || !(d->nets = nettree_new()))
        return false;
    for (size_t i = 0; i < g->nnets; i++) {
        const struct conf_net *n = &g->nets[i];
        char label[96];
        snprintf(label, sizeof(label), "%s/%u", n->ip.text, n->prefix);
        struct conf_choice cc = {.regions = n->regions, .n = n->nregions};
        const struct dyn_choice *c = choice_build(d, &cc, label);
        if (!c || nettree_add(d->nets, n->ip.family, n->ip.addr, n->prefix, c) == -2)
            return false; /* -1, a duplicate, cannot happen: the config rejects those */
        d->net_choices[d->nnets++] = c;
    }
    nettree_seal(d->nets);
    return true;
}

/* ---- fail-open entries ---------------------------------------------------------------- */

/* A service's entries: what a client can be answered from, each failing open alone. */
static bool entries_build(struct dyn *d, struct dyn_service *s, const struct conf_service *cs)
{
    bool located = s->policy != POLICY_WEIGHTED && s->policy != POLICY_FAILOVER;
    size_t n = (s->policy == POLICY_GEO ? cs->nmap : 1) + (located ? d->nnets : 0);
    s->entries = arena_alloc(&d->arena, n * sizeof(*s->entries));
    if (!s->entries)
        return false;
    if (s->policy == POLICY_GEO) {
        for (size_t i = 0; i < cs->nmap; i++) /* the same order as the config's keys */
            s->entries[s->nentries++] = geo_lookup_key(s, cs->map[i].key);
    } else {
        struct dyn_choice *c = arena_alloc(&d->arena, sizeof(*c));
        if (!c)
            return false;
        *c = s->set.n || !located ? s->set : d->all;
        c->label = "*";
        s->entries[s->nentries++] = c;
    }
    for (unsigned i = 0; located && i < d->nnets; i++)
        s->entries[s->nentries++] = d->net_choices[i];
    return true;
}

/* ---- life cycle ---------------------------------------------------------------------- */

static bool dyn_build(struct dyn *d, const struct config *c, struct diag *diag)
{
    d->regions = arena_alloc(&d->arena, (c->nregions + 1) * sizeof(*d->regions));
    d->services = arena_alloc(&d->arena, (c->nservices + 1) * sizeof(*d->services));
    uint16_t *all = arena_alloc(&d->arena, (c->nregions + 1) * sizeof(*all));
    if (!d->regions || !d->services || !all)
        return false;
    for (size_t i = 0; i < c->nregions; i++)
        all[i] = (uint16_t)i;
    d->all = (struct dyn_choice){(unsigned)c->nregions, all, NULL, "all regions"};
    for (size_t i = 0; i < c->nregions; i++)
        if (!region_build(d, &d->regions[d->nregions++], c, &c->regions[i]))
            return false;
    for (size_t i = 0; i < c->nservices; i++)
        if (!service_build(d, &d->services[d->nservices++], c, &c->services[i], diag))
            return false;
    if (!nets_build(d, &c->geoip))
        return false;
    for (unsigned i = 0; i < d->nservices; i++)
        if (!compile_service(d, &d->services[i], &c->services[i]) ||
            !entries_build(d, &d->services[i], &c->services[i]))
            return false;
    return true;
}

struct dyn *dyn_new(const struct config *c, struct diag *diag)
{
    struct dyn *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    arena_init(&d->arena);
    d->id = atomic_fetch_add(&next_id, 1);
    d->conf = c;
    unsigned errors = diag->errors;
    /* Regions and services are counted in 16 bits on the query path. */
    if (c->nregions > UINT16_MAX || c->nservices > UINT16_MAX) {
        diag_error(diag, c->path, 0, 0,
                   "more than %u regions or services; that many cannot be "
                   "told apart",
                   UINT16_MAX);
        dyn_free(d);
        return NULL;
    }
    if (c->geoip.ndatabases && !(d->geodb = geodb_open(&c->geoip, diag))) {
        dyn_free(d);
        return NULL;
    }
    if (!dyn_build(d, c, diag) || d->arena.failed) {
        if (diag->errors == errors)
            diag_error(diag, c->path, 0, 0, "out of memory building regions and services");
        dyn_free(d);
        return NULL;
    }
    return d;
}

void dyn_free(struct dyn *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i < d->nservices; i++) {
        latency_free(d->services[i].latency);
        compile_release(d->services[i].tree);
    }
    nettree_free(d->nets);
    geodb_close(d->geodb);
    arena_free(&d->arena);
    free(d);
}

/* Whether service may ever pick region r. */
static bool service_uses(const struct conf_service *cs, unsigned r)
{
    if (cs->set.n == 0 && (cs->policy == POLICY_NEAREST || cs->policy == POLICY_LATENCY))
        return true;
    for (size_t i = 0; i < cs->set.n; i++)
        if (cs->set.regions[i] == r)
            return true;
    for (size_t m = 0; m < cs->nmap; m++)
        for (size_t i = 0; i < cs->map[m].choice.n; i++)
            if (cs->map[m].choice.regions[i] == r)
                return true;
    return false;
}

bool dyn_service_uses(const struct dyn *d, unsigned service, unsigned region)
{
    return service_uses(&d->conf->services[service], region);
}

bool dyn_service_has_cnames(const struct dyn *d, unsigned service)
{
    const struct conf_service *cs = &d->conf->services[service];
    for (unsigned r = 0; r < d->nregions; r++)
        if (service_uses(cs, r) && !d->regions[r].cname)
            return false;
    return true;
}

bool dyn_region_healthy(const struct dyn *d, unsigned region)
{
    return region_healthy(&d->regions[region]);
}

unsigned dyn_service_count(const struct dyn *d)
{
    return d->nservices;
}

const char *dyn_service_name(const struct dyn *d, unsigned service)
{
    return d->services[service].name;
}

bool dyn_service_all_down(const struct dyn *d, unsigned service)
{
    const struct conf_service *cs = &d->conf->services[service];
    const struct dyn_service *s = &d->services[service];
    for (unsigned r = 0; r < d->nregions; r++)
        if (service_uses(cs, r) && region_admin_ok(d, s, r) && region_healthy(&d->regions[r]))
            return false;
    return true;
}

unsigned dyn_failover_order(const struct dyn *d, unsigned service, const uint16_t **regions)
{
    const struct dyn_service *s = &d->services[service];
    *regions = s->set.regions;
    return s->policy == POLICY_FAILOVER ? s->set.n : 0;
}

bool dyn_region_admitted(const struct dyn *d, unsigned service, unsigned region)
{
    return region_admin_ok(d, &d->services[service], region);
}

unsigned dyn_entry_count(const struct dyn *d, unsigned service)
{
    return d->services[service].nentries;
}

const char *dyn_entry_label(const struct dyn *d, unsigned service, unsigned entry)
{
    return d->services[service].entries[entry]->label;
}

bool dyn_entry_usable(const struct dyn *d, unsigned service, unsigned entry,
                      const struct dyn_without *w)
{
    const struct dyn_service *s = &d->services[service];
    return choice_usable(d, s, s->entries[entry], w);
}

const char *dyn_service_tree_note(const struct dyn *d, unsigned service)
{
    return d->services[service].tree_note;
}

struct dyn_scratch *dyn_scratch_new(void)
{
    struct dyn_scratch *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ws->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uintptr_t)ws;
    ws->rng |= 1; /* xorshift never leaves zero */
    return ws;
}

void dyn_scratch_free(struct dyn_scratch *ws)
{
    free(ws);
}

/* ---- answering ----------------------------------------------------------------------- */

/* The region's addresses of the family asked for: those up, or all when none is (the
 * region is up through its other family, or the service failed open). */
static void pick_addresses(const struct dyn_region *r, const struct dyn_service *s, bool v6,
                           struct dyn_scratch *ws, struct dyn_answer *out)
{
    unsigned n = v6 ? r->nv6 : r->nv4, size = v6 ? 16 : 4;
    const uint8_t *base = v6 ? r->v6 : r->v4;
    struct addr_state *const *st = v6 ? r->v6st : r->v4st;
    for (int all = 0; all < 2 && out->n == 0; all++)
        for (unsigned i = 0; i < n && out->n < DYN_MAX_ANSWERS; i++)
            if (all || state_up(st[i]))
                out->addr[out->n++] = base + (size_t)i * size;
    unsigned want = s->max_answers && s->max_answers < out->n ? s->max_answers : out->n;
    if (!s->max_answers)
        return;
    /* A partial Fisher-Yates shuffle: want random addresses out of n, in random order. */
    for (unsigned i = 0; i < want; i++) {
        unsigned j = i + (unsigned)(scratch_random(ws) % (out->n - i));
        const uint8_t *t = out->addr[i];
        out->addr[i] = out->addr[j];
        out->addr[j] = t;
    }
    out->n = want;
}

/* Whether an address of the answer has failed its last probe but is not down yet. */
static bool any_suspect(const struct dyn_region *r, bool v6, const struct dyn_answer *out)
{
    const uint8_t *base = v6 ? r->v6 : r->v4;
    struct addr_state *const *st = v6 ? r->v6st : r->v4st;
    size_t size = v6 ? 16 : 4;
    for (unsigned i = 0; i < out->n; i++)
        if (atomic_load_explicit(&st[(size_t)(out->addr[i] - base) / size]->suspect,
                                 memory_order_relaxed))
            return true;
    return false;
}

/* ttl_degraded applies while the answer may soon change: an address of it is failing its
 * probes, a shift runs, or the answer fails open. */
static bool degraded(const struct dyn_service *s, const struct dyn_region *r, uint16_t qtype,
                     const struct dyn_answer *out)
{
    if (out->fail_open || atomic_load_explicit(&s->sst->shifting, memory_order_relaxed))
        return true;
    return r && qtype != 5 && any_suspect(r, qtype == 28, out);
}

static void trace_answer(const struct dyn *d, const struct dyn_answer *a, uint16_t qtype,
                         struct diag *trace)
{
    if (a->region < 0) {
        diag_note(trace, "answer: no region");
        return;
    }
    diag_note(trace, "chosen: %s%s, ECS scope /%u", d->regions[a->region].name,
              a->fail_open ? " (every candidate down: failing open)" : "", a->scope);
    for (unsigned i = 0; i < a->n; i++) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(qtype == 28 ? AF_INET6 : AF_INET, a->addr[i], text, sizeof(text));
        diag_note(trace, "answer: %s %s", qtype == 28 ? "AAAA" : "A", text);
    }
    if (a->cname) {
        char text[DNAME_TEXTMAX];
        dname_to_text(a->cname, text, sizeof(text));
        diag_note(trace, "answer: CNAME %s", text);
    }
}

/* explain: the reference path's steps (the record, the place, the map key), then what
 * the compiled tree says, which is what the answer uses. */
static void trace_decision(const struct dyn *d, const struct dyn_service *s,
                           const struct dyn_client *client, const struct dyn_choice *c,
                           uint8_t depth, struct diag *trace)
{
    struct location loc;
    struct decide_buf buf = {malloc((2 * d->nregions + 1) * sizeof(uint16_t)),
                             malloc((2 * d->nregions + 1) * sizeof(double))};
    struct decision ref = {0};
    locate(d, client, &loc, trace);
    if (buf.regions && buf.dist)
        policy_decide(d, s, &loc, &buf, &ref, trace);
    if (s->tree && client->family && client->bits) {
        uint8_t net[16] = {0};
        for (unsigned i = 0; i < depth; i++)
            net[i >> 3] |= (uint8_t)(client->addr[i >> 3] & (0x80u >> (i & 7)));
        char text[INET6_ADDRSTRLEN];
        inet_ntop(client->family, net, text, sizeof(text));
        diag_note(trace, "compiled tree: %s/%u decides [%s]%s, merging %lu database networks", text,
                  depth, c->label, c->weights ? " (weighted)" : "",
                  compile_count_networks(d, client->family, net, depth));
    }
    if (ref.n != c->n || memcmp(ref.regions, c->regions, ref.n * sizeof(*ref.regions)))
        diag_note(trace, "(the step-by-step path decides otherwise: a defect, please report)");
    free(buf.regions);
    free(buf.dist);
    policy_trace_candidates(d, s, c, trace);
}

void dyn_resolve(const struct dyn *d, unsigned service, uint16_t qtype,
                 const struct dyn_client *client, struct dyn_scratch *ws, struct dyn_answer *out,
                 struct diag *trace)
{
    const struct dyn_service *s = &d->services[service];
    const struct dyn_choice *c = &s->set;
    uint8_t scope = 0;
    if (s->tree) {
        uint32_t id =
            client->family && client->bits
                ? dectree_lookup(s->tree, client->family, client->addr, client->bits, &scope)
                : s->tree->unknown;
        c = s->choices[id];
    }
    if (trace)
        trace_decision(d, s, client, c, scope, trace);
    out->n = 0;
    out->cname = NULL;
    out->ttl = s->ttl;
    bool dync = qtype == 5;
    out->region = policy_run(d, s, c, ws, dync, &out->fail_open);
    out->pair = out->region >= 0 ? (int32_t)s->st[out->region]->id : -1;
    out->scope = scope < client->bits ? scope : client->bits;
    if (out->region >= 0) {
        const struct dyn_region *r = &d->regions[out->region];
        if (dync)
            out->cname = r->cname;
        else
            pick_addresses(r, s, qtype == 28, ws, out);
    }
    out->ttl_degraded = 0;
    if (s->ttl_degraded &&
        degraded(s, out->region >= 0 ? &d->regions[out->region] : NULL, qtype, out)) {
        out->ttl_degraded = s->ttl_degraded;
        if (trace)
            diag_note(trace, "TTL at most %u: the answer may soon change", s->ttl_degraded);
    }
    if (trace)
        trace_answer(d, out, qtype, trace);
}

bool dyn_client_parse(const char *text, struct dyn_client *c)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    memset(c, 0, sizeof(*c));
    c->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(c->family, buf, c->addr) != 1)
        return false;
    unsigned max = c->family == AF_INET ? 32 : 128;
    char *end = NULL;
    unsigned long bits = slash ? strtoul(slash, &end, 10) : max;
    if ((slash && (end == slash || *end)) || bits > max)
        return false;
    c->bits = (uint8_t)bits;
    c->ecs = slash != NULL;
    for (unsigned i = 0; i < 16; i++) /* bits past the prefix are unknown: zero them */
        if (i * 8 >= bits)
            c->addr[i] = 0;
        else if (i * 8 + 8 > bits)
            c->addr[i] &= (uint8_t)(0xFF << (8 - (bits - i * 8)));
    return true;
}
