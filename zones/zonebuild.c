/* zonebuild.c — from records to nodes and wire-form RRsets, with the zone's rules checked.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/zonebuild.h"
#include "zones/dname.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

struct brec {
    struct brec *next;
    uint16_t type;
    uint16_t rdlen;
    uint32_t ttl;
    unsigned line;
    const char *file;
    uint8_t rdata[];
};

struct bnode {
    struct bnode *made_next; /* creation order: walking it reads memory in sequence */
    uint8_t *name;
    uint8_t namelen, labels;
    bool stop_done;
    struct bnode *parent;
    struct brec *recs; /* newest first until finish reverses them */
    unsigned nrecs;
    uint32_t hash;
    struct node *out;
};

struct zone_builder {
    struct zone *z; /* z->arena holds everything that outlives the build */
    struct arena tmp;
    struct diag *d;
    struct zone_load_opts opts;
    unsigned errors_before;
    struct bnode **slots;
    uint32_t mask;
    size_t nnodes, nrecords;
    struct bnode *apex;
    struct bnode *last_parent;
    struct bnode *made, *made_tail; /* every node, in creation order */
    unsigned most_recs;             /* records of the busiest node */
};

/* ---- the build-time name table ---------------------------------------------------- */

static bool table_grow(struct zone_builder *b)
{
    uint32_t size = (b->mask + 1) * 2;
    struct bnode **slots = calloc(size, sizeof(*slots));
    if (!slots)
        return false;
    for (uint32_t i = 0; i <= b->mask; i++) {
        struct bnode *n = b->slots[i];
        if (!n)
            continue;
        uint32_t j = n->hash & (size - 1);
        while (slots[j])
            j = (j + 1) & (size - 1);
        slots[j] = n;
    }
    free(b->slots);
    b->slots = slots;
    b->mask = size - 1;
    return true;
}

static struct bnode **table_slot(struct zone_builder *b, const uint8_t *name, size_t len,
                                 uint32_t hash)
{
    uint32_t i = hash & b->mask;
    while (b->slots[i]) {
        struct bnode *n = b->slots[i];
        if (n->hash == hash && n->namelen == len && memcmp(n->name, name, len) == 0)
            break;
        i = (i + 1) & b->mask;
    }
    return &b->slots[i];
}

static struct bnode *table_find(struct zone_builder *b, const uint8_t *name, size_t len)
{
    return *table_slot(b, name, len, dname_hash(name, len));
}

/* Finds or creates the node for name, creating its ancestors up to the apex as empty
 * non-terminals. */
static struct bnode *node_get(struct zone_builder *b, const uint8_t *name, size_t len)
{
    uint32_t hash = dname_hash(name, len);
    struct bnode **slot = table_slot(b, name, len, hash);
    struct bnode *n = *slot;
    if (n)
        return n;
    n = arena_alloc(&b->tmp, sizeof(*n));
    uint8_t *copy = arena_bytes(&b->z->arena, name, len);
    if (!n || !copy)
        return NULL;
    n->name = copy;
    n->namelen = (uint8_t)len;
    n->labels = (uint8_t)dname_count_labels(name);
    n->hash = hash;
    *slot = n;
    b->nnodes++;
    if (b->made_tail)
        b->made_tail->made_next = n;
    else
        b->made = n;
    b->made_tail = n;
    if (len > b->z->namelen) {
        /* Records come in file order, so the parent is nearly always the last one's. */
        const uint8_t *pname = name + name[0] + 1;
        size_t plen = len - name[0] - 1u;
        struct bnode *last = b->last_parent;
        if (last && last->namelen == plen && memcmp(last->name, pname, plen) == 0)
            n->parent = last;
        else
            n->parent = node_get(b, pname, plen);
        if (!n->parent)
            return NULL;
        b->last_parent = n->parent;
    }
    if (b->nnodes * 2 > b->mask && !table_grow(b))
        return NULL;
    return n;
}

/* ---- adding records ----------------------------------------------------------------- */

struct zone_builder *zb_new(const uint8_t *origin, const struct zone_load_opts *o, struct diag *d)
{
    struct zone_builder *b = calloc(1, sizeof(*b));
    struct zone *z = calloc(1, sizeof(*z));
    if (!b || !z)
        goto fail;
    b->z = z;
    arena_init(&z->arena);
    arena_init(&b->tmp);
    b->d = d;
    b->errors_before = d->errors;
    if (o)
        b->opts = *o;
    b->mask = 1023;
    b->slots = calloc(b->mask + 1, sizeof(*b->slots));
    size_t len = dname_len(origin);
    z->name = arena_memdup(&z->arena, origin, len);
    z->namelen = (uint8_t)len;
    z->labels = (uint8_t)dname_count_labels(origin);
    if (!b->slots || !z->name)
        goto fail;
    b->apex = node_get(b, origin, len);
    if (b->apex)
        return b;
fail:
    if (z)
        arena_free(&z->arena);
    free(z);
    if (b)
        free(b->slots);
    free(b);
    return NULL;
}

const char *zb_file(struct zone_builder *b, const char *path)
{
    return arena_strdup(&b->z->arena, path);
}

void zb_expect(struct zone_builder *b, size_t records)
{
    /* Growing a table of a million names doubling by doubling costs a second rehash. */
    while ((size_t)b->mask + 1 < records * 2 && (b->mask + 1) < (1u << 30))
        if (!table_grow(b))
            return;
}

size_t zb_count(const struct zone_builder *b)
{
    return b->nrecords;
}

static bool dyn_rdata(struct zone_builder *b, uint16_t type, const uint8_t *rdata, size_t rdlen,
                      uint8_t out[2], const char *file, unsigned line)
{
    char name[256];
    size_t n = rdlen < sizeof(name) - 1 ? rdlen : sizeof(name) - 1;
    memcpy(name, rdata, n);
    name[n] = '\0';
    int idx = b->opts.resolve_service ? b->opts.resolve_service(b->opts.resolve_ctx, name) : -1;
    if (idx < 0) {
        diag_error(b->d, file, line, 0,
                   "%s names service \"%s\", which the config does not define; add it under "
                   "services: or name an existing one",
                   type == TYPE_DYNA ? "DYNA" : "DYNC", name);
        return false;
    }
    if (type == TYPE_DYNC && b->opts.service_has_cnames &&
        !b->opts.service_has_cnames(b->opts.resolve_ctx, idx)) {
        diag_error(b->d, file, line, 0,
                   "DYNC names service \"%s\", but not every region it can pick has a cname:; "
                   "give those regions a cname target or use DYNA",
                   name);
        return false;
    }
    out[0] = (uint8_t)(idx >> 8);
    out[1] = (uint8_t)idx;
    return true;
}

void zb_add(struct zone_builder *b, const uint8_t *owner, size_t ownerlen, uint16_t type,
            uint32_t ttl, const uint8_t *rdata, size_t rdlen, const char *file, unsigned line)
{
    const struct zone *z = b->z;
    if (!dname_is_sub(owner, ownerlen, z->name, z->namelen)) {
        char on[DNAME_TEXTMAX], zn[DNAME_TEXTMAX];
        dname_to_text(owner, on, sizeof(on));
        dname_to_text(z->name, zn, sizeof(zn));
        diag_error(b->d, file, line, 0, "%s is outside the zone %s; records must be at or below %s",
                   on, zn, zn);
        return;
    }
    if (b->opts.max_records && b->nrecords >= b->opts.max_records) {
        if (b->nrecords == b->opts.max_records)
            diag_error(b->d, file, line, 0, "the zone has more than %zu records, the limit",
                       b->opts.max_records);
        b->nrecords++;
        return;
    }
    uint8_t dyn[2];
    if (type == TYPE_DYNA || type == TYPE_DYNC) {
        if (!dyn_rdata(b, type, rdata, rdlen, dyn, file, line))
            return;
        rdata = dyn;
        rdlen = 2;
    }
    struct bnode *n = node_get(b, owner, ownerlen);
    struct brec *r = arena_alloc(&b->tmp, sizeof(*r) + rdlen);
    if (!n || !r) {
        diag_error(b->d, file, line, 0, "out of memory while loading the zone");
        return;
    }
    r->type = type;
    r->rdlen = (uint16_t)rdlen;
    r->ttl = ttl;
    r->line = line;
    r->file = file;
    memcpy(r->rdata, rdata, rdlen);
    r->next = n->recs;
    n->recs = r;
    if (++n->nrecs > b->most_recs)
        b->most_recs = n->nrecs;
    b->nrecords++;
}

/* ---- checking and laying out one node ------------------------------------------------ */

static int rec_cmp(const void *pa, const void *pb)
{
    const struct brec *a = *(const struct brec *const *)pa;
    const struct brec *b = *(const struct brec *const *)pb;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->rdlen != b->rdlen)
        return a->rdlen < b->rdlen ? -1 : 1;
    int c = memcmp(a->rdata, b->rdata, a->rdlen);
    if (c)
        return c;
    /* Equal records: keep file order so the first one is the one kept. */
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Sorted records of n with exact duplicates dropped (RFC 2181 §5: an RRset has no
 * duplicate records); returns the count left. */
static size_t node_records(struct bnode *n, struct brec **out)
{
    size_t k = 0;
    for (struct brec *r = n->recs; r; r = r->next)
        out[k++] = r;
    if (k < 2)
        return k;
    qsort(out, k, sizeof(*out), rec_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && out[m - 1]->type == out[i]->type && out[m - 1]->rdlen == out[i]->rdlen &&
            memcmp(out[m - 1]->rdata, out[i]->rdata, out[i]->rdlen) == 0)
            continue;
        out[m++] = out[i];
    }
    return m;
}

static bool type_ok_beside_cname(uint16_t t)
{
    /* RFC 2181 §10.1 and RFC 4035 §2.5: DNSSEC records may sit beside a CNAME. */
    return t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
           t == LDNS_RR_TYPE_KEY;
}

static void node_name(const struct bnode *n, char *buf, size_t size)
{
    dname_to_text(n->name, buf, size);
}

/* A CNAME and a record of another type at one name: the error points at whichever of
 * the two the file gives later, and names the line of the other. */
static void cname_conflict(struct zone_builder *b, const char *nm, struct brec **r, size_t k)
{
    const struct brec *cname = NULL, *other = NULL;
    for (size_t i = 0; i < k; i++) {
        if (!cname && r[i]->type == LDNS_RR_TYPE_CNAME)
            cname = r[i];
        if (!type_ok_beside_cname(r[i]->type) && (!other || r[i]->line > other->line))
            other = r[i];
    }
    if (!cname || !other)
        return; /* the caller saw both */
    const ldns_rr_descriptor *desc = ldns_rr_descript(other->type);
    char type[16];
    if (desc && desc->_name)
        snprintf(type, sizeof(type), "%s", desc->_name);
    else
        snprintf(type, sizeof(type), "TYPE%u", other->type);
    bool other_later = other->file != cname->file || other->line > cname->line;
    const struct brec *at = other_later ? other : cname;
    const struct brec *peer = other_later ? cname : other;
    diag_error(b->d, at->file, at->line, 0,
               "%s has a CNAME and other data (RFC 1034 §3.6.2): the %s record here and the %s "
               "at %s:%u; keep only the CNAME or remove it",
               nm, other_later ? type : "CNAME", other_later ? "CNAME" : type, peer->file,
               peer->line);
}

static void check_exclusive(struct zone_builder *b, struct bnode *n, struct brec **r, size_t k)
{
    size_t counts[4] = {0}; /* CNAME, DYNC, DYNA, DNAME */
    bool addr = false, other_than_cname = false, other_than_dync = false;
    for (size_t i = 0; i < k; i++) {
        uint16_t t = r[i]->type;
        counts[0] += t == LDNS_RR_TYPE_CNAME;
        counts[1] += t == TYPE_DYNC;
        counts[2] += t == TYPE_DYNA;
        counts[3] += t == LDNS_RR_TYPE_DNAME;
        addr |= t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA;
        other_than_cname |= !type_ok_beside_cname(t);
        other_than_dync |= t != TYPE_DYNC;
    }
    bool bad = counts[0] > 1 || counts[1] > 1 || counts[2] > 1 || counts[3] > 1 ||
               (counts[0] && other_than_cname) || (counts[1] && other_than_dync) ||
               (counts[2] && addr);
    if (!bad)
        return;
    char nm[DNAME_TEXTMAX]; /* only now: printing a million names costs more than loading */
    node_name(n, nm, sizeof(nm));
    const struct brec *at = r[k - 1];
    static const char *const what[4] = {"CNAME", "DYNC", "DYNA", "DNAME"};
    for (int i = 0; i < 4; i++)
        if (counts[i] > 1)
            diag_error(b->d, at->file, at->line, 0, "%s has %zu %s records; it may have only one",
                       nm, counts[i], what[i]);
    if (counts[0] && other_than_cname)
        cname_conflict(b, nm, r, k);
    if (counts[1] && other_than_dync)
        diag_error(b->d, at->file, at->line, 0,
                   "%s has a DYNC and other records; a DYNC name may carry nothing else", nm);
    if (counts[2] && addr)
        diag_error(b->d, at->file, at->line, 0,
                   "%s has a DYNA and static A/AAAA records; remove the A/AAAA records or the DYNA",
                   nm);
}

static size_t count_rrsets(struct brec **r, size_t k)
{
    size_t sets = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || r[i]->type != r[i - 1]->type)
            sets += r[i]->type != TYPE_DYNA && r[i]->type != TYPE_DYNC;
    return sets;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* Lays out records r[0..k) of one type as an RRset. */
static bool rrset_fill(struct zone_builder *b, struct rrset *s, struct brec **r, size_t k,
                       const struct bnode *n)
{
    char nm[DNAME_TEXTMAX];
    size_t len = 0, mixed = 0;
    for (size_t i = 0; i < k; i++) {
        len += 10 + r[i]->rdlen;
        if (!mixed && r[i]->ttl != r[0]->ttl)
            mixed = i;
    }
    if (mixed || len > 65535 || k > 65535)
        node_name(n, nm, sizeof(nm));
    if (mixed)
        diag_warn(b->d, r[mixed]->file, r[mixed]->line, 0,
                  "%s: records of one RRset have different TTLs; all get %u (RFC 2181 §5.2)", nm,
                  r[0]->ttl);
    if (len > 65535 || k > 65535) {
        diag_error(b->d, r[0]->file, r[0]->line, 0, "%s: the RRset is larger than 64 KiB", nm);
        return false;
    }
    /* NS, MX and SRV keep their targets right behind the wire (zonedb.h). */
    size_t extra = rrset_has_targets(r[0]->type) ? 8 + k * sizeof(struct node *) : 0;
    uint8_t *w = arena_bytes(&b->z->arena, NULL, len + extra);
    if (!w)
        return false;
    s->type = r[0]->type;
    s->count = (uint16_t)k;
    s->ttl = r[0]->ttl;
    s->len = (uint32_t)len;
    s->wire = w;
    for (size_t i = 0; i < k; i++) {
        put16(w, r[i]->type);
        put16(w + 2, LDNS_RR_CLASS_IN);
        put32(w + 4, r[0]->ttl);
        put16(w + 8, r[i]->rdlen);
        memcpy(w + 10, r[i]->rdata, r[i]->rdlen);
        w += 10 + r[i]->rdlen;
    }
    return true;
}

static void node_set_flags(struct zone_builder *b, struct bnode *n, struct node *out,
                           struct brec **r, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        switch (r[i]->type) {
        case LDNS_RR_TYPE_NS:
            out->flags |= n == b->apex ? 0 : NODE_CUT;
            break;
        case LDNS_RR_TYPE_DNAME:
            out->flags |= NODE_DNAME;
            break;
        case LDNS_RR_TYPE_CNAME:
            out->flags |= NODE_CNAME;
            break;
        case TYPE_DYNA:
        case TYPE_DYNC:
            out->flags |= r[i]->type == TYPE_DYNA ? NODE_DYNA : NODE_DYNC;
            out->dyn_service = (uint16_t)(r[i]->rdata[0] << 8 | r[i]->rdata[1]);
            out->dyn_ttl = r[i]->ttl;
            break;
        }
    }
}

static bool node_build(struct zone_builder *b, struct bnode *n, struct node *out,
                       struct brec **scratch)
{
    n->out = out;
    out->name = n->name;
    out->parent = NODE_NONE;
    out->namelen = n->namelen;
    out->labels = n->labels;
    out->flags = n == b->apex ? NODE_APEX : 0;
    size_t k = node_records(n, scratch);
    if (k == 0)
        return true;
    check_exclusive(b, n, scratch, k);
    node_set_flags(b, n, out, scratch, k);
    size_t nsets = count_rrsets(scratch, k);
    struct rrset *sets = nsets ? arena_alloc(&b->z->arena, nsets * sizeof(*sets)) : NULL;
    if (nsets && !sets)
        return false;
    size_t s = 0;
    for (size_t i = 0, j; i < k; i = j) {
        for (j = i; j < k && scratch[j]->type == scratch[i]->type; j++)
            ;
        if (scratch[i]->type == TYPE_DYNA || scratch[i]->type == TYPE_DYNC)
            continue;
        if (!rrset_fill(b, &sets[s++], scratch + i, j - i, n))
            return false;
    }
    out->rrsets = sets;
    out->nrrsets = (uint16_t)nsets;
    return true;
}

/* ---- linking nodes ------------------------------------------------------------------- */

static bool is_wildcard(const struct bnode *n)
{
    return n->name[0] == 1 && n->name[1] == '*';
}

/* RFC 1034 §4.3.2 step 3b and RFC 6672 §3.3: a node below a cut or a DNAME is never
 * answered from directly; node_stop finds which ancestor stops the descent. */
static void link_occluded(struct bnode *n)
{
    if (n->stop_done || !n->parent)
        return;
    n->stop_done = true;
    struct bnode *p = n->parent;
    link_occluded(p);
    if ((p->out->flags & (NODE_OCCLUDED | NODE_CUT | NODE_DNAME)))
        n->out->flags |= NODE_OCCLUDED;
}

static void link_targets(struct zone_builder *b, const struct rrset *s)
{
    int off = rrset_target_offset(s->type);
    if (off < 0)
        return;
    const struct node **t = (const struct node **)rrset_targets(s);
    const uint8_t *w = s->wire;
    for (unsigned i = 0; i < s->count; i++) {
        uint16_t rdlen = (uint16_t)(w[8] << 8 | w[9]);
        uint8_t name[DNAME_MAX + 1];
        size_t pos = 10 + (size_t)off;
        struct bnode *tn = NULL;
        if (dname_unpack(w, 10 + rdlen, &pos, name) > 0)
            tn = table_find(b, name, dname_len(name));
        t[i] = tn ? tn->out : NULL;
        w += 10 + rdlen;
    }
}

static void link_node(struct zone_builder *b, struct bnode *n)
{
    struct node *out = n->out;
    if (n->parent) {
        out->parent = (uint32_t)(n->parent->out - b->z->nodes);
        if (is_wildcard(n))
            n->parent->out->flags |= NODE_WILDCARD;
    }
    link_occluded(n);
    for (unsigned i = 0; i < out->nrrsets; i++)
        link_targets(b, &out->rrsets[i]);
}

/* ---- the finished zone --------------------------------------------------------------- */

static bool check_apex(struct zone_builder *b, const char *file)
{
    struct zone *z = b->z;
    const struct node *apex = b->apex->out;
    char zn[DNAME_TEXTMAX];
    dname_to_text(z->name, zn, sizeof(zn));
    z->apex = apex;
    z->soa = node_rrset(apex, LDNS_RR_TYPE_SOA);
    if (!z->soa || z->soa->count != 1) {
        diag_error(b->d, file, 0, 0, "zone %s needs exactly one SOA record at its apex %s", zn, zn);
        return false;
    }
    if (!node_rrset(apex, LDNS_RR_TYPE_NS)) {
        diag_error(b->d, file, 0, 0, "zone %s has no NS records at its apex; add at least one", zn);
        return false;
    }
    /* SOA rdata: mname, rname, then serial refresh retry expire minimum (RFC 1035 §3.3.13). */
    const uint8_t *rd = z->soa->wire + 10;
    size_t rdlen = (size_t)(z->soa->wire[8] << 8 | z->soa->wire[9]);
    const uint8_t *nums = rd + rdlen - 20;
    z->serial =
        (uint32_t)nums[0] << 24 | (uint32_t)nums[1] << 16 | (uint32_t)nums[2] << 8 | nums[3];
    uint32_t minimum =
        (uint32_t)nums[16] << 24 | (uint32_t)nums[17] << 16 | (uint32_t)nums[18] << 8 | nums[19];
    z->neg_ttl = minimum < z->soa->ttl ? minimum : z->soa->ttl;
    return true;
}

static void check_soa_placement(struct zone_builder *b, struct bnode *n)
{
    if (n == b->apex || !node_rrset(n->out, LDNS_RR_TYPE_SOA))
        return;
    char nm[DNAME_TEXTMAX];
    node_name(n, nm, sizeof(nm));
    const struct brec *r = n->recs;
    while (r && r->type != LDNS_RR_TYPE_SOA)
        r = r->next;
    diag_error(b->d, r ? r->file : NULL, r ? r->line : 0, 0,
               "SOA record at %s, which is not the zone's apex; an SOA belongs only at the apex",
               nm);
}

static bool build_final_table(struct zone_builder *b)
{
    struct zone *z = b->z;
    uint32_t size = (uint32_t)(b->nnodes + b->nnodes / 2 + 16); /* two thirds full at most */
    z->slots = arena_alloc(&z->arena, size * sizeof(*z->slots));
    if (!z->slots)
        return false;
    z->nslots = size;
    for (struct bnode *n = b->made; n; n = n->made_next) {
        uint32_t j = (uint32_t)(((uint64_t)n->hash * size) >> 32);
        while (z->slots[j].node)
            j = j + 1 < size ? j + 1 : 0;
        z->slots[j].hash = n->hash;
        z->slots[j].node = (uint32_t)(n->out - z->nodes) + 1;
    }
    z->nnodes = b->nnodes;
    z->nrecords = b->nrecords;
    return true;
}

static bool build_nodes(struct zone_builder *b)
{
    struct brec **scratch = malloc((b->most_recs + 1u) * sizeof(*scratch));
    struct node *nodes = arena_alloc(&b->z->arena, (b->nnodes + 1) * sizeof(*nodes));
    if (!scratch || !nodes) {
        free(scratch);
        return false;
    }
    b->z->nodes = nodes;
    bool ok = true;
    size_t i = 0;
    for (struct bnode *n = b->made; ok && n; n = n->made_next)
        ok = node_build(b, n, &nodes[i++], scratch);
    free(scratch);
    for (struct bnode *n = b->made; ok && n; n = n->made_next) {
        link_node(b, n);
        check_soa_placement(b, n);
    }
    return ok;
}

static void builder_free(struct zone_builder *b)
{
    arena_free(&b->tmp);
    free(b->slots);
    free(b);
}

void zb_discard(struct zone_builder *b)
{
    struct zone *z = b->z;
    builder_free(b);
    arena_free(&z->arena);
    free(z);
}

struct zone *zb_finish(struct zone_builder *b, const char *file)
{
    struct zone *z = b->z;
    /* The zone-wide rules run even after record errors, so that one run reports every
     * problem (meridiand -t) instead of one layer at a time. */
    bool built = !b->tmp.failed && build_nodes(b) && check_apex(b, file) && build_final_table(b);
    if (!built && b->d->errors == b->errors_before)
        diag_error(b->d, file, 0, 0, "out of memory while building the zone");
    bool ok = built && b->d->errors == b->errors_before && !z->arena.failed;
    if (ok && file)
        z->file = arena_strdup(&z->arena, file);
    builder_free(b);
    if (!ok) {
        arena_free(&z->arena);
        free(z);
        return NULL;
    }
    atomic_init(&z->refs, 1); /* the caller's */
    return z;
}
