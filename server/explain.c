/* explain.c — runs real queries for the name with a tracing client and prints the steps
 * and the responses, so the explanation is exactly what the server would answer.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/explain.h"
#include "geoip/dyn.h"
#include "zones/answer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#define EDNS_OPT_ECS 8

/* A query in wire form: EDNS with an ECS option when the client is a subnet. */
static uint8_t *build_query(const char *name, ldns_rr_type type, const struct dyn_client *c,
                            size_t *len)
{
    ldns_pkt *q = NULL;
    if (ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK)
        return NULL;
    ldns_pkt_set_edns_udp_size(q, 1232);
    if (c->ecs) {
        uint8_t opt[4 + 4 + 16];
        size_t addrlen = ((size_t)c->bits + 7) / 8;
        opt[0] = 0;
        opt[1] = EDNS_OPT_ECS;
        opt[2] = 0;
        opt[3] = (uint8_t)(4 + addrlen);
        opt[4] = 0;
        opt[5] = c->family == AF_INET ? 1 : 2;
        opt[6] = c->bits;
        opt[7] = 0;
        memcpy(opt + 8, c->addr, addrlen);
        ldns_pkt_set_edns_data(q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 8 + addrlen, opt));
    }
    uint8_t *wire = NULL;
    if (ldns_pkt2wire(&wire, q, len) != LDNS_STATUS_OK)
        wire = NULL;
    ldns_pkt_free(q);
    return wire;
}

static void source_of(const struct dyn_client *c, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (c->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        memcpy(&s->sin_addr, c->addr, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, c->addr, 16);
    }
}

static void print_response(const uint8_t *wire, size_t len, struct diag *out)
{
    ldns_pkt *p = NULL;
    if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK) {
        diag_note(out, "(the response could not be parsed)");
        return;
    }
    char *text = ldns_pkt2str(p);
    /* Keep the sections; the dig-style footer (time, server, size) means nothing here. */
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, ";; WHEN:", 8) && strncmp(line, ";; Query time", 13) &&
            strncmp(line, ";; SERVER:", 10) && strncmp(line, ";; MSG SIZE", 11))
            diag_note(out, "%s", line);
    }
    free(text);
    ldns_pkt_free(p);
}

static void explain_type(const struct view *v, const char *name, ldns_rr_type type,
                         const struct dyn_client *c, struct dyn_scratch *ws, struct diag *out)
{
    size_t qlen;
    uint8_t *q = build_query(name, type, c, &qlen);
    if (!q) {
        diag_error(out, NULL, 0, 0, "\"%s\" is not a domain name", name);
        return;
    }
    struct sockaddr_storage ss;
    source_of(c, &ss);
    /* A subnet arrives as ECS from a resolver somewhere else; a plain address is the
     * packet's source. */
    struct answer_client client = {(const struct sockaddr *)&ss, false, ws, out, NULL};
    static uint8_t resp[ANSWER_TCP_MAX];
    struct answer_info info;
    diag_note(out, "--- %s %s for %s%s", name, type == LDNS_RR_TYPE_A ? "A" : "AAAA",
              c->ecs ? "ECS " : "", c->ecs ? "subnet" : "source address");
    size_t len = answer_query(&v->env, q, qlen, resp, &client, &info);
    free(q);
    if (len)
        print_response(resp, len, out);
}

int explain(const struct view *v, const char *name, const char *client, struct diag *out)
{
    struct dyn_client c;
    if (!dyn_client_parse(client, &c)) {
        diag_error(out, NULL, 0, 0,
                   "\"%s\" is not an IP address; write e.g. 192.0.2.7, 2001:db8::1 or "
                   "198.51.100.0/24 (a subnet is sent as EDNS Client Subnet)",
                   client);
        return -1;
    }
    struct dyn_scratch *ws = dyn_scratch_new();
    if (!ws)
        return -1;
    unsigned errors = out->errors;
    explain_type(v, name, LDNS_RR_TYPE_A, &c, ws, out);
    if (out->errors == errors)
        explain_type(v, name, LDNS_RR_TYPE_AAAA, &c, ws, out);
    dyn_scratch_free(ws);
    return out->errors == errors ? 0 : -1;
}
