/* statefile.h — the runtime state file: operators' drains and weights, kept across restarts.
 * SPDX-License-Identifier: MIT */
#pragma once

/* The file is YAML, written by the server and readable by people:
 *
 *   # Runtime state of meridiand: drains and weights set with meridianctl. Written
 *   # atomically by the server; edit only while it is stopped.
 *   version: 1
 *   drained: [eu-west-1]            # regions drained for every service
 *   services:
 *     api:
 *       weights: {us-east-1: 50, eu-west-1: 50}
 *       drained: [apac-south]       # regions drained for this service only
 *       shift: {from: {us-east-1: 80, eu-west-1: 20}, to: {us-east-1: 50, eu-west-1: 50},
 *               step: 10, every_ms: 30000, paused: false}   # a gradual shift under way
 *     pay:
 *       held: eu-west-1             # failback: manual holds traffic on this region
 *
 * `version: 1` is required; `drained` and `services` may be left out or empty.  Names are
 * 1 to STATEFILE_NAME_MAX characters of [A-Za-z0-9_.-]; weights are integers from 0 to
 * STATEFILE_WEIGHT_MAX.  A service/region pair that is drained and has a weight is listed
 * in both places.  Anything else — an unknown key, a wrong type, a bad number, a duplicate
 * key or list item, anchors and aliases, another version, a file over STATEFILE_SIZE_MAX —
 * makes the whole file corrupt: none of it is applied. */

#include <stddef.h>

#include "geoip/state.h"
#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"
#include "server/ctlproto.h"

#define STATEFILE_WEIGHT_MAX CTL_WEIGHT_MAX /* as `meridianctl weight` accepts */
#define STATEFILE_NAME_MAX   253            /* the config refuses longer region and service names */
#define STATEFILE_SIZE_MAX   (4 * 1024 * 1024) /* a real one is a few KiB */

/* Reads the state file at path and applies it to the registry over what the config says:
 * the registry's drains and weights are cleared, then the file's are set.  A missing file
 * is not an error (and clears nothing).  Entries naming regions or services that c (may be
 * NULL) lacks are applied too, so they take effect if the name comes back, and each such
 * name gets a warning in d.  An unreadable or corrupt file is renamed to
 * PATH.corrupt-YYYYmmddTHHMMSSZ (UTC) with a warning in d that says why and what to do; the
 * registry is left as it was and 1 is returned.  Otherwise 0; -1 with an error in d when
 * the rename failed too, or memory ran out.  Call before the first view is published. */
int statefile_load(const char *path, const struct config *c, struct diag *d) F_WUNUSED;

/* Writes every drain and weight in the registry to path atomically: PATH.tmp.PID is
 * written, fsynced and renamed over path, then the directory is fsynced.  0, or -1 with
 * the path and the reason in d.  A failure before the rename leaves the old file as it was
 * and removes the temporary file; only the directory fsync can fail after it. */
int statefile_save(const char *path, struct diag *d) F_WUNUSED;

/* Parses the text of a state file: once all of it is known to be valid, calls fn for each
 * entry (for a drained region service is NULL; weight -1 means none), each service/region
 * pair once.  0, or -1 with every problem in d as "name:line:column: error: …", and fn
 * never called. */
int statefile_parse(const char *text, size_t len, const char *name, state_visit_fn fn, void *ctx,
                    struct diag *d) F_WUNUSED;

/* What statefile_parse_all reports beside drains and weights, once the file is valid. */
struct statefile_hooks {
    void (*held)(void *ctx, const char *service, const char *region);
    void (*shift)(void *ctx, const char *service, const struct state_shift *plan);
};
int statefile_parse_all(const char *text, size_t len, const char *name, state_visit_fn fn,
                        const struct statefile_hooks *hooks, void *ctx, struct diag *d) F_WUNUSED;
