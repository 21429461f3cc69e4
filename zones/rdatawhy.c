/* rdatawhy.c — which rdata field ldns refused, and what it should have been.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/rdatawhy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

/* What a field of this kind must be, or NULL for kinds that may span several tokens
 * (base64, hex, strings, LOC, SVCB parameters...). */
static const char *field_wants(ldns_rdf_type t)
{
    switch (t) {
    case LDNS_RDF_TYPE_A:
        return "an IPv4 address such as 192.0.2.1";
    case LDNS_RDF_TYPE_AAAA:
        return "an IPv6 address such as 2001:db8::1";
    case LDNS_RDF_TYPE_INT8:
        return "a number from 0 to 255";
    case LDNS_RDF_TYPE_INT16:
        return "a number from 0 to 65535";
    case LDNS_RDF_TYPE_INT32:
        return "a number from 0 to 4294967295";
    case LDNS_RDF_TYPE_DNAME:
        return "a domain name (labels of at most 63 bytes, 255 in all)";
    case LDNS_RDF_TYPE_PERIOD:
        return "a time in seconds, or with units such as 1h30m";
    case LDNS_RDF_TYPE_TYPE:
        return "a record type such as A or TYPE65";
    default:
        return NULL;
    }
}

static bool field_parses(ldns_rdf_type t, const struct rdata_field *f)
{
    /* "@" is the origin, which ldns resolves only when it reads a whole record */
    if (t == LDNS_RDF_TYPE_DNAME && f->len == 1 && f->p[0] == '@')
        return true;
    char *s = strndup(f->p, f->len);
    ldns_rdf *rdf = s ? ldns_rdf_new_frm_str(t, s) : NULL;
    bool ok = rdf != NULL || !s; /* out of memory blames no field */
    ldns_rdf_deep_free(rdf);
    free(s);
    return ok;
}

/* RFC 3597 "\# len hex": fields of the type's own form are not there to judge. */
static bool generic_form(const struct rdata_field *f, size_t n)
{
    return n > 0 && f[0].len == 2 && f[0].p[0] == '\\' && f[0].p[1] == '#';
}

bool rdata_explain(uint16_t type, const struct rdata_field *f, size_t n, char *buf, size_t cap)
{
    const ldns_rr_descriptor *d = ldns_rr_descript(type);
    if (!d || generic_form(f, n))
        return false;
    size_t min = ldns_rr_descriptor_minimum(d), max = ldns_rr_descriptor_maximum(d);
    bool all_simple = true;
    for (size_t i = 0; i < n && i < max; i++) {
        ldns_rdf_type t = ldns_rr_descriptor_field_type(d, i);
        const char *wants = field_wants(t);
        if (!wants) {
            all_simple = false;
            break;
        }
        if (!field_parses(t, &f[i])) {
            snprintf(buf, cap, "field %zu \"%.*s\" is not %s", i + 1,
                     (int)(f[i].len > 80 ? 80 : f[i].len), f[i].p, wants);
            return true;
        }
    }
    for (size_t i = n; all_simple && i < max && i < min; i++)
        all_simple = field_wants(ldns_rr_descriptor_field_type(d, i)) != NULL;
    if (all_simple && (n < min || n > max)) {
        if (min == max)
            snprintf(buf, cap, "takes %zu field%s, not %zu", min, min == 1 ? "" : "s", n);
        else
            snprintf(buf, cap, "takes %zu to %zu fields, not %zu", min, max, n);
        return true;
    }
    return false;
}

static unsigned long long field_max(ldns_rdf_type t)
{
    switch (t) {
    case LDNS_RDF_TYPE_INT8:
        return 0xFF;
    case LDNS_RDF_TYPE_INT16:
        return 0xFFFF;
    case LDNS_RDF_TYPE_INT32:
        return 0xFFFFFFFF;
    default:
        return 0;
    }
}

static bool plain_number_fits(const struct rdata_field *f, unsigned long long max)
{
    unsigned long long v = 0;
    if (f->len == 0 || f->len > 10)
        return false;
    for (size_t i = 0; i < f->len; i++) {
        if (f->p[i] < '0' || f->p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(f->p[i] - '0');
    }
    return v <= max;
}

bool rdata_number_out_of_range(uint16_t type, const struct rdata_field *f, size_t n, char *buf,
                               size_t cap)
{
    const ldns_rr_descriptor *d = ldns_rr_descript(type);
    size_t max = d && !generic_form(f, n) ? ldns_rr_descriptor_maximum(d) : 0;
    for (size_t i = 0; i < n && i < max; i++) {
        ldns_rdf_type t = ldns_rr_descriptor_field_type(d, i);
        if (!field_wants(t))
            return false;
        if (field_max(t) && !plain_number_fits(&f[i], field_max(t))) {
            snprintf(buf, cap, "field %zu \"%.*s\" is not %s", i + 1,
                     (int)(f[i].len > 80 ? 80 : f[i].len), f[i].p, field_wants(t));
            return true;
        }
    }
    return false;
}
