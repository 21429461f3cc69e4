/* test_sign.c — a zone signed in memory and checked by ldns's own verifier: every RRSIG
 * over every authoritative RRset, both denial chains, NSEC3 owners as RFC 5155 hashes
 * them, and the canonical order of RFC 4034 §6.1.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "tests/unit/unit.h"
#include "zones/dname.h"
#include "zones/sign/signint.h"
#include "zones/zonefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/meridian-sign-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A P-256 key of example.com written as ldns-keygen writes one; its DNSKEY goes to keys. */
static void make_key(const char *name, uint16_t flags, ldns_rr_list *keys)
{
    ldns_key *k = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);
    ck_assert_ptr_nonnull(k);
    ldns_key_set_pubkey_owner(k, ldns_dname_new_frm_str("example.com."));
    ldns_key_set_flags(k, flags);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.private", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ldns_key_print(f, k);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ldns_rr *pub = ldns_key2rr(k);
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ldns_rr_print(f, pub);
    fclose(f);
    ldns_rr_list_push_rr(keys, pub);
    ldns_key_deep_free(k);
}

static const char zone_text[] =
    "$ORIGIN example.com.\n$TTL 300\n"
    "@ SOA ns1 hostmaster 1 7200 3600 1209600 60\n"
    "@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\nwww TXT \"x\"\n"
    "*.w A 192.0.2.9\na.b.ent AAAA 2001:db8::1\n"
    "sub NS ns.sub\nns.sub A 192.0.2.2\n"
    "sec NS ns1\nsec DS 12345 13 2 "
    "49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE0A8A2A9D1E0A6D6A5A2B5C4D\n";

/* The zone above and hosts more A records, signed with a KSK and a ZSK; their DNSKEYs
 * go to keys.  Thousands of hosts make the signing use its threads. */
static struct zone *signed_zone(bool nsec3, unsigned hosts, ldns_rr_list *keys)
{
    make_key("ksk", 257, keys);
    make_key("zsk", 256, keys);
    char path[256], ksk[256], zsk[256];
    snprintf(path, sizeof(path), "%s/example.com.zone", dir);
    FILE *f = fopen(path, "w");
    fputs(zone_text, f);
    for (unsigned i = 0; i < hosts; i++)
        fprintf(f, "h%u A 192.0.2.%u\n", i, i % 250);
    fclose(f);
    snprintf(ksk, sizeof(ksk), "%s/ksk", dir);
    snprintf(zsk, sizeof(zsk), "%s/zsk", dir);
    struct sign_keyspec specs[2] = {{ksk, SIGN_KEY_ACTIVE, 1, 1}, {zsk, SIGN_KEY_ACTIVE, 1, 2}};
    struct sign_policy p = {"test.yaml", specs, 2, nsec3, 86400, 3600};
    struct zone_load_opts o = {0};
    struct diag d;
    diag_init(&d);
    const uint8_t *origin = (const uint8_t *)"\7example\3com";
    struct zone *z = zone_load(path, origin, &o, &d);
    ck_assert_msg(z != NULL, "%s", d.text ? d.text : "");
    struct sign_keys *k = sign_keys_load(&p, origin, &d);
    ck_assert_msg(k != NULL, "%s", d.text ? d.text : "");
    ck_assert_msg(sign_zone(z, k, &p, time(NULL), NULL, &d), "%s", d.text ? d.text : "");
    diag_free(&d);
    return z;
}

/* The RRSIGs over set verify with the zone's keys. */
static void verify(const uint8_t *owner, size_t len, const struct rrset *set, ldns_rr_list *keys)
{
    ck_assert_ptr_nonnull(set->sigs);
    ldns_rr_list *rrs = sign_to_ldns(owner, len, set->wire, set->count);
    ldns_rr_list *sigs = sign_to_ldns(owner, len, set->sigs->wire, set->sigs->count);
    ck_assert_ptr_nonnull(rrs);
    ck_assert_ptr_nonnull(sigs);
    ldns_status s = ldns_verify(rrs, sigs, keys, NULL);
    char name[DNAME_TEXTMAX];
    dname_to_text(owner, name, sizeof(name));
    ck_assert_msg(s == LDNS_STATUS_OK, "%s type %u: %s", name, set->type,
                  ldns_get_errorstr_by_id(s));
    ldns_rr_list_deep_free(rrs);
    ldns_rr_list_deep_free(sigs);
}

/* Every authoritative RRset is signed and verifies; at cuts only DS and NSEC are signed. */
static void verify_nodes(const struct zone *z, ldns_rr_list *keys)
{
    unsigned checked = 0;
    for (size_t i = 0; i < z->nnodes; i++) {
        const struct node *n = &z->nodes[i];
        for (unsigned j = 0; j < n->nrrsets; j++) {
            const struct rrset *s = &n->rrsets[j];
            bool cut = n->flags & NODE_CUT, glue = n->flags & NODE_OCCLUDED;
            if (glue || (cut && s->type != 43 && s->type != 47)) {
                ck_assert_ptr_null(s->sigs);
                continue;
            }
            verify(n->name, n->namelen, s, keys);
            checked++;
        }
    }
    ck_assert_uint_ge(checked, 8);
}

START_TEST(nsec_zone_verifies)
{
    ldns_rr_list *keys = ldns_rr_list_new();
    struct zone *z = signed_zone(false, 0, keys);
    verify_nodes(z, keys);
    /* apex, ns1, www, *.w, a.b.ent, sub, sec: glue and empty non-terminals have none */
    ck_assert_uint_eq(z->sec->norder, 7);
    ck_assert_ptr_nonnull(node_rrset(z->apex, 48));
    zone_release(z);
    ldns_rr_list_deep_free(keys);
}
END_TEST

START_TEST(nsec3_zone_verifies)
{
    ldns_rr_list *keys = ldns_rr_list_new();
    struct zone *z = signed_zone(true, 0, keys);
    verify_nodes(z, keys);
    ck_assert_ptr_nonnull(node_rrset(z->apex, 51));
    unsigned names = 0;
    for (size_t i = 0; i < z->nnodes; i++) {
        const struct node *n = &z->nodes[i];
        if (n->flags & NODE_OCCLUDED)
            continue;
        names++;
        /* RFC 5155 §5 as ldns computes it: SHA-1, no iterations, no salt. */
        ldns_rdf *name = ldns_dname_new_frm_data(n->namelen, n->name);
        ldns_rdf *h = ldns_nsec3_hash_name(name, 1, 0, 0, NULL);
        const uint8_t *label = ldns_rdf_data(h);
        bool found = false;
        for (uint32_t k = 0; k < z->sec->nn3 && !found; k++)
            found = !strncasecmp((const char *)z->sec->n3[k].owner, (const char *)label, 33);
        ck_assert_msg(found, "no NSEC3 owner for node %zu", i);
        ldns_rdf_deep_free(name);
        ldns_rdf_deep_free(h);
    }
    ck_assert_uint_eq(z->sec->nn3, names); /* empty non-terminals included */
    for (uint32_t k = 0; k < z->sec->nn3; k++) {
        const struct sign_nsec3 *e = &z->sec->n3[k];
        verify(e->owner, dname_len(e->owner), e->set, keys);
        if (k)
            ck_assert_int_lt(memcmp(z->sec->n3[k - 1].hash, e->hash, SIGN_NSEC3_HASH), 0);
    }
    zone_release(z);
    ldns_rr_list_deep_free(keys);
}
END_TEST

START_TEST(big_zone_signed_by_threads_verifies)
{
    ldns_rr_list *keys = ldns_rr_list_new();
    struct zone *z = signed_zone(true, 6000, keys);
    verify_nodes(z, keys);
    for (uint32_t k = 0; k < z->sec->nn3; k++)
        verify(z->sec->n3[k].owner, dname_len(z->sec->n3[k].owner), z->sec->n3[k].set, keys);
    /* each host's A and NSEC3, and the zone's own RRsets */
    ck_assert_uint_ge(z->sec->signatures, 12000);
    zone_release(z);
    ldns_rr_list_deep_free(keys);
}
END_TEST

START_TEST(canonical_order)
{
    /* RFC 4034 §6.1's example, lower-cased, in order. */
    static const char *const names[] = {
        "example.",         "a.example.",      "yljkjljk.a.example.",
        "z.a.example.",     "zabc.a.example.", "z.example.",
        "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
    uint8_t prev[DNAME_MAX + 1], cur[DNAME_MAX + 1];
    const char *why;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_int_gt(dname_from_text(names[i], strlen(names[i]), NULL, cur, &why), 0);
        if (i)
            ck_assert_msg(sign_canon_cmp(prev, cur) < 0, "%s before %s", names[i - 1], names[i]);
        ck_assert_int_eq(sign_canon_cmp(cur, cur), 0);
        memcpy(prev, cur, sizeof(cur));
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tcase_create("sign");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, nsec_zone_verifies);
    tcase_add_test(tc, nsec3_zone_verifies);
    tcase_add_test(tc, big_zone_signed_by_threads_verifies);
    tcase_add_test(tc, canonical_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
