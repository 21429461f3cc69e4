/* yamlwalk.c — loading a YAML file with libyaml's document API and reading its nodes
 * as typed values, reporting each mistake at its line and column.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/yamlwalk.h"
#include "lib/readfile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- paths ---- */

/* dir + "/" + rel, without the "./" a user may have put in front of rel. */
static char *path_join(struct arena *a, const char *dir, const char *rel)
{
    while (rel[0] == '.' && (rel[1] == '/' || rel[1] == '\0'))
        rel += rel[1] ? 2 : 1;
    while (*rel == '/')
        rel++;
    size_t dl = strlen(dir), rl = strlen(rel);
    bool slash = rl && dl && dir[dl - 1] != '/';
    char *p = arena_alloc(a, dl + slash + rl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (slash)
        p[dl] = '/';
    memcpy(p + dl + slash, rel, rl + 1);
    return p;
}

/* The directory of path, made absolute so that paths derived from it stay right after
 * the daemon changes directory. */
static char *base_dir(struct arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char dir[PATH_MAX], cwd[PATH_MAX];
    if (slash && n == 0)
        n = 1; /* "/meridian.yaml" lives in "/" */
    if (n >= sizeof(dir))
        n = sizeof(dir) - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (path[0] == '/')
        return arena_strdup(a, dir);
    if (!getcwd(cwd, sizeof(cwd)))
        return arena_strdup(a, n ? dir : ".");
    return path_join(a, cwd, dir);
}

/* ---- loading ---- */

/* Is there a tab in the indentation of line (0-based) of the len bytes of text, up to its
 * first NUL?  libyaml's word for it is only "found character that cannot start any token". */
static bool tab_indent(const char *text, size_t len, size_t line)
{
    size_t i = 0;
    for (size_t l = 0; l < line; l++) {
        while (i < len && text[i] && text[i] != '\n')
            i++;
        if (i >= len || !text[i])
            return false;
        i++;
    }
    while (i < len && text[i] == ' ')
        i++;
    return i < len && text[i] == '\t';
}

static void parser_error(struct yw *w, const yaml_parser_t *p, const char *text, size_t len)
{
    unsigned line = (unsigned)p->problem_mark.line + 1, col = (unsigned)p->problem_mark.column + 1;
    char ctx[160] = "";
    if (p->error == YAML_MEMORY_ERROR) {
        diag_error(w->d, w->file, 0, 0, "out of memory while reading the YAML");
    } else if (p->error == YAML_READER_ERROR) {
        diag_error(w->d, w->file, 0, 0,
                   "cannot read the file as text (%s at byte %zu); save it as UTF-8", p->problem,
                   p->problem_offset);
    } else if (tab_indent(text, len, p->problem_mark.line)) {
        diag_error(w->d, w->file, line, col,
                   "invalid YAML: a tab in the indentation; indent with spaces only");
    } else {
        if (p->context)
            snprintf(ctx, sizeof(ctx), " (%s at line %zu)", p->context, p->context_mark.line + 1);
        diag_error(w->d, w->file, line, col,
                   "invalid YAML: %s%s; check the indentation, and put values that contain \": \" "
                   "or \" #\" or start with [ { * & ! | > in quotes",
                   p->problem ? p->problem : "syntax error", ctx);
    }
}

/* A second document would be silently ignored by a loader that stops at the first; an
 * operator who pasted two configs together should hear about it. */
static void reject_more_documents(struct yw *w, yaml_parser_t *p, const char *text, size_t len,
                                  const char *noun)
{
    yaml_document_t next;
    if (!yaml_parser_load(p, &next)) {
        parser_error(w, p, text, len);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&next);
    if (root)
        yw_error(w, root,
                 "a %s holds one YAML document; remove the \"---\" before "
                 "this line and merge its sections into the first",
                 noun);
    yaml_document_delete(&next);
}

#define YW_DEPTH_MAX 64

/* libyaml's scanner takes time that grows with the square of the nesting depth, so a file
 * nested a hundred thousand levels deep would hold up a reload for most of a minute.  A
 * first pass over the events, which stops at the first level too deep, refuses such a
 * file before the document is built.  Syntax errors are left to the real load. */
static bool nesting_ok(struct yw *w, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    unsigned depth = 0;
    bool ok = true, end = false;
    if (!yaml_parser_initialize(&p))
        return true; /* the real load reports it */
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (ok && !end && yaml_parser_parse(&p, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        end = ev.type == YAML_STREAM_END_EVENT;
        if (depth > YW_DEPTH_MAX) {
            diag_error(w->d, w->file, (unsigned)ev.start_mark.line + 1,
                       (unsigned)ev.start_mark.column + 1,
                       "lists and mappings nested more than %d levels deep; no setting needs "
                       "that many",
                       YW_DEPTH_MAX);
            ok = false;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return ok;
}

static bool load_document(struct yw *w, const char *text, size_t len, const char *noun)
{
    yaml_parser_t p;
    if (!nesting_ok(w, text, len))
        return false;
    if (!yaml_parser_initialize(&p)) {
        diag_error(w->d, w->file, 0, 0, "out of memory while reading the YAML");
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    w->loaded = yaml_parser_load(&p, &w->doc);
    if (!w->loaded)
        parser_error(w, &p, text, len);
    else if (yaml_document_get_root_node(&w->doc))
        reject_more_documents(w, &p, text, len, noun);
    yaml_parser_delete(&p);
    return w->loaded;
}

/* The whole file, NUL-terminated, kept so that a syntax error can be explained from the
 * line it is on. */
static char *read_all(struct yw *w, size_t *len)
{
    char *text;
    int err = readfile(w->file, SIZE_MAX, &text, len);
    if (err == ENOENT || err == EACCES || err == ENOTDIR)
        diag_error(w->d, w->file, 0, 0, "cannot open the config: %s; check the path given",
                   strerror(err));
    else if (err)
        diag_error(w->d, w->file, 0, 0, "cannot read the config: %s", readfile_strerror(err));
    return text;
}

struct keyref {
    const char *text;
    const yaml_node_t *node;
    size_t order;
};

static int keyref_cmp(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorting rather than comparing every pair: a geoip.nets mapping may hold thousands. */
static void note_duplicate(struct yw *w, const yaml_node_t *k)
{
    /* The room doubles whenever the count reaches a power of two: a file may repeat one
     * key thousands of times. */
    if ((w->ndups & (w->ndups - 1)) == 0) {
        const yaml_node_t **more = realloc(w->dups, (w->ndups ? 2 * w->ndups : 1) * sizeof(*more));
        if (!more) {
            diag_error(w->d, w->file, 0, 0, "out of memory while reading the YAML");
            return;
        }
        w->dups = more;
    }
    w->dups[w->ndups++] = k;
}

static int node_cmp(const void *a, const void *b)
{
    const yaml_node_t *x = *(const yaml_node_t *const *)a, *y = *(const yaml_node_t *const *)b;
    return (x > y) - (x < y);
}

static void check_keys(struct yw *w, const yaml_node_t *map)
{
    size_t n = yw_len(map), m = 0;
    struct keyref *refs = calloc(n ? n : 1, sizeof(*refs));
    if (!refs) {
        diag_error(w->d, w->file, 0, 0, "out of memory while reading the YAML");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = yw_key(w, map, i);
        if (!yw_text(k))
            yw_error(w, k, "a key must be a plain name, not a list or a mapping");
        else
            refs[m++] = (struct keyref){yw_text(k), k, i};
    }
    qsort(refs, m, sizeof(*refs), keyref_cmp);
    for (size_t i = 1, first = 0; i < m; i++) {
        if (strcmp(refs[i].text, refs[first].text)) {
            first = i;
            continue;
        }
        yw_error(w, refs[i].node,
                 "duplicate key \"%s\" (first at line %u, column %u); keep only "
                 "one of them",
                 refs[i].text, yw_line(refs[first].node), yw_col(refs[first].node));
        note_duplicate(w, refs[i].node);
    }
    free(refs);
}

bool yw_open(struct yw *w, const char *path, struct diag *d, struct arena *arena)
{
    memset(w, 0, sizeof(*w));
    w->file = path;
    w->d = d;
    w->arena = arena;
    w->dir = base_dir(arena, path);
    size_t len;
    char *text = read_all(w, &len);
    bool ok = text && yw_load_text(w, text, len, "config file");
    free(text);
    return ok;
}

bool yw_load_text(struct yw *w, const char *text, size_t len, const char *noun)
{
    bool ok = load_document(w, text, len, noun);
    for (yaml_node_t *n = ok ? w->doc.nodes.start : NULL; n && n < w->doc.nodes.top; n++)
        if (n->type == YAML_MAPPING_NODE)
            check_keys(w, n);
    if (w->ndups)
        qsort(w->dups, w->ndups, sizeof(*w->dups), node_cmp);
    return ok;
}

void yw_close(struct yw *w)
{
    if (w->loaded)
        yaml_document_delete(&w->doc);
    w->loaded = false;
    free(w->dups);
    w->dups = NULL;
    w->ndups = 0;
}

/* ---- nodes ---- */

yaml_node_t *yw_root(struct yw *w)
{
    return yaml_document_get_root_node(&w->doc);
}

void yw_error(struct yw *w, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_error(w->d, w->file, yw_line(n), yw_col(n), "%s", msg);
}

unsigned yw_line(const yaml_node_t *n)
{
    return (unsigned)n->start_mark.line + 1;
}

unsigned yw_col(const yaml_node_t *n)
{
    return (unsigned)n->start_mark.column + 1;
}

const char *yw_text(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    const char *s = (const char *)n->data.scalar.value;
    return strlen(s) == n->data.scalar.length ? s : NULL;
}

bool yw_is_null(const yaml_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < ARRAY_LEN(nulls); i++)
        if (!strcmp((const char *)n->data.scalar.value, nulls[i]))
            return true;
    return false;
}

bool yw_is_map(const yaml_node_t *n)
{
    return n && n->type == YAML_MAPPING_NODE;
}

bool yw_is_seq(const yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE;
}

size_t yw_len(const yaml_node_t *n)
{
    if (yw_is_map(n))
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (yw_is_seq(n))
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

yaml_node_t *yw_item(struct yw *w, const yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(&w->doc, seq->data.sequence.items.start[i]);
}

yaml_node_t *yw_key(struct yw *w, const yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&w->doc, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *yw_value(struct yw *w, const yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&w->doc, map->data.mapping.pairs.start[i].value);
}

size_t yw_list_len(const yaml_node_t *n)
{
    if (yw_is_seq(n))
        return yw_len(n);
    return n && n->type == YAML_SCALAR_NODE && !yw_is_null(n);
}

yaml_node_t *yw_list_item(struct yw *w, yaml_node_t *n, size_t i)
{
    return yw_is_seq(n) ? yw_item(w, n, i) : n;
}

static size_t find_key(struct yw *w, const yaml_node_t *map, const char *key)
{
    for (size_t i = 0; yw_is_map(map) && i < yw_len(map); i++) {
        const char *t = yw_text(yw_key(w, map, i));
        if (t && !strcmp(t, key))
            return i;
    }
    return SIZE_MAX;
}

yaml_node_t *yw_get(struct yw *w, const yaml_node_t *map, const char *key)
{
    size_t i = find_key(w, map, key);
    return i == SIZE_MAX ? NULL : yw_value(w, map, i);
}

yaml_node_t *yw_get_key(struct yw *w, const yaml_node_t *map, const char *key)
{
    size_t i = find_key(w, map, key);
    return i == SIZE_MAX ? NULL : yw_key(w, map, i);
}

/* ---- schema ---- */

bool yw_mapping(struct yw *w, const yaml_node_t *n, const char *what)
{
    if (!n || yw_is_null(n))
        return false;
    if (yw_is_map(n))
        return true;
    yw_error(w, n, "%s must be a mapping of \"key: value\" entries, not %s", what,
             yw_is_seq(n) ? "a list" : "a single value");
    return false;
}

/* Levenshtein distance; keys are short, longer words are never a typo of one. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[33];
    if (la > 32 || lb > 32)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *nearest_key(const char *key, const struct yw_field *f, size_t n)
{
    size_t best = strlen(key) > 4 ? 2 : 1;
    const char *near = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(key, f[i].key);
        if (d <= best && (!near || d < best)) {
            near = f[i].key;
            best = d;
        }
    }
    return near;
}

static void unknown_key(struct yw *w, const yaml_node_t *k, const char *what,
                        const struct yw_field *f, size_t n)
{
    char list[512] = "", hint[96] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", f[i].key);
    const char *near = nearest_key(yw_text(k), f, n);
    if (near)
        snprintf(hint, sizeof(hint), "did you mean \"%s\"? ", near);
    yw_error(w, k, "unknown key \"%s\" in %s; %sexpected one of: %s", yw_text(k), what, hint, list);
}

static void read_field(struct yw *w, const struct yw_field *f, yaml_node_t *v, void *obj)
{
    char *dst = obj ? (char *)obj + f->offset : NULL, *s; /* NULL: every key is YW_LATER */
    unsigned long long u;
    bool b;
    switch (f->type) {
    case YW_STRING:
    case YW_PATH:
        s = f->type == YW_PATH ? yw_path(w, v, f) : yw_string(w, v, f);
        if (s)
            memcpy(dst, &s, sizeof(s));
        break;
    case YW_BOOL:
        if (yw_bool(w, v, f, &b))
            *(bool *)dst = b;
        break;
    case YW_UINT:
    case YW_MS:
        if (f->type == YW_UINT ? yw_uint(w, v, f, &u) : yw_ms(w, v, f, &u))
            *(unsigned *)dst = (unsigned)u;
        break;
    case YW_CUSTOM:
        f->parse(w, f, v, obj);
        break;
    case YW_LATER:
        break;
    }
}

/* Whether key node k repeats an earlier key of its mapping (reported at load).  A lookup,
 * not a scan of the earlier keys: a mapping may have thousands. */
static bool repeated_key(const struct yw *w, const yaml_node_t *k)
{
    return w->ndups && bsearch(&k, w->dups, w->ndups, sizeof(*w->dups), node_cmp);
}

void yw_fields(struct yw *w, const yaml_node_t *map, const char *what,
               const struct yw_field *fields, size_t n, void *obj)
{
    if (!yw_mapping(w, map, what))
        return;
    for (size_t i = 0; i < yw_len(map); i++) {
        yaml_node_t *k = yw_key(w, map, i);
        const char *key = yw_text(k);
        size_t j = 0;
        /* A repeated key is an error already; reading it twice would fill twice what
         * was sized for one. */
        if (!key || repeated_key(w, k))
            continue;
        while (j < n && strcmp(fields[j].key, key))
            j++;
        if (j < n)
            read_field(w, &fields[j], yw_value(w, map, i), obj);
        else
            unknown_key(w, k, what, fields, n);
    }
}

/* ---- typed values ---- */

static bool has_value(struct yw *w, const yaml_node_t *n, const struct yw_field *f)
{
    if (!yw_is_null(n))
        return true;
    yw_error(w, n, "\"%s\" needs a value, e.g. %s: %s", f->key, f->key, f->example);
    return false;
}

bool yw_uint(struct yw *w, const yaml_node_t *n, const struct yw_field *f, unsigned long long *out)
{
    const char *s = yw_text(n);
    if (!has_value(w, n, f))
        return false;
    if (s && yw_parse_uint(s, out) && *out >= f->min && *out <= f->max)
        return true;
    yw_error(w, n, "\"%s\" must be an integer from %llu to %llu, e.g. %s: %s", f->key, f->min,
             f->max, f->key, f->example);
    return false;
}

bool yw_ms(struct yw *w, const yaml_node_t *n, const struct yw_field *f, unsigned long long *out)
{
    const char *s = yw_text(n);
    char lo[24], hi[24];
    if (!has_value(w, n, f))
        return false;
    if (!s || !yw_parse_ms(s, out)) {
        yw_error(w, n,
                 "\"%s\" must be a duration such as 500ms, 5s, 2m or 1h (a bare number "
                 "means seconds), e.g. %s: %s",
                 f->key, f->key, f->example);
        return false;
    }
    if (*out >= f->min && *out <= f->max)
        return true;
    yw_error(w, n, "\"%s\" must be from %s to %s, e.g. %s: %s", f->key,
             yw_fmt_ms(f->min, lo, sizeof(lo)), yw_fmt_ms(f->max, hi, sizeof(hi)), f->key,
             f->example);
    return false;
}

bool yw_bool(struct yw *w, const yaml_node_t *n, const struct yw_field *f, bool *out)
{
    const char *s = yw_text(n);
    if (!has_value(w, n, f))
        return false;
    if (s && yw_parse_bool(s, out))
        return true;
    yw_error(w, n, "\"%s\" must be true or false, e.g. %s: %s", f->key, f->key, f->example);
    return false;
}

char *yw_string(struct yw *w, const yaml_node_t *n, const struct yw_field *f)
{
    const char *s = yw_text(n);
    if (!has_value(w, n, f))
        return NULL;
    if (s && *s)
        return arena_strdup(w->arena, s);
    yw_error(w, n, "\"%s\" must be a non-empty text value, e.g. %s: %s", f->key, f->key,
             f->example);
    return NULL;
}

char *yw_path(struct yw *w, const yaml_node_t *n, const struct yw_field *f)
{
    const char *s = yw_text(n);
    if (!has_value(w, n, f))
        return NULL;
    if (!s || !*s) {
        yw_error(w, n, "\"%s\" must be a file path, e.g. %s: %s", f->key, f->key, f->example);
        return NULL;
    }
    /* Relative to the config, not to wherever the daemon was started from. */
    if (s[0] == '/' || !w->dir)
        return arena_strdup(w->arena, s);
    return path_join(w->arena, w->dir, s);
}

/* ---- text ---- */

bool yw_parse_uint(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool yw_parse_ms(const char *s, unsigned long long *out)
{
    static const struct {
        const char *suffix;
        unsigned long long ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    size_t digits = strspn(s, "0123456789");
    char num[24];
    unsigned long long v;
    if (!digits || digits >= sizeof(num))
        return false;
    memcpy(num, s, digits);
    num[digits] = '\0';
    if (!yw_parse_uint(num, &v))
        return false;
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        if (strcmp(s + digits, units[i].suffix))
            continue;
        if (v > ULLONG_MAX / units[i].ms)
            return false;
        *out = v * units[i].ms;
        return true;
    }
    return false;
}

bool yw_parse_bool(const char *s, bool *out)
{
    static const char *const words[] = {"false", "true", "no", "yes", "off", "on"};
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        if (!strcasecmp(s, words[i])) {
            *out = i % 2;
            return true;
        }
    }
    return false;
}

const char *yw_fmt_ms(unsigned long long ms, char *buf, size_t cap)
{
    if (ms && ms % 3600000 == 0)
        snprintf(buf, cap, "%lluh", ms / 3600000);
    else if (ms && ms % 60000 == 0)
        snprintf(buf, cap, "%llum", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(buf, cap, "%llus", ms / 1000);
    else
        snprintf(buf, cap, "%llums", ms);
    return buf;
}
