# allowed.py — the differences from Knot DNS that the RFCs allow, each with its reason.
# SPDX-License-Identifier: MIT
"""explain(query, meridian, knot, fields) returns the reason a difference is allowed, or
None.  Answers are dicts from diffq.parse: rcode, aa, tc, cd, opt, do and the sections
an, ns, ar as sets of (owner, type, ttl, rdata).

Before any rule, diffq.parse compares names without case, except an answer-section owner
that is the question's name, which must come back exactly as sent.  RFC 4343 §4.1 asks a
server to keep the case of names it copies; meridiand keeps the zone's (static.sh and
test_answer check it), while Knot and NSD lower-case zone data when they load it and then
compress names against the question without regard to case, so the case of any other
name says nothing about whether the answer is right (RFC 1035 §2.3.3: names compare
without case)."""


def _types(section):
    return {rr[1] for rr in section}


def _rrset(section, rtype):
    return {rr for rr in section if rr[1] == rtype}


def _same(mine, ref, keys):
    return all(mine[k] == ref[k] for k in keys)


def any_subset(q, mine, ref, diff):
    """RFC 8482 §4.1: an ANY query may get one RRset, some, or all of them, over either
    transport (meridiand answers one over UDP and all over TCP; Knot and NSD pick one
    either way).  A DNAME on the way and the CNAME it makes must be the same in both;
    after them each answer holds whole RRsets of one name, the same name, that agree
    where both have a type, and the additional section follows the RRsets chosen
    (RFC 1035 §4.1.1 lets it be what the answer needs)."""
    if q["type"] != "ANY" or not diff <= {"an", "ar"}:
        return False
    if "CNAME" in _types(mine["an"]) and "DNAME" not in _types(mine["an"]):
        return False  # RFC 1034 §4.3.2 step 3a: ANY at a CNAME owner gets the CNAME alone
    chain = {"CNAME", "DNAME"}
    if {rr for rr in mine["an"] if rr[1] in chain} != {rr for rr in ref["an"] if rr[1] in chain}:
        return False
    data = [{rr for rr in a["an"] if rr[1] not in chain} for a in (mine, ref)]
    if not data[0] or not data[1] or len({rr[0].lower() for rr in data[0] | data[1]}) != 1:
        return False
    return all(_rrset(data[0], t) == _rrset(data[1], t)
               for t in _types(data[0]) & _types(data[1]))


def truncated_glue(q, mine, ref, diff):
    """RFC 2181 §9 and RFC 9471 §3: a referral whose in-bailiwick glue does not all fit
    is sent with TC=1 and as much as fits; how much fits depends on name compression.
    Every additional record must still be an address of one of the name servers."""
    if diff != {"ar"} or not (mine["tc"] and ref["tc"]):
        return False
    targets = {rr[3] for rr in mine["ns"] if rr[1] == "NS"}
    return all(rr[1] in ("A", "AAAA") and rr[0] in targets for rr in mine["ar"] | ref["ar"])


def truncated(q, mine, ref, diff):
    """RFC 2181 §9: a client ignores the records of a reply with TC=1 and asks again over
    TCP.  meridiand sends a truncated reply with no records; Knot and NSD keep the ones
    that fit, such as the CNAME in front of an RRset too big for the datagram.  Each
    section of one reply must still be part of the other's."""
    if not (mine["tc"] and ref["tc"]) or not diff <= {"an", "ns", "ar"}:
        return False
    return all(mine[s] <= ref[s] or ref[s] <= mine[s] for s in ("an", "ns", "ar"))


def chain_cut(q, mine, ref, diff):
    """RFC 1034 §3.6.2 and §5.3.3: how many CNAMEs an answer follows is the server's
    choice; the resolver restarts from the last target.  Knot gives at most five
    CNAMEs, meridiand nine, NSD more.  The shorter answer must be the longer one's start:
    CNAMEs only, nothing after the last, NOERROR."""
    if not diff <= {"an", "ns", "ar", "rcode"}:
        return False
    short, long_ = (mine, ref) if len(mine["an"]) < len(ref["an"]) else (ref, mine)
    if not short["an"] < long_["an"] or short["rcode"] != 0 or short["ns"] or short["ar"]:
        return False
    if any(rr[1] != "CNAME" for rr in short["an"]):
        return False
    owners = {rr[0].lower() for rr in short["an"]}
    ends = [rr for rr in short["an"] if rr[3] not in owners]
    return len(ends) == 1


# Names with NS records below the apex, filled in by diffq from the zone file.
CUTS = set()


def below_cut(name):
    labels = name.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) + "." in CUTS for i in range(len(labels)))


def occluded_additional(q, mine, ref, diff):
    """RFC 1034 §4.3.2 step 6: additional data is what "may be useful", so it may be left
    out.  For an MX or SRV target below a zone cut, Knot adds the glue it holds; meridiand,
    like NSD, adds no data of the child zone outside a referral (RFC 2181 §5.4.1 ranks
    glue below the data a resolver may cache from an answer).  Only such records may be
    missing."""
    if diff != {"ar"} or not mine["ar"] <= ref["ar"]:
        return False
    return all(below_cut(rr[0]) for rr in ref["ar"] - mine["ar"])


def rrsig_at_cname(q, mine, ref, diff):
    """RFC 1034 §4.3.2 step 3a: a CNAME is followed for every QTYPE but CNAME (and ANY).
    Knot answers an RRSIG query at a CNAME owner from the owner itself, since RRSIGs may
    sit beside a CNAME (RFC 4035 §2.5); meridiand follows the CNAME, as NSD does.  In an
    unsigned zone Knot's answer is NODATA; meridiand's starts with the owner's CNAME."""
    if q["type"] != "RRSIG" or ref["an"] or not diff <= {"an", "ns", "ar", "rcode"}:
        return False
    first = [rr for rr in mine["an"] if rr[0] == q["name"]]
    return len(first) == 1 and first[0][1] == "CNAME"


RULES = [any_subset, truncated_glue, truncated, occluded_additional, rrsig_at_cname,
         chain_cut]


def explain(q, mine, ref, diff):
    if mine is None or ref is None:
        return None
    for rule in RULES:
        if rule(q, mine, ref, diff):
            return " ".join(rule.__doc__.split()).split(": ")[0] + ": " + rule.__name__
    return None
