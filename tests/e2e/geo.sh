#!/bin/bash
# geo.sh — dynamic names against generated GeoIP fixtures: geo maps, nearest, latency,
# weighted, failover, DYNC, EDNS Client Subnet scopes, geoip.nets, flat and overridden
# schemas, meridiand -t and --explain.  SPDX-License-Identifier: MIT
#
# geo/mkmmdb.pl writes the databases into the temp dir at test time; its header lists every
# network of the fixtures and the place it stands for.  Clients are chosen with dig's
# +subnet= (RFC 7871); geo/geoq.py fires the thousands of queries the statistical checks need.

. "$(dirname "$0")/lib.sh"

GEO=$E2E_DIR/geo
D=$TEST_TMP
export PYTHONDONTWRITEBYTECODE=1

require_tool mmdblookup mmdb-bin
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
    skip_all "the Perl MMDB writer is not installed (Debian: apt-get install libmaxmind-db-writer-perl)"
perl "$GEO/mkmmdb.pl" "$D" 2>"$D/mkmmdb.err" ||
    bail_out "geo/mkmmdb.pl writes the fixtures" "$(cat "$D/mkmmdb.err")" \
        "(it needs libmaxmind-db-writer-perl)"

# ---- helpers -----------------------------------------------------------------------------

# check_geo "description" "dig args" [--ecs LINE] [--rcode R] [--answer RR]... [--authority RR]...
# One query: its status, its answer and authority sections (as sets) and dig's CLIENT-SUBNET
# line (ADDRESS/SOURCE/SCOPE, "none" when the reply must carry no ECS option) are compared
# exactly.  --ecs defaults to "none".
check_geo()
{
    local desc=$1 args=$2
    shift 2
    local rcode=NOERROR ecs=none answer="" authority=""
    while [ $# -gt 0 ]; do
        case $1 in
        --rcode) rcode=$2 ;;
        --ecs) ecs=$2 ;;
        --answer) answer+="$2"$'\n' ;;
        --authority) authority+="$2"$'\n' ;;
        *) not_ok "$desc"; diag "check_geo: unknown option $1"; return ;;
        esac
        shift 2
    done
    local out got want
    # shellcheck disable=SC2086 # a dig command line, split on purpose
    out=$(dig_raw +noall +comments +answer +authority $args)
    got=$(printf '%s\n' "$out" | dig_canon | canon_filter " additional " "" | grep -v '^flags: ' |
        canon_sort)
    got+=$'\n'"ecs: $(printf '%s\n' "$out" | sed -n 's/^; CLIENT-SUBNET: //p' | grep . || echo none)"
    want=$(printf 'status: %s\nanswer:\n%sauthority:\n%s' "$rcode" "$answer" "$authority" |
        canon_blanks | canon_sort)
    want+=$'\n'"ecs: $ecs"
    check_canon "$desc" "$args" "$out" "$want" "$got"
}

# scope_of "dig args": the scope dig reports in the reply's CLIENT-SUBNET line, or "none".
scope_of()
{
    # shellcheck disable=SC2086
    dig_raw +noall +comments $1 | sed -n 's|^; CLIENT-SUBNET: .*/||p' | grep . || echo none
}

# check_scope "ok description" "not ok description" "dig args" LO HI DIAG...: one test point,
# the reply's ECS scope is /LO to /HI.  "{s}" in the descriptions and DIAG lines stands for
# the scope found; DIAG lines are printed on failure.  Sets s, for the checks that follow.
check_scope()
{
    local yes=$1 no=$2 args=$3 lo=$4 hi=$5 line
    shift 5
    s=$(scope_of "$args")
    if [ "$s" != none ] && [ "$s" -ge "$lo" ] && [ "$s" -le "$hi" ]; then
        ok "${yes//\{s\}/$s}"
    else
        not_ok "${no//\{s\}/$s}"
        for line in "$@"; do diag "${line//\{s\}/$s}"; done
    fi
}

# mmdb_prefix DB ADDRESS: the length of the database network holding ADDRESS, found or
# not, in ADDRESS's own family (mmdblookup counts IPv4 in an IPv6 tree from ::/96).
mmdb_prefix()
{
    local p v6
    p=$(mmdblookup --file "$1" --ip "$2" -v 2>/dev/null | sed -n 's/^ *Record prefix length: //p')
    v6=$(mmdblookup --file "$1" --ip "$2" -v 2>/dev/null | grep -c 'IP version: *IPv6')
    case $2 in
    *:*) echo "$p" ;;
    *) if [ "$v6" -gt 0 ]; then echo $((p - 96)); else echo "$p"; fi ;;
    esac
}

# ---- the main server ---------------------------------------------------------------------

SOA="example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

cat >"$D/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@       IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
        IN  NS    ns1
ns1     IN  A     192.0.2.53
static  IN  A     192.0.2.1
alias   IN  CNAME www
www  30 IN  DYNA  web
api  30 IN  DYNA  api
mix  30 IN  DYNA  mix
near 30 IN  DYNA  near
cdn  60 IN  DYNC  near
app  30 IN  DYNA  app
pay     IN  DYNA  pay
one  30 IN  DYNA  one
v4   30 IN  DYNA  v4only
EOF

# The latency table: a CIDR row for the Frankfurt /24 that beats the DE country rows, and a
# /8 the databases know nothing of.
cat >"$D/rtt.csv" <<'EOF'
key,region,rtt_ms
# the fixture's Frankfurt /24: its own row beats the country's
11.2.0.0/24,us-east-1,4
DE,eu-west-1,11
DE,us-east-1,92
DE,apac-south,120
US,us-east-1,9.5
US,eu-west-1,75
45.0.0.0/8,apac-south,30
EOF

# REGIONS: every server below uses these; the locations are what nearest measures to.
REGIONS='regions:
  us-east-1:      { location: [38.9, -77.0],  addresses: [192.0.2.10, 192.0.2.11, 192.0.2.12, "2001:db8:1::10"], cname: us-east-1.lb.example.net. }
  us-west-2:      { location: [45.6, -121.2], addresses: [192.0.2.20, "2001:db8:1::20"], cname: us-west-2.lb.example.net. }
  ca-central-1:   { location: [45.5, -73.6],  addresses: [192.0.2.30] }
  eu-west-1:      { location: [53.3, -6.3],   addresses: [198.51.100.10, "2001:db8:2::10"], cname: eu-west-1.lb.example.net. }
  eu-central-1:   { location: [50.1, 8.7],    addresses: [198.51.100.20] }
  uk-south:       { location: [51.5, -0.1],   addresses: [198.51.100.30] }
  apac-south:     { location: [19.1, 72.9],   addresses: [203.0.113.10], cname: apac-south.lb.example.net. }
  ap-southeast-2: { location: [-33.9, 151.2], addresses: [203.0.113.20], cname: ap-southeast-2.lb.example.net. }
  sa-east-1:      { location: [-23.5, -46.6], addresses: [203.0.113.30], cname: sa-east-1.lb.example.net. }
  fallback:       { addresses: [192.0.2.99] }'

SERVICES='services:
  web:
    policy: geo
    map:
      NA: [ca-central-1, us-east-1]
      US: [us-east-1]
      US-CA: [us-west-2]
      EU: [eu-central-1, eu-west-1]
      GB: [uk-south]
      AS: [apac-south]
      OC: [ap-southeast-2]
      SA: [sa-east-1]
      default: [fallback]
  api:
    policy: weighted
    weights: { eu-west-1: 80, apac-south: 20 }
  mix:
    policy: geo
    map:
      EU: { eu-west-1: 70, eu-central-1: 30 }
      default: [fallback]
  near:
    policy: nearest
    regions: [sa-east-1, us-east-1, us-west-2, eu-west-1, apac-south, ap-southeast-2]
  app:
    policy: latency
    latency_table: rtt.csv
    regions: [us-east-1, eu-west-1, apac-south]
  pay:
    policy: failover
    order: [eu-west-1, us-east-1]
    ttl: 7
  one:
    policy: failover
    order: [us-east-1]
    max_answers: 1
  v4only:
    policy: failover
    order: [apac-south]'

# write_config FILE PORT GEOIP-SECTION
write_config()
{
    cat >"$1" <<EOF
server:
  listen: ["127.0.0.1:$2", "[::1]:$2"]
  workers: 2
$3
$REGIONS
$SERVICES
zones:
  example.com: example.com.zone
EOF
}

PORT=$(free_port)
write_config "$D/main.yaml" "$PORT" 'geoip:
  databases: [city.mmdb, flat.mmdb]
  nets:
    11.12.34.0/24: apac-south
    11.30.0.0/16: [us-west-2, us-east-1]
    "2a02:2000:ffff::/48": [uk-south, eu-west-1]'
start_server "$D/main.yaml"
MAIN_PORT=$PORT

A() { printf '%s 30 IN A %s' "$1" "$2"; }
WWW=www.example.com.
US_EAST=(--answer "$(A $WWW 192.0.2.10)" --answer "$(A $WWW 192.0.2.11)" --answer "$(A $WWW 192.0.2.12)")

# ---- geo maps ----------------------------------------------------------------------------

check_geo "North America (Toronto, CA): continent NA -> ca-central-1, scope /24" \
    "+subnet=11.10.10.0/24 www.example.com A" --ecs 11.10.10.0/24/24 \
    --answer "$(A $WWW 192.0.2.30)"
check_geo "a US address (New York): country US beats continent NA -> us-east-1" \
    "+subnet=11.1.1.77/32 www.example.com A" --ecs 11.1.1.77/32/24 "${US_EAST[@]}"
check_geo "subdivision beats country: US-CA (San Francisco) -> us-west-2" \
    "+subnet=11.4.4.0/24 www.example.com A" --ecs 11.4.4.0/24/24 \
    --answer "$(A $WWW 192.0.2.20)"
check_geo "Europe (Frankfurt, DE): continent EU -> eu-central-1" \
    "+subnet=11.2.0.0/24 www.example.com A" --ecs 11.2.0.0/24/24 \
    --answer "$(A $WWW 198.51.100.20)"
check_geo "GB: the country key beats its continent EU -> uk-south" \
    "+subnet=11.3.3.0/24 www.example.com A" --ecs 11.3.3.0/24/24 \
    --answer "$(A $WWW 198.51.100.30)"
check_geo "Asia (Mumbai, IN): AS means Asia -> apac-south" \
    "+subnet=11.5.5.0/24 www.example.com A" --ecs 11.5.5.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"
check_geo "Oceania (Sydney, AU) -> ap-southeast-2" \
    "+subnet=11.6.6.0/24 www.example.com A" --ecs 11.6.6.0/24/24 \
    --answer "$(A $WWW 203.0.113.20)"
check_geo "Istanbul (TR): the record's continent AS -> apac-south (compare nearest below)" \
    "+subnet=11.9.9.0/24 www.example.com A" --ecs 11.9.9.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"
check_geo "a /16 database network (Sao Paulo, BR): SA, scope /16 under a /24 source" \
    "+subnet=11.7.200.0/24 www.example.com A" --ecs 11.7.200.0/24/16 \
    --answer "$(A $WWW 203.0.113.30)"
check_geo "a record with a country but no location (FR) still maps by its continent" \
    "+subnet=11.8.8.0/24 www.example.com A" --ecs 11.8.8.0/24/24 \
    --answer "$(A $WWW 198.51.100.20)"
check_geo "GeoIP2 record with registered_country only (SG): continent AS from the built-in table" \
    "+subnet=11.11.11.0/24 www.example.com A" --ecs 11.11.11.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"

# ---- IPv6 client subnets -----------------------------------------------------------------

check_geo "IPv6 client subnet in the DE /32 -> eu-central-1, scope /32" \
    "+subnet=2a01:1000:abcd::/48 www.example.com A" --ecs 2a01:1000:abcd::/48/32 \
    --answer "$(A $WWW 198.51.100.20)"
check_geo "IPv6 client subnet in the US /48 (Ashburn) -> us-east-1, scope /48" \
    "+subnet=2600:1000:2000:ab00::/56 www.example.com A" --ecs 2600:1000:2000:ab00::/56/48 \
    "${US_EAST[@]}"
check_geo "AAAA for a region with IPv6 addresses (New York -> us-east-1)" \
    "+subnet=11.1.1.0/24 www.example.com AAAA" --ecs 11.1.1.0/24/24 \
    --answer "www.example.com. 30 IN AAAA 2001:db8:1::10"
check_geo "AAAA for a v4-only region (Mumbai -> apac-south): NODATA, SOA in authority" \
    "+subnet=11.5.5.0/24 www.example.com AAAA" --ecs 11.5.5.0/24/24 --authority "$SOA"
check_geo "AAAA of a v4-only failover service: NODATA" "v4.example.com AAAA" --authority "$SOA"

# ---- ECS scope ---------------------------------------------------------------------------

check_geo "the scope never exceeds the source prefix: /16 source in a /24 network -> /16" \
    "+subnet=11.2.0.0/16 www.example.com A" --ecs 11.2.0.0/16/16 \
    --answer "$(A $WWW 198.51.100.20)"
check_geo "a /32 source in a /24 network: scope /24" \
    "+subnet=11.2.0.9/32 www.example.com A" --ecs 11.2.0.9/32/24 \
    --answer "$(A $WWW 198.51.100.20)"

# 45.1.2.0 is in neither fixture: the default region, and the scope of the empty network
# that holds it (the longer of the two databases' empty networks, as mmdblookup sees them).
p1=$(mmdb_prefix "$D/city.mmdb" 45.1.2.0)
p2=$(mmdb_prefix "$D/flat.mmdb" 45.1.2.0)
empty=$((p1 > p2 ? p1 : p2))
diag "45.1.2.0: empty network /$p1 in city.mmdb, /$p2 in flat.mmdb"
check "mmdblookup reports a non-zero empty network for 45.1.2.0" test "$empty" -gt 0
check_geo "an address no database knows: default region, scope of its empty network (/$empty)" \
    "+subnet=45.1.2.0/24 www.example.com A" --ecs "45.1.2.0/24/$empty" \
    --answer "$(A $WWW 192.0.2.99)"

# 12.5.5.0 is in neither database either, but city.mmdb's empty network around it (/12)
# holds flat.mmdb's 12.1.1.0/24 (JP -> apac-south).  A /12 scope would let a resolver hand
# the default answer to those JP clients; the scope must reach flat.mmdb's empty network.
p1=$(mmdb_prefix "$D/city.mmdb" 12.5.5.0)
p2=$(mmdb_prefix "$D/flat.mmdb" 12.5.5.0)
diag "12.5.5.0: empty network /$p1 in city.mmdb, /$p2 in flat.mmdb"
check_scope "unknown to both databases: scope /{s} covers no network of the second (/$p2 to /24)" \
    "unknown to both databases: scope covers no network of the second database" \
    "+subnet=12.5.5.0/24 www.example.com A" "$p2" 24 \
    "scope /{s}; city.mmdb's empty network is /$p1, flat.mmdb's /$p2: want /$p2 to /24"

# 12.16.5.0 is in flat.mmdb's AR /12, which city.mmdb (consulted first) splits: its
# 12.20.1.0/24 is IN.  The answer (AR -> sa-east-1) holds only where city.mmdb is empty
# around 12.16.5.0, so the scope must reach city.mmdb's empty network, not stop at /12.
p1=$(mmdb_prefix "$D/city.mmdb" 12.16.5.0)
p2=$(mmdb_prefix "$D/flat.mmdb" 12.16.5.0)
diag "12.16.5.0: empty network /$p1 in city.mmdb, record network /$p2 in flat.mmdb"
check_scope "found in the second database only: scope /{s} leaves out the first's records (/$p1 to /24)" \
    "found in the second database only: the scope leaves out the first database's records" \
    "+subnet=12.16.5.0/24 www.example.com A" "$p1" 24 \
    "scope /{s}; flat.mmdb's record is /$p2 but city.mmdb's empty network is /$p1" \
    "(a /{s} scope covers city.mmdb's 12.20.1.0/24, which maps to apac-south): want /$p1 to /24"
check_geo "... and it gets the second database's answer (AR: SA -> sa-east-1)" \
    "+subnet=12.16.5.0/24 www.example.com A" --ecs "12.16.5.0/24/$s" \
    --answer "$(A $WWW 203.0.113.30)"
check_geo "inside that /12 the first database's own /24 wins (IN -> apac-south)" \
    "+subnet=12.20.1.0/24 www.example.com A" --ecs 12.20.1.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"

check_geo "over TCP the same answer and scope" "+tcp +subnet=11.3.3.0/24 www.example.com A" \
    --ecs 11.3.3.0/24/24 --answer "$(A $WWW 198.51.100.30)"
check_geo "a static CNAME to a dynamic name: the dynamic decision's scope" \
    "+subnet=11.3.3.0/24 alias.example.com A" --ecs 11.3.3.0/24/24 \
    --answer "alias.example.com. 300 IN CNAME www.example.com." \
    --answer "$(A $WWW 198.51.100.30)"
check_eq "a weighted set in a geo map depends on the place: scope /24" 24 \
    "$(scope_of "+subnet=11.2.0.0/24 mix.example.com A")"

check_geo "no ECS: located by the source 127.0.0.1 -> default, no ECS option in the reply" \
    "www.example.com A" --answer "$(A $WWW 192.0.2.99)"
check_geo "no ECS over IPv6 (::1) -> default" "@::1 www.example.com A" \
    --answer "$(A $WWW 192.0.2.99)"
check_geo "ECS source /0: nothing to locate -> default, scope 0" \
    "+subnet=0.0.0.0/0 www.example.com A" --ecs 0.0.0.0/0/0 --answer "$(A $WWW 192.0.2.99)"
check_geo "ECS source ::/0 -> default, scope 0" \
    "+subnet=::/0 www.example.com A" --ecs ::/0/0 --answer "$(A $WWW 192.0.2.99)"
check_geo "a static name with ECS: scope 0" "+subnet=11.2.0.0/24 static.example.com A" \
    --ecs 11.2.0.0/24/0 --answer "static.example.com. 300 IN A 192.0.2.1"
check_geo "NXDOMAIN with ECS: scope 0" "+subnet=11.2.0.0/24 nx.example.com A" \
    --ecs 11.2.0.0/24/0 --rcode NXDOMAIN --authority "$SOA"

# Malformed ECS (RFC 7871 §7.1.1): FORMERR.  Option data: code 8, length, family, source,
# scope, address.
ecs_rcode() { python3 "$GEO/geoq.py" ecs "$PORT" www.example.com "$1"; }
check_eq "ECS with host bits set past the source prefix (/12, 11.15): FORMERR" FORMERR \
    "$(ecs_rcode 0008000600010c000b0f)"
check_eq "ECS with a source prefix longer than IPv4 (/33): FORMERR" FORMERR \
    "$(ecs_rcode 0008000900012100000b02000000)"
check_eq "ECS with more address bytes than the prefix needs (/8, 2 bytes): FORMERR" FORMERR \
    "$(ecs_rcode 00080006000108000b02)"
check_eq "ECS with an unknown family (3): FORMERR" FORMERR "$(ecs_rcode 0008000400030000)"
check_eq "ECS shorter than its fixed part: FORMERR" FORMERR "$(ecs_rcode 00080003000100)"
check_eq "a well-formed ECS option from geoq.py: NOERROR" NOERROR \
    "$(ecs_rcode 00080007000118000b0200)"

# ---- geoip.nets --------------------------------------------------------------------------

check_geo "geoip.nets beats the database: 11.12.34.0/24 -> apac-south, scope = the nets /24" \
    "+subnet=11.12.34.0/24 www.example.com A" --ecs 11.12.34.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"
check_geo "a geoip.nets list answers with its first region; scope = the nets /16" \
    "+subnet=11.30.7.0/24 www.example.com A" --ecs 11.30.7.0/24/16 \
    --answer "$(A $WWW 192.0.2.20)"
check_geo "an IPv6 geoip.nets /48 inside the database's FR /32 -> uk-south, scope /48" \
    "+subnet=2a02:2000:ffff:1::/64 www.example.com A" --ecs 2a02:2000:ffff:1::/64/48 \
    --answer "$(A $WWW 198.51.100.30)"
check_geo "geoip.nets decides for the other policies too (nearest)" \
    "+subnet=11.12.34.0/24 near.example.com A" --ecs 11.12.34.0/24/24 \
    --answer "near.example.com. 30 IN A 203.0.113.10"

# 2a02:2000:abcd:: is in the database's FR /32, which also holds the nets /48
# 2a02:2000:ffff::; the two part at bit 33, so the scope must be /34 or longer.
check_scope "a database network holding a geoip.nets entry: the scope (/{s}) leaves that entry out" \
    "a database network holding a geoip.nets entry: the scope leaves that entry out" \
    "+subnet=2a02:2000:abcd::/48 www.example.com A" 34 48 \
    "scope /{s} for 2a02:2000:abcd::/48; 2a02:2000:ffff::/48 is a nets entry: want /34 to /48"
check_geo "... and the address still gets the database's answer (FR: EU -> eu-central-1)" \
    "+subnet=2a02:2000:abcd::/48 www.example.com A" --ecs "2a02:2000:abcd::/48/$s" \
    --answer "$(A $WWW 198.51.100.20)"

# 11.12.0.0/16 is not in the fixtures at all; 11.12.99.0 differs from the nets entry
# 11.12.34.0/24 from bit 17 on, so any scope from /17 up keeps that /24 out.
check_scope "next to a geoip.nets entry the scope (/{s}) does not cover that entry" \
    "next to a geoip.nets entry the scope does not cover that entry" \
    "+subnet=11.12.99.0/24 www.example.com A" 17 24 \
    "scope /{s} for 11.12.99.0/24; 11.12.34.0/24 is a nets entry: want /17 to /24"

# ---- databases in order, flat schema -------------------------------------------------------

check_geo "databases in order: city.mmdb's US record wins over flat.mmdb's JP for 11.1.1.0/24" \
    "+subnet=11.1.1.0/24 www.example.com A" --ecs 11.1.1.0/24/24 "${US_EAST[@]}"
check_geo "flat schema, country JP without continent: AS from the built-in table" \
    "+subnet=12.1.1.0/24 www.example.com A" --ecs 12.1.1.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"
check_geo "flat schema, country-only record (NZ): OC from the built-in table" \
    "+subnet=12.2.2.0/24 www.example.com A" --ecs 12.2.2.0/24/24 \
    --answer "$(A $WWW 203.0.113.20)"
check_geo "flat schema: state1 CA with US makes the subdivision US-CA" \
    "+subnet=12.3.3.0/24 www.example.com A" --ecs 12.3.3.0/24/24 \
    --answer "$(A $WWW 192.0.2.20)"

# ---- nearest -------------------------------------------------------------------------------

# Great-circle distances (haversine, R = 6371 km) from each client to the candidates,
# computed here rather than trusted: e.g. Istanbul (TR, continent AS) is 2956 km from
# eu-west-1 but 4810 km from apac-south, so nearest differs from "same continent"; New York
# 325 km to us-east-1; San Francisco 877 km to us-west-2 (3922 to us-east-1); Sydney 3 km
# to ap-southeast-2; Tokyo 6720 km to apac-south (7829 to ap-southeast-2, 7887 to us-west-2).
NEAREST=$(python3 - <<'EOF'
from math import asin, cos, radians, sin, sqrt
regions = [("sa-east-1", -23.5, -46.6), ("us-east-1", 38.9, -77.0), ("us-west-2", 45.6, -121.2),
           ("eu-west-1", 53.3, -6.3), ("apac-south", 19.1, 72.9), ("ap-southeast-2", -33.9, 151.2)]
clients = [("11.1.1.0/24", "New York", 40.71, -74.01), ("11.4.4.0/24", "San Francisco", 37.77, -122.42),
           ("11.9.9.0/24", "Istanbul", 41.01, 28.98), ("11.6.6.0/24", "Sydney", -33.87, 151.21),
           ("11.2.0.0/24", "Frankfurt", 50.11, 8.68), ("11.7.0.0/24", "Sao Paulo", -23.55, -46.63),
           ("12.1.1.0/24", "Tokyo", 35.68, 139.69), ("2a01:1000::/48", "Frankfurt v6", 50.11, 8.68),
           ("12.2.2.0/24", "New Zealand (table centroid)", -41.0, 174.0),
           ("11.8.8.0/24", "France (table centroid)", 46.6, 2.4)]
def km(a1, o1, a2, o2):
    a1, o1, a2, o2 = map(radians, (a1, o1, a2, o2))
    h = sin((a2 - a1) / 2) ** 2 + cos(a1) * cos(a2) * sin((o2 - o1) / 2) ** 2
    return 2 * 6371 * asin(sqrt(h))
for net, name, lat, lon in clients:
    d = sorted((km(lat, lon, rl, ro), r) for r, rl, ro in regions)
    print("%s %s %s (%.0f km; next %s %.0f km)" % (net, d[0][1], name.replace(" ", "_"),
                                                     d[0][0], d[1][1], d[1][0]))
EOF
)
# The A records each candidate answers with, sorted as the loop below reads them.
declare -A REGION_V4=([sa-east-1]=203.0.113.30 [us-east-1]="192.0.2.10 192.0.2.11 192.0.2.12"
    [us-west-2]=192.0.2.20 [eu-west-1]=198.51.100.10 [apac-south]=203.0.113.10
    [ap-southeast-2]=203.0.113.20)
while read -r net region name why; do
    got=$(dig_section answer "+subnet=$net" near.example.com A | awk '{ print $NF }' | sort |
        paste -sd ' ')
    check_eq "nearest: ${name//_/ } -> $region $why" "${REGION_V4[$region]}" "$got"
done <<<"$NEAREST"
# This script's own arithmetic on fixed numbers, which no server can change: a note, not a test.
diag "hand computation: for Istanbul (continent AS) nearest is $(printf '%s\n' "$NEAREST" |
    awk '$1 == "11.9.9.0/24" { print $2 }') (eu-west-1 expected, not apac-south)"
check_geo "nearest, unknown location: the first configured candidate (sa-east-1)" \
    "+subnet=45.1.2.0/24 near.example.com A" --ecs "45.1.2.0/24/$empty" \
    --answer "near.example.com. 30 IN A 203.0.113.30"

# ---- DYNC ------------------------------------------------------------------------------------

check_geo "DYNC: a CNAME to the nearest region's cname (New York -> us-east-1)" \
    "+subnet=11.1.1.0/24 cdn.example.com A" --ecs 11.1.1.0/24/24 \
    --answer "cdn.example.com. 60 IN CNAME us-east-1.lb.example.net."
check_geo "DYNC: from Sydney the CNAME names ap-southeast-2" \
    "+subnet=11.6.6.0/24 cdn.example.com CNAME" --ecs 11.6.6.0/24/24 \
    --answer "cdn.example.com. 60 IN CNAME ap-southeast-2.lb.example.net."
check_geo "DYNC for AAAA from Istanbul -> eu-west-1's cname" \
    "+subnet=11.9.9.0/24 cdn.example.com AAAA" --ecs 11.9.9.0/24/24 \
    --answer "cdn.example.com. 60 IN CNAME eu-west-1.lb.example.net."

# ---- latency ---------------------------------------------------------------------------------

check_geo "latency: the CIDR row for 11.2.0.0/24 beats the DE rows -> us-east-1, scope /24" \
    "+subnet=11.2.0.0/24 app.example.com A" --ecs 11.2.0.0/24/24 \
    --answer "app.example.com. 30 IN A 192.0.2.10" --answer "app.example.com. 30 IN A 192.0.2.11" \
    --answer "app.example.com. 30 IN A 192.0.2.12"
check_geo "latency: a DE client outside that /24 (Berlin) gets the lowest DE row (eu-west-1)" \
    "+subnet=11.13.0.0/24 app.example.com A" --ecs 11.13.0.0/24/24 \
    --answer "app.example.com. 30 IN A 198.51.100.10"
check_geo "latency: an IPv6 DE client gets the DE rows too (eu-west-1), scope /32" \
    "+subnet=2a01:1000:1::/48 app.example.com A" --ecs 2a01:1000:1::/48/32 \
    --answer "app.example.com. 30 IN A 198.51.100.10"
# New York's ranking (US rows us-east-1, eu-west-1, then nearest adds apac-south) is the
# configured order that the empty 11.0.0.0/16 beside it gets: one decision, merged to /15.
check_geo "latency: US rows -> us-east-1 (9.5 ms); the same ranking as the empty /16 beside it: /15" \
    "+subnet=11.1.1.0/24 app.example.com A" --ecs 11.1.1.0/24/15 \
    --answer "app.example.com. 30 IN A 192.0.2.10" --answer "app.example.com. 30 IN A 192.0.2.11" \
    --answer "app.example.com. 30 IN A 192.0.2.12"
check_geo "latency: a CIDR row the databases do not know (45.0.0.0/8) -> apac-south, scope /8" \
    "+subnet=45.1.2.0/24 app.example.com A" --ecs 45.1.2.0/24/8 \
    --answer "app.example.com. 30 IN A 203.0.113.10"
check_geo "latency: a place the table lacks (Istanbul, TR) falls back to nearest -> eu-west-1" \
    "+subnet=11.9.9.0/24 app.example.com A" --ecs 11.9.9.0/24/24 \
    --answer "app.example.com. 30 IN A 198.51.100.10"
check_geo "latency: Mumbai (IN, not in the table) falls back to nearest -> apac-south" \
    "+subnet=11.5.5.0/24 app.example.com A" --ecs 11.5.5.0/24/24 \
    --answer "app.example.com. 30 IN A 203.0.113.10"

# ---- failover, ttl, max_answers ----------------------------------------------------------------

check_geo "failover: the first in order; ttl: 7 overrides the record's 300; scope 0" \
    "+subnet=11.5.5.0/24 pay.example.com A" --ecs 11.5.5.0/24/0 \
    --answer "pay.example.com. 7 IN A 198.51.100.10"
check_geo "failover AAAA: the first region's IPv6 address" "pay.example.com AAAA" \
    --answer "pay.example.com. 7 IN AAAA 2001:db8:2::10"
s=$(scope_of "+subnet=11.1.1.0/24 api.example.com A")
check_eq "weighted answers carry ECS scope 0" 0 "$s"
check_geo "max_answers: 1 for AAAA of a region with one IPv6 address" "one.example.com AAAA" \
    --answer "one.example.com. 30 IN AAAA 2001:db8:1::10"
py_tap "$GEO/geoq.py" spread "$PORT" one.example.com 200 - 192.0.2.10 192.0.2.11 192.0.2.12

# ---- weighted, statistically ---------------------------------------------------------------

py_tap "$GEO/geoq.py" weights "$PORT" api.example.com 10000 - 198.51.100.10=80 203.0.113.10=20
py_tap "$GEO/geoq.py" weights "$PORT" mix.example.com 10000 11.2.0.0/24 \
    198.51.100.10=70 198.51.100.20=30

# ---- explain ---------------------------------------------------------------------------------

exp=$("$MERIDIAND" -c "$D/main.yaml" --explain www.example.com 11.4.4.0/24 2>&1)
check_match "--explain: the name is dynamic" 'www\.example\.com\. is dynamic' "$exp"
check_match "--explain: the client subnet" '^client: 11\.4\.4\.0/24' "$exp"
check_match "--explain: the database and its network" '^database: GeoIP2-City .*network /24' "$exp"
check_match "--explain: the database record" '"San Francisco"' "$exp"
check_match "--explain: the place" '^place: continent NA, country US, subdivision CA' "$exp"
check_match "--explain: the policy" '^service web: policy geo' "$exp"
check_match "--explain: the map key" 'map key US-CA' "$exp"
check_match "--explain: the candidate" '^  candidate us-west-2: up' "$exp"
check_match "--explain: the chosen region and scope" '^chosen: us-west-2, ECS scope /24' "$exp"
check_match "--explain: the merged prefix, its decision and the networks it merged" \
    '^compiled tree: 11\.4\.4\.0/24 decides \[us-west-2\], merging 1 database networks' "$exp"
check_match "--explain: the answer" '^answer: A 192\.0\.2\.20' "$exp"

# ---- a second server: geoip.ecs false ------------------------------------------------------

PORT=$(free_port)
write_config "$D/noecs.yaml" "$PORT" 'geoip:
  databases: [city.mmdb]
  ecs: false
  nets:
    127.0.0.0/8: eu-west-1'
start_server "$D/noecs.yaml"
check_geo "ecs: false: no CLIENT-SUBNET in the reply, located by the source (127.0.0.1)" \
    "+subnet=11.1.1.0/24 www.example.com A" --answer "$(A $WWW 198.51.100.10)"
check_geo "ecs: false: likewise for a static name" "+subnet=11.1.1.0/24 static.example.com A" \
    --answer "static.example.com. 300 IN A 192.0.2.1"
stop_server

# ---- fields overrides ------------------------------------------------------------------------

# custom.mmdb keeps its fields where no default schema looks: only geoip.fields finds them.
PORT=$(free_port)
write_config "$D/custom.yaml" "$PORT" 'geoip:
  databases: [custom.mmdb]
  fields: { country: geo.cc, continent: geo.cont, latitude: where.lat, longitude: where.lng }'
start_server "$D/custom.yaml"
check_geo "fields override: geo.cc JP (continent from the table: AS) -> apac-south" \
    "+subnet=13.1.1.0/24 www.example.com A" --ecs 13.1.1.0/24/24 \
    --answer "$(A $WWW 203.0.113.10)"
check_geo "fields override: geo.cont SA -> sa-east-1" \
    "+subnet=13.2.2.0/24 www.example.com A" --ecs 13.2.2.0/24/24 \
    --answer "$(A $WWW 203.0.113.30)"
check_geo "fields override: where.lat/lng drive nearest (Sao Paulo -> sa-east-1)" \
    "+subnet=13.2.2.0/24 near.example.com A" --ecs 13.2.2.0/24/24 \
    --answer "near.example.com. 30 IN A 203.0.113.30"
stop_server

# regonly.mmdb (GeoIP2 schema) says country US, registered_country GB.
PORT=$(free_port)
write_config "$D/regonly.yaml" "$PORT" 'geoip:
  databases: [regonly.mmdb]
  fields: { country: registered_country.iso_code }'
start_server "$D/regonly.yaml"
check_geo "GeoIP2 fields override: country from registered_country (GB) -> uk-south" \
    "+subnet=14.1.1.0/24 www.example.com A" --ecs 14.1.1.0/24/24 \
    --answer "$(A $WWW 198.51.100.30)"
stop_server

# ---- meridiand -t rejects ----------------------------------------------------------------------

run_check()
{
    "$MERIDIAND" -t -c "$1" >"$D/check.out" 2>"$D/check.err"
    RC=$?
    ERR=$(cat "$D/check.err")
}

sed 's/^      GB: \[uk-south\]$/      GB: [uk-sout]/' "$D/main.yaml" >"$D/bad-region.yaml"
line=$(grep -n 'GB: \[uk-sout\]' "$D/bad-region.yaml" | cut -d: -f1)
run_check "$D/bad-region.yaml"
check "meridiand -t: an unknown region in a map fails (exit 1)" test "$RC" -eq 1
check_match "meridiand -t: ... and says file:line:column and the region's name" \
    "bad-region\\.yaml:$line:[0-9]+: error: .*uk-sout" "$ERR"

cp "$D/example.com.zone" "$D/bad-svc.zone"
echo 'svc  30 IN  DYNA  nosuch' >>"$D/bad-svc.zone"
line=$(wc -l <"$D/bad-svc.zone")
sed 's/example.com.zone/bad-svc.zone/' "$D/main.yaml" >"$D/bad-svc.yaml"
run_check "$D/bad-svc.yaml"
check "meridiand -t: a DYNA naming an unknown service fails (exit 1)" test "$RC" -eq 1
check_match "meridiand -t: ... at the zone's file:line, naming the service" \
    "bad-svc\\.zone:$line(:[0-9]+)?: error: .*nosuch" "$ERR"

cp "$D/example.com.zone" "$D/bad-mix.zone"
echo 'www  30 IN  A     192.0.2.1' >>"$D/bad-mix.zone"
l1=$(grep -n 'DYNA  web' "$D/bad-mix.zone" | cut -d: -f1)
l2=$(wc -l <"$D/bad-mix.zone")
sed 's/example.com.zone/bad-mix.zone/' "$D/main.yaml" >"$D/bad-mix.yaml"
run_check "$D/bad-mix.yaml"
check "meridiand -t: DYNA and a static A at one name fails (exit 1)" test "$RC" -eq 1
check_match "meridiand -t: ... at file:line of one of the two records" \
    "bad-mix\\.zone:($l1|$l2)(:[0-9]+)?: error: .*www\\.example\\.com" "$ERR"

# ---- a reload locates clients afresh ------------------------------------------------------

# Each worker caches locations by client prefix.  A reload that moves a prefix (here a new
# geoip.nets entry) changes its answer at once, on every worker: a dozen queries from
# random source ports reach both.
RPORT=$(free_port)
write_config "$D/relocate.yaml" "$RPORT" 'geoip:
  databases: [city.mmdb]'
start_server "$D/relocate.yaml" "$RPORT"
PORT=$RPORT
answer_sets() # the distinct answer sets of a dozen queries from the Mumbai /24
{
    local i
    for ((i = 0; i < 12; i++)); do
        dig_raw +short +subnet=11.5.5.0/24 www.example.com A | sort | tr '\n' ' '
        echo
    done | sort -u
}
check_eq "before the reload: Mumbai -> apac-south, every time" "203.0.113.10 " "$(answer_sets)"
write_config "$D/relocate.yaml" "$RPORT" 'geoip:
  databases: [city.mmdb]
  nets:
    11.5.5.0/24: ca-central-1'
check_match "the config with a geoip.nets entry for it reloads" "reload done$" "$(reload_server)"
check_eq "after the reload: Mumbai -> ca-central-1, every time" "192.0.2.30 " "$(answer_sets)"
check_match "a new geoip.nets entry compiles the trees again" \
    "service web: decision tree: .* compiled in" "$(tail -n 20 "$SERVER_LOG")"
# Weights act at run time: a reload that changes only them keeps every tree.
sed -i 's/EU: { eu-west-1: 70, eu-central-1: 30 }/EU: { eu-west-1: 60, eu-central-1: 40 }/' \
    "$D/relocate.yaml"
check_match "a reload that changes only a geo map's weights reloads" "reload done$" "$(reload_server)"
log=$(tail -n 20 "$SERVER_LOG")
check_match "... and keeps the weighted service's tree" "service mix: decision tree: .* kept" "$log"
check_match "... and every other tree" "service web: decision tree: .* kept" "$log"
py_tap "$GEO/geoq.py" weights "$PORT" mix.example.com 10000 11.2.0.0/24 \
    198.51.100.10=60 198.51.100.20=40
stop_server

# ---- the /16 table in front of each database's search tree --------------------------------

# geodb_lookup against libmaxminddb on each fixture: every IPv4 /16's first and last address
# and 50,000 random addresses per family.  The fixtures' networks are few and the tree is
# shallow in places, so walks end inside the table as well as below it.
for db in city flat custom regonly; do
    if out=$("$top_builddir/tests/e2e/geo/jumpcheck" "$D/$db.mmdb" 50000 7 2>&1); then
        ok "$db.mmdb: the /16 table finds what libmaxminddb finds"
    else
        not_ok "$db.mmdb: the /16 table finds what libmaxminddb finds"
    fi
    printf '%s\n' "$out" | diag
done

# ---- the compiled trees ---------------------------------------------------------------------

# Every service's tree against the step-by-step path (locate, then the policy's decision)
# on the main config, two databases, geoip.nets and a latency table: random client subnets
# of each family get the same decision, and subnets sampled inside each scope get it too.
if out=$("$top_builddir/tests/e2e/geo/treecheck" "$D/main.yaml" 20000 7871 11.0.0.0/8 \
    12.0.0.0/8 45.0.0.0/8 2a01:1000::/30 2a02:2000::/30 2600:1000::/30 2>&1); then
    ok "main.yaml: every compiled tree decides as the step-by-step path, scopes hold"
else
    not_ok "main.yaml: every compiled tree decides as the step-by-step path, scopes hold"
fi
printf '%s\n' "$out" | diag
out=$("$MERIDIAND" -t -c "$D/main.yaml" 2>&1)
check_match "meridiand -t reports each tree's size and compile time" \
    'service web: decision tree: [0-9]+ decisions, [0-9]+ nodes, [0-9.]+ MB; compiled in [0-9.]+ s' "$out"

# A database whose metadata reads well but whose search tree points nowhere: the root's two
# records (28 bits each, seven bytes) all ones.  Refused at load, naming the file.
cp "$D/city.mmdb" "$D/damaged.mmdb"
printf '\377\377\377\377\377\377\377' | dd of="$D/damaged.mmdb" bs=1 conv=notrunc status=none
sed 's/databases: \[city.mmdb, flat.mmdb\]/databases: [damaged.mmdb]/' "$D/main.yaml" >"$D/damaged.yaml"
run_check "$D/damaged.yaml"
check "meridiand -t: a GeoIP database with a damaged search tree fails (exit 1)" test "$RC" -eq 1
check_match "meridiand -t: ... naming the database and what is wrong with it" \
    "damaged\\.mmdb.*error: .*search tree is damaged" "$ERR"

PORT=$MAIN_PORT
check "the main meridiand is still running" alive "${SERVER_PIDS[0]}"
done_testing
