/* conf_server.c — the server: and rrl: sections: listen addresses, workers, TCP limits,
 * the control socket and other daemon settings, and response rate limiting.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"
#include "server/cookie_secret.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* ---- addresses ---- */

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

/* ---- identity: NSID and CHAOS ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 5001 §2.3 leaves the payload's form to the operator: text as written, or any bytes
 * as "hex:" and an even number of hex digits. */
static void parse_nsid(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    const char *t = yw_text(v);
    bool hex = t && !strncmp(t, "hex:", 4);
    size_t n = t ? strlen(hex ? t + 4 : t) : 0;
    if (!t || !n || (hex && n % 2) || (hex ? n / 2 : n) > 255) {
        yw_error(w, v,
                 "\"%s\" must be 1 to 255 bytes of text, or hex: and up to 510 hex digits, "
                 "e.g. %s: %s",
                 f->key, f->key, f->example);
        return;
    }
    size_t len = hex ? n / 2 : n;
    uint8_t *b = arena_alloc(w->arena, len);
    for (size_t i = 0; b && i < len; i++) {
        int hi = hex ? hex_digit(t[4 + 2 * i]) : 0, lo = hex ? hex_digit(t[5 + 2 * i]) : 0;
        if (hi < 0 || lo < 0) {
            yw_error(w, v, "\"%s\": \"%s\" is not hex digits after hex:", f->key, t);
            return;
        }
        b[i] = hex ? (uint8_t)(hi << 4 | lo) : (uint8_t)t[i];
    }
    s->nsid = b;
    s->nsid_len = len;
}

/* A CHAOS TXT answer is one character-string: at most 255 bytes. */
static void parse_chaos_text(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    const char *t = yw_text(v);
    if (!t || !*t || strlen(t) > 255) {
        yw_error(w, v, "\"%s\" must be text of 1 to 255 bytes, e.g. %s: %s", f->key, f->key,
                 f->example);
        return;
    }
    char *copy = arena_strdup(w->arena, t);
    if (!strcmp(f->key, "identity"))
        s->identity = copy;
    else
        s->version = copy;
}

/* "unix:PATH" for the Unix socket a dnstap reader listens on, by its full path; anything
 * else is a file, relative to the config. */
static void parse_dnstap(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_server *s = obj;
    const char *t = yw_text(v);
    if (!t || strncmp(t, "unix:", 5) != 0) {
        s->dnstap = yw_path(w, v, f);
        s->dnstap_socket = false;
        return;
    }
    const char *sock = t + 5;
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
    if (sock[0] != '/') {
        yw_error(w, v, "\"%s\" must name the socket by its full path, e.g. %s: %s", f->key, f->key,
                 f->example);
    } else if (strlen(sock) >= max) {
        yw_error(w, v, "\"%s\": a socket path must be under %zu bytes, e.g. %s: %s", f->key, max,
                 f->key, f->example);
    } else {
        s->dnstap = arena_strdup(w->arena, sock);
        s->dnstap_socket = true;
    }
}

static const struct yw_field server_fields[] = {
    YW_HANDLER("listen", parse_listen, "[\"0.0.0.0:53\", \"[::]:53\"]"),
    YW_HANDLER("workers", parse_workers, "4"),
    YW_VALUE("udp_payload", YW_UINT, struct conf_server, udp_payload, 512, 4096, "1232"),
    YW_VALUE("tcp_idle_timeout", YW_MS, struct conf_server, tcp_idle_ms, 1, HOUR_MS, "10s"),
    YW_VALUE("tcp_max_clients", YW_UINT, struct conf_server, tcp_max_clients, 1, 1000000, "1024"),
    YW_VALUE("tcp_backlog", YW_UINT, struct conf_server, tcp_backlog, 1, 65535, "1024"),
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
    YW_HANDLER("nsid", parse_nsid, "ns1.fra"),
    YW_HANDLER("identity", parse_chaos_text, "ns1.fra.example.net"),
    YW_HANDLER("version", parse_chaos_text, "meridian"),
    YW_VALUE("cookies", YW_BOOL, struct conf_server, cookies, 0, 0, "true"),
    YW_VALUE("cookie_secret_file", YW_PATH, struct conf_server, cookie_secret_file, 0, 0,
             "/etc/meridian/cookie.secret"),
    YW_HANDLER("dnstap", parse_dnstap, "unix:/run/meridian/dnstap.sock"),
};

/* The secret file is read with the config, so that -t checks it and a reload rotates it;
 * its errors point at the key when the file cannot be read at all. */
static void load_cookie_secrets(struct yw *w, yaml_node_t *n, struct conf_server *s)
{
    if (!s->cookies)
        return;
    if (!s->cookie_secret_file) {
        if (!cookie_secret_random(&s->cookie_secrets))
            diag_error(w->d, w->file, 0, 0,
                       "no random bytes for the cookie secret; set server.cookie_secret_file");
        return;
    }
    yaml_node_t *k = yw_get(w, n, "cookie_secret_file");
    if (!cookie_secret_read(s->cookie_secret_file, &s->cookie_secrets, w->d, w->file,
                            k ? yw_line(k) : 0, k ? yw_col(k) : 0))
        s->cookie_secrets.n = 0; /* the error is in d: the config does not load */
}

void load_server(struct yw *w, yaml_node_t *n)
{
    static const char *const any[] = {"0.0.0.0:53", "[::]:53"};
    struct conf_server *s = &cfg(w)->server;
    yw_fields(w, n, "server", server_fields, ARRAY_LEN(server_fields), s);
    load_cookie_secrets(w, n, s);
    if (s->nlisten || yw_get(w, n, "listen"))
        return;
    s->listen = arena_alloc(w->arena, ARRAY_LEN(any) * sizeof(*s->listen));
    for (size_t i = 0; s->listen && i < ARRAY_LEN(any); i++)
        if (listen_parse(any[i], &s->listen[s->nlisten]))
            s->nlisten++;
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
        if (t && conf_cidr_parse(w, item, t, &r->exempt[r->nexempt]))
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
void load_rrl(struct yw *w, yaml_node_t *n)
{
    struct conf_rrl *r = &cfg(w)->rrl;
    rrl_defaults(w, r);
    yw_fields(w, n, "rrl", rrl_fields, ARRAY_LEN(rrl_fields), r);
}
