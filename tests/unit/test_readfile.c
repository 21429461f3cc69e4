/* test_readfile.c — lib/readfile: whole regular files, and a clear refusal of anything
 * else without blocking.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/readfile.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[128];
static char *text;
static size_t len;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/meridian-readfile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/file", dir);
    text = NULL;
    len = 0;
}

static void teardown(void)
{
    free(text);
    unlink(path);
    rmdir(dir);
}

static void write_file(const char *content, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(content, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(whole_file_nul_terminated)
{
    write_file("abc\0def", 7);
    ck_assert_int_eq(readfile(path, 100, &text, &len), 0);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(text, "abc\0def", 8); /* the NUL added after the last byte too */
    ck_assert_int_eq(readfile_check(path), 0);
}
END_TEST

START_TEST(empty_file)
{
    write_file("", 0);
    ck_assert_int_eq(readfile(path, 100, &text, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(text, "");
}
END_TEST

/* Bigger than any first guess would be: the read loop goes on to the end. */
START_TEST(large_file)
{
    size_t n = 3u << 20;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    write_file(big, n);
    ck_assert_int_eq(readfile(path, n, &text, &len), 0);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(text, big, n);
    free(big);
}
END_TEST

START_TEST(over_the_limit)
{
    write_file("0123456789", 10);
    ck_assert_int_eq(readfile(path, 9, &text, &len), READFILE_TOO_LARGE);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(readfile(path, 10, &text, &len), 0);
    ck_assert_str_eq(readfile_strerror(READFILE_TOO_LARGE), "it is too large");
}
END_TEST

START_TEST(missing_file)
{
    ck_assert_int_eq(readfile(path, 100, &text, &len), ENOENT);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(readfile_check(path), ENOENT);
    ck_assert_str_eq(readfile_strerror(ENOENT), strerror(ENOENT));
}
END_TEST

START_TEST(directory)
{
    ck_assert_int_eq(readfile(dir, 100, &text, &len), READFILE_NOT_REGULAR);
    ck_assert_int_eq(readfile_check(dir), READFILE_NOT_REGULAR);
    ck_assert_str_eq(readfile_strerror(READFILE_NOT_REGULAR), "it is not a regular file");
}
END_TEST

/* With no writer, a plain open() of a FIFO would wait forever: the case would time out. */
START_TEST(fifo_without_writer)
{
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(readfile(path, 100, &text, &len), READFILE_NOT_REGULAR);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(readfile_check(path), READFILE_NOT_REGULAR);
}
END_TEST

START_TEST(device)
{
    ck_assert_int_eq(readfile("/dev/null", 100, &text, &len), READFILE_NOT_REGULAR);
    ck_assert_int_eq(readfile_check("/dev/zero"), READFILE_NOT_REGULAR);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("readfile");
    TCase *tc = tcase_create("readfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, whole_file_nul_terminated);
    tcase_add_test(tc, empty_file);
    tcase_add_test(tc, large_file);
    tcase_add_test(tc, over_the_limit);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, directory);
    tcase_add_test(tc, fifo_without_writer);
    tcase_add_test(tc, device);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
