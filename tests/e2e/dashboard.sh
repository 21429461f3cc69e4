#!/usr/bin/env bash
# dashboard.sh — the Grafana dashboard in contrib/grafana is built on metrics that exist:
# every query parses (promtool) and names only metrics a live server exports.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/lib.sh"

DASH=$top_srcdir/contrib/grafana/meridian-dashboard.json
RULES=$TEST_TMP/rules.yml

# The panels' expressions with Grafana's variables replaced by what Prometheus accepts.
python3 - "$DASH" "$RULES" <<'PY'
import json, sys
dash = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
with open(sys.argv[2], "w") as out:
    out.write("groups:\n- name: dashboard\n  rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$instance", ".*").replace("$service", ".*")
        out.write("  - record: dashboard:panel%d\n    expr: %s\n" % (i, json.dumps(e)))
PY
check "the dashboard is JSON with panels and queries" test -s "$RULES"
if command -v promtool >/dev/null; then
    out=$(promtool check rules "$RULES" 2>&1)
    rc=$? # promtool's status, before check's own replaces $?
    check "promtool parses every panel's query" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || diag "promtool exit $rc:" "$out"
else
    ok "promtool parses every panel's query # SKIP promtool is not installed"
fi

# Every metric a panel names is one a running server exports.
PORT=$(free_port)
MPORT=$(free_port)
cat >"$TEST_TMP/z.zone" <<ZONE
\$ORIGIN example.com.
\$TTL 300
@ SOA ns1 h 1 2 3 4 60
@ NS ns1
ns1 A 192.0.2.53
ZONE
cat >"$TEST_TMP/m.yaml" <<CONF
server:
  listen: ["127.0.0.1:$PORT"]
  workers: 1
  metrics: 127.0.0.1:$MPORT
zones:
  example.com: z.zone
CONF
start_server "$TEST_TMP/m.yaml"
scrape=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())")
missing=$(python3 - "$DASH" 2>"$TEST_TMP/missing.err" <<PY
import json, re, sys
dash = json.load(open(sys.argv[1]))
families = set(re.findall(r"^# TYPE (\S+)", """$scrape""", re.M))
used = set()
for p in dash["panels"]:
    for t in p["targets"]:
        used |= set(re.findall(r"\b(meridian_[a-z_]+)\b", t["expr"]))
print(" ".join(sorted(used - families)))
# No meridian_* metric in any panel: nothing was compared, so the check must not pass.
sys.exit(0 if used else "no panel names a meridian_* metric")
PY
)
rc=$? # python's status: non-zero when it failed or found no metric to compare
check "every metric the dashboard names is exported" test "$rc" -eq 0 -a -z "$missing"
[ "$rc" -eq 0 ] || diag "python exit $rc:" "$(cat "$TEST_TMP/missing.err")"
[ -z "$missing" ] || diag "not exported: $missing"
done_testing
