/* test_cookie.c — server cookies: the worked examples of RFC 9018 Appendix A byte for
 * byte, the lifetime and renewal windows, secret rotation, and what a cookie is bound to.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "tests/unit/unit.h"
#include "zones/cookie.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

static struct cookie_secrets secrets(const char *current, const char *previous)
{
    struct cookie_secrets s = {.n = previous ? 2 : 1};
    unhex(current, s.key[0]);
    if (previous)
        unhex(previous, s.key[1]);
    return s;
}

#define SECRET_A "e5e973e5a6b2a43f48e7dc849e37bfcf" /* RFC 9018 A.1 to A.3 */
#define CLIENT_1 "2464c4abcf10c957"
#define T1       1559731985u /* 2019-06-05 10:53:05 UTC */

/* Runs cookie_check on the hex option from ip at now; the reply as hex in out. */
static enum cookie_state check(const struct cookie_secrets *s, const char *opt, const char *ip,
                               uint32_t now, char out[2 * COOKIE_REPLY + 1])
{
    uint8_t o[40], reply[COOKIE_REPLY];
    struct sockaddr_in sa = v4(ip);
    unhex(opt, o);
    enum cookie_state st =
        cookie_check(s, o, strlen(opt) / 2, (const struct sockaddr *)&sa, now, reply);
    for (int i = 0; i < COOKIE_REPLY; i++)
        snprintf(out + 2 * i, 3, "%02x", reply[i]);
    return st;
}

START_TEST(rfc9018_a1_new_client)
{
    struct cookie_secrets s = secrets(SECRET_A, NULL);
    char out[2 * COOKIE_REPLY + 1];
    ck_assert_int_eq(check(&s, CLIENT_1, "198.51.100.100", T1, out), COOKIE_NEW);
    ck_assert_str_eq(out, CLIENT_1 "010000005cf79f111f8130c3eee29480");
}
END_TEST

/* A.2: forty minutes on, the cookie is still valid but past half an hour: renewed. */
START_TEST(rfc9018_a2_renewed)
{
    struct cookie_secrets s = secrets(SECRET_A, NULL);
    char out[2 * COOKIE_REPLY + 1];
    ck_assert_int_eq(
        check(&s, CLIENT_1 "010000005cf79f111f8130c3eee29480", "198.51.100.100", 1559734385, out),
        COOKIE_VALID);
    ck_assert_str_eq(out, CLIENT_1 "010000005cf7a871d4a564a1442aca77");
}
END_TEST

START_TEST(rfc9018_a3_other_client)
{
    struct cookie_secrets s = secrets(SECRET_A, NULL);
    char out[2 * COOKIE_REPLY + 1];
    ck_assert_int_eq(check(&s, "fc93fc62807ddb86", "203.0.113.203", 1559734700, out), COOKIE_NEW);
    ck_assert_str_eq(out, "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e");
}
END_TEST

/* Younger than half an hour: the cookie goes back unchanged (one hash, not two). */
START_TEST(fresh_cookie_echoed)
{
    struct cookie_secrets s = secrets(SECRET_A, NULL);
    char out[2 * COOKIE_REPLY + 1];
    const char *c = CLIENT_1 "010000005cf79f111f8130c3eee29480";
    ck_assert_int_eq(check(&s, c, "198.51.100.100", T1 + 1799, out), COOKIE_VALID);
    ck_assert_str_eq(out, c);
}
END_TEST

/* RFC 9018 §4.3: an hour old, or more than five minutes ahead, is invalid. */
START_TEST(lifetime_window)
{
    struct cookie_secrets s = secrets(SECRET_A, NULL);
    char out[2 * COOKIE_REPLY + 1];
    const char *c = CLIENT_1 "010000005cf79f111f8130c3eee29480";
    ck_assert_int_eq(check(&s, c, "198.51.100.100", T1 + 3600, out), COOKIE_VALID);
    ck_assert_int_eq(check(&s, c, "198.51.100.100", T1 + 3601, out), COOKIE_INVALID);
    ck_assert_int_eq(check(&s, c, "198.51.100.100", T1 - 300, out), COOKIE_VALID);
    ck_assert_int_eq(check(&s, c, "198.51.100.100", T1 - 301, out), COOKIE_INVALID);
    /* an invalid one is answered with a new cookie of now: version 1, T1 - 301 */
    ck_assert_int_eq(strncmp(out + 16, "010000005cf79de4", 16), 0);
}
END_TEST

/* The cookie is bound to the client's address, its client cookie and the secret. */
START_TEST(bound_to_address_client_and_secret)
{
    struct cookie_secrets s = secrets(SECRET_A, NULL);
    char out[2 * COOKIE_REPLY + 1];
    const char *c = CLIENT_1 "010000005cf79f111f8130c3eee29480";
    ck_assert_int_eq(check(&s, c, "198.51.100.101", T1, out), COOKIE_INVALID);
    ck_assert_int_eq(
        check(&s, "2464c4abcf10c958010000005cf79f111f8130c3eee29480", "198.51.100.100", T1, out),
        COOKIE_INVALID);
    struct cookie_secrets other = secrets("00000000000000000000000000000001", NULL);
    ck_assert_int_eq(check(&other, c, "198.51.100.100", T1, out), COOKIE_INVALID);
    /* 8-byte or unknown-version server cookies are someone else's: invalid, not an error */
    ck_assert_int_eq(check(&s, CLIENT_1 "0102030405060708", "198.51.100.100", T1, out),
                     COOKIE_INVALID);
}
END_TEST

/* RFC 9018 §5: during a rotation the previous secret is accepted, and its cookies are
 * answered with one of the current secret. */
START_TEST(rotation)
{
    struct cookie_secrets s = secrets("00000000000000000000000000000001", SECRET_A);
    char out[2 * COOKIE_REPLY + 1];
    const char *c = CLIENT_1 "010000005cf79f111f8130c3eee29480";
    ck_assert_int_eq(check(&s, c, "198.51.100.100", T1 + 10, out), COOKIE_VALID);
    ck_assert_str_ne(out, c);
    struct cookie_secrets cur = secrets("00000000000000000000000000000001", NULL);
    ck_assert_int_eq(check(&cur, out, "198.51.100.100", T1 + 20, out), COOKIE_VALID);
    struct cookie_secrets gone = secrets("00000000000000000000000000000001", NULL);
    ck_assert_int_eq(check(&gone, c, "198.51.100.100", T1 + 10, out), COOKIE_INVALID);
}
END_TEST

START_TEST(option_lengths)
{
    ck_assert(cookie_len_ok(8));
    ck_assert(cookie_len_ok(16));
    ck_assert(cookie_len_ok(24));
    ck_assert(cookie_len_ok(40));
    ck_assert(!cookie_len_ok(0));
    ck_assert(!cookie_len_ok(7));
    ck_assert(!cookie_len_ok(9));
    ck_assert(!cookie_len_ok(15));
    ck_assert(!cookie_len_ok(41));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cookie");
    TCase *tc = tcase_create("cookie");
    tcase_add_test(tc, rfc9018_a1_new_client);
    tcase_add_test(tc, rfc9018_a2_renewed);
    tcase_add_test(tc, rfc9018_a3_other_client);
    tcase_add_test(tc, fresh_cookie_echoed);
    tcase_add_test(tc, lifetime_window);
    tcase_add_test(tc, bound_to_address_client_and_secret);
    tcase_add_test(tc, rotation);
    tcase_add_test(tc, option_lengths);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
