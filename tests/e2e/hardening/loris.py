# loris.py — slow TCP clients against meridiand: stalled connections, one address holding
# many, the connection cap and the connection lifetime.  SPDX-License-Identifier: MIT
"""Usage: python3 loris.py PORT CASE ARGS...
  stall N IDLE        N connections (15 per address from 127.0.2.x) each send one byte and
                      stall; a normal client from 127.0.3.1 is answered meanwhile; all of
                      them are closed IDLE s after their byte, give or take 1.5 s
  perclient MAX       MAX connections from 127.0.4.1 are served, one more is closed at once
  cap N MAX           N stalled connections against tcp_max_clients MAX: a normal client is
                      answered, the oldest are the ones closed, at most MAX stay open
  lifetime LIFE       a client trickling a byte every 0.5 s is closed after LIFE s
Prints "ok - ..." / "not ok - ..." / "# ..." lines for lib.sh's py_tap."""

import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402
from dnswire import check, frame, note, parse_header, query, recv_frame  # noqa: E402

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
WWW = "192.0.2.1"  # www.example.com A in hardening.sh's zone
PER_ADDRESS = 15   # below tcp_max_per_client's default of 16


def connect(src, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((HOST, PORT))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def ask(s, qid):
    """One query on an open connection; True when the right answer comes back."""
    try:
        s.sendall(frame(query("www.example.com", qid=qid)))
        r = recv_frame(s)
    except OSError:
        return False
    return (r is not None and parse_header(r)["id"] == qid
            and dnswire.addresses(r) == [WWW])


def normal_client(src, what):
    start = time.monotonic()
    try:
        with connect(src) as s:
            good = ask(s, 0x7777)
    except OSError as e:
        good = False
        note("%s: %r" % (what, e))
    took = time.monotonic() - start
    check(good, "%s: a normal TCP client from %s is answered (%.3f s)" % (what, src, took))


def open_stalled(n, first_octet=2):
    """n connections that each sent one byte of a length prefix; returns [(sock, t_sent)]."""
    conns = []
    for i in range(n):
        src = "127.0.%d.%d" % (first_octet, 1 + i // PER_ADDRESS)
        s = connect(src)
        s.sendall(b"\x00")
        conns.append((s, time.monotonic()))
    return conns


def is_closed(s):
    """Non-blocking: True once the server has closed the connection."""
    try:
        s.setblocking(False)
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset


def await_closed(socks, deadline, want=None):
    """Polls until `want` (default: every) socket is closed or the deadline passes;
    returns {index: when it was seen closed}."""
    closed = {}
    open_ = {s: i for i, s in enumerate(socks)}
    want = len(socks) if want is None else want
    while len(closed) < want and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_), [], [], 0.05)
        now = time.monotonic()
        for s in ready:
            if is_closed(s):
                closed[open_.pop(s)] = now
    return closed


def case_stall(n, idle):
    conns = open_stalled(n)
    socks = [s for s, _ in conns]
    ready, _, _ = select.select(socks, [], [], 0)
    check(not ready, "%d stalled connections from %d addresses are all open"
          % (n, (n + PER_ADDRESS - 1) // PER_ADDRESS), "%d already closed" % len(ready))
    normal_client("127.0.3.1", "with %d stalled connections open" % n)
    closed = await_closed(socks, conns[-1][1] + idle + 5.0)
    waits = [closed[i] - conns[i][1] for i in closed]
    if waits:
        note("stalled connections closed %.2f-%.2f s after their byte (idle timeout %.1f s)"
             % (min(waits), max(waits), idle))
    check(len(closed) == n and min(waits) >= idle - 0.1 and max(waits) <= idle + 1.5,
          "all %d stalled connections are closed by the idle timeout, within %.1f-%.1f s"
          % (n, idle - 0.1, idle + 1.5),
          "%d of %d closed" % (len(closed), n))
    for s in socks:
        s.close()


def case_perclient(limit):
    src = "127.0.4.1"
    conns = [connect(src) for _ in range(limit)]
    check(all(ask(s, 0x100 + i) for i, s in enumerate(conns)),
          "%d connections from %s are all served (tcp_max_per_client)" % (limit, src))
    extra = connect(src)
    closed, waited, got = dnswire.wait_closed(extra, 2.0)
    check(closed and got == b"" and waited < 0.5,
          "connection %d from %s is closed at once (%.3f s)" % (limit + 1, src, waited),
          "closed=%s after %.2f s, data %r" % (closed, waited, got))
    check(ask(conns[0], 0x200), "the first %d from %s still work" % (limit, src))
    normal_client("127.0.4.2", "%s at its limit" % src)
    for s in conns + [extra]:
        s.close()


def case_cap(n, cap):
    conns = open_stalled(n)
    socks = [s for s, _ in conns]
    normal_client("127.0.3.1", "%d stalled connections against tcp_max_clients %d" % (n, cap))
    # n stalled plus the normal client went through a cap of `cap`: n + 1 - cap evicted.
    evicted = n + 1 - cap
    closed = await_closed(socks, time.monotonic() + 3.0, evicted)
    still_open = [i for i, s in enumerate(socks) if i not in closed and not is_closed(s)]
    note("%d of %d stalled connections were closed, %d remain open"
         % (n - len(still_open), n, len(still_open)))
    check(len(still_open) <= cap and len(still_open) >= cap - 2,
          "at most tcp_max_clients (%d) stay open" % cap, "%d open" % len(still_open))
    check(still_open == list(range(n - len(still_open), n)),
          "the connections closed to make way are the oldest ones",
          "open: %s" % still_open[:20])
    for s in socks:
        s.close()


def case_lifetime(life):
    s = connect("127.0.5.1")
    start = time.monotonic()
    stream = b"".join(frame(query("www.example.com", qid=i)) for i in range(64))
    closed_at, sent, next_byte = None, 0, start
    while closed_at is None and time.monotonic() - start < life + 5.0:
        if time.monotonic() >= next_byte:
            try:
                s.sendall(stream[sent % len(stream):sent % len(stream) + 1])
            except OSError:
                closed_at = time.monotonic()
                break
            sent += 1
            next_byte += 0.5  # the trickle: one byte every 0.5 s, never idle for long
        wait = max(0.0, next_byte - time.monotonic())
        ready, _, _ = select.select([s], [], [], wait)
        if ready and is_closed(s):
            closed_at = time.monotonic()
        s.setblocking(True)
    took = (closed_at or time.monotonic()) - start
    note("the trickling client was closed after %.2f s (%d bytes sent)" % (took, sent))
    check(closed_at is not None and life - 0.1 <= took <= life + 1.5,
          "a client trickling a byte every 0.5 s is closed after tcp_lifetime %.0f s "
          "(within %.1f-%.1f s)" % (life, life - 0.1, life + 1.5),
          "closed=%s after %.2f s" % (closed_at is not None, took))
    s.close()


def main():
    case, args = sys.argv[2], sys.argv[3:]
    if case == "stall":
        case_stall(int(args[0]), float(args[1]))
    elif case == "perclient":
        case_perclient(int(args[0]))
    elif case == "cap":
        case_cap(int(args[0]), int(args[1]))
    elif case == "lifetime":
        case_lifetime(float(args[0]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        check(False, "%s: the exchange completed" % sys.argv[2], repr(e))
