# transport.py — the TCP behaviours dig cannot show: pipelining, split writes, the idle
# timeout and the connection cap (RFC 7766).  SPDX-License-Identifier: MIT
"""Usage: python3 transport.py HOST PORT CASE...   (CASE: pipeline split flood idle busy cap)
Prints "ok - ..." / "not ok - ..." lines for lib.sh's py_tap."""

import socket
import sys
import threading
import time

import dnswire
from dnswire import (addresses, frame, note, parse_header, query, recv_frame,
                     tcp_connect, wait_closed)

HOST, PORT = sys.argv[1], int(sys.argv[2])
AT = "[%s] " % HOST  # prefixes each description: the same case runs on IPv4 and IPv6


def check(cond, desc, *notes):
    return dnswire.check(cond, AT + desc, *notes)


WWW = "192.0.2.1"  # www.example.com A in transport.sh's zone


def answered(reply, qid, want=(WWW,)):
    return (reply is not None and parse_header(reply)["id"] == qid
            and parse_header(reply)["qr"] == 1 and addresses(reply) == list(want))


def case_pipeline():
    """Three queries in one write on one connection: three answers, in order."""
    names = [("www.example.com", 0x1111, ["192.0.2.1"]),
             ("mail.example.com", 0x2222, ["192.0.2.25"]),
             ("ns1.example.com", 0x3333, ["192.0.2.53"])]
    with tcp_connect(HOST, PORT) as s:
        s.sendall(b"".join(frame(query(n, qid=i)) for n, i, _ in names))
        replies = [recv_frame(s) for _ in names]
    ids = [parse_header(r)["id"] if r else None for r in replies]
    check(all(answered(r, i, w) for r, (_, i, w) in zip(replies, names)),
          "TCP pipelining: 3 queries in one write get 3 answers in order, right IDs",
          "IDs sent %s, got %s" % ([hex(i) for _, i, _ in names],
                                   [hex(i) if i is not None else None for i in ids]))


def send_split(cut, desc):
    msg = frame(query("www.example.com", qid=0x4444))
    with tcp_connect(HOST, PORT) as s:
        s.sendall(msg[:cut])
        # TCP_NODELAY is set; the pause makes the two writes two segments on the wire.
        time.sleep(0.1)
        s.sendall(msg[cut:])
        reply = recv_frame(s)
    check(answered(reply, 0x4444), desc, "reply: %r" % (reply,))


def case_split():
    send_split(1, "a query split inside its length prefix is answered")
    send_split(9, "a query split inside its header is answered")
    send_split(25, "a query split inside its question is answered")


def case_idle():
    """A silent connection is closed by the server after tcp_idle_timeout (1 s here)."""
    with tcp_connect(HOST, PORT) as s:
        closed, waited, got = wait_closed(s, 5.0)
    note("server closed the idle connection after %.2f s" % waited)
    check(closed and got == b"" and 0.9 <= waited <= 5.0,
          "an idle connection is closed within 1-5 s of silence (%.2f s)" % waited,
          "closed=%s after %.2f s, data %r" % (closed, waited, got))


def case_busy():
    """A connection that keeps asking outlives the idle timeout: it counts from the last
    query, not from the connect."""
    with tcp_connect(HOST, PORT) as s:
        start, good = time.monotonic(), True
        qid = 0x5000
        while time.monotonic() - start < 2.0:
            qid += 1
            s.sendall(frame(query("www.example.com", qid=qid)))
            good = good and answered(recv_frame(s), qid)
            time.sleep(0.4)  # paces the queries: well inside the 1 s timeout
    check(good, "queries every 0.4 s keep a connection open past the 1 s idle timeout")


def case_cap():
    """tcp_max_clients: 3.  At the cap a new client is served at once, and the oldest
    connection is closed to make way: idle or slow clients cannot lock new ones out."""
    conns = []
    for i in range(3):
        c = tcp_connect(HOST, PORT)
        c.sendall(frame(query("www.example.com", qid=0x6000 + i)))
        conns.append((c, answered(recv_frame(c), 0x6000 + i)))
    check(all(good for _, good in conns), "three TCP clients are served (the cap is 3)")
    fourth = tcp_connect(HOST, PORT)
    fourth.sendall(frame(query("www.example.com", qid=0x6666)))
    fourth.settimeout(3.0)
    try:
        got = recv_frame(fourth)
    except socket.timeout:
        got = None
    check(answered(got, 0x6666), "a fourth client is answered at once", "got %r" % (got,))
    oldest = conns[0][0]
    oldest.settimeout(3.0)
    try:
        closed = oldest.recv(1) == b""
    except (socket.timeout, ConnectionResetError):
        closed = False
    check(closed, "the oldest connection was closed to make way for it")
    second = conns[1][0]
    second.sendall(frame(query("www.example.com", qid=0x6001)))
    check(answered(recv_frame(second), 0x6001), "the other connections still work")
    for c, _ in conns:
        c.close()
    fourth.close()


def case_flood(n=20000):
    """A client that writes n queries before reading a single answer: the server stops
    reading while its output backs up, and resumes as the client reads.  Every answer
    arrives, in order."""
    data = b"".join(frame(query("www.example.com", qid=i)) for i in range(n))
    with tcp_connect(HOST, PORT, timeout=5.0) as s:
        sender = threading.Thread(target=s.sendall, args=(data,))
        sender.start()
        # Until the kernel's buffers fill (or all is sent) nothing is read: that is the
        # back-up being tested.  Bounded; not a pause for things to settle.
        sender.join(timeout=3.0)
        ids = []
        try:
            while len(ids) < n:
                r = recv_frame(s)
                if r is None:
                    break
                ids.append(parse_header(r)["id"])
        except socket.timeout:
            pass
        sender.join(timeout=5.0)
    check(ids == list(range(n)),
          "%d queries written before any answer is read: all %d answered in order"
          % (n, n), "got %d answers" % len(ids))


CASES = {"pipeline": case_pipeline, "split": case_split, "idle": case_idle,
         "busy": case_busy, "cap": case_cap, "flood": case_flood}

for name in sys.argv[3:]:
    try:
        CASES[name]()
    except (OSError, ValueError) as e:
        check(False, "%s: the exchange completed" % name, repr(e))
