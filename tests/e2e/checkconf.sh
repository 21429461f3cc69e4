#!/bin/bash
# checkconf.sh — meridiand -t: a summary and exit 0 for a good config, every error as
# file:line[:column] and exit 1 for a bad one; --help and -V.  SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

D=$TEST_TMP

# run_check CONFIG: meridiand -t, with its exit status in RC and its streams in OUT, ERR.
# The timeout only turns a hang into a failure (status 124).
run_check()
{
    timeout 60 "$MERIDIAND" -t -c "$1" >"$D/out" 2>"$D/err"
    RC=$?
    OUT=$(cat "$D/out")
    ERR=$(cat "$D/err")
}

# zone FILE ORIGIN [LINES...]: a zone with the SOA on line 3 and the NS on line 4, so the
# first extra line is line 5.
zone()
{
    local file=$D/$1 origin=$2
    shift 2
    {
        printf "\$ORIGIN %s.\n\$TTL 3600\n" "$origin"
        printf '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n'
        printf '@ IN NS ns1\n'
        printf '%s\n' "$@"
    } >"$file"
}

# config FILE ZONE-LINES...: a valid server section and the given zones.
config()
{
    local file=$D/$1
    shift
    {
        printf 'server:\n  listen: ["127.0.0.1:5300"]\nzones:\n'
        printf '  %s\n' "$@"
    } >"$file"
}

# errors_are "description" EXPECTED-REGEX...: exit 1, and stderr's error lines are exactly
# one per regex, in order.
errors_are()
{
    local desc=$1 got want
    shift
    got=$(printf '%s\n' "$ERR" | grep ': error: ')
    want=$(printf '%s\n' "$@")
    if [ "$RC" -eq 1 ] && [ "$(printf '%s\n' "$got" | wc -l)" -eq $# ] &&
        paste -d '\n' <(printf '%s\n' "$want") <(printf '%s\n' "$got") |
        awk 'NR % 2 { re = $0; next } $0 !~ re { bad = 1 } END { exit bad }'; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "exit status $RC (want 1); expected $# error line(s) matching:" "$want" \
            "stderr:" "$ERR"
    fi
}

# A literal path inside a regex.
re()
{
    printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'
}

# ---- a good config --------------------------------------------------------------------

zone example.com.zone example.com "ns1 IN A 192.0.2.53" "www IN A 192.0.2.1"
zone example.net.zone example.net "ns1 IN A 198.51.100.53"
config good.yaml "example.com: example.com.zone" "example.net: example.net.zone"
run_check "$D/good.yaml"
check "a good config: exit 0" test "$RC" -eq 0
check_match "a good config: a summary line" \
    "^$(re "$D/good.yaml"): configuration and 2 zone\(s\) OK$" "$OUT"
check_match "a good config: what each zone holds" \
    "^zone example\.com\.: 4 records, [0-9]+ names, serial 1, from $(re "$D/example.com.zone")$" \
    "$OUT"
check_eq "a good config: nothing on stderr" "" "$ERR"

# ---- YAML errors: file:line:column ---------------------------------------------------------

printf 'server:\n  listen: ["127.0.0.1:5300"]\n  bogus: 1\nzones:\n  example.com: example.com.zone\n' \
    >"$D/unknown.yaml"
run_check "$D/unknown.yaml"
errors_are "an unknown key: file:line:column and what is allowed instead" \
    "^$(re "$D/unknown.yaml"):3:3: error: unknown key \"bogus\".*expected one of: listen"

printf 'server:\n  listen: ["127.0.0.1:5300", "300.1.1.1:53"]\nzones:\n  example.com: example.com.zone\n' \
    >"$D/listen.yaml"
run_check "$D/listen.yaml"
errors_are "a bad listen address: file:line:column of that address" \
    "^$(re "$D/listen.yaml"):2:30: error: .*300\.1\.1\.1:53"

printf 'server:\n  listen: ["127.0.0.1:5300"]\n  workers: lots\nzones:\n  example.com: example.com.zone\n' \
    >"$D/type.yaml"
run_check "$D/type.yaml"
errors_are "a value of the wrong type: file:line:column and an example" \
    "^$(re "$D/type.yaml"):3:12: error: .*workers.*e\.g\."

printf 'server:\n  listen: ["127.0.0.1:5300"]\n  tcp_max_clients: [1]\n  tcp_idle_timeout: forever\nzones:\n  example.com: example.com.zone\n' \
    >"$D/two.yaml"
run_check "$D/two.yaml"
errors_are "two YAML errors: both reported, one line each" \
    "^$(re "$D/two.yaml"):3:20: error: .*tcp_max_clients" \
    "^$(re "$D/two.yaml"):4:21: error: .*tcp_idle_timeout"
check_match "two YAML errors: the count" "^$(re "$D/two.yaml"): 2 error\(s\)$" "$ERR"
check_eq "errors: nothing on stdout" "" "$OUT"

printf 'server:\n  listen: ["127.0.0.1:5300"\nzones: {\n' >"$D/syntax.yaml"
run_check "$D/syntax.yaml"
errors_are "broken YAML syntax: file:line:column" "^$(re "$D/syntax.yaml"):[0-9]+:[0-9]+: error: "

# 100,000 levels of nesting: refused at the 65th, before libyaml spends long on the rest
# (run_check's timeout turns a long wait into a failure).
python3 -c 'import sys; sys.stdout.write("server:\n  listen: " + "[" * 100000 + "]" * 100000 + "\n")' \
    >"$D/deep.yaml"
run_check "$D/deep.yaml"
errors_are "nesting 100,000 deep: refused at file:line:column" \
    "^$(re "$D/deep.yaml"):2:73: error: lists and mappings nested more than 64 levels deep"
printf 'server:\n  listen: %s"127.0.0.1:5300"%s\nzones:\n  example.com: example.com.zone\n' \
    "$(printf '%.0s[' {1..10})" "$(printf '%.0s]' {1..10})" >"$D/nested.yaml"
run_check "$D/nested.yaml"
check_match "nesting 12 deep is read as usual (an error about the value, not the depth)" \
    "nested\.yaml:2:12: error: listen address" "$ERR"

run_check "$D/does-not-exist.yaml"
errors_are "a missing config: the path and the reason" \
    "^$(re "$D/does-not-exist.yaml"): error: .*No such file"

# ---- zone errors: file:line ----------------------------------------------------------------

# check_zone "description" ZONE-LINES... -- EXPECTED-REGEX...: one zone, its errors.
check_zone()
{
    local desc=$1 lines=()
    shift
    while [ "$1" != -- ]; do lines+=("$1"); shift; done
    shift
    zone bad.zone example.com "ns1 IN A 192.0.2.53" "${lines[@]}"
    config bad.yaml "example.com: bad.zone"
    run_check "$D/bad.yaml"
    errors_are "$desc" "$@"
}
Z=$(re "$D/bad.zone")

check_zone "a bad record: file:line" "www IN A 300.1.1.1" -- "^$Z:6: error: .*A"
check_zone "an unknown type: file:line" "www IN BOGUS 1" -- "^$Z:6: error: .*BOGUS"
check_zone "a CNAME and other data: file:line" \
    "www IN CNAME ns1" "www IN TXT \"x\"" -- "^$Z:[67]: error: .*CNAME and other data"
check_zone "an owner outside the zone: file:line" \
    "www.example.org. IN A 192.0.2.1" -- "^$Z:6: error: .*outside the zone"
check_zone "two bad records: two lines" \
    "www IN A 300.1.1.1" "mail IN MX x y" -- "^$Z:6: error: " "^$Z:7: error: "
check_zone "a bad record and a CNAME with other data: both reported at once" \
    "www IN A 300.1.1.1" "alias IN CNAME ns1" "alias IN TXT \"x\"" -- \
    "^$Z:6: error: .*A" "^$Z:[78]: error: .*CNAME and other data"

# A missing SOA has no line of its own: file[:line].
printf '%s\n' "\$ORIGIN example.com." "\$TTL 3600" '@ IN NS ns1' 'ns1 IN A 192.0.2.53' >"$D/nosoa.zone"
config nosoa.yaml "example.com: nosoa.zone"
run_check "$D/nosoa.yaml"
errors_are "a zone without SOA: named, with the file" \
    "^$(re "$D/nosoa.zone")(:[0-9]+)?: error: .*SOA"

zone one.zone example.com "www IN A 300.1.1.1"
zone two.zone example.net "www IN AAAA 2001:db8::zz"
config both.yaml "example.com: one.zone" "example.net: two.zone"
run_check "$D/both.yaml"
errors_are "errors in two zones: both reported" \
    "^$(re "$D/one.zone"):5: error: " "^$(re "$D/two.zone"):5: error: "

# RFC 9460 allows quoted SvcParam values; ldns-read-zone accepts them, so must we.
zone https.zone example.com "ns1 IN A 192.0.2.53" 'www IN HTTPS 1 . alpn="h2,h3" port=8443'
config https.yaml "example.com: https.zone"
if command -v ldns-read-zone >/dev/null 2>&1; then
    check "ldns-read-zone accepts HTTPS with alpn=\"h2,h3\" (the fixture is valid)" \
        quietly ldns-read-zone "$D/https.zone"
fi
run_check "$D/https.yaml"
check "a zone ldns accepts loads: HTTPS with a quoted alpn=\"h2,h3\" (RFC 9460 §2.1)" \
    test "$RC" -eq 0
[ "$RC" -eq 0 ] || diag "$ERR"

# ---- files that are not regular files: an error, never a wait for a writer ----------------

mkfifo "$D/fifo.zone" "$D/fifo.yaml" "$D/fifo.mmdb"
config fifozone.yaml "example.com: fifo.zone"
run_check "$D/fifozone.yaml"
errors_are "a FIFO as the zone file: one error at the config line naming it, no wait" \
    "^$(re "$D/fifozone.yaml"):4:3: error: zone example\.com\.: cannot read $(re "$D/fifo.zone"): it is not a regular file$"

zone inc.zone example.com "\$INCLUDE fifo.zone"
config fifoinc.yaml "example.com: inc.zone"
run_check "$D/fifoinc.yaml"
check_match "a FIFO named by \$INCLUDE: an error, no wait" "it is not a regular file" "$ERR"
check "... and exit 1" test "$RC" -eq 1

run_check "$D/fifo.yaml"
errors_are "a FIFO as the config: one error, no wait" \
    "^$(re "$D/fifo.yaml"): error: cannot read the config: it is not a regular file$"

run_check "$D"
errors_are "a directory as the config: one error" \
    "^$(re "$D"): error: cannot read the config: it is not a regular file$"

zone geo.zone example.com
{
    printf 'server:\n  listen: ["127.0.0.1:5300"]\n'
    printf 'geoip:\n  databases: [fifo.mmdb]\n'
    printf 'zones:\n  example.com: geo.zone\n'
} >"$D/fifodb.yaml"
run_check "$D/fifodb.yaml"
errors_are "a FIFO as the GeoIP database: one error at the config line naming it, no wait" \
    "^$(re "$D/fifodb.yaml"):4:15: error: cannot open the GeoIP database $(re "$D/fifo.mmdb"): it is not a regular file$"

# ---- every problem at once: zones are checked whatever else failed ------------------------

zone cn.zone example.com "ns1 IN A 192.0.2.53" "alias IN CNAME ns1" "x IN A 192.0.2.9" \
    "alias IN TXT \"x\""
{
    printf 'server:\n  listen: ["127.0.0.1:5300"]\n  tcp_max_clients: many\n'
    printf 'geoip:\n  databases: [nosuch.mmdb]\n'
    printf 'zones:\n  example.com: cn.zone\n  example.net: missing.zone\n'
} >"$D/all.yaml"
run_check "$D/all.yaml"
errors_are "a config error, a missing zone file and a zone error: all reported" \
    "^$(re "$D/all.yaml"):3:20: error: .*tcp_max_clients" \
    "^$(re "$D/cn.zone"):8: error: alias\.example\.com\. has a CNAME and other data .*: the TXT record here and the CNAME at $(re "$D/cn.zone"):6;" \
    "^$(re "$D/all.yaml"):8:3: error: zone example\.net\.: cannot read $(re "$D/missing.zone"): No such file"
sed -i '/tcp_max_clients/d' "$D/all.yaml"
run_check "$D/all.yaml"
errors_are "a missing GeoIP database does not stop the zone checks; it names its config line" \
    "^$(re "$D/all.yaml"):4:15: error: cannot open the GeoIP database $(re "$D/nosuch.mmdb"): No such file" \
    "^$(re "$D/cn.zone"):8: error: .*CNAME and other data" \
    "^$(re "$D/all.yaml"):7:3: error: zone example\.net\.: cannot read"
check_zone "an rdata error says what is wrong with the field" "www IN A 192.0.2.300" -- \
    "^$Z:6: error: bad A record: field 1 \"192\.0\.2\.300\" is not an IPv4 address"

# ---- the command line ------------------------------------------------------------------------

help=$("$MERIDIAND" --help)
check "--help exits 0" test $? -eq 0
for opt in -c -t -d -h -V; do
    check_match "--help documents $opt" "^ +$opt, --[a-z]+" "$help"
done
"$MERIDIAND" -h | cmp -s - <(printf '%s\n' "$help")
check "-h prints the same help" test $? -eq 0

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
check_eq "-V prints the version" "meridiand $version" "$("$MERIDIAND" -V)"

"$MERIDIAND" --no-such-option >/dev/null 2>"$D/err"
RC=$?
check "an unknown option exits 2" test "$RC" -eq 2
check_match "an unknown option prints the usage on stderr" "^Usage: meridiand" "$(cat "$D/err")"

done_testing
