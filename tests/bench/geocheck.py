#!/usr/bin/env python3
# geocheck.py — what each server answers to the geo + ECS mix, before it is measured.
# SPDX-License-Identifier: MIT
"""Usage:
  geocheck.py answers PORT QUERYFILE REGIONS OUT
      Sends every query of QUERYFILE ("name A ecs=ADDR/PREFIX" lines) once to
      127.0.0.1:PORT, names the region each answer's address set belongs to (REGIONS:
      lines "region addr addr ..."), and writes one line per query to OUT:
      "REGION SCOPE", where REGION is a region, "other", "empty", "rcode=N" or "lost", and
      SCOPE is the echoed ECS scope, "-" when the answer carries no ECS option, or "bad"
      when the option does not repeat the query's family, source prefix and address.
      Prints one summary line.
  geocheck.py compare QUERYFILE REF OTHER
      How often OTHER's regions (an OUT file) agree with REF's, plus a few examples of
      disagreement.  Prints one line.
"""
import collections
import socket
import struct
import sys

TIMEOUT = 0.5
TRIES = 3


def encode(qid, name, qtype, ecs):
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    opt = b""
    if ecs:
        addr, prefix = ecs
        nbytes = (prefix + 7) // 8
        opt = struct.pack(">HHHBB", 8, 4 + nbytes, 1, prefix, 0) + addr[:nbytes]
    return q + b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt


def skip_name(p, i):
    while True:
        n = p[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += n + 1


def parse(p):
    """(rcode, [A addresses], ecs option bytes or None)."""
    qd, an, ns, ar = struct.unpack(">HHHH", p[4:12])
    i = 12
    for _ in range(qd):
        i = skip_name(p, i) + 4
    addrs, ecs = [], None
    for k in range(an + ns + ar):
        i = skip_name(p, i)
        rtype, _, _, rdlen = struct.unpack(">HHIH", p[i:i + 10])
        i += 10
        rdata = p[i:i + rdlen]
        i += rdlen
        if k < an and rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(rdata))
        if k >= an + ns and rtype == 41:
            j = 0
            while j + 4 <= len(rdata):
                code, olen = struct.unpack(">HH", rdata[j:j + 4])
                if code == 8:
                    ecs = rdata[j + 4:j + 4 + olen]
                j += 4 + olen
    return p[3] & 0x0F, addrs, ecs


def read_queries(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            addr, prefix = parts[2][4:].split("/")
            out.append((parts[0], socket.inet_aton(addr), int(prefix)))
    return out


def answers(port, qfile, rfile, outfile):
    regions = {}
    with open(rfile) as f:
        for line in f:
            r, *addrs = line.split()
            regions[frozenset(addrs)] = r
    queries = read_queries(qfile)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    s.settimeout(TIMEOUT)
    results = []
    for n, (name, addr, prefix) in enumerate(queries):
        qid = n & 0xFFFF
        wire = encode(qid, name, 1, (addr, prefix))
        resp = None
        for _ in range(TRIES):
            s.send(wire)
            try:
                while True:
                    p = s.recv(4096)
                    if len(p) >= 12 and struct.unpack(">H", p[:2])[0] == qid:
                        resp = p
                        break
            except socket.timeout:
                continue
            break
        if resp is None:
            results.append(("lost", "-"))
            continue
        rcode, addrs, ecs = parse(resp)
        if rcode != 0:
            region = f"rcode={rcode}"
        elif not addrs:
            region = "empty"
        else:
            region = regions.get(frozenset(addrs), "other")
        nbytes = (prefix + 7) // 8
        if ecs is None:
            scope = "-"
        elif len(ecs) == 4 + nbytes and ecs[:3] == struct.pack(">HB", 1, prefix) and \
                ecs[4:] == addr[:nbytes]:
            scope = str(ecs[3])
        else:
            scope = "bad"
        results.append((region, scope))
    with open(outfile, "w") as out:
        out.write("".join(f"{r} {sc}\n" for r, sc in results))
    total = len(results)
    by_region = collections.Counter(r for r, _ in results)
    echoed = sum(1 for _, sc in results if sc not in ("-", "bad"))
    bad = sum(1 for _, sc in results if sc == "bad")
    scopes = sorted(int(sc) for _, sc in results if sc.isdigit())
    median = scopes[len(scopes) // 2] if scopes else None
    # RFC 7871 7.2.1 allows a scope longer than the source prefix: the source was not
    # specific enough.  Counted, because a resolver then caches the answer for less.
    wider = sum(1 for (_, _, prefix), (_, sc) in zip(queries, results)
                if sc.isdigit() and int(sc) > prefix)
    print(" ".join(f"{r}={c}" for r, c in by_region.most_common())
          + f" total={total} ecs_echoed={echoed} ecs_bad={bad}"
          + f" scope_median={median if median is not None else '-'} scope_over_source={wider}")


def compare(qfile, ref, other):
    queries = read_queries(qfile)
    with open(ref) as f:
        a = [line.split()[0] for line in f]
    with open(other) as f:
        b = [line.split()[0] for line in f]
    n = min(len(a), len(b), len(queries))
    diff = [i for i in range(n) if a[i] != b[i]]
    pairs = collections.Counter(f"{a[i]}->{b[i]}" for i in diff)
    examples = ", ".join(
        f"{socket.inet_ntoa(queries[i][1])}/{queries[i][2]} {a[i]}->{b[i]}" for i in diff[:3])
    print(f"agree={n - len(diff)} of={n} pct={100.0 * (n - len(diff)) / n if n else 0:.3f}"
          + (" kinds=" + ",".join(f"{k}:{c}" for k, c in pairs.most_common(4)) if diff else "")
          + (f" examples: {examples}" if diff else ""))


def main(argv):
    if len(argv) == 6 and argv[1] == "answers":
        answers(int(argv[2]), argv[3], argv[4], argv[5])
    elif len(argv) == 5 and argv[1] == "compare":
        compare(argv[2], argv[3], argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
