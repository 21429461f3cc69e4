/* reloadjob.c — one reload at a time on a thread that lives as long as the server: it
 * waits for a job, reads files and builds (registry entries are created under the
 * registry's lock), then wakes the main loop with event_active(), which takes the result.
 * Everything handed between the two goes under one mutex.
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
    bool started;
    bool running; /* main loop only: from start until done is called */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Under mu. */
    bool pending, quit;
    const char *path;
    const struct view *old;
    struct view *result;
    struct diag d;
    bool finished;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g.mu);
    for (;;) {
        while (!g.pending && !g.quit)
            pthread_cond_wait(&g.cv, &g.mu);
        if (g.quit)
            break;
        g.pending = false;
        const char *path = g.path;
        const struct view *old = g.old;
        pthread_mutex_unlock(&g.mu);
        struct diag d;
        diag_init(&d);
        struct view *v = loader_load(path, old, false, &d);
        pthread_mutex_lock(&g.mu);
        g.result = v;
        g.d = d;
        g.finished = true;
        event_active(g.wake, EV_READ, 0);
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pthread_mutex_lock(&g.mu);
    bool finished = g.finished;
    struct view *v = g.result;
    struct diag d = g.d;
    g.finished = false;
    g.result = NULL;
    pthread_mutex_unlock(&g.mu);
    if (!finished)
        return;
    g.running = false;
    g.done(v, &d);
}

int reloadjob_init(struct event_base *base, reloadjob_done_fn done)
{
    g.done = done;
    g.wake = event_new(base, -1, 0, on_wake, NULL);
    if (!g.wake || pthread_create(&g.thread, NULL, run, NULL) != 0)
        return -1;
    g.started = true;
    return 0;
}

int reloadjob_start(const char *path, const struct view *old)
{
    if (g.running || !g.started)
        return -1;
    pthread_mutex_lock(&g.mu);
    g.path = path;
    g.old = old;
    g.pending = true;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    g.running = true;
    return 0;
}

bool reloadjob_running(void)
{
    return g.running;
}

void reloadjob_shutdown(void)
{
    if (g.started) {
        pthread_mutex_lock(&g.mu);
        g.quit = true;
        pthread_cond_signal(&g.cv);
        pthread_mutex_unlock(&g.mu);
        pthread_join(g.thread, NULL); /* a load under way is finished first */
        g.started = false;
        if (g.finished) {
            if (g.result)
                view_free(g.result);
            diag_free(&g.d);
        }
        g.result = NULL;
        g.finished = false;
    }
    if (g.wake)
        event_free(g.wake);
    g.wake = NULL;
}
