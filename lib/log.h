/* log.h — the daemon's log: one line per event on stderr, with a level.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "lib/compiler.h"

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

/* Messages below this level are dropped (default: info). */
void log_set_level(enum log_level lvl);

void log_msg(enum log_level lvl, const char *fmt, ...) F_PRINTF(2, 3);

/* Logs each line of text (as struct diag collects them) at the level the line names. */
void log_lines(const char *text);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
