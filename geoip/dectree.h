/* dectree.h — a service's decisions compiled into one binary prefix tree per address
 * family: a leaf names the decision (an interned ordered list or weighted set of
 * regions) that holds for every address under it, and its depth is the widest ECS scope
 * that decision allows.  Built at load by compile.c; read by every worker without locks
 * or allocation.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/compiler.h"

/* A decision: regions in order, or a weighted set whose weights are the map key's
 * (key names it, so that a reload that changes only weights keeps the tree). */
struct decision {
    uint16_t n;
    bool weighted;
    const char *key; /* weighted: the geo map key; else NULL */
    const uint16_t *regions;
};

/* A child reference: a node's index, or a leaf's decision id with DT_LEAF set. */
#define DT_LEAF 0x80000000u

/* An inner node: where each next bit leads.  Nodes are shared: two equal subtrees are
 * one. */
struct dt_node {
    uint32_t child[2];
};

/* A client whose source prefix ends at an inner node (RFC 7871 §7.1.1: the bits past it
 * are zero and unknown) gets the decision of the lowest address under the node: the
 * leaf at the end of its zero side.  Only a geoip.nets or latency-table network that
 * starts on that zero side, below the node, can make it otherwise (it does not apply to
 * a source prefix shorter than itself); such nodes are listed here, by index. */
struct dt_stop {
    uint32_t node, decision;
};

/* The first JUMP_BITS of a walk in one step. */
#define DT_JUMP_BITS 16
struct dt_jump {
    uint32_t ref;  /* where the walk stands after `depth` bits */
    uint8_t depth; /* DT_JUMP_BITS, or less where a leaf ends it sooner */
};

struct dectree {
    uint32_t root[2]; /* IPv4, IPv6: a node, or a leaf when one decision holds everywhere */
    struct dt_node *nodes;
    uint32_t nnodes, cap;
    uint32_t *shared; /* while compiling: nodes by their children (hash table) */
    uint32_t scap;
    struct dt_stop *stops; /* sorted by node */
    uint32_t nstops, stopcap;
    struct decision *decisions;
    uint32_t ndecisions, dcap;
    uint32_t unknown;        /* the decision for a client of no known address */
    struct dt_jump *jump[2]; /* IPv4, IPv6 */
    uint32_t leaves[2];      /* per family, for reports */
    unsigned networks;       /* database networks walked, for reports */
    double compile_seconds;
};

struct dectree *dectree_new(void) F_WUNUSED;
void dectree_free(struct dectree *t);

/* The node with these children: an equal one made before, or a new one; its index, or
 * UINT32_MAX out of memory. */
uint32_t dectree_node(struct dectree *t, uint32_t child0, uint32_t child1);
/* A new node whose stop decision is not its zero side's (see dt_stop). */
uint32_t dectree_node_stop(struct dectree *t, uint32_t child0, uint32_t child1, uint32_t stop);
/* The id of the decision equal to d (copied in when new); UINT32_MAX out of memory. */
uint32_t dectree_intern(struct dectree *t, const struct decision *d);
/* Fills the jump tables once the nodes are in, and drops what only compiling needs;
 * false out of memory. */
bool dectree_seal(struct dectree *t);

/* The decision for a source prefix that ends at inner node ref. */
static inline uint32_t dectree_stop(const struct dectree *t, uint32_t ref)
{
    uint32_t lo = 0, hi = t->nstops;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->stops[mid].node == ref)
            return t->stops[mid].decision;
        if (t->stops[mid].node < ref)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (!(ref & DT_LEAF))
        ref = t->nodes[ref].child[0];
    return ref & ~DT_LEAF;
}

/* The decision for the first `bits` bits of addr (family AF_INET or AF_INET6, bits past
 * them zero), and in *scope the prefix it holds for, never above bits. */
static inline uint32_t dectree_lookup(const struct dectree *t, int family, const uint8_t *addr,
                                      unsigned bits, uint8_t *scope)
{
    unsigned f = family == AF_INET6;
    unsigned d = 0;
    uint32_t ref = t->root[f];
    if (bits >= DT_JUMP_BITS) {
        const struct dt_jump *j = &t->jump[f][(unsigned)addr[0] << 8 | addr[1]];
        ref = j->ref;
        d = j->depth;
    }
    while (!(ref & DT_LEAF)) {
        if (d == bits) {
            *scope = (uint8_t)bits;
            return dectree_stop(t, ref);
        }
        ref = t->nodes[ref].child[addr[d >> 3] >> (7 - (d & 7)) & 1];
        d++;
    }
    *scope = (uint8_t)d;
    return ref & ~DT_LEAF;
}

/* Bytes the tree takes. */
size_t dectree_bytes(const struct dectree *t);
