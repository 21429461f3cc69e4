/* curlev.h — libcurl's multi interface driven by the daemon's libevent loop: curl tells us
 * which sockets to watch and when to wake it, and hands back each finished transfer.
 * No thread and no blocking call.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <curl/curl.h>
#include <event2/event.h>

#include "lib/compiler.h"

/* Called on the loop when a transfer ends; the easy handle has been removed from the
 * multi handle and belongs to the callee again. */
typedef void (*curlev_done_fn)(CURL *easy, CURLcode result, void *arg);

/* 0, or -1 when libcurl cannot be set up. */
int curlev_init(struct event_base *base) F_WUNUSED;
void curlev_shutdown(void);

/* Starts easy; done(easy, result, arg) follows on the loop.  -1 when it cannot start. */
int curlev_start(CURL *easy, curlev_done_fn done, void *arg) F_WUNUSED;

/* Abandons a running transfer without calling its done function. */
void curlev_cancel(CURL *easy);
