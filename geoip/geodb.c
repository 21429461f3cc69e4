/* geodb.c — reading places out of MaxMind-format databases.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/geodb.h"
#include "geoip/treejump.h"
#include "lib/readfile.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#define PATH_MAX_PARTS 8

/* A field path split into the NULL-terminated parts MMDB_aget_value takes. */
struct path {
    const char *part[PATH_MAX_PARTS + 1];
    char buf[128];
};

struct schema {
    struct path continent, country, subdivision, latitude, longitude;
    struct path country_fallback; /* GeoIP2: registered_country when country is absent */
};

struct db {
    MMDB_s mmdb;
    struct treejump *jump[2]; /* IPv4, IPv6; NULL where the tree has no such family */
    struct schema schema;
    char describe[160];
};

struct geodb {
    struct db *dbs;
    unsigned n;
};

static void path_set(struct path *p, const char *dotted)
{
    memset(p, 0, sizeof(*p));
    if (!dotted || !*dotted)
        return;
    snprintf(p->buf, sizeof(p->buf), "%s", dotted);
    unsigned n = 0;
    for (char *s = p->buf; s && n < PATH_MAX_PARTS;) {
        p->part[n++] = s;
        s = strchr(s, '.');
        if (s)
            *s++ = '\0';
    }
}

/* The GeoIP2 schema is what MaxMind's and DB-IP's databases use; anything else is taken
 * to be a flat record such as ip-location-db's {country_code, latitude, longitude}. */
static bool is_geoip2(const char *type)
{
    static const char *const marks[] = {"GeoIP2", "GeoLite2", "GeoIP", "DBIP", "dbip", "DB-IP"};
    for (size_t i = 0; type && i < sizeof(marks) / sizeof(marks[0]); i++)
        if (strstr(type, marks[i]))
            return true;
    return false;
}

static const char *pick(const char *configured, const char *dflt)
{
    return configured ? configured : dflt;
}

static void schema_init(struct db *db, const struct conf_geoip_fields *f)
{
    bool g2 = is_geoip2(db->mmdb.metadata.database_type);
    struct schema *s = &db->schema;
    path_set(&s->continent, pick(f->continent, g2 ? "continent.code" : "continent_code"));
    path_set(&s->country, pick(f->country, g2 ? "country.iso_code" : "country_code"));
    path_set(&s->subdivision, pick(f->subdivision, g2 ? "subdivisions.0.iso_code" : "state1"));
    path_set(&s->latitude, pick(f->latitude, g2 ? "location.latitude" : "latitude"));
    path_set(&s->longitude, pick(f->longitude, g2 ? "location.longitude" : "longitude"));
    path_set(&s->country_fallback, g2 && !f->country ? "registered_country.iso_code" : NULL);
    snprintf(db->describe, sizeof(db->describe), "%s (%s schema)",
             db->mmdb.metadata.database_type ? db->mmdb.metadata.database_type : "untyped",
             g2 ? "GeoIP2" : "flat");
}

struct geodb *geodb_open(const struct conf_geoip *g, struct diag *d)
{
    struct geodb *gd = calloc(1, sizeof(*gd));
    if (!gd || !(gd->dbs = calloc(g->ndatabases ? g->ndatabases : 1, sizeof(*gd->dbs)))) {
        free(gd);
        diag_error(d, NULL, 0, 0, "out of memory opening the GeoIP databases");
        return NULL;
    }
    for (size_t i = 0; i < g->ndatabases; i++) {
        struct db *db = &gd->dbs[gd->n];
        int err = readfile_check(g->databases[i]); /* MMDB_open would wait on a FIFO */
        int rc = err ? MMDB_SUCCESS : MMDB_open(g->databases[i], MMDB_MODE_MMAP, &db->mmdb);
        if (err || rc != MMDB_SUCCESS) {
            /* pointed at the config line that names it, where the fix goes */
            struct conf_mark m = g->database_marks ? g->database_marks[i] : (struct conf_mark){0};
            diag_error(d, g->from, m.line, m.col, "cannot open the GeoIP database %s: %s",
                       g->databases[i], err ? readfile_strerror(err) : MMDB_strerror(rc));
            continue;
        }
        gd->n++;
        schema_init(db, &g->fields);
        bool v6 = db->mmdb.metadata.ip_version == 6;
        if (!(db->jump[0] = treejump_build(&db->mmdb, AF_INET)) ||
            (v6 && !(db->jump[1] = treejump_build(&db->mmdb, AF_INET6))))
            diag_error(d, g->databases[i], 0, 0,
                       "cannot index the GeoIP database: its search tree is damaged or"
                       " memory ran out");
    }
    if (d->errors) {
        geodb_close(gd);
        return NULL;
    }
    return gd;
}

void geodb_close(struct geodb *g)
{
    if (!g)
        return;
    for (unsigned i = 0; i < g->n; i++) {
        treejump_free(g->dbs[i].jump[0]);
        treejump_free(g->dbs[i].jump[1]);
        MMDB_close(&g->dbs[i].mmdb);
    }
    free(g->dbs);
    free(g);
}

unsigned geodb_count(const struct geodb *g)
{
    return g ? g->n : 0;
}

const char *geodb_describe(const struct geodb *g, unsigned i)
{
    return g->dbs[i].describe;
}

/* One database's verdict, false when it has no tree for the family (an IPv6 address and
 * an IPv4 database) or its tree is damaged below the table.  geodb_open built a table
 * for every tree a database has. */
static bool db_lookup(const struct db *db, int family, const uint8_t *addr,
                      struct treejump_result *out)
{
    const struct treejump *t = db->jump[family == AF_INET6];
    if (!t)
        return false;
    *out = treejump_lookup(t, &db->mmdb, addr);
    return out->ok;
}

struct geodb_hit geodb_lookup(const struct geodb *g, int family, const uint8_t *addr)
{
    struct geodb_hit best = {0};
    for (unsigned i = 0; g && i < g->n; i++) {
        struct treejump_result r;
        if (!db_lookup(&g->dbs[i], family, addr, &r))
            continue;
        /* The scope must hold for every database asked: an earlier one's empty network
         * may be longer than the deciding one's record, and a client beside ours in the
         * wider network could be answered by that earlier database. */
        if (r.netmask > best.prefix)
            best.prefix = r.netmask;
        if (r.found) {
            best.found = true;
            best.db = i;
            best.record = r.offset;
            return best;
        }
    }
    return best;
}

static struct geodb_cursor cursor_of(uint8_t type, uint32_t value)
{
    switch (type) {
    case MMDB_RECORD_TYPE_SEARCH_NODE:
        return (struct geodb_cursor){GEODB_NODE, value};
    case MMDB_RECORD_TYPE_DATA:
        return (struct geodb_cursor){GEODB_RECORD, value};
    case MMDB_RECORD_TYPE_EMPTY:
        return (struct geodb_cursor){GEODB_EMPTY, 0};
    default:
        return (struct geodb_cursor){GEODB_NONE, 0};
    }
}

struct geodb_cursor geodb_down(const struct geodb *g, unsigned db, struct geodb_cursor c,
                               unsigned bit)
{
    MMDB_search_node_s n;
    if (c.step != GEODB_NODE)
        return c;
    if (MMDB_read_node(&g->dbs[db].mmdb, c.value, &n) != MMDB_SUCCESS)
        return (struct geodb_cursor){GEODB_NONE, 0};
    if (bit)
        return cursor_of(n.right_record_type, n.right_record_type == MMDB_RECORD_TYPE_DATA
                                                  ? (uint32_t)n.right_record_entry.offset
                                                  : (uint32_t)n.right_record);
    return cursor_of(n.left_record_type, n.left_record_type == MMDB_RECORD_TYPE_DATA
                                             ? (uint32_t)n.left_record_entry.offset
                                             : (uint32_t)n.left_record);
}

struct geodb_cursor geodb_start(const struct geodb *g, unsigned db, int family)
{
    const struct db *b = &g->dbs[db];
    struct geodb_cursor c = {GEODB_NODE, 0};
    if (!b->jump[family == AF_INET6])
        return (struct geodb_cursor){GEODB_NONE, 0};
    if (family == AF_INET && b->mmdb.metadata.ip_version == 6)
        for (unsigned i = 0; i < 96; i++)
            c = geodb_down(g, db, c, 0);
    return c;
}

static bool get_value(const MMDB_s *m, uint32_t record, const struct path *p,
                      MMDB_entry_data_s *out)
{
    if (!p->part[0])
        return false;
    MMDB_entry_s e = {.mmdb = m, .offset = record};
    return MMDB_aget_value(&e, out, p->part) == MMDB_SUCCESS && out->has_data;
}

static void get_code(const MMDB_s *m, uint32_t record, const struct path *p, char *out, size_t size)
{
    MMDB_entry_data_s v;
    if (!get_value(m, record, p, &v) || v.type != MMDB_DATA_TYPE_UTF8_STRING)
        return;
    size_t n = v.data_size < size - 1 ? v.data_size : size - 1;
    for (size_t i = 0; i < n; i++) {
        char c = v.utf8_string[i];
        out[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    out[n] = '\0';
}

static bool get_number(const MMDB_s *m, uint32_t record, const struct path *p, float *out)
{
    MMDB_entry_data_s v;
    if (!get_value(m, record, p, &v))
        return false;
    switch (v.type) {
    case MMDB_DATA_TYPE_DOUBLE:
        *out = (float)v.double_value;
        return true;
    case MMDB_DATA_TYPE_FLOAT:
        *out = v.float_value;
        return true;
    case MMDB_DATA_TYPE_UTF8_STRING: {
        char buf[32];
        size_t n = v.data_size < sizeof(buf) - 1 ? v.data_size : sizeof(buf) - 1;
        memcpy(buf, v.utf8_string, n);
        buf[n] = '\0';
        char *end;
        *out = strtof(buf, &end);
        return end != buf;
    }
    default:
        return false;
    }
}

void geodb_place(const struct geodb *g, const struct geodb_hit *h, struct place *out)
{
    memset(out, 0, sizeof(*out));
    if (!h->found)
        return;
    const struct db *db = &g->dbs[h->db];
    const struct schema *s = &db->schema;
    get_code(&db->mmdb, h->record, &s->continent, out->continent, sizeof(out->continent));
    get_code(&db->mmdb, h->record, &s->country, out->country, sizeof(out->country));
    if (!out->country[0])
        get_code(&db->mmdb, h->record, &s->country_fallback, out->country, sizeof(out->country));
    get_code(&db->mmdb, h->record, &s->subdivision, out->subdivision, sizeof(out->subdivision));
    out->has_coords = get_number(&db->mmdb, h->record, &s->latitude, &out->lat) &&
                      get_number(&db->mmdb, h->record, &s->longitude, &out->lon);
}

size_t geodb_dump(const struct geodb *g, const struct geodb_hit *h, char *buf, size_t size)
{
    if (!h->found || !size)
        return 0;
    MMDB_entry_s e = {.mmdb = &g->dbs[h->db].mmdb, .offset = h->record};
    MMDB_entry_data_list_s *list = NULL;
    if (MMDB_get_entry_data_list(&e, &list) != MMDB_SUCCESS)
        return 0;
    FILE *f = fmemopen(buf, size, "w");
    size_t n = 0;
    if (f) {
        MMDB_dump_entry_data_list(f, list, 2);
        n = (size_t)ftell(f);
        fclose(f);
    }
    MMDB_free_entry_data_list(list);
    return n < size ? n : size - 1;
}
