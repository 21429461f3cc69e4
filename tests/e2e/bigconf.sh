#!/bin/bash
# bigconf.sh — big configs load in time and answer right: meridiand -t on 1,000 regions ×
# 40 services, 100 × 1,000 and 2,000 × 200 (tests/e2e/big/genconf.py writes them).
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/lib.sh"

D=$TEST_TMP
GEN=$E2E_DIR/big/genconf.py

# Each size in its own directory: genconf writes big.yaml and big.zone there.  The
# timeout only turns a hang into a failure; the loads take well under a second.
for size in "1000 40" "100 1000" "2000 200"; do
    set -- $size
    dir=$D/$1x$2
    mkdir -p "$dir"
    python3 "$GEN" "$dir" "$1" "$2"
    timeout 120 "$MERIDIAND" -t -c "$dir/big.yaml" >"$dir/out" 2>"$dir/err"
    rc=$?
    check "-t on $1 regions x $2 services: exit 0 (got $rc)" test "$rc" -eq 0
    check_match "-t on $1 regions x $2 services: the summary line" \
        "configuration and 1 zone\(s\) OK$" "$(cat "$dir/out")"
    # The last service; when genconf made it a failover service (every fourth), its
    # first region r(i mod regions) is up and must be the one chosen.
    last=$(($2 - 1))
    explain=$(timeout 120 "$MERIDIAND" -c "$dir/big.yaml" --explain \
        "$(printf 's%05d.big.test' "$last")" 192.0.2.1 2>&1)
    want=$(printf 'r%05d' $((last % $1)))
    kind=$((last % 4))
    if [ "$kind" -eq 3 ]; then
        check_match "$1 x $2: failover service s$last answers its first region $want" \
            "^chosen: $want, ECS scope /0$" "$explain"
    else
        check_match "$1 x $2: service s$last chooses a region" "^chosen: r[0-9]{5}," "$explain"
    fi
done

done_testing
