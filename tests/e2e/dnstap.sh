#!/bin/bash
# dnstap.sh — server.dnstap end to end: frames captured by fstrm_capture over a Unix socket
# and written to a file, read back with dnstap-read (the queries and responses, the
# client, the transport) and tests/e2e/dnstap/extras.py (the ECS option, service and
# region in the extra field); a reader that is away, then comes, and one that stops
# reading under a dnsperf load: answers never wait, and every lost message is counted.
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/ops/helpers.sh"
require_tool fstrm_capture fstrm-bin
require_tool dnstap-read bind9-dnsutils
require_tool curl curl

EXTRAS=$E2E_DIR/dnstap/extras.py
PORT=$(free_port)
MPORT=$(free_port)
SOCK=$TEST_TMP/tap.sock

cat >"$TEST_TMP/example.com.zone" <<'ZONE'
$ORIGIN example.com.
$TTL 300
@       SOA   ns1 hostmaster 1 7200 3600 1209600 300
@       NS    ns1
ns1     A     192.0.2.53
static  60 A  192.0.2.80
www     30 DYNA web
ZONE

# config DNSTAP: a config with server.dnstap set to DNSTAP.
config()
{
    cat >"$TEST_TMP/meridian.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
  metrics: 127.0.0.1:$MPORT
  dnstap: $1
geoip:
  nets:
    81.2.69.0/24: eu-west-1
  ecs: true
regions:
  us-east-1: { addresses: [192.0.2.10] }
  eu-west-1: { addresses: [198.51.100.10] }
services:
  web: { policy: geo, map: { EU: [eu-west-1], default: [us-east-1] } }
zones:
  example.com: example.com.zone
EOF
}

# capture FILE: fstrm_capture listening on $SOCK, writing FILE; sets CAPTURE.
capture()
{
    rm -f "$SOCK"
    spawn fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$1" 2>>"$TEST_TMP/capture.log"
    CAPTURE=$HELPER_PID
    wait_for test -S "$SOCK" || bail_out "fstrm_capture listens on $SOCK" "$(cat "$TEST_TMP/capture.log")"
}

# The three queries each part sends: ECS over UDP, a static name over TCP, and NXDOMAIN.
ask_three()
{
    dig_raw +subnet=81.2.69.0/24 www.example.com A >/dev/null
    dig_raw +tcp static.example.com A >/dev/null
    dig_raw nx.example.com A >/dev/null
}

count()
{
    grep -c -- "$1" <<<"$2"
}

# ---- 0. the setting ---------------------------------------------------------------------------

config "unix:relative.sock"
err=$("$MERIDIAND" -t -c "$TEST_TMP/meridian.yaml" 2>&1)
check "a socket named by a relative path is refused (exit $?)" test $? -eq 1
check_match "with the file, line and column, and an example" \
    "^$TEST_TMP/meridian.yaml:5:11: error: \"dnstap\" must name the socket by its full path, e.g. dnstap: unix:/" \
    "$err"

# ---- 1. a Unix socket, read by fstrm_capture -------------------------------------------------

capture "$TEST_TMP/sock.fstrm"
config "unix:$SOCK"
start_server "$TEST_TMP/meridian.yaml"
ask_three
check "meridiand stops cleanly, writing what it queued" stop_server
reap "$CAPTURE" # fstrm_capture closes its file on SIGTERM
out=$(dnstap-read -y "$TEST_TMP/sock.fstrm" 2>&1)
# Four exchanges: start_server's ". SOA" that found the server up, then the three.
check_eq "four queries are four AUTH_QUERY messages" 4 "$(count '^  type: AUTH_QUERY' "$out")"
check_eq "and four AUTH_RESPONSE messages" 4 "$(count '^  type: AUTH_RESPONSE' "$out")"
check_eq "each names the client" 8 "$(count '^  query_address: "127.0.0.1"' "$out")"
check_eq "the TCP query and its response say TCP" 2 "$(count '^  socket_protocol: TCP' "$out")"
check_match "the query is written as received, with its Client Subnet" \
    '^ *CLIENT-SUBNET: 81\.2\.69\.0/24/0$' "$out"
check_match "the response is written as sent: the region's address" \
    "^ *- 'www\\.example\\.com\\. 30 IN A 198\\.51\\.100\\.10'$" "$out"
check_match "the response is written as sent: NXDOMAIN" '^ *status: NXDOMAIN$' "$out"
check_match "the version names meridiand" "^version: meridiand " "$out"
# Sorted: the writer takes the UDP and the TCP thread's rings in turn, not in time order.
check_eq "the extra field holds the ECS option, the service and the region" \
    "$(printf '%s\n' "ecs=- service=- region=-" "ecs=- service=- region=-" \
        "ecs=- service=- region=-" "ecs=- service=- region=-" \
        "ecs=- service=- region=-" "ecs=- service=- region=-" \
        "ecs=81.2.69.0/24/24 service=web region=eu-west-1" \
        "ecs=81.2.69.0/24/24 service=web region=eu-west-1")" \
    "$(python3 "$EXTRAS" "$TEST_TMP/sock.fstrm" 2>&1 | LC_ALL=C sort)"

# ---- 2. a file --------------------------------------------------------------------------------

config "$TEST_TMP/file.fstrm"
start_server "$TEST_TMP/meridian.yaml"
ask_three
check "meridiand stops cleanly" stop_server
out=$(dnstap-read -y "$TEST_TMP/file.fstrm" 2>&1)
check_eq "the file holds both messages of all four exchanges" 8 "$(count '^type: MESSAGE' "$out")"

# ---- 3. a reader that is away, then comes -----------------------------------------------------

rm -f "$SOCK"
config "unix:$SOCK"
start_server "$TEST_TMP/meridian.yaml"
ask_three
dropped_at_least()
{
    local n
    n=$(metric meridian_dnstap_dropped_total)
    [ "$n" != absent ] && [ "$n" -ge "$1" ]
}
check "with no reader, the answers' messages are counted as dropped" wait_for dropped_at_least 8
check_match "and the log says the socket cannot be reached" "dnstap: cannot connect to $SOCK" \
    "$(cat "$SERVER_LOG")"
capture "$TEST_TMP/late.fstrm"
written()
{
    dig_raw late.example.com TXT >/dev/null
    [ "$(metric meridian_dnstap_messages_total)" -ge 2 ] 2>/dev/null
}
check "once a reader listens, messages reach it" wait_for written
check "meridiand stops cleanly" stop_server
reap "$CAPTURE"
check_match "the reader got the later queries" "late\\.example\\.com\\. IN TXT" \
    "$(dnstap-read -y "$TEST_TMP/late.fstrm" 2>&1)"

# ---- 4. a reader that stops reading, under load -----------------------------------------------

if command -v dnsperf >/dev/null 2>&1; then
    capture "$TEST_TMP/stalled.fstrm"
    start_server "$TEST_TMP/meridian.yaml"
    kill -STOP "$CAPTURE"
    printf '%s\n' "static.example.com A" "www.example.com A" "nx.example.com A" >"$TEST_TMP/perf.txt"
    read -r qps lost <<<"$(dnsperf_qps "$PORT" "$TEST_TMP/perf.txt" 3)"
    diag "reader stopped: dnsperf $qps qps, $lost lost"
    check_eq "with the reader stopped, dnsperf loses no answer" 0 "$lost"
    check "and the messages that could not be written are counted" dropped_at_least 1000
    kill -CONT "$CAPTURE"
    check "meridiand stops cleanly" stop_server
    reap "$CAPTURE"
else
    ok "a reader that stops reading, under load # SKIP dnsperf is not installed"
fi

done_testing
