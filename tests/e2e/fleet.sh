#!/bin/bash
# fleet.sh — several nameservers run as one: two meridiand processes with the same config,
# changed together by contrib/meridianctl-all (drain, undrain, a refusal, a node down, a
# node that hangs, targets over ssh); and the deployment kit's config (contrib/deploy/)
# passing meridiand -t with no warning and serving.  SPDX-License-Identifier: MIT
#
# Both nodes run contrib/deploy/meridian.yaml itself, with only what must differ on one
# machine rewritten: ports, socket and state paths, the database, the probe target.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FLEET=$E2E_DIR/fleet
DEPLOY=$top_srcdir/contrib/deploy
ALL=$top_srcdir/contrib/meridianctl-all
DB=$top_srcdir/data/geo-whois-asn-country.mmdb
D=$TEST_TMP
export PYTHONDONTWRITEBYTECODE=1

# meridianctl-all finds meridianctl on PATH, as an operator's shell would.
[ -x "$top_builddir/meridianctl" ] || bail_out "meridianctl is built" "run make first"
export PATH=$top_builddir:$PATH
unset MERIDIANCTL MERIDIAN_SERVERS MERIDIAN_SSH MERIDIANCTL_REMOTE

US="192.0.2.10 192.0.2.11"
EU=198.51.100.10
OFFICE=10.20.1.0/24      # geoip.nets: [eu-west-1, us-east-1], whatever the database
GB=81.2.69.0/24          # a GB client in the database: [eu-west-1, us-east-1]

# ---- helpers ------------------------------------------------------------------------------

declare -A HELPER=() # name -> PID of a python helper started here

stop_helpers()
{
    local k
    for k in "${!HELPER[@]}"; do
        kill -TERM "${HELPER[$k]}" 2>/dev/null
        wait "${HELPER[$k]}" 2>/dev/null
    done
}
trap 'stop_helpers; cleanup' EXIT

# start_helper NAME READY-FILE SCRIPT ARGS...: a python helper, up once READY-FILE exists.
start_helper()
{
    local name=$1 ready=$2
    shift 2
    python3 "$@" 2>>"$D/$name.stderr" &
    HELPER[$name]=$!
    wait_for test -e "$ready" || bail_out "$name is up" "$(tail -n 5 "$D/$name.stderr")"
}

# all ARGS...: contrib/meridianctl-all ARGS; sets ALL_RC and ALL_OUT (stdout and stderr).
all()
{
    ALL_OUT=$("$ALL" "$@" 2>&1)
    ALL_RC=$?
}

# check_all "description" RC ARGS...: meridianctl-all ARGS exits with RC.
check_all()
{
    local desc=$1 rc=$2
    shift 2
    all "$@"
    if [ "$ALL_RC" = "$rc" ]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "meridianctl-all $* exited $ALL_RC, expected $rc:" "$ALL_OUT"
    fi
}

# drained SOCKET REGION: "true" when that node has REGION drained, else "false".
drained()
{
    meridianctl -s "$1" --json status 2>&1 | python3 -c '
import json, sys
print(str(any(r["name"] == sys.argv[1] and r["drained"]
              for r in json.load(sys.stdin)["regions"])).lower())' "$2" 2>&1
}

# addrs PORT NAME [DIG-ARGS...]: the A records one node gives NAME, sorted, on one line.
addrs()
{
    local PORT=$1
    dig_raw +short "$2" A "${@:3}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# answers PORT NAME DIG-ARGS WANT: the node on PORT now answers NAME with WANT.
answers()
{
    # shellcheck disable=SC2086 # DIG-ARGS is split on purpose
    [ "$(addrs "$1" "$2" $3)" = "$4" ]
}

# check_fleet "description" NAME DIG-ARGS WANT: polls each node until it answers NAME with
# WANT (a change may be in flight); one test point per node.
check_fleet()
{
    local desc=$1 name=$2 args=$3 want=$4 i
    for i in 1 2; do
        if wait_for answers "${NODE_PORT[$i]}" "$name" "$args" "$want"; then
            ok "node $i: $desc"
        else
            not_ok "node $i: $desc"
            # shellcheck disable=SC2086
            diag "dig $name $args: wanted \"$want\"," \
                "got \"$(addrs "${NODE_PORT[$i]}" "$name" $args)\""
        fi
    done
}

# check_fleet_geo ARGS...: check_fleet for a client only a database places; two SKIPs
# without the database.
check_fleet_geo()
{
    if $HAVE_DB; then
        check_fleet "$@"
        return
    fi
    local i
    for i in 1 2; do
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N # SKIP node $i: $1 (no $DB: run contrib/fetch-geoip)"
    done
}

# ---- the database and the probe target ---------------------------------------------------

# Tests talk to loopback only: the database is fetched beforehand (contrib/fetch-geoip,
# as contrib/quickstart test does), never from here.
HAVE_DB=false
[ -s "$DB" ] && HAVE_DB=true

# One HTTP health endpoint on loopback stands in for every region's load balancer.
HPORT=$(free_port)
mkdir -p "$D/health"
start_helper health "$D/health/ready" \
    "$E2E_DIR/health/backend.py" http 127.0.0.1 "$HPORT" "$D/health"

# deploy_config DIR PORT: contrib/deploy/ copied into DIR, the machine-specific lines
# rewritten for a test on loopback.  Without the database, nodes place clients by
# geoip.nets alone.
deploy_config()
{
    local dir=$1 port=$2 db
    mkdir -p "$dir"
    cp -R "$DEPLOY/zones" "$dir/"
    db='/^  databases:/d'
    $HAVE_DB && db="s|\[/var/lib/GeoIP/GeoLite2-City.mmdb\]|[$DB]|"
    sed -e "s|\[\"0.0.0.0:53\", \"\[::\]:53\"\]|[\"127.0.0.1:$port\"]|" \
        -e "s|/run/meridian/control.sock|$dir/control.sock|" \
        -e "s|control_group: meridian|control_group: $(id -gn)|" \
        -e "s|/var/lib/meridian/state.yaml|$dir/state.yaml|" \
        -e "s|metrics: 127.0.0.1:9153|metrics: 127.0.0.1:$(free_port)|" \
        -e "s|http://{address}:8080/health|http://127.0.0.1:$HPORT/health|" \
        -e "$db" "$DEPLOY/meridian.yaml" >"$dir/meridian.yaml"
}

# ---- the deployment kit's config -----------------------------------------------------------

declare -A NODE_PORT=() NODE_PID=()
for i in 1 2; do
    NODE_PORT[$i]=$(free_port)
    deploy_config "$D/n$i" "${NODE_PORT[$i]}"
done
SOCK1=$D/n1/control.sock SOCK2=$D/n2/control.sock

leftover=$(grep -nE '0\.0\.0\.0:53|/run/|/var/|:9153|\{address\}' "$D/n1/meridian.yaml" |
    grep -vE '^[0-9]+: *#')
check_eq "the copy of contrib/deploy/meridian.yaml has every machine path rewritten" "" "$leftover"

checkout=$("$MERIDIAND" -t -c "$D/n1/meridian.yaml" 2>&1)
check_eq "meridiand -t passes the deploy config" 0 $?
check_eq "meridiand -t has no warning for the deploy config" "" \
    "$(printf '%s\n' "$checkout" | grep -i warn)"
check_match "meridiand -t reports the health bound, 17 s" \
    '^check web-health: a failed address leaves answers within 17s ' "$checkout"
check_match "meridiand -t loads the deploy zone" '^zone example\.com\.: .*serial 2026112201' \
    "$checkout"
diag "meridiand -t:" "$checkout"
$HAVE_DB || diag "no $DB (run contrib/fetch-geoip): clients placed by geoip.nets only"

# The database the config names, GeoLite2-City, where it has been fetched
# (contrib/fetch-geoip --city): the same config passes with it too.
CITY=$top_srcdir/data/GeoLite2-City.mmdb
if [ -s "$CITY" ]; then
    sed "s|^  databases: .*|  databases: [$CITY]|" "$D/n1/meridian.yaml" >"$D/n1/city.yaml"
    checkout=$("$MERIDIAND" -t -c "$D/n1/city.yaml" 2>&1)
    check_eq "meridiand -t passes the deploy config over GeoLite2-City, no warning" "0 0" \
        "$? $(printf '%s\n' "$checkout" | grep -ci warn)"
else
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N # SKIP the deploy config over GeoLite2-City (no $CITY)"
fi

# ---- two nodes -----------------------------------------------------------------------------

for i in 1 2; do
    start_server "$D/n$i/meridian.yaml" "${NODE_PORT[$i]}"
    NODE_PID[$i]=$SERVER_PID
done
PORT=${NODE_PORT[1]}

check_dns "the deploy zone: NS with in-zone addresses" "example.com NS" \
    --answer "example.com. 3600 IN NS ns1.example.com." \
    --answer "example.com. 3600 IN NS ns2.example.com." \
    --additional "ns1.example.com. 3600 IN A 192.0.2.53" \
    --additional "ns1.example.com. 3600 IN AAAA 2001:db8:1::53" \
    --additional "ns2.example.com. 3600 IN A 198.51.100.53" \
    --additional "ns2.example.com. 3600 IN AAAA 2001:db8:2::53"
check_dns "the deploy zone: corp.example.com is a referral with glue" "host.corp.example.com A" \
    --flags "qr" \
    --authority "corp.example.com. 3600 IN NS ns1.corp.example.com." \
    --authority "corp.example.com. 3600 IN NS ns2.corp.example.com." \
    --additional "ns1.corp.example.com. 3600 IN A 10.20.0.53" \
    --additional "ns2.corp.example.com. 3600 IN A 10.40.0.53"
check_dns "the deploy zone: cdn is a DYNC to the nearest region" \
    "cdn.example.com A +subnet=$OFFICE" \
    --skip additional --skip authority --skip edns \
    --answer "cdn.example.com. 60 IN CNAME eu-west-1.lb.example.net."

check_fleet "the office network gets eu-west-1" www.example.com "+subnet=$OFFICE" "$EU"
check_fleet_geo "a GB client gets eu-west-1" www.example.com "+subnet=$GB" "$EU"

# ---- one command, every node ---------------------------------------------------------------

check_all "meridianctl-all drain eu-west-1 exits 0" 0 -s "$SOCK1" -s "$SOCK2" drain eu-west-1
check_eq "meridianctl-all drain eu-west-1: each node's answer, then the summary" \
    "$SOCK1: region eu-west-1 drained
$SOCK2: region eu-west-1 drained
2 of 2 servers ok" "$ALL_OUT"

check_fleet "drained: the office network falls back to us-east-1" www.example.com \
    "+subnet=$OFFICE" "$US"
check_fleet_geo "drained: a GB client falls back to us-east-1" www.example.com "+subnet=$GB" "$US"
check_fleet "drained: api (weighted 80/20) gives us-east-1 only" api.example.com "" "$US"
check_fleet "drained: cdn goes to the next nearest region" cdn.example.com "+subnet=$OFFICE" \
    "us-east-1.lb.example.net."
for i in 1 2; do
    check_match "node $i: its own state file keeps the drain" eu-west-1 "$(cat "$D/n$i/state.yaml")"
done

all --json -s "$SOCK1" -s "$SOCK2" status
check_eq "meridianctl-all --json status: one JSON document, both nodes ok, eu-west-1 drained" \
    "0 2 2 ok:true ok:true" "$ALL_RC $(printf '%s' "$ALL_OUT" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(doc["total"], doc["ok"], " ".join(
    "%s:%s" % (s["result"], str(any(r["name"] == "eu-west-1" and r["drained"]
                                     for r in s["reply"]["regions"])).lower())
    for s in doc["servers"]))' 2>&1)"

check_all "a command every node refuses exits 1" 1 -s "$SOCK1" -s "$SOCK2" drain atlantis
check_match "the refusal is shown per node" "^$SOCK2: REFUSED: no region \"atlantis\"" "$ALL_OUT"
check_match "the summary counts the refusals" \
    "^0 of 2 servers ok; 2 refused: $SOCK1 and $SOCK2\$" "$ALL_OUT"

check_all "a command meridianctl does not know exits 64" 64 -s "$SOCK1" -s "$SOCK2" frobnicate
check_all "no COMMAND is a usage error" 64 -s "$SOCK1"
check_all "an unreadable servers file is a usage error" 64 -f "$D/nonexistent" status

check_all "meridianctl-all undrain eu-west-1 exits 0" 0 -s "$SOCK1" -s "$SOCK2" undrain eu-west-1
check_fleet "undrained: the office network is back on eu-west-1" www.example.com \
    "+subnet=$OFFICE" "$EU"
check_fleet_geo "undrained: a GB client is back on eu-west-1" www.example.com "+subnet=$GB" "$EU"

# ---- a servers file, over ssh --------------------------------------------------------------

cat >"$D/servers" <<SERVERS
# the fleet: one target a line
$SOCK1                     # node 1, a local socket
deploy@ns2:$SOCK2          # node 2 "over ssh", with its socket path there


SERVERS
export FAKE_SSH_LOG=$D/ssh.log
MERIDIAN_SSH=$FLEET/fake-ssh check_all "a servers file with a local and an ssh target" 0 \
    -f "$D/servers" version
check_match "the ssh target's answer carries its name" "^deploy@ns2:$SOCK2: meridiand " "$ALL_OUT"
check_eq "ssh runs meridianctl with every word quoted for the remote shell" \
    "deploy@ns2 meridianctl -s '$SOCK2' '-t' '30' 'version'" "$(cat "$FAKE_SSH_LOG")"
MERIDIAN_SSH=$FLEET/fake-ssh check_all "an ssh target that cannot be reached exits 2" 2 \
    -s "$SOCK1" -s ops@unreachable.example version
check_match "ssh's own error is shown" \
    "^ops@unreachable.example: UNREACHABLE: ssh: connect to host unreachable.example" "$ALL_OUT"

# ---- each node probes on its own --------------------------------------------------------

# all_probed SOCKET: every address of that node has a probe result of its own, and is up.
all_probed()
{
    meridianctl -s "$1" --json status 2>/dev/null | python3 -c '
import json, sys
addrs = [a for r in json.load(sys.stdin)["regions"] for a in r["addresses"]]
sys.exit(not addrs or not all(a["up"] and a["last_result"] not in ("not probed yet", "no check")
                              for a in addrs))'
}
for i in 1 2; do
    check "node $i: every address has passed its own /health probe" \
        wait_for all_probed "$D/n$i/control.sock"
done
check_match "the probes send the config's Host header" "^200 www\.example\.com\$" \
    "$(cat "$D/health/requests")"

# ---- a node down, a node that hangs ---------------------------------------------------------

stop_server "${NODE_PID[2]}"
check_all "with node 2 down, the fan-out exits 2" 2 -s "$SOCK1" -s "$SOCK2" drain apac-south
check_match "node 1 still answers" "^$SOCK1: region apac-south drained\$" "$ALL_OUT"
check_match "node 2 is reported unreachable" "^$SOCK2: UNREACHABLE: meridianctl: cannot connect" \
    "$ALL_OUT"
check_match "the summary names the unreachable node" \
    "^1 of 2 servers ok; 1 unreachable: $SOCK2\$" "$ALL_OUT"

# Node 2 back: the same command again brings it in line with node 1.
start_server "$D/n2/meridian.yaml" "${NODE_PORT[2]}"
NODE_PID[2]=$SERVER_PID
check_all "the same drain again: every node ok" 0 -s "$SOCK1" -s "$SOCK2" drain apac-south
check_eq "both nodes now have apac-south drained" "true true" \
    "$(drained "$SOCK1" apac-south) $(drained "$SOCK2" apac-south)"

start_helper hung "$D/hung.ready" "$FLEET/hung.py" "$D/hung.sock" "$D/hung.ready"
t0=$(now_ms)
check_all "a node that never answers exits 2 after -t" 2 -t 1 -s "$D/hung.sock" -s "$SOCK1" status
elapsed=$(($(now_ms) - t0))
check_match "the hung node is unreachable, named" "^$D/hung.sock: UNREACHABLE: " "$ALL_OUT"
check_match "the other node answered" "^$SOCK1: regions:\$" "$ALL_OUT"
check "the hung node cost about -t, not more ($elapsed ms)" test "$elapsed" -lt 4000

for i in 1 2; do
    check "node $i is still running" alive "${NODE_PID[$i]}"
done

done_testing
