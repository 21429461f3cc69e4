# geoq.py — a fast DNS client for the geo tests: thousands of UDP queries with EDNS Client
# Subnet, pipelined, each reply reduced to its addresses and ECS scope.  Stdlib only.
# SPDX-License-Identifier: MIT
"""Subcommands (PORT is the server's UDP port on 127.0.0.1):

  weights PORT QNAME N SUBNET|- ADDR=WEIGHT...
      N A queries; one TAP result that every answer has one address of ADDR..., and one per
      ADDR that its share lies within 5 standard deviations of the binomial mean.
  spread PORT QNAME N SUBNET|- ADDR...
      N A queries; TAP results that each answer holds exactly one address and that every
      ADDR came back at least once.
  ecs PORT QNAME HEX
      One A query whose EDNS option data is HEX (code 8 and length included); prints the
      reply's rcode name, or "timeout".

realcheck.py uses run(), reply_addrs() and reply_ecs_scope() directly.
"""

import ipaddress
import math
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402

OPT_ECS = 8


def ecs_option(subnet):
    """The ECS option (RFC 7871 §6) for "ADDR/PREFIX": only the prefix's bytes, host bits 0."""
    net = ipaddress.ip_network(subnet, strict=False)
    fam = 1 if net.version == 4 else 2
    n = (net.prefixlen + 7) // 8
    data = struct.pack("!HBB", fam, net.prefixlen, 0) + net.network_address.packed[:n]
    return struct.pack("!HH", OPT_ECS, len(data)) + data


def make_query(qid, qname, qtype, subnet=None, raw_option=None):
    opts = b""
    if subnet:
        opts = ecs_option(subnet)
    if raw_option is not None:
        opts = raw_option
    q = dnswire.header(qid, 0, 1, 0, 0, 1)
    q += dnswire.encode_name(qname) + struct.pack("!HH", qtype, 1)
    return q + dnswire.opt_rr(udp=1232, options=opts)


def reply_ecs_scope(p):
    """The scope of the reply's ECS option, or None when it has none."""
    for _name, rtype, _ttl, rd in p["additional"]:
        if rtype != dnswire.TYPE_OPT:
            continue
        off = 0
        while off + 4 <= len(rd):
            code, ln = struct.unpack("!HH", rd[off:off + 4])
            if code == OPT_ECS and ln >= 4:
                return rd[off + 7]
            off += 4 + ln
    return None


def reply_addrs(p):
    out = []
    for _name, rtype, _ttl, rd in p["answer"]:
        if rtype == 1:
            out.append(socket.inet_ntop(socket.AF_INET, rd))
        elif rtype == 28:
            out.append(socket.inet_ntop(socket.AF_INET6, rd))
    return out


def run(port, queries):
    """Sends every (qname, qtype, subnet) in queries, pipelined and retried as
    dnswire.pipelined() does; returns the parsed replies in order (None for a query that
    got no reply in time)."""
    raw, _ = dnswire.pipelined(port, len(queries), lambda i, qid: make_query(qid, *queries[i]))
    return [None if m is None else dnswire.parse(m) for m in raw]


def cmd_weights(port, qname, n, subnet, specs):
    weights = {}
    for spec in specs:
        addr, w = spec.split("=")
        weights[addr] = float(w)
    total = sum(weights.values())
    t0 = time.monotonic()
    replies = run(port, [(qname, 1, None if subnet == "-" else subnet)] * n)
    counts = {a: 0 for a in weights}
    bad, lost = [], 0
    for p in replies:
        if p is None:
            lost += 1
            continue
        got = reply_addrs(p)
        if len(got) == 1 and got[0] in counts:
            counts[got[0]] += 1
        else:
            bad.append(got)
    answered = n - lost
    dnswire.note("%s: %d queries in %.2f s, %d unanswered" % (qname, n, time.monotonic() - t0,
                                                             lost))
    dnswire.check(lost == 0 and not bad,
                  "%s: all %d queries answered with one of %s" % (qname, n, " ".join(weights)),
                  "unanswered: %d; other answers (first 5): %r" % (lost, bad[:5]))
    for a, w in weights.items():
        p = w / total
        mean, sd = answered * p, math.sqrt(answered * p * (1 - p))
        dnswire.check(abs(counts[a] - mean) <= 5 * sd,
                      "%s: %s got %d of %d (expected %.0f ± 5σ = %.0f)"
                      % (qname, a, counts[a], answered, mean, 5 * sd),
                      "counts: %r" % counts)


def cmd_spread(port, qname, n, subnet, addrs):
    replies = run(port, [(qname, 1, None if subnet == "-" else subnet)] * n)
    counts = {a: 0 for a in addrs}
    sizes = set()
    for p in replies:
        got = reply_addrs(p) if p else []
        sizes.add(len(got))
        for a in got:
            counts[a] = counts.get(a, 0) + 1
    dnswire.check(sizes == {1}, "%s: each of %d answers holds exactly one address" % (qname, n),
                  "answer sizes seen: %r" % sorted(sizes))
    dnswire.check(all(counts[a] > 0 for a in addrs) and set(counts) == set(addrs),
                  "%s: every address of the region came back (%s)"
                  % (qname, ", ".join("%s×%d" % (a, counts[a]) for a in sorted(counts))))


def cmd_ecs(port, qname, hexdata):
    s = dnswire.udp_socket("127.0.0.1", 2.0)
    s.sendto(make_query(0x4242, qname, 1, raw_option=bytes.fromhex(hexdata)), ("127.0.0.1", port))
    try:
        msg = s.recv(65535)
        print(dnswire.RCODES.get(dnswire.parse_header(msg)["rcode"], "?"))
    except socket.timeout:
        print("timeout")


def main(argv):
    cmd, port = argv[1], int(argv[2])
    if cmd == "weights":
        cmd_weights(port, argv[3], int(argv[4]), argv[5], argv[6:])
    elif cmd == "spread":
        cmd_spread(port, argv[3], int(argv[4]), argv[5], argv[6:])
    elif cmd == "ecs":
        cmd_ecs(port, argv[3], argv[4])
    else:
        raise SystemExit("unknown subcommand " + cmd)


if __name__ == "__main__":
    main(sys.argv)
