/* test_latency.c — latency tables: the CSV format, row order, networks before countries, and
 * the place and wording of every error.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/latency.h"
#include "server/conf.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config with three regions, as conf_load would leave it. */
static char *names[] = {"us-east-1", "eu-west-1", "apac-south"};
static struct conf_region regions[3];
static struct config cfg;

static struct diag d;
static struct latency_table *t;
static char path[] = "/tmp/meridian-latency-XXXXXX";

enum { US, EU, AP };

static void setup(void)
{
    memset(regions, 0, sizeof(regions));
    for (size_t i = 0; i < 3; i++) {
        regions[i].name = names[i];
        regions[i].check = -1;
    }
    cfg = (struct config){.regions = regions, .nregions = 3};
    diag_init(&d);
    t = NULL;
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void teardown(void)
{
    latency_free(t);
    diag_free(&d);
    unlink(path);
    strcpy(path, "/tmp/meridian-latency-XXXXXX");
}

static struct latency_table *load(const char *csv)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(csv, 1, strlen(csv), f), strlen(csv));
    ck_assert_int_eq(fclose(f), 0);
    return latency_load(path, &cfg, &d);
}

static void load_ok(const char *csv)
{
    t = load(csv);
    ck_assert_msg(t != NULL, "expected the table to load, got:\n%s", d.text ? d.text : "");
    ck_assert_uint_eq(d.errors, 0);
}

/* Expects the load to fail with `errors` errors, the message for line `line` containing
 * `text` (line 0: anywhere). */
static void load_fails(const char *csv, unsigned errors, unsigned line, const char *text)
{
    t = load(csv);
    ck_assert_ptr_null(t);
    ck_assert_msg(d.errors == errors, "expected %u errors, got %u:\n%s", errors, d.errors,
                  d.text ? d.text : "");
    char want[600];
    if (line)
        snprintf(want, sizeof(want), "%s:%u: error: %s", path, line, text);
    else
        snprintf(want, sizeof(want), "%s", text);
    ck_assert_msg(strstr(d.text, want), "expected \"%s\" in:\n%s", want, d.text);
}

/* The regions and times found for a client, as "eu-west-1=9 us-east-1=80", and the prefix. */
static const char *find(const char *ip, unsigned bits, const char *country, unsigned *prefix)
{
    static char out[256];
    uint8_t addr[16] = {0};
    int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    ck_assert_int_eq(inet_pton(family, ip, addr), 1);
    const struct latency_row *rows = NULL;
    size_t n = latency_lookup(t, family, addr, bits, country, &rows, prefix);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof(out) - len, "%s%s=%g", i ? " " : "", names[rows[i].region],
                 (double)rows[i].rtt_ms);
    }
    ck_assert(n ? rows != NULL : rows == NULL);
    return out;
}

START_TEST(parses_rows)
{
    load_ok("# measured 2024-05-01\n"
            "key,region,rtt_ms\n"
            "\n"
            "198.51.100.0/24,eu-west-1,12.5\n"
            "  198.51.100.0/24 , us-east-1 , 80 \r\n"
            "GB,eu-west-1,9\n");
    ck_assert_uint_eq(latency_count(t), 3);
    unsigned prefix = 99;
    ck_assert_str_eq(find("198.51.100.7", 32, NULL, &prefix), "eu-west-1=12.5 us-east-1=80");
    ck_assert_uint_eq(prefix, 24);
    ck_assert_str_eq(find("192.0.2.1", 32, "GB", &prefix), "eu-west-1=9");
    ck_assert_uint_eq(prefix, 0);
}
END_TEST

START_TEST(sorted_fastest_first_ties_in_region_order)
{
    load_ok("FR,apac-south,150\n"
            "FR,eu-west-1,7\n"
            "FR,us-east-1,150\n"
            "JP,eu-west-1,220\n"
            "JP,apac-south,60.25\n");
    unsigned prefix;
    ck_assert_str_eq(find("192.0.2.1", 32, "FR", &prefix),
                     "eu-west-1=7 us-east-1=150 apac-south=150");
    ck_assert_str_eq(find("192.0.2.1", 32, "JP", &prefix), "apac-south=60.25 eu-west-1=220");
}
END_TEST

START_TEST(network_beats_country)
{
    load_ok("GB,eu-west-1,9\n"
            "81.2.69.0/24,us-east-1,70\n");
    unsigned prefix;
    ck_assert_str_eq(find("81.2.69.160", 32, "GB", &prefix), "us-east-1=70");
    ck_assert_uint_eq(prefix, 24);
    ck_assert_str_eq(find("81.2.70.1", 32, "GB", &prefix), "eu-west-1=9");
    ck_assert_uint_eq(prefix, 0);
    /* An ECS /16 says too little to pick the /24: the country decides. */
    ck_assert_str_eq(find("81.2.69.0", 16, "GB", &prefix), "eu-west-1=9");
}
END_TEST

START_TEST(longest_prefix_wins)
{
    load_ok("10.0.0.0/8,us-east-1,50\n"
            "10.1.0.0/16,eu-west-1,20\n"
            "10.1.2.0/24,apac-south,5\n");
    unsigned prefix;
    ck_assert_str_eq(find("10.1.2.3", 32, NULL, &prefix), "apac-south=5");
    ck_assert_uint_eq(prefix, 24);
    ck_assert_str_eq(find("10.1.3.3", 32, NULL, &prefix), "eu-west-1=20");
    ck_assert_uint_eq(prefix, 16);
    ck_assert_str_eq(find("10.9.9.9", 32, "", &prefix), "us-east-1=50");
    ck_assert_uint_eq(prefix, 8);
    ck_assert_str_eq(find("11.0.0.1", 32, "ZZ", &prefix), "");
    ck_assert_uint_eq(prefix, 0);
}
END_TEST

START_TEST(ipv6_and_mapped_networks)
{
    load_ok("2001:db8::/32,us-east-1,80\n"
            "2001:db8:1::/48,eu-west-1,10\n"
            "::ffff:192.0.2.0/120,apac-south,33\n"
            "2001:db8:2::1,apac-south,1\n");
    unsigned prefix;
    ck_assert_str_eq(find("2001:db8:1::5", 128, NULL, &prefix), "eu-west-1=10");
    ck_assert_uint_eq(prefix, 48);
    ck_assert_str_eq(find("2001:db8:1::5", 40, NULL, &prefix), "us-east-1=80");
    ck_assert_uint_eq(prefix, 32);
    ck_assert_str_eq(find("2001:db8:2::1", 128, NULL, &prefix), "apac-south=1");
    ck_assert_uint_eq(prefix, 128);
    /* ::ffff:192.0.2.0/120 is kept as 192.0.2.0/24, where callers look mapped clients up. */
    ck_assert_str_eq(find("192.0.2.77", 32, NULL, &prefix), "apac-south=33");
    ck_assert_uint_eq(prefix, 24);
}
END_TEST

START_TEST(empty_file_has_no_rows)
{
    load_ok("");
    unsigned prefix = 9;
    ck_assert_uint_eq(latency_count(t), 0);
    ck_assert_str_eq(find("192.0.2.1", 32, "GB", &prefix), "");
    ck_assert_uint_eq(prefix, 0);
    latency_free(t);
    load_ok("# nothing measured yet\nkey,region,rtt_ms\n\n");
    ck_assert_uint_eq(latency_count(t), 0);
}
END_TEST

START_TEST(byte_order_mark_and_crlf)
{
    load_ok("\xef\xbb\xbfKey,Region,RTT_ms\r\nUS,us-east-1,12\r\n");
    unsigned prefix;
    ck_assert_str_eq(find("192.0.2.1", 32, "US", &prefix), "us-east-1=12");
}
END_TEST

START_TEST(unknown_region_names_the_known_ones)
{
    load_fails("GB,eu-west-1,9\n"
               "GB,eu-west-2,12\n",
               1, 2,
               "unknown region \"eu-west-2\"; known regions: us-east-1, eu-west-1, apac-south");
}
END_TEST

START_TEST(host_bits_say_what_to_write)
{
    load_fails("198.51.100.7/24,eu-west-1,9\n", 1, 1,
               "198.51.100.7/24 has host bits set; write 198.51.100.0/24");
    diag_free(&d);
    load_fails("2001:db8::1/32,eu-west-1,9\n", 1, 1,
               "2001:db8::1/32 has host bits set; write 2001:db8::/32");
}
END_TEST

START_TEST(bad_keys)
{
    load_fails("gb,eu-west-1,9\n"
               "UK,eu-west-1,9\n"
               "QQ,eu-west-1,9\n"
               "10.0.0.0/33,eu-west-1,9\n"
               "10.0.0/8,eu-west-1,9\n"
               ",eu-west-1,9\n"
               "2001:db8::/129,eu-west-1,9\n",
               7, 1, "country codes are upper case: write GB");
    ck_assert(strstr(d.text, ":2: error: UK is not an ISO 3166-1 code: write GB"));
    ck_assert(strstr(d.text, ":3: error: \"QQ\" is not an ISO 3166-1 country code"));
    ck_assert(strstr(d.text, ":4: error: prefix /33 of 10.0.0.0/33 is too long; an IPv4 prefix "
                             "is 0 to 32"));
    ck_assert(strstr(d.text, ":5: error: \"10.0.0/8\" is not a network or country"));
    ck_assert(strstr(d.text, ":6: error: the key is empty"));
    ck_assert(strstr(d.text, ":7: error: prefix /129 of 2001:db8::/129 is too long"));
}
END_TEST

START_TEST(bad_numbers)
{
    load_fails("GB,eu-west-1,-1\n"
               "FR,eu-west-1,fast\n"
               "DE,eu-west-1,1e3\n"
               "ES,eu-west-1,\n"
               "IT,eu-west-1,.\n"
               "NL,eu-west-1,inf\n"
               "BE,eu-west-1,12.5.1\n"
               "PT,eu-west-1,.5\n"
               "IE,eu-west-1,7.\n",
               7, 1, "\"-1\" is not a round-trip time; write milliseconds such as 12 or 12.5");
    for (unsigned line = 2; line <= 7; line++) {
        char want[32];
        snprintf(want, sizeof(want), ":%u: error: \"", line);
        ck_assert_msg(strstr(d.text, want), "no error on line %u:\n%s", line, d.text);
    }
}
END_TEST

START_TEST(wrong_field_count)
{
    load_fails("GB,eu-west-1\n"
               "GB,eu-west-1,9,extra\n"
               "just-text\n",
               3, 1,
               "expected three fields, KEY,REGION,RTT_MS; e.g. 198.51.100.0/24,eu-west-1,12.5");
    ck_assert(strstr(d.text, ":2: error: expected three fields"));
    ck_assert(strstr(d.text, ":3: error: expected three fields"));
}
END_TEST

START_TEST(header_only_first)
{
    load_fails("GB,eu-west-1,9\n"
               "key,region,rtt_ms\n",
               3, 2, "\"key\" is not a network or country");
}
END_TEST

START_TEST(duplicates_name_both_lines)
{
    load_fails("GB,eu-west-1,9\n"
               "10.0.0.0/8,us-east-1,50\n"
               "GB,eu-west-1,10\n"
               "10.0.0.0/8,us-east-1,51\n"
               "::ffff:10.0.0.0/104,us-east-1,52\n"
               "GB,us-east-1,70\n",
               3, 3, "a row for GB and region eu-west-1 is already on line 1; keep one of them");
    ck_assert(strstr(d.text, ":4: error: a row for 10.0.0.0/8 and region us-east-1 is already on "
                             "line 2"));
    ck_assert(strstr(d.text, ":5: error: a row for 10.0.0.0/8 and region us-east-1 is already on "
                             "line 2"));
    /* In line order, as a reader goes through the file. */
    const char *third = strstr(d.text, ":3: error"), *fourth = strstr(d.text, ":4: error");
    ck_assert(third && fourth && third < fourth);
}
END_TEST

START_TEST(every_bad_row_at_once)
{
    load_fails("GB,eu-west-1,9\n"
               "GB,nowhere,9\n"
               "FR,eu-west-1,x\n"
               "1.2.3.4/8,eu-west-1,1\n"
               "US,us-east-1,30\n"
               "GB,eu-west-1,8\n",
               4, 2, "unknown region \"nowhere\"");
    ck_assert(strstr(d.text, ":3: error: \"x\" is not a round-trip time"));
    ck_assert(strstr(d.text, ":4: error: 1.2.3.4/8 has host bits set; write 1.0.0.0/8"));
    ck_assert(strstr(d.text, ":6: error: a row for GB and region eu-west-1 is already on line 1"));
}
END_TEST

START_TEST(missing_file)
{
    t = latency_load("/nonexistent/rtt.csv", &cfg, &d);
    ck_assert_ptr_null(t);
    ck_assert_uint_eq(d.errors, 1);
    ck_assert_str_eq(d.text, "/nonexistent/rtt.csv: error: cannot open the latency table: No such "
                             "file or directory\n");
}
END_TEST

/* A FIFO nobody writes to must fail at once, not wait in open(). */
START_TEST(fifo_is_refused)
{
    ck_assert_int_eq(unlink(path), 0); /* the fixture's file becomes a FIFO */
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    t = latency_load(path, &cfg, &d);
    ck_assert_ptr_null(t);
    ck_assert_uint_eq(d.errors, 1);
    ck_assert_ptr_nonnull(
        strstr(d.text, "cannot open the latency table: it is not a regular file"));
}
END_TEST

START_TEST(no_regions_defined)
{
    cfg.nregions = 0;
    load_fails("GB,eu-west-1,9\n", 1, 1,
               "unknown region \"eu-west-1\"; the config defines no regions");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("latency");
    TCase *tc = tcase_create("latency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parses_rows);
    tcase_add_test(tc, sorted_fastest_first_ties_in_region_order);
    tcase_add_test(tc, network_beats_country);
    tcase_add_test(tc, longest_prefix_wins);
    tcase_add_test(tc, ipv6_and_mapped_networks);
    tcase_add_test(tc, empty_file_has_no_rows);
    tcase_add_test(tc, byte_order_mark_and_crlf);
    tcase_add_test(tc, unknown_region_names_the_known_ones);
    tcase_add_test(tc, host_bits_say_what_to_write);
    tcase_add_test(tc, bad_keys);
    tcase_add_test(tc, bad_numbers);
    tcase_add_test(tc, wrong_field_count);
    tcase_add_test(tc, header_only_first);
    tcase_add_test(tc, duplicates_name_both_lines);
    tcase_add_test(tc, every_bad_row_at_once);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, fifo_is_refused);
    tcase_add_test(tc, no_regions_defined);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
