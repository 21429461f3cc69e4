/* fuzz_conf.c — libFuzzer target: conf_load on arbitrary YAML, then dyn_new on a config that
 * loads (regions, services, operator networks, latency tables, GeoIP databases), and both
 * freed.  Errors are fine; crashes, leaks and undefined behaviour are not, and a failure
 * must come with at least one error message.
 *
 * The input is written to a file of an unguessable name in this process's scratch
 * directory, where relative paths in it resolve.  Beside it: rtt.csv (a valid latency
 * table) and, when build.sh made the GeoIP fixtures, city.mmdb and flat.mmdb, so seeds can
 * name them.  (conf_load resolves relative paths against the config's directory, never
 * the working directory.)
 * SPDX-License-Identifier: MIT */
#include "tests/fuzz/fuzz_common.h"

#include "server/conf.h"

static char input[PATH_MAX];
static struct dyn_scratch *ws;

/* Clients to place: networks of the seeds' nets, the GeoIP fixtures, nowhere, nothing. */
static const char *const clients[] = {"11.1.1.7",    "10.20.1.1/24", "2a02:2000:ffff::1",
                                      "11.3.3.0/24", "45.1.2.3",     "2001:db8::/0"};

/* Every service answers every client without breaking its contract (dyn.h). */
static void resolve_all(const struct config *c, const struct dyn *dyn)
{
    static const uint16_t qtypes[3] = {1, 28, 5};
    for (unsigned s = 0; s < dyn_service_count(dyn); s++) {
        (void)dyn_service_has_cnames(dyn, s);
        (void)dyn_service_all_down(dyn, s);
        for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]) + 1; i++) {
            struct dyn_client cl = {0};
            if (i < sizeof(clients) / sizeof(clients[0]) && !dyn_client_parse(clients[i], &cl))
                abort();
            for (unsigned t = 0; t < 3; t++) {
                struct dyn_answer a;
                dyn_resolve(dyn, s, qtypes[t], &cl, ws, &a, NULL);
                fuzz_assert(a.region >= -1 && a.region < (int)c->nregions, "region %d of %zu",
                            a.region, c->nregions);
                fuzz_assert(a.n <= DYN_MAX_ANSWERS, "%u addresses", a.n);
                fuzz_assert(a.scope <= cl.bits, "scope /%u above /%u", a.scope, cl.bits);
                if (c->services[s].max_answers)
                    fuzz_assert(a.n <= c->services[s].max_answers, "%u addresses, max %u", a.n,
                                c->services[s].max_answers);
                if (qtypes[t] == 5 && a.region >= 0)
                    fuzz_assert(a.cname != NULL, "a DYNC answer from a region without cname:");
            }
        }
    }
}

static void link_fixture(const char *dir, const char *name)
{
    char from[PATH_MAX + 32], to[PATH_MAX];
    snprintf(from, sizeof(from), "%s/%s", dir, name);
    fuzz_path(to, sizeof(to), name);
    if (symlink(from, to) != 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_note_argv0(argc, argv);
    if (!(ws = dyn_scratch_new()))
        abort();
    char path[PATH_MAX];
    fuzz_path(path, sizeof(path), "rtt.csv");
    fuzz_write(path, fuzz_rtt_csv, strlen(fuzz_rtt_csv));
    const char *mmdb = fuzz_mmdb_dir();
    if (mmdb) {
        link_fixture(mmdb, "city.mmdb");
        link_fixture(mmdb, "flat.mmdb");
    }
    fuzz_path(input, sizeof(input), "conf-XXXXXX");
    int fd = mkstemp(input);
    if (fd < 0)
        abort();
    close(fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(input, data, size);
    struct diag d;
    diag_init(&d);
    struct config *c = conf_load(input, &d);
    if (!c) {
        fuzz_assert(d.errors > 0, "conf_load failed without an error:\n%s", d.text ? d.text : "");
    } else {
        unsigned errors = d.errors;
        struct dyn *dyn = dyn_new(c, &d);
        if (dyn) {
            for (unsigned s = 0; s < dyn_service_count(dyn); s++) {
                fuzz_assert(!strcmp(dyn_service_name(dyn, s), c->services[s].name),
                            "service %u is %s in dyn, %s in the config", s,
                            dyn_service_name(dyn, s), c->services[s].name);
            }
            resolve_all(c, dyn);
            dyn_free(dyn);
        } else {
            fuzz_assert(d.errors > errors, "dyn_new failed without an error:\n%s",
                        d.text ? d.text : "");
        }
        conf_free(c);
    }
    if (getenv("MERIDIAN_FUZZ_PRINT"))
        fprintf(stderr, "--- %s\n%s", c ? "loaded" : "rejected", d.text ? d.text : "");
    diag_free(&d);
    /* The registry keeps every region and service name ever loaded; start afresh. */
    state_free_all();
    return 0;
}
