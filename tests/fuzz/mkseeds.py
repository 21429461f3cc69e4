#!/usr/bin/env python3
# mkseeds.py — writes the hand-picked wire-format seeds of corpus/fuzz_query/: queries for
# each answer path of fuzz_common.h's world, with and without EDNS, Client Subnet (IPv4,
# IPv6, odd prefixes), DO, other versions and opcodes, and a few broken ones.  Run once
# when the world changes; the output is committed.  stdlib only.
# SPDX-License-Identifier: MIT
import os
import struct
import sys

A, NS, CNAME, SOA, PTR, HINFO, MX, TXT, AAAA, SRV = 1, 2, 5, 6, 12, 13, 15, 16, 28, 33
DNAME, OPT, DS, AXFR, ANY, CAA = 39, 41, 43, 252, 255, 257

# Control byte (fuzz_query.c): bits 0-1 source kind, 2-4 address index, 5 ecs off,
# 6 TCP first, 7 trace.
V4, V6, MAPPED, TCP, TRACE, NOECS = 1, 2, 3, 0x40, 0x80, 0x20


def src(kind, idx):
    return kind | (idx << 2)


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def ecs(family, source, addr):
    alen = (source + 7) // 8
    body = struct.pack("!HBB", family, source, 0) + bytes(addr[:alen])
    return struct.pack("!HH", 8, len(body)) + body


def opt(udp=1232, version=0, do=False, options=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack("!HHIH", OPT, udp, ttl, len(options)) + options


def query(qname, qtype=A, qid=0x1234, opcode=0, rd=True, edns=None, qclass=1, an=b"", ancount=0):
    flags = (opcode & 0xF) << 11 | (0x100 if rd else 0)
    ar = 1 if edns is not None else 0
    q = struct.pack("!HHHHHH", qid, flags, 1, ancount, 0, ar)
    q += name(qname) + struct.pack("!HH", qtype, qclass) + an
    return q + (edns if edns is not None else b"")


def v4(a):
    return [int(x) for x in a.split(".")]


def v6(a):
    import ipaddress
    return list(ipaddress.IPv6Address(a).packed)


C = ".example.com."
SEEDS = {
    # static answers
    "a_www": (0, query("www" + C)),
    "aaaa_www_case": (src(V4, 0), query("WwW.ExAmPlE.cOm.", AAAA, edns=opt())),
    "mx_apex_additional": (0, query("example.com.", MX, edns=opt())),
    "any_apex_udp": (0, query("example.com.", ANY)),
    "any_apex_tcp": (TCP, query("example.com.", ANY, edns=opt(4096))),
    "nxdomain": (0, query("nope" + C, edns=opt(do=True))),
    "nodata_ent": (0, query("b.ent" + C, TXT)),
    "refused_other_zone": (0, query("www.example.org.")),
    "cname_chain": (0, query("c1" + C, edns=opt())),
    "cname_loop": (0, query("loop1" + C)),
    "cname_long_chain": (TCP, query("ch1" + C, AAAA)),
    "cname_dangling": (0, query("dangling" + C)),
    "cname_out_of_zone": (0, query("out" + C, TXT)),
    "wildcard_txt": (0, query("anything.w" + C, TXT)),
    "wildcard_mx": (0, query("a.b.w" + C, MX, edns=opt())),
    "wildcard_cname": (0, query("q.cw" + C)),
    "wildcard_dyna": (src(V4, 1), query("host.wdyn" + C, edns=opt())),
    "referral_glue": (0, query("host.sub" + C, AAAA)),
    "referral_glue_tc": (0, query("x.glue" + C)),
    "ds_at_cut": (0, query("sub" + C, DS)),
    "ds_child_apex": (0, query("child" + C, DS, edns=opt())),
    "child_zone": (0, query("www.child" + C)),
    "dname": (0, query("x.dn" + C)),
    "dname_self": (TCP, query("a.a.a.a.dnself" + C)),
    "dname_out": (0, query("www.dnout" + C)),
    "dname_to_dyna": (src(V6, 1), query("x.dndyn" + C, AAAA, edns=opt())),
    "srv_additional": (0, query("srv._tcp" + C, SRV, edns=opt())),
    "big_txt_udp_tc": (0, query("big" + C, TXT, edns=opt(1232))),
    "big_txt_512": (0, query("tobig" + C, TXT)),
    "huge_tcp": (TCP, query("tohuge" + C, TXT)),
    "hugeany_tcp": (TCP, query("hugeany" + C, ANY, edns=opt(65535))),
    "types_any": (TCP | TRACE, query("types" + C, ANY)),
    "ptr": (0, query("ptr" + C, PTR)),
    # dynamic answers
    "dyna_geo_ecs4": (0, query("dyn" + C, edns=opt(options=ecs(1, 24, v4("11.3.3.0"))))),
    "dyna_geo_ecs6": (0, query("dyn" + C, AAAA, edns=opt(options=ecs(2, 48, v6("2600:1000:2000::"))))),
    "dyna_geo_src": (src(V4, 0) | TRACE, query("dyn" + C)),
    "dyna_geo_mapped": (src(MAPPED, 2), query("dyn" + C)),
    "dyna_weighted": (src(V4, 3), query("api" + C, edns=opt())),
    "dyna_geo_weights": (src(V4, 1), query("mix" + C)),
    "dyna_nearest_v6": (src(V6, 2), query("near" + C, AAAA)),
    "dyna_latency": (src(V4, 5) | TRACE, query("app" + C)),
    "dyna_latency_ecs": (0, query("app" + C, edns=opt(options=ecs(1, 16, v4("11.2.0.0"))))),
    "dyna_failover": (src(V6, 3), query("pay" + C)),
    "dyna_max_answers": (0, query("one" + C)),
    "dyna_fail_open": (TRACE, query("down" + C, AAAA, edns=opt())),
    "dyna_no_v6": (0, query("v4" + C, AAAA)),
    "dyna_any_tcp": (TCP, query("dyn" + C, ANY)),
    "dyna_nets_ecs0": (0, query("dyn" + C, edns=opt(options=ecs(1, 0, [])))),
    "dyna_ecs_off": (NOECS | src(V4, 4), query("dyn" + C, edns=opt(options=ecs(1, 20, v4("11.12.32.0"))))),
    "dync": (src(V4, 2), query("cdn" + C, edns=opt())),
    "dync_cname_q": (0, query("edge" + C, CNAME)),
    "cname_to_dync": (src(V6, 0), query("tocdn" + C, AAAA)),
    "cname_to_dyna": (0, query("todyn" + C)),
    # errors and odd packets
    "badvers": (0, query("www" + C, edns=opt(version=1))),
    "notimp_opcode": (0, query("www" + C, opcode=2)),
    "axfr_refused": (TCP, query("example.com.", AXFR)),
    "class_ch": (0, query("version.bind.", TXT, qclass=3)),
    "qtype_opt": (0, query("www" + C, OPT)),
    "two_opts": (0, struct.pack("!HHHHHH", 7, 0, 1, 0, 0, 2) + name("www" + C) +
                 struct.pack("!HH", A, 1) + opt() + opt()),
    "bad_ecs_bits": (0, query("dyn" + C, edns=opt(options=ecs(1, 23, [11, 3, 3])))),
    "other_options": (0, query("www" + C, edns=opt(options=struct.pack("!HH", 3, 0) +
                                                      struct.pack("!HH", 10, 8) + b"\1" * 8))),
    "answer_rr_compressed": (0, query("www" + C, ancount=1,
                                      an=b"\xc0\x0c" + struct.pack("!HHIH", A, 1, 60, 4) + b"\1\2\3\4")),
    "no_question": (0, struct.pack("!HHHHHH", 9, 0, 0, 0, 0, 0)),
    "response_bit": (0, struct.pack("!HHHHHH", 9, 0x8000, 1, 0, 0, 0) + name("www" + C) + b"\0\1\0\1"),
    "truncated_question": (0, query("www" + C)[:20]),
    "max_name": (0, query(".".join(["a" * 63] * 3 + ["b" * 49]) + C.rstrip("."))),
    "label_127": (TCP, query(".".join("x" * 100) + C)),
    # NSID, CHAOS identity, cookies and keepalive (zones/edns.c, zones/chaos.c)
    "id_server_ch": (0, query("id.server.", TXT, qclass=3, edns=opt())),
    "hostname_bind_any": (0, query("hostname.bind.", ANY, qclass=3)),
    "nsid_512": (src(V4, 1), query("www" + C, edns=opt(udp=512, options=struct.pack("!HH", 3, 0)))),
    "cookie_client": (src(V4, 2), query("www" + C, edns=opt(options=struct.pack("!HH", 10, 8) + b"\2" * 8))),
    "cookie_server": (src(V6, 1), query("www" + C, edns=opt(options=struct.pack("!HH", 10, 24) + b"\2" * 8 +
                                                        b"\1\0\0\0" + b"\3" * 12))),
    "cookie_bad_len": (0, query("www" + C, edns=opt(options=struct.pack("!HH", 10, 12) + b"\2" * 12))),
    "keepalive_tcp": (TCP | src(V4, 0), query("www" + C, edns=opt(options=struct.pack("!HH", 11, 0)))),
    "keepalive_udp": (0, query("www" + C, edns=opt(options=struct.pack("!HH", 11, 2) + b"\0\144"))),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "corpus", "fuzz_query")
    os.makedirs(out, exist_ok=True)
    for label, (ctl, msg) in SEEDS.items():
        with open(os.path.join(out, label), "wb") as f:
            f.write(bytes([ctl]) + msg)
    print(f"mkseeds.py: {len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
