/* fleetstate.c — keys and values of the fleet's shared state, parsed strictly.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/fleetstate.h"
#include "server/ctlproto.h"

#include <stdio.h>
#include <string.h>

/* Copies the next '/'-separated part of *p into out; false when it is empty, too long or
 * holds a character names may not have. */
static bool take_name(const char **p, char *out, size_t size, bool address)
{
    size_t n = 0;
    for (; **p && **p != '/'; (*p)++) {
        char c = **p;
        bool ok = address ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                (c >= 'A' && c <= 'F') || c == ':' || c == '.'
                          : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.';
        if (!ok || n + 1 >= size)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    if (**p == '/' && !*++*p)
        return false; /* a trailing '/' names nothing */
    return n > 0;
}

static bool parse_weight(const char *v, long *out)
{
    long n = 0;
    if (!*v || strlen(v) > 7)
        return false;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return false;
        n = n * 10 + (*v - '0');
    }
    *out = n;
    return n <= CTL_WEIGHT_MAX;
}

static int bad(char *err, size_t size, const char *what)
{
    snprintf(err, size, "%s", what);
    return -1;
}

static int parse_state(const char *p, const char *value, struct fleetstate_entry *e, char *err,
                       size_t size)
{
    if (!strncmp(p, "weight/", 7)) {
        p += 7;
        e->kind = FS_WEIGHT;
        if (!take_name(&p, e->service, sizeof(e->service), false) ||
            !take_name(&p, e->region, sizeof(e->region), false) || *p)
            return bad(err, size, "the key must read state/weight/SERVICE/REGION");
        if (!parse_weight(value, &e->weight))
            return bad(err, size, "a weight must be a whole number from 0 to 1000000") - 1;
        return 0;
    }
    if (!strncmp(p, "drain/", 6)) {
        p += 6;
        e->kind = FS_DRAIN;
        if (!take_name(&p, e->region, sizeof(e->region), false) ||
            (*p && (!take_name(&p, e->service, sizeof(e->service), false) || *p)))
            return bad(err, size, "the key must read state/drain/REGION[/SERVICE]");
        if (strcmp(value, "1") && strcmp(value, "0"))
            return bad(err, size, "a drain must be 1 (drained) or 0 (in service)") - 1;
        e->on = value[0] == '1';
        return 0;
    }
    return 1;
}

int fleetstate_parse(const char *key, const char *value, struct fleetstate_entry *e, char *err,
                     size_t size)
{
    const char *p = key;
    memset(e, 0, sizeof(*e));
    if (!strncmp(p, "state/", 6))
        return parse_state(p + 6, value, e, err, size);
    if (!strncmp(p, "nodes/", 6)) {
        p += 6;
        e->kind = FS_NODE;
        if (!take_name(&p, e->node, sizeof(e->node), false) || *p)
            return bad(err, size, "the key must read nodes/NODE");
        return 0;
    }
    if (!strncmp(p, "health/", 7)) {
        p += 7;
        e->kind = FS_HEALTH;
        if (!take_name(&p, e->node, sizeof(e->node), false) ||
            !take_name(&p, e->region, sizeof(e->region), false) ||
            !take_name(&p, e->address, sizeof(e->address), true) || *p)
            return bad(err, size, "the key must read health/NODE/REGION/ADDRESS");
        if (strcmp(value, "up") && strcmp(value, "down"))
            return bad(err, size, "a health view must be up or down") - 1;
        e->on = value[0] == 'u';
        return 0;
    }
    return 1;
}

void fleetstate_weight_key(char *buf, size_t size, const char *prefix, const char *service,
                           const char *region)
{
    snprintf(buf, size, "%sstate/weight/%s/%s", prefix, service, region);
}

void fleetstate_drain_key(char *buf, size_t size, const char *prefix, const char *region,
                          const char *service)
{
    snprintf(buf, size, "%sstate/drain/%s%s%s", prefix, region, service ? "/" : "",
             service ? service : "");
}

void fleetstate_node_key(char *buf, size_t size, const char *prefix, const char *node)
{
    snprintf(buf, size, "%snodes/%s", prefix, node);
}

void fleetstate_health_key(char *buf, size_t size, const char *prefix, const char *node,
                           const char *region, const char *address)
{
    snprintf(buf, size, "%shealth/%s/%s/%s", prefix, node, region, address);
}
