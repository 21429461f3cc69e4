/* treecache.h — compiled trees by the inputs they were compiled from, so that services
 * with the same map and inputs share one tree, and a reload that leaves the inputs alone
 * keeps the trees it had.  Called at load and when a load is freed, never on the query
 * path.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "geoip/dectree.h"
#include "lib/compiler.h"

/* The tree compiled from key (len bytes), with a reference taken; NULL when none. */
struct dectree *treecache_get(const void *key, size_t len) F_WUNUSED;
/* Files t under key with one reference; false out of memory (t is then the caller's). */
bool treecache_put(const void *key, size_t len, struct dectree *t) F_WUNUSED;
/* Drops a reference; the last one frees the tree. */
void treecache_release(struct dectree *t);
