/* shift.c — stepping weights toward a target on a timer, and rolling them back.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/shift.h"
#include "geoip/dyn.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/failopen.h"
#include "server/guard.h"
#include "server/statefile.h"
#include "server/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define SHIFT_EVERY_MIN_MS 100

/* What the state file does not keep about a service's shifts. */
struct track {
    char service[STATE_NAME_MAX + 1];
    int64_t next_ms; /* monotonic time of the next step */
    uint64_t steps, rollbacks;
    char last[1024]; /* the last outcome, for status */
};

static struct {
    struct event *timer;
    struct track *t;
    size_t n;
} g;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct track *track_find(const char *service)
{
    for (size_t i = 0; i < g.n; i++)
        if (!strcmp(g.t[i].service, service))
            return &g.t[i];
    return NULL;
}

static struct track *track_get(const char *service)
{
    struct track *t = track_find(service);
    if (t)
        return t;
    struct track *more = realloc(g.t, (g.n + 1) * sizeof(*more));
    if (!more)
        return NULL;
    g.t = more;
    t = &g.t[g.n++];
    memset(t, 0, sizeof(*t));
    snprintf(t->service, sizeof(t->service), "%s", service);
    return t;
}

/* The service's plan when it has one. */
static struct state_shift *plan_of(const char *service, struct service_state **st)
{
    struct service_state *s = state_service_find(service);
    if (st)
        *st = s;
    return s && s->shift && s->shift->n ? s->shift : NULL;
}

/* The weight region has in a weighted service now: set at run time, else configured. */
static int64_t weight_now(const struct conf_service *cs, const char *region, int ri)
{
    const struct svc_region_state *st = state_svc_region_find(cs->name, region);
    int64_t w = st ? atomic_load(&st->weight) : -1;
    for (size_t i = 0; w < 0 && i < cs->set.n; i++)
        if ((int)cs->set.regions[i] == ri)
            w = cs->set.weights[i];
    return w < 0 ? 0 : w;
}

static void set_weights(const char *service, const struct state_shift *p, const int64_t *w)
{
    for (unsigned i = 0; i < p->n; i++) {
        struct svc_region_state *st = state_svc_region(service, p->regions[i]);
        if (st)
            atomic_store(&st->weight, w[i]);
    }
}

static void describe(char *buf, size_t size, const struct state_shift *p, const int64_t *w)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < p->n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s %lld", i ? ", " : "", p->regions[i],
                                (long long)w[i]);
}

static void persist(void)
{
    const char *path = view_current()->conf->server.state;
    struct diag d;
    if (!path)
        return;
    diag_init(&d);
    if (statefile_save(path, &d) < 0)
        log_err("shift: the plan could not be saved: %s", d.text ? d.text : "");
    diag_free(&d);
}

static void schedule(void)
{
    int64_t now = mono_ms(), next = -1;
    for (size_t i = 0; i < g.n; i++) {
        const struct state_shift *p = plan_of(g.t[i].service, NULL);
        if (p && !p->paused && (next < 0 || g.t[i].next_ms < next))
            next = g.t[i].next_ms;
    }
    if (!g.timer)
        return;
    evtimer_del(g.timer);
    if (next < 0)
        return;
    int64_t wait = next > now ? next - now : 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(g.timer, &tv);
}

/* Ends the plan: weights back to where it started (rollback, abort) or left where it is. */
static void finish(const char *service, struct service_state *st, bool back, const char *why)
{
    struct state_shift *p = st->shift;
    struct track *t = track_get(service);
    char w[600];
    if (back)
        set_weights(service, p, p->from);
    describe(w, sizeof(w), p, back ? p->from : p->to);
    p->n = 0;
    atomic_store(&st->shifting, false);
    if (t)
        snprintf(t->last, sizeof(t->last), "%s (%s)", why, w);
    persist();
    failopen_check();
}

static void rollback(const char *service, struct service_state *st, const char *reason)
{
    char why[300];
    struct track *t = track_get(service);
    snprintf(why, sizeof(why), "rolled back to the starting weights: %s", reason);
    if (t)
        t->rollbacks++;
    log_warn("shift: service %s %s", service, why);
    finish(service, st, true, why);
}

/* Why the shift of service must roll back, or NULL. */
static const char *must_roll_back(const struct view *v, const char *service,
                                  const struct state_shift *p, char *buf, size_t size)
{
    int si = conf_find_service(v->conf, service);
    if (si < 0)
        return NULL; /* kept aside until the service returns */
    for (unsigned i = 0; i < p->n; i++) {
        int ri = conf_find_region(v->conf, p->regions[i]);
        if (ri >= 0 && p->to[i] > p->from[i] && !dyn_region_healthy(v->dyn, (unsigned)ri)) {
            snprintf(buf, size, "%s, which gains traffic, turned unhealthy", p->regions[i]);
            return buf;
        }
    }
    if (failopen_service_any(v->dyn, (unsigned)si)) {
        snprintf(buf, size, "the service started failing open");
        return buf;
    }
    return NULL;
}

static void step(const char *service, struct service_state *st, struct track *t)
{
    const struct view *v = view_current();
    struct state_shift *p = st->shift;
    int si = conf_find_service(v->conf, service);
    char why[300], w[600];
    t->next_ms = mono_ms() + (int64_t)p->every_ms;
    if (si < 0)
        return; /* kept aside while the config lacks the service; tried again later */
    if (must_roll_back(v, service, p, why, sizeof(why))) {
        rollback(service, st, why);
        return;
    }
    int64_t now[STATE_SHIFT_MAX] = {0};
    bool reached = true;
    for (unsigned i = 0; i < p->n; i++) {
        int64_t cur = weight_now(&v->conf->services[si], p->regions[i],
                                 conf_find_region(v->conf, p->regions[i]));
        int64_t d = p->to[i] - cur, s = (int64_t)p->step;
        now[i] = d > s ? cur + s : d < -s ? cur - s : p->to[i];
        reached &= now[i] == p->to[i];
    }
    set_weights(service, p, now);
    t->steps++;
    describe(w, sizeof(w), p, now);
    log_info("shift: service %s step %lu: %s%s", service, (unsigned long)t->steps, w,
             reached ? " (the target: done)" : "");
    snprintf(t->last, sizeof(t->last), "step %lu: %s", (unsigned long)t->steps, w);
    if (reached)
        finish(service, st, false, "done");
    else {
        persist();
        failopen_check();
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    int64_t now = mono_ms();
    for (size_t i = 0; i < g.n; i++) {
        struct service_state *st;
        const struct state_shift *p = plan_of(g.t[i].service, &st);
        if (p && !p->paused && g.t[i].next_ms <= now)
            step(g.t[i].service, st, &g.t[i]);
    }
    schedule();
}

static void resume_loaded(void *ctx, const char *service, struct service_state *st)
{
    struct track *t;
    if (!st->shift || !st->shift->n || !(t = track_get(service)))
        return;
    t->next_ms = mono_ms() + (int64_t)st->shift->every_ms;
    log_info("shift: service %s: resuming the shift of the state file%s", service,
             st->shift->paused ? " (paused)" : "");
}

int shift_init(struct event_base *base)
{
    g.timer = evtimer_new(base, on_timer, NULL);
    if (!g.timer || state_each_service(resume_loaded, NULL) < 0)
        return -1;
    schedule();
    return 0;
}

void shift_shutdown(void)
{
    if (g.timer)
        event_free(g.timer);
    free(g.t);
    memset(&g, 0, sizeof(g));
}

bool shift_running(const char *service)
{
    const struct state_shift *p = plan_of(service, NULL);
    return p && !p->paused;
}

void shift_check(void)
{
    const struct view *v = view_current();
    for (size_t i = 0; v && v->dyn && i < g.n; i++) {
        struct service_state *st;
        char why[300];
        const struct state_shift *p = plan_of(g.t[i].service, &st);
        if (p && must_roll_back(v, g.t[i].service, p, why, sizeof(why)))
            rollback(g.t[i].service, st, why);
    }
    schedule();
}

/* ---- commands ---------------------------------------------------------------------------- */

/* Checks a request against the service; NULL when it may start, else the reason in buf. */
static const char *refusal(const struct view *v, int si, unsigned n, char regions[][256],
                           const int64_t *to, char *buf, size_t size)
{
    const struct conf_service *cs = &v->conf->services[si];
    if (cs->policy != POLICY_WEIGHTED)
        return "only a service with policy: weighted can shift its weights";
    if (plan_of(cs->name, NULL))
        return "a shift of this service is under way; abort it first (meridianctl shift abort)";
    for (unsigned i = 0; i < n; i++) {
        int ri = conf_find_region(v->conf, regions[i]);
        if (ri < 0 || !dyn_service_uses(v->dyn, (unsigned)si, (unsigned)ri)) {
            snprintf(buf, size, "service %s has no region \"%s\" to weigh; see status", cs->name,
                     regions[i]);
            return buf;
        }
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(regions[i], regions[j])) {
                snprintf(buf, size, "region %s is named twice", regions[i]);
                return buf;
            }
        if (to[i] > weight_now(cs, regions[i], ri) && !dyn_region_healthy(v->dyn, (unsigned)ri)) {
            snprintf(buf, size, "region %s is down; it cannot take more traffic", regions[i]);
            return buf;
        }
    }
    if (failopen_service_any(v->dyn, (unsigned)si))
        return "the service is failing open; bring a region back first";
    return NULL;
}

/* The guard rails of drain and weight, for every region the target weighs 0. */
static bool guarded(const struct view *v, int si, unsigned n, char regions[][256],
                    const int64_t *to, bool force, char *msg, size_t size)
{
    bool *zero = calloc(v->conf->nregions + 1, sizeof(bool));
    struct strbuf broken;
    if (!zero) {
        snprintf(msg, size, "out of memory");
        return false;
    }
    for (unsigned i = 0; i < n; i++)
        if (to[i] == 0)
            zero[conf_find_region(v->conf, regions[i])] = true;
    struct dyn_without w = {si, zero};
    sb_init(&broken);
    unsigned nb = guard_breaks(v->dyn, &w, &broken);
    free(zero);
    if (nb && force)
        log_warn("control: forced (shift): %s left with no usable region: failing open",
                 sb_str(&broken));
    else if (nb)
        snprintf(msg, size,
                 "refused: the target would leave %s with no usable region (its clients would "
                 "fail open); add --force to do it anyway",
                 sb_str(&broken));
    sb_free(&broken);
    return !nb || force;
}

int shift_start(const char *service, unsigned n, char regions[][256], const int64_t *to,
                uint32_t step_by, uint64_t every_ms, bool force, char *msg, size_t size)
{
    const struct view *v = view_current();
    int si = conf_find_service(v->conf, service);
    char buf[400];
    const char *no = si < 0                          ? "no such service; see status"
                     : n > STATE_SHIFT_MAX           ? "a shift names at most 16 regions"
                     : every_ms < SHIFT_EVERY_MIN_MS ? "--every must be 100ms or more"
                     : step_by == 0                  ? "--step must be 1 or more"
                                                     : NULL;
    if (!no)
        no = refusal(v, si, n, regions, to, buf, sizeof(buf));
    if (no) {
        snprintf(msg, size, "cannot shift %s: %s", service, no);
        return -1;
    }
    if (!guarded(v, si, n, regions, to, force, msg, size))
        return -1;
    struct service_state *st = state_service(service);
    struct state_shift *p = st ? state_service_plan(st) : NULL;
    struct track *t = track_get(service);
    if (!p || !t) {
        snprintf(msg, size, "out of memory");
        return -1;
    }
    memset(p, 0, sizeof(*p));
    for (unsigned i = 0; i < n; i++) {
        snprintf(p->regions[i], sizeof(p->regions[i]), "%s", regions[i]);
        p->from[i] =
            weight_now(&v->conf->services[si], regions[i], conf_find_region(v->conf, regions[i]));
        p->to[i] = to[i];
    }
    p->step = step_by;
    p->every_ms = every_ms;
    p->n = n;
    atomic_store(&st->shifting, true);
    char from[600], goal[600];
    describe(from, sizeof(from), p, p->from);
    describe(goal, sizeof(goal), p, p->to);
    log_info("shift: service %s: from %s to %s, %u a step every %llu ms", service, from, goal,
             step_by, (unsigned long long)every_ms);
    snprintf(msg, size, "service %s: shifting from %s to %s, %u a step every %llu ms", service,
             from, goal, step_by, (unsigned long long)every_ms);
    step(service, st, t);
    schedule();
    return 0;
}

int shift_control(const char *verb, const char *service, char *msg, size_t size)
{
    struct service_state *st;
    struct state_shift *p = plan_of(service, &st);
    struct track *t = track_get(service);
    if (!p || !t) {
        snprintf(msg, size, "service %s has no shift under way", service);
        return -1;
    }
    if (!strcmp(verb, "abort")) {
        log_warn("shift: service %s aborted: back to the starting weights", service);
        finish(service, st, true, "aborted: back to the starting weights");
    } else {
        p->paused = !strcmp(verb, "pause");
        atomic_store(&st->shifting, !p->paused);
        t->next_ms = mono_ms() + (int64_t)p->every_ms;
        log_info("shift: service %s %s", service, p->paused ? "paused" : "resumed");
        persist();
    }
    schedule();
    snprintf(msg, size, "service %s: shift %s", service,
             !strcmp(verb, "abort") ? "aborted, back to the starting weights"
             : p->paused            ? "paused"
                                    : "resumed");
    return 0;
}

static void status_one(struct strbuf *out, bool json, const struct track *t, bool first)
{
    const struct view *v = view_current();
    const struct state_shift *p = plan_of(t->service, NULL);
    int si = conf_find_service(v->conf, t->service);
    const char *state = !p ? "idle" : p->paused ? "paused" : "running";
    if (json) {
        sb_printf(out, "%s{\"name\": ", first ? "" : ", ");
        sb_json_str(out, t->service);
        sb_printf(out, ", \"state\": \"%s\", \"steps\": %lu, \"rollbacks\": %lu, \"last\": ", state,
                  (unsigned long)t->steps, (unsigned long)t->rollbacks);
        sb_json_str(out, t->last);
        sb_puts(out, ", \"regions\": [");
    } else {
        sb_printf(out, "%s: %s, %lu step(s), %lu rollback(s); last: %s\n", t->service, state,
                  (unsigned long)t->steps, (unsigned long)t->rollbacks, t->last);
    }
    for (unsigned i = 0; p && i < p->n; i++) {
        int64_t now = si < 0 ? -1
                             : weight_now(&v->conf->services[si], p->regions[i],
                                          conf_find_region(v->conf, p->regions[i]));
        if (json) {
            sb_printf(out, "%s{\"region\": ", i ? ", " : "");
            sb_json_str(out, p->regions[i]);
            sb_printf(out, ", \"from\": %lld, \"now\": %lld, \"to\": %lld}", (long long)p->from[i],
                      (long long)now, (long long)p->to[i]);
        } else {
            sb_printf(out, "  %s: from %lld, now %lld, to %lld\n", p->regions[i],
                      (long long)p->from[i], (long long)now, (long long)p->to[i]);
        }
    }
    if (json)
        sb_printf(out, "], \"step\": %u, \"every_ms\": %llu}", p ? p->step : 0,
                  p ? (unsigned long long)p->every_ms : 0ULL);
    else if (p)
        sb_printf(out, "  %u a step every %llu ms\n", p->step, (unsigned long long)p->every_ms);
}

bool shift_summary(const char *service, char *buf, size_t size, const char **state)
{
    const struct track *t = track_find(service);
    const struct state_shift *p = plan_of(service, NULL);
    if (!t)
        return false;
    *state = !p ? "idle" : p->paused ? "paused" : "running";
    snprintf(buf, size, "%s, %lu step(s), %lu rollback(s); last: %s", *state,
             (unsigned long)t->steps, (unsigned long)t->rollbacks, t->last);
    return true;
}

void shift_status(struct strbuf *out, bool json, const char *service)
{
    bool first = true;
    if (json)
        sb_puts(out, "{\"shifts\": [");
    for (size_t i = 0; i < g.n; i++) {
        if (service && strcmp(service, g.t[i].service))
            continue;
        status_one(out, json, &g.t[i], first);
        first = false;
    }
    if (json)
        sb_puts(out, "]}\n");
    else if (first)
        sb_puts(out, "no shift since the start\n");
}

void shift_each(shift_metric_fn fn, void *ctx)
{
    for (size_t i = 0; i < g.n; i++)
        fn(ctx, g.t[i].service, shift_running(g.t[i].service), g.t[i].steps, g.t[i].rollbacks);
}
