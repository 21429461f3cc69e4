/* statefile.c — reading the runtime state file strictly, setting a corrupt one aside, and
 * writing it atomically.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/statefile.h"
#include "lib/readfile.h"
#include "lib/strbuf.h"
#include "server/yamlwalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEADER                                                                                     \
    "# Runtime state of meridiand: drains and weights set with meridianctl. Written atomically "   \
    "by\n# the server; edit only while it is stopped.\n"

/* ---- parsing ---- */

/* One name read from the file, in file order.  Strings point into the YAML document. */
struct sf_entry {
    const char *svc; /* NULL: drained for every service */
    const char *region;
    bool drained;
    int64_t weight; /* -1: none */
    const yaml_node_t *node;
    size_t order;
    bool merged; /* folded into an earlier entry for the same pair */
};

/* A failback hold or a shift plan read from the file. */
struct sf_extra {
    const char *svc;
    const char *held; /* NULL: a shift plan */
    struct state_shift plan;
};

struct sf_parser {
    struct yw w; /* only its document and error reporting are used */
    struct sf_entry *e;
    size_t n, cap;
    struct sf_extra *x;
    size_t nx;
    bool *walked; /* per node: a collection reached twice came through an alias */
    bool oom;
};

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n <= STATEFILE_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static void add_entry(struct sf_parser *p, const char *svc, const char *region,
                      const yaml_node_t *node, bool drained, int64_t weight)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        struct sf_entry *more = realloc(p->e, cap * sizeof(*more));
        if (!more) {
            p->oom = true;
            return;
        }
        p->e = more;
        p->cap = cap;
    }
    p->e[p->n] = (struct sf_entry){svc, region, drained, weight, node, p->n, false};
    p->n++;
}

/* Aliases are never written by the server; refusing them also keeps a crafted file from
 * making the walk revisit one big collection many times. */
static bool first_walk(struct sf_parser *p, const yaml_node_t *n)
{
    size_t i = (size_t)(n - p->w.doc.nodes.start);
    if (p->walked[i]) {
        yw_error(&p->w, n,
                 "anchors and aliases (&, *) are not allowed in a state file; "
                 "write the value out");
        return false;
    }
    p->walked[i] = true;
    return true;
}

/* A list or mapping, or an empty value standing for an empty one. */
static bool collection(struct sf_parser *p, const yaml_node_t *n, yaml_node_type_t type,
                       const char *what, const char *example)
{
    if (yw_is_null(n))
        return false;
    if (n->type == type)
        return first_walk(p, n);
    yw_error(&p->w, n, "%s must be a %s, e.g. %s", what,
             type == YAML_SEQUENCE_NODE ? "list" : "mapping", example);
    return false;
}

static const char *read_name(struct sf_parser *p, const yaml_node_t *n, const char *kind)
{
    const char *s = yw_text(n);
    if (s && !yw_is_null(n) && name_ok(s))
        return s;
    yw_error(&p->w, n, "expected a %s name of 1 to %d letters, digits, '_', '.' or '-', e.g. %s",
             kind, STATEFILE_NAME_MAX, strcmp(kind, "service") ? "eu-west-1" : "api");
    return NULL;
}

static void read_drained(struct sf_parser *p, const char *svc, const yaml_node_t *list)
{
    if (!collection(p, list, YAML_SEQUENCE_NODE, "drained", "drained: [eu-west-1]"))
        return;
    for (size_t i = 0; i < yw_len(list); i++) {
        const yaml_node_t *item = yw_item(&p->w, list, i);
        const char *region = read_name(p, item, "region");
        if (region)
            add_entry(p, svc, region, item, true, -1);
    }
}

static void read_weights(struct sf_parser *p, const char *svc, const yaml_node_t *map)
{
    unsigned long long v;
    if (!collection(p, map, YAML_MAPPING_NODE, "weights", "weights: {us-east-1: 80}"))
        return;
    for (size_t i = 0; i < yw_len(map); i++) {
        const yaml_node_t *k = yw_key(&p->w, map, i), *val = yw_value(&p->w, map, i);
        const char *region = read_name(p, k, "region");
        const char *t = yw_text(val);
        if (!t || val->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !yw_parse_uint(t, &v) ||
            v > STATEFILE_WEIGHT_MAX)
            yw_error(&p->w, val, "a weight must be an integer from 0 to %d, e.g. %s: 50",
                     STATEFILE_WEIGHT_MAX, region ? region : "us-east-1");
        else if (region)
            add_entry(p, svc, region, k, false, (int64_t)v);
    }
}

static struct sf_extra *add_extra(struct sf_parser *p, const char *svc)
{
    struct sf_extra *more = realloc(p->x, (p->nx + 1) * sizeof(*more));
    if (!more) {
        p->oom = true;
        return NULL;
    }
    p->x = more;
    p->x[p->nx] = (struct sf_extra){.svc = svc};
    return &p->x[p->nx++];
}

static void read_held(struct sf_parser *p, const char *svc, const yaml_node_t *v)
{
    const char *region = read_name(p, v, "region");
    struct sf_extra *x = region && svc ? add_extra(p, svc) : NULL;
    if (x)
        x->held = region;
}

/* A plain integer from 0 to max, or an error that gives the example. */
static bool read_uint(struct sf_parser *p, const yaml_node_t *n, unsigned long long max,
                      const char *example, unsigned long long *v)
{
    const char *t = yw_text(n);
    if (t && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && yw_parse_uint(t, v) && *v <= max)
        return true;
    yw_error(&p->w, n, "expected an integer from 0 to %llu, e.g. %s", max, example);
    return false;
}

/* from: or to: of a plan; the regions of to: must be those of from:, in its order. */
static void read_plan_weights(struct sf_parser *p, const yaml_node_t *map, struct state_shift *s,
                              bool to)
{
    unsigned long long v;
    if (!collection(p, map, YAML_MAPPING_NODE, to ? "to" : "from", "{us-east-1: 50}"))
        return;
    if (yw_len(map) > STATE_SHIFT_MAX || (to && yw_len(map) != s->n)) {
        yw_error(&p->w, map, "a shift names 1 to %d regions, the same in from and to",
                 STATE_SHIFT_MAX);
        return;
    }
    for (size_t i = 0; i < yw_len(map); i++) {
        const yaml_node_t *k = yw_key(&p->w, map, i);
        const char *region = read_name(p, k, "region");
        if (!region || !read_uint(p, yw_value(&p->w, map, i), STATEFILE_WEIGHT_MAX, "50", &v))
            continue;
        if (to && strcmp(region, s->regions[i]))
            yw_error(&p->w, k, "to must name the regions of from, in the same order");
        else if (!to)
            snprintf(s->regions[s->n++], sizeof(s->regions[0]), "%s", region);
        (to ? s->to : s->from)[i] = (int64_t)v;
    }
}

static void read_shift(struct sf_parser *p, const char *svc, const yaml_node_t *map)
{
    static const char *const keys[] = {"from", "to", "step", "every_ms", "paused"};
    struct state_shift s = {0};
    unsigned long long v;
    unsigned seen = 0;
    if (!collection(p, map, YAML_MAPPING_NODE, "shift", "{from: {...}, to: {...}, ...}"))
        return;
    for (size_t i = 0; i < yw_len(map); i++) {
        const yaml_node_t *k = yw_key(&p->w, map, i), *val = yw_value(&p->w, map, i);
        const char *t = yw_text(k), *vt = yw_text(val);
        unsigned which = 0;
        while (t && which < ARRAY_LEN(keys) && strcmp(t, keys[which]))
            which++;
        if (!t || which == ARRAY_LEN(keys)) {
            yw_error(&p->w, k, "a shift holds from, to, step, every_ms and paused");
            continue;
        }
        seen |= 1u << which;
        if (which < 2)
            read_plan_weights(p, val, &s, which == 1);
        else if (which == 2 && read_uint(p, val, STATEFILE_WEIGHT_MAX, "10", &v))
            s.step = (uint32_t)v;
        else if (which == 3 && read_uint(p, val, UINT32_MAX, "30000", &v))
            s.every_ms = v;
        else if (which == 4 && vt && (!strcmp(vt, "true") || !strcmp(vt, "false")))
            s.paused = !strcmp(vt, "true");
        else if (which == 4)
            yw_error(&p->w, val, "paused is true or false");
    }
    if (seen != 0x1f || !s.step || !s.every_ms || !s.n)
        yw_error(&p->w, map,
                 "a shift needs from, to, step (1 or more), every_ms (1 or more) and paused");
    struct sf_extra *x = svc ? add_extra(p, svc) : NULL;
    if (x)
        x->plan = s;
}

static void read_service(struct sf_parser *p, const yaml_node_t *k, const yaml_node_t *v)
{
    const char *svc = read_name(p, k, "service");
    if (!collection(p, v, YAML_MAPPING_NODE, "a service", "api: {drained: [eu-west-1]}"))
        return;
    for (size_t i = 0; i < yw_len(v); i++) {
        const yaml_node_t *key = yw_key(&p->w, v, i), *val = yw_value(&p->w, v, i);
        const char *t = yw_text(key);
        if (t && !strcmp(t, "weights"))
            read_weights(p, svc, val);
        else if (t && !strcmp(t, "drained"))
            read_drained(p, svc, val);
        else if (t && !strcmp(t, "held"))
            read_held(p, svc, val);
        else if (t && !strcmp(t, "shift"))
            read_shift(p, svc, val);
        else if (t)
            yw_error(&p->w, key,
                     "unknown key \"%s\" in service \"%s\"; expected weights, drained, held "
                     "or shift",
                     t, svc ? svc : "?");
    }
}

static void read_services(struct sf_parser *p, const yaml_node_t *map)
{
    if (!collection(p, map, YAML_MAPPING_NODE, "services", "services: {api: {weights: ...}}"))
        return;
    for (size_t i = 0; i < yw_len(map); i++)
        read_service(p, yw_key(&p->w, map, i), yw_value(&p->w, map, i));
}

static void read_version(struct sf_parser *p, const yaml_node_t *n)
{
    const char *t = yw_text(n);
    unsigned long long v;
    if (!t || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !yw_parse_uint(t, &v))
        yw_error(&p->w, n, "version must be a number; this meridiand writes version: 1");
    else if (v != 1)
        yw_error(&p->w, n,
                 "state file version %s is not supported; this meridiand reads version 1 "
                 "(was the file written by a newer release?)",
                 t);
}

static void read_root(struct sf_parser *p)
{
    const yaml_node_t *root = yw_root(&p->w);
    bool version = false;
    if (!root || yw_is_null(root)) {
        diag_error(p->w.d, p->w.file, 0, 0, "the state file is empty; it must hold version: 1");
        return;
    }
    if (!collection(p, root, YAML_MAPPING_NODE, "a state file", "version: 1"))
        return;
    for (size_t i = 0; i < yw_len(root); i++) {
        const yaml_node_t *k = yw_key(&p->w, root, i), *v = yw_value(&p->w, root, i);
        const char *t = yw_text(k);
        if (t && !strcmp(t, "version")) {
            read_version(p, v);
            version = true;
        } else if (t && !strcmp(t, "drained")) {
            read_drained(p, NULL, v);
        } else if (t && !strcmp(t, "services")) {
            read_services(p, v);
        } else if (t) { /* a key that is not text was reported with the duplicates */
            yw_error(&p->w, k,
                     "unknown key \"%s\"; a state file holds version, drained and services", t);
        }
    }
    if (!version)
        yw_error(&p->w, root, "the state file has no version; it must begin with version: 1");
}

/* ---- merging ---- */

static int entry_cmp(const void *a, const void *b)
{
    const struct sf_entry *x = *(const struct sf_entry *const *)a;
    const struct sf_entry *y = *(const struct sf_entry *const *)b;
    int c = strcmp(x->svc ? x->svc : "", y->svc ? y->svc : "");
    if (!c)
        c = strcmp(x->region, y->region);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static bool same_pair(const struct sf_entry *x, const struct sf_entry *y)
{
    return !strcmp(x->svc ? x->svc : "", y->svc ? y->svc : "") && !strcmp(x->region, y->region);
}

/* Folds e into head, the first entry of the same pair; first_drained is the pair's first
 * drained listing so far. */
static void fold(struct sf_parser *p, struct sf_entry *head, struct sf_entry *e,
                 const struct sf_entry **first_drained)
{
    if (e->drained && *first_drained)
        yw_error(&p->w, e->node,
                 "region \"%s\" is listed twice in drained (first at line %u, "
                 "column %u); keep one",
                 e->region, yw_line((*first_drained)->node), yw_col((*first_drained)->node));
    else if (e->drained)
        *first_drained = e;
    head->drained |= e->drained;
    if (e->weight >= 0)
        head->weight = e->weight;
    e->merged = true;
}

/* A pair may be listed under both weights and drained; it becomes one entry, reported
 * where it first appears.  A region twice in one drained list is a mistake to report. */
static void merge_entries(struct sf_parser *p)
{
    struct sf_entry **by = malloc((p->n ? p->n : 1) * sizeof(*by));
    if (!by) {
        p->oom = true;
        return;
    }
    for (size_t i = 0; i < p->n; i++)
        by[i] = &p->e[i];
    qsort(by, p->n, sizeof(*by), entry_cmp);
    for (size_t start = 0, i; start < p->n; start = i) {
        struct sf_entry *head = by[start];
        const struct sf_entry *first_drained = head->drained ? head : NULL;
        for (i = start + 1; i < p->n && same_pair(head, by[i]); i++)
            fold(p, head, by[i], &first_drained);
    }
    free(by);
}

static void walk(struct sf_parser *p)
{
    size_t nodes = (size_t)(p->w.doc.nodes.top - p->w.doc.nodes.start);
    p->walked = calloc(nodes ? nodes : 1, sizeof(*p->walked));
    if (!p->walked) {
        p->oom = true;
        return;
    }
    read_root(p); /* yw_load_text has reported duplicate keys */
    merge_entries(p);
}

int statefile_parse(const char *text, size_t len, const char *name, state_visit_fn fn, void *ctx,
                    struct diag *d)
{
    return statefile_parse_all(text, len, name, fn, NULL, ctx, d);
}

int statefile_parse_all(const char *text, size_t len, const char *name, state_visit_fn fn,
                        const struct statefile_hooks *hooks, void *ctx, struct diag *d)
{
    struct sf_parser p = {.w = {.file = name, .d = d}};
    unsigned errors = d->errors;
    if (yw_load_text(&p.w, text, len, "state file"))
        walk(&p);
    if (p.oom)
        diag_error(d, name, 0, 0, "out of memory while reading the state file");
    bool ok = d->errors == errors;
    for (size_t i = 0; ok && i < p.n; i++)
        if (!p.e[i].merged)
            fn(ctx, p.e[i].svc, p.e[i].region, p.e[i].drained, p.e[i].weight);
    for (size_t i = 0; ok && hooks && i < p.nx; i++)
        if (p.x[i].held)
            hooks->held(ctx, p.x[i].svc, p.x[i].held);
        else
            hooks->shift(ctx, p.x[i].svc, &p.x[i].plan);
    free(p.x);
    yw_close(&p.w);
    free(p.walked);
    free(p.e);
    return ok ? 0 : -1;
}

/* ---- loading ---- */

/* The whole file; NULL with *why NULL when there is none, or with the reason. */
static char *read_file(const char *path, size_t *len, const char **why)
{
    char *text;
    int err = readfile(path, STATEFILE_SIZE_MAX, &text, len);
    *why = err == 0 || err == ENOENT ? NULL
           : err == READFILE_TOO_LARGE
               ? "it is larger than 4 MiB, and a real state file is a few KiB"
               : readfile_strerror(err);
    return text;
}

struct apply {
    const struct config *c;
    const char *path;
    struct diag *d;
    const char **warned; /* names warned about, so each is named once */
    size_t nwarned;
    bool cleared, oom;
};

static bool in_config(const struct apply *a, bool service, const char *name)
{
    size_t n = service ? a->c->nservices : a->c->nregions;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(service ? a->c->services[i].name : a->c->regions[i].name, name))
            return true;
    return false;
}

static void warn_unknown(struct apply *a, bool service, const char *name)
{
    if (!a->c || in_config(a, service, name))
        return;
    for (size_t i = 0; i < a->nwarned; i++)
        if (!strcmp(a->warned[i], name))
            return;
    const char **more = realloc(a->warned, (a->nwarned + 1) * sizeof(*more));
    if (more) {
        a->warned = more;
        a->warned[a->nwarned++] = name;
    }
    diag_warn(a->d, NULL, 0, 0,
              "state: %s \"%s\" in %s is not in the config; kept aside until it returns",
              service ? "service" : "region", name, a->path);
}

/* Clears the registry before the first thing the file sets: the file is the whole truth. */
static void apply_begin(struct apply *a)
{
    if (!a->cleared)
        state_clear_admin();
    a->cleared = true;
}

static void apply_entry(void *ctx, const char *svc, const char *region, bool drained,
                        int64_t weight)
{
    struct apply *a = ctx;
    /* statefile_parse calls this only once the whole file is valid, so the registry is
     * cleared only when there is a whole truth to replace it with. */
    apply_begin(a);
    if (svc)
        warn_unknown(a, true, svc);
    warn_unknown(a, false, region);
    if (!svc) {
        struct region_state *r = state_region(region);
        if (r)
            atomic_store(&r->drained, true);
        a->oom |= !r;
        return;
    }
    struct svc_region_state *s = state_svc_region(svc, region);
    if (s && drained)
        atomic_store(&s->drained, true);
    if (s && weight >= 0)
        atomic_store(&s->weight, weight);
    a->oom |= !s;
}

static void apply_held(void *ctx, const char *svc, const char *region)
{
    struct apply *a = ctx;
    apply_begin(a);
    struct svc_region_state *s = state_svc_region(svc, region);
    if (s)
        atomic_store(&s->held, true);
    a->oom |= !s;
}

static void apply_shift(void *ctx, const char *svc, const struct state_shift *plan)
{
    struct apply *a = ctx;
    apply_begin(a);
    struct service_state *s = state_service(svc);
    struct state_shift *p = s ? state_service_plan(s) : NULL;
    if (p)
        *p = *plan;
    if (p)
        atomic_store(&s->shifting, !plan->paused);
    a->oom |= !p;
}

static const struct statefile_hooks apply_hooks = {apply_held, apply_shift};

/* Each problem of the file, indented under the warning that introduces them. */
static void add_problems(struct diag *d, const struct diag *problems)
{
    for (const char *p = problems->text; p && *p;) {
        size_t n = strcspn(p, "\n");
        diag_note(d, "  %.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* Renames a corrupt file out of the way, so that the next save does not destroy what the
 * operator may want to recover, and says so loudly. */
/* Renames path to PATH.corrupt-STAMP, or PATH.corrupt-STAMP-N when an earlier copy from
 * the same second is there: a set-aside copy is never overwritten. */
static int rename_aside(const char *path, char *aside, size_t size)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    for (unsigned n = 1; n < 1000; n++) {
        if (n == 1)
            snprintf(aside, size, "%s.corrupt-%s", path, stamp);
        else
            snprintf(aside, size, "%s.corrupt-%s-%u", path, stamp, n);
        if (renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int set_aside(const char *path, const struct diag *problems, struct diag *d)
{
    size_t size = strlen(path) + sizeof(".corrupt-") + 48;
    char *aside = malloc(size);
    if (!aside || rename_aside(path, aside, size) < 0) {
        diag_error(d, path, 0, 0,
                   "state: the state file cannot be used, and cannot be moved aside either "
                   "(%s); none of it was applied.  Move it away by hand before meridiand "
                   "writes a new one over it.  The problems:",
                   aside ? strerror(errno) : "out of memory");
        add_problems(d, problems);
        free(aside);
        return -1;
    }
    diag_warn(d, path, 0, 0,
              "state: the state file cannot be used, so none of its drains and weights were "
              "applied; it was moved to %s and the server runs with the weights and drains of "
              "the config.  Re-apply the changes with meridianctl, or fix that copy and put it "
              "back while meridiand is stopped.  The problems:",
              aside);
    add_problems(d, problems);
    free(aside);
    return 1;
}

/* A server killed while saving leaves PATH.tmp.PID behind; those of dead processes go. */
static void remove_stale_temps(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    char *slash = strrchr(copy, '/');
    const char *dir = slash ? (slash == copy ? "/" : copy) : ".", *base = slash ? slash + 1 : copy;
    if (slash)
        *slash = '\0';
    size_t blen = strlen(base);
    DIR *dh = opendir(dir);
    for (struct dirent *de; dh && (de = readdir(dh));) {
        char *end;
        if (strncmp(de->d_name, base, blen) != 0 || strncmp(de->d_name + blen, ".tmp.", 5) != 0)
            continue;
        long pid = strtol(de->d_name + blen + 5, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
            unlinkat(dirfd(dh), de->d_name, 0);
    }
    if (dh)
        closedir(dh);
    free(copy);
}

int statefile_load(const char *path, const struct config *c, struct diag *d)
{
    remove_stale_temps(path);
    struct apply a = {.c = c, .path = path, .d = d};
    struct diag problems;
    const char *why;
    size_t len;
    char *text = read_file(path, &len, &why);
    if (!text && !why)
        return 0;
    diag_init(&problems);
    int rc = 0;
    if (!text)
        diag_error(&problems, path, 0, 0, "cannot read it: %s", why);
    else if (statefile_parse_all(text, len, path, apply_entry, &apply_hooks, &a, &problems) < 0)
        rc = 1;
    if (!text || rc)
        rc = set_aside(path, &problems, d);
    else if (!a.cleared)
        state_clear_admin(); /* a valid file without entries: nothing is drained */
    if (a.oom) {
        diag_error(d, path, 0, 0, "state: out of memory while applying the state file");
        rc = -1;
    }
    diag_free(&problems);
    free(a.warned);
    free(text);
    return rc;
}

/* ---- saving ---- */

/* Names that YAML would read as null, or as something other than a plain word in a flow
 * list ("-x", ".5"), are quoted; the charset needs no escapes. */
static const char *quote(const char *name)
{
    bool plain = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
                 (name[0] >= '0' && name[0] <= '9') || name[0] == '_';
    if (!strcmp(name, "null") || !strcmp(name, "Null") || !strcmp(name, "NULL"))
        plain = false;
    return plain ? "" : "\"";
}

/* One decision of the registry, with its names copied. */
struct saved {
    char *svc, *region; /* svc NULL: drained for every service */
    bool drained;
    int64_t weight;
    bool written; /* already part of its service's lines */
};

/* A failback hold or a shift plan of one service. */
struct saved_extra {
    char *svc;
    char *held;                     /* NULL: plan */
    const struct state_shift *plan; /* the registry's own; the main loop is the only writer */
    bool written;
};

/* The registry's decisions, in its order (oldest first). */
struct snapshot {
    struct saved *e;
    size_t n, cap;
    struct saved_extra *x;
    size_t nx;
    bool oom, invalid;
};

static void extra_add(struct snapshot *s, const char *svc, const char *held,
                      const struct state_shift *plan)
{
    if (!name_ok(svc) || (held && !name_ok(held))) {
        s->invalid = true;
        return;
    }
    struct saved_extra *more = realloc(s->x, (s->nx + 1) * sizeof(*more));
    char *a = strdup(svc), *b = held ? strdup(held) : NULL;
    if (more)
        s->x = more;
    if (!more || !a || (held && !b)) {
        free(a);
        free(b);
        s->oom = true;
        return;
    }
    struct saved_extra *x = &s->x[s->nx++];
    x->svc = a;
    x->held = b;
    x->plan = plan;
    x->written = false;
}

static void snapshot_held(void *ctx, const char *svc, const char *region,
                          struct svc_region_state *st)
{
    if (atomic_load(&st->held))
        extra_add(ctx, svc, region, NULL);
}

static void snapshot_plan(void *ctx, const char *svc, struct service_state *st)
{
    if (st->shift && st->shift->n)
        extra_add(ctx, svc, NULL, st->shift);
}

static void render_plan_weights(struct strbuf *t, const struct state_shift *p, const int64_t *w)
{
    for (unsigned i = 0; i < p->n; i++)
        sb_printf(t, "%s%s%s%s: %lld", i ? ", " : "{", quote(p->regions[i]), p->regions[i],
                  quote(p->regions[i]), (long long)w[i]);
    sb_puts(t, "}");
}

/* The hold and plan of svc, under its key; marks them done. */
static void render_extras(struct strbuf *t, struct snapshot *s, const char *svc)
{
    for (size_t i = 0; i < s->nx; i++) {
        struct saved_extra *x = &s->x[i];
        if (x->written || strcmp(x->svc, svc))
            continue;
        x->written = true;
        if (x->held) {
            sb_printf(t, "    held: %s%s%s\n", quote(x->held), x->held, quote(x->held));
            continue;
        }
        sb_puts(t, "    shift: {from: ");
        render_plan_weights(t, x->plan, x->plan->from);
        sb_puts(t, ", to: ");
        render_plan_weights(t, x->plan, x->plan->to);
        sb_printf(t, ", step: %u, every_ms: %llu, paused: %s}\n", x->plan->step,
                  (unsigned long long)x->plan->every_ms, x->plan->paused ? "true" : "false");
    }
}

static void snapshot_add(void *ctx, const char *svc, const char *region, bool drained,
                         int64_t weight)
{
    struct snapshot *s = ctx;
    if ((svc && !name_ok(svc)) || !name_ok(region)) {
        s->invalid = true; /* could not be read back; registry names come validated */
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct saved *more = realloc(s->e, cap * sizeof(*more));
        if (!more) {
            s->oom = true;
            return;
        }
        s->e = more;
        s->cap = cap;
    }
    char *a = svc ? strdup(svc) : NULL, *b = strdup(region);
    if ((svc && !a) || !b) {
        free(a);
        free(b);
        s->oom = true;
        return;
    }
    struct saved *e = &s->e[s->n++];
    *e = (struct saved){.drained = drained, .weight = weight};
    e->svc = a;
    e->region = b;
}

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->nx; i++) {
        free(s->x[i].svc);
        free(s->x[i].held);
    }
    free(s->x);
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].svc);
        free(s->e[i].region);
    }
    free(s->e);
}

/* One service's weights and drains; marks its entries done. */
static void render_service(struct strbuf *t, struct snapshot *s, size_t first)
{
    const char *svc = s->e[first].svc, *sep = "";
    bool drained = false;
    sb_printf(t, "  %s%s%s:\n", quote(svc), svc, quote(svc));
    for (size_t i = first; i < s->n; i++) {
        const struct saved *e = &s->e[i];
        if (!e->svc || strcmp(e->svc, svc))
            continue;
        drained |= e->drained;
        if (e->weight < 0)
            continue;
        sb_printf(t, "%s%s%s%s: %lld", *sep ? sep : "    weights: {", quote(e->region), e->region,
                  quote(e->region), (long long)e->weight);
        sep = ", ";
    }
    if (*sep)
        sb_puts(t, "}\n");
    sep = "";
    for (size_t i = first; drained && i < s->n; i++) {
        const struct saved *e = &s->e[i];
        if (!e->svc || strcmp(e->svc, svc) || !e->drained)
            continue;
        sb_printf(t, "%s%s%s%s", *sep ? sep : "    drained: [", quote(e->region), e->region,
                  quote(e->region));
        sep = ", ";
    }
    if (*sep)
        sb_puts(t, "]\n");
    render_extras(t, s, svc);
    for (size_t i = first; i < s->n; i++)
        if (s->e[i].svc && !strcmp(s->e[i].svc, svc))
            s->e[i].written = true;
}

static void render(struct strbuf *t, struct snapshot *s)
{
    const char *sep = "";
    sb_printf(t, "%sversion: 1\n", HEADER);
    for (size_t i = 0; i < s->n; i++) {
        if (s->e[i].svc)
            continue;
        sb_printf(t, "%s%s%s%s", *sep ? sep : "drained: [", quote(s->e[i].region), s->e[i].region,
                  quote(s->e[i].region));
        sep = ", ";
    }
    if (*sep)
        sb_puts(t, "]\n");
    sep = "services:\n";
    for (size_t i = 0; i < s->n; i++) {
        if (!s->e[i].svc || s->e[i].written)
            continue;
        sb_puts(t, sep);
        sep = "";
        render_service(t, s, i);
    }
    for (size_t i = 0; i < s->nx; i++) {
        if (s->x[i].written)
            continue;
        sb_printf(t, "%s  %s%s%s:\n", sep, quote(s->x[i].svc), s->x[i].svc, quote(s->x[i].svc));
        sep = "";
        render_extras(t, s, s->x[i].svc);
    }
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The rename is durable only once the directory holding the name is on disk too. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    int rc = fd < 0 ? -1 : fsync(fd);
    /* Some file systems cannot sync a directory; the rename stands all the same. */
    if (rc < 0 && fd >= 0 && errno == EINVAL)
        rc = 0;
    if (!dir)
        errno = ENOMEM;
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Creates tmp holding text, on disk before this returns; on failure *step says which step
 * failed and errno why. */
static int write_tmp(const char *tmp, const char *text, size_t len, const char **step)
{
    *step = "create";
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    *step = "write";
    if (write_all(fd, text, len) == 0) {
        *step = "fsync";
        if (fsync(fd) == 0) {
            *step = "close";
            return close(fd);
        }
    }
    int err = errno;
    close(fd);
    errno = err;
    return -1;
}

/* Writes a temporary file beside path and renames it over path: a reader, or a crash,
 * sees the old file or the new one, never a part of either. */
static int write_atomic(const char *path, const char *text, size_t len, struct diag *d)
{
    char *tmp = malloc(strlen(path) + 32);
    const char *step;
    if (!tmp) {
        diag_error(d, path, 0, 0, "cannot save the state file: out of memory");
        return -1;
    }
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
    int rc = write_tmp(tmp, text, len, &step);
    if (rc == 0) {
        step = "rename";
        rc = rename(tmp, path);
    }
    if (rc < 0) {
        int err = errno;
        unlink(tmp);
        diag_error(d, path, 0, 0,
                   "cannot save the state file (%s %s: %s); the previous one is unchanged", step,
                   tmp, strerror(err));
    } else if (sync_dir(path) < 0) {
        diag_error(d, path, 0, 0,
                   "saved the state file, but cannot sync its directory (%s); it may not "
                   "survive a power loss",
                   strerror(errno));
        rc = -1;
    }
    free(tmp);
    return rc;
}

int statefile_save(const char *path, struct diag *d)
{
    struct snapshot s = {0};
    struct strbuf t;
    int rc = -1;
    sb_init(&t);
    if (state_each_admin(snapshot_add, &s) == 0 && state_each_pair(snapshot_held, &s) == 0 &&
        state_each_service(snapshot_plan, &s) == 0 && !s.oom)
        render(&t, &s);
    /* A decision the file cannot hold would be lost at the next start: refuse it rather
     * than write the rest and let the caller say ok. */
    if (s.invalid)
        diag_error(d, path, 0, 0,
                   "a region or service name is not one the state file can hold (1 to %d "
                   "letters, digits, '_', '.' or '-')",
                   STATEFILE_NAME_MAX);
    else if (!t.s || t.failed)
        diag_error(d, path, 0, 0, "cannot save the state file: out of memory");
    else
        rc = write_atomic(path, t.s, t.len, d);
    snapshot_free(&s);
    sb_free(&t);
    return rc;
}
