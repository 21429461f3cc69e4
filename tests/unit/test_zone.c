/* test_zone.c — master-file loading and the zone rules: syntax, directives, every common
 * type, errors with file:line, and the database's structure (nodes, cuts, wildcards).
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

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/meridian-zone-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static int known_service(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "web") == 0 ? 3 : -1;
}

static struct zone *load(const char *text, struct diag *d)
{
    const char *path = write_file("example.com.zone", text);
    struct zone_load_opts o = {.resolve_service = known_service};
    diag_init(d);
    return zone_load(path, (const uint8_t *)"\7example\3com", &o, d);
}

static const struct node *find(const struct zone *z, const char *name)
{
    uint8_t n[DNAME_MAX + 1];
    const char *why;
    int len = dname_from_text(name, strlen(name), NULL, n, &why);
    ck_assert_int_gt(len, 0);
    dname_lower(n);
    return zone_find_node(z, n, (size_t)len);
}

#define HEAD                                                                                       \
    "$ORIGIN example.com.\n$TTL 300\n"                                                             \
    "@ IN SOA ns1 hostmaster ( 2024010101 ; serial\n 7200 3600 1209600 60 )\n"                     \
    "@ NS ns1\n@ NS ns2.example.net.\nns1 A 192.0.2.53\n"

/* Asserts that loading fails and that the messages contain want. */
static void expect_error(const char *text, const char *want)
{
    struct diag d;
    struct zone *z = load(text, &d);
    ck_assert_msg(z == NULL, "zone loaded but should fail with: %s", want);
    ck_assert_msg(d.text && strstr(d.text, want), "want \"%s\" in: %s", want,
                  d.text ? d.text : "(nothing)");
    diag_free(&d);
}

START_TEST(loads_common_types)
{
    struct diag d;
    struct zone *z = load(
        HEAD
        "www 60 IN A 192.0.2.1\n"
        "www AAAA 2001:db8::1\n"
        "mail MX 10 mx1\n"
        "txt TXT \"hello world\" \"second\"\n"
        "_sip._tcp SRV 10 20 5060 sip\n"
        "caa CAA 0 issue \"ca.example.net\"\n"
        "naptr NAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:a@b!\" .\n"
        "sub DS 12345 13 2 "
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
        "sub NS ns.sub\nns.sub A 192.0.2.99\n"
        "@ DNSKEY 257 3 13 "
        "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
        "ssh SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789a\n"
        "_443._tcp TLSA 3 1 1 "
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
        "svc HTTPS 1 . alpn=h2,h3\n"
        "svc2 SVCB 1 svc port=8443\n"
        "ptr PTR www\n"
        "unk TYPE65534 \\# 4 0A000001\n"
        "cname CNAME www\n",
        &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    ck_assert_uint_eq(z->serial, 2024010101);
    ck_assert_uint_eq(z->neg_ttl, 60); /* min(SOA TTL 300, MINIMUM 60) */
    const struct node *www = find(z, "www.example.com.");
    ck_assert_ptr_nonnull(www);
    const struct rrset *a = node_rrset(www, 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->ttl, 60);
    ck_assert_mem_eq(a->wire + 10, "\xC0\x00\x02\x01", 4);
    ck_assert_ptr_nonnull(node_rrset(find(z, "unk.example.com."), 65534));
    ck_assert_ptr_nonnull(node_rrset(find(z, "svc.example.com."), 65));
    ck_assert_ptr_nonnull(node_rrset(find(z, "svc2.example.com."), 64));
    ck_assert_ptr_nonnull(node_rrset(find(z, "naptr.example.com."), 35));
    ck_assert_ptr_nonnull(node_rrset(find(z, "_443._tcp.example.com."), 52));
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(generic_rdata_for_known_type)
{
    struct diag d;
    struct zone *z = load(HEAD "g A \\# 4 C0000202\n", &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    const struct rrset *a = node_rrset(find(z, "g.example.com."), 1);
    ck_assert_mem_eq(a->wire + 10, "\xC0\x00\x02\x02", 4);
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(owner_ttl_class_defaults)
{
    struct diag d;
    struct zone *z = load(HEAD "x 120 A 192.0.2.1\n"
                               "  A 192.0.2.2\n"       /* owner from the line before */
                               "y IN 90 A 192.0.2.3\n" /* class before TTL */
                               "z A 192.0.2.4\n",      /* $TTL */
                          &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    ck_assert_uint_eq(node_rrset(find(z, "x.example.com."), 1)->count, 2);
    ck_assert_uint_eq(node_rrset(find(z, "y.example.com."), 1)->ttl, 90);
    ck_assert_uint_eq(node_rrset(find(z, "z.example.com."), 1)->ttl, 300);
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(ttl_units)
{
    struct diag d;
    struct zone *z = load(HEAD "u 1h30m A 192.0.2.1\nv 1w A 192.0.2.1\n", &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    ck_assert_uint_eq(node_rrset(find(z, "u.example.com."), 1)->ttl, 5400);
    ck_assert_uint_eq(node_rrset(find(z, "v.example.com."), 1)->ttl, 604800);
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(include_with_origin)
{
    write_file("hosts.inc", "a A 192.0.2.10\nb A 192.0.2.11\n");
    struct diag d;
    struct zone *z = load(HEAD "$INCLUDE hosts.inc lab.example.com.\n"
                               "after A 192.0.2.12\n",
                          &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    ck_assert_ptr_nonnull(find(z, "a.lab.example.com."));
    ck_assert_ptr_nonnull(find(z, "b.lab.example.com."));
    /* RFC 1035 §5.1: the origin returns to the including file's */
    ck_assert_ptr_nonnull(find(z, "after.example.com."));
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(include_loop_is_bounded)
{
    write_file("self.inc", "$INCLUDE self.inc\n");
    expect_error(HEAD "$INCLUDE self.inc\n", "an include loop");
}
END_TEST

START_TEST(empty_non_terminals_and_wildcards)
{
    struct diag d;
    struct zone *z = load(HEAD "a.b.c A 192.0.2.1\n*.w TXT \"wild\"\n", &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    const struct node *bc = find(z, "b.c.example.com.");
    ck_assert_ptr_nonnull(bc);
    ck_assert_uint_eq(bc->nrrsets, 0);
    ck_assert_ptr_nonnull(find(z, "c.example.com."));
    const struct node *w = find(z, "w.example.com.");
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_eq(node_wildcard(z, w), find(z, "*.w.example.com."));
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(delegation_structure)
{
    struct diag d;
    struct zone *z = load(HEAD "sub NS ns.sub\nns.sub A 192.0.2.99\ndeep.x.sub A 192.0.2.98\n"
                               "mx MX 5 ns1\n",
                          &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    const struct node *sub = find(z, "sub.example.com.");
    ck_assert(sub->flags & NODE_CUT);
    ck_assert(!(z->apex->flags & NODE_CUT));
    ck_assert_ptr_eq(node_stop(z, find(z, "ns.sub.example.com.")), sub);
    ck_assert_ptr_eq(node_stop(z, find(z, "deep.x.sub.example.com.")), sub);
    ck_assert_ptr_null(node_stop(z, sub));
    const struct rrset *ns = node_rrset(sub, 2);
    ck_assert_ptr_eq(rrset_targets(ns)[0], find(z, "ns.sub.example.com."));
    const struct rrset *mx = node_rrset(find(z, "mx.example.com."), 15);
    ck_assert_ptr_eq(rrset_targets(mx)[0], find(z, "ns1.example.com."));
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(duplicates_dropped)
{
    struct diag d;
    struct zone *z = load(HEAD "d A 192.0.2.1\nd A 192.0.2.1\nd A 192.0.2.2\n", &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    ck_assert_uint_eq(node_rrset(find(z, "d.example.com."), 1)->count, 2);
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(dynamic_records)
{
    struct diag d;
    struct zone *z = load(HEAD "www 30 DYNA web\nwww TXT \"ok\"\ncdn DYNC web\n", &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    const struct node *www = find(z, "www.example.com.");
    ck_assert(www->flags & NODE_DYNA);
    ck_assert_uint_eq(www->dyn_service, 3);
    ck_assert_uint_eq(www->dyn_ttl, 30);
    ck_assert_uint_eq(www->nrrsets, 1); /* the TXT */
    ck_assert(find(z, "cdn.example.com.")->flags & NODE_DYNC);
    diag_free(&d);
    zone_release(z);
}
END_TEST

START_TEST(error_bad_address_names_line)
{
    expect_error(HEAD "ok A 192.0.2.1\nbad A 192.0.2.300\n", "example.com.zone:9: error: bad A");
}
END_TEST

START_TEST(error_unknown_type)
{
    expect_error(HEAD "x FOO 1\n", ":8: error: unknown record type FOO");
}
END_TEST

START_TEST(error_out_of_zone)
{
    expect_error(HEAD "www.example.org. A 192.0.2.1\n", ":8: error: www.example.org. is outside");
}
END_TEST

START_TEST(error_cname_and_other_data)
{
    expect_error(HEAD "c CNAME www\nc TXT \"x\"\n", "CNAME and other data");
    expect_error(HEAD "c CNAME www\nc CNAME www2\n", "2 CNAME records");
}
END_TEST

START_TEST(error_missing_soa_and_ns)
{
    expect_error("$ORIGIN example.com.\n@ 300 NS ns1\n", "exactly one SOA");
    expect_error("$ORIGIN example.com.\n@ 300 SOA ns1 h 1 2 3 4 5\n", "no NS records");
}
END_TEST

START_TEST(error_dynamic_rules)
{
    expect_error(HEAD "www DYNA web\nwww A 192.0.2.1\n", "DYNA and static A/AAAA");
    expect_error(HEAD "cdn DYNC web\ncdn TXT \"x\"\n", "a DYNC name may carry nothing else");
    expect_error(HEAD "www DYNA nosuch\n", ":8: error: DYNA names service \"nosuch\"");
    expect_error(HEAD "www DYNA\n", "DYNA takes one service name");
}
END_TEST

START_TEST(error_syntax)
{
    expect_error(HEAD "x TXT ( \"a\"\n", "'(' is never closed");
    expect_error(HEAD "x TXT \"abc\n", "unterminated quoted string");
    expect_error(HEAD "$GENERATE 1-2 a$ A 1.2.3.4\n", "unknown directive $GENERATE");
    expect_error(HEAD "x CH TXT \"a\"\n", "class CH is not served");
    expect_error(HEAD "sub SOA ns1 h 1 2 3 4 5\n", "not the zone's apex");
    expect_error(HEAD "x OPT \\# 0\n", "unknown record type OPT");
    /* ldns's own parser would leak the fields it copied (the ASan build would say so) */
    expect_error(HEAD "x IPSECKEY 0 6 IN A 192.0.2.1 extra\n", "bad IPSECKEY record");
    /* ... and the 2 bytes of a CERT type it read as 0 */
    expect_error(HEAD "x CERT 0 5 443 www\n", "bad CERT record");
    expect_error(HEAD "x CERT 65536 5 8 d3d3\n", "bad CERT record");
}
END_TEST

/* An rdata error names the field and says what it must be, rather than ldns's words. */
START_TEST(error_names_the_field)
{
    expect_error(HEAD "x A 192.0.2.300\n",
                 "bad A record: field 1 \"192.0.2.300\" is not an IPv4 address");
    expect_error(HEAD "x AAAA 2001:db8::g\n", "field 1 \"2001:db8::g\" is not an IPv6 address");
    expect_error(HEAD "x SRV 1 2 http t\n", "field 3 \"http\" is not a number from 0 to 65535");
    expect_error(HEAD "x MX 10\n", "bad MX record: takes 2 fields, not 1");
    /* ldns would cut these to 16 and 8 bits and load 4464, 65535 and 0 */
    expect_error(HEAD "x MX 70000 mail\n", "field 1 \"70000\" is not a number from 0 to 65535");
    expect_error(HEAD "x MX -1 mail\n", "field 1 \"-1\" is not a number from 0 to 65535");
    expect_error(HEAD "x CAA 256 issue \"ca.example.net\"\n",
                 "field 1 \"256\" is not a number from 0 to 255");
}
END_TEST

/* RFC 3597 §5: generic rdata of a known type must be that type's wire form; the answer
 * code reads these as names and numbers. */
START_TEST(error_generic_rdata)
{
    expect_error(HEAD "x MX \\# 0\n", "bad MX record");
    expect_error(HEAD "x MX \\# 2 000a\n", "bad MX record");             /* no name */
    expect_error(HEAD "x SRV \\# 7 00010002003501\n", "bad SRV record"); /* no root */
    expect_error(HEAD "x CNAME \\# 2 0161\n", "bad CNAME record");       /* no root */
    expect_error(HEAD "x SOA \\# 4 00000000\n", "bad SOA record");
    expect_error(HEAD "x DNAME \\# 2 0161\n", "bad DNAME record");
    /* the same types in a well-formed generic form load */
    struct diag d;
    diag_init(&d);
    struct zone *z = load(HEAD "x MX \\# 3 000a00\ny SRV \\# 7 00010002003500\n", &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    zone_release(z);
    diag_free(&d);
}
END_TEST

START_TEST(error_missing_file)
{
    struct diag d;
    diag_init(&d);
    struct zone_load_opts o = {0};
    struct zone *z = zone_load("/nonexistent/zone", (const uint8_t *)"\7example\3com", &o, &d);
    ck_assert_ptr_null(z);
    ck_assert_ptr_nonnull(strstr(d.text, "/nonexistent/zone: error: cannot read"));
    diag_free(&d);
}
END_TEST

START_TEST(all_errors_reported_at_once)
{
    struct diag d;
    struct zone *z = load(HEAD "a A 1.2.3\nb AAAA zz\nc FOO 1\n", &d);
    ck_assert_ptr_null(z);
    ck_assert_uint_eq(d.errors, 3);
    diag_free(&d);
}
END_TEST

START_TEST(record_limit)
{
    struct diag d;
    const char *path = write_file("limit.zone", HEAD "a A 192.0.2.1\nb A 192.0.2.2\n");
    struct zone_load_opts o = {.max_records = 5};
    diag_init(&d);
    struct zone *z = zone_load(path, (const uint8_t *)"\7example\3com", &o, &d);
    ck_assert_ptr_null(z);
    ck_assert_ptr_nonnull(strstr(d.text, "more than 5 records"));
    diag_free(&d);
}
END_TEST

/* A long TXT record is served whole or refused with its line, never cut short: ldns reads
 * only so much of a record's text and drops the rest without a word. */
START_TEST(long_txt_whole_or_refused)
{
    size_t cap = 300 * 260 + 512;
    char *text = malloc(cap), *strings = malloc(cap);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strings);
    size_t k = 0;
    for (int i = 0; i < 250; i++) {
        strings[k++] = '"';
        memset(strings + k, 'a' + i % 26, 255);
        k += 255;
        strings[k++] = '"';
        strings[k++] = ' ';
    }
    strings[k] = '\0';
    snprintf(text, cap, HEAD "big TXT %s\n", strings);
    struct diag d;
    struct zone *z = load(text, &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    const struct rrset *t = node_rrset(find(z, "big.example.com."), 16);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(((unsigned)t->wire[8] << 8) | t->wire[9], 250 * 256); /* RDLENGTH */
    ck_assert_uint_eq(t->wire[10 + 249 * 256], 255);
    ck_assert_uint_eq(t->wire[10 + 249 * 256 + 1], 'a' + 249 % 26);
    diag_free(&d);
    zone_release(z);

    /* 260 strings of 255: 66,560 bytes, more than a record holds. */
    for (int i = 250; i < 260; i++) {
        strings[k++] = '"';
        memset(strings + k, 'z', 255);
        k += 255;
        strings[k++] = '"';
        strings[k++] = ' ';
    }
    strings[k] = '\0';
    snprintf(text, cap, HEAD "big TXT %s\n", strings);
    expect_error(text, "example.com.zone:8: error: TXT record too long");
    free(text);
    free(strings);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("zone");
    TCase *tc = tcase_create("zone");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, loads_common_types);
    tcase_add_test(tc, generic_rdata_for_known_type);
    tcase_add_test(tc, owner_ttl_class_defaults);
    tcase_add_test(tc, ttl_units);
    tcase_add_test(tc, include_with_origin);
    tcase_add_test(tc, include_loop_is_bounded);
    tcase_add_test(tc, empty_non_terminals_and_wildcards);
    tcase_add_test(tc, delegation_structure);
    tcase_add_test(tc, duplicates_dropped);
    tcase_add_test(tc, dynamic_records);
    tcase_add_test(tc, error_bad_address_names_line);
    tcase_add_test(tc, error_unknown_type);
    tcase_add_test(tc, error_out_of_zone);
    tcase_add_test(tc, error_cname_and_other_data);
    tcase_add_test(tc, error_missing_soa_and_ns);
    tcase_add_test(tc, error_dynamic_rules);
    tcase_add_test(tc, error_syntax);
    tcase_add_test(tc, error_generic_rdata);
    tcase_add_test(tc, error_names_the_field);
    tcase_add_test(tc, error_missing_file);
    tcase_add_test(tc, all_errors_reported_at_once);
    tcase_add_test(tc, record_limit);
    tcase_add_test(tc, long_txt_whole_or_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
