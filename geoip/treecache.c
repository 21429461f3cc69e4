/* treecache.c — a list of compiled trees with their keys and reference counts.  Loads
 * hold a handful of trees, so a list serves; the lock covers a load being freed by one
 * thread while another is built.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "geoip/treecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;
    void *key;
    size_t len;
    struct dectree *tree;
    unsigned refs;
};

static struct entry *entries;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct dectree *treecache_get(const void *key, size_t len)
{
    struct dectree *t = NULL;
    pthread_mutex_lock(&lock);
    for (struct entry *e = entries; e && !t; e = e->next)
        if (e->len == len && !memcmp(e->key, key, len)) {
            e->refs++;
            t = e->tree;
        }
    pthread_mutex_unlock(&lock);
    return t;
}

bool treecache_put(const void *key, size_t len, struct dectree *t)
{
    struct entry *e = malloc(sizeof(*e));
    void *k = malloc(len ? len : 1);
    if (!e || !k) {
        free(e);
        free(k);
        return false;
    }
    memcpy(k, key, len);
    e->key = k;
    e->len = len;
    e->tree = t;
    e->refs = 1;
    pthread_mutex_lock(&lock);
    e->next = entries;
    entries = e;
    pthread_mutex_unlock(&lock);
    return true;
}

void treecache_release(struct dectree *t)
{
    if (!t)
        return;
    struct entry *gone = NULL;
    pthread_mutex_lock(&lock);
    for (struct entry **p = &entries; *p; p = &(*p)->next)
        if ((*p)->tree == t) {
            if (--(*p)->refs == 0) {
                gone = *p;
                *p = gone->next;
            }
            break;
        }
    pthread_mutex_unlock(&lock);
    if (gone) {
        dectree_free(gone->tree);
        free(gone->key);
        free(gone);
    }
}
