#!/usr/bin/env python3
# genzone.py — writes the benchmark's zones and query files, the same bytes for every server.
# SPDX-License-Identifier: MIT
"""Usage:
  genzone.py static ZONEFILE QUERYFILE   the static mix: ~1000 hosts, NXDOMAIN, NODATA,
                                         CNAME and referral queries
  genzone.py big ZONEFILE RECORDS        a zone of RECORDS records, mostly A; prints the
                                         name to probe (the last A record written)
  genzone.py geo DIR GEODB               the geo + ECS mix: one geo map written in each
                                         server's own syntax, the zones, and the queries
                                         (www.example.com A from 20,000 different /24s)
All zones are example.com.  The output is deterministic (a fixed seed), so runs compare.
"""
import ipaddress
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


# ---- the geo + ECS mix ----------------------------------------------------------------------
# One map, written below in the syntax of each server: three regions, continents mapped to
# them, one country override (GB, which the continent rule would route the same way: it is
# there so each server has to look a country up, as real maps do), and a default.

REGIONS = {
    "us-east-1": ["192.0.2.10", "192.0.2.11"],
    "eu-west-1": ["198.51.100.10", "198.51.100.11"],
    "apac-south": ["203.0.113.10"],
}
CONTINENTS = {"NA": "us-east-1", "EU": "eu-west-1", "AS": "apac-south"}
COUNTRIES = {"GB": ("EU", "eu-west-1")}  # country: (its continent, region)
DEFAULT = "us-east-1"
GEO_TTL = 30
GEO_QUERIES = 20000

# Not public unicast (RFC 6890 and multicast/reserved): no client subnet is drawn from these.
NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3")]


def public_slash24s(n, seed):
    """N distinct /24 networks drawn uniformly from public IPv4 space, in random order."""
    rng = random.Random(seed)
    seen = set()
    out = []
    while len(out) < n:
        net = ipaddress.ip_network((rng.randrange(1 << 24) << 8, 24))
        if net in seen or any(net.subnet_of(b) for b in NOT_PUBLIC):
            continue
        seen.add(net)
        out.append(net)
    return out


def geo_zone(path, www_lines):
    with open(path, "w") as out:
        header(out)
        out.write("".join(line + "\n" for line in www_lines))


def write_meridian_geo(path, geodb):
    with open(path, "w") as out:
        out.write(f"geoip:\n  databases: [{geodb}]\n  ecs: true\nregions:\n")
        for r, addrs in REGIONS.items():
            out.write(f"  {r}: {{ addresses: [{', '.join(addrs)}] }}\n")
        out.write("services:\n  web:\n    policy: geo\n    map:\n")
        for key, r in list(CONTINENTS.items()) + [(c, r) for c, (_, r) in COUNTRIES.items()]:
            out.write(f"      {key}: [{r}]\n")
        out.write(f"      default: [{DEFAULT}]\n")


def write_gdnsd_geo(path, geodb):
    # gdnsd nests countries inside their continent; "default" at each level.
    with open(path, "w") as out:
        out.write("plugins => {\n  geoip => {\n    maps => {\n      web => {\n")
        out.write(f"        geoip2_db => {geodb}\n")
        out.write(f"        datacenters => [{', '.join(REGIONS)}]\n")
        out.write(f"        map => {{\n          default => [{DEFAULT}]\n")
        for cont, r in CONTINENTS.items():
            inner = [f"{c} => [{cr}]" for c, (cc, cr) in COUNTRIES.items() if cc == cont]
            if inner:
                out.write(f"          {cont} => {{ default => [{r}], {', '.join(inner)} }}\n")
            else:
                out.write(f"          {cont} => [{r}]\n")
        out.write("        }\n      }\n    }\n    resources => {\n      web => {\n")
        out.write("        map => web\n        dcmap => {\n")
        for r, addrs in REGIONS.items():
            out.write(f"          {r} => [{', '.join(addrs)}]\n")
        out.write("        }\n      }\n    }\n  }\n}\n")


def write_knot_geo(path):
    # mod-geoip response file, keys "continent;country" (geodb-key: [continent/code,
    # country/iso_code]); "*" is the default view, and the most specific view wins.
    def view(geo, region):
        return f'  - geo: "{geo}"\n' + "".join(f"    A: {a}\n" for a in REGIONS[region])
    with open(path, "w") as out:
        out.write("www.example.com:\n")
        out.write(view("*", DEFAULT))
        for cont, r in CONTINENTS.items():
            out.write(view(cont, r))
        for c, (cont, r) in COUNTRIES.items():
            out.write(view(f"{cont};{c}", r))


def write_geo(outdir, geodb):
    """Writes OUTDIR/{example.com.zone, example.com.gdnsd, example.com.knot, meridian.yaml,
    gdnsd.plugins, knot-geo.conf, regions.txt, queries.txt}."""
    geo_zone(f"{outdir}/example.com.zone", [f"www {GEO_TTL} IN DYNA web"])
    geo_zone(f"{outdir}/example.com.gdnsd", [f"www {GEO_TTL} DYNA geoip!web"])
    # Knot's module answers every client the database knows; the zone's own records are
    # the answer for the others, the same default the other servers give them.
    geo_zone(f"{outdir}/example.com.knot", [f"www {GEO_TTL} IN A {a}" for a in REGIONS[DEFAULT]])
    write_meridian_geo(f"{outdir}/meridian.yaml", geodb)
    write_gdnsd_geo(f"{outdir}/gdnsd.plugins", geodb)
    write_knot_geo(f"{outdir}/knot-geo.conf")
    with open(f"{outdir}/regions.txt", "w") as out:
        for r, addrs in REGIONS.items():
            out.write(f"{r} {' '.join(addrs)}\n")
    nets = public_slash24s(GEO_QUERIES, 7871)
    with open(f"{outdir}/queries.txt", "w") as out:
        out.write("".join(f"www.example.com A ecs={n}\n" for n in nets))


def main(argv):
    if len(argv) == 4 and argv[1] == "static":
        write_static_zone(argv[2])
        write_static_queries(argv[3])
        print("static mix: " + ", ".join(f"{k} {s:.0%}" for k, s in MIX))
    elif len(argv) == 4 and argv[1] == "big":
        records = int(argv[3])
        write_big_zone(argv[2], records)
        print(f"h{last_a_host(records)}.example.com")
    elif len(argv) == 4 and argv[1] == "geo":
        write_geo(argv[2], argv[3])
        print(f"geo + ECS mix: www.example.com A with ECS from {GEO_QUERIES} distinct public"
              " /24s; map " + ", ".join(f"{k} -> {r}" for k, r in CONTINENTS.items())
              + ", " + ", ".join(f"{c} -> {r}" for c, (_, r) in COUNTRIES.items())
              + f", default -> {DEFAULT}")
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
