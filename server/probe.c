/* probe.c — health probes: one per address of every region that names a check, on a
 * fixed cadence from a random start, each an HTTP(S) GET or a TCP connect through libcurl;
 * fall/rise turn results into up/down, and every transition is logged with its reason.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/probe.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/curlev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Enough to look for a marker.  The transfer stops there: a backend that streams an
 * endless body would otherwise be read at full speed until the probe times out. */
#define BODY_MAX (64 * 1024)

/* The check as this probe runs it: copied, since configs come and go. */
struct settings {
    enum check_type type;
    char url[512]; /* {address} already replaced */
    unsigned expect[16];
    size_t nexpect;
    char body[256];
    char host[300];
    bool tls_verify;
    unsigned interval_ms, timeout_ms, fall, rise;
};

struct probe {
    struct probe *next;
    /* Region, address and settings identify a probe: a change in any makes a new one. */
    char *region, *addr;
    struct settings s;
    struct addr_state *st;
    struct event *timer;
    CURL *easy; /* while a probe runs */
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    char *body;
    size_t body_len;
    bool capped; /* the transfer was stopped at BODY_MAX */
    bool seen;   /* kept by the last sync */
    bool up;     /* this node's own view; the address's state unless a fleet decides */
};

static struct {
    struct event_base *base;
    struct probe *probes;
    uint64_t rng;
    probe_change_fn on_change;
    bool external;   /* a fleet's verdict sets the address states */
    char source[80]; /* "host!ADDRESS" for CURLOPT_INTERFACE, or "" */
} g;

int64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- settings -------------------------------------------------------------------------- */

/* "{address}" becomes the address, IPv6 in brackets (RFC 3986 §3.2.2). */
static void expand_url(char *out, size_t size, const char *url, const struct conf_ip *ip)
{
    char addr[64];
    snprintf(addr, sizeof(addr), ip->family == AF_INET6 ? "[%s]" : "%s", ip->text);
    size_t n = 0;
    for (const char *p = url; *p && n + 1 < size;) {
        if (strncmp(p, "{address}", 9) == 0) {
            n += (size_t)snprintf(out + n, size - n, "%s", addr);
            p += 9;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < size ? n : size - 1] = '\0';
}

static void settings_from(struct settings *s, const struct conf_check *ck, const struct conf_ip *ip)
{
    memset(s, 0, sizeof(*s));
    s->type = ck->type;
    if (ck->type == CHECK_TCP)
        snprintf(s->url, sizeof(s->url),
                 ip->family == AF_INET6 ? "http://[%s]:%u/" : "http://%s:%u/", ip->text, ck->port);
    else
        expand_url(s->url, sizeof(s->url), ck->url, ip);
    s->nexpect = ck->nexpect < 16 ? ck->nexpect : 16;
    memcpy(s->expect, ck->expect, s->nexpect * sizeof(*s->expect));
    snprintf(s->body, sizeof(s->body), "%s", ck->body ? ck->body : "");
    snprintf(s->host, sizeof(s->host), "%s", ck->host ? ck->host : "");
    s->tls_verify = ck->tls_verify;
    s->interval_ms = ck->interval_ms;
    s->timeout_ms = ck->timeout_ms;
    s->fall = ck->fall;
    s->rise = ck->rise;
}

static bool settings_equal(const struct settings *a, const struct settings *b)
{
    return a->type == b->type && !strcmp(a->url, b->url) && a->nexpect == b->nexpect &&
           !memcmp(a->expect, b->expect, a->nexpect * sizeof(*a->expect)) &&
           !strcmp(a->body, b->body) && !strcmp(a->host, b->host) &&
           a->tls_verify == b->tls_verify && a->interval_ms == b->interval_ms &&
           a->timeout_ms == b->timeout_ms && a->fall == b->fall && a->rise == b->rise;
}

/* ---- results --------------------------------------------------------------------------- */

static bool status_expected(const struct settings *s, long status)
{
    for (size_t i = 0; i < s->nexpect; i++)
        if ((long)s->expect[i] == status)
            return true;
    return false;
}

static const char *failure_kind(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_CONNECT:
        return "connection failed";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return "TLS error";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return "connection dropped";
    default:
        return "error";
    }
}

/* Whether the probe passed, with a one-line reason either way. */
static bool judge(struct probe *p, CURLcode rc, char *why, size_t size)
{
    if (rc == CURLE_WRITE_ERROR && p->capped)
        rc = CURLE_OK; /* stopped by on_body: the status and the first BODY_MAX bytes are in */
    if (rc != CURLE_OK) {
        snprintf(why, size, "%s: %.72s", failure_kind(rc),
                 p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
        return false;
    }
    if (p->s.type == CHECK_TCP) {
        snprintf(why, size, "connected");
        return true;
    }
    long status = 0;
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    if (!status_expected(&p->s, status)) {
        char list[64] = "";
        for (size_t i = 0, n = 0; i < p->s.nexpect && n + 8 < sizeof(list); i++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", i ? " or " : "",
                                  p->s.expect[i]);
        snprintf(why, size, "HTTP %ld, expected %s", status, list);
        return false;
    }
    if (p->s.body[0] && !(p->body && memmem(p->body, p->body_len, p->s.body, strlen(p->s.body)))) {
        snprintf(why, size, "HTTP %ld but the body lacks \"%.40s\"", status, p->s.body);
        return false;
    }
    snprintf(why, size, "HTTP %ld", status);
    return true;
}

/* fall consecutive failures take an address down, rise consecutive passes bring it up. */
static void record(struct probe *p, bool pass, const char *why)
{
    struct addr_state *st = p->st;
    snprintf(st->last_result, sizeof(st->last_result), "%s", why);
    st->probed = true;
    st->passes = pass ? st->passes + 1 : 0;
    st->fails = pass ? 0 : st->fails + 1;
    /* Failing but not down yet: answers naming it carry the service's ttl_degraded. */
    atomic_store(&st->suspect, !pass && p->up && st->fails < p->s.fall);
    if (p->up && st->fails >= p->s.fall) {
        p->up = false;
        log_warn("health: %s %s is DOWN after %u failed probe(s): %s", p->region, p->addr,
                 st->fails, why);
    } else if (!p->up && st->passes >= p->s.rise) {
        p->up = true;
        log_info("health: %s %s is UP after %u passing probe(s): %s", p->region, p->addr,
                 st->passes, why);
    } else {
        return;
    }
    if (!g.external) {
        atomic_store(&st->up, p->up);
        st->last_change_ms = probe_now_ms();
    }
    if (g.on_change)
        g.on_change();
}

static void probe_reset(struct probe *p)
{
    if (p->easy)
        curl_easy_cleanup(p->easy);
    curl_slist_free_all(p->headers);
    free(p->body);
    p->easy = NULL;
    p->headers = NULL;
    p->body = NULL;
    p->body_len = 0;
    p->capped = false;
}

static void on_done(CURL *easy, CURLcode rc, void *arg)
{
    struct probe *p = arg;
    char why[STATE_RESULT_MAX];
    bool pass = judge(p, rc, why, sizeof(why));
    curl_off_t us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us);
    p->st->latency_ms = (double)us / 1000.0;
    probe_reset(p);
    record(p, pass, why);
}

/* ---- running one probe ---------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct probe *p = arg;
    size_t len = size * n, room = BODY_MAX - p->body_len;
    size_t take = len < room ? len : room;
    if (p->s.body[0] && !p->body && !(p->body = malloc(BODY_MAX)))
        return 0;
    if (p->body)
        memcpy(p->body + p->body_len, data, take);
    p->body_len += take; /* counted even when nothing is looked for */
    if (p->body_len < BODY_MAX)
        return len;
    p->capped = true;
    return 0; /* enough: curl stops the transfer */
}

static CURL *easy_for(struct probe *p)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, p->s.url);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->s.timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L); /* each probe tests a fresh connection */
    curl_easy_setopt(e, CURLOPT_PROXY, "");        /* never through a proxy from the env */
    if (g.source[0])
        curl_easy_setopt(e, CURLOPT_INTERFACE, g.source);
    if (p->s.type == CHECK_TCP) {
        curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
        return e;
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, "meridian-health/" PACKAGE_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, p->s.tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, p->s.tls_verify ? 2L : 0L);
    if (p->s.host[0]) {
        char h[320];
        snprintf(h, sizeof(h), "Host: %s", p->s.host);
        p->headers = curl_slist_append(NULL, h);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    }
    return e;
}

static void arm(struct probe *p, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct probe *p = arg;
    /* A fixed cadence keeps the detection bound at interval × fall + timeout. */
    arm(p, p->s.interval_ms);
    if (p->easy)
        return; /* the last one is still running (it cannot outlive its timeout for long) */
    p->errbuf[0] = '\0';
    p->easy = easy_for(p);
    if (!p->easy || curlev_start(p->easy, on_done, p) < 0) {
        probe_reset(p);
        record(p, false, "error: cannot start the probe");
    }
}

/* ---- the set of probes ----------------------------------------------------------------- */

static uint64_t next_random(void)
{
    g.rng ^= g.rng << 13;
    g.rng ^= g.rng >> 7;
    g.rng ^= g.rng << 17;
    return g.rng;
}

static void probe_free(struct probe *p)
{
    if (p->easy)
        curlev_cancel(p->easy);
    probe_reset(p);
    if (p->timer)
        event_free(p->timer);
    free(p->region);
    free(p->addr);
    free(p);
}

static struct probe *probe_new(const struct conf_region *r, const struct conf_ip *ip,
                               const struct settings *s, struct addr_state *st)
{
    struct probe *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->region = strdup(r->name);
    p->addr = strdup(ip->text);
    p->s = *s;
    p->st = st;
    p->up = state_up(st);
    p->timer = evtimer_new(g.base, on_tick, p);
    if (!p->region || !p->addr || !p->timer) {
        probe_free(p);
        return NULL;
    }
    /* A random first run spreads many probes over the interval. */
    arm(p, (unsigned)(next_random() % (s->interval_ms ? s->interval_ms : 1)));
    return p;
}

static struct probe *find(const char *region, const char *addr, const struct settings *s)
{
    for (struct probe *p = g.probes; p; p = p->next)
        if (!strcmp(p->region, region) && !strcmp(p->addr, addr) && settings_equal(&p->s, s))
            return p;
    return NULL;
}

static void sync_address(const struct config *c, const struct conf_region *r,
                         const struct conf_ip *ip)
{
    const struct conf_check *ck = &c->checks[r->check];
    struct settings s;
    settings_from(&s, ck, ip);
    struct probe *p = find(r->name, ip->text, &s);
    if (!p) {
        struct addr_state *st = state_addr(r->name, ip->text, !ck->initial_down);
        if (!st || !(p = probe_new(r, ip, &s, st))) {
            log_err("health: cannot start probing %s %s (out of memory)", r->name, ip->text);
            return;
        }
        p->next = g.probes;
        g.probes = p;
    }
    p->seen = true;
}

/* An address nothing checks any more is up, whatever its last probe said. */
static void release_address(const struct conf_region *r, const struct conf_ip *ip)
{
    struct addr_state *st = state_addr(r->name, ip->text, true);
    if (!st || state_up(st))
        return;
    atomic_store(&st->up, true);
    st->last_change_ms = probe_now_ms();
    snprintf(st->last_result, sizeof(st->last_result), "no check configured");
    log_info("health: %s %s is UP: the region no longer names a check", r->name, ip->text);
}

void probe_sync(const struct config *c)
{
    for (struct probe *p = g.probes; p; p = p->next)
        p->seen = false;
    for (size_t i = 0; i < c->nregions; i++) {
        const struct conf_region *r = &c->regions[i];
        for (size_t a = 0; a < r->naddresses; a++) {
            if (r->check >= 0)
                sync_address(c, r, &r->addresses[a]);
            else
                release_address(r, &r->addresses[a]);
        }
    }
    for (struct probe **pp = &g.probes; *pp;) {
        struct probe *p = *pp;
        if (p->seen) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        probe_free(p);
    }
}

int probe_init(struct event_base *base, probe_change_fn on_change)
{
    g.base = base;
    g.on_change = on_change;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    g.rng = (uint64_t)tv.tv_usec << 20 ^ (uint64_t)tv.tv_sec ^ 0x9E3779B97F4A7C15ULL;
    return curlev_init(base);
}

void probe_shutdown(void)
{
    while (g.probes) {
        struct probe *p = g.probes;
        g.probes = p->next;
        probe_free(p);
    }
    curlev_shutdown();
}

unsigned probe_count(void)
{
    unsigned n = 0;
    for (struct probe *p = g.probes; p; p = p->next)
        n++;
    return n;
}

void probe_set_external_verdict(bool on)
{
    g.external = on;
    if (on)
        return;
    for (struct probe *p = g.probes; p; p = p->next)
        if (state_up(p->st) != p->up) {
            atomic_store(&p->st->up, p->up);
            p->st->last_change_ms = probe_now_ms();
        }
}

void probe_each(probe_visit_fn fn, void *ctx)
{
    for (struct probe *p = g.probes; p; p = p->next)
        fn(ctx, p->region, p->addr, p->up, p->st);
}

void probe_set_source(const char *addr)
{
    snprintf(g.source, sizeof(g.source), "%s%s", addr && *addr ? "host!" : "", addr ? addr : "");
}
