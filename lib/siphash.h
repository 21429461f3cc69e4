/* siphash.h — SipHash-2-4, the keyed 64-bit hash of Aumasson and Bernstein ("SipHash: a
 * fast short-input PRF", 2012), as RFC 9018 uses it for DNS server cookies.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY 16 /* bytes: k0 then k1, each little-endian */

/* The hash of len bytes at msg under key; the paper's output, a 64-bit word, whose
 * little-endian bytes are what the reference implementation writes. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY], const uint8_t *msg, size_t len);
