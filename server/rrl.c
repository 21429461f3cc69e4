/* rrl.c — token buckets in a direct-mapped table.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/rrl.h"
#include "zones/dname.h"
#include "zones/packet.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define RRL_SLOTS (1u << 14)

/* A bucket: credit refills at the rate each second, up to one second's worth. */
struct bucket {
    uint64_t key;
    uint32_t second;
    int32_t credit;
    uint32_t limited; /* responses refused since the bucket was made, for slip */
};

struct rrl {
    struct bucket slots[RRL_SLOTS];
};

struct rrl *rrl_new(void)
{
    return calloc(1, sizeof(struct rrl));
}

void rrl_free(struct rrl *r)
{
    free(r);
}

static bool in_net(const struct conf_net *n, int family, const uint8_t *a)
{
    if ((n->ip.family == AF_INET) != (family == AF_INET))
        return false;
    unsigned full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(n->ip.addr, a, full) != 0)
        return false;
    return !rest || ((n->ip.addr[full] ^ a[full]) & (0xFF00u >> rest)) == 0;
}

/* The client's network as bytes: the address cut to the configured prefix. */
static unsigned client_net(const struct conf_rrl *cfg, const struct sockaddr *src, uint8_t out[16],
                           int *family)
{
    const uint8_t *a;
    unsigned bits;
    memset(out, 0, 16);
    if (src->sa_family == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr;
        bits = cfg->ipv4_prefix;
        *family = AF_INET;
    } else {
        a = ((const struct sockaddr_in6 *)src)->sin6_addr.s6_addr;
        bits = cfg->ipv6_prefix;
        *family = AF_INET6;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            a += 12;
            bits = cfg->ipv4_prefix;
            *family = AF_INET;
        }
    }
    memcpy(out, a, *family == AF_INET ? 4 : 16);
    return bits;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDULL;
}

/* The hash of the name a response is counted under (see answer_info). */
static uint32_t name_hash(const struct answer_info *info, const uint8_t *resp)
{
    if (!info->by_qname)
        return info->zone_name ? dname_hash(info->zone_name, info->zone_len) : 0;
    uint8_t low[DNAME_MAX + 1];
    size_t n = info->question_end > DNS_HEADER + 4 ? info->question_end - DNS_HEADER - 4u : 0;
    if (n > DNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = dname_lower_tab[resp[DNS_HEADER + i]];
    return dname_hash(low, n);
}

static uint64_t bucket_key(const uint8_t *addr, unsigned bits, int family,
                           const struct answer_info *info, const uint8_t *resp)
{
    uint64_t h = mix((uint64_t)family, info->kind);
    for (unsigned i = 0; i < (bits + 7) / 8; i++) {
        uint8_t b = addr[i];
        if (i == bits / 8)
            b &= (uint8_t)(0xFF00u >> (bits % 8));
        h = mix(h, b);
    }
    h = mix(h, name_hash(info, resp));
    return h ? h : 1;
}

static enum rrl_verdict limited(struct bucket *b, unsigned slip)
{
    b->limited++;
    return slip && b->limited % slip == 0 ? RRL_SLIP : RRL_DROP;
}

enum rrl_verdict rrl_check(struct rrl *r, const struct conf_rrl *cfg, unsigned shares,
                           const struct sockaddr *src, const struct answer_info *info,
                           const uint8_t *resp, uint32_t now)
{
    if (!cfg->rate || !src || (src->sa_family != AF_INET && src->sa_family != AF_INET6))
        return RRL_SEND;
    uint8_t addr[16];
    int family;
    unsigned bits = client_net(cfg, src, addr, &family);
    for (size_t i = 0; i < cfg->nexempt; i++)
        if (in_net(&cfg->exempt[i], family, addr))
            return RRL_SEND;
    uint64_t key = bucket_key(addr, bits, family, info, resp);
    struct bucket *b = &r->slots[(key >> 32) & (RRL_SLOTS - 1)];
    /* This worker's share, rounded up so a small rate never becomes zero. */
    int32_t rate = (int32_t)((cfg->rate + shares - 1) / (shares ? shares : 1));
    if (b->key != key) {
        *b = (struct bucket){key, now, rate - 1, 0};
        return RRL_SEND;
    }
    uint32_t elapsed = now - b->second;
    if (elapsed) {
        int64_t credit = (int64_t)b->credit + (int64_t)elapsed * rate;
        b->credit = credit > rate ? rate : (int32_t)credit;
        b->second = now;
    }
    if (b->credit > 0) {
        b->credit--;
        return RRL_SEND;
    }
    return limited(b, cfg->slip);
}
