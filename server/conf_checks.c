/* conf_checks.c — the checks: section: health probes by type, each key accepted only for
 * the types that use it, and timings that cannot stack up.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"

#include <stdio.h>
#include <string.h>

static const char *const check_types[] = {"http", "https", "tcp"};

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

void load_check(struct yw *w, yaml_node_t *k, yaml_node_t *v, void *item)
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
