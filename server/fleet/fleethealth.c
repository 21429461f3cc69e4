/* fleethealth.c — the fleet's verdict on each address from every live node's probes, and
 * the isolation of a node that alone sees everything down.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/fleethealth.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/fleet/etcd.h"
#include "server/probe.h"

#include <stdlib.h>
#include <string.h>

static struct {
    struct fleetstate_entry *nodes, *views; /* FS_NODE, FS_HEALTH */
    size_t nnodes, nviews;
    bool isolated;
    int64_t alone_since_ms; /* when this node began to see everything down alone, or 0 */
} h;

void fleethealth_away(void)
{
    if (h.isolated)
        log_info("fleet: this node is no longer isolated: etcd is away, its own probes decide");
    fleethealth_forget();
}

void fleethealth_forget(void)
{
    free(h.nodes);
    free(h.views);
    memset(&h, 0, sizeof(h));
}

void fleethealth_take(const struct fleetstate_entry *e, size_t n)
{
    bool was = h.isolated;
    int64_t since = h.alone_since_ms;
    fleethealth_forget();
    h.isolated = was;
    h.alone_since_ms = since;
    h.nodes = malloc((n ? n : 1) * sizeof(*h.nodes));
    h.views = malloc((n ? n : 1) * sizeof(*h.views));
    if (!h.nodes || !h.views) {
        fleethealth_forget();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind == FS_NODE)
            h.nodes[h.nnodes++] = e[i];
        else if (e[i].kind == FS_HEALTH)
            h.views[h.nviews++] = e[i];
    }
}

static bool live(const char *node)
{
    for (size_t i = 0; i < h.nnodes; i++)
        if (!strcmp(h.nodes[i].node, node))
            return true;
    return false;
}

size_t fleethealth_live(void)
{
    return h.nnodes;
}

bool fleethealth_isolated(void)
{
    return h.isolated;
}

static unsigned quorum_of(enum fleet_quorum q, unsigned count, unsigned nlive)
{
    switch (q) {
    case QUORUM_ANY:
        return 1;
    case QUORUM_ALL:
        return nlive ? nlive : 1;
    case QUORUM_COUNT:
        return count < nlive ? count : nlive ? nlive : 1;
    case QUORUM_MAJORITY:
        break;
    }
    return nlive / 2 + 1;
}

/* What one pass over the addresses found. */
struct decide {
    const char *self;
    unsigned quorum;
    bool changed;
    unsigned own_probed, own_down; /* for isolation */
    bool others_see_up;
};

static void decide_one(void *ctx, const char *region, const char *addr, bool own_up,
                       struct addr_state *st)
{
    struct decide *d = ctx;
    unsigned reports = 0, down = 0;
    for (size_t i = 0; i < h.nviews; i++) {
        const struct fleetstate_entry *v = &h.views[i];
        if (strcmp(v->region, region) || strcmp(v->address, addr) || !live(v->node))
            continue;
        reports++;
        down += !v->on;
        if (v->on && strcmp(v->node, d->self))
            d->others_see_up = true;
    }
    d->own_probed++;
    d->own_down += !own_up;
    bool up = reports ? down < d->quorum : own_up;
    if (up == state_up(st))
        return;
    atomic_store(&st->up, up);
    st->last_change_ms = probe_now_ms();
    d->changed = true;
    if (reports)
        log_msg(up ? LOG_LVL_INFO : LOG_LVL_WARN,
                "fleet: %s %s is %s: %u of %zu live node(s) see it down (quorum %u)", region, addr,
                up ? "UP" : "DOWN", down, h.nnodes, d->quorum);
    else
        log_msg(up ? LOG_LVL_INFO : LOG_LVL_WARN,
                "fleet: %s %s is %s by this node's own probes (no live node reports it)", region,
                addr, up ? "UP" : "DOWN");
}

/* Nodes see a real failure a probe interval or so apart: only a view that stays alone for
 * hold_ms (the slowest check's detection bound) makes the node isolated. */
static bool alone(const struct decide *d, unsigned hold_ms)
{
    bool now = d->own_probed && d->own_down == d->own_probed && d->others_see_up;
    if (!now)
        h.alone_since_ms = 0;
    else if (!h.alone_since_ms)
        h.alone_since_ms = probe_now_ms();
    return now && probe_now_ms() - h.alone_since_ms >= hold_ms;
}

bool fleethealth_decide(const char *self, enum fleet_quorum q, unsigned count, unsigned hold_ms)
{
    struct decide d = {.self = self, .quorum = quorum_of(q, count, (unsigned)h.nnodes)};
    probe_each(decide_one, &d);
    bool isolated = alone(&d, hold_ms);
    if (isolated && !h.isolated)
        log_err("fleet: this node is ISOLATED: its probes see every address down while other "
                "nodes see some up; answering from the fleet's verdict");
    else if (!isolated && h.isolated)
        log_info("fleet: this node is no longer isolated");
    h.isolated = isolated;
    return d.changed;
}

struct puts {
    const char *prefix, *self;
    long long lease;
    json_object *ops;
};

static void put_one(void *ctx, const char *region, const char *addr, bool up, struct addr_state *st)
{
    struct puts *p = ctx;
    char key[1024];
    const char *v = up ? "up" : "down";
    fleetstate_health_key(key, sizeof(key), p->prefix, p->self, region, addr);
    json_object *put = json_object_new_object(), *op = json_object_new_object();
    json_object_object_add(put, "key", etcd_b64(key, strlen(key)));
    json_object_object_add(put, "value", etcd_b64(v, strlen(v)));
    json_object_object_add(put, "lease", json_object_new_int64(p->lease));
    json_object_object_add(op, "request_put", put);
    json_object_array_add(p->ops, op);
}

json_object *fleethealth_puts(const char *prefix, const char *self, long long lease)
{
    struct puts p = {prefix, self, lease, json_object_new_array()};
    probe_each(put_one, &p);
    return p.ops;
}

/* ---- status ---- */

struct status {
    struct strbuf *out;
    bool json, first;
};

static void status_views(struct status *s, const char *region, const char *addr)
{
    bool first = true;
    for (size_t i = 0; i < h.nviews; i++) {
        const struct fleetstate_entry *v = &h.views[i];
        if (strcmp(v->region, region) || strcmp(v->address, addr) || !live(v->node))
            continue;
        if (s->json) {
            sb_printf(s->out, "%s", first ? "" : ", ");
            sb_json_str(s->out, v->node);
            sb_printf(s->out, ": \"%s\"", v->on ? "up" : "down");
        } else {
            sb_printf(s->out, " %s=%s", v->node, v->on ? "up" : "down");
        }
        first = false;
    }
}

static void status_address(void *ctx, const char *region, const char *addr, bool own_up,
                           struct addr_state *st)
{
    struct status *s = ctx;
    const char *verdict = state_up(st) ? "up" : "down";
    if (!s->json) {
        sb_printf(s->out, "    %s %s: verdict %s, views:", region, addr, verdict);
        status_views(s, region, addr);
        sb_puts(s->out, "\n");
        return;
    }
    sb_printf(s->out, "%s{\"region\": ", s->first ? "" : ", ");
    sb_json_str(s->out, region);
    sb_puts(s->out, ", \"address\": ");
    sb_json_str(s->out, addr);
    sb_printf(s->out, ", \"verdict\": \"%s\", \"own\": \"%s\", \"views\": {", verdict,
              own_up ? "up" : "down");
    status_views(s, region, addr);
    sb_puts(s->out, "}}");
    s->first = false;
}

void fleethealth_status(struct strbuf *out, bool json)
{
    struct status s = {out, json, true};
    sb_puts(out, json ? ", \"nodes\": [" : "  live nodes:");
    for (size_t i = 0; i < h.nnodes; i++) {
        if (json && i)
            sb_puts(out, ", ");
        if (json)
            sb_json_str(out, h.nodes[i].node);
        else
            sb_printf(out, " %s", h.nodes[i].node);
    }
    sb_puts(out, json ? "], \"addresses\": [" : "\n  addresses:\n");
    probe_each(status_address, &s);
    if (json)
        sb_puts(out, "]");
}
