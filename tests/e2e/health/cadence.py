# cadence.py — reads a black hole's "accept ADDR TIME" lines and checks how the probes were
# spread: every address probed on its own, first runs spread over the interval, then a
# fixed cadence per address.  SPDX-License-Identifier: MIT
"""Usage: python3 cadence.py REQUESTS ADDRESSES INTERVAL_MS
Prints "ok - ..." / "not ok - ..." lines for lib.sh's py_tap."""

import statistics
import sys


def check(cond, desc, *notes):
    print(("ok - " if cond else "not ok - ") + desc)
    for n in notes:
        print("# " + n)


def main(path, naddr, interval_ms):
    interval = interval_ms / 1000.0
    times = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "accept":
                times.setdefault(parts[1], []).append(float(parts[2]))
    check(len(times) == naddr, "every one of the %d addresses is probed on its own" % naddr,
          "addresses probed: %d" % len(times))
    if not times:
        return
    firsts = sorted(t[0] for t in times.values())
    spread = firsts[-1] - firsts[0]
    # Offsets drawn at random from [0, interval): 500 of them cover nearly all of it.
    check(spread >= interval / 2,
          "first probes are spread over the interval, not fired at once",
          "first probes span %.2f s of a %.2f s interval" % (spread, interval))
    gaps = [b - a for t in times.values() for a, b in zip(t, t[1:])]
    if not gaps:
        check(False, "each address is probed again after an interval", "no address seen twice")
        return
    gaps.sort()
    median = statistics.median(gaps)
    p5, p95 = gaps[len(gaps) * 5 // 100], gaps[len(gaps) * 95 // 100]
    check(abs(median - interval) <= interval / 10,
          "each address is probed at a fixed cadence of one interval (median gap)",
          "gaps between probes of one address: median %.3f s, 5%% %.3f s, 95%% %.3f s "
          "(%d gaps, interval %.3f s)" % (median, p5, p95, len(gaps), interval))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
