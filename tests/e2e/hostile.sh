#!/bin/bash
# hostile.sh — malformed and hostile packets over UDP and TCP: each gets its exact reply
# or none, and the server keeps serving.  SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
CAP=4 # tcp_max_clients: hostile.py finally checks that no connection slot leaked
cat >"$TEST_TMP/example.com.zone" <<'ZONE'
$ORIGIN example.com.
$TTL 3600
@       IN  SOA   ns1 hostmaster ( 1 7200 3600 1209600 300 )
        IN  NS    ns1
ns1     IN  A     192.0.2.53
www 60  IN  A     192.0.2.1
ZONE
cat >"$TEST_TMP/meridian.yaml" <<YAML
server:
  listen: ["127.0.0.1:$PORT", "[::1]:$PORT"]
  workers: 2
  tcp_idle_timeout: 3s
  tcp_max_clients: $CAP
zones:
  example.com: example.com.zone
YAML
start_server "$TEST_TMP/meridian.yaml"

py_tap "$E2E_DIR/hostile.py" 127.0.0.1 "$PORT" "$CAP"

check "meridiand (pid $SERVER_PID) is still running" alive
check_dns "after all of it a normal query over UDP is answered" "www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1"
check_dns "after all of it a normal query over TCP is answered" "+tcp www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1"
stop_server
status=$?
check "SIGTERM still stops meridiand with status 0" test "$status" -eq 0
done_testing
