/* diag.h — collects the errors and warnings of one load (config, zones, state) so that
 * every problem is reported at once, with its place, to whoever asked: the terminal for
 * `meridiand -t`, the log on start-up and SIGHUP, the control socket on `reload`.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "lib/compiler.h"

struct diag {
    char *text; /* every message so far, one per line, NUL-terminated */
    size_t len, cap;
    unsigned errors, warnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);

/* "file:line:col: error: message". line or col 0 leaves that part out; file NULL too. */
void diag_error(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
    F_PRINTF(5, 6);
void diag_warn(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
    F_PRINTF(5, 6);
/* A plain informational line, such as a summary. */
void diag_note(struct diag *d, const char *fmt, ...) F_PRINTF(2, 3);

/* Appends every message of src to d and adds its counts. */
void diag_merge(struct diag *d, const struct diag *src);
