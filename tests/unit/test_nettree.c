/* test_nettree.c — longest-prefix match: nesting, the default route, host bits, duplicates,
 * the ECS source-prefix limit, IPv6, and 10000 random networks against a brute-force oracle.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/nettree.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct nettree *t;

static void setup(void)
{
    t = nettree_new();
    ck_assert_ptr_nonnull(t);
}

static void teardown(void)
{
    nettree_free(t);
    t = NULL;
}

static int family_of(const char *text)
{
    return strchr(text, ':') ? AF_INET6 : AF_INET;
}

static const uint8_t *parse(const char *text)
{
    static uint8_t addr[16];
    memset(addr, 0, sizeof(addr));
    ck_assert_msg(inet_pton(family_of(text), text, addr) == 1, "bad address %s", text);
    return addr;
}

static int add(const char *text, unsigned prefix, const char *value)
{
    return nettree_add(t, family_of(text), parse(text), prefix, value);
}

/* The value found for text with `bits` known bits; *prefix as nettree_lookup. */
static const char *find(const char *text, unsigned bits, unsigned *prefix)
{
    return nettree_lookup(t, family_of(text), parse(text), bits, prefix);
}

static void expect(const char *text, unsigned bits, const char *value, unsigned prefix)
{
    unsigned got = 99;
    const char *v = find(text, bits, &got);
    ck_assert_msg(v == value || (v && value && !strcmp(v, value)), "%s/%u: got %s, want %s", text,
                  bits, v ? v : "NULL", value ? value : "NULL");
    ck_assert_uint_eq(got, prefix);
}

START_TEST(nested_prefixes)
{
    ck_assert_int_eq(add("10.0.0.0", 8, "a"), 0);
    ck_assert_int_eq(add("10.1.2.0", 24, "c"), 0);
    ck_assert_int_eq(add("10.1.0.0", 16, "b"), 0);
    ck_assert_uint_eq(nettree_count(t), 3);
    expect("10.1.2.3", 32, "c", 24);
    expect("10.1.3.1", 32, "b", 16);
    expect("10.2.0.1", 32, "a", 8);
    expect("11.0.0.1", 32, NULL, 0);
    expect("9.255.255.255", 32, NULL, 0);
}
END_TEST

START_TEST(default_route)
{
    expect("192.0.2.1", 32, NULL, 0);
    ck_assert_int_eq(add("0.0.0.0", 0, "any"), 0);
    ck_assert_int_eq(add("192.0.2.0", 24, "doc"), 0);
    expect("192.0.2.1", 32, "doc", 24);
    expect("203.0.113.9", 32, "any", 0);
    expect("192.0.2.1", 0, "any", 0);
    expect("255.255.255.255", 32, "any", 0);
    expect("2001:db8::1", 128, NULL, 0); /* IPv4's default route is IPv4's only */
}
END_TEST

START_TEST(host_routes)
{
    ck_assert_int_eq(add("192.0.2.1", 32, "h4"), 0);
    ck_assert_int_eq(add("2001:db8::1", 128, "h6"), 0);
    expect("192.0.2.1", 32, "h4", 32);
    expect("192.0.2.2", 32, NULL, 0);
    expect("192.0.2.1", 31, NULL, 0);
    expect("2001:db8::1", 128, "h6", 128);
    expect("2001:db8::", 128, NULL, 0);
}
END_TEST

START_TEST(host_bits_ignored)
{
    ck_assert_int_eq(add("10.1.2.77", 24, "net"), 0);
    expect("10.1.2.1", 32, "net", 24);
    expect("10.1.3.77", 32, NULL, 0);
    ck_assert_int_eq(add("10.1.2.0", 24, "again"), -1);
    ck_assert_int_eq(add("10.1.2.255", 24, "again"), -1);
    expect("10.1.2.200", 32, "net", 24);
    ck_assert_int_eq(add("2001:db8:ffff::", 31, "v6"), 0);
    expect("2001:db9::1", 128, "v6", 31);
    expect("2001:dba::1", 128, NULL, 0);
}
END_TEST

START_TEST(duplicates_keep_the_first_value)
{
    ck_assert_int_eq(add("198.51.100.0", 24, "first"), 0);
    ck_assert_int_eq(add("198.51.100.0", 24, "second"), -1);
    ck_assert_uint_eq(nettree_count(t), 1);
    expect("198.51.100.7", 32, "first", 24);
    /* 10.0/16 and 10.1/16 part at /15: adding 10.0/15 fills that branch, once. */
    ck_assert_int_eq(add("10.0.0.0", 16, "x"), 0);
    ck_assert_int_eq(add("10.1.0.0", 16, "y"), 0);
    expect("10.1.0.1", 15, NULL, 0);
    ck_assert_int_eq(add("10.0.0.0", 15, "both"), 0);
    ck_assert_int_eq(add("10.0.0.0", 15, "dup"), -1);
    ck_assert_uint_eq(nettree_count(t), 4);
    expect("10.1.0.1", 15, "both", 15);
    expect("10.1.0.1", 32, "y", 16);
}
END_TEST

START_TEST(bits_limit_what_can_match)
{
    ck_assert_int_eq(add("10.1.0.0", 16, "b"), 0);
    ck_assert_int_eq(add("10.1.2.0", 24, "c"), 0);
    expect("10.1.2.3", 16, "b", 16);
    expect("10.1.2.3", 23, "b", 16);
    expect("10.1.2.3", 24, "c", 24);
    expect("10.1.2.3", 8, NULL, 0);
    expect("10.1.2.3", 99, "c", 24); /* more bits than there are: all of them */
}
END_TEST

START_TEST(ipv6)
{
    ck_assert_int_eq(add("2001:db8::", 32, "doc"), 0);
    ck_assert_int_eq(add("2001:db8:1::", 48, "site"), 0);
    ck_assert_int_eq(add("2001:db8:1:2::", 64, "lan"), 0);
    ck_assert_int_eq(add("::", 0, "any6"), 0);
    ck_assert_int_eq(add("10.0.0.0", 8, "v4"), 0);
    expect("2001:db8:1:2::99", 128, "lan", 64);
    expect("2001:db8:1:3::1", 128, "site", 48);
    expect("2001:db8:1:2::99", 56, "site", 48);
    expect("2001:db8:2::1", 128, "doc", 32);
    expect("2001:db9::1", 128, "any6", 0);
    expect("::ffff:10.0.0.1", 128, "any6", 0); /* callers unmap; the tree does not */
    expect("10.0.0.1", 32, "v4", 8);
}
END_TEST

START_TEST(unknown_family)
{
    uint8_t addr[16] = {0};
    unsigned prefix = 7;
    ck_assert_int_eq(add("0.0.0.0", 0, "any"), 0);
    ck_assert_ptr_null(nettree_lookup(t, AF_UNIX, addr, 0, &prefix));
    ck_assert_uint_eq(prefix, 0);
    ck_assert_ptr_nonnull(nettree_lookup(t, AF_INET, addr, 32, NULL));
}
END_TEST

/* ---- against a brute-force oracle ------------------------------------------------------ */

struct net {
    int family;
    uint8_t addr[16];
    unsigned prefix;
};

static uint64_t rng_state = 0x5eed1e55u;

/* splitmix64: fixed seed, same sequence everywhere. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static bool net_contains(const struct net *n, int family, const uint8_t *addr, unsigned bits)
{
    if (n->family != family || n->prefix > bits)
        return false;
    unsigned whole = n->prefix / 8, mask = 0xff00u >> (n->prefix % 8);
    return !memcmp(n->addr, addr, whole) &&
           (whole == 16 || !((n->addr[whole] ^ addr[whole]) & mask));
}

static const struct net *oracle(const struct net *nets, size_t n, int family, const uint8_t *addr,
                                unsigned bits)
{
    const struct net *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (net_contains(&nets[i], family, addr, bits) && (!best || nets[i].prefix > best->prefix))
            best = &nets[i];
    return best;
}

/* Addresses share a few random bases, so that networks nest, overlap and repeat. */
static void random_addr(int family, uint8_t *addr, const uint8_t bases[8][16])
{
    const uint8_t *base = bases[rng() % 8];
    unsigned keep = (unsigned)(rng() % (family == AF_INET ? 33 : 129));
    for (unsigned i = 0; i < 16; i++)
        addr[i] = (uint8_t)rng();
    for (unsigned i = 0; i < keep; i++) {
        unsigned m = 0x80u >> (i % 8);
        addr[i / 8] = (uint8_t)((addr[i / 8] & ~m) | (base[i / 8] & m));
    }
}

static void random_net(struct net *n, const uint8_t bases[8][16])
{
    n->family = rng() % 2 ? AF_INET : AF_INET6;
    unsigned max = n->family == AF_INET ? 32 : 128;
    random_addr(n->family, n->addr, bases);
    n->prefix = (unsigned)(rng() % (max + 1));
    for (unsigned i = n->prefix; i < 128; i++)
        n->addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* Adds 10000 networks, keeping the ones the tree took; returns how many. */
static size_t fill(struct net *nets, size_t want, const uint8_t bases[8][16])
{
    size_t n = 0;
    for (size_t i = 0; i < want; i++) {
        random_net(&nets[n], bases);
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = nets[j].family == nets[n].family && nets[j].prefix == nets[n].prefix &&
                  !memcmp(nets[j].addr, nets[n].addr, 16);
        int r = nettree_add(t, nets[n].family, nets[n].addr, nets[n].prefix, &nets[n]);
        ck_assert_int_eq(r, dup ? -1 : 0);
        n += !dup;
    }
    return n;
}

START_TEST(random_against_oracle)
{
    enum { NETS = 10000, QUERIES = 20000 };
    static struct net nets[NETS];
    uint8_t bases[8][16];
    for (unsigned i = 0; i < 8; i++)
        for (unsigned j = 0; j < 16; j++)
            bases[i][j] = (uint8_t)rng();
    size_t n = fill(nets, NETS, bases);
    ck_assert_uint_eq(nettree_count(t), n);
    ck_assert_uint_gt(n, NETS / 2);
    size_t matched = 0;
    for (unsigned q = 0; q < QUERIES; q++) {
        int family = rng() % 2 ? AF_INET : AF_INET6;
        uint8_t addr[16];
        random_addr(family, addr, bases);
        unsigned bits = (unsigned)(rng() % ((family == AF_INET ? 32 : 128) + 1)), prefix = 999;
        const struct net *want = oracle(nets, n, family, addr, bits);
        ck_assert_ptr_eq(nettree_lookup(t, family, addr, bits, &prefix), want);
        ck_assert_uint_eq(prefix, want ? want->prefix : 0);
        matched += want != NULL;
    }
    ck_assert_uint_gt(matched, QUERIES / 4); /* the queries really exercised the tree */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nettree");
    TCase *tc = tcase_create("nettree");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, nested_prefixes);
    tcase_add_test(tc, default_route);
    tcase_add_test(tc, host_routes);
    tcase_add_test(tc, host_bits_ignored);
    tcase_add_test(tc, duplicates_keep_the_first_value);
    tcase_add_test(tc, bits_limit_what_can_match);
    tcase_add_test(tc, ipv6);
    tcase_add_test(tc, unknown_family);
    tcase_add_test(tc, random_against_oracle);
    tcase_set_timeout(tc, 60); /* the oracle is quadratic, slower under sanitizers */
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
