#!/bin/bash
# querylog.sh — the query log end to end: one line per query with every field right,
# rotation by rename and SIGUSR1, every answered query accounted for under a dnsperf
# load, and a log that cannot be written (a FIFO nobody reads, or a reader that never
# reads), which must cost lines, counted, never answers, and must not stop the server
# from shutting down.
# SPDX-License-Identifier: MIT

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=ops/helpers.sh
. "$E2E_DIR/ops/helpers.sh"

require_tool curl curl

# shellcheck disable=SC2016 # $ORIGIN and $TTL are zone file directives
cat >"$TEST_TMP/ql.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@        IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
         IN  NS    ns1
ns1      IN  A     192.0.2.53
static   IN  A     192.0.2.1
static6  IN  AAAA  2001:db8::1
www   30 IN  DYNA  web
EOF

# conf FILE PORT MPORT [QUERY_LOG]: a config serving ql.zone, with /metrics on MPORT.
conf()
{
    {
        cat <<EOF
server:
  listen: ["127.0.0.1:$2"]
  workers: 2
  metrics: 127.0.0.1:$3
EOF
        [ $# -ge 4 ] && echo "  query_log: $4"
        cat <<EOF
geoip:
  databases: []
  nets:
    10.1.0.0/24: [r1, r2]
    10.2.0.0/16: [r2, r1]
regions:
  r1: { addresses: [192.0.2.11] }
  r2: { addresses: [192.0.2.21] }
services:
  web: { policy: geo, map: { default: [r1, r2] } }
zones:
  example.com: ql.zone
EOF
    } >"$1"
}

lines()
{
    if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi
}

lines_are()
{
    [ "$(lines "$1")" -eq "$2" ]
}

# ---- expected lines -------------------------------------------------------------------------

EXPECT=() # per query: "CLIENT ECS QNAME QTYPE RCODE SERVICE REGION PROTO"
SEND_BAD=0

# ql_send N udp|tcp QTYPE QNAME RCODE ECS-FIELD SERVICE REGION [SUBNET]: N queries with dig
# (from 127.0.0.1), each of which must get RCODE; N expected log lines.
ql_send()
{
    local n=$1 proto=$2 qtype=$3 qname=$4 rcode=$5 ecs=$6 svc=$7 region=$8 subnet=${9-}
    local args=(+noall +comments) i status
    [ "$proto" = tcp ] && args+=(+tcp)
    [ -n "$subnet" ] && args+=("+subnet=$subnet")
    for ((i = 0; i < n; i++)); do
        status=$(dig_raw "${args[@]}" "$qname" "$qtype" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
        [ "$status" = "$rcode" ] || SEND_BAD=$((SEND_BAD + 1))
        EXPECT+=("127.0.0.1 $ecs $qname. $qtype $rcode $svc $region $proto")
    done
}

# The lines of a log file with the time field cut off, sorted: the writer drains one ring
# per worker, so lines of queries answered by different workers may swap places.
log_fields()
{
    cut -d ' ' -f 2- "$1" | LC_ALL=C sort
}

expected_fields()
{
    printf '%s\n' "${EXPECT[@]}" | LC_ALL=C sort
}

# bad_times FILE FROM_MS TO_MS: lines whose time is not "YYYY-MM-DDTHH:MM:SS.mmmZ" within
# [FROM_MS, TO_MS], printed.
bad_times()
{
    python3 - "$@" <<'EOF'
import re, sys, datetime
path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pat = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
for line in open(path):
    t = line.split(" ", 1)[0]
    ok = bool(pat.match(t))
    if ok:
        d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc)
        ms = int(d.timestamp() * 1000 + 0.5)
        ok = lo <= ms <= hi
    if not ok:
        print(line.rstrip("\n"))
EOF
}

# =============================================================================================
# 1. Every query one line, every field right
# =============================================================================================

PORT=$(free_port)
MPORT=$(free_port)
QLOG=$TEST_TMP/query.log
conf "$TEST_TMP/ql.yaml" "$PORT" "$MPORT" "$QLOG"
t0=$(now_ms)
start_server "$TEST_TMP/ql.yaml"

ql_send 12 udp A StAtIc.Example.COM NOERROR - - -
ql_send 3 udp A static.example.com NOERROR 192.0.2.0/24/0 - - 192.0.2.0/24
ql_send 2 udp A static.example.com NOERROR 2001:db8:1::/48/0 - - 2001:db8:1::/48
ql_send 1 udp TYPE65000 static.example.com NOERROR - - -
ql_send 5 tcp AAAA static6.example.com NOERROR - - -
ql_send 1 udp MX static.example.com NOERROR - - -
for i in 1 2 3 4 5 6 7 8; do ql_send 1 udp A "nx$i.example.com" NXDOMAIN - - -; done
ql_send 2 tcp TXT Nx.Example.com NXDOMAIN - - -
ql_send 8 udp A www.example.com NOERROR 10.1.0.0/24/24 web r1 10.1.0.0/24
ql_send 4 tcp A WWW.example.com NOERROR 10.2.3.0/24/16 web r2 10.2.3.0/24
ql_send 5 udp A www.example.com NOERROR - web r1
ql_send 2 udp A www.example.org REFUSED - - -
N=${#EXPECT[@]}
check_eq "$N queries all got the rcode expected" 0 "$SEND_BAD"

# start_server's readiness probe (". SOA", REFUSED) is a query too, but one answered in
# the first moment of start-up: section 3 covers that moment; here it is set aside.
PROBE=' - \. SOA REFUSED - - udp$'
probe_lines()
{
    grep -Ec -- "$PROBE" "$1" 2>/dev/null
}
query_lines_are()
{
    [ "$(grep -Evc -- "$PROBE" "$1" 2>/dev/null)" -eq "$2" ]
}
if wait_for query_lines_are "$QLOG" "$N"; then
    ok "the query log holds one line per query: $N"
else
    not_ok "the query log holds one line per query: $N"
    diag "it holds $(lines "$QLOG") after ${WAIT_TIMEOUT} s"
fi
probes=$(probe_lines "$QLOG")
check "and no other line (at most one for start_server's probe)" \
    test "$(lines "$QLOG")" -eq $((N + probes)) -a "$probes" -le 1
diag "start_server's probe: $probes line(s)"
grep -Ev -- "$PROBE" "$QLOG" >"$TEST_TMP/queries.only"
check_eq "each line: client, ECS addr/source/scope or -, qname as sent, type, rcode, service, region, proto" \
    "$(expected_fields)" "$(log_fields "$TEST_TMP/queries.only")"
bad=$(bad_times "$QLOG" $((t0 - 1000)) $(($(now_ms) + 1000)))
check_eq "each line starts with its time: ISO 8601 UTC with milliseconds, during the test" "" "$bad"
check_eq "and has exactly nine fields" "$(lines "$QLOG")" "$(awk 'NF == 9' "$QLOG" | wc -l)"
diag "for example:" "$(grep -m1 ' web r2 tcp$' "$QLOG")" "$(grep -m1 ' StAtIc' "$QLOG")"
check_eq "no line dropped (meridian_querylog_dropped_total 0)" 0 \
    "$(metric meridian_querylog_dropped_total)"

# =============================================================================================
# 2. Rotation: rename, SIGUSR1, a new file from the next line on
# =============================================================================================

# Every line is in by now (checked above), so the rename cuts between two queries.
mv "$QLOG" "$QLOG.1"
kill -USR1 "$SERVER_PID"
check "SIGUSR1 after a rename: the server creates a new query.log" wait_for test -e "$QLOG"
EXPECT=()
ql_send 6 udp A static.example.com NOERROR - - -
ql_send 2 tcp A www.example.com NOERROR 10.1.0.0/24/24 web r1 10.1.0.0/24
ql_send 2 udp A gone.example.com NXDOMAIN - - -
if wait_for lines_are "$QLOG" 10; then
    ok "the 10 queries after the rotation are in the new file"
else
    not_ok "the 10 queries after the rotation are in the new file"
    diag "it holds $(lines "$QLOG")"
fi
check_eq "the new file's lines are exactly those queries" "$(expected_fields)" "$(log_fields "$QLOG")"
check_eq "the renamed file keeps its $((N + probes)) lines, and gets no more" "$((N + probes))" \
    "$(lines "$QLOG.1")"
check "the server survived SIGUSR1" alive "$SERVER_PID"
stop_server
check_eq "and stops cleanly on SIGTERM" 0 "$?"

# =============================================================================================
# 3. Start-up: queries that arrive while the server starts are logged too
# =============================================================================================

# Every query answered is a line or a counted drop (meridian_querylog_dropped_total);
# queries_total counts every answered query, so the three must add up.
total_q()
{
    series meridian_queries_total "$1" | awk '{ n += $2 } END { printf "%.0f", n }'
}
# accounted MPORT LOGFILE: lines + dropped == queries, and some queries were answered (0 +
# 0 == 0 proves nothing); sets ACC_Q, ACC_L, ACC_D.
accounted()
{
    local s
    s=$(scrape_port "$1") || return 1
    ACC_Q=$(total_q "$s")
    ACC_D=$(metric meridian_querylog_dropped_total "$s")
    ACC_L=$(lines "$2")
    [ "$ACC_Q" -gt 0 ] && [ "$((ACC_L + ACC_D))" -eq "$ACC_Q" ]
}

PORT=$(free_port)
MPORT=$(free_port)
SLOG=$TEST_TMP/startup.log
conf "$TEST_TMP/startup.yaml" "$PORT" "$MPORT" "$SLOG"
spawn python3 "$OPS/opsq.py" trickle "$PORT" static.example.com 1 >"$TEST_TMP/trickle.out"
TRICKLE=$HELPER_PID
trickling()
{
    grep -q sending "$TEST_TMP/trickle.out"
}
wait_for trickling
start_server "$TEST_TMP/startup.yaml"
wait "$TRICKLE"
reap "$TRICKLE"
if wait_for accounted "$MPORT" "$SLOG"; then
    ok "start-up under a steady trickle of queries: every answered query is logged"
else
    not_ok "start-up under a steady trickle of queries: every answered query is logged"
fi
diag "start-up: $(sed -n 's/sent=//p' "$TEST_TMP/trickle.out") sent, $ACC_Q answered, $ACC_L lines, $ACC_D dropped"
stop_server

# =============================================================================================
# 4. Under load: every answered query is a line or a counted drop
# =============================================================================================

printf '%s\n' "static.example.com A" "www.example.com A" "nx.example.com A" \
    "static6.example.com AAAA" "static.example.com MX" >"$TEST_TMP/perf.txt"
PERF_S=${PERF_S:-2} # seconds of the dnsperf load
# Against a stuck log the load is a count, not a time: 10,000 runs through perf.txt's 5
# queries are 50,000 queries, every ring (4096 lines) filled many times over however fast
# the machine is.  STUCK_LIMIT_S only bounds a hang.
STUCK_RUNS=${STUCK_RUNS:-10000}
STUCK_LIMIT_S=${STUCK_LIMIT_S:-60}

OFF_PORT=$(free_port)
OFF_MPORT=$(free_port)
ON_PORT=$(free_port)
ON_MPORT=$(free_port)
BLOG=$TEST_TMP/bench.log
conf "$TEST_TMP/off.yaml" "$OFF_PORT" "$OFF_MPORT"
conf "$TEST_TMP/on.yaml" "$ON_PORT" "$ON_MPORT" "$BLOG"
start_server "$TEST_TMP/off.yaml" "$OFF_PORT"
OFF_PID=$SERVER_PID
start_server "$TEST_TMP/on.yaml" "$ON_PORT"
ON_PID=$SERVER_PID

ratio()
{
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }'
}

# perf_count PORT: dnsperf through perf.txt STUCK_RUNS times (at most STUCK_LIMIT_S s, a
# bound for a hang only; 5 s for each answer); prints "SENT LOST QPS", or "0 -1 0" when
# dnsperf reported nothing.
perf_count()
{
    dnsperf -s 127.0.0.1 -p "$1" -d "$TEST_TMP/perf.txt" -n "$STUCK_RUNS" -l "$STUCK_LIMIT_S" \
        -c 4 -q 200 -t 5 2>&1 | awk '
        /Queries sent:/ { sent = $3 }
        /Queries lost:/ { lost = $3 }
        /Queries per second:/ { qps = $4 }
        END { if (sent == "" || lost == "") print "0 -1 0"; else print sent, lost, qps + 0 }'
}

# What the log costs in throughput is a benchmark figure, not a test: `make bench` measures
# it (tests/bench, the querylog mix) and the README shows it.  Here, a dnsperf load at full
# speed, and the accounting after it.
HAVE_DNSPERF=false
command -v dnsperf >/dev/null 2>&1 && HAVE_DNSPERF=true
if $HAVE_DNSPERF; then
    read -r q lost <<<"$(dnsperf_qps "$ON_PORT" "$TEST_TMP/perf.txt" "$PERF_S")"
    diag "log on: dnsperf $q qps, $lost lost"
    if wait_for accounted "$ON_MPORT" "$BLOG"; then
        ok "log on, under a dnsperf load: every answered query is a line or a counted drop"
    else
        not_ok "log on, under a dnsperf load: every answered query is a line or a counted drop"
    fi
    diag "log on: $ACC_Q queries, $ACC_L lines, $ACC_D dropped (meridian_querylog_dropped_total)"
else
    ok "log on, under a dnsperf load: every answered query is logged # SKIP dnsperf is not installed"
fi
stop_server "$ON_PID" # the log-off server stays, to pace section 5

# =============================================================================================
# 5. A log that cannot be written never blocks answers, and never blocks shutdown
# =============================================================================================

# stuck_case NAME: the server on $PORT/$MPORT logs into a FIFO that takes nothing; every
# query of a dnsperf load is still answered, drops are counted, and SIGTERM still stops it.
stuck_case()
{
    local name=$1
    check_dns "$name: a query is answered" "static.example.com A" --skip edns \
        --answer "static.example.com. 300 IN A 192.0.2.1"
    if ! $HAVE_DNSPERF; then
        ok "$name: under a dnsperf load every query is answered # SKIP dnsperf is not installed"
        ok "$name: the lines that cannot be written are counted as dropped # SKIP no dnsperf"
    else
        stuck_load "$name"
        stuck_drops "$name"
    fi
    stuck_stop "$name"
}

# stuck_load NAME: a dnsperf load of STUCK_RUNS x perf.txt against this server: every
# query sent is answered (none lost: a worker waiting on the log would leave its queries
# unanswered).  The same load against the log-off server gives a rate to set beside this
# one, as a diagnostic only: what the log costs is measured by `make bench`.
stuck_load()
{
    local name=$1 off_q sent lost q planned
    planned=$((STUCK_RUNS * $(wc -l <"$TEST_TMP/perf.txt")))
    read -r _ _ off_q <<<"$(perf_count "$OFF_PORT")"
    read -r sent lost q <<<"$(perf_count "$PORT")"
    diag "$name: $sent queries sent ($planned planned), $lost lost; $q qps" \
        "against the log-off server's $off_q qps (ratio $(ratio "$q" "$off_q"); a diagnostic, not a test)"
    check "$name: under a dnsperf load every query is answered ($sent sent, $lost lost)" \
        test "$sent" -gt 0 -a "$lost" -eq 0
}

# stuck_drops NAME: the lines that cannot be written are counted as dropped.
stuck_drops()
{
    local name=$1 s total dropped
    s=$(scrape)
    total=$(series meridian_queries_total "$s" | awk '{ n += $2 } END { printf "%.0f", n }')
    dropped=$(metric meridian_querylog_dropped_total "$s")
    diag "$name: $total queries answered, $dropped log lines dropped"
    # Not dropped: at most a full ring (4096) per UDP worker and for TCP, plus what the
    # writer holds in its buffer and the pipe (under 4096 lines).
    if [ "$dropped" != absent ] && [ "$dropped" -gt 0 ] && [ "$dropped" -le "$total" ] &&
        [ "$dropped" -ge $((total - 4 * 4096)) ]; then
        ok "$name: the lines that cannot be written are counted as dropped"
    else
        not_ok "$name: the lines that cannot be written are counted as dropped"
    fi
}

# stuck_stop NAME: SIGTERM stops the server, stuck writer or not.  10 s is a bound for a
# hang, not a goal: the time it took goes into the TAP stream.
stuck_stop()
{
    local name=$1 pid=$SERVER_PID t
    t=$(now_ms)
    kill -TERM "$pid"
    if WAIT_TIMEOUT=10 wait_for gone "$pid"; then
        ok "$name: SIGTERM stops the server (no hang: within 10 s)"
        diag "$name: stopped $(($(now_ms) - t)) ms after SIGTERM"
    else
        not_ok "$name: SIGTERM stops the server (no hang: within 10 s)"
        local task
        for task in /proc/"$pid"/task/*; do
            diag "$name: still running after 10 s: thread $(basename "$task") waits in $(cat "$task/wchan" 2>/dev/null)"
        done
        kill -KILL "$pid" 2>/dev/null
    fi
    stop_server "$pid"
}

PORT=$(free_port)
MPORT=$(free_port)
FIFO=$TEST_TMP/fifo.log
mkfifo "$FIFO"
conf "$TEST_TMP/fifo.yaml" "$PORT" "$MPORT" "$FIFO"
start_server "$TEST_TMP/fifo.yaml"
stuck_case "FIFO with no reader"

# A reader that opens the FIFO and never reads: the writer's open() succeeds and its
# write() blocks once the pipe (64 KiB) is full.
PORT=$(free_port)
MPORT=$(free_port)
FIFO2=$TEST_TMP/fifo2.log
mkfifo "$FIFO2"
spawn python3 -c 'import os, signal, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
signal.pause()' "$FIFO2"
conf "$TEST_TMP/fifo2.yaml" "$PORT" "$MPORT" "$FIFO2"
start_server "$TEST_TMP/fifo2.yaml"
stuck_case "FIFO whose reader never reads"
reap "$HELPER_PID"
stop_server "$OFF_PID"

done_testing
