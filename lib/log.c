/* log.c — timestamped log lines on stderr; one write per line so threads do not interleave.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_LVL_INFO;

void log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

static void emit(enum log_level lvl, bool tag, const char *fmt, va_list ap)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    if (lvl < min_level)
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, tag ? names[lvl] : "", tag ? ": " : "");
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    /* A single write keeps concurrent lines whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(lvl, true, fmt, ap);
    va_end(ap);
}

static void untagged(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(lvl, false, fmt, ap);
    va_end(ap);
}

void log_lines(const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = (int)(nl ? (size_t)(nl - p) : strlen(p));
        enum log_level lvl = LOG_LVL_INFO;
        if (memmem(p, (size_t)n, ": error: ", 9) || strncmp(p, "error: ", 7) == 0)
            lvl = LOG_LVL_ERR;
        else if (memmem(p, (size_t)n, ": warning: ", 11) || strncmp(p, "warning: ", 9) == 0)
            lvl = LOG_LVL_WARN;
        /* The line names its own level when it has one; "info" is added otherwise. */
        if (lvl == LOG_LVL_INFO)
            log_msg(lvl, "%.*s", n, p);
        else
            untagged(lvl, "%.*s", n, p);
        p += n + (nl ? 1 : 0);
    }
}
