/* test_statefile.c — the runtime state file: round trips through the registry, atomic
 * saves, corrupt files set aside, names the config lacks, junk and size limits.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/state.h"
#include "server/statefile.h"
#include "tests/unit/unit.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct diag d;
static char dir[64], path[128];

static void setup(void)
{
    diag_init(&d);
    snprintf(dir, sizeof(dir), "/tmp/meridian-state-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/state.yaml", dir);
}

/* Empties dir one level deep (a test may leave a directory in the way) and removes it. */
static void teardown(void)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    char p[512];
    while (dh && (de = readdir(dh))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (unlink(p) < 0)
            rmdir(p);
    }
    if (dh)
        closedir(dh);
    rmdir(dir);
    diag_free(&d);
    state_free_all();
}

/* ---- helpers ---- */

static void write_bytes(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *p, const char *text)
{
    write_bytes(p, text, strlen(text));
}

/* The file's bytes, NUL-terminated; NULL when it cannot be opened.  Caller frees. */
static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Names in dir starting with prefix, how many, and the last one seen. */
static unsigned count_files(const char *prefix, char *found, size_t cap)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    unsigned n = 0;
    ck_assert_ptr_nonnull(dh);
    while ((de = readdir(dh)))
        if (!strncmp(de->d_name, prefix, strlen(prefix)) && ++n && found)
            ck_assert_int_lt(snprintf(found, cap, "%s/%s", dir, de->d_name), (int)cap);
    closedir(dh);
    return n;
}

struct dump {
    char text[64 * 1024];
    size_t len;
};

static void dump_one(void *ctx, const char *svc, const char *region, bool drained, int64_t weight)
{
    struct dump *dp = ctx;
    dp->len +=
        (size_t)snprintf(dp->text + dp->len, sizeof(dp->text) - dp->len, "%s/%s %s %lld\n",
                         svc ? svc : "*", region, drained ? "drained" : "-", (long long)weight);
    ck_assert_uint_lt(dp->len, sizeof(dp->text));
}

/* Every decision in the registry, one line each, in the registry's order. */
static const char *registry(struct dump *dp)
{
    dp->len = 0;
    dp->text[0] = '\0';
    ck_assert_int_eq(state_each_admin(dump_one, dp), 0);
    return dp->text;
}

static void drain_region(const char *region)
{
    struct region_state *r = state_region(region);
    ck_assert_ptr_nonnull(r);
    atomic_store(&r->drained, true);
}

static void set_svc(const char *svc, const char *region, bool drained, int64_t weight)
{
    struct svc_region_state *s = state_svc_region(svc, region);
    ck_assert_ptr_nonnull(s);
    atomic_store(&s->drained, drained);
    atomic_store(&s->weight, weight);
}

static void fill_registry(void)
{
    drain_region("eu-west-1");
    drain_region("null"); /* YAML would read it as nothing unless quoted */
    set_svc("api", "us-east-1", false, 50);
    set_svc("api", "eu-west-1", false, 50);
    set_svc("api", "apac-south", true, -1);
    set_svc("web", "us-east-1", true, 1000000); /* listed in both places */
    set_svc("-odd.", "_x", false, 0);
    set_svc("api", ".5", true, 7);
}

static int load(const struct config *c)
{
    return statefile_load(path, c, &d);
}

static void save_ok(void)
{
    ck_assert_msg(statefile_save(path, &d) == 0, "save failed: %s", d.text ? d.text : "");
}

/* ---- round trips ---- */

START_TEST(round_trip)
{
    struct dump before, after;
    fill_registry();
    registry(&before);
    save_ok();
    state_clear_admin();
    ck_assert_str_eq(registry(&after), "");
    ck_assert_int_eq(load(NULL), 0);
    ck_assert_str_eq(registry(&after), before.text);
    ck_assert_uint_eq(d.errors + d.warnings, 0);
    ck_assert_uint_eq(count_files("state.yaml.", NULL, 0), 0); /* no temp file left */
    /* Saving what was loaded gives the same bytes: the file does not churn. */
    char *first = slurp(path, NULL);
    save_ok();
    char *second = slurp(path, NULL);
    ck_assert_str_eq(first, second);
    free(first);
    free(second);
}
END_TEST

START_TEST(format_is_readable)
{
    drain_region("eu-west-1");
    set_svc("api", "us-east-1", false, 50);
    set_svc("api", "eu-west-1", true, 50);
    set_svc("api", "apac-south", true, -1);
    save_ok();
    char *text = slurp(path, NULL);
    ck_assert_str_eq(text, "# Runtime state of meridiand: drains and weights set with meridianctl. "
                           "Written atomically by\n"
                           "# the server; edit only while it is stopped.\n"
                           "version: 1\n"
                           "drained: [eu-west-1]\n"
                           "services:\n"
                           "  api:\n"
                           "    weights: {us-east-1: 50, eu-west-1: 50}\n"
                           "    drained: [eu-west-1, apac-south]\n");
    free(text);
}
END_TEST

/* A failback hold and a shift plan come back from the file as they were saved. */
START_TEST(holds_and_plans_round_trip)
{
    set_svc("api", "us-east-1", false, 60);
    struct svc_region_state *held = state_svc_region("pay", "eu-west-1");
    struct service_state *api = state_service("api");
    ck_assert_ptr_nonnull(held);
    ck_assert_ptr_nonnull(api);
    atomic_store(&held->held, true);
    struct state_shift *p = state_service_plan(api);
    ck_assert_ptr_nonnull(p);
    *p = (struct state_shift){
        .n = 2, .from = {80, 20}, .to = {50, 50}, .step = 10, .every_ms = 30000, .paused = true};
    strcpy(p->regions[0], "us-east-1");
    strcpy(p->regions[1], "eu-west-1");
    save_ok();
    char *text = slurp(path, NULL);
    ck_assert_msg(strstr(text,
                         "  api:\n    weights: {us-east-1: 60}\n    shift: {from: {us-east-1: "
                         "80, eu-west-1: 20}, to: {us-east-1: 50, eu-west-1: 50}, step: 10, "
                         "every_ms: 30000, paused: true}\n  pay:\n    held: eu-west-1\n"),
                  "%s", text);
    state_clear_admin();
    ck_assert(!atomic_load(&held->held));
    ck_assert_uint_eq(p->n, 0);
    ck_assert_int_eq(load(NULL), 0);
    ck_assert(atomic_load(&held->held));
    ck_assert_uint_eq(p->n, 2);
    ck_assert_str_eq(p->regions[1], "eu-west-1");
    ck_assert_int_eq(p->from[0], 80);
    ck_assert_int_eq(p->to[1], 50);
    ck_assert_uint_eq(p->every_ms, 30000);
    ck_assert(p->paused && !atomic_load(&api->shifting)); /* paused: not shifting */
    char *again = (save_ok(), slurp(path, NULL));
    ck_assert_str_eq(text, again);
    free(text);
    free(again);
}
END_TEST

/* A plan missing its step, or with to: naming other regions, makes the file corrupt. */
START_TEST(bad_plans_are_corrupt)
{
    static const char *const bad[] = {
        "version: 1\nservices:\n  api:\n    shift: {from: {a: 1}, to: {a: 2}, every_ms: 5, "
        "paused: false}\n",
        "version: 1\nservices:\n  api:\n    shift: {from: {a: 1}, to: {b: 2}, step: 1, "
        "every_ms: 5, paused: false}\n",
        "version: 1\nservices:\n  api:\n    shift: {from: {a: 1}, to: {a: 2}, step: 1, "
        "every_ms: 5, paused: maybe}\n",
        "version: 1\nservices:\n  pay:\n    held: [a]\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct diag e;
        diag_init(&e);
        ck_assert_msg(statefile_parse(bad[i], strlen(bad[i]), "s", dump_one, NULL, &e) == -1,
                      "accepted: %s", bad[i]);
        ck_assert_uint_gt(e.errors, 0);
        diag_free(&e);
    }
}
END_TEST

START_TEST(empty_registry)
{
    struct dump dp;
    ck_assert_ptr_nonnull(state_region("us-east-1")); /* known, but no decision */
    save_ok();
    char *text = slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\nversion: 1\n"));
    ck_assert_ptr_null(strstr(text, "drained"));
    ck_assert_ptr_null(strstr(text, "services"));
    free(text);
    drain_region("us-east-1");
    ck_assert_int_eq(load(NULL), 0);
    ck_assert_str_eq(registry(&dp), ""); /* the file is the whole truth */
}
END_TEST

START_TEST(hand_written_file)
{
    struct dump dp;
    write_text(path, "# edited by hand\n"
                     "version: 1\n"
                     "drained: []\n"
                     "services:\n"
                     "  api:\n"
                     "    drained:\n"
                     "      - apac-south\n"
                     "    weights:\n"
                     "      us-east-1: 80\n"
                     "      apac-south: 20\n"
                     "  web:\n"
                     "  pay: {}\n");
    drain_region("eu-west-1");
    ck_assert_int_eq(load(NULL), 0);
    ck_assert_str_eq(registry(&dp), "api/apac-south drained 20\n"
                                    "api/us-east-1 - 80\n");
}
END_TEST

START_TEST(parse_merges_pairs)
{
    static const char text[] = "version: 1\n"
                               "drained: [a]\n"
                               "services: {s: {drained: [b, c], weights: {c: 3, d: 4}}}\n";
    struct dump dp = {.len = 0};
    ck_assert_int_eq(statefile_parse(text, strlen(text), "t", dump_one, &dp, &d), 0);
    ck_assert_str_eq(dp.text, "*/a drained -1\n"
                              "s/b drained -1\n"
                              "s/c drained 3\n"
                              "s/d - 4\n");
}
END_TEST

/* ---- missing, unknown names ---- */

START_TEST(missing_file)
{
    struct dump dp;
    drain_region("eu-west-1");
    ck_assert_int_eq(load(NULL), 0);
    ck_assert_str_eq(registry(&dp), "*/eu-west-1 drained -1\n");
    ck_assert_uint_eq(d.errors + d.warnings, 0);
    ck_assert_uint_eq(count_files("", NULL, 0), 2); /* "." and "..": nothing created */
}
END_TEST

START_TEST(names_not_in_config)
{
    struct conf_region regions[] = {{.name = "us-east-1"}, {.name = "eu-west-1"}};
    struct conf_service services[] = {{.name = "api"}};
    struct config c = {.regions = regions, .nregions = 2, .services = services, .nservices = 1};
    struct dump dp;
    char want[512];
    write_text(path, "version: 1\n"
                     "drained: [gone-1, eu-west-1]\n"
                     "services:\n"
                     "  api: {weights: {us-east-1: 5, gone-1: 6}}\n"
                     "  old: {drained: [us-east-1]}\n");
    ck_assert_int_eq(load(&c), 0);
    ck_assert_str_eq(registry(&dp), "*/gone-1 drained -1\n"
                                    "*/eu-west-1 drained -1\n"
                                    "api/us-east-1 - 5\n"
                                    "api/gone-1 - 6\n"
                                    "old/us-east-1 drained -1\n");
    ck_assert_uint_eq(d.errors, 0);
    ck_assert_uint_eq(d.warnings, 2); /* each name once */
    snprintf(want, sizeof(want),
             "warning: state: region \"gone-1\" in %s is not in the config; kept aside until it "
             "returns\n",
             path);
    ck_assert_ptr_nonnull(strstr(d.text, want));
    snprintf(want, sizeof(want), "state: service \"old\" in %s is not in the config", path);
    ck_assert_ptr_nonnull(strstr(d.text, want));
}
END_TEST

/* ---- corrupt files ---- */

static const struct {
    const char *what, *text;
} corrupt[] = {
    {"truncated", "version: 1\nservices:\n  api:\n    weights: {us-east-1: 5"},
    {"empty", ""},
    {"no version", "drained: [a]\n"},
    {"version 2", "version: 2\n"},
    {"version as text", "version: \"1\"\n"},
    {"unknown key", "version: 1\ndrains: [a]\n"},
    {"unknown service key", "version: 1\nservices: {api: {weight: {a: 1}}}\n"},
    {"drained not a list", "version: 1\ndrained: a\n"},
    {"services a list", "version: 1\nservices: [api]\n"},
    {"weights a list", "version: 1\nservices: {api: {weights: [a]}}\n"},
    {"weight not a number", "version: 1\nservices: {api: {weights: {a: x}}}\n"},
    {"weight quoted", "version: 1\nservices: {api: {weights: {a: \"5\"}}}\n"},
    {"weight negative", "version: 1\nservices: {api: {weights: {a: -1}}}\n"},
    {"weight too big", "version: 1\nservices: {api: {weights: {a: 1000001}}}\n"},
    {"weight overflow", "version: 1\nservices: {api: {weights: {a: 99999999999999999999999}}}\n"},
    {"duplicate key", "version: 1\nversion: 1\n"},
    {"duplicate weight", "version: 1\nservices: {api: {weights: {a: 1, a: 2}}}\n"},
    {"duplicate service", "version: 1\nservices: {api: {}, api: {}}\n"},
    {"duplicate drain", "version: 1\ndrained: [a, b, a]\n"},
    {"bad name", "version: 1\ndrained: [\"eu west\"]\n"},
    {"null name", "version: 1\ndrained: [~]\n"},
    {"list as name", "version: 1\ndrained: [[a]]\n"},
    {"alias", "version: 1\nservices: {a: &x {drained: [r]}, b: *x}\n"},
    {"second document", "version: 1\n---\nversion: 1\n"},
    {"root a list", "- version: 1\n"},
    {"tab indent", "version: 1\nservices:\n\tapi: {}\n"},
    {"garbage", "\x01\x02\xff\xfe garbage"},
};

START_TEST(corrupt_set_aside)
{
    struct dump before, after;
    char aside[256];
    drain_region("us-east-1");
    set_svc("api", "r", false, 9);
    registry(&before);
    write_text(path, corrupt[_i].text);
    ck_assert_msg(load(NULL) == 1, "%s: not taken as corrupt", corrupt[_i].what);
    ck_assert_str_eq(registry(&after), before.text); /* nothing applied, nothing cleared */
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_uint_eq(count_files("state.yaml.corrupt-", aside, sizeof(aside)), 1);
    char *kept = slurp(aside, NULL);
    ck_assert_str_eq(kept, corrupt[_i].text);
    free(kept);
    /* PATH.corrupt-YYYYmmddTHHMMSSZ */
    const char *stamp = aside + strlen(path) + strlen(".corrupt-");
    ck_assert_uint_eq(strlen(stamp), 16);
    ck_assert_uint_eq(strspn(stamp, "0123456789"), 8);
    ck_assert_int_eq(stamp[8], 'T');
    ck_assert_int_eq(stamp[15], 'Z');
    ck_assert_uint_eq(d.errors, 0);
    ck_assert_uint_eq(d.warnings, 1);
    ck_assert_ptr_nonnull(strstr(d.text, aside));
    ck_assert_ptr_nonnull(strstr(d.text, "meridianctl"));
}
END_TEST

START_TEST(corrupt_problems_have_places)
{
    write_text(path, "version: 1\nservices:\n  api:\n    weights: {us-east-1: x}\n");
    ck_assert_int_eq(load(NULL), 1);
    char want[256];
    snprintf(want, sizeof(want), "  %s:4:26: error: a weight must be an integer from 0 to 1000000",
             path);
    ck_assert_msg(strstr(d.text, want) != NULL, "got: %s", d.text);
}
END_TEST

START_TEST(corrupt_binary_junk)
{
    char junk[65536];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)((x = x * 1103515245 + 12345) >> 16);
    write_bytes(path, junk, sizeof(junk));
    ck_assert_int_eq(load(NULL), 1);
    ck_assert_uint_eq(count_files("state.yaml.corrupt-", NULL, 0), 1);
    junk[100] = '\0'; /* a NUL byte in the middle of otherwise valid text */
    memcpy(junk, "version: 1\n#", 12);
    write_bytes(path, junk, 200);
    ck_assert_int_eq(load(NULL), 1);
}
END_TEST

static void ignore(void *ctx, const char *svc, const char *region, bool drained, int64_t weight)
{
}

/* Random edits of a valid file: each is read or refused, never a crash or a leak. */
START_TEST(parse_survives_mutations)
{
    static const char good[] = "version: 1\ndrained: [eu-west-1]\nservices:\n  api:\n"
                               "    weights: {us-east-1: 50, eu-west-1: 50}\n"
                               "    drained: [apac-south]\n";
    static const char bytes[] = "{}[],:-&*!|>'\"%@`#\n \t\x00\xff"
                                "0aZ";
    char buf[sizeof(good)];
    unsigned x = 42;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, good, sizeof(good));
        for (int k = 0; k < 1 + round % 4; k++) {
            x = x * 1103515245 + 12345;
            buf[(x >> 8) % (sizeof(good) - 1)] = bytes[(x >> 20) % (sizeof(bytes) - 1)];
        }
        struct diag tmp;
        diag_init(&tmp);
        int rc = statefile_parse(buf, sizeof(good) - 1, "m", ignore, NULL, &tmp);
        ck_assert(rc == 0 || (rc == -1 && tmp.errors > 0));
        diag_free(&tmp);
    }
}
END_TEST

/* ---- size ---- */

START_TEST(large_file_read)
{
    struct dump dp;
    size_t cap = 1024 * 1024 + 4096, len = 0;
    char *text = malloc(cap);
    len += (size_t)sprintf(text, "version: 1\ndrained: [");
    for (int i = 0; i < 500; i++)
        len += (size_t)sprintf(text + len, "%sregion-%d", i ? ", " : "", i);
    len += (size_t)sprintf(text + len, "]\n");
    while (len < 1024 * 1024)
        len += (size_t)sprintf(text + len, "# padding padding padding padding padding\n");
    write_bytes(path, text, len);
    free(text);
    ck_assert_int_eq(load(NULL), 0);
    unsigned lines = 0;
    for (const char *p = registry(&dp); (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_uint_eq(lines, 500);
    ck_assert(state_drained(state_region_find("region-499")));
}
END_TEST

START_TEST(too_large_file)
{
    size_t len = STATEFILE_SIZE_MAX + 1;
    char *text = malloc(len);
    memcpy(text, "version: 1\n", 11);
    memset(text + 11, '#', len - 11);
    write_bytes(path, text, len);
    free(text);
    ck_assert_int_eq(load(NULL), 1);
    ck_assert_ptr_nonnull(strstr(d.text, "larger than 4 MiB"));
    ck_assert_uint_eq(count_files("state.yaml.corrupt-", NULL, 0), 1);
}
END_TEST

START_TEST(unreadable_is_set_aside)
{
    ck_assert_int_eq(mkdir(path, 0755), 0); /* a directory where the file should be */
    ck_assert_int_eq(load(NULL), 1);
    ck_assert_ptr_nonnull(strstr(d.text, "not a regular file"));
    ck_assert_uint_eq(count_files("state.yaml.corrupt-", NULL, 0), 1);
}
END_TEST

START_TEST(set_aside_fails)
{
    /* The ".corrupt-…" name is longer than a file name may be, so the rename fails. */
    char name[256];
    memset(name, 'n', 240);
    name[240] = '\0';
    char *p = malloc(strlen(dir) + 300);
    sprintf(p, "%s/%s", dir, name);
    write_text(p, "version: 9\n");
    drain_region("a");
    ck_assert_int_eq(statefile_load(p, NULL, &d), -1);
    ck_assert_uint_eq(d.errors, 1);
    ck_assert_ptr_nonnull(strstr(d.text, "File name too long"));
    ck_assert_ptr_nonnull(state_region_find("a"));
    ck_assert(state_drained(state_region_find("a")));
    ck_assert_int_eq(access(p, F_OK), 0);
    unlink(p);
    free(p);
}
END_TEST

/* ---- atomic saves ---- */

static const char old_text[] = "version: 1\ndrained: [old]\n";

static void assert_old_intact(void)
{
    char *text = slurp(path, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, old_text);
    free(text);
    ck_assert_uint_eq(count_files("state.yaml.tmp.", NULL, 0), 0);
    ck_assert_uint_eq(d.errors, 1);
    ck_assert_ptr_nonnull(strstr(d.text, path));
}

START_TEST(save_to_missing_directory)
{
    fill_registry();
    snprintf(path, sizeof(path), "%s/no/such/dir/state.yaml", dir);
    ck_assert_int_eq(statefile_save(path, &d), -1);
    ck_assert_ptr_nonnull(strstr(d.text, path));
    ck_assert_ptr_nonnull(strstr(d.text, "No such file or directory"));
}
END_TEST

START_TEST(save_fails_while_writing)
{
    /* The file size limit makes the write fail after the temporary file exists. */
    struct rlimit rl, small;
    write_text(path, old_text);
    fill_registry();
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    small = (struct rlimit){.rlim_cur = sizeof(old_text), .rlim_max = rl.rlim_max};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = statefile_save(path, &d);
    setrlimit(RLIMIT_FSIZE, &rl); /* check itself writes files, even in fork mode */
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(d.text, "File too large"));
    assert_old_intact();
}
END_TEST

START_TEST(save_fails_to_create)
{
    char tmp[256];
    write_text(path, old_text);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    ck_assert_int_eq(mkdir(tmp, 0755), 0); /* the temporary name is taken */
    fill_registry();
    ck_assert_int_eq(statefile_save(path, &d), -1);
    char *text = slurp(path, NULL);
    ck_assert_str_eq(text, old_text);
    free(text);
    rmdir(tmp);
}
END_TEST

START_TEST(save_fails_to_rename)
{
    char inside[256];
    ck_assert_int_eq(mkdir(path, 0755), 0); /* a non-empty directory cannot be replaced */
    snprintf(inside, sizeof(inside), "%s/keep", path);
    write_text(inside, "x");
    fill_registry();
    ck_assert_int_eq(statefile_save(path, &d), -1);
    ck_assert_ptr_nonnull(strstr(d.text, "rename"));
    ck_assert_uint_eq(count_files("state.yaml.tmp.", NULL, 0), 0);
    unlink(inside);
}
END_TEST

START_TEST(save_replaces_old_file)
{
    struct dump dp;
    write_text(path, old_text);
    set_svc("api", "r", false, 3);
    save_ok();
    state_clear_admin();
    ck_assert_int_eq(load(NULL), 0);
    ck_assert_str_eq(registry(&dp), "api/r - 3\n");
    ck_assert_ptr_null(state_region_find("old"));
}
END_TEST

/* The registry of a big config: 2,000 regions × 200 services, every pair found again as
 * the same entry, ids in order of creation, long names kept whole. */
START_TEST(registry_many_pairs)
{
    enum { NR = 2000, NS = 200 };
    static struct svc_region_state *made[NS][NR];
    char svc[32], reg[32];
    for (unsigned s = 0; s < NS; s++)
        for (unsigned r = 0; r < NR; r++) {
            snprintf(svc, sizeof(svc), "s%u", s);
            snprintf(reg, sizeof(reg), "r%u", r);
            ck_assert_ptr_nonnull(made[s][r] = state_svc_region(svc, reg));
            ck_assert_uint_eq(made[s][r]->id, s * NR + r);
        }
    for (unsigned s = 0; s < NS; s++)
        for (unsigned r = 0; r < NR; r++) {
            snprintf(svc, sizeof(svc), "s%u", s);
            snprintf(reg, sizeof(reg), "r%u", r);
            ck_assert_ptr_eq(state_svc_region_find(svc, reg), made[s][r]);
            ck_assert_ptr_eq(state_svc_region(svc, reg), made[s][r]);
        }
    /* "s1"+"23" and "s12"+"3" are different pairs. */
    ck_assert_ptr_ne(state_svc_region_find("s1", "r23"), state_svc_region_find("s12", "r3"));
    ck_assert_ptr_null(state_svc_region_find("s200", "r0"));
    const char *sn, *rn;
    ck_assert(state_pair_names(5, &sn, &rn));
    ck_assert_str_eq(sn, "s0");
    ck_assert_str_eq(rn, "r5");

    char longsvc[301], longreg[301];
    memset(longsvc, 's', 300);
    memset(longreg, 'r', 300);
    longsvc[300] = longreg[300] = '\0';
    struct svc_region_state *l = state_svc_region(longsvc, longreg);
    ck_assert_ptr_nonnull(l);
    ck_assert_ptr_eq(state_svc_region_find(longsvc, longreg), l);
    ck_assert_ptr_nonnull(state_region(longreg));
    ck_assert_ptr_eq(state_region_find(longreg), state_region(longreg));
}
END_TEST

/* A decision on a name the file cannot hold is refused as a whole: the save fails (so
 * the command is not acknowledged) and the file on disk stays as it was. */
START_TEST(save_refuses_unholdable_name)
{
    drain_region("eu-west-1");
    ck_assert_int_eq(statefile_save(path, &d), 0);
    char *before = slurp(path, NULL);
    ck_assert_ptr_nonnull(before);
    char longname[256];
    memset(longname, 'r', 254);
    longname[254] = '\0';
    struct region_state *r = state_region(longname);
    ck_assert_ptr_nonnull(r);
    atomic_store(&r->drained, true);
    ck_assert_int_eq(statefile_save(path, &d), -1);
    ck_assert_ptr_nonnull(strstr(d.text, "not one the state file can hold"));
    char *after = slurp(path, NULL);
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
}
END_TEST

/* A temporary file left by a crash (its writer's PID is gone) is removed at load; one a
 * live process may still be writing is not. */
START_TEST(stale_temps_removed)
{
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, NULL, 0), child);
    char dead[256], live[256];
    snprintf(dead, sizeof(dead), "%s.tmp.%ld", path, (long)child);
    snprintf(live, sizeof(live), "%s.tmp.%ld", path, (long)getpid());
    write_text(dead, "version: 1\n");
    write_text(live, "version: 1\n");
    write_text(path, "version: 1\n");
    ck_assert_int_eq(statefile_load(path, NULL, &d), 0);
    ck_assert_int_ne(access(dead, F_OK), 0);
    ck_assert_int_eq(access(live, F_OK), 0);
    unlink(live);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("statefile");
    TCase *tc = tcase_create("statefile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, registry_many_pairs);
    tcase_add_test(tc, save_refuses_unholdable_name);
    tcase_add_test(tc, stale_temps_removed);
    tcase_add_test(tc, format_is_readable);
    tcase_add_test(tc, holds_and_plans_round_trip);
    tcase_add_test(tc, bad_plans_are_corrupt);
    tcase_add_test(tc, empty_registry);
    tcase_add_test(tc, hand_written_file);
    tcase_add_test(tc, parse_merges_pairs);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, names_not_in_config);
    tcase_add_loop_test(tc, corrupt_set_aside, 0, (int)ARRAY_LEN(corrupt));
    tcase_add_test(tc, corrupt_problems_have_places);
    tcase_add_test(tc, corrupt_binary_junk);
    tcase_add_test(tc, parse_survives_mutations);
    tcase_add_test(tc, large_file_read);
    tcase_add_test(tc, too_large_file);
    tcase_add_test(tc, unreadable_is_set_aside);
    tcase_add_test(tc, set_aside_fails);
    tcase_add_test(tc, save_to_missing_directory);
    tcase_add_test(tc, save_fails_while_writing);
    tcase_add_test(tc, save_fails_to_create);
    tcase_add_test(tc, save_fails_to_rename);
    tcase_add_test(tc, save_replaces_old_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
