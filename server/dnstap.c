/* dnstap.c — exchanges in byte rings, and the writer that encodes each as two dnstap
 * messages (AUTH_QUERY, AUTH_RESPONSE) and writes them as Frame Streams with libfstrm.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/dnstap.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/outring.h"
#include "server/dnstap.pb-c.h"

#include <arpa/inet.h>
#include <fstrm.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RING_BYTES   (1u << 20)       /* per thread: about a thousand typical exchanges */
#define RECORD_MAX   (RING_BYTES / 8) /* a bigger exchange (a huge TCP answer) is dropped */
#define BATCH        64               /* messages per writev */
#define BATCH_BYTES  (1u << 20)       /* their encoded size; one message is under 66 KiB */
#define RETRY_S      1                /* between attempts to reach the destination */
#define CONTENT_TYPE "protobuf:dnstap.Dnstap"

enum { REC_EXCHANGE, REC_PAD };

/* One exchange in a ring, followed by the query and the response; sizes are multiples
 * of 8 so every record starts aligned.  A REC_PAD record fills the ring's end when the
 * next exchange does not fit there: only its size and kind are written. */
struct rec {
    uint32_t size, kind;
    int64_t sec;
    uint32_t nsec;
    int32_t pair;
    uint16_t qlen, rlen, port;
    uint8_t family, tcp, ecs, ecs_family, ecs_source, ecs_scope;
    uint8_t addr[16], ecs_addr[16];
};

/* head and tail count bytes. */
struct dnstap_ring {
    struct outring_ring ring; /* first: the writer's drain gets it back from the ring */
    _Alignas(CACHE_LINE) uint8_t bytes[RING_BYTES];
};

static bool writer_begin(void);
static void writer_prepare(bool reopen);
static size_t writer_drain(struct outring_ring *r);
static void writer_flush(void);
static void writer_end(void);

static struct outring output = OUTRING_INIT("dnstap", sizeof(struct dnstap_ring), writer_begin,
                                            writer_prepare, writer_drain, writer_flush, writer_end);

static _Atomic uint64_t written, unwritten; /* messages */
static char identity[256];

bool dnstap_enabled(void)
{
    return outring_enabled(&output);
}

struct dnstap_ring *dnstap_ring_new(void)
{
    return (struct dnstap_ring *)outring_ring_new(&output);
}

static void fill_rec(struct rec *e, const struct sockaddr *client, const struct answer_info *info,
                     bool tcp)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no system call */
    e->kind = REC_EXCHANGE;
    e->sec = ts.tv_sec;
    e->nsec = (uint32_t)ts.tv_nsec;
    e->pair = info->pair;
    e->tcp = tcp;
    e->family = 0;
    e->port = 0;
    if (client && client->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)client;
        e->family = AF_INET;
        e->port = ntohs(s->sin_port);
        memcpy(e->addr, &s->sin_addr, 4);
    } else if (client && client->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)client;
        e->family = AF_INET6;
        e->port = ntohs(s->sin6_port);
        memcpy(e->addr, &s->sin6_addr, 16);
    }
    e->ecs = info->ecs;
    if (info->ecs) {
        e->ecs_family = info->ecs_family;
        e->ecs_source = info->ecs_source;
        e->ecs_scope = info->ecs_scope;
        memcpy(e->ecs_addr, info->ecs_addr, 16);
    }
}

void dnstap_push(struct dnstap_ring *r, const uint8_t *query, size_t qlen, const uint8_t *resp,
                 size_t rlen, const struct sockaddr *client, const struct answer_info *info,
                 bool tcp)
{
    size_t need = (sizeof(struct rec) + qlen + rlen + 7) & ~(size_t)7;
    if (need > RECORD_MAX || qlen > UINT16_MAX || rlen > UINT16_MAX) {
        outring_count_drop(&r->ring);
        return;
    }
    uint64_t head = atomic_load_explicit(&r->ring.head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->ring.tail, memory_order_acquire);
    size_t pos = head % RING_BYTES, to_end = RING_BYTES - pos;
    size_t pad = to_end < need ? to_end : 0;
    if (head + pad + need - tail > RING_BYTES) {
        outring_count_drop(&r->ring);
        return;
    }
    if (pad) { /* to_end is a multiple of 8, so size and kind fit */
        struct rec *p = (struct rec *)(r->bytes + pos);
        p->size = (uint32_t)pad;
        p->kind = REC_PAD;
        pos = 0;
    }
    struct rec *e = (struct rec *)(r->bytes + pos);
    fill_rec(e, client, info, tcp);
    e->size = (uint32_t)need;
    e->qlen = (uint16_t)qlen;
    e->rlen = (uint16_t)rlen;
    memcpy(e + 1, query, qlen);
    memcpy((uint8_t *)(e + 1) + qlen, resp, rlen);
    atomic_store_explicit(&r->ring.head, head + pad + need, memory_order_release);
}

uint64_t dnstap_written(void)
{
    return atomic_load(&written);
}

uint64_t dnstap_dropped(void)
{
    /* A ring drops exchanges: two messages each. */
    return atomic_load(&unwritten) + 2 * outring_drops(&output);
}

/* ---- the writer ------------------------------------------------------------------------ */

/* Messages encoded and waiting for one writev. */
struct batch {
    struct fstrm_writer *w;
    uint8_t *buf;
    size_t used, n;
    struct iovec iov[BATCH];
};

static struct fstrm_writer *open_writer(const char *dest, bool unix_socket)
{
    struct fstrm_writer_options *wopt = fstrm_writer_options_init();
    struct fstrm_writer *w = NULL;
    if (!wopt)
        return NULL;
    fstrm_writer_options_add_content_type(wopt, CONTENT_TYPE, strlen(CONTENT_TYPE));
    if (unix_socket) {
        struct fstrm_unix_writer_options *uopt = fstrm_unix_writer_options_init();
        if (uopt) {
            fstrm_unix_writer_options_set_socket_path(uopt, dest);
            w = fstrm_unix_writer_init(uopt, wopt);
            fstrm_unix_writer_options_destroy(&uopt);
        }
    } else {
        struct fstrm_file_options *fopt = fstrm_file_options_init();
        if (fopt) {
            fstrm_file_options_set_file_path(fopt, dest);
            w = fstrm_file_writer_init(fopt, wopt);
            fstrm_file_options_destroy(&fopt);
        }
    }
    fstrm_writer_options_destroy(&wopt);
    if (w && fstrm_writer_open(w) != fstrm_res_success)
        fstrm_writer_destroy(&w);
    return w;
}

/* Connects or opens the destination named now; logs a failure once per change of state. */
static void reconnect(struct batch *b, bool *failing)
{
    if (b->w)
        fstrm_writer_destroy(&b->w);
    unsigned unix_socket;
    char *dest = outring_dest(&output, &unix_socket);
    if (!dest) {
        *failing = false;
        return;
    }
    b->w = open_writer(dest, unix_socket);
    if (!b->w && !*failing)
        log_err("dnstap: cannot %s %s; messages are dropped and counted until it can",
                unix_socket ? "connect to" : "open", dest);
    else if (b->w && *failing)
        log_info("dnstap: writing to %s again", dest);
    *failing = !b->w;
    free(dest);
}

static void flush(struct batch *b)
{
    if (!b->n)
        return;
    if (b->w && fstrm_writer_writev(b->w, b->iov, b->n) == fstrm_res_success) {
        atomic_fetch_add(&written, b->n);
    } else {
        atomic_fetch_add(&unwritten, b->n);
        if (b->w)
            fstrm_writer_destroy(&b->w); /* the reader went away: reconnect later */
    }
    b->used = b->n = 0;
}

/* "ecs=81.2.69.0/24/18 service=web region=eu-west-1", with "-" for what is absent. */
static size_t extra_text(const struct rec *e, char *out, size_t size)
{
    char ecs[INET6_ADDRSTRLEN + 8] = "-";
    if (e->ecs) {
        char a[INET6_ADDRSTRLEN];
        if (inet_ntop(e->ecs_family == 1 ? AF_INET : AF_INET6, e->ecs_addr, a, sizeof(a)))
            snprintf(ecs, sizeof(ecs), "%s/%u/%u", a, e->ecs_source, e->ecs_scope);
    }
    const char *svc = "-", *region = "-";
    if (e->pair >= 0)
        state_pair_names((uint32_t)e->pair, &svc, &region);
    int n = snprintf(out, size, "ecs=%s service=%s region=%s", ecs, svc, region);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static ProtobufCBinaryData bin(const void *p, size_t n)
{
    return (ProtobufCBinaryData){n, (uint8_t *)(uintptr_t)p};
}

/* Encodes one message of exchange e into the batch, flushing first when it is full. */
static void add_message(struct batch *b, const struct rec *e, bool response, const char *extra,
                        size_t extra_len)
{
    const uint8_t *query = (const uint8_t *)(e + 1), *resp = query + e->qlen;
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;
    m.type = response ? DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE : DNSTAP__MESSAGE__TYPE__AUTH_QUERY;
    m.has_socket_protocol = true;
    m.socket_protocol = e->tcp ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
    if (e->family) {
        m.has_socket_family = m.has_query_address = m.has_query_port = true;
        m.socket_family =
            e->family == AF_INET ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
        m.query_address = bin(e->addr, e->family == AF_INET ? 4 : 16);
        m.query_port = e->port;
    }
    /* One clock reading per exchange, taken as the response left: the answer took
     * microseconds, far below what a dnstap reader resolves. */
    if (response) {
        m.has_response_time_sec = m.has_response_time_nsec = m.has_response_message = true;
        m.response_time_sec = (uint64_t)e->sec;
        m.response_time_nsec = e->nsec;
        m.response_message = bin(resp, e->rlen);
    } else {
        m.has_query_time_sec = m.has_query_time_nsec = m.has_query_message = true;
        m.query_time_sec = (uint64_t)e->sec;
        m.query_time_nsec = e->nsec;
        m.query_message = bin(query, e->qlen);
    }
    Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
    d.has_identity = d.has_version = d.has_extra = true;
    d.identity = bin(identity, strlen(identity));
    d.version = bin("meridiand " PACKAGE_VERSION, strlen("meridiand " PACKAGE_VERSION));
    d.extra = bin(extra, extra_len);
    d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    d.message = &m;
    size_t size = dnstap__dnstap__get_packed_size(&d);
    if (b->n == BATCH || b->used + size > BATCH_BYTES)
        flush(b);
    b->iov[b->n].iov_base = b->buf + b->used;
    b->iov[b->n].iov_len = dnstap__dnstap__pack(&d, b->buf + b->used);
    b->used += size;
    b->n++;
}

/* The writer thread's own. */
static struct {
    struct batch b;
    bool failing;
    time_t retry_at;
} wr;

static bool writer_begin(void)
{
    wr.b = (struct batch){.buf = malloc(BATCH_BYTES)};
    wr.failing = false;
    wr.retry_at = 0;
    return wr.b.buf != NULL;
}

/* A destination that is gone (a reader that went away) is tried again every RETRY_S. */
static void writer_prepare(bool reopen)
{
    if (reopen || (!wr.b.w && time(NULL) >= wr.retry_at)) {
        reconnect(&wr.b, &wr.failing);
        wr.retry_at = time(NULL) + RETRY_S;
    }
}

/* Encodes what one ring holds into the batch; returns the exchanges taken. */
static size_t writer_drain(struct outring_ring *ring)
{
    const struct dnstap_ring *r = (const struct dnstap_ring *)ring;
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    size_t taken = 0;
    char extra[160];
    while (tail != head) {
        const struct rec *e = (const struct rec *)(r->bytes + tail % RING_BYTES);
        if (e->kind == REC_EXCHANGE) {
            size_t n = extra_text(e, extra, sizeof(extra));
            add_message(&wr.b, e, false, extra, n);
            add_message(&wr.b, e, true, extra, n);
            taken++;
        }
        tail += e->size;
        /* The encoded copies live in the batch: the ring's bytes are free again. */
        atomic_store_explicit(&ring->tail, tail, memory_order_release);
    }
    return taken;
}

static void writer_flush(void)
{
    flush(&wr.b);
}

static void writer_end(void)
{
    if (wr.b.w)
        fstrm_writer_destroy(&wr.b.w); /* writes the stop frame; a file is complete */
    free(wr.b.buf);
    wr.b.buf = NULL;
}

int dnstap_start(struct diag *d)
{
    return outring_start(&output, d);
}

int dnstap_configure(const char *dest, bool unix_socket, struct diag *d)
{
    if (!identity[0] && gethostname(identity, sizeof(identity) - 1) != 0)
        snprintf(identity, sizeof(identity), "meridiand");
    return outring_configure(&output, dest, unix_socket, d);
}

void dnstap_shutdown(void)
{
    outring_shutdown(&output);
}
