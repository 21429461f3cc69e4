# realcheck.py — cross-checks meridiand against a real GeoIP database: pseudo-random public
# addresses go to the server as EDNS Client Subnet, and each answer is compared with what
# mmdblookup says about the same address.  Stdlib only; prints lines for lib.sh's py_tap.
# SPDX-License-Identifier: MIT
"""Usage: realcheck.py PORT QNAME DB LABEL N4 N6 COUNTRIES_C MAP

MAP is "KEY=ADDRESS,KEY=ADDRESS,...": the geo map of the server's service, each key
(default, a continent, a country, a subdivision such as US-CA) with the one address of the
region it names.  For every address the expected region follows the server's documented
rule (subdivision > country > continent > default; continent from the record, else from
the built-in country table in geoip/countries.c) applied to mmdblookup's record.  The ECS
scope must be at least as wide as mmdblookup's "Record prefix length" (less 96 for IPv4 in
an IPv6 database) capped at the source prefix, and never 0: meridiand merges neighbouring
networks of one decision (tests/e2e/geo/treecheck checks that the wider scope holds)."""

import ipaddress
import os
import random
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
import dnswire  # noqa: E402
import geoq  # noqa: E402

CONTINENTS = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
SEED = 7871  # fixed: the same addresses every run

# Not globally routed (RFC 6890 and friends): never picked.
RESERVED4 = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3")]
# IPv6 space the RIRs hand out, so that most picks land in some database network.
BLOCKS6 = [ipaddress.ip_network(n) for n in (
    "2001:200::/23", "2001:400::/23", "2001:600::/23", "2001:1200::/23", "2001:1800::/23",
    "2400::/12", "2600::/12", "2800::/12", "2a00::/12", "2c00::/12")]


def countries(path):
    """code -> continent from the server's built-in table."""
    text = open(path, encoding="utf-8").read()
    return {a + b: cont for a, b, cont in
            re.findall(r"CC\(([A-Z]), ([A-Z]), ([A-Z]{2}), [-0-9.]+, [-0-9.]+\)", text)}


def pick_v4(rng, n):
    out = []
    while len(out) < n:
        a = ipaddress.IPv4Address(rng.getrandbits(32))
        if any(a in net for net in RESERVED4):
            continue
        src = 24 if len(out) % 2 == 0 else 32
        out.append(ipaddress.ip_network("%s/%d" % (a, src), strict=False))
    return out


def pick_v6(rng, n, db, pool):
    """n IPv6 client subnets: random ones from the RIR blocks, kept so that about 70 % have a
    record in db (random IPv6 addresses mostly land in unallocated space).  Returns the
    subnets and their lookups.  Bounded: at most 40 × n candidates."""
    want_found, want_empty = n - n * 3 // 10, n * 3 // 10
    found, empty = [], []
    tried = 0
    while (len(found) < want_found or len(empty) < want_empty) and tried < 40 * n:
        batch = []
        for _ in range(64):
            blk = BLOCKS6[rng.randrange(len(BLOCKS6))]
            a = ipaddress.IPv6Address(int(blk.network_address) |
                                      rng.getrandbits(128 - blk.prefixlen))
            src = 48 if (tried + len(batch)) % 2 == 0 else 56
            batch.append(ipaddress.ip_network("%s/%d" % (a, src), strict=False))
        tried += len(batch)
        for net, res in zip(batch, pool.map(lambda x: lookup(db, x.network_address), batch)):
            if res[1] is not None and len(found) < want_found:
                found.append((net, res))
            elif res[1] is None and len(empty) < want_empty:
                empty.append((net, res))
    picked = found + empty
    return [p[0] for p in picked], [p[1] for p in picked]


# ---- mmdblookup's dump ---------------------------------------------------------------

def parse_dump(lines):
    """mmdblookup's record dump (one token per line: '"key":', 'VALUE <type>', braces and
    brackets) as python values."""
    pos = 0

    def value():
        nonlocal pos
        line = lines[pos].strip()
        pos += 1
        if line == "{":
            m = {}
            while lines[pos].strip() != "}":
                key = lines[pos].strip()
                pos += 1
                m[key[1:key.rindex('"')]] = value()
            pos += 1
            return m
        if line == "[":
            a = []
            while lines[pos].strip() != "]":
                a.append(value())
            pos += 1
            return a
        v, typ = re.match(r"^(.*) <([a-z0-9_]+)>$", line).groups()
        return v[1:-1] if typ == "utf8_string" else v

    lines = [x for x in lines if x.strip()]
    return value() if lines else None


def lookup(db, addr):
    """(prefix in the address's family, record or None, database type) as mmdblookup sees
    them."""
    out = subprocess.run(["mmdblookup", "--file", db, "--ip", str(addr), "-v"],
                         capture_output=True, text=True).stdout
    v6db = re.search(r"IP version:\s*IPv6", out) is not None
    m = re.search(r"Record prefix length: (\d+)", out)
    prefix = int(m.group(1)) if m else None
    if prefix is not None and addr.version == 4 and v6db:
        prefix = max(prefix - 96, 0)
    record = None
    if "Could not find an entry" not in out and m:
        record = parse_dump(out[m.end():].splitlines())
    t = re.search(r"Type:\s*(.*)", out)
    return prefix, record, t.group(1).strip() if t else ""


def get(rec, *path):
    for p in path:
        if isinstance(rec, dict) and p in rec:
            rec = rec[p]
        elif isinstance(rec, list) and isinstance(p, int) and p < len(rec):
            rec = rec[p]
        else:
            return None
    return rec


def geoip2_schema(dbtype):
    """The server's rule: these marks in database_type mean the GeoIP2 schema."""
    return any(m in dbtype for m in ("GeoIP2", "GeoLite2", "GeoIP", "DBIP", "dbip", "DB-IP"))


def place(rec, table, dbtype):
    """(continent, country, subdivision) the way the server reads a record."""
    if rec is None:
        return "", "", ""
    if not geoip2_schema(dbtype):
        cc, cont, sub = get(rec, "country_code"), get(rec, "continent_code"), get(rec, "state1")
    else:
        cc = get(rec, "country", "iso_code") or get(rec, "registered_country", "iso_code")
        cont, sub = get(rec, "continent", "code"), get(rec, "subdivisions", 0, "iso_code")
    cc, cont, sub = (cc or "").upper(), (cont or "").upper(), (sub or "").upper()
    if not cont and cc in table:
        cont = table[cc]
    return cont, cc, sub


def choose(pl, keymap):
    cont, cc, sub = pl
    if cc and sub and "%s-%s" % (cc, sub) in keymap:
        return "%s-%s" % (cc, sub)
    if cc and cc not in CONTINENTS and cc in keymap:
        return cc
    if cont in keymap and cont in CONTINENTS:
        return cont
    return "default"


def main(argv):
    port, qname, db, label = int(argv[1]), argv[2], argv[3], argv[4]
    n4, n6, table = int(argv[5]), int(argv[6]), countries(argv[7])
    keymap = dict(kv.split("=") for kv in argv[8].split(","))
    key_of_addr = {v: k for k, v in keymap.items()}
    rng = random.Random(SEED)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        nets = pick_v4(rng, n4)
        looked = list(pool.map(lambda n: lookup(db, n.network_address), nets))
        v6, v6looked = pick_v6(rng, n6, db, pool)
    nets += v6
    looked += v6looked
    t1 = time.monotonic()
    replies = geoq.run(port, [(qname, 1, str(n)) for n in nets])
    t2 = time.monotonic()
    dnswire.note("%s: mmdblookup on %d addresses (and IPv6 candidates) in %.2f s, %d queries "
                 "in %.2f s" % (label, len(nets), t1 - t0, len(nets), t2 - t1))

    for fam in (4, 6):
        idx = [i for i, n in enumerate(nets) if n.version == fam]
        if not idx:
            continue
        lost, wrong_region, wrong_scope, found, keys = [], [], [], 0, {}
        scopes, prefixes = [], []
        for i in idx:
            n, p = nets[i], replies[i]
            prefix, rec, dbtype = looked[i]
            pl = place(rec, table, dbtype)
            want_key = choose(pl, keymap)
            found += rec is not None
            keys[want_key] = keys.get(want_key, 0) + 1
            if p is None or p["rcode"] != 0:
                lost.append(str(n))
                continue
            addrs = geoq.reply_addrs(p)
            got_key = key_of_addr.get(addrs[0], "?") if len(addrs) == 1 else "?%r" % addrs
            if got_key != want_key:
                wrong_region.append("%s: %s/%s/%s -> want %s, got %s"
                                    % (n, pl[0] or "-", pl[1] or "-", pl[2] or "-",
                                       want_key, got_key))
            want_scope = min(prefix, n.prefixlen) if prefix is not None else None
            got_scope = geoq.reply_ecs_scope(p)
            if got_scope is None or want_scope is None or not 1 <= got_scope <= want_scope:
                wrong_scope.append("%s: mmdblookup prefix /%s -> want scope 1 to %s, got %s"
                                   % (n, prefix, want_scope, got_scope))
            else:
                scopes.append(got_scope)
                prefixes.append(want_scope)
        tag = "%s IPv%d" % (label, fam)
        dnswire.note("%s: %d of %d addresses have a record; map keys expected: %s"
                     % (tag, found, len(idx),
                        ", ".join("%s×%d" % kv for kv in sorted(keys.items()))))
        dnswire.check(not lost, "%s: all %d queries answered NOERROR" % (tag, len(idx)),
                      "no answer or an error for: %s" % " ".join(lost[:10]))
        dnswire.check(found >= len(idx) // 2 and len(keys) >= 3,
                      "%s: the sample is not vacuous (%d records, %d map keys)"
                      % (tag, found, len(keys)))
        dnswire.check(not wrong_region,
                      "%s: the region matches mmdblookup's place for %d/%d addresses"
                      % (tag, len(idx) - len(wrong_region), len(idx)), *wrong_region[:10])
        dnswire.check(not wrong_scope,
                      "%s: the ECS scope is /1 or wider than mmdblookup's prefix (capped at "
                      "the source) for %d/%d addresses"
                      % (tag, len(idx) - len(wrong_scope), len(idx)), *wrong_scope[:10])
        if scopes:
            dnswire.note("%s: median scope /%d, median database prefix (capped) /%d"
                         % (tag, sorted(scopes)[len(scopes) // 2],
                            sorted(prefixes)[len(prefixes) // 2]))


if __name__ == "__main__":
    main(sys.argv)
