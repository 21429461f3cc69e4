/* failopen.c — logging each service and map entry that starts or stops failing open.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/failopen.h"
#include "geoip/dyn.h"
#include "lib/log.h"
#include "server/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What failed open at the last check, as "service" or "service entry" strings owned here:
 * the view holding the names is reclaimed after a reload. */
struct keyset {
    char **keys;
    size_t n, cap;
};

static struct keyset failing;

static bool keyset_has(const struct keyset *k, const char *key)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->keys[i], key) == 0)
            return true;
    return false;
}

/* Out of memory the key is left out: its change is logged again at the next check. */
static void keyset_add(struct keyset *k, const char *key)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;
        char **more = realloc(k->keys, cap * sizeof(*more));
        if (!more)
            return;
        k->keys = more;
        k->cap = cap;
    }
    if ((k->keys[k->n] = strdup(key)) != NULL)
        k->n++;
}

static void keyset_free(struct keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    *k = (struct keyset){0};
}

bool failopen_service_any(const struct dyn *d, unsigned service)
{
    for (unsigned e = 0; e < dyn_entry_count(d, service); e++)
        if (!dyn_entry_usable(d, service, e, NULL))
            return true;
    return false;
}

static void check_service(const struct dyn *d, unsigned si, struct keyset *now)
{
    const char *name = dyn_service_name(d, si);
    bool down = dyn_service_all_down(d, si);
    if (down)
        keyset_add(now, name);
    if (down && !keyset_has(&failing, name))
        log_err("service %s: every region it can pick is down or drained: answering as if "
                "all were up (fail open)",
                name);
    else if (!down && keyset_has(&failing, name))
        log_info("service %s: a region is back in service: no longer failing open", name);
    /* A service of one entry has said it all. */
    for (unsigned e = 0; dyn_entry_count(d, si) > 1 && e < dyn_entry_count(d, si); e++) {
        char key[600];
        const char *label = dyn_entry_label(d, si, e);
        bool open = !dyn_entry_usable(d, si, e, NULL);
        snprintf(key, sizeof(key), "%s %s", name, label);
        if (open)
            keyset_add(now, key);
        if (open && !keyset_has(&failing, key))
            log_err("service %s entry %s: every region it lists is down or drained: its "
                    "clients are answered as if all were up (fail open)",
                    name, label);
        else if (!open && keyset_has(&failing, key))
            log_info("service %s entry %s: a region is back in service: no longer failing open",
                     name, label);
    }
}

void failopen_check(void)
{
    const struct view *v = view_current();
    struct keyset now = {0};
    for (unsigned i = 0; v && v->dyn && i < dyn_service_count(v->dyn); i++)
        check_service(v->dyn, i, &now);
    keyset_free(&failing);
    failing = now;
}

void failopen_free(void)
{
    keyset_free(&failing);
}
