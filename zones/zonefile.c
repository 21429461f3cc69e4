/* zonefile.c — RFC 1035 §5 master files: entries, directives ($ORIGIN, $TTL, $INCLUDE),
 * owner/TTL/class defaults, and rdata.  The common types take a fast path; everything
 * else, RFC 3597 generic data included, is parsed by ldns.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/readfile.h"
#include "zones/dname.h"
#include "zones/rdatawhy.h"
#include "zones/zonebuild.h"
#include "zones/zonedb.h"
#include "zones/zonefile.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#define RDATA_MAX     65535
#define LDNS_TEXT_MAX 65000 /* characters of a record's data, below what ldns reads */
#define STR_(x)       #x
#define STR(x)        STR_(x)

#define MAX_TOKENS        4096
#define MAX_INCLUDE_DEPTH 8
#define MAX_INCLUDES      1000        /* files per zone: a file included over and over is refused */
#define MAX_TTL           2147483647u /* RFC 2181 §8 */

struct token {
    const char *p;
    size_t len;
};

/* One logical entry: the tokens of a line, with parenthesised continuations joined. */
struct entry {
    struct token *tok;
    size_t ntok;
    bool blank_owner; /* the line began with white space: owner is the previous one */
    unsigned line;
};

/* The text of one file being read. */
struct source {
    const char *path; /* interned: lives as long as the zone */
    char *text;
    size_t len, pos;
    unsigned line;
    uint8_t origin[DNAME_MAX + 1];
    unsigned depth;
    const struct source *includer; /* the file that included this one, or NULL */
    bool good;                     /* an entry of this file has been read without error */
};

/* What carries over from entry to entry, across $INCLUDE too. */
struct reader {
    struct zone_builder *zb;
    struct diag *d;
    struct entry e;
    uint8_t prev_owner[DNAME_MAX + 1];
    bool have_prev;
    uint32_t dollar_ttl, last_ttl;
    bool have_dollar_ttl, have_last_ttl, warned_ttl;
    ldns_buffer *wire;
    char *text; /* scratch for handing an entry to ldns */
    size_t textcap;
    unsigned includes; /* files read so far for this zone */
    bool unreadable;   /* the zone's own file could not be read */
};

static int read_source(struct reader *r, struct source *s);

/* ---- lexing --------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void skip_comment(struct source *s)
{
    while (s->pos < s->len && s->text[s->pos] != '\n')
        s->pos++;
}

/* Scans one token starting at s->pos (not white space, not a delimiter).  A quoted part
 * may sit inside a token (RFC 9460's alpn="h2,h3"); a token that starts with a quote
 * ends with its closing quote, so "a""b" stays two strings. */
static int scan_token(struct source *s, struct token *t, struct diag *d)
{
    size_t start = s->pos;
    bool quoted = false, leading = s->text[start] == '"';
    while (s->pos < s->len) {
        char c = s->text[s->pos];
        if (c == '\\' && s->pos + 1 < s->len) {
            s->pos += 2;
            continue;
        }
        if (c == '"') {
            quoted = !quoted;
            s->pos++;
            if (!quoted && leading)
                break;
            continue;
        }
        if (!quoted && (is_space(c) || c == '\n' || c == ';' || c == '(' || c == ')'))
            break;
        s->line += c == '\n';
        s->pos++;
    }
    if (quoted) {
        diag_error(d, s->path, s->line, 0, "unterminated quoted string; add the closing \"");
        return -1;
    }
    t->p = s->text + start;
    t->len = s->pos - start;
    return 0;
}

static int push_token(struct reader *r, struct source *s)
{
    if (r->e.ntok == MAX_TOKENS) {
        diag_error(r->d, s->path, s->line, 0, "entry has more than %d fields", MAX_TOKENS);
        return -1;
    }
    return scan_token(s, &r->e.tok[r->e.ntok++], r->d);
}

/* Reads the next non-empty entry; returns 1 when one was read, 0 at end of file, -1 on a
 * lexical error (the rest of that entry is skipped). */
static int next_entry(struct reader *r, struct source *s)
{
    for (;;) {
        if (s->pos >= s->len)
            return 0;
        struct entry *e = &r->e;
        e->ntok = 0;
        e->blank_owner = is_space(s->text[s->pos]);
        e->line = s->line;
        int parens = 0, rc = 1;
        while (s->pos < s->len) {
            char c = s->text[s->pos];
            if (c == '\n') {
                s->line++;
                s->pos++;
                if (parens == 0)
                    break;
            } else if (is_space(c)) {
                s->pos++;
            } else if (c == ';') {
                skip_comment(s);
            } else if (c == '(' || c == ')') {
                parens += c == '(' ? 1 : -1;
                s->pos++;
                if (parens < 0) {
                    diag_error(r->d, s->path, s->line, 0, "')' without a matching '('");
                    rc = -1;
                    parens = 0;
                }
            } else if (push_token(r, s) < 0) {
                rc = -1;
                skip_comment(s);
            }
        }
        if (parens > 0) {
            diag_error(r->d, s->path, e->line, 0, "'(' is never closed; add the matching ')'");
            return -1;
        }
        if (rc < 0 || e->ntok > 0)
            return rc;
        /* a blank or comment-only line: keep going */
    }
}

/* ---- small field parsers ---------------------------------------------------------- */

static bool tok_is(const struct token *t, const char *word)
{
    return t->len == strlen(word) && strncasecmp(t->p, word, t->len) == 0;
}

/* A TTL: seconds, or BIND's 1w2d3h4m5s units. */
static bool parse_ttl(const struct token *t, uint32_t *out)
{
    uint64_t total = 0, cur = 0;
    bool digits = false, any_unit = false;
    if (!t->len || t->p[0] < '0' || t->p[0] > '9')
        return false;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->p[i];
        if (c >= '0' && c <= '9') {
            cur = cur * 10 + (uint64_t)(c - '0');
            digits = true;
            if (cur > MAX_TTL)
                return false;
            continue;
        }
        static const char units[] = "smhdw";
        static const uint32_t mult[] = {1, 60, 3600, 86400, 604800};
        const char *u = strchr(units, c | 0x20);
        if (!u || !*u || !digits)
            return false;
        total += cur * mult[u - units];
        cur = 0;
        digits = false;
        any_unit = true;
    }
    if (digits && any_unit)
        return false; /* "1h30" is ambiguous */
    total += cur;
    if (total > MAX_TTL)
        return false;
    *out = (uint32_t)total;
    return true;
}

static bool is_class(const struct token *t)
{
    return tok_is(t, "IN") || tok_is(t, "CH") || tok_is(t, "HS") || tok_is(t, "CS") ||
           (t->len > 5 && strncasecmp(t->p, "CLASS", 5) == 0);
}

static int parse_type(const struct token *t)
{
    char buf[32];
    if (t->len >= sizeof(buf))
        return -1;
    memcpy(buf, t->p, t->len);
    buf[t->len] = '\0';
    if (strcasecmp(buf, "DYNA") == 0)
        return TYPE_DYNA;
    if (strcasecmp(buf, "DYNC") == 0)
        return TYPE_DYNC;
    ldns_rr_type type = ldns_get_rr_type_by_name(buf);
    /* Meta and query-only types (RFC 6895 §3.1) and our private codes never sit in a zone. */
    if (type == 0 || type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255) ||
        type == TYPE_DYNA || type == TYPE_DYNC)
        return -1;
    return (int)type;
}

/* ---- rdata ------------------------------------------------------------------------ */

static bool fast_name(const struct token *t, const struct source *s, uint8_t *out, size_t *len)
{
    const char *why;
    int n = dname_from_text(t->p, t->len, s->origin, out, &why);
    if (n < 0)
        return false;
    *len = (size_t)n;
    return true;
}

static bool fast_u16(const struct token *t, uint8_t *out)
{
    unsigned v = 0;
    if (t->len == 0 || t->len > 5)
        return false;
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] < '0' || t->p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(t->p[i] - '0');
    }
    if (v > 65535)
        return false;
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
    return true;
}

static bool fast_addr(const struct token *t, int af, uint8_t *out)
{
    char buf[64];
    if (t->len >= sizeof(buf))
        return false;
    memcpy(buf, t->p, t->len);
    buf[t->len] = '\0';
    return inet_pton(af, buf, out) == 1;
}

/* Parses rdata of the common types without ldns.  Returns the rdata length, or -1 when
 * the entry is not of a shape this path handles (ldns then decides, with its messages). */
static int rdata_fast(uint16_t type, const struct token *t, size_t n, const struct source *s,
                      uint8_t *out)
{
    size_t len;
    if (n == 0 || (t[0].len == 2 && t[0].p[0] == '\\' && t[0].p[1] == '#'))
        return -1;
    switch (type) {
    case LDNS_RR_TYPE_A:
        return n == 1 && fast_addr(&t[0], AF_INET, out) ? 4 : -1;
    case LDNS_RR_TYPE_AAAA:
        return n == 1 && fast_addr(&t[0], AF_INET6, out) ? 16 : -1;
    case LDNS_RR_TYPE_NS:
    case LDNS_RR_TYPE_CNAME:
    case LDNS_RR_TYPE_PTR:
    case LDNS_RR_TYPE_DNAME:
        return n == 1 && fast_name(&t[0], s, out, &len) ? (int)len : -1;
    case LDNS_RR_TYPE_MX:
        if (n == 2 && fast_u16(&t[0], out) && fast_name(&t[1], s, out + 2, &len))
            return (int)len + 2;
        return -1;
    default:
        return -1;
    }
}

static bool text_reserve(struct reader *r, size_t need)
{
    if (need <= r->textcap)
        return true;
    size_t cap = r->textcap ? r->textcap : 4096;
    while (cap < need)
        cap *= 2;
    char *t = realloc(r->text, cap);
    if (!t)
        return false;
    r->text = t;
    r->textcap = cap;
    return true;
}

static bool type_is(const struct token *type, const char *name)
{
    size_t n = strlen(name);
    return type->len == n && !strncasecmp(type->p, name, n);
}

/* A CERT type field that ldns reads as the number 0 (strtol, cut to 16 bits): "0", "-0",
 * "65536"... */
static bool cert_type_zero(const struct token *f)
{
    char buf[32];
    if (f->len == 0 || f->len >= sizeof(buf))
        return false;
    memcpy(buf, f->p, f->len);
    buf[f->len] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    return *end == '\0' && (uint16_t)v == 0;
}

/* Records that ldns 1.8.3 refuses but leaks memory on while doing so; they are refused
 * here first, with the status ldns would give, so loading them leaks nothing:
 * - IPSECKEY with more than its five fields leaks the fields it copied;
 * - CERT of type 0 leaks the 2 bytes ldns_str2rdf_cert_alg read before it said no. */
static ldns_status ldns_leaky_input(const struct token *type, const struct token *t, size_t n)
{
    if (n > 5 && type_is(type, "IPSECKEY"))
        return LDNS_STATUS_SYNTAX_RDATA_ERR;
    if (n > 0 && type_is(type, "CERT") && cert_type_zero(&t[0]))
        return LDNS_STATUS_CERT_BAD_ALGORITHM;
    return LDNS_STATUS_OK;
}

/* Length of the uncompressed name at rd[at] within len bytes, or 0 when there is none. */
static size_t plain_name_len(const uint8_t *rd, size_t len, size_t at)
{
    size_t p = at;
    while (p < len && rd[p] != 0) {
        if (rd[p] & 0xC0)
            return 0; /* a compression pointer or a retired label type */
        p += 1 + (size_t)rd[p];
    }
    return p < len && p + 1 - at <= DNAME_MAX ? p + 1 - at : 0;
}

/* RFC 3597 §5: rdata in the generic "\# len hex" form must still be the type's own wire
 * form.  The answer code reads the types with names as names and numbers (compression,
 * additional addresses, SOA minimum, CNAME and DNAME chains), so a "\# 0" MX is refused
 * here rather than read past its end at query time.  Other types travel as opaque bytes. */
static bool rdata_well_formed(uint16_t type, const uint8_t *rd, size_t len)
{
    struct rdata_layout lay = rdata_layout(type);
    size_t at = lay.lead;
    for (unsigned i = 0; i < lay.names; i++) {
        size_t n = at <= len ? plain_name_len(rd, len, at) : 0;
        if (!n)
            return false;
        at += n;
    }
    return !lay.names || at + lay.tail == len;
}

/* Hands "type rdata…" to ldns with a placeholder owner and returns the rdata in wire form
 * through r->wire. */
static ldns_status rdata_ldns(struct reader *r, const struct source *s, const struct token *type,
                              const struct token *t, size_t n)
{
    ldns_status leaky = ldns_leaky_input(type, t, n);
    if (leaky != LDNS_STATUS_OK)
        return leaky;
    size_t need = 16 + type->len;
    for (size_t i = 0; i < n; i++)
        need += t[i].len + 1;
    /* ldns reads at most 65535 bytes of a record's text and drops the rest without a word,
     * which would serve a long TXT record cut short. */
    if (need - 16 - type->len > LDNS_TEXT_MAX)
        return LDNS_STATUS_RDATA_OVERFLOW;
    if (!text_reserve(r, need))
        return LDNS_STATUS_MEM_ERR;
    size_t k = (size_t)sprintf(r->text, ". 0 IN %.*s", (int)type->len, type->p);
    for (size_t i = 0; i < n; i++) {
        r->text[k++] = ' ';
        memcpy(r->text + k, t[i].p, t[i].len);
        k += t[i].len;
    }
    r->text[k] = '\0';
    ldns_rdf *origin = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, dname_len(s->origin), s->origin);
    ldns_rr *rr = NULL;
    ldns_status st =
        origin ? ldns_rr_new_frm_str(&rr, r->text, 0, origin, NULL) : LDNS_STATUS_MEM_ERR;
    for (size_t i = 0; st == LDNS_STATUS_OK && i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        /* ldns lets a name of 256 bytes through; RFC 1035 §2.3.4 stops at 255. */
        if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && ldns_rdf_size(f) > DNAME_MAX)
            st = LDNS_STATUS_DOMAINNAME_OVERFLOW;
    }
    if (st == LDNS_STATUS_OK) {
        ldns_buffer_clear(r->wire);
        st = ldns_rr_rdata2buffer_wire(r->wire, rr);
    }
    if (st == LDNS_STATUS_OK && !rdata_well_formed(ldns_rr_get_type(rr), ldns_buffer_begin(r->wire),
                                                   ldns_buffer_position(r->wire)))
        st = LDNS_STATUS_WIRE_RDATA_ERR;
    ldns_rr_free(rr);
    ldns_rdf_deep_free(origin);
    return st;
}

/* ---- entries -------------------------------------------------------------------------- */

static void err_at(struct reader *r, const struct source *s, const char *fmt, const char *arg,
                   size_t arglen)
{
    char msg[512];
    /* A file that has not yet given one good entry may be no zone file at all, say a
     * secret that $INCLUDE names: its text stays out of the messages. */
    if (!s->good) {
        diag_error(r->d, s->path, r->e.line, 0,
                   "not a zone file entry (its text is not shown, since nothing before it in "
                   "this file is one either); is this a zone file?");
        return;
    }
    snprintf(msg, sizeof(msg), fmt, (int)arglen, arg);
    diag_error(r->d, s->path, r->e.line, 0, "%s", msg);
}

static void directive_origin(struct reader *r, struct source *s)
{
    const char *why = "it needs one name";
    uint8_t name[DNAME_MAX + 1];
    int n = r->e.ntok == 2 ? dname_from_text(r->e.tok[1].p, r->e.tok[1].len, s->origin, name, &why)
                           : -1;
    if (n < 0) {
        diag_error(r->d, s->path, r->e.line, 0, "bad $ORIGIN: %s; write e.g. $ORIGIN example.com.",
                   why);
        return;
    }
    dname_lower(name);
    memcpy(s->origin, name, (size_t)n);
}

static void directive_ttl(struct reader *r, struct source *s)
{
    if (r->e.ntok != 2 || !parse_ttl(&r->e.tok[1], &r->dollar_ttl)) {
        diag_error(r->d, s->path, r->e.line, 0,
                   "bad $TTL: write a number of seconds up to 2147483647, or units like 1h30m");
        return;
    }
    r->have_dollar_ttl = true;
}

static char *include_path(const struct source *s, const struct token *t)
{
    char *rel = strndup(t->p, t->len);
    if (!rel || rel[0] == '/')
        return rel;
    /* Relative to the including file's directory, so a zone tree can move as a whole. */
    const char *slash = strrchr(s->path, '/');
    if (!slash)
        return rel;
    size_t dirlen = (size_t)(slash - s->path) + 1;
    char *full = malloc(dirlen + strlen(rel) + 1);
    if (full) {
        memcpy(full, s->path, dirlen);
        strcpy(full + dirlen, rel);
    }
    free(rel);
    return full;
}

static void directive_include(struct reader *r, struct source *s)
{
    struct entry *e = &r->e;
    if (e->ntok < 2 || e->ntok > 3) {
        diag_error(r->d, s->path, e->line, 0, "bad $INCLUDE: write $INCLUDE file [origin]");
        return;
    }
    if (s->depth + 1 >= MAX_INCLUDE_DEPTH) {
        diag_error(r->d, s->path, e->line, 0, "$INCLUDE nested deeper than %d files",
                   MAX_INCLUDE_DEPTH);
        return;
    }
    if (++r->includes > MAX_INCLUDES) {
        if (r->includes == MAX_INCLUDES + 1)
            diag_error(r->d, s->path, e->line, 0, "more than %d $INCLUDEs in one zone",
                       MAX_INCLUDES);
        return;
    }
    struct source inc = {.depth = s->depth + 1, .includer = s};
    memcpy(inc.origin, s->origin, dname_len(s->origin));
    const char *why = NULL;
    if (e->ntok == 3 &&
        dname_from_text(e->tok[2].p, e->tok[2].len, s->origin, inc.origin, &why) < 0) {
        diag_error(r->d, s->path, e->line, 0, "bad $INCLUDE origin: %s", why);
        return;
    }
    dname_lower(inc.origin);
    char *path = include_path(s, &e->tok[1]);
    if (!path)
        return;
    /* A file that includes itself, directly or not, would be read again and again. */
    for (const struct source *up = s; up; up = up->includer)
        if (strcmp(up->path, path) == 0) {
            diag_error(r->d, s->path, e->line, 0,
                       "$INCLUDE of %s, which is already being read "
                       "(an include loop)",
                       path);
            free(path);
            return;
        }
    inc.path = zb_file(r->zb, path);
    free(path);
    unsigned line = e->line;
    /* RFC 1035 §5.1: the included file's $ORIGIN does not leak back into this one. */
    if (inc.path && read_source(r, &inc) < 0)
        diag_error(r->d, s->path, line, 0, "in the file included here");
}

static void directive(struct reader *r, struct source *s)
{
    const struct token *t = &r->e.tok[0];
    if (tok_is(t, "$ORIGIN"))
        directive_origin(r, s);
    else if (tok_is(t, "$TTL"))
        directive_ttl(r, s);
    else if (tok_is(t, "$INCLUDE"))
        directive_include(r, s);
    else
        err_at(r, s, "unknown directive %.*s; $ORIGIN, $TTL and $INCLUDE are supported", t->p,
               t->len);
}

static bool entry_owner(struct reader *r, struct source *s, size_t *i)
{
    struct entry *e = &r->e;
    if (e->blank_owner) {
        if (!r->have_prev) {
            diag_error(r->d, s->path, e->line, 0,
                       "the first record has no owner name; start the line with a name or @");
            return false;
        }
        return true;
    }
    const char *why;
    int n = dname_from_text(e->tok[0].p, e->tok[0].len, s->origin, r->prev_owner, &why);
    if (n < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "bad owner name %%.*s: %s", why);
        err_at(r, s, msg, e->tok[0].p, e->tok[0].len);
        r->have_prev = false;
        return false;
    }
    dname_lower(r->prev_owner);
    r->have_prev = true;
    *i = 1;
    return true;
}

/* [TTL] [class] in either order (RFC 1035 §5.1), then the type. */
static int entry_ttl_class_type(struct reader *r, struct source *s, size_t *i, uint32_t *ttl,
                                const struct token **typetok)
{
    struct entry *e = &r->e;
    bool have_ttl = false, have_class = false;
    for (; *i < e->ntok; (*i)++) {
        const struct token *t = &e->tok[*i];
        if (!have_ttl && parse_ttl(t, ttl)) {
            have_ttl = true;
        } else if (!have_class && is_class(t)) {
            if (!tok_is(t, "IN")) {
                err_at(r, s, "class %.*s is not served; Meridian serves class IN only", t->p,
                       t->len);
                return -1;
            }
            have_class = true;
        } else {
            break;
        }
    }
    if (*i == e->ntok) {
        diag_error(r->d, s->path, e->line, 0, "the record has no type");
        return -1;
    }
    *typetok = &e->tok[(*i)++];
    int type = parse_type(*typetok);
    if (type < 0) {
        err_at(r, s, "unknown record type %.*s; write a known type or TYPEnnn (RFC 3597)",
               (*typetok)->p, (*typetok)->len);
        return -1;
    }
    if (!have_ttl)
        *ttl = r->have_dollar_ttl ? r->dollar_ttl : r->last_ttl;
    if (!have_ttl && !r->have_dollar_ttl && !r->have_last_ttl) {
        if (!r->warned_ttl)
            diag_warn(r->d, s->path, e->line, 0, "no TTL and no $TTL before this record; using %u",
                      *ttl);
        r->warned_ttl = true;
    }
    if (have_ttl) {
        r->last_ttl = *ttl;
        r->have_last_ttl = true;
    }
    return type;
}

static struct rdata_field *fields_of(const struct token *rd, size_t nrd)
{
    struct rdata_field *f = calloc(nrd ? nrd : 1, sizeof(*f));
    for (size_t i = 0; f && i < nrd; i++)
        f[i] = (struct rdata_field){rd[i].p, rd[i].len};
    return f;
}

/* "bad TYPE record: TEXT", with a '%' in TEXT doubled for err_at. */
static void error_with(struct reader *r, const struct source *s, const struct token *typetok,
                       const char *text)
{
    char msg[500];
    size_t k = (size_t)snprintf(msg, sizeof(msg), "bad %%.*s record: ");
    for (; *text && k + 2 < sizeof(msg); text++) {
        if (*text == '%')
            msg[k++] = '%';
        msg[k++] = *text;
    }
    msg[k] = '\0';
    err_at(r, s, msg, typetok->p, typetok->len);
}

/* "bad A record: field 1 "192.0.2.300" is not an IPv4 address ...", or ldns's own words
 * when no single field is to blame.  A '%' in the explanation is doubled for err_at. */
static void rdata_error(struct reader *r, const struct source *s, uint16_t type,
                        const struct token *typetok, const struct token *rd, size_t nrd,
                        ldns_status st)
{
    char why[200];
    struct rdata_field *f = fields_of(rd, nrd);
    bool pinned = f && rdata_explain(type, f, nrd, why, sizeof(why));
    free(f);
    error_with(r, s, typetok, pinned ? why : ldns_get_errorstr_by_id(st));
}

/* A number field ldns would silently cut to its width: an error, and true. */
static bool number_out_of_range(struct reader *r, const struct source *s, uint16_t type,
                                const struct token *typetok, const struct token *rd, size_t nrd)
{
    char why[200];
    struct rdata_field *f = fields_of(rd, nrd);
    bool bad = f && rdata_number_out_of_range(type, f, nrd, why, sizeof(why));
    free(f);
    if (bad)
        error_with(r, s, typetok, why);
    return bad;
}

static void entry_record(struct reader *r, struct source *s)
{
    struct entry *e = &r->e;
    size_t i = 0;
    uint32_t ttl = 0;
    const struct token *typetok;
    if (!entry_owner(r, s, &i))
        return;
    int type = entry_ttl_class_type(r, s, &i, &ttl, &typetok);
    if (type < 0)
        return;
    const struct token *rd = &e->tok[i];
    size_t nrd = e->ntok - i;
    uint8_t fast[DNAME_MAX + 8]; /* an MX preference, then a name */
    const uint8_t *rdata = fast;
    int rdlen;
    if (type == TYPE_DYNA || type == TYPE_DYNC) {
        if (nrd != 1) {
            diag_error(r->d, s->path, e->line, 0, "%s takes one service name, e.g. DYNA web",
                       type == TYPE_DYNA ? "DYNA" : "DYNC");
            return;
        }
        rdata = (const uint8_t *)rd[0].p;
        rdlen = (int)rd[0].len;
    } else if ((rdlen = rdata_fast((uint16_t)type, rd, nrd, s, fast)) < 0) {
        if (number_out_of_range(r, s, (uint16_t)type, typetok, rd, nrd))
            return;
        ldns_status st = rdata_ldns(r, s, typetok, rd, nrd);
        if (st == LDNS_STATUS_RDATA_OVERFLOW) {
            err_at(r, s,
                   "%.*s record too long: its text runs past " STR(
                       LDNS_TEXT_MAX) " characters, more than this server reads for one record",
                   typetok->p, typetok->len);
            return;
        }
        if (st != LDNS_STATUS_OK) {
            rdata_error(r, s, (uint16_t)type, typetok, rd, nrd, st);
            return;
        }
        rdata = ldns_buffer_begin(r->wire);
        rdlen = (int)ldns_buffer_position(r->wire);
    }
    if (rdlen > RDATA_MAX) {
        /* RDLENGTH is 16 bits (RFC 1035 §3.2.1): more could only be served cut short. */
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "%%.*s record too long: its data would be %d bytes, the most a record holds is "
                 "%d",
                 rdlen, RDATA_MAX);
        err_at(r, s, msg, typetok->p, typetok->len);
        return;
    }
    zb_add(r->zb, r->prev_owner, dname_len(r->prev_owner), (uint16_t)type, ttl, rdata,
           (size_t)rdlen, s->path, e->line);
}

/* ---- files ---------------------------------------------------------------------------- */

static int read_source(struct reader *r, struct source *s)
{
    int err = readfile(s->path, SIZE_MAX, &s->text, &s->len);
    if (err) {
        diag_error(r->d, s->path, 0, 0, "cannot read the zone file: %s", readfile_strerror(err));
        r->unreadable |= s->depth == 0;
        return -1;
    }
    if (memchr(s->text, '\0', s->len)) {
        diag_error(r->d, s->path, 0, 0, "the file contains NUL bytes; is it a zone file?");
        free(s->text);
        return -1;
    }
    s->line = 1;
    if (s->depth == 0)
        zb_expect(r->zb, s->len / 24); /* a typical record line is 20-30 bytes */
    unsigned errors = r->d->errors;
    int rc;
    while ((rc = next_entry(r, s)) != 0) {
        if (rc < 0)
            continue;
        unsigned before = r->d->errors;
        if (!r->e.blank_owner && r->e.tok[0].p[0] == '$')
            directive(r, s);
        else
            entry_record(r, s);
        s->good |= r->d->errors == before;
    }
    free(s->text);
    return r->d->errors == errors ? 0 : -1;
}

struct zone *zone_load(const char *path, const uint8_t *origin, const struct zone_load_opts *o,
                       struct diag *d)
{
    struct reader r = {.d = d, .last_ttl = 3600};
    r.zb = zb_new(origin, o, d);
    r.e.tok = malloc(MAX_TOKENS * sizeof(*r.e.tok));
    r.wire = ldns_buffer_new(65536);
    struct zone *z = NULL;
    if (!r.zb || !r.e.tok || !r.wire) {
        diag_error(d, path, 0, 0, "out of memory");
    } else {
        struct source s = {.path = zb_file(r.zb, path)};
        memcpy(s.origin, origin, dname_len(origin));
        if (s.path)
            read_source(&r, &s);
    }
    if (r.zb && r.unreadable)
        zb_discard(r.zb);
    else if (r.zb)
        z = zb_finish(r.zb, path);
    free(r.e.tok);
    free(r.text);
    if (r.wire)
        ldns_buffer_free(r.wire);
    return z;
}
