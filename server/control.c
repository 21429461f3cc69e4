/* control.c — the control socket: a Unix stream socket, one request line per connection,
 * a status line and a reply back, then close.  Clients are bounded in number, line length
 * and time, so a slow or hostile one cannot stall the server.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/control.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "server/commands.h"
#include "server/ctlproto.h"
#include "server/daemon.h"
#include "server/privilege.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define MAX_CLIENTS 64
#define MAX_REFUSED 64 /* told "too many" at once; past both, a connection is just closed */
/* Each deadline covers a whole phase, not the time between two bytes, so a client that
 * trickles a byte at a time is cut off all the same. */
#define LINE_TIMEOUT    10 /* seconds from accept to the end of the request line */
#define REPLY_TIMEOUT   10 /* seconds from the reply to the client having read it all */
#define REFUSED_TIMEOUT 2  /* seconds for a refused client to read why and go */

#define STR_(x) #x
#define STR(x)  STR_(x)

struct client {
    struct client *prev, *next;
    struct bufferevent *bev;
    struct event *deadline;
    bool replied;
    bool refused; /* over MAX_CLIENTS: told so, then closed once it stops sending */
    bool waiting; /* for a reload running on its own thread */
    struct command cmd;
};

static struct {
    struct event_base *base;
    struct evconnlistener *listener;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct client *list;
    unsigned clients, refused;
} g;

static void client_free(struct client *c)
{
    if (c->waiting)
        daemon_reload_forget(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        g.list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_free(c->bev);
    event_free(c->deadline);
    if (c->refused)
        g.refused--;
    else
        g.clients--;
    free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_free(arg);
}

static void arm(struct client *c, int seconds)
{
    struct timeval tv = {seconds, 0};
    evtimer_add(c->deadline, &tv);
}

/* Sends the status line and the body, then closes once it has gone out. */
static void reply(struct client *c, bool ok, const char *body)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "%s\n", ok ? CTL_STATUS_OK : CTL_STATUS_ERROR);
    size_t n = strlen(body);
    evbuffer_add(out, body, n);
    if (n && body[n - 1] != '\n')
        evbuffer_add(out, "\n", 1);
    c->replied = true;
    if (!c->refused)
        bufferevent_disable(c->bev, EV_READ);
    arm(c, REPLY_TIMEOUT);
}

static void reloaded(void *arg, int rc, const char *text)
{
    struct client *c = arg;
    struct strbuf out;
    sb_init(&out);
    c->waiting = false;
    bool ok = command_reload_reply(&c->cmd, rc, text, &out);
    reply(c, ok && !out.failed, out.failed ? "out of memory" : sb_str(&out));
    sb_free(&out);
}

/* A reload runs on a thread of its own; the client hears when it is over, however long
 * that takes, so its line's deadline no longer applies. */
static void defer(struct client *c, const struct command *cmd)
{
    c->cmd = *cmd;
    if (daemon_reload_start(reloaded, c) < 0) {
        reply(c, false, "cannot start a reload now; try again");
        return;
    }
    c->waiting = true;
    bufferevent_disable(c->bev, EV_READ);
    evtimer_del(c->deadline);
}

static void run_line(struct client *c, const char *line, size_t len)
{
    struct command cmd;
    char err[512];
    if (command_parse(line, len, &cmd, err, sizeof(err)) < 0) {
        reply(c, false, err);
        return;
    }
    if (command_is_deferred(&cmd)) {
        defer(c, &cmd);
        return;
    }
    struct strbuf out;
    sb_init(&out);
    bool ok = command_run(&cmd, &out);
    reply(c, ok && !out.failed, out.failed ? "out of memory" : sb_str(&out));
    sb_free(&out);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->refused) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    size_t len;
    char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
    /* A line and its newline, or the part that has come without one, over CTL_LINE_MAX. */
    if (line ? len >= CTL_LINE_MAX : evbuffer_get_length(in) > CTL_LINE_MAX) {
        reply(c, false, "request line longer than " STR(CTL_LINE_MAX) " bytes: refused");
    } else if (line) {
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        run_line(c, line, len);
    }
    free(line);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    /* A refused client may still be sending its line: closing now, with its bytes unread,
     * would reset the connection before it read why.  It gets an end of file instead and
     * is closed when it closes, or at its deadline. */
    if (c->refused)
        shutdown(bufferevent_getfd(bev), SHUT_WR);
    else if (c->replied)
        client_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    if (c->replied && !c->refused && !(what & BEV_EVENT_ERROR) &&
        evbuffer_get_length(bufferevent_get_output(bev)))
        return; /* the peer half-closed: the reply still goes out */
    client_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    bool refuse = g.clients >= MAX_CLIENTS;
    if (refuse && g.refused >= MAX_REFUSED) {
        close(fd);
        return;
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
    c->refused = refuse;
    c->next = g.list;
    if (g.list)
        g.list->prev = c;
    g.list = c;
    if (refuse)
        g.refused++;
    else
        g.clients++;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (refuse) {
        reply(c, false, "too many control clients at once; try again");
        arm(c, REFUSED_TIMEOUT);
    } else {
        arm(c, LINE_TIMEOUT);
    }
}

/* A socket file left by a crash is replaced; one a live server answers on is not. */
static int claim_path(const char *path, struct diag *d)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    int err = errno;
    close(fd);
    if (rc == 0) {
        diag_error(d, NULL, 0, 0,
                   "another meridiand is running on the control socket %s; stop it first, or "
                   "give this one another server.control",
                   path);
        return -1;
    }
    if (err == ECONNREFUSED && unlink(path) < 0 && errno != ENOENT) {
        diag_error(d, NULL, 0, 0, "cannot remove the stale control socket %s: %s", path,
                   strerror(errno));
        return -1;
    }
    return 0;
}

static int set_group(const char *path, const char *group, struct diag *d)
{
    if (!group)
        return 0;
    struct group *gr = getgrnam(group);
    if (!gr || chown(path, (uid_t)-1, gr->gr_gid) < 0) {
        diag_error(d, NULL, 0, 0, "cannot give the control socket %s to group %s: %s", path, group,
                   gr ? strerror(errno) : "no such group");
        return -1;
    }
    return 0;
}

static int bind_socket(const char *path, struct diag *d)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    /* The umask makes the socket 0660 from the start: no moment when others may connect. */
    mode_t old = umask(0117);
    int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0 || listen(fd, 16) < 0) {
        diag_error(d, NULL, 0, 0, "cannot create the control socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int control_start(struct event_base *base, const struct config *c, struct diag *d)
{
    if (!c->server.control)
        return 0;
    g.base = base;
    snprintf(g.path, sizeof(g.path), "%s", c->server.control);
    if (claim_path(g.path, d) < 0)
        return -1;
    int fd = bind_socket(g.path, d);
    if (fd < 0)
        return -1;
    if (privilege_give(g.path, c, d) < 0 || set_group(g.path, c->server.control_group, d) < 0) {
        close(fd);
        unlink(g.path);
        return -1;
    }
    g.listener = evconnlistener_new(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!g.listener) {
        close(fd);
        unlink(g.path);
        return -1;
    }
    return 0;
}

void control_stop(void)
{
    while (g.list)
        client_free(g.list);
    if (!g.listener)
        return;
    evconnlistener_free(g.listener);
    g.listener = NULL;
    unlink(g.path);
}
