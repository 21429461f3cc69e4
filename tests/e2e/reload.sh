#!/bin/bash
# reload.sh — SIGHUP reloads: good zones replace old ones, a broken zone or config keeps
# what was serving, zones come and go with the config.  SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
CONF=$TEST_TMP/meridian.yaml

# write_zone FILE ORIGIN SERIAL [EXTRA RECORD LINES...]: replaced atomically (rename), as
# an operator's deploy tool would, so a reload never reads half a file.
write_zone()
{
    local file=$1 origin=$2 serial=$3
    shift 3
    {
        printf "\$ORIGIN %s.\n\$TTL 3600\n" "$origin"
        printf '@ IN SOA ns1.example.com. hostmaster.example.com. %s 7200 3600 1209600 300\n' \
            "$serial"
        printf '  IN NS ns1.example.com.\n'
        printf '%s\n' "$@"
    } >"$file.tmp" && mv "$file.tmp" "$file"
}

# write_config ZONE...: each ZONE is "name: file".
write_config()
{
    {
        printf 'server:\n  listen: ["127.0.0.1:%s", "[::1]:%s"]\n  workers: 2\nzones:\n' \
            "$PORT" "$PORT"
        printf '  %s\n' "$@"
    } >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
}

# serves NAME TYPE RDATA: the answer holds exactly one record, with that rdata.
serves()
{
    local got
    got=$(dig_section answer "$1" "$2")
    [ "$(printf '%s\n' "$got" | awk 'NF { n++ } END { print n + 0 }')" -eq 1 ] &&
        [ "${got##* "$2" }" = "$3" ]
}

# check_serves "description" NAME TYPE RDATA
check_serves()
{
    if serves "$2" "$3" "$4"; then
        ok "$1"
    else
        not_ok "$1"
        diag "expected $2 $3 $4, got:" "$(dig_section answer "$2" "$3")"
    fi
}

# check_reload "description" done|partial|failed: SIGHUP, and the log's verdict: done
# (everything loaded), partial (the new config serves, a failed zone kept its previous
# version), failed (nothing changed).
check_reload()
{
    local line verdict=done
    line=$(reload_server)
    case $line in
    *"reload done with errors"*) verdict=partial ;;
    *"reload failed"*) verdict=failed ;;
    "") verdict=none ;;
    esac
    if [ "$verdict" = "$2" ]; then
        ok "$1"
    else
        not_ok "$1"
        diag "expected a \"reload $2\" log line, got: ${line:-nothing within ${WAIT_TIMEOUT}s}"
        tail -n 15 "$SERVER_LOG" | diag
    fi
}

# ---- version 1 --------------------------------------------------------------------------

write_zone "$TEST_TMP/example.com.zone" example.com 1 "www IN A 192.0.2.1"
write_config "example.com: example.com.zone"
start_server "$CONF"
PID=$SERVER_PID
check_serves "version 1 is served" www.example.com A 192.0.2.1
check_serves "serial 1" example.com SOA \
    "ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

# ---- a broken zone keeps the old version ---------------------------------------------------

write_zone "$TEST_TMP/example.com.zone" example.com 2 "www IN A 192.0.2.2" "bad IN A 999.1.1.1"
check_reload "SIGHUP with a broken zone: the log says reload done with errors" "partial"
check_match "the log names the broken line as file:line" \
    "example\.com\.zone:6: error: .*A" "$(cat "$SERVER_LOG")"
check_match "the log says the previous version keeps serving" \
    "zone example\.com.*keeping the version loaded before \(serial 1\)" "$(cat "$SERVER_LOG")"
check_serves "after the failed reload version 1 is still served" www.example.com A 192.0.2.1
check_serves "after the failed reload serial 1 is still served" example.com SOA \
    "ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

# ---- a good new version replaces it ----------------------------------------------------------

write_zone "$TEST_TMP/example.com.zone" example.com 3 "www IN A 192.0.2.3" "new IN A 192.0.2.33"
check_reload "SIGHUP with a good zone: the log says reload done" "done"
check "the new name appears (polled)" wait_for serves new.example.com A 192.0.2.33
check_serves "the changed record is served" www.example.com A 192.0.2.3
check_serves "serial 3 is served" example.com SOA \
    "ns1.example.com. hostmaster.example.com. 3 7200 3600 1209600 300"

# ---- a broken config keeps everything ----------------------------------------------------------

printf 'server:\n  listen: ["127.0.0.1:%s"\nzones: {\n' "$PORT" >"$CONF"
check_reload "SIGHUP with broken YAML: the log says reload failed" "failed"
check_match "the log points into the config as file:line:column" \
    "meridian\.yaml:[0-9]+:[0-9]+: error: " "$(cat "$SERVER_LOG")"
check_serves "after the broken config version 3 is still served" www.example.com A 192.0.2.3
printf 'server:\n  listen: ["127.0.0.1:%s"]\n  bogus: 1\nzones:\n  example.com: example.com.zone\n' \
    "$PORT" >"$CONF"
check_reload "SIGHUP with a config that has an unknown key: reload failed" "failed"
check_serves "after the rejected config version 3 is still served" www.example.com A 192.0.2.3

# ---- a zone added to the config appears ----------------------------------------------------------

write_zone "$TEST_TMP/example.net.zone" example.net 1 "www IN A 198.51.100.1"
write_config "example.com: example.com.zone" "example.net: example.net.zone"
check_reload "SIGHUP with a second zone in the config: reload done" "done"
check "the second zone is served (polled)" wait_for serves www.example.net A 198.51.100.1
check_dns "the second zone's answers are authoritative" "www.example.net A" \
    --answer "www.example.net. 3600 IN A 198.51.100.1"
check_serves "the first zone is still served" www.example.com A 192.0.2.3

# ---- a deleted zone file keeps its old version; the other zone still updates -----------------

rm "$TEST_TMP/example.com.zone"
write_zone "$TEST_TMP/example.net.zone" example.net 2 "www IN A 198.51.100.2"
check_reload "SIGHUP with a zone file deleted: the log says reload done with errors" "partial"
check_match "the log says the deleted zone keeps its previous version" \
    "zone example\.com.*keeping the version loaded before \(serial 3\)" "$(cat "$SERVER_LOG")"
check_serves "the deleted zone's old version is still served" www.example.com A 192.0.2.3
check_serves "the other zone's new version is served in the same reload" \
    www.example.net A 198.51.100.2

# ---- a zone removed from the config goes away ------------------------------------------------------

write_zone "$TEST_TMP/example.com.zone" example.com 4 "www IN A 192.0.2.4"
write_config "example.com: example.com.zone"
check_reload "SIGHUP with a zone removed from the config: reload done" "done"
check_dns "the removed zone is REFUSED" "www.example.net A" --rcode REFUSED --flags qr
check_serves "the remaining zone is reloaded too" www.example.com A 192.0.2.4

check "the process that started serves still (pid $PID)" alive "$PID"
check_eq "it started once: one \"ready\" line in the log" 1 "$(log_count ' ready: ')"
stop_server
status=$?
check "SIGTERM stops meridiand with status 0" test "$status" -eq 0
done_testing
