/* rrsig.c — one RRset signed with ldns: our wire form in, RRSIG records in our wire form
 * out (RFC 4034 §3).
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/dname.h"
#include "zones/packet.h"
#include "zones/sign/signint.h"

#include <string.h>

ldns_rr_list *sign_to_ldns(const uint8_t *owner, size_t ownerlen, const uint8_t *wire,
                           uint16_t count)
{
    ldns_rr_list *list = ldns_rr_list_new();
    for (unsigned i = 0; list && i < count; i++) {
        ldns_rr *rr = ldns_rr_new();
        ldns_rdf *o = ldns_dname_new_frm_data((uint16_t)ownerlen, owner);
        size_t rdlen = rd16(wire + 8), pos = 8;
        if (!rr || !o) {
            ldns_rr_free(rr);
            ldns_rdf_deep_free(o);
            ldns_rr_list_deep_free(list);
            return NULL;
        }
        ldns_rr_set_owner(rr, o);
        ldns_rr_set_type(rr, rd16(wire));
        ldns_rr_set_class(rr, rd16(wire + 2));
        ldns_rr_set_ttl(rr, (uint32_t)rd16(wire + 4) << 16 | rd16(wire + 6));
        if (ldns_wire2rdf(rr, wire, 10 + rdlen, &pos) != LDNS_STATUS_OK ||
            !ldns_rr_list_push_rr(list, rr)) {
            ldns_rr_free(rr);
            ldns_rr_list_deep_free(list);
            return NULL;
        }
        wire += 10 + rdlen;
    }
    return list;
}

ldns_key_list *sign_key_list(const struct sign_keys *k, bool keyset)
{
    ldns_key_list *l = ldns_key_list_new();
    for (unsigned i = 0; l && i < k->n; i++)
        if (keyset ? k->k[i].signs_keys : k->k[i].signs_zone)
            ldns_key_list_push_key(l, k->k[i].key);
    return l;
}

void sign_key_list_free(ldns_key_list *l)
{
    if (!l)
        return;
    ldns_key_list_set_key_count(l, 0); /* the keys are not the list's: free only the list */
    ldns_key_list_free(l);
}

/* The rdata of rr, every field uncompressed. */
static size_t rdata_wire(const ldns_rr *rr, uint8_t *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        if (n + ldns_rdf_size(f) > size)
            return 0;
        memcpy(out + n, ldns_rdf_data(f), ldns_rdf_size(f));
        n += ldns_rdf_size(f);
    }
    return n;
}

size_t sign_rr_wire(const ldns_rr *rr, uint8_t *out, size_t size)
{
    if (size < 10)
        return 0;
    size_t n = rdata_wire(rr, out + 10, size - 10);
    if (!n)
        return 0;
    wr16(out, ldns_rr_get_type(rr));
    wr16(out + 2, ldns_rr_get_class(rr));
    wr32(out + 4, ldns_rr_ttl(rr));
    wr16(out + 8, (uint16_t)n);
    return 10 + n;
}

size_t sign_list_wire(const ldns_rr_list *l, uint8_t *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
        size_t one = sign_rr_wire(ldns_rr_list_rr(l, i), out + n, size - n);
        if (!one)
            return 0;
        n += one;
    }
    return n;
}

unsigned sign_rrset_wire(const struct zone *z, const uint8_t *owner, size_t ownerlen,
                         const uint8_t *wire, uint16_t count, uint8_t *out, size_t size,
                         size_t *len)
{
    ldns_rr_list *l = sign_to_ldns(owner, ownerlen, wire, count);
    ldns_key_list *keys = l ? sign_key_list(z->sec->keys, false) : NULL;
    ldns_rr_list *sigs = keys ? ldns_sign_public(l, keys) : NULL;
    *len = sigs ? sign_list_wire(sigs, out, size) : 0;
    unsigned n = *len ? (unsigned)ldns_rr_list_rr_count(sigs) : 0;
    sign_key_list_free(keys);
    ldns_rr_list_deep_free(l);
    ldns_rr_list_deep_free(sigs);
    return n;
}
