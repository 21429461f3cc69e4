/* latency.c — loading a latency table from CSV and finding a client's rows in it.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/latency.h"
#include "geoip/countries.h"
#include "geoip/nettree.h"
#include "lib/readfile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* A slice of latency_table.rows: the rows of one key. */
struct span {
    uint32_t first, n;
};

/* rows holds every row grouped by key, each group fastest first.  A network's group is found
 * through nets, whose values point into spans; a country's through countries, indexed like
 * country codes ((c0 - 'A') * 26 + c1 - 'A'), n = 0 for a country without rows. */
struct latency_table {
    struct nettree *nets;
    struct span *spans;
    struct latency_row *rows;
    size_t nrows;
    struct span countries[26 * 26];
};

/* One row as read, before grouping.  family 0 marks a country, whose code is in addr[0..1]. */
struct entry {
    int family;
    uint8_t addr[16]; /* a network's host bits are clear */
    unsigned prefix;
    unsigned region;
    float rtt_ms;
    unsigned line;
    unsigned dup_of; /* line of an earlier row with the same key and region, or 0 */
};

struct parse {
    const char *path;
    const struct config *c;
    struct diag *d;
    unsigned line;
    bool any_row; /* a header line is only allowed before the first row */
    struct entry *v;
    size_t n, cap;
};

#define EXAMPLE_ROW "198.51.100.0/24,eu-west-1,12.5"

static void key_text(const struct entry *e, char *buf, size_t cap)
{
    if (!e->family) {
        snprintf(buf, cap, "%.2s", (const char *)e->addr);
        return;
    }
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(e->family, e->addr, ip, sizeof(ip));
    snprintf(buf, cap, "%s/%u", ip, e->prefix);
}

/* ---- fields --------------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool country_parse(struct parse *p, const char *s, struct entry *e)
{
    if (country_find(s)) {
        memcpy(e->addr, s, 2);
        return true;
    }
    char upper[3] = {(char)toupper((unsigned char)s[0]), (char)toupper((unsigned char)s[1]), 0};
    if (country_find(upper))
        diag_error(p->d, p->path, p->line, 0, "country codes are upper case: write %s", upper);
    else if (!strcmp(upper, "UK"))
        diag_error(p->d, p->path, p->line, 0, "UK is not an ISO 3166-1 code: write GB");
    else
        diag_error(p->d, p->path, p->line, 0,
                   "\"%s\" is not an ISO 3166-1 country code; write one such as GB or US", s);
    return false;
}

/* ::ffff:a.b.c.d/n is the IPv4 network a.b.c.d/(n - 96): clients are looked up as IPv4. */
static void net_unmap(struct entry *e)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (e->family != AF_INET6 || e->prefix < 96 || memcmp(e->addr, mapped, 12))
        return;
    memmove(e->addr, e->addr + 12, 4);
    memset(e->addr + 4, 0, 12);
    e->family = AF_INET;
    e->prefix -= 96;
}

static bool host_bits_clear(struct parse *p, const char *s, const struct entry *e)
{
    struct entry m = *e;
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = e->prefix > i * 8 ? e->prefix - i * 8 : 0;
        m.addr[i] &= (uint8_t)(0xff00u >> (bits > 8 ? 8 : bits));
    }
    if (!memcmp(m.addr, e->addr, sizeof(m.addr)))
        return true;
    char net[64];
    key_text(&m, net, sizeof(net));
    diag_error(p->d, p->path, p->line, 0, "%s has host bits set; write %s", s, net);
    return false;
}

static bool prefix_parse(const char *s, unsigned *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    *out = v > 255 ? 255 : (unsigned)v;
    return !*end && !errno;
}

/* Reads ADDRESS/PREFIX, or a bare address for a network of one, without judging it. */
static bool cidr_read(const char *s, struct entry *e, const char **prefix_text)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    char addr[INET6_ADDRSTRLEN];
    if (alen >= sizeof(addr) || (slash && !prefix_parse(slash + 1, &e->prefix)))
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    e->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (!slash)
        e->prefix = e->family == AF_INET ? 32 : 128;
    *prefix_text = slash ? slash + 1 : "";
    return inet_pton(e->family, addr, e->addr) == 1;
}

static bool cidr_parse(struct parse *p, const char *s, struct entry *e)
{
    const char *prefix;
    if (!cidr_read(s, e, &prefix)) {
        diag_error(p->d, p->path, p->line, 0,
                   "\"%s\" is not a network or country; write ADDRESS/PREFIX such as "
                   "198.51.100.0/24 or 2001:db8::/32, or a country code such as GB",
                   s);
        return false;
    }
    unsigned max = e->family == AF_INET ? 32 : 128;
    if (e->prefix > max) {
        diag_error(p->d, p->path, p->line, 0,
                   "prefix /%s of %s is too long; an IPv%c prefix is 0 to %u", prefix, s,
                   max == 32 ? '4' : '6', max);
        return false;
    }
    if (!host_bits_clear(p, s, e))
        return false;
    net_unmap(e);
    return true;
}

static bool key_parse(struct parse *p, const char *s, struct entry *e)
{
    if (!*s) {
        diag_error(p->d, p->path, p->line, 0,
                   "the key is empty; write a network or a country code, e.g. " EXAMPLE_ROW);
        return false;
    }
    if (strlen(s) == 2 && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]))
        return country_parse(p, s, e);
    return cidr_parse(p, s, e);
}

static void known_regions(const struct config *c, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->nregions && len + 8 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", c->regions[i].name);
    if (len + 8 >= cap)
        snprintf(buf + cap - 8, 8, ", ...");
}

static bool region_parse(struct parse *p, const char *s, struct entry *e)
{
    int i = conf_find_region(p->c, s);
    if (i >= 0) {
        e->region = (unsigned)i;
        return true;
    }
    char list[400];
    known_regions(p->c, list, sizeof(list));
    if (p->c->nregions)
        diag_error(p->d, p->path, p->line, 0, "unknown region \"%s\"; known regions: %s", s, list);
    else
        diag_error(p->d, p->path, p->line, 0,
                   "unknown region \"%s\"; the config defines no regions", s);
    return false;
}

/* Plain decimal only: strtod would also take signs, exponents, hex, "inf" and "nan". */
static bool is_decimal(const char *s)
{
    size_t whole = strspn(s, "0123456789");
    if (s[whole] != '.')
        return whole && !s[whole];
    size_t frac = strspn(s + whole + 1, "0123456789");
    return (whole || frac) && !s[whole + 1 + frac];
}

static bool rtt_parse(struct parse *p, const char *s, struct entry *e)
{
    float v = is_decimal(s) ? strtof(s, NULL) : -1;
    if (v >= 0 && isfinite(v)) {
        e->rtt_ms = v;
        return true;
    }
    diag_error(p->d, p->path, p->line, 0,
               "\"%s\" is not a round-trip time; write milliseconds such as 12 or 12.5", s);
    return false;
}

/* ---- lines ---------------------------------------------------------------------------- */

/* Splits line at its commas when there are exactly two; returns the number of fields. */
static size_t split(char *line, char *field[3])
{
    size_t n = 1;
    for (const char *c = line; (c = strchr(c, ',')); c++)
        n++;
    if (n != 3)
        return n;
    field[0] = line;
    for (size_t i = 1; i < 3; i++) {
        field[i] = strchr(field[i - 1], ',');
        *field[i]++ = '\0';
    }
    return 3;
}

static bool is_header(char *field[3])
{
    return !strcasecmp(trim(field[0]), "key") && !strcasecmp(trim(field[1]), "region") &&
           !strcasecmp(trim(field[2]), "rtt_ms");
}

static bool entry_push(struct parse *p, const struct entry *e)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct entry *v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = *e;
    return true;
}

static bool line_parse(struct parse *p, char *line)
{
    char *s = trim(line), *field[3];
    if (!*s || *s == '#')
        return true;
    if (split(s, field) != 3) {
        diag_error(p->d, p->path, p->line, 0,
                   "expected three fields, KEY,REGION,RTT_MS; e.g. " EXAMPLE_ROW);
        return true;
    }
    if (!p->any_row && is_header(field))
        return true;
    p->any_row = true;
    struct entry e = {.line = p->line};
    bool ok = key_parse(p, trim(field[0]), &e);
    ok = region_parse(p, trim(field[1]), &e) && ok;
    ok = rtt_parse(p, trim(field[2]), &e) && ok;
    return !ok || entry_push(p, &e);
}

static bool file_parse(struct parse *p, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    bool ok = true;
    while (ok && getline(&line, &cap, f) >= 0) {
        p->line++;
        /* Spreadsheets often save CSV with a UTF-8 byte order mark. */
        bool bom = p->line == 1 && !strncmp(line, "\xef\xbb\xbf", 3);
        ok = line_parse(p, line + (bom ? 3 : 0));
    }
    free(line);
    if (!ok)
        diag_error(p->d, p->path, p->line, 0, "out of memory");
    else if (ferror(f))
        diag_error(p->d, p->path, 0, 0, "cannot read: %s", strerror(errno));
    return ok && !ferror(f);
}

/* ---- building the table --------------------------------------------------------------- */

/* Orders by key (family, address, prefix), then region, then line, so that the rows of a key
 * are adjacent and a repeated key and region comes right after its first row. */
static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    int c = memcmp(x->addr, y->addr, sizeof(x->addr));
    if (c)
        return c;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    if (x->region != y->region)
        return x->region < y->region ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int entry_line_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->line < y->line ? -1 : x->line > y->line;
}

static bool same_key(const struct entry *x, const struct entry *y)
{
    return x->family == y->family && x->prefix == y->prefix &&
           !memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* After sorting by entry_cmp: reports each repeated key and region at its own line. */
static bool no_duplicates(struct parse *p)
{
    bool any = false;
    for (size_t i = 1; i < p->n; i++) {
        struct entry *e = &p->v[i], *prev = &p->v[i - 1];
        if (same_key(e, prev) && e->region == prev->region) {
            e->dup_of = prev->dup_of ? prev->dup_of : prev->line;
            any = true;
        }
    }
    if (!any)
        return true;
    qsort(p->v, p->n, sizeof(*p->v), entry_line_cmp);
    char key[64];
    for (size_t i = 0; i < p->n; i++) {
        if (!p->v[i].dup_of)
            continue;
        key_text(&p->v[i], key, sizeof(key));
        diag_error(p->d, p->path, p->v[i].line, 0,
                   "a row for %s and region %s is already on line %u; keep one of them", key,
                   p->c->regions[p->v[i].region].name, p->v[i].dup_of);
    }
    return false;
}

/* Fastest first; equal times in config region order. */
static int row_cmp(const void *a, const void *b)
{
    const struct latency_row *x = a, *y = b;
    if (x->rtt_ms != y->rtt_ms)
        return x->rtt_ms < y->rtt_ms ? -1 : 1;
    return x->region < y->region ? -1 : x->region > y->region;
}

/* Copies the rows of the key that starts at v[first] into t->rows; returns their span. */
static struct span group_rows(struct latency_table *t, const struct entry *v, size_t n,
                              size_t first)
{
    struct span s = {(uint32_t)first, 0};
    while (first + s.n < n && same_key(&v[first], &v[first + s.n])) {
        t->rows[first + s.n] = (struct latency_row){v[first + s.n].region, v[first + s.n].rtt_ms};
        s.n++;
    }
    qsort(&t->rows[s.first], s.n, sizeof(*t->rows), row_cmp);
    return s;
}

static bool table_fill(struct latency_table *t, const struct entry *v, size_t n)
{
    size_t nspans = 0;
    for (size_t i = 0; i < n;) {
        struct span s = group_rows(t, v, n, i);
        if (!v[i].family) {
            t->countries[(v[i].addr[0] - 'A') * 26 + (v[i].addr[1] - 'A')] = s;
        } else {
            t->spans[nspans] = s;
            if (nettree_add(t->nets, v[i].family, v[i].addr, v[i].prefix, &t->spans[nspans]))
                return false;
            nspans++;
        }
        i += s.n;
    }
    return true;
}

static struct latency_table *table_build(const struct entry *v, size_t n)
{
    struct latency_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->nrows = n;
    t->nets = nettree_new();
    t->rows = malloc((n ? n : 1) * sizeof(*t->rows));
    t->spans = malloc((n ? n : 1) * sizeof(*t->spans));
    if (!t->nets || !t->rows || !t->spans || !table_fill(t, v, n)) {
        latency_free(t);
        return NULL;
    }
    nettree_seal(t->nets);
    return t;
}

/* ---- interface ------------------------------------------------------------------------ */

struct latency_table *latency_load(const char *path, const struct config *c, struct diag *d)
{
    struct parse p = {.path = path, .c = c, .d = d};
    unsigned errors = d->errors;
    int err = readfile_check(path);
    FILE *f = err ? NULL : fopen(path, "r");
    if (!f) {
        diag_error(d, path, 0, 0, "cannot open the latency table: %s",
                   readfile_strerror(err ? err : errno));
        return NULL;
    }
    bool parsed = file_parse(&p, f);
    fclose(f);
    if (parsed && p.n)
        qsort(p.v, p.n, sizeof(*p.v), entry_cmp);
    bool unique = parsed && no_duplicates(&p);
    struct latency_table *t = NULL;
    if (unique && p.d->errors == errors && !(t = table_build(p.v, p.n)))
        diag_error(d, path, 0, 0, "out of memory");
    free(p.v);
    return t;
}

void latency_free(struct latency_table *t)
{
    if (!t)
        return;
    nettree_free(t->nets);
    free(t->spans);
    free(t->rows);
    free(t);
}

static const struct span *country_span(const struct latency_table *t, const char *cc)
{
    if (!cc || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2])
        return NULL;
    return &t->countries[(cc[0] - 'A') * 26 + (cc[1] - 'A')];
}

size_t latency_lookup(const struct latency_table *t, int family, const uint8_t *addr, unsigned bits,
                      const char *country, const struct latency_row **rows, unsigned *prefix)
{
    unsigned matched = 0;
    const struct span *s = nettree_lookup(t->nets, family, addr, bits, &matched);
    if (!s)
        s = country_span(t, country);
    if (prefix)
        *prefix = matched;
    *rows = s && s->n ? &t->rows[s->first] : NULL;
    return s ? s->n : 0;
}

unsigned latency_deepest_within(const struct latency_table *t, int family, const uint8_t *addr,
                                unsigned prefix)
{
    return nettree_deepest_within(t->nets, family, addr, prefix);
}

size_t latency_count(const struct latency_table *t)
{
    return t->nrows;
}
