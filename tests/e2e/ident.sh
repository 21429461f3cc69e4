#!/bin/bash
# ident.sh — what the server tells about itself and learns about its clients: NSID
# (RFC 5001), the CHAOS identity names (RFC 4892), DNS Cookies (RFC 7873, server cookies
# as RFC 9018 makes them) shared by two nodes and rotated, cookies against rate limiting,
# and TCP keepalive (RFC 7828); then the same queries to NSD and Knot set up alike.
# SPDX-License-Identifier: MIT

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

H=$E2E_DIR/ident
D=$TEST_TMP
MERIDIANCTL=$top_builddir/meridianctl
SECRET_A=e5e973e5a6b2a43f48e7dc849e37bfcf # RFC 9018 Appendix A's
SECRET_B=445536bcd2513298075a5d379663c962
umask 077 # the secret files must not be readable by others

cat >"$D/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@       IN  SOA   ns1 hostmaster ( 1 7200 3600 1209600 300 )
        IN  NS    ns1
ns1     IN  A     192.0.2.53
www     IN  A     192.0.2.1
EOF
printf '%s\n' "$SECRET_A" >"$D/secret.a"
printf '%s\n' "$SECRET_A" >"$D/secret.b"

# write_config FILE PORT [YAML]: one listener on 127.0.0.1:PORT, one worker, a control
# socket, the example zone; YAML goes into the server: section (indented by two).
write_config()
{
    cat >"$1" <<EOF
server:
  listen: ["127.0.0.1:$2"]
  workers: 1
  control: $D/ctl.$2.sock
${3:-}
zones:
  example.com: $D/example.com.zone
EOF
}

# cookies_at PORT: "missing new valid invalid" from meridianctl stats of that node.
cookies_at()
{
    "$MERIDIANCTL" -s "$D/ctl.$1.sock" stats | awk '/^cookies:/ { print $3, $5, $7, $9 }'
}

# valid_at PORT, invalid_at PORT: one of those counters.
valid_at() { cookies_at "$1" | cut -d' ' -f3; }
invalid_at() { cookies_at "$1" | cut -d' ' -f4; }

# cookie_of DIG-OUTPUT: the COOKIE option dig printed, as hex.
cookie_of()
{
    printf '%s\n' "$1" | sed -n 's/^; COOKIE: \([0-9a-f]*\).*/\1/p' | tail -n 1
}

status_of()
{
    printf '%s\n' "$1" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | tail -n 1
}

# ==== node A: everything configured =====================================================

PORT_A=$(free_port)
MPORT=$(free_port)
write_config "$D/a.yaml" "$PORT_A" "  nsid: ns1.test
  identity: ns1.example
  version: meridian-test
  tcp_idle_timeout: 7s
  metrics: 127.0.0.1:$MPORT
  cookie_secret_file: $D/secret.a"
start_server "$D/a.yaml" "$PORT_A"
PORT=$PORT_A

# ---- CHAOS identity ----
check_dns "id.server. CH TXT is the identity (RFC 4892)" "id.server CH TXT" --flags qr \
    --answer 'id.server. 0 CH TXT "ns1.example"'
check_dns "hostname.bind. CH TXT is the identity too" "HOSTNAME.bind CH TXT" --flags qr \
    --answer 'HOSTNAME.bind. 0 CH TXT "ns1.example"'
check_dns "version.server. CH TXT is the configured version" "version.server CH TXT" \
    --flags qr --answer 'version.server. 0 CH TXT "meridian-test"'
check_dns "version.bind. CH TXT too" "version.bind CH TXT" --flags qr \
    --answer 'version.bind. 0 CH TXT "meridian-test"'
check_dns "any other CHAOS name is REFUSED" "authors.bind CH TXT" --rcode REFUSED --flags qr
check_dns "id.server. of another type is REFUSED" "id.server CH A" --rcode REFUSED --flags qr

# ---- NSID ----
out=$(dig_raw +nsid www.example.com A)
check_match "+nsid gets the NSID option back (RFC 5001)" '^; NSID: .*\("ns1.test"\)' "$out"
check "without the option no NSID is sent" test -z "$(dig_raw +nonsid www.example.com A | grep NSID)"

# ---- cookies ----
out=$(dig_raw +cookie www.example.com A)
C1=$(cookie_of "$out")
check_match "+cookie: a normal answer with client cookie + a 16-byte server cookie (RFC 9018)" \
    '^[0-9a-f]{16}01000000[0-9a-f]{24}$' "$C1"
check_eq "... and the query is answered" "NOERROR 192.0.2.1" \
    "$(status_of "$out") $(dig_raw +short +cookie www.example.com A)"
v0=$(valid_at "$PORT_A")
out=$(dig_raw +cookie="$C1" www.example.com A)
check_eq "a fresh valid cookie comes back unchanged" "$C1" "$(cookie_of "$out")"
check_eq "... and is counted as valid" "$((v0 + 1))" "$(valid_at "$PORT_A")"
i0=$(invalid_at "$PORT_A")
forged=${C1:0:16}0100000000000000aaaaaaaaaaaaaaaa
out=$(dig_raw +cookie="$forged" www.example.com A)
check_eq "a server cookie that does not verify: NOERROR, answered, with a new cookie (RFC 7873 5.2.4)" \
    "NOERROR yes" "$(status_of "$out") $([ "$(cookie_of "$out")" != "$forged" ] && echo yes)"
check_eq "... and is counted as invalid" "$((i0 + 1))" "$(invalid_at "$PORT_A")"
# dig sends no cookie longer than 40 bytes itself: the long and the empty one go as raw
# option 10.
for bad in +cookie=01020304050607 +cookie=010203040506070809 \
    "+nocookie +ednsopt=10:$(printf '%082d' 0)" "+nocookie +ednsopt=10"; do
    check_dns "a malformed cookie option ($bad) is FORMERR (RFC 7873 5.2.2)" \
        "$bad www.example.com A" --rcode FORMERR --flags qr --skip additional
done

# ---- TCP keepalive ----
out=$(dig_raw +tcp +keepalive www.example.com A)
check_match "over TCP, +keepalive gets the idle timeout (7 s) back (RFC 7828)" \
    '^; TCP KEEPALIVE: 7.0 secs' "$out"
check "... and the answer" test "$(status_of "$out")" = NOERROR
check_dns "over UDP the keepalive option is FORMERR" "+keepalive www.example.com A" \
    --rcode FORMERR --flags qr --skip additional

if command -v kdig >/dev/null 2>&1; then
    kd() { kdig -p "$PORT_A" @127.0.0.1 +norec +time=2 +retry=0 "$@" 2>&1; }
    check_match "kdig +nsid reads our NSID" ';; NSID: 6E73312E74657374 "ns1.test"' \
        "$(kd +nsid www.example.com A)"
    check_match "kdig +cookie gets a server cookie" ';; COOKIE: [0-9A-F]{16}01000000[0-9A-F]{24}$' \
        "$(kd +cookie www.example.com A)"
    check_match "kdig: keepalive over TCP (option 11) carries 70 units of 100 ms" \
        ';; Option \(11\): 0046$' "$(kd +tcp +ednsopt=11 www.example.com A)"
    check_match "kdig: keepalive over UDP is FORMERR" 'status: FORMERR' \
        "$(kd +notcp +ednsopt=11 www.example.com A)"
    check_match "kdig: keepalive with a value (clients send none) is FORMERR" 'status: FORMERR' \
        "$(kd +tcp +ednsopt=11:0046 www.example.com A)"
    check_match "kdig: CH TXT id.server" '^id\.server\.\s+0\s+CH\s+TXT\s+"ns1.example"' \
        "$(kd id.server CH TXT)"
else
    ok "kdig +nsid, +cookie, keepalive and CHAOS # SKIP kdig is not installed"
fi

# ---- the counters: meridianctl stats, --json and /metrics say the same ----
read -r miss new valid invalid <<<"$(cookies_at "$PORT_A")"
json=$("$MERIDIANCTL" -s "$D/ctl.$PORT_A.sock" --json stats | python3 -c '
import json, sys
c = json.load(sys.stdin)["cookies"]
print(c["missing"], c["new"], c["valid"], c["invalid"])' 2>&1)
check_eq "meridianctl --json stats counts the same cookies" "$miss $new $valid $invalid" "$json"
metrics=$(python3 -c 'import sys, urllib.request as u
print(u.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$MPORT/metrics")
got=$(for r in missing new valid invalid; do
    printf '%s\n' "$metrics" | awk -v k="meridian_cookies_total{result=\"$r\"}" '$1 == k { print $2 }'
done | paste -sd ' ')
check_eq "/metrics meridian_cookies_total{result} counts the same" "$miss $new $valid $invalid" "$got"
check "every kind was seen: $miss missing, $new new, $valid valid, $invalid invalid" \
    test "$miss" -gt 0 -a "$new" -gt 0 -a "$valid" -gt 0 -a "$invalid" -gt 0

# ==== node B: the same secret, nothing else configured ====================================

PORT_B=$(free_port)
write_config "$D/b.yaml" "$PORT_B" "  cookie_secret_file: $D/secret.b"
start_server "$D/b.yaml" "$PORT_B"
PID_B=$SERVER_PID
LOG_B=$SERVER_LOG
PORT=$PORT_B

check_dns "without server.identity, id.server. is REFUSED" "id.server CH TXT" --rcode REFUSED \
    --flags qr
check_dns "without server.version, version.bind. is REFUSED" "version.bind CH TXT" \
    --rcode REFUSED --flags qr
check "without server.nsid, no NSID even when asked" \
    test -z "$(dig_raw +nsid www.example.com A | grep NSID)"

C1=$(cookie_of "$(PORT=$PORT_A dig_raw +cookie www.example.com A)")
v0=$(valid_at "$PORT_B")
out=$(dig_raw +cookie="$C1" www.example.com A)
check_eq "a cookie node A made is valid at node B, which holds the same secret" \
    "$((v0 + 1)) $C1" "$(valid_at "$PORT_B") $(cookie_of "$out")"

# ---- rotation: B's new secret first, A's as the previous one; then A's removed ----
printf '%s\n%s\n' "$SECRET_B" "$SECRET_A" >"$D/secret.b"
SERVER_PID=$PID_B SERVER_LOG=$LOG_B
check_match "reload with a rotated secret file" 'reload done$' "$(reload_server)"
v0=$(valid_at "$PORT_B")
out=$(dig_raw +cookie="$C1" www.example.com A)
C2=$(cookie_of "$out")
check_eq "during the rotation A's cookie is still valid at B" "$((v0 + 1))" "$(valid_at "$PORT_B")"
check "... and B answers it with a cookie of its new secret" test -n "$C2" -a "$C2" != "$C1"
v0=$(valid_at "$PORT_B")
dig_raw +cookie="$C2" www.example.com A >/dev/null
check_eq "the new cookie is valid at B" "$((v0 + 1))" "$(valid_at "$PORT_B")"
i0=$(invalid_at "$PORT_A")
PORT=$PORT_A dig_raw +cookie="$C2" www.example.com A >/dev/null
check_eq "... but not at A, which never had B's new secret" "$((i0 + 1))" "$(invalid_at "$PORT_A")"
printf '%s\n' "$SECRET_B" >"$D/secret.b"
check_match "reload with the previous secret removed" 'reload done$' "$(reload_server)"
i0=$(invalid_at "$PORT_B")
out=$(dig_raw +cookie="$C1" www.example.com A)
check_eq "after the rotation A's old cookie is invalid at B (answered, with a new cookie)" \
    "$((i0 + 1)) NOERROR" "$(invalid_at "$PORT_B") $(status_of "$out")"

chmod 0644 "$D/secret.b"
check_match "a secret file others can read fails the reload" 'reload failed' "$(reload_server)"
check_match "... saying why" 'readable or writable by others \(mode 0644\); chmod o-rwx' \
    "$(cat "$LOG_B")"
v0=$(valid_at "$PORT_B")
dig_raw +cookie="$C2" www.example.com A >/dev/null
check_eq "... and B keeps the secrets it had" "$((v0 + 1))" "$(valid_at "$PORT_B")"
out=$("$MERIDIAND" -t -c "$D/b.yaml" 2>&1)
check_match "meridiand -t names the file and the fix" \
    "secret.b: error: the cookie secret file is readable or writable by others" "$out"
stop_server "$PID_B"
chmod 0600 "$D/secret.b"

# ==== cookies against rate limiting ========================================================

PORT_C=$(free_port)
write_config "$D/c.yaml" "$PORT_C" "rrl:
  responses_per_second: 20
  slip: 2
  exempt: []"
start_server "$D/c.yaml" "$PORT_C"
py_tap "$H/cookieflood.py" flood "$PORT_C" 3 www.example.com 192.0.2.1 20
stop_server

# ==== the same queries to NSD and Knot =====================================================

# peer_start NAME: starts NAME with node A's settings on a free port; sets PEER_PORT, PEER_PID.
peer_start()
{
    local dir=$D/$1
    mkdir -p "$dir"
    PEER_PORT=$(free_port)
    case $1 in
    nsd)
        cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$PEER_PORT
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$dir"
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    zonelistfile: "$dir/zone.list"
    xfrdir: "$dir"
    logfile: "$dir/nsd.log"
    nsid: "ascii_ns1.test"
    identity: "ns1.example"
    version: "meridian-test"
    answer-cookie: yes
    cookie-secret: "$SECRET_A"
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: example.com
    zonefile: "$D/example.com.zone"
EOF
        nsd -d -c "$dir/nsd.conf" >"$dir/log" 2>&1 &
        ;;
    knotd)
        cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$PEER_PORT
    nsid: ns1.test
    identity: ns1.example
    version: meridian-test
log:
  - target: stderr
    any: warning
database:
    storage: "$dir/db"
mod-cookies:
  - id: shared
    secret: 0x$SECRET_A
template:
  - id: default
    file: "$D/example.com.zone"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    global-module: mod-cookies/shared
zone:
  - domain: example.com
EOF
        knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 &
        ;;
    esac
    PEER_PID=$!
    SERVER_PIDS+=("$PEER_PID") # stopped by PID with the rest, whatever happens
    # Knot and NSD take longer than meridiand to come up on a loaded machine.
    WAIT_TIMEOUT=30 wait_for up_or_dead "$PEER_PORT" "$PEER_PID" && alive "$PEER_PID"
}

# same NAME "description" DIG-ARGS: dig's status and answer section from meridiand (node A)
# and from the peer, compared.
same()
{
    local peer=$1 desc=$2
    shift 2
    local mine theirs
    mine=$(PORT=$PORT_A dig_raw +noall +comments +answer "$@" | dig_canon | grep -v '^edns:')
    theirs=$(PORT=$PEER_PORT dig_raw +noall +comments +answer "$@" | dig_canon | grep -v '^edns:')
    check_eq "$peer and meridiand agree: $desc" "$theirs" "$mine"
}

PORT=$PORT_A # node A, still running, is what the peers are compared with
for peer in nsd knotd; do
    if ! command -v "$peer" >/dev/null 2>&1; then
        ok "the same queries to $peer # SKIP $peer is not installed"
        continue
    fi
    if ! peer_start "$peer"; then
        not_ok "$peer starts with node A's settings"
        diag "$(tail -n 5 "$D/$peer/log")"
        stop_server "$PEER_PID"
        continue
    fi
    same "$peer" "id.server. CH TXT" id.server CH TXT
    same "$peer" "hostname.bind. CH TXT" hostname.bind CH TXT
    same "$peer" "version.bind. CH TXT" version.bind CH TXT
    same "$peer" "version.server. CH TXT" version.server CH TXT
    same "$peer" "another CHAOS name" authors.bind CH TXT
    same "$peer" "a malformed cookie" +cookie=01020304050607 www.example.com A
    nsid_peer=$(PORT=$PEER_PORT dig_raw +nsid www.example.com A | grep '^; NSID:')
    check_eq "$peer and meridiand send the same NSID" "$nsid_peer" \
        "$(dig_raw +nsid www.example.com A | grep '^; NSID:')"
    # RFC 9018 makes cookies the same everywhere: what the peer made with the shared
    # secret is valid here.
    peer_cookie=$(cookie_of "$(PORT=$PEER_PORT dig_raw +cookie www.example.com A)")
    v0=$(valid_at "$PORT_A")
    dig_raw +cookie="$peer_cookie" www.example.com A >/dev/null
    check_eq "a cookie $peer made with the shared secret is valid at meridiand" \
        "$((v0 + 1))" "$(valid_at "$PORT_A")"
    ka=$(PORT=$PEER_PORT dig_raw +tcp +keepalive www.example.com A | grep -c 'TCP KEEPALIVE')
    diag "$peer sends edns-tcp-keepalive over TCP: $([ "$ka" -gt 0 ] && echo yes || echo no);" \
        "over UDP it answers the option with $(status_of "$(PORT=$PEER_PORT dig_raw +keepalive www.example.com A)")"
    stop_server "$PEER_PID"
done
if command -v knotd >/dev/null 2>&1 && peer_start knotd; then
    # Knot answers a cookie it cannot verify with BADCOOKIE, so +nobadcookie shows whether
    # it took ours.
    mine=$(cookie_of "$(dig_raw +cookie www.example.com A)")
    out=$(PORT=$PEER_PORT dig_raw +nobadcookie +cookie="$mine" www.example.com A)
    check_eq "a cookie meridiand made is valid at Knot with the same secret" NOERROR "$(status_of "$out")"
    out=$(PORT=$PEER_PORT dig_raw +nobadcookie +cookie="${mine:0:16}0100000000000000aaaaaaaaaaaaaaaa" \
        www.example.com A)
    check_eq "... while a forged one is not (Knot answers it BADCOOKIE)" BADCOOKIE "$(status_of "$out")"
    stop_server "$PEER_PID"
fi

done_testing
