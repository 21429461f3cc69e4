#!/bin/bash
# metrics.sh — the Prometheus endpoint end to end: a scripted set of queries with known
# counts, then the exact counters by transport, type and rcode; dynamic answers by service
# and region; health gauges through a backend's death; fail open; reloads; held TCP
# connections; rate limiting; promtool's lint; 404s; scrapes while DNS is under load.
# SPDX-License-Identifier: MIT

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=ops/helpers.sh
. "$E2E_DIR/ops/helpers.sh"

require_tool curl curl

PORT=$(free_port)
MPORT=$(free_port)
HP=$(free_port) # every fake health target listens here, each on its own loopback address
R1A=127.0.0.111
R1B=127.0.0.112
R2A=127.0.0.121
R3A=127.0.0.131
ADDRS="$R1A $R1B $R2A $R3A"

# shellcheck disable=SC2016 # $ORIGIN and $TTL are zone file directives
ZONE='$ORIGIN example.com.
$TTL 300
@        IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
         IN  NS    ns1
ns1      IN  A     192.0.2.53
static   IN  A     192.0.2.1
static6  IN  AAAA  2001:db8::1
www   30 IN  DYNA  web
solo  30 IN  DYNA  solo'
printf '%s\n' "$ZONE" >"$TEST_TMP/metrics.zone"

cat >"$TEST_TMP/metrics.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 2
  metrics: 127.0.0.1:$MPORT
geoip:
  databases: []
  nets:
    10.1.0.0/24: [r1, r2]
    10.2.0.0/16: [r2, r1]
regions:
  r1: { addresses: [$R1A, $R1B], check: web }
  r2: { addresses: [$R2A], check: web }
  r3: { addresses: [$R3A], check: web }
checks:
  web: { url: "http://{address}:$HP/health", interval: 300ms, timeout: 200ms, fall: 2, rise: 2 }
services:
  web: { policy: geo, map: { default: [r1, r2] } }
  solo: { policy: failover, order: [r3] }
zones:
  example.com: metrics.zone
EOF

# ---- the expected counters, kept as the queries go out ----------------------------------------

declare -A EXPECT=()     # "proto qtype rcode" -> count
declare -A EXPECT_ANS=() # "service region" -> count
# start_server's readiness probe: one `. SOA` over UDP, outside every zone.
EXPECT["udp SOA REFUSED"]=1

expected_queries()
{
    local k p t r
    for k in "${!EXPECT[@]}"; do
        read -r p t r <<<"$k"
        printf 'meridian_queries_total{proto="%s",qtype="%s",rcode="%s"} %s\n' \
            "$p" "$t" "$r" "${EXPECT[$k]}"
    done | LC_ALL=C sort
}

expected_answers()
{
    local k s r
    for k in "${!EXPECT_ANS[@]}"; do
        read -r s r <<<"$k"
        printf 'meridian_answers_total{service="%s",region="%s"} %s\n' "$s" "$r" "${EXPECT_ANS[$k]}"
    done | LC_ALL=C sort
}

# send "description" N udp|tcp QTYPE RCODE NAME [ANSWER [SUBNET]]: N queries, each of which
# must come back with RCODE (and, given ANSWER, exactly those addresses, sorted, on one
# line); one test point, and N more in the expected counters whatever the outcome.
send()
{
    local desc=$1 n=$2 proto=$3 qtype=$4 rcode=$5 name=$6 want=${7-} subnet=${8-}
    local args=(+noall +comments +answer) i out status addrs bad=0 first=""
    [ "$proto" = tcp ] && args+=(+tcp)
    [ -n "$subnet" ] && args+=("+subnet=$subnet")
    for ((i = 0; i < n; i++)); do
        out=$(dig_raw "${args[@]}" "$name" "$qtype")
        status=$(printf '%s\n' "$out" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
        addrs=$(printf '%s\n' "$out" | awk '!/^;/ && NF >= 5 { print $5 }' | sort | paste -sd ' ')
        if [ "$status" != "$rcode" ] || { [ $# -ge 7 ] && [ "$addrs" != "$want" ]; }; then
            bad=$((bad + 1))
            [ -n "$first" ] || first="status ${status:-none}, answer '$addrs'"
        fi
    done
    EXPECT["$proto $qtype $rcode"]=$((${EXPECT["$proto $qtype $rcode"]:-0} + n))
    if [ "$bad" -eq 0 ]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "$bad of $n went wrong; the first: $first"
    fi
}

# check_series "description" NAME EXPECTED TEXT: every sample of NAME exactly.
check_series()
{
    check_eq "$1" "$3" "$(series "$2" "$4")"
}

# check_metric "description" SERIES VALUE [TEXT]
check_metric()
{
    if [ $# -ge 4 ]; then
        check_eq "$1" "$3" "$(metric "$2" "$4")"
    else
        check_eq "$1" "$3" "$(metric "$2")"
    fi
}

# check_await "description" SERIES VALUE: polls fresh scrapes until SERIES shows VALUE.
check_await()
{
    if wait_for metric_is "$2" "$3"; then
        ok "$1"
    else
        not_ok "$1"
        diag "$2 is $(metric "$2") after ${WAIT_TIMEOUT} s, expected $3"
    fi
}

health_series()
{
    printf 'meridian_health_up{region="r1",address="%s"} %s\n' "$R1A" "$1" "$R1B" "$2"
    printf 'meridian_health_up{region="r2",address="%s"} %s\n' "$R2A" "$3"
    printf 'meridian_health_up{region="r3",address="%s"} %s\n' "$R3A" "$4"
}

# =============================================================================================
# 1. Start-up: the endpoint, the build, the first load
# =============================================================================================

for a in $ADDRS; do start_backend "$a" "$HP"; done
t_start=$(now_ms)
start_server "$TEST_TMP/metrics.yaml"

every_address_probed()
{
    local text a
    text=$(scrape) || return 1
    for a in $ADDRS; do
        printf '%s\n' "$text" | grep -q "^meridian_probe_latency_seconds{region=\"r[123]\",address=\"$a\"} " ||
            return 1
    done
}
check "every address has a probe latency once probed" wait_for every_address_probed

code=$(curl -s -o "$TEST_TMP/m.body" -w '%{http_code} %{content_type}' --max-time 3 \
    "http://127.0.0.1:$MPORT/metrics")
check_eq "GET /metrics: 200, Prometheus text format 0.0.4" \
    "200 text/plain; version=0.0.4; charset=utf-8" "$code"
check_eq "GET /other: 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$MPORT/other")"
check_eq "GET /metrics/extra: 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$MPORT/metrics/extra")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -d x "http://127.0.0.1:$MPORT/metrics")
check "POST /metrics is refused (an HTTP error, not 200)" test "$code" -ge 400
diag "POST /metrics: HTTP $code"

# One endless header line: refused and closed after the first 8 KiB, not buffered for ever
# by the main loop.  Prints the MiB sent before the close, then the status line.
endless_header()
{
    python3 - "$MPORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: ")
sent = 0
try:
    for _ in range(1024):  # 64 MiB at most
        s.sendall(b"a" * 65536)
        sent += 65536
except OSError:
    pass
reply = b""
try:
    while True:
        part = s.recv(4096)
        if not part:
            break
        reply += part
except OSError:
    pass
print(sent >> 20, reply.split(b"\r\n", 1)[0].decode(errors="replace") or "no reply")
PY
}
read -r sent_mb _ status _ <<<"$(endless_header)"
check_eq "an endless header line: 400, connection closed" 400 "$status"
check "... long before 64 MiB were sent (${sent_mb} MiB)" test "${sent_mb:-64}" -lt 64
check_eq "... and the next scrape answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$MPORT/metrics")"

# HEAD, a request trickled a byte at a time (10 s for the whole request), idle clients
# past the cap of 64.
py_tap "$E2E_DIR/hardening/scrapeloris.py" "$MPORT" head
py_tap "$E2E_DIR/hardening/scrapeloris.py" "$MPORT" trickle 10
py_tap "$E2E_DIR/hardening/scrapeloris.py" "$MPORT" cap 100 64

S=$(scrape)
version=$("$MERIDIAND" -V | awk '{ print $2 }')
check_series "meridian_build_info names the version meridiand -V prints" meridian_build_info \
    "meridian_build_info{version=\"$version\"} 1" "$S"
check_series "start-up counts as one successful load" meridian_reloads_total \
    'meridian_reloads_total{result="failed"} 0
meridian_reloads_total{result="ok"} 1
meridian_reloads_total{result="partial"} 0' "$S"
first_load=$(metric meridian_last_reload_success_timestamp_seconds "$S")
first_load_ms=$(awk -v t="$first_load" 'BEGIN { printf "%.0f", t * 1000 }')
if [ "$first_load_ms" -ge $((t_start - 1000)) ] && [ "$first_load_ms" -le "$(now_ms)" ]; then
    ok "last reload success timestamp is the start-up time (wall clock, seconds)"
else
    not_ok "last reload success timestamp is the start-up time (wall clock, seconds)"
fi
diag "last_reload_success_timestamp_seconds $first_load; server started at $t_start ms"
check_eq "every address is up" "$(health_series 1 1 1 1 | LC_ALL=C sort)" \
    "$(series meridian_health_up "$S")"
latency_ok=$(series meridian_probe_latency_seconds "$S" |
    awk '$2 > 0 && $2 < 0.2 { n++ } END { print n + 0 }')
check_eq "four probe latencies, each between 0 and the 200ms timeout" 4 "$latency_ok"
series meridian_probe_latency_seconds "$S" | diag
check_eq "nothing counted before the first query but start_server's probe" \
    "$(expected_queries)" "$(series meridian_queries_total "$S")"

# =============================================================================================
# 2. A scripted set of queries, then the exact counters
# =============================================================================================

R1="$R1A $R1B"
send "7 UDP A queries for a static name: NOERROR" 7 udp A NOERROR static.example.com "192.0.2.1"
send "3 TCP AAAA queries: NOERROR" 3 tcp AAAA NOERROR static6.example.com "2001:db8::1"
send "2 names that do not exist: NXDOMAIN" 2 udp A NXDOMAIN nx.example.com ""
send "a name outside every zone: REFUSED" 1 udp A REFUSED www.example.org ""
send "5 DYNA queries from 10.1.0.0/24 (ECS): r1's addresses" 5 udp A NOERROR www.example.com \
    "$R1" 10.1.0.0/24
EXPECT_ANS["web r1"]=5
send "4 DYNA queries over TCP from 10.2.3.0/24 (ECS): r2" 4 tcp A NOERROR www.example.com \
    "$R2A" 10.2.3.0/24
EXPECT_ANS["web r2"]=4
send "2 queries for the failover service: r3" 2 udp A NOERROR solo.example.com "$R3A"
EXPECT_ANS["solo r3"]=2
check_eq "a query with a malformed Client Subnet option: FORMERR" FORMERR \
    "$(python3 "$OPS/opsq.py" formerr "$PORT" static.example.com)"
EXPECT["udp A FORMERR"]=1

S=$(scrape)
check_series "meridian_queries_total: exactly the queries sent, by proto, qtype and rcode" \
    meridian_queries_total "$(expected_queries)" "$S"
check_series "meridian_answers_total: exactly the dynamic answers, by service and region" \
    meridian_answers_total "$(expected_answers)" "$S"
check_metric "no answer failed open yet" meridian_fail_open_total 0 "$S"
check_metric "nothing dropped" meridian_dropped_total 0 "$S"
check_metric "nothing truncated" meridian_truncated_total 0 "$S"
check_series "no service fails open" meridian_service_failing_open \
    'meridian_service_failing_open{service="solo"} 0
meridian_service_failing_open{service="web"} 0' "$S"

# =============================================================================================
# 3. Health: one address dies; then a whole service's only region (fail open)
# =============================================================================================

stop_backend "$R1B"
check_await "$R1B dead: meridian_health_up turns 0 for it" \
    "meridian_health_up{region=\"r1\",address=\"$R1B\"}" 0
check_eq "$R1B dead: the other addresses stay up" "$(health_series 1 0 1 1 | LC_ALL=C sort)" \
    "$(series meridian_health_up)"
send "3 DYNA queries from 10.1.0.0/24: r1's live address only" 3 udp A NOERROR www.example.com \
    "$R1A" 10.1.0.0/24
EXPECT_ANS["web r1"]=$((EXPECT_ANS["web r1"] + 3))

stop_backend "$R3A"
check_await "r3 dead: meridian_service_failing_open{service=\"solo\"} turns 1" \
    'meridian_service_failing_open{service="solo"}' 1
send "3 queries for the failing-open service: still r3" 3 udp A NOERROR solo.example.com "$R3A"
EXPECT_ANS["solo r3"]=$((EXPECT_ANS["solo r3"] + 3))

S=$(scrape)
check_metric "meridian_fail_open_total counts exactly the 3 fail-open answers" \
    meridian_fail_open_total 3 "$S"
check_metric "web does not fail open" 'meridian_service_failing_open{service="web"}' 0 "$S"
check_series "meridian_entry_failing_open: solo's one set (*) only, web's entries not" \
    meridian_entry_failing_open 'meridian_entry_failing_open{service="solo",entry="*"} 1
meridian_entry_failing_open{service="web",entry="10.1.0.0/24"} 0
meridian_entry_failing_open{service="web",entry="10.2.0.0/16"} 0
meridian_entry_failing_open{service="web",entry="default"} 0' "$S"
check_eq "health: r1's second address and r3 down, the rest up" \
    "$(health_series 1 0 1 0 | LC_ALL=C sort)" "$(series meridian_health_up "$S")"
check_series "meridian_queries_total after the health changes" meridian_queries_total \
    "$(expected_queries)" "$S"
check_series "meridian_answers_total after the health changes" meridian_answers_total \
    "$(expected_answers)" "$S"

start_backend "$R3A" "$HP"
check_await "r3 back: meridian_service_failing_open{service=\"solo\"} turns 0" \
    'meridian_service_failing_open{service="solo"}' 0
check_metric "r3 back: solo's entry * no longer fails open" \
    'meridian_entry_failing_open{service="solo",entry="*"}' 0
start_backend "$R1B" "$HP"
check_await "$R1B back: meridian_health_up turns 1 for it" \
    "meridian_health_up{region=\"r1\",address=\"$R1B\"}" 1
check_metric "fail-open answers stop with the fail open: still 3" meridian_fail_open_total 3

# =============================================================================================
# 4. Open TCP connections
# =============================================================================================

check_await "no TCP connection open once dig's are closed" meridian_tcp_connections 0
spawn python3 "$OPS/opsq.py" hold "$PORT" >"$TEST_TMP/hold.out"
HOLD=$HELPER_PID
check_await "one held TCP connection: meridian_tcp_connections 1" meridian_tcp_connections 1
reap "$HOLD"
check_await "closed again: meridian_tcp_connections 0" meridian_tcp_connections 0

# =============================================================================================
# 5. Reload (SIGHUP)
# =============================================================================================

before=$(series meridian_queries_total)
verdict=$(reload_server)
check_eq "SIGHUP: the log says reload done" "reload done" "${verdict##*: }"
S=$(scrape)
check_series "after SIGHUP: meridian_reloads_total{result=\"ok\"} 2" meridian_reloads_total \
    'meridian_reloads_total{result="failed"} 0
meridian_reloads_total{result="ok"} 2
meridian_reloads_total{result="partial"} 0' "$S"
second_load=$(metric meridian_last_reload_success_timestamp_seconds "$S")
now_s=$(($(now_ms) / 1000))
if awk -v a="$first_load" -v b="$second_load" -v now="$now_s" \
    'BEGIN { exit !(b > a && b <= now + 1 && b >= now - 60) }'; then
    ok "the reload moved the last-success timestamp forward, within the last minute"
else
    not_ok "the reload moved the last-success timestamp forward, within the last minute"
fi
diag "last success: start-up $first_load, after SIGHUP $second_load, now $now_s"
check_eq "counters survive a reload" "$before" "$(series meridian_queries_total "$S")"

# =============================================================================================
# 6. promtool's lint of a full scrape
# =============================================================================================

promtool_check()
{
    local out rc
    out=$(printf '%s\n' "$1" | promtool check metrics 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
        ok "$2"
    else
        not_ok "$2"
        diag "promtool exit $rc:" "$out"
    fi
}

if command -v promtool >/dev/null 2>&1; then
    promtool_check "$(scrape)" "promtool check metrics: no problem in a full scrape"
else
    ok "promtool check metrics # SKIP promtool is not installed"
fi

# =============================================================================================
# 7. The endpoint answers while DNS is under load
# =============================================================================================

# scrape_full FILE: GET /metrics into FILE; prints the HTTP status.  curl fails on a body
# shorter than its Content-Length; 10 s bounds a hang, it is not a goal.
scrape_full()
{
    curl -s -o "$1" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$MPORT/metrics"
}

# families FILE: the metric families a scrape names (its "# TYPE" lines), sorted.
families()
{
    grep '^# TYPE ' "$1" | LC_ALL=C sort
}

if command -v dnsperf >/dev/null 2>&1; then
    printf '%s\n' "static.example.com A" "www.example.com A" "nx.example.com A" \
        "static6.example.com AAAA" >"$TEST_TMP/perf.txt"
    UDP_A='meridian_queries_total{proto="udp",qtype="A",rcode="NOERROR"}'
    SCRAPES=5
    # The reference: what a complete scrape holds, before the load.
    scrape_full "$TEST_TMP/ref.body" >/dev/null
    # The load runs until the scrapes are done, then SIGINT stops it; -l only bounds a hang.
    spawn dnsperf -s 127.0.0.1 -p "$PORT" -d "$TEST_TMP/perf.txt" -l 60 -c 4 -q 200 -t 2 \
        >"$TEST_TMP/dnsperf.out" 2>&1
    PERF=$HELPER_PID
    # Wait until the load is on: the UDP A NOERROR counter is moving.
    base=$(metric "$UDP_A")
    load_on()
    {
        [ "$(metric "$UDP_A")" -gt $((base + 1000)) ]
    }
    wait_for load_on
    # SCRAPES scrapes, each one while dnsperf runs: a 200, a body of full length with every
    # family of the reference, and the counter past the previous scrape's (the load is on).
    good=0 n=0 last=$(metric "$UDP_A") bad="" slowest=0
    while [ "$n" -lt "$SCRAPES" ]; do
        n=$((n + 1))
        alive "$PERF" || { bad="dnsperf ended before scrape $n"; break; }
        rm -f "$TEST_TMP/load.body"
        t0=$(now_ms)
        code=$(scrape_full "$TEST_TMP/load.body")
        rc=$?
        took=$(($(now_ms) - t0))
        [ "$took" -gt "$slowest" ] && slowest=$took
        cur=$(metric "$UDP_A" "$(cat "$TEST_TMP/load.body" 2>/dev/null)")
        if [ "$rc" -eq 0 ] && [ "$code" = 200 ] &&
            [ "$(families "$TEST_TMP/load.body")" = "$(families "$TEST_TMP/ref.body")" ] &&
            [ "$cur" != absent ] && [ "$cur" -gt "$last" ]; then
            good=$((good + 1))
            last=$cur
        else
            [ -n "$bad" ] || bad="scrape $n: curl exit $rc, HTTP $code, $UDP_A $cur (before: $last)"
        fi
        sleep 0.2
    done
    alive "$PERF" || [ -n "$bad" ] || bad="dnsperf ended during the scrapes"
    kill -INT "$PERF" 2>/dev/null
    WAIT_TIMEOUT=15 wait_for gone "$PERF"
    reap "$PERF"
    check "under dnsperf load, every scrape gets a complete 200 answer ($good of $SCRAPES)" \
        test "$good" -eq "$SCRAPES" -a -z "$bad"
    [ -z "$bad" ] || diag "$bad"
    diag "$n scrapes during the load, the slowest in $slowest ms (a diagnostic, not a test)"
    diag "$(grep -E 'Queries (per second|lost)' "$TEST_TMP/dnsperf.out")"
    promtool_check "$(scrape)" "promtool check metrics: no problem after the load"
else
    ok "scrapes under load # SKIP dnsperf is not installed"
fi
stop_server

# =============================================================================================
# 8. Response rate limiting: drops and slips counted
# =============================================================================================

PORT=$(free_port)
MPORT=$(free_port)
cat >"$TEST_TMP/rrl.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
  metrics: 127.0.0.1:$MPORT
rrl: { responses_per_second: 5, exempt: [] }
zones:
  example.com: rrl.zone
EOF
printf '%s\n' "$ZONE" | grep -v DYNA >"$TEST_TMP/rrl.zone"
start_server "$TEST_TMP/rrl.yaml"
read -r sent full tc none <<<"$(python3 "$OPS/opsq.py" burst "$PORT" static.example.com 50 |
    sed 's/[a-z]*=//g')"
diag "a burst of 50 UDP queries at 5/s: ${full:-?} answered, ${tc:-?} truncated, ${none:-?} dropped"
S=$(scrape)
check "the burst was rate limited (some went unanswered)" test "${none:-0}" -gt 0
check_metric "meridian_rrl_dropped_total is the number of unanswered queries" \
    meridian_rrl_dropped_total "${none:-?}" "$S"
check_metric "meridian_rrl_truncated_total is the number of truncated replies" \
    meridian_rrl_truncated_total "${tc:-?}" "$S"
check_metric "every query of the burst is counted, limited or not" \
    'meridian_queries_total{proto="udp",qtype="A",rcode="NOERROR"}' "${sent:-?}" "$S"
promtool_check "$S" "promtool check metrics: no problem in the RRL server's scrape"
stop_server

done_testing
