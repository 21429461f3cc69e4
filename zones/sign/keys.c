/* keys.c — a zone's signing keys: the .key and .private files ldns-keygen writes, checked
 * against the zone, and the DS records for the parent.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/sign/signint.h"
#include "zones/dname.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DNSKEY_SEP  0x0001
#define DNSKEY_ZONE 0x0100

struct keyctx {
    const struct sign_policy *p;
    const struct sign_keyspec *ks;
    struct diag *d;
};

#define KEY_ERROR(c, ...)                                                                          \
    diag_error((c)->d, (c)->p->conf_file, (c)->ks->line, (c)->ks->col, __VA_ARGS__)

static FILE *open_part(const struct keyctx *c, const char *suffix, struct stat *st)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", c->ks->path, suffix);
    FILE *f = fopen(path, "r");
    if (!f || fstat(fileno(f), st) < 0) {
        KEY_ERROR(c,
                  "key file %s: %s; give the path without .key/.private, as ldns-keygen "
                  "printed it",
                  path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    if (!S_ISREG(st->st_mode)) {
        KEY_ERROR(c, "key file %s is not a regular file", path);
        fclose(f);
        return NULL;
    }
    return f;
}

/* The public half: a DNSKEY record of this zone with a usable algorithm. */
static ldns_rr *read_public(const struct keyctx *c, const uint8_t *origin)
{
    struct stat st;
    FILE *f = open_part(c, ".key", &st);
    if (!f)
        return NULL;
    ldns_rr *rr = NULL;
    ldns_status s;
    do
        s = ldns_rr_new_frm_fp(&rr, f, NULL, NULL, NULL);
    while (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL);
    fclose(f);
    if (s != LDNS_STATUS_OK || ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY) {
        KEY_ERROR(c, "%s.key holds no DNSKEY record (%s)", c->ks->path,
                  s == LDNS_STATUS_OK ? "another type" : ldns_get_errorstr_by_id(s));
        ldns_rr_free(rr);
        return NULL;
    }
    ldns_rdf *owner = ldns_rr_owner(rr);
    ldns_dname2canonical(owner);
    uint8_t alg = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
    if (ldns_rdf_size(owner) != dname_len(origin) ||
        memcmp(ldns_rdf_data(owner), origin, dname_len(origin)) != 0) {
        char *o = ldns_rdf2str(owner);
        KEY_ERROR(c, "%s.key is a key of %s, not of this zone", c->ks->path, o ? o : "?");
        free(o);
    } else if (alg != LDNS_ECDSAP256SHA256 && alg != LDNS_ED25519) {
        KEY_ERROR(c,
                  "%s.key: algorithm %u is not supported; use 13 (ECDSAP256SHA256) or 15 "
                  "(ED25519)",
                  c->ks->path, alg);
    } else {
        return rr;
    }
    ldns_rr_free(rr);
    return NULL;
}

/* The private half: readable by us alone, and the same key pair as pub. */
static ldns_key *read_private(const struct keyctx *c, const ldns_rr *pub)
{
    struct stat st;
    FILE *f = open_part(c, ".private", &st);
    if (!f)
        return NULL;
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        KEY_ERROR(c, "%s.private may be read by any user; chmod o-rw it", c->ks->path);
        fclose(f);
        return NULL;
    }
    ldns_key *k = NULL;
    int line = 0;
    ldns_status s = ldns_key_new_frm_fp_l(&k, f, &line);
    fclose(f);
    if (s != LDNS_STATUS_OK) {
        KEY_ERROR(c, "%s.private:%d: not a private key ldns can use (%s)", c->ks->path, line,
                  ldns_get_errorstr_by_id(s));
        return NULL;
    }
    ldns_key_set_flags(k, ldns_rdf2native_int16(ldns_rr_rdf(pub, 0)));
    ldns_key_set_pubkey_owner(k, ldns_rdf_clone(ldns_rr_owner(pub)));
    ldns_rr *derived = ldns_key2rr(k);
    bool same = derived && ldns_rdf_compare(ldns_rr_rdf(derived, 3), ldns_rr_rdf(pub, 3)) == 0 &&
                ldns_key_algorithm(k) == ldns_rdf2native_int8(ldns_rr_rdf(pub, 2));
    ldns_rr_free(derived);
    if (!same) {
        KEY_ERROR(c, "%s.private and %s.key are not one key pair", c->ks->path, c->ks->path);
        ldns_key_deep_free(k);
        return NULL;
    }
    return k;
}

static bool load_one(struct sign_keys *keys, const struct keyctx *c, const uint8_t *origin)
{
    ldns_rr *pub = read_public(c, origin);
    ldns_key *priv = pub ? read_private(c, pub) : NULL;
    if (!priv) {
        ldns_rr_free(pub);
        return false;
    }
    struct sign_key *k = &keys->k[keys->n++];
    k->key = priv;
    k->dnskey = pub;
    k->flags = ldns_rdf2native_int16(ldns_rr_rdf(pub, 0));
    k->tag = ldns_calc_keytag(pub);
    k->algorithm = ldns_rdf2native_int8(ldns_rr_rdf(pub, 2));
    k->state = c->ks->state;
    ldns_key_set_keytag(priv, k->tag);
    if (!(k->flags & DNSKEY_ZONE))
        KEY_ERROR(c, "%s.key lacks the Zone Key flag (RFC 4034 §2.1.1); flags %u", c->ks->path,
                  k->flags);
    return (k->flags & DNSKEY_ZONE) != 0;
}

/* RFC 6781 §3.1: with a KSK/ZSK split the SEP keys sign DNSKEY and the others the rest;
 * a key alone in its kind (a CSK, or keys all with or all without SEP) signs everything. */
static void assign_roles(struct sign_keys *keys, const struct sign_policy *p, struct diag *d)
{
    bool sep = false, other = false;
    for (unsigned i = 0; i < keys->n; i++) {
        if (keys->k[i].state != SIGN_KEY_ACTIVE)
            continue;
        sep |= keys->k[i].flags & DNSKEY_SEP;
        other |= !(keys->k[i].flags & DNSKEY_SEP);
    }
    for (unsigned i = 0; i < keys->n; i++) {
        struct sign_key *k = &keys->k[i];
        bool is_sep = k->flags & DNSKEY_SEP, active = k->state == SIGN_KEY_ACTIVE;
        k->signs_keys = active && (is_sep || !sep);
        k->signs_zone = active && (!is_sep || !other);
    }
    const struct sign_keyspec *at = &p->keys[0];
    if (!sep && !other)
        diag_error(d, p->conf_file, at->line, at->col,
                   "no active key: every key is marked publish or retire");
}

struct sign_keys *sign_keys_load(const struct sign_policy *p, const uint8_t *origin, struct diag *d)
{
    struct sign_keys *keys = calloc(1, sizeof(*keys));
    if (!keys)
        return NULL;
    unsigned before = d->errors;
    for (size_t i = 0; i < p->nkeys; i++) {
        struct keyctx c = {p, &p->keys[i], d};
        if (keys->n == SIGN_MAX_KEYS) {
            KEY_ERROR(&c, "more than %d keys for one zone", SIGN_MAX_KEYS);
            break;
        }
        (void)load_one(keys, &c, origin);
    }
    for (unsigned i = 0; i < keys->n; i++)
        for (unsigned j = 0; j < i; j++)
            if (keys->k[i].tag == keys->k[j].tag && keys->k[i].algorithm == keys->k[j].algorithm)
                diag_error(d, p->conf_file, p->keys[i].line, p->keys[i].col,
                           "key tag %u is listed twice", keys->k[i].tag);
    if (d->errors == before && keys->n)
        assign_roles(keys, p, d);
    if (d->errors != before || !keys->n) {
        sign_keys_free(keys);
        return NULL;
    }
    return keys;
}

void sign_keys_free(struct sign_keys *k)
{
    if (!k)
        return;
    for (unsigned i = 0; i < k->n; i++) {
        ldns_key_deep_free(k->k[i].key);
        ldns_rr_free(k->k[i].dnskey);
    }
    free(k);
}

/* The keys a parent's DS should name: the SEP keys, or every key when none has SEP. */
static bool wants_ds(const struct sign_keys *k, const struct sign_key *key)
{
    bool any_sep = false;
    for (unsigned i = 0; i < k->n; i++)
        any_sep |= k->k[i].flags & DNSKEY_SEP;
    return (key->flags & DNSKEY_SEP) || !any_sep;
}

unsigned sign_keys_print_ds(const struct sign_keys *k, FILE *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < k->n; i++) {
        if (!wants_ds(k, &k->k[i]) || k->k[i].state == SIGN_KEY_RETIRE)
            continue;
        ldns_rr *ds = ldns_key_rr2ds(k->k[i].dnskey, LDNS_SHA256);
        if (!ds)
            continue;
        ldns_rr_print(out, ds);
        ldns_rr_free(ds);
        n++;
    }
    return n;
}
