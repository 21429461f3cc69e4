/* reloadjob.c — one reload at a time on a thread: the thread only reads files and builds
 * (registry entries are created under the registry's lock); the main loop is woken with
 * event_active(), joins the thread and takes the result.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/reloadjob.h"
#include "server/loader.h"

#include <pthread.h>
#include <stdlib.h>

static struct {
    struct event *wake;
    reloadjob_done_fn done;
    pthread_t thread;
    bool running;
    /* Written by the thread before it wakes the main loop, read after the join. */
    const char *path;
    const struct view *old;
    struct view *result;
    struct diag d;
} g;

static void *run(void *arg)
{
    (void)arg;
    g.result = loader_load(g.path, g.old, false, &g.d);
    event_active(g.wake, EV_READ, 0);
    return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pthread_join(g.thread, NULL);
    g.running = false;
    struct diag d = g.d;
    struct view *v = g.result;
    g.result = NULL;
    g.done(v, &d);
}

int reloadjob_init(struct event_base *base, reloadjob_done_fn done)
{
    g.done = done;
    g.wake = event_new(base, -1, 0, on_wake, NULL);
    return g.wake ? 0 : -1;
}

int reloadjob_start(const char *path, const struct view *old)
{
    if (g.running)
        return -1;
    g.path = path;
    g.old = old;
    g.result = NULL;
    diag_init(&g.d);
    if (pthread_create(&g.thread, NULL, run, NULL) != 0) {
        diag_free(&g.d);
        return -1;
    }
    g.running = true;
    return 0;
}

bool reloadjob_running(void)
{
    return g.running;
}

void reloadjob_shutdown(void)
{
    if (g.running) {
        pthread_join(g.thread, NULL);
        g.running = false;
        if (g.result)
            view_free(g.result);
        diag_free(&g.d);
    }
    if (g.wake)
        event_free(g.wake);
    g.wake = NULL;
}
