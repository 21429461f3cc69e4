/* treecheck.c — every service's compiled tree against the step-by-step reference path
 * (locate, then policy_decide) on the same config: for random client subnets of both
 * families, the tree's decision must be the reference's, and every client subnet of the
 * same length inside the scope the tree gives must get that decision from the reference
 * too (RFC 7871 §7.3: a resolver hands the answer to all of them).
 *
 * Usage: treecheck CONFIG COUNT SEED [NETWORK...]
 * Half of the subnets are drawn inside the NETWORKs given (where a fixture's networks
 * are), the rest anywhere.
 * Prints one line per service and family, "web ipv4: N subnets, M scopes sampled, K
 * differ" and the first few differences; exits 1 when any differ, 2 when the config
 * does not load.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/dyntypes.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_MAX 5
#define INSIDE   8 /* subnets sampled inside each scope */

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void mask(uint8_t *addr, unsigned bits)
{
    for (unsigned i = 0; i < 16; i++)
        if (i * 8 >= bits)
            addr[i] = 0;
        else if (i * 8 + 8 > bits)
            addr[i] &= (uint8_t)(0xFF << (8 - (bits - i * 8)));
}

/* Where to draw half of the subnets. */
static struct dyn_client focus[64];
static unsigned nfocus[2];

/* A client subnet: resolvers send /24 and /56 mostly; any length may come. */
static void random_client(uint64_t *rng, int family, struct dyn_client *c)
{
    uint64_t a = next_random(rng), b = next_random(rng);
    unsigned max = family == AF_INET ? 32 : 128;
    memset(c, 0, sizeof(*c));
    c->family = family;
    memcpy(c->addr, &a, 8);
    memcpy(c->addr + 8, &b, 8);
    if (family == AF_INET6 && (b & 3)) /* mostly where networks are: 2000::/3 */
        c->addr[0] = (uint8_t)(0x20 | (c->addr[0] & 0x1F));
    unsigned nf = nfocus[family == AF_INET6];
    if (nf && (a >> 63)) {
        const struct dyn_client *f = &focus[32 * (family == AF_INET6) + (b >> 8) % nf];
        for (unsigned i = 0; i < f->bits; i++) {
            uint8_t m = (uint8_t)(0x80u >> (i & 7));
            c->addr[i >> 3] = (uint8_t)((c->addr[i >> 3] & ~m) | (f->addr[i >> 3] & m));
        }
    }
    unsigned pick = (unsigned)(next_random(rng) % 4);
    c->bits = (uint8_t)(pick == 0   ? max
                        : pick == 1 ? (family == AF_INET ? 24 : 56)
                        : pick == 2 ? (family == AF_INET ? 16 : 48)
                                    : 1 + next_random(rng) % max);
    c->ecs = true;
    mask(c->addr, c->bits);
}

static bool same(const struct dyn_choice *c, const struct decision *r)
{
    return c->n == r->n && (c->weights != NULL) == r->weighted &&
           !memcmp(c->regions, r->regions, r->n * sizeof(*r->regions));
}

struct run {
    const struct dyn *d;
    const struct dyn_service *s;
    struct decide_buf buf;
    unsigned long tried, sampled, differ;
};

static void show(struct run *x, const char *what, const struct dyn_client *c, unsigned scope,
                 const struct dyn_choice *got, const struct decision *want)
{
    if (++x->differ > SHOW_MAX)
        return;
    char text[INET6_ADDRSTRLEN];
    inet_ntop(c->family, c->addr, text, sizeof(text));
    printf("  %s %s/%u (scope /%u): tree [%s], reference %u regions, first %s\n", what, text,
           c->bits, scope, got->label, want->n,
           want->n ? x->d->regions[want->regions[0]].name : "-");
}

static bool reference_is(struct run *x, const struct dyn_client *c, const struct dyn_choice *got,
                         struct decision *want)
{
    struct location loc;
    locate(x->d, c, &loc, NULL);
    policy_decide(x->d, x->s, &loc, &x->buf, want, NULL);
    return same(got, want);
}

static void check_one(struct run *x, uint64_t *rng, const struct dyn_client *c)
{
    uint8_t scope;
    const struct dyn_choice *got =
        x->s->choices[dectree_lookup(x->s->tree, c->family, c->addr, c->bits, &scope)];
    struct decision want = {0};
    x->tried++;
    if (scope > c->bits)
        show(x, "scope beyond the source prefix:", c, scope, got, &want);
    if (!reference_is(x, c, got, &want)) {
        show(x, "decision", c, scope, got, &want);
        return;
    }
    for (unsigned k = 0; k < INSIDE; k++) {
        struct dyn_client o;
        random_client(rng, c->family, &o);
        o.bits = c->bits;
        for (unsigned i = 0; i < scope; i++) { /* the scope's bits are the client's */
            uint8_t m = (uint8_t)(0x80u >> (i & 7));
            o.addr[i >> 3] = (uint8_t)((o.addr[i >> 3] & ~m) | (c->addr[i >> 3] & m));
        }
        mask(o.addr, o.bits);
        x->sampled++;
        if (!reference_is(x, &o, got, &want))
            show(x, "inside the scope", &o, scope, got, &want);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: treecheck CONFIG COUNT SEED [NETWORK...]\n");
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        struct dyn_client f;
        unsigned six;
        if (!dyn_client_parse(argv[i], &f) || nfocus[six = f.family == AF_INET6] == 32) {
            fprintf(stderr, "treecheck: %s is not a network\n", argv[i]);
            return 2;
        }
        focus[32 * six + nfocus[six]++] = f;
    }
    struct diag d = {0};
    struct config *c = conf_load(argv[1], &d);
    struct dyn *dyn = c ? dyn_new(c, &d) : NULL;
    if (!dyn) {
        fprintf(stderr, "treecheck: %s does not load\n", argv[1]);
        return 2;
    }
    unsigned long count = strtoul(argv[2], NULL, 10), bad = 0;
    uint64_t rng = strtoull(argv[3], NULL, 10) | 1;
    struct run x = {.d = dyn};
    x.buf.regions = malloc((2 * dyn->nregions + 1) * sizeof(uint16_t));
    x.buf.dist = malloc((2 * dyn->nregions + 1) * sizeof(double));
    for (unsigned i = 0; i < dyn->nservices; i++) {
        x.s = &dyn->services[i];
        if (!x.s->tree)
            continue;
        for (int f = 0; f < 2; f++) {
            int family = f ? AF_INET6 : AF_INET;
            x.tried = x.sampled = x.differ = 0;
            for (unsigned long n = 0; n < count; n++) {
                struct dyn_client cl;
                random_client(&rng, family, &cl);
                check_one(&x, &rng, &cl);
            }
            printf("%s ipv%c: %lu subnets, %lu scopes sampled, %lu differ\n", x.s->name,
                   f ? '6' : '4', x.tried, x.sampled, x.differ);
            bad += x.differ;
        }
    }
    free(x.buf.regions);
    free(x.buf.dist);
    dyn_free(dyn);
    conf_free(c);
    return bad ? 1 : 0;
}
