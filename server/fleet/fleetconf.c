/* fleetconf.c — the fleet: section: this node's name, the etcd endpoints and how to reach
 * them, the key prefix and the health quorum.  Secrets must not be readable by others.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return n >= 1 && n <= 63;
}

static void parse_node(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_fleet *fl = obj;
    const char *t = yw_text(v);
    if (t && name_ok(t))
        fl->node = arena_strdup(w->arena, t);
    else
        yw_error(w, v,
                 "\"%s\" must be 1 to 63 characters of letters, digits, '-', '_' and '.', "
                 "unique in the fleet, e.g. %s: %s",
                 f->key, f->key, f->example);
}

static void parse_etcd(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_fleet *fl = obj;
    size_t n = yw_list_len(v);
    if (!n || !(fl->etcd = arena_alloc(w->arena, n * sizeof(*fl->etcd)))) {
        yw_error(w, v, "\"%s\" must be an endpoint URL or a list of them, e.g. %s: %s", f->key,
                 f->key, f->example);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yw_list_item(w, v, i);
        const char *t = yw_text(item);
        /* http://host:port or https://host:port; the gateway paths are ours to add. */
        bool ok = t && (!strncmp(t, "http://", 7) || !strncmp(t, "https://", 8)) &&
                  !strpbrk(strstr(t, "//") + 2, " \t/?#@") && strlen(strstr(t, "//") + 2) > 0;
        if (ok)
            fl->etcd[fl->netcd++] = arena_strdup(w->arena, t);
        else
            yw_error(w, item,
                     "etcd endpoint \"%s\" is not valid; write http://HOST:PORT or "
                     "https://HOST:PORT, e.g. %s",
                     t ? t : "", f->example);
    }
}

static void parse_prefix(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct conf_fleet *fl = obj;
    const char *t = yw_text(v);
    bool ok = t && t[0] == '/' && strlen(t) < 200;
    for (const char *p = t; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    if (!ok) {
        yw_error(w, v,
                 "\"%s\" must start with '/' and hold printable characters without spaces, "
                 "e.g. %s: %s",
                 f->key, f->key, f->example);
        return;
    }
    size_t n = strlen(t);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s%s", t, t[n - 1] == '/' ? "" : "/");
    fl->prefix = arena_strdup(w->arena, buf);
}

static void parse_quorum(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    static const char *const words[] = {"majority", "any", "all"};
    struct conf_fleet *fl = obj;
    const char *t = yw_text(v);
    unsigned long long n;
    for (unsigned i = 0; t && i < ARRAY_LEN(words); i++)
        if (!strcmp(t, words[i])) {
            fl->quorum = (enum fleet_quorum)i;
            return;
        }
    if (t && yw_parse_uint(t, &n) && n >= 1 && n <= 1000) {
        fl->quorum = QUORUM_COUNT;
        fl->quorum_count = (unsigned)n;
        return;
    }
    yw_error(w, v,
             "\"%s\" must be majority, any, all or a number of nodes from 1 to 1000, "
             "e.g. %s: %s",
             f->key, f->key, f->example);
}

static const struct yw_field tls_fields[] = {
    YW_VALUE("ca", YW_PATH, struct conf_fleet, tls_ca, 0, 0, "/etc/meridian/etcd-ca.pem"),
    YW_VALUE("cert", YW_PATH, struct conf_fleet, tls_cert, 0, 0, "/etc/meridian/etcd-client.pem"),
    YW_VALUE("key", YW_PATH, struct conf_fleet, tls_key, 0, 0, "/etc/meridian/etcd-client.key"),
};

static void parse_tls(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    if (yw_mapping(w, v, "fleet.tls"))
        yw_fields(w, v, "fleet.tls", tls_fields, ARRAY_LEN(tls_fields), obj);
}

static const struct yw_field fleet_fields[] = {
    YW_HANDLER("node", parse_node, "ns1"),
    YW_HANDLER("etcd", parse_etcd, "[\"https://10.0.0.1:2379\", \"https://10.0.0.2:2379\"]"),
    YW_HANDLER("prefix", parse_prefix, "/meridian/"),
    YW_VALUE("user", YW_STRING, struct conf_fleet, user, 0, 0, "meridian"),
    YW_VALUE("password_file", YW_PATH, struct conf_fleet, password_file, 0, 0,
             "/etc/meridian/etcd-password"),
    YW_HANDLER("tls", parse_tls, "{ca: ca.pem, cert: client.pem, key: client.key}"),
    YW_VALUE("timeout", YW_MS, struct conf_fleet, timeout_ms, 100, 60000, "2s"),
    YW_HANDLER("health_quorum", parse_quorum, "majority"),
    YW_VALUE("probe_source", YW_STRING, struct conf_fleet, probe_source, 0, 0, "192.0.2.53"),
};

/* A secret another user can read is no secret: refused, as ssh refuses such a key. */
static void check_secret(struct yw *w, yaml_node_t *map, const char *key, const char *path)
{
    yaml_node_t *n = yw_get(w, map, key);
    struct stat st;
    if (!path || !n)
        return;
    if (stat(path, &st) < 0)
        yw_error(w, n, "cannot read %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        yw_error(w, n, "%s is not a regular file", path);
    else if (st.st_mode & (S_IROTH | S_IWOTH))
        yw_error(w, n,
                 "%s is readable or writable by others (mode %04o); it holds a secret: "
                 "chmod o-rwx %s",
                 path, (unsigned)(st.st_mode & 07777), path);
}

static void check_fleet(struct yw *w, yaml_node_t *n, struct conf_fleet *fl)
{
    struct conf_ip ip;
    if (!fl->node && !yw_get(w, n, "node"))
        yw_error(w, n,
                 "fleet needs \"node\", this node's name, unique in the fleet, e.g. "
                 "node: ns1");
    if (!fl->netcd && !yw_get(w, n, "etcd"))
        yw_error(w, n,
                 "fleet needs \"etcd\", the endpoints, e.g. etcd: "
                 "[\"http://127.0.0.1:2379\"]");
    if (!fl->user != !fl->password_file)
        yw_error(w, n, "fleet: \"user\" and \"password_file\" go together; set both or neither");
    if (!fl->tls_cert != !fl->tls_key)
        yw_error(w, yw_get(w, n, "tls"),
                 "fleet.tls: \"cert\" and \"key\" go together; set both "
                 "or neither");
    if (fl->probe_source && !ip_parse(fl->probe_source, &ip))
        yw_error(w, yw_get(w, n, "probe_source"),
                 "\"probe_source\" must be an IPv4 or IPv6 address of this machine, e.g. "
                 "probe_source: 192.0.2.53");
    check_secret(w, n, "password_file", fl->password_file);
    check_secret(w, yw_get(w, n, "tls"), "key", fl->tls_key);
}

void load_fleet(struct yw *w, yaml_node_t *n)
{
    struct conf_fleet *fl = &cfg(w)->fleet;
    if (!yw_mapping(w, n, "fleet"))
        return;
    fl->mark = mark_of(n);
    yw_fields(w, n, "fleet", fleet_fields, ARRAY_LEN(fleet_fields), fl);
    if (!fl->prefix)
        fl->prefix = arena_strdup(w->arena, "/meridian/");
    check_fleet(w, n, fl);
    if (w->d->errors)
        fl->node = NULL; /* a half-read fleet section is never joined */
}
