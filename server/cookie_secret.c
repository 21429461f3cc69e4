/* cookie_secret.c — reading the cookie secret file, and the per-process fallback.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/cookie_secret.h"
#include "lib/readfile.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#define SECRET_FILE_MAX 4096

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One line, spaces around it ignored: exactly 32 hex digits. */
static bool parse_secret(const char *s, size_t len, uint8_t key[SIPHASH_KEY])
{
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    if (len != 2 * SIPHASH_KEY)
        return false;
    for (size_t i = 0; i < SIPHASH_KEY; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Every non-empty line is a secret; at most two of them. */
static bool parse_lines(const char *path, const char *text, struct cookie_secrets *out,
                        struct diag *d)
{
    unsigned line = 0;
    out->n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (strspn(p, " \t\r") < len) {
            if (out->n == COOKIE_SECRETS_MAX) {
                diag_error(d, path, line, 0,
                           "a third secret; the file holds the current secret and, while "
                           "rotating, the previous one, one per line");
                return false;
            }
            if (!parse_secret(p, len, out->key[out->n])) {
                diag_error(d, path, line, 0,
                           "a cookie secret is 16 bytes written as 32 hex digits, e.g. "
                           "e5e973e5a6b2a43f48e7dc849e37bfcf (openssl rand -hex 16)");
                return false;
            }
            out->n++;
        }
        p += len + (nl ? 1 : 0);
    }
    if (!out->n)
        diag_error(d, path, 0, 0,
                   "the file holds no secret; write 32 hex digits on its first line");
    return out->n > 0;
}

bool cookie_secret_read(const char *path, struct cookie_secrets *out, struct diag *d,
                        const char *conf, unsigned line, unsigned col)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        diag_error(d, conf, line, col, "server.cookie_secret_file: cannot read %s: %s", path,
                   strerror(errno));
        return false;
    }
    /* A secret others can read lets them forge cookies and pass rate limiting. */
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        diag_error(d, path, 0, 0,
                   "the cookie secret file is readable or writable by others (mode %04o); "
                   "chmod o-rwx %s",
                   (unsigned)(st.st_mode & 07777), path);
        return false;
    }
    char *text;
    size_t len;
    int rc = readfile(path, SECRET_FILE_MAX, &text, &len);
    if (rc != 0) {
        diag_error(d, conf, line, col, "server.cookie_secret_file: cannot read %s: %s", path,
                   rc == READFILE_TOO_LARGE ? "it is too large for a secret file"
                                            : readfile_strerror(rc));
        return false;
    }
    bool ok = len == strlen(text) && parse_lines(path, text, out, d);
    if (len != strlen(text))
        diag_error(d, path, 0, 0, "the file holds a NUL byte; write the secret as hex digits");
    memset(text, 0, len);
    free(text);
    return ok;
}

static struct {
    pthread_once_t once;
    uint8_t key[SIPHASH_KEY];
    bool ok;
} own = {PTHREAD_ONCE_INIT, {0}, false};

static void own_secret(void)
{
    size_t got = 0;
    while (got < sizeof(own.key)) {
        ssize_t n = getrandom(own.key + got, sizeof(own.key) - got, 0);
        if (n < 0 && errno != EINTR)
            return;
        got += n > 0 ? (size_t)n : 0;
    }
    own.ok = true;
}

bool cookie_secret_random(struct cookie_secrets *out)
{
    pthread_once(&own.once, own_secret);
    if (!own.ok)
        return false;
    memcpy(out->key[0], own.key, sizeof(own.key));
    out->n = 1;
    return true;
}
