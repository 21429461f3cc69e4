/* signstatus.c — signed zones as status, DS and metrics show them.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/signstatus.h"
#include "zones/dname.h"
#include "zones/sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const states[] = {"active", "publish", "retire"};

static const char *role(const struct sign_keyinfo *k)
{
    return k->ksk && k->zsk ? "CSK" : k->ksk ? "KSK" : k->zsk ? "ZSK" : "-";
}

static void utc(time_t t, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void zone_json(const struct zone *z, const char *name, bool first, struct strbuf *out)
{
    const struct zone_sec *s = z->sec;
    sb_printf(out, "%s{\"name\": ", first ? "" : ", ");
    sb_json_str(out, name);
    if (!s) {
        sb_puts(out, ", \"signed\": false}");
        return;
    }
    sb_printf(out,
              ", \"signed\": true, \"signatures\": %llu, \"next_refresh\": %lld, "
              "\"earliest_expiry\": %lld, \"keys\": [",
              (unsigned long long)s->signatures, (long long)s->refresh_at, (long long)s->expires);
    for (unsigned i = 0; i < s->nkeys; i++) {
        const struct sign_keyinfo *k = &s->info[i];
        sb_printf(out, "%s{\"tag\": %u, \"algorithm\": %u, \"role\": \"%s\", \"state\": \"%s\"}",
                  i ? ", " : "", k->tag, k->algorithm, role(k), states[k->state]);
    }
    sb_puts(out, "]}");
}

static void zone_text(const struct zone *z, const char *name, struct strbuf *out)
{
    const struct zone_sec *s = z->sec;
    if (!s) {
        sb_printf(out, "  %s: unsigned\n", name);
        return;
    }
    char next[32], exp[32];
    utc(s->refresh_at, next, sizeof(next));
    utc(s->expires, exp, sizeof(exp));
    sb_printf(out, "  %s: signed, %llu signatures, next refresh %s, earliest expiry %s\n", name,
              (unsigned long long)s->signatures, next, exp);
    for (unsigned i = 0; i < s->nkeys; i++) {
        const struct sign_keyinfo *k = &s->info[i];
        sb_printf(out, "    key %u: algorithm %u, %s, %s\n", k->tag, k->algorithm, role(k),
                  states[k->state]);
    }
}

void signstatus_zones(const struct view *v, struct strbuf *out, bool json)
{
    for (size_t i = 0; i < v->db->nzones; i++) {
        const struct zone *z = v->db->zones[i];
        char name[DNAME_TEXTMAX];
        dname_to_text(z->name, name, sizeof(name));
        if (json)
            zone_json(z, name, i == 0, out);
        else
            zone_text(z, name, out);
    }
}

bool signstatus_ds(const struct view *v, const char *name, struct strbuf *out)
{
    uint8_t want[DNAME_MAX + 1];
    const char *why;
    if (dname_from_text(name, strlen(name), (const uint8_t *)"", want, &why) < 0) {
        sb_printf(out, "\"%s\" is not a domain name: %s\n", name, why);
        return false;
    }
    dname_lower(want);
    for (size_t i = 0; i < v->db->nzones; i++) {
        const struct zone *z = v->db->zones[i];
        if (!dname_equal(z->name, want))
            continue;
        if (!z->sec) {
            sb_printf(out, "zone %s is not signed: give it a dnssec: section\n", name);
            return false;
        }
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f) {
            sb_puts(out, "out of memory\n");
            return false;
        }
        sign_keys_print_ds(z->sec->keys, f);
        fclose(f);
        sb_add(out, text, len);
        free(text);
        return true;
    }
    sb_printf(out, "zone %s is not served; zones: see status\n", name);
    return false;
}

void signstatus_metrics(const struct view *v, struct strbuf *out)
{
    static const char *const fam[3][2] = {
        {"meridian_dnssec_zone_signatures", "RRSIGs made when the zone was last signed."},
        {"meridian_dnssec_next_refresh_timestamp_seconds", "When the zone is signed anew."},
        {"meridian_dnssec_earliest_expiry_timestamp_seconds",
         "When the zone's earliest signature expires; alert well before."},
    };
    for (int f = 0; f < 3; f++) {
        sb_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", fam[f][0], fam[f][1], fam[f][0]);
        for (size_t i = 0; i < v->db->nzones; i++) {
            const struct zone_sec *s = v->db->zones[i]->sec;
            if (!s)
                continue;
            char name[DNAME_TEXTMAX];
            dname_to_text(v->db->zones[i]->name, name, sizeof(name));
            long long val = f == 0   ? (long long)s->signatures
                            : f == 1 ? (long long)s->refresh_at
                                     : (long long)s->expires;
            sb_printf(out, "%s{zone=\"%s\"} %lld\n", fam[f][0], name, val);
        }
    }
}
