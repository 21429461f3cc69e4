/* fuzz_common.h — what the libFuzzer targets share: a private scratch directory, a small
 * "world" (config, zones, latency table, optional GeoIP fixtures) loaded the way meridiand
 * loads it, and the invariants every DNS response must hold.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "geoip/dyn.h"
#include "geoip/state.h"
#include "lib/diag.h"
#include "server/loader.h"
#include "server/view.h"
#include "zones/answer.h"
#include "zones/packet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <sanitizer/lsan_interface.h>

#define F_UNUSED __attribute__((unused))

/* Reports a broken invariant and aborts, so that libFuzzer saves the input. */
#define fuzz_assert(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n  ", __FILE__, __LINE__,        \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- scratch directory ---------------------------------------------------------------- */

static char fuzz_dir[PATH_MAX];     /* this process's private directory */
static char fuzz_exe_dir[PATH_MAX]; /* where the fuzzer binary lives (for mmdb/) */

static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fuzz_cleanup(void)
{
    if (fuzz_dir[0])
        nftw(fuzz_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A process that crashed (what fuzzing is for) leaves its directory behind; the next one
 * removes those whose process is gone.  Names are meridian-fuzz-PID-XXXXXX. */
static void fuzz_remove_stale(const char *base)
{
    DIR *dh = opendir(base);
    for (struct dirent *de; dh && (de = readdir(dh));) {
        char *end, path[PATH_MAX];
        if (strncmp(de->d_name, "meridian-fuzz-", 14) != 0)
            continue;
        long pid = strtol(de->d_name + 14, &end, 10);
        if (end == de->d_name + 14 || *end != '-' || pid <= 0 ||
            !(kill((pid_t)pid, 0) < 0 && errno == ESRCH))
            continue;
        snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
        nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (dh)
        closedir(dh);
}

/* Creates the private directory once: $MERIDIAN_FUZZ_TMPDIR, else /dev/shm, else $TMPDIR,
 * else /tmp.  It and everything in it go at exit. */
static F_UNUSED const char *fuzz_tmpdir(void)
{
    if (fuzz_dir[0])
        return fuzz_dir;
    const char *bases[] = {getenv("MERIDIAN_FUZZ_TMPDIR"), "/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        if (!bases[i] || access(bases[i], W_OK) != 0)
            continue;
        fuzz_remove_stale(bases[i]);
        snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/meridian-fuzz-%ld-XXXXXX", bases[i],
                 (long)getpid());
        if (mkdtemp(fuzz_dir)) {
            atexit(fuzz_cleanup);
            return fuzz_dir;
        }
    }
    fprintf(stderr, "fuzz: cannot create a scratch directory: %s\n", strerror(errno));
    abort();
}

/* dir/name, in a static buffer per call site's needs. */
static F_UNUSED void fuzz_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", fuzz_tmpdir(), name);
}

static F_UNUSED void fuzz_write(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

/* Remembers where the binary is, so that build.sh's generated GeoIP fixtures are found. */
static F_UNUSED void fuzz_note_argv0(int *argc, char ***argv)
{
    if (!argc || *argc < 1 || !argv || !*argv || !(*argv)[0])
        return;
    char copy[PATH_MAX], real[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", (*argv)[0]);
    const char *dir = dirname(copy);
    snprintf(fuzz_exe_dir, sizeof(fuzz_exe_dir), "%s", realpath(dir, real) ? real : dir);
}

/* The directory holding city.mmdb and flat.mmdb (tests/e2e/geo/mkmmdb.pl), or NULL. */
static F_UNUSED const char *fuzz_mmdb_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("MERIDIAN_FUZZ_MMDB");
    char probe[PATH_MAX + 32];
    if (env && *env)
        snprintf(dir, sizeof(dir), "%s", env);
    else if (fuzz_exe_dir[0])
        snprintf(dir, sizeof(dir), "%s/mmdb", fuzz_exe_dir);
    else
        return NULL;
    snprintf(probe, sizeof(probe), "%s/city.mmdb", dir);
    if (access(probe, R_OK) != 0)
        return NULL;
    snprintf(probe, sizeof(probe), "%s/flat.mmdb", dir);
    return access(probe, R_OK) == 0 ? dir : NULL;
}

/* ---- the world: one config with every policy, zones covering every answer path -------- */

/* Regions and services follow tests/e2e/geo.sh; the names in the zone below use them. */
static const char fuzz_regions_services[] =
    "regions:\n"
    "  us-east-1:      { location: [38.9, -77.0],  addresses: [192.0.2.10, 192.0.2.11, "
    "192.0.2.12, \"2001:db8:1::10\"], cname: us-east-1.lb.example.net. }\n"
    "  us-west-2:      { location: [45.6, -121.2], addresses: [192.0.2.20, \"2001:db8:1::20\"], "
    "cname: us-west-2.lb.example.net. }\n"
    "  ca-central-1:   { location: [45.5, -73.6],  addresses: [192.0.2.30] }\n"
    "  eu-west-1:      { location: [53.3, -6.3],   addresses: [198.51.100.10, "
    "\"2001:db8:2::10\"], cname: eu-west-1.lb.example.net. }\n"
    "  eu-central-1:   { location: [50.1, 8.7],    addresses: [198.51.100.20] }\n"
    "  uk-south:       { location: [51.5, -0.1],   addresses: [198.51.100.30] }\n"
    "  apac-south:     { location: [19.1, 72.9],   addresses: [203.0.113.10], cname: "
    "apac-south.lb.example.net. }\n"
    "  ap-southeast-2: { location: [-33.9, 151.2], addresses: [203.0.113.20], cname: "
    "ap-southeast-2.lb.example.net. }\n"
    "  sa-east-1:      { location: [-23.5, -46.6], addresses: [203.0.113.30, 203.0.113.31], "
    "cname: sa-east-1.lb.example.net. }\n"
    "  dark:           { location: [0.0, 0.0],     addresses: [192.0.2.250, \"2001:db8:9::1\"], "
    "cname: dark.lb.example.net. }\n"
    "  fallback:       { addresses: [192.0.2.99] }\n"
    "services:\n"
    "  web:\n"
    "    policy: geo\n"
    "    map:\n"
    "      NA: [ca-central-1, us-east-1]\n"
    "      US: [us-east-1]\n"
    "      US-CA: [us-west-2]\n"
    "      EU: [eu-central-1, eu-west-1]\n"
    "      GB: [uk-south]\n"
    "      AS: [apac-south]\n"
    "      OC: [ap-southeast-2]\n"
    "      SA: [sa-east-1]\n"
    "      default: [fallback]\n"
    "  api:\n"
    "    policy: weighted\n"
    "    weights: { eu-west-1: 80, apac-south: 20, dark: 5 }\n"
    "  mix:\n"
    "    policy: geo\n"
    "    map:\n"
    "      EU: { eu-west-1: 70, eu-central-1: 30 }\n"
    "      default: [fallback]\n"
    "  near:\n"
    "    policy: nearest\n"
    "    regions: [sa-east-1, us-east-1, us-west-2, eu-west-1, apac-south, ap-southeast-2]\n"
    "  edge:\n"
    "    policy: nearest\n"
    "    regions: [us-east-1, eu-west-1, dark]\n"
    "    ttl: 15\n"
    "  app:\n"
    "    policy: latency\n"
    "    latency_table: rtt.csv\n"
    "    regions: [us-east-1, eu-west-1, apac-south]\n"
    "  pay:\n"
    "    policy: failover\n"
    "    order: [dark, eu-west-1, us-east-1]\n"
    "    ttl: 7\n"
    "  one:\n"
    "    policy: failover\n"
    "    order: [us-east-1]\n"
    "    max_answers: 1\n"
    "  down:\n"
    "    policy: failover\n"
    "    order: [dark]\n"
    "    max_answers: 2\n"
    "  v4only:\n"
    "    policy: failover\n"
    "    order: [apac-south]\n";

static const char fuzz_rtt_csv[] = "key,region,rtt_ms\n"
                                   "11.2.0.0/24,us-east-1,4\n"
                                   "DE,eu-west-1,11\n"
                                   "DE,us-east-1,92\n"
                                   "DE,apac-south,120\n"
                                   "US,us-east-1,9.5\n"
                                   "US,eu-west-1,75\n"
                                   "45.0.0.0/8,apac-south,30\n"
                                   "2001:db8:77::/48,eu-west-1,3\n";

#define FUZZ_TXT250                                                                                \
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""

/* example.com: every answer path answer.c has.  The huge* names make TCP answers of more
 * than 16 KiB, past where a compression pointer can reach. */
static const char fuzz_zone_com_head[] =
    "$ORIGIN example.com.\n"
    "$TTL 3600\n"
    "@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
    "@ NS ns1\n"
    "@ NS ns2.example.net.\n"
    "@ MX 10 mail\n"
    "@ MX 20 mx.example.org.\n"
    "@ TXT \"v=spf1 mx -all\"\n"
    "@ CAA 0 issue \"letsencrypt.org\"\n"
    "ns1 A 192.0.2.53\n"
    "ns1 AAAA 2001:db8::53\n"
    "www 60 A 192.0.2.1\n"
    "www 60 A 192.0.2.2\n"
    "www AAAA 2001:db8::1\n"
    "mail A 192.0.2.25\n"
    "mail AAAA 2001:db8::25\n"
    "c1 CNAME c2\n"
    "c2 CNAME www\n"
    "out CNAME www.example.net.\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "dangling CNAME nothere\n"
    "ch1 CNAME ch2\n"
    "ch2 CNAME ch3\n"
    "ch3 CNAME ch4\n"
    "ch4 CNAME ch5\n"
    "ch5 CNAME ch6\n"
    "ch6 CNAME ch7\n"
    "ch7 CNAME ch8\n"
    "ch8 CNAME ch9\n"
    "ch9 CNAME ch10\n"
    "ch10 CNAME www\n"
    "a.b.c TXT \"deep\"\n"
    "*.w TXT \"wild\"\n"
    "*.w MX 5 mail\n"
    "exists.w A 192.0.2.7\n"
    "*.cw CNAME www\n"
    "*.dw CNAME dyn\n"
    "*.wdyn DYNA web\n"
    "sub NS ns.sub\n"
    "sub NS ns.elsewhere.net.\n"
    "sub DS 60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A\n"
    "ns.sub A 192.0.2.99\n"
    "ns.sub AAAA 2001:db8::99\n"
    "child NS ns1.example.com.\n"
    "child DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
    "dn DNAME target\n"
    "x.target A 192.0.2.77\n"
    "dnout DNAME example.net.\n"
    "dnself DNAME a.dnself\n"
    "dndyn DNAME dyntarget\n"
    "x.dyntarget DYNA web\n"
    "srv._tcp SRV 0 5 443 www\n"
    "srv._tcp SRV 10 5 443 mail\n"
    "srv._tcp SRV 20 5 443 far.example.org.\n"
    "mx MX 10 mail\n"
    "mx MX 20 ns.sub\n"
    "mx MX 30 www\n"
    "ptr PTR www\n"
    "types HINFO \"cpu\" \"os\"\n"
    "types NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.\n"
    "types TYPE65534 \\# 4 0A000001\n"
    "types SVCB 1 svc.example.org. port=8053\n"
    "dyn 30 DYNA web\n"
    "dyn TXT \"a dynamic name may carry other types\"\n"
    "dyn MX 10 mail\n"
    "api 30 DYNA api\n"
    "mix 30 DYNA mix\n"
    "near 30 DYNA near\n"
    "app 30 DYNA app\n"
    "pay DYNA pay\n"
    "one 30 DYNA one\n"
    "down 30 DYNA down\n"
    "v4 30 DYNA v4only\n"
    "cdn 60 DYNC near\n"
    "edge 60 DYNC edge\n"
    "tocdn CNAME cdn\n"
    "todyn CNAME dyn\n"
    "a.b.ent A 192.0.2.8\n"
    "big TXT " FUZZ_TXT250 " " FUZZ_TXT250 " " FUZZ_TXT250 "\n"
    "big TXT " FUZZ_TXT250 " " FUZZ_TXT250 " " FUZZ_TXT250 "\n"
    "tobig CNAME big\n"
    "glue NS ns1.glue\n"
    "glue NS ns2.glue\n"
    "glue NS ns3.glue\n"
    "glue NS ns4.glue\n";

/* Generated lines appended to the head: many glue addresses, and the huge names. */
static void fuzz_zone_com_tail(FILE *f)
{
    for (int n = 1; n <= 4; n++)
        for (int i = 0; i < 12; i++)
            fprintf(f, "ns%d.glue AAAA 2001:db8:%d::%d\n", n, n, i + 1);
    for (int i = 0; i < 80; i++)
        fprintf(f, "huge TXT \"%03d\" " FUZZ_TXT250 "\n", i);
    for (int i = 0; i < 70; i++)
        fprintf(f, "hugeany HINFO \"%03d\" " FUZZ_TXT250 "\n", i);
    for (int i = 0; i < 8; i++)
        fprintf(f, "hugeany MX %d m%d.hugeany\n", i, i);
    for (int i = 0; i < 8; i++)
        fprintf(f, "m%d.hugeany A 192.0.2.%d\n", i, 100 + i);
    fprintf(f, "tohuge CNAME huge\n");
    fprintf(f, "hugedn DNAME dn.example.com.\n");
    fprintf(f, "hugedn HINFO \"x\" " FUZZ_TXT250 "\n");
}

static const char fuzz_zone_net[] = "$ORIGIN example.net.\n"
                                    "@ 60 IN SOA ns1.example.com. hostmaster.example.com. 7 "
                                    "7200 3600 1209600 600\n"
                                    "@ 60 NS ns1.example.com.\n"
                                    "www 60 A 192.0.2.33\n"
                                    "back CNAME www.example.com.\n";

static const char fuzz_zone_child[] =
    "$ORIGIN child.example.com.\n"
    "$TTL 300\n"
    "@ SOA ns1.example.com. hostmaster 1 7200 3600 1209600 60\n"
    "@ NS ns1.example.com.\n"
    "@ DS 1 13 2 "
    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
    "www A 192.0.2.200\n"
    "dyn DYNA near\n";

/* Writes the world into the scratch directory and loads it as meridiand does; every file
 * is removed again once loaded.  Some regions are drained or down, so that every branch of
 * the policies runs: "dark" is down everywhere (fail-open for service "down"), sa-east-1
 * has one address down, uk-south is drained, and api's weight for apac-south is 0. */
static F_UNUSED struct view *fuzz_world(void)
{
    char conf[PATH_MAX], zcom[PATH_MAX], znet[PATH_MAX], zchild[PATH_MAX], rtt[PATH_MAX];
    fuzz_path(conf, sizeof(conf), "world.yaml");
    fuzz_path(zcom, sizeof(zcom), "example.com.zone");
    fuzz_path(znet, sizeof(znet), "example.net.zone");
    fuzz_path(zchild, sizeof(zchild), "child.example.com.zone");
    fuzz_path(rtt, sizeof(rtt), "rtt.csv");

    FILE *f = fopen(zcom, "w");
    if (!f)
        abort();
    fputs(fuzz_zone_com_head, f);
    fuzz_zone_com_tail(f);
    fclose(f);
    fuzz_write(znet, fuzz_zone_net, strlen(fuzz_zone_net));
    fuzz_write(zchild, fuzz_zone_child, strlen(fuzz_zone_child));
    fuzz_write(rtt, fuzz_rtt_csv, strlen(fuzz_rtt_csv));

    const char *mmdb = fuzz_mmdb_dir();
    if (!(f = fopen(conf, "w")))
        abort();
    fprintf(f, "server:\n  listen: [\"127.0.0.1:5353\"]\n  udp_payload: 1232\n");
    /* A long NSID, so that a 512-byte answer cannot always hold it; CHAOS names answered. */
    fprintf(f, "  nsid: \"%0200d\"\n  identity: fuzz.example\n  version: fuzz\n", 0);
    fprintf(f, "geoip:\n");
    if (mmdb)
        fprintf(f, "  databases: [\"%s/city.mmdb\", \"%s/flat.mmdb\"]\n", mmdb, mmdb);
    fprintf(f, "  nets:\n"
               "    10.20.0.0/16: eu-west-1\n"
               "    11.12.34.0/24: apac-south\n"
               "    11.30.0.0/16: [us-west-2, us-east-1]\n"
               "    \"2a02:2000:ffff::/48\": [uk-south, eu-west-1]\n"
               "    \"2001:db8:ee::/48\": [sa-east-1]\n");
    fputs(fuzz_regions_services, f);
    fprintf(f, "zones:\n"
               "  example.com: example.com.zone\n"
               "  example.net: example.net.zone\n"
               "  child.example.com: child.example.com.zone\n");
    fclose(f);

    struct diag d;
    diag_init(&d);
    /* The world lives until exit.  With FUZZ_ARENA=project the arena chunks are mmap'ed,
     * and LeakSanitizer does not look for pointers in them: what only arena memory points
     * to (latency tables, say) would be reported as leaked at the first leak check. */
    __lsan_disable();
    struct view *v = loader_load(conf, NULL, true, &d);
    __lsan_enable();
    if (!v) {
        fprintf(stderr, "fuzz: the world does not load:\n%s", d.text ? d.text : "");
        abort();
    }
    diag_free(&d);
    unlink(conf);
    unlink(zcom);
    unlink(znet);
    unlink(zchild);
    unlink(rtt);

    atomic_store(&state_addr("dark", "192.0.2.250", true)->up, false);
    atomic_store(&state_addr("dark", "2001:db8:9::1", true)->up, false);
    atomic_store(&state_addr("sa-east-1", "203.0.113.30", true)->up, false);
    atomic_store(&state_region("uk-south")->drained, true);
    atomic_store(&state_svc_region("api", "apac-south")->weight, 0);
    atomic_store(&state_svc_region("mix", "eu-central-1")->drained, true);
    fprintf(stderr, "fuzz: world loaded (%s GeoIP fixtures)\n", mmdb ? "with" : "without");
    return v;
}

/* ---- response invariants -------------------------------------------------------------- */

/* Length of the uncompressed name at m[p], or 0 when it is not one. */
static size_t fuzz_plain_name_len(const uint8_t *m, size_t len, size_t p)
{
    size_t start = p;
    while (p < len && m[p] && !(m[p] & 0xC0))
        p += 1u + m[p];
    return p < len && m[p] == 0 ? p + 1 - start : 0;
}

/* The ECS option of a parsed response's OPT, checked against the query's (RFC 7871 §7.2.1):
 * family, source prefix and address echoed, scope never above the source prefix. */
static void fuzz_check_ecs(const ldns_pkt *p, const struct query *q, bool echo)
{
    ldns_rdf *data = ldns_pkt_edns_data(p);
    const uint8_t *o = data ? ldns_rdf_data(data) : NULL;
    size_t n = data ? ldns_rdf_size(data) : 0, at = 0;
    bool seen = false;
    while (at + 4 <= n) {
        uint16_t code = rd16(o + at), olen = rd16(o + at + 2);
        fuzz_assert(at + 4 + olen <= n, "an EDNS option runs past the OPT rdata");
        if (code == 8) {
            fuzz_assert(!seen, "two ECS options in one response");
            seen = true;
            fuzz_assert(q->has_ecs, "ECS in the response, none in the query");
            fuzz_assert(olen >= 4, "ECS option of %u bytes", olen);
            uint16_t family = rd16(o + at + 4);
            uint8_t source = o[at + 6], scope = o[at + 7];
            size_t alen = ((size_t)source + 7) / 8;
            fuzz_assert(family == q->ecs.family && source == q->ecs.source,
                        "ECS family/source %u/%u, query had %u/%u", family, source, q->ecs.family,
                        q->ecs.source);
            fuzz_assert(olen == 4 + alen, "ECS option length %u for source /%u", olen, source);
            fuzz_assert(scope <= source, "ECS scope /%u above the source prefix /%u", scope,
                        source);
            fuzz_assert(memcmp(o + at + 8, q->ecs.addr, alen) == 0, "ECS address not echoed");
        }
        at += 4u + olen;
    }
    fuzz_assert(at == n, "trailing bytes in the OPT rdata");
    fuzz_assert(seen == (echo && q->has_ecs), "ECS %s in the response, query %s, ecs: %s",
                seen ? "present" : "missing", q->has_ecs ? "has one" : "has none",
                echo ? "true" : "false");
}

/* Every response: fits the buffer and the transport's limit, parses, and answers the query
 * that was asked (ID, opcode, RD, question as sent, OPT only after an OPT). */
static F_UNUSED void fuzz_check_response(const struct answer_env *env, const uint8_t *msg,
                                         size_t len, const uint8_t *resp, size_t rlen, bool tcp)
{
    struct query q;
    enum parse_result pr = packet_parse(msg, len, &q);
    if (pr == PARSE_DROP) {
        fuzz_assert(rlen == 0, "a dropped query got a %zu-byte response", rlen);
        return;
    }
    fuzz_assert(rlen >= DNS_HEADER, "a %zu-byte response to a query that is not dropped", rlen);
    fuzz_assert(rlen <= ANSWER_TCP_MAX, "response of %zu bytes", rlen);
    if (!tcp) {
        size_t limit = !q.edns                         ? 512
                       : q.edns_udp < env->udp_payload ? q.edns_udp
                                                       : env->udp_payload;
        fuzz_assert(rlen <= limit, "UDP response of %zu bytes, limit %zu (EDNS %s, payload %u)",
                    rlen, limit, q.edns ? "yes" : "no", q.edns_udp);
    }
    fuzz_assert(rd16(resp) == rd16(msg), "ID %04x, query had %04x", rd16(resp), rd16(msg));
    fuzz_assert(resp[2] & 0x80, "QR is not set");
    fuzz_assert(((resp[2] >> 3) & 0xF) == ((msg[2] >> 3) & 0xF), "opcode not echoed");
    fuzz_assert((resp[2] & 1) == (msg[2] & 1), "RD not echoed");
    uint16_t qd = rd16(resp + 4);
    fuzz_assert(qd == (q.has_question ? 1 : 0), "QDCOUNT %u", qd);
    if (qd) {
        size_t nl = fuzz_plain_name_len(resp, rlen, DNS_HEADER);
        fuzz_assert(nl && DNS_HEADER + nl + 4 <= rlen, "the question is not echoed whole");
        fuzz_assert(DNS_HEADER + nl + 4 <= len &&
                        memcmp(resp + DNS_HEADER, msg + DNS_HEADER, nl + 4) == 0,
                    "the question differs from the query's");
    }
    ldns_pkt *p = NULL;
    ldns_status st = ldns_wire2pkt(&p, resp, rlen);
    fuzz_assert(st == LDNS_STATUS_OK, "ldns cannot parse the %zu-byte response: %s", rlen,
                ldns_get_errorstr_by_id(st));
    /* RFC 6891 §7: OPT in the response exactly when the query had a usable one. */
    fuzz_assert(ldns_pkt_edns(p) == q.edns, "OPT in the response: %s, in the query: %s",
                ldns_pkt_edns(p) ? "yes" : "no", q.edns ? "yes" : "no");
    if (q.edns)
        fuzz_check_ecs(p, &q, env->ecs);
    ldns_pkt_free(p);
}

/* Prints a response (and a trace) for people reading what an input does; with
 * MERIDIAN_FUZZ_PRINT=2 its bytes too. */
static F_UNUSED void fuzz_print(const uint8_t *resp, size_t rlen, const char *what,
                                const struct diag *trace)
{
    ldns_pkt *p = NULL;
    const char *mode = getenv("MERIDIAN_FUZZ_PRINT");
    if (trace && trace->text)
        fprintf(stderr, "--- trace\n%s", trace->text);
    if (!rlen) {
        fprintf(stderr, "--- %s: no response\n", what);
        return;
    }
    if (ldns_wire2pkt(&p, resp, rlen) != LDNS_STATUS_OK) {
        fprintf(stderr, "--- %s: %zu bytes, not parsable\n", what, rlen);
    } else {
        char *text = ldns_pkt2str(p);
        fprintf(stderr, "--- %s: %zu bytes\n%s", what, rlen, text ? text : "");
        free(text);
        ldns_pkt_free(p);
    }
    if (mode && !strcmp(mode, "2"))
        for (size_t i = 0; i < rlen; i++)
            fprintf(stderr, "%02x%s", resp[i], i % 16 == 15 || i + 1 == rlen ? "\n" : " ");
}
