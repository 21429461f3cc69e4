/* failback.c — holding a manual failover service on its secondary, and letting it go.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/failback.h"
#include "geoip/dyn.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/statefile.h"

#include <stdio.h>
#include <string.h>

static bool usable(const struct dyn *d, unsigned si, unsigned r)
{
    return dyn_region_admitted(d, si, r) && dyn_region_healthy(d, r);
}

int failback_held(const struct view *v, unsigned si)
{
    const uint16_t *order;
    unsigned n = dyn_failover_order(v->dyn, si, &order);
    for (unsigned i = 0; i < n; i++) {
        const struct svc_region_state *st =
            state_svc_region_find(v->conf->services[si].name, v->conf->regions[order[i]].name);
        if (st && atomic_load(&st->held))
            return order[i];
    }
    return -1;
}

static void save(const struct view *v)
{
    if (!v->conf->server.state)
        return;
    struct diag d;
    diag_init(&d);
    if (statefile_save(v->conf->server.state, &d) < 0)
        log_err("failback: the hold could not be saved: %s", d.text ? d.text : "");
    diag_free(&d);
}

/* The first position from `from` on whose region is usable, or n. */
static unsigned first_usable(const struct view *v, unsigned si, const uint16_t *order, unsigned n,
                             unsigned from)
{
    while (from < n && !usable(v->dyn, si, order[from]))
        from++;
    return from;
}

/* Whether a region before position end is in service but down: the traffic left it for
 * health, which is what failback: manual holds on. */
static bool failed_for_health(const struct view *v, unsigned si, const uint16_t *order,
                              unsigned end)
{
    for (unsigned i = 0; i < end; i++)
        if (dyn_region_admitted(v->dyn, si, order[i]) && !dyn_region_healthy(v->dyn, order[i]))
            return true;
    return false;
}

static void set_hold(const struct view *v, unsigned si, unsigned r, bool on)
{
    struct svc_region_state *st =
        state_svc_region(v->conf->services[si].name, v->conf->regions[r].name);
    if (st)
        atomic_store(&st->held, on);
}

/* Keeps a hold on the first usable region from the held one on; drops it when there is
 * none; sets one when traffic left the primary for health.  True when something changed. */
static bool check_service(const struct view *v, unsigned si)
{
    const uint16_t *order;
    unsigned n = dyn_failover_order(v->dyn, si, &order), h = 0;
    if (!n || !v->conf->services[si].failback_manual)
        return false;
    const char *name = v->conf->services[si].name;
    int held = failback_held(v, si);
    while (held >= 0 && order[h] != held)
        h++;
    if (held >= 0) {
        unsigned g = first_usable(v, si, order, n, h);
        if (g == h)
            return false;
        set_hold(v, si, order[h], false);
        if (g < n) {
            set_hold(v, si, order[g], true);
            log_warn("failback: service %s: %s is down too; traffic now held on %s", name,
                     v->conf->regions[order[h]].name, v->conf->regions[order[g]].name);
            return true;
        }
        log_info("failback: service %s: nothing from %s on is usable; the hold is dropped", name,
                 v->conf->regions[order[h]].name);
    }
    unsigned f = first_usable(v, si, order, n, 0);
    if (f == 0 || f == n || !failed_for_health(v, si, order, f))
        return held >= 0;
    set_hold(v, si, order[f], true);
    log_warn("failback: service %s failed over to %s; failback is manual: traffic stays there "
             "until meridianctl failback %s",
             name, v->conf->regions[order[f]].name, name);
    return true;
}

void failback_check(void)
{
    const struct view *v = view_current();
    bool changed = false;
    for (unsigned i = 0; v && v->dyn && i < v->conf->nservices; i++)
        changed |= check_service(v, i);
    if (changed)
        save(v);
}

int failback_release(const char *service, char *msg, size_t size)
{
    const struct view *v = view_current();
    int si = conf_find_service(v->conf, service);
    const uint16_t *order = NULL;
    unsigned n = si >= 0 ? dyn_failover_order(v->dyn, (unsigned)si, &order) : 0;
    if (!n || !v->conf->services[si].failback_manual) {
        snprintf(msg, size,
                 si < 0 ? "no service \"%s\"; see status"
                        : "service %s is not a failover service with failback: manual",
                 service);
        return -1;
    }
    int h = failback_held(v, (unsigned)si);
    if (h < 0) {
        snprintf(msg, size, "service %s is not held; its traffic follows its order", service);
        return 0;
    }
    unsigned f = first_usable(v, (unsigned)si, order, n, 0);
    const char *held = v->conf->regions[h].name;
    if (f == n || order[f] == h) {
        snprintf(msg, size,
                 "refused: no region before %s in the order of service %s is usable yet (%s is "
                 "down or drained); traffic stays on %s",
                 held, service, v->conf->regions[order[0]].name, held);
        return -1;
    }
    set_hold(v, (unsigned)si, (unsigned)h, false);
    save(v);
    snprintf(msg, size, "service %s failed back from %s to %s", service, held,
             v->conf->regions[order[f]].name);
    log_info("control: %s", msg);
    return 0;
}
