/* edns.c — answering the query's EDNS options.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/edns.h"

#include <string.h>

/* RFC 7873 §5.2: with cookies off the option is ignored, as by a server without them. */
static int cookie_reply(const struct answer_env *env, const struct answer_client *client,
                        const struct query *q, struct opt_reply *out, enum cookie_state *st)
{
    *st = COOKIE_MISSING;
    if (!env->cookies || !q->has_cookie)
        return -1;
    if (!cookie_len_ok(q->cookie_len)) {
        *st = COOKIE_INVALID;
        return RCODE_FORMERR; /* RFC 7873 §5.2.2 */
    }
    *st =
        cookie_check(env->cookies, q->cookie, q->cookie_len, client->src, client->now, out->cookie);
    out->cookie_present = true;
    return -1;
}

/* RFC 7828 §3.2.1: a client sends the option empty and over TCP only. */
static int keepalive_reply(const struct answer_env *env, const struct answer_client *client,
                           const struct query *q, struct opt_reply *out)
{
    if (!q->keepalive)
        return -1;
    if (!client->tcp || q->keepalive_len != 0)
        return RCODE_FORMERR;
    out->keepalive = true;
    out->keepalive_timeout = env->tcp_keepalive;
    return -1;
}

int edns_reply(const struct answer_env *env, const struct answer_client *client,
               const struct query *q, struct opt_reply *out, enum cookie_state *cookie)
{
    memset(out, 0, sizeof(*out));
    *cookie = COOKIE_MISSING;
    if (!q->edns)
        return -1;
    out->ecs.present = q->has_ecs && env->ecs;
    if (out->ecs.present)
        out->ecs.ecs = q->ecs;
    if (q->nsid && env->nsid) {
        out->nsid = env->nsid;
        out->nsid_len = env->nsid_len;
    }
    int rc = cookie_reply(env, client, q, out, cookie);
    int ka = keepalive_reply(env, client, q, out);
    return rc >= 0 ? rc : ka;
}
