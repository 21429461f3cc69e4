#!/bin/sh
# run.sh — `make bench`: meridiand beside knotd, nsd and gdnsd on the same zone and queries.
# SPDX-License-Identifier: MIT
#
# It measures queries/s per core and latency for each query mix (static; geo + ECS), and
# the time and memory to load a 1,000,000-record zone, then prints one summary table.
#
# Method.  On a 2-core machine the load generator, not the server, is the ceiling: dnsperf
# tops out near 150k qps on one core.  So every server runs one worker pinned to CPU 0, and
# udpblast (udpblast.c, built here) runs pinned to CPU 1, keeping a window of queries in
# flight with sendmmsg/recvmmsg: the median answered queries/s is what one core of the
# server does.  Latency is measured at a fixed rate by `udpblast -Q`, which spins on its
# own core and timestamps every query to the microsecond.  dnsperf 2.10 reports only a mean,
# and its per-query mode (-v) slows it enough to add a tail of its own, so dnsperf at the
# same rate is kept as a cross-check of the mean and the loss, not as the source of
# percentiles.  A run during which the server or udpblast waited for its CPU (other
# processes on the machine) is repeated.  Everything listens on 127.0.0.1 at a free port
# and lives in a temp dir.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [10]    length of each throughput run; BENCH_QUICK=1 makes it 3
#   BENCH_RUNS [3]        throughput runs per server, the median is reported
#   BENCH_WINDOW [64]     queries in flight during throughput runs: enough to keep one
#                         core busy, few enough not to overflow a default socket buffer
#   BENCH_RATE [10000]    queries/s of the latency runs; BENCH_LAT_SECONDS [4, quick 2]
#   BENCH_BIGZONE [1]     0 skips the big-zone load test; BENCH_BIG_RECORDS [1000000]
#   BENCH_SERVERS ["meridiand knotd nsd gdnsd"]
#   BENCH_MIXES ["static geo querylog cookies dnstap resolver"]
#   BENCH_RESOLVER_CLIENTS [5000]  client /24s asking through Unbound in the resolver mix
#   BENCH_CEILING [1]     0 skips udpecho, the no-DNS-work ceiling of each mix
#   BENCH_GEOIP           the GeoIP2 City database of the geo mix
#                         [data/GeoLite2-City.mmdb of the source tree: contrib/fetch-geoip --city]
#   MERIDIAND             the daemon to test [./meridiand: make runs us in the build dir]
#   BENCH_KEEP=1          keep the temp dir (configs, logs) for a post-mortem
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
QUICK=${BENCH_QUICK:-0}
RUN_SECS=${BENCH_SECONDS:-10}
LAT_SECS=${BENCH_LAT_SECONDS:-4}
if [ "$QUICK" = 1 ]; then
    RUN_SECS=${BENCH_SECONDS:-3}
    LAT_SECS=${BENCH_LAT_SECONDS:-2}
fi
DNSPERF_SECS=3
RUNS=${BENCH_RUNS:-3}
WINDOW=${BENCH_WINDOW:-64}
RATE=${BENCH_RATE:-10000}
BIGZONE=${BENCH_BIGZONE:-1}
BIG_RECORDS=${BENCH_BIG_RECORDS:-1000000}
BIG_TIMEOUT=240 # seconds a server may take to load the big zone
READY_TIMEOUT=30
SERVERS=${BENCH_SERVERS:-meridiand knotd nsd gdnsd}
CEILING=${BENCH_CEILING:-1}
MIXES=${BENCH_MIXES:-static geo querylog cookies dnstap resolver}
RESOLVER_CLIENTS=${BENCH_RESOLVER_CLIENTS:-5000}
GEOIP=${BENCH_GEOIP:-$HERE/../../data/GeoLite2-City.mmdb}
PIDS=""
DNSPERF_OPTS=""

say() { printf '%s\n' "$*"; }
die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}
now_ms() { date +%s%3N; }

# ---- processes: only those we started, reaped by PID ------------------------------------

# True while PID runs; a zombie (exited, not yet reaped) counts as gone.
alive() {
    [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

stop_pid() {
    kill "$1" 2>/dev/null
    i=0
    while alive "$1" && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if alive "$1"; then
        say "bench: pid $1 ignored SIGTERM for 10 s; sending SIGKILL"
        kill -9 "$1" 2>/dev/null
    fi
    wait "$1" 2>/dev/null
    PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

cleanup() {
    for pid in $PIDS; do
        stop_pid "$pid"
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "bench: kept $T"; else rm -rf "$T"; fi
}

# ---- setup ------------------------------------------------------------------------------

find_meridiand() {
    for m in "${MERIDIAND:-}" ./meridiand "$HERE/../../build/meridiand"; do
        if [ -n "$m" ] && [ -x "$m" ]; then
            MERIDIAND=$(cd "$(dirname "$m")" && pwd)/$(basename "$m")
            return 0
        fi
    done
    die "no meridiand: run 'make bench' in the build directory or set MERIDIAND"
}

# A port free for both UDP and TCP on loopback (servers bind both).
free_port() {
    python3 - <<'EOF'
import socket
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
    finally:
        t.close()
        u.close()
EOF
}

available() {
    case $1 in
    meridiand) [ -x "$MERIDIAND" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

version_of() {
    case $1 in
    meridiand) "$MERIDIAND" -V ;;
    knotd) knotd -V ;;
    nsd) nsd -v 2>&1 | head -1 ;;
    gdnsd) gdnsd -h 2>&1 | grep -m1 version ;;
    esac
}

# ---- one config per server: conf_NAME DIR ZONEFILE PORT MIX, exec_NAME DIR --------------
# One worker each (the CPU 0 they are pinned to), state and pid files inside DIR.  For the
# geo mix, each config adds the geo map that genzone.py wrote in that server's syntax
# into $T/geo, and ZONEFILE is that server's version of the zone.

conf_meridiand() {
    cat >"$1/meridian.yaml" <<EOF
server:
  listen: ["127.0.0.1:$3"]
  workers: 1
zones:
  example.com: $2
EOF
    if [ "$4" = geo ]; then cat "$T/geo/meridian.yaml" >>"$1/meridian.yaml"; fi
    if [ "$4" = querylog-on ]; then
        sed -i "s|^  workers: 1$|  workers: 1\\n  query_log: $1/query.log\\n  metrics: 127.0.0.1:$QL_MPORT|" \
            "$1/meridian.yaml"
    fi
    if [ "$4" = dnstap-on ]; then
        sed -i "s|^  workers: 1$|  workers: 1\\n  dnstap: $1/dnstap.fstrm\\n  metrics: 127.0.0.1:$QL_MPORT|" \
            "$1/meridian.yaml"
    fi
}
exec_meridiand() { exec taskset -c 0 "$MERIDIAND" -c "$1/meridian.yaml"; }

# The geo mix uses mod-geoip (Debian: knot-module-geoip) with the keys continent;country,
# and edns-client-subnet, which Knot leaves off by default.
conf_knotd() {
    if [ "$4" = geo ]; then
        ecs="edns-client-subnet: on"
        module="module: mod-geoip/web"
        geo="mod-geoip:
  - id: web
    config-file: \"$T/geo/knot-geo.conf\"
    ttl: 30
    mode: geodb
    geodb-file: \"$GEOIP\"
    geodb-key: [continent/code, country/iso_code]"
    else
        ecs="" module="" geo=""
    fi
    cat >"$1/knot.conf" <<EOF
server:
    rundir: "$1"
    pidfile: "$1/knot.pid"
    listen: 127.0.0.1@$3
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    $ecs
log:
  - target: stderr
    any: warning
database:
    storage: "$1/db"
$geo
template:
  - id: default
    file: "$2"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: example.com
    $module
EOF
}
exec_knotd() { exec taskset -c 0 knotd -c "$1/knot.conf"; }

# minimal-responses: the others leave the apex NS out of positive answers; without it NSD
# would send twice the bytes and not be measured doing the same work.  RRL is off: every
# query comes from 127.0.0.1 and NSD's default limit is 200 qps per source.
conf_nsd() {
    cat >"$1/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$3
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$1"
    pidfile: "$1/nsd.pid"
    xfrdfile: "$1/xfrd.state"
    zonelistfile: "$1/zone.list"
    xfrdir: "$1"
    logfile: "$1/nsd.log"
    verbosity: 0
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: example.com
    zonefile: "$2"
EOF
}
exec_nsd() { exec taskset -c 0 nsd -d -c "$1/nsd.conf"; }

# gdnsd 3 reads DIR/config and every file in DIR/zones/, named after its zone.
conf_gdnsd() {
    mkdir -p "$1/zones"
    ln "$2" "$1/zones/example.com" 2>/dev/null || cp "$2" "$1/zones/example.com"
    cat >"$1/config" <<EOF
options => {
    listen => [ 127.0.0.1:$3 ]
    udp_threads => 1
    tcp_threads => 1
    run_dir => $1/run
    state_dir => $1/state
}
EOF
    if [ "$4" = geo ]; then cat "$T/geo/gdnsd.plugins" >>"$1/config"; fi
}
exec_gdnsd() { exec taskset -c 0 gdnsd -c "$1" start; }

# ---- starting, probing and measuring one server ------------------------------------------

# start_server NAME ZONEFILE TAG: sets SRV_NAME, SRV_DIR, SRV_PORT, SRV_PID, SRV_T0.
start_server() {
    SRV_NAME=$1
    SRV_DIR=$T/$1.$3
    mkdir -p "$SRV_DIR"
    SRV_PORT=$(free_port)
    [ -n "$SRV_PORT" ] || die "no free port on 127.0.0.1"
    "conf_$1" "$SRV_DIR" "$2" "$SRV_PORT" "$3"
    SRV_T0=$(now_ms)
    "exec_$1" "$SRV_DIR" >"$SRV_DIR/log" 2>&1 &
    SRV_PID=$!
    PIDS="$PIDS $SRV_PID"
}

stop_server() { stop_pid "$SRV_PID"; }

# launch NAME ZONEFILE TAG PROBE SECONDS: starts NAME and waits until PROBE answers.  A
# server that exits before answering is started once more on a new port, because another
# program may have taken the free port we picked; its log is shown either way.
launch() {
    start_server "$1" "$2" "$3"
    wait_answer "$4" "$5" && return 0
    if alive "$SRV_PID"; then
        stop_server
        return 1
    fi
    stop_server
    say "  retrying once on a new port"
    start_server "$1" "$2" "$3"
    wait_answer "$4" "$5" && return 0
    stop_server
    return 1
}

server_died() {
    say "  !! $SRV_NAME (pid $SRV_PID) is gone $1; last lines of its log:"
    tail -n 15 "$SRV_DIR/log" "$SRV_DIR"/*.log 2>/dev/null | sed 's/^/     /'
}

# wait_answer NAME SECONDS: polls until NAME/A has an address; sets READY_MS since start.
wait_answer() {
    deadline=$(($(now_ms) + $2 * 1000))
    while :; do
        if dig +short +norecurse +time=1 +tries=1 -p "$SRV_PORT" @127.0.0.1 "$1" A 2>/dev/null |
            grep -q '^[0-9]'; then
            READY_MS=$(($(now_ms) - SRV_T0))
            return 0
        fi
        if ! alive "$SRV_PID"; then
            server_died "before answering $1"
            return 1
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
            say "  !! $SRV_NAME did not answer $1 within $2 s"
            return 1
        fi
        sleep 0.05
    done
}

# udpblast ARGS…: its machine-readable line, generator pinned to CPU 1.
blast() {
    taskset -c 1 "$UDPBLAST" -s 127.0.0.1 -p "$SRV_PORT" "$@" | grep '^sent='
}

# field LINE KEY: the value of KEY=… in a summary line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# The median of the numbers on stdin, one a line.
median() {
    sort -n | awk '{ v[NR] = $1 } END {
        printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ticks PID FIELDS: the sum over PID and its descendants (NSD answers in a child process)
# of FIELDS, an awk expression over /proc/PID/stat from the state field on ($12 is utime,
# $13 stime, in clock ticks).
ticks() {
    total=0
    for p in $(descendants "$1"); do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk "{ print $2 }")
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

# CPU time of the server.  Dividing answers by it gives queries per CPU-second, which
# holds up when other processes take a share of CPU 0 and shows when the server was not
# saturated.
# shellcheck disable=SC2016 # awk fields, not shell expansions
cpu_ticks() { ticks "$1" '$12 + $13'; }

# The part of it spent in the kernel (stime): system calls, and the network stack's work
# done on their behalf.  It says how much of a query's cost is the server's own.
# shellcheck disable=SC2016 # awk fields, not shell expansions
sys_ticks() { ticks "$1" '$13'; }

# Milliseconds the threads of PID and its descendants were ready to run but waited for
# the CPU (run_delay in /proc/PID/task/*/schedstat): what other processes took from it.
run_delay_ms() {
    for p in $(descendants "$1"); do
        cat /proc/"$p"/task/*/schedstat 2>/dev/null
    done | awk '{ ns += $2 } END { printf "%.0f\n", ns / 1e6 }'
}

# Datagrams the kernel dropped at the server's UDP socket because its receive queue was
# full: a query lost that way was never seen by the server.
socket_drops() {
    awk -v a="$(printf '0100007F:%04X' "$SRV_PORT")" '$2 == a { d += $NF } END { print d + 0 }' \
        /proc/net/udp
}

# Stolen clock ticks of CPU N since boot: time the hypervisor gave to someone else.
steal_ticks() { awk -v c="cpu$1" '$1 == c { print $9 }' /proc/stat; }

# blast_watched ARGS…: one udpblast run.  Sets LINE, SRV_TICKS (the server's CPU ticks
# during it) and SRV_SYS_TICKS (the kernel's part of them), DROPS (queries dropped at the server's full socket) and NOISE: empty, or
# how long the server and udpblast waited for their CPUs (or the hypervisor took them)
# when that passed 5% of the run, which makes the run say more about other processes
# than about the server.
blast_watched() {
    t0=$(now_ms) w0=$(run_delay_ms "$SRV_PID") s0=$(cpu_ticks "$SRV_PID") k0=$(sys_ticks "$SRV_PID")
    st0=$(steal_ticks 0) st1=$(steal_ticks 1) d0=$(socket_drops)
    LINE=$(blast "$@")
    t1=$(now_ms) w1=$(run_delay_ms "$SRV_PID") s1=$(cpu_ticks "$SRV_PID") k1=$(sys_ticks "$SRV_PID")
    SRV_TICKS=$((s1 - s0)) SRV_SYS_TICKS=$((k1 - k0))
    DROPS=$(($(socket_drops) - d0))
    w=$((w1 - w0))
    # A server whose own threads share CPU 0 (the query log's writer) waits behind itself:
    # then what others took of CPU 0 is the part of the run the server did not use.
    if [ "${SRV_SHARES_CPU:-0}" = 1 ]; then
        w=$(awk -v ms=$((t1 - t0)) -v t="$SRV_TICKS" -v hz="$CLK_TCK" \
            'BEGIN { w = ms - t * 1000 / hz; printf "%.0f", w > 0 ? w : 0 }')
    fi
    NOISE=$(awk -v ms=$((t1 - t0)) -v w="$w" -v g="$(field "$LINE" wait_ms)" \
        -v x0=$(($(steal_ticks 0) - st0)) -v x1=$(($(steal_ticks 1) - st1)) -v hz="$CLK_TCK" \
        'BEGIN {
            o0 = (w + x0 * 1000 / hz) / ms
            o1 = (g + x1 * 1000 / hz) / ms
            if (o0 > 0.05 || o1 > 0.05)
                printf "the server waited %.0f%% of the run for CPU 0, udpblast %.0f%% for CPU 1",
                    100 * o0, 100 * o1
        }')
    if ! alive "$SRV_PID" || [ -z "$LINE" ]; then
        server_died "during a run of udpblast $*"
        return 1
    fi
}

# repeat_clean KIND QUERYFILE: calls run_KIND until RUNS runs were clean or 2 x RUNS were
# made.  keep_KIND files each run under "clean" or, when other processes disturbed it,
# "noisy"; the results come from the clean runs, or from the noisy ones (and NOISY is
# set) when there was none.  Returns 1 if the server died.
repeat_clean() {
    rm -f "$T/$1.clean" "$T/$1.noisy"
    clean=0
    tries=0
    while [ $clean -lt "$RUNS" ] && [ $tries -lt $((2 * RUNS)) ]; do
        tries=$((tries + 1))
        "run_$1" "$2" || return 1
        if [ -n "$NOISE" ]; then
            say "     ^ $NOISE (other processes): set aside"
            "keep_$1" noisy
        else
            "keep_$1" clean
            clean=$((clean + 1))
        fi
    done
    RESULTS=$T/$1.clean
    if [ $clean -eq 0 ]; then
        RESULTS=$T/$1.noisy
        NOISY=1
    fi
}

# column N: the Nth field of each line of RESULTS.
column() { cut -d' ' -f"$1" "$RESULTS"; }

# One throughput run at the full window: prints it, with the server's share of CPU 0, its
# answers per CPU-second and the kernel's part of its CPU time.
run_qps() {
    blast_watched -d "$1" -l "$RUN_SECS" -w "$WINDOW" -b 32 || return 1
    cpu=$(awk -v t="$SRV_TICKS" -v k="$SRV_SYS_TICKS" -v hz="$CLK_TCK" \
        -v a="$(field "$LINE" answered)" -v d="$(field "$LINE" duration)" \
        'BEGIN { printf "%.0f %.0f %.0f", t ? a * hz / t : 0, 100 * t / hz / d, t ? 100 * k / t : 0 }')
    # shellcheck disable=SC2086 # three numbers, split on purpose
    set -- $cpu
    say "  run: $(field "$LINE" qps) qps (server CPU $2%, $1 per CPU-s, $3% of it in the kernel)," \
        "lost $(field "$LINE" lost)/$(field "$LINE" sent) ($DROPS dropped at the socket);" \
        "rcodes noerror $(field "$LINE" noerror) nxdomain $(field "$LINE" nxdomain)" \
        "servfail $(field "$LINE" servfail) refused $(field "$LINE" refused)," \
        "stray $(field "$LINE" stray)"
    warn_bad_rcodes "$LINE"
}

keep_qps() { echo "$(field "$LINE" qps) $cpu" >>"$T/qps.$1"; }

# Throughput: sets QPS, PER_CPU (answers per CPU-second of the server), UTIL (the
# server's CPU %) and KERNEL (the kernel's % of that CPU time) to the medians of the runs.
measure_qps() {
    repeat_clean qps "$1" || return 1
    QPS=$(column 1 | median)
    PER_CPU=$(column 2 | median)
    UTIL=$(column 3 | median)
    KERNEL=$(column 4 | median)
}

# Every query of the mixes has a NOERROR or NXDOMAIN answer; anything else means the server
# does not serve the zone as the others do, and its numbers would not compare.
warn_bad_rcodes() {
    bad=0
    for k in formerr servfail notimp refused other; do
        bad=$((bad + $(field "$1" $k)))
    done
    if [ "$bad" -gt 0 ]; then
        say "  !! $bad answers were FORMERR, SERVFAIL, NOTIMP, REFUSED or another error"
    fi
}

run_latency() {
    blast_watched -d "$1" -l "$LAT_SECS" -Q "$RATE" -w 4096 || return 1
    say "  latency run at $RATE qps: p50 $(field "$LINE" p50_us) µs," \
        "p99 $(field "$LINE" p99_us) µs, p99.9 $(field "$LINE" p999_us) µs," \
        "lost $(field "$LINE" lost)/$(field "$LINE" sent) ($DROPS dropped at the socket)"
}

keep_latency() {
    echo "$(field "$LINE" p50_us) $(field "$LINE" p99_us) $(field "$LINE" p999_us)" \
        "$(field "$LINE" lost) $(field "$LINE" sent)" >>"$T/latency.$1"
}

# Latency at RATE qps: sets P50 P99 P999 (µs, the medians of the runs), LOSS over those
# runs, and DP, dnsperf's mean and loss at the same rate.  dnsperf ignores udpblast's ecs=
# field; DNSPERF_OPTS can give it one EDNS option for every query (-E code:hex).
measure_latency() {
    repeat_clean latency "$1" || return 1
    P50=$(column 1 | median)
    P99=$(column 2 | median)
    P999=$(column 3 | median)
    LOSS=$(awk '{ l += $4; s += $5 } END { printf "%.3f%%", s ? 100 * l / s : 0 }' "$RESULTS")
    # shellcheck disable=SC2086 # DNSPERF_OPTS holds separate words
    dp=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$SRV_PORT" -d "$1" -l "$DNSPERF_SECS" \
        -Q "$RATE" -e $DNSPERF_OPTS 2>&1)
    DP=$(printf '%s\n' "$dp" | awk '/Average Latency/ { mean = $4 * 1e6 }
        /Queries lost/ { lost = $4 } END { printf "%.0f us / %s", mean, lost }' | tr -d '()')
    say "  dnsperf at $RATE qps: mean latency / loss $DP"
}

# ---- the mixes: each builds its zone and queries, then measures every server --------------

# A row per server and mix in $T/rows.MIX: NAME|QPS|CPU%|QPS/CPU-s|P50|P99|P999|LOSS|DNSPERF,
# or NAME|what went wrong.  NAME ends in "*" when other processes disturbed every run, and
# in "!" when the server gave a wrong answer before it was measured.  $T/notes.MIX holds
# NAME|NOTE lines for the tables.
bench_server() { # NAME ZONEFILE QUERYFILE MIX PROBE
    say "-- $1 ($(version_of "$1"))"
    NOISY=0 BAD=0 NOTE=""
    if ! launch "$1" "$2" "$4" "$5" "$READY_TIMEOUT"; then
        printf '%s|failed to start\n' "$1" >>"$T/rows.$4"
        [ "$4" = geo ] && [ "$1" = knotd ] &&
            printf '%s|is mod-geoip installed? (Debian: knot-module-geoip)\n' "$1" >>"$T/notes.$4"
        return
    fi
    [ "$4" = geo ] && check_geo "$1" "$3"
    if measure_qps "$3" && measure_latency "$3"; then
        name=$1
        [ "$NOISY" = 1 ] && name="$name*"
        [ "$BAD" = 1 ] && name="$name!"
        printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$name" "$QPS" "$UTIL" "$PER_CPU" "$P50" "$P99" \
            "$P999" "$LOSS" "$DP" "$KERNEL" >>"$T/rows.$4"
    else
        printf '%s|crashed\n' "$1" >>"$T/rows.$4"
    fi
    [ -n "$NOTE" ] && printf '%s|%s\n' "$1" "$NOTE" >>"$T/notes.$4"
    stop_server
}

# note TEXT: adds TEXT to the server's note in the tables.
note() { NOTE="${NOTE:+$NOTE; }$*"; }

# Differences in answer shape that remain, for the reader of the numbers: gdnsd 3 does not
# chase in-zone CNAMEs (5% of the queries: it sends the CNAME alone), and NSD with
# minimal-responses and gdnsd leave the MX target's address out of the apex MX answer.
mix_static() {
    mkdir -p "$T/static"
    say "== $(python3 "$HERE/genzone.py" static "$T/static/example.com.zone" \
        "$T/static/queries.txt")"
    say "   $(wc -l <"$T/static/example.com.zone") zone lines, $(wc -l <"$T/static/queries.txt")" \
        "queries; servers on CPU 0 (1 worker), udpblast on CPU 1 (window $WINDOW)"
    for s in $SERVERS; do
        if available "$s"; then
            bench_server "$s" "$T/static/example.com.zone" "$T/static/queries.txt" static \
                host0000.example.com
        else
            say "-- $s: not installed, skipped"
        fi
    done
    bench_ceiling static "$T/static/queries.txt"
    print_table static
}

# The geo + ECS mix: www.example.com A, a DYNA name answered by client location, asked with
# an EDNS Client Subnet option from each of 20,000 different public /24s (query lines
# "name A ecs=ADDR/24", which udpblast encodes), against gdnsd's geoip plugin and Knot's
# mod-geoip on the same map and the same GeoLite2-City database.  NSD has no geo answers.
# Before a server is measured, check_geo makes sure its answers are the map's.
mix_geo() {
    if [ ! -r "$GEOIP" ]; then
        say "== geo mix: skipped: no GeoIP2 City database at $GEOIP" \
            "(contrib/fetch-geoip --city, or set BENCH_GEOIP)"
        return
    fi
    GEOIP=$(cd "$(dirname "$GEOIP")" && pwd)/$(basename "$GEOIP")
    mkdir -p "$T/geo"
    say "== $(python3 "$HERE/genzone.py" geo "$T/geo" "$GEOIP")"
    say "   database $GEOIP; servers on CPU 0 (1 worker), udpblast on CPU 1 (window $WINDOW)"
    # dnsperf cannot vary ECS per query: its cross-check sends 81.2.69.0/24 (GB) in all.
    DNSPERF_OPTS="-E 8:00011800510245"
    for s in $SERVERS; do
        if [ "$s" = nsd ]; then
            say "-- nsd: no geo answers, skipped"
            printf 'nsd|n/a (no geo)\n' >>"$T/rows.geo"
        elif available "$s"; then
            case $s in
            meridiand) zone=$T/geo/example.com.zone ;;
            gdnsd) zone=$T/geo/example.com.gdnsd ;;
            knotd) zone=$T/geo/example.com.knot ;;
            esac
            bench_server "$s" "$zone" "$T/geo/queries.txt" geo www.example.com
        else
            say "-- $s: not installed, skipped"
        fi
    done
    DNSPERF_OPTS=""
    bench_ceiling geo "$T/geo/queries.txt"
    print_table geo
}

# The resolver mix: what an ECS-aware resolver does with the answers.  Unbound (subnetcache,
# its ECS cache large enough never to evict) stubs example.com to meridiand, then to
# gdnsd, on the geo mix's map and database; random public client /24s each ask the geo
# name once through it (tests/e2e/resolver.py, which also asks the server directly and
# counts clients given another client's answer).  udprelay.py between Unbound and the
# server counts the queries Unbound sent upstream: the fewer, the wider the scopes that
# were still right.
mix_resolver() {
    if ! command -v unbound >/dev/null 2>&1 && [ ! -x /usr/sbin/unbound ]; then
        say "== resolver mix: skipped: unbound is not installed"
        return
    fi
    if [ ! -r "$GEOIP" ]; then
        say "== resolver mix: skipped: no GeoIP2 City database at $GEOIP"
        return
    fi
    if [ ! -s "$T/geo/example.com.zone" ]; then # the geo mix did not run: its data
        GEOIP=$(cd "$(dirname "$GEOIP")" && pwd)/$(basename "$GEOIP")
        mkdir -p "$T/geo"
        python3 "$HERE/genzone.py" geo "$T/geo" "$GEOIP" >/dev/null
    fi
    say "== resolver: $RESOLVER_CLIENTS random public /24s ask www.example.com once each" \
        "through Unbound (subnetcache)"
    for s in meridiand gdnsd; do
        available "$s" || { say "-- $s: not installed, skipped"; continue; }
        case $s in
        meridiand) zone=$T/geo/example.com.zone ;;
        gdnsd) zone=$T/geo/example.com.gdnsd ;;
        esac
        say "-- $s"
        # The geo mix's config (its map), on a port of its own.
        if ! launch "$s" "$zone" geo www.example.com "$READY_TIMEOUT"; then
            printf '%s|failed to start\n' "$s" >>"$T/rows.resolver"
            continue
        fi
        resolver_run "$s"
        stop_server
    done
    print_resolver_table
}

# resolver_run NAME: Unbound in front of the running server; one row in rows.resolver.
resolver_run() {
    u=$T/unbound.$1
    mkdir -p "$u"
    uport=$(free_port)
    rport=$(free_port)
    taskset -c 1 python3 "$HERE/udprelay.py" "$rport" "$SRV_PORT" "$u/upstream" &
    rpid=$!
    PIDS="$PIDS $rpid"
    cat >"$u/unbound.conf" <<EOF
server:
  interface: 127.0.0.1@$uport
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "$u"
  pidfile: ""
  use-syslog: no
  logfile: ""
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "subnetcache iterator"
  send-client-subnet: 127.0.0.1
  client-subnet-always-forward: yes
  max-ecs-tree-size-ipv4: 10000000
  max-ecs-tree-size-ipv6: 10000000
  msg-cache-size: 256m
  rrset-cache-size: 256m
  qname-minimisation: no
stub-zone:
  name: "example.com"
  stub-addr: 127.0.0.1@$rport
EOF
    unbound=$(command -v unbound || echo /usr/sbin/unbound)
    taskset -c 1 "$unbound" -d -c "$u/unbound.conf" >"$u/log" 2>&1 &
    upid=$!
    PIDS="$PIDS $upid"
    t0=$(now_ms)
    until dig +norec +tries=1 +time=1 -p "$uport" @127.0.0.1 example.com SOA >/dev/null 2>&1; do
        if ! alive "$upid" || [ $(($(now_ms) - t0)) -gt 10000 ]; then
            say "  !! unbound did not start: $(tail -n 3 "$u/log")"
            stop_pid "$upid"
            stop_pid "$rpid"
            printf '%s|unbound did not start\n' "$1" >>"$T/rows.resolver"
            return
        fi
        sleep 0.05
    done
    out=$(RESOLVER_V4_ONLY=1 python3 "$HERE/../e2e/resolver.py" "$uport" "$SRV_PORT" \
        www.example.com "$RESOLVER_CLIENTS" 7871 same)
    say "$(printf '%s\n' "$out" | sed 's/^/  /')"
    stop_pid "$upid"
    stop_pid "$rpid"
    miss=$(cat "$u/upstream" 2>/dev/null)
    wrong=$(printf '%s\n' "$out" | grep -c "^not ok" || true)
    scope=$(printf '%s\n' "$out" | sed -n 's/^# .*median scope \/\([0-9]*\)$/\1/p')
    say "  Unbound sent ${miss:-?} queries upstream for $RESOLVER_CLIENTS clients"
    printf '%s|%s|%s|%s\n' "$1" "${miss:-?}" "$wrong" "${scope:-?}" >>"$T/rows.resolver"
}

print_resolver_table() {
    [ -s "$T/rows.resolver" ] || return
    say ""
    say "resolver: Unbound's queries upstream for $RESOLVER_CLIENTS client /24s, each asking once;"
    say "a check failing means some client got another client's answer"
    awk -F'|' -v n="$RESOLVER_CLIENTS" '
        { line[NR] = $0; if ($1 == "meridiand") m = $2 }
        END {
            fmt = "%-10s | %9s | %17s | %12s | %s\n"
            printf fmt, "server", "upstream", "checks failed", "median scope", "meridian/peer"
            for (i = 1; i <= NR; i++) {
                split(line[i], f, "|")
                r = (m + 0 > 0 && f[2] + 0 > 0) ? sprintf("%.2f", m / f[2]) : "-"
                up = f[2] ~ /^[0-9]+$/ ? sprintf("%d (%.0f%%)", f[2], 100 * f[2] / n) : f[2]
                printf fmt, f[1], up, f[3], f[4] == "" ? "-" : "/" f[4], r
            }
        }' "$T/rows.resolver"
}

# The cost of a per-query output, the query log or dnstap: meridiand on the static mix with
# it off, then on (written by its own thread on the same core), measured side by side.
# The ratio is the share of its throughput meridiand keeps with the output on.  The
# output's own accounting comes from /metrics: what was written and what was dropped (a
# full ring drops rather than slow an answer).
mix_querylog() { mix_output querylog "query log" server.query_log; }
mix_dnstap() { mix_output dnstap dnstap server.dnstap; }

# mix_output KIND LABEL SETTING
mix_output() {
    local kind=$1 label=$2 setting=$3
    available meridiand || return 0
    if [ ! -s "$T/static/queries.txt" ]; then
        mkdir -p "$T/static"
        python3 "$HERE/genzone.py" static "$T/static/example.com.zone" \
            "$T/static/queries.txt" >/dev/null
    fi
    say "== $label: meridiand on the static mix, $setting off, then on"
    for mode in off on; do
        say "-- meridiand, $label $mode"
        NOISY=0
        SRV_SHARES_CPU=$([ "$mode" = on ] && echo 1 || echo 0)
        QL_MPORT=$(free_port)
        if ! launch meridiand "$T/static/example.com.zone" "$kind-$mode" \
            host0000.example.com "$READY_TIMEOUT" || ! measure_qps "$T/static/queries.txt"; then
            printf '%s|failed\n' "$mode" >>"$T/rows.$kind"
            stop_server
            continue
        fi
        # dnsperf, as operators measure: its one core is the limit, not the server's.
        dp=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$SRV_PORT" -d "$T/static/queries.txt" \
            -l "$DNSPERF_SECS" 2>&1 | awk '/Queries per second/ { printf "%.0f", $4 }')
        say "  dnsperf: ${dp:-?} qps"
        acct=""
        if [ "$mode" = on ]; then
            m=$(python3 -c 'import sys, urllib.request as u
print(u.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$QL_MPORT/metrics")
            q=$(printf '%s\n' "$m" | awk '/^meridian_queries_total/ { n += $2 } END { printf "%.0f", n }')
            total() { printf '%s\n' "$m" | awk -v k="$1" '$1 == k { printf "%.0f", $2 }'; }
            stop_server
            if [ "$kind" = querylog ]; then
                acct="$(wc -l <"$SRV_DIR/query.log") lines for $q queries, $(total meridian_querylog_dropped_total) dropped"
            else
                acct="$(total meridian_dnstap_messages_total) messages for $q queries (2 each), $(total meridian_dnstap_dropped_total) dropped"
            fi
            say "  $label: $acct"
        else
            stop_server
        fi
        [ "$NOISY" = 1 ] && m="$mode*" || m=$mode
        printf '%s|%s|%s|%s|%s|%s\n' "$m" "$QPS" "$UTIL" "$PER_CPU" "$dp" "$acct" \
            >>"$T/rows.$kind"
    done
    SRV_SHARES_CPU=0
    print_output_table "$kind" "$label"
}

# print_output_table KIND LABEL
print_output_table() {
    [ -s "$T/rows.$1" ] || return
    say ""
    say "$2: meridiand on the static mix with it off and on.  qps/core: median of" \
        "$RUNS x $RUN_SECS s, the writer thread on the same core"
    say "as the worker; dnsperf: $DNSPERF_SECS s from CPU 1, as operators measure (dnsperf's" \
        "core is the limit); on/off = the share kept with it on"
    awk -F'|' -v label="$2" '
        function share(v, base) {
            return (base + 0 > 0 && v + 0 > 0) ? sprintf("%.2f", v / base) : "-"
        }
        { row[NR] = $0; if ($1 ~ /^off/) { off = $2; offdp = $5 } }
        END {
            fmt = "%-9s | %15s | %4s | %9s | %6s | %11s | %6s | %s\n"
            printf fmt, label, "static qps/core", "CPU", "qps/CPU-s", "on/off", "dnsperf qps",
                "on/off", "accounting"
            for (i = 1; i <= NR; i++) {
                split(row[i], f, "|")
                on = f[1] ~ /^on/
                printf fmt, f[1], f[2], f[3] == "" ? "-" : f[3] "%", f[4] == "" ? "-" : f[4],
                    on ? share(f[2], off) : "-", f[5] == "" ? "-" : f[5],
                    on ? share(f[5], offdp) : "-", f[6] == "" ? "-" : f[6]
            }
        }' "$T/rows.$1"
}

# The cost of DNS cookies (RFC 7873): meridiand on the static mix, every query without a
# COOKIE option, then every query with a client cookie and the valid server cookie the
# server gave it (learned with dig from the same 127.0.0.1), side by side on one server.
# Each query of the second run is verified with one SipHash and its cookie echoed.
mix_cookies() {
    available meridiand || return 0
    if [ ! -s "$T/static/queries.txt" ]; then
        mkdir -p "$T/static"
        python3 "$HERE/genzone.py" static "$T/static/example.com.zone" \
            "$T/static/queries.txt" >/dev/null
    fi
    say "== cookies: meridiand on the static mix, no COOKIE option, then a valid one in every query"
    NOISY=0
    if ! launch meridiand "$T/static/example.com.zone" cookies host0000.example.com \
        "$READY_TIMEOUT"; then
        say "  !! meridiand did not start"
        return
    fi
    cookie=$(dig +norec +time=1 +tries=2 -b 127.0.0.1 -p "$SRV_PORT" @127.0.0.1 \
        host0000.example.com A +cookie | sed -n 's/^; COOKIE: \([0-9a-f]*\).*/\1/p')
    if [ ${#cookie} -ne 48 ]; then
        say "  !! no server cookie came back (got '$cookie')"
        stop_server
        return
    fi
    awk -v c="$cookie" 'NF { print $1, $2, "cookie=" c }' "$T/static/queries.txt" \
        >"$T/static/queries.cookie.txt"
    for mode in without with; do
        say "-- $mode cookies"
        file=$T/static/queries.txt
        [ "$mode" = with ] && file=$T/static/queries.cookie.txt
        if measure_qps "$file"; then
            eval "COOKIE_QPS_$mode=\$QPS COOKIE_CPU_$mode=\$PER_CPU"
        else
            eval "COOKIE_QPS_$mode="
        fi
    done
    stop_server
    say ""
    say "cookies: meridiand on the static mix, qps/core (median of $RUNS x $RUN_SECS s) and" \
        "answers per CPU-second"
    awk -v q0="${COOKIE_QPS_without:-}" -v q1="${COOKIE_QPS_with:-}" \
        -v c0="${COOKIE_CPU_without:-}" -v c1="${COOKIE_CPU_with:-}" -v noisy="$NOISY" 'BEGIN {
            r = (q0 + 0 > 0 && q1 + 0 > 0) ? sprintf("%.2f", q1 / q0) : "-"
            rc = (c0 + 0 > 0 && c1 + 0 > 0) ? sprintf("%.2f", c1 / c0) : "-"
            printf "%-16s | %15s | %9s\n", "cookies", "static qps/core", "qps/CPU-s"
            printf "%-16s | %15s | %9s\n", "without", q0 == "" ? "-" : q0, c0 == "" ? "-" : c0
            printf "%-16s | %15s | %9s\n", "with, valid", q1 == "" ? "-" : q1, c1 == "" ? "-" : c1
            printf "%-16s | %15s | %9s%s\n", "with/without", r, rc,
                noisy == 1 ? "  (* other processes disturbed every run)" : ""
        }'
}

# bench_ceiling MIX QUERYFILE: udpecho (udpecho.c), which sends every query back with QR
# set and does no DNS work, pinned and driven as the servers are.  Its qps/core is the most
# any server can reach on this machine, so the tables show how near each one comes.
bench_ceiling() {
    [ "$CEILING" = 1 ] || return 0
    say "-- udpecho (the ceiling: each query sent back as it came, no DNS work)"
    NOISY=0
    SRV_NAME=udpecho SRV_DIR=$T/udpecho.$1
    mkdir -p "$SRV_DIR"
    SRV_PORT=$(free_port)
    taskset -c 0 "$UDPECHO" "$SRV_PORT" >"$SRV_DIR/log" 2>&1 &
    SRV_PID=$!
    PIDS="$PIDS $SRV_PID"
    if ! wait_echo || ! measure_qps "$2"; then
        printf 'udpecho|failed\n' >>"$T/rows.$1"
        stop_server
        return
    fi
    [ "$NOISY" = 1 ] && name="udpecho*" || name=udpecho
    printf '%s|%s|%s|%s||||||%s\n' "$name" "$QPS" "$UTIL" "$PER_CPU" "$KERNEL" >>"$T/rows.$1"
    stop_server
}

# wait_echo: until udpecho sends a datagram back (dig reads the echo as a reply).
wait_echo() {
    deadline=$(($(now_ms) + READY_TIMEOUT * 1000))
    until dig +norecurse +time=1 +tries=1 -p "$SRV_PORT" @127.0.0.1 example.com A \
        >/dev/null 2>&1; do
        alive "$SRV_PID" && [ "$(now_ms)" -lt "$deadline" ] || {
            server_died "before echoing"
            return 1
        }
        sleep 0.05
    done
}

# The spot checks: a country, a client /24 in it and the region the map gives it.
SPOT_CHECKS="US:8.8.8.0/24:us-east-1 GB:81.2.69.0/24:eu-west-1 DE:193.99.144.0/24:eu-west-1
IN:49.36.0.0/24:apac-south"

# region_of ADDRESS...: the region whose address set these are, or "other"/"none".
region_of() {
    [ $# -gt 0 ] || { echo none; return; }
    got=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    while read -r region addrs; do
        # shellcheck disable=SC2086 # one line per address
        want=$(printf '%s\n' $addrs | sort | tr '\n' ' ')
        if [ "$want" = "$got" ]; then
            echo "$region"
            return
        fi
    done <"$T/geo/regions.txt"
    echo other
}

# check_geo NAME QUERYFILE: what the running server answers, before it is measured.
# 1. Spot checks with dig +subnet: a US, a GB, a DE and an Indian /24 must get their
#    region's addresses, with the ECS option echoed.
# 2. Every query of the file once (geocheck.py): the regions given, any error, whether ECS
#    comes back and its median scope.  Each other server's regions are compared with
#    meridiand's, query by query.
# A wrong spot answer or an error answer sets BAD, which marks the row with "!": the
# numbers are still measured and printed, never silently.
check_geo() {
    for spot in $SPOT_CHECKS; do
        cc=${spot%%:*} rest=${spot#*:}
        net=${rest%%:*} want=${rest#*:}
        out=$(dig +norec +time=1 +tries=2 -p "$SRV_PORT" @127.0.0.1 www.example.com A \
            +subnet="$net" 2>/dev/null)
        # shellcheck disable=SC2046 # one argument per address
        got=$(region_of $(printf '%s\n' "$out" |
            awk '$1 == "www.example.com." && $4 == "A" { print $5 }'))
        ecs=$(printf '%s\n' "$out" | sed -n 's/^; CLIENT-SUBNET: //p')
        if [ "$got" = "$want" ]; then
            say "  check $cc client $net: $got, ECS ${ecs:-not echoed}"
        else
            say "  !! check $cc client $net: got $got, expected $want (ECS ${ecs:-not echoed})"
            note "WRONG: $cc $net got $got"
            BAD=1
        fi
    done
    sum=$(python3 "$HERE/geocheck.py" answers "$SRV_PORT" "$2" "$T/geo/regions.txt" \
        "$T/geo/answers.$1")
    say "  all $(field "$sum" total) queries once: $sum"
    errors=$(printf '%s\n' "$sum" | tr ' ' '\n' |
        awk -F= '$1 == "lost" || $1 == "other" || $1 == "empty" || $1 ~ /^rcode/ { n += $2 }
            END { print n + 0 }')
    if [ "$errors" -gt 0 ]; then
        say "  !! $errors queries got no answer, an error or addresses of no region"
        note "$errors answers lost, errors or no region"
        BAD=1
    fi
    echoed=$(field "$sum" ecs_echoed)
    if [ "$echoed" = "$(field "$sum" total)" ] && [ "$(field "$sum" ecs_bad)" = 0 ]; then
        note "ECS echoed, median scope /$(field "$sum" scope_median)"
        over=$(field "$sum" scope_over_source)
        [ "$over" -gt 0 ] && note "scope longer than the /24 source in $over answers"
    else
        say "  !! ECS echoed in $echoed of $(field "$sum" total) answers," \
            "malformed in $(field "$sum" ecs_bad)"
        note "ECS echoed in $echoed/$(field "$sum" total), malformed in $(field "$sum" ecs_bad)"
    fi
    if [ "$1" != meridiand ] && [ -s "$T/geo/answers.meridiand" ]; then
        cmp=$(python3 "$HERE/geocheck.py" compare "$2" "$T/geo/answers.meridiand" \
            "$T/geo/answers.$1")
        say "  same region as meridiand: $cmp"
        pct=$(field "$cmp" pct)
        note "same region as meridiand for $(field "$cmp" agree)/$(field "$cmp" of) clients"
        if awk -v p="$pct" 'BEGIN { exit !(p < 99) }'; then
            say "  !! $1 and meridiand disagree on more than 1% of the clients"
        fi
    fi
}

# ---- the big zone: time to first answer and memory once loaded ---------------------------

# Resident memory in kB: VmRSS of PID, and the PSS of PID and all its descendants, which
# counts memory shared after fork (NSD's serving child) once.
vmrss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

pss_tree_kb() {
    total=0
    for p in $(descendants "$1"); do
        kb=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

descendants() {
    echo "$1"
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$c"
    done
}

load_big() {
    if [ "$BIGZONE" = 0 ]; then
        say "== load: skipped (BENCH_BIGZONE=0)"
        return
    fi
    mkdir -p "$T/big"
    probe=$(python3 "$HERE/genzone.py" big "$T/big/example.com.zone" "$BIG_RECORDS")
    say "== load: $BIG_RECORDS-record zone, time until $probe/A answers after start"
    for s in $SERVERS; do
        available "$s" || continue
        if launch "$s" "$T/big/example.com.zone" big "$probe" "$BIG_TIMEOUT"; then
            sleep 1 # let the loader's temporary memory go back before sampling
            row="$s|$READY_MS|$(vmrss_kb "$SRV_PID")|$(pss_tree_kb "$SRV_PID")"
            say "  $s: answers after $READY_MS ms"
            stop_server
        else
            row="$s|failed||"
        fi
        printf '%s\n' "$row" >>"$T/rows.big"
    done
    print_load_table
}

# ---- tables ---------------------------------------------------------------------------------

print_table() {
    [ -s "$T/rows.$1" ] || return
    say ""
    say "$1 mix: qps = median of $RUNS x $RUN_SECS s with the server alone on CPU 0 (CPU = its"
    say "share of that core: below ~95% the generator was the limit; a run in which the server"
    say "or udpblast waited over 5% of the time for its CPU is set aside and made again, up to"
    say "$RUNS more times, and the medians are of the clean runs);"
    say "latency and loss at a fixed $RATE qps, medians of $RUNS x $LAT_SECS s;" \
        "meridian/peer = meridiand qps / that server's qps (above 1: meridiand is faster)"
    awk -F'|' -v mix="$1" '
        function cell(v, unit) { return v == "" ? "-" : v unit }
        { line[NR] = $0; if ($1 ~ /^meridiand[*!]*$/) m = $2 }
        END {
            fmt = "%-10s | %15s | %4s | %9s | %6s | %8s | %9s | %9s | %7s | %18s | %s\n"
            printf fmt, "server", mix " qps/core", "CPU", "qps/CPU-s", "kernel", "p50", "p99",
                "p99.9", "loss", "dnsperf mean/loss", "meridian/peer"
            for (i = 1; i <= NR; i++) {
                split(line[i], f, "|")
                ratio = (m + 0 > 0 && f[2] + 0 > 0) ? sprintf("%.2f", m / f[2]) : "-"
                printf fmt, f[1], f[2], cell(f[3], "%"), cell(f[4]), cell(f[10], "%"),
                    cell(f[5], " us"), cell(f[6], " us"), cell(f[7], " us"), cell(f[8]),
                    cell(f[9]), ratio
                if (f[1] ~ /\*/)
                    noisy = 1
                if (f[1] ~ /!/)
                    wrong = 1
                if (f[1] ~ /^udpecho/)
                    ceiling = 1
            }
            if (ceiling)
                print "udpecho sends each query back and does no DNS work: its qps/core is the" \
                    " ceiling here, and meridian/peer on its row is the share of it meridiand reaches"

            if (noisy)
                print "* other processes on the machine disturbed every run of this server" \
                    " (throughput or latency): its numbers are low and noisy"
            if (wrong)
                print "! this server gave wrong answers before it was measured (see the" \
                    " checks above): its numbers are not for the same work"
        }' "$T/rows.$1"
    if [ "$1" = geo ]; then
        say "(dnsperf cannot vary ECS per query: its cross-check sends 81.2.69.0/24 in each)"
    fi
    if [ -s "$T/notes.$1" ]; then
        sed 's/^\([^|]*\)|/  \1: /' "$T/notes.$1"
    fi
}

print_load_table() {
    [ -s "$T/rows.big" ] || return
    say ""
    say "load, $BIG_RECORDS records: time from start to the first answer for the last name"
    say "written; VmRSS of the started process and PSS summed over it and its children (NSD"
    say "keeps the zone in forked children, so only PSS compares), 1 s after that answer;"
    say "the time is polled every 50 ms; meridian/peer above 1: meridiand is slower or bigger"
    awk -F'|' '
        function mb(v) { return v == "" ? "-" : sprintf("%.0f MB", v / 1024) }
        { line[NR] = $0; if ($1 == "meridiand") { mt = $2; mr = $4 } }
        END {
            fmt = "%-10s | %14s | %9s | %9s | %s\n"
            printf fmt, "server", "first answer", "VmRSS", "PSS", "meridian/peer: time, PSS"
            for (i = 1; i <= NR; i++) {
                split(line[i], f, "|")
                t = f[2] ~ /^[0-9]+$/ ? sprintf("%.2f s", f[2] / 1000) : f[2]
                r = (mt + 0 > 0 && f[2] + 0 > 0 && f[4] + 0 > 0) ? \
                    sprintf("%.2f, %.2f", mt / f[2], mr / f[4]) : "-"
                printf fmt, f[1], t, mb(f[3]), mb(f[4]), r
            }
        }' "$T/rows.big"
}

# The table of tables: one row per server with what the others show in detail.
print_summary() {
    say ""
    say "summary: qps = qps/core, the medians of the mixes above; latency in us at a fixed" \
        "$RATE qps (p50/p99/p99.9);"
    say "load = time to the first answer from the $BIG_RECORDS-record zone, VmRSS and PSS then" \
        "(only PSS compares with NSD);"
    say "meridian/peer = meridiand qps / that server's qps, static and geo (above 1: meridiand" \
        "is faster)"
    for f in static geo big; do [ -e "$T/rows.$f" ] || : >"$T/rows.$f"; done
    for f in static geo; do [ -e "$T/notes.$f" ] || : >"$T/notes.$f"; done
    awk -F'|' -v servers="$SERVERS udpecho" '
        function key(n) { sub(/[*!]+$/, "", n); return n }
        function num(v) { return v ~ /^[0-9]+$/ }
        FILENAME ~ /rows\.static$/ {
            s = key($1); st[s] = $0
            if ($1 ~ /\*/) flag[s] = flag[s] "static runs disturbed (*); "
        }
        FILENAME ~ /rows\.geo$/ {
            s = key($1); ge[s] = $0
            if ($1 ~ /\*/) flag[s] = flag[s] "geo runs disturbed (*); "
            if ($1 ~ /!/) flag[s] = flag[s] "WRONG GEO ANSWERS (!); "
        }
        FILENAME ~ /rows\.big$/ { bg[$1] = $0 }
        FILENAME ~ /notes\.geo$/ { nt[$1] = nt[$1] (nt[$1] == "" ? "" : "; ") $2 }
        function qps(row,  f) { split(row, f, "|"); return row == "" ? "-" : f[2] }
        function lat(row,  f) {
            split(row, f, "|")
            return num(f[5]) ? f[5] "/" f[6] "/" f[7] : "-"
        }
        function loss(row,  f) { split(row, f, "|"); return num(f[2]) && f[8] != "" ? f[8] : "-" }
        function ratio(a, b) { return (num(a) && num(b) && b > 0) ? sprintf("%.2f", a / b) : "-" }
        END {
            n = split(servers, name, " ")
            fmt = "%-10s | %11s | %11s | %6s | %14s | %14s | %15s | %18s | %13s | %s\n"
            printf fmt, "server", "static qps", "geo+ECS qps", "geo/st", "static lat us",
                "geo lat us", "loss st, geo", "load, RSS/PSS", "meridian/peer", "note"
            ms = qps(st["meridiand"]); mg = qps(ge["meridiand"])
            for (i = 1; i <= n; i++) {
                s = name[i]
                if (!(s in st) && !(s in ge) && !(s in bg))
                    continue
                split(bg[s], b, "|")
                load = num(b[2]) ? sprintf("%.2f s, %.0f/%.0f MB", b[2] / 1000, b[3] / 1024,
                    b[4] / 1024) : \
                    (b[2] == "" ? "-" : b[2])
                r = s == "meridiand" ? "-" : ratio(ms, qps(st[s])) ", " ratio(mg, qps(ge[s]))
                note = flag[s] nt[s] (s == "udpecho" ? "the ceiling: no DNS work" : "")
                sub(/; $/, "", note)
                printf fmt, s, qps(st[s]), qps(ge[s]), ratio(qps(ge[s]), qps(st[s])),
                    lat(st[s]), lat(ge[s]), loss(st[s]) ", " loss(ge[s]), load, r, note
            }
        }' "$T/rows.static" "$T/rows.geo" "$T/rows.big" "$T/notes.geo"
    print_ratios
}

# meridiand / gdnsd per mix, from this run only, and whether the ceiling decides: when both
# reach 0.95 of udpecho on the same mix, the kernel, not either server, sets the pace.
print_ratios() {
    for mix in static geo; do
        awk -F'|' -v mix="$mix" '
            function key(n) { sub(/[*!]+$/, "", n); return n }
            { q[key($1)] = $2 }
            END {
                m = q["meridiand"]; g = q["gdnsd"]; e = q["udpecho"]
                if (!(m + 0 > 0 && g + 0 > 0))
                    exit
                line = sprintf("%s: meridiand/gdnsd %.2f", mix, m / g)
                if (e + 0 > 0) {
                    line = line sprintf(" (of the udpecho ceiling: meridiand %.2f, gdnsd %.2f)",
                        m / e, g / e)
                    if (m / e > 0.95 && g / e > 0.95)
                        line = line "; both above 0.95 of the ceiling: the kernel limits this" \
                            " mix, and the ratio says little about the servers"
                }
                print line
            }' "$T/rows.$mix"
    done
}

# ---- main -----------------------------------------------------------------------------------

main() {
    command -v taskset >/dev/null || die "taskset (util-linux) is needed"
    command -v python3 >/dev/null || die "python3 is needed to generate the zones"
    command -v dig >/dev/null || die "dig (bind9-dnsutils) is needed"
    command -v dnsperf >/dev/null || die "dnsperf is needed"
    [ "$(nproc)" -ge 2 ] || die "needs 2 CPUs: the server on CPU 0, the generator on CPU 1"
    find_meridiand
    T=$(mktemp -d "${TMPDIR:-/tmp}/meridian-bench.XXXXXX") || die "cannot make a temp dir"
    trap cleanup EXIT
    trap 'exit 130' INT TERM HUP
    UDPBLAST=$T/udpblast
    CLK_TCK=$(getconf CLK_TCK)
    cc -O2 -std=c11 -Wall -Wextra -Werror -o "$UDPBLAST" "$HERE/udpblast.c" ||
        die "cannot build udpblast"
    UDPECHO=$T/udpecho
    cc -O2 -std=c11 -Wall -Wextra -Werror -o "$UDPECHO" "$HERE/udpecho.c" ||
        die "cannot build udpecho"
    say "meridian bench: $RUNS x $RUN_SECS s per server, latency at $RATE qps for $LAT_SECS s"
    for mix in $MIXES; do
        "mix_$mix"
    done
    load_big
    print_summary
}

main "$@"
