#!/bin/bash
# steering.sh — safe traffic steering end to end: the deployment guides' weight flow with
# gradual shifts, measured over 2,000 queries a step; a shift rolled back when a region
# gaining traffic dies; a restart in the middle of a shift; guard rails on drains; manual
# failback across a restart; ttl_degraded following a failing probe, a shift and fail open.
# SPDX-License-Identifier: MIT
#
# Each region's address is its own loopback address with a fake HTTP target from
# health/backend.py on it, so killing a target fails that region's probes.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=control/helpers.sh
. "$E2E_DIR/control/helpers.sh"

STEERPY=$E2E_DIR/steering/steer.py
BE=$TEST_TMP/be
N=2000
R1=127.0.0.11 R2=127.0.0.21 R3=127.0.0.31
SOCK=$TEST_TMP/control.sock
STATE=$TEST_TMP/state.yaml

# ---- fake targets ---------------------------------------------------------------------------

declare -A BACKEND=()
stop_backends()
{
    local k
    for k in "${!BACKEND[@]}"; do stop_backend "$k"; done
}
trap 'stop_backends; cleanup' EXIT

backend_ready() { [ -e "$BE/$1/ready" ] || ! alive "${BACKEND[$1]}"; }

# start_backend ADDR: an HTTP target on ADDR:$HP answering "200 OK" (see set_answer).
start_backend()
{
    mkdir -p "$BE/$1"
    rm -f "$BE/$1/ready"
    # The interpreter itself, not helpers.sh's python3 function: $! must be its PID.
    "$PY" -S "$E2E_DIR/health/backend.py" http "$1" "$HP" "$BE/$1" 2>>"$BE/$1/stderr" &
    BACKEND[$1]=$!
    wait_for backend_ready "$1" && alive "${BACKEND[$1]}" ||
        bail_out "backend.py listens on $1:$HP" "$(tail -n 5 "$BE/$1/stderr")"
}

stop_backend()
{
    local pid=${BACKEND[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "BACKEND[$1]"
}

set_answer() { printf '%s\n' "$2" >"$BE/$1/answer.tmp" && mv "$BE/$1/answer.tmp" "$BE/$1/answer"; }

# ---- the server -----------------------------------------------------------------------------

PORT=$(free_port)
HP=$(free_port)
MPORT=$(free_port)
cat >"$TEST_TMP/example.com.zone" <<'EOF2'
$ORIGIN example.com.
$TTL 300
@     IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      IN NS  ns1
ns1   IN A   192.0.2.53
api   60 IN DYNA api
pay   60 IN DYNA pay
tele  60 IN DYNA tele
EOF2
cat >"$TEST_TMP/steering.yaml" <<EOF2
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 2
  control: $SOCK
  state: $STATE
  metrics: 127.0.0.1:$MPORT
checks:
  # Lenient enough that a loaded test machine does not make a live target flap.
  fast: { url: "http://{address}:$HP/health", interval: 400ms, timeout: 300ms, fall: 3, rise: 2 }
  # Never down: one failed probe leaves the address up but failing, for ttl_degraded.
  slow: { url: "http://{address}:$HP/health", interval: 400ms, timeout: 300ms, fall: 1000, rise: 1 }
regions:
  r1: { addresses: [$R1], check: fast }
  r2: { addresses: [$R2], check: fast }
  r3: { addresses: [$R3], check: slow }
services:
  api:  { policy: weighted, weights: { r1: 80, r2: 20 }, ttl: 30, ttl_degraded: 5 }
  pay:  { policy: failover, order: [r1, r2], failback: manual, ttl: 30 }
  tele: { policy: failover, order: [r3], ttl: 30, ttl_degraded: 5 }
  web:  { policy: geo, map: { GB: [r2], default: [r1, r2] } }
zones:
  example.com: example.com.zone
EOF2

split() { py_tap "$STEERPY" split "$PORT" api.example.com "$N" "$@"; }
only() { py_tap "$STEERPY" only "$PORT" "$1.example.com" 100 "$2" "$3"; }
# ttl_of NAME: "TTL ADDR" of the first answer record.
ttl_of() { dig_raw +noall +answer "$1.example.com" A | awk 'NR == 1 { print $2, $5 }'; }
ttl_is() { [ "$(ttl_of "$1")" = "$2" ]; }
shift_state() { "$MERIDIANCTL" -s "$SOCK" --json shift status api | jget shifts/api/state 2>/dev/null; }
shift_idle() { [ "$(shift_state)" = '"idle"' ]; }
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
log_has() { [ "$(log_count "$1")" -gt 0 ]; }
# up_again ADDR BEFORE: the log has more "ADDR is UP" lines than BEFORE.
up_count() { log_count "health: r. ${1//./\\.} is UP"; }
up_again() { [ "$(up_count "$1")" -gt "$2" ]; }
r1_at_most() { [ "$(status_json services/api/regions/r1/weight)" -le "$1" ]; }

for a in $R1 $R2 $R3; do start_backend "$a"; done
start_server "$TEST_TMP/steering.yaml"
wait_for log_has 'health: r1 .* UP|ready' >/dev/null

# ---- 1. the guides' flow: 80/20 -> 50/50 -> 100/0 -> back, in gradual shifts --------------------

split "$R1=80" "$R2=20"
check_ctl "shift api to 50/50, 15 a step every 2 seconds" 0 "^service api: shifting from r1 80, r2 20 to r1 50, r2 50" \
    shift api r1=50 r2=50 --step 15 --every 2s
check_eq "the first step is taken at once: r1 65" 65 "$(status_json services/api/regions/r1/weight)"
check_match "status shows the shift running" '^"running, 1 step\(s\), 0 rollback\(s\); last: step 1: r1 65, r2 35"$' \
    "$(status_json services/api/shift)"
check_eq "while the shift runs, api's answers carry ttl_degraded (5)" 5 "$(ttl_of api | cut -d' ' -f1)"
check "the shift reaches 50/50 and ends" wait_for shift_idle
check_match "shift status: done, 2 steps" "^api: idle, 2 step\(s\), 0 rollback\(s\); last: done \(r1 50, r2 50\)" \
    "$("$MERIDIANCTL" -s "$SOCK" shift status)"
check_eq "after the shift api's TTL is 30 again" 30 "$(ttl_of api | cut -d' ' -f1)"
split "$R1=50" "$R2=50"
ok_ctl shift api r1=100 r2=0 --step 50 --every 1s
check "the shift to 100/0 ends" wait_for shift_idle
split "$R1=100" "$R2=0"
ok_ctl shift api r1=80 r2=20 --step 20 --every 1s
check "the shift back to 80/20 ends" wait_for shift_idle
split "$R1=80" "$R2=20"
check_eq "every step was logged (2 + 1 + 1)" 4 "$(log_count 'shift: service api step')"
check_eq "meridian_shift_steps_total counts them" 4 "$(metric 'meridian_shift_steps_total{service="api"}')"
check_ctl "a shift of a service that is not weighted is refused" 1 "only a service with policy: weighted" \
    shift pay r1=50 r2=50

# ---- 2. a region gaining traffic dies mid-shift: rollback ----------------------------------

ok_ctl shift api r1=20 r2=80 --step 10 --every 1s
check "the shift runs: r1 down to 60" wait_for r1_at_most 60
check_eq "the shift is running" '"running"' "$(shift_state)"
stop_backend "$R2"
check "r2 dies: the shift rolls back, and the log says why" wait_for log_has \
    'shift: service api rolled back to the starting weights: r2, which gains traffic, turned unhealthy'
check_eq "the starting weights are back: r1 80, r2 20" "80 20" \
    "$(status_json services/api/regions/r1/weight) $(status_json services/api/regions/r2/weight)"
check_match "shift status says it rolled back" "^api: idle, .* 1 rollback\(s\); last: rolled back to the starting weights: r2, which gains traffic, turned unhealthy" \
    "$("$MERIDIANCTL" -s "$SOCK" shift status api)"
ctl status
check_match "status shows api's shift and its rollback" \
    "^    shift: idle, [0-9]+ step\(s\), 1 rollback\(s\); last: rolled back to the starting weights" "$CTL_OUT"
check_eq "meridian_shift_rollbacks_total is 1" 1 "$(metric 'meridian_shift_rollbacks_total{service="api"}')"
only api "r2 dead: every answer is r1" "$R1"
before=$(up_count "$R2")
start_backend "$R2"
check "r2 back up" wait_for up_again "$R2" "$before"
split "$R1=80" "$R2=20"

# ---- 3. a restart in the middle of a shift resumes it ---------------------------------------

ok_ctl shift api r1=20 r2=80 --step 10 --every 1s
check "the shift runs: r1 down to 60" wait_for r1_at_most 60
stop_server >/dev/null
check_match "the state file holds the plan" '^    shift: \{from: \{r1: 80, r2: 20\}, to: \{r1: 20, r2: 80\}, step: 10, every_ms: 1000, paused: false\}$' \
    "$(cat "$STATE")"
r1_saved=$(sed -n 's/^    weights: {r1: \([0-9]*\), r2: [0-9]*}$/\1/p' "$STATE")
check "the server stopped mid-shift (r1 at $r1_saved, between 80 and 20)" \
    test "$r1_saved" -lt 80 -a "$r1_saved" -gt 20
start_server "$TEST_TMP/steering.yaml"
check "the restarted server resumes the plan" log_has 'shift: service api: resuming the shift of the state file'
check "... and carries it to the end" wait_for shift_idle
check_match "... from the saved weights on: its first step is r1 $((r1_saved - 10))" \
    "step 1: r1 $((r1_saved - 10)), r2 $((100 - r1_saved + 10))" "$(grep 'shift: service api step 1:' "$SERVER_LOG")"
split "$R1=20" "$R2=80"

# The service fails open mid-shift (both regions drained): the shift rolls back as well.
ok_ctl shift api r1=50 r2=50 --step 10 --every 5s
ok_ctl drain r1 --force
check_eq "one region drained: the shift still runs" '"running"' "$(shift_state)"
ok_ctl drain r2 --force
check "api fails open: the shift rolls back, and the log says why" log_has \
    'shift: service api rolled back to the starting weights: the service started failing open'
check_eq "... to its starting weights, r1 20, r2 80" "20 80" \
    "$(status_json services/api/regions/r1/weight) $(status_json services/api/regions/r2/weight)"
ok_ctl undrain r1
ok_ctl undrain r2

# ---- 4. guard rails -----------------------------------------------------------------------

sum=$(state_sum)
check_ctl "drain r2, the last usable region of web's GB entry, is refused (exit 1)" 1 \
    "^refused: that would leave service web entry GB with no usable region" drain r2
check_eq "the refused drain leaves the state file unchanged" "$sum" "$(state_sum)"
check_ctl "drain r2 --force does it" 0 "^region r2 drained\$" drain r2 --force
check "the log says it was forced" log_has 'control: forced \(drain\): service web entry GB left with no usable region'
ok_ctl undrain r2

# ---- 5. manual failback -------------------------------------------------------------------

only pay "pay starts on its primary r1" "$R1"
stop_backend "$R1"
check "r1 dies: pay fails over to r2" wait_for ttl_is pay "30 $R2"
check "the log says the hold" log_has 'failback: service pay failed over to r2; failback is manual'
check_ctl "failback while r1 is down is refused" 1 "^refused: no region before r2" failback pay
before=$(up_count "$R1")
start_backend "$R1"
check "r1 comes back up" wait_for up_again "$R1" "$before"
only pay "r1 up again: pay stays on r2" "$R2"
ctl status
check_match "status: pay HELD on r2" "^  pay: policy failover, HELD on r2" "$CTL_OUT"
check_eq "the state file holds the hold" '"r2"' "$(python3 - "$STATE" <<'PY'
import re, sys
m = re.search(r"^  pay:\n    held: (\S+)$", open(sys.argv[1]).read(), re.M)
print('"%s"' % m.group(1) if m else "none")
PY
)"
stop_server >/dev/null
start_server "$TEST_TMP/steering.yaml"
only pay "after a restart pay is still held on r2" "$R2"
check_ctl "failback pay" 0 "^service pay failed back from r2 to r1\$" failback pay
only pay "after failback pay answers r1" "$R1"
check_eq "--json status: pay is held nowhere" null "$(status_json services/pay/held)"

# ---- 6. ttl_degraded --------------------------------------------------------------------

check_eq "tele healthy: TTL 30" "30 $R3" "$(ttl_of tele)"
set_answer "$R3" "503 BROKEN"
check "one failed probe: tele's answers carry ttl_degraded 5, r3 still in them" wait_for ttl_is tele "5 $R3"
set_answer "$R3" "200 OK"
check "the probe passes again: TTL 30 again" wait_for ttl_is tele "30 $R3"
stop_backend "$R3"
check "fall open: tele's only region failing, answers keep ttl_degraded" wait_for ttl_is tele "5 $R3"

stop_server >/dev/null
done_testing
