# scrapeloris.py — slow and idle HTTP clients against the /metrics endpoint, and HEAD.
# SPDX-License-Identifier: MIT
"""Usage: python3 scrapeloris.py PORT CASE ARGS...
  head                HEAD /metrics: 200 with a Content-Length, and not one body byte
  trickle LIMIT       a request sent one byte a second is closed LIMIT s after connecting
                      (within 8..LIMIT+3 s), though bytes keep coming
  cap N MAX           N idle connections: the oldest N-MAX are closed, MAX stay open, and a
                      scrape is still answered
Prints "ok - ..." / "not ok - ..." / "# ..." lines for lib.sh's py_tap."""

import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dnswire import check, note  # noqa: E402

HOST = "127.0.0.1"
PORT = int(sys.argv[1])


def connect(timeout=3.0):
    return socket.create_connection((HOST, PORT), timeout=timeout)


def read_all(s):
    data = b""
    while True:
        try:
            part = s.recv(65536)
        except OSError as e:
            return data, e.__class__.__name__
        if not part:
            return data, "eof"
        data += part


def scrape():
    with connect() as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data, how = read_all(s)
    return data.split(b"\r\n", 1)[0], how, data


def case_head():
    with connect() as s:
        s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data, how = read_all(s)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = [int(x.split(b":")[1]) for x in lines if x.lower().startswith(b"content-length:")]
    _, _, full = scrape()
    full_body = full.partition(b"\r\n\r\n")[2]
    check(lines[0] == b"HTTP/1.1 200 OK" and length and length[0] > 0 and body == b""
          and how == "eof",
          "HEAD /metrics: 200 and a Content-Length (%s), no body" % (length or "none"),
          "reply: %r, ended by %s" % (data[:300], how))
    check(length and abs(length[0] - len(full_body)) < 4096,
          "HEAD's Content-Length is about the size of GET's body (%s vs %d)"
          % (length, len(full_body)))


def case_trickle(limit):
    t0 = time.monotonic()
    s = connect(1.0)
    s.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
    how, sent = "still open", 0
    while time.monotonic() - t0 < limit + 5:
        try:
            s.sendall(b"a")
            sent += 1
            if not s.recv(4096):
                how = "eof"
                break
        except socket.timeout:
            continue
        except OSError as e:
            how = e.__class__.__name__
            break
    took = time.monotonic() - t0
    s.close()
    check(how != "still open" and 8.0 <= took <= limit + 3,
          "a request trickled a byte a second is closed %.1f s after connecting (limit %d s "
          "for the whole request)" % (took, limit), "ended by %s after %d bytes" % (how, sent))


def case_cap(n, cap):
    conns = [connect() for _ in range(n)]
    # The server closes the oldest as the newer ones arrive; wait until n - cap have closed
    # (or 3 s have gone by), then until none closes for 0.3 s.
    closed = {}
    end = time.monotonic() + 3.0
    while len(closed) < n - cap and time.monotonic() < end:
        ready, _, _ = select.select([c for c in conns if c not in closed], [], [], 0.1)
        for c in ready:
            closed[c] = read_all(c)
    while True:
        ready, _, _ = select.select([c for c in conns if c not in closed], [], [], 0.3)
        if not ready:
            break
        for c in ready:
            closed[c] = read_all(c)
    gone = [i for i, c in enumerate(conns) if c in closed]
    note("%d idle connections: %d closed (%s...)" % (n, len(gone), gone[:5]))
    check(gone == list(range(n - cap)),
          "%d idle connections to /metrics: the oldest %d are closed, %d stay open"
          % (n, n - cap, cap), "closed: %r" % gone)
    status, how, _ = scrape()
    check(status == b"HTTP/1.1 200 OK" and how == "eof",
          "with %d idle connections open a scrape is answered" % cap, "got %r, %s" % (status, how))
    for c in conns:
        c.close()


case = sys.argv[2]
if case == "head":
    case_head()
elif case == "trickle":
    case_trickle(int(sys.argv[3]))
elif case == "cap":
    case_cap(int(sys.argv[3]), int(sys.argv[4]))
else:
    raise SystemExit("unknown case " + case)
