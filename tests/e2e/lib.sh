# lib.sh — shared helpers for the end-to-end tests: TAP output, starting and stopping the
# real meridiand, and dig-based assertions.  SPDX-License-Identifier: MIT
#
# Sourced by every tests/e2e/<topic>.sh.  automake's TAP driver sets top_srcdir and
# top_builddir; by hand they default to the script's ../.. and $top_srcdir/build.
# shellcheck shell=bash

set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
# shellcheck disable=SC2034 # used by the scripts that source this file
E2E_DIR=$top_srcdir/tests/e2e
MERIDIAND=$top_builddir/meridiand

# How long wait_for keeps trying, and how often, in seconds.
WAIT_TIMEOUT=${WAIT_TIMEOUT:-10}
WAIT_POLL=0.05

# ---- TAP ------------------------------------------------------------------------------

TAP_N=0
TAP_DONE=false

# Prints each argument (or stdin, with no arguments) as TAP comment lines.
diag()
{
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@" | sed 's/^/# /'
    else
        sed 's/^/# /'
    fi
}

ok()
{
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1"
}

not_ok()
{
    TAP_N=$((TAP_N + 1))
    echo "not ok $TAP_N - $1"
}

# check "description" CMD...: one test point for a command's exit status.
check()
{
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_eq "description" EXPECTED ACTUAL: exact string comparison with a diff on failure.
check_eq()
{
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1"
        diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") | tail -n +3 | diag
    fi
}

# check_match "description" REGEX TEXT: TEXT has a line matching the extended REGEX.
check_match()
{
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then
        ok "$1"
    else
        not_ok "$1"
        diag "expected a line matching: $2" "got:"
        printf '%s\n' "$3" | diag
    fi
}

# Ends the test file: the plan goes last, after every result.
done_testing()
{
    sanitizer_check
    TAP_DONE=true
    echo "1..$TAP_N"
}

# In a sanitizer build (SANITIZED=yes from make check), stops every server and fails
# when any server log holds an AddressSanitizer, LeakSanitizer, ThreadSanitizer or UBSan
# report: a leak, a data race or undefined behaviour found while serving the test, not
# only a crash, fails it.
sanitizer_check()
{
    [ "${SANITIZED:-no}" = yes ] || return 0
    local pid reports
    for pid in "${SERVER_PIDS[@]}"; do
        stop_server "$pid" >/dev/null 2>&1
    done
    reports=$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' \
        "$TEST_TMP"/meridiand.*.log 2>/dev/null)
    if [ -z "$reports" ]; then
        ok "no sanitizer report in any server log"
    else
        not_ok "no sanitizer report in any server log"
        # shellcheck disable=SC2086
        diag "$(grep -hE -A20 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' $reports | head -n 60)"
    fi
}

# A test file that cannot go on (no server, a fixture not written): fail it loudly and stop.
bail_out()
{
    local what=$1
    shift
    not_ok "$what"
    [ $# -gt 0 ] && diag "$@"
    echo "Bail out! $what"
    TAP_DONE=true
    exit 0
}

# skip_all REASON: the whole file cannot run here (a tool it needs is missing): a TAP plan
# of no tests with the reason, then exit 77, the "skipped" status.  automake's TAP driver
# reads the plan and reports SKIP, but counts any exit status but 0 as an error, so under
# make check (TAP_DRIVER=yes) the exit status is 0.
skip_all()
{
    echo "1..0 # SKIP $1"
    TAP_DONE=true
    [ "${TAP_DRIVER:-}" = yes ] && exit 0
    exit 77
}

# require_tool COMMAND PACKAGE: skip the whole file unless COMMAND is installed.
require_tool()
{
    command -v "$1" >/dev/null 2>&1 || skip_all "$1 is not installed (Debian: apt-get install $2)"
}

# Runs a command with its output thrown away: only its status matters.
quietly()
{
    "$@" >/dev/null 2>&1
}

# ---- time and polling -----------------------------------------------------------------

# Milliseconds since the epoch, without forking (bash 5's EPOCHREALTIME).
now_ms()
{
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# wait_for CMD...: runs CMD every WAIT_POLL seconds until it succeeds (0) or WAIT_TIMEOUT
# seconds have gone by (1).  Tests await conditions with this instead of sleeping.
wait_for()
{
    local deadline=$(($(now_ms) + WAIT_TIMEOUT * 1000))
    while :; do
        "$@" && return 0
        [ "$(now_ms)" -ge "$deadline" ] && return 1
        sleep "$WAIT_POLL"
    done
}

# ---- temp dir, ports, servers ---------------------------------------------------------

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/meridian-e2e.XXXXXX")
SERVER_PIDS=()
SERVER_PID=
SERVER_LOG=
PORT=

cleanup()
{
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        stop_server "$pid" >/dev/null 2>&1
    done
    rm -rf "$TEST_TMP"
    if ! $TAP_DONE; then
        # The script died before its plan: make that a failure, not a silent pass.
        not_ok "the test script ran to its end"
        echo "1..$TAP_N"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A port free for UDP and TCP on both 127.0.0.1 and ::1.  Picked below the kernel's
# ephemeral range so that dig's own source ports cannot take it before the server binds.
free_port()
{
    python3 - <<'EOF'
import random, socket
def free(port):
    socks = []
    try:
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(fam, typ)
                socks.append(s)
                s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()
rng = random.SystemRandom()
for _ in range(200):
    port = rng.randrange(20000, 32000)
    if free(port):
        print(port)
        break
else:
    raise SystemExit("no free port found")
EOF
}

# Succeeds when something answers DNS on 127.0.0.1:$1 (any rcode counts).
answers_on()
{
    dig +tries=1 +time=1 -p "$1" @127.0.0.1 . SOA >/dev/null 2>&1
}

# The server process is still running (not exited, not a zombie awaiting wait).
alive()
{
    local pid=${1:-$SERVER_PID} state
    [ -n "$pid" ] || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Up until the server answers, or the server died.
up_or_dead()
{
    answers_on "$1" || ! alive "$2"
}

# start_server CONFIG [PORT]: runs meridiand -c CONFIG in the background with its stderr
# in $SERVER_LOG and waits, by polling dig, until it answers on 127.0.0.1:PORT (default
# $PORT).  Sets SERVER_PID.  If it never answers, the whole test file fails here.
start_server()
{
    local conf=$1 port=${2:-$PORT}
    SERVER_LOG=$TEST_TMP/meridiand.$((${#SERVER_PIDS[@]} + 1)).log
    "$MERIDIAND" -c "$conf" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    if ! wait_for up_or_dead "$port" "$SERVER_PID" || ! alive "$SERVER_PID"; then
        bail_out "meridiand -c $(basename "$conf") answers on 127.0.0.1:$port" \
            "server log ($SERVER_LOG):" "$(tail -n 20 "$SERVER_LOG")"
    fi
}

gone()
{
    ! alive "$1"
}

# stop_server [PID]: SIGTERM to the remembered PID only, then reap it; returns its exit
# status (0 for a clean shutdown).  A server that ignores SIGTERM for 5 s gets SIGKILL.
stop_server()
{
    local pid=${1:-$SERVER_PID} status
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
    if ! WAIT_TIMEOUT=5 wait_for gone "$pid"; then
        diag "meridiand $pid ignored SIGTERM for 5 s; killing it"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    status=$?
    local keep=() p
    for p in "${SERVER_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    SERVER_PIDS=("${keep[@]}")
    return "$status"
}

# Counts lines of the server log matching an extended regex.
log_count()
{
    grep -Ec -- "$1" "${2:-$SERVER_LOG}" 2>/dev/null
}

# reload_server: SIGHUP, then waits until the log shows one more reload verdict line
# ("reload done", "reload done with errors: …", "reload failed: …") than before.  Prints
# that line; fails if none comes.
reload_server()
{
    local pattern='reload (done|done with errors|failed)(:|$)' before
    before=$(log_count "$pattern")
    kill -HUP "$SERVER_PID" || return 1
    wait_for log_has_more "$pattern" "$before" || return 1
    grep -E -- "$pattern" "$SERVER_LOG" | tail -n 1
}

log_has_more()
{
    [ "$(log_count "$1")" -gt "$2" ]
}

# ---- dig ------------------------------------------------------------------------------

# dig_raw ARGS...: dig against the current server; ARGS may name another @server.
# Recursion off, one try, bounded wait.  +notcp because dig 9.18 otherwise sends ANY over
# TCP; a +tcp in ARGS comes later and wins.
dig_raw()
{
    local at=(@127.0.0.1) a
    for a in "$@"; do
        case $a in @*) at=() ;; esac
    done
    dig +notcp +norec +tries=1 +time=2 -p "$PORT" "${at[@]}" "$@" 2>&1
}

# Reduces dig's +comments output to a canonical text: status, flags, the EDNS line,
# then each section's records with whitespace collapsed.  The OPT pseudo-section is
# kept only as its "EDNS:" line.
dig_canon()
{
    awk '
    function norm(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
    /->>HEADER<<-/ { s = $0; sub(/.*status: /, "", s); sub(/,.*/, "", s); status = s }
    /^;; flags:/   { s = $0; sub(/^;; flags: ?/, "", s); sub(/;.*/, "", s); flags = norm(s) }
    /^; EDNS:/     { s = $0; sub(/^; EDNS: /, "", s); edns = norm(s) }
    /^;; ANSWER SECTION:/     { sec = "answer"; next }
    /^;; AUTHORITY SECTION:/  { sec = "authority"; next }
    /^;; ADDITIONAL SECTION:/ { sec = "additional"; next }
    /^;; OPT PSEUDOSECTION:/  { sec = ""; next }
    /^;/ || /^[ \t]*$/ { next }
    sec != "" { body[sec] = body[sec] norm($0) "\n" }
    END {
        printf "status: %s\nflags: %s\nedns: %s\n", status, flags, edns == "" ? "none" : edns
        n = split("answer authority additional", secs, " ")
        for (i = 1; i <= n; i++)
            printf "%s:\n%s", secs[i], body[secs[i]]
    }'
}

# dig_section SECTION ARGS...: just one section's records, canonical form.
dig_section()
{
    local sec=$1
    shift
    dig_raw +noall +comments +answer +authority +additional "$@" | dig_canon |
        awk -v s="$sec:" '/^[a-z]+:$/ { on = ($0 == s); next } on'
}

# check_dns "description" "dig args" [options]: one query, every part of the answer
# compared exactly, in the spirit of gdnsd's test_dns.  Options:
#   --rcode R        status as dig prints it (default NOERROR)
#   --flags "F"      the header flags exactly (default "qr aa")
#   --answer RR      one expected record; repeat for more (default: none)
#   --authority RR, --additional RR   likewise (additional never lists the OPT record)
#   --edns E         dig's EDNS line, e.g. "version: 0, flags:; udp: 1232", or "none"
#   --skip SECTION   do not compare that section (answer, authority, additional, edns)
#   --ordered        compare records in order (default: as sets, since the order of RRs
#                    and RRsets within a section carries no meaning, RFC 2181 §5)
# Records are written as dig prints them; runs of blanks compare equal.
check_dns()
{
    local desc=$1 args=$2
    shift 2
    local rcode=NOERROR flags="qr aa" edns="" skip=" " order=canon_sort
    local answer="" authority="" additional=""
    while [ $# -gt 0 ]; do
        case $1 in
        --rcode) rcode=$2 ;;
        --flags) flags=$2 ;;
        --answer) answer+="$2"$'\n' ;;
        --authority) authority+="$2"$'\n' ;;
        --additional) additional+="$2"$'\n' ;;
        --edns) edns=$2 ;;
        --skip) skip+="$2 " ;;
        --ordered) order="cat"; shift; continue ;;
        *) not_ok "$desc"; diag "check_dns: unknown option $1"; return ;;
        esac
        shift 2
    done
    local out want got
    # shellcheck disable=SC2086 # args is a dig command line, split on purpose
    out=$(dig_raw +noall +comments +answer +authority +additional $args)
    got=$(printf '%s\n' "$out" | dig_canon | canon_filter "$skip" "$edns" | $order)
    want=$(printf 'status: %s\nflags: %s\nedns: %s\nanswer:\n%sauthority:\n%sadditional:\n%s' \
        "$rcode" "$flags" "${edns:-any}" "$answer" "$authority" "$additional" |
        canon_blanks | canon_filter "$skip" "$edns" | $order)
    check_canon "$desc" "$args" "$out" "$want" "$got"
}

# check_canon "description" "dig args" DIG-OUTPUT EXPECTED GOT: the common end of check_dns
# and geo.sh's check_geo, once each has reduced the reply to canonical text.  One test
# point, EXPECTED = GOT; on failure the dig command line and a diff, and when DIG-OUTPUT
# has no header at all (dig itself failed: timeout, refused) what dig said.
check_canon()
{
    local desc=$1 args=$2 out=$3 want=$4 got=$5
    if [ "$want" = "$got" ]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "dig $args" "--- expected +++ got"
        diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") | tail -n +3 | diag
        case $out in *"->>HEADER<<-"*) ;; *) diag "dig said:" "$out" ;; esac
    fi
}

# Expected records as written in a test, in dig_canon's form: runs of blanks made one
# space, none at either end.
canon_blanks()
{
    awk '{ gsub(/[ \t]+/, " "); sub(/^ /, ""); sub(/ $/, ""); print }'
}

# Drops skipped sections, and the EDNS line when no expectation was given for it.
canon_filter()
{
    awk -v skip="$1" -v edns="$2" '
    /^edns: / { if (edns != "" && index(skip, " edns ") == 0) print; next }
    /^[a-z]+:$/ { sec = substr($0, 1, length($0) - 1); drop = index(skip, " " sec " ") > 0 }
    !drop'
}

# Sorts the records inside each section, leaving the headers where they are.
canon_sort()
{
    awk '/^[a-z]+:$/ || /^(status|flags|edns): / { g++; print g "\t0\t" $0; next }
         { print g "\t1\t" $0 }' |
        LC_ALL=C sort -t "$(printf '\t')" -k1,1n -k2,2n -k3 | cut -f3-
}

# ---- python helpers -------------------------------------------------------------------

# py_tap SCRIPT ARGS...: runs a python3 helper that prints "ok - desc", "not ok - desc"
# and "# ..." lines, and numbers its results into this file's TAP stream.
py_tap()
{
    local line
    while IFS= read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        "@exit 0") ;;
        "@exit "*) not_ok "python3 $(basename "$1") ran to its end (${line#@})" ;;
        *) printf '# %s\n' "${line#\# }" ;;
        esac
    done < <(PYTHONDONTWRITEBYTECODE=1 python3 "$@" 2>&1; echo "@exit $?")
}

require_tool python3 python3
require_tool dig bind9-dnsutils
[ -x "$MERIDIAND" ] || bail_out "meridiand is built at $MERIDIAND" "run make first"
