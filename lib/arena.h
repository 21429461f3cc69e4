/* arena.h — a bump allocator for data that lives and dies together (one zone database,
 * one config).  Building a million-record zone costs a few hundred large allocations
 * instead of millions of small ones, and freeing it is one walk over the chunks.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "lib/compiler.h"

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t used_bytes; /* handed out so far, for reporting */
    int failed;        /* set once an allocation failed: the load must fail */
};

void arena_init(struct arena *a);
void arena_free(struct arena *a);

/* Memory aligned to 8 bytes, zero-filled (never reused); NULL (and a->failed set) when
 * out of memory. */
void *arena_alloc(struct arena *a, size_t n) F_WUNUSED;
void *arena_memdup(struct arena *a, const void *p, size_t n) F_WUNUSED;
/* n bytes with no alignment, a copy of p unless p is NULL (then zero-filled), for names
 * and wire data: a million short names would waste megabytes rounding each up to 8. */
void *arena_bytes(struct arena *a, const void *p, size_t n) F_WUNUSED;
char *arena_strdup(struct arena *a, const char *s) F_WUNUSED;
/* Moves every chunk of src into dst (src is left empty): what threads built in arenas of
 * their own joins the one that lives on. */
void arena_adopt(struct arena *dst, struct arena *src);
