/* privilege.c — chroot, setgid, setuid, in that order, and a check that root is gone.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "server/privilege.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

/* Names are looked up before the chroot, where /etc may not exist. */
static int lookup(const struct config *c, uid_t *uid, gid_t *gid, struct diag *d)
{
    if (c->server.user) {
        struct passwd *pw = getpwnam(c->server.user);
        if (!pw) {
            diag_error(d, c->path, 0, 0, "server.user: no user \"%s\" on this system",
                       c->server.user);
            return -1;
        }
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
    }
    if (c->server.group) {
        struct group *gr = getgrnam(c->server.group);
        if (!gr) {
            diag_error(d, c->path, 0, 0, "server.group: no group \"%s\" on this system",
                       c->server.group);
            return -1;
        }
        *gid = gr->gr_gid;
    }
    return 0;
}

static int confine(const char *root, struct diag *d)
{
    if (chdir(root) < 0 || chroot(root) < 0 || chdir("/") < 0) {
        diag_error(d, NULL, 0, 0, "cannot chroot to %s: %s", root, strerror(errno));
        return -1;
    }
    return 0;
}

static int become(uid_t uid, gid_t gid, bool set_uid, bool set_gid, struct diag *d)
{
    /* Already that user (started unprivileged, e.g. by systemd): nothing to drop. */
    if ((!set_uid || getuid() == uid) && (!set_gid || getgid() == gid) && getuid() != 0)
        return 0;
    if (set_gid && (setgroups(1, &gid) < 0 || setgid(gid) < 0)) {
        diag_error(d, NULL, 0, 0, "cannot switch to group %u: %s", (unsigned)gid, strerror(errno));
        return -1;
    }
    if (set_uid && setuid(uid) < 0) {
        diag_error(d, NULL, 0, 0, "cannot switch to user %u: %s", (unsigned)uid, strerror(errno));
        return -1;
    }
    /* Proof that it is final: a process that can become root again has not dropped it. */
    if (set_uid && uid != 0 && setuid(0) == 0) {
        diag_error(d, NULL, 0, 0, "root privileges could be regained after dropping them");
        return -1;
    }
    return 0;
}

/* Set once root is given up: from then on files are read as the process is, and the
 * groups are never touched again (a reload reads on a thread of its own). */
static bool dropped;

int privilege_drop(const struct config *c, struct diag *d)
{
    uid_t uid = 0;
    gid_t gid = 0;
    if (lookup(c, &uid, &gid, d) < 0)
        return -1;
    if (c->server.chroot && confine(c->server.chroot, d) < 0)
        return -1;
    if (become(uid, gid, c->server.user != NULL, c->server.user || c->server.group, d) < 0)
        return -1;
    dropped = true;
    return 0;
}

int privilege_read_as(const struct config *c, struct read_identity *saved, struct diag *d)
{
    uid_t uid = 0;
    gid_t gid = 0, groups[64];
    int n = 64;
    saved->active = false;
    if (dropped || getuid() != 0 || (!c->server.user && !c->server.group) ||
        lookup(c, &uid, &gid, d) < 0)
        return d->errors ? -1 : 0;
    if (c->server.user) {
        if (getgrouplist(c->server.user, gid, groups, &n) < 0)
            n = 1, groups[0] = gid; /* more than 64: the primary group alone, the stricter */
    } else {
        n = 1;
        groups[0] = gid;
    }
    saved->ngroups = getgroups(64, saved->groups);
    if (saved->ngroups < 0 || setgroups((size_t)n, groups) < 0) {
        diag_error(d, NULL, 0, 0, "cannot take the groups of the server's user: %s",
                   strerror(errno));
        return -1;
    }
    saved->gid = (gid_t)setfsgid(gid);
    saved->uid = (uid_t)setfsuid(c->server.user ? uid : 0);
    saved->active = true;
    return 0;
}

void privilege_read_restore(struct read_identity *saved)
{
    if (!saved->active)
        return;
    /* Root's filesystem identity first: it brings back the right to set the groups. */
    setfsuid(saved->uid);
    setfsgid(saved->gid);
    if (setgroups((size_t)saved->ngroups, saved->groups) < 0)
        abort(); /* running on with the wrong groups would be worse */
    saved->active = false;
}

int privilege_give(const char *path, const struct config *c, struct diag *d)
{
    uid_t uid = 0;
    gid_t gid = 0;
    if (getuid() != 0 || (!c->server.user && !c->server.group))
        return 0;
    if (lookup(c, &uid, &gid, d) < 0)
        return -1;
    if (chown(path, c->server.user ? uid : (uid_t)-1, gid) < 0) {
        diag_error(d, NULL, 0, 0, "cannot give %s to the server's user: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
