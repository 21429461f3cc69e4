/* jumpcheck.c — geodb_lookup, which starts each walk from a /16 table, against
 * libmaxminddb's own MMDB_lookup_sockaddr on the same database: the same record, the same
 * "no record", and the same network length for every address tried.
 *
 * Usage: jumpcheck DB COUNT SEED
 * Tries the first and the last address of every IPv4 /16 (where the table's entries
 * meet), then COUNT pseudo-random addresses of each family the database holds.  Prints
 * one line per family, "ipv4: N addresses, M differ", and the first few differences;
 * exits 1 when any differ, 2 when the database cannot be opened.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/geodb.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#define SHOW_MAX 5

struct tally {
    unsigned long tried, differ;
};

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* libmaxminddb's verdict, with the network length in the family's own bits. */
static struct geodb_hit reference(MMDB_s *m, int family, const uint8_t *addr, bool *ok)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        memcpy(&s->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, addr, 16);
    }
    int err;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(m, (struct sockaddr *)&ss, &err);
    *ok = err == MMDB_SUCCESS;
    unsigned netmask = r.netmask;
    if (family == AF_INET && m->metadata.ip_version == 6)
        netmask = netmask > m->ipv4_start_node.netmask ? netmask - m->ipv4_start_node.netmask : 0;
    return (struct geodb_hit){.found = r.found_entry,
                              .prefix = (uint8_t)netmask,
                              .record = r.found_entry ? r.entry.offset : 0};
}

static void compare(const struct geodb *g, MMDB_s *m, int family, const uint8_t *addr,
                    struct tally *t)
{
    bool ok;
    struct geodb_hit want = reference(m, family, addr, &ok);
    if (!ok)
        return;
    struct geodb_hit got = geodb_lookup(g, family, addr);
    t->tried++;
    if (got.found == want.found && got.prefix == want.prefix &&
        (!got.found || got.record == want.record))
        return;
    if (t->differ++ < SHOW_MAX) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(family, addr, text, sizeof(text));
        printf("  %s: libmaxminddb %s /%u at %u, geodb_lookup %s /%u at %u\n", text,
               want.found ? "record" : "empty", want.prefix, want.record,
               got.found ? "record" : "empty", got.prefix, got.record);
    }
}

static void report(const char *family, const struct tally *t)
{
    printf("%s: %lu addresses, %lu differ\n", family, t->tried, t->differ);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: jumpcheck DB COUNT SEED\n");
        return 2;
    }
    unsigned long count = strtoul(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10) | 1;
    char *paths[] = {argv[1]};
    struct conf_geoip conf = {.databases = paths, .ndatabases = 1};
    struct diag d;
    diag_init(&d);
    struct geodb *g = geodb_open(&conf, &d);
    MMDB_s m;
    if (!g || MMDB_open(argv[1], MMDB_MODE_MMAP, &m) != MMDB_SUCCESS) {
        fprintf(stderr, "jumpcheck: cannot open %s\n", argv[1]);
        return 2;
    }
    struct tally v4 = {0}, v6 = {0};
    for (uint32_t net = 0; net < 1u << 16; net++) {
        uint8_t lo[4] = {(uint8_t)(net >> 8), (uint8_t)net, 0, 0};
        uint8_t hi[4] = {(uint8_t)(net >> 8), (uint8_t)net, 255, 255};
        compare(g, &m, AF_INET, lo, &v4);
        compare(g, &m, AF_INET, hi, &v4);
    }
    for (unsigned long i = 0; i < count; i++) {
        uint64_t a = next_random(&seed), b = next_random(&seed);
        uint8_t addr[16];
        memcpy(addr, &a, 8);
        memcpy(addr + 8, &b, 8);
        compare(g, &m, AF_INET, addr, &v4);
        if (m.metadata.ip_version == 6) {
            addr[0] = 0x20 | (addr[0] & 0x1F); /* mostly 2000::/3, where the networks are */
            if (i % 8 == 0)
                addr[0] = (uint8_t)a; /* and sometimes anywhere */
            compare(g, &m, AF_INET6, addr, &v6);
        }
    }
    report("ipv4", &v4);
    if (m.metadata.ip_version == 6)
        report("ipv6", &v6);
    MMDB_close(&m);
    geodb_close(g);
    diag_free(&d);
    return v4.differ || v6.differ || !v4.tried ? 1 : 0;
}
