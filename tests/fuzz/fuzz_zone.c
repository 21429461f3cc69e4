/* fuzz_zone.c — libFuzzer target: the zone-file loader on arbitrary text, as zone
 * example.com. with the world's services for DYNA/DYNC.  Errors are fine; crashes, leaks
 * and undefined behaviour are not.  A zone that loads is then put in a database and every
 * name in it (and a child of it, for wildcards and cuts) is asked for with a few types over
 * UDP and TCP, the responses checked like fuzz_query's: odd but valid zones must answer.
 *
 * The input is written to a file of an unguessable name in an otherwise empty scratch
 * directory; a relative $INCLUDE is resolved against the including file's directory, so it
 * finds nothing (or, by luck, the input itself: bounded by the nesting limit).
 * SPDX-License-Identifier: MIT */
#include "tests/fuzz/fuzz_common.h"

#include "zones/dname.h"
#include "zones/zonefile.h"

static struct view *world;
static struct dyn_scratch *ws;
static uint8_t *out;
static char input[PATH_MAX];

static int resolve_service(void *ctx, const char *name)
{
    return conf_find_service(((const struct view *)ctx)->conf, name);
}

static bool service_has_cnames(void *ctx, int service)
{
    return dyn_service_has_cnames(((const struct view *)ctx)->dyn, (unsigned)service);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_note_argv0(argc, argv);
    world = fuzz_world();
    ws = dyn_scratch_new();
    out = malloc(ANSWER_TCP_MAX);
    fuzz_path(input, sizeof(input), "zone-XXXXXX");
    int fd = mkstemp(input);
    if (!ws || !out || fd < 0)
        abort();
    close(fd);
    return 0;
}

/* A query for name (lower-case wire) and type, in msg; its length. */
static size_t make_query(const uint8_t *name, size_t len, uint16_t type, bool edns, uint8_t *msg)
{
    static const uint8_t opt[11] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0}; /* 1232 */
    memset(msg, 0, DNS_HEADER);
    wr16(msg, 0xBEEF);
    msg[2] = 0x01; /* RD */
    wr16(msg + 4, 1);
    wr16(msg + 10, edns ? 1 : 0);
    memcpy(msg + DNS_HEADER, name, len);
    wr16(msg + DNS_HEADER + len, type);
    wr16(msg + DNS_HEADER + len + 2, 1);
    size_t n = DNS_HEADER + len + 4;
    if (edns) {
        memcpy(msg + n, opt, sizeof(opt));
        n += sizeof(opt);
    }
    return n;
}

static void ask(const struct answer_env *env, const uint8_t *name, size_t len, uint16_t type,
                bool tcp)
{
    uint8_t msg[DNS_HEADER + DNAME_MAX + 1 + 4 + 11];
    size_t n = make_query(name, len, type, !tcp, msg);
    struct answer_client client = {NULL, tcp, ws, NULL, NULL};
    struct answer_info info;
    size_t rlen = answer_query(env, msg, n, out, &client, &info);
    if (getenv("MERIDIAN_FUZZ_PRINT"))
        fuzz_print(out, rlen, tcp ? "TCP" : "UDP", NULL);
    fuzz_check_response(env, msg, n, out, rlen, tcp);
}

/* Every name of the zone (at most 64), and "x." before each, with A, ANY, MX and the
 * node's first type. */
static void answer_all(const struct zone *z)
{
    struct zonedb *db = zonedb_new((struct zone **)&z, 1);
    if (!db)
        return;
    struct answer_env env = {db, world->dyn, 1232, true};
    unsigned asked = 0;
    for (size_t i = 0; i < z->nnodes; i++) {
        const struct node *n = &z->nodes[i];
        size_t real = dname_len(n->name);
        fuzz_assert(real <= DNAME_MAX && n->namelen == real,
                    "node name of %zu bytes, namelen %u (a name is at most %d)", real, n->namelen,
                    DNAME_MAX);
        if (asked++ >= 64)
            continue;
        uint16_t types[4] = {1, 255, 15, n->nrrsets ? n->rrsets[0].type : 28};
        for (unsigned t = 0; t < 4; t++) {
            ask(&env, n->name, n->namelen, types[t], false);
            ask(&env, n->name, n->namelen, types[t], true);
        }
        uint8_t child[DNAME_MAX + 1] = {1, 'x'};
        if (n->namelen + 2u <= DNAME_MAX) {
            memcpy(child + 2, n->name, n->namelen);
            ask(&env, child, n->namelen + 2u, 1, false);
        }
    }
    zonedb_free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(input, data, size);
    struct diag d;
    diag_init(&d);
    struct zone_load_opts o = {.resolve_service = resolve_service,
                               .service_has_cnames = service_has_cnames,
                               .resolve_ctx = world,
                               .max_records = 5000};
    struct zone *z = zone_load(input, (const uint8_t *)"\7example\3com", &o, &d);
    if (getenv("MERIDIAN_FUZZ_PRINT"))
        fprintf(stderr, "--- zone %s\n%s", z ? "loaded" : "rejected", d.text ? d.text : "");
    if (z) {
        fuzz_assert(z->apex && z->soa, "a zone without apex or SOA loaded");
        answer_all(z);
        zone_release(z);
    } else {
        fuzz_assert(d.errors > 0, "zone_load failed without an error:\n%s", d.text ? d.text : "");
    }
    diag_free(&d);
    return 0;
}
