/* fleet.c — the node's life in the fleet: the sync cycle on the event loop (lease, own
 * health views, a watch on the prefix and reads of it), the verdict after each read, and
 * etcd's absences.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/fleet.h"
#include "lib/log.h"
#include "server/fleet/etcd.h"
#include "server/fleet/fleetapply.h"
#include "server/fleet/fleetcore.h"
#include "server/fleet/fleethealth.h"
#include "server/fleet/fleetstate.h"
#include "server/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A watch on the prefix wakes a read of it at each change; without one, a read this often
 * still applies a change within the 1 s the fleet promises, and with one the reads go on
 * every SYNC_WATCHED_MS in case an event is missed.  A fleet's prefix is a few KiB. */
#define SYNC_MS         100
#define SYNC_WATCHED_MS 1000
#define BACKOFF_MAX     5000 /* retries while etcd is away: 200 ms doubling up to this */
#define LEASE_TTL_S     5    /* a dead node's views vanish this long after its last keepalive */
#define KEEPALIVE_MS    1000
#define SEEN_MAX        256

enum step { STEP_NONE, STEP_GRANT, STEP_PUBLISH, STEP_KEEPALIVE, STEP_RANGE };

/* The watch stream: none, open and live, or open but no longer trusted (etcd cancelled it
 * or went away), to be closed outside curl's callbacks. */
enum watch { WATCH_NONE, WATCH_OPEN, WATCH_DEAD };

static struct {
    struct etcd *etcd;
    char *node, *prefix;
    char *state_path;    /* server.state at start, or NULL */
    char settings[2048]; /* the fleet: section in use, as fleet_check_reload compares it */
    enum fleet_quorum quorum;
    unsigned quorum_count;
    unsigned hold_ms; /* the slowest check's detection bound: isolation must outlast it */
    struct event_base *base;
    struct event *timer;
    fleet_change_fn on_change;
    enum step busy; /* the request in flight */
    enum watch watch;
    bool wake;        /* the watch saw a change while a request was in flight */
    bool connected;   /* the last request succeeded */
    bool away_logged; /* "etcd unreachable" said once per absence */
    bool republish;   /* this node's views must be written again */
    unsigned backoff_ms;
    size_t misses;           /* requests failed in a row: etcd is away once every endpoint failed */
    long long lease;         /* 0: none yet, or lost */
    int64_t keepalive_ms;    /* when the lease was last renewed */
    long long revision;      /* of the last snapshot applied */
    long long min_revision;  /* a command committed this: older snapshots are stale */
    uint64_t seen[SEEN_MAX]; /* malformed key@revision already logged */
    size_t nseen;
    uint64_t syncs, failures; /* for metrics */
} f;

bool fleet_active(void)
{
    return f.etcd != NULL;
}

/* ---- requests ---- */

static json_object *b64str(const char *s)
{
    return etcd_b64(s, strlen(s));
}

/* The range of every key under the prefix: [prefix, prefix with its last byte + 1). */
static json_object *range_request(void)
{
    json_object *r = json_object_new_object();
    char end[256];
    snprintf(end, sizeof(end), "%s", f.prefix);
    end[strlen(end) - 1]++;
    json_object_object_add(r, "key", b64str(f.prefix));
    json_object_object_add(r, "range_end", b64str(end));
    return r;
}

/* ---- applying a snapshot ---- */

static void save_state(const char *why)
{
    fleetapply_save(f.state_path, why);
}

static void decide(void)
{
    if (fleethealth_decide(f.node, f.quorum, f.quorum_count, f.hold_ms) && f.on_change)
        f.on_change();
}

/* A range reply: every key under the prefix at one revision. */
static int take_snapshot(json_object *reply)
{
    json_object *header, *kvs = NULL;
    long long rev =
        json_object_object_get_ex(reply, "header", &header) ? etcd_int(header, "revision", 0) : 0;
    if (rev < f.min_revision)
        return 0; /* read before a commit of ours: the next read has it */
    json_object_object_get_ex(reply, "kvs", &kvs);
    size_t n = json_object_is_type(kvs, json_type_array) ? json_object_array_length(kvs) : 0;
    struct fleetstate_entry *e = malloc((n ? n : 1) * sizeof(*e));
    bool *bad = malloc((n ? n : 1) * sizeof(*bad));
    if (!e || !bad) {
        free(e);
        free(bad);
        return -1;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += fleetapply_parse(json_object_array_get_idx(kvs, i), f.prefix, &e[used], &bad[used]);
    bool changed = rev != f.revision && fleetapply_state(e, bad, used);
    f.revision = rev;
    if (changed) {
        log_info("fleet: applied the shared weights and drains of etcd revision %lld", rev);
        save_state("the shared state changed");
    }
    fleethealth_take(e, used);
    free(e);
    free(bad);
    decide();
    return 0;
}

/* ---- the sync cycle ---- */

static void arm(unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(f.timer, &tv);
}

/* ---- the watch: a read of the prefix at once after each change ---- */

static void wake(void)
{
    if (f.busy)
        f.wake = true;
    else
        arm(0);
}

/* The gateway's watch messages: {"result": {"created": true}} once, then {"result":
 * {"events": [...]}} per change.  A read follows either: the first one covers what changed
 * before the watch began.  A cancelled watch is closed and opened again. */
static void on_watch_msg(void *arg, json_object *msg)
{
    json_object *result, *v;
    if (!json_object_object_get_ex(msg, "result", &result))
        return;
    if (json_object_object_get_ex(result, "canceled", &v) && json_object_get_boolean(v)) {
        f.watch = WATCH_DEAD;
        return;
    }
    if (json_object_object_get_ex(result, "events", &v) ||
        json_object_object_get_ex(result, "created", &v))
        wake();
}

static void on_watch_end(void *arg, json_object *reply, const char *err)
{
    f.watch = WATCH_NONE;
}

static void start_watch(void)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "create_request", range_request());
    if (etcd_stream(f.etcd, "/v3/watch", req, on_watch_msg, on_watch_end, NULL) == 0)
        f.watch = WATCH_OPEN;
    json_object_put(req);
}

static void went_away(const char *err)
{
    bool was = f.connected;
    f.failures++;
    f.backoff_ms = f.backoff_ms ? f.backoff_ms * 2 : SYNC_MS * 2;
    if (f.backoff_ms > BACKOFF_MAX)
        f.backoff_ms = BACKOFF_MAX;
    if (f.connected || !f.away_logged) {
        log_err("fleet: etcd is unreachable (%s): serving the last shared state and this "
                "node's own probes; retrying",
                err);
        f.away_logged = true;
    }
    f.connected = false;
    f.lease = 0; /* it may lapse while we are away: a new one on return */
    if (f.watch == WATCH_OPEN)
        f.watch = WATCH_DEAD; /* its connection may hang where the requests failed */
    probe_set_external_verdict(false);
    fleethealth_away();
    if (was && f.on_change)
        f.on_change();
}

static void came_back(void)
{
    if (!f.connected && f.away_logged)
        log_info("fleet: etcd is reachable again: resynchronising");
    f.connected = true;
    f.away_logged = false;
    f.backoff_ms = 0;
    probe_set_external_verdict(true);
}

static void on_reply(void *arg, json_object *reply, const char *err);

static json_object *grant_request(void)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "TTL", json_object_new_int64(LEASE_TTL_S));
    return r;
}

static json_object *publish_request(void)
{
    char key[512];
    json_object *ops = fleethealth_puts(f.prefix, f.node, f.lease);
    json_object *put = json_object_new_object(), *op = json_object_new_object();
    fleetstate_node_key(key, sizeof(key), f.prefix, f.node);
    json_object_object_add(put, "key", b64str(key));
    json_object_object_add(put, "value", b64str("alive"));
    json_object_object_add(put, "lease", json_object_new_int64(f.lease));
    json_object_object_add(op, "request_put", put);
    json_object_array_add(ops, op);
    json_object *r = json_object_new_object();
    json_object_object_add(r, "success", ops);
    return r;
}

static json_object *keepalive_request(void)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "ID", json_object_new_int64(f.lease));
    return r;
}

/* The next thing the cycle needs, and its request. */
static enum step next_step(const char **path, json_object **body)
{
    if (!f.lease) {
        *path = "/v3/lease/grant";
        *body = grant_request();
        return STEP_GRANT;
    }
    if (f.republish) {
        *path = "/v3/kv/txn";
        *body = publish_request();
        return STEP_PUBLISH;
    }
    if (probe_now_ms() - f.keepalive_ms >= KEEPALIVE_MS) {
        *path = "/v3/lease/keepalive";
        *body = keepalive_request();
        return STEP_KEEPALIVE;
    }
    *path = "/v3/kv/range";
    *body = range_request();
    return STEP_RANGE;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    const char *path;
    json_object *body;
    if (f.watch == WATCH_DEAD) {
        etcd_cancel_streams(f.etcd);
        f.watch = WATCH_NONE;
    }
    if (f.busy)
        return;
    f.wake = false;
    enum step s = next_step(&path, &body);
    int rc = etcd_call_async(f.etcd, path, body, on_reply, NULL);
    json_object_put(body);
    if (rc < 0) {
        went_away("cannot start a request");
        arm(f.backoff_ms);
        return;
    }
    f.busy = s;
}

/* keepalive answers {"result": {"ID", "TTL"}}; a TTL of 0 or none: the lease is gone. */
static void took_keepalive(json_object *reply)
{
    json_object *result = reply;
    json_object_object_get_ex(reply, "result", &result);
    f.keepalive_ms = probe_now_ms();
    if (etcd_int(result, "TTL", 0) <= 0)
        f.lease = 0;
}

static void on_reply(void *arg, json_object *reply, const char *err)
{
    enum step s = f.busy;
    f.busy = STEP_NONE;
    if (!reply && ++f.misses < etcd_endpoints(f.etcd)) {
        f.failures++;
        arm(0); /* the next endpoint at once */
        return;
    }
    if (!reply) {
        f.misses = 0;
        went_away(err);
        arm(f.backoff_ms);
        return;
    }
    f.misses = 0;
    came_back();
    f.syncs++;
    if (s == STEP_GRANT) {
        f.lease = etcd_int(reply, "ID", 0);
        f.keepalive_ms = probe_now_ms();
        f.republish = f.lease != 0;
    } else if (s == STEP_PUBLISH) {
        f.republish = false;
    } else if (s == STEP_KEEPALIVE) {
        took_keepalive(reply);
    } else if (s == STEP_RANGE && take_snapshot(reply) < 0) {
        log_err("fleet: out of memory while reading the shared state");
    }
    json_object_put(reply);
    if (s == STEP_RANGE && f.watch == WATCH_NONE)
        start_watch();
    arm(s != STEP_RANGE || f.wake ? 0 : f.watch == WATCH_OPEN ? SYNC_WATCHED_MS : SYNC_MS);
}

/* ---- life ---- */

/* Every setting of a fleet: section in one string. */
static void describe(const struct conf_fleet *fc, char *buf, size_t size)
{
    size_t n =
        (size_t)snprintf(buf, size, "%s|%s|%s|%s|%s|%s|%s|%s|%u|%d|%u", fc->node ? fc->node : "",
                         fc->prefix ? fc->prefix : "", fc->user ? fc->user : "",
                         fc->password_file ? fc->password_file : "", fc->tls_ca ? fc->tls_ca : "",
                         fc->tls_cert ? fc->tls_cert : "", fc->tls_key ? fc->tls_key : "",
                         fc->probe_source ? fc->probe_source : "", fc->timeout_ms, (int)fc->quorum,
                         fc->quorum_count);
    for (size_t i = 0; i < fc->netcd && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "|%s", fc->etcd[i]);
}

void fleet_check_reload(const struct config *c)
{
    char now[sizeof(f.settings)];
    describe(&c->fleet, now, sizeof(now));
    if (strcmp(now, f.settings))
        log_warn("fleet: changes to the fleet: section take effect on restart only");
}

int fleet_init(const struct config *c)
{
    char err[400];
    const struct conf_fleet *fc = &c->fleet;
    describe(fc, f.settings, sizeof(f.settings));
    if (!fc->node)
        return 0;
    probe_set_source(fc->probe_source);
    f.node = strdup(fc->node);
    f.prefix = strdup(fc->prefix);
    f.quorum = fc->quorum;
    f.state_path = c->server.state ? strdup(c->server.state) : NULL;
    for (size_t i = 0; i < c->nchecks; i++) {
        const struct conf_check *ck = &c->checks[i];
        unsigned bound = ck->interval_ms * ck->fall + ck->timeout_ms;
        f.hold_ms = bound > f.hold_ms ? bound : f.hold_ms;
    }
    f.quorum_count = fc->quorum_count;
    if (!f.node || !f.prefix || !(f.etcd = etcd_new(fc, err, sizeof(err)))) {
        log_err("fleet: cannot start the etcd client: %s", f.node ? err : "out of memory");
        return -1;
    }
    /* The first answer already obeys the fleet's drains and weights. */
    json_object *req = range_request();
    json_object *reply = etcd_call(f.etcd, "/v3/kv/range", req, err, sizeof(err));
    json_object_put(req);
    if (!reply) {
        log_err("fleet: etcd is unreachable at start (%s): serving the state file's copy "
                "until it answers",
                err);
        f.away_logged = true;
        return 0;
    }
    f.connected = true;
    if (take_snapshot(reply) < 0)
        log_err("fleet: out of memory while reading the shared state");
    json_object_put(reply);
    log_info("fleet: node %s joined through etcd at revision %lld", f.node, f.revision);
    return 0;
}

int fleet_start(struct event_base *base, fleet_change_fn on_change)
{
    if (!f.etcd)
        return 0;
    f.base = base;
    f.on_change = on_change;
    f.timer = evtimer_new(base, on_tick, NULL);
    if (!f.timer)
        return -1;
    probe_set_external_verdict(f.connected);
    arm(0);
    return 0;
}

/* A node that stops cleanly leaves at once: its lease, node key and views go with it. */
static void leave(void)
{
    char err[300];
    if (!f.etcd || !f.connected || !f.lease)
        return;
    json_object *req = keepalive_request();
    json_object_put(etcd_call(f.etcd, "/v3/lease/revoke", req, err, sizeof(err)));
    json_object_put(req);
}

void fleet_shutdown(void)
{
    leave();
    etcd_free(f.etcd);
    if (f.timer)
        event_free(f.timer);
    free(f.node);
    free(f.prefix);
    free(f.state_path);
    fleethealth_forget();
    memset(&f, 0, sizeof(f));
}

void fleet_probe_changed(void)
{
    if (!f.etcd)
        return;
    f.republish = true;
    if (f.connected && !f.busy)
        arm(0);
}

/* ---- for the commands (fleetcmd.c) ---- */

struct etcd *fleet_client(void)
{
    return f.etcd;
}

const char *fleet_prefix(void)
{
    return f.prefix;
}

void fleet_committed(long long rev)
{
    if (rev > f.min_revision)
        f.min_revision = rev;
}

void fleet_save(const char *why)
{
    save_state(why);
}

/* ---- status and metrics ---- */

void fleet_status(struct strbuf *out, bool json)
{
    if (!f.etcd)
        return;
    if (json) {
        sb_puts(out, ", \"fleet\": {\"node\": ");
        sb_json_str(out, f.node);
        sb_printf(out, ", \"connected\": %s, \"isolated\": %s, \"revision\": %lld",
                  f.connected ? "true" : "false", fleethealth_isolated() ? "true" : "false",
                  f.revision);
        fleethealth_status(out, true);
        sb_puts(out, "}");
        return;
    }
    sb_printf(out, "fleet: node %s, etcd %s, revision %lld%s\n", f.node,
              f.connected ? "connected" : "UNREACHABLE (own probes, last state)", f.revision,
              fleethealth_isolated() ? ", ISOLATED (sees every address down alone)" : "");
    fleethealth_status(out, false);
}

void fleet_metrics(struct strbuf *b)
{
    if (!f.etcd)
        return;
    sb_puts(b, "# HELP meridian_fleet_connected 1 while etcd answers this node.\n"
               "# TYPE meridian_fleet_connected gauge\n");
    sb_printf(b, "meridian_fleet_connected %d\n", f.connected);
    sb_puts(b, "# HELP meridian_fleet_isolated 1 while this node alone sees every address "
               "down.\n# TYPE meridian_fleet_isolated gauge\n");
    sb_printf(b, "meridian_fleet_isolated %d\n", fleethealth_isolated());
    sb_puts(b, "# HELP meridian_fleet_live_nodes Nodes alive in etcd (holding a lease).\n"
               "# TYPE meridian_fleet_live_nodes gauge\n");
    sb_printf(b, "meridian_fleet_live_nodes %zu\n", f.connected ? fleethealth_live() : 0);
    sb_puts(b, "# HELP meridian_fleet_revision The etcd revision of the shared state applied.\n"
               "# TYPE meridian_fleet_revision gauge\n");
    sb_printf(b, "meridian_fleet_revision %lld\n", f.revision);
    sb_puts(b, "# HELP meridian_fleet_sync_failures_total etcd requests that failed.\n"
               "# TYPE meridian_fleet_sync_failures_total counter\n");
    sb_printf(b, "meridian_fleet_sync_failures_total %lu\n", (unsigned long)f.failures);
}
