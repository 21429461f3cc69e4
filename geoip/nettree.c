/* nettree.c — a path-compressed binary trie per address family behind nettree.h.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/nettree.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

/* An address as two big-endian words, so that bit i (0 = the first bit on the wire) is bit
 * 63 - i % 64 of w[i / 64] and a prefix compares in two masked XORs.  IPv4 fills the top half
 * of w[0]. */
struct nt_key {
    uint64_t w[2];
};

/* One network: the first `prefix` bits of key, every later bit zero.  A node is either a
 * network that was added (has_value) or a branch made where two added networks part.  Every
 * child's prefix is longer than its parent's and its key starts with the parent's network;
 * child[b] holds the networks whose bit number `prefix` is b.  A branch always has two
 * children, so n networks take at most 2n - 1 nodes, and the depth is at most 129. */
struct nt_node {
    struct nt_node *child[2];
    const void *value;
    struct nt_key key;
    uint8_t prefix;
    uint8_t deepest; /* the longest added network in this subtree; set by nettree_seal */
    bool has_value;
};

struct nettree {
    struct nt_node *root[2]; /* IPv4, IPv6 */
    size_t count;
};

/* 0 for IPv4, 1 for IPv6, -1 otherwise; *bits gets the address length. */
static int family_slot(int family, unsigned *bits)
{
    *bits = family == AF_INET ? 32 : 128;
    return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static struct nt_key key_load(const uint8_t *addr, unsigned bits)
{
    struct nt_key k = {{0, 0}};
    for (unsigned i = 0; i < bits / 8; i++)
        k.w[i / 8] |= (uint64_t)addr[i] << (56 - 8 * (i % 8));
    return k;
}

static unsigned key_bit(const struct nt_key *k, unsigned i)
{
    return (unsigned)(k->w[i / 64] >> (63 - i % 64)) & 1;
}

/* The bits of word `word` that the first `prefix` bits of an address cover. */
static uint64_t prefix_mask(unsigned prefix, unsigned word)
{
    unsigned n = prefix > word * 64 ? prefix - word * 64 : 0;
    return n >= 64 ? ~(uint64_t)0 : n ? ~(uint64_t)0 << (64 - n) : 0;
}

static bool key_within(const struct nt_key *net, const struct nt_key *k, unsigned prefix)
{
    return !(((net->w[0] ^ k->w[0]) & prefix_mask(prefix, 0)) |
             ((net->w[1] ^ k->w[1]) & prefix_mask(prefix, 1)));
}

/* How many leading bits a and b share, at most limit. */
static unsigned key_common(const struct nt_key *a, const struct nt_key *b, unsigned limit)
{
    uint64_t x = a->w[0] ^ b->w[0], y = a->w[1] ^ b->w[1];
    unsigned n = x ? (unsigned)__builtin_clzll(x) : y ? 64 + (unsigned)__builtin_clzll(y) : 128;
    return n < limit ? n : limit;
}

static struct nt_node *node_new(const struct nt_key *key, unsigned prefix)
{
    struct nt_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->key.w[0] = key->w[0] & prefix_mask(prefix, 0);
    n->key.w[1] = key->w[1] & prefix_mask(prefix, 1);
    n->prefix = (uint8_t)prefix;
    return n;
}

static void node_free(struct nt_node *n)
{
    if (!n)
        return;
    node_free(n->child[0]);
    node_free(n->child[1]);
    free(n);
}

struct nettree *nettree_new(void)
{
    return calloc(1, sizeof(struct nettree));
}

void nettree_free(struct nettree *t)
{
    if (!t)
        return;
    node_free(t->root[0]);
    node_free(t->root[1]);
    free(t);
}

/* Puts leaf where it parts from n, the node at *link, after `common` shared bits: above n when
 * leaf is n's network's ancestor, else beside it under a new branch. */
static int insert_split(struct nt_node **link, struct nt_node *leaf, unsigned common)
{
    struct nt_node *n = *link;
    if (common == leaf->prefix) {
        leaf->child[key_bit(&n->key, common)] = n;
        *link = leaf;
        return 0;
    }
    struct nt_node *branch = node_new(&leaf->key, common);
    if (!branch)
        return -2;
    branch->child[key_bit(&n->key, common)] = n;
    branch->child[key_bit(&leaf->key, common)] = leaf;
    *link = branch;
    return 0;
}

/* 0 when leaf is now in the tree, 1 when its value went to an existing branch node (leaf is
 * left over), -1 duplicate, -2 out of memory. */
static int insert(struct nt_node **link, struct nt_node *leaf)
{
    for (;;) {
        struct nt_node *n = *link;
        if (!n) {
            *link = leaf;
            return 0;
        }
        unsigned limit = n->prefix < leaf->prefix ? n->prefix : leaf->prefix;
        unsigned common = key_common(&n->key, &leaf->key, limit);
        if (common < n->prefix)
            return insert_split(link, leaf, common);
        if (n->prefix < leaf->prefix) {
            link = &n->child[key_bit(&leaf->key, n->prefix)];
            continue;
        }
        if (n->has_value)
            return -1;
        n->value = leaf->value;
        n->has_value = true;
        return 1;
    }
}

int nettree_add(struct nettree *t, int family, const uint8_t *addr, unsigned prefix,
                const void *value)
{
    unsigned max;
    int slot = family_slot(family, &max);
    assert(slot >= 0 && prefix <= max);
    if (slot < 0 || prefix > max)
        return -1;
    struct nt_key key = key_load(addr, max);
    struct nt_node *leaf = node_new(&key, prefix);
    if (!leaf)
        return -2;
    leaf->value = value;
    leaf->has_value = true;
    int r = insert(&t->root[slot], leaf);
    if (r != 0)
        free(leaf);
    if (r >= 0)
        t->count++;
    return r > 0 ? 0 : r;
}

const void *nettree_lookup(const struct nettree *t, int family, const uint8_t *addr, unsigned bits,
                           unsigned *prefix)
{
    unsigned max;
    int slot = family_slot(family, &max);
    const struct nt_node *best = NULL;
    const struct nt_node *n = slot >= 0 ? t->root[slot] : NULL;
    struct nt_key key = n ? key_load(addr, max) : (struct nt_key){{0, 0}};
    if (bits > max)
        bits = max;
    /* Prefixes only grow on the way down, so stop at the first node that is longer than what
     * is known of the address or that the address is not in. */
    while (n && n->prefix <= bits && key_within(&n->key, &key, n->prefix)) {
        if (n->has_value)
            best = n;
        if (n->prefix == bits)
            break;
        n = n->child[key_bit(&key, n->prefix)];
    }
    if (prefix)
        *prefix = best ? best->prefix : 0;
    return best ? best->value : NULL;
}

size_t nettree_count(const struct nettree *t)
{
    return t->count;
}

static unsigned seal(struct nt_node *n)
{
    if (!n)
        return 0;
    unsigned a = seal(n->child[0]), b = seal(n->child[1]);
    unsigned d = a > b ? a : b;
    if (n->has_value && n->prefix > d)
        d = n->prefix;
    n->deepest = (uint8_t)d;
    return d;
}

void nettree_seal(struct nettree *t)
{
    seal(t->root[0]);
    seal(t->root[1]);
}

unsigned nettree_deepest_within(const struct nettree *t, int family, const uint8_t *addr,
                                unsigned prefix)
{
    unsigned max;
    int slot = family_slot(family, &max);
    const struct nt_node *n = slot >= 0 ? t->root[slot] : NULL;
    struct nt_key key = n ? key_load(addr, max) : (struct nt_key){{0, 0}};
    while (n) {
        if (n->prefix >= prefix)
            return key_within(&n->key, &key, prefix) ? n->deepest : 0;
        if (!key_within(&n->key, &key, n->prefix))
            return 0;
        n = n->child[key_bit(&key, n->prefix)];
    }
    return 0;
}
