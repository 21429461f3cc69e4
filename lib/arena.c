/* arena.c — chunked bump allocation.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SIZE (1u << 20)

/* Under AddressSanitizer the arena keeps its bugs visible: unused chunk space is
 * poisoned, every allocation is followed by a poisoned gap, and chunks are registered as
 * roots so LeakSanitizer sees the pointers stored in them. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#define REDZONE 16
#else
#define REDZONE                             0
#define ASAN_POISON_MEMORY_REGION(p, n)     ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n)   ((void)(p), (void)(n))
#define __lsan_register_root_region(p, n)   ((void)(p), (void)(n))
#define __lsan_unregister_root_region(p, n) ((void)(p), (void)(n))
#endif

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a)
{
    memset(a, 0, sizeof(*a));
}

/* Chunks are mapped directly, not malloc'ed: freeing a zone then returns its memory to
 * the system at once, instead of leaving holes in the heap that keep RSS high. */
void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        __lsan_unregister_root_region(c, sizeof(*c) + c->size);
        ASAN_UNPOISON_MEMORY_REGION(c, sizeof(*c) + c->size);
        munmap(c, sizeof(*c) + c->size);
        c = next;
    }
    arena_init(a);
}

/* populate: fault every page in now, for an arena that is already growing (a big zone
 * loads faster so); a first chunk fills in as it is used, so a small arena costs little. */
static struct arena_chunk *chunk_new(size_t size, bool populate)
{
    void *p = mmap(NULL, sizeof(struct arena_chunk) + size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct arena_chunk *c = p;
    c->next = NULL;
    c->used = 0;
    c->size = size;
    __lsan_register_root_region(c, sizeof(*c) + size);
    ASAN_POISON_MEMORY_REGION(c->data, size);
    return c;
}

static void *take(struct arena *a, size_t n);

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->head;
    if (c)
        c->used = (c->used + 7) & ~(size_t)7;
    return take(a, n ? n : 1);
}

void *arena_bytes(struct arena *a, const void *p, size_t n)
{
    void *q = take(a, n ? n : 1);
    if (q && p && n)
        memcpy(q, p, n);
    return q;
}

static void *take(struct arena *a, size_t want)
{
    size_t n = want + REDZONE;
    struct arena_chunk *c = a->head;
    if (c && c->used > c->size)
        c->used = c->size; /* aligning may step past the end of a full chunk */
    if (!c || c->size - c->used < n) {
        /* A large block gets its own chunk behind the current one, so the current
         * chunk's free tail is not wasted. */
        size_t size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
        struct arena_chunk *nc = chunk_new(size, c != NULL || size != CHUNK_SIZE);
        if (!nc) {
            a->failed = 1;
            return NULL;
        }
        if (c && size != CHUNK_SIZE) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used_bytes += n;
    ASAN_UNPOISON_MEMORY_REGION(p, want);
    return p; /* fresh mappings are zero-filled, and chunks are never reused */
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_memdup(a, s, strlen(s) + 1);
}

void arena_adopt(struct arena *dst, struct arena *src)
{
    struct arena_chunk *tail = src->head;
    if (tail) {
        while (tail->next)
            tail = tail->next;
        tail->next = dst->head;
        dst->head = src->head;
    }
    dst->used_bytes += src->used_bytes;
    dst->failed |= src->failed;
    arena_init(src);
}
