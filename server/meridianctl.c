/* meridianctl.c — the operator's command line for a running meridiand: one request over the
 * control socket, the reply on stdout (stderr on error), the outcome in the exit status.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/ctlproto.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/meridian/meridian.yaml"

/* Exit statuses: the server said ok, the server refused, the server could not be asked,
 * the command line was wrong (sysexits.h EX_USAGE). */
enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_NO_SERVER = 2, EXIT_USAGE = 64 };

#define REPLY_MAX (64u << 20) /* a status of thousands of regions is still far below */

/* ---- commands ---- */

/* What a command does, with an example: meridianctl's own words, which the server never sends. */
struct help {
    const char *text, *example;
};

/* One constant per command, named after its ID in CTL_COMMANDS, rather than an array in the
 * list's order: a command added to the list without help here fails to compile, and so does
 * help left behind by a command taken out of it (an unused constant). */
static const struct help help_STATUS = {
    "Shows every region with its addresses, their health and last probe result, whether it\n"
    "is drained, and every service with its policy and each region's weight and drain, the\n"
    "map entries failing open, a failback hold and its gradual shift, and every zone: signed\n"
    "or not, its keys (tag, algorithm, role, state), the next refresh and the earliest\n"
    "signature expiry.",
    "meridianctl status"};
static const struct help help_WEIGHT = {
    "Sets the weight of REGION within SERVICE to N (a whole number from 0 to 1000000), in\n"
    "place of the config's.  Weights are relative: 80 and 20 split traffic 80/20.  Takes\n"
    "effect on the next query and is kept in the state file across restarts.  A weight of\n"
    "0 that would leave the service with no usable region is refused; --force sets it.",
    "meridianctl weight api us-east-1 80"};
static const struct help help_DRAIN = {
    "Takes REGION out of every answer, or only out of SERVICE's answers, whatever its\n"
    "health says, as for maintenance.  Clients move to the next usable region of their\n"
    "map entry or policy.  Where REGION is the last usable one (not drained, an address\n"
    "up) of a service or entry such as GB: [eu-west-1], those clients would stay on REGION\n"
    "(they fail open), so the drain is refused with the list of what it would leave so;\n"
    "--force drains all the same, the log says so, and they fail open.  Kept in the state\n"
    "file across restarts until undrain.",
    "meridianctl drain eu-west-1\n  meridianctl drain eu-west-1 api --force"};
static const struct help help_UNDRAIN = {
    "Puts a drained REGION back, everywhere or for SERVICE only; it serves again as soon\n"
    "as its health checks pass.",
    "meridianctl undrain eu-west-1"};
static const struct help help_SHIFT = {
    "Moves the weights of a weighted SERVICE toward REGION=WEIGHT... in steps: each region's\n"
    "weight changes by at most N (--step, default 10) every D (--every, such as 30s or\n"
    "500ms; default 30s), the first step at once.  If a region gaining traffic turns\n"
    "unhealthy, or the service starts failing open, the weights go back to where they\n"
    "started.  The plan is kept in the state file; a restart resumes it.  status shows the\n"
    "plans and their last step or rollback; pause holds the weights where they are, resume\n"
    "goes on, abort puts back the starting weights.  A target that leaves clients no\n"
    "usable region needs --force.",
    "meridianctl shift api us-east-1=50 eu-west-1=50 --step 10 --every 30s\n"
    "  meridianctl shift status"};
static const struct help help_FAILBACK = {
    "Sends a failover SERVICE with failback: manual back from the region its traffic is\n"
    "held on to the first usable region of its order.  Refused while none before it is\n"
    "usable.  With failback: manual, traffic that failed over stays on the secondary after\n"
    "the primary recovers, until this command; the hold is kept across restarts.",
    "meridianctl failback pay"};
static const struct help help_RELOAD = {
    "Reads the config and every zone again, or only ZONE's file, and switches to them at\n"
    "once.  If anything fails to load, the previous version keeps serving and the errors\n"
    "are printed with file:line:column.  Big zones take time: see -t.",
    "meridianctl reload\n  meridianctl reload example.com"};
static const struct help help_STATS = {
    "Shows query counters since the start: by transport, by response code, truncated and\n"
    "dropped answers, and answers given while every candidate region was down.",
    "meridianctl stats"};
static const struct help help_EXPLAIN = {
    "Shows what CLIENT-IP would get for NAME and why: the database record, the place, each\n"
    "policy step with health and drains, and the answer.  CLIENT-IP/LEN, such as\n"
    "198.51.100.0/24, is taken as an EDNS Client Subnet.",
    "meridianctl explain www.example.com 198.51.100.7"};
static const struct help help_DS = {
    "Prints the DS records of the signed ZONE's key-signing keys (SHA-256), to give to the\n"
    "registrar or the parent zone's operator.  meridiand -c CONFIG --ds ZONE prints the\n"
    "same from the key files, without a running server.",
    "meridianctl ds example.com"};
static const struct help help_VERSION = {"Shows the version of the running meridiand.",
                                         "meridianctl version"};
static const struct help help_HELP = {
    "Explains COMMAND, or lists every command; answered by meridianctl itself.",
    "meridianctl help weight"};

struct command {
    const char *name;
    unsigned min, max; /* arguments */
    const char *usage;
    const struct help *help;
};

#define COMMAND(id, name, min, max, usage) {name, min, max, usage, &help_##id},
static const struct command commands[] = {CTL_COMMANDS(COMMAND)};
#undef COMMAND

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: meridianctl [-s SOCKET] [-c CONFIG] [--json] [-t SECONDS] COMMAND [ARG...]\n"
            "       meridianctl help [COMMAND]\n"
            "Talks to a running meridiand over its control socket.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %s\n", commands[i].usage);
    fprintf(out,
            "\n"
            "Options:\n"
            "  -s, --socket SOCKET  the control socket (default: server.control of the config,\n"
            "                       else %s)\n"
            "  -c, --config CONFIG  the config to read server.control from\n"
            "                       (default %s)\n"
            "  -j, --json           ask for the reply as one JSON document\n"
            "  -t, --timeout SECONDS  wait this long for the reply, 0 for ever (default 30)\n"
            "  -h, --help           show this help and exit\n"
            "  -V, --version        show meridianctl's own version and exit\n"
            "\n"
            "Exit status: 0 done; 1 refused by the server (the reason is on stderr); 2 the\n"
            "server could not be reached, did not answer in time, or answered garbage;\n"
            "64 a mistake on the command line.\n"
            "Run \"meridianctl help COMMAND\" for what a command does, with an example.\n",
            CTL_DEFAULT_SOCKET, DEFAULT_CONFIG);
}

static int help(int argc, char **argv)
{
    const struct command *c = argc ? command_find(argv[0]) : NULL;
    if (!argc) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!c) {
        fprintf(stderr, "meridianctl: unknown command \"%s\"; run meridianctl --help\n", argv[0]);
        return EXIT_USAGE;
    }
    printf("Usage: meridianctl [OPTIONS] %s\n\n%s\n\nExample:\n  %s\n", c->usage, c->help->text,
           c->help->example);
    return EXIT_OK;
}

/* ---- the request line ---- */

/* The server splits on spaces and takes printable ASCII only; saying so here is clearer
 * than its refusal. */
static bool word_ok(const char *w)
{
    if (!*w || strlen(w) > CTL_WORD_MAX) {
        fprintf(stderr, "meridianctl: \"%s\": an argument must be 1 to %d bytes long\n", w,
                CTL_WORD_MAX);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            fprintf(stderr,
                    "meridianctl: \"%s\": an argument may not hold spaces, control characters "
                    "or non-ASCII bytes\n",
                    w);
            return false;
        }
    }
    return true;
}

static bool weight_ok(const char *s)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (s[0] >= '0' && s[0] <= '9' && !*end && !errno && n <= CTL_WEIGHT_MAX)
        return true;
    fprintf(stderr, "meridianctl: weight \"%s\" must be a whole number from 0 to %d\n", s,
            CTL_WEIGHT_MAX);
    return false;
}

static bool args_ok(const struct command *c, int argc, char **argv)
{
    /* --force, where the command takes it, may stand anywhere and counts as no argument. */
    char *plain[CTL_LINE_MAX / 2];
    int nplain = 0, forced = 0;
    for (int i = 0; i < argc && nplain < (int)(sizeof(plain) / sizeof(plain[0])); i++)
        if (!forced && strstr(c->usage, CTL_FORCE) && !strcmp(argv[i], CTL_FORCE))
            forced = 1;
        else
            plain[nplain++] = argv[i];
    if ((unsigned)nplain < c->min || (unsigned)nplain > c->max) {
        fprintf(stderr, "meridianctl: usage: meridianctl [OPTIONS] %s\n  e.g. %s\n", c->usage,
                c->help->example);
        for (int i = 0; i < argc; i++)
            if (argv[i][0] == '-') {
                fprintf(stderr, "Options go before the command: meridianctl %s %s\n", argv[i],
                        c->name);
                break;
            }
        return false;
    }
    for (int i = 0; i < argc; i++)
        if (!word_ok(argv[i]))
            return false;
    return strcmp(c->name, "weight") || weight_ok(plain[2]);
}

/* "[--json] COMMAND ARG...\n" into line; false when it would not fit. */
static bool line_build(char *line, size_t cap, bool json, int argc, char **argv)
{
    size_t len = 0;
    if (json)
        len = (size_t)snprintf(line, cap, "--json");
    for (int i = 0; i < argc && len < cap; i++)
        len += (size_t)snprintf(line + len, cap - len, "%s%s", len ? " " : "", argv[i]);
    if (len + 1 >= cap) {
        fprintf(stderr, "meridianctl: the request is longer than %d bytes\n", CTL_LINE_MAX);
        return false;
    }
    memcpy(line + len, "\n", 2);
    return true;
}

/* ---- finding the socket ---- */

/* The value at server: control: of a YAML document, or NULL. */
static const char *yaml_control(yaml_document_t *doc)
{
    yaml_node_t *node = yaml_document_get_root_node(doc);
    static const char *const keys[] = {"server", "control"};
    for (size_t k = 0; k < 2; k++) {
        yaml_node_t *next = NULL;
        if (!node || node->type != YAML_MAPPING_NODE)
            return NULL;
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
             p < node->data.mapping.pairs.top && !next; p++) {
            yaml_node_t *key = yaml_document_get_node(doc, p->key);
            if (key && key->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)key->data.scalar.value, keys[k]))
                next = yaml_document_get_node(doc, p->value);
        }
        node = next;
    }
    if (!node || node->type != YAML_SCALAR_NODE || !node->data.scalar.length)
        return NULL;
    const char *v = (const char *)node->data.scalar.value;
    bool null = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                (!strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL"));
    return null ? NULL : v;
}

/* value, relative to the directory of config as meridiand reads it. */
static void path_resolve(const char *config, const char *value, char *out, size_t cap)
{
    const char *slash = strrchr(config, '/');
    if (value[0] == '/' || !slash)
        snprintf(out, cap, "%s", value);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - config), config, value);
}

/* Reads server.control from config into out: 1 found, 0 not there (no key, or no file when
 * quiet), -1 the file cannot be read or is not YAML (with a message unless quiet). */
static int config_socket(const char *config, bool quiet, char *out, size_t cap)
{
    FILE *f = fopen(config, "rb");
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0;
    if (!f && errno == ENOENT && quiet)
        return 0;
    if (!f) {
        if (!quiet)
            fprintf(stderr, "meridianctl: cannot read %s: %s\n", config, strerror(errno));
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        if (!quiet)
            fprintf(stderr, "meridianctl: %s:%zu:%zu: invalid YAML: %s\n", config,
                    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                    parser.problem ? parser.problem : "cannot parse");
        rc = -1;
    } else {
        const char *value = yaml_control(&doc);
        if (value)
            path_resolve(config, value, out, cap);
        rc = value != NULL;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

/* ---- talking to the server ---- */

static const char *connect_hint(int err)
{
    switch (err) {
    case ENOENT:
        return " (is meridiand running with server.control set?)";
    case ECONNREFUSED:
        return " (is meridiand running? the socket file may be left from an earlier run)";
    case EACCES:
    case EPERM:
        return " (run as root or as a member of server.control_group)";
    default:
        return "";
    }
}

/* A connected socket, or -1 after a message.  SO_SNDTIMEO bounds connect() on a full
 * backlog and the send; the reply is waited for with poll(). */
static int ctl_connect(const char *path, unsigned timeout)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = timeout};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "meridianctl: socket path %s is longer than %zu bytes\n", path,
                sizeof(sun.sun_path) - 1);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
        connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
        return fd;
    int err = errno;
    fprintf(stderr, "meridianctl: cannot connect to %s: %s%s\n", path,
            err == EAGAIN ? "the server is too busy to accept" : strerror(err), connect_hint(err));
    if (fd >= 0)
        close(fd);
    return -1;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct reply {
    char *buf;
    size_t len, cap;
};

/* Appends what one read() gives: 1 more to come, 0 end of reply, -1 error (errno). */
static int reply_read(int fd, struct reply *r)
{
    if (r->cap - r->len < 4096) {
        size_t cap = r->cap ? r->cap * 2 : 16384;
        char *more = cap <= REPLY_MAX ? realloc(r->buf, cap + 1) : NULL;
        if (!more) {
            errno = EMSGSIZE;
            return -1;
        }
        r->buf = more;
        r->cap = cap;
    }
    ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    r->len += (size_t)n;
    r->buf[r->len] = '\0';
    return n > 0;
}

/* Reads until the server closes, or the deadline passes (ETIMEDOUT).  0 or -1 (errno). */
static int reply_wait(int fd, unsigned timeout, struct reply *r)
{
    long long deadline = now_ms() + (long long)timeout * 1000;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long left = timeout ? deadline - now_ms() : -1;
        if (timeout && left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int n = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (n < 0 && errno != EINTR)
            return -1;
        int more = n > 0 ? reply_read(fd, r) : 1;
        if (more <= 0)
            return more;
    }
}

/* Prints the body where it belongs; the exit status for the status line. */
static int reply_show(const char *path, struct reply *r)
{
    const char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
    size_t line = nl ? (size_t)(nl - r->buf) : r->len;
    bool ok = line == 2 && !memcmp(r->buf, CTL_STATUS_OK, 2);
    bool refused = line == 5 && !memcmp(r->buf, CTL_STATUS_ERROR, 5);
    if (!r->len) {
        fprintf(stderr, "meridianctl: %s closed the connection without a reply\n", path);
        return EXIT_NO_SERVER;
    }
    if (!ok && !refused) {
        fprintf(stderr, "meridianctl: malformed reply from %s: \"%.*s\"\n", path,
                (int)(line > 60 ? 60 : line), r->buf);
        return EXIT_NO_SERVER;
    }
    size_t body = line < r->len ? line + 1 : line;
    fwrite(r->buf + body, 1, r->len - body, ok ? stdout : stderr);
    if (fflush(stdout) != 0) {
        perror("meridianctl: stdout");
        return EXIT_NO_SERVER;
    }
    return ok ? EXIT_OK : EXIT_REFUSED;
}

static void reply_fail(const char *path, unsigned timeout, int err)
{
    if (err == ETIMEDOUT)
        fprintf(stderr,
                "meridianctl: no complete reply from %s within %u s; the server may still be "
                "working (a reload of big zones takes time): raise -t\n",
                path, timeout);
    else if (err == EMSGSIZE)
        fprintf(stderr, "meridianctl: the reply from %s is larger than %u MiB\n", path,
                REPLY_MAX >> 20);
    else
        fprintf(stderr, "meridianctl: cannot read the reply from %s: %s\n", path, strerror(err));
}

static int request(const char *path, const char *line, unsigned timeout)
{
    struct reply r = {0};
    int fd = ctl_connect(path, timeout), rc = EXIT_NO_SERVER;
    if (fd < 0)
        return EXIT_NO_SERVER;
    if (send_all(fd, line, strlen(line)) < 0)
        fprintf(stderr, "meridianctl: cannot send to %s: %s\n", path, strerror(errno));
    else if (reply_wait(fd, timeout, &r) < 0)
        reply_fail(path, timeout, errno);
    else
        rc = reply_show(path, &r);
    close(fd);
    free(r.buf);
    return rc;
}

/* ---- main ---- */

struct options {
    const char *socket, *config;
    bool json;
    unsigned timeout;
};

static bool timeout_parse(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || n > 86400) {
        fprintf(stderr, "meridianctl: -t takes whole seconds from 0 (no limit) to 86400\n");
        return false;
    }
    *out = (unsigned)n;
    return true;
}

/* -1 to go on, or the exit status. */
static int options_parse(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"socket", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    /* "+": options end at the command, so that no argument is ever taken for one. */
    while ((opt = getopt_long(argc, argv, "+s:c:jt:hV", longs, NULL)) != -1) {
        switch (opt) {
        case 's':
            o->socket = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 't':
            if (!timeout_parse(optarg, &o->timeout))
                return EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("meridianctl %s\n", PACKAGE_VERSION);
            return EXIT_OK;
        default:
            fprintf(stderr, "Run meridianctl --help for the options.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return -1;
    usage(stderr);
    return EXIT_USAGE;
}

/* The socket to use: -s, else server.control of the config, else the default. */
static bool socket_find(const struct options *o, char *out, size_t cap)
{
    int found = 0;
    if (o->socket) {
        snprintf(out, cap, "%s", o->socket);
        return true;
    }
    /* The default config may well be unreadable to an operator who is not root: then the
     * default socket is as good a guess as any. */
    found = config_socket(o->config ? o->config : DEFAULT_CONFIG, !o->config, out, cap);
    if (found == 0 && o->config)
        fprintf(stderr, "meridianctl: %s has no server: control: setting; using %s\n", o->config,
                CTL_DEFAULT_SOCKET);
    if (found <= 0)
        snprintf(out, cap, "%s", CTL_DEFAULT_SOCKET);
    return found >= 0 || !o->config;
}

int main(int argc, char **argv)
{
    struct options o = {.timeout = 30};
    char line[CTL_LINE_MAX + 1], path[4096];
    int rc = options_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    argc -= optind;
    argv += optind;
    const struct command *c = command_find(argv[0]);
    if (!c) {
        fprintf(stderr, "meridianctl: unknown command \"%s\"; run meridianctl --help\n", argv[0]);
        return EXIT_USAGE;
    }
    if (!args_ok(c, argc - 1, argv + 1))
        return EXIT_USAGE;
    if (!strcmp(c->name, "help"))
        return help(argc - 1, argv + 1);
    if (!line_build(line, sizeof(line), o.json, argc, argv))
        return EXIT_USAGE;
    if (!socket_find(&o, path, sizeof(path)))
        return EXIT_NO_SERVER;
    signal(SIGPIPE, SIG_IGN);
    return request(path, line, o.timeout);
}
