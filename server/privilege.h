/* privilege.h — giving up root once every socket is bound: optional chroot, then the
 * configured group and user.
 * SPDX-License-Identifier: MIT */
#pragma once

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* Applies server.chroot, server.group and server.user (each optional).  -1 with the
 * reason in d: the server must not go on with privileges it was told to drop. */
int privilege_drop(const struct config *c, struct diag *d) F_WUNUSED;
