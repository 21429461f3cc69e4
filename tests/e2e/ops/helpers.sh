# helpers.sh — shared by metrics.sh and querylog.sh: background helpers tracked by PID,
# fake health targets, scraping /metrics, and dnsperf runs.  SPDX-License-Identifier: MIT
#
# Sourced after lib.sh.  Every process started here is remembered by its PID and stopped
# by that PID, on purpose or from the EXIT trap.
# shellcheck shell=bash disable=SC2154 # E2E_DIR, TEST_TMP and the rest come from lib.sh

# shellcheck disable=SC2034 # used by the scripts that source this file
OPS=$E2E_DIR/ops
export PYTHONDONTWRITEBYTECODE=1

# ---- background helpers ---------------------------------------------------------------------

HELPER_PIDS=()

# spawn CMD...: runs CMD in the background, remembered; sets HELPER_PID.
spawn()
{
    "$@" &
    HELPER_PID=$!
    HELPER_PIDS+=("$HELPER_PID")
}

# reap PID: SIGTERM to that helper only, then waits for it.
reap()
{
    local pid=$1 keep=() p
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    for p in "${HELPER_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    HELPER_PIDS=("${keep[@]}")
}

reap_all()
{
    local p
    for p in "${HELPER_PIDS[@]}"; do reap "$p"; done
}
trap 'reap_all; cleanup' EXIT

# ---- fake health targets (tests/e2e/health/backend.py) --------------------------------------

declare -A BACKEND=() # address -> PID

backend_ready()
{
    [ -e "$TEST_TMP/be/$1/ready" ] || ! alive "${BACKEND[$1]}"
}

# start_backend ADDR PORT: an HTTP target answering 200 on ADDR:PORT, listening on return.
start_backend()
{
    local dir=$TEST_TMP/be/$1
    mkdir -p "$dir"
    rm -f "$dir/ready"
    spawn python3 "$E2E_DIR/health/backend.py" http "$1" "$2" "$dir" 2>>"$dir/stderr"
    BACKEND[$1]=$HELPER_PID
    if ! wait_for backend_ready "$1" || ! alive "${BACKEND[$1]}"; then
        bail_out "backend.py listens on $1:$2" "$(tail -n 5 "$dir/stderr")"
    fi
}

# stop_backend ADDR: the target dies; its address refuses connections from then on.
stop_backend()
{
    [ -n "${BACKEND[$1]:-}" ] || return 0
    reap "${BACKEND[$1]}"
    unset "BACKEND[$1]"
}

# ---- /metrics -------------------------------------------------------------------------------

# scrape_port PORT: the body of GET /metrics on 127.0.0.1:PORT; fails on any HTTP error.
scrape_port()
{
    curl -sf --max-time 3 "http://127.0.0.1:$1/metrics"
}

# scrape: the same from the current server's metrics port, $MPORT.
scrape()
{
    scrape_port "$MPORT"
}

# metric SERIES [TEXT]: the value of one series, written exactly as exposed
# (name{label="v",...}), from TEXT (default: a fresh scrape); "absent" when it is not there.
metric()
{
    local text
    if [ $# -ge 2 ]; then text=$2; else text=$(scrape); fi
    printf '%s\n' "$text" | awk -v k="$1" '$1 == k { print $2; f = 1; exit } END { if (!f) print "absent" }'
}

# metric_is SERIES VALUE: a fresh scrape shows exactly VALUE (for wait_for).
metric_is()
{
    [ "$(metric "$1")" = "$2" ]
}

# series NAME [TEXT]: every sample line of the metric NAME, sorted.
series()
{
    local text
    if [ $# -ge 2 ]; then text=$2; else text=$(scrape); fi
    printf '%s\n' "$text" | grep -E "^$1(\{| )" | LC_ALL=C sort
}

# ---- dnsperf --------------------------------------------------------------------------------

# dnsperf_qps PORT FILE SECONDS: runs dnsperf and prints "QPS LOST" (queries per second
# and queries lost), or "0 -1" when dnsperf failed.
dnsperf_qps()
{
    local out
    out=$(dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$3" -c 4 -q 200 -t 2 2>&1)
    printf '%s\n' "$out" | awk '
        /Queries per second:/ { qps = $4 }
        /Queries lost:/ { lost = $3 }
        END { if (qps == "") print "0 -1"; else print qps, lost }'
}
