/* compiler.h — small attribute macros that document intent.
 * SPDX-License-Identifier: MIT */
#pragma once

#define F_WUNUSED      __attribute__((warn_unused_result))
#define F_NONNULL      __attribute__((nonnull))
#define F_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define F_MALLOC       __attribute__((malloc))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)
#define ARRAY_LEN(a)   (sizeof(a) / sizeof((a)[0]))
#define CACHE_LINE     64
