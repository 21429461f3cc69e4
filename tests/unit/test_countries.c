/* test_countries.c — the built-in ISO 3166-1 table: its shape, spot checks, and a cross-check
 * of every continent and central point against a GeoLite2-City database when one is given.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/countries.h"
#include "lib/compiler.h"
#include "tests/unit/unit.h"

#include <maxminddb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 249 officially assigned ISO 3166-1 alpha-2 codes, plus XK for Kosovo. */
#define EXPECTED_COUNT 250

#define EARTH_KM 6371.0
#define RAD      (M_PI / 180.0)

static double distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double a = sin((lat2 - lat1) * RAD / 2), b = sin((lon2 - lon1) * RAD / 2);
    double h = a * a + cos(lat1 * RAD) * cos(lat2 * RAD) * b * b;
    return 2 * EARTH_KM * asin(sqrt(h < 1 ? h : 1));
}

START_TEST(count_is_exact)
{
    ck_assert_uint_eq(country_count(), EXPECTED_COUNT);
    ck_assert_ptr_null(country_at(EXPECTED_COUNT));
}
END_TEST

START_TEST(codes_are_upper_case_unique_and_sorted)
{
    for (size_t i = 0; i < country_count(); i++) {
        const struct country_info *c = country_at(i);
        ck_assert_uint_eq(strlen(c->code), 2);
        ck_assert_msg(c->code[0] >= 'A' && c->code[0] <= 'Z' && c->code[1] >= 'A' &&
                          c->code[1] <= 'Z',
                      "bad code %s", c->code);
        if (i)
            ck_assert_msg(strcmp(country_at(i - 1)->code, c->code) < 0, "%s after %s", c->code,
                          country_at(i - 1)->code);
        ck_assert_ptr_eq(country_find(c->code), c);
    }
}
END_TEST

START_TEST(continents_and_coordinates_are_valid)
{
    for (size_t i = 0; i < country_count(); i++) {
        const struct country_info *c = country_at(i);
        ck_assert_msg(continent_valid(c->continent), "%s: continent %s", c->code, c->continent);
        ck_assert_msg(c->lat >= -90 && c->lat <= 90, "%s: lat %f", c->code, c->lat);
        ck_assert_msg(c->lon >= -180 && c->lon <= 180, "%s: lon %f", c->code, c->lon);
    }
}
END_TEST

START_TEST(continent_codes)
{
    static const char *const ok[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    for (size_t i = 0; i < ARRAY_LEN(ok); i++)
        ck_assert(continent_valid(ok[i]));
    ck_assert(!continent_valid("eu"));
    ck_assert(!continent_valid("EUR"));
    ck_assert(!continent_valid("E"));
    ck_assert(!continent_valid("ZZ"));
    ck_assert(!continent_valid(""));
    ck_assert(!continent_valid(NULL));
}
END_TEST

static void expect_continent(const char *cc, const char *continent)
{
    const struct country_info *c = country_find(cc);
    ck_assert_msg(c != NULL, "%s missing", cc);
    ck_assert_str_eq(c->continent, continent);
}

START_TEST(spot_checks)
{
    expect_continent("US", "NA");
    expect_continent("GB", "EU");
    expect_continent("JP", "AS");
    expect_continent("AU", "OC");
    expect_continent("BR", "SA");
    expect_continent("ZA", "AF");
    expect_continent("AQ", "AN");
    expect_continent("RU", "EU");
    expect_continent("XK", "EU");
    const struct country_info *de = country_find("DE"), *us = country_find("US");
    ck_assert(fabs(de->lat - 51) <= 3 && fabs(de->lon - 10) <= 3);
    ck_assert(fabs(us->lat - 39) <= 5 && fabs(us->lon + 98) <= 5);
}
END_TEST

START_TEST(lookup_rejects_other_spellings)
{
    ck_assert_ptr_null(country_find("gb"));
    ck_assert_ptr_null(country_find("Gb"));
    ck_assert_ptr_null(country_find("ZZ"));
    ck_assert_ptr_null(country_find("EU"));
    ck_assert_ptr_null(country_find("AP"));
    ck_assert_ptr_null(country_find("GBR"));
    ck_assert_ptr_null(country_find("G"));
    ck_assert_ptr_null(country_find(""));
    ck_assert_ptr_null(country_find(NULL));
}
END_TEST

/* ---- cross-check against GeoLite2-City -------------------------------------------------
 * Walks every IPv4 network of the database (MMDB_read_node, from the node that holds ::/96)
 * and, per country, compares the continent of each record with ours and the address-weighted
 * mean location with our point. */

struct tally {
    char continent[3]; /* the database's, from the first record seen */
    char mismatch[3];  /* a different continent seen later, if any */
    double x, y, z;    /* address-weighted sum of unit vectors */
    unsigned located;  /* networks with a location */
};

struct walk {
    MMDB_s db;
    struct tally by_code[26 * 26];
    char unknown[512]; /* database codes missing from our table */
};

static bool get_string(MMDB_entry_s *e, char *out, size_t cap, const char *a, const char *b)
{
    MMDB_entry_data_s v;
    if (MMDB_get_value(e, &v, a, b, NULL) != MMDB_SUCCESS || !v.has_data ||
        v.type != MMDB_DATA_TYPE_UTF8_STRING || v.data_size >= cap)
        return false;
    memcpy(out, v.utf8_string, v.data_size);
    out[v.data_size] = '\0';
    return true;
}

static bool get_double(MMDB_entry_s *e, double *out, const char *a, const char *b)
{
    MMDB_entry_data_s v;
    if (MMDB_get_value(e, &v, a, b, NULL) != MMDB_SUCCESS || !v.has_data ||
        v.type != MMDB_DATA_TYPE_DOUBLE)
        return false;
    *out = v.double_value;
    return true;
}

static void tally_location(struct tally *t, MMDB_entry_s *e, unsigned depth)
{
    double lat, lon;
    if (!get_double(e, &lat, "location", "latitude") ||
        !get_double(e, &lon, "location", "longitude"))
        return;
    double w = ldexp(1.0, 32 - (int)depth);
    t->x += w * cos(lat * RAD) * cos(lon * RAD);
    t->y += w * cos(lat * RAD) * sin(lon * RAD);
    t->z += w * sin(lat * RAD);
    t->located++;
}

static void tally_record(struct walk *w, MMDB_entry_s *e, unsigned depth)
{
    char cc[4], continent[4];
    if (!get_string(e, cc, sizeof(cc), "country", "iso_code") ||
        !get_string(e, continent, sizeof(continent), "continent", "code"))
        return;
    if (!country_find(cc)) {
        if (!strstr(w->unknown, cc) && strlen(w->unknown) + 4 < sizeof(w->unknown))
            strcat(strcat(w->unknown, " "), cc);
        return;
    }
    struct tally *t = &w->by_code[(cc[0] - 'A') * 26 + (cc[1] - 'A')];
    if (!t->continent[0])
        strcpy(t->continent, continent);
    else if (strcmp(t->continent, continent))
        strcpy(t->mismatch, continent);
    tally_location(t, e, depth);
}

static void walk_node(struct walk *w, uint64_t node, unsigned depth);

static void walk_record(struct walk *w, uint8_t type, uint64_t record, MMDB_entry_s *e,
                        unsigned depth)
{
    if (type == MMDB_RECORD_TYPE_SEARCH_NODE)
        walk_node(w, record, depth);
    else if (type == MMDB_RECORD_TYPE_DATA)
        tally_record(w, e, depth);
}

static void walk_node(struct walk *w, uint64_t node, unsigned depth)
{
    MMDB_search_node_s n;
    ck_assert_int_eq(MMDB_read_node(&w->db, (uint32_t)node, &n), MMDB_SUCCESS);
    walk_record(w, n.left_record_type, n.left_record, &n.left_record_entry, depth + 1);
    walk_record(w, n.right_record_type, n.right_record, &n.right_record_entry, depth + 1);
}

/* In an IPv6 database IPv4 lives under ::/96: 96 steps to the left from the root. */
static uint64_t ipv4_root(const MMDB_s *db)
{
    uint64_t node = 0;
    for (unsigned i = 0; db->metadata.ip_version == 6 && i < 96; i++) {
        MMDB_search_node_s n;
        ck_assert_int_eq(MMDB_read_node(db, (uint32_t)node, &n), MMDB_SUCCESS);
        ck_assert_int_eq(n.left_record_type, MMDB_RECORD_TYPE_SEARCH_NODE);
        node = n.left_record;
    }
    return node;
}

/* Countries so large that the mean of their addresses sits far from any one central point. */
static double limit_km(const char *cc)
{
    static const char big[] = "US RU CA BR AU CN";
    return strstr(big, cc) ? 3000 : 2500;
}

static void check_country(const struct country_info *c, const struct tally *t, char *problems,
                          size_t cap)
{
    size_t len = strlen(problems);
    if (t->continent[0] && (strcmp(t->continent, c->continent) || t->mismatch[0]))
        snprintf(problems + len, cap - len, "%s: ours %s, database %s%s%s\n", c->code, c->continent,
                 t->continent, t->mismatch[0] ? " and " : "", t->mismatch);
    if (t->located < 20)
        return;
    double lat = atan2(t->z, hypot(t->x, t->y)) / RAD, lon = atan2(t->y, t->x) / RAD;
    double km = distance_km(c->lat, c->lon, lat, lon);
    len = strlen(problems);
    if (km > limit_km(c->code))
        snprintf(problems + len, cap - len,
                 "%s: ours %.1f,%.1f, database mean %.1f,%.1f (%.0f km)\n", c->code, c->lat, c->lon,
                 lat, lon, km);
}

START_TEST(geolite2_cross_check)
{
    const char *path = getenv("MERIDIAN_GEOLITE2_CITY");
    struct walk *w = calloc(1, sizeof(*w));
    ck_assert_ptr_nonnull(w);
    ck_assert_msg(MMDB_open(path, MMDB_MODE_MMAP, &w->db) == MMDB_SUCCESS, "cannot open %s", path);
    walk_node(w, ipv4_root(&w->db), 0);
    static char problems[16384];
    unsigned seen = 0;
    for (size_t i = 0; i < country_count(); i++) {
        const struct country_info *c = country_at(i);
        const struct tally *t = &w->by_code[(c->code[0] - 'A') * 26 + (c->code[1] - 'A')];
        seen += t->continent[0] != '\0';
        check_country(c, t, problems, sizeof(problems));
    }
    MMDB_close(&w->db);
    printf("# geolite2 cross-check: %u countries seen%s%s\n", seen,
           w->unknown[0] ? ", not in our table:" : "", w->unknown);
    fflush(stdout);
    ck_assert_msg(!problems[0] && !w->unknown[0], "%s", problems);
    free(w);
}
END_TEST

static Suite *suite(bool with_geolite2)
{
    Suite *s = suite_create("countries");
    TCase *tc = tcase_create("countries");
    tcase_add_test(tc, count_is_exact);
    tcase_add_test(tc, codes_are_upper_case_unique_and_sorted);
    tcase_add_test(tc, continents_and_coordinates_are_valid);
    tcase_add_test(tc, continent_codes);
    tcase_add_test(tc, spot_checks);
    tcase_add_test(tc, lookup_rejects_other_spellings);
    if (with_geolite2) {
        tcase_add_test(tc, geolite2_cross_check);
        tcase_set_timeout(tc, 300); /* walks millions of networks, slower under sanitizers */
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *db = getenv("MERIDIAN_GEOLITE2_CITY");
    bool with_geolite2 = db && *db;
    /* check cannot mark a case as skipped, so leave it out and say so in TAP. */
    if (!with_geolite2)
        printf("# SKIP geolite2 cross-check: MERIDIAN_GEOLITE2_CITY not set\n");
    fflush(stdout);
    return unit_run(suite(with_geolite2));
}
