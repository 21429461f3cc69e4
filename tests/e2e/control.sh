#!/bin/bash
# control.sh — meridianctl against a running meridiand: weights measured over thousands of
# queries, drains, reload, status, stats, explain, version; the state file across kill -9,
# crashes mid-change and corruption; bad and hostile control clients; the socket's
# permissions, a stale socket and a second server.  SPDX-License-Identifier: MIT
#
# control/ctl.py does the python side: the measured splits, raw socket clients and a strict
# reader of the state file.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=control/helpers.sh
. "$E2E_DIR/control/helpers.sh"

D=$TEST_TMP
N=10000                         # queries behind each measured split
US=192.0.2.10 EU=198.51.100.10 AP=203.0.113.10
VERSION=$("$MERIDIAND" -V | awk '{ print $2 }')

# The socket sits where the user nobody can reach it, so that only its own mode keeps
# nobody out (mktemp -d made $D 0700).
chmod 0711 "$D"
mkdir -m 0755 "$D/run"
mkdir "$D/state"
SOCK=$D/run/control.sock
STATE=$D/state/state.yaml

ZONE=$D/example.com.zone
write_zone()
{
    cat >"$ZONE" <<EOF
\$ORIGIN example.com.
\$TTL 300
@       IN  SOA   ns1 hostmaster 1 7200 3600 1209600 300
        IN  NS    ns1
ns1     IN  A     192.0.2.53
static  IN  A     $1
${2:-}
api  30 IN  DYNA  api
pay  30 IN  DYNA  pay
www  30 IN  DYNA  web
EOF
}

# write_config FILE PORT [SOCKET [STATE [EXTRA-SERVER-LINES]]]: no health checks, so every
# region is up; no GeoIP database, so the geo service answers from its default list.
write_config()
{
    cat >"$1" <<EOF
server:
  listen: ["127.0.0.1:$2"]
  workers: 2
  control: ${3:-$SOCK}
  state: ${4:-$STATE}
${5:-}
regions:
  us-east-1:  { addresses: [$US] }
  eu-west-1:  { addresses: [$EU] }
  apac-south: { addresses: [$AP] }
services:
  api:
    policy: weighted
    weights: { us-east-1: 10, eu-west-1: 30 }
  pay:
    policy: failover
    order: [us-east-1, eu-west-1]
  web:
    policy: geo
    map:
      GB: [eu-west-1]
      default: [apac-south, us-east-1]
zones:
  example.com: example.com.zone
EOF
}

# split N ADDR=WEIGHT...: N queries for api.example.com fall on the addresses by weight (5σ;
# exactly none for weight 0).
split() { py_tap "$CTLPY" split "$PORT" api.example.com "$@"; }
# only NAME "description" ADDR...: the next 200 queries for NAME.example.com all get ADDR...
only() { py_tap "$CTLPY" only "$PORT" "$1.example.com" 200 "$2" "${@:3}"; }

write_zone 192.0.2.100
PORT=$(free_port)
write_config "$D/main.yaml" "$PORT"
start_server "$D/main.yaml"

# ---- 1. meridianctl against the running server ---------------------------------------------

check_ctl "version names the running server's version" 0 "^meridiand $VERSION\$" version
ctl --json version
check_eq "--json version is a JSON result" "\"meridiand $VERSION\"" "$(printf '%s' "$CTL_OUT" | jget result)"

check_ctl "weight api us-east-1 80 says what it set" 0 "^service api region us-east-1: weight 80\$" \
    weight api us-east-1 80
ok_ctl weight api eu-west-1 20
split "$N" "$US=80" "$EU=20"
ok_ctl weight api us-east-1 50
ok_ctl weight api eu-west-1 50
split "$N" "$US=50" "$EU=50"
ok_ctl weight api us-east-1 0
ok_ctl weight api eu-west-1 100
split "$N" "$US=0" "$EU=100"

ctl status
check_match "status shows a weight set at run time" "^    us-east-1: weight 0 \(set at run time\)\$" "$CTL_OUT"
check_match "status shows every region's addresses" "^    $AP +up " "$CTL_OUT"
check_eq "--json status: api us-east-1 weight 0" 0 "$(status_json services/api/regions/us-east-1/weight)"
check_eq "--json status: api eu-west-1 weight 100, configured 30" "100 30" \
    "$(status_json services/api/regions/eu-west-1/weight) $(status_json services/api/regions/eu-west-1/configured_weight)"
check_eq "--json status: the addresses of us-east-1" "[\"$US\"]" \
    "$("$MERIDIANCTL" -s "$SOCK" --json status | python3 -c '
import json, sys
print(json.dumps([a["address"] for r in json.load(sys.stdin)["regions"] if r["name"] == "us-east-1"
                  for a in r["addresses"]]))')"
check_eq "the state file holds the weights" '{"eu-west-1": 100, "us-east-1": 0}' \
    "$(state_json services/api/weights)"

# Drains, for a failover, a geo and a weighted service: the very next queries obey.
ok_ctl weight api us-east-1 50
ok_ctl weight api eu-west-1 50
only pay "failover pay before any drain" "$US"
only www "geo web before any drain" "$AP"
check_ctl "drain us-east-1" 0 "^region us-east-1 drained\$" drain us-east-1
only pay "failover pay right after drain us-east-1" "$EU"
only api "weighted api (50/50) right after drain us-east-1" "$EU"
only www "geo web right after drain us-east-1 (apac-south first anyway)" "$AP"
# Draining apac-south too would leave web's default entry with no usable region: refused,
# with what it would break, and nothing changes; --force does it and says so in the log.
sum=$(state_sum)
check_ctl "drain apac-south, web's last usable default region, is refused (exit 1)" 1 \
    "^refused: that would leave service web entry default with no usable region" drain apac-south
check_eq "the refused drain leaves the state file unchanged" "$sum" "$(state_sum)"
check_eq "--json status: the refused drain left apac-south in service" false \
    "$(status_json regions/apac-south/drained)"
only www "geo web after the refused drain still gets apac-south" "$AP"
check_ctl "weight 0 for api's last usable region is refused too (exit 1)" 1 \
    "^refused: that would leave service api with no usable region" weight api eu-west-1 0
check_eq "the refused weight leaves the state file unchanged" "$sum" "$(state_sum)"
check_ctl "drain apac-south --force" 0 "^region apac-south drained\$" drain apac-south --force
check_eq "the forced drain is logged with what it leaves failing open" 1 \
    "$(log_count 'control: forced \(drain\): service web entry default left with no usable region')"
# Both of web's regions are out now: it fails open (as if all were up), as for health.
only www "geo web with both its regions drained fails open to its first" "$AP"
ctl status
check_match "status shows us-east-1 drained" "^  us-east-1: DRAINED, up" "$CTL_OUT"
check_match "status shows web's default entry failing open" "^    entry default: FAILING OPEN" "$CTL_OUT"
check_eq "--json status: regions us-east-1 and apac-south drained, eu-west-1 not" "true true false" \
    "$(status_json regions/us-east-1/drained) $(status_json regions/apac-south/drained) $(status_json regions/eu-west-1/drained)"
check_match "the state file holds both drains" '^\[("apac-south", "us-east-1"|"us-east-1", "apac-south")\]$' \
    "$(state_json drained)"
check_ctl "undrain us-east-1" 0 "^region us-east-1 undrained\$" undrain us-east-1
only pay "failover pay right after undrain us-east-1" "$US"
only www "geo web right after undrain us-east-1, apac-south still drained" "$US"
check_ctl "undrain apac-south" 0 "^region apac-south undrained\$" undrain apac-south

# Fail open per map entry: draining eu-west-1 leaves web's GB entry (GB: [eu-west-1]) with
# no usable region while web itself still has its default list.
open_re='service web entry GB: every region it lists is down or drained: its clients are answered as if all were up \(fail open\)'
back_re='service web entry GB: a region is back in service: no longer failing open'
check_eq "no log line yet for web's GB entry" 0 "$(log_count "$open_re")"
ok_ctl drain eu-west-1 --force
check_eq "drain eu-west-1 logs that web's GB entry fails open, once" 1 "$(log_count "$open_re")"
ctl status
check_match "status marks web's GB entry FAILING OPEN" \
    "^    entry GB: FAILING OPEN \(every region it lists is down or drained\)\$" "$CTL_OUT"
check_match "status does not mark web as a whole failing open" "^  web: policy geo\$" "$CTL_OUT"
check_eq "--json status: web's failing_open_entries is [GB], failing_open false" '["GB"] false' \
    "$(status_json services/web/failing_open_entries) $(status_json services/web/failing_open)"
check_eq "--json status: pay's failing_open_entries is empty" '[]' \
    "$(status_json services/pay/failing_open_entries)"
ok_ctl undrain eu-west-1
check_eq "undrain eu-west-1 logs that web's GB entry stops failing open" 1 "$(log_count "$back_re")"
check_eq "--json status: web's failing_open_entries is empty again" '[]' \
    "$(status_json services/web/failing_open_entries)"
ok_ctl weight api eu-west-1 0
ok_ctl weight api us-east-1 0 --force
check_eq "weights 0 for every api region log api failing open" 1 \
    "$(log_count 'service api: every region it can pick is down or drained')"
ok_ctl weight api us-east-1 50
ok_ctl weight api eu-west-1 50
check_eq "a weight back above 0 logs api back in service" 1 \
    "$(log_count 'service api: a region is back in service: no longer failing open')"
ctl help drain
check_match "help drain says the last usable region's clients fail open" "they fail open" "$CTL_OUT"
only www "geo web right after undrain apac-south" "$AP"
check_eq "the state file holds no drain any more" '[]' "$(state_json drained)"

check_ctl "drain us-east-1 pay" 0 "^region us-east-1 drained for service pay\$" drain us-east-1 pay
only pay "pay right after drain us-east-1 pay" "$EU"
split 4000 "$US=50" "$EU=50"
ctl status
check_match "status shows the drain within pay" "^    us-east-1: DRAINED for this service\$" "$CTL_OUT"
check_eq "--json status: us-east-1 drained for pay only" "true false false" \
    "$(status_json services/pay/regions/us-east-1/drained) $(status_json services/api/regions/us-east-1/drained) $(status_json regions/us-east-1/drained)"

# explain
check_ctl "explain pay: the drained candidate and the choice" 0 "^  candidate us-east-1: drained" \
    explain pay.example.com 127.0.0.1
check_match "explain pay chooses eu-west-1" "^chosen: eu-west-1" "$CTL_OUT"
check_ctl "explain api names the policy" 0 "^service api: policy weighted\$" \
    explain api.example.com 198.51.100.0/24
check_ctl "explain with a bad client address: exit 1 and why" 1 "is not an IP address" \
    explain api.example.com not-an-ip

# reload: a broken zone keeps the old data serving and says file:line; a good one is served.
check_eq "static.example.com before any reload" 192.0.2.100 "$(addrs static.example.com A)"
write_zone 192.0.2.101 "broken  IN  A     not-an-address"
BROKEN_LINE=$(grep -n '^broken' "$ZONE" | cut -d: -f1)
check_ctl "reload example.com of a broken zone: exit 1 with file:line" 1 \
    "example\.com\.zone:$BROKEN_LINE:.*error" reload example.com
check_ctl "reload of everything with a broken zone: exit 1 with file:line" 1 \
    "example\.com\.zone:$BROKEN_LINE:" reload
ctl --json reload example.com
check_match "--json reload of a broken zone: an error document with file:line (exit $CTL_RC)" \
    "example\.com\.zone:$BROKEN_LINE:" "$(printf '%s' "$CTL_ERR" | jget error)"
check_eq "the old zone keeps serving" 192.0.2.100 "$(addrs static.example.com A)"
only pay "dynamic names keep serving, with the drain, after the failed reloads" "$EU"
write_zone 192.0.2.101
check_ctl "reload example.com of the fixed zone" 0 "reload done" reload example.com
check_eq "the edited zone serves at once" 192.0.2.101 "$(addrs static.example.com A)"
write_zone 192.0.2.102
check_ctl "reload of everything" 0 "reload done" reload
check_eq "the zone edited again serves at once" 192.0.2.102 "$(addrs static.example.com A)"
check_eq "reloads keep the run-time weight and drain" "50 true" \
    "$(status_json services/api/regions/us-east-1/weight) $(status_json services/pay/regions/us-east-1/drained)"
only pay "pay still avoids us-east-1 after the reloads" "$EU"

# stats: nothing else queries the server between the two readings.
before=$("$MERIDIANCTL" -s "$SOCK" --json stats | jget queries/udp)
read -r sent answered < <(python3 "$CTLPY" count "$PORT" static.example.com 1000)
after=$("$MERIDIANCTL" -s "$SOCK" --json stats | jget queries/udp)
check_eq "stats counts each UDP query ($sent sent, $answered answered)" "$((before + sent))" "$after"
check_ctl "stats as text" 0 "^queries: udp $after, tcp [0-9]+\$" stats

# ---- 2. kill -9 and a restart: weights and drains hold; the stale socket is replaced -------

ok_ctl weight api us-east-1 25
ok_ctl weight api eu-west-1 75
ok_ctl drain apac-south
WANT_STATE='{"drained": ["apac-south"], "services": {"api": {"drained": [], "weights": {"eu-west-1": 75, "us-east-1": 25}}, "pay": {"drained": ["us-east-1"], "weights": {}}}, "version": 1}'
check_eq "the state file parses and holds every change" "$WANT_STATE" "$(state_json)"
kill9
check "kill -9 leaves the socket file behind" test -S "$SOCK"
start_server "$D/main.yaml"
check_ctl "a restart replaces the stale socket: status works" 0 "^  apac-south: DRAINED" status
check_eq "the restart warned of nothing corrupt" 0 "$(log_count 'corrupt|cannot be used')"
check_eq "after kill -9 and a restart the state file still parses, unchanged" "$WANT_STATE" "$(state_json)"
check_eq "--json status after the restart: weights 25/75, drains kept" "25 75 true true false" \
    "$(status_json services/api/regions/us-east-1/weight) $(status_json services/api/regions/eu-west-1/weight) $(status_json services/pay/regions/us-east-1/drained) $(status_json regions/apac-south/drained) $(status_json regions/us-east-1/drained)"
split "$N" "$US=25" "$EU=75"
only pay "pay after the restart: us-east-1 still drained for it" "$EU"
only www "web after the restart: apac-south still drained" "$US"

# ---- 3. bad input: clear errors, DNS keeps answering, the state file untouched -------------

SUM=$(state_sum)
# A client that connects and says nothing; its verdict is read at the end of part 5.
python3 "$CTLPY" silent "$SOCK" >"$D/silent.out" 2>&1 &
SILENT_PID=$!
wait_for grep -q "silent client connected" "$D/silent.out" || diag "the silent client did not connect"
# And one that sends its line a byte a second: its deadline is for the whole line.
python3 "$CTLPY" trickle "$SOCK" >"$D/trickle.out" 2>&1 &
TRICKLE_PID=$!
wait_for grep -qs "trickling client connected" "$D/trickle.out" || diag "the trickling client did not connect"

check_ctl "weight of an unknown service: exit 1" 1 '^no service "nosuch"; see status$' weight nosuch us-east-1 5
check_ctl "weight of an unknown region: exit 1" 1 '^no region "nowhere"; see status$' weight api nowhere 5
check_ctl "weight of a region the service never picks: exit 1" 1 "never picks region apac-south" \
    weight api apac-south 5
check_ctl "drain of an unknown region: exit 1" 1 '^no region "nowhere"' drain nowhere
check_ctl "drain within an unknown service: exit 1" 1 '^no service "nosuch"' drain us-east-1 nosuch
check_ctl "undrain of an unknown region: exit 1" 1 '^no region "nowhere"' undrain nowhere
check_ctl "reload of a zone not in the config: exit 1" 1 "nosuch\.example is not in the config" \
    reload nosuch.example
check_ctl "weight -1: meridianctl refuses it (usage, 64)" 64 'weight "-1" must be a whole number from 0 to 1000000' \
    weight api us-east-1 -1
check_ctl "weight 10^9: refused (64)" 64 'weight "1000000000" must be a whole number from 0 to 1000000' \
    weight api us-east-1 1000000000
check_ctl "weight abc: refused (64)" 64 'weight "abc" must be a whole number' weight api us-east-1 abc
check_ctl "weight with arguments missing: usage (64)" 64 "usage: meridianctl .*weight SERVICE REGION N" weight api
check_ctl "drain with no region: usage (64)" 64 "usage: meridianctl .*drain REGION" drain
check_ctl "an unknown command: 64" 64 'unknown command "frobnicate"' frobnicate
py_tap "$CTLPY" bad "$SOCK"

"$MERIDIANCTL" -s "$SOCK" status >"$D/status.ref"
py_tap "$CTLPY" flood "$SOCK" 100 "$D/status.ref"
check_ctl "after the flood meridianctl status works" 0 "^services:\$" status
py_tap "$CTLPY" cap "$SOCK" 72
check_ctl "once they are gone meridianctl status works" 0 "^services:\$" status
only pay "DNS keeps answering through the bad input" "$EU"

check_eq "the state file is byte-identical after all the bad input" "$SUM" "$(state_sum)"
check "the server is still running" alive "$SERVER_PID"

# ---- 4. permissions -------------------------------------------------------------------------

check_eq "the control socket is mode 0660" 660 "$(stat -c %a "$SOCK")"
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
CTL_NOBODY=$MERIDIANCTL
if ! "${AS_NOBODY[@]}" "$CTL_NOBODY" -V >/dev/null 2>&1; then
    cp "$MERIDIANCTL" "$D/run/meridianctl" && chmod 0755 "$D/run/meridianctl"
    CTL_NOBODY=$D/run/meridianctl
fi
check "the user nobody can run meridianctl at all" quietly "${AS_NOBODY[@]}" "$CTL_NOBODY" -V
out=$("${AS_NOBODY[@]}" "$CTL_NOBODY" -s "$SOCK" status 2>&1)
rc=$?
check_eq "nobody cannot connect: exit 2" 2 "$rc"
check_match "nobody is told why: permission denied" "cannot connect to .*: Permission denied" "$out"

# With server.control_group, members of that group get in.
GPORT=$(free_port)
write_config "$D/group.yaml" "$GPORT" "$D/run/group.sock" "$D/state/group.yaml" "  control_group: nogroup"
MAIN_PID=$SERVER_PID MAIN_LOG=$SERVER_LOG
start_server "$D/group.yaml" "$GPORT"
check_eq "with control_group: nogroup the socket is root:nogroup 0660" "660 root nogroup" \
    "$(stat -c '%a %U %G' "$D/run/group.sock")"
out=$("${AS_NOBODY[@]}" "$CTL_NOBODY" -s "$D/run/group.sock" version 2>&1)
check_eq "nobody in group nogroup gets an answer" "0 meridiand $VERSION" "$? $out"
stop_server "$SERVER_PID"
SERVER_PID=$MAIN_PID SERVER_LOG=$MAIN_LOG

# ---- 5. a second meridiand on the same control socket ---------------------------------------

PORT2=$(free_port)
write_config "$D/second.yaml" "$PORT2"
"$MERIDIAND" -c "$D/second.yaml" >"$D/second.log" 2>&1 &
SECOND_PID=$!
SERVER_PIDS+=("$SECOND_PID")
if WAIT_TIMEOUT=10 wait_for gone "$SECOND_PID"; then
    stop_server "$SECOND_PID"
    rc=$?
    check "a second meridiand on the same socket exits non-zero ($rc)" test "$rc" -ne 0
else
    not_ok "a second meridiand on the same socket exits non-zero (still running after 10 s)"
    stop_server "$SECOND_PID"
fi
check_match "it says another meridiand holds the socket" \
    "another meridiand is running on the control socket $SOCK" "$(cat "$D/second.log")"
check "the socket file is still there" test -S "$SOCK"
check_ctl "the first server keeps answering on the control socket" 0 "^  apac-south: DRAINED" status
only pay "the first server keeps answering DNS" "$EU"

# The silent client of part 3 has sat on its connection all this time.
wait "$SILENT_PID"
py_tap "$CTLPY" replay "$D/silent.out"
wait "$TRICKLE_PID"
py_tap "$CTLPY" replay "$D/trickle.out"

# ---- 6. crash safety: kill -9 at random moments while weights change ------------------------

t0=$(now_ms)
old=$(state_json services/api/weights/us-east-1)
i=0
while [ $i -lt 30 ] && [ $(($(now_ms) - t0)) -lt 25000 ]; do
    i=$((i + 1))
    read -r acked inflight < <(python3 "$CTLPY" crash "$SOCK" "$SERVER_PID" $((i * 1000)) 80)
    stop_server "$SERVER_PID" >/dev/null 2>&1  # reaps what the helper killed
    got=$(state_json services/api/weights/us-east-1 2>&1)
    want=$old
    [ "$acked" = - ] || want=$acked
    start_server "$D/main.yaml"
    corrupt=$(log_count 'corrupt|cannot be used')
    shown=$(status_json services/api/regions/us-east-1/weight)
    desc="crash $i: killed after $acked acked (in flight $inflight): the file holds $got, the restart is clean and status says so"
    if { [ "$got" = "$want" ] || [ "$got" = "$inflight" ]; } && [ "$corrupt" = 0 ] &&
        [ "$shown" = "$got" ]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "the old value was $old; expected the state file to hold $want or $inflight" \
            "log lines about corruption: $corrupt; status shows weight $shown" \
            "state file:" "$(cat "$STATE" 2>&1)"
    fi
    old=$got
done
diag "$i crashes in $(($(now_ms) - t0)) ms; temporary files left behind: $(find "$D/state" -name 'state.yaml.tmp.*' | wc -l)"
check_eq "no state file was ever set aside as corrupt" "" "$(find "$D/state" -name '*.corrupt-*')"

# ---- 7. a corrupt state file at start-up ----------------------------------------------------

# Two corrupt files in a row, as a crash-and-restart loop would meet them: each is set aside,
# and the second must not overwrite the first.  Starting just after a second has begun puts
# both set-asides within one second of the clock, which their names are stamped with.
stop_server "$SERVER_PID"
printf 'version: 1\ndrained: [apac-south\n\377\376 garbage {{{ \000 here\n' >"$STATE"
GARBAGE=$(state_sum)
early_in_a_second() { local t=${EPOCHREALTIME#*[.,]}; [ "${t:0:1}" -lt 2 ]; }
wait_for early_in_a_second
start_server "$D/main.yaml"
check_match "the log warns that the state file cannot be used and where it went" \
    "warning: .*state file cannot be used.*moved to $STATE\.corrupt-" "$(cat "$SERVER_LOG")"
aside=$(find "$D/state" -name 'state.yaml.corrupt-*')
check_match "the corrupt file was moved to PATH.corrupt-<UTC timestamp>" \
    "^$STATE\.corrupt-[0-9]{8}T[0-9]{6}Z\$" "$aside"
check_eq "the copy set aside is the corrupt file, byte for byte" "$GARBAGE" \
    "$(sha256sum <"${aside:-/dev/null}" | cut -d' ' -f1)"
kill9
printf 'version: 2\nnot: [the same garbage\n' >"$STATE"
GARBAGE2=$(state_sum)
start_server "$D/main.yaml"
check_match "the second start warns too" "warning: .*state file cannot be used" "$(cat "$SERVER_LOG")"
aside=$(find "$D/state" -name 'state.yaml.corrupt-*')
check_eq "the second corrupt file is set aside too, and the first copy is kept" \
    "$(printf '%s\n' "$GARBAGE" "$GARBAGE2" | sort)" \
    "$(printf '%s\n' "$aside" | xargs -r sha256sum | cut -d' ' -f1 | sort)"
diag "set aside: $(printf '%s\n' "$aside" | xargs -rn1 basename | tr '\n' ' ')"

check_eq "the server runs with the config's weights and no drains" "10 30 false false" \
    "$(status_json services/api/regions/us-east-1/weight) $(status_json services/api/regions/eu-west-1/weight) $(status_json services/pay/regions/us-east-1/drained) $(status_json regions/apac-south/drained)"
only pay "pay answers from the config: us-east-1 first again" "$US"
ok_ctl weight api us-east-1 10
check_eq "the next change writes a fresh state file that parses" \
    '{"drained": [], "services": {"api": {"drained": [], "weights": {"us-east-1": 10}}}, "version": 1}' \
    "$(state_json)"

done_testing
