#!/bin/bash
# transport.sh — the same answers over UDP and TCP on IPv4 and IPv6, and TCP's framing,
# pipelining, idle timeout and connection cap (RFC 7766).  SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

cat >"$TEST_TMP/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@       IN  SOA   ns1 hostmaster ( 1 7200 3600 1209600 300 )
        IN  NS    ns1
        IN  MX    10 mail
ns1     IN  A     192.0.2.53
mail    IN  A     192.0.2.25
mail    IN  AAAA  2001:db8::25
www 60  IN  A     192.0.2.1
EOF

# write_config FILE PORT IDLE MAX [BACKLOG]
write_config()
{
    cat >"$1" <<EOF
server:
  listen: ["127.0.0.1:$2", "[::1]:$2"]
  workers: 2
  tcp_idle_timeout: $3
  tcp_max_clients: $4
${5:+  tcp_backlog: $5}
zones:
  example.com: example.com.zone
EOF
}

# ---- one server: the idle timeout is long enough not to interfere, the cap is 3 ------------

PORT=$(free_port)
write_config "$TEST_TMP/main.yaml" "$PORT" 5s 3 700
start_server "$TEST_TMP/main.yaml"

# listen_backlog PORT: the accept queue of each TCP listener on PORT, as ss reports it
# (Send-Q of a listening socket is its backlog).
listen_backlog()
{
    ss -Hltn "sport = :$1" | awk '{ print $3 }' | sort -u
}
check_eq "the TCP listeners keep the configured backlog (tcp_backlog: 700)" 700 \
    "$(listen_backlog "$PORT")"

SOA_NEG="example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
for via in "udp @127.0.0.1" "tcp @127.0.0.1" "udp @::1" "tcp @::1"; do
    read -r name at <<<"$via"
    proto=+notcp
    [ "$name" = tcp ] && proto=+tcp
    check_dns "$name $at: A" "$proto $at www.example.com A" \
        --answer "www.example.com. 60 IN A 192.0.2.1" --edns "version: 0, flags:; udp: 1232"
    check_dns "$name $at: MX with additional addresses" "$proto $at example.com MX" \
        --answer "example.com. 3600 IN MX 10 mail.example.com." \
        --additional "mail.example.com. 3600 IN A 192.0.2.25" \
        --additional "mail.example.com. 3600 IN AAAA 2001:db8::25"
    check_dns "$name $at: NXDOMAIN" "$proto $at nx.example.com A" \
        --rcode NXDOMAIN --authority "$SOA_NEG"
    check_dns "$name $at: REFUSED outside the zones" "$proto $at example.org A" \
        --rcode REFUSED --flags qr
done

py_tap "$E2E_DIR/transport.py" 127.0.0.1 "$PORT" pipeline split flood
py_tap "$E2E_DIR/transport.py" ::1 "$PORT" pipeline
py_tap "$E2E_DIR/transport.py" 127.0.0.1 "$PORT" cap
check_dns "after the cap was reached TCP still answers" "+tcp www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1"

# ---- a second server with a 1 s idle timeout ----------------------------------------------

PORT=$(free_port)
write_config "$TEST_TMP/idle.yaml" "$PORT" 1s 1024
start_server "$TEST_TMP/idle.yaml"
check_eq "the default TCP backlog is 1024, as the README says" 1024 "$(listen_backlog "$PORT")"
py_tap "$E2E_DIR/transport.py" 127.0.0.1 "$PORT" idle busy

check "meridiand is still running" alive

# ---- TCP keeps answering while the main loop reloads a big zone ----------------------------

# Reloads run on the main loop and TCP on a thread of its own, so a TCP query sent while
# a reload is under way is answered before the reload ends.  Reading 500,000 records takes
# a large part of a second, a TCP round trip on loopback a millisecond or two.
PORT=$(free_port)
{
    sed -n '1,5p' "$TEST_TMP/example.com.zone"
    awk 'BEGIN { for (i = 0; i < 500000; i++) printf "h%d IN A 192.0.2.%d\n", i, i % 250 + 1 }'
} >"$TEST_TMP/big.zone"
write_config "$TEST_TMP/big.yaml" "$PORT" 5s 16
sed -i 's/example.com.zone/big.zone/' "$TEST_TMP/big.yaml"
start_server "$TEST_TMP/big.yaml"
started=$(log_count 'SIGHUP: reading the config')
verdicts=$(log_count 'reload done')
kill -HUP "$SERVER_PID"
check "SIGHUP: the log says the reload began" \
    wait_for log_has_more 'SIGHUP: reading the config' "$started"
answer=$(dig +tcp +short +time=10 +tries=1 -p "$PORT" @127.0.0.1 h123.example.com A)
during=$(log_count 'reload done')
check_eq "a TCP query sent during the reload is answered" "192.0.2.124" "$answer"
check "... before the reload ended: the busy main loop did not hold TCP up" \
    test "$during" -eq "$verdicts"
check "the reload then ends: reload done" wait_for log_has_more 'reload done' "$verdicts"
check_dns "after the reload TCP answers from the reloaded zone" "+tcp h499999.example.com A" \
    --answer "h499999.example.com. 3600 IN A 192.0.2.250"

check "meridiand is still running" alive
done_testing
