/* fleetcmd.c — meridianctl weight/drain/undrain in a fleet: a compare-and-swap on the
 * key's revision in etcd, then the change applied here.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/fleet/etcd.h"
#include "server/fleet/fleetapply.h"
#include "server/fleet/fleet.h"
#include "server/fleet/fleetcore.h"
#include "server/fleet/fleetstate.h"

#include <stdio.h>
#include <string.h>

#define CAS_TRIES 8 /* compare-and-swap attempts before a command gives up */

static json_object *b64str(const char *s)
{
    return etcd_b64(s, strlen(s));
}

/* The current mod_revision of key (0 when absent) and its value in was. */
static int read_key(const char *key, long long *modrev, char *was, size_t size, char *err,
                    size_t errsize)
{
    json_object *req = json_object_new_object(), *kvs, *v;
    json_object_object_add(req, "key", b64str(key));
    json_object *r = etcd_call(fleet_client(), "/v3/kv/range", req, err, errsize);
    json_object_put(req);
    if (!r)
        return -1;
    *modrev = 0;
    snprintf(was, size, "none");
    if (json_object_object_get_ex(r, "kvs", &kvs) && json_object_array_length(kvs) > 0) {
        json_object *kv = json_object_array_get_idx(kvs, 0);
        *modrev = etcd_int(kv, "mod_revision", 0);
        if (!json_object_object_get_ex(kv, "value", &v) || etcd_unb64(v, was, size) < 0)
            snprintf(was, size, "?");
    }
    json_object_put(r);
    return 0;
}

/* A txn that writes value to key (deletes it when value is NULL) only if the key is still
 * at modrev.  1 when committed (*rev: its revision), 0 when the key moved, -1 on error. */
static int swap_key(const char *key, long long modrev, const char *value, long long *rev, char *err,
                    size_t errsize)
{
    json_object *req = json_object_new_object(), *cmp = json_object_new_object();
    json_object *op = json_object_new_object(), *args = json_object_new_object();
    json_object *cmps = json_object_new_array(), *ops = json_object_new_array(), *ok, *hd;
    json_object_object_add(cmp, "key", b64str(key));
    json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
    json_object_object_add(cmp, "target", json_object_new_string("MOD"));
    json_object_object_add(cmp, "mod_revision", json_object_new_int64(modrev));
    json_object_array_add(cmps, cmp);
    json_object_object_add(args, "key", b64str(key));
    if (value)
        json_object_object_add(args, "value", b64str(value));
    json_object_object_add(op, value ? "request_put" : "request_delete_range", args);
    json_object_array_add(ops, op);
    json_object_object_add(req, "compare", cmps);
    json_object_object_add(req, "success", ops);
    json_object *r = etcd_call(fleet_client(), "/v3/kv/txn", req, err, errsize);
    json_object_put(req);
    if (!r)
        return -1;
    /* proto3 JSON leaves out false: no "succeeded" means the compare failed. */
    int rc = json_object_object_get_ex(r, "succeeded", &ok) && json_object_get_boolean(ok);
    *rev = json_object_object_get_ex(r, "header", &hd) ? etcd_int(hd, "revision", 0) : 0;
    json_object_put(r);
    return rc;
}

/* Compare-and-swap until it commits: each try reads the key's revision and writes only if
 * no one else wrote it in between, so no change is lost unseen.  0, or -1 with msg. */
static int commit(const char *key, const char *value, long long *rev, char *was, size_t wsize,
                  char *msg, size_t size)
{
    char err[400];
    for (int i = 0; i < CAS_TRIES; i++) {
        long long modrev;
        int rc = read_key(key, &modrev, was, wsize, err, sizeof(err));
        if (rc == 0)
            rc = swap_key(key, modrev, value, rev, err, sizeof(err));
        if (rc > 0) {
            fleet_committed(*rev);
            return 0;
        }
        if (rc < 0) {
            snprintf(msg, size, "etcd did not commit the change, so nothing changed: %s", err);
            return -1;
        }
    }
    snprintf(msg, size,
             "%s kept changing under this command (%d tries): nothing changed; "
             "try again",
             key, CAS_TRIES);
    return -1;
}

int fleet_set_weight(const char *service, const char *region, long weight, char *msg, size_t size)
{
    char key[600], value[16], was[64];
    long long rev;
    fleetstate_weight_key(key, sizeof(key), fleet_prefix(), service, region);
    snprintf(value, sizeof(value), "%ld", weight);
    if (commit(key, value, &rev, was, sizeof(was), msg, size) < 0)
        return -1;
    struct fleetstate_entry e = {.kind = FS_WEIGHT, .weight = weight};
    snprintf(e.service, sizeof(e.service), "%s", service);
    snprintf(e.region, sizeof(e.region), "%s", region);
    fleetapply_one(&e);
    fleet_save("the change is committed");
    snprintf(msg, size, "service %s region %s: weight %ld (fleet: etcd revision %lld, was %s)",
             service, region, weight, rev, was);
    return 0;
}

int fleet_set_drain(const char *region, const char *service, bool drain, char *msg, size_t size)
{
    char key[600], was[64];
    long long rev;
    fleetstate_drain_key(key, sizeof(key), fleet_prefix(), region, service);
    if (commit(key, drain ? "1" : NULL, &rev, was, sizeof(was), msg, size) < 0)
        return -1;
    struct fleetstate_entry e = {.kind = FS_DRAIN, .on = drain};
    snprintf(e.service, sizeof(e.service), "%s", service ? service : "");
    snprintf(e.region, sizeof(e.region), "%s", region);
    fleetapply_one(&e);
    fleet_save("the change is committed");
    snprintf(msg, size, "region %s %s%s%s (fleet: etcd revision %lld)", region,
             drain ? "drained" : "undrained", service ? " for service " : "",
             service ? service : "", rev);
    return 0;
}
