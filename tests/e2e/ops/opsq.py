# opsq.py — small DNS clients for the operations tests (metrics.sh, querylog.sh): a
# malformed query, a held TCP connection, and a UDP burst with its replies classified.
# Stdlib only.  SPDX-License-Identifier: MIT
"""Usage (PORT is the server's port on 127.0.0.1):
  opsq.py formerr PORT QNAME
      One UDP A query for QNAME whose Client Subnet option is malformed (source prefix 33
      for IPv4, RFC 7871 §6 makes that FORMERR); prints the reply's rcode name or "timeout".
  opsq.py hold PORT
      Opens a TCP connection, prints "connected", and keeps it open, silent, until killed.
  opsq.py burst PORT QNAME N
      Sends N UDP A queries for QNAME from one socket as fast as it can, then collects
      replies until none has come for 1 s; prints "sent=N full=F tc=T none=X" (full: a
      reply without TC; tc: a truncated (slipped) reply; none: no reply at all).
  opsq.py trickle PORT QNAME SECONDS
      Sends a UDP A query for QNAME every 0.2 ms or so for SECONDS, whether or not
      anything listens yet (an unconnected socket ignores port-unreachable errors), and
      discards the replies; prints "sending" once the first query is out, then "sent=N"."""

import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402

HOST = "127.0.0.1"


def cmd_formerr(port, qname):
    # family 1 (IPv4), source prefix 33, scope 0, five address bytes: a prefix no IPv4
    # address can have.
    ecs = struct.pack("!HBB", 1, 33, 0) + bytes([10, 1, 0, 0, 0])
    opt = dnswire.opt_rr(options=struct.pack("!HH", 8, len(ecs)) + ecs)
    q = dnswire.header(0x5151, 0, 1, 0, 0, 1)
    q += dnswire.encode_name(qname) + struct.pack("!HH", dnswire.TYPE_A, 1) + opt
    s = dnswire.udp_socket(HOST, 2.0)
    s.sendto(q, (HOST, port))
    try:
        print(dnswire.rcode_name(s.recv(65535)))
    except socket.timeout:
        print("timeout")


def cmd_hold(port):
    s = dnswire.tcp_connect(HOST, port)
    print("connected", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            signal.pause()
    finally:
        s.close()


def cmd_burst(port, qname, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((HOST, port))
    for i in range(n):
        s.send(dnswire.query(qname, qid=i, edns=True))
    seen = {}
    s.settimeout(1.0)
    while len(seen) < n:
        try:
            msg = s.recv(65535)
        except socket.timeout:
            break
        h = dnswire.parse_header(msg)
        seen[h["id"]] = "tc" if h["tc"] else "full"
    full = sum(1 for v in seen.values() if v == "full")
    tc = len(seen) - full
    print("sent=%d full=%d tc=%d none=%d" % (n, full, tc, n - len(seen)))


def cmd_trickle(port, qname, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    q = dnswire.query(qname, edns=True)
    sent, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            s.sendto(q, (HOST, port))
            sent += 1
            if sent == 1:
                print("sending", flush=True)
        except OSError:
            pass
        try:
            while s.recv(65535):
                pass
        except OSError:
            pass
        time.sleep(0.0002)
    print("sent=%d" % sent)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "formerr" and len(argv) == 4:
        cmd_formerr(int(argv[2]), argv[3])
    elif cmd == "hold" and len(argv) == 3:
        cmd_hold(int(argv[2]))
    elif cmd == "burst" and len(argv) == 5:
        cmd_burst(int(argv[2]), argv[3], int(argv[4]))
    elif cmd == "trickle" and len(argv) == 5:
        cmd_trickle(int(argv[2]), argv[3], float(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
