# hostile.py — malformed and hostile packets over UDP and TCP, each with the exact reply
# (or silence) it must get.  SPDX-License-Identifier: MIT
"""Usage: python3 hostile.py HOST PORT [CAP]   (CAP: the server's tcp_max_clients, default 4)
Prints "ok - ..." / "not ok - ..." lines for lib.sh's py_tap."""

import os
import random
import socket
import struct
import sys
import time

from dnswire import (TYPE_A, check, encode_name, frame, header, note, opt_rr,
                     parse_header, query, rcode_name, recv_frame, tcp_connect, udp_socket,
                     wait_closed)

HOST, PORT = sys.argv[1], int(sys.argv[2])
SEED = 20261122  # the random cases are the same on every run
QID = 0xABCD
QUESTION = encode_name("www.example.com") + struct.pack("!HH", TYPE_A, 1)


# ---- expectations ---------------------------------------------------------------------

def sentinel_reply(s, sentinel_id):
    """Sends a good query and returns the datagrams that arrived before its answer.  From
    one source port every datagram reaches the same worker, in order, so anything the
    junk provoked comes first: no reply is proven without waiting out a timeout."""
    s.sendto(query("www.example.com", qid=sentinel_id), (HOST, PORT))
    before = []
    while True:
        d = s.recv(65535)
        if len(d) >= 2 and struct.unpack("!H", d[:2])[0] == sentinel_id:
            return before
        before.append(d)


def expect_silence(desc, packets):
    with udp_socket(HOST, 2.0) as s:
        for p in packets:
            s.sendto(p, (HOST, PORT))
        try:
            stray = sentinel_reply(s, 0x5E57)
        except socket.timeout:
            return check(False, desc, "not even the good query after them was answered")
    check(not stray, desc, "got %d replies, first %r" % (len(stray), stray[:1]))


def expect_rcode(desc, packet, rcode, opcode=0):
    with udp_socket(HOST, 2.0) as s:
        s.sendto(packet, (HOST, PORT))
        try:
            r = s.recv(65535)
        except socket.timeout:
            return check(False, desc, "no reply within 2 s")
    h = parse_header(r) if len(r) >= 12 else None
    good = (h is not None and h["id"] == QID and h["qr"] == 1 and h["opcode"] == opcode
            and rcode_name(r) == rcode)
    check(good, "%s: %s" % (desc, rcode), "reply header %r" % (h,))


# ---- UDP: short, responses, broken sections -------------------------------------------------

def udp_cases():
    ok_q = header(QID) + QUESTION
    expect_silence("an empty datagram gets no reply", [b""])
    expect_silence("datagrams of 1 to 11 bytes get no reply",
                   [bytes(range(1, n + 1)) for n in range(1, 12)])
    expect_silence("a message with QR=1 (a response) gets no reply",
                   [header(QID, 0x8000) + QUESTION])
    expect_rcode("a header-only message", header(QID, qd=0), "FORMERR")
    expect_rcode("QDCOUNT=2", header(QID, qd=2) + QUESTION + QUESTION, "FORMERR")
    expect_rcode("QDCOUNT=0 with a question after the header", header(QID, qd=0) + QUESTION,
                 "FORMERR")
    expect_rcode("a question cut off before QTYPE/QCLASS",
                 header(QID) + encode_name("www.example.com") + b"\0", "FORMERR")
    expect_rcode("a label running past the end", header(QID) + b"\x3fwww", "FORMERR")
    expect_rcode("a qname longer than 255 bytes",
                 header(QID) + (b"\x3f" + b"a" * 63) * 4 + b"\0" + QUESTION[-4:], "FORMERR")
    expect_rcode("a compression pointer in the question",
                 header(QID) + b"\xc0\x0c" + QUESTION[-4:], "FORMERR")
    # The additional record's owner points at itself.
    at = 12 + len(QUESTION)
    expect_rcode("a compression pointer loop in the additional section",
                 header(QID, ar=1) + QUESTION + struct.pack("!H", 0xC000 | at)
                 + struct.pack("!HHIH", TYPE_A, 1, 0, 4) + b"\x7f\0\0\1", "FORMERR")
    # Two pointers at each other: the second one points forward.
    expect_rcode("a two-pointer compression loop in the additional section",
                 header(QID, ar=1) + QUESTION + struct.pack("!HH", 0xC000 | (at + 2),
                                                            0xC000 | at)
                 + struct.pack("!HHIH", TYPE_A, 1, 0, 4) + b"\x7f\0\0\1", "FORMERR")
    expect_rcode("two OPT records", header(QID, ar=2) + QUESTION + opt_rr() + opt_rr(),
                 "FORMERR")
    expect_rcode("an OPT whose RDLENGTH runs past the end",
                 header(QID, ar=1) + QUESTION + opt_rr(rdlen=40), "FORMERR")
    expect_rcode("an OPT option whose length runs past the RDATA",
                 header(QID, ar=1) + QUESTION + opt_rr(options=struct.pack("!HH", 10, 8) + b"x"),
                 "FORMERR")
    expect_rcode("an OPT owned by a name other than the root",
                 header(QID, ar=1) + QUESTION + b"\x01x" + opt_rr()[1:], "FORMERR")
    expect_rcode("an OPT in the answer section",
                 header(QID, an=1) + QUESTION + opt_rr(), "FORMERR")
    expect_rcode("a Client Subnet option with a source prefix of 33 for IPv4",
                 header(QID, ar=1) + QUESTION
                 + opt_rr(options=struct.pack("!HHHBB", 8, 9, 1, 33, 0) + b"\xc0\0\2\1\0"),
                 "FORMERR")
    expect_rcode("an answer record whose RDLENGTH runs past the end",
                 header(QID, an=1) + QUESTION + b"\0" + struct.pack("!HHIH", TYPE_A, 1, 0, 9)
                 + b"\1\2", "FORMERR")
    expect_rcode("opcode IQUERY", header(QID, 1 << 11) + QUESTION, "NOTIMP", opcode=1)
    expect_rcode("opcode 15 (unassigned)", header(QID, 15 << 11) + QUESTION, "NOTIMP",
                 opcode=15)
    expect_rcode("a well-formed query (control)", ok_q, "NOERROR")


# ---- UDP: thousands of random datagrams ------------------------------------------------------

def random_datagram(rng, i):
    """Half pure noise, half a real query with bytes flipped, cut or appended, so the
    parser is reached past the header.  The ID is i, to match replies to datagrams."""
    if rng.random() < 0.5:
        d = bytearray(rng.randbytes(rng.randrange(0, 600)))
    else:
        d = bytearray(query("www.example.com", qid=0, edns=True)
                      + (opt_rr(options=struct.pack("!HHHBB", 8, 7, 1, 24, 0) + b"\xc0\0\2")
                         if rng.random() < 0.3 else b""))
        for _ in range(rng.randrange(1, 6)):
            d[rng.randrange(len(d))] = rng.randrange(256)
        if rng.random() < 0.3:
            del d[rng.randrange(len(d)):]
        if rng.random() < 0.3:
            d += rng.randbytes(rng.randrange(1, 64))
    if len(d) >= 2:
        d[0:2] = struct.pack("!H", i)
    return bytes(d)


def random_cases(count=3000, batch=50):
    rng = random.Random(SEED)
    sent, problems, unanswered = {}, [], 0
    with udp_socket(HOST, 1.0) as s:
        for start in range(0, count, batch):
            waiting = set()
            for i in range(start, min(start + batch, count)):
                d = random_datagram(rng, i)
                sent[i] = d
                if len(d) >= 12 and not d[2] & 0x80:
                    waiting.add(i)
                s.sendto(d, (HOST, PORT))
            try:
                while waiting:
                    r = s.recv(65535)
                    h = parse_header(r) if len(r) >= 12 else None
                    q = sent.get(h["id"]) if h else None
                    if q is None or h["id"] not in waiting:
                        problems.append("unexpected reply %r" % r[:16])
                        continue
                    waiting.discard(h["id"])
                    qop = (q[2] >> 3) & 0xF
                    if h["qr"] != 1 or h["opcode"] != qop or h["qd"] > 1:
                        problems.append("datagram %d: bad header %r" % (h["id"], h))
                    elif qop != 0 and h["rcode"] != 4:
                        problems.append("datagram %d: opcode %d got rcode %d, not NOTIMP"
                                        % (h["id"], qop, h["rcode"]))
                    elif qop == 0 and h["rcode"] not in (0, 1, 3, 4, 5):
                        problems.append("datagram %d: rcode %d" % (h["id"], h["rcode"]))
            except socket.timeout:
                unanswered += len(waiting)
                problems.append("no reply to datagrams %s" % sorted(waiting)[:10])
    eligible = sum(1 for d in sent.values() if len(d) >= 12 and not d[2] & 0x80)
    note("%d random datagrams (seed %d), %d of them queries by their header"
         % (count, SEED, eligible))
    check(not problems,
          "%d random datagrams: exactly the %d that are queries by their header get one "
          "well-formed reply each" % (count, eligible), *problems[:10])


# ---- TCP ------------------------------------------------------------------------------------

def tcp_random_65k():
    data = random.Random(SEED).randbytes(65 * 1024)
    with tcp_connect(HOST, PORT) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close before reading it all: that is allowed
        closed, waited, got = wait_closed(s, 3.0)
    frames, ok_frames = got, True
    while len(frames) >= 2:
        n = struct.unpack("!H", frames[:2])[0]
        body, frames = frames[2:2 + n], frames[2 + n:]
        ok_frames = ok_frames and len(body) == n and n >= 12 and parse_header(body)["qr"] == 1
    check(closed and ok_frames and not frames,
          "65 KB of random bytes over TCP: whole replies at most, then the connection closes",
          "closed=%s after %.2f s, %d bytes back" % (closed, waited, len(got)))


def tcp_zero_length():
    with tcp_connect(HOST, PORT) as s:
        s.sendall(b"\0\0")
        closed, waited, got = wait_closed(s, 3.0)
    check(closed and got == b"",
          "a TCP length prefix of 0: no reply, the server closes the connection",
          "closed=%s after %.2f s, got %r" % (closed, waited, got))


def tcp_response_bit():
    with tcp_connect(HOST, PORT) as s:
        s.sendall(frame(header(QID, 0x8000) + QUESTION))
        closed, waited, got = wait_closed(s, 3.0)
    check(closed and got == b"",
          "a message with QR=1 over TCP: no reply, the server closes the connection",
          "closed=%s after %.2f s, got %r" % (closed, waited, got))


def tcp_query_then_garbage(garbage, what):
    """A good query and, in the same write, a frame that ends the connection: the good
    query was read and answered first, so its answer must still be delivered."""
    with tcp_connect(HOST, PORT) as s:
        s.sendall(frame(query("www.example.com", qid=0x0F0F)) + garbage)
        closed, waited, got = wait_closed(s, 3.0)
    good = (len(got) >= 14 and struct.unpack("!H", got[:2])[0] == len(got) - 2
            and parse_header(got[2:])["id"] == 0x0F0F)
    check(closed and good,
          "a good query then %s in one write: the good query's answer arrives, then the "
          "connection closes" % what,
          "closed=%s after %.2f s, got %d bytes: %r" % (closed, waited, len(got), got[:32]))


def tcp_formerr_then_query():
    with tcp_connect(HOST, PORT) as s:
        s.sendall(frame(header(QID, qd=0)) + frame(query("www.example.com", qid=0x1001)))
        first, second = recv_frame(s), recv_frame(s)
    check(first is not None and parse_header(first)["id"] == QID
          and rcode_name(first) == "FORMERR"
          and second is not None and parse_header(second)["id"] == 0x1001
          and rcode_name(second) == "NOERROR",
          "over TCP a header-only message gets FORMERR and the next query its answer")


def tcp_half_message():
    with tcp_connect(HOST, PORT) as s:
        s.sendall(struct.pack("!H", 40) + header(QID)[:10])
    with tcp_connect(HOST, PORT) as s:
        s.sendall(struct.pack("!H", 60000) + os.urandom(100))
        s.shutdown(socket.SHUT_WR)
        closed, _, got = wait_closed(s, 3.0)
    check(closed and got == b"",
          "half a message then EOF: no reply, the connection is closed",
          "closed=%s, got %r" % (closed, got))


def tcp_slots_not_leaked(n):
    """Every hostile connection above has ended: n clients at once (the configured cap)
    must all be served, or a slot leaked."""
    conns = [tcp_connect(HOST, PORT, timeout=3.0) for _ in range(n)]
    try:
        for i, c in enumerate(conns):
            c.sendall(frame(query("www.example.com", qid=0x2000 + i)))
        replies = [recv_frame(c) for c in conns]
        good = all(r is not None and parse_header(r)["id"] == 0x2000 + i
                   for i, r in enumerate(replies))
    except socket.timeout:
        good = False
    finally:
        for c in conns:
            c.close()
    check(good, "afterwards %d TCP clients at once (the cap) are all served: no slot leaked"
          % n)


CAP = int(sys.argv[3]) if len(sys.argv) > 3 else 4
start = time.monotonic()
for case in (udp_cases, random_cases, tcp_random_65k, tcp_zero_length, tcp_response_bit,
             lambda: tcp_query_then_garbage(frame(header(QID, 0x8000) + QUESTION),
                                            "a QR=1 frame"),
             lambda: tcp_query_then_garbage(b"\0\0", "a zero-length frame"),
             tcp_formerr_then_query, tcp_half_message):
    try:
        case()
    except (OSError, ValueError) as e:
        check(False, "%s: the exchange completed" % case.__name__, repr(e))
try:
    tcp_slots_not_leaked(CAP)
except OSError as e:
    check(False, "tcp_slots_not_leaked: the exchange completed", repr(e))
note("hostile cases took %.2f s" % (time.monotonic() - start))
