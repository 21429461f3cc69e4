/* ctlproto.h — the control socket protocol's commands and fixed numbers, shared by meridiand
 * and meridianctl.
 * SPDX-License-Identifier: MIT */
#pragma once

/* A client connects, sends one line "[--json] COMMAND [ARG...]\n" of printable ASCII words
 * separated by single spaces, and reads a status line, "ok" or "error", then the reply
 * body (text, or one JSON document after --json; {"error": "..."} on failure) until the
 * server closes the connection. */

#define CTL_LINE_MAX       4096 /* bytes of the request line, newline included */
#define CTL_WORD_MAX       255  /* bytes of one word */
#define CTL_WEIGHT_MAX     1000000
#define CTL_DEFAULT_SOCKET "/run/meridian/control.sock"
#define CTL_STATUS_OK      "ok"
#define CTL_STATUS_ERROR   "error"

/* A command whose usage names CTL_FORCE takes it anywhere among its arguments, beyond MAX. */
#define CTL_FORCE "--force"

/* Every command, as X(ID, NAME, MIN, MAX, USAGE): NAME takes MIN to MAX arguments.  The one
 * list that meridiand parses requests by and meridianctl checks its command line by, so that
 * the two cannot disagree on a name, an argument count or a usage line.  Both list the
 * commands in this order. */
#define CTL_COMMANDS(X)                                                                            \
    X(STATUS, "status", 0, 0, "status")                                                            \
    X(WEIGHT, "weight", 3, 3, "weight SERVICE REGION N [--force]")                                 \
    X(DRAIN, "drain", 1, 2, "drain REGION [SERVICE] [--force]")                                    \
    X(UNDRAIN, "undrain", 1, 2, "undrain REGION [SERVICE]")                                        \
    X(SHIFT, "shift", 1, 15,                                                                       \
      "shift SERVICE REGION=WEIGHT... [--step N] [--every D] [--force] | "                         \
      "shift status|pause|resume|abort [SERVICE]")                                                 \
    X(FAILBACK, "failback", 1, 1, "failback SERVICE")                                              \
    X(RELOAD, "reload", 0, 1, "reload [ZONE]")                                                     \
    X(STATS, "stats", 0, 0, "stats")                                                               \
    X(EXPLAIN, "explain", 2, 2, "explain NAME CLIENT-IP")                                          \
    X(DS, "ds", 1, 1, "ds ZONE")                                                                   \
    X(VERSION, "version", 0, 0, "version")                                                         \
    X(HELP, "help", 0, 1, "help [COMMAND]")
