/* outring.c — the rings' registry and the writer thread's life, for any output.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/outring.h"
#include "lib/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define IDLE_NS   20000000L /* the writer's nap when every ring is empty */
#define STOP_WAIT 5         /* seconds shutdown waits for the writer */

struct outring_ring *outring_ring_new(struct outring *o)
{
    /* Zeroed pages from the system: a ring costs no memory until records pass through
     * it, and stays untouched while the output is off. */
    void *mem =
        mmap(NULL, o->ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return NULL;
    unsigned i = atomic_fetch_add(&o->nrings, 1);
    if (i >= OUTRING_MAX_RINGS) {
        munmap(mem, o->ring_size);
        return NULL;
    }
    o->rings[i] = mem;
    return mem;
}

uint64_t outring_drops(struct outring *o)
{
    uint64_t n = 0;
    unsigned count = atomic_load(&o->nrings);
    for (unsigned i = 0; i < count && i < OUTRING_MAX_RINGS; i++)
        if (o->rings[i])
            n += atomic_load_explicit(&o->rings[i]->dropped, memory_order_relaxed);
    return n;
}

static void *writer_main(void *arg)
{
    struct outring *o = arg;
    const struct outring_writer *w = &o->writer;
    if (!w->begin())
        return NULL;
    atomic_store(&o->reopen, true); /* the first pass opens the destination */
    for (;;) {
        bool stopping = atomic_load(&o->stop);
        w->prepare(atomic_exchange(&o->reopen, false));
        size_t taken = 0;
        unsigned n = atomic_load(&o->nrings);
        for (unsigned i = 0; i < n && i < OUTRING_MAX_RINGS; i++)
            if (o->rings[i])
                taken += w->drain(o->rings[i]);
        w->flush();
        if (stopping && !taken)
            break;
        if (!taken)
            nanosleep(&(struct timespec){0, IDLE_NS}, NULL);
    }
    w->end();
    return NULL;
}

static int start_writer(struct outring *o, struct diag *d)
{
    atomic_store(&o->stop, false);
    if (pthread_create(&o->thread, NULL, writer_main, o) != 0) {
        diag_error(d, NULL, 0, 0, "%s: cannot start its writer thread", o->name);
        return -1;
    }
    o->running = true;
    return 0;
}

int outring_start(struct outring *o, struct diag *d)
{
    o->may_write = true;
    return o->dest && !o->running ? start_writer(o, d) : 0;
}

int outring_configure(struct outring *o, const char *dest, unsigned mode, struct diag *d)
{
    pthread_mutex_lock(&o->lock);
    bool same =
        (!dest && !o->dest) || (dest && o->dest && !strcmp(dest, o->dest) && mode == o->mode);
    if (!same) {
        free(o->dest);
        o->dest = dest ? strdup(dest) : NULL;
        o->mode = mode;
    }
    pthread_mutex_unlock(&o->lock);
    if (!same)
        atomic_store(&o->reopen, true);
    /* Records queue from now on; the destination waits for outring_start (after dropping
     * root). */
    atomic_store(&o->enabled, dest != NULL);
    return dest && !o->running && o->may_write ? start_writer(o, d) : 0;
}

void outring_reopen(struct outring *o)
{
    atomic_store(&o->reopen, true);
}

char *outring_dest(struct outring *o, unsigned *mode)
{
    pthread_mutex_lock(&o->lock);
    char *dest = o->dest ? strdup(o->dest) : NULL;
    *mode = o->mode;
    pthread_mutex_unlock(&o->lock);
    return dest;
}

void outring_shutdown(struct outring *o)
{
    atomic_store(&o->enabled, false);
    if (o->running) {
        atomic_store(&o->stop, true);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += STOP_WAIT;
        /* A writer stuck in the kernel (a hung network mount, a reader that stopped
         * reading) must not hold up exit; it keeps its rings. */
        if (pthread_timedjoin_np(o->thread, NULL, &deadline) != 0) {
            log_err("%s: the writer did not finish within %d s; leaving it", o->name, STOP_WAIT);
            return;
        }
        o->running = false;
    }
    unsigned n = atomic_exchange(&o->nrings, 0);
    for (unsigned i = 0; i < n && i < OUTRING_MAX_RINGS; i++) {
        if (o->rings[i])
            munmap(o->rings[i], o->ring_size);
        o->rings[i] = NULL;
    }
    free(o->dest);
    o->dest = NULL;
}
