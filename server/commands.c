/* commands.c — what each control command does and says.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/commands.h"
#include "geoip/dyn.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/daemon.h"
#include "server/explain.h"
#include "server/fleet/fleet.h"
#include "server/failback.h"
#include "server/guard.h"
#include "server/rcode.h"
#include "server/shift.h"
#include "server/signstatus.h"
#include "server/statefile.h"
#include "server/stats.h"
#include "server/view.h"
#include "server/yamlwalk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- parsing --------------------------------------------------------------------------- */

struct spec {
    const char *name;
    enum command_kind kind;
    unsigned min, max; /* arguments */
    const char *usage;
};

#define SPEC(id, name, min, max, usage) {name, CMD_##id, min, max, usage},
static const struct spec specs[] = {CTL_COMMANDS(SPEC)};
#undef SPEC

static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* Splits line into at most max words of at most CTL_WORD_MAX bytes; -1 when there are more
 * or longer ones. */
static int split(const char *line, size_t len, char words[][CTL_WORD_MAX + 1], unsigned max)
{
    unsigned n = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && line[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        if (i == start)
            break;
        if (n == max || i - start > CTL_WORD_MAX)
            return -1;
        memcpy(words[n], line + start, i - start);
        words[n++][i - start] = '\0';
    }
    return (int)n;
}

int command_parse(const char *line, size_t len, struct command *cmd, char *err, size_t errsize)
{
    char words[COMMAND_ARGS_MAX + 3][CTL_WORD_MAX + 1];
    memset(cmd, 0, sizeof(*cmd));
    if (!printable(line, len)) {
        snprintf(err, errsize,
                 "the request holds control or non-ASCII bytes; send one line of "
                 "text such as \"status\"");
        return -1;
    }
    int n = split(line, len, words, COMMAND_ARGS_MAX + 3);
    int first = n > 0 && strcmp(words[0], "--json") == 0;
    cmd->json = first;
    if (n - first < 1) {
        snprintf(err, errsize, n < 0 ? "too many or too long words" : "empty request; try help");
        return -1;
    }
    for (size_t i = 0; i < ARRAY_LEN(specs); i++) {
        if (strcmp(words[first], specs[i].name) != 0)
            continue;
        bool forcible = strstr(specs[i].usage, CTL_FORCE) != NULL;
        unsigned nargs = 0, words_left = 0;
        for (int a = first + 1; a < n; a++) {
            if (forcible && !cmd->force && strcmp(words[a], CTL_FORCE) == 0)
                cmd->force = true;
            else if (nargs < COMMAND_ARGS_MAX)
                memcpy(cmd->args[nargs++], words[a], sizeof(cmd->args[0]));
            else
                words_left++;
        }
        if (nargs < specs[i].min || nargs + words_left > specs[i].max) {
            snprintf(err, errsize, "usage: %s", specs[i].usage);
            return -1;
        }
        cmd->kind = specs[i].kind;
        cmd->nargs = nargs;
        return 0;
    }
    snprintf(err, errsize, "unknown command \"%.40s\"; try help", words[first]);
    return -1;
}

/* ---- replies ------------------------------------------------------------------------- */

static bool fail(const struct command *cmd, struct strbuf *out, const char *fmt, ...)
    F_PRINTF(3, 4);

static bool fail(const struct command *cmd, struct strbuf *out, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cmd->json) {
        sb_puts(out, "{\"error\": ");
        sb_json_str(out, msg);
        sb_puts(out, "}\n");
    } else {
        sb_printf(out, "%s\n", msg);
    }
    return false;
}

/* A one-line success, as text or as {"result": "..."}. */
static bool done(const struct command *cmd, struct strbuf *out, const char *msg)
{
    if (cmd->json) {
        sb_puts(out, "{\"result\": ");
        sb_json_str(out, msg);
        sb_puts(out, "}\n");
    } else {
        sb_printf(out, "%s\n", msg);
    }
    return true;
}

static void iso_time(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- status ---------------------------------------------------------------------------- */

static void status_address(const struct conf_region *r, const struct conf_ip *ip, bool json,
                           bool first, struct strbuf *out)
{
    const struct addr_state *st = state_addr(r->name, ip->text, true);
    char changed[32] = "never";
    if (st && st->last_change_ms)
        iso_time(st->last_change_ms, changed, sizeof(changed));
    bool up = !st || state_up(st);
    const char *result = st && st->probed ? st->last_result
                         : r->check >= 0  ? "not probed yet"
                                          : "no check";
    if (!json) {
        sb_printf(out, "    %-40s %-4s %s (last change %s, %.1f ms)\n", ip->text,
                  up ? "up" : "DOWN", result, changed, st ? st->latency_ms : 0.0);
        return;
    }
    sb_printf(out, "%s{\"address\": ", first ? "" : ", ");
    sb_json_str(out, ip->text);
    sb_printf(out, ", \"up\": %s, \"last_result\": ", up ? "true" : "false");
    sb_json_str(out, result);
    sb_printf(out, ", \"last_change\": ");
    if (st && st->last_change_ms)
        sb_json_str(out, changed);
    else
        sb_puts(out, "null");
    sb_printf(out, ", \"latency_ms\": %.3f}", st ? st->latency_ms : 0.0);
}

static void status_region(const struct view *v, unsigned i, struct strbuf *out, bool json)
{
    const struct conf_region *r = &v->conf->regions[i];
    const struct region_state *rs = state_region_find(r->name);
    bool drained = rs && state_drained(rs), healthy = dyn_region_healthy(v->dyn, i);
    const char *check = r->check >= 0 ? v->conf->checks[r->check].name : NULL;
    if (json) {
        sb_printf(out, "%s{\"name\": ", i ? ", " : "");
        sb_json_str(out, r->name);
        sb_printf(out,
                  ", \"drained\": %s, \"healthy\": %s, \"check\": ", drained ? "true" : "false",
                  healthy ? "true" : "false");
        if (check)
            sb_json_str(out, check);
        else
            sb_puts(out, "null");
        sb_puts(out, ", \"addresses\": [");
    } else {
        sb_printf(out, "  %s: %s, %s, check %s\n", r->name, drained ? "DRAINED" : "in service",
                  healthy ? "up" : "DOWN", check ? check : "(none)");
    }
    for (size_t a = 0; a < r->naddresses; a++)
        status_address(r, &r->addresses[a], json, a == 0, out);
    if (json)
        sb_puts(out, "]}");
}

static long configured_weight(const struct conf_service *s, unsigned r)
{
    for (size_t i = 0; s->set.weights && i < s->set.n; i++)
        if (s->set.regions[i] == r)
            return (long)s->set.weights[i];
    return -1;
}

static void status_service_region(const struct view *v, unsigned si, unsigned r, bool first,
                                  struct strbuf *out, bool json)
{
    const struct conf_service *s = &v->conf->services[si];
    const struct svc_region_state *st = state_svc_region_find(s->name, v->conf->regions[r].name);
    int64_t w = st ? atomic_load(&st->weight) : -1;
    long cw = configured_weight(s, r);
    bool drained = st && atomic_load(&st->drained);
    long eff = w >= 0 ? (long)w : cw;
    if (json) {
        sb_printf(out, "%s{\"region\": ", first ? "" : ", ");
        sb_json_str(out, v->conf->regions[r].name);
        sb_printf(out, ", \"weight\": %ld, \"configured_weight\": %ld, \"drained\": %s}", eff, cw,
                  drained ? "true" : "false");
        return;
    }
    sb_printf(out, "    %s:", v->conf->regions[r].name);
    if (eff >= 0)
        sb_printf(out, " weight %ld%s", eff, w >= 0 && w != cw ? " (set at run time)" : "");
    sb_printf(out, "%s\n", drained ? " DRAINED for this service" : eff < 0 ? " in service" : "");
}

/* The entries of the service that fail open, each on its own line or in a JSON list. */
static void status_entries(const struct view *v, unsigned si, struct strbuf *out, bool json)
{
    const char *sep = "";
    if (json)
        sb_puts(out, ", \"failing_open_entries\": [");
    for (unsigned e = 0; e < dyn_entry_count(v->dyn, si); e++) {
        if (dyn_entry_usable(v->dyn, si, e, NULL))
            continue;
        if (json) {
            sb_puts(out, sep);
            sb_json_str(out, dyn_entry_label(v->dyn, si, e));
            sep = ", ";
        } else {
            sb_printf(out,
                      "    entry %s: FAILING OPEN (every region it lists is down or drained)\n",
                      dyn_entry_label(v->dyn, si, e));
        }
    }
    if (json)
        sb_puts(out, "]");
}

/* The service's shift, if it ever had one: a line, or a JSON string or null. */
static void status_shift(const char *service, struct strbuf *out, bool json)
{
    char shift[1400];
    const char *state;
    bool shifted = shift_summary(service, shift, sizeof(shift), &state);
    if (json) {
        sb_puts(out, ", \"shift\": ");
        if (shifted)
            sb_json_str(out, shift);
        else
            sb_puts(out, "null");
    } else if (shifted) {
        sb_printf(out, "    shift: %s\n", shift);
    }
}

static void status_service_head(const struct view *v, unsigned si, struct strbuf *out, bool json)
{
    static const char *const policies[] = {"geo", "weighted", "nearest", "latency", "failover"};
    const struct conf_service *s = &v->conf->services[si];
    bool failing = dyn_service_all_down(v->dyn, si);
    int held = failback_held(v, si);
    if (!json) {
        sb_printf(out, "  %s: policy %s%s", s->name, policies[s->policy],
                  failing ? ", FAILING OPEN (every region down or drained)" : "");
        if (held >= 0)
            sb_printf(out, ", HELD on %s (failback: manual; meridianctl failback %s)",
                      v->conf->regions[held].name, s->name);
        sb_puts(out, "\n");
        return;
    }
    sb_printf(out, "%s{\"name\": ", si ? ", " : "");
    sb_json_str(out, s->name);
    sb_printf(out, ", \"policy\": \"%s\", \"failing_open\": %s, \"held\": ", policies[s->policy],
              failing ? "true" : "false");
    if (held >= 0)
        sb_json_str(out, v->conf->regions[held].name);
    else
        sb_puts(out, "null");
}

static void status_service(const struct view *v, unsigned si, struct strbuf *out, bool json)
{
    status_service_head(v, si, out, json);
    status_entries(v, si, out, json);
    status_shift(v->conf->services[si].name, out, json);
    if (json)
        sb_puts(out, ", \"regions\": [");
    bool first = true;
    for (unsigned r = 0; r < v->conf->nregions; r++) {
        if (!dyn_service_uses(v->dyn, si, r))
            continue;
        status_service_region(v, si, r, first, out, json);
        first = false;
    }
    if (json)
        sb_puts(out, "]}");
}

static bool cmd_status(const struct command *cmd, struct strbuf *out)
{
    const struct view *v = view_current();
    sb_puts(out, cmd->json ? "{\"regions\": [" : "regions:\n");
    for (unsigned i = 0; i < v->conf->nregions; i++)
        status_region(v, i, out, cmd->json);
    sb_puts(out, cmd->json ? "], \"services\": [" : "services:\n");
    for (unsigned i = 0; i < v->conf->nservices; i++)
        status_service(v, i, out, cmd->json);
    sb_puts(out, cmd->json ? "], \"zones\": [" : "zones:\n");
    signstatus_zones(v, out, cmd->json);
    sb_puts(out, cmd->json ? "]" : "");
    fleet_status(out, cmd->json);
    if (cmd->json)
        sb_puts(out, "}\n");
    return true;
}

/* ---- weight, drain, undrain -------------------------------------------------------------- */

/* Keeps an accepted change: it is on disk before the reply says ok. */
static bool persist(const struct command *cmd, struct strbuf *out)
{
    const char *path = view_current()->conf->server.state;
    if (!path)
        return true;
    struct diag d;
    diag_init(&d);
    int rc = statefile_save(path, &d);
    if (rc < 0)
        fail(cmd, out, "the change was not saved, so it was undone: %s",
             d.text ? d.text : "cannot write the state file");
    diag_free(&d);
    return rc == 0;
}

/* In a fleet, changes go through etcd: ok once it committed them (server/fleet/). */
static char fmsg[1200];

static bool fleet_done(const struct command *cmd, struct strbuf *out, int rc)
{
    log_msg(rc == 0 ? LOG_LVL_INFO : LOG_LVL_ERR, "control: %s", fmsg);
    return rc == 0 ? done(cmd, out, fmsg) : fail(cmd, out, "%s", fmsg);
}

/* Refuses, unless forced, to take region ri out of service si (every service when -1)
 * where that leaves a service or map entry with no usable region; a forced change is
 * logged with what it leaves so. */
static bool guard_ok(const struct command *cmd, struct strbuf *out, int si, int ri)
{
    const struct view *v = view_current();
    bool *out_regions = calloc(v->conf->nregions + 1, sizeof(bool));
    if (!out_regions)
        return fail(cmd, out, "out of memory");
    out_regions[ri] = true;
    struct dyn_without w = {si, out_regions};
    struct strbuf broken;
    sb_init(&broken);
    unsigned n = guard_breaks(v->dyn, &w, &broken);
    free(out_regions);
    bool ok = n == 0 || cmd->force;
    if (n && cmd->force)
        log_warn("control: forced (%s): %s left with no usable region: failing open",
                 specs[cmd->kind].name, sb_str(&broken));
    else if (n)
        fail(cmd, out,
             "refused: that would leave %s with no usable region (its clients would fail "
             "open); add --force to do it anyway",
             sb_str(&broken));
    sb_free(&broken);
    return ok;
}

static int region_index(const struct view *v, const char *name)
{
    return conf_find_region(v->conf, name);
}

static bool cmd_weight(const struct command *cmd, struct strbuf *out)
{
    const struct view *v = view_current();
    int si = conf_find_service(v->conf, cmd->args[0]), ri = region_index(v, cmd->args[1]);
    char *end;
    long n = strtol(cmd->args[2], &end, 10);
    if (si < 0)
        return fail(cmd, out, "no service \"%s\"; see status", cmd->args[0]);
    if (ri < 0)
        return fail(cmd, out, "no region \"%s\"; see status", cmd->args[1]);
    if (!dyn_service_uses(v->dyn, (unsigned)si, (unsigned)ri))
        return fail(cmd, out, "service %s never picks region %s", cmd->args[0], cmd->args[1]);
    if (*end || end == cmd->args[2] || n < 0 || n > CTL_WEIGHT_MAX)
        return fail(cmd, out, "weight must be a whole number from 0 to %d", CTL_WEIGHT_MAX);
    if (shift_running(cmd->args[0]))
        return fail(cmd, out, "service %s is shifting; pause or abort the shift first",
                    cmd->args[0]);
    if (n == 0 && !guard_ok(cmd, out, si, ri))
        return false;
    if (fleet_active())
        return fleet_done(cmd, out,
                          fleet_set_weight(cmd->args[0], cmd->args[1], n, fmsg, sizeof(fmsg)));
    struct svc_region_state *st = state_svc_region(cmd->args[0], cmd->args[1]);
    if (!st)
        return fail(cmd, out, "out of memory");
    int64_t old = atomic_exchange(&st->weight, n);
    if (!persist(cmd, out)) {
        atomic_store(&st->weight, old);
        return false;
    }
    log_info("control: service %s region %s weight %ld", cmd->args[0], cmd->args[1], n);
    daemon_state_changed();
    char msg[600];
    snprintf(msg, sizeof(msg), "service %s region %s: weight %ld", cmd->args[0], cmd->args[1], n);
    return done(cmd, out, msg);
}

/* The drain flag the command names: the region's, or the region's within one service.
 * NULL once the reason is in out. */
static atomic_bool *drain_flag(const struct command *cmd, struct strbuf *out)
{
    const struct view *v = view_current();
    int ri = region_index(v, cmd->args[0]);
    if (ri < 0) {
        fail(cmd, out, "no region \"%s\"; see status", cmd->args[0]);
        return NULL;
    }
    atomic_bool *flag;
    if (cmd->nargs == 1) {
        struct region_state *rs = state_region(cmd->args[0]);
        flag = rs ? &rs->drained : NULL;
    } else {
        int si = conf_find_service(v->conf, cmd->args[1]);
        if (si < 0 || !dyn_service_uses(v->dyn, (unsigned)si, (unsigned)ri)) {
            fail(cmd, out,
                 si < 0 ? "no service \"%s\"; see status" : "service %s never picks that region",
                 cmd->args[1]);
            return NULL;
        }
        struct svc_region_state *st = state_svc_region(cmd->args[1], cmd->args[0]);
        flag = st ? &st->drained : NULL;
    }
    if (!flag)
        fail(cmd, out, "out of memory");
    return flag;
}

static bool cmd_drain(const struct command *cmd, struct strbuf *out, bool drain)
{
    atomic_bool *flag = drain_flag(cmd, out);
    if (!flag)
        return false;
    if (drain && !atomic_load(flag)) {
        const struct config *c = view_current()->conf;
        int si = cmd->nargs > 1 ? conf_find_service(c, cmd->args[1]) : -1;
        if (!guard_ok(cmd, out, si, conf_find_region(c, cmd->args[0])))
            return false;
    }
    if (fleet_active())
        return fleet_done(cmd, out,
                          fleet_set_drain(cmd->args[0], cmd->nargs > 1 ? cmd->args[1] : NULL, drain,
                                          fmsg, sizeof(fmsg)));
    bool old = atomic_exchange(flag, drain);
    if (!persist(cmd, out)) {
        atomic_store(flag, old);
        return false;
    }
    char msg[600];
    snprintf(msg, sizeof(msg), "region %s %s%s%s", cmd->args[0], drain ? "drained" : "undrained",
             cmd->nargs > 1 ? " for service " : "", cmd->nargs > 1 ? cmd->args[1] : "");
    log_info("control: %s", msg);
    daemon_state_changed();
    return done(cmd, out, msg);
}

/* ---- shift ------------------------------------------------------------------------------- */

/* "--step N" and "--every DURATION" from args[from..]; false once the reason is in out. */
static bool shift_options(const struct command *cmd, struct strbuf *out, unsigned i, uint32_t *step,
                          uint64_t *every)
{
    for (; i < cmd->nargs; i += 2) {
        const char *opt = cmd->args[i], *val = i + 1 < cmd->nargs ? cmd->args[i + 1] : NULL;
        unsigned long long v;
        char *end;
        if (!strcmp(opt, "--step") && val && (v = strtoull(val, &end, 10)) >= 1 && !*end &&
            v <= CTL_WEIGHT_MAX)
            *step = (uint32_t)v;
        else if (!strcmp(opt, "--every") && val && yw_parse_ms(val, &v) && v)
            *every = v;
        else
            return fail(cmd, out,
                        "\"%s\": expected --step N (1 to %d) or --every DURATION (such as 30s "
                        "or 500ms) after the REGION=WEIGHT pairs",
                        opt, CTL_WEIGHT_MAX);
    }
    return true;
}

static bool cmd_shift_plan(const struct command *cmd, struct strbuf *out)
{
    char regions[COMMAND_ARGS_MAX][256], msg[2048];
    int64_t to[COMMAND_ARGS_MAX];
    unsigned n = 0, i = 1;
    uint32_t step = 10;
    uint64_t every = 30000;
    for (; i < cmd->nargs && strncmp(cmd->args[i], "--", 2); i++, n++) {
        const char *eq = strchr(cmd->args[i], '=');
        char *end;
        long w = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq || eq == cmd->args[i] || eq - cmd->args[i] > 253 || end == eq + 1 || *end ||
            w < 0 || w > CTL_WEIGHT_MAX)
            return fail(cmd, out, "\"%s\": write REGION=WEIGHT, a weight from 0 to %d",
                        cmd->args[i], CTL_WEIGHT_MAX);
        snprintf(regions[n], sizeof(regions[n]), "%.*s", (int)(eq - cmd->args[i]), cmd->args[i]);
        to[n] = w;
    }
    if (!n)
        return fail(cmd, out, "usage: %s", specs[CMD_SHIFT].usage);
    /* A fleet's weights live in etcd, where a shift's steps are not written (yet): steps
     * made here alone would be undone by the next read of the fleet state. */
    if (fleet_active())
        return fail(cmd, out,
                    "refused: in a fleet the weights live in etcd, and shifts do not step "
                    "them there yet; move them with meridianctl weight");
    if (!shift_options(cmd, out, i, &step, &every))
        return false;
    if (shift_start(cmd->args[0], n, regions, to, step, every, cmd->force, msg, sizeof(msg)) < 0)
        return fail(cmd, out, "%s", msg);
    daemon_state_changed();
    return done(cmd, out, msg);
}

static bool cmd_shift(const struct command *cmd, struct strbuf *out)
{
    const char *verb = cmd->args[0];
    char msg[600];
    if (!strcmp(verb, "status") && cmd->nargs <= 2) {
        shift_status(out, cmd->json, cmd->nargs > 1 ? cmd->args[1] : NULL);
        return true;
    }
    if (strcmp(verb, "pause") && strcmp(verb, "resume") && strcmp(verb, "abort"))
        return cmd_shift_plan(cmd, out);
    if (cmd->nargs != 2)
        return fail(cmd, out, "usage: shift %s SERVICE", verb);
    if (shift_control(verb, cmd->args[1], msg, sizeof(msg)) < 0)
        return fail(cmd, out, "%s", msg);
    daemon_state_changed();
    return done(cmd, out, msg);
}

/* ---- failback ----------------------------------------------------------------------------- */

static bool cmd_failback(const struct command *cmd, struct strbuf *out)
{
    char msg[800];
    if (failback_release(cmd->args[0], msg, sizeof(msg)) < 0)
        return fail(cmd, out, "%s", msg);
    daemon_state_changed();
    return done(cmd, out, msg);
}

/* ---- reload, stats, explain, version, help ---------------------------------------------- */

bool command_reload_reply(const struct command *cmd, int rc, const char *text, struct strbuf *out)
{
    const char *verdict = daemon_reload_verdict(rc);
    log_lines(text);
    log_msg(rc == 0 ? LOG_LVL_INFO : LOG_LVL_ERR, "%s (control)", verdict);
    struct strbuf body;
    sb_init(&body);
    sb_printf(&body, "%s%s", text ? text : "", verdict);
    bool ok = rc == 0 ? done(cmd, out, sb_str(&body)) : fail(cmd, out, "%s", sb_str(&body));
    sb_free(&body);
    return ok;
}

/* One zone; the whole config is reloaded by the control socket through
 * daemon_reload_start, since that finishes later. */
static bool cmd_reload(const struct command *cmd, struct strbuf *out)
{
    struct diag d;
    diag_init(&d);
    int rc = cmd->nargs ? daemon_reload_zone(cmd->args[0], &d) : -1;
    if (!cmd->nargs)
        diag_error(&d, NULL, 0, 0, "a reload of the config cannot be run from here");
    bool ok = command_reload_reply(cmd, rc, d.text, out);
    diag_free(&d);
    return ok;
}

static void stats_answers(const struct stats *s, bool json, struct strbuf *out)
{
    sb_puts(out, json ? ", \"answers\": [" : "answers by service and region:\n");
    bool first = true;
    for (uint32_t id = 0; id < state_pair_count(); id++) {
        const char *svc, *region;
        uint64_t n = atomic_load(&s->answers[id]);
        if (!n || !state_pair_names(id, &svc, &region))
            continue;
        if (json)
            sb_printf(out, "%s{\"service\": \"%s\", \"region\": \"%s\", \"count\": %lu}",
                      first ? "" : ", ", svc, region, (unsigned long)n);
        else
            sb_printf(out, "  %s %s %lu\n", svc, region, (unsigned long)n);
        first = false;
    }
    if (json)
        sb_puts(out, "]");
}

static bool cmd_stats(const struct command *cmd, struct strbuf *out)
{
    struct stats *s = stats_new_total();
    if (!s)
        return fail(cmd, out, "out of memory");
    stats_sum(s);
    sb_printf(out,
              cmd->json ? "{\"queries\": {\"udp\": %lu, \"tcp\": %lu}, \"rcodes\": {"
                        : "queries: udp %lu, tcp %lu\nrcodes:",
              (unsigned long)stats_queries(s, PROTO_UDP, -1, -1),
              (unsigned long)stats_queries(s, PROTO_TCP, -1, -1));
    /* The codes from NOERROR to YXDOMAIN; the first without a name ends them. */
    for (unsigned i = 0; dns_rcode_name(i); i++)
        sb_printf(out, cmd->json ? "%s\"%s\": %lu" : "%s %s %lu", i && cmd->json ? ", " : "",
                  dns_rcode_name(i), (unsigned long)stats_queries(s, -1, -1, (int)i));
    sb_printf(out,
              cmd->json ? "}, \"truncated\": %lu, \"dropped\": %lu, \"fail_open\": %lu, "
                          "\"rrl_dropped\": %lu, \"rrl_slipped\": %lu"
                        : "\ntruncated %lu, dropped %lu, answered failing open %lu\n"
                          "rate limited: dropped %lu, sent truncated %lu\n",
              (unsigned long)atomic_load(&s->truncated), (unsigned long)atomic_load(&s->dropped),
              (unsigned long)atomic_load(&s->fail_open),
              (unsigned long)atomic_load(&s->rrl_dropped),
              (unsigned long)atomic_load(&s->rrl_slipped));
    sb_puts(out, cmd->json ? ", \"cookies\": {" : "cookies:");
    for (int k = 0; k < COOKIE_STATES; k++)
        sb_printf(out, cmd->json ? "%s\"%s\": %lu" : "%s %s %lu", k && cmd->json ? ", " : "",
                  stats_cookie_names[k], (unsigned long)atomic_load(&s->cookies[k]));
    sb_puts(out, cmd->json ? "}" : "\n");
    stats_answers(s, cmd->json, out);
    if (cmd->json)
        sb_puts(out, "}\n");
    stats_free_total(s);
    return true;
}

static bool cmd_explain(const struct command *cmd, struct strbuf *out)
{
    struct diag d;
    diag_init(&d);
    int rc = explain(view_current(), cmd->args[0], cmd->args[1], &d);
    bool ok = rc == 0 ? done(cmd, out, d.text ? d.text : "")
                      : fail(cmd, out, "%s", d.text ? d.text : "cannot explain");
    diag_free(&d);
    return ok;
}

static bool cmd_ds(const struct command *cmd, struct strbuf *out)
{
    struct strbuf text;
    sb_init(&text);
    bool ok = signstatus_ds(view_current(), cmd->args[0], &text);
    const char *t = text.failed ? "out of memory" : sb_str(&text);
    ok = ok && !text.failed ? done(cmd, out, t) : fail(cmd, out, "%s", t);
    sb_free(&text);
    return ok;
}

static bool cmd_help(const struct command *cmd, struct strbuf *out)
{
    sb_puts(out, "commands:\n");
    for (size_t i = 0; i < ARRAY_LEN(specs); i++)
        sb_printf(out, "  %s\n", specs[i].usage);
    return true;
}

bool command_run(const struct command *cmd, struct strbuf *out)
{
    switch (cmd->kind) {
    case CMD_STATUS:
        return cmd_status(cmd, out);
    case CMD_WEIGHT:
        return cmd_weight(cmd, out);
    case CMD_DRAIN:
    case CMD_UNDRAIN:
        return cmd_drain(cmd, out, cmd->kind == CMD_DRAIN);
    case CMD_SHIFT:
        return cmd_shift(cmd, out);
    case CMD_FAILBACK:
        return cmd_failback(cmd, out);
    case CMD_RELOAD:
        return cmd_reload(cmd, out);
    case CMD_STATS:
        return cmd_stats(cmd, out);
    case CMD_EXPLAIN:
        return cmd_explain(cmd, out);
    case CMD_DS:
        return cmd_ds(cmd, out);
    case CMD_VERSION:
        return done(cmd, out, "meridiand " PACKAGE_VERSION);
    case CMD_HELP:
        return cmd_help(cmd, out);
    }
    return fail(cmd, out, "unknown command");
}
