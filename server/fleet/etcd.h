/* etcd.h — a small client of etcd's v3 JSON gateway (POST /v3/...): requests as json-c
 * objects over libcurl, either blocking (control commands, start-up) or driven by the
 * daemon's event loop (the sync cycle).  Endpoints are tried in turn; an endpoint that
 * fails is left for the next.  Keys and values travel base64-encoded, as the gateway
 * wants.  Internal to server/fleet/.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/compiler.h"
#include "server/conf.h"

struct etcd;

/* Copies what it needs from f and reads the password file.  NULL with the reason in err. */
struct etcd *etcd_new(const struct conf_fleet *f, char *err, size_t errsize) F_WUNUSED;
/* Abandons every request in flight without calling back. */
void etcd_free(struct etcd *e);

/* Sends body (not consumed) to the gateway path ("/v3/kv/range") and waits at most the
 * timeout per endpoint.  The parsed reply, which the caller puts, or NULL with the reason in
 * err. */
json_object *etcd_call(struct etcd *e, const char *path, json_object *body, char *err,
                       size_t errsize) F_WUNUSED;

/* The same on the event loop: done gets the reply (NULL with err on failure), which it
 * puts.  -1 when the request cannot start. */
typedef void (*etcd_done_fn)(void *arg, json_object *reply, const char *err);
int etcd_call_async(struct etcd *e, const char *path, json_object *body, etcd_done_fn done,
                    void *arg) F_WUNUSED;

/* A request whose reply is a stream of JSON messages, one per line (the gateway's
 * /v3/watch): msg gets each as it comes (and must not put it); done follows with NULL and
 * the reason when the stream ends.  No timeout but the connection's.  -1 when it cannot
 * start. */
typedef void (*etcd_msg_fn)(void *arg, json_object *msg);
int etcd_stream(struct etcd *e, const char *path, json_object *body, etcd_msg_fn msg,
                etcd_done_fn done, void *arg) F_WUNUSED;

/* Closes every stream without calling back; not from inside one of its callbacks. */
void etcd_cancel_streams(struct etcd *e);

/* How many endpoints there are: a request on the loop tries one, so a caller retries up
 * to this many times before it calls etcd away. */
size_t etcd_endpoints(const struct etcd *e);

/* Base64 (RFC 4648 §4) of len bytes as a new JSON string. */
json_object *etcd_b64(const char *s, size_t len);
/* Decodes a base64 JSON string into buf (NUL-terminated); the length, or -1 when it is not
 * valid base64 or does not fit. */
long etcd_unb64(json_object *o, char *buf, size_t size);

/* An int64 field of a reply, which the gateway sends as a string; def when absent. */
long long etcd_int(json_object *o, const char *key, long long def);
