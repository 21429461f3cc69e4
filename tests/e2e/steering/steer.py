# steer.py — steering.sh's DNS side: measured weight splits and the TTL of an answer.
# SPDX-License-Identifier: MIT
"""Usage:
  steer.py split PORT NAME N ADDR=WEIGHT...
      Sends N A queries for NAME; passes when every one is answered with one of the ADDRs
      and each ADDR's count is within 4 standard deviations of the binomial mean (exactly
      0 for weight 0).
  steer.py only PORT NAME N LABEL ADDR
      Passes when all N answers for NAME are ADDR alone.
"""

import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "control"))
sys.path.insert(0, os.path.join(HERE, ".."))
import ctl  # noqa: E402
import dnswire  # noqa: E402

SIGMAS = 4


def cmd_split(port, qname, n, specs):
    weights = {a: float(w) for a, w in (s.split("=") for s in specs)}
    total = sum(weights.values())
    t0 = time.monotonic()
    replies, _ = ctl.run(port, qname, n)
    counts = {a: 0 for a in weights}
    other, lost = [], 0
    for p in replies:
        got = None if p is None else ctl.answer_addrs(p)
        if got is None:
            lost += 1
        elif len(got) == 1 and got[0] in counts:
            counts[got[0]] += 1
        else:
            other.append(got)
    dnswire.note("%s: %d queries in %.2f s: %s" % (qname, n, time.monotonic() - t0, counts))
    ctl.tap(lost == 0 and not other, "%s: all %d answered with one of %s"
            % (qname, n, " ".join(weights)), "lost %d, other: %r" % (lost, other[:5]))
    answered = n - lost
    for a, w in weights.items():
        p = w / total
        if p in (0, 1):
            ctl.tap(counts[a] == answered * p, "%s: weight %g of %g: %s got exactly %d of %d"
                    % (qname, w, total, a, answered * p, answered), "counts: %r" % counts)
            continue
        mean, sd = answered * p, math.sqrt(answered * p * (1 - p))
        ctl.tap(abs(counts[a] - mean) <= SIGMAS * sd,
                "%s: %s got %d of %d (expected %.0f ± %dσ = %.0f)"
                % (qname, a, counts[a], answered, mean, SIGMAS, SIGMAS * sd),
                "counts: %r" % counts)


def main(argv):
    cmd, a = argv[1], argv[2:]
    if cmd == "split":
        cmd_split(int(a[0]), a[1], int(a[2]), a[3:])
    elif cmd == "only":
        ctl.cmd_only(int(a[0]), a[1], int(a[2]), a[3], a[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
