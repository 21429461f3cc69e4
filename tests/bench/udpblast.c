/* udpblast.c — a batched UDP DNS load generator: keeps a window of queries in flight to
 * one server with sendmmsg/recvmmsg and reports the answered queries per second.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW     4096 /* the slot index lives in the low bits of the 16-bit DNS ID */
#define MAX_BATCH      64
#define MAX_SOCKETS    8
#define MAX_QUERIES    (10u * 1000 * 1000)
#define MAX_SECONDS    3600
#define MAX_TIMEOUT_MS 5000
#define MAX_RATE       (10u * 1000 * 1000)
/* header + longest name + qtype/qclass + OPT RR + the longest option: a 40-byte COOKIE */
#define WIRE_MAX   (12 + 255 + 4 + 11 + 4 + 40)
#define RESP_MAX   4096
#define EDNS_SIZE  1232 /* the DNS Flag Day 2020 payload size */
#define SOCK_BUF   (4 << 20)
#define SWEEP_NS   (10 * 1000000LL) /* how often in-flight queries are checked for timeouts */
#define NS_PER_SEC 1000000000LL

struct opts {
    const char *server, *file;
    unsigned port, seconds, window, batch, nsock, timeout_ms;
    unsigned rate; /* queries per second to pace at; 0 = as fast as the window allows */
};

/* Every query of the input, encoded once: query i is wire[off[i] .. off[i + 1]), ID zero. */
struct qset {
    uint8_t *wire;
    size_t len, cap;
    uint32_t *off;
    size_t n, ncap;
};

/* One query in flight.  id = slot index | generation << slot_bits: a late answer to a
 * query that timed out does not match the query now using the slot. */
struct slot {
    int64_t sent_ns;
    uint32_t query;
    uint16_t id, gen;
    uint8_t sock;
    bool busy;
    uint8_t idbuf[2]; /* the first iovec of the datagram; the rest is the shared wire */
};

/* A connected socket with the slots it owns (a stack of the free ones) and its batches. */
struct sock {
    int fd;
    uint32_t *free;
    uint32_t nfree;
    struct mmsghdr tx[MAX_BATCH], rx[MAX_BATCH];
    struct iovec txiov[MAX_BATCH][2], rxiov[MAX_BATCH];
    uint32_t txslot[MAX_BATCH];
    uint8_t (*rxbuf)[RESP_MAX];
};

struct counts {
    uint64_t sent, answered, lost, stray, truncated, answered_in_time;
    uint64_t rcode[16];
    uint64_t *lat_us; /* lat_us[n]: answers that took n µs; n <= timeout, so it is bounded */
};

struct blast {
    const struct opts *o;
    const struct qset *qs;
    struct slot *slots;
    struct sock socks[MAX_SOCKETS];
    unsigned slot_bits;
    uint32_t next_query, inflight;
    int64_t start_ns;
    double wait_ms; /* time runnable but not running during the run */
    struct counts c;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* ---- encoding the query file ------------------------------------------------------------ */

static int type_code(const char *s)
{
    static const struct {
        const char *name;
        int code;
    } types[] = {
        {"A", 1},     {"NS", 2},     {"CNAME", 5}, {"SOA", 6},    {"PTR", 12}, {"MX", 15},
        {"TXT", 16},  {"AAAA", 28},  {"SRV", 33},  {"NAPTR", 35}, {"DS", 43},  {"DNSKEY", 48},
        {"SVCB", 64}, {"HTTPS", 65}, {"ANY", 255}, {"CAA", 257},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(s, types[i].name) == 0)
            return types[i].code;
    /* RFC 3597 generic form */
    char *end;
    if (strncasecmp(s, "TYPE", 4) == 0) {
        long v = strtol(s + 4, &end, 10);
        if (end != s + 4 && !*end && v > 0 && v < 65536)
            return (int)v;
    }
    return -1;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Writes NAME in wire form; returns its length or 0 if it is not a valid name. */
static size_t put_name(uint8_t *out, const char *name)
{
    size_t n = 0;
    while (*name && strcmp(name, ".") != 0) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        if (l == 0 || l > 63 || n + l + 2 > 255)
            return 0;
        out[n++] = (uint8_t)l;
        memcpy(out + n, name, l);
        n += l;
        name += l + (dot ? 1 : 0);
    }
    out[n++] = 0;
    return n;
}

/* Writes an EDNS Client Subnet option (RFC 7871 §6) from "ecs=ADDR/PREFIX"; returns its
 * length or 0 if SPEC is malformed. */
static size_t put_ecs(uint8_t *out, const char *spec)
{
    char addr[64];
    const char *slash = strchr(spec, '/');
    if (strncmp(spec, "ecs=", 4) != 0 || !slash || (size_t)(slash - spec - 4) >= sizeof(addr))
        return 0;
    memcpy(addr, spec + 4, (size_t)(slash - spec - 4));
    addr[slash - spec - 4] = '\0';
    uint8_t bytes[16];
    bool v6 = strchr(addr, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bytes) != 1)
        return 0;
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || prefix < 0 || prefix > (v6 ? 128 : 32))
        return 0;
    /* only the prefix's bytes are sent, with the bits beyond the prefix zero */
    size_t alen = ((size_t)prefix + 7) / 8;
    if (prefix % 8)
        bytes[alen - 1] &= (uint8_t)(0xff << (8 - prefix % 8));
    put16(out, 8);
    put16(out + 2, (unsigned)(4 + alen));
    put16(out + 4, v6 ? 2 : 1);
    out[6] = (uint8_t)prefix;
    out[7] = 0;
    memcpy(out + 8, bytes, alen);
    return 8 + alen;
}

/* Writes a DNS COOKIE option (RFC 7873 §4) from "cookie=HEX", 8 to 40 bytes: a client
 * cookie, with the server cookie a server gave it; returns its length or 0. */
static size_t put_cookie(uint8_t *out, const char *spec)
{
    const char *hex = spec + 7;
    size_t n = strlen(hex) / 2;
    if (strncmp(spec, "cookie=", 7) != 0 || strlen(hex) % 2 || n < 8 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[4 + i] = (uint8_t)v;
    }
    put16(out, 10);
    put16(out + 2, (unsigned)n);
    return 4 + n;
}

/* The one EDNS option a query line may name: "ecs=…" or "cookie=…". */
static size_t put_option(uint8_t *out, const char *spec)
{
    return strncmp(spec, "cookie=", 7) == 0 ? put_cookie(out, spec) : put_ecs(out, spec);
}

/* Encodes one query with an OPT RR (and the option if given); returns its length or 0. */
static size_t encode_query(uint8_t *out, const char *name, int type, const char *ecs)
{
    memset(out, 0, 12);
    put16(out + 4, 1);  /* QDCOUNT */
    put16(out + 10, 1); /* ARCOUNT: the OPT RR */
    size_t n = put_name(out + 12, name);
    if (!n)
        return 0;
    n += 12;
    put16(out + n, (unsigned)type);
    put16(out + n + 2, 1); /* IN */
    n += 4;
    uint8_t *opt = out + n;
    memset(opt, 0, 11);
    put16(opt + 1, 41); /* OPT, owner is the root */
    put16(opt + 3, EDNS_SIZE);
    size_t olen = ecs ? put_option(opt + 11, ecs) : 0;
    if (ecs && !olen)
        return 0;
    put16(opt + 9, (unsigned)olen);
    return n + 11 + olen;
}

static bool qset_reserve(struct qset *qs, size_t more)
{
    if (qs->n + 2 > qs->ncap) {
        size_t ncap = qs->ncap ? qs->ncap * 2 : 1024;
        uint32_t *off = realloc(qs->off, ncap * sizeof(*off));
        if (!off)
            return false;
        qs->off = off, qs->ncap = ncap;
    }
    if (qs->len + more > qs->cap) {
        size_t cap = qs->cap ? qs->cap * 2 : 65536;
        uint8_t *wire = realloc(qs->wire, cap);
        if (!wire)
            return false;
        qs->wire = wire, qs->cap = cap;
    }
    return true;
}

/* Parses "name TYPE [ecs=ADDR/PREFIX | cookie=HEX]"; blank lines and # comments are
 * skipped. */
static int qset_add_line(struct qset *qs, char *line, const char *path, size_t lineno)
{
    char *save, *name = strtok_r(line, " \t\r\n", &save);
    if (!name || *name == '#')
        return 0;
    char *type = strtok_r(NULL, " \t\r\n", &save);
    char *ecs = strtok_r(NULL, " \t\r\n", &save);
    int code = type ? type_code(type) : -1;
    if (code < 0 || strtok_r(NULL, " \t\r\n", &save)) {
        fprintf(stderr, "%s:%zu: expected 'name TYPE [ecs=ADDR/PREFIX | cookie=HEX]'\n", path,
                lineno);
        return -1;
    }
    if (qs->n >= MAX_QUERIES || !qset_reserve(qs, WIRE_MAX)) {
        fprintf(stderr, "%s:%zu: too many queries (at most %u)\n", path, lineno, MAX_QUERIES);
        return -1;
    }
    size_t len = encode_query(qs->wire + qs->len, name, code, ecs);
    if (!len) {
        fprintf(stderr, "%s:%zu: bad name or option '%s'\n", path, lineno, ecs ? ecs : name);
        return -1;
    }
    qs->off[qs->n++] = (uint32_t)qs->len;
    qs->len += len;
    qs->off[qs->n] = (uint32_t)qs->len;
    return 0;
}

static int qset_load(struct qset *qs, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "udpblast: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0)
        rc = qset_add_line(qs, line, path, ++lineno);
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc == 0 && qs->n == 0) {
        fprintf(stderr, "udpblast: %s: no queries\n", path);
        rc = -1;
    }
    return rc;
}

static void qset_free(struct qset *qs)
{
    free(qs->wire);
    free(qs->off);
}

/* ---- sockets and slots --------------------------------------------------------------- */

static int open_socket(const struct opts *o)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->server, &sa.sin_addr) != 1) {
        fprintf(stderr, "udpblast: -s %s: not an IPv4 address\n", o->server);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("udpblast: socket");
        return -1;
    }
    /* large buffers so a burst of a whole window is never dropped on our side; the kernel
     * caps them at net.core.[rw]mem_max, which is fine */
    int buf = SOCK_BUF;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    /* connected: replies from anyone else are filtered by the kernel */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("udpblast: connect");
        close(fd);
        return -1;
    }
    return fd;
}

static void arm_receive(struct sock *s, unsigned batch)
{
    for (unsigned i = 0; i < batch; i++) {
        s->rxiov[i].iov_base = s->rxbuf[i];
        s->rxiov[i].iov_len = RESP_MAX;
        memset(&s->rx[i].msg_hdr, 0, sizeof(s->rx[i].msg_hdr));
        s->rx[i].msg_hdr.msg_iov = &s->rxiov[i];
        s->rx[i].msg_hdr.msg_iovlen = 1;
    }
}

/* Gives socket k the slots k, k + nsock, k + 2 nsock, … and opens it. */
static int sock_init(struct blast *b, unsigned k)
{
    struct sock *s = &b->socks[k];
    s->fd = open_socket(b->o);
    s->free = calloc(b->o->window / b->o->nsock + 1, sizeof(*s->free));
    s->rxbuf = calloc(MAX_BATCH, sizeof(*s->rxbuf));
    if (s->fd < 0 || !s->free || !s->rxbuf)
        return -1;
    for (uint32_t i = k; i < b->o->window; i += b->o->nsock) {
        b->slots[i].sock = (uint8_t)k;
        s->free[s->nfree++] = i;
    }
    arm_receive(s, b->o->batch);
    return 0;
}

static void release(struct blast *b, uint32_t idx)
{
    struct slot *sl = &b->slots[idx];
    struct sock *s = &b->socks[sl->sock];
    sl->busy = false;
    s->free[s->nfree++] = idx;
    b->inflight--;
}

/* Takes a free slot for the next query of the file and points datagram i at it. */
static void take_slot(struct blast *b, struct sock *s, unsigned i, int64_t now)
{
    uint32_t idx = s->free[--s->nfree];
    struct slot *sl = &b->slots[idx];
    s->txslot[i] = idx;
    uint32_t q = b->next_query;
    b->next_query = (q + 1 == b->qs->n) ? 0 : q + 1;
    sl->gen++;
    sl->id = (uint16_t)(idx | ((uint32_t)sl->gen << b->slot_bits));
    sl->query = q;
    sl->sent_ns = now;
    sl->busy = true;
    put16(sl->idbuf, sl->id);
    const uint8_t *wire = b->qs->wire + b->qs->off[q];
    s->txiov[i][0] = (struct iovec){sl->idbuf, 2};
    s->txiov[i][1] = (struct iovec){(void *)(wire + 2), b->qs->off[q + 1] - b->qs->off[q] - 2};
    memset(&s->tx[i].msg_hdr, 0, sizeof(s->tx[i].msg_hdr));
    s->tx[i].msg_hdr.msg_iov = s->txiov[i];
    s->tx[i].msg_hdr.msg_iovlen = 2;
    b->inflight++;
}

/* Sends up to LIMIT new queries; datagrams the kernel refused free their slots. */
static void send_batch(struct blast *b, struct sock *s, unsigned limit, int64_t now)
{
    unsigned n = s->nfree < limit ? s->nfree : limit;
    if (n == 0)
        return;
    for (unsigned i = 0; i < n; i++)
        take_slot(b, s, i, now);
    int rc = sendmmsg(s->fd, s->tx, n, 0);
    unsigned sent = rc > 0 ? (unsigned)rc : 0;
    for (unsigned i = sent; i < n; i++)
        release(b, s->txslot[i]);
    b->c.sent += sent;
}

/* ---- responses and timeouts -------------------------------------------------------------- */

/* True if the response repeats the question of the query in slot IDX; a response without
 * a question (a FORMERR may have none) is matched by its ID alone. */
static bool same_question(const struct blast *b, uint32_t idx, const uint8_t *p, size_t len)
{
    if (p[4] == 0 && p[5] == 0)
        return true;
    const uint8_t *q = b->qs->wire + b->qs->off[b->slots[idx].query];
    size_t n = 12;
    while (q[n])
        n += q[n] + 1u;
    n += 1 + 4; /* the root label, QTYPE, QCLASS */
    return len >= n && memcmp(p + 12, q + 12, n - 12) == 0;
}

static void record_latency(struct counts *c, int64_t ns, unsigned timeout_ms)
{
    int64_t us = ns / 1000;
    c->lat_us[us < 0 ? 0 : us > (int64_t)timeout_ms * 1000 ? (int64_t)timeout_ms * 1000 : us]++;
}

/* Matches a response to its slot by ID and question; anything else (a late answer to a
 * query already counted lost, garbage) is a stray. */
static void on_response(struct blast *b, const uint8_t *p, size_t len, bool in_time, int64_t now)
{
    uint32_t idx = 0;
    if (len >= 12 && (p[2] & 0x80)) {
        uint16_t id = (uint16_t)(p[0] << 8 | p[1]);
        idx = id & ((1u << b->slot_bits) - 1);
        if (idx >= b->o->window || !b->slots[idx].busy || b->slots[idx].id != id)
            len = 0;
    } else {
        len = 0;
    }
    if (len == 0 || !same_question(b, idx, p, len)) {
        b->c.stray++;
        return;
    }
    b->c.answered++;
    b->c.answered_in_time += in_time;
    b->c.rcode[p[3] & 0x0f]++;
    b->c.truncated += (p[2] & 0x02) != 0;
    record_latency(&b->c, now - b->slots[idx].sent_ns, b->o->timeout_ms);
    release(b, idx);
}

static void recv_batch(struct blast *b, struct sock *s, bool in_time)
{
    int n = recvmmsg(s->fd, s->rx, b->o->batch, MSG_DONTWAIT, NULL);
    /* read the clock after the datagrams are in: the loop's clock may predate them */
    int64_t now = n > 0 ? now_ns() : 0;
    for (int i = 0; i < n; i++)
        on_response(b, s->rxbuf[i], s->rx[i].msg_len, in_time, now);
}

/* Frees the slots of queries older than the timeout: they count as lost. */
static void sweep(struct blast *b, int64_t now)
{
    int64_t limit = (int64_t)b->o->timeout_ms * 1000000;
    for (uint32_t i = 0; i < b->o->window; i++) {
        if (b->slots[i].busy && now - b->slots[i].sent_ns > limit) {
            b->c.lost++;
            release(b, i);
        }
    }
}

/* How many queries may go now: a batch, or in paced mode those whose time has come
 * (start + k / rate for the k-th), so a late loop catches up in one batch. */
static unsigned send_quota(const struct blast *b, int64_t now)
{
    if (!b->o->rate)
        return b->o->batch;
    uint64_t due = (uint64_t)((double)(now - b->start_ns) * b->o->rate / NS_PER_SEC) + 1;
    uint64_t owed = due > b->c.sent ? due - b->c.sent : 0;
    return owed < b->o->batch ? (unsigned)owed : b->o->batch;
}

/* Sends (if SENDING) and receives until DEADLINE; when draining, stops early once
 * nothing is in flight.  It never sleeps: it owns its core, and sleeping would make
 * every answer the server sends pay for waking us (an IPI, a VM exit on a guest) and add
 * the wake-up to the latencies measured. */
static void run_until(struct blast *b, int64_t deadline, bool sending)
{
    int64_t next_sweep = now_ns() + SWEEP_NS;
    for (;;) {
        int64_t now = now_ns();
        if (now >= deadline || (!sending && b->inflight == 0))
            break;
        for (unsigned k = 0; k < b->o->nsock; k++) {
            if (sending)
                send_batch(b, &b->socks[k], send_quota(b, now), now);
            recv_batch(b, &b->socks[k], sending);
        }
        if (now >= next_sweep) {
            sweep(b, now);
            next_sweep = now + SWEEP_NS;
        }
    }
}

/* ---- the run ------------------------------------------------------------------------------ */

static int blast_init(struct blast *b)
{
    while ((1u << b->slot_bits) < b->o->window)
        b->slot_bits++;
    for (unsigned k = 0; k < MAX_SOCKETS; k++)
        b->socks[k].fd = -1;
    b->slots = calloc(b->o->window, sizeof(*b->slots));
    b->c.lat_us = calloc((size_t)b->o->timeout_ms * 1000 + 1, sizeof(*b->c.lat_us));
    if (!b->slots || !b->c.lat_us)
        return -1;
    for (unsigned k = 0; k < b->o->nsock; k++)
        if (sock_init(b, k) < 0)
            return -1;
    return 0;
}

static void blast_free(struct blast *b)
{
    for (unsigned k = 0; k < MAX_SOCKETS; k++) {
        if (b->socks[k].fd >= 0)
            close(b->socks[k].fd);
        free(b->socks[k].free);
        free(b->socks[k].rxbuf);
    }
    free(b->slots);
    free(b->c.lat_us);
}

/* How long we were ready to run but not running, in ms, from /proc/self/schedstat (0
 * where the kernel does not say): how much other processes on our core took from us. */
static double run_delay_ms(void)
{
    unsigned long long run = 0, wait = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &run, &wait) != 2)
            wait = 0;
        fclose(f);
    }
    return (double)wait / 1e6;
}

/* Runs for the configured time, then waits out the timeout for the last answers; returns
 * the seconds of the sending phase, which qps refers to. */
static double blast_run(struct blast *b)
{
    b->wait_ms = run_delay_ms();
    b->start_ns = now_ns();
    int64_t end = b->start_ns + (int64_t)b->o->seconds * NS_PER_SEC;
    run_until(b, end, true);
    double secs = (double)(now_ns() - b->start_ns) / NS_PER_SEC;
    run_until(b, now_ns() + (int64_t)b->o->timeout_ms * 1000000, false);
    b->c.lost += b->inflight;
    b->wait_ms = run_delay_ms() - b->wait_ms;
    return secs;
}

/* The smallest latency in µs that FRACTION of the answers did not exceed. */
static unsigned percentile(const struct blast *b, double fraction)
{
    uint64_t want = (uint64_t)(fraction * (double)b->c.answered + 0.999999), seen = 0;
    unsigned max = b->o->timeout_ms * 1000;
    for (unsigned us = 0; us <= max; us++) {
        seen += b->c.lat_us[us];
        if (seen >= want && seen > 0)
            return us;
    }
    return max;
}

static void report(const struct blast *b, double secs)
{
    static const char *names[] = {"noerror",  "formerr", "servfail",
                                  "nxdomain", "notimp",  "refused"};
    const struct counts *c = &b->c;
    uint64_t other = 0;
    for (unsigned r = 6; r < 16; r++)
        other += c->rcode[r];
    double qps = secs > 0 ? (double)c->answered_in_time / secs : 0;
    unsigned p50 = percentile(b, 0.5), p99 = percentile(b, 0.99), p999 = percentile(b, 0.999);
    printf("sent=%llu answered=%llu lost=%llu stray=%llu truncated=%llu qps=%.0f duration=%.3f "
           "wait_ms=%.0f window=%u p50_us=%u p99_us=%u p999_us=%u",
           (unsigned long long)c->sent, (unsigned long long)c->answered,
           (unsigned long long)c->lost, (unsigned long long)c->stray,
           (unsigned long long)c->truncated, qps, secs, b->wait_ms, b->o->window, p50, p99, p999);
    for (unsigned r = 0; r < 6; r++)
        printf(" %s=%llu", names[r], (unsigned long long)c->rcode[r]);
    printf(" other=%llu\n", (unsigned long long)other);
    double pct_lost = c->sent ? 100.0 * (double)c->lost / (double)c->sent : 0;
    printf("udpblast: %s:%u for %.2f s, window %u: %llu answered, %.0f queries/s, "
           "%llu lost (%.3f%%), %llu stray; latency p50 %u µs, p99 %u µs, p99.9 %u µs\n",
           b->o->server, b->o->port, secs, b->o->window, (unsigned long long)c->answered, qps,
           (unsigned long long)c->lost, pct_lost, (unsigned long long)c->stray, p50, p99, p999);
}

/* ---- command line --------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: udpblast -d FILE [-s ADDR] [-p PORT] [-l SECONDS] [-w WINDOW] [-b BATCH]\n"
            "                [-S SOCKETS] [-t TIMEOUT_MS] [-Q QPS]\n"
            "Sends the queries of FILE (lines 'name TYPE [ecs=ADDR/PREFIX]', as dnsperf reads)\n"
            "round robin over UDP, keeping WINDOW queries in flight, and prints one summary\n"
            "line 'sent=… answered=… lost=… qps=… duration=… p50_us=…' and one for people.\n"
            "\n"
            "  -s ADDR      server IPv4 address (default 127.0.0.1)\n"
            "  -p PORT      server port (default 53)\n"
            "  -l SECONDS   how long to send (default 10, at most %d)\n"
            "  -w WINDOW    queries in flight (default 64, at most %d)\n"
            "  -b BATCH     datagrams per sendmmsg/recvmmsg (default 32, at most %d)\n"
            "  -S SOCKETS   source sockets, each with its own port (default 1, at most %d)\n"
            "  -t MS        a query unanswered after MS milliseconds is lost (default 200,\n"
            "               at most %d)\n"
            "  -Q QPS       send at this fixed rate, for latency percentiles (default: as\n"
            "               fast as the window allows)\n"
            "It never sleeps, so it keeps one CPU busy: pin it to a core of its own.\n",
            MAX_SECONDS, MAX_WINDOW, MAX_BATCH, MAX_SOCKETS, MAX_TIMEOUT_MS);
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int ch;
    bool ok = true;
    while (ok && (ch = getopt(argc, argv, "s:p:d:l:w:b:S:t:Q:h")) != -1) {
        switch (ch) {
        case 's':
            o->server = optarg;
            break;
        case 'd':
            o->file = optarg;
            break;
        case 'p':
            ok = parse_uint(optarg, 1, 65535, &o->port);
            break;
        case 'l':
            ok = parse_uint(optarg, 1, MAX_SECONDS, &o->seconds);
            break;
        case 'w':
            ok = parse_uint(optarg, 1, MAX_WINDOW, &o->window);
            break;
        case 'b':
            ok = parse_uint(optarg, 1, MAX_BATCH, &o->batch);
            break;
        case 'S':
            ok = parse_uint(optarg, 1, MAX_SOCKETS, &o->nsock);
            break;
        case 't':
            ok = parse_uint(optarg, 1, MAX_TIMEOUT_MS, &o->timeout_ms);
            break;
        case 'Q':
            ok = parse_uint(optarg, 1, MAX_RATE, &o->rate);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
        }
    }
    if (!ok || optind != argc || !o->file || o->nsock > o->window) {
        if (ok)
            fprintf(stderr, "udpblast: %s\n",
                    !o->file         ? "-d FILE is required"
                    : optind != argc ? "unexpected argument"
                                     : "more sockets than window");
        else if (ch != '?')
            fprintf(stderr, "udpblast: -%c %s: out of range\n", ch, optarg);
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.server = "127.0.0.1",
                     .port = 53,
                     .seconds = 10,
                     .window = 64,
                     .batch = 32,
                     .nsock = 1,
                     .timeout_ms = 200};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    struct qset qs = {0};
    struct blast b = {.o = &o, .qs = &qs};
    int rc = 1;
    if (qset_load(&qs, o.file) == 0) {
        if (blast_init(&b) == 0) {
            report(&b, blast_run(&b));
            rc = 0;
        }
        blast_free(&b);
    }
    qset_free(&qs);
    return rc;
}
