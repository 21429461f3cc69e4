/* privilege.h — giving up root once every socket is bound: optional chroot, then the
 * configured group and user.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "lib/compiler.h"
#include "lib/diag.h"
#include "server/conf.h"

/* The identity files are read with while the server is still root. */
struct read_identity {
    bool active;
    uid_t uid;
    gid_t gid;
    int ngroups; /* root's supplementary groups, restored afterwards */
    gid_t groups[64];
};

/* Until privileges are dropped (start-up, -t), files the config names are read as the
 * user and group the server will run as: a file that user cannot read is refused now, as
 * it would be at the next reload, rather than served until then.  Only this thread's
 * filesystem identity changes (setfsuid, setfsgid) but the supplementary groups are the
 * process's, so this runs before any other thread exists.  Nothing happens when the
 * server is not root or names no user or group.  -1 with the reason in d. */
int privilege_read_as(const struct config *c, struct read_identity *saved,
                      struct diag *d) F_WUNUSED;
void privilege_read_restore(struct read_identity *saved);

/* Gives path (a socket the server made as root) to the user and group it will run as,
 * so that it stays the server's own after the drop.  Nothing happens when the server is
 * not root or names no user or group.  -1 with the reason in d. */
int privilege_give(const char *path, const struct config *c, struct diag *d) F_WUNUSED;

/* Applies server.chroot, server.group and server.user (each optional).  -1 with the
 * reason in d: the server must not go on with privileges it was told to drop. */
int privilege_drop(const struct config *c, struct diag *d) F_WUNUSED;
