/* test_loaders.c — the differential test's zones read two ways: every record by
 * ldns's own zone parser, and by the zone loader, whose fast path takes the common types
 * (A, AAAA, NS, CNAME, PTR, DNAME, MX) and hands the rest to ldns record by record.  Both
 * must give the same records, byte for byte in wire form.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "tests/unit/unit.h"
#include "zones/dname.h"
#include "zones/zonedb.h"
#include "zones/zonefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/* The zones, by name in text and in wire form. */
static const struct {
    const char *name;
    const uint8_t *wire;
} zones[] = {
    {"rich.example", (const uint8_t *)"\4rich\7example"},
    {"wild.example", (const uint8_t *)"\4wild\7example"},
};

static void zone_path(int i, char *buf, size_t size)
{
    const char *top = getenv("top_srcdir");
    snprintf(buf, size, "%s/tests/e2e/differential/%s.zone", top ? top : TOP_SRCDIR, zones[i].name);
}

static struct zone *load_ours(int i, const char *path)
{
    const uint8_t *origin = zones[i].wire;
    struct diag d;
    diag_init(&d);
    struct zone_load_opts o = {0};
    struct zone *z = zone_load(path, origin, &o, &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    diag_free(&d);
    return z;
}

static ldns_zone *load_ldns(int i, const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ldns_rdf *o = ldns_dname_new_frm_str(zones[i].name);
    ldns_zone *lz = NULL;
    int line = 0;
    ldns_status st = ldns_zone_new_frm_fp_l(&lz, f, o, 3600, LDNS_RR_CLASS_IN, &line);
    fclose(f);
    ldns_rdf_deep_free(o);
    ck_assert_msg(st == LDNS_STATUS_OK, "ldns: %s at line %d", ldns_get_errorstr_by_id(st), line);
    return lz;
}

static size_t record_count(const struct zone *z)
{
    size_t n = 0;
    for (size_t i = 0; i < z->nnodes; i++)
        for (unsigned k = 0; k < z->nodes[i].nrrsets; k++)
            n += z->nodes[i].rrsets[k].count;
    return n;
}

/* Whether the zone holds rr: its owner, type, TTL and rdata bytes. */
static bool holds(const struct zone *z, const ldns_rr *rr, ldns_buffer *buf)
{
    const ldns_rdf *owner = ldns_rr_owner(rr);
    uint8_t name[DNAME_MAX + 1];
    memcpy(name, ldns_rdf_data(owner), ldns_rdf_size(owner));
    dname_lower(name);
    const struct node *n = zone_find_node(z, name, ldns_rdf_size(owner));
    const struct rrset *s = n ? node_rrset(n, ldns_rr_get_type(rr)) : NULL;
    if (!s || s->ttl != ldns_rr_ttl(rr))
        return false;
    ldns_buffer_clear(buf);
    ck_assert_int_eq(ldns_rr_rdata2buffer_wire(buf, rr), LDNS_STATUS_OK);
    const uint8_t *rd = ldns_buffer_begin(buf);
    size_t rdlen = ldns_buffer_position(buf);
    const uint8_t *w = s->wire;
    for (unsigned i = 0; i < s->count; i++) {
        size_t len = (size_t)(w[8] << 8 | w[9]);
        if (len == rdlen && memcmp(w + 10, rd, rdlen) == 0)
            return true;
        w += 10 + len;
    }
    return false;
}

/* Every record ldns read is in the zone, and the zone has no other. */
static void compare(const struct zone *z, const ldns_zone *lz)
{
    ldns_buffer *buf = ldns_buffer_new(65536);
    const ldns_rr_list *rrs = ldns_zone_rrs(lz);
    size_t n = ldns_rr_list_rr_count(rrs), missing = 0;
    for (size_t i = 0; i <= n; i++) {
        const ldns_rr *rr = i < n ? ldns_rr_list_rr(rrs, i) : ldns_zone_soa(lz);
        if (!holds(z, rr, buf)) {
            char *text = ldns_rr2str(rr);
            fprintf(stderr, "# not loaded the same: %s", text);
            free(text);
            missing++;
        }
    }
    ldns_buffer_free(buf);
    ck_assert_uint_eq(missing, 0);
    ck_assert_uint_eq(record_count(z), n + 1);
}

START_TEST(same_both_ways)
{
    char path[512];
    zone_path(_i, path, sizeof(path));
    struct zone *z = load_ours(_i, path);
    ldns_zone *lz = load_ldns(_i, path);
    ck_assert_uint_gt(ldns_rr_list_rr_count(ldns_zone_rrs(lz)), _i == 0 ? 200 : 15);
    compare(z, lz);
    ldns_zone_deep_free(lz);
    zone_release(z);
}
END_TEST

/* The same records once more, from the text ldns prints for them: absolute names, a TTL
 * and class on every line, ldns's own spelling of each type's rdata. */
START_TEST(ldns_presentation_loads_the_same)
{
    char path[512], copy[] = "/tmp/meridian-loaders-XXXXXX";
    zone_path(_i, path, sizeof(path));
    ldns_zone *lz = load_ldns(_i, path);
    int fd = mkstemp(copy);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    ldns_rr_print(f, ldns_zone_soa(lz));
    ldns_rr_list_print(f, ldns_zone_rrs(lz));
    fclose(f);
    struct zone *z = load_ours(_i, copy);
    unlink(copy);
    compare(z, lz);
    ldns_zone_deep_free(lz);
    zone_release(z);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loaders");
    TCase *tc = tcase_create("loaders");
    int n = (int)(sizeof(zones) / sizeof(zones[0]));
    tcase_add_loop_test(tc, same_both_ways, 0, n);
    tcase_add_loop_test(tc, ldns_presentation_loads_the_same, 0, n);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
