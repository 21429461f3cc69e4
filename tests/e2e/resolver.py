# resolver.py — many clients behind one ECS-aware resolver: each client subnet asks the
# resolver, and its answer must be the one the authoritative server gives that subnet
# directly.  A wrong or too wide ECS scope shows up as a client given another client's
# answer.  Stdlib only; prints lines for lib.sh's py_tap.
# SPDX-License-Identifier: MIT
"""Usage: resolver.py RESOLVER_PORT AUTH_PORT QNAME N SEED MODE [NETWORK...]

N public client subnets (/24 and /56, only /24 with RESOLVER_V4_ONLY set in the
environment; half of them inside the NETWORKs given) each send one
QNAME A query with EDNS Client Subnet to the resolver on 127.0.0.1:RESOLVER_PORT (RD set)
and one to the authoritative on AUTH_PORT.  MODE "same": the two answers must hold the
same addresses.  MODE "one-of:ADDR,ADDR": a weighted service, whose answers differ from
query to query; every answer must be one of those addresses."""

import ipaddress
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnswire  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "geo"))
import geoq  # noqa: E402


def ask(sock, port, qid, qname, subnet, rd):
    q = bytearray(geoq.make_query(qid, qname, 1, subnet))
    if rd:
        q[2] |= 0x01
    for _ in range(4):
        sock.sendto(bytes(q), ("127.0.0.1", port))
        end = time.monotonic() + 2
        while time.monotonic() < end:
            sock.settimeout(max(end - time.monotonic(), 0.01))
            try:
                msg, _ = sock.recvfrom(65535)
            except socket.timeout:
                break
            if len(msg) >= 12 and struct.unpack("!H", msg[:2])[0] == qid:
                return dnswire.parse(msg)
    return None


def clients(n, seed, focus):
    rng = random.Random(seed)
    seen = set()
    while len(seen) < n:
        if focus and rng.random() < 0.5:
            net = rng.choice(focus)
        elif os.environ.get("RESOLVER_V4_ONLY"):
            net = ipaddress.ip_network("0.0.0.0/0")
        else:
            net = rng.choice([ipaddress.ip_network("0.0.0.0/0"),
                              ipaddress.ip_network("2000::/3")])
        plen = 24 if net.version == 4 else 56
        host = rng.getrandbits(net.max_prefixlen - net.prefixlen)
        addr = int(net.network_address) + host
        sub = ipaddress.ip_network((addr, plen), strict=False)
        if sub.is_global and sub not in seen:
            seen.add(sub)
            yield str(sub)


def main(argv):
    rport, aport, qname, n, seed, mode = (int(argv[1]), int(argv[2]), argv[3], int(argv[4]),
                                          int(argv[5]), argv[6])
    focus = [ipaddress.ip_network(a) for a in argv[7:]]
    allowed = set(mode[len("one-of:"):].split(",")) if mode.startswith("one-of:") else None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    wrong, lost, scopes, qid = [], [], [], 0
    for sub in clients(n, seed, focus):
        qid = (qid + 1) & 0xFFFF
        via = ask(sock, rport, qid, qname, sub, True)
        qid = (qid + 1) & 0xFFFF
        direct = ask(sock, aport, qid, qname, sub, False)
        if via is None or direct is None or via["rcode"] or direct["rcode"]:
            lost.append(sub)
            continue
        got, want = sorted(geoq.reply_addrs(via)), sorted(geoq.reply_addrs(direct))
        scopes.append(geoq.reply_ecs_scope(direct))
        if allowed is not None:
            if len(got) != 1 or got[0] not in allowed:
                wrong.append("%s: got %s, want one of %s" % (sub, got, sorted(allowed)))
        elif got != want:
            wrong.append("%s: through the resolver %s, directly %s" % (sub, got, want))
    dnswire.check(not lost, "%s: all %d clients answered, through the resolver and directly"
                  % (qname, n), "no answer or an error for: %s" % " ".join(lost[:10]))
    dnswire.check(not wrong, "%s: 0 of %d clients given another client's answer"
                  % (qname, n), *wrong[:10])
    known = sorted(s for s in scopes if s is not None)
    if known:
        dnswire.note("%s: median scope /%d" % (qname, known[len(known) // 2]))


if __name__ == "__main__":
    main(sys.argv)
