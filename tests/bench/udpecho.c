/* udpecho.c — the ceiling of the benchmark: a UDP server that does no DNS work.
 *
 * It receives datagrams in batches with recvmmsg, sets the QR bit of each and sends it
 * back with sendmmsg, as a DNS server with nothing to look up would.  Pinned and driven
 * like the servers, its rate is what the kernel and the loopback path allow one core on
 * this machine: no server can pass it.
 *
 * Usage: udpecho PORT   (binds 127.0.0.1:PORT; runs until killed)
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH    64
#define DGRAM    4096
#define SOCK_BUF (4 << 20)

static uint8_t buf[BATCH][DGRAM];
static struct sockaddr_in from[BATCH];
static struct iovec iov[BATCH];
static struct mmsghdr msg[BATCH];

static int open_socket(unsigned port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int size = SOCK_BUF;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -1;
    return fd;
}

/* Every slot ready to receive a full datagram again. */
static void reset(void)
{
    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = DGRAM};
        msg[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                         .msg_namelen = sizeof(from[i]),
                                         .msg_iov = &iov[i],
                                         .msg_iovlen = 1};
    }
}

int main(int argc, char **argv)
{
    char *end = NULL;
    unsigned long port = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || !end || *end || port == 0 || port > 65535) {
        fprintf(stderr, "usage: udpecho PORT\n");
        return 2;
    }
    int fd = open_socket((unsigned)port);
    if (fd < 0) {
        fprintf(stderr, "udpecho: 127.0.0.1:%lu: %s\n", port, strerror(errno));
        return 1;
    }
    for (;;) {
        reset();
        int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("udpecho: recvmmsg");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            iov[i].iov_len = msg[i].msg_len;
            if (msg[i].msg_len > 2)
                buf[i][2] |= 0x80; /* QR: a response */
        }
        for (int sent = 0; sent < n;) {
            int k = sendmmsg(fd, msg + sent, (unsigned)(n - sent), 0);
            if (k < 0 && errno != EINTR)
                break; /* a full socket buffer loses these, as it would a server's */
            sent += k > 0 ? k : 0;
        }
    }
}
