# cookieflood.py — DNS cookies against response rate limiting: a spoofed-looking flood
# without cookies is limited, while clients of the same /24 that prove their address
# with a cookie are not.  SPDX-License-Identifier: MIT
"""Usage:
  python3 cookieflood.py learn PORT SRC QNAME
      Sends QNAME A from SRC with a fresh client cookie; prints the whole COOKIE option
      of the reply (client and server cookie) as hex.
  python3 cookieflood.py flood PORT SECONDS QNAME ADDRESS RATE
      For SECONDS: 127.0.0.1 floods QNAME without cookies at 50 x RATE over 4 source
      ports; 127.0.0.2, which learned its server cookie first, asks at RATE / 2 with it;
      127.0.0.3 asks at 20 x RATE with a client cookie only.  Prints "ok - ..." lines
      for py_tap."""

import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402
from dnswire import check, note, parse, parse_header  # noqa: E402

HOST = "127.0.0.1"
OPT_COOKIE = 10
BADCOOKIE = 23


def cookie_query(qname, qid, cookie):
    options = b"" if cookie is None else struct.pack("!HH", OPT_COOKIE, len(cookie)) + cookie
    return (dnswire.header(qid, 0, 1, 0, 0, 1) + dnswire.encode_name(qname)
            + struct.pack("!HH", dnswire.TYPE_A, 1) + dnswire.opt_rr(options=options))


def opt_of(reply):
    """(extended rcode, COOKIE option bytes or None) of a reply."""
    msg = parse(reply)
    for _name, rtype, ttl, rdata in msg["additional"]:
        if rtype != dnswire.TYPE_OPT:
            continue
        rcode = (ttl >> 24) << 4 | msg["rcode"]
        off = 0
        while off + 4 <= len(rdata):
            code, olen = struct.unpack("!HH", rdata[off:off + 4])
            if code == OPT_COOKIE:
                return rcode, rdata[off + 4:off + 4 + olen]
            off += 4 + olen
        return rcode, None
    return msg["rcode"], None


def learn(port, src, qname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2.0)
    client = os.urandom(8)
    s.sendto(cookie_query(qname, 1, client), (HOST, port))
    _, cookie = opt_of(s.recv(4096))
    s.close()
    if cookie is None or cookie[:8] != client:
        raise SystemExit("no cookie came back to %s" % src)
    return cookie


class Sender:
    """One source address sending at qps over nsocks ports, each query with cookie."""

    def __init__(self, src, qps, nsocks, port, qname, cookie):
        self.src, self.qps, self.cookie = src, qps, cookie
        self.socks = []
        for _ in range(nsocks):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((src, 0))
            s.setblocking(False)
            self.socks.append(s)
        self.dest = (HOST, port)
        self.msgs = [cookie_query(qname, i, cookie) for i in range(64)]
        self.sent = 0
        self.replies = []

    def send_due(self, elapsed):
        for _ in range(max(0, int(elapsed * self.qps) + 1 - self.sent)):
            try:
                self.socks[self.sent % len(self.socks)].sendto(self.msgs[self.sent % 64],
                                                               self.dest)
            except BlockingIOError:
                return
            self.sent += 1


def run(senders, seconds):
    owner = {s: c for c in senders for s in c.socks}
    start = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= start + seconds + 0.5:
            break
        if now < start + seconds:
            for c in senders:
                c.send_due(now - start)
        ready, _, _ = select.select(list(owner), [], [], 0.001)
        for s in ready:
            while True:
                try:
                    owner[s].replies.append(s.recv(4096))
                except BlockingIOError:
                    break


def answered(replies, want):
    return sum(1 for r in replies
               if not parse_header(r)["tc"] and opt_of(r)[0] == 0
               and want in dnswire.addresses(r))


def flood(port, seconds, qname, want, rate):
    valid = learn(port, "127.0.0.2", qname)
    attacker = Sender("127.0.0.1", 50 * rate, 4, port, qname, None)
    proven = Sender("127.0.0.2", rate / 2, 1, port, qname, valid)
    newcomer_client = os.urandom(8)
    newcomer = Sender("127.0.0.3", 20 * rate, 1, port, qname, newcomer_client)
    run([attacker, proven, newcomer], seconds)
    a = answered(attacker.replies, want)
    note("127.0.0.1 (no cookie): sent %d, answered %d, replies %d"
         % (attacker.sent, a, len(attacker.replies)))
    check(attacker.sent > 5 * rate * seconds and a <= rate * (seconds + 2),
          "a flood without cookies from 127.0.0.1 is rate limited (%d of %d answered, %d/s "
          "allowed)" % (a, attacker.sent, rate))
    p = answered(proven.replies, want)
    check(proven.sent > 0 and p == proven.sent,
          "meanwhile 127.0.0.2 in the same /24, with a valid server cookie, got every answer "
          "in full (%d of %d)" % (p, proven.sent))
    bad = [r for r in newcomer.replies if opt_of(r)[0] == BADCOOKIE]
    note("127.0.0.3 (client cookie only): sent %d, BADCOOKIE %d, answered %d"
         % (newcomer.sent, len(bad), answered(newcomer.replies, want)))
    good_bad = [r for r in bad if (opt_of(r)[1] or b"")[:8] == newcomer_client
                and len(opt_of(r)[1]) == 24 and parse_header(r)["an"] == 0]
    if not check(bad and len(good_bad) == len(bad),
                 "a limited client that sent a cookie gets BADCOOKIE with a new server cookie "
                 "instead of TC (%d such replies)" % len(bad)):
        return
    retry = Sender("127.0.0.3", 1, 1, port, qname, opt_of(bad[-1])[1])
    run([retry], 1.0)
    check(retry.sent > 0 and answered(retry.replies, want) == retry.sent,
          "its retry with that cookie is answered in full (%d of %d)"
          % (answered(retry.replies, want), retry.sent))


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "learn":
        print(learn(port, sys.argv[3], sys.argv[4]).hex())
    elif mode == "flood":
        flood(port, float(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
