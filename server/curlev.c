/* curlev.c — the glue between curl_multi_socket_action and libevent.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/curlev.h"

#include <stdlib.h>

/* What curl wants to know about one of its sockets. */
struct watch {
    struct event *ev;
};

/* Who to tell when a transfer ends. */
struct job {
    curlev_done_fn done;
    void *arg;
};

static struct {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
} g;

static void finish_transfers(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(g.multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode result = m->data.result;
        struct job *j = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
        curl_multi_remove_handle(g.multi, easy);
        curlev_done_fn done = j->done;
        void *arg = j->arg;
        free(j);
        done(easy, result, arg);
    }
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(g.multi, fd, flags, &running);
    finish_transfers();
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    int running;
    curl_multi_socket_action(g.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    finish_transfers();
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct watch *w = socketp;
    if (w) {
        event_free(w->ev);
        w->ev = NULL;
    }
    if (what == CURL_POLL_REMOVE) {
        free(w);
        return 0;
    }
    if (!w) {
        if (!(w = calloc(1, sizeof(*w))))
            return -1;
        curl_multi_assign(g.multi, s, w);
    }
    short kind = (short)(EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
                         (what & CURL_POLL_OUT ? EV_WRITE : 0));
    w->ev = event_new(g.base, s, kind, on_ready, NULL);
    return w->ev && event_add(w->ev, NULL) == 0 ? 0 : -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    if (timeout_ms < 0)
        return evtimer_del(g.timer);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return evtimer_add(g.timer, &tv);
}

int curlev_init(struct event_base *base)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    g.base = base;
    g.multi = curl_multi_init();
    g.timer = evtimer_new(base, on_wake, NULL);
    if (!g.multi || !g.timer)
        return -1;
    curl_multi_setopt(g.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(g.multi, CURLMOPT_TIMERFUNCTION, on_timer);
    return 0;
}

void curlev_shutdown(void)
{
    if (g.multi)
        curl_multi_cleanup(g.multi);
    if (g.timer)
        event_free(g.timer);
    g.multi = NULL;
    g.timer = NULL;
    curl_global_cleanup();
}

int curlev_start(CURL *easy, curlev_done_fn done, void *arg)
{
    struct job *j = malloc(sizeof(*j));
    if (!j)
        return -1;
    j->done = done;
    j->arg = arg;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, j);
    if (curl_multi_add_handle(g.multi, easy) != CURLM_OK) {
        free(j);
        return -1;
    }
    return 0;
}

void curlev_cancel(CURL *easy)
{
    struct job *j = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
    curl_multi_remove_handle(g.multi, easy);
    free(j);
}
