#!/bin/bash
# differential.sh — meridiand against Knot DNS (and NSD, to break ties) on two zones
# (rich.example: a bit of everything; wild.example: a wildcard at the apex): a generated
# corpus of queries, every answer compared field by field and section by section.  Differences the RFCs allow are listed in differential/allowed.py with their
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
ZONES=(rich.example wild.example)
SEED=${DIFF_SEED:-13}
COUNT=${DIFF_COUNT:-2000} # per zone, at least: every name × type is asked once anyway
for z in "${ZONES[@]}"; do cp "$DIFF_DIR/$z.zone" "$TEST_TMP/"; done

# ---- meridiand ----------------------------------------------------------------------------

PORT=$(free_port)
cat >"$TEST_TMP/meridian.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
  udp_payload: 1232
zones:
$(for z in "${ZONES[@]}"; do echo "  $z: $z.zone"; done)
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
$(for z in "${ZONES[@]}"; do printf '  - domain: %s\n    file: %s.zone\n' "$z" "$z"; done)
EOF
knotd -c "$TEST_TMP/knot/knot.conf" >"$TEST_TMP/knot/knotd.log" 2>&1 &
KNOT_PID=$!
SERVER_PIDS+=("$KNOT_PID") # stop_server sends SIGTERM to exactly this PID

# Up when every zone is loaded: an authoritative SOA, not SERVFAIL while it loads.  Knot
# and NSD may take longer than meridiand on a loaded machine; 30 s bounds the wait.
zone_up()
{
    local z
    alive "$2" || return 0
    for z in "${ZONES[@]}"; do
        dig +tries=1 +time=1 +norec -p "$1" @127.0.0.1 "$z" SOA 2>/dev/null |
            grep -q "status: NOERROR" || return 1
    done
}
if ! WAIT_TIMEOUT=30 wait_for zone_up "$KNOT_PORT" "$KNOT_PID" || ! alive "$KNOT_PID"; then
    bail_out "knotd serves ${ZONES[*]} on 127.0.0.1:$KNOT_PORT" "$(tail -n 20 "$TEST_TMP/knot/knotd.log")"
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
$(for z in "${ZONES[@]}"; do printf 'zone:\n    name: %s\n    zonefile: %s.zone\n' "$z" "$z"; done)
EOF
    # -d: stays in the foreground, so its PID is the one we started.
    nsd -d -c "$TEST_TMP/nsd/nsd.conf" >"$TEST_TMP/nsd/stderr.log" 2>&1 &
    NSD_PID=$!
    SERVER_PIDS+=("$NSD_PID")
    if WAIT_TIMEOUT=30 wait_for zone_up "$NSD_PORT" "$NSD_PID" && alive "$NSD_PID"; then
        SERVERS+=("nsd=127.0.0.1:$NSD_PORT")
    else
        diag "nsd did not come up; comparing with knotd alone" \
            "$(tail -n 5 "$TEST_TMP/nsd/nsd.log" "$TEST_TMP/nsd/stderr.log" 2>/dev/null)"
    fi
fi

# ---- the corpus ---------------------------------------------------------------------------

for z in "${ZONES[@]}"; do
    diag "zone $z"
    py_tap "$DIFF_DIR/diffq.py" "$TEST_TMP/$z.zone" "$z." "$SEED" "$COUNT" "${SERVERS[@]}"
done

check "meridiand is still running" alive "$SERVER_PID"
check "knotd is still running" alive "$KNOT_PID"
done_testing
