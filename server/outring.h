/* outring.h — an output that per-thread rings feed and one writer thread drains.  Each
 * answering thread owns a ring that it alone writes into, never waiting: a record that
 * does not fit is counted and dropped.  One thread per output takes what the rings hold
 * and writes it out, so a slow disk or a reader that went away never slows answers.
 *
 * The owner (the query log, dnstap) lays out its records in its rings and pushes them
 * itself, and gives the writer's steps: open the destination, drain one ring, write the
 * batch, close.  This module keeps the rings' registry, the destination's name, and the
 * writer's life: started once privileges are dropped, told to reopen, stopped within 5 s.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "lib/diag.h"

#define OUTRING_MAX_RINGS 1100 /* answering threads of every kind */

/* The first member of an owner's ring; the owner's records follow it.  The producer writes
 * a record, then stores head with release; the writer reads up to head (acquire), then
 * stores tail with release once those bytes may be written over.  Both are positions the
 * owner chooses the unit of (slots, bytes); they only grow. */
struct outring_ring {
    _Alignas(CACHE_LINE) _Atomic uint64_t head;    /* written by the producer */
    _Alignas(CACHE_LINE) _Atomic uint64_t tail;    /* written by the writer */
    _Alignas(CACHE_LINE) _Atomic uint64_t dropped; /* records that found no room */
};

/* The writer's steps, all run on the writer thread. */
struct outring_writer {
    bool (*begin)(void);          /* takes its buffers; false ends the thread at once */
    void (*prepare)(bool reopen); /* before each pass; reopen: (re)open the destination */
    size_t (*drain)(struct outring_ring *r); /* takes what r holds; returns records taken */
    void (*flush)(void);                     /* after each pass: writes what was taken */
    void (*end)(void);                       /* closes the destination, frees the buffers */
};

struct outring {
    /* Set by the owner, with OUTRING_INIT. */
    const char *name; /* starts log lines: "query log" */
    size_t ring_size; /* bytes of one ring, struct outring_ring first */
    struct outring_writer writer;
    /* The rest is this module's. */
    atomic_bool enabled, stop, reopen;
    struct outring_ring *rings[OUTRING_MAX_RINGS];
    _Atomic unsigned nrings;
    pthread_mutex_t lock; /* dest and the thread's start and stop: main loop and writer */
    char *dest;
    unsigned mode;
    bool running, may_write;
    pthread_t thread;
};

#define OUTRING_INIT(name_, ring_size_, ...)                                                       \
    {                                                                                              \
        .name = (name_), .ring_size = (ring_size_), .writer = {__VA_ARGS__},                       \
        .lock = PTHREAD_MUTEX_INITIALIZER                                                          \
    }

/* A ring for one answering thread (its only producer), zeroed; NULL when out of memory or
 * out of slots in the registry. */
struct outring_ring *outring_ring_new(struct outring *o) F_WUNUSED;

/* Whether records are being taken at all (one relaxed load: the answer path asks). */
static inline bool outring_enabled(const struct outring *o)
{
    return atomic_load_explicit(&o->enabled, memory_order_relaxed);
}

/* Counts one record the ring had no room for; only its producer calls this. */
static inline void outring_count_drop(struct outring_ring *r)
{
    atomic_store_explicit(&r->dropped, atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Records dropped so far by every ring. */
uint64_t outring_drops(struct outring *o);

/* Writes to dest from now on (NULL: off), in a way mode says to the owner; called again
 * after a reload.  Records queue in the rings until outring_start has let the writer run.
 * -1 with the reason in d. */
int outring_configure(struct outring *o, const char *dest, unsigned mode, struct diag *d) F_WUNUSED;

/* Lets the writer thread open the destination: call once privileges are dropped. */
int outring_start(struct outring *o, struct diag *d) F_WUNUSED;

/* Asks the writer to reopen the destination before its next pass. */
void outring_reopen(struct outring *o);

/* For the writer: a copy of the destination to free, and its mode; NULL when off. */
char *outring_dest(struct outring *o, unsigned *mode) F_WUNUSED;

/* Stops the writer after writing what is queued, waiting 5 s at most, and frees the rings. */
void outring_shutdown(struct outring *o);
