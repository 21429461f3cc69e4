/* rdatawhy.h — says which field of a record's rdata is wrong, and how, when ldns refused it.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One rdata field as the zone file wrote it. */
struct rdata_field {
    const char *p;
    size_t len;
};

/* After ldns refused the rdata f[0..n) of a record of the given type: writes into buf
 * what is wrong ("field 1 \"192.0.2.300\" is not an IPv4 address", "takes 2 fields, not
 * 1") and returns true, or returns false when the fault cannot be pinned on one field.
 * Only fields of one token each (addresses, numbers, names, TTLs, types) are judged; the
 * first field of another kind ends the search, since tokens no longer match fields. */
bool rdata_explain(uint16_t type, const struct rdata_field *f, size_t n, char *buf, size_t cap);

/* Before ldns reads the rdata: ldns cuts numbers to the field's width without a word
 * ("MX 70000" would load as 4464, "-1" as 65535).  Returns true with the reason in buf
 * when a number field among the leading one-token fields is not a plain decimal number
 * that fits. */
bool rdata_number_out_of_range(uint16_t type, const struct rdata_field *f, size_t n, char *buf,
                               size_t cap);
