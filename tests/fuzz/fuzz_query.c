/* fuzz_query.c — libFuzzer target: arbitrary packets answered from a loaded world (zones
 * with every answer path, dynamic names of every policy, operator networks, optional GeoIP
 * fixtures), over UDP and TCP, with every response checked (fuzz_common.h).
 *
 * Input: one control byte, then the DNS message as it arrives (TCP without its length).
 *   bits 0-1  source address: 0 none, 1 IPv4, 2 IPv6, 3 IPv4-mapped IPv6
 *   bits 2-4  which address of that family (the table below)
 *   bit  5    answer with ecs: false (the config's geoip.ecs)
 *   bit  6    answer over TCP first, then UDP (else UDP first)
 *   bit  7    also answer with a trace, as `meridianctl explain` does
 *
 * Each answer is computed twice, into an output buffer filled first with copies of the
 * message's first 64 bytes and then with their complement, with the same random stream: the two
 * responses must be identical.  A response that depends on what the buffer held before (the server
 * reuses its buffers) is a bug, and this makes it reproducible from one input.
 * SPDX-License-Identifier: MIT */
#include "tests/fuzz/fuzz_common.h"

#include "geoip/dyntypes.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static struct view *world;
static struct dyn_scratch *ws;
/* udp.c answers into UDP_OUT (4096) bytes, tcp.c into ANSWER_TCP_MAX: the same here, each
 * allocated to the byte so that ASan sees any access past it. */
#define UDP_OUT 4096
static uint8_t *out_udp, *out_tcp, *out, *first;
static size_t out_size;
static bool print; /* MERIDIAN_FUZZ_PRINT=1: show each response (2: and its bytes) */

/* Sources that land in operator networks, GeoIP fixture networks, the latency table and
 * nowhere at all. */
static const char *const v4_sources[8] = {"11.1.1.7",   "11.3.3.3", "11.5.5.5", "10.20.1.1",
                                          "11.12.34.5", "45.1.2.3", "12.1.1.9", "127.0.0.1"};
static const char *const v6_sources[8] = {"2a02:2000:ffff::1", "2600:1000:2000::1",
                                          "2a01:1000::1",      "2001:db8:ee::5",
                                          "2001:db8:77::1",    "::1",
                                          "2a02:2000::abc",    "fe80::1"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_note_argv0(argc, argv);
    world = fuzz_world();
    ws = dyn_scratch_new();
    out_udp = malloc(UDP_OUT);
    out_tcp = malloc(ANSWER_TCP_MAX);
    first = malloc(ANSWER_TCP_MAX);
    print = getenv("MERIDIAN_FUZZ_PRINT") && *getenv("MERIDIAN_FUZZ_PRINT") >= '1';
    if (!ws || !out_udp || !out_tcp || !first)
        abort();
    return 0;
}

static void source_of(uint8_t ctl, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    unsigned kind = ctl & 3, idx = (ctl >> 2) & 7;
    if (kind == 1 || kind == 3) {
        struct in_addr a4;
        inet_pton(AF_INET, v4_sources[idx], &a4);
        if (kind == 1) {
            struct sockaddr_in *s = (struct sockaddr_in *)ss;
            s->sin_family = AF_INET;
            s->sin_addr = a4;
            return;
        }
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_addr.s6_addr[10] = s->sin6_addr.s6_addr[11] = 0xFF;
        memcpy(s->sin6_addr.s6_addr + 12, &a4, 4);
    } else if (kind == 2) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        inet_pton(AF_INET6, v6_sources[idx], &s->sin6_addr);
    }
}

/* Fills the output buffer with copies of msg, each byte xor-ed with mask. */
static void fill(const uint8_t *msg, size_t len, uint8_t mask)
{
    size_t n = len < 64 ? len : 64, done;
    if (n == 0) {
        memset(out, mask, out_size);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(msg[i] ^ mask);
    for (done = n; done * 2 <= out_size; done *= 2)
        memcpy(out + done, out, done);
    memcpy(out + done, out, out_size - done);
}

static size_t answer_once(const struct answer_env *env, const uint8_t *msg, size_t len,
                          const struct sockaddr *src, bool tcp, struct diag *trace, uint8_t mask,
                          struct answer_info *info)
{
    struct answer_client client = {src, tcp, ws, trace, NULL};
    out = tcp ? out_tcp : out_udp;
    out_size = tcp ? ANSWER_TCP_MAX : UDP_OUT;
    fill(msg, len, mask);
    ws->rng = 0x9E3779B97F4A7C15ULL; /* the same weighted picks and shuffles both times */
    memset(info, 0, sizeof(*info));
    return answer_query(env, msg, len, out, &client, info);
}

static void ask(const struct answer_env *env, const uint8_t *msg, size_t len,
                const struct sockaddr *src, bool tcp, struct diag *trace)
{
    struct answer_info info;
    size_t rlen1 = answer_once(env, msg, len, src, tcp, NULL, 0x00, &info);
    fuzz_check_response(env, msg, len, out, rlen1, tcp);
    memcpy(first, out, rlen1);
    size_t rlen = answer_once(env, msg, len, src, tcp, trace, 0xFF, &info);
    fuzz_assert(rlen == rlen1 && memcmp(first, out, rlen) == 0,
                "the %s response (%zu bytes, then %zu) depends on what the output buffer held "
                "before: a read of bytes the writer had not written",
                tcp ? "TCP" : "UDP", rlen1, rlen);
    fuzz_check_response(env, msg, len, out, rlen, tcp);
    fuzz_assert(info.dropped == (rlen == 0), "info.dropped %d for a %zu-byte response",
                info.dropped, rlen);
    if (rlen)
        fuzz_assert(info.truncated == ((out[2] & 0x02) != 0), "info.truncated disagrees with TC");
    if (print)
        fuzz_print(out, rlen, tcp ? "TCP" : "UDP", trace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    /* A copy of exactly the message's size, so that ASan sees any read past its end. */
    size_t len = size - 1;
    uint8_t *msg = malloc(len ? len : 1);
    if (!msg)
        return 0;
    memcpy(msg, data + 1, len);

    struct sockaddr_storage ss;
    source_of(ctl, &ss);
    const struct sockaddr *src = (ctl & 3) ? (const struct sockaddr *)&ss : NULL;
    struct answer_env env = world->env;
    if (ctl & 0x20)
        env.ecs = false;
    bool tcp_first = (ctl & 0x40) != 0;
    ask(&env, msg, len, src, tcp_first, NULL);
    ask(&env, msg, len, src, !tcp_first, NULL);
    if (ctl & 0x80) {
        struct diag trace;
        diag_init(&trace);
        ask(&env, msg, len, src, false, &trace);
        diag_free(&trace);
    }
    free(msg);
    return 0;
}
