/* test_fleetstate.c — unit tests of the fleet's key layout and values in etcd, and of the
 * base64 the etcd gateway carries them in.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/etcd.h"
#include "server/fleet/fleetstate.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <string.h>

static struct fleetstate_entry e;
static char err[200];

static int parse(const char *key, const char *value)
{
    err[0] = '\0';
    return fleetstate_parse(key, value, &e, err, sizeof(err));
}

START_TEST(weights)
{
    ck_assert_int_eq(parse("state/weight/api/eu-west-1", "80"), 0);
    ck_assert_int_eq(e.kind, FS_WEIGHT);
    ck_assert_str_eq(e.service, "api");
    ck_assert_str_eq(e.region, "eu-west-1");
    ck_assert_int_eq(e.weight, 80);
    ck_assert_int_eq(parse("state/weight/api/r", "0"), 0);
    ck_assert_int_eq(parse("state/weight/api/r", "1000000"), 0);
    ck_assert_int_eq(e.weight, 1000000);
    /* A bad value of a good key: -2, and the key is still known. */
    const char *bad[] = {"1000001", "-1", "", "8O", " 80", "80\n", "0x10", "99999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse("state/weight/api/r", bad[i]) == -2, "accepted \"%s\"", bad[i]);
        ck_assert_str_eq(e.region, "r");
        ck_assert_ptr_nonnull(strstr(err, "whole number"));
    }
}
END_TEST

START_TEST(drains)
{
    ck_assert_int_eq(parse("state/drain/eu-west-1", "1"), 0);
    ck_assert_int_eq(e.kind, FS_DRAIN);
    ck_assert_str_eq(e.service, "");
    ck_assert(e.on);
    ck_assert_int_eq(parse("state/drain/eu-west-1/api", "0"), 0);
    ck_assert_str_eq(e.service, "api");
    ck_assert(!e.on);
    ck_assert_int_eq(parse("state/drain/r", "yes"), -2);
    ck_assert_int_eq(parse("state/drain/r", "true"), -2);
}
END_TEST

START_TEST(bad_keys)
{
    const char *keys[] = {"state/weight/api",    "state/weight/api/r/x",  "state/weight//r",
                          "state/weight/a pi/r", "state/drain/",          "state/drain/r/s/t",
                          "health/n1/r",         "health/n1/r/not-an-ip", "nodes/",
                          "nodes/n1/x",          "state/weight/api/r/"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_msg(parse(keys[i], "1") == -1, "accepted key %s", keys[i]);
    char longname[300];
    memset(longname, 'a', 260);
    strcpy(longname + 260, "/r");
    char key[400];
    snprintf(key, sizeof(key), "state/weight/%s", longname);
    ck_assert_int_eq(parse(key, "1"), -1);
}
END_TEST

START_TEST(other_folders_are_left_alone)
{
    ck_assert_int_eq(parse("plans/shift-1", "{}"), 1);
    ck_assert_int_eq(parse("state/plan/x", "1"), 1);
}
END_TEST

START_TEST(health_and_nodes)
{
    ck_assert_int_eq(parse("health/ns1/us-east-1/2001:db8::10", "down"), 0);
    ck_assert_int_eq(e.kind, FS_HEALTH);
    ck_assert_str_eq(e.node, "ns1");
    ck_assert_str_eq(e.address, "2001:db8::10");
    ck_assert(!e.on);
    ck_assert_int_eq(parse("health/ns1/r/192.0.2.1", "sideways"), -2);
    ck_assert_int_eq(parse("nodes/ns2", "alive"), 0);
    ck_assert_int_eq(e.kind, FS_NODE);
    ck_assert_str_eq(e.node, "ns2");
}
END_TEST

START_TEST(keys_round_trip)
{
    char key[600];
    fleetstate_weight_key(key, sizeof(key), "/m/", "api", "r1");
    ck_assert_str_eq(key, "/m/state/weight/api/r1");
    ck_assert_int_eq(parse(key + 3, "5"), 0);
    fleetstate_drain_key(key, sizeof(key), "/m/", "r1", NULL);
    ck_assert_str_eq(key, "/m/state/drain/r1");
    fleetstate_drain_key(key, sizeof(key), "/m/", "r1", "api");
    ck_assert_str_eq(key, "/m/state/drain/r1/api");
    fleetstate_health_key(key, sizeof(key), "/m/", "n", "r1", "::1");
    ck_assert_str_eq(key, "/m/health/n/r1/::1");
    ck_assert_int_eq(parse(key + 3, "up"), 0);
}
END_TEST

static long roundtrip(const char *s, char *out, size_t size)
{
    json_object *o = etcd_b64(s, strlen(s));
    long n = etcd_unb64(o, out, size);
    json_object_put(o);
    return n;
}

START_TEST(base64)
{
    /* RFC 4648 §10 test vectors. */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char buf[64];
    for (size_t i = 0; i < 7; i++) {
        json_object *o = etcd_b64(in[i], strlen(in[i]));
        ck_assert_str_eq(json_object_get_string(o), enc[i]);
        json_object_put(o);
        ck_assert_int_eq(roundtrip(in[i], buf, sizeof(buf)), (long)strlen(in[i]));
        ck_assert_str_eq(buf, in[i]);
    }
    const char *bad[] = {"Zg=", "Z===", "Zm9v!", "Zg==Zg==", "Z=g=", "Zm9"};
    for (size_t i = 0; i < 6; i++) {
        json_object *o = json_object_new_string(bad[i]);
        ck_assert_msg(etcd_unb64(o, buf, sizeof(buf)) == -1, "decoded \"%s\"", bad[i]);
        json_object_put(o);
    }
    ck_assert_int_eq(roundtrip("foobar", buf, 6), -1); /* no room for the NUL */
    ck_assert_int_eq(etcd_unb64(NULL, buf, sizeof(buf)), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fleetstate");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, weights);
    tcase_add_test(tc, drains);
    tcase_add_test(tc, bad_keys);
    tcase_add_test(tc, other_folders_are_left_alone);
    tcase_add_test(tc, health_and_nodes);
    tcase_add_test(tc, keys_round_trip);
    tcase_add_test(tc, base64);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
