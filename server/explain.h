/* explain.h — what a client would get for a name, and why: the database record, the
 * place, each policy step with the regions' state, and the answer itself.  Behind
 * `meridiand --explain` and the control socket's `explain`.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/view.h"

/* Explains name (presentation form) for client ("192.0.2.7" as a packet source, or
 * "198.51.100.0/24" as an EDNS Client Subnet) into out, one step per line.  Returns 0,
 * or -1 with the reason in out when the arguments are not a name and an address. */
int explain(const struct view *v, const char *name, const char *client, struct diag *out) F_WUNUSED;
