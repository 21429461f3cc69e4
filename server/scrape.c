/* scrape.c — a small HTTP/1.x responder for Prometheus.  A scrape is one short request,
 * so each connection gets one reply and is closed.  Every connection has one deadline for
 * its whole request and another for its whole reply, so a client that trickles a byte at
 * a time is cut off like a silent one.  At the cap on connections the oldest one is closed
 * for the newcomer: idle clients cannot keep a real scrape out, and a scrape takes
 * milliseconds, so it is never the oldest for long.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/scrape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>

#define HEADERS_MAX     8192 /* bytes of request line and headers */
#define REQUEST_TIMEOUT 10   /* seconds from accept to the end of the headers */
#define REPLY_TIMEOUT   10   /* seconds for the client to take the whole reply */
#define MAX_CLIENTS     64

struct client {
    struct client *prev, *next;
    struct bufferevent *bev;
    struct event *deadline;
    bool replied;
};

static struct {
    struct evconnlistener *listener;
    struct event_base *base;
    scrape_render_fn render;
    struct client *list;
    unsigned clients;
} g;

static void client_free(struct client *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        g.list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    event_free(c->deadline);
    free(c);
    g.clients--;
}

static void arm(struct client *c, int seconds)
{
    struct timeval tv = {seconds, 0};
    evtimer_add(c->deadline, &tv);
}

static void send_reply(struct client *c, const char *status, const char *extra, const char *body,
                       size_t len, bool head)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        status, extra, len);
    if (!head)
        evbuffer_add(out, body, len);
    c->replied = true;
    bufferevent_disable(c->bev, EV_READ);
    arm(c, REPLY_TIMEOUT);
}

static void send_error(struct client *c, const char *status, const char *extra, const char *why)
{
    send_reply(c, status, extra, why, strlen(why), false);
}

static void serve(struct client *c, bool head)
{
    struct strbuf b;
    sb_init(&b);
    g.render(&b);
    if (b.failed)
        send_error(c, "500 Internal Server Error", "", "out of memory\n");
    else
        send_reply(c, "200 OK", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
                   sb_str(&b), b.len, head);
    sb_free(&b);
}

/* The request line "METHOD TARGET HTTP/1.x"; the headers that follow are not needed. */
static void answer(struct client *c, char *line)
{
    char *method = strtok(line, " "), *target = strtok(NULL, " "), *version = strtok(NULL, " ");
    if (!method || !target || !version || strtok(NULL, " ") || strncmp(version, "HTTP/1.", 7)) {
        send_error(c, "400 Bad Request", "", "bad request line\n");
        return;
    }
    size_t plen = strcspn(target, "?");
    if (plen != 8 || strncmp(target, "/metrics", 8)) {
        send_error(c, "404 Not Found", "", "only /metrics is served here\n");
        return;
    }
    bool head = !strcmp(method, "HEAD");
    if (!head && strcmp(method, "GET"))
        send_error(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "use GET or HEAD\n");
    else
        serve(c, head);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0)
        end = evbuffer_search(in, "\n\n", 2, NULL);
    if (end.pos < 0 ? evbuffer_get_length(in) > HEADERS_MAX : end.pos >= HEADERS_MAX) {
        send_error(c, "400 Bad Request", "", "request headers too long\n");
        return;
    }
    if (end.pos < 0)
        return;
    char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF);
    if (line)
        answer(c, line);
    else
        send_error(c, "500 Internal Server Error", "", "out of memory\n");
    free(line);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct client *c = arg;
    if (c->replied)
        client_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    client_free(arg);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    (void)arg;
    if (g.clients >= MAX_CLIENTS) {
        struct client *oldest = g.list;
        while (oldest->next)
            oldest = oldest->next;
        client_free(oldest);
    }
    struct client *c = calloc(1, sizeof(*c));
    struct bufferevent *bev = c ? bufferevent_socket_new(g.base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *deadline = bev ? evtimer_new(g.base, on_deadline, c) : NULL;
    if (!deadline) {
        if (bev)
            bufferevent_free(bev);
        else
            close(fd);
        free(c);
        return;
    }
    c->bev = bev;
    c->deadline = deadline;
    c->next = g.list;
    if (g.list)
        g.list->prev = c;
    g.list = c;
    g.clients++;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    arm(c, REQUEST_TIMEOUT);
}

/* HOST:PORT or [IPv6]:PORT, HOST a name or an address, resolved once. */
static struct evutil_addrinfo *resolve(const char *addr)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return NULL;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM,
                                    .ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV},
                           *res = NULL;
    return evutil_getaddrinfo(host, colon + 1, &hints, &res) == 0 ? res : NULL;
}

int scrape_start(struct event_base *base, const char *addr, scrape_render_fn render, struct diag *d)
{
    struct evutil_addrinfo *ai = resolve(addr);
    g.base = base;
    g.render = render;
    g.listener = ai ? evconnlistener_new_bind(base, on_accept, NULL,
                                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                                  LEV_OPT_CLOSE_ON_EXEC,
                                              128, ai->ai_addr, (int)ai->ai_addrlen)
                    : NULL;
    if (ai)
        evutil_freeaddrinfo(ai);
    if (!g.listener) {
        diag_error(d, NULL, 0, 0,
                   "cannot serve metrics on %s: the address is in use or not "
                   "local",
                   addr);
        return -1;
    }
    return 0;
}

void scrape_stop(void)
{
    while (g.list)
        client_free(g.list);
    if (g.listener)
        evconnlistener_free(g.listener);
    g.listener = NULL;
}
