/* fuzz_control.c — libFuzzer target: command_parse on arbitrary bytes, as the control socket
 * hands it one request line.  command_run needs a running server and is not called; but
 * `explain NAME CLIENT-IP` is carried out against the fuzz world with explain(), the part of
 * it that parses its arguments and answers real queries with a trace.
 * SPDX-License-Identifier: MIT */
#include "tests/fuzz/fuzz_common.h"

#include "server/commands.h"
#include "server/explain.h"

static struct view *world;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_note_argv0(argc, argv);
    world = fuzz_world();
    return 0;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* control.c hands over at most one line without its newline, not NUL-terminated. */
    if (size >= COMMAND_LINE_MAX)
        return 0;
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    struct command cmd;
    char err[512];
    err[0] = '\0';
    int rc = command_parse(line, size, &cmd, err, sizeof(err));
    if (rc < 0) {
        fuzz_assert(err[0] && strlen(err) < sizeof(err), "command_parse failed without a reason");
        fuzz_assert(printable(err), "the error for the client holds unprintable bytes: %s", err);
    } else {
        fuzz_assert(rc == 0, "command_parse returned %d", rc);
        fuzz_assert(cmd.kind <= CMD_HELP && cmd.nargs <= COMMAND_ARGS_MAX, "kind %d, %u args",
                    (int)cmd.kind, cmd.nargs);
        for (unsigned i = 0; i < cmd.nargs; i++)
            fuzz_assert(memchr(cmd.args[i], '\0', sizeof(cmd.args[i])) && cmd.args[i][0] &&
                            printable(cmd.args[i]),
                        "argument %u is empty, unterminated or unprintable", i);
        if (cmd.kind == CMD_EXPLAIN) {
            struct diag out;
            diag_init(&out);
            int erc = explain(world, cmd.args[0], cmd.args[1], &out);
            fuzz_assert(erc == 0 || out.errors > 0, "explain failed without an error");
            diag_free(&out);
        }
    }
    free(line);
    return 0;
}
