/* arena_asan.c — lib/arena.h for the fuzz build: every allocation its own heap block.
 * SPDX-License-Identifier: MIT
 *
 * lib/arena.c carves allocations out of mmap'ed chunks.  AddressSanitizer puts no redzones
 * between them, so writing past one allocation silently corrupts the next; and
 * LeakSanitizer does not scan mmap'ed memory, so what only arena memory points to looks
 * leaked.  Here each allocation is a separate calloc'ed block that ASan guards on both
 * sides and LSan scans; arena_free frees them all (a later use is a use-after-free).  Same
 * contract as lib/arena.h: zero-filled, at least 8-byte aligned, NULL and a->failed when
 * out of memory.  build.sh links it instead of lib/arena.c unless FUZZ_ARENA=project. */
#include "config.h"
#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

/* lib/arena.h leaves the chunk type opaque: here it is one allocation in a list. */
struct arena_chunk {
    struct arena_chunk *next;
    void *block;
};

void arena_init(struct arena *a)
{
    memset(a, 0, sizeof(*a));
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c->block);
        free(c);
        c = next;
    }
    arena_init(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = malloc(sizeof(*c));
    void *p = c ? calloc(1, n ? n : 1) : NULL;
    if (!p) {
        free(c);
        a->failed = 1;
        return NULL;
    }
    c->block = p;
    c->next = a->head;
    a->head = c;
    a->used_bytes += n;
    return p;
}

void *arena_bytes(struct arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (q && p && n)
        memcpy(q, p, n);
    return q;
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
