#!/usr/bin/env python3
"""genconf.py — a large config and its zone, for the tests that load big configs.

    genconf.py DIR REGIONS SERVICES [--port PORT] [--control SOCK] [--state FILE]
               [--check PORT] [--interval DURATION] [--probe PORT]

Writes DIR/big.yaml and DIR/big.zone.  Region rNNNN has address 10.x.y.z (a /32 of its
own) and a location; service sNNNN takes geo, weighted, nearest, failover in turn, over a few
regions picked from its number, and the zone holds a DYNA name sNNNN for each service.
With --check PORT, every region is watched by one tcp check on that port; --port, --control
and --state set the server's.  SPDX-License-Identifier: MIT"""
import argparse
import os


def region(i):
    return "r%05d" % i


def addr(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def service(i, nregions):
    """The YAML of service i: geo, weighted, nearest and failover in turn."""
    a, b, c = region(i % nregions), region((i * 7 + 1) % nregions), region((i * 13 + 2) % nregions)
    picks = list(dict.fromkeys([a, b, c]))
    kind = i % 4
    if kind == 0:
        return "{ policy: geo, map: { EU: [%s], GB: [%s], default: [%s] } }" % (
            ", ".join(picks), picks[-1], ", ".join(picks))
    if kind == 1:
        return "{ policy: weighted, weights: { %s } }" % ", ".join(
            "%s: %d" % (r, 10 + n) for n, r in enumerate(picks))
    if kind == 2:
        return "{ policy: nearest, regions: [%s] }" % ", ".join(picks)
    return "{ policy: failover, order: [%s] }" % ", ".join(picks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("regions", type=int)
    ap.add_argument("services", type=int)
    ap.add_argument("--port", type=int, default=5300)
    ap.add_argument("--control")
    ap.add_argument("--state")
    ap.add_argument("--check", help="a tcp port on 127.0.0.1 that every region is probed on")
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--probe", type=int,
                    help="a tcp port: region r00000 moves to 127.0.0.2, watched by a check on "
                    "that port (interval 2s, timeout 500ms, fall 1), r00001 to 127.0.0.3, and "
                    "service fo (name fo.big.test) fails over from the first to the second")
    args = ap.parse_args()
    out = []
    out.append("server:\n  listen: [\"127.0.0.1:%d\"]\n  workers: 1\n" % args.port)
    if args.control:
        out.append("  control: %s\n" % args.control)
    if args.state:
        out.append("  state: %s\n" % args.state)
    if args.check:
        out.append("checks:\n  big: { type: tcp, port: %s, interval: %s, timeout: 500ms, "
                   "fall: 1, rise: 1 }\n" % (args.check, args.interval))
    if args.probe:
        out.append("%s  probed: { type: tcp, port: %d, interval: 2s, timeout: 500ms, fall: 1, "
                   "rise: 1 }\n" % ("" if args.check else "checks:\n", args.probe))
    out.append("regions:\n")
    for i in range(args.regions):
        lat, lon = (i * 37) % 180 - 90, (i * 53) % 360 - 180
        chk = ", check: big" if args.check else ""
        a = addr(i)
        if args.probe and i < 2:
            a, chk = "127.0.0.%d" % (i + 2), ", check: probed" if i == 0 else ""
        out.append("  %s: { location: [%d, %d], addresses: [%s]%s }\n" % (
            region(i), lat, lon, a, chk))
    out.append("services:\n")
    for i in range(args.services):
        out.append("  s%05d: %s\n" % (i, service(i, args.regions)))
    if args.probe:
        out.append("  fo: { policy: failover, order: [r00000, r00001] }\n")
    out.append("zones:\n  big.test: big.zone\n")
    with open(os.path.join(args.dir, "big.yaml"), "w") as f:
        f.write("".join(out))
    with open(os.path.join(args.dir, "big.zone"), "w") as f:
        f.write("$ORIGIN big.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                "@ NS ns1\nns1 A 192.0.2.53\n")
        for i in range(args.services):
            f.write("s%05d DYNA s%05d\n" % (i, i))
        if args.probe:
            f.write("fo DYNA fo\n")


main()
