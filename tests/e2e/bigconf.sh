#!/bin/bash
# bigconf.sh — big configs load in time and answer right: meridiand -t on 1,000 regions ×
# 40 services, 100 × 1,000 and 2,000 × 200 (tests/e2e/big/genconf.py writes them); the
# failover bound held while a 1,002 × 74 config reloads back to back; status and /metrics
# with 10,000 regions, and the control socket's deadline for reading a reply; the control
# socket answering while a reload reads a zone of 300,000 records.
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || bail_out "curl is installed"

D=$TEST_TMP
GEN=$E2E_DIR/big/genconf.py

# Each size in its own directory: genconf writes big.yaml and big.zone there.  The
# timeout only turns a hang into a failure; the loads take well under a second.
for size in "1000 40" "100 1000" "2000 200"; do
    set -- $size
    dir=$D/$1x$2
    mkdir -p "$dir"
    python3 "$GEN" "$dir" "$1" "$2"
    timeout 120 "$MERIDIAND" -t -c "$dir/big.yaml" >"$dir/out" 2>"$dir/err"
    rc=$?
    check "-t on $1 regions x $2 services: exit 0 (got $rc)" test "$rc" -eq 0
    check_match "-t on $1 regions x $2 services: the summary line" \
        "configuration and 1 zone\(s\) OK$" "$(cat "$dir/out")"
    # The last service; when genconf made it a failover service (every fourth), its
    # first region r(i mod regions) is up and must be the one chosen.
    last=$(($2 - 1))
    explain=$(timeout 120 "$MERIDIAND" -c "$dir/big.yaml" --explain \
        "$(printf 's%05d.big.test' "$last")" 192.0.2.1 2>&1)
    want=$(printf 'r%05d' $((last % $1)))
    kind=$((last % 4))
    if [ "$kind" -eq 3 ]; then
        check_match "$1 x $2: failover service s$last answers its first region $want" \
            "^chosen: $want, ECS scope /0$" "$explain"
    else
        check_match "$1 x $2: service s$last chooses a region" "^chosen: r[0-9]{5}," "$explain"
    fi
done

# ---- the failover bound while a 1,002 x 74 config reloads over and over ---------------------

# Region r00000 (127.0.0.2) is watched by a tcp check: interval 2s x fall 1 + timeout 500ms,
# a 2.5 s bound.  Its listener stops while SIGHUPs keep the server reloading the whole
# config; the answer for fo must move to r00001 (127.0.0.3) within the bound, plus a
# margin for a loaded machine.
BOUND_MS=2500
MARGIN_MS=1500
dir=$D/reload
mkdir -p "$dir/be"
PORT=$(free_port)
BPORT=$(free_port)
python3 "$GEN" "$dir" 1002 74 --port "$PORT" --probe "$BPORT"
python3 "$E2E_DIR/health/backend.py" tcp 127.0.0.2 "$BPORT" "$dir/be" 2>"$dir/be.err" &
BE_PID=$!
trap 'kill -TERM "$BE_PID" 2>/dev/null; cleanup' EXIT
backend_up()
{
    [ -e "$dir/be/ready" ] || ! alive "$BE_PID"
}
wait_for backend_up && alive "$BE_PID" || bail_out "the probed backend listens on 127.0.0.2:$BPORT"
start_server "$dir/big.yaml"

fo_is()
{
    [ "$(dig_raw +short fo.big.test A)" = "$1" ]
}
probed()
{
    [ "$(grep -c '^accept' "$dir/be/requests" 2>/dev/null || echo 0)" -ge 1 ]
}
check "fo answers r00000 while its backend is up" wait_for fo_is 127.0.0.2
check "the backend of r00000 is probed" wait_for probed

# Reloads back to back, each waiting for its verdict, until told to stop.
reload_loop()
{
    while [ ! -e "$dir/stop" ]; do
        reload_server >/dev/null || break
    done
}
reload_loop &
LOOP_PID=$!
before=$(log_count 'reload done$')
wait_for log_has_more 'reload done$' "$before" || diag "no reload finished before the failure"

started='SIGHUP: reading the config and every zone again'
verdict='reload (done|done with errors|failed)(:|$)'
starts_at_failure=$(log_count "$started")
running_at_failure=$((starts_at_failure - $(log_count "$verdict")))
t0=$(now_ms)
kill -TERM "$BE_PID"
wait "$BE_PID" 2>/dev/null
if WAIT_POLL=0.02 wait_for fo_is 127.0.0.3; then
    took=$(($(now_ms) - t0))
else
    took=-1
fi
reloads_in_window=$(($(log_count "$started") - starts_at_failure + running_at_failure))
touch "$dir/stop"
wait "$LOOP_PID"
check "during $reloads_in_window reload(s), r00000 left fo's answers within the bound: ${took} ms (bound $BOUND_MS ms + margin $MARGIN_MS ms)" \
    test "$took" -ge 0 -a "$took" -le $((BOUND_MS + MARGIN_MS))
check "the config was reloading meanwhile (reloads running or started in that time)" \
    test "$reloads_in_window" -ge 1
check "every reload succeeded" test "$(log_count 'reload (failed|done with errors)')" -eq 0
check_match "the log says r00000 went DOWN" "health: r00000 127\.0\.0\.2 is DOWN" "$(cat "$SERVER_LOG")"
stop_server

# ---- status and /metrics with 10,000 regions --------------------------------------------

# Loading the big configs and zones below takes a while in a sanitizer build: the waits
# from here on allow a minute (they only bound a hang).
WAIT_TIMEOUT=60

dir=$D/wide
mkdir -p "$dir"
PORT=$(free_port)
MPORT=$(free_port)
python3 "$GEN" "$dir" 10000 40 --port "$PORT" --control "$dir/ctl.sock"
sed -i "s|^  workers: 1$|  workers: 1\n  metrics: 127.0.0.1:$MPORT|" "$dir/big.yaml"
start_server "$dir/big.yaml"
status=$(timeout 60 "$top_builddir/meridianctl" -s "$dir/ctl.sock" status)
check_eq "status names each of the 10,000 regions" 10000 \
    "$(printf '%s\n' "$status" | grep -cE '^  r[0-9]{5}: ')"
metrics=$(curl -s --max-time 60 "http://127.0.0.1:$MPORT/metrics")
check_eq "/metrics has a drained gauge for each of the 10,000 regions" 10000 \
    "$(printf '%s\n' "$metrics" | grep -c '^meridian_region_drained{')"
# The status reply is bigger than a socket buffer: a client that never reads it is cut off.
py_tap "$E2E_DIR/control/ctl.py" noread "$dir/ctl.sock"
check_match "the server still answers the control socket" "^meridiand " \
    "$(timeout 60 "$top_builddir/meridianctl" -s "$dir/ctl.sock" version)"
stop_server

# ---- the main loop keeps running while a reload reads a zone of 300,000 records ---------

dir=$D/busy
mkdir -p "$dir"
PORT=$(free_port)
python3 "$top_srcdir/tests/bench/genzone.py" big "$dir/example.com.zone" 300000 >/dev/null
cat >"$dir/busy.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
  control: $dir/ctl.sock
zones:
  example.com: example.com.zone
EOF
start_server "$dir/busy.yaml"
CTL=("$top_builddir/meridianctl" -s "$dir/ctl.sock")
started='SIGHUP: reading the config and every zone again'
verdict='reload (done|done with errors|failed)(:|$)'
before_start=$(log_count "$started")
before=$(log_count "$verdict")
kill -HUP "$SERVER_PID"
wait_for log_has_more "$started" "$before_start"
version=$(timeout 60 "${CTL[@]}" version)
finished=$(log_count "$verdict")
zone_reload=$(timeout 60 "${CTL[@]}" reload example.com 2>&1)
zone_rc=$?
check_match "during the reload, the control socket answers" "^meridiand " "$version"
check_eq "... before the reload is over (verdicts logged since the SIGHUP)" 0 \
    "$((finished - before))"
check "a reload of one zone meanwhile is refused (exit $zone_rc)" test "$zone_rc" -eq 1
check_match "... saying why" "a reload of the config is under way" "$zone_reload"
check "the reload then ends: reload done" wait_for log_has_more 'reload done$' "$before"
check_match "meridianctl reload waits for a whole reload and reports it" "reload done$" \
    "$(timeout 60 "${CTL[@]}" reload 2>&1)"
stop_server

done_testing
