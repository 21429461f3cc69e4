#!/usr/bin/env python3
# genzone.py — writes the benchmark's zones and query files, the same bytes for every server.
# SPDX-License-Identifier: MIT
"""Usage:
  genzone.py static ZONEFILE QUERYFILE   the static mix: ~1000 hosts, NXDOMAIN, NODATA,
                                         CNAME and referral queries
  genzone.py big ZONEFILE RECORDS        a zone of RECORDS records, mostly A; prints the
                                         name to probe (the last A record written)
Both zones are example.com.  The output is deterministic (a fixed seed), so runs compare.
"""
import random
import sys

HOSTS = 1000          # host0000 … host0999, each with an A record
ALIASES = 20          # alias00 … alias19, CNAMEs to hosts
QUERIES = 20000       # lines in the query file, in shuffled order

# The static mix, by share of queries; printed by run.sh so a reader knows what was asked.
MIX = [
    ("hit A", 0.50),
    ("hit AAAA", 0.10),
    ("hit MX/TXT at apex", 0.05),
    ("NXDOMAIN", 0.15),
    ("NODATA", 0.10),
    ("CNAME", 0.05),
    ("referral", 0.05),
]


def header(out):
    # Plain RFC 1035 syntax that NSD, Knot, gdnsd and ldns all read the same way.
    out.write("$ORIGIN example.com.\n$TTL 3600\n")
    out.write("@ 300 IN SOA ns1 hostmaster 2026112201 7200 3600 1209600 300\n")
    out.write("@ IN NS ns1\n@ IN NS ns2\n@ IN MX 10 mail\n@ IN TXT \"v=spf1 mx -all\"\n")
    out.write("ns1 IN A 192.0.2.53\nns2 IN A 198.51.100.53\nmail IN A 192.0.2.25\n")


def has_aaaa(i):
    return i % 2 == 0


def write_static_zone(path):
    with open(path, "w") as out:
        header(out)
        for i in range(HOSTS):
            out.write(f"host{i:04d} IN A 10.{i >> 8}.{i & 255}.1\n")
            if has_aaaa(i):
                out.write(f"host{i:04d} IN AAAA 2001:db8::{i:x}\n")
        for a in range(ALIASES):
            out.write(f"alias{a:02d} IN CNAME host{a * 37 % HOSTS:04d}\n")
        # a delegation with in-bailiwick glue: queries below it get a referral
        out.write("sub IN NS ns.sub\nsub IN NS ns2.sub\n")
        out.write("ns.sub IN A 192.0.2.201\nns2.sub IN A 192.0.2.202\n")


def static_query(kind, rng):
    host = rng.randrange(HOSTS)
    if kind == "hit A":
        return f"host{host:04d}.example.com A"
    if kind == "hit AAAA":
        return f"host{host & ~1:04d}.example.com AAAA"
    if kind == "hit MX/TXT at apex":
        return "example.com " + rng.choice(["MX", "TXT"])
    if kind == "NXDOMAIN":
        return f"nohost{rng.randrange(100000):05d}.example.com A"
    if kind == "NODATA":
        return f"host{host | 1:04d}.example.com " + rng.choice(["AAAA", "TXT", "MX"])
    if kind == "CNAME":
        return f"alias{rng.randrange(ALIASES):02d}.example.com A"
    return f"www{rng.randrange(1000)}.sub.example.com A"


def write_static_queries(path):
    rng = random.Random(7871)
    lines = []
    for kind, share in MIX:
        lines += [static_query(kind, rng) for _ in range(int(QUERIES * share))]
    rng.shuffle(lines)
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def write_big_zone(path, records):
    # One owner name per record, so the server holds `records` nodes: the load that
    # costs time and memory.  Every 20th record is AAAA, TXT or MX instead of A.
    with open(path, "w") as out:
        header(out)
        for i in range(records - 8):
            k = i % 20
            if k == 0:
                out.write(f"h{i} IN AAAA 2001:db8:{i >> 16:x}::{i & 0xffff:x}\n")
            elif k == 1:
                out.write(f"h{i} IN TXT \"record {i}\"\n")
            elif k == 2:
                out.write(f"h{i} IN MX 10 mail\n")
            else:
                out.write(f"h{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")


def last_a_host(records):
    """The last generated name with an A record: a server answering it has loaded it all."""
    i = records - 9
    while i % 20 < 3:
        i -= 1
    return i


def main(argv):
    if len(argv) == 4 and argv[1] == "static":
        write_static_zone(argv[2])
        write_static_queries(argv[3])
        print("static mix: " + ", ".join(f"{k} {s:.0%}" for k, s in MIX))
    elif len(argv) == 4 and argv[1] == "big":
        records = int(argv[3])
        write_big_zone(argv[2], records)
        print(f"h{last_a_host(records)}.example.com")
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
