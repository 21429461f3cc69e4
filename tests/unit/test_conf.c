/* test_conf.c — unit tests of the YAML config loader: the values it keeps, the defaults it
 * fills in, and the place and wording of every error it reports.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/strbuf.h"
#include "server/conf.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Two regions every test may name; what a test appends starts on line 4. */
#define REGIONS                                                                                    \
    "regions:\n"                                                                                   \
    "  r1: { location: [1, 2], addresses: [192.0.2.1] }\n"                                         \
    "  r2: { location: [3, 4], addresses: [192.0.2.2] }\n"

static struct diag d;

static void setup(void)
{
    diag_init(&d);
}

static void teardown(void)
{
    diag_free(&d);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
}

/* Loads yaml from a fresh temporary file, which is gone again when this returns. */
static struct config *load(const char *yaml)
{
    char path[] = "/tmp/meridian-conf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, yaml);
    struct config *c = conf_load(path, &d);
    unlink(path);
    return c;
}

static struct config *load_ok(const char *yaml)
{
    struct config *c = load(yaml);
    ck_assert_msg(c != NULL, "expected the config to load, got:\n%s", d.text ? d.text : "");
    ck_assert_uint_eq(d.errors, 0);
    return c;
}

/* The load must fail and the messages hold every one of want (NULL-terminated). */
static void fails_with(const char *yaml, const char *const *want)
{
    struct config *c = load(yaml);
    ck_assert_msg(c == NULL, "expected the config to be rejected");
    ck_assert_uint_gt(d.errors, 0);
    for (; *want; want++)
        ck_assert_msg(d.text && strstr(d.text, *want), "missing \"%s\" in:\n%s", *want,
                      d.text ? d.text : "(nothing)");
}

#define FAILS_WITH(yaml, ...) fails_with((yaml), (const char *const[]){__VA_ARGS__, NULL})

/* ---- a whole config ---- */

static const char example[] =
    "server:\n"
    "  listen: [\"0.0.0.0:53\", \"[::]:53\"]\n"
    "  workers: auto\n"
    "  control: /run/meridian/control.sock\n"
    "  state: /var/lib/meridian/state.yaml\n"
    "  metrics: 127.0.0.1:9153\n"
    "\n"
    "geoip:\n"
    "  databases: [/var/lib/GeoIP/GeoLite2-City.mmdb]\n"
    "  nets:\n"
    "    10.20.0.0/16: eu-west-1\n"
    "\n"
    "regions:\n"
    "  us-east-1:\n"
    "    location: [38.9, -77.0]\n"
    "    addresses: [192.0.2.10, 192.0.2.11, \"2001:db8:1::10\"]\n"
    "    cname: us-east-1.lb.example.net.\n"
    "    check: web-health\n"
    "  eu-west-1: { location: [53.3, -6.3], addresses: [198.51.100.10], check: web-health }\n"
    "  apac-south: { location: [19.1, 72.9], addresses: [203.0.113.10], check: web-health }\n"
    "\n"
    "checks:\n"
    "  web-health:\n"
    "    type: http\n"
    "    url: \"http://{address}:8080/health\"\n"
    "    expect: 200\n"
    "    interval: 5s\n"
    "    timeout: 2s\n"
    "    fall: 3\n"
    "    rise: 2\n"
    "\n"
    "services:\n"
    "  web:\n"
    "    policy: geo\n"
    "    map:\n"
    "      NA: [us-east-1, eu-west-1]\n"
    "      EU: [eu-west-1, us-east-1]\n"
    "      AS: [apac-south, eu-west-1]\n"
    "      GB: [eu-west-1]\n"
    "      default: [us-east-1]\n"
    "  api:\n"
    "    policy: weighted\n"
    "    weights: { us-east-1: 80, eu-west-1: 20 }\n"
    "  edge:\n"
    "    policy: nearest\n"
    "  app:\n"
    "    policy: latency\n"
    "    latency_table: /etc/meridian/rtt.csv\n"
    "  pay:\n"
    "    policy: failover\n"
    "    order: [us-east-1, eu-west-1]\n"
    "\n"
    "zones:\n"
    "  example.com: /etc/meridian/zones/example.com.zone\n";

START_TEST(example_server_and_geoip)
{
    struct config *c = load_ok(example);
    ck_assert_uint_eq(c->server.nlisten, 2);
    ck_assert_str_eq(c->server.listen[0].text, "0.0.0.0:53");
    ck_assert_str_eq(c->server.listen[1].text, "[::]:53");
    ck_assert_uint_eq(c->server.workers, 0);
    ck_assert_str_eq(c->server.control, "/run/meridian/control.sock");
    ck_assert_str_eq(c->server.state, "/var/lib/meridian/state.yaml");
    ck_assert_str_eq(c->server.metrics, "127.0.0.1:9153");
    ck_assert_uint_eq(c->geoip.ndatabases, 1);
    ck_assert_str_eq(c->geoip.databases[0], "/var/lib/GeoIP/GeoLite2-City.mmdb");
    ck_assert_uint_eq(c->geoip.nnets, 1);
    ck_assert_str_eq(c->geoip.nets[0].ip.text, "10.20.0.0");
    ck_assert_uint_eq(c->geoip.nets[0].prefix, 16);
    ck_assert_uint_eq(c->geoip.nets[0].nregions, 1);
    ck_assert_uint_eq(c->geoip.nets[0].regions[0], 1);
    ck_assert_uint_eq(c->geoip.nets[0].mark.line, 11);
    ck_assert_uint_eq(c->geoip.nets[0].mark.col, 5);
    ck_assert(c->geoip.ecs);
    conf_free(c);
}
END_TEST

START_TEST(example_regions_and_checks)
{
    struct config *c = load_ok(example);
    ck_assert_uint_eq(c->nregions, 3);
    const struct conf_region *r = &c->regions[0];
    ck_assert_str_eq(r->name, "us-east-1");
    ck_assert(r->has_location);
    ck_assert_double_eq_tol(r->lat, 38.9, 1e-9);
    ck_assert_double_eq_tol(r->lon, -77.0, 1e-9);
    ck_assert_uint_eq(r->naddresses, 3);
    ck_assert_int_eq(r->addresses[2].family, AF_INET6);
    ck_assert_str_eq(r->addresses[2].text, "2001:db8:1::10");
    ck_assert_str_eq(r->cname, "us-east-1.lb.example.net.");
    ck_assert_int_eq(r->check, 0);
    ck_assert_uint_eq(r->mark.line, 14);
    ck_assert_uint_eq(r->mark.col, 3);
    ck_assert_str_eq(c->regions[2].name, "apac-south");
    ck_assert_uint_eq(c->nchecks, 1);
    const struct conf_check *k = &c->checks[0];
    ck_assert_int_eq(k->type, CHECK_HTTP);
    ck_assert_str_eq(k->url, "http://{address}:8080/health");
    ck_assert_uint_eq(k->nexpect, 1);
    ck_assert_uint_eq(k->expect[0], 200);
    ck_assert_uint_eq(k->interval_ms, 5000);
    ck_assert_uint_eq(k->timeout_ms, 2000);
    ck_assert_uint_eq(k->fall, 3);
    ck_assert_uint_eq(k->rise, 2);
    conf_free(c);
}
END_TEST

START_TEST(example_services_and_zones)
{
    struct config *c = load_ok(example);
    ck_assert_uint_eq(c->nservices, 5);
    const struct conf_service *web = &c->services[conf_find_service(c, "web")];
    ck_assert_int_eq(web->policy, POLICY_GEO);
    ck_assert_uint_eq(web->nmap, 5);
    ck_assert_str_eq(web->map[0].key, "NA");
    ck_assert_uint_eq(web->map[0].choice.n, 2);
    ck_assert_uint_eq(web->map[0].choice.regions[0], 0);
    ck_assert_uint_eq(web->map[0].choice.regions[1], 1);
    ck_assert_ptr_null(web->map[0].choice.weights);
    ck_assert_str_eq(web->map[4].key, "default");
    const struct conf_service *api = &c->services[conf_find_service(c, "api")];
    ck_assert_int_eq(api->policy, POLICY_WEIGHTED);
    ck_assert_uint_eq(api->set.n, 2);
    ck_assert_uint_eq(api->set.weights[0], 80);
    ck_assert_uint_eq(api->set.weights[1], 20);
    ck_assert_uint_eq(c->services[2].set.n, 0); /* nearest: every region */
    ck_assert_str_eq(c->services[3].latency_table, "/etc/meridian/rtt.csv");
    ck_assert_int_eq(c->services[4].policy, POLICY_FAILOVER);
    ck_assert_uint_eq(c->services[4].set.n, 2);
    ck_assert_ptr_null(c->services[4].set.weights);
    ck_assert_uint_eq(c->nzones, 1);
    ck_assert_str_eq(c->zones[0].name, "example.com.");
    ck_assert_str_eq(c->zones[0].path, "/etc/meridian/zones/example.com.zone");
    ck_assert_int_eq(conf_find_region(c, "apac-south"), 2);
    ck_assert_int_eq(conf_find_region(c, "mars"), -1);
    ck_assert_int_eq(conf_find_service(c, "nope"), -1);
    conf_free(c);
}
END_TEST

START_TEST(defaults)
{
    struct config *c = load_ok("zones: {}\n");
    ck_assert_uint_eq(c->server.nlisten, 2);
    ck_assert_str_eq(c->server.listen[0].text, "0.0.0.0:53");
    ck_assert_str_eq(c->server.listen[1].text, "[::]:53");
    ck_assert_uint_eq(c->server.workers, 0);
    ck_assert_uint_eq(c->server.udp_payload, 1232);
    ck_assert_uint_eq(c->server.tcp_idle_ms, 10000);
    ck_assert_uint_eq(c->server.tcp_max_clients, 1024);
    ck_assert_ptr_null(c->server.control);
    ck_assert_ptr_null(c->server.state);
    ck_assert_ptr_null(c->server.metrics);
    ck_assert(c->geoip.ecs);
    ck_assert_uint_eq(c->geoip.ndatabases, 0);
    ck_assert_ptr_null(c->geoip.fields.country);
    ck_assert_uint_eq(c->nregions + c->nchecks + c->nservices + c->nzones, 0);
    conf_free(c);
}
END_TEST

START_TEST(check_defaults)
{
    struct config *c = load_ok("checks:\n  h: { url: \"http://{address}/\" }\n");
    const struct conf_check *k = &c->checks[0];
    ck_assert_int_eq(k->type, CHECK_HTTP);
    ck_assert(k->tls_verify);
    ck_assert(!k->initial_down);
    ck_assert_uint_eq(k->interval_ms, 5000);
    ck_assert_uint_eq(k->timeout_ms, 2000);
    ck_assert_uint_eq(k->fall, 3);
    ck_assert_uint_eq(k->rise, 2);
    ck_assert_uint_eq(k->nexpect, 1);
    ck_assert_uint_eq(k->expect[0], 200);
    ck_assert_ptr_null(k->body);
    conf_free(c);
}
END_TEST

START_TEST(empty_sections_are_empty)
{
    struct config *c = load_ok("server:\ngeoip:\nzones:\n");
    ck_assert_uint_eq(c->server.nlisten, 2);
    ck_assert_uint_eq(c->nzones, 0);
    conf_free(c);
}
END_TEST

START_TEST(earlier_errors_do_not_fail_the_load)
{
    diag_error(&d, "other", 1, 1, "an error from before");
    struct config *c = load("zones: {}\n");
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(d.errors, 1);
    conf_free(c);
}
END_TEST

/* ---- the file as a whole ---- */

START_TEST(syntax_error_has_place)
{
    FAILS_WITH("server:\n  listen: [\"0.0.0.0:53\"\n  workers: 4\n",
               "error: invalid YAML: ", ":3:");
}
END_TEST

START_TEST(bad_indentation)
{
    FAILS_WITH("server:\n  workers: 4\n   udp_payload: 1232\n",
               ":3:15: error: invalid YAML: ", "check the indentation");
}
END_TEST

START_TEST(tab_indentation)
{
    FAILS_WITH("server:\n  workers: 2\n\tudp_payload: 1232\n",
               ":3:1: error: invalid YAML: a tab in the indentation; indent with spaces only");
}
END_TEST

START_TEST(empty_file)
{
    FAILS_WITH("", "error: the config is empty; write at least one section");
    teardown();
    setup();
    FAILS_WITH("# nothing but a comment\n", "error: the config is empty");
}
END_TEST

START_TEST(top_level_not_a_mapping)
{
    FAILS_WITH("- server\n- zones\n", ":1:1: error: the top level must be a mapping of sections",
               "not a list");
}
END_TEST

START_TEST(second_document)
{
    FAILS_WITH("zones: {}\n---\nzones: {}\n", ":3:1: error: a config file holds one YAML "
                                              "document");
}
END_TEST

START_TEST(duplicate_keys)
{
    FAILS_WITH("server:\n  workers: 2\n  workers: 3\nzones: {}\nzones: {}\n",
               ":3:3: error: duplicate key \"workers\" (first at line 2, column 3)",
               ":5:1: error: duplicate key \"zones\" (first at line 4, column 1)");
    ck_assert_uint_eq(d.errors, 2);
}
END_TEST

/* Every repeat is reported once, and the one value read is the first: the walk skips the
 * repeats by looking them up, not by comparing each key with all the earlier ones. */
START_TEST(many_duplicate_keys)
{
    enum { N = 50000 };
    struct strbuf y;
    sb_init(&y);
    sb_puts(&y, "server:\n");
    for (unsigned i = 0; i < N; i++)
        sb_printf(&y, "  workers: %u\n", i % 7 + 1);
    sb_puts(&y, "zones: {}\n");
    ck_assert(!y.failed);
    struct config *c = load(y.s);
    sb_free(&y);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(d.errors, N - 1);
    ck_assert_ptr_nonnull(
        strstr(d.text, ":3:3: error: duplicate key \"workers\" (first at line 2"));
    ck_assert_ptr_null(strstr(d.text, "unknown key"));
}
END_TEST

START_TEST(missing_file)
{
    struct config *c = conf_load("/nonexistent/meridian.yaml", &d);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(d.text, "/nonexistent/meridian.yaml: error: cannot open"));
}
END_TEST

START_TEST(unknown_keys_list_the_accepted_ones)
{
    FAILS_WITH("server:\n  listne: [\"127.0.0.1:53\"]\nzonez: {}\n",
               ":2:3: error: unknown key \"listne\" in server; did you mean \"listen\"? expected "
               "one of: listen, workers, udp_payload,",
               ":3:1: error: unknown key \"zonez\" in the top level; did you mean \"zones\"?");
    ck_assert_ptr_nonnull(strstr(d.text, " metrics, "));
    ck_assert_ptr_nonnull(strstr(d.text, " query_log, nsid, identity, version, cookies, "
                                         "cookie_secret_file, dnstap\n"));
}
END_TEST

START_TEST(unknown_key_without_a_near_one)
{
    FAILS_WITH(REGIONS "  r3: { addresses: [192.0.2.3], colour: blue }\n",
               ":4:33: error: unknown key \"colour\" in region \"r3\"; expected one of: location, "
               "addresses, cname, check\n");
}
END_TEST

START_TEST(section_of_the_wrong_type)
{
    FAILS_WITH("server: [a, b]\nregions: 3\n",
               ":1:9: error: server must be a mapping of \"key: value\" entries, not a list",
               ":2:10: error: regions must be a mapping of \"key: value\" entries, not a single "
               "value");
}
END_TEST

START_TEST(many_errors_at_once)
{
    FAILS_WITH("server:\n  workers: lots\n  udp_payload: 100\n" REGIONS
               "services:\n  web: { policy: geo, map: { EU: [r9], default: [r1] } }\n"
               "zones:\n  bad name: z.zone\n",
               ":2:12: error: \"workers\" must be a positive integer up to 1024 or \"auto\", e.g. "
               "workers: 4",
               ":3:16: error: \"udp_payload\" must be an integer from 512 to 4096, e.g. "
               "udp_payload: 1232",
               ":8:35: error: unknown region \"r9\"; known regions: r1, r2",
               ":10:3: error: zone name \"bad name\" is not a domain name");
    ck_assert_uint_eq(d.errors, 4);
}
END_TEST

/* ---- server ---- */

START_TEST(listen_forms)
{
    struct config *c = load_ok("server:\n  listen: [\"[::1]:5353\", 127.0.0.1:5300, \"::\", "
                               "192.0.2.1, \"[2001:DB8::1]\"]\n");
    ck_assert_uint_eq(c->server.nlisten, 5);
    ck_assert_str_eq(c->server.listen[0].text, "[::1]:5353");
    ck_assert_str_eq(c->server.listen[1].text, "127.0.0.1:5300");
    ck_assert_str_eq(c->server.listen[2].text, "[::]:53");
    ck_assert_str_eq(c->server.listen[3].text, "192.0.2.1:53");
    ck_assert_str_eq(c->server.listen[4].text, "[2001:db8::1]:53");
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->server.listen[0].addr;
    ck_assert_int_eq(s6->sin6_family, AF_INET6);
    ck_assert_int_eq(ntohs(s6->sin6_port), 5353);
    ck_assert_uint_eq(c->server.listen[0].addrlen, sizeof(struct sockaddr_in6));
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->server.listen[1].addr;
    ck_assert_int_eq(s4->sin_family, AF_INET);
    ck_assert_int_eq(ntohs(s4->sin_port), 5300);
    ck_assert_uint_eq(ntohl(s4->sin_addr.s_addr), 0x7f000001);
    conf_free(c);
}
END_TEST

START_TEST(listen_single_string)
{
    struct config *c = load_ok("server:\n  listen: 127.0.0.1:5353\n");
    ck_assert_uint_eq(c->server.nlisten, 1);
    ck_assert_str_eq(c->server.listen[0].text, "127.0.0.1:5353");
    conf_free(c);
}
END_TEST

START_TEST(listen_errors)
{
    FAILS_WITH("server:\n  listen:\n    - \"[::1]:0\"\n    - 1.2.3.4:99999\n    - dns.example:53\n"
               "    - \"[::1\"\n    - 127.0.0.1:53\n    - 127.0.0.1:53\n",
               ":3:7: error: listen address \"[::1]:0\" is not valid; write IPv4:PORT, "
               "[IPv6]:PORT or a bare address for port 53",
               ":4:7: error: listen address \"1.2.3.4:99999\"",
               ":5:7: error: listen address "
               "\"dns.example:53\"",
               ":6:7: error: listen address \"[::1\"",
               ":8:7: error: listen address 127.0.0.1:53 is listed twice");
    ck_assert_uint_eq(d.errors, 5);
}
END_TEST

START_TEST(workers_and_limits)
{
    struct config *c = load_ok("server:\n  workers: 8\n  udp_payload: 4096\n  tcp_max_clients: 1\n"
                               "  control_group: dns\n  metrics: \"[::1]:9153\"\n");
    ck_assert_uint_eq(c->server.workers, 8);
    ck_assert_uint_eq(c->server.udp_payload, 4096);
    ck_assert_uint_eq(c->server.tcp_max_clients, 1);
    ck_assert_str_eq(c->server.control_group, "dns");
    ck_assert_str_eq(c->server.metrics, "[::1]:9153");
    conf_free(c);
    teardown();
    setup();
    FAILS_WITH("server:\n  workers: 0\n  tcp_max_clients: 12abc\n  metrics: 9153\n",
               ":2:12: error: \"workers\" must be a positive integer up to 1024 or \"auto\"",
               ":3:20: error: \"tcp_max_clients\" must be an integer from 1 to 1000000",
               ":4:12: error: \"metrics\" must be HOST:PORT, e.g. metrics: 127.0.0.1:9153");
}
END_TEST

START_TEST(integer_overflow)
{
    FAILS_WITH("server:\n  udp_payload: 18446744073709551617\n  tcp_max_clients: -5\n",
               ":2:16: error: \"udp_payload\" must be an integer from 512 to 4096",
               ":3:20: error: \"tcp_max_clients\" must be an integer");
}
END_TEST

START_TEST(missing_value)
{
    FAILS_WITH("server:\n  udp_payload:\n  control: \"\"\n",
               ":2:15: error: \"udp_payload\" needs a value, e.g. udp_payload: 1232",
               ":3:12: error: \"control\" must be a file path");
}
END_TEST

START_TEST(control_socket_path_length)
{
    char yaml[512] = "server:\n  control: /";
    memset(yaml + strlen(yaml), 'a', 120);
    strcat(yaml, ".sock\n");
    FAILS_WITH(yaml, ":2:12: error: \"control\" is 126 bytes long once resolved, and a socket path "
                     "must be under 108; choose a shorter one");
}
END_TEST

START_TEST(keys_must_be_names)
{
    FAILS_WITH("? [a, b]\n: 1\nzones: {}\n",
               ":1:3: error: a key must be a plain name, not a list or a mapping");
}
END_TEST

START_TEST(durations)
{
    static const struct {
        const char *text;
        unsigned ms;
    } ok[] = {{"500ms", 500}, {"5s", 5000}, {"2m", 120000}, {"1h", 3600000}, {"7", 7000}};
    char yaml[128];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(yaml, sizeof(yaml), "server:\n  tcp_idle_timeout: %s\n", ok[i].text);
        struct config *c = load_ok(yaml);
        ck_assert_uint_eq(c->server.tcp_idle_ms, ok[i].ms);
        conf_free(c);
    }
}
END_TEST

START_TEST(duration_errors)
{
    FAILS_WITH("checks:\n  a: { url: \"http://x/\", interval: 1.5s }\n"
               "  b: { url: \"http://x/\", interval: 5 s }\n"
               "  c: { url: \"http://x/\", interval: 99999999999999999999h }\n"
               "  d: { url: \"http://x/\", interval: 25h }\n",
               ":2:36: error: \"interval\" must be a duration such as 500ms, 5s, 2m or 1h (a bare "
               "number means seconds), e.g. interval: 5s",
               ":3:36: error: \"interval\" must be a duration",
               ":4:36: error: \"interval\" must be a duration",
               ":5:36: error: \"interval\" must be from 100ms to 24h, e.g. interval: 5s");
}
END_TEST

START_TEST(booleans)
{
    static const char *const yes[] = {"true", "yes", "on", "True", "ON"};
    static const char *const no[] = {"false", "no", "off", "No", "FALSE"};
    char yaml[64];
    for (size_t i = 0; i < 5; i++) {
        snprintf(yaml, sizeof(yaml), "geoip:\n  ecs: %s\n", no[i]);
        struct config *c = load_ok(yaml);
        ck_assert(!c->geoip.ecs);
        conf_free(c);
        snprintf(yaml, sizeof(yaml), "geoip:\n  ecs: %s\n", yes[i]);
        c = load_ok(yaml);
        ck_assert(c->geoip.ecs);
        conf_free(c);
    }
    FAILS_WITH("geoip:\n  ecs: maybe\n", ":2:8: error: \"ecs\" must be true or false, e.g. ecs: "
                                         "false");
}
END_TEST

/* ---- identity and cookies ---- */

START_TEST(nsid_identity_version)
{
    struct config *c = load_ok("server:\n  nsid: ns1.fra\n  identity: ns1.example.net\n");
    ck_assert_uint_eq(c->server.nsid_len, 7);
    ck_assert_mem_eq(c->server.nsid, "ns1.fra", 7);
    ck_assert_str_eq(c->server.identity, "ns1.example.net");
    ck_assert_ptr_null(c->server.version);
    ck_assert(c->server.cookies);
    ck_assert_uint_eq(c->server.cookie_secrets.n, 1); /* the process's own */
    conf_free(c);
    c = load_ok("server:\n  nsid: \"hex:00ff10\"\n");
    ck_assert_uint_eq(c->server.nsid_len, 3);
    ck_assert_mem_eq(c->server.nsid, "\x00\xff\x10", 3);
    conf_free(c);
    FAILS_WITH("server:\n  nsid: \"hex:0g\"\n", ":2:9: error: \"nsid\": \"hex:0g\" is not hex");
    FAILS_WITH("server:\n  nsid: \"hex:abc\"\n", ":2:9: error: \"nsid\" must be 1 to 255 bytes");
}
END_TEST

/* Writes a secret file with mode; its path in path. */
static void secret_file(char *path, const char *text, mode_t mode)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, text);
    ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(cookie_secret_file)
{
    char path[] = "/tmp/meridian-secret-XXXXXX", yaml[128];
    secret_file(path, "e5e973e5a6b2a43f48e7dc849e37bfcf\n 000102030405060708090A0B0C0D0E0F \n",
                0640);
    snprintf(yaml, sizeof(yaml), "server:\n  cookie_secret_file: %s\n", path);
    struct config *c = load_ok(yaml);
    ck_assert_uint_eq(c->server.cookie_secrets.n, 2);
    ck_assert_mem_eq(c->server.cookie_secrets.key[0], "\xe5\xe9\x73", 3);
    ck_assert_mem_eq(c->server.cookie_secrets.key[1] + 13, "\x0d\x0e\x0f", 3);
    conf_free(c);
    ck_assert_int_eq(chmod(path, 0644), 0);
    FAILS_WITH(yaml, "the cookie secret file is readable or writable by others (mode 0644)");
    write_file(path, "e5e973e5a6b2a43f48e7dc849e37bf\n");
    ck_assert_int_eq(chmod(path, 0600), 0);
    FAILS_WITH(yaml, ":1: error: a cookie secret is 16 bytes written as 32 hex digits");
    write_file(path, "\n\n");
    FAILS_WITH(yaml, "the file holds no secret");
    unlink(path);
    FAILS_WITH(yaml, ":2:23: error: server.cookie_secret_file: cannot read");
}
END_TEST

/* ---- paths ---- */

START_TEST(relative_paths_follow_the_config)
{
    char dir[] = "/tmp/meridian-dir-XXXXXX", path[PATH_MAX], want[PATH_MAX + 64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/meridian.yaml", dir);
    write_file(path, REGIONS "server:\n  control: run/ctl.sock\n  state: ./state.yaml\n"
                             "geoip:\n  databases: City.mmdb\n"
                             "services:\n  s: { policy: latency, latency_table: rtt.csv }\n"
                             "zones:\n  example.com: zones/example.com.zone\n"
                             "  example.org: /abs/example.org.zone\n");
    struct config *c = conf_load(path, &d);
    unlink(path);
    rmdir(dir);
    ck_assert_msg(c != NULL, "%s", d.text);
    snprintf(want, sizeof(want), "%s/run/ctl.sock", dir);
    ck_assert_str_eq(c->server.control, want);
    snprintf(want, sizeof(want), "%s/state.yaml", dir);
    ck_assert_str_eq(c->server.state, want);
    snprintf(want, sizeof(want), "%s/City.mmdb", dir);
    ck_assert_str_eq(c->geoip.databases[0], want);
    snprintf(want, sizeof(want), "%s/rtt.csv", dir);
    ck_assert_str_eq(c->services[0].latency_table, want);
    snprintf(want, sizeof(want), "%s/zones/example.com.zone", dir);
    ck_assert_str_eq(c->zones[0].path, want);
    ck_assert_str_eq(c->zones[1].path, "/abs/example.org.zone");
    ck_assert_str_eq(c->path, path);
    conf_free(c);
}
END_TEST

START_TEST(relative_config_path_is_made_absolute)
{
    char dir[] = "/tmp/meridian-dir-XXXXXX", cwd[PATH_MAX], want[PATH_MAX + 64];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chdir(dir), 0);
    write_file("m.yaml", "zones:\n  example.com: example.com.zone\n");
    struct config *c = conf_load("./m.yaml", &d);
    unlink("m.yaml");
    ck_assert_int_eq(chdir(cwd), 0);
    rmdir(dir);
    ck_assert_ptr_nonnull(c);
    snprintf(want, sizeof(want), "%s/example.com.zone", dir);
    ck_assert_str_eq(c->zones[0].path, want);
    conf_free(c);
}
END_TEST

/* ---- zones ---- */

START_TEST(zone_names)
{
    struct config *c = load_ok("zones:\n  Example.COM: a.zone\n  .: root.zone\n"
                               "  b.example.: b.zone\n");
    ck_assert_uint_eq(c->nzones, 3);
    ck_assert_str_eq(c->zones[0].name, "example.com.");
    ck_assert_str_eq(c->zones[1].name, ".");
    ck_assert_str_eq(c->zones[2].name, "b.example.");
    ck_assert_uint_eq(c->zones[2].mark.line, 4);
    ck_assert_uint_eq(c->zones[2].mark.col, 3);
    conf_free(c);
}
END_TEST

START_TEST(zone_errors)
{
    FAILS_WITH("zones:\n  example.com: a.zone\n  EXAMPLE.com.: b.zone\n  a..b: c.zone\n"
               "  c.example: [x]\n",
               ":3:3: error: zone example.com. is listed twice (first at line 2); remove one",
               ":4:3: error: zone name \"a..b\" is not a domain name; write it like example.com",
               ":5:14: error: \"c.example\" must be a file path, e.g. c.example: "
               "zones/example.com.zone");
}
END_TEST

/* ---- geoip ---- */

START_TEST(nets)
{
    struct config *c = load_ok(REGIONS "geoip:\n  nets:\n    10.0.0.0/8: [r2, r1]\n"
                                       "    \"2001:db8::/32\": r1\n    192.0.2.7: r2\n"
                                       "    0.0.0.0/0: r1\n");
    ck_assert_uint_eq(c->geoip.nnets, 4);
    const struct conf_net *n = c->geoip.nets;
    ck_assert_uint_eq(n[0].nregions, 2);
    ck_assert_uint_eq(n[0].regions[0], 1);
    ck_assert_uint_eq(n[0].regions[1], 0);
    ck_assert_int_eq(n[1].ip.family, AF_INET6);
    ck_assert_str_eq(n[1].ip.text, "2001:db8::");
    ck_assert_uint_eq(n[1].prefix, 32);
    ck_assert_uint_eq(n[2].prefix, 32);
    ck_assert_uint_eq(n[3].prefix, 0);
    conf_free(c);
}
END_TEST

/* Long enough to need several reads, with the duplicate far from the first. */
START_TEST(many_nets_one_duplicate)
{
    size_t cap = 64 * 1024, len = 0;
    char *yaml = malloc(cap);
    ck_assert_ptr_nonnull(yaml);
    len += (size_t)snprintf(yaml, cap, REGIONS "geoip:\n  nets:\n");
    for (unsigned i = 0; i < 2000; i++)
        len += (size_t)snprintf(yaml + len, cap - len, "    10.%u.%u.0/24: r1\n", i / 256, i % 256);
    snprintf(yaml + len, cap - len, "    10.0.7.0/24: r2\n");
    FAILS_WITH(yaml, ":2006:5: error: duplicate key \"10.0.7.0/24\" (first at line 13, column 5)");
    ck_assert_uint_eq(d.errors, 1);
    free(yaml);
}
END_TEST

START_TEST(nets_host_bits)
{
    FAILS_WITH(REGIONS "geoip:\n  nets:\n    10.20.1.0/16: r1\n    \"2001:db8::1/32\": r2\n"
                       "    192.0.2.129/25: r1\n",
               ":6:5: error: 10.20.1.0/16 has host bits set; write 10.20.0.0/16",
               ":7:5: error: 2001:db8::1/32 has host bits set; write 2001:db8::/32",
               ":8:5: error: 192.0.2.129/25 has host bits set; write 192.0.2.128/25");
}
END_TEST

START_TEST(nets_errors)
{
    FAILS_WITH(REGIONS "geoip:\n  nets:\n    10.0.0/8: r1\n    10.0.0.0/33: r1\n"
                       "    10.1.0.0/16: mars\n    10.2.0.0/16: [r1, r1]\n",
               ":6:5: error: \"10.0.0/8\" is not a network; write ADDRESS/PREFIX, e.g. "
               "10.20.0.0/16",
               ":7:5: error: prefix /33 of 10.0.0.0/33 is too long; an IPv4 prefix is 0 to 32",
               ":8:18: error: unknown region \"mars\"; known regions: r1, r2",
               ":9:23: error: region \"r1\" is listed twice");
}
END_TEST

START_TEST(geoip_fields_and_databases)
{
    struct config *c = load_ok("geoip:\n  databases: [/a.mmdb, /b.mmdb]\n"
                               "  fields: { country: country_code, subdivision: "
                               "subdivisions.0.iso_code }\n");
    ck_assert_uint_eq(c->geoip.ndatabases, 2);
    ck_assert_str_eq(c->geoip.databases[1], "/b.mmdb");
    ck_assert_str_eq(c->geoip.fields.country, "country_code");
    ck_assert_str_eq(c->geoip.fields.subdivision, "subdivisions.0.iso_code");
    ck_assert_ptr_null(c->geoip.fields.latitude);
    conf_free(c);
    teardown();
    setup();
    FAILS_WITH("geoip:\n  fields: { country: country..iso_code, city: x }\n",
               ":2:22: error: \"country\" must be a dotted path into the database record",
               ":2:41: error: unknown key \"city\" in geoip.fields");
}
END_TEST

/* ---- regions ---- */

START_TEST(region_forms)
{
    struct config *c = load_ok("regions:\n  edge: { cname: LB.Example.NET }\n"
                               "  one: { addresses: \"2001:DB8::A\" }\n");
    ck_assert_str_eq(c->regions[0].cname, "lb.example.net.");
    ck_assert_uint_eq(c->regions[0].naddresses, 0);
    ck_assert(!c->regions[0].has_location);
    ck_assert_int_eq(c->regions[0].check, -1);
    ck_assert_uint_eq(c->regions[1].naddresses, 1);
    ck_assert_str_eq(c->regions[1].addresses[0].text, "2001:db8::a");
    conf_free(c);
}
END_TEST

START_TEST(region_errors)
{
    FAILS_WITH(
        "regions:\n  a: { location: [91, 0], addresses: [192.0.2.300] }\n"
        "  b: { location: [0, -181], cname: \"bad name\" }\n"
        "  c: { location: 5 }\n"
        "  d e: { addresses: [192.0.2.1, 192.0.2.1] }\n",
        ":2:19: error: latitude 91 is out of range; it must be from -90",
        ":2:39: error: \"192.0.2.300\" is not an IPv4 or IPv6 address",
        ":3:22: error: longitude -181 is out of range",
        ":3:36: error: \"cname\" must be a domain name, e.g. cname: us-east-1.lb.example.net.",
        ":4:18: error: \"location\" must be [latitude, longitude] in degrees, e.g. location: "
        "[38.9, -77.0]",
        ":4:3: error: region \"c\" has no addresses; add addresses: [IP, ...] or, for DYNC "
        "services only, a cname:",
        ":5:3: error: region name \"d e\" may only use letters, digits, '_', '.' and '-'",
        ":5:33: error: address 192.0.2.1 is listed twice; remove one");
}
END_TEST

/* A drain or weight on a name the state file cannot hold would be lost at the next start,
 * so the config refuses such names: 253 characters load, 254 do not. */
START_TEST(name_length_limit)
{
    char yaml[1024], name[301];
    memset(name, 'r', 300);
    name[253] = '\0';
    snprintf(yaml, sizeof(yaml),
             "regions:\n  %s: { addresses: [192.0.2.1] }\nservices:\n  %s: { policy: failover, "
             "order: [%s] }\n",
             name, name, name);
    conf_free(load_ok(yaml));
    teardown();
    setup();
    name[253] = 'r';
    name[254] = '\0';
    char svc[301];
    memset(svc, 's', 300);
    svc[300] = '\0';
    snprintf(yaml, sizeof(yaml),
             "regions:\n  %s: { addresses: [192.0.2.1] }\nservices:\n  %s: { policy: failover, "
             "order: [%s] }\n",
             name, svc, name);
    FAILS_WITH(yaml,
               ":2:3: error: region name \"rrrrrrrrrrrrrrrrrrrr...\" is 254 characters long; the "
               "limit is 253",
               ":4:3: error: service name \"ssssssssssssssssssss...\" is 300 characters long; the "
               "limit is 253");
}
END_TEST

START_TEST(region_check_reference)
{
    FAILS_WITH("checks:\n  web-health: { url: \"http://{address}/\" }\n"
               "  tcp-443: { type: tcp, port: 443 }\n"
               "regions:\n  r1: { addresses: [192.0.2.1], check: web-healht }\n",
               ":5:40: error: unknown check \"web-healht\"; known checks: web-health, tcp-443");
    teardown();
    setup();
    FAILS_WITH(REGIONS "  r3: { addresses: [192.0.2.3], check: x }\n",
               ":4:40: error: unknown check \"x\"; no checks are defined, add it under checks:");
}
END_TEST

/* ---- checks ---- */

START_TEST(check_fields)
{
    struct config *c = load_ok("checks:\n"
                               "  a: { url: \"https://{address}/ok\", expect: [200, 204], "
                               "body: OK, host: www.example.com, tls_verify: no, initial: down, "
                               "interval: 10s, timeout: 500ms, fall: 5, rise: 1 }\n"
                               "  b: { type: tcp, port: 443 }\n");
    const struct conf_check *a = &c->checks[0], *b = &c->checks[1];
    ck_assert_int_eq(a->type, CHECK_HTTPS); /* from the url */
    ck_assert_uint_eq(a->nexpect, 2);
    ck_assert_uint_eq(a->expect[1], 204);
    ck_assert_str_eq(a->body, "OK");
    ck_assert_str_eq(a->host, "www.example.com");
    ck_assert(!a->tls_verify);
    ck_assert(a->initial_down);
    ck_assert_uint_eq(a->interval_ms, 10000);
    ck_assert_uint_eq(a->timeout_ms, 500);
    ck_assert_uint_eq(a->fall, 5);
    ck_assert_uint_eq(a->rise, 1);
    ck_assert_int_eq(b->type, CHECK_TCP);
    ck_assert_uint_eq(b->port, 443);
    conf_free(c);
}
END_TEST

START_TEST(check_type_rules)
{
    FAILS_WITH("checks:\n"
               "  a: { type: tcp }\n"
               "  b: { type: http }\n"
               "  c: { type: http, url: \"https://x/\" }\n"
               "  d: { type: tcp, port: 80, url: \"http://x/\" }\n"
               "  e: { url: \"http://x/\", port: 80, tls_verify: false }\n"
               "  f: { type: ftp }\n",
               ":2:3: error: check \"a\" of type tcp needs a port, e.g. port: 443",
               ":3:3: error: check \"b\" needs a url, e.g. url: \"http://{address}/health\"",
               ":4:25: error: \"url\" must start with http:// for type: http",
               ":5:29: error: \"url\" only applies to type: http or https; remove it",
               ":6:26: error: \"port\" only applies to type: tcp",
               ":6:36: error: \"tls_verify\" only applies to type: https",
               ":7:14: error: \"type\" must be http, https or tcp, e.g. type: http");
}
END_TEST

START_TEST(check_values)
{
    FAILS_WITH(
        "checks:\n"
        "  a: { url: \"http://x/\", expect: [200, 600], initial: sideways }\n"
        "  b: { url: \"http://x/\", interval: 1s, timeout: 1s }\n"
        "  c: { url: \"http://x/\", interval: 1s }\n"
        "  d: { url: \"http://x/\", fall: 0, port: 0 }\n",
        ":2:40: error: \"expect\" must be an integer from 100 to 599, e.g. expect: 200",
        ":2:55: error: \"initial\" must be up or down, e.g. initial: down",
        ":3:49: error: \"timeout\" (1s) must be shorter than \"interval\" (1s); e.g. timeout: "
        "500ms",
        ":4:36: error: \"timeout\" (2s) must be shorter than \"interval\" (1s)",
        ":5:32: error: \"fall\" must be an integer from 1 to 1000",
        ":5:41: error: \"port\" must be an integer from 1 to 65535");
}
END_TEST

/* ---- services ---- */

START_TEST(geo_map_keys_and_sets)
{
    struct config *c = load_ok(REGIONS "services:\n  web:\n    policy: geo\n    ttl: 5m\n"
                                       "    max_answers: 2\n    map:\n"
                                       "      US-CA: r2\n      GB: { r1: 3, r2: 1 }\n"
                                       "      default: [r1]\n");
    const struct conf_service *s = &c->services[0];
    ck_assert_uint_eq(s->ttl, 300);
    ck_assert_uint_eq(s->max_answers, 2);
    ck_assert_uint_eq(s->nmap, 3);
    ck_assert_str_eq(s->map[0].key, "US-CA");
    ck_assert_uint_eq(s->map[0].choice.n, 1);
    ck_assert_uint_eq(s->map[0].choice.regions[0], 1);
    ck_assert_str_eq(s->map[1].key, "GB");
    ck_assert_ptr_nonnull(s->map[1].choice.weights);
    ck_assert_uint_eq(s->map[1].choice.n, 2);
    ck_assert_uint_eq(s->map[1].choice.weights[0], 3);
    ck_assert_uint_eq(s->map[1].choice.weights[1], 1);
    ck_assert_uint_eq(s->map[1].mark.line, 11);
    ck_assert_uint_eq(s->map[1].mark.col, 7);
    conf_free(c);
}
END_TEST

START_TEST(geo_map_errors)
{
    FAILS_WITH(REGIONS "services:\n  web:\n    policy: geo\n    map:\n"
                       "      gb: [r1]\n      Europe: [r1]\n      EU: [us-east]\n"
                       "      NA: { r1: 0 }\n",
               ":8:7: error: map key \"gb\" must be upper-case; write GB",
               ":9:7: error: map key \"Europe\" is not a place; use default, a continent (AF AN AS "
               "EU NA OC SA), a country such as GB, or a subdivision such as US-CA",
               ":10:12: error: unknown region \"us-east\"; known regions: r1, r2",
               ":11:11: error: every weight in \"NA\" is 0",
               ":8:7: error: the map of service \"web\" has no \"default\"; add default: [REGION]");
}
END_TEST

START_TEST(policy_keys)
{
    FAILS_WITH(REGIONS "services:\n"
                       "  a: { policy: weighted, weights: { r1: 1 }, map: { default: r1 } }\n"
                       "  b: { policy: geo, map: { default: r1 }, weights: { r1: 1 } }\n"
                       "  c: { policy: failover, order: [r1], regions: [r2] }\n"
                       "  d: { ttl: 30 }\n"
                       "  e: { policy: random }\n",
               ":5:46: error: \"map\" only applies to policy: geo; remove it",
               ":6:43: error: \"weights\" only applies to policy: weighted; remove it",
               ":7:39: error: \"regions\" only applies to policy: nearest or latency",
               ":8:3: error: service \"d\" needs a policy, e.g. policy: geo",
               ":9:16: error: \"policy\" must be geo, weighted, nearest, latency or failover");
}
END_TEST

START_TEST(failback_and_ttl_degraded)
{
    struct config *c =
        load_ok(REGIONS "services:\n"
                        "  p: { policy: failover, order: [r1, r2], failback: manual, "
                        "ttl_degraded: 5 }\n"
                        "  q: { policy: failover, order: [r1], failback: auto }\n");
    ck_assert(c->services[0].failback_manual);
    ck_assert_uint_eq(c->services[0].ttl_degraded, 5);
    ck_assert(!c->services[1].failback_manual);
    ck_assert_uint_eq(c->services[1].ttl_degraded, 0);
    conf_free(c);
    FAILS_WITH(REGIONS "services:\n"
                       "  a: { policy: failover, order: [r1], failback: sometimes }\n"
                       "  b: { policy: weighted, weights: { r1: 1 }, failback: manual }\n"
                       "  c: { policy: failover, order: [r1], ttl_degraded: 1.5s }\n",
               ":5:49: error: \"failback\" must be auto (back to the primary once it is up) or "
               "manual",
               ":6:46: error: \"failback\" only applies to policy: failover",
               ":7:53: error: \"ttl_degraded\" must be whole seconds");
}
END_TEST

START_TEST(policy_needs)
{
    FAILS_WITH(REGIONS "services:\n"
                       "  a: { policy: geo }\n  b: { policy: weighted }\n"
                       "  c: { policy: failover }\n  d: { policy: latency }\n",
               ":5:3: error: service \"a\" with policy: geo needs \"map\", e.g. map: { EU: ",
               ":6:3: error: service \"b\" with policy: weighted needs \"weights\"",
               ":7:3: error: service \"c\" with policy: failover needs \"order\", e.g. order: "
               "[us-east-1, eu-west-1]",
               ":8:3: error: service \"d\" with policy: latency needs \"latency_table\"");
}
END_TEST

START_TEST(weighted_and_failover_sets)
{
    struct config *c =
        load_ok(REGIONS "services:\n"
                        "  w: { policy: weighted, weights: { r2: 0, r1: 1000000 } }\n"
                        "  f: { policy: failover, order: [r2, r1] }\n"
                        "  n: { policy: nearest, regions: [r2] }\n");
    const struct conf_service *s = c->services;
    ck_assert_uint_eq(s[0].set.n, 2);
    ck_assert_uint_eq(s[0].set.regions[0], 1);
    ck_assert_uint_eq(s[0].set.weights[0], 0);
    ck_assert_uint_eq(s[0].set.weights[1], 1000000);
    ck_assert_uint_eq(s[1].set.n, 2);
    ck_assert_uint_eq(s[1].set.regions[0], 1);
    ck_assert_ptr_null(s[1].set.weights);
    ck_assert_uint_eq(s[2].set.n, 1);
    ck_assert_uint_eq(s[2].set.regions[0], 1);
    conf_free(c);
}
END_TEST

START_TEST(weight_errors)
{
    FAILS_WITH(REGIONS "services:\n"
                       "  a: { policy: weighted, weights: { r1: 1000001, r2: x } }\n"
                       "  b: { policy: weighted, weights: { r1: 0 } }\n"
                       "  c: { policy: weighted, weights: [r1] }\n"
                       "  d: { policy: failover, order: [r1, r2, r1] }\n",
               ":5:41: error: the weight of \"r1\" must be an integer from 0 to 1000000, e.g. r1: "
               "50",
               ":5:54: error: the weight of \"r2\"",
               ":6:35: error: every weight in \"weights\" is 0; give at least one region a weight",
               ":7:35: error: \"weights\" must map regions to weights, e.g. weights: { us-east-1: "
               "80, eu-west-1: 20 }",
               ":8:42: error: region \"r1\" is listed twice; list each region once");
}
END_TEST

START_TEST(nearest_needs_locations)
{
    FAILS_WITH("regions:\n  a: { location: [1, 1], addresses: [192.0.2.1] }\n"
               "  b: { addresses: [192.0.2.2] }\n"
               "services:\n  n: { policy: nearest, regions: [a] }\n  m: { policy: nearest }\n",
               ":6:16: error: policy nearest needs the location of every region it may choose; "
               "add location: [LAT, LON] to region \"b\"");
    ck_assert_uint_eq(d.errors, 1);
}
END_TEST

START_TEST(ttl_values)
{
    FAILS_WITH(REGIONS "services:\n"
                       "  a: { policy: nearest, ttl: 1500ms }\n"
                       "  b: { policy: nearest, ttl: 2147483648 }\n"
                       "  c: { policy: nearest, ttl: -1 }\n",
               ":5:30: error: \"ttl\" must be whole seconds from 0 to 2147483647, as a number or a "
               "duration, e.g. ttl: 30 or ttl: 5m",
               ":6:30: error: \"ttl\"", ":7:30: error: \"ttl\"");
    ck_assert_uint_eq(d.errors, 3);
}
END_TEST

START_TEST(anchors_and_aliases)
{
    struct config *c =
        load_ok(REGIONS "services:\n"
                        "  a: { policy: failover, order: &pair [r1, r2] }\n"
                        "  b: { policy: geo, map: { EU: *pair, default: *pair } }\n");
    ck_assert_uint_eq(c->services[1].map[0].choice.n, 2);
    ck_assert_uint_eq(c->services[1].map[1].choice.regions[1], 1);
    conf_free(c);
}
END_TEST

/* ---- fleet ---- */

START_TEST(fleet_values_and_defaults)
{
    struct config *c = load_ok(REGIONS);
    ck_assert_ptr_null(c->fleet.node);
    conf_free(c);
    c = load_ok(REGIONS "fleet:\n"
                        "  node: ns1\n"
                        "  etcd: http://127.0.0.1:2379\n");
    ck_assert_str_eq(c->fleet.node, "ns1");
    ck_assert_uint_eq(c->fleet.netcd, 1);
    ck_assert_str_eq(c->fleet.prefix, "/meridian/");
    ck_assert_uint_eq(c->fleet.timeout_ms, 2000);
    ck_assert_int_eq(c->fleet.quorum, QUORUM_MAJORITY);
    conf_free(c);
    c = load_ok(REGIONS "fleet:\n"
                        "  node: ns-2.example\n"
                        "  etcd: [\"https://10.0.0.1:2379\", \"https://[2001:db8::1]:2379\"]\n"
                        "  prefix: /dns/fleet\n"
                        "  timeout: 500ms\n"
                        "  health_quorum: 2\n"
                        "  probe_source: 192.0.2.53\n"
                        "  tls: { ca: ca.pem }\n");
    ck_assert_uint_eq(c->fleet.netcd, 2);
    ck_assert_str_eq(c->fleet.etcd[1], "https://[2001:db8::1]:2379");
    ck_assert_str_eq(c->fleet.prefix, "/dns/fleet/");
    ck_assert_uint_eq(c->fleet.timeout_ms, 500);
    ck_assert_int_eq(c->fleet.quorum, QUORUM_COUNT);
    ck_assert_uint_eq(c->fleet.quorum_count, 2);
    ck_assert_str_eq(c->fleet.tls_ca, "/tmp/ca.pem"); /* relative to the config */
    conf_free(c);
}
END_TEST

START_TEST(fleet_errors)
{
    FAILS_WITH(REGIONS "fleet: { etcd: http://127.0.0.1:2379 }\n",
               ":4:8: error: fleet needs \"node\"");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: 127.0.0.1:2379\n",
               ":6:9: error: etcd endpoint \"127.0.0.1:2379\" is not valid");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1/v3\n",
               ":6:9: error: etcd endpoint");
    FAILS_WITH(REGIONS "fleet:\n  node: \"ns 1\"\n  etcd: http://h:1\n",
               ":5:9: error: \"node\" must be");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  health_quorum: half\n",
               ":7:18: error: \"health_quorum\" must be majority, any, all or a number");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  prefix: meridian\n",
               ":7:11: error: \"prefix\" must start with '/'");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  user: m\n",
               "\"user\" and \"password_file\" go together");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  tls: { cert: c.pem }\n",
               "\"cert\" and \"key\" go together");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  probe_source: eth0\n",
               "\"probe_source\" must be an IPv4 or IPv6 address");
    FAILS_WITH(REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  tls: { key: /nonexistent/k }\n",
               "cannot read /nonexistent/k");
}
END_TEST

START_TEST(fleet_secrets_readable_by_others)
{
    char path[] = "/tmp/meridian-secret-XXXXXX", yaml[512];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(yaml, sizeof(yaml),
             REGIONS "fleet:\n  node: ns1\n  etcd: http://h:1\n  user: m\n  password_file: %s\n",
             path);
    ck_assert_int_eq(chmod(path, 0640), 0);
    conf_free(load_ok(yaml));
    ck_assert_int_eq(chmod(path, 0644), 0);
    FAILS_WITH(yaml, ":8:18: error: ", "is readable or writable by others (mode 0644)");
    unlink(path);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    struct {
        const char *name;
        const TTest *tests[16];
    } groups[] = {
        {"whole",
         {example_server_and_geoip, example_regions_and_checks, example_services_and_zones,
          defaults, check_defaults, empty_sections_are_empty, earlier_errors_do_not_fail_the_load}},
        {"file",
         {syntax_error_has_place, bad_indentation, tab_indentation, empty_file,
          top_level_not_a_mapping, second_document, duplicate_keys, many_duplicate_keys,
          missing_file, unknown_keys_list_the_accepted_ones, unknown_key_without_a_near_one,
          section_of_the_wrong_type, many_errors_at_once, keys_must_be_names}},
        {"server",
         {listen_forms, listen_single_string, listen_errors, workers_and_limits,
          control_socket_path_length, integer_overflow, missing_value, durations, duration_errors,
          booleans, nsid_identity_version, cookie_secret_file}},
        {"paths",
         {relative_paths_follow_the_config, relative_config_path_is_made_absolute, zone_names,
          zone_errors}},
        {"geoip",
         {nets, many_nets_one_duplicate, nets_host_bits, nets_errors, geoip_fields_and_databases}},
        {"regions",
         {region_forms, region_errors, name_length_limit, region_check_reference, check_fields,
          check_type_rules, check_values}},
        {"services",
         {geo_map_keys_and_sets, geo_map_errors, policy_keys, failback_and_ttl_degraded,
          policy_needs, weighted_and_failover_sets, weight_errors, nearest_needs_locations,
          ttl_values, anchors_and_aliases}},
        {"fleet", {fleet_values_and_defaults, fleet_errors, fleet_secrets_readable_by_others}},
    };
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        TCase *tc = tcase_create(groups[g].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        for (size_t i = 0; groups[g].tests[i]; i++)
            tcase_add_test(tc, groups[g].tests[i]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return unit_run(conf_suite());
}
