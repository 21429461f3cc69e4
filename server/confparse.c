/* confparse.c — what several config sections read alike: names, keys that depend on a
 * section's kind, references to regions, addresses, networks and domain names.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"
#include "server/statefile.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define MAX_WEIGHT 1000000u

/* ---- names ---- */

/* Region, check and service names travel through control commands, metric labels and
 * the state file, so they keep to an alphabet that needs no quoting in any, and to the
 * length the state file holds. */
void check_name(struct yw *w, yaml_node_t *k, const char *kind, const char *name,
                const char *example)
{
    const char *p = name;
    while (is_alnum(*p) || *p == '_' || *p == '.' || *p == '-')
        p++;
    if (*p || !*name) {
        yw_error(w, k, "%s name \"%s\" may only use letters, digits, '_', '.' and '-'; e.g. %s",
                 kind, name, example);
    } else if (p - name > STATEFILE_NAME_MAX) {
        /* The state file could not keep a drain or weight set on it. */
        yw_error(w, k, "%s name \"%.20s...\" is %zu characters long; the limit is %d", kind, name,
                 (size_t)(p - name), STATEFILE_NAME_MAX);
    }
}

/* "a, b, c" from the name (first member) of n items stride bytes apart; the list is
 * cut short when long, it is a reminder rather than a reference. */
const char *known_names(char *buf, size_t cap, const void *items, size_t n, size_t stride)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len + 8 < cap; i++) {
        const char *name = *(char *const *)((const char *)items + i * stride);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", name ? name : "?");
    }
    if (len + 8 >= cap)
        snprintf(buf + cap - 8, 8, ", ...");
    return buf;
}

/* ---- keys that depend on a kind ---- */

void reject_foreign(struct yw *w, yaml_node_t *map, const struct only_for *t, size_t n,
                    unsigned kind)
{
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = (t[i].kinds & (1u << kind)) ? NULL : yw_get_key(w, map, t[i].key);
        if (k)
            yw_error(w, k, "\"%s\" only applies to %s; remove it", t[i].key, t[i].where);
    }
}

/* ---- region references ---- */

static bool region_ref(struct yw *w, yaml_node_t *n, unsigned *out)
{
    struct config *c = cfg(w);
    const char *name = yw_text(n);
    int i;
    if (!name || yw_is_null(n)) {
        yw_error(w, n, "expected a region name here, e.g. us-east-1");
        return false;
    }
    if ((i = conf_find_region(c, name)) >= 0) {
        *out = (unsigned)i;
        return true;
    }
    if (!c->nregions) {
        yw_error(w, n,
                 "unknown region \"%s\"; no regions are defined, add it under regions:", name);
    } else {
        char list[400];
        yw_error(w, n, "unknown region \"%s\"; known regions: %s", name,
                 known_names(list, sizeof(list), c->regions, c->nregions, sizeof(*c->regions)));
    }
    return false;
}

/* A region name or a list of them, in order of preference, each at most once. */
bool region_list(struct yw *w, yaml_node_t *n, const char *key, struct conf_choice *out)
{
    size_t len = yw_list_len(n);
    bool ok = true;
    if (!len) {
        yw_error(w, n,
                 "\"%s\" must be a region or a list of regions, e.g. %s: [us-east-1, "
                 "eu-west-1]",
                 key, key);
        return false;
    }
    out->regions = arena_alloc(w->arena, len * sizeof(*out->regions));
    for (size_t i = 0; out->regions && i < len; i++) {
        yaml_node_t *item = yw_list_item(w, n, i);
        unsigned r;
        size_t j = 0;
        if (!region_ref(w, item, &r)) {
            ok = false;
            continue;
        }
        while (j < out->n && out->regions[j] != r)
            j++;
        if (j < out->n) {
            yw_error(w, item, "region \"%s\" is listed twice; list each region once",
                     yw_text(item));
            ok = false;
            continue;
        }
        out->regions[out->n++] = r;
    }
    return ok && out->regions;
}

/* A mapping region → weight: traffic is split in proportion, zero takes a region out. */
bool weight_set(struct yw *w, yaml_node_t *n, const char *key, struct conf_choice *out)
{
    size_t len = yw_len(n);
    unsigned long long sum = 0, v;
    if (!yw_is_map(n) || !len) {
        yw_error(w, n,
                 "\"%s\" must map regions to weights, e.g. %s: { us-east-1: 80, eu-west-1: "
                 "20 }",
                 key, key);
        return false;
    }
    out->regions = arena_alloc(w->arena, len * sizeof(*out->regions));
    out->weights = arena_alloc(w->arena, len * sizeof(*out->weights));
    for (size_t i = 0; out->regions && out->weights && i < len; i++) {
        yaml_node_t *k = yw_key(w, n, i), *val = yw_value(w, n, i);
        const char *t = yw_text(val);
        if (!t || !yw_parse_uint(t, &v) || v > MAX_WEIGHT) {
            yw_error(w, val, "the weight of \"%s\" must be an integer from 0 to %u, e.g. %s: 50",
                     yw_text(k), MAX_WEIGHT, yw_text(k));
            v = 1; /* not a second complaint about the sum */
        }
        if (region_ref(w, k, &out->regions[out->n]))
            out->weights[out->n++] = (unsigned)v;
        sum += v;
    }
    if (!sum)
        yw_error(w, n, "every weight in \"%s\" is 0; give at least one region a weight above 0",
                 key);
    return out->n == len && sum;
}

/* ---- addresses and names ---- */

bool ip_parse(const char *s, struct conf_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    if (inet_pton(AF_INET, s, ip->addr) == 1)
        ip->family = AF_INET;
    else if (inet_pton(AF_INET6, s, ip->addr) == 1)
        ip->family = AF_INET6;
    else
        return false;
    return inet_ntop(ip->family, ip->addr, ip->text, sizeof(ip->text)) != NULL;
}

static bool host_bits_clear(struct yw *w, yaml_node_t *k, const char *s, struct conf_net *net)
{
    struct conf_ip m = net->ip;
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = net->prefix > i * 8 ? net->prefix - i * 8 : 0;
        m.addr[i] &= (uint8_t)(0xff00u >> (bits > 8 ? 8 : bits));
    }
    if (!memcmp(m.addr, net->ip.addr, sizeof(m.addr)))
        return true;
    inet_ntop(m.family, m.addr, m.text, sizeof(m.text));
    yw_error(w, k, "%s has host bits set; write %s/%u", s, m.text, net->prefix);
    return false;
}

/* ADDRESS/PREFIX; a bare address is a network of one. */
bool conf_cidr_parse(struct yw *w, yaml_node_t *k, const char *s, struct conf_net *net)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    unsigned long long prefix = 0;
    char addr[INET6_ADDRSTRLEN];
    bool ok = alen < sizeof(addr) && (!slash || yw_parse_uint(slash + 1, &prefix));
    if (ok) {
        memcpy(addr, s, alen);
        addr[alen] = '\0';
        ok = ip_parse(addr, &net->ip);
    }
    if (!ok) {
        yw_error(w, k,
                 "\"%s\" is not a network; write ADDRESS/PREFIX, e.g. 10.20.0.0/16 or "
                 "2001:db8::/32",
                 s);
        return false;
    }
    unsigned max = net->ip.family == AF_INET ? 32 : 128;
    if (slash && prefix > max) {
        yw_error(w, k, "prefix /%llu of %s is too long; an IPv%c prefix is 0 to %u", prefix, s,
                 max == 32 ? '4' : '6', max);
        return false;
    }
    net->prefix = (uint8_t)(slash ? prefix : max);
    return host_bits_clear(w, k, s, net);
}

/* Lower case with the trailing dot; false unless a host name whose lengths fit RFC 1035
 * §2.3.4.  out holds 256 bytes. */
bool domain_normalise(const char *in, char *out, bool allow_root)
{
    size_t n = strlen(in), label = 0;
    if (!strcmp(in, ".")) {
        strcpy(out, ".");
        return allow_root;
    }
    if (n == 0 || n > 254)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '.' && label == 0)
            return false;
        if (c != '.' && !is_alnum(c) && c != '-' && c != '_')
            return false;
        label = c == '.' ? 0 : label + 1;
        if (label > 63)
            return false;
        out[i] = is_upper(c) ? (char)(c - 'A' + 'a') : c;
    }
    if (out[n - 1] != '.')
        out[n++] = '.';
    out[n] = '\0';
    return n <= 254;
}
