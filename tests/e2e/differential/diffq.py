#!/usr/bin/env python3
# diffq.py — differential.sh's engine: builds the query corpus over the rich zone, asks
# every server each query (UDP pipelined, TCP on one pipelined connection), and compares
# the answers with meridiand's.  SPDX-License-Identifier: MIT
"""Usage: diffq.py ZONEFILE ORIGIN SEED COUNT name=host:port...

The first server is the one under test (meridiand), the second the reference (knotd).
A difference from the reference passes only when allowed.py explains it.  A third server
(nsd), when given, breaks ties for whoever reads a failure: each unexplained difference
is printed with the query, every answer, and the side the third server takes.  Prints
"ok - ..." / "not ok - ..." lines for py_tap; DIFF_SHOW caps the differences printed
(one of each kind)."""

import os
import random
import select
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402

T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16,
     "RP": 17, "AAAA": 28, "SRV": 33, "NAPTR": 35, "DNAME": 39, "OPT": 41, "DS": 43,
     "SSHFP": 44, "RRSIG": 46, "DNSKEY": 48, "TLSA": 52, "SVCB": 64, "HTTPS": 65,
     "ANY": 255, "CAA": 257, "TYPE65400": 65400}
TNAME = {v: k for k, v in T.items()}
# The types the answer code treats specially, and a few it does not.
QTYPES = ["A", "AAAA", "NS", "CNAME", "SOA", "MX", "SRV", "TXT", "DS", "DNAME", "ANY",
          "PTR", "DNSKEY", "RRSIG", "TYPE65400", "CAA"]
# Rdata layouts with names: (fixed bytes before, number of names, rest opaque).
NAMED = {2: (0, 1), 5: (0, 1), 12: (0, 1), 39: (0, 1), 6: (0, 2), 15: (2, 1),
         33: (6, 1), 17: (0, 2)}


# ---- the corpus ---------------------------------------------------------------------

def zone_owners(path, origin):
    """Every owner name in the zone file (lower case, absolute), with the empty
    non-terminals between them and the origin."""
    owners = {owner for owner, _, _ in records(path, origin)}
    names = set(owners)
    for n in owners:
        labels = n.split(".")
        for i in range(1, len(labels)):
            parent = ".".join(labels[i:])
            if parent.endswith(origin) and len(parent) > len(origin):
                names.add(parent)
    return sorted(names)


def zone_cuts(path, origin):
    """Owners of NS records other than the apex: the delegations."""
    return {owner for owner, rtype, _ in records(path, origin)
            if rtype == "NS" and owner != origin}


def records(path, origin):
    """(owner, type, rdata tokens) for each record of the zone file, owners lower-case,
    rdata as written.  Reads as much master-file syntax as the rich zone needs for its
    owners and names: one record a line or parentheses over several.  A ";" or a
    parenthesis inside a quoted string (TXT) may cut that record's rdata short; no name
    is read from such a record."""
    out, last, text = [], origin, ""
    for raw in open(path):
        raw = raw.split(";", 1)[0].rstrip()
        text = text + " " + raw if text else raw
        if text.count("(") > text.count(")"):
            continue
        line, text = text, ""
        if not line.strip() or line.startswith("$"):
            continue
        tok = line.replace("(", " ").replace(")", " ").split()
        if not line[0].isspace():
            last = absolute(tok[0], origin).lower()
            tok = tok[1:]
        while tok and (tok[0].isdigit() or tok[0].upper() == "IN"):
            tok = tok[1:]
        if tok:
            out.append((last, tok[0].upper(), tok[1:]))
    return out


def absolute(name, origin):
    return origin if name == "@" else name if name.endswith(".") else name + "." + origin


# Where the names sit among a type's rdata tokens.
NAME_TOKENS = {"NS": [0], "CNAME": [0], "PTR": [0], "DNAME": [0], "MX": [1], "SRV": [3],
               "SOA": [0, 1], "RP": [0, 1]}


def zone_spellings(path, origin):
    """Each name in the zone's rdata, by owner and type, as the zone spells it."""
    spelt = {}
    for owner, rtype, rd in records(path, origin):
        for i in NAME_TOKENS.get(rtype, []):
            spelt.setdefault((owner, rtype), set()).add(absolute(rd[i], origin))
    return spelt


def case_kept(spelt, answers):
    """Names in meridiand's rdata that do not keep the zone's case (RFC 4343 §4.1): each
    record whose owner and type the zone holds must spell its names as the zone does."""
    bad = []
    for i, a in answers.items():
        for owner, rtype, text in a["named"]:
            want = spelt.get((owner, rtype))
            if want is None:
                continue  # synthesised: a wildcard's or a DNAME's CNAME
            names = [t for t in text.split() if t.endswith(".")]
            if not all(n in want for n in names):
                bad.append((i, owner, rtype, text))
    return bad


def extra_names(names, origin):
    """Names the zone does not hold: below each owner, next to it, under wildcards."""
    out = ["nx." + origin, "a.b.nx." + origin, "nx.ent." + origin, "zz.c.b.ent." + origin]
    for n in names:
        if n.startswith("*."):
            out += ["any" + n[1:], "a.b" + n[1:], "sub" + n[1:]]
        else:
            out.append("below." + n)
    return out


def mixed_case(name, rng):
    mode = rng.random()
    if mode < 0.4:
        return name
    if mode < 0.5:
        return name.upper()
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name)


def corpus(path, origin, seed, count):
    rng = random.Random(seed)
    names = zone_owners(path, origin)
    allnames = names + extra_names(names, origin)
    combos = [(n, t) for n in allnames for t in QTYPES]
    rng.shuffle(combos)
    queries = []
    # Every name with every type once, then again in other dress until there are count.
    while len(queries) < max(count, len(combos)):
        for n, t in combos:
            if len(queries) >= max(count, len(combos)):
                break
            tcp = rng.random() < 0.35
            edns = rng.choice([None, 512, 1232, 4096])
            flags = rng.choice([(False, False), (True, False), (False, True), (True, True)])
            queries.append({"name": mixed_case(n, rng), "type": t, "tcp": tcp,
                            "edns": edns, "do": flags[0] and edns is not None,
                            "cd": flags[1]})
    return queries


def wire(q, qid):
    flags = 0x0010 if q["cd"] else 0
    msg = dnswire.header(qid, flags, 1, 0, 0, 1 if q["edns"] else 0)
    msg += dnswire.encode_name(q["name"]) + struct.pack("!HH", T[q["type"]], 1)
    if q["edns"]:
        msg += dnswire.opt_rr(udp=q["edns"], do=q["do"])
    return msg


def describe(q):
    e = "noedns" if q["edns"] is None else "edns%d" % q["edns"]
    return "%s %s %s %s%s%s" % (q["name"], q["type"], "tcp" if q["tcp"] else "udp", e,
                                " +do" if q["do"] else "", " +cd" if q["cd"] else "")


# ---- asking -------------------------------------------------------------------------

def ask_udp(addr, msgs, timeout=60.0):
    """Replies to msgs (keyed by id), sent in windows; resends what is lost."""
    host, port = addr
    s = dnswire.udp_socket(host, 0.2)
    replies, pending = {}, dict(msgs)
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        ids = list(pending)[:64]
        for i in ids:
            s.sendto(pending[i], (host, port))
        end = time.time() + 1.0
        waiting = set(ids)
        while waiting and time.time() < end:
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                continue
            data, _ = s.recvfrom(65535)
            qid = struct.unpack("!H", data[:2])[0]
            if qid in pending:
                replies[qid] = data
                del pending[qid]
                waiting.discard(qid)
    s.close()
    return replies


def ask_tcp(addr, msgs, timeout=60.0):
    host, port = addr
    replies = {}
    s = dnswire.tcp_connect(host, port, timeout)
    s.setblocking(False)
    out = b"".join(dnswire.frame(m) for m in msgs.values())
    inbuf = b""
    deadline = time.time() + timeout
    while len(replies) < len(msgs) and time.time() < deadline:
        r, w, _ = select.select([s], [s] if out else [], [], 0.5)
        if w:
            n = s.send(out[:65536])
            out = out[n:]
        if r:
            chunk = s.recv(65536)
            if not chunk:
                break
            inbuf += chunk
            while len(inbuf) >= 2:
                n = struct.unpack("!H", inbuf[:2])[0]
                if len(inbuf) < 2 + n:
                    break
                m = inbuf[2:2 + n]
                inbuf = inbuf[2 + n:]
                replies[struct.unpack("!H", m[:2])[0]] = m
    s.close()
    return replies


def ask_all(addr, queries):
    udp = {i: wire(q, i) for i, q in enumerate(queries) if not q["tcp"]}
    tcp = {i: wire(q, i) for i, q in enumerate(queries) if q["tcp"]}
    replies = ask_udp(addr, udp)
    replies.update(ask_tcp(addr, tcp))
    return replies


# ---- reading answers ----------------------------------------------------------------

def name_at(msg, off):
    """The name at off with its case as sent, and the offset after it."""
    return dnswire.read_name(msg, off)


def rdata_text(msg, off, rtype, rdlen):
    """Rdata as comparable text: names decompressed with their case, the rest in hex."""
    lay = NAMED.get(rtype)
    if not lay:
        return msg[off:off + rdlen].hex()
    end, parts = off + rdlen, [msg[off:off + lay[0]].hex()]
    p = off + lay[0]
    for _ in range(lay[1]):
        n, p = name_at(msg, p)
        parts.append(n)
    parts.append(msg[p:end].hex())
    return " ".join(x for x in parts if x)


def parse(msg):
    """The answer as comparable fields.  Names are compared without case, except an owner
    in the answer section that is the question's name, which must come back as sent
    (allowed.py says why)."""
    h = dnswire.parse_header(msg)
    off, qname = 12, ""
    for _ in range(h["qd"]):
        qname, off = name_at(msg, off)
        off += 4
    secs, opt, named = [], None, []
    for sec, count in enumerate((h["an"], h["ns"], h["ar"])):
        rrs = set()
        for _ in range(count):
            name, off = name_at(msg, off)
            rtype, cls, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            if rtype == T["OPT"]:
                opt = {"do": bool(ttl & 0x8000), "ext": ttl >> 24}
            else:
                if sec or name.lower() != qname.lower():
                    name = name.lower()
                text = rdata_text(msg, off, rtype, rdlen)
                if NAMED.get(rtype):
                    named.append((name.lower(), TNAME[rtype], text))
                rrs.add((name, TNAME.get(rtype, str(rtype)), ttl, text.lower()))
            off += rdlen
        secs.append(frozenset(rrs))
    flags = struct.unpack("!H", msg[2:4])[0]
    return {"rcode": h["rcode"] | ((opt or {}).get("ext", 0) << 4), "aa": h["aa"],
            "tc": h["tc"], "ad": (flags >> 5) & 1, "cd": (flags >> 4) & 1,
            "opt": opt is not None, "do": (opt or {}).get("do", False),
            "an": secs[0], "ns": secs[1], "ar": secs[2], "named": named}


def show(r):
    if r is None:
        return ["  (no answer)"]
    lines = ["  rcode=%s aa=%d tc=%d cd=%d opt=%s do=%s" % (
        dnswire.RCODES.get(r["rcode"], r["rcode"]), r["aa"], r["tc"], r["cd"], r["opt"],
        r["do"])]
    for sec in ("an", "ns", "ar"):
        for rr in sorted(r[sec]):
            lines.append("  %s: %s %d %s %s" % (sec, rr[0], rr[2], rr[1], rr[3]))
    return lines


# ---- comparing ----------------------------------------------------------------------

def differences(a, b):
    """The fields in which two parsed answers differ."""
    if a is None or b is None:
        return {"missing"} if (a is None) != (b is None) else set()
    return {k for k in ("rcode", "aa", "tc", "cd", "opt", "do", "an", "ns", "ar")
            if a[k] != b[k]}


def tie(servers, ans, diff):
    """What the third server says, to tell a fault of ours from one of the reference's."""
    if len(servers) < 3:
        return ""
    if not diff & differences(ans[0], ans[2]):
        return " (%s agrees with %s)" % (servers[2][0], servers[0][0])
    if not diff & differences(ans[1], ans[2]):
        return " (%s agrees with %s)" % (servers[2][0], servers[1][0])
    return " (%s agrees with neither)" % servers[2][0]


def compare(queries, answers):
    """Unexplained differences as (query, fields, every answer); counts of the allowed
    ones by reason."""
    import allowed  # beside this file
    unexplained, explained = [], {}
    for i, q in enumerate(queries):
        mine, ref = answers[0].get(i), answers[1].get(i)
        diff = differences(mine, ref)
        if not diff:
            continue
        reason = allowed.explain(q, mine, ref, diff)
        if reason:
            explained[reason] = explained.get(reason, 0) + 1
        else:
            unexplained.append((q, diff, [a.get(i) for a in answers]))
    return unexplained, explained


def report(servers, unexplained):
    """How many differences of each kind, then the first of each kind in full."""
    kinds, shown = {}, []
    for q, diff, ans in unexplained:
        k = "%s %s: %s" % ("tcp" if q["tcp"] else "udp", q["type"], ",".join(sorted(diff)))
        if k not in kinds:
            shown.append((q, diff, ans))
        kinds[k] = kinds.get(k, 0) + 1
    notes = ["%d× %s" % (n, k) for k, n in sorted(kinds.items())]
    for q, diff, ans in shown[:int(os.environ.get("DIFF_SHOW", "30"))]:
        notes.append("%s: differs in %s%s" % (describe(q), ", ".join(sorted(diff)),
                                              tie(servers, ans, diff)))
        for (label, _), a in zip(servers, ans):
            notes.append(" %s:" % label)
            notes += show(a)
    return notes


def main():
    zonefile, origin, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    servers = []
    for arg in sys.argv[5:]:
        label, hp = arg.split("=", 1)
        host, port = hp.rsplit(":", 1)
        servers.append((label, (host, int(port))))
    import allowed  # beside this file
    allowed.CUTS.update(zone_cuts(zonefile, origin))
    queries = corpus(zonefile, origin, seed, count)
    answers = [{i: parse(m) for i, m in ask_all(addr, queries).items()} for _, addr in servers]
    dnswire.note("%d queries to %s" % (len(queries), ", ".join(l for l, _ in servers)))
    unexplained, explained = compare(queries, answers)
    for reason, n in sorted(explained.items()):
        dnswire.note("allowed, %d: %s" % (n, reason))
    dnswire.check(len(answers[0]) == len(queries) and len(answers[1]) == len(queries),
                  "every server answered every query",
                  *["%s answered %d of %d" % (l, len(a), len(queries))
                    for (l, _), a in zip(servers, answers)])
    bad = case_kept(zone_spellings(zonefile, origin), answers[0])
    dnswire.check(not bad, "%s keeps the zone's case in every name in rdata" % servers[0][0],
                  *["%s: %s %s %s" % (describe(queries[i]), o, t, x) for i, o, t, x in bad[:20]])
    dnswire.check(not unexplained, "%d queries: no unexplained difference from %s (%d found)"
                  % (len(queries), servers[1][0], len(unexplained)),
                  *report(servers, unexplained))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
