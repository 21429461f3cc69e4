/* yamlwalk.h — a libyaml document read as typed values against a schema, every error
 * pointing at the file:line:column of the node that caused it.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "lib/arena.h"
#include "lib/compiler.h"
#include "lib/diag.h"

/* One loaded file.  Strings handed out by the typed readers live in arena. */
struct yw {
    yaml_document_t doc;
    bool loaded;      /* doc holds something yw_close must free */
    const char *file; /* as given, for messages */
    char *dir;        /* the file's directory, absolute when the cwd is known */
    struct diag *d;
    struct arena *arena;
    void *ctx; /* the caller's, for YW_CUSTOM handlers */
    /* Key nodes that repeat an earlier key of their mapping, sorted by address: reported
     * once at load, then skipped by yw_fields. */
    const yaml_node_t **dups;
    size_t ndups;
};

enum yw_type {
    YW_STRING, /* char *, not empty */
    YW_PATH,   /* char *, a relative path resolved against the file's directory */
    YW_BOOL,   /* bool: true/false, yes/no, on/off */
    YW_UINT,   /* unsigned, from min to max */
    YW_MS,     /* unsigned milliseconds: "500ms", "5s", "2m", "1h", bare seconds */
    YW_CUSTOM, /* parse() reads the value */
    YW_LATER,  /* accepted here; the caller reads it with yw_get() */
};

/* One accepted key of a mapping and where its value goes in the caller's struct. */
struct yw_field {
    const char *key;
    enum yw_type type;
    size_t offset;
    unsigned long long min, max; /* YW_UINT: the value; YW_MS: milliseconds */
    const char *example;         /* a good value, shown as "e.g. key: example" */
    void (*parse)(struct yw *w, const struct yw_field *f, yaml_node_t *val, void *obj);
};

/* Rows of a field table: a typed value kept in member m of struct st; a key read by a
 * handler; a key accepted here and read by the caller. */
#define YW_VALUE(k, t, st, m, lo, hi, ex)                                                          \
    {                                                                                              \
        .key = (k), .type = (t), .offset = offsetof(st, m), .min = (lo), .max = (hi),              \
        .example = (ex)                                                                            \
    }
#define YW_HANDLER(k, fn, ex)                                                                      \
    {                                                                                              \
        .key = (k), .type = YW_CUSTOM, .parse = (fn), .example = (ex)                              \
    }
#define YW_ACCEPT(k)                                                                               \
    {                                                                                              \
        .key = (k), .type = YW_LATER                                                               \
    }

/* Parses path into w->doc, reporting syntax errors, a second document and duplicate keys
 * anywhere.  Returns false when there is nothing to walk; yw_close() is due either way.
 * An empty file loads as a document whose root is NULL or a null scalar. */
bool yw_open(struct yw *w, const char *path, struct diag *d, struct arena *arena) F_WUNUSED;
void yw_close(struct yw *w);
/* What yw_open does once the file is read: parses the len bytes of text (w->file and w->d
 * set, w->doc not loaded yet) and reports the same problems, a second document as "a NOUN
 * holds one YAML document".  False when there is nothing to walk; yw_close() is due
 * either way. */
bool yw_load_text(struct yw *w, const char *text, size_t len, const char *noun) F_WUNUSED;

yaml_node_t *yw_root(struct yw *w);
void yw_error(struct yw *w, const yaml_node_t *n, const char *fmt, ...) F_PRINTF(3, 4);
unsigned yw_line(const yaml_node_t *n); /* 1-based */
unsigned yw_col(const yaml_node_t *n);  /* 1-based */

/* The text of a scalar; NULL for a list, a mapping, or a scalar holding a NUL byte. */
const char *yw_text(const yaml_node_t *n);
/* An empty value, or ~ or null written without quotes. */
bool yw_is_null(const yaml_node_t *n);
bool yw_is_map(const yaml_node_t *n);
bool yw_is_seq(const yaml_node_t *n);

/* The pairs of a mapping or the items of a sequence; 0 for anything else. */
size_t yw_len(const yaml_node_t *n);
yaml_node_t *yw_item(struct yw *w, const yaml_node_t *seq, size_t i);
yaml_node_t *yw_key(struct yw *w, const yaml_node_t *map, size_t i);
yaml_node_t *yw_value(struct yw *w, const yaml_node_t *map, size_t i);
/* A list, where a single scalar stands for a list of one: how many items (0 for a null or
 * a mapping), and item i. */
size_t yw_list_len(const yaml_node_t *n);
yaml_node_t *yw_list_item(struct yw *w, yaml_node_t *n, size_t i);
/* The value, or the key node, of key in map; NULL when map is absent, not a mapping, or
 * has no such key. */
yaml_node_t *yw_get(struct yw *w, const yaml_node_t *map, const char *key);
yaml_node_t *yw_get_key(struct yw *w, const yaml_node_t *map, const char *key);

/* True when n is a mapping to walk; false for an absent or null n (an empty section) and,
 * with an error naming what, for anything else. */
bool yw_mapping(struct yw *w, const yaml_node_t *n, const char *what);
/* Reads every pair of map into obj as fields says; unknown keys are reported "in what"
 * with the accepted ones, and the nearest one when it looks like a typo. */
void yw_fields(struct yw *w, const yaml_node_t *map, const char *what,
               const struct yw_field *fields, size_t n, void *obj);

/* Typed readers: false, after an error naming f->key and showing f->example, when n does
 * not hold such a value within f->min..f->max. */
bool yw_uint(struct yw *w, const yaml_node_t *n, const struct yw_field *f,
             unsigned long long *out) F_WUNUSED;
bool yw_ms(struct yw *w, const yaml_node_t *n, const struct yw_field *f,
           unsigned long long *out) F_WUNUSED;
bool yw_bool(struct yw *w, const yaml_node_t *n, const struct yw_field *f, bool *out) F_WUNUSED;
char *yw_string(struct yw *w, const yaml_node_t *n, const struct yw_field *f) F_WUNUSED;
char *yw_path(struct yw *w, const yaml_node_t *n, const struct yw_field *f) F_WUNUSED;

/* Parsers of bare text, true when all of s is such a value: decimal digits without sign
 * (overflow rejected), a duration, a YAML 1.1 boolean. */
bool yw_parse_uint(const char *s, unsigned long long *out) F_WUNUSED;
bool yw_parse_ms(const char *s, unsigned long long *out) F_WUNUSED;
bool yw_parse_bool(const char *s, bool *out) F_WUNUSED;
/* A duration in its largest whole unit, "1500ms", "5s", "2m", for messages. */
const char *yw_fmt_ms(unsigned long long ms, char *buf, size_t cap);
