/* strbuf.h — a growing string for replies and reports, with JSON string escaping.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/compiler.h"

struct strbuf {
    char *s; /* NUL-terminated; NULL until something is added */
    size_t len, cap;
    bool failed; /* an allocation failed: the text is incomplete */
};

void sb_init(struct strbuf *b);
void sb_free(struct strbuf *b);
void sb_add(struct strbuf *b, const char *s, size_t n);
void sb_puts(struct strbuf *b, const char *s);
void sb_printf(struct strbuf *b, const char *fmt, ...) F_PRINTF(2, 3);
/* Appends s as a JSON string, quotes included (RFC 8259 §7). */
void sb_json_str(struct strbuf *b, const char *s);
/* The text so far ("" when empty). */
const char *sb_str(const struct strbuf *b);
