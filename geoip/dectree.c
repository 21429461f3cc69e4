/* dectree.c — the storage of a compiled decision tree: nodes, interned decisions and
 * the /16 jump tables in front of each family's root.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/dectree.h"

#include <stdlib.h>
#include <string.h>

struct dectree *dectree_new(void)
{
    return calloc(1, sizeof(struct dectree));
}

void dectree_free(struct dectree *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->ndecisions; i++) {
        free((void *)t->decisions[i].regions);
        free((void *)t->decisions[i].key);
    }
    free(t->decisions);
    free(t->nodes);
    free(t->shared);
    free(t->stops);
    free(t->jump[0]);
    free(t->jump[1]);
    free(t);
}

static uint32_t append(struct dectree *t, uint32_t child0, uint32_t child1)
{
    if (t->nnodes == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 4096;
        struct dt_node *n = cap < DT_LEAF ? realloc(t->nodes, (size_t)cap * sizeof(*n)) : NULL;
        if (!n)
            return UINT32_MAX;
        t->nodes = n;
        t->cap = cap;
    }
    t->nodes[t->nnodes] = (struct dt_node){{child0, child1}};
    return t->nnodes++;
}

static uint32_t slot_of(uint32_t child0, uint32_t child1, uint32_t cap)
{
    uint64_t h = ((uint64_t)child0 << 32 | child1) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32) & (cap - 1);
}

/* Doubles the table of shared nodes; entries are node index + 1, 0 free. */
static bool shared_grow(struct dectree *t)
{
    uint32_t cap = t->scap ? t->scap * 2 : 1u << 16;
    uint32_t *v = calloc(cap, sizeof(*v));
    if (!v)
        return false;
    for (uint32_t i = 0; i < t->scap; i++) {
        if (!t->shared[i])
            continue;
        const struct dt_node *n = &t->nodes[t->shared[i] - 1];
        uint32_t j = slot_of(n->child[0], n->child[1], cap);
        while (v[j])
            j = (j + 1) & (cap - 1);
        v[j] = t->shared[i];
    }
    free(t->shared);
    t->shared = v;
    t->scap = cap;
    return true;
}

uint32_t dectree_node(struct dectree *t, uint32_t child0, uint32_t child1)
{
    if (t->nnodes >= t->scap / 2 && !shared_grow(t))
        return UINT32_MAX;
    uint32_t j = slot_of(child0, child1, t->scap);
    for (; t->shared[j]; j = (j + 1) & (t->scap - 1)) {
        const struct dt_node *n = &t->nodes[t->shared[j] - 1];
        if (n->child[0] == child0 && n->child[1] == child1)
            return t->shared[j] - 1;
    }
    uint32_t i = append(t, child0, child1);
    if (i != UINT32_MAX)
        t->shared[j] = i + 1;
    return i;
}

uint32_t dectree_node_stop(struct dectree *t, uint32_t child0, uint32_t child1, uint32_t stop)
{
    if (t->nstops == t->stopcap) {
        uint32_t cap = t->stopcap ? t->stopcap * 2 : 64;
        struct dt_stop *v = realloc(t->stops, cap * sizeof(*v));
        if (!v)
            return UINT32_MAX;
        t->stops = v;
        t->stopcap = cap;
    }
    uint32_t i = append(t, child0, child1);
    if (i != UINT32_MAX) /* indices only grow: the list stays sorted */
        t->stops[t->nstops++] = (struct dt_stop){i, stop};
    return i;
}

static bool same_decision(const struct decision *a, const struct decision *b)
{
    return a->n == b->n && a->weighted == b->weighted &&
           !memcmp(a->regions, b->regions, a->n * sizeof(*a->regions)) &&
           (!a->key || !strcmp(a->key, b->key));
}

/* Decisions are few (a handful per map key), so a linear search serves; compile.c keeps
 * a cache in front of it for the millions of networks that ask. */
uint32_t dectree_intern(struct dectree *t, const struct decision *d)
{
    for (uint32_t i = 0; i < t->ndecisions; i++)
        if (same_decision(&t->decisions[i], d))
            return i;
    if (t->ndecisions == t->dcap) {
        uint32_t cap = t->dcap ? t->dcap * 2 : 16;
        struct decision *v = realloc(t->decisions, cap * sizeof(*v));
        if (!v)
            return UINT32_MAX;
        t->decisions = v;
        t->dcap = cap;
    }
    uint16_t *regions = malloc((d->n + 1u) * sizeof(*regions));
    char *key = d->key ? strdup(d->key) : NULL;
    if (!regions || (d->key && !key)) {
        free(regions);
        free(key);
        return UINT32_MAX;
    }
    memcpy(regions, d->regions, d->n * sizeof(*regions));
    t->decisions[t->ndecisions] = (struct decision){d->n, d->weighted, key, regions};
    return t->ndecisions++;
}

static void fill_jump(struct dt_jump *j, const struct dectree *t, uint32_t ref, unsigned depth,
                      uint32_t idx)
{
    if ((ref & DT_LEAF) || depth == DT_JUMP_BITS) {
        uint32_t span = 1u << (DT_JUMP_BITS - depth);
        for (uint32_t i = 0; i < span; i++)
            j[idx * span + i] = (struct dt_jump){ref, (uint8_t)depth};
        return;
    }
    fill_jump(j, t, t->nodes[ref].child[0], depth + 1, idx << 1);
    fill_jump(j, t, t->nodes[ref].child[1], depth + 1, idx << 1 | 1);
}

bool dectree_seal(struct dectree *t)
{
    free(t->shared);
    t->shared = NULL;
    t->scap = 0;
    if (t->nnodes < t->cap) { /* the slack of the last doubling */
        struct dt_node *n = realloc(t->nodes, (size_t)(t->nnodes ? t->nnodes : 1) * sizeof(*n));
        if (n)
            t->nodes = n;
        t->cap = t->nnodes;
    }
    for (unsigned f = 0; f < 2; f++) {
        if (!(t->jump[f] = malloc(sizeof(struct dt_jump) << DT_JUMP_BITS)))
            return false;
        fill_jump(t->jump[f], t, t->root[f], 0, 0);
    }
    return true;
}

size_t dectree_bytes(const struct dectree *t)
{
    size_t n = sizeof(*t) + (size_t)t->nnodes * sizeof(struct dt_node) +
               t->nstops * sizeof(struct dt_stop) + 2 * (sizeof(struct dt_jump) << DT_JUMP_BITS);
    for (uint32_t i = 0; i < t->ndecisions; i++)
        n += sizeof(struct decision) + t->decisions[i].n * sizeof(uint16_t);
    return n;
}
