/* cookie_secret.h — the secrets server cookies are made with (RFC 9018 §5): a file shared
 * by the nodes of a fleet, or random bytes that last as long as the process.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/cookie.h"

/* Reads path: one secret of 32 hex digits per line, the current first and, during a
 * rotation, the previous one second.  The file must not be readable by others.  False,
 * with the reason in d (at conf:line:col when the file cannot be read at all, else at
 * path:line), when it is unusable. */
bool cookie_secret_read(const char *path, struct cookie_secrets *out, struct diag *d,
                        const char *conf, unsigned line, unsigned col) F_WUNUSED;

/* This process's own random secret, the same on every call (a reload keeps the cookies
 * clients hold valid).  False when the system has no random bytes to give. */
bool cookie_secret_random(struct cookie_secrets *out) F_WUNUSED;
