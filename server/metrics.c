/* metrics.c — Prometheus text exposition at /metrics (served by scrape.c on the main loop).
 * Workers' counters are summed at scrape time; nothing here touches the query path.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/fleet.h"
#include "server/metrics.h"
#include "geoip/dyn.h"
#include "geoip/state.h"
#include "lib/strbuf.h"
#include "server/daemon.h"
#include "server/dnstap.h"
#include "server/querylog.h"
#include "server/rcode.h"
#include "server/shift.h"
#include "server/signstatus.h"
#include "server/scrape.h"
#include "server/stats.h"
#include "server/tcp.h"
#include "server/view.h"
#include "zones/dname.h"

#include <stdio.h>
#include <string.h>

static void family(struct strbuf *b, const char *name, const char *type, const char *help)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *rcode_name(int rc, char *buf, size_t size)
{
    const char *name = dns_rcode_name((unsigned)rc);
    if (name)
        return name;
    snprintf(buf, size, "RCODE%d", rc);
    return buf;
}

static void queries(struct strbuf *b, const struct stats *s)
{
    static const char *const protos[PROTO_COUNT] = {"udp", "tcp"};
    family(b, "meridian_queries_total", "counter",
           "DNS queries answered, by transport, query type and response code.");
    for (int p = 0; p < PROTO_COUNT; p++)
        for (int t = 0; t < STATS_QTYPES; t++)
            for (int r = 0; r < STATS_RCODES; r++) {
                uint64_t n = atomic_load(&s->queries[p][t][r]);
                char buf[24];
                if (n)
                    sb_printf(b,
                              "meridian_queries_total{proto=\"%s\",qtype=\"%s\",rcode=\"%s\"} "
                              "%lu\n",
                              protos[p], stats_qtype_names[t], rcode_name(r, buf, sizeof(buf)),
                              (unsigned long)n);
            }
}

static void counter(struct strbuf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    sb_printf(b, "%s %lu\n", name, (unsigned long)v);
}

static void answers(struct strbuf *b, const struct stats *s)
{
    family(b, "meridian_answers_total", "counter",
           "Dynamic answers, by the service and the region they named.");
    for (uint32_t id = 0; id < state_pair_count(); id++) {
        const char *svc, *region;
        uint64_t n = atomic_load(&s->answers[id]);
        if (n && state_pair_names(id, &svc, &region))
            sb_printf(b, "meridian_answers_total{service=\"%s\",region=\"%s\"} %lu\n", svc, region,
                      (unsigned long)n);
    }
}

static void health(struct strbuf *b, const struct config *c)
{
    family(b, "meridian_health_up", "gauge", "1 while the address passes its check.");
    for (size_t r = 0; r < c->nregions; r++)
        for (size_t a = 0; a < c->regions[r].naddresses; a++) {
            const struct addr_state *st =
                state_addr(c->regions[r].name, c->regions[r].addresses[a].text, true);
            sb_printf(b, "meridian_health_up{region=\"%s\",address=\"%s\"} %d\n",
                      c->regions[r].name, c->regions[r].addresses[a].text, !st || state_up(st));
        }
    family(b, "meridian_probe_latency_seconds", "gauge",
           "How long the address's last health probe took.");
    for (size_t r = 0; r < c->nregions; r++)
        for (size_t a = 0; c->regions[r].check >= 0 && a < c->regions[r].naddresses; a++) {
            const struct addr_state *st =
                state_addr(c->regions[r].name, c->regions[r].addresses[a].text, true);
            if (st && st->probed)
                sb_printf(b, "meridian_probe_latency_seconds{region=\"%s\",address=\"%s\"} %.6f\n",
                          c->regions[r].name, c->regions[r].addresses[a].text,
                          st->latency_ms / 1000.0);
        }
}

static void shift_running_line(void *ctx, const char *service, bool running, uint64_t steps,
                               uint64_t rollbacks)
{
    sb_printf(ctx, "meridian_shift_running{service=\"%s\"} %d\n", service, running);
}

static void shift_steps_line(void *ctx, const char *service, bool running, uint64_t steps,
                             uint64_t rollbacks)
{
    sb_printf(ctx, "meridian_shift_steps_total{service=\"%s\"} %lu\n", service,
              (unsigned long)steps);
}

static void shift_rollbacks_line(void *ctx, const char *service, bool running, uint64_t steps,
                                 uint64_t rollbacks)
{
    sb_printf(ctx, "meridian_shift_rollbacks_total{service=\"%s\"} %lu\n", service,
              (unsigned long)rollbacks);
}

static void services(struct strbuf *b, const struct view *v)
{
    family(b, "meridian_service_failing_open", "gauge",
           "1 while every region the service can pick is down or drained.");
    for (unsigned i = 0; v->dyn && i < dyn_service_count(v->dyn); i++)
        sb_printf(b, "meridian_service_failing_open{service=\"%s\"} %d\n",
                  dyn_service_name(v->dyn, i), dyn_service_all_down(v->dyn, i));
    family(b, "meridian_entry_failing_open", "gauge",
           "1 while every region of the service's map entry (\"*\": its one set) is down or "
           "drained.");
    for (unsigned i = 0; v->dyn && i < dyn_service_count(v->dyn); i++)
        for (unsigned e = 0; e < dyn_entry_count(v->dyn, i); e++)
            sb_printf(b, "meridian_entry_failing_open{service=\"%s\",entry=\"%s\"} %d\n",
                      dyn_service_name(v->dyn, i), dyn_entry_label(v->dyn, i, e),
                      !dyn_entry_usable(v->dyn, i, e, NULL));
    family(b, "meridian_shift_running", "gauge", "1 while a gradual weight shift runs.");
    shift_each(shift_running_line, b);
    family(b, "meridian_shift_steps_total", "counter", "Steps of gradual weight shifts.");
    shift_each(shift_steps_line, b);
    family(b, "meridian_shift_rollbacks_total", "counter",
           "Gradual weight shifts rolled back to their starting weights.");
    shift_each(shift_rollbacks_line, b);
    family(b, "meridian_region_drained", "gauge", "1 while the region is drained everywhere.");
    for (size_t r = 0; r < v->conf->nregions; r++) {
        const struct region_state *rs = state_region_find(v->conf->regions[r].name);
        sb_printf(b, "meridian_region_drained{region=\"%s\"} %d\n", v->conf->regions[r].name,
                  rs && state_drained(rs));
    }
}

static void zones(struct strbuf *b, const struct view *v)
{
    family(b, "meridian_zone_serial", "gauge", "The SOA serial of each zone being served.");
    for (size_t i = 0; i < v->db->nzones; i++) {
        char name[DNAME_TEXTMAX];
        dname_to_text(v->db->zones[i]->name, name, sizeof(name));
        sb_printf(b, "meridian_zone_serial{zone=\"%s\"} %u\n", name, v->db->zones[i]->serial);
    }
    family(b, "meridian_zone_records", "gauge", "Records in each zone being served.");
    for (size_t i = 0; i < v->db->nzones; i++) {
        char name[DNAME_TEXTMAX];
        dname_to_text(v->db->zones[i]->name, name, sizeof(name));
        sb_printf(b, "meridian_zone_records{zone=\"%s\"} %zu\n", name, v->db->zones[i]->nrecords);
    }
}

static void reloads(struct strbuf *b)
{
    struct reload_stats r;
    daemon_reload_stats(&r);
    family(b, "meridian_reloads_total", "counter",
           "Reloads of config and zones, by result (partial: some zone kept its old version).");
    sb_printf(b, "meridian_reloads_total{result=\"ok\"} %lu\n", (unsigned long)r.ok);
    sb_printf(b, "meridian_reloads_total{result=\"partial\"} %lu\n", (unsigned long)r.partial);
    sb_printf(b, "meridian_reloads_total{result=\"failed\"} %lu\n", (unsigned long)r.failed);
    family(b, "meridian_last_reload_success_timestamp_seconds", "gauge",
           "When config and zones last loaded completely (start-up counts).");
    sb_printf(b, "meridian_last_reload_success_timestamp_seconds %.3f\n",
              (double)r.last_success_ms / 1000.0);
}

static void render(struct strbuf *b)
{
    const struct view *v = view_current();
    struct stats *s = stats_new_total();
    if (!s) {
        b->failed = true;
        return;
    }
    stats_sum(s);
    family(b, "meridian_build_info", "gauge", "Always 1; the labels say which build runs.");
    sb_printf(b, "meridian_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    queries(b, s);
    counter(b, "meridian_truncated_total", "Responses sent with TC=1.", atomic_load(&s->truncated));
    counter(b, "meridian_dropped_total", "Packets not answered: short, a response, oversized.",
            atomic_load(&s->dropped));
    counter(b, "meridian_fail_open_total",
            "Dynamic answers given as if every region were up, because none was.",
            atomic_load(&s->fail_open));
    counter(b, "meridian_rrl_dropped_total", "UDP responses dropped by rate limiting.",
            atomic_load(&s->rrl_dropped));
    counter(b, "meridian_rrl_truncated_total", "UDP responses rate limiting sent truncated (slip).",
            atomic_load(&s->rrl_slipped));
    family(b, "meridian_cookies_total", "counter",
           "Queries by their DNS cookie (RFC 7873): missing, new (a client cookie alone), valid "
           "or invalid server cookie.");
    for (int k = 0; k < COOKIE_STATES; k++)
        sb_printf(b, "meridian_cookies_total{result=\"%s\"} %lu\n", stats_cookie_names[k],
                  (unsigned long)atomic_load(&s->cookies[k]));
    answers(b, s);
    counter(b, "meridian_dnssec_dynamic_signatures_total",
            "RRSIGs made at query time over dynamic answers (signature cache misses).",
            atomic_load(&s->sigs_made));
    counter(b, "meridian_dnssec_signature_cache_hits_total",
            "Dynamic answers whose RRSIGs came from a worker's signature cache.",
            atomic_load(&s->sig_hits));
    stats_free_total(s);
    health(b, v->conf);
    services(b, v);
    zones(b, v);
    signstatus_metrics(v, b);
    reloads(b);
    family(b, "meridian_tcp_connections", "gauge", "Open DNS-over-TCP connections.");
    sb_printf(b, "meridian_tcp_connections %u\n", tcp_clients());
    counter(b, "meridian_querylog_dropped_total",
            "Query log lines dropped because the writer fell behind.", querylog_dropped());
    fleet_metrics(b);
    counter(b, "meridian_dnstap_messages_total", "dnstap messages written.", dnstap_written());
    counter(b, "meridian_dnstap_dropped_total",
            "dnstap messages dropped: the writer fell behind or the reader was away.",
            dnstap_dropped());
}

int metrics_start(struct event_base *base, const struct config *c, struct diag *d)
{
    return c->server.metrics ? scrape_start(base, c->server.metrics, render, d) : 0;
}

void metrics_stop(void)
{
    scrape_stop();
}
