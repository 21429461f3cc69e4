#!/bin/bash
# package.sh — the Debian package end to end: dpkg-buildpackage builds it from a copy of
# the source tree, lintian finds no error in it, its contents are where debian/ says, and
# the server it holds, extracted with dpkg-deb -x, serves the packaged example config on
# loopback.  SPDX-License-Identifier: MIT
#
# A full build: a minute or two.  The copy is the tarball's tree (make distdir), written
# into this test's temporary directory, so the source tree is never touched.  Skipped in
# the sanitizer build: the package is built with Debian's flags, not the sanitizers, so a
# second run would test the same thing again.

. "$(dirname "$0")/lib.sh"

[ "${SANITIZED:-no}" = yes ] &&
    skip_all "the package is built without sanitizers; the plain build's run covers it"
require_tool dpkg-buildpackage dpkg-dev
require_tool dh debhelper
require_tool dpkg-deb dpkg

# How long the package build may take before the test gives up on it, in seconds.
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}

# The make running this test leaves its flags (and any TESTS=) in the environment; the
# inner makes must not inherit them.
inner()
{
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$@"
}

SRC=$TEST_TMP/src/meridian
mkdir -p "$TEST_TMP/src"
inner make -s -C "$top_builddir" distdir distdir="$SRC" >"$TEST_TMP/distdir.log" 2>&1 ||
    bail_out "make distdir copies the source tree" "$(tail -n 20 "$TEST_TMP/distdir.log")"
(cd "$SRC" && dpkg-checkbuilddeps) >"$TEST_TMP/builddeps.log" 2>&1 ||
    skip_all "build dependencies missing: $(tr '\n' ' ' <"$TEST_TMP/builddeps.log")"

# ---- the build ------------------------------------------------------------------------------

(cd "$SRC" && inner timeout -k 10 "$BUILD_TIMEOUT" dpkg-buildpackage -b -us -uc -j2) \
    >"$TEST_TMP/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -b -us -uc builds the package (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || bail_out "the package was built" "$(tail -n 30 "$TEST_TMP/build.log")"
DEB=$(ls "$TEST_TMP"/src/meridian_*.deb 2>/dev/null | head -n 1)
check "the build wrote meridian_*.deb" test -s "$DEB"
[ -s "$DEB" ] || bail_out "there is a .deb to look into"

if command -v lintian >/dev/null 2>&1; then
    lint=$(lintian --fail-on error "$TEST_TMP"/src/meridian_*.changes 2>&1)
    rc=$?
    check "lintian reports no error" test "$rc" -eq 0
    printf '%s\n' "$lint" | grep -E '^[EWI]: ' | diag
else
    ok "lintian reports no error # SKIP lintian is not installed"
fi

# ---- what the package holds -----------------------------------------------------------------

ROOT=$TEST_TMP/root
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$TEST_TMP/control"
for f in usr/sbin/meridiand usr/bin/meridianctl usr/bin/meridianctl-all; do
    check "the package holds /$f" test -x "$ROOT/$f"
done
for f in man8/meridiand.8 man8/meridianctl.8 man8/meridianctl-all.8 man5/meridian.yaml.5; do
    check "the package holds the manual page $f" test -s "$ROOT/usr/share/man/$f.gz"
done
check "the package holds /var/lib/meridian" test -d "$ROOT/var/lib/meridian"
check_eq "the config, its zone and the logrotate file are conffiles" \
    "$(printf '%s\n' /etc/logrotate.d/meridian /etc/meridian/meridian.yaml \
        /etc/meridian/zones/example.com.zone)" \
    "$(LC_ALL=C sort "$TEST_TMP/control/conffiles")"
# postinst with its continued lines joined: one adduser command line.
check_match "postinst makes the meridian system user" \
    '^ *adduser --system --group .* meridian$' \
    "$(sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' "$TEST_TMP/control/postinst")"
UNIT=$ROOT/lib/systemd/system/meridian.service
check_eq "the unit runs the packaged server on the packaged config" \
    "ExecStart=/usr/sbin/meridiand -c /etc/meridian/meridian.yaml" \
    "$(grep '^ExecStart=' "$UNIT" 2>&1)"
check_match "meridiand looks for /etc/meridian/meridian.yaml by default" \
    'default /etc/meridian/meridian\.yaml' "$("$ROOT/usr/sbin/meridiand" -h)"

# ---- the packaged server on the packaged config ---------------------------------------------

# The listen address moves to a free loopback port and the control socket and state file
# into the test's directory; the zone path stays relative.
PORT=$(free_port)
CONF=$ROOT/etc/meridian/meridian.yaml
check_match "the packaged config keeps its control socket under /run/meridian" \
    '^  control: /run/meridian/control\.sock$' "$(cat "$CONF")"
check_match "the packaged config keeps its state under /var/lib/meridian" \
    '^  state: /var/lib/meridian/state\.yaml$' "$(cat "$CONF")"
sed -i -e "s|^  listen: .*|  listen: [\"127.0.0.1:$PORT\"]|" \
    -e "s|^  control: .*|  control: $TEST_TMP/control.sock|" \
    -e "s|^  state: .*|  state: $TEST_TMP/state.yaml|" "$CONF"
check_match "the packaged config names the new port" "127\\.0\\.0\\.1:$PORT" "$(cat "$CONF")"
MERIDIAND=$ROOT/usr/sbin/meridiand start_server "$CONF"
check_dns "the packaged zone answers a static name" "static.example.com A" --skip edns \
    --answer "static.example.com. 60 IN A 192.0.2.80"
# No GeoIP database is configured yet: the geo service answers its default region.
check_dns "a dynamic name gets the default region's addresses" "www.example.com A" \
    --skip edns --answer "www.example.com. 30 IN A 192.0.2.10" \
    --answer "www.example.com. 30 IN A 192.0.2.11"
check "the packaged server stops cleanly on SIGTERM" stop_server

done_testing
