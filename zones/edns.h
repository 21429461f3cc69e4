/* edns.h — the options of a response's OPT record, decided from the query's options and
 * the config: Client Subnet (RFC 7871), NSID (RFC 5001), COOKIE (RFC 7873, RFC 9018) and
 * edns-tcp-keepalive (RFC 7828).
 * SPDX-License-Identifier: MIT */
#pragma once

#include "zones/answer.h"
#include "zones/packet.h"
#include "zones/response.h"

/* Fills out for q from client, and *cookie with what q's cookie proved.  Returns the
 * rcode q must get instead of an answer (FORMERR for a malformed cookie, or for a
 * keepalive option sent over UDP or with a value), or -1. */
int edns_reply(const struct answer_env *env, const struct answer_client *client,
               const struct query *q, struct opt_reply *out, enum cookie_state *cookie);
