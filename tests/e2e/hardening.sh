#!/bin/bash
# hardening.sh — the server on the open internet: response rate limiting over UDP,
# slow and greedy TCP clients, dropping root, and bounds on what a zone may make it do.
# SPDX-License-Identifier: MIT
#
# Sources are loopback addresses: Linux lets a socket bind any of 127.0.0.0/8, so one
# machine plays an attacker (127.0.0.1), a bystander in another /24 (127.0.1.1), and
# hundreds of slow TCP clients (127.0.2.x).  hardening/rrl.py and hardening/loris.py
# do the sending.

. "$(dirname "$0")/lib.sh"

H=$E2E_DIR/hardening
D=$TEST_TMP
MERIDIANCTL=$top_builddir/meridianctl
export PYTHONDONTWRITEBYTECODE=1

cat >"$D/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@       IN  SOA   ns1 hostmaster ( 1 7200 3600 1209600 300 )
        IN  NS    ns1
ns1     IN  A     192.0.2.53
www 60  IN  A     192.0.2.1
EOF

# write_config FILE PORT [YAML]: one listener on 127.0.0.1:PORT, a control socket, the
# example zone; YAML is appended (sections such as rrl:, or more server: keys indented).
write_config()
{
    cat >"$1" <<EOF
server:
  listen: ["127.0.0.1:$2"]
  workers: 2
  control: $D/ctl.$2.sock
${3:-}
zones:
  example.com: $D/example.com.zone
EOF
}

# stat_of rrl_dropped|rrl_slipped: that counter from meridianctl stats of the current
# server, read from its text line "rate limited: dropped N, sent truncated M".
stat_of()
{
    "$MERIDIANCTL" -s "$D/ctl.$PORT.sock" stats | awk -v k="$1" -F '[ ,]+' '
        /^rate limited: / { print (k == "rrl_dropped" ? $4 : $7) }'
}

# json_stats: meridianctl --json stats of the current server, checked to be one JSON
# document, printed as "rrl_dropped rrl_slipped".
json_stats()
{
    "$MERIDIANCTL" -s "$D/ctl.$PORT.sock" --json stats | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(doc["rrl_dropped"], doc["rrl_slipped"])' 2>&1
}

# flood SECONDS CLIENT...: rrl.py's flood of www.example.com; sets F_<octets> (per client
# "sent answered tc tc_empty other") and prints them as diagnostics.
flood()
{
    local secs=$1 src sent answered tc tc_empty other
    shift
    while IFS=' =' read -r src _ sent _ answered _ tc _ tc_empty _ other; do
        diag "$src: sent $sent, answered $answered, TC $tc, TC and empty $tc_empty, other $other"
        printf -v "F_${src//./_}" '%s' "$sent $answered $tc $tc_empty $other"
    done < <(python3 "$H/rrl.py" flood "$PORT" "$secs" www.example.com 192.0.2.1 "$@")
}

# in_range VALUE LOW HIGH (numbers, may be fractions)
in_range()
{
    awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

# ==== a. response rate limiting ========================================================

RATE=20 SLIP=2 SECS=3
PORT=$(free_port)
write_config "$D/rrl.yaml" "$PORT" "rrl:
  responses_per_second: $RATE
  slip: $SLIP
  exempt: []"
start_server "$D/rrl.yaml"

# An attacker at 5000 qps from 127.0.0.1, one source port; a bystander in another /24 at
# 4 qps asking for the same name.  The bystander's one port reaches one of the 2 workers,
# which grants it RATE / 2 = 10/s: 4/s stays clear of that even when the sender catches up
# on a late tick with a small burst.
dropped0=$(stat_of rrl_dropped) slipped0=$(stat_of rrl_slipped)
flood $SECS 127.0.0.1:5000 127.0.1.1:4
dropped=$(($(stat_of rrl_dropped) - dropped0)) slipped=$(($(stat_of rrl_slipped) - slipped0))
read -r sent answered tc tc_empty other <<<"${F_127_0_0_1:-}"
limited=$((dropped + slipped))
diag "server: $dropped dropped, $slipped sent truncated"
# A precondition, not a goal for the sender's speed: the verdicts below need most of the
# flood to be past the rate (at least 10 queries limited for the slip ratio to mean
# anything), so it must offer far more than RATE x SECS; rrl.py catches up on any tick it
# missed, so the count hardly depends on the machine.
check "precondition: the flood offered at least 10x the rate ($sent queries in $SECS s, $RATE/s allowed)" \
    in_range "${sent:-0}" $((RATE * SECS * 10)) 1e9
# One source port: SO_REUSEPORT sends every query to the same one of the 2 workers, and
# each grants its share of the rate, RATE / 2 (README, "Rate limiting").
SHARE=$(((RATE + 1) / 2))
check "the flood is limited: $answered full answers, about $SHARE/s (one worker's share) for $SECS s" \
    in_range "${answered:-x}" $((SHARE * (SECS - 1))) $((SHARE * (SECS + 2)))
check "the server counted every query past the rate as limited ($limited of $sent)" \
    in_range "$limited" "$(((${sent:-0} - ${answered:-0}) * 98 / 100))" "${sent:-0}"
check "1 in $SLIP limited responses went out truncated (slipped $slipped of $limited)" \
    in_range "$(awk -v s="$slipped" -v l="$limited" 'BEGIN { if (l) print s / l }')" 0.45 0.55
check_eq "each slipped response arrived as TC=1 with nothing after the question" \
    "$slipped 0" "${tc_empty:-} ${tc:-}"
check_eq "no other kind of reply came back" 0 "${other:-}"
check_eq "meridianctl --json stats is one JSON document with the same rrl_dropped, rrl_slipped" \
    "$(stat_of rrl_dropped) $(stat_of rrl_slipped)" "$(json_stats | tail -n 1)"
read -r sent answered tc tc_empty other <<<"${F_127_0_1_1:-}"
check "meanwhile a client in another /24 (127.0.1.1) got every answer in full ($answered of $sent)" \
    test "${sent:-0}" -gt 0 -a "${answered:-}" = "${sent:-}" -a "${tc:-}" = 0 -a "${tc_empty:-}" = 0

# The limit belongs to the client's network, not to a socket: the same flood spread over 8
# source ports (as spoofed floods are) gets no more answers.  With a table per UDP worker
# (rrl.h) SO_REUSEPORT spreads the ports over the workers and each grants the full rate.
flood $SECS 127.0.0.1:5000:8
read -r sent answered tc tc_empty other <<<"${F_127_0_0_1:-}"
check "over 8 source ports the flood is limited the same: $answered full answers for $SECS s at $RATE/s" \
    in_range "${answered:-x}" $((RATE * (SECS - 1))) $((RATE * (SECS + 2)))

py_tap "$H/rrl.py" tcretry "$PORT" 127.0.0.1 www.example.com 192.0.2.1
check_dns "127.0.1.1 still gets answers over UDP" "-b 127.0.1.1 www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1"

# ---- the same /24 shares one limit; responses_per_second: 0 turns it off ---------------
# One worker, so that every source port lands on the same table (see the check above).

PORT=$(free_port)
write_config "$D/rrl1.yaml" "$PORT" "rrl:
  responses_per_second: $RATE
  exempt: []"
sed -i 's/workers: 2/workers: 1/' "$D/rrl1.yaml"
start_server "$D/rrl1.yaml"
flood 2 127.0.0.1:5000 127.0.0.2:10
read -r sent answered tc tc_empty other <<<"${F_127_0_0_2:-}"
check "127.0.0.2, in the flooding /24 (ipv4_prefix 24), is limited with it: $answered of $sent answered" \
    test "${sent:-0}" -gt 0 -a "${answered:-99}" -lt $((${sent:-0} / 2))

sed -i "s/responses_per_second: $RATE/responses_per_second: 0/" "$D/rrl1.yaml"
check_match "the config with responses_per_second: 0 reloads" "reload done$" "$(reload_server)"
dropped0=$(stat_of rrl_dropped) slipped0=$(stat_of rrl_slipped)
flood 2 127.0.0.1:3000
read -r sent answered tc tc_empty other <<<"${F_127_0_0_1:-}"
check "responses_per_second: 0 turns RRL off: $answered of $sent answered in full" \
    test "${sent:-0}" -gt 0 -a "${answered:-}" = "${sent:-}"
check_eq "... and nothing was counted as limited" "0 0" \
    "$(($(stat_of rrl_dropped) - dropped0)) $(($(stat_of rrl_slipped) - slipped0))"

# ---- the default config: loopback is exempt --------------------------------------------

PORT=$(free_port)
write_config "$D/default.yaml" "$PORT"
start_server "$D/default.yaml"
flood 2 127.0.0.1:3000
read -r sent answered tc tc_empty other <<<"${F_127_0_0_1:-}"
check "by default loopback is exempt: the flood is answered in full ($answered of $sent)" \
    test "${sent:-0}" -gt 0 -a "${answered:-}" = "${sent:-}"
check_eq "... and nothing was counted as limited" "0 0" "$(stat_of rrl_dropped) $(stat_of rrl_slipped)"

# ==== b. slow and greedy TCP clients ===================================================

IDLE=2 LIFETIME=3
PORT=$(free_port)
write_config "$D/tcp.yaml" "$PORT" "  tcp_idle_timeout: ${IDLE}s
  tcp_lifetime: ${LIFETIME}s"
start_server "$D/tcp.yaml"
py_tap "$H/loris.py" "$PORT" stall 300 $IDLE
py_tap "$H/loris.py" "$PORT" perclient 16
py_tap "$H/loris.py" "$PORT" lifetime $LIFETIME
check "the server is alive after the slow clients" alive

PORT=$(free_port)
write_config "$D/cap.yaml" "$PORT" "  tcp_idle_timeout: 10s
  tcp_max_clients: 100"
start_server "$D/cap.yaml"
py_tap "$H/loris.py" "$PORT" cap 300 100

# tcp_lifetime below its minimum of 1 s is refused with the place and the range.
sed 's/tcp_lifetime: .*/tcp_lifetime: 500ms/' "$D/tcp.yaml" >"$D/short.yaml"
out=$("$MERIDIAND" -c "$D/short.yaml" -t 2>&1)
check_match "tcp_lifetime: 500ms is refused by -t with file:line:column" \
    "short\.yaml:[0-9]+:[0-9]+: error: .*tcp_lifetime" "$out"

# ==== c. dropping root =================================================================

if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
    ok "# SKIP privilege drop: needs root, user nobody and group nogroup"
else
    P=$D/priv
    mkdir -p "$P"
    chmod 755 "$D" "$P"
    cp "$D/example.com.zone" "$P/example.com.zone"
    PORT=$(free_port)
    cat >"$P/priv.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 2
  user: nobody
  group: nogroup
  control: $P/ctl.sock
zones:
  example.com: example.com.zone
EOF
    chmod 644 "$P"/*
    start_server "$P/priv.yaml"
    check_eq "the control socket belongs to the server's user and group, mode 0660" \
        "660 nobody nogroup" "$(stat -c '%a %U %G' "$P/ctl.sock")"
    status=$(cat "/proc/$SERVER_PID/status")
    check_match "Uid: real, effective, saved and filesystem are all 65534" \
        "^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$" "$status"
    check_match "Gid: real, effective, saved and filesystem are all 65534" \
        "^Gid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$" "$status"
    check_match "supplementary groups: 65534 only" "^Groups:[[:space:]]*65534[[:space:]]*$" "$status"
    check_dns "the unprivileged server answers" "www.example.com A" \
        --answer "www.example.com. 60 IN A 192.0.2.1"
    echo 'new 60 IN A 192.0.2.77' >>"$P/example.com.zone"
    check_match "SIGHUP reload still works as nobody" "reload done$" "$(reload_server)"
    check_dns "the reloaded zone is served" "new.example.com A" \
        --answer "new.example.com. 60 IN A 192.0.2.77"

    # Zones are read as the server's user from the start, not as root until the first
    # reload: an $INCLUDE of a file only root may read fails now, as a reload would.
    stop_server
    printf 'secret 60 IN TXT "root only"\n' >"$P/secret.inc"
    chmod 600 "$P/secret.inc"
    cp "$P/example.com.zone" "$P/incl.zone"
    printf '$INCLUDE secret.inc\n' >>"$P/incl.zone"
    sed -e "s/example.com.zone/incl.zone/" -e "s/:$PORT/:$(free_port)/" \
        -e "s|$P/ctl.sock|$P/ctl2.sock|" "$P/priv.yaml" >"$P/incl.yaml"
    chmod 644 "$P/incl.zone" "$P/incl.yaml"
    out=$(timeout 10 "$MERIDIAND" -t -c "$P/incl.yaml" 2>&1)
    check "-t as root with user: nobody: a zone including a root-only file fails ($?)" \
        test $? -eq 1
    check_match "... because nobody may not read it" \
        "secret\.inc: error: cannot read the zone file: Permission denied" "$out"
    timeout 10 "$MERIDIAND" -c "$P/incl.yaml" >"$D/meridiand.incl.log" 2>&1
    rc=$?
    check "start-up with that zone fails too (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    chmod 644 "$P/secret.inc"
    check "once nobody may read it, -t passes" quietly timeout 10 "$MERIDIAND" -t -c "$P/incl.yaml"
    sed -e 's/user: nobody/user: no-such-user/' -e "s/:$PORT/:$(free_port)/" "$P/priv.yaml" \
        >"$P/nouser.yaml"
    timeout 10 "$MERIDIAND" -c "$P/nouser.yaml" >"$D/meridiand.nouser.log" 2>&1
    rc=$?
    check "start-up with user: no-such-user fails (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    check_match "... with a message naming the user" 'no user "no-such-user"' \
        "$(cat "$D/meridiand.nouser.log")"
fi

# ==== d. resource bounds ===============================================================

# fails_to_start NAME CONFIG: runs meridiand on CONFIG in the foreground, bounded; sets OUT
# to what it printed and succeeds when it exited non-zero (and did not time out).
fails_to_start()
{
    timeout 10 "$MERIDIAND" -c "$2" >"$D/meridiand.$1.log" 2>&1
    local rc=$?
    OUT=$(cat "$D/meridiand.$1.log")
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}

# zone_with N FILE: the example zone plus host1..hostN A records.
zone_with()
{
    { cat "$D/example.com.zone"; seq "$1" | awk '{ printf "host%d IN A 192.0.2.%d\n", $1, $1 % 250 + 1 }'; } >"$2"
}

B=$D/bounds
mkdir -p "$B"
PORT=$(free_port)
zone_with 60 "$B/big.zone"
cat >"$B/big.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  zone_max_records: 50
zones:
  example.com: big.zone
EOF
check "a zone of 64 records with zone_max_records: 50 fails to load" fails_to_start big "$B/big.yaml"
check_match "... with a message naming the limit" "big\.zone:[0-9]+: error: .*more than 50 records" "$OUT"

# At run time the same limit keeps the old zone serving.
zone_with 40 "$B/big.zone"
start_server "$B/big.yaml"
zone_with 60 "$B/big.zone"
check_match "a reload that makes the zone too big is refused" "reload done with errors" "$(reload_server)"
check_match "... naming the limit in the log" "more than 50 records" "$(cat "$SERVER_LOG")"
check_dns "... and the previous version keeps serving" "host40.example.com A" \
    --answer "host40.example.com. 3600 IN A 192.0.2.41"

# $INCLUDE chains: the zone file plus 7 nested includes (8 files) load; one more does not.
include_chain()
{
    local files=$1 dir=$2 i
    mkdir -p "$dir"
    cp "$D/example.com.zone" "$dir/zone"
    echo "\$INCLUDE inc1" >>"$dir/zone"
    for ((i = 1; i < files; i++)); do
        echo "deep$i IN A 192.0.2.$i" >"$dir/inc$i"
        [ $((i + 1)) -lt "$files" ] && echo "\$INCLUDE inc$((i + 1))" >>"$dir/inc$i"
    done
    cat >"$dir/conf.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
zones:
  example.com: zone
EOF
}
PORT=$(free_port)
include_chain 8 "$B/inc8"
start_server "$B/inc8/conf.yaml"
check_dns "an \$INCLUDE chain 8 files deep loads: the deepest record is served" "deep7.example.com A" \
    --answer "deep7.example.com. 3600 IN A 192.0.2.7"
include_chain 9 "$B/inc9"
check "an \$INCLUDE chain 9 files deep fails to load" fails_to_start inc9 "$B/inc9/conf.yaml"
check_match "... with \"nested deeper\" and the place" "inc7:2: error: .*nested deeper than 8 files" "$OUT"

# A CNAME chain of 20 links is cut after 8 are followed (9 CNAMEs); a loop likewise.
PORT=$(free_port)
cp "$D/example.com.zone" "$B/chain.zone"
{
    for ((i = 1; i <= 20; i++)); do echo "c$i IN CNAME c$((i + 1))"; done
    echo "c21 IN A 192.0.2.21"
    printf 'loop1 IN CNAME loop2\nloop2 IN CNAME loop1\n'
} >>"$B/chain.zone"
cat >"$B/chain.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
zones:
  example.com: chain.zone
EOF
start_server "$B/chain.yaml"
answer=$(dig_section answer c1.example.com A)
check_eq "a 20-link CNAME chain is answered with 9 CNAMEs, c1 to c9, in order" \
    "$(for i in $(seq 9); do echo "c$i.example.com. 3600 IN CNAME c$((i + 1)).example.com."; done)" \
    "$answer"
check_eq "... and NOERROR" NOERROR \
    "$(dig_raw +noall +comments c1.example.com A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
# At least one: a timeout or an empty answer must not pass as "at most 9".
loop=$(dig_section answer loop1.example.com A | grep -c ' IN CNAME ')
check "a CNAME loop is answered with 1 to 9 CNAMEs" test "$loop" -ge 1 -a "$loop" -le 9
diag "CNAME loop: $loop CNAMEs in the answer"
# A worker still spinning on the loop would not answer this.
check_dns "the server survived the chains: it still answers" "www.example.com A" --skip edns \
    --answer "www.example.com. 60 IN A 192.0.2.1"

done_testing
