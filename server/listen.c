/* listen.c — socket options for the query listeners.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool listen_is_wildcard(const struct conf_listen *l)
{
    if (l->addr.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&l->addr;
        return s->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->addr;
    return memcmp(&s6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0;
}

static int opt_on(int fd, int level, int name)
{
    int one = 1;
    return setsockopt(fd, level, name, &one, sizeof(one));
}

static int open_bound(const struct conf_listen *l, int type, struct diag *d)
{
    int fd = socket(l->addr.ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        diag_error(d, NULL, 0, 0, "%s: cannot create a socket: %s", l->text, strerror(errno));
        return -1;
    }
    /* One socket per family: "[::]:53" must not also claim IPv4 from "0.0.0.0:53".
     * Only UDP shares its port among our workers; TCP binds alone, so a second server
     * started on the same address fails there instead of silently stealing datagrams. */
    if ((l->addr.ss_family == AF_INET6 && opt_on(fd, IPPROTO_IPV6, IPV6_V6ONLY) < 0) ||
        opt_on(fd, SOL_SOCKET, SO_REUSEADDR) < 0 ||
        (type == SOCK_DGRAM && opt_on(fd, SOL_SOCKET, SO_REUSEPORT) < 0)) {
        diag_error(d, NULL, 0, 0, "%s: cannot set socket options: %s", l->text, strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0) {
        diag_error(d, NULL, 0, 0, "cannot listen on %s (%s): %s%s", l->text,
                   type == SOCK_DGRAM ? "UDP" : "TCP", strerror(errno),
                   errno == EACCES       ? "; ports below 1024 need root or CAP_NET_BIND_SERVICE"
                   : errno == EADDRINUSE ? "; another server holds this port"
                                         : "");
        close(fd);
        return -1;
    }
    return fd;
}

/* A burst arriving while the worker is busy waits in this buffer; the kernel's default
 * (about 200 KiB) drops queries under load.  SO_RCVBUFFORCE passes rmem_max when we may. */
static void size_receive_buffer(int fd, unsigned bytes)
{
    int v = (int)bytes;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

int listen_udp(const struct conf_listen *l, unsigned rcvbuf, struct diag *d)
{
    int fd = open_bound(l, SOCK_DGRAM, d);
    if (fd >= 0 && rcvbuf)
        size_receive_buffer(fd, rcvbuf);
    if (fd < 0 || !listen_is_wildcard(l))
        return fd;
    int rc = l->addr.ss_family == AF_INET ? opt_on(fd, IPPROTO_IP, IP_PKTINFO)
                                          : opt_on(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO);
    if (rc < 0) {
        diag_error(d, NULL, 0, 0, "%s: cannot enable packet info: %s", l->text, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int listen_tcp(const struct conf_listen *l, unsigned backlog, struct diag *d)
{
    int fd = open_bound(l, SOCK_STREAM, d);
    if (fd < 0)
        return -1;
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || listen(fd, (int)backlog) < 0) {
        diag_error(d, NULL, 0, 0, "%s: cannot listen: %s", l->text, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
