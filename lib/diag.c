/* diag.c — the growing message buffer behind struct diag.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Beyond this many bytes further messages are counted but not kept: a zone with a
 * million broken lines must not exhaust memory reporting them. */
#define DIAG_MAX_TEXT (256 * 1024)

void diag_init(struct diag *d)
{
    memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
    free(d->text);
    diag_init(d);
}

static void append(struct diag *d, const char *s, size_t n)
{
    if (d->len + n + 1 > DIAG_MAX_TEXT)
        return;
    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 512;
        while (cap < d->len + n + 1)
            cap *= 2;
        char *t = realloc(d->text, cap);
        if (!t)
            return;
        d->text = t;
        d->cap = cap;
    }
    memcpy(d->text + d->len, s, n);
    d->len += n;
    d->text[d->len] = '\0';
}

static void vadd(struct diag *d, const char *file, unsigned line, unsigned col, const char *kind,
                 const char *fmt, va_list ap)
{
    char buf[1200];
    const int cap = (int)sizeof(buf) - 2; /* snprintf returns what it would have written */
    int n = 0;
    if (file && line && col)
        n = snprintf(buf, sizeof(buf), "%s:%u:%u: ", file, line, col);
    else if (file && line)
        n = snprintf(buf, sizeof(buf), "%s:%u: ", file, line);
    else if (file)
        n = snprintf(buf, sizeof(buf), "%s: ", file);
    n = n < 0 ? 0 : n > cap ? cap : n;
    if (kind)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s: ", kind);
    n = n > cap ? cap : n;
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(buf) - 2)
        len = sizeof(buf) - 2;
    buf[len++] = '\n';
    append(d, buf, len);
}

void diag_error(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(d, file, line, col, "error", fmt, ap);
    va_end(ap);
    d->errors++;
}

void diag_warn(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(d, file, line, col, "warning", fmt, ap);
    va_end(ap);
    d->warnings++;
}

void diag_note(struct diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(d, NULL, 0, 0, NULL, fmt, ap);
    va_end(ap);
}

void diag_merge(struct diag *d, const struct diag *src)
{
    if (src->len)
        append(d, src->text, src->len);
    d->errors += src->errors;
    d->warnings += src->warnings;
}
