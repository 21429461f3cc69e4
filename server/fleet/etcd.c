/* etcd.c — requests to etcd's v3 JSON gateway through libcurl, blocking or on the loop,
 * with endpoint failover, TLS client certificates and token authentication.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/etcd.h"
#include "lib/readfile.h"
#include "lib/strbuf.h"
#include "server/curlev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define REPLY_MAX (16u << 20) /* a fleet's whole prefix is a few KiB; more is an error */

struct etcd {
    char **urls;
    size_t nurls, cur; /* cur: the endpoint tried first */
    char *user, *password, *token;
    char *ca, *cert, *key;
    long timeout_ms;
    struct call *calls; /* in flight on the loop */
};

/* One request on the loop. */
struct call {
    struct call *next;
    struct etcd *e;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    struct strbuf reply;
    etcd_done_fn done;
    etcd_msg_fn msg; /* a stream: each line of the reply goes here as it comes */
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- base64 (RFC 4648 §4) ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

json_object *etcd_b64(const char *s, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        v |= i + 1 < len ? (unsigned char)s[i + 1] << 8 : 0;
        v |= i + 2 < len ? (unsigned char)s[i + 2] : 0;
        out[n++] = b64chars[v >> 18 & 63];
        out[n++] = b64chars[v >> 12 & 63];
        out[n++] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
        out[n++] = i + 2 < len ? b64chars[v & 63] : '=';
    }
    out[n] = '\0';
    json_object *o = json_object_new_string(out);
    free(out);
    return o;
}

static int b64value(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

long etcd_unb64(json_object *o, char *buf, size_t size)
{
    const char *s = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
    size_t len = s ? strlen(s) : 0, n = 0;
    if (!s || len % 4)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int a = b64value(s[i]), b = b64value(s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : b64value(s[i + 2]);
        int d = s[i + 3] == '=' ? 0 : b64value(s[i + 3]);
        bool last = i + 4 == len;
        if (a < 0 || b < 0 || c < 0 || d < 0 || (!last && (s[i + 2] == '=' || s[i + 3] == '=')) ||
            (s[i + 2] == '=' && s[i + 3] != '='))
            return -1;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        size_t take = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
        if (n + take >= size)
            return -1;
        for (size_t k = 0; k < take; k++)
            buf[n++] = (char)(v >> (16 - 8 * k) & 0xff);
    }
    buf[n] = '\0';
    return (long)n;
}

long long etcd_int(json_object *o, const char *key, long long def)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return def;
    return (long long)json_object_get_int64(v);
}

/* ---- setup ---- */

size_t etcd_endpoints(const struct etcd *e)
{
    return e->nurls;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The password file holds the password, a trailing newline aside. */
static int read_password(struct etcd *e, const char *path, char *err, size_t errsize)
{
    char *text;
    size_t n;
    int rc = readfile(path, 4096, &text, &n);
    if (rc != 0) {
        snprintf(err, errsize, "cannot read %s: %s", path, readfile_strerror(rc));
        return -1;
    }
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    text[n] = '\0';
    e->password = text;
    return 0;
}

struct etcd *etcd_new(const struct conf_fleet *f, char *err, size_t errsize)
{
    struct etcd *e = calloc(1, sizeof(*e));
    if (!e || !(e->urls = calloc(f->netcd, sizeof(*e->urls)))) {
        free(e);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < f->netcd; i++)
        e->urls[e->nurls++] = strdup(f->etcd[i]);
    e->user = dup_or_null(f->user);
    e->ca = dup_or_null(f->tls_ca);
    e->cert = dup_or_null(f->tls_cert);
    e->key = dup_or_null(f->tls_key);
    e->timeout_ms = (long)f->timeout_ms;
    if (f->password_file && read_password(e, f->password_file, err, errsize) < 0) {
        etcd_free(e);
        return NULL;
    }
    return e;
}

static void call_free(struct call *c)
{
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->body);
    sb_free(&c->reply);
    free(c);
}

void etcd_free(struct etcd *e)
{
    if (!e)
        return;
    while (e->calls) {
        struct call *c = e->calls;
        e->calls = c->next;
        curlev_cancel(c->easy);
        call_free(c);
    }
    for (size_t i = 0; i < e->nurls; i++)
        free(e->urls[i]);
    free(e->urls);
    free(e->user);
    free(e->password);
    free(e->token);
    free(e->ca);
    free(e->cert);
    free(e->key);
    free(e);
}

/* ---- one transfer ---- */

/* Hands each complete line of a stream to its function, keeping the rest for later. */
static void take_lines(struct call *c)
{
    struct strbuf *b = &c->reply;
    char *nl;
    while (b->len && (nl = memchr(b->s, '\n', b->len))) {
        *nl = '\0';
        json_object *o = json_tokener_parse(b->s);
        size_t used = (size_t)(nl + 1 - b->s);
        memmove(b->s, nl + 1, b->len - used + 1);
        b->len -= used;
        if (o)
            c->msg(c->arg, o);
        json_object_put(o);
    }
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    struct strbuf *b = &c->reply;
    if (b->len + size * n > REPLY_MAX)
        return 0;
    sb_add(b, data, size * n);
    if (b->failed)
        return 0;
    if (c->msg)
        take_lines(c);
    return size * n;
}

/* An easy handle for POST url+path with body; the reply goes to c->reply. */
static CURL *easy_for(struct etcd *e, struct call *c, const char *url, const char *path)
{
    char full[600];
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    snprintf(full, sizeof(full), "%s%s", url, path);
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (e->token && c->headers) {
        char auth[600];
        snprintf(auth, sizeof(auth), "Authorization: %s", e->token);
        c->headers = curl_slist_append(c->headers, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    if (e->ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, e->ca);
    if (e->cert) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
    }
    return h;
}

static struct call *call_new(struct etcd *e, json_object *body)
{
    struct call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->e = e;
    sb_init(&c->reply);
    c->body = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
    if (!c->body) {
        call_free(c);
        return NULL;
    }
    return c;
}

/* The reply of a finished transfer, or NULL with the reason.  An answer that is not a
 * gateway reply, or an error reply, counts as a failure of the request. */
static json_object *call_result(struct call *c, CURLcode rc, char *err, size_t errsize)
{
    long status = 0;
    if (rc != CURLE_OK) {
        snprintf(err, errsize, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        return NULL;
    }
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    json_object *o = json_tokener_parse(sb_str(&c->reply));
    json_object *msg;
    if (status == 200 && json_object_is_type(o, json_type_object))
        return o;
    if (o && (json_object_object_get_ex(o, "message", &msg) ||
              json_object_object_get_ex(o, "error", &msg)))
        snprintf(err, errsize, "HTTP %ld: %.200s", status, json_object_get_string(msg));
    else
        snprintf(err, errsize, "HTTP %ld: not a reply of etcd's gateway", status);
    /* An expired token is fetched again on the next request. */
    if (status == 401 || strstr(err, "token")) {
        free(c->e->token);
        c->e->token = NULL;
    }
    json_object_put(o);
    return NULL;
}

/* ---- authentication ---- */

static json_object *perform(struct etcd *e, const char *path, json_object *body, char *err,
                            size_t errsize);

/* A token for the user (etcd's simple token or JWT, /v3/auth/authenticate). */
static int authenticate(struct etcd *e, char *err, size_t errsize)
{
    json_object *req = json_object_new_object(), *tok;
    json_object_object_add(req, "name", json_object_new_string(e->user));
    json_object_object_add(req, "password", json_object_new_string(e->password));
    json_object *r = perform(e, "/v3/auth/authenticate", req, err, errsize);
    json_object_put(req);
    if (r && json_object_object_get_ex(r, "token", &tok))
        e->token = strdup(json_object_get_string(tok));
    else if (r)
        snprintf(err, errsize, "authentication gave no token");
    json_object_put(r);
    return e->token ? 0 : -1;
}

/* ---- blocking ---- */

static json_object *perform(struct etcd *e, const char *path, json_object *body, char *err,
                            size_t errsize)
{
    json_object *r = NULL;
    snprintf(err, errsize, "no endpoint");
    for (size_t i = 0; i < e->nurls && !r; i++) {
        size_t at = (e->cur + i) % e->nurls;
        struct call *c = call_new(e, body);
        if (!c || !(c->easy = easy_for(e, c, e->urls[at], path))) {
            snprintf(err, errsize, "out of memory");
            if (c)
                call_free(c);
            return NULL;
        }
        CURLcode rc = curl_easy_perform(c->easy);
        char why[300];
        r = call_result(c, rc, why, sizeof(why));
        if (r)
            e->cur = at;
        else
            snprintf(err, errsize, "%s: %s", e->urls[at], why);
        call_free(c);
    }
    return r;
}

json_object *etcd_call(struct etcd *e, const char *path, json_object *body, char *err,
                       size_t errsize)
{
    if (e->user && !e->token && authenticate(e, err, errsize) < 0)
        return NULL;
    return perform(e, path, body, err, errsize);
}

/* ---- on the loop ---- */

static void unlink_call(struct call *c)
{
    for (struct call **p = &c->e->calls; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            return;
        }
}

static void on_done(CURL *easy, CURLcode rc, void *arg)
{
    struct call *c = arg;
    char err[400];
    unlink_call(c);
    json_object *r = call_result(c, rc, err, sizeof(err));
    if (r && c->msg) { /* a stream that ended without an error still ended */
        json_object_put(r);
        r = NULL;
        snprintf(err, sizeof(err), "the stream ended");
    }
    if (!r) /* the next request starts from the next endpoint */
        c->e->cur = (c->e->cur + 1) % c->e->nurls;
    c->done(c->arg, r, err);
    call_free(c);
}

static int start(struct etcd *e, const char *path, json_object *body, etcd_done_fn done,
                 etcd_msg_fn msg, void *arg)
{
    char err[300];
    /* Tokens are fetched blocking: once per connection, well within the timeout. */
    if (e->user && !e->token && authenticate(e, err, sizeof(err)) < 0)
        return -1;
    struct call *c = call_new(e, body);
    if (!c)
        return -1;
    c->done = done;
    c->msg = msg;
    c->arg = arg;
    if (!(c->easy = easy_for(e, c, e->urls[e->cur], path))) {
        call_free(c);
        return -1;
    }
    if (msg) { /* a stream lasts as long as the connection */
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
        curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    }
    if (curlev_start(c->easy, on_done, c) < 0) {
        call_free(c);
        return -1;
    }
    c->next = e->calls;
    e->calls = c;
    return 0;
}

void etcd_cancel_streams(struct etcd *e)
{
    for (struct call **p = &e->calls; *p;) {
        struct call *c = *p;
        if (!c->msg) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        curlev_cancel(c->easy);
        call_free(c);
    }
}

int etcd_call_async(struct etcd *e, const char *path, json_object *body, etcd_done_fn done,
                    void *arg)
{
    return start(e, path, body, done, NULL, arg);
}

int etcd_stream(struct etcd *e, const char *path, json_object *body, etcd_msg_fn msg,
                etcd_done_fn done, void *arg)
{
    return start(e, path, body, done, msg, arg);
}
