/* dname.c — wire-form domain names.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/dname.h"

#include <string.h>

const uint8_t dname_lower_tab[256] = {
#define R(i)   [i] = (uint8_t)((i) >= 'A' && (i) <= 'Z' ? (i) + 32 : (i))
#define R4(i)  R(i), R(i + 1), R(i + 2), R(i + 3)
#define R16(i) R4(i), R4(i + 4), R4(i + 8), R4(i + 12)
#define R64(i) R16(i), R16(i + 16), R16(i + 32), R16(i + 48)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R16
#undef R4
#undef R
};

int dname_unpack(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out)
{
    size_t p = *pos, end = 0, n = 0;
    bool jumped = false;
    /* RFC 1035 §4.1.4: pointers must point backwards, which also bounds the walk. */
    size_t limit = p;
    for (;;) {
        if (p >= len)
            return -1;
        uint8_t l = msg[p];
        if ((l & 0xC0) == 0xC0) {
            if (p + 1 >= len)
                return -1;
            size_t target = ((size_t)(l & 0x3F) << 8) | msg[p + 1];
            if (target >= limit)
                return -1;
            if (!jumped)
                end = p + 2;
            jumped = true;
            limit = target;
            p = target;
            continue;
        }
        if (l & 0xC0)
            return -1; /* RFC 6891 §5 retired the extended label types */
        if (n + l + 1 > DNAME_MAX || p + 1 + l > len)
            return -1;
        out[n++] = l;
        for (unsigned i = 0; i < l; i++)
            out[n++] = dname_lower_tab[msg[p + 1 + i]];
        p += 1 + l;
        if (l == 0)
            break;
    }
    *pos = jumped ? end : p;
    return (int)n;
}

size_t dname_len(const uint8_t *name)
{
    const uint8_t *p = name;
    while (*p)
        p += *p + 1;
    return (size_t)(p - name) + 1;
}

unsigned dname_label_offsets(const uint8_t *name, uint8_t off[DNAME_LABELS])
{
    unsigned n = 0;
    size_t p = 0;
    while (name[p]) {
        off[n++] = (uint8_t)p;
        p += name[p] + 1;
    }
    return n;
}

unsigned dname_count_labels(const uint8_t *name)
{
    unsigned n = 0;
    for (const uint8_t *p = name; *p; p += *p + 1)
        n++;
    return n;
}

void dname_lower(uint8_t *name)
{
    for (uint8_t *p = name; *p; p += *p + 1)
        for (unsigned i = 1; i <= *p; i++)
            p[i] = dname_lower_tab[p[i]];
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
    size_t la = dname_len(a);
    return la == dname_len(b) && memcmp(a, b, la) == 0;
}

bool dname_is_sub(const uint8_t *name, size_t namelen, const uint8_t *zone, size_t zonelen)
{
    if (zonelen > namelen)
        return false;
    /* Walk label boundaries so "xexample.com" is not taken as below "example.com". */
    size_t p = 0;
    while (namelen - p > zonelen)
        p += name[p] + 1;
    return namelen - p == zonelen && memcmp(name + p, zone, zonelen) == 0;
}

uint32_t dname_hash(const uint8_t *name, size_t len)
{
    /* Eight bytes at a time with a multiply-xorshift mix: names are a few dozen bytes,
     * and every lookup hashes at least one. */
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ len;
    for (; len >= 8; name += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, name, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, name, len);
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return (uint32_t)h;
}

static int text_label_byte(const char *t, size_t len, size_t *i, uint8_t *out)
{
    if (t[*i] != '\\') {
        *out = (uint8_t)t[(*i)++];
        return 0;
    }
    if (*i + 1 >= len)
        return -1;
    if (t[*i + 1] >= '0' && t[*i + 1] <= '9') {
        unsigned v = 0;
        for (int k = 1; k <= 3; k++) {
            char c = *i + (size_t)k < len ? t[*i + (size_t)k] : 0;
            if (c < '0' || c > '9')
                return -1;
            v = v * 10 + (unsigned)(c - '0');
        }
        if (v > 255)
            return -1;
        *out = (uint8_t)v;
        *i += 4;
        return 0;
    }
    *out = (uint8_t)t[*i + 1];
    *i += 2;
    return 0;
}

static int append_origin(uint8_t *out, size_t n, const uint8_t *origin, const char **why)
{
    if (!origin) {
        *why = "relative name with no origin";
        return -1;
    }
    size_t ol = dname_len(origin);
    if (n + ol > DNAME_MAX) {
        *why = "name longer than 255 bytes";
        return -1;
    }
    memcpy(out + n, origin, ol);
    return (int)(n + ol);
}

int dname_from_text(const char *t, size_t len, const uint8_t *origin, uint8_t *out,
                    const char **why)
{
    if (len == 0) {
        *why = "empty name";
        return -1;
    }
    if (len == 1 && t[0] == '@')
        return append_origin(out, 0, origin, why);
    if (len == 1 && t[0] == '.') {
        out[0] = 0;
        return 1;
    }
    size_t n = 0, i = 0;
    while (i < len) {
        size_t lab = n++;
        while (i < len && t[i] != '.') {
            if (n >= DNAME_MAX || n - lab > 63) {
                *why = n >= DNAME_MAX ? "name longer than 255 bytes" : "label longer than 63 bytes";
                return -1;
            }
            if (text_label_byte(t, len, &i, &out[n++]) < 0) {
                *why = "bad escape sequence";
                return -1;
            }
        }
        if (n - lab - 1 == 0) {
            *why = "empty label";
            return -1;
        }
        if (n - lab - 1 > 63) {
            *why = "label longer than 63 bytes";
            return -1;
        }
        out[lab] = (uint8_t)(n - lab - 1);
        if (i < len && ++i == len) { /* trailing dot: absolute */
            if (n + 1 > DNAME_MAX) {
                *why = "name longer than 255 bytes";
                return -1;
            }
            out[n++] = 0;
            return (int)n;
        }
    }
    return append_origin(out, n, origin, why);
}

size_t dname_to_text(const uint8_t *name, char *buf, size_t size)
{
    size_t n = 0;
    const uint8_t *p = name;
    if (!*p) {
        if (size > 1)
            buf[n++] = '.';
    }
    for (; *p && n + 6 < size; p += *p + 1) {
        for (unsigned i = 1; i <= *p && n + 6 < size; i++) {
            uint8_t c = p[i];
            if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
                c == '$') {
                buf[n++] = '\\';
                buf[n++] = (char)c;
            } else if (c <= 0x20 || c >= 0x7f) {
                buf[n++] = '\\';
                buf[n++] = (char)('0' + c / 100);
                buf[n++] = (char)('0' + c / 10 % 10);
                buf[n++] = (char)('0' + c % 10);
            } else {
                buf[n++] = (char)c;
            }
        }
        buf[n++] = '.';
    }
    if (size)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}
