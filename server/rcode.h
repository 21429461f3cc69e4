/* rcode.h — the names of DNS response codes, as the stats, metrics and query log print them.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* "NOERROR" … "YXDOMAIN" for 0 to 6, "BADVERS" for 16 and "BADCOOKIE" for 23 (RFC 6895
 * §2.3); NULL for any other code.  0 to 6 are contiguous, so a loop from 0 while the name is not
 * NULL visits exactly those. */
static inline const char *dns_rcode_name(unsigned rc)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN"};
    if (rc < sizeof(names) / sizeof(names[0]))
        return names[rc];
    return rc == 16 ? "BADVERS" : rc == 23 ? "BADCOOKIE" : NULL;
}
