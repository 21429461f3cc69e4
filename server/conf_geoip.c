/* conf_geoip.c — the geoip: section: the databases, operator networks that decide before
 * them, and the field paths into a database record.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/confparse.h"

#include <string.h>

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
    g->database_marks = arena_alloc(w->arena, n * sizeof(*g->database_marks));
    g->from = w->file;
    for (size_t i = 0; g->databases && g->database_marks && i < n; i++) {
        yaml_node_t *item = yw_list_item(w, v, i);
        char *p = yw_path(w, item, f);
        if (p) {
            g->database_marks[g->ndatabases] = mark_of(item);
            g->databases[g->ndatabases++] = p;
        }
    }
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
        bool ok = t && conf_cidr_parse(w, k, t, net);
        if (!region_list(w, yw_value(w, v, i), t ? t : "nets", &ch) || !ok)
            continue;
        net->regions = ch.regions;
        net->nregions = ch.n;
        net->mark = mark_of(k);
        g->nnets++;
    }
}

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

void load_geoip(struct yw *w, yaml_node_t *n)
{
    yw_fields(w, n, "geoip", geoip_fields, ARRAY_LEN(geoip_fields), &cfg(w)->geoip);
}
