/* conf.c — the YAML configuration: each section read against its schema, names resolved
 * to indices, relative paths anchored at the config's directory, every mistake reported.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/conf.h"
#include "server/yamlwalk.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define MAX_WEIGHT 1000000u
#define MAX_TTL    2147483647ull /* RFC 2181 §8 */
#define DAY_MS     86400000ull
#define HOUR_MS    3600000ull

static const char *const policy_names[] = {"geo", "weighted", "nearest", "latency", "failover"};
static const char *const check_types[] = {"http", "https", "tcp"};

/* A key that only makes sense for some values of a section's kind (policy, check type). */
struct only_for {
    const char *key;
    unsigned kinds; /* bit 1 << kind for each kind that accepts it */
    const char *where;
};

typedef void load_fn(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item);

static struct config *cfg(struct yw *w)
{
    return w->ctx;
}

static struct conf_mark mark_of(const yaml_node_t *n)
{
    return (struct conf_mark){yw_line(n), yw_col(n)};
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ---- names ---- */

/* Region, check and service names travel through control commands and metric labels,
 * so they keep to an alphabet that needs no quoting in either. */
static void check_name(struct yw *w, yaml_node_t *k, const char *kind, const char *name,
                       const char *example)
{
    const char *p = name;
    while (is_alnum(*p) || *p == '_' || *p == '.' || *p == '-')
        p++;
    if (*name && !*p)
        return;
    yw_error(w, k, "%s name \"%s\" may only use letters, digits, '_', '.' and '-'; e.g. %s", kind,
             name, example);
}

/* "a, b, c" from the name (first member) of n items stride bytes apart; the list is
 * cut short when long, it is a reminder rather than a reference. */
static const char *known_names(char *buf, size_t cap, const void *items, size_t n, size_t stride)
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
static bool region_list(struct yw *w, yaml_node_t *n, const char *key, struct conf_choice *out)
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
static bool weight_set(struct yw *w, yaml_node_t *n, const char *key, struct conf_choice *out)
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

static bool ip_parse(const char *s, struct conf_ip *ip)
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

static bool port_parse(const char *s, unsigned *port)
{
    unsigned long long v;
    if (!yw_parse_uint(s, &v) || v < 1 || v > 65535)
        return false;
    *port = (unsigned)v;
    return true;
}

static void listen_fill(struct conf_listen *l, const struct conf_ip *ip, unsigned port)
{
    memset(l, 0, sizeof(*l));
    if (ip->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, ip->addr, 4);
        l->addrlen = sizeof(*sin);
        snprintf(l->text, sizeof(l->text), "%s:%u", ip->text, port);
        return;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    memcpy(&sin6->sin6_addr, ip->addr, 16);
    l->addrlen = sizeof(*sin6);
    snprintf(l->text, sizeof(l->text), "[%s]:%u", ip->text, port);
}

/* "IPv4:port", "[IPv6]:port", or a bare address, which means the DNS port. */
static bool listen_parse(const char *s, struct conf_listen *l)
{
    const char *host = s, *colon = strchr(s, ':'), *end = strchr(s, ']');
    size_t hlen = strlen(s);
    unsigned port = 53;
    char buf[INET6_ADDRSTRLEN];
    struct conf_ip ip;
    if (s[0] == '[') {
        if (!end || (end[1] && (end[1] != ':' || !port_parse(end + 2, &port))))
            return false;
        host = s + 1;
        hlen = (size_t)(end - host);
    } else if (colon && !strchr(colon + 1, ':')) {
        if (!port_parse(colon + 1, &port))
            return false;
        hlen = (size_t)(colon - s);
    }
    if (hlen >= sizeof(buf))
        return false;
    memcpy(buf, host, hlen);
    buf[hlen] = '\0';
    if (!ip_parse(buf, &ip))
        return false;
    listen_fill(l, &ip, port);
    return true;
}

/* "host:port" or "[v6]:port" for an HTTP listener; the host is resolved when it starts. */
static bool hostport_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    unsigned port;
    if (!colon || colon == s || !port_parse(colon + 1, &port))
        return false;
    if (s[0] == '[')
        return colon[-1] == ']' && colon - s > 2;
    return memchr(s, ':', (size_t)(colon - s)) == NULL;
}

/* Lower case with the trailing dot; false unless a host name whose lengths fit RFC 1035
 * §2.3.4.  out holds 256 bytes. */
static bool domain_normalise(const char *in, char *out, bool allow_root)
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

/* ---- server ---- */

static void listen_one(struct yw *w, yaml_node_t *n, struct conf_server *s)
{
    const char *t = yw_text(n);
    struct conf_listen *l = &s->listen[s->nlisten];
    if (!t || !listen_parse(t, l)) {
        yw_error(w, n,
                 "listen address \"%s\" is not valid; write IPv4:PORT, [IPv6]:PORT or a "
                 "bare address for port 53, e.g. \"0.0.0.0:53\" or \"[::]:53\"",
                 t ? t : "");
        return;
    }
    for (size_t i = 0; i < s->nlisten; i++)
        if (!strcmp(s->listen[i].text, l->text)) {
            yw_error(w, n, "listen address %s is listed twice; remove one", l->text);
            return;
        }
    s->nlisten++;
}

static void parse_listen(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    size_t n = yw_list_len(v);
    if (!n) {
        yw_error(w, v, "\"%s\" must be an address or a list of them, e.g. %s: %s", f->key, f->key,
                 f->example);
        return;
    }
    s->listen = arena_alloc(w->arena, n * sizeof(*s->listen));
    for (size_t i = 0; s->listen && i < n; i++)
        listen_one(w, yw_list_item(w, v, i), s);
}

static void parse_workers(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    const char *t = yw_text(v);
    unsigned long long n;
    if (t && !strcmp(t, "auto"))
        s->workers = 0;
    else if (t && yw_parse_uint(t, &n) && n >= 1 && n <= 1024)
        s->workers = (unsigned)n;
    else
        yw_error(w, v, "\"%s\" must be a positive integer up to 1024 or \"auto\", e.g. %s: %s",
                 f->key, f->key, f->example);
}

static void parse_metrics(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    const char *t = yw_text(v);
    if (t && hostport_ok(t))
        s->metrics = arena_strdup(w->arena, t);
    else
        yw_error(w, v, "\"%s\" must be HOST:PORT, e.g. %s: %s", f->key, f->key, f->example);
}

/* bind() takes a Unix socket path only up to sizeof(sun_path), NUL included. */
static void parse_control(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    char *p = yw_path(w, v, f);
    if (p && strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        yw_error(w, v,
                 "\"%s\" is %zu bytes long once resolved, and a socket path must be under %zu; "
                 "choose a shorter one, e.g. %s: %s",
                 f->key, strlen(p), sizeof(((struct sockaddr_un *)0)->sun_path), f->key,
                 f->example);
    else if (p)
        s->control = p;
}

static const struct yw_field server_fields[] = {
    YW_HANDLER("listen", parse_listen, "[\"0.0.0.0:53\", \"[::]:53\"]"),
    YW_HANDLER("workers", parse_workers, "4"),
    YW_VALUE("udp_payload", YW_UINT, struct conf_server, udp_payload, 512, 4096, "1232"),
    YW_VALUE("tcp_idle_timeout", YW_MS, struct conf_server, tcp_idle_ms, 1, HOUR_MS, "10s"),
    YW_VALUE("tcp_max_clients", YW_UINT, struct conf_server, tcp_max_clients, 1, 1000000, "1024"),
    YW_HANDLER("control", parse_control, "/run/meridian/control.sock"),
    YW_VALUE("control_group", YW_STRING, struct conf_server, control_group, 0, 0, "meridian"),
    YW_VALUE("state", YW_PATH, struct conf_server, state, 0, 0, "/var/lib/meridian/state.yaml"),
    YW_HANDLER("metrics", parse_metrics, "127.0.0.1:9153"),
    YW_VALUE("tcp_max_per_client", YW_UINT, struct conf_server, tcp_max_per_client, 1, 1000000,
             "16"),
    YW_VALUE("tcp_lifetime", YW_MS, struct conf_server, tcp_lifetime_ms, 1000, DAY_MS, "2m"),
    YW_VALUE("udp_rcvbuf", YW_UINT, struct conf_server, udp_rcvbuf, 65536, 1u << 30, "4194304"),
    YW_VALUE("zone_max_records", YW_UINT, struct conf_server, zone_max_records, 1, 4000000000u,
             "10000000"),
    YW_VALUE("user", YW_STRING, struct conf_server, user, 0, 0, "meridian"),
    YW_VALUE("group", YW_STRING, struct conf_server, group, 0, 0, "meridian"),
    YW_VALUE("chroot", YW_PATH, struct conf_server, chroot, 0, 0, "/var/lib/meridian"),
    YW_VALUE("query_log", YW_PATH, struct conf_server, query_log, 0, 0,
             "/var/log/meridian/query.log"),
};

static void load_server(struct yw *w, yaml_node_t *n)
{
    static const char *const any[] = {"0.0.0.0:53", "[::]:53"};
    struct conf_server *s = &cfg(w)->server;
    yw_fields(w, n, "server", server_fields, ARRAY_LEN(server_fields), s);
    if (s->nlisten || yw_get(w, n, "listen"))
        return;
    s->listen = arena_alloc(w->arena, ARRAY_LEN(any) * sizeof(*s->listen));
    for (size_t i = 0; s->listen && i < ARRAY_LEN(any); i++)
        if (listen_parse(any[i], &s->listen[s->nlisten]))
            s->nlisten++;
}

/* ---- geoip ---- */

static void parse_databases(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_geoip *g = obj;
    size_t n = yw_list_len(v);
    if (yw_is_seq(v) && !n)
        return; /* an explicit empty list: nets alone decide */
    if (!n) {
        yw_error(w, v, "\"%s\" must be a path or a list of paths, e.g. %s: [%s]", f->key, f->key,
                 f->example);
        return;
    }
    g->databases = arena_alloc(w->arena, n * sizeof(*g->databases));
    for (size_t i = 0; g->databases && i < n; i++) {
        char *p = yw_path(w, yw_list_item(w, v, i), f);
        if (p)
            g->databases[g->ndatabases++] = p;
    }
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
static bool cidr_parse(struct yw *w, yaml_node_t *k, const char *s, struct conf_net *net)
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

static void parse_nets(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_geoip *g = obj;
    if (!yw_mapping(w, v, f->key))
        return;
    g->nets = arena_alloc(w->arena, yw_len(v) * sizeof(*g->nets));
    for (size_t i = 0; g->nets && i < yw_len(v); i++) {
        yaml_node_t *k = yw_key(w, v, i);
        struct conf_net *net = &g->nets[g->nnets];
        struct conf_choice ch = {0};
        const char *t = yw_text(k);
        bool ok = t && cidr_parse(w, k, t, net);
        if (!region_list(w, yw_value(w, v, i), t ? t : "nets", &ch) || !ok)
            continue;
        net->regions = ch.regions;
        net->nregions = ch.n;
        net->mark = mark_of(k);
        g->nnets++;
    }
}

/* ---- rrl ---- */

static void parse_exempt(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_rrl *r = obj;
    size_t n = yw_list_len(v);
    r->nexempt = 0;
    if (!yw_is_seq(v) && !n) {
        yw_error(w, v, "\"%s\" must be a list of networks, e.g. %s: %s", f->key, f->key,
                 f->example);
        return;
    }
    r->exempt = arena_alloc(w->arena, (n + 1) * sizeof(*r->exempt));
    for (size_t i = 0; r->exempt && i < n; i++) {
        yaml_node_t *item = yw_list_item(w, v, i);
        const char *t = yw_text(item);
        if (t && cidr_parse(w, item, t, &r->exempt[r->nexempt]))
            r->exempt[r->nexempt++].mark = mark_of(item);
        else if (!t)
            yw_error(w, item, "each entry of \"%s\" must be a network such as 10.0.0.0/8", f->key);
    }
}

static const struct yw_field rrl_fields[] = {
    YW_VALUE("responses_per_second", YW_UINT, struct conf_rrl, rate, 0, 1000000, "100"),
    YW_VALUE("slip", YW_UINT, struct conf_rrl, slip, 0, 100, "2"),
    YW_VALUE("ipv4_prefix", YW_UINT, struct conf_rrl, ipv4_prefix, 8, 32, "24"),
    YW_VALUE("ipv6_prefix", YW_UINT, struct conf_rrl, ipv6_prefix, 16, 128, "56"),
    YW_HANDLER("exempt", parse_exempt, "[127.0.0.0/8, \"::1\"]"),
};

/* Loopback is exempt unless the config says otherwise: local monitoring and tests are
 * not an amplification threat. */
static void rrl_defaults(struct yw *w, struct conf_rrl *r)
{
    static const char *const loopback[] = {"127.0.0.0/8", "::1/128"};
    r->exempt = arena_alloc(w->arena, ARRAY_LEN(loopback) * sizeof(*r->exempt));
    for (size_t i = 0; r->exempt && i < ARRAY_LEN(loopback); i++) {
        struct conf_net *n = &r->exempt[r->nexempt++];
        char addr[16];
        const char *slash = strchr(loopback[i], '/');
        snprintf(addr, sizeof(addr), "%.*s", (int)(slash - loopback[i]), loopback[i]);
        ip_parse(addr, &n->ip);
        n->prefix = (uint8_t)atoi(slash + 1);
    }
}

/* A field path such as "subdivisions.0.iso_code": names and indices between dots. */
static void parse_field_path(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    char *s = yw_string(w, v, f);
    if (!s)
        return;
    if (s[0] == '.' || s[strlen(s) - 1] == '.' || strstr(s, "..") || strpbrk(s, " \t")) {
        yw_error(w, v, "\"%s\" must be a dotted path into the database record, e.g. %s: %s", f->key,
                 f->key, f->example);
        return;
    }
    memcpy((char *)obj + f->offset, &s, sizeof(s));
}

#define FIELD_PATH(k, ex)                                                                          \
    {                                                                                              \
        .key = #k, .type = YW_CUSTOM, .offset = offsetof(struct conf_geoip_fields, k),             \
        .parse = parse_field_path, .example = (ex)                                                 \
    }

static const struct yw_field path_fields[] = {
    FIELD_PATH(continent, "continent.code"),
    FIELD_PATH(country, "country.iso_code"),
    FIELD_PATH(subdivision, "subdivisions.0.iso_code"),
    FIELD_PATH(latitude, "location.latitude"),
    FIELD_PATH(longitude, "location.longitude"),
};

static void parse_paths(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_geoip *g = obj;
    (void)f;
    yw_fields(w, v, "geoip.fields", path_fields, ARRAY_LEN(path_fields), &g->fields);
}

static const struct yw_field geoip_fields[] = {
    YW_HANDLER("databases", parse_databases, "/var/lib/GeoIP/GeoLite2-City.mmdb"),
    YW_HANDLER("nets", parse_nets, "{ 10.20.0.0/16: eu-west-1 }"),
    YW_HANDLER("fields", parse_paths, "{ country: country.iso_code }"),
    YW_VALUE("ecs", YW_BOOL, struct conf_geoip, ecs, 0, 0, "false"),
};

/* ---- checks ---- */

static void parse_expect(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_check *ck = obj;
    size_t n = yw_list_len(v);
    unsigned long long status;
    if (!n) {
        yw_error(w, v,
                 "\"expect\" must be an HTTP status or a list of them, e.g. expect: "
                 "[200, 204]");
        return;
    }
    ck->expect = arena_alloc(w->arena, n * sizeof(*ck->expect));
    for (size_t i = 0; ck->expect && i < n; i++)
        if (yw_uint(w, yw_list_item(w, v, i), f, &status))
            ck->expect[ck->nexpect++] = (unsigned)status;
}

static void parse_initial(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_check *ck = obj;
    const char *t = yw_text(v);
    if (t && (!strcmp(t, "up") || !strcmp(t, "down")))
        ck->initial_down = t[0] == 'd';
    else
        yw_error(w, v, "\"%s\" must be up or down, e.g. %s: %s", f->key, f->key, f->example);
}

static const struct yw_field check_fields[] = {
    YW_ACCEPT("type"),
    YW_VALUE("url", YW_STRING, struct conf_check, url, 0, 0, "\"http://{address}:8080/health\""),
    YW_VALUE("port", YW_UINT, struct conf_check, port, 1, 65535, "443"),
    {.key = "expect",
     .type = YW_CUSTOM,
     .parse = parse_expect,
     .min = 100,
     .max = 599,
     .example = "200"},
    YW_VALUE("body", YW_STRING, struct conf_check, body, 0, 0, "OK"),
    YW_VALUE("host", YW_STRING, struct conf_check, host, 0, 0, "www.example.com"),
    YW_VALUE("tls_verify", YW_BOOL, struct conf_check, tls_verify, 0, 0, "false"),
    YW_HANDLER("initial", parse_initial, "down"),
    YW_VALUE("interval", YW_MS, struct conf_check, interval_ms, 100, DAY_MS, "5s"),
    YW_VALUE("timeout", YW_MS, struct conf_check, timeout_ms, 1, HOUR_MS, "2s"),
    YW_VALUE("fall", YW_UINT, struct conf_check, fall, 1, 1000, "3"),
    YW_VALUE("rise", YW_UINT, struct conf_check, rise, 1, 1000, "2"),
};

#define HTTP_ANY ((1u << CHECK_HTTP) | (1u << CHECK_HTTPS))

static const struct only_for check_only[] = {
    {"url", HTTP_ANY, "type: http or https"},         {"expect", HTTP_ANY, "type: http or https"},
    {"body", HTTP_ANY, "type: http or https"},        {"host", HTTP_ANY, "type: http or https"},
    {"tls_verify", 1u << CHECK_HTTPS, "type: https"}, {"port", 1u << CHECK_TCP, "type: tcp"},
};

static void reject_foreign(struct yw *w, yaml_node_t *map, const struct only_for *t, size_t n,
                           unsigned kind)
{
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = (t[i].kinds & (1u << kind)) ? NULL : yw_get_key(w, map, t[i].key);
        if (k)
            yw_error(w, k, "\"%s\" only applies to %s; remove it", t[i].key, t[i].where);
    }
}

/* Without a type, the url's scheme decides: an https:// url is not probed in clear. */
static bool check_type(struct yw *w, yaml_node_t *map, struct conf_check *ck)
{
    yaml_node_t *n = yw_get(w, map, "type");
    const char *t = yw_text(n);
    if (!n) {
        ck->type = ck->url && !strncmp(ck->url, "https://", 8) ? CHECK_HTTPS : CHECK_HTTP;
        return true;
    }
    for (unsigned i = 0; t && i < ARRAY_LEN(check_types); i++)
        if (!strcmp(t, check_types[i])) {
            ck->type = (enum check_type)i;
            return true;
        }
    yw_error(w, n, "\"type\" must be http, https or tcp, e.g. type: http");
    return false;
}

static void check_target(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_check *ck)
{
    const char *scheme = ck->type == CHECK_HTTPS ? "https://" : "http://";
    yaml_node_t *url = yw_get(w, map, "url");
    if (ck->type == CHECK_TCP) {
        if (!yw_get(w, map, "port"))
            yw_error(w, k, "check \"%s\" of type tcp needs a port, e.g. port: 443", ck->name);
    } else if (!url) {
        yw_error(w, k, "check \"%s\" needs a url, e.g. url: \"%s{address}/health\"", ck->name,
                 scheme);
    } else if (ck->url && strncmp(ck->url, scheme, strlen(scheme))) {
        yw_error(w, url,
                 "\"url\" must start with %s for type: %s, e.g. url: \"%s{address}/health\"",
                 scheme, check_types[ck->type], scheme);
    }
}

/* A probe still running when the next is due would stack up against a slow backend. */
static void check_timing(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_check *ck)
{
    char t[24], i[24], half[24];
    yaml_node_t *at = yw_get(w, map, "timeout");
    if (ck->timeout_ms < ck->interval_ms)
        return;
    if (!at)
        at = yw_get(w, map, "interval");
    yw_error(w, at ? at : k,
             "\"timeout\" (%s) must be shorter than \"interval\" (%s); e.g. "
             "timeout: %s",
             yw_fmt_ms(ck->timeout_ms, t, sizeof(t)), yw_fmt_ms(ck->interval_ms, i, sizeof(i)),
             yw_fmt_ms(ck->interval_ms / 2, half, sizeof(half)));
}

static void load_check(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    static const unsigned ok_status[] = {200};
    struct conf_check *ck = item;
    char what[320];
    ck->name = arena_strdup(w->arena, yw_text(k));
    ck->mark = mark_of(k);
    ck->tls_verify = true;
    ck->interval_ms = 5000;
    ck->timeout_ms = 2000;
    ck->fall = 3;
    ck->rise = 2;
    check_name(w, k, "check", yw_text(k), "web-health");
    snprintf(what, sizeof(what), "check \"%s\"", yw_text(k));
    yw_fields(w, v, what, check_fields, ARRAY_LEN(check_fields), ck);
    if ((yw_is_map(v) || yw_is_null(v)) && check_type(w, v, ck)) {
        reject_foreign(w, v, check_only, ARRAY_LEN(check_only), ck->type);
        check_target(w, k, v, ck);
        check_timing(w, k, v, ck);
    }
    if (!ck->nexpect) {
        ck->expect = arena_memdup(w->arena, ok_status, sizeof(ok_status));
        ck->nexpect = ck->expect ? 1 : 0;
    }
}

/* ---- regions ---- */

static bool degrees(const yaml_node_t *n, double *out)
{
    const char *s = yw_text(n);
    char *end;
    if (!s || !*s)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

static void parse_location(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    double lat, lon;
    if (yw_len(v) != 2 || !yw_is_seq(v) || !degrees(yw_item(w, v, 0), &lat) ||
        !degrees(yw_item(w, v, 1), &lon)) {
        yw_error(w, v, "\"%s\" must be [latitude, longitude] in degrees, e.g. %s: %s", f->key,
                 f->key, f->example);
    } else if (fabs(lat) > 90) {
        yw_error(w, yw_item(w, v, 0),
                 "latitude %g is out of range; it must be from -90 (south) "
                 "to 90 (north)",
                 lat);
    } else if (fabs(lon) > 180) {
        yw_error(w, yw_item(w, v, 1),
                 "longitude %g is out of range; it must be from -180 (west) "
                 "to 180 (east)",
                 lon);
    } else {
        r->has_location = true;
        r->lat = lat;
        r->lon = lon;
    }
}

static void address_one(struct yw *w, yaml_node_t *n, struct conf_region *r)
{
    const char *t = yw_text(n);
    struct conf_ip *ip = &r->addresses[r->naddresses];
    if (!t || !ip_parse(t, ip)) {
        yw_error(w, n,
                 "\"%s\" is not an IPv4 or IPv6 address; write one address per item, e.g. "
                 "192.0.2.10 or \"2001:db8::10\"",
                 t ? t : "(not text)");
        return;
    }
    for (size_t i = 0; i < r->naddresses; i++)
        if (!strcmp(r->addresses[i].text, ip->text)) {
            yw_error(w, n, "address %s is listed twice; remove one", ip->text);
            return;
        }
    r->naddresses++;
}

static void parse_addresses(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    size_t n = yw_list_len(v);
    if (!n) {
        yw_error(w, v, "\"%s\" must be an IP address or a list of them, e.g. %s: %s", f->key,
                 f->key, f->example);
        return;
    }
    r->addresses = arena_alloc(w->arena, n * sizeof(*r->addresses));
    for (size_t i = 0; r->addresses && i < n; i++)
        address_one(w, yw_list_item(w, v, i), r);
}

static void parse_cname(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    const char *t = yw_text(v);
    char name[256];
    if (t && domain_normalise(t, name, false))
        r->cname = arena_strdup(w->arena, name);
    else
        yw_error(w, v, "\"cname\" must be a domain name, e.g. cname: %s", f->example);
}

static void unknown_check(struct yw *w, yaml_node_t *v, const char *name)
{
    const struct config *c = cfg(w);
    char list[400];
    yw_error(w, v, "unknown check \"%s\"; known checks: %s", name,
             known_names(list, sizeof(list), c->checks, c->nchecks, sizeof(*c->checks)));
}

static void parse_check_ref(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_region *r = obj;
    struct config *c = cfg(w);
    const char *t = yw_text(v);
    for (size_t i = 0; t && i < c->nchecks; i++)
        if (c->checks[i].name && !strcmp(c->checks[i].name, t)) {
            r->check = (int)i;
            return;
        }
    if (!t || yw_is_null(v))
        yw_error(w, v, "\"%s\" must name a check, e.g. %s: %s", f->key, f->key, f->example);
    else if (!c->nchecks)
        yw_error(w, v, "unknown check \"%s\"; no checks are defined, add it under checks:", t);
    else
        unknown_check(w, v, t);
}

static const struct yw_field region_fields[] = {
    YW_HANDLER("location", parse_location, "[38.9, -77.0]"),
    YW_HANDLER("addresses", parse_addresses, "[192.0.2.10, \"2001:db8::10\"]"),
    YW_HANDLER("cname", parse_cname, "us-east-1.lb.example.net."),
    YW_HANDLER("check", parse_check_ref, "web-health"),
};

static void load_region(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    struct conf_region *r = item;
    char what[320];
    r->name = arena_strdup(w->arena, yw_text(k));
    r->mark = mark_of(k);
    r->check = -1;
    check_name(w, k, "region", yw_text(k), "us-east-1");
    snprintf(what, sizeof(what), "region \"%s\"", yw_text(k));
    yw_fields(w, v, what, region_fields, ARRAY_LEN(region_fields), r);
    if ((yw_is_map(v) || yw_is_null(v)) && !yw_get(w, v, "addresses") && !yw_get(w, v, "cname"))
        yw_error(w, k,
                 "region \"%s\" has no addresses; add addresses: [IP, ...] or, for DYNC "
                 "services only, a cname:",
                 yw_text(k));
}

/* ---- services ---- */

static void parse_ttl(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_service *s = obj;
    const char *t = yw_text(v);
    unsigned long long ms;
    if (t && yw_parse_ms(t, &ms) && ms % 1000 == 0 && ms / 1000 <= MAX_TTL)
        s->ttl = (unsigned)(ms / 1000);
    else
        yw_error(w, v,
                 "\"%s\" must be whole seconds from 0 to %llu, as a number or a duration, "
                 "e.g. %s: 30 or %s: 5m",
                 f->key, MAX_TTL, f->key, f->key);
}

static const struct yw_field service_fields[] = {
    YW_ACCEPT("policy"),
    YW_HANDLER("ttl", parse_ttl, "30"),
    YW_VALUE("max_answers", YW_UINT, struct conf_service, max_answers, 0, 65535, "2"),
    YW_ACCEPT("map"),
    YW_ACCEPT("weights"),
    YW_ACCEPT("regions"),
    YW_ACCEPT("latency_table"),
    YW_ACCEPT("order"),
};

static const struct only_for service_only[] = {
    {"map", 1u << POLICY_GEO, "policy: geo"},
    {"weights", 1u << POLICY_WEIGHTED, "policy: weighted"},
    {"regions", (1u << POLICY_NEAREST) | (1u << POLICY_LATENCY), "policy: nearest or latency"},
    {"latency_table", 1u << POLICY_LATENCY, "policy: latency"},
    {"order", 1u << POLICY_FAILOVER, "policy: failover"},
};

/* The value of a key the policy cannot do without, or NULL after saying how to add it. */
static yaml_node_t *required(struct yw *w, yaml_node_t *k, yaml_node_t *map,
                             const struct conf_service *s, const char *key, const char *example)
{
    yaml_node_t *v = yw_get(w, map, key);
    if (!v)
        yw_error(w, k, "service \"%s\" with policy: %s needs \"%s\", e.g. %s: %s", s->name,
                 policy_names[s->policy], key, key, example);
    return v;
}

/* Keys of a geo map: "default", a continent, an ISO 3166-1 country, an ISO 3166-2
 * subdivision ("US-CA": country, dash, one to three letters or digits). */
static bool geo_key_ok(const char *k)
{
    size_t sub = 0;
    if (!strcmp(k, "default"))
        return true;
    if (!is_upper(k[0]) || !is_upper(k[1]))
        return false;
    if (!k[2])
        return true;
    if (k[2] != '-')
        return false;
    while (k[3 + sub] && (is_upper(k[3 + sub]) || (k[3 + sub] >= '0' && k[3 + sub] <= '9')))
        sub++;
    return sub >= 1 && sub <= 3 && !k[3 + sub];
}

static void geo_key_error(struct yw *w, yaml_node_t *k, const char *key)
{
    char up[16] = "";
    size_t i = 0;
    for (; i < sizeof(up) - 1 && key[i]; i++)
        up[i] = key[i] >= 'a' && key[i] <= 'z' ? (char)(key[i] - 'a' + 'A') : key[i];
    up[i] = '\0';
    if (!key[i] && strcmp(key, up) && geo_key_ok(up))
        yw_error(w, k, "map key \"%s\" must be upper-case; write %s", key, up);
    else
        yw_error(w, k,
                 "map key \"%s\" is not a place; use default, a continent (AF AN AS EU NA "
                 "OC SA), a country such as GB, or a subdivision such as US-CA",
                 key);
}

static void geo_entry(struct yw *w, yaml_node_t *k, yaml_node_t *v, struct conf_geo_entry *e)
{
    const char *key = yw_text(k);
    e->key = arena_strdup(w->arena, key);
    e->mark = mark_of(k);
    if (!geo_key_ok(key))
        geo_key_error(w, k, key);
    if (yw_is_map(v))
        (void)weight_set(w, v, key, &e->choice);
    else
        (void)region_list(w, v, key, &e->choice);
}

static void service_geo(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    yaml_node_t *m = required(w, k, map, s, "map", "{ EU: [eu-west-1], default: [us-east-1] }");
    if (!m || !yw_mapping(w, m, "\"map\""))
        return;
    s->map = arena_alloc(w->arena, yw_len(m) * sizeof(*s->map));
    for (size_t i = 0; s->map && i < yw_len(m); i++)
        if (yw_text(yw_key(w, m, i)))
            geo_entry(w, yw_key(w, m, i), yw_value(w, m, i), &s->map[s->nmap++]);
    if (!yw_get(w, m, "default"))
        yw_error(w, m,
                 "the map of service \"%s\" has no \"default\"; add default: [REGION] for "
                 "clients that no other key matches",
                 s->name);
}

/* Distance needs a place on the map for every region the policy may pick. */
static void require_locations(struct yw *w, yaml_node_t *at, const struct conf_service *s)
{
    const struct config *c = cfg(w);
    size_t n = s->set.n ? s->set.n : c->nregions;
    if (!n)
        yw_error(w, at, "policy %s has no regions to choose from; define some under regions:",
                 policy_names[s->policy]);
    for (size_t i = 0; i < n; i++) {
        const struct conf_region *r = &c->regions[s->set.n ? s->set.regions[i] : i];
        if (!r->has_location)
            yw_error(w, at,
                     "policy %s needs the location of every region it may choose; add "
                     "location: [LAT, LON] to region \"%s\"",
                     policy_names[s->policy], r->name);
    }
}

static void service_nearest(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    static const struct yw_field table = {.key = "latency_table", .example = "rtt.csv"};
    yaml_node_t *regions = yw_get(w, map, "regions"), *t;
    if (regions && !region_list(w, regions, "regions", &s->set))
        return;
    require_locations(w, yw_get(w, map, "policy"), s);
    if (s->policy != POLICY_LATENCY)
        return;
    t = required(w, k, map, s, "latency_table", "/etc/meridian/rtt.csv");
    if (t)
        s->latency_table = yw_path(w, t, &table);
}

static void service_policy(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    yaml_node_t *v;
    switch (s->policy) {
    case POLICY_GEO:
        service_geo(w, k, map, s);
        break;
    case POLICY_WEIGHTED:
        if ((v = required(w, k, map, s, "weights", "{ us-east-1: 80, eu-west-1: 20 }")))
            (void)weight_set(w, v, "weights", &s->set);
        break;
    case POLICY_NEAREST:
    case POLICY_LATENCY:
        service_nearest(w, k, map, s);
        break;
    case POLICY_FAILOVER:
        if ((v = required(w, k, map, s, "order", "[us-east-1, eu-west-1]")))
            (void)region_list(w, v, "order", &s->set);
        break;
    }
}

static bool read_policy(struct yw *w, yaml_node_t *k, yaml_node_t *map, struct conf_service *s)
{
    yaml_node_t *p = yw_get(w, map, "policy");
    const char *t = yw_text(p);
    if (!p) {
        yw_error(w, k,
                 "service \"%s\" needs a policy, e.g. policy: geo (or weighted, nearest, "
                 "latency, failover)",
                 s->name);
        return false;
    }
    for (unsigned i = 0; t && i < ARRAY_LEN(policy_names); i++)
        if (!strcmp(t, policy_names[i])) {
            s->policy = (enum policy_kind)i;
            return true;
        }
    yw_error(w, p,
             "\"policy\" must be geo, weighted, nearest, latency or failover, e.g. "
             "policy: geo");
    return false;
}

static void load_service(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    struct conf_service *s = item;
    char what[320];
    s->name = arena_strdup(w->arena, yw_text(k));
    s->mark = mark_of(k);
    check_name(w, k, "service", yw_text(k), "web");
    snprintf(what, sizeof(what), "service \"%s\"", yw_text(k));
    yw_fields(w, v, what, service_fields, ARRAY_LEN(service_fields), s);
    if ((!yw_is_map(v) && !yw_is_null(v)) || !read_policy(w, k, v, s))
        return;
    reject_foreign(w, v, service_only, ARRAY_LEN(service_only), s->policy);
    service_policy(w, k, v, s);
}

/* ---- zones ---- */

static void load_zone(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
{
    struct conf_zone *z = item;
    const char *t = yw_text(k);
    const struct yw_field f = {.key = t, .example = "zones/example.com.zone"};
    char name[256];
    z->mark = mark_of(k);
    if (!domain_normalise(t, name, true)) {
        yw_error(w, k, "zone name \"%s\" is not a domain name; write it like example.com", t);
        snprintf(name, sizeof(name), "%s", t);
    }
    z->name = arena_strdup(w->arena, name);
    z->path = yw_path(w, v, &f);
}

/* "Example.com" and "example.com." are different keys to YAML but the same zone. */
static void check_zone_twice(struct yw *w, const struct config *c)
{
    for (size_t i = 1; i < c->nzones; i++)
        for (size_t j = 0; j < i; j++)
            if (c->zones[i].name && c->zones[j].name &&
                !strcmp(c->zones[i].name, c->zones[j].name)) {
                diag_error(w->d, w->file, c->zones[i].mark.line, c->zones[i].mark.col,
                           "zone %s is listed twice (first at line %u); remove one",
                           c->zones[i].name, c->zones[j].mark.line);
                break;
            }
}

/* ---- the whole file ---- */

/* One item per key of a named section, loaded in the order written, so that item i is
 * the i-th name and indices into the array are stable. */
static void *load_named(struct yw *w, yaml_node_t *n, const char *what, size_t size, size_t *count,
                        load_fn *fn)
{
    char *items;
    *count = 0;
    if (!yw_mapping(w, n, what) || !(items = arena_alloc(w->arena, yw_len(n) * size)))
        return NULL;
    for (size_t i = 0; i < yw_len(n); i++) {
        yaml_node_t *k = yw_key(w, n, i);
        if (!yw_text(k))
            continue; /* reported by yw_open */
        fn(w, k, yw_value(w, n, i), items + size * *count);
        (*count)++;
    }
    return items;
}

static const struct yw_field root_fields[] = {
    YW_ACCEPT("server"),   YW_ACCEPT("geoip"), YW_ACCEPT("regions"), YW_ACCEPT("checks"),
    YW_ACCEPT("services"), YW_ACCEPT("zones"), YW_ACCEPT("rrl"),
};

/* Sections are read in dependency order, whatever order they were written in: regions
 * name checks; nets and services name regions. */
static void load_root(struct yw *w)
{
    struct config *c = cfg(w);
    yaml_node_t *root = yw_root(w);
    if (!root || yw_is_null(root)) {
        diag_error(w->d, w->file, 0, 0,
                   "the config is empty; write at least one section, e.g. "
                   "zones: { example.com: example.com.zone }");
        return;
    }
    if (!yw_is_map(root)) {
        yw_error(w, root,
                 "the top level must be a mapping of sections (server:, geoip:, regions:, "
                 "checks:, services:, zones:), not %s",
                 yw_is_seq(root) ? "a list" : "a single value");
        return;
    }
    yw_fields(w, root, "the top level", root_fields, ARRAY_LEN(root_fields), NULL);
    load_server(w, yw_get(w, root, "server"));
    rrl_defaults(w, &c->rrl);
    yw_fields(w, yw_get(w, root, "rrl"), "rrl", rrl_fields, ARRAY_LEN(rrl_fields), &c->rrl);
    c->checks = load_named(w, yw_get(w, root, "checks"), "checks", sizeof(*c->checks), &c->nchecks,
                           load_check);
    c->regions = load_named(w, yw_get(w, root, "regions"), "regions", sizeof(*c->regions),
                            &c->nregions, load_region);
    yw_fields(w, yw_get(w, root, "geoip"), "geoip", geoip_fields, ARRAY_LEN(geoip_fields),
              &c->geoip);
    c->services = load_named(w, yw_get(w, root, "services"), "services", sizeof(*c->services),
                             &c->nservices, load_service);
    c->zones =
        load_named(w, yw_get(w, root, "zones"), "zones", sizeof(*c->zones), &c->nzones, load_zone);
    check_zone_twice(w, c);
}

struct config *conf_load(const char *path, struct diag *d)
{
    struct config *c = calloc(1, sizeof(*c));
    unsigned errors = d->errors;
    struct yw w;
    if (!c) {
        diag_error(d, path, 0, 0, "out of memory while loading the config");
        return NULL;
    }
    arena_init(&c->arena);
    c->path = arena_strdup(&c->arena, path);
    c->server.udp_payload = 1232;
    c->server.tcp_idle_ms = 10000;
    c->server.tcp_max_clients = 1024;
    c->server.tcp_max_per_client = 16;
    c->server.tcp_lifetime_ms = 120000;
    c->server.udp_rcvbuf = 4u << 20;
    c->server.zone_max_records = 10000000;
    c->rrl.rate = 100;
    c->rrl.slip = 2;
    c->rrl.ipv4_prefix = 24;
    c->rrl.ipv6_prefix = 56;
    c->geoip.ecs = true;
    if (yw_open(&w, path, d, &c->arena)) {
        w.ctx = c;
        load_root(&w);
    }
    yw_close(&w);
    if (c->arena.failed)
        diag_error(d, path, 0, 0, "out of memory while loading the config");
    if (d->errors == errors)
        return c;
    conf_free(c);
    return NULL;
}

void conf_free(struct config *c)
{
    if (!c)
        return;
    arena_free(&c->arena);
    free(c);
}

int conf_find_region(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nregions; i++)
        if (c->regions[i].name && !strcmp(c->regions[i].name, name))
            return (int)i;
    return -1;
}

int conf_find_service(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nservices; i++)
        if (c->services[i].name && !strcmp(c->services[i].name, name))
            return (int)i;
    return -1;
}
