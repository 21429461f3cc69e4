/* guard.c — finding what a change would leave without a usable region.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/guard.h"

unsigned guard_breaks(const struct dyn *d, const struct dyn_without *w, struct strbuf *out)
{
    unsigned n = 0;
    for (unsigned s = 0; s < dyn_service_count(d); s++) {
        unsigned entries = dyn_entry_count(d, s);
        for (unsigned e = 0; e < entries; e++) {
            /* An entry that fails open already is not broken by this change. */
            if (!dyn_entry_usable(d, s, e, NULL) || dyn_entry_usable(d, s, e, w))
                continue;
            sb_printf(out, "%sservice %s", n ? ", " : "", dyn_service_name(d, s));
            if (entries > 1)
                sb_printf(out, " entry %s", dyn_entry_label(d, s, e));
            n++;
        }
    }
    return n;
}
