/* conf_dnssec.c — a zone written as a mapping: its file and how it is signed.
 *   example.com: {file: zones/example.com.zone, dnssec: {keys: [keys/Kexample.com.+013+12345]}}
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"

#include <string.h>

#define KEY_EXAMPLE "[keys/Kexample.com.+013+12345]"

/* A key is its path, or {key: PATH, state: active|publish|retire}. */
static void key_one(struct yw *w, yaml_node_t *item, struct sign_keyspec *k)
{
    static const struct yw_field path_f = {.key = "keys", .example = KEY_EXAMPLE};
    k->line = yw_line(item);
    k->col = yw_col(item);
    k->state = SIGN_KEY_ACTIVE;
    if (!yw_is_map(item)) {
        k->path = yw_path(w, item, &path_f);
        return;
    }
    yaml_node_t *p = yw_get(w, item, "key"), *st = yw_get(w, item, "state");
    const struct yw_field key_f = {.key = "key", .example = "keys/Kexample.com.+013+12345"};
    for (size_t i = 0; i < yw_len(item); i++) {
        const char *kt = yw_text(yw_key(w, item, i));
        if (kt && strcmp(kt, "key") && strcmp(kt, "state"))
            yw_error(w, yw_key(w, item, i),
                     "unknown key \"%s\" in a key entry; it takes key: "
                     "and state:",
                     kt);
    }
    if (!p) {
        yw_error(w, item, "a key entry needs key: PATH, e.g. {key: %s, state: publish}",
                 "keys/Kexample.com.+013+12345");
        return;
    }
    k->path = yw_path(w, p, &key_f);
    const char *s = st ? yw_text(st) : "active";
    if (s && !strcmp(s, "publish"))
        k->state = SIGN_KEY_PUBLISH;
    else if (s && !strcmp(s, "retire"))
        k->state = SIGN_KEY_RETIRE;
    else if (!s || strcmp(s, "active"))
        yw_error(w, st, "state must be active, publish or retire, not %s", s ? s : "this");
}

static void parse_keys(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct sign_policy *p = obj;
    size_t n = yw_list_len(v);
    if (!n) {
        yw_error(w, v, "\"%s\" must list the zone's key files, e.g. %s: %s", f->key, f->key,
                 f->example);
        return;
    }
    struct sign_keyspec *keys = arena_alloc(w->arena, n * sizeof(*keys));
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        key_one(w, yw_list_item(w, v, i), &keys[i]);
    p->keys = keys;
    p->nkeys = n;
}

/* NSEC3 (RFC 5155 with RFC 9276's parameters) unless the zone has nothing to hide and
 * prefers the simpler chain. */
static void parse_denial(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    struct sign_policy *p = obj;
    const char *t = yw_text(v);
    if (t && (!strcmp(t, "nsec3") || !strcmp(t, "nsec")))
        p->nsec3 = !strcmp(t, "nsec3");
    else
        yw_error(w, v, "\"%s\" must be nsec3 or nsec, e.g. %s: %s", f->key, f->key, f->example);
}

/* Lifetimes in milliseconds while parsing; the policy keeps seconds. */
struct dnssec_conf {
    struct sign_policy p;
    unsigned lifetime_ms, refresh_ms;
};

static const struct yw_field dnssec_fields[] = {
    YW_HANDLER("keys", parse_keys, KEY_EXAMPLE),
    YW_HANDLER("denial", parse_denial, "nsec3"),
    YW_VALUE("signature_lifetime", YW_MS, struct dnssec_conf, lifetime_ms, 10000, 40 * DAY_MS,
             "14d"),
    YW_VALUE("signature_refresh", YW_MS, struct dnssec_conf, refresh_ms, 1000, 40 * DAY_MS, "7d"),
};

static void load_dnssec(struct yw *w, yaml_node_t *v, struct conf_zone *z)
{
    struct dnssec_conf dc = {.p.nsec3 = true,
                             .lifetime_ms = SIGN_LIFETIME_DEFAULT * 1000u,
                             .refresh_ms = SIGN_REFRESH_DEFAULT * 1000u};
    if (!yw_mapping(w, v, "dnssec"))
        return;
    yw_fields(w, v, "dnssec", dnssec_fields, ARRAY_LEN(dnssec_fields), &dc);
    if (!dc.p.nkeys && !yw_get(w, v, "keys"))
        yw_error(w, v, "dnssec needs keys, e.g. dnssec: {keys: %s}", KEY_EXAMPLE);
    if (dc.refresh_ms >= dc.lifetime_ms)
        yw_error(w, v, "signature_refresh must be shorter than signature_lifetime");
    z->dnssec = true;
    z->sign = dc.p;
    z->sign.conf_file = arena_strdup(w->arena, w->file);
    z->sign.lifetime = dc.lifetime_ms / 1000;
    z->sign.refresh = dc.refresh_ms / 1000;
}

static void parse_dnssec(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    (void)f;
    load_dnssec(w, v, obj);
}

static const struct yw_field zone_fields[] = {
    YW_VALUE("file", YW_PATH, struct conf_zone, path, 0, 0, "zones/example.com.zone"),
    YW_HANDLER("dnssec", parse_dnssec, "{keys: " KEY_EXAMPLE "}"),
};

void load_zone_map(struct yw *w, yaml_node_t *v, struct conf_zone *z)
{
    yw_fields(w, v, "a zone", zone_fields, ARRAY_LEN(zone_fields), z);
    if (!z->path)
        yw_error(w, v, "the zone needs file: PATH, e.g. file: zones/example.com.zone");
}
