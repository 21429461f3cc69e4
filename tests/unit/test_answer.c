/* test_answer.c — the answer algorithm end to end in memory: queries built with ldns,
 * answered from a loaded zone, responses parsed back and compared section by section.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "tests/unit/unit.h"
#include "zones/answer.h"
#include "zones/dname.h"
#include "zones/zonedb.h"
#include "zones/zonefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

static const char zone_text[] =
    "$ORIGIN example.com.\n"
    "$TTL 3600\n"
    "@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "@ NS ns2.example.net.\n"
    "@ MX 10 mail\n"
    "ns1 A 192.0.2.53\n"
    "www 60 A 192.0.2.1\n"
    "www 60 A 192.0.2.2\n"
    "www AAAA 2001:db8::1\n"
    "mail A 192.0.2.25\n"
    "c1 CNAME c2\n"
    "c2 CNAME www\n"
    "out CNAME www.example.net.\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "r1 CNAME r2\n"
    "r2 CNAME r3\n"
    "r3 CNAME R1\n"
    "me DNAME me\n"
    "dangling CNAME nothere\n"
    "a.b.c TXT \"deep\"\n"
    "*.w TXT \"wild\"\n"
    "*.w MX 5 mail\n"
    "exists.w A 192.0.2.7\n"
    "*.cw CNAME www\n"
    "sub NS ns.sub\n"
    "sub NS ns.elsewhere.net.\n"
    "ns.sub A 192.0.2.99\n"
    "signed NS ns.signed\n"
    "signed DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
    "ns.signed A 192.0.2.98\n"
    "dn DNAME target\n"
    "x.target A 192.0.2.77\n"
    "srv._tcp SRV 0 5 443 www\n"
    "cname-deleg CNAME host.sub\n"
    "cname-big CNAME big\n"
    "upper CNAME WwW\n"
    "upper-ptr PTR Mail.Example.COM.\n"
    "upper-srv SRV 0 0 1 WwW.Example.COM.\n"
    "big TXT \"" /* about 1300 bytes in ten strings */
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaa\"\n";

static struct zonedb *db;
static struct answer_env env;

static void load_db(void)
{
    char path[] = "/tmp/meridian-answer-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, zone_text, strlen(zone_text)), (ssize_t)strlen(zone_text));
    close(fd);
    struct diag d;
    diag_init(&d);
    struct zone_load_opts o = {0};
    struct zone *z = zone_load(path, (const uint8_t *)"\7example\3com", &o, &d);
    unlink(path);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    diag_free(&d);
    db = zonedb_new(&z, 1);
    zone_release(z); /* the database holds it now */
    env.db = db;
    env.udp_payload = 1232;
    env.ecs = true;
}

static void free_db(void)
{
    zonedb_free(db);
}

struct ask {
    bool edns, do_bit, tcp;
    uint16_t udp;
    uint8_t version;
    const uint8_t *options; /* raw EDNS options */
    size_t optlen;
};

static ldns_pkt *ask_raw(const uint8_t *wire, size_t len, bool tcp, size_t *outlen)
{
    static uint8_t out[ANSWER_TCP_MAX];
    struct answer_info info;
    struct answer_client client = {.tcp = tcp};
    *outlen = answer_query(&env, wire, len, out, &client, &info);
    if (*outlen == 0)
        return NULL;
    ldns_pkt *p = NULL;
    ck_assert_int_eq(ldns_wire2pkt(&p, out, *outlen), LDNS_STATUS_OK);
    return p;
}

static ldns_pkt *ask_with(const char *name, ldns_rr_type type, const struct ask *a)
{
    ldns_pkt *q = NULL;
    ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
                     LDNS_STATUS_OK);
    ldns_pkt_set_id(q, 4242);
    if (a->edns) {
        ldns_pkt_set_edns_udp_size(q, a->udp ? a->udp : 4096);
        ldns_pkt_set_edns_do(q, a->do_bit);
        ldns_pkt_set_edns_version(q, a->version);
        if (a->optlen)
            ldns_pkt_set_edns_data(
                q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, a->optlen, a->options));
    }
    uint8_t *wire;
    size_t len, outlen;
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    ldns_pkt *r = ask_raw(wire, len, a->tcp, &outlen);
    free(wire);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(ldns_pkt_id(r), 4242);
    ck_assert(ldns_pkt_qr(r));
    return r;
}

static ldns_pkt *ask(const char *name, ldns_rr_type type)
{
    struct ask a = {.edns = true};
    return ask_with(name, type, &a);
}

/* The section as "owner ttl type rdata" lines, in order. */
static char *section(const ldns_pkt *p, ldns_pkt_section s)
{
    static char buf[8192];
    ldns_rr_list *l = ldns_pkt_get_section_clone(p, s);
    buf[0] = '\0';
    for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
        ldns_rr *rr = ldns_rr_list_rr(l, i);
        char *owner = ldns_rdf2str(ldns_rr_owner(rr));
        char *type = ldns_rr_type2str(ldns_rr_get_type(rr));
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof(buf) - n, "%s%s %u %s", n ? "\n" : "", owner, ldns_rr_ttl(rr),
                 type);
        for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
            char *rd = ldns_rdf2str(ldns_rr_rdf(rr, k));
            n = strlen(buf);
            snprintf(buf + n, sizeof(buf) - n, " %s", rd);
            free(rd);
        }
        free(owner);
        free(type);
    }
    ldns_rr_list_deep_free(l);
    return buf;
}

#define ck_section(p, s, want) ck_assert_str_eq(section(p, s), want)
#define ANS                    LDNS_SECTION_ANSWER
#define AUTH                   LDNS_SECTION_AUTHORITY
#define ADD                    LDNS_SECTION_ADDITIONAL
#define SOA_NEG                                                                                    \
    "example.com. 300 SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 "  \
    "300"

START_TEST(exact_match)
{
    ldns_pkt *r = ask("www.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_assert(ldns_pkt_aa(r));
    ck_assert(ldns_pkt_rd(r));
    ck_assert(!ldns_pkt_tc(r));
    ck_section(r, ANS, "www.example.com. 60 A 192.0.2.1\nwww.example.com. 60 A 192.0.2.2");
    ck_section(r, AUTH, "");
    ldns_pkt_free(r);
}
END_TEST

START_TEST(case_preserved)
{
    ldns_pkt *r = ask("WwW.ExAmPlE.CoM.", LDNS_RR_TYPE_AAAA);
    ck_section(r, ANS, "WwW.ExAmPlE.CoM. 3600 AAAA 2001:db8::1");
    char *q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
    ck_assert_str_eq(q, "WwW.ExAmPlE.CoM.");
    free(q);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(nxdomain_with_soa)
{
    ldns_pkt *r = ask("nope.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    ck_assert(ldns_pkt_aa(r));
    ck_section(r, ANS, "");
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(nodata_with_soa)
{
    ldns_pkt *r = ask("www.example.com.", LDNS_RR_TYPE_MX);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, ANS, "");
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(empty_non_terminal_is_nodata)
{
    ldns_pkt *r = ask("b.c.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(cname_chain_in_zone)
{
    ldns_pkt *r = ask("c1.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, ANS,
               "c1.example.com. 3600 CNAME c2.example.com.\n"
               "c2.example.com. 3600 CNAME www.example.com.\n"
               "www.example.com. 60 A 192.0.2.1\nwww.example.com. 60 A 192.0.2.2");
    ldns_pkt_free(r);
    r = ask("c1.example.com.", LDNS_RR_TYPE_CNAME);
    ck_section(r, ANS, "c1.example.com. 3600 CNAME c2.example.com.");
    ldns_pkt_free(r);
}
END_TEST

START_TEST(cname_out_of_zone_and_dangling)
{
    ldns_pkt *r = ask("out.example.com.", LDNS_RR_TYPE_A);
    ck_section(r, ANS, "out.example.com. 3600 CNAME www.example.net.");
    ck_section(r, AUTH, "");
    ldns_pkt_free(r);
    r = ask("dangling.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN); /* RFC 6604 */
    ck_section(r, ANS, "dangling.example.com. 3600 CNAME nothere.example.com.");
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
}
END_TEST

/* A loop ends where a name repeats (matched without regard to case): each RRset once. */
START_TEST(cname_loop_bounded)
{
    ldns_pkt *r = ask("loop1.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, ANS,
               "loop1.example.com. 3600 CNAME loop2.example.com.\n"
               "loop2.example.com. 3600 CNAME loop1.example.com.");
    ldns_pkt_free(r);
    r = ask("R2.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, ANS,
               "R2.example.com. 3600 CNAME r3.example.com.\n"
               "r3.example.com. 3600 CNAME R1.example.com.\n"
               /* the zone's spelling: compression only points at equal bytes (RFC 4343) */
               "R1.example.com. 3600 CNAME r2.example.com.");
    ldns_pkt_free(r);
    r = ask("x.me.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, ANS,
               "me.example.com. 3600 DNAME me.example.com.\n"
               "x.me.example.com. 3600 CNAME x.me.example.com.");
    ldns_pkt_free(r);
}
END_TEST

START_TEST(wildcards)
{
    ldns_pkt *r = ask("anything.w.example.com.", LDNS_RR_TYPE_TXT);
    ck_assert(ldns_pkt_aa(r));
    ck_section(r, ANS, "anything.w.example.com. 3600 TXT \"wild\"");
    ldns_pkt_free(r);
    r = ask("a.b.w.example.com.", LDNS_RR_TYPE_MX);
    ck_section(r, ANS, "a.b.w.example.com. 3600 MX 5 mail.example.com.");
    ck_section(r, ADD, "mail.example.com. 3600 A 192.0.2.25");
    ldns_pkt_free(r);
    /* an existing name is not covered by the wildcard (RFC 4592 §2.2.1) */
    r = ask("exists.w.example.com.", LDNS_RR_TYPE_TXT);
    ck_section(r, ANS, "");
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
    r = ask("anything.w.example.com.", LDNS_RR_TYPE_A); /* wildcard NODATA */
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
    r = ask("q.cw.example.com.", LDNS_RR_TYPE_A); /* wildcard CNAME, followed */
    ck_section(r, ANS,
               "q.cw.example.com. 3600 CNAME www.example.com.\n"
               "www.example.com. 60 A 192.0.2.1\nwww.example.com. 60 A 192.0.2.2");
    ldns_pkt_free(r);
}
END_TEST

START_TEST(referral_with_glue)
{
    ldns_pkt *r = ask("host.deep.sub.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_assert(!ldns_pkt_aa(r));
    ck_section(r, ANS, "");
    ck_section(
        r, AUTH,
        "sub.example.com. 3600 NS ns.elsewhere.net.\nsub.example.com. 3600 NS ns.sub.example.com.");
    ck_section(r, ADD, "ns.sub.example.com. 3600 A 192.0.2.99");
    ldns_pkt_free(r);
    r = ask("sub.example.com.", LDNS_RR_TYPE_NS); /* at the cut itself: still a referral */
    ck_assert(!ldns_pkt_aa(r));
    ck_section(r, ANS, "");
    ldns_pkt_free(r);
    r = ask("ns.sub.example.com.", LDNS_RR_TYPE_A); /* glue is not answered from */
    ck_assert(!ldns_pkt_aa(r));
    ck_section(r, ANS, "");
    ldns_pkt_free(r);
}
END_TEST

START_TEST(ds_at_cut_is_authoritative)
{
    ldns_pkt *r = ask("signed.example.com.", LDNS_RR_TYPE_DS);
    ck_assert(ldns_pkt_aa(r));
    ck_assert_int_eq(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
    r = ask("sub.example.com.", LDNS_RR_TYPE_DS);
    ck_assert(ldns_pkt_aa(r));
    ck_section(r, ANS, "");
    ck_section(r, AUTH, SOA_NEG);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(dname_substitution)
{
    ldns_pkt *r = ask("x.dn.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_section(r, ANS,
               "dn.example.com. 3600 DNAME target.example.com.\n"
               "x.dn.example.com. 3600 CNAME x.target.example.com.\n"
               "x.target.example.com. 3600 A 192.0.2.77");
    ldns_pkt_free(r);
    r = ask("dn.example.com.", LDNS_RR_TYPE_DNAME); /* the owner itself is ordinary */
    ck_section(r, ANS, "dn.example.com. 3600 DNAME target.example.com.");
    ldns_pkt_free(r);
    r = ask("y.dn.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(dname_yxdomain)
{
    char name[300] = "";
    for (int i = 0; i < 3; i++)
        strcat(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(name, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.dn.example.com.");
    ldns_pkt *r = ask(name, LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_YXDOMAIN);
    ck_assert_int_eq(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(additional_for_mx_and_srv)
{
    ldns_pkt *r = ask("example.com.", LDNS_RR_TYPE_MX);
    ck_section(r, ANS, "example.com. 3600 MX 10 mail.example.com.");
    ck_section(r, ADD, "mail.example.com. 3600 A 192.0.2.25");
    ldns_pkt_free(r);
    r = ask("srv._tcp.example.com.", LDNS_RR_TYPE_SRV);
    ck_section(r, ADD,
               "www.example.com. 60 A 192.0.2.1\nwww.example.com. 60 A 192.0.2.2\n"
               "www.example.com. 3600 AAAA 2001:db8::1");
    ldns_pkt_free(r);
}
END_TEST

START_TEST(any_minimal_over_udp_full_over_tcp)
{
    ldns_pkt *r = ask("www.example.com.", LDNS_RR_TYPE_ANY);
    ck_assert_int_eq(ldns_pkt_ancount(r), 2); /* one RRset: the two A records */
    ldns_pkt_free(r);
    struct ask a = {.edns = true, .tcp = true};
    r = ask_with("www.example.com.", LDNS_RR_TYPE_ANY, &a);
    ck_assert_int_eq(ldns_pkt_ancount(r), 3);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(refused_outside_zones)
{
    ldns_pkt *r = ask("www.example.org.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    ck_assert(!ldns_pkt_aa(r));
    ldns_pkt_free(r);
    r = ask("com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(edns_echo_and_badvers)
{
    struct ask a = {.edns = true, .do_bit = true, .udp = 4096};
    ldns_pkt *r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    ck_assert_int_eq(ldns_pkt_edns_udp_size(r), 1232);
    ck_assert(ldns_pkt_edns_do(r));
    ldns_pkt_free(r);
    a.version = 1;
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    ck_assert_int_eq(ldns_pkt_edns_extended_rcode(r), 1); /* BADVERS = 16 */
    ck_assert_int_eq(ldns_pkt_get_rcode(r), 0);
    ck_assert_int_eq(ldns_pkt_edns_version(r), 0);
    ck_assert_int_eq(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
    struct ask plain = {.edns = false};
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &plain);
    ck_assert(!ldns_pkt_edns(r));
    ldns_pkt_free(r);
}
END_TEST

START_TEST(truncation)
{
    struct ask plain = {.edns = false};
    ldns_pkt *r = ask_with("big.example.com.", LDNS_RR_TYPE_TXT, &plain);
    ck_assert(ldns_pkt_tc(r));
    ck_assert_int_eq(ldns_pkt_ancount(r), 0);
    ck_assert_int_eq(ldns_pkt_qdcount(r), 1);
    ldns_pkt_free(r);
    struct ask small = {.edns = true, .udp = 1232};
    r = ask_with("big.example.com.", LDNS_RR_TYPE_TXT, &small);
    ck_assert(ldns_pkt_tc(r)); /* ~1300 bytes do not fit in 1232 */
    ck_assert(ldns_pkt_edns(r));
    ldns_pkt_free(r);
    struct ask tcp = {.edns = true, .tcp = true};
    r = ask_with("big.example.com.", LDNS_RR_TYPE_TXT, &tcp);
    ck_assert(!ldns_pkt_tc(r));
    ck_assert_int_eq(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(qclass_qtype_errors)
{
    ldns_pkt *q = NULL;
    ck_assert_int_eq(
        ldns_pkt_query_new_frm_str(&q, "www.example.com.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 0),
        LDNS_STATUS_OK);
    uint8_t *wire;
    size_t len, outlen;
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    ldns_pkt *r = ask_raw(wire, len, false, &outlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    free(wire);
    ldns_pkt_free(q);
    ldns_pkt_free(r);
    r = ask("example.com.", LDNS_RR_TYPE_AXFR);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
    r = ask("example.com.", LDNS_RR_TYPE_MAILB);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTIMPL);
    ldns_pkt_free(r);
}
END_TEST

/* A hand-built query: header, then "www.example.com" A IN. */
static size_t raw_query(uint8_t *m, uint16_t flags, uint16_t qd)
{
    memset(m, 0, 12);
    m[0] = 0x12;
    m[1] = 0x34;
    m[2] = (uint8_t)(flags >> 8);
    m[3] = (uint8_t)flags;
    m[5] = (uint8_t)qd;
    memcpy(m + 12, "\3www\7example\3com\0\0\1\0\1", 21);
    return 33;
}

START_TEST(malformed_queries)
{
    uint8_t m[128];
    size_t outlen, len = raw_query(m, 0, 2); /* QDCOUNT=2 */
    ldns_pkt *r = ask_raw(m, len, false, &outlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
    len = raw_query(m, 2 << 11, 1); /* opcode STATUS */
    r = ask_raw(m, len, false, &outlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTIMPL);
    ck_assert_int_eq(ldns_pkt_get_opcode(r), LDNS_PACKET_STATUS);
    ldns_pkt_free(r);
    len = raw_query(m, 0x8000, 1); /* a response: never answered */
    ck_assert_ptr_null(ask_raw(m, len, false, &outlen));
    ck_assert_ptr_null(ask_raw(m, 11, false, &outlen)); /* shorter than a header */
    len = raw_query(m, 0, 1);
    r = ask_raw(m, len - 3, false, &outlen); /* truncated question */
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ck_assert_int_eq(ldns_pkt_qdcount(r), 0);
    ldns_pkt_free(r);
    m[12] = 0xC0; /* a compression pointer in the question */
    m[13] = 0x0C;
    r = ask_raw(m, len, false, &outlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(malformed_edns)
{
    uint8_t m[128];
    size_t outlen, len = raw_query(m, 0, 1);
    m[11] = 2; /* ARCOUNT=2: two OPT records */
    static const uint8_t opt[11] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
    memcpy(m + len, opt, 11);
    memcpy(m + len + 11, opt, 11);
    ldns_pkt *r = ask_raw(m, len + 22, false, &outlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
    m[11] = 1; /* an OPT whose rdlength runs past the end */
    m[len + 10] = 40;
    r = ask_raw(m, len + 11, false, &outlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
}
END_TEST

START_TEST(ecs_echoed_with_scope_zero_for_static)
{
    static const uint8_t ecs[] = {0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100};
    struct ask a = {.edns = true, .options = ecs, .optlen = sizeof(ecs)};
    ldns_pkt *r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    ldns_rdf *data = ldns_pkt_edns_data(r);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(ldns_rdf_size(data), sizeof(ecs));
    static const uint8_t want[] = {0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100};
    ck_assert_mem_eq(ldns_rdf_data(data), want, sizeof(want));
    ldns_pkt_free(r);
}
END_TEST

START_TEST(ecs_malformed_is_formerr)
{
    static const uint8_t bad[][12] = {
        {0, 8, 0, 7, 0, 1, 33, 0, 1, 2, 3}, /* IPv4 source prefix 33 */
        {0, 8, 0, 7, 0, 1, 24, 8, 1, 2, 3}, /* non-zero scope in a query */
        {0, 8, 0, 7, 0, 1, 16, 0, 1, 2, 3}, /* address longer than the prefix */
        {0, 8, 0, 7, 0, 1, 23, 0, 1, 2, 3}, /* bits set past the prefix */
        {0, 8, 0, 7, 0, 3, 24, 0, 1, 2, 0}, /* unknown family */
        {0, 8, 0, 3, 0, 1, 24, 0, 0, 0, 0}, /* option too short */
    };
    static const size_t lens[] = {11, 11, 11, 11, 11, 7};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct ask a = {.edns = true, .options = bad[i], .optlen = lens[i]};
        ldns_pkt *r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
        ck_assert_msg(ldns_pkt_get_rcode(r) == LDNS_RCODE_FORMERR, "case %zu", i);
        ldns_pkt_free(r);
    }
}
END_TEST

START_TEST(compression_used)
{
    ldns_pkt *r = ask("example.com.", LDNS_RR_TYPE_NS);
    uint8_t *wire;
    size_t len;
    ck_assert_int_eq(ldns_pkt2wire(&wire, r, &len), LDNS_STATUS_OK); /* ldns compresses */
    free(wire);
    ldns_pkt_free(r);
    uint8_t m[128];
    size_t outlen;
    ldns_pkt *q = NULL;
    ck_assert_int_eq(
        ldns_pkt_query_new_frm_str(&q, "example.com.", LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN, 0),
        LDNS_STATUS_OK);
    uint8_t *qw;
    size_t qlen;
    ck_assert_int_eq(ldns_pkt2wire(&qw, q, &qlen), LDNS_STATUS_OK);
    memcpy(m, qw, qlen);
    free(qw);
    ldns_pkt_free(q);
    r = ask_raw(m, qlen, false, &outlen);
    ck_assert_uint_le(outlen, len); /* at least as tight as ldns's own compression */
    ldns_pkt_free(r);
}
END_TEST

/* RFC 1034 §4.3.2 step 3a: ANY matches a CNAME, which comes back alone, unfollowed. */
START_TEST(any_at_cname_owner)
{
    ldns_pkt *r = ask("dangling.example.com.", LDNS_RR_TYPE_ANY);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_assert(ldns_pkt_aa(r));
    ck_section(r, ANS, "dangling.example.com. 3600 CNAME nothere.example.com.");
    ck_section(r, AUTH, "");
    ldns_pkt_free(r);
    struct ask tcp = {.edns = true, .tcp = true};
    r = ask_with("c1.example.com.", LDNS_RR_TYPE_ANY, &tcp);
    ck_section(r, ANS, "c1.example.com. 3600 CNAME c2.example.com.");
    ldns_pkt_free(r);
    struct ask plain = {.edns = false};
    r = ask_with("cname-big.example.com.", LDNS_RR_TYPE_ANY, &plain); /* not TC: fits */
    ck_assert(!ldns_pkt_tc(r));
    ck_section(r, ANS, "cname-big.example.com. 3600 CNAME big.example.com.");
    ldns_pkt_free(r);
    r = ask("cname-deleg.example.com.", LDNS_RR_TYPE_ANY); /* no referral */
    ck_assert(ldns_pkt_aa(r));
    ck_section(r, ANS, "cname-deleg.example.com. 3600 CNAME host.sub.example.com.");
    ck_section(r, AUTH, "");
    ck_section(r, ADD, "");
    ldns_pkt_free(r);
    r = ask("q.cw.example.com.", LDNS_RR_TYPE_ANY); /* a wildcard CNAME too */
    ck_section(r, ANS, "q.cw.example.com. 3600 CNAME www.example.com.");
    ldns_pkt_free(r);
}
END_TEST

/* RFC 1035 §4.1.1: AA speaks for the answer section's first owner, our CNAME, even when
 * the chain then leads into a delegation (RFC 1034 §4.3.2 step 3b). */
START_TEST(aa_kept_when_cname_leads_into_referral)
{
    ldns_pkt *r = ask("cname-deleg.example.com.", LDNS_RR_TYPE_A);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_assert(ldns_pkt_aa(r));
    ck_section(r, ANS, "cname-deleg.example.com. 3600 CNAME host.sub.example.com.");
    ck_section(
        r, AUTH,
        "sub.example.com. 3600 NS ns.elsewhere.net.\nsub.example.com. 3600 NS ns.sub.example.com.");
    ck_section(r, ADD, "ns.sub.example.com. 3600 A 192.0.2.99");
    ldns_pkt_free(r);
    r = ask("x.dn.example.com.", LDNS_RR_TYPE_CNAME); /* the synthesised CNAME answers */
    ck_section(r, ANS,
               "dn.example.com. 3600 DNAME target.example.com.\n"
               "x.dn.example.com. 3600 CNAME x.target.example.com.");
    ldns_pkt_free(r);
}
END_TEST

/* RFC 4343 §4.1: names come back with the zone's case whatever case the question used;
 * compression points only at bytes that are equal.  Owners that are the question's name
 * keep the question's case. */
START_TEST(rdata_names_keep_zone_case)
{
    ldns_pkt *r = ask("cnaME-dEleG.EXAMple.coM.", LDNS_RR_TYPE_A);
    ck_section(r, ANS, "cnaME-dEleG.EXAMple.coM. 3600 CNAME host.sub.example.com.");
    ck_section(
        r, AUTH,
        "sub.example.com. 3600 NS ns.elsewhere.net.\nsub.example.com. 3600 NS ns.sub.example.com.");
    ck_section(r, ADD, "ns.sub.example.com. 3600 A 192.0.2.99");
    ldns_pkt_free(r);
    r = ask("UPPER.example.COM.", LDNS_RR_TYPE_A); /* the rdata's own case, then its owner */
    ck_section(r, ANS,
               "UPPER.example.COM. 3600 CNAME WwW.example.com.\n"
               "WwW.example.com. 60 A 192.0.2.1\nWwW.example.com. 60 A 192.0.2.2");
    ldns_pkt_free(r);
    r = ask("upper-ptr.EXAMPLE.com.", LDNS_RR_TYPE_PTR);
    ck_section(r, ANS, "upper-ptr.EXAMPLE.com. 3600 PTR Mail.Example.COM.");
    ldns_pkt_free(r);
    r = ask("UPPER-SRV.example.com.", LDNS_RR_TYPE_SRV); /* stored wire, copied as it is */
    ck_section(r, ANS, "UPPER-SRV.example.com. 3600 SRV 0 0 1 WwW.Example.COM.");
    ck_section(r, ADD,
               "www.example.com. 60 A 192.0.2.1\nwww.example.com. 60 A 192.0.2.2\n"
               "www.example.com. 3600 AAAA 2001:db8::1");
    ldns_pkt_free(r);
    r = ask("EXAMPLE.COM.", LDNS_RR_TYPE_MX); /* MX target and its address's owner */
    ck_section(r, ANS, "EXAMPLE.COM. 3600 MX 10 mail.example.com.");
    ck_section(r, ADD, "mail.example.com. 3600 A 192.0.2.25");
    ldns_pkt_free(r);
    r = ask("Example.Com.", LDNS_RR_TYPE_SOA); /* both SOA names; the owner as asked */
    ck_section(r, ANS,
               "Example.Com. 3600 SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 "
               "3600 1209600 300");
    ldns_pkt_free(r);
}
END_TEST

/* RFC 4035 §3.1.6: an authoritative answer has CD clear, whatever the query had. */
START_TEST(cd_cleared)
{
    ldns_pkt *q = NULL;
    ck_assert_int_eq(
        ldns_pkt_query_new_frm_str(&q, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0),
        LDNS_STATUS_OK);
    ldns_pkt_set_cd(q, true);
    uint8_t *wire;
    size_t len, outlen;
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    ldns_pkt *r = ask_raw(wire, len, false, &outlen);
    ck_assert(!ldns_pkt_cd(r));
    ck_assert(ldns_pkt_aa(r));
    free(wire);
    ldns_pkt_free(q);
    ldns_pkt_free(r);
}
END_TEST

/* The options of the response's OPT record, raw; NULL without one. */
static const uint8_t *opt_data(const ldns_pkt *r, size_t *len)
{
    const ldns_rdf *d = ldns_pkt_edns_data(r);
    *len = d ? ldns_rdf_size(d) : 0;
    return d ? ldns_rdf_data(d) : NULL;
}

/* Whether the options hold one with this code. */
static bool has_option(const uint8_t *o, size_t len, uint16_t code)
{
    for (size_t at = 0; o && at + 4 <= len; at += 4u + (size_t)(o[at + 2] << 8 | o[at + 3]))
        if ((o[at] << 8 | o[at + 1]) == code)
            return true;
    return false;
}

/* RFC 5001: NSID goes back when asked; a long one gives way rather than push the OPT
 * record past the client's payload size. */
START_TEST(nsid_when_asked_and_when_it_fits)
{
    static uint8_t nsid[255];
    memset(nsid, 'n', sizeof(nsid));
    env.nsid = nsid;
    env.nsid_len = 8;
    static const uint8_t ask_nsid[] = {0, 3, 0, 0};
    struct ask a = {.edns = true, .options = ask_nsid, .optlen = sizeof(ask_nsid)};
    ldns_pkt *r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    size_t len;
    const uint8_t *o = opt_data(r, &len);
    ck_assert_uint_eq(len, 12);
    ck_assert_mem_eq(o, "\0\3\0\10nnnnnnnn", 12);
    ldns_pkt_free(r);
    r = ask("www.example.com.", LDNS_RR_TYPE_A); /* not asked: not sent */
    opt_data(r, &len);
    ck_assert_uint_eq(len, 0);
    ldns_pkt_free(r);
    env.nsid_len = 255;
    a.udp = 512;
    char name[256] = "";
    for (int i = 0; i < 3; i++)
        strcat(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(name, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.com."); /* 233 bytes of name */
    uint8_t *wire;
    ldns_pkt *q = NULL;
    ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0),
                     LDNS_STATUS_OK);
    ldns_pkt_set_edns_udp_size(q, 512);
    ldns_pkt_set_edns_data(q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 4, ask_nsid));
    size_t qlen, rlen;
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &qlen), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    r = ask_raw(wire, qlen, false, &rlen);
    free(wire);
    ck_assert_uint_le(rlen, 512);
    o = opt_data(r, &len);
    ck_assert(!has_option(o, len, 3));
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(r);
    env.nsid = NULL;
    env.nsid_len = 0;
}
END_TEST

/* RFC 4892: CHAOS TXT for the configured names, REFUSED for the rest. */
START_TEST(chaos_identity)
{
    env.identity = "ns1.example";
    ldns_pkt *q = NULL;
    ck_assert_int_eq(
        ldns_pkt_query_new_frm_str(&q, "ID.Server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 0),
        LDNS_STATUS_OK);
    uint8_t *wire;
    size_t qlen, rlen;
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &qlen), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    ldns_pkt *r = ask_raw(wire, qlen, false, &rlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    ck_assert_str_eq(section(r, LDNS_SECTION_ANSWER), "ID.Server. 0 TXT \"ns1.example\"");
    ck_assert_int_eq(ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_answer(r), 0)), LDNS_RR_CLASS_CH);
    ck_assert(!ldns_pkt_aa(r));
    ldns_pkt_free(r);
    env.identity = NULL;
    r = ask_raw(wire, qlen, false, &rlen);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
    ldns_pkt_free(r);
    free(wire);
}
END_TEST

/* RFC 7873: with cookies on, a client cookie gets a server cookie back, even in an error
 * answer such as BADVERS; a malformed option is FORMERR.  With them off the option is
 * ignored, as by a server that does not know it. */
START_TEST(cookies_on_and_off)
{
    static const uint8_t client[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t seven[] = {0, 10, 0, 7, 1, 2, 3, 4, 5, 6, 7};
    struct cookie_secrets secrets = {.n = 1};
    env.cookies = &secrets;
    struct ask a = {.edns = true, .options = client, .optlen = sizeof(client)};
    ldns_pkt *r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    size_t len;
    const uint8_t *o = opt_data(r, &len);
    ck_assert_uint_eq(len, 28);
    ck_assert_mem_eq(o, "\0\12\0\30\1\2\3\4\5\6\7\10\1\0\0\0", 16);
    ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(r)), 2);
    ldns_pkt_free(r);
    a.version = 1;
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    ck_assert_int_eq(ldns_pkt_get_rcode(r) | ldns_pkt_edns_extended_rcode(r) << 4, 16);
    o = opt_data(r, &len);
    ck_assert(has_option(o, len, 10));
    ldns_pkt_free(r);
    struct ask bad = {.edns = true, .options = seven, .optlen = sizeof(seven)};
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &bad);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
    env.cookies = NULL;
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &bad);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
    o = opt_data(r, &len);
    ck_assert(!has_option(o, len, 10));
    ldns_pkt_free(r);
}
END_TEST

/* RFC 7828: the idle timeout over TCP; FORMERR over UDP or with a value. */
START_TEST(tcp_keepalive)
{
    static const uint8_t empty[] = {0, 11, 0, 0}, valued[] = {0, 11, 0, 2, 0, 50};
    env.tcp_keepalive = 100;
    struct ask a = {.edns = true, .tcp = true, .options = empty, .optlen = sizeof(empty)};
    ldns_pkt *r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    size_t len;
    const uint8_t *o = opt_data(r, &len);
    ck_assert_uint_eq(len, 6);
    ck_assert_mem_eq(o, "\0\13\0\2\0\144", 6);
    ldns_pkt_free(r);
    a.tcp = false;
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &a);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
    struct ask v = {.edns = true, .tcp = true, .options = valued, .optlen = sizeof(valued)};
    r = ask_with("www.example.com.", LDNS_RR_TYPE_A, &v);
    ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
    ldns_pkt_free(r);
    env.tcp_keepalive = 0;
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("answer");
    tcase_add_unchecked_fixture(tc, load_db, free_db);
    tcase_add_test(tc, exact_match);
    tcase_add_test(tc, case_preserved);
    tcase_add_test(tc, nxdomain_with_soa);
    tcase_add_test(tc, nodata_with_soa);
    tcase_add_test(tc, empty_non_terminal_is_nodata);
    tcase_add_test(tc, cname_chain_in_zone);
    tcase_add_test(tc, cname_out_of_zone_and_dangling);
    tcase_add_test(tc, cname_loop_bounded);
    tcase_add_test(tc, wildcards);
    tcase_add_test(tc, referral_with_glue);
    tcase_add_test(tc, ds_at_cut_is_authoritative);
    tcase_add_test(tc, dname_substitution);
    tcase_add_test(tc, dname_yxdomain);
    tcase_add_test(tc, additional_for_mx_and_srv);
    tcase_add_test(tc, any_minimal_over_udp_full_over_tcp);
    tcase_add_test(tc, refused_outside_zones);
    tcase_add_test(tc, edns_echo_and_badvers);
    tcase_add_test(tc, truncation);
    tcase_add_test(tc, qclass_qtype_errors);
    tcase_add_test(tc, malformed_queries);
    tcase_add_test(tc, malformed_edns);
    tcase_add_test(tc, ecs_echoed_with_scope_zero_for_static);
    tcase_add_test(tc, ecs_malformed_is_formerr);
    tcase_add_test(tc, compression_used);
    tcase_add_test(tc, any_at_cname_owner);
    tcase_add_test(tc, aa_kept_when_cname_leads_into_referral);
    tcase_add_test(tc, rdata_names_keep_zone_case);
    tcase_add_test(tc, cd_cleared);
    tcase_add_test(tc, nsid_when_asked_and_when_it_fits);
    tcase_add_test(tc, chaos_identity);
    tcase_add_test(tc, cookies_on_and_off);
    tcase_add_test(tc, tcp_keepalive);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
