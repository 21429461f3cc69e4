/* fuzz_state.c — libFuzzer target: statefile_parse on arbitrary bytes.  A file that parses
 * is also carried through a round trip: its entries applied to the registry (as
 * statefile_load does), written by statefile_save, parsed again — and the two parses must
 * agree.  The registry is emptied after each input.
 * SPDX-License-Identifier: MIT */
#include "tests/fuzz/fuzz_common.h"

#include "server/statefile.h"

static char saved[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_note_argv0(argc, argv);
    fuzz_path(saved, sizeof(saved), "state.yaml");
    return 0;
}

/* One entry as the visitor saw it. */
struct seen {
    char *svc, *region; /* svc NULL: every service */
    bool drained;
    int64_t weight;
};

struct list {
    struct seen *e;
    size_t n, cap;
};

static void collect(void *ctx, const char *svc, const char *region, bool drained, int64_t weight)
{
    struct list *l = ctx;
    fuzz_assert(region && *region, "an entry without a region");
    fuzz_assert(drained || weight >= 0, "an entry that is neither drained nor weighted");
    fuzz_assert(weight <= STATEFILE_WEIGHT_MAX, "weight %lld", (long long)weight);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->e = realloc(l->e, l->cap * sizeof(*l->e));
        if (!l->e)
            abort();
    }
    l->e[l->n++] = (struct seen){svc ? strdup(svc) : NULL, strdup(region), drained, weight};
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->e[i].svc);
        free(l->e[i].region);
    }
    free(l->e);
}

static int seen_cmp(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    int c = strcmp(x->svc ? x->svc : "", y->svc ? y->svc : "");
    if (!c)
        c = (x->svc != NULL) - (y->svc != NULL);
    if (!c)
        c = strcmp(x->region, y->region);
    if (!c)
        c = (int)x->drained - (int)y->drained;
    if (!c)
        c = (x->weight > y->weight) - (x->weight < y->weight);
    return c;
}

/* What statefile_load's visitor does, minus the warnings. */
static void apply(const struct list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct seen *e = &l->e[i];
        if (!e->svc) {
            atomic_store(&state_region(e->region)->drained, true);
            continue;
        }
        struct svc_region_state *s = state_svc_region(e->svc, e->region);
        if (e->drained)
            atomic_store(&s->drained, true);
        if (e->weight >= 0)
            atomic_store(&s->weight, e->weight);
    }
}

static void round_trip(struct list *first)
{
    apply(first);
    struct diag d;
    diag_init(&d);
    fuzz_assert(statefile_save(saved, &d) == 0, "statefile_save failed:\n%s", d.text ? d.text : "");
    fuzz_assert(d.warnings == 0, "statefile_save warned:\n%s", d.text ? d.text : "");
    FILE *f = fopen(saved, "rb");
    char *text = malloc(STATEFILE_SIZE_MAX + 1);
    size_t len = f && text ? fread(text, 1, STATEFILE_SIZE_MAX + 1, f) : 0;
    if (f)
        fclose(f);
    struct list second = {0};
    int rc = statefile_parse(text, len, saved, collect, &second, &d);
    fuzz_assert(rc == 0, "the saved state file does not parse:\n%s\n--- the file:\n%.*s",
                d.text ? d.text : "", (int)len, text);
    if (first->n)
        qsort(first->e, first->n, sizeof(*first->e), seen_cmp);
    if (second.n)
        qsort(second.e, second.n, sizeof(*second.e), seen_cmp);
    fuzz_assert(first->n == second.n, "%zu entries read, %zu after the round trip:\n%.*s", first->n,
                second.n, (int)len, text);
    for (size_t i = 0; i < first->n; i++)
        fuzz_assert(seen_cmp(&first->e[i], &second.e[i]) == 0,
                    "entry %s/%s differs after the round trip:\n%.*s",
                    first->e[i].svc ? first->e[i].svc : "*", first->e[i].region, (int)len, text);
    list_free(&second);
    free(text);
    diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* statefile_load refuses more than this before parsing. */
    if (size > STATEFILE_SIZE_MAX)
        return 0;
    char *text = malloc(size ? size : 1); /* exactly size bytes, no NUL: ASan sees overreads */
    if (!text)
        return 0;
    memcpy(text, data, size);
    struct diag d;
    diag_init(&d);
    struct list first = {0};
    int rc = statefile_parse(text, size, "state.yaml", collect, &first, &d);
    if (rc == 0) {
        fuzz_assert(d.errors == 0, "statefile_parse succeeded with errors:\n%s", d.text);
        round_trip(&first);
    } else {
        fuzz_assert(rc == -1 && d.errors > 0, "statefile_parse returned %d with %u errors", rc,
                    d.errors);
        fuzz_assert(first.n == 0, "the visitor was called for a corrupt file");
    }
    list_free(&first);
    diag_free(&d);
    free(text);
    state_free_all();
    return 0;
}
