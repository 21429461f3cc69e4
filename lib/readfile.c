/* readfile.c — whole regular files into memory.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An open descriptor, or -1 with the reason in *err.  O_NONBLOCK: opening a FIFO would
 * otherwise wait for a writer, forever if none comes. */
static int open_regular(const char *path, size_t max, size_t *size, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        *err = errno;
    else if (fstat(fd, &st) < 0)
        *err = errno;
    else if (!S_ISREG(st.st_mode))
        *err = READFILE_NOT_REGULAR;
    else if ((uintmax_t)st.st_size > max)
        *err = READFILE_TOO_LARGE;
    else
        *err = 0;
    if (*err && fd >= 0) {
        close(fd);
        fd = -1;
    }
    *size = *err ? 0 : (size_t)st.st_size;
    return fd;
}

/* Reads to the end: the file may have grown or shrunk since fstat. */
static int read_fd(int fd, size_t expect, size_t max, char **text, size_t *len)
{
    size_t cap = expect + 1, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            return ENOMEM;
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int err = errno;
            free(buf);
            return err;
        }
        n += (size_t)got;
        if (got == 0)
            break;
        if (n > max) {
            free(buf);
            return READFILE_TOO_LARGE;
        }
        if (n == cap) {
            cap *= 2;
            char *more = realloc(buf, cap + 1);
            if (!more)
                free(buf);
            buf = more;
        }
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int readfile(const char *path, size_t max, char **text, size_t *len)
{
    size_t size;
    int err;
    *text = NULL;
    *len = 0;
    int fd = open_regular(path, max, &size, &err);
    if (fd < 0)
        return err;
    err = read_fd(fd, size, max, text, len);
    close(fd);
    return err;
}

int readfile_check(const char *path)
{
    size_t size;
    int err;
    int fd = open_regular(path, SIZE_MAX, &size, &err);
    if (fd >= 0)
        close(fd);
    return err;
}

const char *readfile_strerror(int err)
{
    switch (err) {
    case READFILE_NOT_REGULAR:
        return "it is not a regular file";
    case READFILE_TOO_LARGE:
        return "it is too large";
    default:
        return strerror(err);
    }
}
