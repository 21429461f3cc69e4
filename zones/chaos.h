/* chaos.h — the CHAOS-class names a server answers about itself (RFC 4892): id.server. and
 * hostname.bind. with the configured identity, version.server. and version.bind. with the
 * configured version; each only when configured.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "zones/answer.h"
#include "zones/packet.h"
#include "zones/response.h"

#define CLASS_CH 3

/* Answers q, a query of class CH, into r: one TXT record, or REFUSED. */
void chaos_answer(const struct answer_env *env, const struct query *q, struct response *r);
