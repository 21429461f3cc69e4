/* udp.c — UDP worker threads: each owns a SO_REUSEPORT socket and moves datagrams in
 * batches with recvmmsg/sendmmsg.  The loop makes no system call besides those two and
 * allocates nothing per query.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/udp.h"
#include "geoip/dyn.h"
#include "lib/log.h"
#include "server/listen.h"
#include "server/dnstap.h"
#include "server/querylog.h"
#include "server/rrl.h"
#include "server/stats.h"
#include "server/view.h"
#include "zones/response.h"
#include "zones/sign/sign.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH      32
#define UDP_IN_MAX 4096
#define UDP_OUT    4096 /* the largest udp_payload the config allows */
#define CMSG_SPACE_PKTINFO                                                                         \
    (CMSG_SPACE(sizeof(struct in6_pktinfo)) > CMSG_SPACE(sizeof(struct in_pktinfo))                \
         ? CMSG_SPACE(sizeof(struct in6_pktinfo))                                                  \
         : CMSG_SPACE(sizeof(struct in_pktinfo)))
/* How often an idle worker wakes to announce quiescence and look for shutdown. */
#define IDLE_WAKE_MS 100

struct slot {
    struct sockaddr_storage peer;
    struct iovec in_iov, out_iov;
    _Alignas(struct cmsghdr) uint8_t in_ctl[CMSG_SPACE_PKTINFO];
    _Alignas(struct cmsghdr) uint8_t out_ctl[CMSG_SPACE_PKTINFO];
    uint8_t in[UDP_IN_MAX];
    uint8_t out[UDP_OUT];
};

struct worker {
    pthread_t thread;
    int fd;
    bool pktinfo;
    bool started;
    struct view_reader *reader;
    struct stats *stats;
    struct dyn_scratch *ws;
    struct sign_cache *sigs;
    struct rrl *rrl;
    struct querylog_ring *qlog;
    struct dnstap_ring *dtap;
    unsigned shares; /* workers on this worker's address, which split the RRL rate */
    uint32_t now;    /* monotonic seconds at the batch's arrival, for RRL */
    uint32_t wall;   /* seconds since the epoch at the batch's arrival, for cookies */
    struct mmsghdr in[BATCH], out[BATCH];
    struct slot slots[BATCH];
};

static struct worker **workers;
static size_t nworkers;
static atomic_bool stopping;

/* Turns the destination address of a received datagram into the source of the reply. */
static void reply_pktinfo(struct msghdr *in, struct msghdr *out, uint8_t *ctl)
{
    struct cmsghdr *c = CMSG_FIRSTHDR(in);
    out->msg_control = NULL;
    out->msg_controllen = 0;
    for (; c; c = CMSG_NXTHDR(in, c)) {
        struct cmsghdr *o = (struct cmsghdr *)ctl;
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            pi.ipi_spec_dst = pi.ipi_addr;
            pi.ipi_ifindex = 0;
            o->cmsg_level = IPPROTO_IP;
            o->cmsg_type = IP_PKTINFO;
            o->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(o), &pi, sizeof(pi));
            out->msg_controllen = CMSG_SPACE(sizeof(pi));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            o->cmsg_level = IPPROTO_IPV6;
            o->cmsg_type = IPV6_PKTINFO;
            o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
            memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
            out->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        } else {
            continue;
        }
        out->msg_control = ctl;
        return;
    }
}

/* Points every receive slot at its buffers, once. */
static void setup_receive(struct worker *w)
{
    for (int i = 0; i < BATCH; i++) {
        struct slot *s = &w->slots[i];
        struct msghdr *h = &w->in[i].msg_hdr;
        s->in_iov.iov_base = s->in;
        s->in_iov.iov_len = sizeof(s->in);
        h->msg_name = &s->peer;
        h->msg_iov = &s->in_iov;
        h->msg_iovlen = 1;
        h->msg_control = w->pktinfo ? s->in_ctl : NULL;
    }
}

/* Resets what the kernel changed in the first n slots (the last batch's). */
static void arm_receive(struct worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        struct msghdr *h = &w->in[i].msg_hdr;
        h->msg_namelen = sizeof(w->slots[i].peer);
        h->msg_controllen = w->pktinfo ? sizeof(w->slots[i].in_ctl) : 0;
        h->msg_flags = 0;
    }
}

/* Applies RRL to a response of *len bytes: false to drop it; a slipped one is cut to
 * header and question with TC set, so a real client retries over TCP. */
static bool rate_limit(struct worker *w, const struct view *v, struct slot *s,
                       const struct answer_info *info, size_t *len)
{
    /* A valid server cookie proves the source address is not spoofed (RFC 7873 §1). */
    if (info->cookie == COOKIE_VALID)
        return true;
    enum rrl_verdict verdict = rrl_check(w->rrl, &v->conf->rrl, w->shares,
                                         (const struct sockaddr *)&s->peer, info, s->out, w->now);
    if (verdict == RRL_SEND)
        return true;
    if (verdict == RRL_DROP) {
        stat_inc(&w->stats->rrl_dropped);
        return false;
    }
    stat_inc(&w->stats->rrl_slipped);
    if (info->cookie != COOKIE_MISSING && info->rcode != RCODE_FORMERR && info->opt_start) {
        /* RFC 7873 §5.2.3: a client with a cookie gets BADCOOKIE and a fresh server
         * cookie, with which its retry passes at once. */
        *len =
            resp_reduce_to_opt(s->out, *len, info->question_end, info->opt_start, RCODE_BADCOOKIE);
        return true;
    }
    *len = info->question_end;
    s->out[2] |= 0x02;        /* TC */
    memset(s->out + 6, 0, 6); /* no answer, authority or additional records */
    return true;
}

/* Answers received datagram i into the next outgoing slot; returns 1 if one was queued. */
static int answer_one(struct worker *w, const struct view *v, int i, int nout)
{
    struct slot *s = &w->slots[i];
    struct msghdr *in = &w->in[i].msg_hdr;
    struct answer_info info;
    size_t len = 0;
    struct answer_client client = {
        .src = (const struct sockaddr *)&s->peer, .now = w->wall, .ws = w->ws, .sigs = w->sigs};
    if (!(in->msg_flags & MSG_TRUNC))
        len = answer_query(&v->env, s->in, w->in[i].msg_len, s->out, &client, &info);
    else
        info = (struct answer_info){.dropped = true};
    stats_count(w->stats, PROTO_UDP, &info);
    if (len && !rate_limit(w, v, s, &info, &len))
        return 0;
    if (!len)
        return 0;
    if (querylog_enabled())
        querylog_push(w->qlog, s->out, (const struct sockaddr *)&s->peer, &info, false);
    if (dnstap_enabled())
        dnstap_push(w->dtap, s->in, w->in[i].msg_len, s->out, len,
                    (const struct sockaddr *)&s->peer, &info, false);
    struct msghdr *out = &w->out[nout].msg_hdr;
    s->out_iov.iov_base = s->out;
    s->out_iov.iov_len = len;
    out->msg_name = &s->peer;
    out->msg_namelen = in->msg_namelen;
    out->msg_iov = &s->out_iov;
    out->msg_iovlen = 1;
    out->msg_flags = 0;
    if (w->pktinfo)
        reply_pktinfo(in, out, s->out_ctl);
    else
        out->msg_control = NULL, out->msg_controllen = 0;
    return 1;
}

static void send_all(struct worker *w, int n)
{
    int done = 0;
    while (done < n) {
        int rc = sendmmsg(w->fd, w->out + done, (unsigned)(n - done), 0);
        if (rc > 0) {
            done += rc;
        } else if (rc < 0 && errno == EINTR) {
            continue;
        } else {
            done++; /* this datagram cannot go (e.g. an unreachable peer): skip it */
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    setup_receive(w);
    int used = BATCH;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        arm_receive(w, used);
        int n = recvmmsg(w->fd, w->in, BATCH, MSG_WAITFORONE, NULL);
        view_quiesce(w->reader);
        used = n > 0 ? n : 0;
        if (n <= 0)
            continue; /* timeout or EINTR: quiescent, check for shutdown */
        const struct view *v = view_current();
        /* Once per batch, not per query; both are read from the vDSO, no system call. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        w->now = (uint32_t)ts.tv_sec;
        clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        w->wall = (uint32_t)ts.tv_sec;
        int nout = 0;
        for (int i = 0; i < n; i++)
            nout += answer_one(w, v, i, nout);
        send_all(w, nout);
    }
    view_reader_delete(w->reader);
    return NULL;
}

static struct worker *worker_new(const struct conf_listen *l, unsigned rcvbuf, struct diag *d)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->fd = listen_udp(l, rcvbuf, d);
    w->pktinfo = listen_is_wildcard(l);
    w->reader = view_reader_new();
    w->stats = stats_new();
    w->ws = dyn_scratch_new();
    w->sigs = sign_cache_new();
    w->rrl = rrl_new();
    w->qlog = querylog_ring_new();
    w->dtap = dnstap_ring_new();
    struct timeval tv = {0, IDLE_WAKE_MS * 1000};
    if (w->fd < 0 || !w->reader || !w->stats || !w->ws || !w->sigs || !w->rrl || !w->qlog ||
        !w->dtap || setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        if (w->fd >= 0)
            close(w->fd);
        view_reader_delete(w->reader);
        dyn_scratch_free(w->ws);
        sign_cache_free(w->sigs);
        rrl_free(w->rrl);
        free(w);
        return NULL;
    }
    return w;
}

int udp_start(const struct config *c, unsigned per_address, struct diag *d)
{
    atomic_store(&stopping, false);
    size_t total = c->server.nlisten * per_address;
    workers = calloc(total ? total : 1, sizeof(*workers));
    if (!workers)
        return -1;
    for (size_t i = 0; i < c->server.nlisten; i++) {
        for (unsigned k = 0; k < per_address; k++) {
            struct worker *w = worker_new(&c->server.listen[i], c->server.udp_rcvbuf, d);
            if (!w)
                return -1;
            w->shares = per_address;
            workers[nworkers++] = w;
            if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
                diag_error(d, NULL, 0, 0, "cannot start a UDP worker thread");
                return -1;
            }
            w->started = true;
        }
    }
    return 0;
}

void udp_stop(void)
{
    atomic_store(&stopping, true);
    for (size_t i = 0; i < nworkers; i++) {
        if (workers[i]->started)
            pthread_join(workers[i]->thread, NULL);
        close(workers[i]->fd);
        dyn_scratch_free(workers[i]->ws);
        sign_cache_free(workers[i]->sigs);
        rrl_free(workers[i]->rrl);
        free(workers[i]);
    }
    free(workers);
    workers = NULL;
    nworkers = 0;
}
