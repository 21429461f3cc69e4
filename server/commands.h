/* commands.h — the control commands: parsing one request line, and carrying it out
 * against the running server with a reply in text or JSON.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/compiler.h"
#include "lib/strbuf.h"
#include "server/ctlproto.h"

#define COMMAND_LINE_MAX CTL_LINE_MAX /* kept for tests/fuzz/fuzz_control.c */
#define COMMAND_ARGS_MAX 16

/* CMD_STATUS, CMD_WEIGHT, ... in the order of CTL_COMMANDS; tests/fuzz/fuzz_control.c takes
 * CMD_HELP for the last. */
#define COMMAND_KIND(id, name, min, max, usage) CMD_##id,
enum command_kind { CTL_COMMANDS(COMMAND_KIND) };
#undef COMMAND_KIND

struct command {
    enum command_kind kind;
    bool json;
    bool force; /* --force: past the guard rails */
    unsigned nargs;
    char args[COMMAND_ARGS_MAX][CTL_WORD_MAX + 1];
};

/* Parses "[--json] COMMAND [ARG...]" (no newline).  0, or -1 with a sentence for the
 * client in err. */
int command_parse(const char *line, size_t len, struct command *cmd, char *err,
                  size_t errsize) F_WUNUSED;

/* Carries cmd out; the reply body goes to out.  True when the command succeeded.  A
 * reload of the whole config (command_is_deferred) is started by the caller instead. */
bool command_run(const struct command *cmd, struct strbuf *out) F_WUNUSED;

static inline bool command_is_deferred(const struct command *cmd)
{
    return cmd->kind == CMD_RELOAD && cmd->nargs == 0;
}

/* The reply to a reload that ended with rc (daemon_reload_start) and text; logs it too. */
bool command_reload_reply(const struct command *cmd, int rc, const char *text,
                          struct strbuf *out) F_WUNUSED;
