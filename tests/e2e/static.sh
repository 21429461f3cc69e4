#!/bin/bash
# static.sh — every authoritative answer from static zone data, over UDP on IPv4, with
# each section compared exactly.  SPDX-License-Identifier: MIT
#
# The zones live in tests/e2e/static/; they are copied next to a generated config so
# that the config's relative zone paths are exercised too.

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
cp "$E2E_DIR"/static/* "$TEST_TMP"/
cat >"$TEST_TMP/meridian.yaml" <<EOF
server:
  listen: ["127.0.0.1:$PORT", "[::1]:$PORT"]
  workers: 2
  udp_payload: 1232
zones:
  example.com: example.com.zone
  example.net: example.net.zone
EOF
start_server "$TEST_TMP/meridian.yaml"

EDNS="version: 0, flags:; udp: 1232"
# Negative answers carry the SOA at min(SOA TTL, MINIMUM) (RFC 2308 §3): 300 here...
SOA_NEG="example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2026010101 7200 3600 1209600 300"
# ...and 60 in example.net., whose SOA TTL (60) is below its MINIMUM (600).
SOA_NET_NEG="example.net. 60 IN SOA ns1.example.com. hostmaster.example.com. 7 7200 3600 1209600 600"

# ---- positive answers -------------------------------------------------------------------

check_dns "exact match is authoritative" "www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1" --edns "$EDNS"
check_dns "the qname's case is preserved in the answer owner" "WwW.ExAmPlE.cOm A" \
    --answer "WwW.ExAmPlE.cOm. 60 IN A 192.0.2.1"
check_dns "apex SOA: answer only, no authority" "example.com SOA" \
    --answer "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026010101 7200 3600 1209600 300"
check_dns "apex NS: addresses of in-zone name servers in additional" "example.com NS" \
    --answer "example.com. 3600 IN NS ns1.example.com." \
    --answer "example.com. 3600 IN NS ns2.example.com." \
    --additional "ns1.example.com. 3600 IN A 192.0.2.53" \
    --additional "ns2.example.com. 3600 IN A 198.51.100.53" \
    --additional "ns2.example.com. 3600 IN AAAA 2001:db8::53"
check_dns "MX: in-zone exchange addresses in additional, out-of-zone ones not" "example.com MX" \
    --answer "example.com. 3600 IN MX 10 mail.example.com." \
    --answer "example.com. 3600 IN MX 20 mx.example.org." \
    --additional "mail.example.com. 3600 IN A 192.0.2.25" \
    --additional "mail.example.com. 3600 IN AAAA 2001:db8::25"
check_dns "SRV: target address in additional" "_sip._udp.example.com SRV" \
    --answer "_sip._udp.example.com. 3600 IN SRV 10 60 5060 sip.example.com." \
    --additional "sip.example.com. 3600 IN A 192.0.2.60"

# ---- negative answers -------------------------------------------------------------------

check_dns "NXDOMAIN: SOA in authority at the RFC 2308 TTL (MINIMUM < SOA TTL)" \
    "nx.example.com A" --rcode NXDOMAIN --authority "$SOA_NEG"
check_dns "NXDOMAIN: SOA in authority at the RFC 2308 TTL (SOA TTL < MINIMUM)" \
    "nx.example.net A" --rcode NXDOMAIN --authority "$SOA_NET_NEG"
check_dns "NODATA: NOERROR, empty answer, SOA in authority" "www.example.com TXT" \
    --authority "$SOA_NEG"
check_dns "an empty non-terminal is NODATA, not NXDOMAIN" "ent.example.com A" \
    --authority "$SOA_NEG"
check_dns "a deeper empty non-terminal is NODATA too" "b.ent.example.com A" \
    --authority "$SOA_NEG"
check_dns "below an empty non-terminal is NXDOMAIN" "x.ent.example.com A" \
    --rcode NXDOMAIN --authority "$SOA_NEG"

# ---- CNAME --------------------------------------------------------------------------------

check_dns "an in-zone CNAME chain is followed to the data" "alias2.example.com A" --ordered \
    --answer "alias2.example.com. 3600 IN CNAME alias.example.com." \
    --answer "alias.example.com. 3600 IN CNAME www.example.com." \
    --answer "www.example.com. 60 IN A 192.0.2.1"
check_dns "a CNAME query returns the CNAME itself, not its target" \
    "cname.types.example.com CNAME" \
    --answer "cname.types.example.com. 3600 IN CNAME a.types.example.com."
check_dns "a CNAME to an out-of-zone target is not followed" "outside.example.com A" \
    --answer "outside.example.com. 3600 IN CNAME www.example.org."

# A loop ends where a name repeats: each CNAME once, NOERROR.
check_dns "a CNAME loop of two: each CNAME once" "loop1.example.com A" --ordered \
    --answer "loop1.example.com. 3600 IN CNAME loop2.example.com." \
    --answer "loop2.example.com. 3600 IN CNAME loop1.example.com."
check_dns "a CNAME loop of three, asked at its second name: each CNAME once" \
    "c2.example.com A" --ordered \
    --answer "c2.example.com. 3600 IN CNAME c3.example.com." \
    --answer "c3.example.com. 3600 IN CNAME c1.example.com." \
    --answer "c1.example.com. 3600 IN CNAME c2.example.com."

# ---- wildcards (RFC 4592) ----------------------------------------------------------------

check_dns "wildcard synthesis: owner is the qname" "x.wild.example.com A" \
    --answer "x.wild.example.com. 3600 IN A 192.0.2.99"
check_dns "wildcard synthesis over two labels keeps the qname's case" "X.Y.wild.example.com A" \
    --answer "X.Y.wild.example.com. 3600 IN A 192.0.2.99"
check_dns "wildcard NODATA: the wildcard has no TXT" "x.wild.example.com TXT" \
    --authority "$SOA_NEG"
check_dns "the wildcard does not apply to an existing name" "host.wild.example.com A" \
    --authority "$SOA_NEG"
check_dns "an existing name answers its own data" "host.wild.example.com TXT" \
    --answer 'host.wild.example.com. 3600 IN TXT "not from the wildcard"'
check_dns "below an existing name the wildcard does not apply (closest encloser)" \
    "a.host.wild.example.com A" --rcode NXDOMAIN --authority "$SOA_NEG"
check_dns "the wildcard's parent is an empty non-terminal: NODATA" "wild.example.com A" \
    --authority "$SOA_NEG"
check_dns "a wildcard CNAME is synthesised at the qname and followed" "x.wc.example.com A" \
    --ordered \
    --answer "x.wc.example.com. 3600 IN CNAME www.example.com." \
    --answer "www.example.com. 60 IN A 192.0.2.1"

# ---- DNAME (RFC 6672) ----------------------------------------------------------------------

check_dns "DNAME: the DNAME, a CNAME at the DNAME's TTL, then the target's data" \
    "www.old.example.com A" --ordered \
    --answer "old.example.com. 300 IN DNAME new.example.com." \
    --answer "www.old.example.com. 300 IN CNAME www.new.example.com." \
    --answer "www.new.example.com. 3600 IN A 192.0.2.44"
check_dns "DNAME to a missing target: NXDOMAIN after the substitution" "x.y.old.example.com A" \
    --ordered --rcode NXDOMAIN \
    --answer "old.example.com. 300 IN DNAME new.example.com." \
    --answer "x.y.old.example.com. 300 IN CNAME x.y.new.example.com." \
    --authority "$SOA_NEG"
check_dns "DNAME, asked for the CNAME: the synthesised CNAME answers, not followed" \
    "www.old.example.com CNAME" --ordered \
    --answer "old.example.com. 300 IN DNAME new.example.com." \
    --answer "www.old.example.com. 300 IN CNAME www.new.example.com."
check_dns "a DNAME onto itself: the DNAME and its CNAME once" "x.self.example.com A" --ordered \
    --answer "self.example.com. 300 IN DNAME self.example.com." \
    --answer "x.self.example.com. 300 IN CNAME x.self.example.com."
check_dns "the DNAME owner itself is not renamed" "old.example.com A" --authority "$SOA_NEG"

# ---- delegations ---------------------------------------------------------------------------

REFERRAL=(--flags qr
    --authority "sub.example.com. 3600 IN NS ns.sub.example.com."
    --authority "sub.example.com. 3600 IN NS ns.example.org."
    --additional "ns.sub.example.com. 3600 IN A 192.0.2.210"
    --additional "ns.sub.example.com. 3600 IN AAAA 2001:db8::210")
check_dns "below a delegation: referral, AA clear, NS in authority, glue" \
    "host.sub.example.com A" "${REFERRAL[@]}"
check_dns "the delegation point itself is a referral" "sub.example.com A" "${REFERRAL[@]}"
check_dns "NS at the delegation point is a referral, not an answer" \
    "sub.example.com NS" "${REFERRAL[@]}"
check_dns "glue is not authoritative data: its name gets the referral" "ns.sub.example.com A" \
    "${REFERRAL[@]}"
check_dns "DS below the delegation point is a referral" "x.sub.example.com DS" \
    "${REFERRAL[@]}"
# RFC 1035 §4.1.1: AA speaks for the answer's first owner, our CNAME; the referral
# follows it (RFC 1034 §4.3.2 step 3b).
CNAME_REFERRAL=(--authority "sub.example.com. 3600 IN NS ns.sub.example.com."
    --authority "sub.example.com. 3600 IN NS ns.example.org."
    --additional "ns.sub.example.com. 3600 IN A 192.0.2.210"
    --additional "ns.sub.example.com. 3600 IN AAAA 2001:db8::210")
check_dns "a CNAME into a delegation: AA set, the CNAME, then the referral" \
    "cname-deleg.example.com A" "${CNAME_REFERRAL[@]}" \
    --answer "cname-deleg.example.com. 3600 IN CNAME host.sub.example.com."
# RFC 4343 §4.1: names are copied with the zone's case, whatever case the question has.
check_dns "names in rdata and glue keep the zone's case, the qname keeps its own" \
    "cnaME-dEleG.EXAMple.coM A" "${CNAME_REFERRAL[@]}" \
    --answer "cnaME-dEleG.EXAMple.coM. 3600 IN CNAME host.sub.example.com."
check_dns "a mixed-case CNAME target comes back as the zone writes it, and owns the data" \
    "UPPER.EXAMPLE.COM A" --ordered \
    --answer "UPPER.EXAMPLE.COM. 3600 IN CNAME WwW.Example.COM." \
    --answer "WwW.Example.COM. 60 IN A 192.0.2.1"
check_dns "DS at the delegation point is answered authoritatively (parent side)" \
    "sub.example.com DS" \
    --answer "sub.example.com. 3600 IN DS 60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4 469DA50A"

# ---- ANY (RFC 8482) ------------------------------------------------------------------------

# Over UDP one RRset stands for all of them (which one is the server's choice); over TCP
# every RRset comes back.
check_any_udp()
{
    local name=$1 udp tcp key whole
    udp=$(dig_section answer "$name" ANY | sort)
    tcp=$(dig_section answer +tcp "$name" ANY | sort)
    key=$(printf '%s\n' "$udp" | awk 'NF { print $1, $3, $4 }' | sort -u)
    whole=$(printf '%s\n' "$tcp" | awk -v k="$key" '($1 " " $3 " " $4) == k')
    if [ -n "$udp" ] && [ "$(printf '%s\n' "$key" | wc -l)" -eq 1 ] && [ "$udp" = "$whole" ]; then
        ok "ANY over UDP returns exactly one whole RRset ($name: $key)"
    else
        not_ok "ANY over UDP returns exactly one whole RRset ($name)"
        diag "UDP answer:" "$udp" "TCP answer:" "$tcp"
    fi
}
check_any_udp www.example.com
check_any_udp example.com
check_dns "ANY over TCP returns every RRset" "+tcp www.example.com ANY" \
    --answer "www.example.com. 60 IN A 192.0.2.1" \
    --answer "www.example.com. 60 IN AAAA 2001:db8::1"

# RFC 1034 §4.3.2 step 3a: ANY matches a CNAME, so the CNAME comes back alone and its
# chain is not followed: no NXDOMAIN for a missing target, no TC for a big one, no
# referral for a delegated one.
check_dns "ANY at a CNAME to a missing name: NOERROR, the CNAME alone" "cname-nx.example.com ANY" \
    --answer "cname-nx.example.com. 3600 IN CNAME missing.example.com."
check_dns "ANY at a CNAME to a big RRset: the CNAME alone, no TC" \
    "+noedns cname-big.example.com ANY" --edns none \
    --answer "cname-big.example.com. 3600 IN CNAME big.example.com."
check_dns "ANY at a CNAME into a delegation: the CNAME alone, no referral" \
    "cname-deleg.example.com ANY" \
    --answer "cname-deleg.example.com. 3600 IN CNAME host.sub.example.com."
check_dns "ANY at a CNAME over TCP: the CNAME alone too" "+tcp cname-nx.example.com ANY" \
    --answer "cname-nx.example.com. 3600 IN CNAME missing.example.com."

# ---- what is refused or not implemented ----------------------------------------------------

check_dns "a name outside every zone is REFUSED, AA clear" "www.example.org A" \
    --rcode REFUSED --flags qr --edns "$EDNS"
check_dns "the parent of a served zone is REFUSED" "com SOA" --rcode REFUSED --flags qr
check_dns "class CH is REFUSED" "-c CH version.bind TXT" --rcode REFUSED --flags qr
check_dns "AXFR is REFUSED" "example.com AXFR" --rcode REFUSED --flags qr
check_dns "opcode NOTIFY is NOTIMP" "+opcode=notify example.com SOA" \
    --rcode NOTIMP --flags qr --skip edns
check_dns "opcode STATUS is NOTIMP" "+opcode=status example.com SOA" \
    --rcode NOTIMP --flags qr --skip edns
check_dns "a NOTIMP reply to an EDNS query carries an OPT record (RFC 6891 §7)" \
    "+opcode=notify example.com SOA" --rcode NOTIMP --flags qr --edns "$EDNS"

# ---- EDNS (RFC 6891) -----------------------------------------------------------------------

check_dns "EDNS: OPT answers with our 1232 when the client offers 4096" \
    "+bufsize=4096 www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1" --edns "$EDNS"
check_dns "EDNS: the DO bit is echoed (RFC 3225)" "+dnssec www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1" --edns "version: 0, flags: do; udp: 1232"
check_dns "EDNS version 1 gets BADVERS with a version 0 OPT" "+edns=1 +noednsneg www.example.com A" \
    --rcode BADVERS --flags qr --edns "$EDNS"
check_dns "CD is cleared in an authoritative answer (RFC 4035 §3.1.6)" "+cd www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1"
check_dns "no OPT in the reply when the query has none" "+noedns www.example.com A" \
    --answer "www.example.com. 60 IN A 192.0.2.1" --edns none

# ---- truncation ----------------------------------------------------------------------------

# big.example.com has six 250-byte TXT records: more than 1232 bytes in all.
big=()
for c in a b c d e f; do
    big+=(--answer "big.example.com. 3600 IN TXT \"$(printf '%*s' 250 '' | tr ' ' "$c")\"")
done
check_dns "without EDNS a large RRset sets TC and leaves the answer empty" \
    "+ignore +noedns big.example.com TXT" --flags "qr aa tc" --edns none
check_dns "with EDNS 4096 the reply is still capped at 1232: TC" \
    "+ignore +bufsize=4096 big.example.com TXT" --flags "qr aa tc" --edns "$EDNS"
check_dns "over TCP the whole RRset comes back" "+tcp big.example.com TXT" "${big[@]}"

# ---- every common type, $INCLUDE, $ORIGIN, relative names ------------------------------------

T=types.example.com
check_dns "DNSKEY" "example.com DNSKEY" \
    --answer "example.com. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+ KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
check_dns "A from an \$INCLUDEd file with its own origin" "a.$T A" \
    --answer "a.$T. 3600 IN A 192.0.2.10"
check_dns "AAAA" "aaaa.$T AAAA" --answer "aaaa.$T. 3600 IN AAAA 2001:db8::10"
check_dns "CNAME with a relative target, followed" "cname.$T A" --ordered \
    --answer "cname.$T. 3600 IN CNAME a.$T." --answer "a.$T. 3600 IN A 192.0.2.10"
check_dns "MX with a relative exchange" "mx.$T MX" \
    --answer "mx.$T. 3600 IN MX 10 a.$T." --additional "a.$T. 3600 IN A 192.0.2.10"
check_dns "TXT with two strings" "txt.$T TXT" \
    --answer "txt.$T. 3600 IN TXT \"hello world\" \"second string\""
check_dns "SRV" "srv.$T SRV" \
    --answer "srv.$T. 3600 IN SRV 0 5 443 a.$T." --additional "a.$T. 3600 IN A 192.0.2.10"
check_dns "CAA" "caa.$T CAA" --answer "caa.$T. 3600 IN CAA 0 issue \"letsencrypt.org\""
check_dns "NAPTR" "naptr.$T NAPTR" \
    --answer "naptr.$T. 3600 IN NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."
check_dns "SSHFP" "sshfp.$T SSHFP" \
    --answer "sshfp.$T. 3600 IN SSHFP 4 2 9A2D4C6E8F0B1D3F5A7C9E1B3D5F7A9C2E4F6A8B0C1D2E3F4A5B6C7D 8E9F0A1B"
check_dns "TLSA" "_443._tcp.$T TLSA" \
    --answer "_443._tcp.$T. 3600 IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6"
check_dns "HTTPS" "https.$T HTTPS" \
    --answer "https.$T. 3600 IN HTTPS 1 . alpn=\"h2,h3\" port=8443"
check_dns "SVCB" "svcb.$T SVCB" --answer "svcb.$T. 3600 IN SVCB 1 svc.example.org. port=8053"
check_dns "an unknown type in RFC 3597 syntax" "unknown.$T TYPE65534" \
    --answer "unknown.$T. 3600 IN TYPE65534 \\# 4 0A000001"
check_dns "PTR under an \$ORIGIN set inside the included file" "1.arpa.$T PTR" \
    --answer "1.arpa.$T. 3600 IN PTR a.$T."
check_dns "after \$INCLUDE the including file's origin is back" "after.example.com A" \
    --answer "after.example.com. 3600 IN A 192.0.2.77"

check "meridiand is still running" alive
stop_server
status=$?
check "SIGTERM stops meridiand with status 0" test "$status" -eq 0
done_testing
