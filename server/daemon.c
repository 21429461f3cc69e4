/* daemon.c — start-up, the event loop, reloads and shutdown.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/daemon.h"
#include "geoip/dyn.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/control.h"
#include "server/fleet/fleet.h"
#include "server/failback.h"
#include "server/failopen.h"
#include "server/loader.h"
#include "server/metrics.h"
#include "server/privilege.h"
#include "server/probe.h"
#include "server/dnstap.h"
#include "server/querylog.h"
#include "server/shift.h"
#include "server/reloadjob.h"
#include "server/statefile.h"
#include "server/stats.h"
#include "server/tcp.h"
#include "server/udp.h"
#include "zones/dname.h"
#include "zones/sign/sign.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

/* How often replaced views are checked for readers that still might hold them. */
#define RECLAIM_MS 20

static struct {
    const char *conf_path;
    struct event_base *base;
    struct event *reclaim_timer;
    struct event *resign_timer;
    time_t resign_retry; /* after a failed re-signing, not before this */
    struct reload_stats reloads;
} d0;

void daemon_reload_stats(struct reload_stats *out)
{
    *out = d0.reloads;
}

static void count_reload(int rc)
{
    if (rc == 0) {
        d0.reloads.ok++;
        d0.reloads.last_success_ms = probe_now_ms();
    } else if (rc > 0) {
        d0.reloads.partial++;
    } else {
        d0.reloads.failed++;
    }
}

void daemon_state_changed(void)
{
    shift_check();
    failback_check();
    failopen_check();
}

static void schedule_reclaim(void)
{
    struct timeval tv = {0, RECLAIM_MS * 1000};
    if (!evtimer_pending(d0.reclaim_timer, NULL))
        evtimer_add(d0.reclaim_timer, &tv);
}

static void on_reclaim(evutil_socket_t fd, short what, void *arg)
{
    if (view_reclaim() > 0)
        schedule_reclaim();
}

static void warn_unapplied(const struct config *old, const struct config *c)
{
    bool same =
        old->server.nlisten == c->server.nlisten && old->server.workers == c->server.workers;
    for (size_t i = 0; same && i < c->server.nlisten; i++)
        same = strcmp(old->server.listen[i].text, c->server.listen[i].text) == 0;
    if (!same)
        log_warn("server.listen and server.workers changes take effect on restart only");
}

/* Makes v (loaded by a reload job) current; what the load said is in d.  Returns 0, 1 or
 * -1 as daemon_reload_start's callers are told. */
static int take_view(struct view *v, struct diag *d)
{
    if (!v) {
        count_reload(-1);
        return -1;
    }
    warn_unapplied(view_current()->conf, v->conf);
    fleet_check_reload(v->conf);
    view_publish(v);
    tcp_configure(v->conf);
    probe_sync(v->conf);
    daemon_state_changed();
    if (querylog_configure(v->conf->server.query_log, d) < 0)
        diag_note(d, "the query log could not follow the new config");
    if (dnstap_configure(v->conf->server.dnstap, v->conf->server.dnstap_socket, d) < 0)
        diag_note(d, "dnstap could not follow the new config");
    schedule_reclaim();
    int rc = d->errors ? 1 : 0;
    count_reload(rc);
    return rc;
}

/* Who waits for the reload under way (now) and for the one that follows it (next): a
 * request made during a reload may follow a change the running one has not seen. */
struct waiter {
    reload_done_fn fn;
    void *arg;
};
#define MAX_WAITERS 128

static struct {
    struct waiter now[MAX_WAITERS], next[MAX_WAITERS];
    unsigned nnow, nnext;
} w;

static int start_job(void)
{
    return reloadjob_start(d0.conf_path, view_current());
}

static void notify(struct waiter *list, unsigned n, int rc, const char *text)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i].fn)
            list[i].fn(list[i].arg, rc, text);
}

static void on_loaded(struct view *v, struct diag *d)
{
    int rc = take_view(v, d);
    struct waiter done[MAX_WAITERS];
    unsigned n = w.nnow;
    memcpy(done, w.now, n * sizeof(*done));
    memcpy(w.now, w.next, w.nnext * sizeof(*w.now));
    w.nnow = w.nnext;
    w.nnext = 0;
    /* The next reload starts before anyone hears of this one, so that a waiter that asks
     * again at once joins it. */
    if (w.nnow && start_job() < 0) {
        struct waiter failed[MAX_WAITERS];
        unsigned nf = w.nnow;
        memcpy(failed, w.now, nf * sizeof(*failed));
        w.nnow = 0;
        notify(failed, nf, -1, "the reload could not be started\n");
    }
    notify(done, n, rc, d->text ? d->text : "");
    diag_free(d);
}

int daemon_reload_start(reload_done_fn fn, void *arg)
{
    bool running = reloadjob_running();
    struct waiter *list = running ? w.next : w.now;
    unsigned *n = running ? &w.nnext : &w.nnow;
    for (unsigned i = 0; i < *n; i++)
        if (list[i].fn == fn && list[i].arg == arg)
            return 0; /* SIGHUPs in a row: one reload, one verdict */
    if (*n >= MAX_WAITERS || (!running && start_job() < 0))
        return -1;
    list[(*n)++] = (struct waiter){fn, arg};
    return 0;
}

void daemon_reload_forget(void *arg)
{
    for (unsigned i = 0; i < w.nnow; i++)
        if (w.now[i].arg == arg)
            w.now[i].fn = NULL;
    for (unsigned i = 0; i < w.nnext; i++)
        if (w.next[i].arg == arg)
            w.next[i].fn = NULL;
}

const char *daemon_reload_verdict(int rc)
{
    return rc == 0  ? "reload done"
           : rc > 0 ? "reload done with errors: what failed keeps serving its previous version"
                    : "reload failed: still serving what was loaded before";
}

int daemon_reload_zone(const char *zone, struct diag *d)
{
    /* The job keeps zones of the current view: it must stay current until the job ends. */
    if (reloadjob_running()) {
        diag_error(d, NULL, 0, 0, "a reload of the config is under way; try again when it is done");
        return -1;
    }
    struct view *v = loader_reload_zone(view_current(), zone, d);
    count_reload(v ? 0 : -1);
    if (!v)
        return -1;
    view_publish(v);
    schedule_reclaim();
    return 0;
}

/* Re-signs every zone whose earliest signature is within its refresh margin: the zone is
 * read and signed anew as on a reload, and until that is done answers come from the
 * current view, whose signatures are still valid. */
static void on_resign(evutil_socket_t fd, short what, void *arg)
{
    time_t now = time(NULL);
    if (now < d0.resign_retry || reloadjob_running())
        return; /* a reload under way signs what it loads; this tick waits for it */
    const struct zonedb *db = view_current()->db;
    for (size_t i = 0; i < db->nzones; i++) {
        const struct zone *z = db->zones[i];
        if (!z->sec || now < z->sec->refresh_at)
            continue;
        char name[DNAME_TEXTMAX];
        dname_to_text(z->name, name, sizeof(name));
        struct diag d;
        diag_init(&d);
        int rc = daemon_reload_zone(name, &d);
        log_lines(d.text);
        diag_free(&d);
        if (rc < 0) {
            log_err("zone %s: re-signing failed; retrying in a minute", name);
            d0.resign_retry = now + 60;
            return;
        }
        log_info("zone %s: signatures refreshed", name);
        db = view_current()->db; /* the reload published a new view */
    }
}

static void sighup_done(void *arg, int rc, const char *text)
{
    (void)arg;
    log_lines(text);
    log_msg(rc == 0  ? LOG_LVL_INFO
            : rc > 0 ? LOG_LVL_WARN
                     : LOG_LVL_ERR,
            "%s", daemon_reload_verdict(rc));
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
    /* A big zone takes a while: the operator sees that the signal arrived. */
    log_info(reloadjob_running() ? "SIGHUP: a reload is under way; another one follows it"
                                 : "SIGHUP: reading the config and every zone again");
    if (daemon_reload_start(sighup_done, NULL) < 0)
        log_err("reload failed: it could not be started (too many waiting for it)");
}

static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
    querylog_reopen(); /* logrotate moved the file away */
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    log_info("signal %d: shutting down", (int)sig);
    event_base_loopbreak(d0.base);
}

/* Drains and weights set at run time come back before the first query is answered. */
static int restore_state(const struct config *c)
{
    if (!c->server.state)
        return 0;
    struct diag d;
    diag_init(&d);
    int rc = statefile_load(c->server.state, c, &d);
    log_lines(d.text);
    diag_free(&d);
    return rc < 0 ? -1 : 0;
}

/* This node's probes changed their view: the fleet hears of it, then the services. */
static void on_health(void)
{
    fleet_probe_changed();
    daemon_state_changed();
}

static unsigned worker_count(const struct config *c)
{
    if (c->server.workers)
        return c->server.workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static int start_listeners(const struct config *c)
{
    struct diag d;
    diag_init(&d);
    /* The control socket first: it refuses to start beside a live server.  Then TCP,
     * which binds without SO_REUSEPORT, so a second server on the same address is
     * refused before it could share our UDP port. */
    /* Log lines queue from the first answer; the file is opened after dropping root. */
    int rc = querylog_configure(c->server.query_log, &d);
    if (rc == 0)
        rc = dnstap_configure(c->server.dnstap, c->server.dnstap_socket, &d);
    if (rc == 0)
        rc = control_start(d0.base, c, &d);
    if (rc == 0)
        rc = metrics_start(d0.base, c, &d);
    if (rc == 0)
        rc = tcp_start(c, &d);
    if (rc == 0)
        rc = udp_start(c, worker_count(c), &d);
    /* Every privileged port is bound now: root is no longer needed. */
    if (rc == 0)
        rc = privilege_drop(c, &d);
    if (rc == 0)
        rc = querylog_start(&d); /* opened as the dropped user */
    if (rc == 0)
        rc = dnstap_start(&d);
    log_lines(d.text);
    diag_free(&d);
    return rc;
}

static void log_ready(const struct config *c)
{
    char addrs[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < c->server.nlisten && n < sizeof(addrs) - 70; i++)
        n += (size_t)snprintf(addrs + n, sizeof(addrs) - n, "%s%s", i ? " " : "",
                              c->server.listen[i].text);
    log_info("meridiand %s ready: %zu zone(s), %u UDP worker(s) per address, %u health "
             "probe(s), listening on %s",
             PACKAGE_VERSION, view_current()->db->nzones, worker_count(c), probe_count(), addrs);
}

int daemon_run(const char *conf_path, struct view *v)
{
    d0.conf_path = conf_path;
    signal(SIGPIPE, SIG_IGN);
    /* The TCP thread's loop is woken from the main loop on reload and shutdown. */
    if (evthread_use_pthreads() < 0) {
        log_err("cannot enable libevent's thread support");
        view_free(v);
        return 1;
    }
    /* The fleet's shared state goes over the state file's copy, before any answer. */
    if (restore_state(v->conf) < 0 || fleet_init(v->conf) < 0) {
        fleet_shutdown();
        view_free(v);
        return 1;
    }
    d0.base = event_base_new();
    if (!d0.base)
        return 1;
    view_publish(v);
    d0.reclaim_timer = evtimer_new(d0.base, on_reclaim, NULL);
    d0.resign_timer = event_new(d0.base, -1, EV_PERSIST, on_resign, NULL);
    struct timeval second = {1, 0};
    struct event *hup = evsignal_new(d0.base, SIGHUP, on_sighup, NULL);
    struct event *term = evsignal_new(d0.base, SIGTERM, on_stop, NULL);
    struct event *intr = evsignal_new(d0.base, SIGINT, on_stop, NULL);
    struct event *usr1 = evsignal_new(d0.base, SIGUSR1, on_usr1, NULL);
    int status = 1;
    if (hup && term && intr && usr1 && evsignal_add(hup, NULL) == 0 &&
        evsignal_add(term, NULL) == 0 && evsignal_add(intr, NULL) == 0 &&
        evsignal_add(usr1, NULL) == 0 && d0.resign_timer &&
        event_add(d0.resign_timer, &second) == 0 && start_listeners(v->conf) == 0 &&
        probe_init(d0.base, on_health) == 0 && shift_init(d0.base) == 0 &&
        fleet_start(d0.base, daemon_state_changed) == 0 &&
        reloadjob_init(d0.base, on_loaded) == 0) {
        probe_sync(v->conf);
        daemon_state_changed(); /* a service may be failing open from the start (initial: down) */
        count_reload(0);        /* start-up is the first complete load */
        log_ready(v->conf);
        event_base_dispatch(d0.base);
        status = 0;
    }
    reloadjob_shutdown(); /* before anything it reads goes away */
    udp_stop();
    tcp_stop();
    control_stop();
    metrics_stop();
    querylog_shutdown();
    fleet_shutdown(); /* before the probes, which own the curl loop */
    dnstap_shutdown();
    probe_shutdown();
    shift_shutdown();
    struct event *evs[] = {hup, term, intr, usr1, d0.reclaim_timer, d0.resign_timer};
    for (size_t i = 0; i < ARRAY_LEN(evs); i++)
        if (evs[i])
            event_free(evs[i]);
    event_base_free(d0.base);
    failopen_free();
    view_shutdown();
    stats_free_all();
    state_free_all();
    return status;
}
