/* countries.h — built-in ISO 3166-1 data: each country's continent and a central point, so
 * that a country-only GeoIP database still drives continent maps and the nearest policy.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* One country.  continent is a MaxMind GeoIP2 continent code (AF AN AS EU NA OC SA); lat/lon
 * in degrees are the geographic centroid, or for a country spread over a continent (Russia,
 * Kiribati, …) the point most of its people are nearest to, good to a degree or two. */
struct country_info {
    char code[3];
    char continent[3];
    float lat, lon;
};

/* The entry for an upper-case ISO 3166-1 alpha-2 code ("GB", and the user-assigned "XK"
 * that MaxMind returns for Kosovo), or NULL.  O(1). */
const struct country_info *country_find(const char *cc);
/* True for AF AN AS EU NA OC SA. */
bool continent_valid(const char *code);
/* Every entry in code order: i from 0 to country_count() - 1. */
size_t country_count(void);
const struct country_info *country_at(size_t i);
