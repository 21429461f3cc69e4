# helpers.sh — control.sh's helpers on top of lib.sh: run meridianctl and check its exit
# status and output, read the state file and JSON replies through ctl.py.
# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154 # top_builddir, E2E_DIR and the rest come from lib.sh

MERIDIANCTL=$top_builddir/meridianctl
CTLPY=$E2E_DIR/control/ctl.py
export PYTHONDONTWRITEBYTECODE=1

# Every python3 here, py_tap's included, is the interpreter itself without site-packages
# (the helpers need only the standard library): a version manager's shim in front of it
# costs some 150 ms a start, and the crash loop starts python a hundred times.
PY=$(command python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PY" ] || PY=$(command -v python3)
python3()
{
    "$PY" -S "$@"
}

[ -x "$MERIDIANCTL" ] || bail_out "meridianctl is built at $MERIDIANCTL" "run make first"

# ctl ARGS...: meridianctl against $SOCK; sets CTL_RC, CTL_OUT (stdout), CTL_ERR (stderr).
ctl()
{
    CTL_OUT=$("$MERIDIANCTL" -s "$SOCK" -t 10 "$@" 2>"$TEST_TMP/ctl.err")
    CTL_RC=$?
    CTL_ERR=$(cat "$TEST_TMP/ctl.err")
}

# check_ctl "description" RC REGEX ARGS...: runs meridianctl ARGS; passes when it exits with
# RC and REGEX (extended, empty for any) matches a line of its stdout (RC 0) or stderr.
check_ctl()
{
    local desc=$1 rc=$2 re=$3 text
    shift 3
    ctl "$@"
    if [ "$CTL_RC" = 0 ]; then text=$CTL_OUT; else text=$CTL_ERR; fi
    if [ "$CTL_RC" = "$rc" ] && { [ -z "$re" ] || printf '%s\n' "$text" | grep -Eq -- "$re"; }
    then
        ok "$desc"
    else
        not_ok "$desc"
        diag "meridianctl $* exited $CTL_RC (expected $rc); wanted a line matching: $re" \
            "stdout:" "$CTL_OUT" "stderr:" "$CTL_ERR"
    fi
}

# ok_ctl ARGS...: meridianctl ARGS must say ok; a failure is a failed test point.
ok_ctl()
{
    check_ctl "meridianctl $*" 0 "" "$@"
}

# jget PATH: a value of the JSON on stdin, e.g. jget services/api/regions/us-east-1/weight.
jget()
{
    python3 "$CTLPY" jget "$1"
}

# status_json PATH: that value of `meridianctl --json status`.
status_json()
{
    "$MERIDIANCTL" -s "$SOCK" --json status 2>&1 | jget "$1" 2>&1
}

# state_json [PATH]: the state file as JSON, or that value of it; nothing and status 1 (the
# reason on stderr) when the file does not parse.
state_json()
{
    python3 "$CTLPY" state "$STATE" "${1:-}"
}

# state_sum: a checksum of the state file ("missing" when there is none).
state_sum()
{
    if [ -e "$STATE" ]; then sha256sum <"$STATE" | cut -d' ' -f1; else echo missing; fi
}

# kill9: SIGKILL to the current server ($SERVER_PID) only, then reap it.
kill9()
{
    kill -KILL "$SERVER_PID"
    stop_server "$SERVER_PID" >/dev/null 2>&1
    return 0
}

# addrs DIG-ARGS...: the addresses of one query's answer, sorted, on one line.
addrs()
{
    dig_raw +short "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
