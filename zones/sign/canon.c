/* canon.c — the canonical order of names (RFC 4034 §6.1).
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "zones/dname.h"
#include "zones/sign/signint.h"

#include <string.h>

int sign_canon_cmp(const uint8_t *a, const uint8_t *b)
{
    uint8_t oa[DNAME_LABELS], ob[DNAME_LABELS];
    unsigned na = dname_label_offsets(a, oa), nb = dname_label_offsets(b, ob);
    /* Labels from the rightmost; a name sorts before the names below it. */
    for (unsigned i = 1; i <= na && i <= nb; i++) {
        const uint8_t *la = a + oa[na - i], *lb = b + ob[nb - i];
        unsigned l = la[0] < lb[0] ? la[0] : lb[0];
        int c = memcmp(la + 1, lb + 1, l);
        if (c)
            return c;
        if (la[0] != lb[0])
            return la[0] < lb[0] ? -1 : 1;
    }
    return na == nb ? 0 : na < nb ? -1 : 1;
}
