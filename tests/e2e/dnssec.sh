#!/bin/bash
# dnssec.sh — signed zones checked by real validators: Unbound (stub zones to meridiand,
# a trust anchor from `meridiand --ds`) and delv.  Static names, a wildcard, a CNAME
# chain, a DNAME, NXDOMAIN, NODATA, an empty non-terminal, referrals to a signed and an
# unsigned child, and a zone whose anchor does not match its key (bogus: SERVFAIL).
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

for tool in unbound ldns-keygen ldns-key2ds delv; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is not installed"
        TAP_DONE=true
        exit 77
    fi
done

D=$TEST_TMP
PORT=$(free_port)
UPORT=$(free_port)
TP=$(free_port) # the health check's TCP port on each dynamic address
MPORT=$(free_port)
CTL=$top_builddir/meridianctl
cp "$E2E_DIR"/dnssec/*.zone "$D"/
mkdir -p "$D/keys"
chmod 700 "$D/keys"

# keygen [-k] ZONE: a P-256 key (a KSK with -k); prints its path without suffix.
keygen()
{
    (cd "$D/keys" && ldns-keygen -a ECDSAP256SHA256 "$@" | sed "s|^|$D/keys/|")
}

KSK=$(keygen -k example.com)
ZSK=$(keygen example.com)
NETKEY=$(keygen -k example.net) # a CSK
CHILD=$(keygen -k signed.example.com)
BOGUS=$(keygen -k bogus.net)
WRONG=$(keygen -k bogus.net) # never signs: its DS is bogus.net's anchor

# write_conf KEYS: the config, with KEYS as example.com's key list.
write_conf()
{
    cat >"$D/meridian.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 2
  control: $D/control.sock
  metrics: 127.0.0.1:$MPORT
geoip:
  databases: []
  nets:
    10.2.0.0/16: [east]
regions:
  west: { addresses: [127.0.0.101] }
  east: { addresses: [127.0.0.102] }
  up2: { addresses: [127.0.0.71, 127.0.0.72], check: tcp }
  alias: { addresses: [127.0.0.81], cname: www.example.com. }
  v4only: { addresses: [127.0.0.91] }
checks:
  tcp: { type: tcp, port: $TP, interval: 300ms, timeout: 200ms, fall: 1, rise: 1 }
services:
  web: { policy: failover, order: [up2] }
  cn: { policy: failover, order: [alias] }
  v4: { policy: failover, order: [v4only] }
  geo: { policy: geo, map: { default: [west] } }
zones:
  example.com:
    file: example.com.zone
    dnssec: {keys: [$1]}
  example.net:
    file: example.net.zone
    dnssec: {keys: [$NETKEY], denial: nsec}
  signed.example.com:
    file: signed.example.com.zone
    # Short-lived signatures: re-signed every 8 s while the test runs.
    dnssec: {keys: [$CHILD], signature_lifetime: 20s, signature_refresh: 12s}
  unsigned.example.com: unsigned.example.com.zone
  bogus.net:
    file: bogus.net.zone
    dnssec: {keys: [$BOGUS]}
EOF
}
write_conf "$KSK, $ZSK"

# The parent publishes the signed child's DS, as its operator would after --ds.
"$MERIDIAND" -c "$D/meridian.yaml" --ds signed.example.com >"$D/child.ds" 2>"$D/err"
check "--ds prints the child's DS" grep -Eq "^signed.example.com.*IN.DS.*13 2 " "$D/child.ds"
sed 's/^\$ORIGIN example.com./$ORIGIN example.net./' "$D/example.com.zone" >"$D/example.net.zone"
cat "$D/child.ds" >>"$D/example.com.zone"
"$MERIDIAND" -c "$D/meridian.yaml" --ds example.com >"$D/anchor.ds" 2>>"$D/err"
"$MERIDIAND" -c "$D/meridian.yaml" --ds example.net >"$D/net.ds" 2>>"$D/err"
check "--ds prints one DS, the KSK's" test "$(grep -c 'IN.DS' "$D/anchor.ds")" -eq 1
check "--ds for an unsigned zone fails" \
    bash -c "! '$MERIDIAND' -c '$D/meridian.yaml' --ds unsigned.example.com 2>/dev/null"
WRONG_DS=$(ldns-key2ds -n -2 "$WRONG.key" | tr -s '\t' ' ')

# Bad keys: each an error at the key's place in the config, and the zone does not start.
RSA=$(cd "$D/keys" && ldns-keygen -a RSASHA256 -b 1024 unsigned.example.com | sed "s|^|$D/keys/|")
OPEN=$(keygen unsigned.example.com)
mv "$OPEN.key" "$D/keys/open.key"
mv "$OPEN.private" "$D/keys/open.private"
chmod 644 "$D/keys/open.private"
printf 'zones:\n  unsigned.example.com:\n    file: unsigned.example.com.zone\n    dnssec:\n      keys: [%s]\n' \
    "$D/keys/absent, $RSA, $CHILD, $D/keys/open" >"$D/bad.yaml"
"$MERIDIAND" -t -c "$D/bad.yaml" >/dev/null 2>"$D/bad.err"
C2=$((15 + ${#D} + 13))
C3=$((C2 + ${#RSA} + 2))
C4=$((C3 + ${#CHILD} + 2))
check_eq "bad keys: one error each at file:line:col" \
    "bad.yaml:5:14: error: key file $D/keys/absent.key: No such file or directory
bad.yaml:5:$C2: error: $RSA.key: algorithm 8 is not supported
bad.yaml:5:$C3: error: $CHILD.key is a key of signed.example.com., not of this zone
bad.yaml:5:$C4: error: $D/keys/open.private may be read by any user" \
    "$(grep -o '^[^;]*: error: [^;(]*' "$D/bad.err" | sed 's|^.*/bad.yaml|bad.yaml|; s/ *$//')"

# listener ADDR: accepts TCP connections on ADDR:$TP until killed; its PID in LISTENER.
declare -A LISTENER
listener()
{
    python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    s.accept()[0].close()' "$1" "$TP" &
    LISTENER[$1]=$!
}
stop_listener()
{
    kill "${LISTENER[$1]}" 2>/dev/null
    wait "${LISTENER[$1]}" 2>/dev/null
}
listener 127.0.0.71
listener 127.0.0.72

start_server "$D/meridian.yaml"
serves()
{
    [ "$(dig_raw +short "$1" A | sort | tr '\n' ' ')" = "$2" ]
}
check "both dynamic addresses are up" wait_for serves dyn.example.com "127.0.0.71 127.0.0.72 "

cat >"$D/unbound.conf" <<EOF
server:
    interface: 127.0.0.1
    port: $UPORT
    username: ""
    chroot: ""
    directory: "$D"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "subnetcache validator iterator"
    send-client-subnet: 127.0.0.1
    max-client-subnet-ipv4: 24
    qname-minimisation: no
    aggressive-nsec: no
    trust-anchor: "$(tr -s '\t' ' ' <"$D/anchor.ds")"
    trust-anchor: "$WRONG_DS"
    trust-anchor: "$(tr -s '\t' ' ' <"$D/net.ds")"
stub-zone:
    name: "example.com"
    stub-addr: 127.0.0.1@$PORT
stub-zone:
    name: "example.net"
    stub-addr: 127.0.0.1@$PORT
stub-zone:
    name: "signed.example.com"
    stub-addr: 127.0.0.1@$PORT
stub-zone:
    name: "unsigned.example.com"
    stub-addr: 127.0.0.1@$PORT
stub-zone:
    name: "bogus.net"
    stub-addr: 127.0.0.1@$PORT
EOF
unbound -d -c "$D/unbound.conf" >"$D/unbound.log" 2>&1 &
UNBOUND_PID=$!
stop_unbound()
{
    kill "$UNBOUND_PID" 2>/dev/null
    wait "$UNBOUND_PID" 2>/dev/null
}
trap 'stop_unbound; stop_listener 127.0.0.71; stop_listener 127.0.0.72; cleanup' EXIT
unbound_up()
{
    dig +tries=1 +time=1 -p "$UPORT" @127.0.0.1 version.server CH TXT >/dev/null 2>&1
}
if ! wait_for unbound_up; then
    bail_out "unbound answers on 127.0.0.1:$UPORT" "$(tail -n 20 "$D/unbound.log")"
fi

# resolve NAME TYPE: Unbound's answer, with its header line and flags.
resolve()
{
    dig +dnssec +tries=1 +time=5 -p "$UPORT" @127.0.0.1 "$1" "$2" 2>&1
}

# validates DESC NAME TYPE STATUS [ANSWER-REGEX]: Unbound answers with STATUS and AD set,
# and, when given, a line matching the regex.
validates()
{
    local desc=$1 name=$2 type=$3 status=$4 want=${5:-} out
    out=$(resolve "$name" "$type")
    if grep -q "status: $status" <<<"$out" && grep -Eq 'flags:[a-z ]* ad[ ;]' <<<"$out" &&
        { [ -z "$want" ] || grep -Eq -- "$want" <<<"$out"; }; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "want status $status with ad${want:+ and /$want/}; got:" "$out" \
            "unbound log:" "$(tail -n 5 "$D/unbound.log")"
    fi
}

# insecure DESC NAME TYPE ANSWER-REGEX: NOERROR without AD: proved unsigned, not bogus.
insecure()
{
    local out
    out=$(resolve "$2" "$3")
    if grep -q "status: NOERROR" <<<"$out" && ! grep -Eq 'flags:[a-z ]* ad[ ;]' <<<"$out" &&
        grep -Eq -- "$4" <<<"$out"; then
        ok "$1"
    else
        not_ok "$1"
        diag "want NOERROR without ad; got:" "$out"
    fi
}

A='IN[[:space:]]+A[[:space:]]+'
# The same names under NSEC3 (example.com, the default) and NSEC (example.net).
for Z in example.com example.net; do
    [ $Z = example.com ] && how=NSEC3 || how=NSEC
    validates "$how: static A validates" www.$Z A NOERROR "${A}192.0.2.1"
    validates "$how: static AAAA validates" www.$Z AAAA NOERROR '2001:db8::1'
    validates "$how: apex DNSKEY validates" $Z DNSKEY NOERROR 'DNSKEY[[:space:]]+257 3 13'
    validates "$how: apex CDS validates" $Z CDS NOERROR 'CDS[[:space:]]+[0-9]+ 13 2'
    validates "$how: a wildcard answer validates" host.wild.$Z A NOERROR "${A}192.0.2.9"
    validates "$how: a wildcard NODATA validates" host.wild.$Z TXT NOERROR
    validates "$how: a CNAME chain validates" alias.$Z A NOERROR "${A}192.0.2.1"
    validates "$how: a DNAME validates" x.old.$Z A NOERROR "${A}192.0.2.7"
    validates "$how: NXDOMAIN validates" nothere.$Z A NXDOMAIN
    validates "$how: NXDOMAIN below a name validates" a.b.www.$Z A NXDOMAIN
    validates "$how: a wildcard NODATA two labels down validates" x.y.wild.$Z TXT NOERROR
    validates "$how: NODATA validates" www.$Z TXT NOERROR
    validates "$how: NODATA at an empty non-terminal validates" c.ent.$Z A NOERROR
    validates "$how: NXDOMAIN below an empty non-terminal validates" x.c.ent.$Z A NXDOMAIN
    validates "$how: a dynamic name validates" dyn.$Z A NOERROR "${A}127\.0\.0\.7[12]"
    validates "$how: a dynamic name without IPv6 proves it (NODATA)" dyn4.$Z AAAA NOERROR
    validates "$how: and answers A" dyn4.$Z A NOERROR "${A}127\.0\.0\.91"
    validates "$how: a dynamic name has no TXT (NODATA)" dyn4.$Z TXT NOERROR
done
check_match "NSEC3: the zone has RFC 9276's parameters" "NSEC3PARAM[[:space:]]+1 0 0 -" \
    "$(resolve example.com NSEC3PARAM)"
validates "a name in the signed child validates" www.signed.example.com A NOERROR "${A}192.0.2.21"
validates "NXDOMAIN in the signed child validates" nx.signed.example.com A NXDOMAIN
# Dynamic answers: the addresses that are up, signed when first asked for.
both='127\.0\.0\.7[12]'
validates "a dynamic A RRset validates" dyn.example.com A NOERROR "${A}$both"
validates "a dynamic wildcard validates" a1.dynwild.example.com A NOERROR "${A}$both"
validates "a DYNC CNAME validates, and the chain behind it" cdn.example.com A NOERROR "${A}192.0.2.1"
stop_listener 127.0.0.72
check "one address goes down" wait_for serves dyn.example.com "127.0.0.71 "
validates "the region's smaller RRset validates" a2.dynwild.example.com A NOERROR "${A}127\.0\.0\.71"
listener 127.0.0.72
check "the address comes back" wait_for serves dyn.example.com "127.0.0.71 127.0.0.72 "
validates "the whole RRset validates again" a3.dynwild.example.com A NOERROR "${A}$both"

# EDNS Client Subnet through Unbound's subnetcache: each network gets its own region's
# signed answer.
ecs_validates()
{
    local out
    out=$(dig +dnssec +tries=1 +time=5 -p "$UPORT" @127.0.0.1 +subnet="$2" geo.example.com A 2>&1)
    if grep -Eq 'flags:[a-z ]* ad[ ;]' <<<"$out" && grep -Eq -- "${A}$3" <<<"$out"; then
        ok "$1"
    else
        not_ok "$1"
        diag "want ad and $3; got:" "$out"
    fi
}
ecs_validates "ECS 10.2.0.0/24 through Unbound: east's address validates" 10.2.0.0/24 '127\.0\.0\.102'
ecs_validates "ECS 10.1.0.0/24 through Unbound: west's address validates" 10.1.0.0/24 '127\.0\.0\.101'

insecure "the unsigned child is proved insecure" www.unsigned.example.com A "${A}192.0.2.31"

out=$(resolve www.bogus.net A)
check_match "a zone whose key does not match the anchor is bogus: SERVFAIL" "status: SERVFAIL" "$out"

# delv, a second validator, straight at meridiand with the same anchor.
{
    echo "trust-anchors {"
    tr -s '\t' ' ' <"$D/anchor.ds" | awk '{print $1, "static-ds", $5, $6, $7, "\"" $8 "\";"}'
    echo "};"
} >"$D/anchors.conf"
delv_says()
{
    local out
    out=$(delv -a "$D/anchors.conf" +root=example.com -p "$PORT" @127.0.0.1 "$2" "$3" 2>&1)
    if grep -q "; $4" <<<"$out"; then
        ok "$1"
    else
        not_ok "$1"
        diag "want '; $4'; got:" "$out"
    fi
}
delv_says "delv: a static A is fully validated" www.example.com A "fully validated"
delv_says "delv: a wildcard answer is fully validated" h.wild.example.com A "fully validated"
delv_says "delv: NXDOMAIN is validated" nothere.example.com A "negative response, fully validated"

# Refresh under load: delv validates the child's name again and again, from the root of
# trust, while its signatures are replaced twice; no answer may fail.
refreshes()
{
    log_count 'zone signed.example.com.: signatures refreshed'
}
first_exp=$(dig_raw +dnssec www.signed.example.com A | awk '$4 == "RRSIG" {print $9; exit}')
start=$(refreshes)
asked=0
failed=0
deadline=$(($(now_ms) + 60000))
while [ "$(refreshes)" -lt $((start + 2)) ] && [ "$(now_ms)" -lt "$deadline" ]; do
    out=$(delv -a "$D/anchors.conf" +root=example.com -p "$PORT" @127.0.0.1 www.signed.example.com A 2>&1)
    asked=$((asked + 1))
    grep -q "; fully validated" <<<"$out" || { failed=$((failed + 1)); last_bad=$out; }
done
check "signatures were refreshed twice within 60 s" test "$(refreshes)" -ge $((start + 2))
check_eq "none of $asked validations during the refreshes failed" 0 "$failed"
[ "$failed" -eq 0 ] || diag "the last failure:" "${last_bad:-}"
new_exp=$(dig_raw +dnssec www.signed.example.com A | awk '$4 == "RRSIG" {print $9; exit}')
check "the refreshed RRSIG expires later ($first_exp -> $new_exp)" test "$new_exp" -gt "$first_exp"

# Operators: DS, status and metrics from the running server.
check_eq "meridianctl ds prints what meridiand --ds printed" "$(cat "$D/anchor.ds")" \
    "$("$CTL" -s "$D/control.sock" ds example.com)"
check "meridianctl ds fails for an unsigned zone" \
    bash -c "! '$CTL' -s '$D/control.sock' ds unsigned.example.com >/dev/null 2>&1"
status=$("$CTL" -s "$D/control.sock" status)
KTAG=$(awk '{print $5}' "$D/anchor.ds" | head -n 1)
check_match "status: example.com is signed, with its expiry" \
    "example.com.: signed, [0-9]+ signatures, next refresh 20[0-9-]+T.*earliest expiry 20" "$status"
check_match "status: the KSK by its tag and role" "key $KTAG: algorithm 13, KSK, active" "$status"
check_match "status: the ZSK" "key [0-9]+: algorithm 13, ZSK, active" "$status"
check_match "status: the unsigned zone says so" "unsigned.example.com.: unsigned" "$status"
check "status --json parses, with the zone's keys" bash -c "'$CTL' -s '$D/control.sock' --json status |
    python3 -c 'import json, sys; z = {x[\"name\"]: x for x in json.load(sys.stdin)[\"zones\"]}
assert len(z[\"example.com.\"][\"keys\"]) == 2 and not z[\"unsigned.example.com.\"][\"signed\"]'"
metrics=$(curl -s "http://127.0.0.1:$MPORT/metrics")
metric()
{
    awk -v m="$1" '$1 == m {print $2}' <<<"$metrics"
}
exp=$(metric 'meridian_dnssec_earliest_expiry_timestamp_seconds{zone="example.com."}')
check "metrics: the earliest expiry lies ahead ($exp)" test "${exp:-0}" -gt "$(date +%s)"
check "metrics: dynamic signatures were made" test "$(metric meridian_dnssec_dynamic_signatures_total)" -gt 0
for i in 1 2 3; do dig_raw +dnssec dyn.example.com A >/dev/null; done
metrics=$(curl -s "http://127.0.0.1:$MPORT/metrics")
check "metrics: the signature cache was hit" test "$(metric meridian_dnssec_signature_cache_hits_total)" -gt 0

# A reload after an edit re-signs only what changed: an untouched RRset keeps its RRSIG
# (ECDSA signatures differ each time they are made), the new name is signed.
www_sig()
{
    dig_raw +short +dnssec www.example.com A | grep '^A 13'
}
sig_before=$(www_sig)
echo 'added 300 IN A 192.0.2.99' >>"$D/example.com.zone"
line=$(reload_server)
check_match "edit and reload: reload done" "reload done$" "$line"
check_match "edit and reload: signatures were kept" \
    "zone example.com.: signed with 2 key\(s\), [0-9]+ signatures made, [1-9][0-9]* kept" \
    "$(cat "$SERVER_LOG")"
check_eq "edit and reload: an untouched RRset keeps its RRSIG" "$sig_before" "$(www_sig)"
validates "edit and reload: the new name validates" added.example.com A NOERROR "${A}192.0.2.99"
validates "edit and reload: the changed chain proves NXDOMAIN" after-edit.example.com A NXDOMAIN
validates "edit and reload: a kept signature validates" www.example.com TXT NOERROR

# A ZSK rollover by pre-publication (RFC 6781 §4.1.1.1), each step a config change and a
# reload, while Unbound keeps validating: publish the new key, sign with it while the old
# one is retired, then drop the old one.  Each step asks for a fresh name (Unbound caches).
ZSK2=$(keygen example.com)
TAG1=$((10#${ZSK##*+}))
TAG2=$((10#${ZSK2##*+}))
# signer_tag NAME: the key tag of the RRSIG over NAME's A record, from meridiand.
signer_tag()
{
    dig_raw +dnssec "$1" A | awk '$4 == "RRSIG" && $5 == "A" {print $11; exit}'
}
# dnskeys [unbound]: how many DNSKEYs meridiand (or Unbound, which caches them for the SOA's
# 2 s TTL here) answers for example.com.
dnskeys()
{
    if [ $# -gt 0 ]; then
        resolve example.com DNSKEY
    else
        dig_raw example.com DNSKEY
    fi | grep -c '^example\.com\..*IN[[:space:]]*DNSKEY'
}
unbound_sees()
{
    [ "$(dnskeys unbound)" = "$1" ]
}
step=0
roll()
{
    local desc=$1 keys=$2 want_keys=$3 want_tag=$4 line
    step=$((step + 1))
    write_conf "$keys"
    line=$(reload_server)
    check_match "rollover $step ($desc): reload done" "reload done$" "$line"
    check_eq "rollover $step: DNSKEY holds $want_keys keys" "$want_keys" "$(dnskeys)"
    # RFC 6781 §4.1.1.1: the next step waits until resolvers have the new DNSKEY set.
    check "rollover $step: Unbound's DNSKEY set catches up" wait_for unbound_sees "$want_keys"
    check_eq "rollover $step: answers are signed by key $want_tag" "$want_tag" \
        "$(signer_tag roll$step.wild.example.com)"
    validates "rollover $step: Unbound validates a fresh name" roll$step.wild.example.com A \
        NOERROR "${A}192.0.2.9"
}
validates "rollover 0: a name validates before" roll0.wild.example.com A NOERROR
roll "publish the new ZSK" "$KSK, $ZSK, {key: $ZSK2, state: publish}" 3 "$TAG1"
roll "sign with it, retire the old" "$KSK, {key: $ZSK, state: retire}, $ZSK2" 3 "$TAG2"
roll "remove the old" "$KSK, $ZSK2" 2 "$TAG2"

# A reload with a missing key keeps the signed zone serving as it was.
write_conf "$KSK, $D/keys/gone"
line=$(reload_server)
check_match "a reload with a missing key fails for the zone" "reload done with errors" "$line"
check_eq "the zone keeps its keys" 2 "$(dnskeys)"
validates "and keeps validating" after-bad-reload.wild.example.com A NOERROR "${A}192.0.2.9"

# DO=0 answers carry no DNSSEC records; DO=1 answers carry them.
out=$(dig_raw www.example.com A)
check "DO=0: no RRSIG in the answer" bash -c "! grep -q RRSIG <<<'$out'"
out=$(dig_raw +dnssec www.example.com A)
check_match "DO=1: the A comes with its RRSIG" "RRSIG[[:space:]]+A 13 3 300" "$out"
# An NSEC3 NXDOMAIN (SOA, three NSEC3, four RRSIGs) does not fit in 512 bytes: TC.
out=$(dig_raw +dnssec +bufsize=512 +ignore nothere.example.com A)
check_match "DO=1: a denial too big for UDP sets TC" "flags: qr aa tc;|flags: qr tc aa;" "$out"
out=$(dig_raw +dnssec +tcp nothere.example.com A)
check_match "DO=1: over TCP the whole denial comes" "AUTHORITY: 8," "$out"

done_testing
