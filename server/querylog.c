/* querylog.c — the query log's records in its rings, and its writer: each record
 * formatted as one line, appended to a file reopened on SIGUSR1.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/querylog.h"
#include "geoip/state.h"
#include "lib/log.h"
#include "server/outring.h"
#include "server/rcode.h"
#include "zones/dname.h"
#include "zones/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define RING_SLOTS  4096 /* per thread: a few ms of a busy worker's queries */
#define WRITE_CHUNK (256 * 1024)
#define LOGLINE_MAX 2048 /* the longest line: a qname of 255 octets, each escaped, and the rest */

/* What one line needs, copied raw: formatting happens on the writer thread. */
struct entry {
    int64_t ms; /* wall clock */
    uint8_t family;
    uint8_t addr[16];
    bool tcp, ecs;
    uint8_t ecs_family, ecs_source, ecs_scope;
    uint8_t ecs_addr[16];
    uint16_t qtype;
    uint8_t rcode;
    int32_t pair;
    uint8_t qname_len;
    uint8_t qname[DNAME_MAX + 1];
};

/* head and tail count slots. */
struct querylog_ring {
    struct outring_ring ring; /* first: the writer's drain gets it back from the ring */
    struct entry slots[RING_SLOTS];
};

static bool writer_begin(void);
static void writer_prepare(bool reopen);
static size_t writer_drain(struct outring_ring *r);
static void writer_flush(void);
static void writer_end(void);

static struct outring output = OUTRING_INIT("query log", sizeof(struct querylog_ring), writer_begin,
                                            writer_prepare, writer_drain, writer_flush, writer_end);

static _Atomic uint64_t unwritten; /* lines taken from rings that the file would not take */

/* The writer thread's own. */
static struct {
    int fd;
    char *buf;
    size_t len;
} wr = {.fd = -1};

bool querylog_enabled(void)
{
    return outring_enabled(&output);
}

struct querylog_ring *querylog_ring_new(void)
{
    return (struct querylog_ring *)outring_ring_new(&output);
}

static void fill_client(struct entry *e, const struct sockaddr *sa)
{
    e->family = 0;
    if (sa && sa->sa_family == AF_INET) {
        e->family = AF_INET;
        memcpy(e->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        e->family = AF_INET6;
        memcpy(e->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

/* The question name as the client wrote it, from the echoed question. */
static void fill_qname(struct entry *e, const uint8_t *resp, const struct answer_info *info)
{
    e->qname_len = 0;
    if (info->question_end <= DNS_HEADER + 4)
        return;
    size_t n = info->question_end - DNS_HEADER - 4;
    if (n <= DNAME_MAX) {
        memcpy(e->qname, resp + DNS_HEADER, n);
        e->qname_len = (uint8_t)n;
    }
}

void querylog_push(struct querylog_ring *r, const uint8_t *resp, const struct sockaddr *client,
                   const struct answer_info *info, bool tcp)
{
    uint64_t head = atomic_load_explicit(&r->ring.head, memory_order_relaxed);
    if (head - atomic_load_explicit(&r->ring.tail, memory_order_acquire) >= RING_SLOTS) {
        outring_count_drop(&r->ring);
        return;
    }
    struct entry *e = &r->slots[head % RING_SLOTS];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts); /* vDSO: no system call */
    e->ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    fill_client(e, client);
    fill_qname(e, resp, info);
    e->tcp = tcp;
    e->qtype = info->qtype;
    e->rcode = info->rcode;
    e->pair = info->pair;
    e->ecs = info->ecs;
    if (info->ecs) {
        e->ecs_family = info->ecs_family;
        e->ecs_source = info->ecs_source;
        e->ecs_scope = info->ecs_scope;
        memcpy(e->ecs_addr, info->ecs_addr, 16);
    }
    atomic_store_explicit(&r->ring.head, head + 1, memory_order_release);
}

uint64_t querylog_dropped(void)
{
    return atomic_load(&unwritten) + outring_drops(&output);
}

/* ---- the writer ------------------------------------------------------------------------ */

/* A line being written into the writer's buffer; what does not fit is cut off. */
struct line {
    char *p, *end;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = (size_t)(l->end - l->p);
    n = n < room ? n : room;
    memcpy(l->p, s, n);
    l->p += n;
}

static void put_str(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_char(struct line *l, char c)
{
    if (l->p < l->end)
        *l->p++ = c;
}

static void put_uint(struct line *l, unsigned v, unsigned width)
{
    char d[10];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        put_char(l, d[--n]);
}

/* "2026-11-22T16:54:32.364Z".  strftime runs once a second, not once a line: the writer
 * is the only caller, so the last second's text can live here. */
static void put_time(struct line *l, int64_t ms)
{
    static time_t shown = -1;
    static char text[32];
    static size_t len;
    if (ms < 0)
        ms = 0;
    time_t t = (time_t)(ms / 1000);
    if (t != shown) {
        struct tm tm;
        gmtime_r(&t, &tm);
        len = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
        shown = t;
    }
    put(l, text, len);
    put_char(l, '.');
    put_uint(l, (unsigned)(ms % 1000), 3);
    put_char(l, 'Z');
}

static void put_addr(struct line *l, int family, const uint8_t *a)
{
    if (family == AF_INET) {
        for (unsigned i = 0; i < 4; i++) {
            if (i)
                put_char(l, '.');
            put_uint(l, a[i], 1);
        }
        return;
    }
    char text[INET6_ADDRSTRLEN];
    put_str(l, inet_ntop(AF_INET6, a, text, sizeof(text)) ? text : "?");
}

static void put_qtype(struct line *l, uint16_t qtype)
{
    const ldns_rr_descriptor *desc = ldns_rr_descript(qtype);
    if (desc && desc->_name) {
        put_str(l, desc->_name);
    } else {
        put_str(l, "TYPE");
        put_uint(l, qtype, 1);
    }
}

/* As the metrics name it: "NXDOMAIN", or "RCODE11" for a code without a name. */
static void put_rcode(struct line *l, uint8_t rc)
{
    const char *name = dns_rcode_name(rc);
    if (name) {
        put_str(l, name);
    } else {
        put_str(l, "RCODE");
        put_uint(l, rc, 1);
    }
}

/* One line: time client ecs qname qtype rcode service region transport.  Written by
 * hand rather than with printf, which took most of the writer's time at full load. */
static size_t format(const struct entry *e, char *out, size_t size)
{
    struct line l = {out, out + size};
    put_time(&l, e->ms);
    put_char(&l, ' ');
    if (e->family)
        put_addr(&l, e->family, e->addr);
    else
        put_char(&l, '-');
    put_char(&l, ' ');
    if (e->ecs) {
        put_addr(&l, e->ecs_family == 1 ? AF_INET : AF_INET6, e->ecs_addr);
        put_char(&l, '/');
        put_uint(&l, e->ecs_source, 1);
        put_char(&l, '/');
        put_uint(&l, e->ecs_scope, 1);
    } else {
        put_char(&l, '-');
    }
    put_char(&l, ' ');
    if (e->qname_len) {
        char qname[DNAME_TEXTMAX];
        dname_to_text(e->qname, qname, sizeof(qname)); /* stored whole, root label too */
        put_str(&l, qname);
    } else {
        put_char(&l, '-');
    }
    put_char(&l, ' ');
    put_qtype(&l, e->qtype);
    put_char(&l, ' ');
    put_rcode(&l, e->rcode);
    const char *svc = "-", *region = "-";
    if (e->pair >= 0)
        state_pair_names((uint32_t)e->pair, &svc, &region);
    put_char(&l, ' ');
    put_str(&l, svc);
    put_char(&l, ' ');
    put_str(&l, region);
    put_str(&l, e->tcp ? " tcp\n" : " udp\n");
    return (size_t)(l.p - out);
}

static uint64_t count_lines(const char *buf, size_t len)
{
    uint64_t n = 0;
    for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
        n++;
    return n;
}

/* The file is non-blocking: a FIFO nobody drains, or a full disk, loses lines (counted)
 * and never holds up the writer, so shutdown is never held up either. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = fd >= 0 ? write(fd, buf, len) : -1;
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            atomic_fetch_add(&unwritten, count_lines(buf, len));
            return;
        }
        buf += w;
        len -= (size_t)w;
    }
}

static void open_file(void)
{
    if (wr.fd >= 0)
        close(wr.fd);
    unsigned mode;
    char *path = outring_dest(&output, &mode);
    wr.fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0640) : -1;
    if (path && wr.fd < 0)
        log_err("query log: cannot open %s: %s", path, strerror(errno));
    free(path);
}

static bool writer_begin(void)
{
    wr.buf = malloc(WRITE_CHUNK);
    wr.len = 0;
    return wr.buf != NULL;
}

static void writer_prepare(bool reopen)
{
    if (reopen)
        open_file();
}

/* Formats what one ring holds into the buffer, writing whenever it fills; returns lines
 * taken. */
static size_t writer_drain(struct outring_ring *ring)
{
    struct querylog_ring *r = (struct querylog_ring *)ring;
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    size_t taken = 0;
    for (; tail != head; tail++, taken++) {
        if (wr.len + LOGLINE_MAX > WRITE_CHUNK) {
            write_all(wr.fd, wr.buf, wr.len);
            wr.len = 0;
        }
        wr.len += format(&r->slots[tail % RING_SLOTS], wr.buf + wr.len, WRITE_CHUNK - wr.len);
        atomic_store_explicit(&ring->tail, tail + 1, memory_order_release);
    }
    return taken;
}

static void writer_flush(void)
{
    write_all(wr.fd, wr.buf, wr.len);
    wr.len = 0;
}

static void writer_end(void)
{
    if (wr.fd >= 0)
        close(wr.fd);
    wr.fd = -1;
    free(wr.buf);
    wr.buf = NULL;
}

int querylog_configure(const char *path, struct diag *d)
{
    return outring_configure(&output, path, 0, d);
}

int querylog_start(struct diag *d)
{
    return outring_start(&output, d);
}

void querylog_reopen(void)
{
    outring_reopen(&output);
}

void querylog_shutdown(void)
{
    outring_shutdown(&output);
}
