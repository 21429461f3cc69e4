/* chaos.c — CHAOS TXT answers about the server itself.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/chaos.h"

#include <string.h>

#define TYPE_TXT 16
#define TYPE_ANY 255

/* The text for the lower-case name q asks for, or NULL when we do not answer it. */
static const char *chaos_text(const struct answer_env *env, const struct query *q)
{
    static const struct {
        const char *wire;
        size_t len;
        bool identity;
    } names[] = {
        {"\2id\6server", 11, true},
        {"\10hostname\4bind", 15, true},
        {"\7version\6server", 16, false},
        {"\7version\4bind", 14, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (q->qname_len == names[i].len && memcmp(q->qname, names[i].wire, names[i].len) == 0)
            return names[i].identity ? env->identity : env->version;
    return NULL;
}

void chaos_answer(const struct answer_env *env, const struct query *q, struct response *r)
{
    const char *text = chaos_text(env, q);
    if (!text || (q->qtype != TYPE_TXT && q->qtype != TYPE_ANY)) {
        r->rcode = RCODE_REFUSED;
        return;
    }
    /* One character-string: the config allows at most 255 bytes. */
    uint8_t rdata[256];
    size_t n = strlen(text);
    rdata[0] = (uint8_t)n;
    memcpy(rdata + 1, text, n);
    struct owner o = {NULL, DNS_HEADER}; /* the name in the question */
    r->rclass = CLASS_CH; /* AA stays clear: no zone holds these names, as in NSD and Knot */
    /* TTL 0: the answer is about this server, and another behind the same address may
     * answer the next query. */
    if (!resp_put_rr(r, SEC_ANSWER, o, TYPE_TXT, 0, rdata, n + 1))
        resp_truncate(r);
}
