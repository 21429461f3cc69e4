/* rrl.h — response rate limiting for UDP, so the server is a poor amplifier: responses
 * are counted per client network, response kind and name, and past the configured rate
 * they are dropped, every Nth one sent truncated instead so a real client retries over
 * TCP (the scheme NSD and Knot call RRL).  One table per worker, no shared state: the
 * kernel spreads a client's random source ports over the workers of an address, so each
 * worker allows its share of the rate.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include "lib/compiler.h"
#include "server/conf.h"
#include "zones/answer.h"

struct rrl;

enum rrl_verdict { RRL_SEND, RRL_SLIP, RRL_DROP };

struct rrl *rrl_new(void) F_WUNUSED;
void rrl_free(struct rrl *r);

/* The verdict for the response resp to src described by info, at second now
 * (monotonic), for a worker that is one of shares serving the address. */
enum rrl_verdict rrl_check(struct rrl *r, const struct conf_rrl *cfg, unsigned shares,
                           const struct sockaddr *src, const struct answer_info *info,
                           const uint8_t *resp, uint32_t now);
