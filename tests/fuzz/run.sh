#!/usr/bin/env bash
# run.sh — replays every regression input, then fuzzes each target for a while; TAP output.
# SPDX-License-Identifier: MIT
#
#   tests/fuzz/run.sh SECONDS [OUTDIR]     (OUTDIR default: ./fuzz-build)
#
# Builds what is missing (build.sh), replays tests/fuzz/regress/<target>/* through each
# target (any crash, leak or UB there fails), then runs every target for SECONDS
# (-max_total_time), FUZZ_PARALLEL (default 2) at a time, starting from the hand-picked
# seeds in tests/fuzz/corpus/<target>/ with its dictionary tests/fuzz/dict/<target>.dict.
# The seed corpus is only read: new inputs go to a scratch directory that is deleted at the
# end.  Crash, leak, timeout and out-of-memory inputs go to OUTDIR/artifacts/<target>/, logs
# to OUTDIR/logs/<target>.log.  Exits 1 when anything failed.
# Environment: FUZZ_TARGETS (default: every fuzz_*.c), FUZZ_PARALLEL, FUZZ_ARGS (more
# libFuzzer flags, e.g. "-max_len=8192"); CC, JOBS as for build.sh.
set -uo pipefail

usage() {
    echo "usage: tests/fuzz/run.sh SECONDS [OUTDIR]" >&2
    exit 2
}
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then usage; fi
seconds=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${2:-fuzz-build}

"$here/build.sh" "$out" || {
    echo "Bail out! tests/fuzz/build.sh failed"
    exit 1
}
out=$(cd "$out" && pwd)

all=()
for t in "$here"/fuzz_*.c; do all+=("$(basename "$t" .c)"); done
targets=${FUZZ_TARGETS:-${all[*]}}
parallel=${FUZZ_PARALLEL:-2}
mkdir -p "$out/logs" "$out/artifacts"
scratch=$(mktemp -d /dev/shm/meridian-fuzz-run.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The targets' own scratch directories go under ours, so nothing outlives the run.
export MERIDIAN_FUZZ_TMPDIR=$scratch
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }

ntargets=$(echo "$targets" | wc -w)
nregress=0
for t in $targets; do
    [ -n "$(ls -A "$here/regress/$t" 2>/dev/null)" ] && nregress=$((nregress + 1))
done
echo "1..$((ntargets + nregress))"

# ---- regressions: every input that once broke a target must pass it ----------------------
for t in $targets; do
    files=()
    for f in "$here/regress/$t"/*; do [ -f "$f" ] && files+=("$f"); done
    [ ${#files[@]} -eq 0 ] && continue
    bad=()
    for f in "${files[@]}"; do
        # One process per input: a crash in one must not hide the others.
        if ! "$out/$t" -rss_limit_mb=2048 -timeout=10 "$f" >"$out/logs/$t.regress.log" 2>&1; then
            cp "$out/logs/$t.regress.log" "$out/logs/$t.regress-$(basename "$f").log"
            bad+=("$f")
            log="$out/logs/$t.regress.log"
            { grep -m1 -E 'SUMMARY: |runtime error|invariant violated' "$log" || grep -m1 'ERROR: ' "$log"
                grep -m1 -E "#[0-9]+ .* in [A-Za-z_0-9]+ $top/(lib|zones|geoip|server)/" "$log" |
                    sed 's/^ *#[0-9]* 0x[0-9a-f]* in /    at /'; } | sed "s|^|$(basename "$f"): |" | diag
        fi
    done
    if [ ${#bad[@]} -eq 0 ]; then
        ok "$t regressions: ${#files[@]} input(s) replayed, no crash"
    else
        not_ok "$t regressions: ${#bad[@]} of ${#files[@]} input(s) crash"
        for f in "${bad[@]}"; do echo "reproduce: $out/$t $f" | diag; done
    fi
done

# ---- fuzzing ------------------------------------------------------------------------------
fuzz_one() {
    local t=$1 units="$scratch/units-$1" arts="$out/artifacts/$1/" dict=()
    mkdir -p "$units" "$arts"
    [ -f "$here/dict/$t.dict" ] && dict=("-dict=$here/dict/$t.dict")
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    "$out/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$arts" "${dict[@]}" ${FUZZ_ARGS:-} \
        "$units" "$here/corpus/$t" >"$out/logs/$t.log" 2>&1
    echo $? >"$scratch/rc-$t"
}

running=0
for t in $targets; do
    if [ "$running" -ge "$parallel" ]; then
        wait -n
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
wait

for t in $targets; do
    log="$out/logs/$t.log"
    rc=$(cat "$scratch/rc-$t" 2>/dev/null || echo 1)
    runs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    summary="$t $seconds s, ${runs:-0} runs (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}"
    if [ "$rc" = 0 ]; then
        ok "$summary, no crash"
        continue
    fi
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error: .*|fuzz invariant violated.*' "$log")
    not_ok "$summary: ${kind:-exit status $rc}"
    {
        grep -m1 -A25 -E '^==[0-9]+==ERROR|runtime error|fuzz invariant violated|ERROR: libFuzzer' "$log"
        echo "log: $log"
        if [ -n "$art" ]; then
            echo "reproduce: $out/$t $art"
            echo "minimise:  $out/$t -minimize_crash=1 -runs=100000 -exact_artifact_path=$art.min $art"
            echo "then keep it: cp $art.min $here/regress/$t/NAME"
        fi
    } | diag
done

[ "$failed" -eq 0 ]
