/* test_dname.c — wire names: parsing from text and packets, comparison, printing.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "tests/unit/unit.h"
#include "zones/dname.h"

#include <string.h>

static int from(const char *text, const uint8_t *origin, uint8_t *out)
{
    const char *why;
    return dname_from_text(text, strlen(text), origin, out, &why);
}

START_TEST(text_absolute)
{
    uint8_t n[DNAME_MAX + 1];
    ck_assert_int_eq(from("www.Example.com.", NULL, n), 17);
    ck_assert_mem_eq(n, "\3www\7Example\3com\0", 17);
}
END_TEST

START_TEST(text_relative_and_at)
{
    uint8_t origin[DNAME_MAX + 1], n[DNAME_MAX + 1];
    ck_assert_int_eq(from("example.com.", NULL, origin), 13);
    ck_assert_int_eq(from("www", origin, n), 17);
    ck_assert_mem_eq(n, "\3www\7example\3com\0", 17);
    ck_assert_int_eq(from("@", origin, n), 13);
    ck_assert_int_eq(from("www", NULL, n), -1);
}
END_TEST

START_TEST(text_escapes)
{
    uint8_t n[DNAME_MAX + 1];
    ck_assert_int_eq(from("a\\.b.c.", NULL, n), 7);
    ck_assert_mem_eq(n, "\3a.b\1c\0", 7);
    ck_assert_int_eq(from("\\065\\032.", NULL, n), 4);
    ck_assert_mem_eq(n, "\2A \0", 4);
    ck_assert_int_eq(from("\\256.", NULL, n), -1);
    ck_assert_int_eq(from("\\06", NULL, n), -1);
}
END_TEST

START_TEST(text_limits)
{
    uint8_t n[DNAME_MAX + 1];
    char label[80];
    memset(label, 'a', 63);
    strcpy(label + 63, ".");
    ck_assert_int_eq(from(label, NULL, n), 65);
    memset(label, 'a', 64);
    strcpy(label + 64, ".");
    ck_assert_int_eq(from(label, NULL, n), -1);
    char longname[400] = "";
    for (int i = 0; i < 4; i++)
        strcat(longname, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    ck_assert_int_eq(from(longname, NULL, n), 4 * 63 + 1); /* four 62-byte labels + root */
    strcat(longname, "b.");
    ck_assert_int_eq(from(longname, NULL, n), 255); /* the longest name there is */
    strcat(longname, "c.");
    ck_assert_int_eq(from(longname, NULL, n), -1);
    longname[4 * 63] = '\0'; /* back to the four 62-byte labels: 253 bytes */
    strcat(longname, "bb."); /* 256 bytes: one too many (found by fuzzing) */
    ck_assert_int_eq(from(longname, NULL, n), -1);
    ck_assert_int_eq(from("a..b.", NULL, n), -1);
    ck_assert_int_eq(from("", NULL, n), -1);
    ck_assert_int_eq(from(".", NULL, n), 1);
}
END_TEST

START_TEST(unpack_compression)
{
    /* header, "example.com" at 12, then "www" + pointer to 12 */
    uint8_t msg[64] = {0};
    memcpy(msg + 12, "\7EXAMPLE\3com\0", 13);
    memcpy(msg + 25, "\3www\xC0\x0C", 6);
    uint8_t out[DNAME_MAX + 1];
    size_t pos = 25;
    ck_assert_int_eq(dname_unpack(msg, 31, &pos, out), 17);
    ck_assert_uint_eq(pos, 31);
    ck_assert_mem_eq(out, "\3www\7example\3com\0", 17);
}
END_TEST

START_TEST(unpack_rejects_loops_and_overruns)
{
    uint8_t out[DNAME_MAX + 1];
    uint8_t loop[16] = {0};
    loop[12] = 0xC0;
    loop[13] = 12; /* points at itself */
    size_t pos = 12;
    ck_assert_int_eq(dname_unpack(loop, 14, &pos, out), -1);
    uint8_t fwd[20] = {0};
    fwd[12] = 0xC0;
    fwd[13] = 16; /* forward pointer */
    pos = 12;
    ck_assert_int_eq(dname_unpack(fwd, 20, &pos, out), -1);
    uint8_t cut[16] = {0};
    cut[12] = 5;
    pos = 12;
    ck_assert_int_eq(dname_unpack(cut, 15, &pos, out), -1);
    uint8_t ext[16] = {0};
    ext[12] = 0x41; /* extended label type */
    pos = 12;
    ck_assert_int_eq(dname_unpack(ext, 16, &pos, out), -1);
}
END_TEST

START_TEST(subdomain_on_label_boundaries)
{
    const uint8_t *zone = (const uint8_t *)"\7example\3com";
    const uint8_t *below = (const uint8_t *)"\3www\7example\3com";
    const uint8_t *near = (const uint8_t *)"\10xexample\3com";
    ck_assert(dname_is_sub(below, 17, zone, 13));
    ck_assert(dname_is_sub(zone, 13, zone, 13));
    ck_assert(!dname_is_sub(near, 14, zone, 13));
    ck_assert(!dname_is_sub(zone, 13, below, 17));
}
END_TEST

START_TEST(to_text_escapes)
{
    char buf[DNAME_TEXTMAX];
    dname_to_text((const uint8_t *)"\3a.b\2 x\0", buf, sizeof(buf));
    ck_assert_str_eq(buf, "a\\.b.\\032x.");
    dname_to_text((const uint8_t *)"", buf, sizeof(buf));
    ck_assert_str_eq(buf, ".");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dname");
    TCase *tc = tcase_create("dname");
    tcase_add_test(tc, text_absolute);
    tcase_add_test(tc, text_relative_and_at);
    tcase_add_test(tc, text_escapes);
    tcase_add_test(tc, text_limits);
    tcase_add_test(tc, unpack_compression);
    tcase_add_test(tc, unpack_rejects_loops_and_overruns);
    tcase_add_test(tc, subdomain_on_label_boundaries);
    tcase_add_test(tc, to_text_escapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
