# rrl.py — UDP floods and a truncated-then-TCP retry against meridiand's response rate
# limiting.  SPDX-License-Identifier: MIT
"""Usage:
  python3 rrl.py flood PORT SECONDS QNAME ADDRESS CLIENT...
      CLIENT is SRC:QPS[:SOCKETS] — a loopback source address to bind, the queries per
      second it sends, and over how many sockets (source ports) it spreads them.  All
      clients send at once for SECONDS.  Prints one line per client:
        SRC sent=N answered=N tc=N tc_empty=N other=N
      answered: a full reply (TC clear, ADDRESS as an A record in the answer);
      tc: TC set; tc_empty: TC set and nothing after the question (no records, no OPT).
  python3 rrl.py tcretry PORT SRC QNAME ADDRESS
      Floods QNAME from SRC until a truncated reply comes back, checks its shape, then
      asks the same question over TCP from the same SRC: "ok - ..." lines for py_tap."""

import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402
from dnswire import check, frame, parse, parse_header, query, recv_frame  # noqa: E402

HOST = "127.0.0.1"


def question_end(msg):
    """The offset just past the (single) question."""
    _, off = dnswire.read_name(msg, 12)
    return off + 4


def classify(reply, want):
    """'answered', 'tc_empty', 'tc' or 'other'."""
    h = parse_header(reply)
    if h["tc"]:
        empty = (h["an"] == 0 and h["ns"] == 0 and h["ar"] == 0
                 and len(reply) == question_end(reply))
        return "tc_empty" if empty else "tc"
    if h["rcode"] == 0 and want in dnswire.addresses(reply):
        return "answered"
    return "other"


class Client:
    def __init__(self, spec, port, qname):
        parts = spec.split(":")
        self.src, self.qps = parts[0], float(parts[1])
        nsocks = int(parts[2]) if len(parts) > 2 else 1
        self.socks = []
        for _ in range(nsocks):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((self.src, 0))
            s.setblocking(False)
            self.socks.append(s)
        self.dest = (HOST, port)
        self.msgs = [query(qname, qid=i, edns=True) for i in range(64)]
        self.sent = 0
        self.counts = {"answered": 0, "tc": 0, "tc_empty": 0, "other": 0}

    def send_due(self, elapsed):
        due = int(elapsed * self.qps) + 1 - self.sent
        for _ in range(max(0, due)):
            s = self.socks[self.sent % len(self.socks)]
            try:
                s.sendto(self.msgs[self.sent % 64], self.dest)
            except BlockingIOError:
                return  # the socket's send buffer is full: try again next tick
            self.sent += 1


def flood(port, seconds, qname, specs, want):
    clients = [Client(spec, port, qname) for spec in specs]
    owner = {s: c for c in clients for s in c.socks}
    start = time.monotonic()
    end = start + seconds
    drain_until = end + 0.5  # replies still in flight when sending stops
    while True:
        now = time.monotonic()
        if now >= drain_until:
            break
        if now < end:
            for c in clients:
                c.send_due(now - start)
        # Paces the senders (1 ms ticks) while reading whatever came back.
        ready, _, _ = select.select(list(owner), [], [], 0.001)
        for s in ready:
            while True:
                try:
                    reply = s.recv(4096)
                except BlockingIOError:
                    break
                owner[s].counts[classify(reply, want)] += 1
    for c in clients:
        print("%s sent=%d answered=%d tc=%d tc_empty=%d other=%d" % (
            c.src, c.sent, c.counts["answered"], c.counts["tc"], c.counts["tc_empty"],
            c.counts["other"]))


def tcretry(port, src, qname, want):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((src, 0))
    udp.settimeout(0.2)
    truncated, deadline, qid = None, time.monotonic() + 5.0, 0
    while truncated is None and time.monotonic() < deadline:
        for _ in range(100):  # a burst well past the bucket's one second of credit
            qid = (qid + 1) & 0xFFFF
            udp.sendto(query(qname, qid=qid, edns=True), (HOST, port))
        try:
            while True:
                reply = udp.recv(4096)
                if parse_header(reply)["tc"]:
                    truncated = reply
                    break
        except socket.timeout:
            pass
    udp.close()
    if not check(truncated is not None, "a flood from %s gets a truncated (slipped) reply" % src):
        return
    h = parse_header(truncated)
    q = query(qname, qid=h["id"], edns=True)
    check(h["qr"] == 1 and h["qd"] == 1 and h["an"] == h["ns"] == h["ar"] == 0
          and truncated[12:] == q[12:question_end(q)],
          "the slipped reply is header + the question only: no records, no OPT",
          "header %r, %d bytes" % (h, len(truncated)))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.settimeout(3.0)
    tcp.bind((src, 0))
    tcp.connect((HOST, port))
    tcp.sendall(frame(q))
    reply = recv_frame(tcp)
    tcp.close()
    got = parse(reply) if reply else None
    check(got is not None and got["id"] == h["id"] and not got["tc"] and got["aa"]
          and dnswire.addresses(reply) == [want],
          "the client's retry over TCP from %s gets the full answer (TCP is not limited)" % src,
          "reply: %r" % (reply,))


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "flood":
        flood(port, float(sys.argv[3]), sys.argv[4], sys.argv[6:], sys.argv[5])
    elif mode == "tcretry":
        tcretry(port, sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
