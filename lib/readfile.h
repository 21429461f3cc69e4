/* readfile.h — whole files, read only when they are regular files: a FIFO or a device put
 * where a zone, config or database belongs must give an error, not hang the server.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "lib/compiler.h"

#define READFILE_NOT_REGULAR (-1) /* a directory, FIFO, socket or device */
#define READFILE_TOO_LARGE   (-2) /* more than the caller's max bytes */

/* Reads the regular file at path, at most max bytes, into *text (malloc'd, NUL-terminated,
 * *len bytes before the NUL).  0, or an errno value or READFILE_* (*text NULL). */
int readfile(const char *path, size_t max, char **text, size_t *len) F_WUNUSED;

/* 0 when path is a regular file that can be opened for reading; an error as readfile's. */
int readfile_check(const char *path) F_WUNUSED;

/* The reason for err as a phrase: "it is not a regular file", or strerror's. */
const char *readfile_strerror(int err);
