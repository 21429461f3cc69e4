/* dname.h — domain names in wire form (RFC 1035 §3.1): reading them from packets and
 * master files, comparing, hashing, printing.  Owner names we keep are lower-case so
 * that a lookup is a memcmp; names in rdata keep the zone file's case, and the question's
 * name the query's.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

#define DNAME_MAX     255
#define DNAME_LABELS  128
#define DNAME_TEXTMAX 1024 /* enough for every label escaped as \DDD */

/* Reads the possibly compressed name at *pos of a message of len bytes into out,
 * lower-cased and uncompressed, and advances *pos past it.  Returns the name's wire
 * length, or -1 for a malformed name (bad label type, pointer loop or forward pointer,
 * overrun, longer than 255). */
int dname_unpack(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out) F_WUNUSED;

/* Length in bytes of an uncompressed wire name, including the root label. */
size_t dname_len(const uint8_t *name);

/* Fills off[i] with the offset of label i (0 = leftmost); returns the label count,
 * not counting the root. */
unsigned dname_label_offsets(const uint8_t *name, uint8_t off[DNAME_LABELS]);
unsigned dname_count_labels(const uint8_t *name);

/* ASCII upper case to lower case, every other byte as it is (RFC 4343 §3). */
extern const uint8_t dname_lower_tab[256];

void dname_lower(uint8_t *name);
bool dname_equal(const uint8_t *a, const uint8_t *b); /* both already lower-case */

/* True when name is zone or lies below it (both lower-case). */
bool dname_is_sub(const uint8_t *name, size_t namelen, const uint8_t *zone, size_t zonelen);

uint32_t dname_hash(const uint8_t *name, size_t len);

/* Parses presentation text (escapes \X and \DDD, "@" for the origin).  A relative name
 * gets origin appended; origin NULL makes a relative name an error.  Returns the wire
 * length, or -1 with a reason in *why. */
int dname_from_text(const char *text, size_t textlen, const uint8_t *origin, uint8_t *out,
                    const char **why) F_WUNUSED;

/* Presentation form with the trailing dot; returns its length. */
size_t dname_to_text(const uint8_t *name, char *buf, size_t bufsize);
