/* compile.c — a service's decisions over the whole address space, as one prefix tree per
 * family.
 *
 * The walk descends every database's search tree at once, bit by bit, with geoip.nets
 * and the service's latency-table networks beside it.  Where every database's walk has
 * reached a record or an empty network and no operator or table network lies deeper,
 * the decision holds for the whole prefix: it is worked out once by the reference path
 * (policy_decide on the location locate would give) and becomes a leaf.  Two sibling
 * leaves of one decision merge into their parent, so a leaf stands for the largest
 * aligned prefix of one decision, which is the widest ECS scope that is still true.
 * A leaf never covers a deeper geoip.nets or latency-table network (README, Dynamic
 * names), so those always split the walk down to their own prefix.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/dyntypes.h"
#include "geoip/latency.h"
#include "geoip/nettree.h"
#include "geoip/treecache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_DBS 64 /* databases one walk follows; more are refused at load */

/* Where the zero-padded address of a prefix ends up in the databases: the first with a
 * record wins (geodb_lookup), db -1 when none has one. */
struct outcome {
    int db;
    uint32_t record;
};

struct result {
    uint32_t ref;
    struct outcome zero; /* where the prefix's lowest address ends up */
    uint32_t zero_id;    /* the decision of the leaf that holds it */
};

/* Decisions already worked out, by what they depend on. */
struct dkey {
    const void *net, *rows;
    struct outcome o;
};
struct dslot {
    struct dkey key;
    uint32_t id;
    bool used;
};

/* Subtrees already walked (the IPv4 tree is reachable from several IPv6 prefixes), by
 * where each database's walk stands. */
struct sslot {
    uint64_t hash;
    uint32_t keyat; /* into skeys */
    struct result r;
    bool used;
};

struct walk {
    const struct dyn *d;
    const struct dyn_service *s;
    struct dectree *t;
    int family;
    unsigned bits, ndb, min_leaf;
    uint8_t addr[16];
    struct decide_buf buf;
    struct dslot *dmemo;
    size_t dcap, dused;
    struct dkey last; /* the last decision asked for, and its id */
    uint32_t last_id;
    struct sslot *smemo;
    size_t scap, sused;
    uint32_t *skeys;
    size_t skn, skcap;
    unsigned long networks;
    bool failed;
};

/* ---- memo tables ----------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ULL;
}

static uint64_t dkey_hash(const struct dkey *k)
{
    return mix(mix(mix((uintptr_t)k->net, (uintptr_t)k->rows), (uint64_t)(k->o.db + 1)),
               k->o.record);
}

static bool dkey_eq(const struct dkey *a, const struct dkey *b)
{
    return a->net == b->net && a->rows == b->rows && a->o.db == b->o.db &&
           a->o.record == b->o.record;
}

static bool dmemo_grow(struct walk *w)
{
    size_t cap = w->dcap ? w->dcap * 2 : 1024;
    struct dslot *v = calloc(cap, sizeof(*v));
    if (!v)
        return false;
    for (size_t i = 0; i < w->dcap; i++) {
        if (!w->dmemo[i].used)
            continue;
        size_t j = dkey_hash(&w->dmemo[i].key) & (cap - 1);
        while (v[j].used)
            j = (j + 1) & (cap - 1);
        v[j] = w->dmemo[i];
    }
    free(w->dmemo);
    w->dmemo = v;
    w->dcap = cap;
    return true;
}

/* ---- decisions --------------------------------------------------------------------------- */

/* The decision of the current prefix (w->addr, `depth` bits) for a client the
 * reference path would place at o, with operator network net and table rows as found. */
static uint32_t decide(struct walk *w, unsigned depth, const struct dyn_choice *net,
                       const void *rows, struct outcome o)
{
    struct dkey k = {net, rows, o};
    /* Neighbouring networks often share their record: ask the table only on a change. */
    if (w->dused && dkey_eq(&w->last, &k))
        return w->last_id;
    w->last = k;
    if (w->dused * 2 >= w->dcap && !dmemo_grow(w)) {
        w->failed = true;
        return 0;
    }
    size_t i = dkey_hash(&k) & (w->dcap - 1);
    for (; w->dmemo[i].used; i = (i + 1) & (w->dcap - 1))
        if (dkey_eq(&w->dmemo[i].key, &k))
            return w->last_id = w->dmemo[i].id;
    struct location loc = {.family = w->family, .bits = (uint8_t)depth, .net = net, .known = true};
    memcpy(loc.addr, w->addr, sizeof(loc.addr));
    if (o.db >= 0) {
        loc.hit = (struct geodb_hit){.found = true, .db = (unsigned)o.db, .record = o.record};
        locate_place(w->d, &loc.hit, &loc.place);
    }
    struct decision dec;
    policy_decide(w->d, w->s, &loc, &w->buf, &dec, NULL);
    uint32_t id = dectree_intern(w->t, &dec);
    if (id == UINT32_MAX) {
        w->failed = true;
        return 0;
    }
    w->dmemo[i] = (struct dslot){k, id, true};
    w->dused++;
    return w->last_id = id;
}

static struct outcome outcome_of(const struct walk *w, const struct geodb_cursor *c)
{
    for (unsigned i = 0; i < w->ndb; i++)
        if (c[i].step == GEODB_RECORD)
            return (struct outcome){(int)i, c[i].value};
    return (struct outcome){-1, 0};
}

/* Where the lowest address under the cursors ends up: down the zero side to the end. */
static struct outcome zero_outcome(const struct walk *w, const struct geodb_cursor *c,
                                   unsigned depth)
{
    struct geodb_cursor z[MAX_DBS];
    for (unsigned i = 0; i < w->ndb; i++) {
        z[i] = c[i];
        for (unsigned d = depth; d < w->bits && z[i].step == GEODB_NODE; d++)
            z[i] = geodb_down(w->d->geodb, i, z[i], 0);
        if (z[i].step == GEODB_NODE) /* a node past the last bit: a damaged tree */
            z[i].step = GEODB_NONE;
    }
    return outcome_of(w, z);
}

/* ---- walked subtrees ------------------------------------------------------------------- */

static uint64_t skey_hash(const struct walk *w, const struct geodb_cursor *c, const void *rows)
{
    uint64_t h = (uintptr_t)rows;
    for (unsigned i = 0; i < w->ndb; i++)
        h = mix(h, (uint64_t)c[i].step << 32 | c[i].value);
    return h;
}

static bool skey_eq(const struct walk *w, const uint32_t *k, const struct geodb_cursor *c,
                    const void *rows)
{
    if (memcmp(k, &rows, sizeof(rows)))
        return false;
    k += sizeof(rows) / sizeof(*k);
    for (unsigned i = 0; i < w->ndb; i++)
        if (k[2 * i] != c[i].step || k[2 * i + 1] != c[i].value)
            return false;
    return true;
}

static struct sslot *smemo_find(struct walk *w, const struct geodb_cursor *c, const void *rows,
                                uint64_t h)
{
    if (!w->scap)
        return NULL;
    for (size_t i = h & (w->scap - 1);; i = (i + 1) & (w->scap - 1)) {
        struct sslot *e = &w->smemo[i];
        if (!e->used || (e->hash == h && skey_eq(w, w->skeys + e->keyat, c, rows)))
            return e;
    }
}

static bool smemo_grow(struct walk *w)
{
    size_t cap = w->scap ? w->scap * 2 : 1024;
    struct sslot *v = calloc(cap, sizeof(*v));
    if (!v)
        return false;
    for (size_t i = 0; i < w->scap; i++) {
        if (!w->smemo[i].used)
            continue;
        size_t j = w->smemo[i].hash & (cap - 1);
        while (v[j].used)
            j = (j + 1) & (cap - 1);
        v[j] = w->smemo[i];
    }
    free(w->smemo);
    w->smemo = v;
    w->scap = cap;
    return true;
}

static void smemo_put(struct walk *w, const struct geodb_cursor *c, const void *rows,
                      struct result r)
{
    size_t words = sizeof(rows) / sizeof(uint32_t) + 2 * w->ndb;
    if ((w->sused + 1) * 2 > w->scap && !smemo_grow(w))
        return; /* only a cache */
    if (w->skn + words > w->skcap) {
        size_t cap = (w->skcap + words) * 2;
        uint32_t *v = realloc(w->skeys, cap * sizeof(*v));
        if (!v)
            return;
        w->skeys = v;
        w->skcap = cap;
    }
    uint64_t h = skey_hash(w, c, rows);
    struct sslot *e = smemo_find(w, c, rows, h);
    uint32_t *k = w->skeys + w->skn;
    memcpy(k, &rows, sizeof(rows));
    k += sizeof(rows) / sizeof(*k);
    for (unsigned i = 0; i < w->ndb; i++) {
        k[2 * i] = c[i].step;
        k[2 * i + 1] = c[i].value;
    }
    *e = (struct sslot){h, (uint32_t)w->skn, r, true};
    w->skn += words;
    w->sused++;
}

/* ---- the walk ------------------------------------------------------------------------- */

static void set_bit(uint8_t *addr, unsigned i, unsigned b)
{
    uint8_t m = (uint8_t)(0x80u >> (i & 7));
    addr[i >> 3] = (uint8_t)(b ? addr[i >> 3] | m : addr[i >> 3] & ~m);
}

/* Whether an operator or table network lies inside the prefix, deeper than it. */
static bool deeper_network(const struct walk *w, unsigned depth)
{
    const struct nettree *nets = w->d->nets;
    const struct latency_table *lat = w->s->latency;
    return (nets && nettree_deepest_within(nets, w->family, w->addr, depth) > depth) ||
           (lat && latency_deepest_within(lat, w->family, w->addr, depth) > depth);
}

static const void *table_rows(const struct walk *w, unsigned depth)
{
    const struct latency_row *rows = NULL;
    if (w->s->latency)
        latency_lookup(w->s->latency, w->family, w->addr, depth, NULL, &rows, NULL);
    return rows;
}

static struct result walk(struct walk *w, const struct geodb_cursor *c, unsigned depth, bool quiet);

static struct result split(struct walk *w, const struct geodb_cursor *c, unsigned depth,
                           bool forced, const struct dyn_choice *net, const void *rows)
{
    /* No operator or table network covers this prefix or lies in it: none below either. */
    bool quiet = !forced && !net && !rows;
    struct geodb_cursor next[MAX_DBS];
    struct result r[2];
    for (unsigned b = 0; b < 2; b++) {
        for (unsigned i = 0; i < w->ndb; i++)
            next[i] = geodb_down(w->d->geodb, i, c[i], b);
        set_bit(w->addr, depth, b);
        r[b] = walk(w, next, depth + 1, quiet);
        set_bit(w->addr, depth, 0);
    }
    if (r[0].ref == r[1].ref && (r[0].ref & DT_LEAF) && !forced && depth >= w->min_leaf)
        return r[0];
    /* Without a deeper network inside, a source prefix ending here is decided as its
     * lowest address is (dt_stop). */
    uint32_t stop = forced ? decide(w, depth, net, rows, r[0].zero) : r[0].zero_id;
    uint32_t ref = stop == r[0].zero_id ? dectree_node(w->t, r[0].ref, r[1].ref)
                                        : dectree_node_stop(w->t, r[0].ref, r[1].ref, stop);
    if (ref == UINT32_MAX)
        w->failed = true;
    return (struct result){ref, r[0].zero, r[0].zero_id};
}

static struct result walk(struct walk *w, const struct geodb_cursor *c, unsigned depth, bool quiet)
{
    if (w->failed)
        return (struct result){DT_LEAF, {-1, 0}, 0};
    bool at_end = true;
    for (unsigned i = 0; i < w->ndb; i++)
        at_end = at_end && c[i].step != GEODB_NODE;
    if (depth == w->bits && !at_end) { /* a node past the last bit: a damaged tree */
        struct geodb_cursor z[MAX_DBS];
        for (unsigned i = 0; i < w->ndb; i++)
            z[i] = c[i].step == GEODB_NODE ? (struct geodb_cursor){GEODB_NONE, 0} : c[i];
        return walk(w, z, depth, quiet);
    }
    bool forced = !quiet && deeper_network(w, depth);
    const struct dyn_choice *net =
        !quiet && w->d->nets ? nettree_lookup(w->d->nets, w->family, w->addr, depth, NULL) : NULL;
    const void *rows = quiet ? NULL : table_rows(w, depth);
    if (!forced && depth >= w->min_leaf && (net || at_end)) {
        struct outcome o = at_end ? outcome_of(w, c) : zero_outcome(w, c, depth);
        uint32_t id = decide(w, depth, net, rows, o);
        w->networks++;
        return (struct result){DT_LEAF | id, o, id};
    }
    bool memo = !forced && !net && depth % 16 == 0;
    uint64_t h = memo ? skey_hash(w, c, rows) : 0;
    struct sslot *e = memo ? smemo_find(w, c, rows, h) : NULL;
    if (e && e->used)
        return e->r;
    struct result r = split(w, c, depth, forced, net, rows);
    if (memo && !w->failed)
        smemo_put(w, c, rows, r);
    return r;
}

static void walk_family(struct walk *w, int family)
{
    struct geodb_cursor start[MAX_DBS];
    w->family = family;
    w->bits = family == AF_INET ? 32 : 128;
    memset(w->addr, 0, sizeof(w->addr));
    for (unsigned i = 0; i < w->ndb; i++)
        start[i] = geodb_start(w->d->geodb, i, family);
    w->t->root[family == AF_INET6] = walk(w, start, 0, false).ref;
}

/* ---- the inputs, as a key -------------------------------------------------------------- */

struct key {
    uint8_t *p;
    size_t n, cap;
    bool failed;
};

static void put(struct key *k, const void *p, size_t n)
{
    if (k->n + n > k->cap) {
        size_t cap = (k->n + n) * 2 + 256;
        uint8_t *v = realloc(k->p, cap);
        if (!v) {
            k->failed = true;
            return;
        }
        k->p = v;
        k->cap = cap;
    }
    memcpy(k->p + k->n, p, n);
    k->n += n;
}

static void put_u64(struct key *k, uint64_t v)
{
    put(k, &v, sizeof(v));
}

static void put_str(struct key *k, const char *s)
{
    put_u64(k, s ? strlen(s) + 1 : 0);
    if (s)
        put(k, s, strlen(s));
}

/* A file by what tells a new version apart: where it is, and its size and times. */
static void put_file(struct key *k, const char *path)
{
    struct stat st;
    put_str(k, path);
    if (stat(path, &st) != 0)
        memset(&st, 0, sizeof(st));
    put_u64(k, (uint64_t)st.st_dev);
    put_u64(k, (uint64_t)st.st_ino);
    put_u64(k, (uint64_t)st.st_size);
    put_u64(k, (uint64_t)st.st_mtim.tv_sec);
    put_u64(k, (uint64_t)st.st_mtim.tv_nsec);
    put_u64(k, (uint64_t)st.st_ctim.tv_sec);
    put_u64(k, (uint64_t)st.st_ctim.tv_nsec);
}

static void put_choice(struct key *k, const struct conf_choice *c)
{
    put_u64(k, c->n);
    for (size_t i = 0; i < c->n; i++)
        put_u64(k, c->regions[i]);
    put_u64(k, c->weights != NULL); /* weights themselves act at run time */
}

/* Everything the decisions depend on; weights and health are not among them. */
static void service_key(struct key *k, const struct config *c, const struct conf_service *cs)
{
    const struct conf_geoip *g = &c->geoip;
    put_u64(k, cs->policy);
    for (size_t i = 0; i < g->ndatabases; i++)
        put_file(k, g->databases[i]);
    put_str(k, g->fields.continent);
    put_str(k, g->fields.country);
    put_str(k, g->fields.subdivision);
    put_str(k, g->fields.latitude);
    put_str(k, g->fields.longitude);
    put_u64(k, g->nnets);
    for (size_t i = 0; i < g->nnets; i++) {
        put(k, g->nets[i].ip.addr, sizeof(g->nets[i].ip.addr));
        put_u64(k, (uint64_t)g->nets[i].ip.family << 8 | g->nets[i].prefix);
        struct conf_choice ch = {g->nets[i].regions, NULL, g->nets[i].nregions};
        put_choice(k, &ch);
    }
    for (size_t i = 0; i < cs->nmap; i++) {
        put_str(k, cs->map[i].key);
        put_choice(k, &cs->map[i].choice);
    }
    put_choice(k, &cs->set);
    if (cs->policy == POLICY_GEO)
        return;
    for (size_t i = 0; i < c->nregions; i++) {
        const struct conf_region *r = &c->regions[i];
        put_str(k, r->name);
        put_u64(k, r->has_location);
        put(k, &r->lat, sizeof(r->lat));
        put(k, &r->lon, sizeof(r->lon));
    }
    if (cs->latency_table)
        put_file(k, cs->latency_table);
}

/* ---- compiling a service ------------------------------------------------------------- */

/* Processor time: what a compile costs, whatever else the machine is doing. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dectree *compile(const struct dyn *d, const struct dyn_service *s)
{
    double t0 = now();
    struct walk w = {.d = d, .s = s, .t = dectree_new(), .ndb = geodb_count(d->geodb)};
    /* The answer for an unknown address never carries scope 0 (README, Dynamic names)
     * unless nothing at all tells addresses apart. */
    w.min_leaf = w.ndb ? 1 : 0;
    w.buf.regions = malloc((2 * d->nregions + 1) * sizeof(*w.buf.regions));
    w.buf.dist = malloc((2 * d->nregions + 1) * sizeof(*w.buf.dist));
    w.failed = !w.t || !w.buf.regions || !w.buf.dist || w.ndb > MAX_DBS;
    if (!w.failed) {
        walk_family(&w, AF_INET);
        walk_family(&w, AF_INET6);
        struct location none = {0};
        struct decision dec;
        policy_decide(d, s, &none, &w.buf, &dec, NULL);
        w.t->unknown = dectree_intern(w.t, &dec);
        w.failed = w.failed || w.t->unknown == UINT32_MAX || !dectree_seal(w.t);
    }
    free(w.buf.regions);
    free(w.buf.dist);
    free(w.dmemo);
    free(w.smemo);
    free(w.skeys);
    if (w.failed) {
        dectree_free(w.t);
        return NULL;
    }
    w.t->networks = (unsigned)w.networks;
    w.t->compile_seconds = now() - t0;
    return w.t;
}

/* A decision as this load's choice: a weighted set is the map key's own (weights from
 * this config), an ordered list is copied. */
static const struct dyn_choice *as_choice(struct dyn *d, const struct dyn_service *s,
                                          const struct decision *dec)
{
    for (unsigned i = 0; dec->weighted && i < s->nmap; i++)
        if (!strcmp(s->map[i]->label, dec->key))
            return s->map[i];
    if (dec->weighted)
        return NULL;
    struct dyn_choice *c = arena_alloc(&d->arena, sizeof(*c));
    uint16_t *regions = arena_memdup(&d->arena, dec->regions, (dec->n + 1u) * sizeof(uint16_t));
    char label[256];
    size_t len = 0;
    label[0] = '\0';
    for (unsigned i = 0; i < dec->n && len < sizeof(label) - 8; i++)
        len += (size_t)snprintf(label + len, sizeof(label) - len, "%s%s", i ? ", " : "",
                                d->regions[dec->regions[i]].name);
    if (len >= sizeof(label) - 8)
        snprintf(label + sizeof(label) - 8, 8, ", ...");
    if (!c || !regions || !(c->label = arena_strdup(&d->arena, label)))
        return NULL;
    c->n = dec->n;
    c->regions = regions;
    return c;
}

static const char *describe(struct dyn *d, const struct dectree *t, bool kept)
{
    char text[256];
    snprintf(text, sizeof(text),
             "decision tree: %u decisions, %u nodes, %.1f MB; %s %.2f s of CPU from %u "
             "database networks",
             t->ndecisions, t->nnodes, (double)dectree_bytes(t) / (1 << 20),
             kept ? "kept, compiled before in" : "compiled in", t->compile_seconds, t->networks);
    return arena_strdup(&d->arena, text);
}

bool compile_service(struct dyn *d, struct dyn_service *s, const struct conf_service *cs)
{
    if (s->policy == POLICY_WEIGHTED || s->policy == POLICY_FAILOVER)
        return true;
    struct key k = {0};
    service_key(&k, d->conf, cs);
    if (k.failed) {
        free(k.p);
        return false;
    }
    bool kept = (s->tree = treecache_get(k.p, k.n)) != NULL;
    if (!kept && (s->tree = compile(d, s)) && !treecache_put(k.p, k.n, s->tree)) {
        dectree_free(s->tree);
        s->tree = NULL;
    }
    free(k.p);
    if (!s->tree)
        return false;
    s->choices = arena_alloc(&d->arena, (s->tree->ndecisions + 1) * sizeof(*s->choices));
    for (uint32_t i = 0; s->choices && i < s->tree->ndecisions; i++)
        if (!(s->choices[i] = as_choice(d, s, &s->tree->decisions[i])))
            return false;
    return s->choices && (s->tree_note = describe(d, s->tree, kept));
}

void compile_release(struct dectree *t)
{
    treecache_release(t);
}

/* ---- counting, for explain ------------------------------------------------------------ */

static unsigned long count_pieces(const struct dyn *d, const struct geodb_cursor *c, unsigned ndb,
                                  unsigned depth, unsigned bits, unsigned long budget)
{
    bool at_end = true;
    for (unsigned i = 0; i < ndb; i++)
        at_end = at_end && c[i].step != GEODB_NODE;
    if (at_end || depth == bits || budget == 0)
        return 1;
    struct geodb_cursor next[MAX_DBS];
    unsigned long n = 0;
    for (unsigned b = 0; b < 2 && n < budget; b++) {
        for (unsigned i = 0; i < ndb; i++)
            next[i] = geodb_down(d->geodb, i, c[i], b);
        n += count_pieces(d, next, ndb, depth + 1, bits, budget - n);
    }
    return n;
}

unsigned long compile_count_networks(const struct dyn *d, int family, const uint8_t *addr,
                                     unsigned prefix)
{
    unsigned ndb = geodb_count(d->geodb), bits = family == AF_INET ? 32 : 128;
    struct geodb_cursor c[MAX_DBS];
    if (!ndb || ndb > MAX_DBS)
        return 0;
    for (unsigned i = 0; i < ndb; i++) {
        c[i] = geodb_start(d->geodb, i, family);
        for (unsigned b = 0; b < prefix; b++)
            c[i] = geodb_down(d->geodb, i, c[i], addr[b >> 3] >> (7 - (b & 7)) & 1);
    }
    return count_pieces(d, c, ndb, prefix, bits, 10000000);
}
