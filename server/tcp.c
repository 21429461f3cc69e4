/* tcp.c — DNS over TCP: two-byte length framing, pipelined queries answered in order on
 * the same connection, an idle timeout and a cap on connections (RFC 7766).  TCP has a
 * thread and an event loop of its own, so a reload, a control command or a metrics
 * scrape on the main loop never holds up its answers.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/tcp.h"
#include "geoip/dyn.h"
#include "lib/log.h"
#include "server/listen.h"
#include "server/dnstap.h"
#include "server/querylog.h"
#include "server/stats.h"
#include "server/view.h"
#include "zones/sign/sign.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

/* A client that does not read its answers stops being read from once this much waits. */
#define OUTPUT_HIGH (256 * 1024)
/* How often an idle TCP thread announces quiescence, so replaced views can be freed. */
#define QUIESCE_MS 100

/* Connections are kept newest first, so the oldest is at the tail: the one closed when a
 * new client arrives at the cap, and the first to reach the lifetime limit. */
struct conn {
    struct conn *prev, *next;
    struct bufferevent *bev;
    struct sockaddr_storage peer;
    int64_t born_ms;
    bool closing; /* the client is done sending: close once the output drains */
};

/* Limits from the config: written by the main loop on reload, read by the TCP thread. */
struct limits {
    _Atomic unsigned max, per_client, lifetime_ms, idle_ms;
};

static struct {
    struct event_base *base;
    pthread_t thread;
    bool running;
    struct view_reader *reader;
    struct evconnlistener **listeners;
    size_t nlisteners;
    struct conn *conns, *tail;
    _Atomic unsigned count; /* read by metrics on the main loop */
    struct limits lim;
    struct event *sweep, *quiesce, *reconfigure, *stop;
    struct stats *stats;
    struct dyn_scratch *ws;
    struct sign_cache *sigs;
    struct querylog_ring *qlog;
    struct dnstap_ring *dtap;
    uint8_t msg[65535];
    uint8_t out[2 + ANSWER_TCP_MAX];
} tcp;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Seconds since the epoch for cookies: the loop's cached time, read once per wake-up. */
static uint32_t wall_seconds(void)
{
    struct timeval tv;
    if (event_base_gettimeofday_cached(tcp.base, &tv) != 0)
        return 0;
    return (uint32_t)tv.tv_sec;
}

static void conn_free(struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        tcp.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        tcp.tail = c->prev;
    bufferevent_free(c->bev);
    free(c);
    atomic_fetch_sub_explicit(&tcp.count, 1, memory_order_relaxed);
}

static unsigned limit(_Atomic unsigned *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static unsigned connections_from(const struct sockaddr *sa)
{
    unsigned n = 0;
    for (const struct conn *c = tcp.conns; c; c = c->next)
        n += same_address(&c->peer, sa);
    return n;
}

/* Closes connections past their lifetime, so trickling bytes cannot hold one forever. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    int64_t born_before = now_ms() - limit(&tcp.lim.lifetime_ms);
    while (tcp.tail && tcp.tail->born_ms < born_before)
        conn_free(tcp.tail);
}

static void on_quiesce(evutil_socket_t fd, short what, void *arg)
{
    view_quiesce(tcp.reader);
}

/* After a reload lowered the cap: the oldest connections go. */
static void on_reconfigure(evutil_socket_t fd, short what, void *arg)
{
    while (tcp.count > limit(&tcp.lim.max) && tcp.tail)
        conn_free(tcp.tail);
}

/* Stops reading and closes once what was already answered has gone out. */
static void close_after_output(struct conn *c)
{
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
}

/* Answers one framed message; false when the connection should close. */
static bool answer_message(struct conn *c, size_t len)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, 2);
    evbuffer_remove(in, tcp.msg, len);
    struct answer_info info;
    const struct view *v = view_current();
    struct answer_client client = {.src = (const struct sockaddr *)&c->peer,
                                   .tcp = true,
                                   .now = wall_seconds(),
                                   .ws = tcp.ws,
                                   .sigs = tcp.sigs};
    size_t rlen = answer_query(&v->env, tcp.msg, len, tcp.out + 2, &client, &info);
    view_quiesce(tcp.reader); /* v is not used past this point */
    stats_count(tcp.stats, PROTO_TCP, &info);
    if (!rlen)
        return false; /* not a query: nothing sensible can follow on this stream */
    if (querylog_enabled())
        querylog_push(tcp.qlog, tcp.out + 2, (const struct sockaddr *)&c->peer, &info, true);
    if (dnstap_enabled())
        dnstap_push(tcp.dtap, tcp.msg, len, tcp.out + 2, rlen, (const struct sockaddr *)&c->peer,
                    &info, true);
    tcp.out[0] = (uint8_t)(rlen >> 8);
    tcp.out[1] = (uint8_t)rlen;
    return bufferevent_write(c->bev, tcp.out, rlen + 2) == 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (evbuffer_get_length(in) >= 2) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) > OUTPUT_HIGH) {
            bufferevent_disable(bev, EV_READ);
            return;
        }
        uint8_t hdr[2];
        evbuffer_copyout(in, hdr, 2);
        size_t len = (size_t)hdr[0] << 8 | hdr[1];
        if (evbuffer_get_length(in) < 2 + len)
            return;
        if (!answer_message(c, len)) {
            close_after_output(c);
            return;
        }
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->closing) {
        conn_free(c);
        return;
    }
    if (!(bufferevent_get_enabled(bev) & EV_READ)) {
        bufferevent_enable(bev, EV_READ);
        on_read(bev, c);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    /* A half-closed client still gets the answers to what it sent. */
    if (what & BEV_EVENT_EOF)
        close_after_output(c);
    else
        conn_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    if (connections_from(sa) >= limit(&tcp.lim.per_client)) {
        close(fd); /* one address may not hold every slot (RFC 7766 §6.2.2) */
        return;
    }
    /* At the cap the oldest connection makes way: idle or slow clients cannot lock out
     * new ones. */
    if (tcp.count >= limit(&tcp.lim.max) && tcp.tail)
        conn_free(tcp.tail);
    struct conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev = bufferevent_socket_new(tcp.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c || !bev) {
        free(c);
        if (bev)
            bufferevent_free(bev);
        else
            close(fd);
        return;
    }
    c->bev = bev;
    memcpy(&c->peer, sa, (size_t)salen < sizeof(c->peer) ? (size_t)salen : sizeof(c->peer));
    c->born_ms = now_ms();
    c->next = tcp.conns;
    if (tcp.conns)
        tcp.conns->prev = c;
    else
        tcp.tail = c;
    tcp.conns = c;
    atomic_fetch_add_explicit(&tcp.count, 1, memory_order_relaxed);
    unsigned idle_ms = limit(&tcp.lim.idle_ms);
    struct timeval idle = {idle_ms / 1000, (idle_ms % 1000) * 1000};
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_set_timeouts(bev, &idle, &idle);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void store_limits(const struct config *c)
{
    atomic_store(&tcp.lim.max, c->server.tcp_max_clients);
    atomic_store(&tcp.lim.per_client, c->server.tcp_max_per_client);
    atomic_store(&tcp.lim.lifetime_ms, c->server.tcp_lifetime_ms);
    atomic_store(&tcp.lim.idle_ms, c->server.tcp_idle_ms);
}

void tcp_configure(const struct config *c)
{
    store_limits(c);
    if (tcp.reconfigure)
        event_active(tcp.reconfigure, 0, 0); /* runs on the TCP thread */
}

/* Breaking the loop from the TCP thread itself: a break asked for from another thread
 * before the loop has started would be forgotten when it starts. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(tcp.base);
}

static void *tcp_main(void *arg)
{
    event_base_dispatch(tcp.base);
    return NULL;
}

/* The thread's timers and wake-ups, on its own loop. */
static bool add_events(void)
{
    struct timeval second = {1, 0}, quiesce = {0, QUIESCE_MS * 1000};
    tcp.sweep = event_new(tcp.base, -1, EV_PERSIST, on_sweep, NULL);
    tcp.quiesce = event_new(tcp.base, -1, EV_PERSIST, on_quiesce, NULL);
    tcp.reconfigure = event_new(tcp.base, -1, 0, on_reconfigure, NULL);
    tcp.stop = event_new(tcp.base, -1, 0, on_stop, NULL);
    return tcp.sweep && tcp.quiesce && tcp.reconfigure && tcp.stop &&
           !evtimer_add(tcp.sweep, &second) && !evtimer_add(tcp.quiesce, &quiesce);
}

int tcp_start(const struct config *c, struct diag *d)
{
    tcp.base = event_base_new();
    tcp.reader = view_reader_new();
    tcp.stats = stats_new();
    tcp.ws = dyn_scratch_new();
    tcp.sigs = sign_cache_new();
    tcp.qlog = querylog_ring_new();
    tcp.dtap = dnstap_ring_new();
    tcp.listeners = calloc(c->server.nlisten ? c->server.nlisten : 1, sizeof(*tcp.listeners));
    if (!tcp.base || !tcp.reader || !tcp.stats || !tcp.ws || !tcp.sigs || !tcp.qlog || !tcp.dtap ||
        !tcp.listeners || !add_events()) {
        diag_error(d, NULL, 0, 0, "cannot set up TCP (out of memory)");
        return -1;
    }
    store_limits(c);
    for (size_t i = 0; i < c->server.nlisten; i++) {
        int fd = listen_tcp(&c->server.listen[i], c->server.tcp_backlog, d);
        if (fd < 0)
            return -1;
        struct evconnlistener *l =
            evconnlistener_new(tcp.base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, 0, fd);
        if (!l) {
            close(fd);
            diag_error(d, NULL, 0, 0, "%s: cannot watch the TCP listener",
                       c->server.listen[i].text);
            return -1;
        }
        tcp.listeners[tcp.nlisteners++] = l;
    }
    if (pthread_create(&tcp.thread, NULL, tcp_main, NULL) != 0) {
        diag_error(d, NULL, 0, 0, "cannot start the TCP thread");
        return -1;
    }
    tcp.running = true;
    return 0;
}

unsigned tcp_clients(void)
{
    return atomic_load_explicit(&tcp.count, memory_order_relaxed);
}

void tcp_stop(void)
{
    if (tcp.running) {
        event_active(tcp.stop, 0, 0); /* wakes the loop: evthread is on (daemon.c) */
        pthread_join(tcp.thread, NULL);
        tcp.running = false;
    }
    view_reader_delete(tcp.reader);
    tcp.reader = NULL;
    while (tcp.conns)
        conn_free(tcp.conns);
    for (size_t i = 0; i < tcp.nlisteners; i++)
        evconnlistener_free(tcp.listeners[i]);
    free(tcp.listeners);
    tcp.listeners = NULL;
    tcp.nlisteners = 0;
    struct event **evs[] = {&tcp.sweep, &tcp.quiesce, &tcp.reconfigure, &tcp.stop};
    for (size_t i = 0; i < ARRAY_LEN(evs); i++) {
        if (*evs[i])
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    dyn_scratch_free(tcp.ws);
    tcp.ws = NULL;
    sign_cache_free(tcp.sigs);
    tcp.sigs = NULL;
    if (tcp.base)
        event_base_free(tcp.base);
    tcp.base = NULL;
}
