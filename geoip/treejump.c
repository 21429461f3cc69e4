/* treejump.c — a /16 table in front of a MaxMind DB search tree.
 *
 * libmaxminddb walks the tree one bit at a time from its root: about twenty reads of a
 * large mapped file per lookup, nearly each a cache miss.  The first sixteen steps are
 * the same for every address of a /16, so they are taken once, at load, for all 65,536
 * of them; a lookup starts where its /16 leads and walks only the few bits past it.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/treejump.h"

#include <netinet/in.h>
#include <stdlib.h>

#define JUMP_BITS 16

/* Where a walk stands: at a search node to continue from, or at a record. */
struct step {
    uint8_t type;   /* MMDB_RECORD_TYPE_* */
    uint8_t depth;  /* bits of the address taken, counted from the family's start */
    uint32_t value; /* SEARCH_NODE: node number; DATA: data-section offset */
};

struct treejump {
    unsigned bits; /* 32 or 128 */
    struct step slot[1u << JUMP_BITS];
};

static struct step child(const MMDB_search_node_s *n, unsigned bit, unsigned depth)
{
    uint8_t type = bit ? n->right_record_type : n->left_record_type;
    uint32_t value = type == MMDB_RECORD_TYPE_DATA
                         ? (uint32_t)(bit ? n->right_record_entry : n->left_record_entry).offset
                         : (bit ? n->right_record : n->left_record);
    return (struct step){.type = type, .depth = (uint8_t)depth, .value = value};
}

/* The family's start: the root, or for IPv4 in an IPv6 tree the node of ::/96.  A tree
 * that ends above ::/96 answers every IPv4 address with the record it ends in. */
static bool start_of(const MMDB_s *m, int family, struct step *out)
{
    *out = (struct step){.type = MMDB_RECORD_TYPE_SEARCH_NODE, .depth = 0, .value = 0};
    if (family != AF_INET || m->metadata.ip_version != 6)
        return true;
    for (unsigned i = 0; i < 96 && out->type == MMDB_RECORD_TYPE_SEARCH_NODE; i++) {
        MMDB_search_node_s n;
        if (MMDB_read_node(m, out->value, &n) != MMDB_SUCCESS)
            return false;
        *out = child(&n, 0, 0);
    }
    return true;
}

/* Fills the slots of every /16 under the prefix idx/depth with where it leads. */
static bool fill(struct treejump *t, const MMDB_s *m, struct step s, uint32_t idx)
{
    if (s.type != MMDB_RECORD_TYPE_SEARCH_NODE || s.depth == JUMP_BITS) {
        uint32_t span = 1u << (JUMP_BITS - s.depth);
        for (uint32_t i = 0; i < span; i++)
            t->slot[idx * span + i] = s;
        return s.type != MMDB_RECORD_TYPE_INVALID;
    }
    MMDB_search_node_s n;
    if (MMDB_read_node(m, s.value, &n) != MMDB_SUCCESS)
        return false;
    return fill(t, m, child(&n, 0, s.depth + 1u), idx << 1) &&
           fill(t, m, child(&n, 1, s.depth + 1u), idx << 1 | 1);
}

struct treejump *treejump_build(const MMDB_s *m, int family)
{
    if (family == AF_INET6 && m->metadata.ip_version != 6)
        return NULL;
    struct treejump *t = malloc(sizeof(*t));
    if (!t)
        return NULL;
    t->bits = family == AF_INET ? 32 : 128;
    struct step start;
    if (!start_of(m, family, &start) || !fill(t, m, start, 0)) {
        free(t);
        return NULL;
    }
    return t;
}

void treejump_free(struct treejump *t)
{
    free(t);
}

struct treejump_result treejump_lookup(const struct treejump *t, const MMDB_s *m,
                                       const uint8_t *addr)
{
    struct step s = t->slot[(unsigned)addr[0] << 8 | addr[1]];
    while (s.type == MMDB_RECORD_TYPE_SEARCH_NODE && s.depth < t->bits) {
        MMDB_search_node_s n;
        if (MMDB_read_node(m, s.value, &n) != MMDB_SUCCESS)
            return (struct treejump_result){.ok = false};
        unsigned bit = addr[s.depth >> 3] >> (7 - (s.depth & 7)) & 1;
        s = child(&n, bit, s.depth + 1u);
    }
    /* A search node where the address ends, or an invalid record: a damaged tree. */
    return (struct treejump_result){.ok = s.type == MMDB_RECORD_TYPE_DATA ||
                                          s.type == MMDB_RECORD_TYPE_EMPTY,
                                    .found = s.type == MMDB_RECORD_TYPE_DATA,
                                    .netmask = s.depth,
                                    .offset = s.value};
}
