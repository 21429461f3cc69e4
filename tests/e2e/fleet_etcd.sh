#!/bin/bash
# fleet_etcd.sh — three meridiand nodes acting as one through a real three-member etcd
# cluster on loopback: shared weights and drains (propagation time measured), a node that
# restarts into a drain, the etcd leader killed, every member stopped and back, values
# written with etcdctl (good and malformed), health by consensus with one node's probes
# refused (majority and any), conflicting commands from two nodes, etcd with
# authentication, and the fleet: section's checks on credential files.
# SPDX-License-Identifier: MIT

# shellcheck source=lib.sh disable=SC2016,SC2034,SC2154 # eval'd conditions; lib.sh sets the rest
. "$(dirname "$0")/lib.sh"

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "1..0 # SKIP etcd and etcdctl are not installed (Debian: etcd-server, etcd-client)"
    TAP_DONE=true
    # automake's TAP driver reads the plan; run by hand, 77 says "skipped".
    [ "${TAP_DRIVER:-}" = yes ] && exit 0
    exit 77
fi

D=$TEST_TMP
MERIDIANCTL=$top_builddir/meridianctl
BACKEND=$E2E_DIR/fleet_etcd/backend.py
export ETCDCTL_API=3 PYTHONDONTWRITEBYTECODE=1
NODES=(A B C)
declare -A NPORT NSRC NPID NLOG
NSRC=([A]=127.0.0.2 [B]=127.0.0.3 [C]=127.0.0.4)
BACKEND_PID=
ETCD_PIDS=()

stop_all()
{
    local p
    [ -n "$BACKEND_PID" ] && kill -TERM "$BACKEND_PID" 2>/dev/null && wait "$BACKEND_PID" 2>/dev/null
    for p in "${ETCD_PIDS[@]}"; do
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
}
trap 'stop_all; cleanup' EXIT

# ---- etcd -----------------------------------------------------------------------------------

# free_port tests a port, not what this script will bind later: ports are drawn until each
# is one not drawn before.
USED=" "
fresh_port()
{
    local p
    p=$(free_port)
    while [[ $USED == *" $p "* ]]; do p=$(free_port); done
    USED+="$p "
    FRESH=$p
}

declare -a CPORT PPORT
for i in 0 1 2; do
    fresh_port && CPORT[i]=$FRESH
    fresh_port && PPORT[i]=$FRESH
done
CLUSTER="m0=http://127.0.0.1:${PPORT[0]},m1=http://127.0.0.1:${PPORT[1]},m2=http://127.0.0.1:${PPORT[2]}"
EPS="http://127.0.0.1:${CPORT[0]},http://127.0.0.1:${CPORT[1]},http://127.0.0.1:${CPORT[2]}"

# etcd_start I: member I of the cluster, in the background; its data stays across restarts.
etcd_start()
{
    local i=$1
    etcd --name "m$i" --data-dir "$D/etcd$i" \
        --listen-client-urls "http://127.0.0.1:${CPORT[i]}" \
        --advertise-client-urls "http://127.0.0.1:${CPORT[i]}" \
        --listen-peer-urls "http://127.0.0.1:${PPORT[i]}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${PPORT[i]}" \
        --initial-cluster "$CLUSTER" --initial-cluster-token "meridian-test-$$" \
        --initial-cluster-state new >>"$D/etcd$i.log" 2>&1 &
    ETCD_PIDS[i]=$!
}

etcd_stop()
{
    local i=$1
    kill -TERM "${ETCD_PIDS[i]}" 2>/dev/null
    wait "${ETCD_PIDS[i]}" 2>/dev/null
    ETCD_PIDS[i]=
}

ectl()
{
    etcdctl --endpoints "$EPS" --dial-timeout=2s --command-timeout=3s "$@"
}

cluster_healthy()
{
    ectl endpoint health >/dev/null 2>&1
}

# The index of the member that leads, from each live member's own status.
leader()
{
    local i
    for i in 0 1 2; do
        [ -n "${ETCD_PIDS[i]}" ] || continue
        etcdctl --endpoints "http://127.0.0.1:${CPORT[i]}" --command-timeout=2s \
            endpoint status -w json 2>/dev/null | python3 2>/dev/null -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
sys.exit(0 if s["header"]["member_id"] == s["leader"] else 1)' && { echo "$i"; return 0; }
    done
    return 1
}

has_leader()
{
    leader >/dev/null
}

# ---- the nodes ------------------------------------------------------------------------------

fresh_port && HP=$FRESH
for n in "${NODES[@]}"; do fresh_port && NPORT[$n]=$FRESH; done
fresh_port && MPORT=$FRESH # node A's /metrics

cat >"$D/zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@       IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
        IN  NS    ns1
ns1     IN  A     192.0.2.53
api  30 IN  DYNA  api
web  30 IN  DYNA  web
EOF

# config NODE [EXTRA-FLEET-LINES]: node NODE's config file.
config()
{
    local n=$1 extra=${2:-} port=${NPORT[$1]:-${NPORT[A]}} src=${NSRC[$1]:-127.0.0.5}
    cat >"$D/$n.yaml" <<EOF
server:
  listen: ["127.0.0.1:$port"]
  workers: 1
  control: $D/$n.sock
  state: $D/$n.state
$([ "$n" = A ] && echo "  metrics: 127.0.0.1:$MPORT")
geoip: { databases: [] }
regions:
  a: { addresses: [127.0.0.41] }
  b: { addresses: [127.0.0.42] }
  h: { addresses: [127.0.0.43], check: web }
checks:
  web: { url: "http://{address}:$HP/health", interval: 300ms, timeout: 200ms, fall: 2, rise: 2 }
services:
  api: { policy: weighted, weights: { a: 1, b: 1 } }
  web: { policy: failover, order: [h, b] }
fleet:
  node: $n
  etcd: ["http://127.0.0.1:${CPORT[0]}", "http://127.0.0.1:${CPORT[1]}", "http://127.0.0.1:${CPORT[2]}"]
  prefix: /test/meridian
  probe_source: $src
  timeout: 1s
$extra
zones:
  example.com: zone
EOF
}

# node_start NODE: as lib.sh's start_server, with a log file of the node's own for each
# start (start_server numbers logs by the servers running, which repeats after a stop).
STARTS=0
node_start()
{
    local n=$1
    STARTS=$((STARTS + 1))
    NLOG[$n]=$D/$n.$STARTS.log
    "$MERIDIAND" -c "$D/$n.yaml" >"${NLOG[$n]}" 2>&1 &
    NPID[$n]=$!
    SERVER_PIDS+=("${NPID[$n]}")
    if ! wait_for up_or_dead "${NPORT[$n]}" "${NPID[$n]}" || ! alive "${NPID[$n]}"; then
        bail_out "node $n answers on 127.0.0.1:${NPORT[$n]}" "$(tail -n 20 "${NLOG[$n]}")"
    fi
}

# ans NODE NAME: the A records NODE answers for NAME, one line, sorted.
ans()
{
    dig +short +norec +tries=1 +time=1 -p "${NPORT[$1]}" @127.0.0.1 "$2" A 2>&1 | sort | xargs
}

answers_is()
{
    [ "$(ans "$1" "$2")" = "$3" ]
}

all_answer()
{
    local name=$1 want=$2 n
    for n in "${NODES[@]}"; do answers_is "$n" "$name" "$want" || return 1; done
}

# wait_long CMD...: wait_for with room for an etcd election or restart.
wait_long()
{
    WAIT_TIMEOUT=30 wait_for "$@"
}

ctl()
{
    "$MERIDIANCTL" -s "$D/$1.sock" -t 20 "${@:2}"
}

# sj NODE PYTHON-EXPR: evaluates EXPR on NODE's `--json status` as s.
sj()
{
    ctl "$1" --json status 2>/dev/null | python3 -c "
import json, sys
s = json.load(sys.stdin)
print($2)" 2>/dev/null
}

live_nodes()
{
    [ "$(sj "$1" '" ".join(sorted(s["fleet"]["nodes"]))')" = "$2" ]
}

metric()
{
    curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

# ---- the fleet: section ----------------------------------------------------------------------

config A
printf 'secret\n' >"$D/password"
chmod 0644 "$D/password"
config X "  user: meridian
  password_file: $D/password"
out=$("$MERIDIAND" -c "$D/X.yaml" -t 2>&1)
check_match "a password file readable by others is refused, at its line and column" \
    "X.yaml:[0-9]+:[0-9]+: error: .*password.* is readable or writable by others \(mode 0644\)" "$out"
"$MERIDIAND" -c "$D/X.yaml" >"$D/X.log" 2>&1
check "meridiand does not start with it" test $? -ne 0
chmod 0600 "$D/password"
check "the same file with mode 0600 passes meridiand -t" quietly "$MERIDIAND" -c "$D/X.yaml" -t
printf 'key\n' >"$D/client.key"
chmod 0640 "$D/client.key"
printf 'cert\n' >"$D/client.pem"
config X "  tls: { cert: $D/client.pem, key: $D/client.key }"
check "a client key readable by its group only passes" quietly "$MERIDIAND" -c "$D/X.yaml" -t
chmod 0604 "$D/client.key"
out=$("$MERIDIAND" -c "$D/X.yaml" -t 2>&1)
check_match "a client key readable by others is refused" "X.yaml:[0-9]+:[0-9]+: error: .*client.key" "$out"
config X "  health_quorum: most"
out=$("$MERIDIAND" -c "$D/X.yaml" -t 2>&1)
check_match "health_quorum takes majority, any, all or a number" \
    "X.yaml:[0-9]+:[0-9]+: error: \"health_quorum\" must be majority, any, all or a number" "$out"
config X "  user: meridian"
out=$("$MERIDIAND" -c "$D/X.yaml" -t 2>&1)
check_match "user without password_file is refused" 'user" and "password_file" go together' "$out"

# ---- the cluster and the nodes ---------------------------------------------------------------

for i in 0 1 2; do etcd_start "$i"; done
wait_long cluster_healthy || bail_out "the etcd cluster is healthy" "$(tail -n 5 "$D/etcd0.log")"
ok "a three-member etcd cluster runs on loopback"

mkdir -p "$D/backend"
python3 "$BACKEND" 127.0.0.43 "$HP" "$D/backend" 2>"$D/backend.log" &
BACKEND_PID=$!
wait_for test -e "$D/backend/ready" || bail_out "the probe target is up" "$(cat "$D/backend.log")"

# b keeps its weight 1 throughout; a at 1000000 wins (all but one answer in a million), and
# a at 0 leaves every answer to b.  Each change below is one command, one key.
for n in "${NODES[@]}"; do config "$n"; node_start "$n"; done
check "every node joined" wait_for live_nodes A "A B C"
out=$(ctl A weight api a 1000000)
check_match "a weight through node A is acknowledged with etcd's revision" \
    "service api region a: weight 1000000 \(fleet: etcd revision [0-9]+, was none\)" "$out"
check "etcd holds it under the documented key" \
    test "$(ectl get --print-value-only /test/meridian/state/weight/api/a)" = 1000000
check "every node answers a" wait_for all_answer api.example.com 127.0.0.41
out=$(ctl A shift api a=50 b=50 --step 10 --every 1s 2>&1)
check "a shift on a fleet node is refused (exit 1): its steps would not reach etcd" \
    test $? -eq 1
check_match "... and says why" "in a fleet the weights live in etcd" "$out"
check "... and etcd still holds a's weight" \
    test "$(ectl get --print-value-only /test/meridian/state/weight/api/a)" = 1000000

# ---- propagation: 20 weight changes through A, timed until B and C answer them ------------

read -r _ p50 _ p99 _ late _ c50 _ c99 < <(python3 "$E2E_DIR/fleet_etcd/propagate.py" \
    "$MERIDIANCTL" "$D/A.sock" "${NPORT[B]}" "${NPORT[C]}" -- 20)
diag "a weight change through A, until B and C answer it, over 20 changes:" \
    "  from the acknowledgement: p50 ${p50} ms, p99 ${p99} ms" \
    "  from sending the command: p50 ${c50} ms, p99 ${c99} ms"
check_eq "each of 20 changes reached B and C within 5 s" 0 "$late"

# ---- etcdctl writes: a good value applies, a malformed one is logged and ignored --------------

ectl put /test/meridian/state/weight/api/a 0 >/dev/null
ectl put /test/meridian/state/weight/api/b 5 >/dev/null
check "a weight written with etcdctl reaches every node" wait_for all_answer api.example.com 127.0.0.42
ectl put /test/meridian/state/weight/api/a banana >/dev/null
check "a malformed value is logged by every node" \
    wait_for eval 'grep -q "ignoring /test/meridian/state/weight/api/a.*whole number" "${NLOG[A]}" &&
        grep -q "ignoring /test/meridian/state/weight/api/a" "${NLOG[C]}"'
check_eq "and ignored: node B keeps a's last good weight" 0 \
    "$(sj B '[r["weight"] for v in s["services"] if v["name"] == "api" for r in v["regions"] if r["region"] == "a"][0]')"
check "answers are unchanged" all_answer api.example.com 127.0.0.42
ectl put /test/meridian/state/drain/b yes >/dev/null
ectl put /test/meridian/state/weight/api/a 1 >/dev/null
check "a good value after a malformed drain applies, and the drain does not" \
    wait_for eval 'sj C "s[\"services\"][0][\"regions\"][0][\"weight\"]" | grep -qx 1'
check_eq "region b is not drained by \"yes\"" False \
    "$(sj C '[r["drained"] for r in s["regions"] if r["name"] == "b"][0]')"
ectl del /test/meridian/state/drain/b >/dev/null

# ---- a node away during a drain obeys it from its first answer -------------------------------

ectl put /test/meridian/state/weight/api/b 1 >/dev/null
ctl A weight api a 1000000 >/dev/null
check "every node answers a again" wait_for all_answer api.example.com 127.0.0.41
stop_server "${NPID[C]}"
check "C left the fleet at once (its lease revoked)" wait_for live_nodes A "A B"
out=$(ctl B drain a)
check_match "drain a through B" "region a drained \(fleet: etcd revision" "$out"
node_start C
check_eq "C's first dynamic answer already obeys the drain" 127.0.0.42 "$(ans C api.example.com)"
check "C's state file keeps the fleet's copy" grep -q "drained: \[a\]" "$D/C.state"
ctl A undrain a >/dev/null
check "undrain through A reaches every node" wait_for all_answer api.example.com 127.0.0.41

# ---- health by consensus: the target refuses node A's probes only ----------------------------

check "every node answers web with h while every probe passes" \
    wait_for all_answer web.example.com 127.0.0.43
echo "${NSRC[A]}" >"$D/backend/refuse"
check "node A's own probes see h down" wait_for grep -q "health: h 127.0.0.43 is DOWN" "${NLOG[A]}"
views()
{
    [ "$(sj "$1" '" ".join("%s=%s" % kv for kv in sorted(s["fleet"]["addresses"][0]["views"].items()))')" = "$2" ]
}
check "node A publishes its view, and B's status shows it: A down, B and C up" \
    wait_for views B "A=down B=up C=up"
check "h stays in every node's answers, A's included" all_answer web.example.com 127.0.0.43
stop_server "${NPID[B]}"
config B "  health_quorum: any"
node_start B
check "with health_quorum: any, node B pulls h on A's view alone" \
    wait_for answers_is B web.example.com 127.0.0.42
check "while node C, on a majority, keeps it" answers_is C web.example.com 127.0.0.43
config B
kill -HUP "${NPID[B]}"
check "a reload that changes the fleet: section says it takes a restart" \
    wait_for grep -q "fleet: section take effect on restart only" "${NLOG[B]}"
stop_server "${NPID[B]}"
node_start B
check "back on a majority, node B answers h again" wait_for answers_is B web.example.com 127.0.0.43
check "node A says it is isolated in status" wait_for eval '[ "$(sj A "s[\"fleet\"][\"isolated\"]")" = True ]'
check "and in its metrics" wait_for eval '[ "$(metric meridian_fleet_isolated)" = 1 ]'
check "and in its log" grep -q "this node is ISOLATED" "${NLOG[A]}"
kill -TERM "$BACKEND_PID"
wait "$BACKEND_PID" 2>/dev/null
BACKEND_PID=
t0=$(now_ms)
WAIT_POLL=0.05 wait_for all_answer web.example.com 127.0.0.42
took=$(($(now_ms) - t0))
diag "the dead target left every node's answers after $took ms (interval 300ms x fall 2 + timeout 200ms + 1 s = 1800 ms)"
check "every node pulled it within 5 s" test "$took" -le 5000
check "node A is no longer isolated" wait_for grep -q "no longer isolated" "${NLOG[A]}"
rm -f "$D/backend/refuse"

# ---- two nodes race: no lost update, the last acknowledged value wins ------------------------

race()
{
    local n=$1 base=$2 i
    for i in $(seq 1 100); do
        ctl "$n" weight api a $((base + i)) 2>&1 | sed -n 's/.*weight \([0-9]*\) (fleet: etcd revision \([0-9]*\), was \([a-z0-9]*\)).*/\2 \1 \3/p'
    done >"$D/race.$n"
}
race A 1000 &
ra=$!
race B 2000 &
rb=$!
wait "$ra" "$rb"
acks=$(cat "$D/race.A" "$D/race.B" | sort -n)
check_eq "all 200 commands were acknowledged" 200 "$(printf '%s\n' "$acks" | grep -c .)"
check_eq "each at its own revision" 200 "$(printf '%s\n' "$acks" | cut -d' ' -f1 | sort -u | grep -c .)"
# In revision order, each command saw exactly the value the one before it wrote.
chain=$(printf '%s\n' "$acks" | awk 'NR > 1 && $3 != prev {bad++} {prev = $2} END {print bad + 0}')
check_eq "each saw the value acknowledged just before it: nothing was overwritten unseen" 0 "$chain"
last=$(printf '%s\n' "$acks" | tail -n 1 | cut -d' ' -f2)
check_eq "etcd holds the last acknowledged value" "$last" \
    "$(ectl get --print-value-only /test/meridian/state/weight/api/a)"
for n in "${NODES[@]}"; do
    check "node $n has it" wait_for eval \
        '[ "$(sj '"$n"' "s[\"services\"][0][\"regions\"][0][\"weight\"]")" = "$last" ]'
done

# ---- the etcd leader killed -----------------------------------------------------------------

L=$(leader) || bail_out "etcd has a leader"
kill -KILL "${ETCD_PIDS[L]}"
wait "${ETCD_PIDS[L]}" 2>/dev/null
ETCD_PIDS[L]=
check "the two members left elect a leader" wait_long has_leader
out=$(ctl A weight api a 0 2>&1)
check_match "a change through A commits with the old leader (m$L) dead" "weight 0 \(fleet" "$out"
check "and reaches every node" wait_for all_answer api.example.com 127.0.0.42
etcd_start "$L"
check "the member rejoins" wait_long cluster_healthy

# ---- every member stopped, then back ----------------------------------------------------------

declare -A BEFORE
for n in "${NODES[@]}"; do BEFORE[$n]=$(grep -c "etcd is unreachable" "${NLOG[$n]}"); done
failures=$(metric meridian_fleet_sync_failures_total)
# All at once: members stopped one by one may serve a last request between them.
kill -TERM "${ETCD_PIDS[@]}"
for i in 0 1 2; do etcd_stop "$i"; done
check "node A exports meridian_fleet_connected 0" wait_for eval '[ "$(metric meridian_fleet_connected)" = 0 ]'
check "every node keeps answering the last state" all_answer api.example.com 127.0.0.42
ctl A weight api a 1000000 >/dev/null 2>&1
check_eq "a command fails while etcd is away, and nothing changes" "1 127.0.0.42" "$? $(ans A api.example.com)"
# said_once REGEX: every node's log has one more line matching REGEX than it had before.
said_once()
{
    local n
    for n in "${NODES[@]}"; do
        [ "$(grep -c "$1" "${NLOG[$n]}")" = $((${BEFORE[$n]} + 1)) ] || return 1
    done
}
retried()
{
    [ "$(metric meridian_fleet_sync_failures_total)" -ge $((failures + 9)) ]
}
check "node A keeps retrying (three rounds of three endpoints)" wait_long retried
if said_once "etcd is unreachable"; then
    ok "every node says so once in its log"
else
    not_ok "every node says so once in its log"
    for n in "${NODES[@]}"; do diag "node $n:" "$(grep "etcd is" "${NLOG[$n]}")"; done
fi
for i in 0 1 2; do etcd_start "$i"; done
wait_long cluster_healthy || bail_out "the cluster comes back"
ectl put /test/meridian/state/weight/api/a 1000000 >/dev/null
check "the nodes resynchronise: a change made meanwhile with etcdctl applies everywhere" \
    wait_long all_answer api.example.com 127.0.0.41
check_eq "node A exports meridian_fleet_connected 1" 1 "$(metric meridian_fleet_connected)"
check "and logged its return" grep -q "etcd is reachable again" "${NLOG[A]}"
check "every node is alive again in etcd" wait_for live_nodes B "A B C"

# ---- status ---------------------------------------------------------------------------------

out=$(ctl A status)
check_match "status shows the live nodes" "^  live nodes: A B C" "$out"
check_match "and each address with its verdict and every node's view" \
    "h 127.0.0.43: verdict down, views: A=down B=down C=down" "$out"

for n in "${NODES[@]}"; do stop_server "${NPID[$n]}"; done

# ---- etcd with authentication: a node logs in with its user and password file --------------

ectl user add root:rootpw >/dev/null && ectl user grant-role root root >/dev/null &&
    ectl role add meridian >/dev/null &&
    ectl role grant-permission meridian --prefix=true readwrite /test/meridian/ >/dev/null &&
    ectl user add meridian:s3cret >/dev/null && ectl user grant-role meridian meridian >/dev/null &&
    ectl auth enable >/dev/null
check "etcd requires authentication" test $? = 0
printf 's3cret\n' >"$D/password"
chmod 0600 "$D/password"
config A "  user: meridian
  password_file: $D/password"
node_start A
out=$(ctl A weight api a 3 2>&1)
check_match "a node with a user and password file commits a change" "weight 3 \(fleet: etcd revision" "$out"
check_eq "etcd has it" 3 "$(ectl --user root:rootpw get --print-value-only /test/meridian/state/weight/api/a)"
stop_server "${NPID[A]}"
ectl --user root:rootpw auth disable >/dev/null

sanitizer_check
done_testing
