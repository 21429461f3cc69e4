#!/bin/bash
# health.sh — health checks end to end: real HTTP, HTTPS and TCP targets on loopback
# addresses, addresses and regions leaving and rejoining answers within the promised
# time, fail open, initial: down, 500 probes hanging on a black hole while every query
# under a dnsperf load is still answered, and meridiand -t's timing report.
# SPDX-License-Identifier: MIT
#
# Every region address is its own loopback address (127.0.0.11, 127.0.0.21, ...; Linux
# answers all of 127/8 on lo), with a fake target from health/backend.py bound to it, so
# the address a probe hits is the address in the answer.  Clients are picked with dig's
# +subnet= and geoip.nets, which gives each client network its own fallback order.

. "$(dirname "$0")/lib.sh"
require_tool openssl openssl # the HTTPS targets' certificate

HEALTH=$E2E_DIR/health
BE=$TEST_TMP/be # one directory per backend address: answer, requests, ready
export PYTHONDONTWRITEBYTECODE=1

# Slack on top of every promised bound: the polling period, dig's own time and the
# scheduling of a loaded two-CPU test box.
MARGIN_MS=400

# ---- fake targets -------------------------------------------------------------------------

declare -A BACKEND=() # address (or name) -> PID of its backend.py

stop_backends()
{
    local k
    for k in "${!BACKEND[@]}"; do stop_backend "$k"; done
}
trap 'stop_backends; cleanup' EXIT

backend_ready()
{
    [ -e "$BE/$1/ready" ] || ! alive "${BACKEND[$1]}"
}

# start_backend http|https|tcp ADDR PORT: a fake target on ADDR:PORT, listening on return.
# blackhole NAME PORT ADDR...: one process accepting on PORT at every ADDR.
start_backend()
{
    local kind=$1 key=$2 port=$3 args
    local dir=$BE/$key
    mkdir -p "$dir"
    rm -f "$dir/ready"
    case $kind in
    https) args=(http "$key" "$port" "$dir" "$TEST_TMP/cert.pem" "$TEST_TMP/key.pem") ;;
    blackhole) args=(blackhole "$port" "$dir" "${@:4}") ;;
    *) args=("$kind" "$key" "$port" "$dir") ;;
    esac
    python3 "$HEALTH/backend.py" "${args[@]}" 2>>"$dir/stderr" &
    BACKEND[$key]=$!
    if ! wait_for backend_ready "$key" || ! alive "${BACKEND[$key]}"; then
        bail_out "backend.py $kind listens on $key:$port" "$(tail -n 5 "$dir/stderr")"
    fi
}

# stop_backend ADDR: the target dies; its address refuses connections from then on.
stop_backend()
{
    local pid=${BACKEND[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "BACKEND[$1]"
}

# set_answer ADDR "STATUS [BODY]": what the HTTP target on ADDR answers from now on.
set_answer()
{
    printf '%s\n' "$2" >"$BE/$1/answer.tmp" && mv "$BE/$1/answer.tmp" "$BE/$1/answer"
}

# requests ADDR [REGEX]: how many requests (connections, for tcp) the target has seen.
requests()
{
    if [ -e "$BE/$1/requests" ]; then
        grep -Ec -- "${2:-.}" "$BE/$1/requests"
    else
        echo 0
    fi
}

requests_at_least()
{
    [ "$(requests "$1" "${3:-}")" -ge "$2" ]
}

# ---- answers and timing ---------------------------------------------------------------------

# answer NAME [SUBNET [TYPE]]: the addresses (A by default) a client in SUBNET gets,
# sorted, on one line.  An empty SUBNET sends no ECS option.
answer()
{
    local ecs=()
    [ -n "${2:-}" ] && ecs=("+subnet=$2")
    dig_raw +short "${ecs[@]}" "$1" "${3:-A}" | sort | paste -sd ' '
}

# answer_is NAME "ADDR ADDR..." [SUBNET [TYPE]]
answer_is()
{
    [ "$(answer "$1" "${3:-}" "${4:-A}")" = "$2" ]
}

# check_answer "description" NAME "SUBNET or empty" "ADDR ADDR..." [TYPE]: the addresses
# exactly.
check_answer()
{
    check_eq "$1" "$4" "$(answer "$2" "$3" "${5:-A}")"
}

log_has()
{
    grep -Eq -- "$1" "$SERVER_LOG"
}

# check_log "description" REGEX: the server log has a line matching REGEX, waiting for it
# (the log is written by the server as it goes) up to WAIT_TIMEOUT, a bound for a hang.
check_log()
{
    if wait_for log_has "$2"; then
        ok "$1"
    else
        not_ok "$1"
        diag "no line of the server log matches: $2" "health lines of the log:"
        grep -E 'health|service' "$SERVER_LOG" | tail -n 15 | diag
    fi
}

secs()
{
    printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10))
}

# time_until START_MS CMD...: polls CMD (every 20 ms) and sets ELAPSED_MS to the time from
# START_MS to its first success, or -1 if it never comes.
time_until()
{
    local t0=$1
    shift
    if WAIT_POLL=0.02 wait_for "$@"; then
        ELAPSED_MS=$(($(now_ms) - t0))
    else
        ELAPSED_MS=-1
    fi
}

# check_within "description" WHAT BOUND_MS: ELAPSED_MS (from time_until) is within the
# bound plus MARGIN_MS; the measure goes into the TAP stream either way.
check_within()
{
    local desc=$1 what=$2 bound=$3
    local line
    line="$what after $(secs "$ELAPSED_MS") s, bound $(secs "$bound") s + margin $(secs "$MARGIN_MS") s"
    if [ "$ELAPSED_MS" -ge 0 ] && [ "$ELAPSED_MS" -le $((bound + MARGIN_MS)) ]; then
        ok "$desc"
        diag "$line"
    else
        not_ok "$desc"
        [ "$ELAPSED_MS" -lt 0 ] && line="$what: not within ${WAIT_TIMEOUT} s (bound $(secs "$bound") s)"
        diag "$line" "health lines of the log:"
        grep -E 'health|service' "$SERVER_LOG" | tail -n 15 | diag
    fi
}

# shellcheck disable=SC2016 # $ORIGIN and $TTL are zone file directives
ZONE_HEAD='$ORIGIN example.com.
$TTL 300
@       IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
        IN  NS    ns1
ns1     IN  A     192.0.2.53
static  IN  A     192.0.2.1'

# =============================================================================================
# 1. Three regions behind HTTP checks, three client networks with their own fallback orders
# =============================================================================================

PORT=$(free_port)
HP=$(free_port) # every HTTP target listens on this port, each on its own address
C1=10.1.0.0/24  # -> r1, then r2, r3
C2=10.2.0.0/24  # -> r2, then r3, r1
C3=10.3.0.0/24  # -> r3, then r1, r2
R1="127.0.0.11 127.0.0.12"
R2=127.0.0.21
R3=127.0.0.31
WEB_ADDRS="127.0.0.11 127.0.0.12 127.0.0.21 127.0.0.31"
# interval 1s x fall 2 + timeout 900ms; coming back takes interval x rise + timeout.  The
# timeouts are long enough that a loaded machine (the sanitizers, other test files at
# once) does not pull a healthy target, and the "no reply" case still times out.
BOUND_MS=2900
RISE_BOUND_MS=2900

printf '%s\n%s\n' "$ZONE_HEAD" 'www    30 IN  DYNA  web
cdn    30 IN  DYNC  web
spread 30 IN  DYNA  even' >"$TEST_TMP/main.zone"
cat >"$TEST_TMP/main.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 2
geoip:
  databases: []
  nets:
    $C1: [r1, r2, r3]
    $C2: [r2, r3, r1]
    $C3: [r3, r1, r2]
regions:
  r1: { addresses: [127.0.0.11, 127.0.0.12], check: web, cname: r1.example.net. }
  r2: { addresses: [127.0.0.21], check: web, cname: r2.example.net. }
  r3: { addresses: [127.0.0.31], check: web-body, cname: r3.example.net. }
checks:
  web:
    type: http
    url: "http://{address}:$HP/health"
    expect: [200, 204]
    host: health.example
    interval: 1s
    timeout: 900ms
    fall: 2
    rise: 2
  web-body:
    url: "http://{address}:$HP/health"
    body: "OK"
    interval: 1s
    timeout: 900ms
    fall: 2
    rise: 2
services:
  web:
    policy: geo
    map:
      default: [r1, r2, r3]
  even:
    policy: weighted
    weights: { r1: 1, r2: 1, r3: 1 }
zones:
  example.com: main.zone
EOF

for a in $WEB_ADDRS; do start_backend http "$a" "$HP"; done
start_server "$TEST_TMP/main.yaml"

every_target_probed()
{
    local a
    for a in $WEB_ADDRS; do requests_at_least "$a" 2 || return 1; done
}

# ---- a. everything up ------------------------------------------------------------------------

check "every target is probed (2 requests each)" wait_for every_target_probed
WWW="www.example.com. 30 IN A"
check_dns "all up: a client of r1 gets both r1 addresses" "+subnet=$C1 www.example.com A" \
    --skip edns --answer "$WWW 127.0.0.11" --answer "$WWW 127.0.0.12"
check_dns "all up: a client of r2 gets r2" "+subnet=$C2 www.example.com A" --skip edns \
    --answer "$WWW 127.0.0.21"
check_dns "all up: a client of r3 gets r3" "+subnet=$C3 www.example.com A" --skip edns \
    --answer "$WWW 127.0.0.31"
check_answer "all up: a client without ECS gets the map's default, r1" www.example.com "" "$R1"
check "all up: no address went down" test "$(log_count 'is DOWN')" -eq 0
check "the probes send the configured Host header" requests_at_least 127.0.0.11 1 '^200 health\.example$'

# ---- b. a region's server dies ---------------------------------------------------------------

stop_backend 127.0.0.21
t0=$(now_ms)
time_until "$t0" answer_is www.example.com "$R3" "$C2"
check_within "r2 dead: its clients get their fallback r3 within interval x fall + timeout" \
    "excluded" "$BOUND_MS"
check_log "r2 dead: the log says DOWN after 2 failed probes, connection failed" \
    'health: r2 127\.0\.0\.21 is DOWN after 2 failed probe\(s\): connection failed'
check_answer "r2 dead: r1's clients keep r1" www.example.com "$C1" "$R1"
check_answer "r2 dead: r3's clients keep r3" www.example.com "$C3" "$R3"
check_dns "r2 dead: DYNC passes r2's turn too: r2's clients get r3's CNAME" \
    "+subnet=$C2 cdn.example.com CNAME" --skip edns --answer "cdn.example.com. 30 IN CNAME r3.example.net."
# 30 answers of a 1:1:1 weighted service: r2 never, r1 and r3 both (each misses all 30
# with odds of 2^-30 once the weights are renormalised over them).
picked=$(for _ in $(seq 1 30); do answer spread.example.com; done | sort | uniq -c |
    awk '{ print $2 " x" $1 }' | paste -sd ',')
check "r2 dead: a weighted service never picks r2, and picks both r1 and r3" \
    test "$(printf '%s' "$picked" | grep -c '127\.0\.0\.21')$(printf '%s' "$picked" |
        grep -c '127\.0\.0\.11 .*127\.0\.0\.31')" = 01
diag "weighted 1:1:1 with r2 down, 30 answers: $picked"
named=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
    case $(answer www.example.com "$C2") in *127.0.0.21*) named=$((named + 1)) ;; esac
done
check "r2 dead: once gone, 127.0.0.21 stays out of answers (10 queries)" test "$named" -eq 0

# ---- c. it comes back ------------------------------------------------------------------------

start_backend http 127.0.0.21 "$HP"
t0=$(now_ms)
time_until "$t0" answer_is www.example.com "$R2" "$C2"
check_within "r2 back: its clients get r2 again within interval x rise + timeout" \
    "back" "$RISE_BOUND_MS"
check_log "r2 back: the log says UP after 2 passing probes" \
    'health: r2 127\.0\.0\.21 is UP after 2 passing probe\(s\): HTTP 200'

# ---- c2. a reload that changes a check replaces its probes; one that does not, keeps them ----

# The probes of check web (r1 and r2) send the new Host header after the reload, and none
# sends the old one any more: the old probe was replaced, not joined by a second.
down_before=$(log_count 'is DOWN')
sed -i 's/host: health\.example/host: health2.example/' "$TEST_TMP/main.yaml"
check_match "a reload that changes check web's host: reload done" "reload done$" "$(reload_server)"
check "... its probes send the new Host header" \
    wait_for requests_at_least 127.0.0.11 1 '^200 health2\.example$'
old_host=$(requests 127.0.0.11 '^200 health\.example$')
new_host=$(requests 127.0.0.11 '^200 health2\.example$')
check "... 3 more probes of 127.0.0.11 come, all with the new header" \
    wait_for requests_at_least 127.0.0.11 $((new_host + 3)) '^200 health2\.example$'
check_eq "... and none with the old one" "$old_host" "$(requests 127.0.0.11 '^200 health\.example$')"
# A reload that leaves the checks as they are keeps every probe and its state.
r3_probes=$(requests 127.0.0.31)
check_match "a reload with the checks unchanged: reload done" "reload done$" "$(reload_server)"
check "... probing goes on (127.0.0.31 probed twice more)" \
    wait_for requests_at_least 127.0.0.31 $((r3_probes + 2))
check "no address went down over the reloads" test "$(log_count 'is DOWN')" -eq "$down_before"
check_answer "after the reloads a client of r2 still gets r2" www.example.com "$C2" "$R2"

# ---- d. everything dies: fail open ----------------------------------------------------------

# Counted before: r2's DOWN from b. must not make up for a missing one here.
downs=$(log_count 'health: r[123] .* is DOWN')
for a in $WEB_ADDRS; do stop_backend "$a"; done
check_log "all dead: the log says the service fails open" \
    'service web: every region it can pick is down or drained: answering as if all were up \(fail open\)'
check "all dead: every address was logged DOWN" \
    test "$(($(log_count 'health: r[123] .* is DOWN') - downs))" -ge 4
check_answer "fail open: r1's clients get both r1 addresses" www.example.com "$C1" "$R1"
check_answer "fail open: r2's clients get r2" www.example.com "$C2" "$R2"
check_answer "fail open: r3's clients get r3" www.example.com "$C3" "$R3"
check_answer "fail open: a client without ECS gets r1" www.example.com "" "$R1"

for a in $WEB_ADDRS; do start_backend http "$a" "$HP"; done
check_log "one region back: the log says the service no longer fails open" \
    'service web: a region is back in service: no longer failing open'

all_normal()
{
    answer_is www.example.com "$R1" "$C1" && answer_is www.example.com "$R2" "$C2" &&
        answer_is www.example.com "$R3" "$C3"
}
check "all back: every client gets its own region again" wait_for all_normal

# ---- e. one of two addresses down -------------------------------------------------------------

stop_backend 127.0.0.12
t0=$(now_ms)
time_until "$t0" answer_is www.example.com 127.0.0.11 "$C1"
check_within "127.0.0.12 dead: it leaves r1's answers within interval x fall + timeout" \
    "excluded" "$BOUND_MS"
check_dns "127.0.0.12 dead: r1 is still chosen, with its live address only" \
    "+subnet=$C1 www.example.com A" --skip edns --answer "$WWW 127.0.0.11"
check_answer "127.0.0.12 dead: without ECS too" www.example.com "" 127.0.0.11
start_backend http 127.0.0.12 "$HP"
check "127.0.0.12 back: both r1 addresses again" wait_for answer_is www.example.com "$R1" "$C1"

# ---- f. wrong status, wrong body, a listed status --------------------------------------------

set_answer 127.0.0.11 "503 Service Unavailable"
t0=$(now_ms)
time_until "$t0" answer_is www.example.com 127.0.0.12 "$C1"
check_within "HTTP 503: the address leaves answers within interval x fall + timeout" \
    "excluded" "$BOUND_MS"
check_log "HTTP 503: the log gives the status as the reason" \
    'health: r1 127\.0\.0\.11 is DOWN after 2 failed probe\(s\): HTTP 503, expected 200'
set_answer 127.0.0.11 "200 OK"
check "HTTP 200 again: the address returns" wait_for answer_is www.example.com "$R1" "$C1"
check_log "HTTP 200 again: logged UP" 'health: r1 127\.0\.0\.11 is UP after 2 passing probe\(s\): HTTP 200'

set_answer 127.0.0.31 "200 DEGRADED"
t0=$(now_ms)
time_until "$t0" answer_is www.example.com "$R1" "$C3"
check_within "body without \"OK\": r3 goes down, its clients get r1" "excluded" "$BOUND_MS"
check_log "body without \"OK\": the log says the body lacks it" \
    'health: r3 127\.0\.0\.31 is DOWN after 2 failed probe\(s\): HTTP 200 but the body lacks "OK"'
set_answer 127.0.0.31 "200 OK"
check "body with \"OK\" again: r3 returns" wait_for answer_is www.example.com "$R3" "$C3"

set_answer 127.0.0.21 hang
t0=$(now_ms)
time_until "$t0" answer_is www.example.com "$R3" "$C2"
check_within "no reply (probes time out): r2 leaves answers within interval x fall + timeout" \
    "excluded" "$BOUND_MS"
check_log "no reply: the log gives the timeout as the reason" \
    'health: r2 127\.0\.0\.21 is DOWN after 2 failed probe\(s\): timeout'
set_answer 127.0.0.21 "200 OK"
check "replies again: r2 returns" wait_for answer_is www.example.com "$R2" "$C2"

downs=$(log_count 'health: r2 127\.0\.0\.21 is DOWN')
seen=$(requests 127.0.0.21 '^204 ')
set_answer 127.0.0.21 "204"
check "expect [200, 204]: three probes get 204" wait_for requests_at_least 127.0.0.21 $((seen + 3)) '^204 '
check "expect [200, 204]: 204 keeps the address up" \
    test "$(log_count 'health: r2 127\.0\.0\.21 is DOWN')" -eq "$downs"
check_answer "expect [200, 204]: r2's clients still get r2" www.example.com "$C2" "$R2"

stop_server
check "meridiand with probes running stops cleanly on SIGTERM" test $? -eq 0
stop_backends

# =============================================================================================
# 2-4. TCP checks, HTTPS with and without verification, initial: down
# =============================================================================================

PORT=$(free_port)
TP=$(free_port) # the TCP check's port
SP=$(free_port) # HTTPS targets
# The same timing as the first part: interval 1s x 2 + timeout 900ms.
BOUND2_MS=2900
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" >"$TEST_TMP/openssl.log" 2>&1 ||
    bail_out "openssl makes a self-signed certificate" "$(cat "$TEST_TMP/openssl.log")"

printf '%s\n%s\n' "$ZONE_HEAD" 'tcp  30 IN  DYNA  tcp
tls  30 IN  DYNA  tls
init 30 IN  DYNA  init
solo 30 IN  DYNA  solo
v6   30 IN  DYNA  v6' >"$TEST_TMP/more.zone"
cat >"$TEST_TMP/more.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
regions:
  t1: { addresses: [127.0.0.41], check: tcp }
  t2: { addresses: [127.0.0.42] }
  h1: { addresses: [127.0.0.51], check: tls-strict }
  h2: { addresses: [127.0.0.52], check: tls-loose }
  i1: { addresses: [127.0.0.61], check: slow-start }
  i2: { addresses: [127.0.0.62] }
  v6a: { addresses: ["::1"], check: web6 }
  v6b: { addresses: ["2001:db8::2"] }
checks:
  tcp: { type: tcp, port: $TP, interval: 1s, timeout: 900ms, fall: 2, rise: 2 }
  web6: { url: "http://{address}:$HP/health", interval: 1s, timeout: 900ms, fall: 2, rise: 2 }
  tls-strict:
    type: https
    url: "https://{address}:$SP/health"
    interval: 1s
    timeout: 900ms
    fall: 2
    rise: 2
  tls-loose:
    type: https
    url: "https://{address}:$SP/health"
    tls_verify: false
    initial: down
    interval: 1s
    timeout: 900ms
    fall: 2
    rise: 2
  slow-start:
    url: "http://{address}:$HP/health"
    initial: down
    interval: 1s
    timeout: 900ms
    fall: 2
    rise: 2
services:
  tcp: { policy: failover, order: [t1, t2] }
  tls: { policy: failover, order: [h1, h2] }
  init: { policy: failover, order: [i1, i2] }
  solo: { policy: failover, order: [i1] }
  v6: { policy: failover, order: [v6a, v6b] }
zones:
  example.com: more.zone
EOF

start_backend tcp 127.0.0.41 "$TP"
start_backend https 127.0.0.51 "$SP"
start_backend https 127.0.0.52 "$SP"
start_backend http 127.0.0.61 "$HP"
start_backend http ::1 "$HP"
start_server "$TEST_TMP/more.yaml"
# The probes start when the server is ready; how long a loaded machine took to get there
# is no part of the bound.
t_start=$(date -d "$(grep -m1 ' meridiand .* ready: ' "$SERVER_LOG" | cut -d' ' -f1)" +%s%3N)

# ---- 4. initial: down -------------------------------------------------------------------------

# i1 needs two passes a second apart: for at least a second after the start it is down.
I1_UP='health: i1 127\.0\.0\.61 is UP after 2 passing probe\(s\): HTTP 200'
init_answer=$(answer init.example.com)
solo_answer=$(answer solo.example.com)
if log_has "$I1_UP"; then
    ok "initial: down: i1 is skipped before its first passes # SKIP i1 was up before the query"
    ok "initial: down: a service with i1 alone fails open # SKIP i1 was up before the query"
else
    check_eq "initial: down: i1 is skipped before its first passes, i2 answers" 127.0.0.62 "$init_answer"
    check_eq "initial: down: a service with i1 alone fails open to it" 127.0.0.61 "$solo_answer"
fi
time_until "$t_start" answer_is init.example.com 127.0.0.61
check_within "initial: down: i1 answers after rise passes (interval 1s x rise 2 + timeout)" \
    "up" 2900
check_log "initial: down: the log says UP after 2 passing probes" "$I1_UP"
# It fails open from the start, so the log must say so then, not at whichever probe result
# happens to change something first (here h1 going down, below).
SOLO_OPEN='service solo: every region it can pick is down or drained: answering as if all were up \(fail open\)'
first_line()
{
    grep -nE -- "$1" "$SERVER_LOG" | head -n 1 | cut -d: -f1
}
wait_for log_has "$SOLO_OPEN"
open_at=$(first_line "$SOLO_OPEN")
health_at=$(first_line 'health: ')
if [ -n "$open_at" ] && { [ -z "$health_at" ] || [ "$open_at" -lt "$health_at" ]; }; then
    ok "initial: down: the log says the service with i1 alone fails open from the start"
else
    not_ok "initial: down: the log says the service with i1 alone fails open from the start"
    diag "wanted: \"$SOLO_OPEN\" before the first health transition; the log:"
    grep -E 'ready|health|service' "$SERVER_LOG" | head -n 8 | diag
fi
check_log "initial: down: ... and that it no longer does" \
    'service solo: a region is back in service: no longer failing open'

# ---- 2. TCP ------------------------------------------------------------------------------------

check "tcp: the probes connect to the listener" wait_for requests_at_least 127.0.0.41 3
check_answer "tcp: listener up: t1 answers" tcp.example.com "" 127.0.0.41
check "tcp: listener up: t1 never went down" test "$(log_count 'health: t1 .* is DOWN')" -eq 0
stop_backend 127.0.0.41
t0=$(now_ms)
time_until "$t0" answer_is tcp.example.com 127.0.0.42
check_within "tcp: listener closed: t1 leaves answers, t2 answers" "excluded" "$BOUND2_MS"
check_log "tcp: the log says DOWN, connection failed" \
    'health: t1 127\.0\.0\.41 is DOWN after 2 failed probe\(s\): connection failed'
start_backend tcp 127.0.0.41 "$TP"
t0=$(now_ms)
time_until "$t0" answer_is tcp.example.com 127.0.0.41
check_within "tcp: listener back: t1 answers again" "back" "$BOUND2_MS"
check_log "tcp: the log says UP, connected" \
    'health: t1 127\.0\.0\.41 is UP after 2 passing probe\(s\): connected'

# ---- 3. HTTPS ----------------------------------------------------------------------------------

check_log "https, tls_verify true, self-signed: DOWN with a TLS error" \
    'health: h1 127\.0\.0\.51 is DOWN after 2 failed probe\(s\): TLS error'
check "https, tls_verify true: no request got past the handshake" \
    test "$(requests 127.0.0.51)" -eq 0
check_log "https, tls_verify false: UP after 2 passing probes" \
    'health: h2 127\.0\.0\.52 is UP after 2 passing probe\(s\): HTTP 200'
check "https, tls_verify false: the requests arrive over TLS" requests_at_least 127.0.0.52 2 '^200 '
check "https: the service answers with h2, not the unverifiable h1" \
    wait_for answer_is tls.example.com 127.0.0.52
check "https: h2 never went down" test "$(log_count 'health: h2 .* is DOWN')" -eq 0

# ---- IPv6: {address} in brackets ---------------------------------------------------------------

check "ipv6: the probes reach http://[::1]:$HP/health" wait_for requests_at_least ::1 3 '^200 '
check_answer "ipv6: ::1 stays in the AAAA answer" v6.example.com "" ::1 AAAA
check "ipv6: ::1 never went down" test "$(log_count 'health: v6a .* is DOWN')" -eq 0
stop_backend ::1
t0=$(now_ms)
time_until "$t0" answer_is v6.example.com 2001:db8::2 "" AAAA
check_within "ipv6: target gone: ::1 leaves answers, v6b answers" "excluded" "$BOUND2_MS"
check_log "ipv6: the log says DOWN" 'health: v6a ::1 is DOWN after 2 failed probe\(s\): connection failed'

stop_server
stop_backends

# =============================================================================================
# 5. 500 probes timing out against a black hole never hold up answering
# =============================================================================================

if ! command -v dnsperf >/dev/null 2>&1; then
    ok "probe load # SKIP dnsperf is not installed"
else
    PORT=$(free_port)
    BP=$(free_port)
    LOAD_ADDRS=()
    for i in $(seq 1 250); do LOAD_ADDRS+=("127.0.1.$i" "127.0.2.$i"); done
    # 50 regions of 10 addresses, one service over all of them
    load_config()
    {
        local check=$1 r i
        printf 'server:\n  listen: ["127.0.0.1:%s"]\n  workers: 2\nregions:\n' "$PORT"
        for r in $(seq 0 49); do
            printf '  L%02d: { addresses: [' "$r"
            for i in $(seq 0 9); do
                printf '%s%s' "${LOAD_ADDRS[$((r * 10 + i))]}" "$([ "$i" -lt 9 ] && echo ', ')"
            done
            printf ']%s }\n' "${check:+, check: $check}"
        done
        printf 'checks:\n  hole: { url: "http://{address}:%s/", interval: 1s, timeout: 500ms, fall: 2, rise: 2 }\n' "$BP"
        printf 'services:\n  load: { policy: failover, order: ['
        for r in $(seq 0 49); do printf 'L%02d%s' "$r" "$([ "$r" -lt 49 ] && echo ', ')"; done
        printf '] }\nzones:\n  example.com: load.zone\n'
    }
    printf '%s\nwww  30 IN  DYNA  load\n' "$ZONE_HEAD" >"$TEST_TMP/load.zone"
    printf 'static.example.com A\nwww.example.com A\n' >"$TEST_TMP/queries.txt"
    load_config hole >"$TEST_TMP/probed.yaml"

    # perf NAME PORT: dnsperf for 3 s; sets QPS, SENT, LOST and CODES (its response codes).
    perf()
    {
        dnsperf -s 127.0.0.1 -p "$2" -d "$TEST_TMP/queries.txt" -l 3 -c 4 -q 64 -t 2 \
            >"$TEST_TMP/$1.perf" 2>&1
        QPS=$(awk '/Queries per second:/ { printf "%d", $4 }' "$TEST_TMP/$1.perf")
        SENT=$(awk '/Queries sent:/ { print $3 }' "$TEST_TMP/$1.perf")
        LOST=$(awk '/Queries lost:/ { print $3 }' "$TEST_TMP/$1.perf")
        # "NOERROR 96935 (100.00%)": every response NOERROR, as "NOERROR (100.00%)"
        CODES=$(sed -n 's/^ *Response codes: *\([A-Z]*\) [0-9]* /\1 /p' "$TEST_TMP/$1.perf")
        : "${QPS:=0}" "${SENT:=0}" "${LOST:=-1}"
    }

    # What hanging probes cost in throughput is a benchmark figure, not a test: on a shared
    # two-CPU box the qps of two 3 s runs differ by more than any such cost.  What is tested
    # is that they never hold up answering: under the same dnsperf load, with and without
    # 500 probes hanging, every query is answered (dnsperf waits 2 s for each) and NOERROR.
    # The two rates go into the TAP stream as a diagnostic only.

    # measure_pair: dnsperf against the baseline server (nothing else running), then starts
    # the probed server, waits for its first round of probes, and loads it the same way.
    # Sets B_QPS and P_QPS; leaves the probed server running.
    measure_pair()
    {
        perf baseline "$BASE_PORT"
        B_QPS=$QPS
        check "baseline (no checks): every query answered, NOERROR ($SENT sent, $LOST lost)" \
            test "$LOST" -eq 0 -a "$SENT" -gt 0 -a "$CODES" = "NOERROR (100.00%)"
        local mark
        mark=$(requests hole)
        start_server "$TEST_TMP/probed.yaml" "$PROBE_PORT"
        # The first round (random offsets within a second) reaches the black hole first.
        check "the black hole accepts the first round of 500 probes" \
            wait_for requests_at_least hole $((mark + 500))
        HOLE_BEFORE=$(requests hole)
        perf probed "$PROBE_PORT"
        HOLE_AFTER=$(requests hole)
        P_QPS=$QPS
        check "with 500 hanging probes: every query answered, NOERROR ($SENT sent, $LOST lost)" \
            test "$LOST" -eq 0 -a "$SENT" -gt 0 -a "$CODES" = "NOERROR (100.00%)"
        diag "baseline: $B_QPS queries/s; with 500 probes timing out: $P_QPS queries/s" \
            "($((B_QPS > 0 ? P_QPS * 100 / B_QPS : 0))% of the baseline; a diagnostic, not a test)"
    }

    BASE_PORT=$(free_port)
    PROBE_PORT=$PORT
    PORT=$BASE_PORT load_config "" >"$TEST_TMP/baseline.yaml"
    start_backend blackhole hole "$BP" "${LOAD_ADDRS[@]}" # idle until probes come
    start_server "$TEST_TMP/baseline.yaml" "$BASE_PORT"
    BASE_PID=$SERVER_PID
    measure_pair
    check_log "500 probes are configured" 'ready: .* 500 health probe\(s\)'
    # 3 s at 500 probes a second; allow for the edges of the run.
    check "the probes kept running during the load ($((HOLE_AFTER - HOLE_BEFORE)) connections in 3 s)" \
        test $((HOLE_AFTER - HOLE_BEFORE)) -ge 1000
    timeouts()
    {
        [ "$(log_count 'health: L[0-9]+ 127\.0\.[12]\.[0-9]+ is DOWN after 2 failed probe\(s\): timeout')" -ge 500 ]
    }
    check "every black-holed address went DOWN with a timeout as the reason" wait_for timeouts
    check_log "... and the service over them fails open" \
        'service load: every region it can pick is down or drained: answering as if all were up \(fail open\)'
    py_tap "$HEALTH/cadence.py" "$BE/hole/requests" 500 1000
    stop_server
    stop_server "$BASE_PID"
    stop_backends
fi

# ---- a backend that streams an endless body -----------------------------------------------

# The probe reads at most 64 KiB of a body and stops the transfer there, passing on the
# status and the marker, instead of reading until its timeout.
PORT=$(free_port)
printf '%s\n%s\n' "$ZONE_HEAD" 'endless 30 IN DYNA endless' >"$TEST_TMP/endless.zone"
cat >"$TEST_TMP/endless.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
regions:
  e1: { addresses: [127.0.0.91], check: endless }
  e2: { addresses: [127.0.0.92] }
checks:
  endless: { url: "http://{address}:$HP/health", body: "ALIVE", interval: 1s, timeout: 900ms, fall: 1, rise: 1 }
services:
  endless: { policy: failover, order: [e1, e2] }
zones:
  example.com: endless.zone
EOF
start_backend http 127.0.0.91 "$HP"
set_answer 127.0.0.91 "endless ALIVE"
start_server "$TEST_TMP/endless.yaml"
check "endless body: three probes ended" wait_for requests_at_least 127.0.0.91 3 '^endless '
most=$(grep '^endless ' "$BE/127.0.0.91/requests" | awk '$2 > m { m = $2 } END { print m + 0 }')
check "endless body: each probe took at most 16 MiB before it stopped reading ($most bytes)" \
    test "$most" -lt $((16 << 20))
check_answer "endless body: the status and marker pass, e1 answers" endless.example.com "" 127.0.0.91
check "endless body: e1 never went down" test "$(log_count 'health: e1 .* is DOWN')" -eq 0
stop_server
stop_backend 127.0.0.91

# =============================================================================================
# 6. meridiand -t: the bound of each check, and warnings where a TTL is shorter
# =============================================================================================

cat >"$TEST_TMP/timing.zone" <<EOF
$ZONE_HEAD
fast    1 IN  DYNA  fast
long   17 IN  DYNA  slow
short  16 IN  DYNA  slow
cdn     5 IN  DYNC  slowc
svcttl 60 IN  DYNA  slowttl
EOF
cat >"$TEST_TMP/timing.yaml" <<EOF
server: { listen: ["127.0.0.1:53"] }
regions:
  f1: { addresses: [127.0.0.71], check: quick }
  s1: { addresses: [127.0.0.81], check: slow, cname: s1.example.net. }
checks:
  quick: { url: "http://{address}/", interval: 200ms, timeout: 100ms, fall: 4, rise: 2 }
  slow: { type: tcp, port: 80, interval: 5s, timeout: 2s, fall: 3 }
services:
  fast: { policy: failover, order: [f1] }
  slow: { policy: failover, order: [s1] }
  slowc: { policy: failover, order: [s1] }
  slowttl: { policy: failover, order: [s1], ttl: 5 }
zones:
  example.com: timing.zone
EOF
out=$("$MERIDIAND" -c "$TEST_TMP/timing.yaml" -t 2>&1)
check "-t: warnings alone leave the exit status 0" test $? -eq 0
check_match "-t: the bound of check quick" \
    '^check quick: a failed address leaves answers within 900ms \(interval 200ms x fall 4 \+ timeout 100ms\)$' "$out"
check_match "-t: the bound of check slow" \
    '^check slow: a failed address leaves answers within 17s \(interval 5s x fall 3 \+ timeout 2s\)$' "$out"
check_match "-t: a DYNA name whose TTL is under the bound is warned about" \
    'warning: short\.example\.com\. \(TTL 16s, service slow\) relies on check slow, which can take 17s' "$out"
check_match "-t: a DYNC name too" \
    'warning: cdn\.example\.com\. \(TTL 5s, service slowc\) relies on check slow' "$out"
check_match "-t: a service ttl counts, not the record's" \
    'warning: svcttl\.example\.com\. \(TTL 5s, service slowttl\) relies on check slow' "$out"
check "-t: a TTL equal to the bound is not warned about" \
    test "$(printf '%s\n' "$out" | grep -c 'long\.example\.com')" -eq 0
check "-t: a 1 s TTL over a 0.9 s check is not warned about" \
    test "$(printf '%s\n' "$out" | grep -c 'fast\.example\.com')" -eq 0
check "-t: exactly three warnings" test "$(printf '%s\n' "$out" | grep -c 'warning:')" -eq 3
printf '%s\n' "$out" | grep -E '^check |warning:' | diag

done_testing
