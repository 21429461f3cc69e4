#!/bin/bash
# geo_real.sh — meridiand against real GeoIP databases: the CC0 geo-whois-asn-country
# (flat schema, country only) and MaxMind's GeoLite2-City (GeoIP2 schema).  Pseudo-random
# public addresses (fixed seed) go to the server as EDNS Client Subnet; geo/realcheck.py
# compares each answer's region and ECS scope with what mmdblookup says about the address.
# SPDX-License-Identifier: MIT
#
# The databases live in $top_srcdir/data/ (git-ignored; GeoLite2's licence forbids
# committing it).  Tests talk to loopback only, so they are fetched beforehand:
# contrib/fetch-geoip --city, as contrib/quickstart test does.  A missing one turns its
# cases into SKIPs that say so.

. "$(dirname "$0")/lib.sh"

GEO=$E2E_DIR/geo
DATA=$top_srcdir/data
D=$TEST_TMP
export PYTHONDONTWRITEBYTECODE=1

# Addresses per database and family (a few hundred: mmdblookup is a process per address).
N4=${GEO_REAL_N4:-300}
N6=${GEO_REAL_N6:-100}
# Test points realcheck.py prints per database: four per address family.  Then come the
# /16 table, the compiled trees of two configs and the -t report.
POINTS=8

require_tool mmdblookup mmdb-bin

# skip_points N REASON: N test points that did not run, as SKIPs for the TAP driver.
skip_points()
{
    local i
    for ((i = 0; i < $1; i++)); do
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N # SKIP $2"
    done
}

cat >"$D/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@       IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
        IN  NS    ns1
ns1     IN  A     192.0.2.53
www  30 IN  DYNA  web
EOF

# One region per map key, each with one address; realcheck.py gets the same pairs.
KEYS="US-CA US CN DE GB JP BR IN NA EU AS SA AF OC default"
MAP=""
REGIONS=""
MAPYAML=""
i=1
for k in $KEYS; do
    r=r-${k,,}
    REGIONS+="  $r: { addresses: [192.0.2.$i] }"$'\n'
    MAPYAML+="      $k: [$r]"$'\n'
    MAP+="${MAP:+,}$k=192.0.2.$i"
    i=$((i + 1))
done

# run_db LABEL DB: a server over DB alone, and realcheck.py against it.
run_db()
{
    local label=$1 db=$2
    PORT=$(free_port)
    cat >"$D/$label.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 2
geoip:
  databases: [$db]
regions:
$REGIONS
services:
  web:
    policy: geo
    map:
$MAPYAML
zones:
  example.com: example.com.zone
EOF
    # The trees are compiled before the server listens: on a busy machine that can take
    # a while for GeoLite2-City.
    WAIT_TIMEOUT=120 start_server "$D/$label.yaml"
    py_tap "$GEO/realcheck.py" "$PORT" www.example.com "$db" "$label" "$N4" "$N6" \
        "$top_srcdir/geoip/countries.c" "$MAP"
    check "meridiand ($label) is still running" alive
    stop_server
    check_jump "$label" "$db"
    check_trees "$label" "$D/$label.yaml"
    example_config "$D/$label-example.yaml" "$db"
    check_trees "$label, the example map" "$D/$label-example.yaml"
    out=$("$MERIDIAND" -t -c "$D/$label-example.yaml" 2>&1)
    check_match "$label: meridiand -t reports each tree" "service web: decision tree: " "$out"
    printf '%s\n' "$out" | grep 'decision tree' | diag
}

# check_trees LABEL CONFIG: every compiled tree against the step-by-step path, for random
# client subnets and subnets sampled inside each scope.
check_trees()
{
    local out
    if out=$("$top_builddir/tests/e2e/geo/treecheck" "$2" "${GEO_REAL_TREES_N:-5000}" 7871 2>&1); then
        ok "$1: the compiled trees decide as the step-by-step path, scopes hold"
    else
        not_ok "$1: the compiled trees decide as the step-by-step path, scopes hold"
    fi
    printf '%s\n' "$out" | diag
}

# example_config FILE DB: contrib/meridian.yaml's regions, nets and services over DB, with
# a latency service beside them.
example_config()
{
    printf '%s\n' "GB,eu-west-1,9" "US,us-east-1,12" "US,eu-west-1,80" \
        "81.2.69.0/24,apac-south,5" "2a02:c7c::/32,us-east-1,20" >"$D/rtt.csv"
    sed -e "s|databases: \[.*\]|databases: [$2]|" \
        -e "s|^zones:|  app: { policy: latency, latency_table: $D/rtt.csv }\nzones:|" \
        -e "s|zones/example.com.zone|$D/example.com.zone|" \
        -e 's|listen: .*|listen: ["127.0.0.1:1"]|' "$top_srcdir/contrib/meridian.yaml" >"$1"
}

# check_jump LABEL DB: geodb_lookup, which starts from a /16 table, against libmaxminddb
# for every IPv4 /16's edges and 200,000 random addresses of each family.
check_jump()
{
    local out
    if out=$("$top_builddir/tests/e2e/geo/jumpcheck" "$2" 200000 7871 2>&1); then
        ok "$1: the /16 table finds what libmaxminddb finds"
    else
        not_ok "$1: the /16 table finds what libmaxminddb finds"
    fi
    printf '%s\n' "$out" | diag
}

for db in geo-whois-asn-country GeoLite2-City; do
    if [ -s "$DATA/$db.mmdb" ]; then
        run_db "$db" "$DATA/$db.mmdb"
    else
        skip_points $((POINTS + 5)) "no data/$db.mmdb: run contrib/fetch-geoip --city first"
    fi
done

done_testing
