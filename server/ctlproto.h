/* ctlproto.h — the control socket protocol's fixed numbers, shared by meridiand and meridianctl.
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
