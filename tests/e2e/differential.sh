#!/bin/bash
# differential.sh — meridiand against Knot DNS (and NSD, to break ties) on one rich zone:
# a generated corpus of queries, every answer compared field by field and section by
# section.  Differences the RFCs allow are listed in differential/allowed.py with their
# reasons; any other fails with the query and every server's answer.
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

# Without knotd there is nothing to compare against: a plan of no tests that says SKIP,
# and exit 77, the "skipped" status; 0 under make check (TAP_DRIVER=yes), whose TAP
# driver reads the plan but counts any other status as an error.
if ! command -v knotd >/dev/null 2>&1; then
    TAP_DONE=true
    echo "1..0 # SKIP knotd is not installed (Debian: apt-get install knot)"
    [ "${TAP_DRIVER:-}" = yes ] && exit 0
    exit 77
fi

DIFF_DIR=$E2E_DIR/differential
ZONE=rich.example
SEED=${DIFF_SEED:-13}
COUNT=${DIFF_COUNT:-2000} # at least; every name × type is asked once whatever the count
cp "$DIFF_DIR/$ZONE.zone" "$TEST_TMP/"

# ---- meridiand ----------------------------------------------------------------------------

PORT=$(free_port)
cat >"$TEST_TMP/meridian.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
  udp_payload: 1232
zones:
  $ZONE: $ZONE.zone
EOF
start_server "$TEST_TMP/meridian.yaml"

# ---- knotd: its own config, storage and rundir -------------------------------------------

KNOT_PORT=$(free_port)
mkdir -p "$TEST_TMP/knot"
cat >"$TEST_TMP/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$KNOT_PORT
    rundir: $TEST_TMP/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    udp-max-payload: 1232
database:
    storage: $TEST_TMP/knot
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: $TEST_TMP
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: $ZONE
    file: $ZONE.zone
EOF
knotd -c "$TEST_TMP/knot/knot.conf" >"$TEST_TMP/knot/knotd.log" 2>&1 &
KNOT_PID=$!
SERVER_PIDS+=("$KNOT_PID") # stop_server sends SIGTERM to exactly this PID

# Up when the zone is loaded: an authoritative SOA, not SERVFAIL while it loads.
zone_up()
{
    dig +tries=1 +time=1 +norec -p "$1" @127.0.0.1 "$ZONE" SOA 2>/dev/null |
        grep -q "status: NOERROR" || ! alive "$2"
}
if ! wait_for zone_up "$KNOT_PORT" "$KNOT_PID" || ! alive "$KNOT_PID"; then
    bail_out "knotd serves $ZONE on 127.0.0.1:$KNOT_PORT" "$(tail -n 20 "$TEST_TMP/knot/knotd.log")"
fi
SERVERS=("meridiand=127.0.0.1:$PORT" "knotd=127.0.0.1:$KNOT_PORT")

# ---- nsd, when installed: the third opinion -----------------------------------------------

if command -v nsd >/dev/null 2>&1; then
    NSD_PORT=$(free_port)
    mkdir -p "$TEST_TMP/nsd"
    cat >"$TEST_TMP/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$NSD_PORT
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$TEST_TMP"
    database: ""
    zonelistfile: "$TEST_TMP/nsd/zone.list"
    xfrdfile: "$TEST_TMP/nsd/xfrd.state"
    xfrdir: "$TEST_TMP/nsd"
    pidfile: "$TEST_TMP/nsd/nsd.pid"
    logfile: "$TEST_TMP/nsd/nsd.log"
    ipv4-edns-size: 1232
    refuse-any: no
remote-control:
    control-enable: no
zone:
    name: $ZONE
    zonefile: $ZONE.zone
EOF
    # -d: stays in the foreground, so its PID is the one we started.
    nsd -d -c "$TEST_TMP/nsd/nsd.conf" >"$TEST_TMP/nsd/stderr.log" 2>&1 &
    NSD_PID=$!
    SERVER_PIDS+=("$NSD_PID")
    if wait_for zone_up "$NSD_PORT" "$NSD_PID" && alive "$NSD_PID"; then
        SERVERS+=("nsd=127.0.0.1:$NSD_PORT")
    else
        diag "nsd did not come up; comparing with knotd alone" \
            "$(tail -n 5 "$TEST_TMP/nsd/nsd.log" "$TEST_TMP/nsd/stderr.log" 2>/dev/null)"
    fi
fi

# ---- the corpus ---------------------------------------------------------------------------

py_tap "$DIFF_DIR/diffq.py" "$TEST_TMP/$ZONE.zone" "$ZONE." "$SEED" "$COUNT" "${SERVERS[@]}"

check "meridiand is still running" alive "$SERVER_PID"
check "knotd is still running" alive "$KNOT_PID"
done_testing
