#!/bin/bash
# resolver.sh — meridiand behind a real ECS-aware resolver: Unbound with the subnetcache
# module caches each answer for the scope meridiand gives it, so a scope that is wrong or
# too wide hands one client another client's answer.  Many client subnets ask the geo,
# nearest, latency and weighted services through Unbound, with and without geoip.nets,
# and each answer must be what meridiand gives that subnet directly.
# SPDX-License-Identifier: MIT
#
# Tests talk to loopback only, so every client is 127.0.0.1: each query carries its
# client subnet as EDNS Client Subnet, which Unbound passes on in place of the source
# address (RFC 7871 §7.1.2) to the servers named by send-client-subnet.

. "$(dirname "$0")/lib.sh"

GEO=$E2E_DIR/geo
D=$TEST_TMP
export PYTHONDONTWRITEBYTECODE=1
UNBOUND=${UNBOUND:-$(command -v unbound || echo /usr/sbin/unbound)}
if [ ! -x "$UNBOUND" ]; then
    # A TAP plan of 0 with SKIP is how automake's TAP driver counts a skip (it would
    # count an exit status of 77 as an error).
    echo "1..0 # SKIP unbound is not installed"
    TAP_DONE=true
    exit 0
fi
perl "$GEO/mkmmdb.pl" "$D" 2>"$D/mkmmdb.err" ||
    bail_out "geo/mkmmdb.pl writes the fixtures" "$(cat "$D/mkmmdb.err")" \
        "(it needs libmaxmind-db-writer-perl)"

# Clients per service and configuration.
N=${RESOLVER_CLIENTS:-300}

cat >"$D/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@       IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
        IN  NS    ns1
ns1     IN  A     192.0.2.53
www  60 IN  DYNA  web
near 60 IN  DYNA  near
app  60 IN  DYNA  app
api  60 IN  DYNA  api
EOF

cat >"$D/rtt.csv" <<'EOF'
11.2.0.0/24,us-east-1,4
DE,eu-west-1,11
US,us-east-1,9.5
US,eu-west-1,75
45.0.0.0/8,apac-south,30
EOF

# write_config FILE PORT NETS: the fixtures' databases; NETS is a geoip.nets block or "".
write_config()
{
    cat >"$1" <<EOF
server:
  listen: ["127.0.0.1:$2"]
  workers: 1
  query_log: $D/query.$2.log
geoip:
  databases: [city.mmdb, flat.mmdb]
$3
regions:
  us-east-1:  { location: [38.9, -77.0], addresses: [192.0.2.10] }
  us-west-2:  { location: [45.6, -121.2], addresses: [192.0.2.20] }
  eu-west-1:  { location: [53.3, -6.3], addresses: [198.51.100.10] }
  uk-south:   { location: [51.5, -0.1], addresses: [198.51.100.30] }
  apac-south: { location: [19.1, 72.9], addresses: [203.0.113.10] }
  sa-east-1:  { location: [-23.5, -46.6], addresses: [203.0.113.30] }
  fallback:   { addresses: [192.0.2.99] }
services:
  web:
    policy: geo
    map:
      NA: [us-east-1]
      US-CA: [us-west-2]
      EU: [eu-west-1]
      GB: [uk-south]
      AS: [apac-south]
      SA: [sa-east-1]
      default: [fallback]
  near: { policy: nearest, regions: [us-east-1, us-west-2, eu-west-1, apac-south, sa-east-1] }
  app: { policy: latency, latency_table: rtt.csv, regions: [us-east-1, eu-west-1, apac-south] }
  api: { policy: weighted, weights: { eu-west-1: 80, apac-south: 20 } }
zones:
  example.com: example.com.zone
EOF
}

# Unbound answers (from its cache: no recursion to the root, which is out of reach), or died.
unbound_up_or_dead()
{
    dig +norec +tries=1 +time=1 -p "$UPORT" @127.0.0.1 example.com SOA >/dev/null 2>&1 ||
        ! alive "$UNBOUND_PID"
}

# start_unbound AUTH_PORT: Unbound in the foreground on a free port, its cache sized so
# that it never evicts, with example.com stubbed to meridiand.  Sets UPORT.
start_unbound()
{
    UPORT=$(free_port)
    cat >"$D/unbound.$UPORT.conf" <<EOF
server:
  interface: 127.0.0.1@$UPORT
  port: $UPORT
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "$D"
  pidfile: ""
  use-syslog: no
  logfile: ""
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "subnetcache iterator"
  send-client-subnet: 127.0.0.1
  client-subnet-always-forward: yes
  max-ecs-tree-size-ipv4: 1000000
  max-ecs-tree-size-ipv6: 1000000
  qname-minimisation: no
stub-zone:
  name: "example.com"
  stub-addr: 127.0.0.1@$1
EOF
    "$UNBOUND" -d -c "$D/unbound.$UPORT.conf" >"$D/unbound.$UPORT.log" 2>&1 &
    UNBOUND_PID=$!
    SERVER_PIDS+=("$UNBOUND_PID")
    if ! wait_for unbound_up_or_dead || ! alive "$UNBOUND_PID"; then
        bail_out "unbound answers on 127.0.0.1:$UPORT" "$(tail -n 20 "$D/unbound.$UPORT.log")"
    fi
}

# upstream NAME: the queries for NAME meridiand has logged (those Unbound sent, and the
# direct ones).
upstream()
{
    grep -c " $1\\.example\\.com\\. A " "$D/query.$PORT.log" 2>/dev/null || true
}

FOCUS="11.0.0.0/8 12.0.0.0/8 45.0.0.0/8 2a01:1000::/30 2a02:2000::/30 2600:1000::/30"

# run LABEL NETS
run()
{
    PORT=$(free_port)
    write_config "$D/$1.yaml" "$PORT" "$2"
    start_server "$D/$1.yaml"
    start_unbound "$PORT"
    local name
    for name in www near app; do
        # shellcheck disable=SC2086 # FOCUS is a list of networks
        py_tap "$E2E_DIR/resolver.py" "$UPORT" "$PORT" "$name.example.com" "$N" 7871 same $FOCUS
    done
    # shellcheck disable=SC2086
    py_tap "$E2E_DIR/resolver.py" "$UPORT" "$PORT" api.example.com "$N" 7871 \
        one-of:198.51.100.10,203.0.113.10 $FOCUS
    stop_server "$UNBOUND_PID"
    stop_server
    # Each client asked meridiand once directly; the rest came from Unbound.
    for name in www near app api; do
        diag "$1: $name.example.com: $(($(upstream "$name") - N)) of $N clients reached meridiand through Unbound"
    done
}

run plain ""
run nets '  nets:
    11.12.34.0/24: apac-south
    11.30.0.0/16: [us-west-2, us-east-1]
    "2a02:2000:ffff::/48": [uk-south, eu-west-1]'
done_testing
