# dnswire.py — the little DNS wire format the python3 e2e helpers need (stdlib only).
# SPDX-License-Identifier: MIT
"""Build queries, read replies, talk UDP (pipelined() for thousands of queries at once) and
length-framed TCP, and print results in the "ok - desc" / "not ok - desc" / "# note" form
that lib.sh's py_tap numbers into TAP."""

import socket
import struct
import time

TYPE_A, TYPE_OPT = 1, 41
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 6: "YXDOMAIN"}
WINDOW = 64          # queries pipelined() keeps in flight
DEADLINE = 20.0      # seconds for one pipelined() run, whatever happens


# ---- results ------------------------------------------------------------------------

def check(cond, desc, *notes):
    """One result line; notes are printed as diagnostics when cond is false."""
    print(("ok - " if cond else "not ok - ") + desc)
    if not cond:
        for n in notes:
            for line in str(n).splitlines() or [""]:
                print("# " + line)
    return bool(cond)


def note(*lines):
    for line in lines:
        print("# " + str(line))


# ---- building -----------------------------------------------------------------------

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid=0x1234, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt_rr(udp=1232, version=0, do=False, options=b"", rdlen=None):
    """An OPT pseudo-record; rdlen overrides the true length to make it lie."""
    ttl = (version << 16) | (0x8000 if do else 0)
    return (b"\0" + struct.pack("!HHIH", TYPE_OPT, udp, ttl,
                                len(options) if rdlen is None else rdlen) + options)


def query(qname, qtype=TYPE_A, qid=0x1234, opcode=0, edns=False):
    flags = (opcode & 0xF) << 11
    q = header(qid, flags, 1, 0, 0, 1 if edns else 0)
    q += encode_name(qname) + struct.pack("!HH", qtype, 1)
    return q + (opt_rr() if edns else b"")


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


# ---- reading ------------------------------------------------------------------------

def parse_header(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    return {"id": qid, "qr": flags >> 15, "opcode": (flags >> 11) & 0xF,
            "aa": (flags >> 10) & 1, "tc": (flags >> 9) & 1, "rd": (flags >> 8) & 1,
            "rcode": flags & 0xF, "qd": qd, "an": an, "ns": ns, "ar": ar}


def read_name(msg, off):
    """Returns (name, offset after the name in place)."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop in a reply")
            continue
        if n == 0:
            return (".".join(labels) + ".", end if end is not None else off + 1)
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def parse(msg):
    """The header plus answer/authority/additional as lists of (name, type, ttl, rdata)."""
    h = parse_header(msg)
    off = 12
    for _ in range(h["qd"]):
        _, off = read_name(msg, off)
        off += 4
    secs = []
    for count in (h["an"], h["ns"], h["ar"]):
        rrs = []
        for _ in range(count):
            name, off = read_name(msg, off)
            rtype, _cls, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            rrs.append((name, rtype, ttl, msg[off:off + rdlen]))
            off += rdlen
        secs.append(rrs)
    h["answer"], h["authority"], h["additional"] = secs
    return h


def addresses(reply):
    """The A records' addresses in a reply's answer section."""
    return [socket.inet_ntoa(rd) for _, t, _, rd in parse(reply)["answer"] if t == TYPE_A]


def rcode_name(msg):
    return RCODES.get(parse_header(msg)["rcode"], str(parse_header(msg)["rcode"]))


# ---- transport ----------------------------------------------------------------------

def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_socket(host, timeout):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    return s


def tcp_connect(host, port, timeout=2.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    """n bytes, or fewer if the peer closed first."""
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def recv_frame(s):
    """One length-framed message; None when the connection closed first.  Timeouts raise."""
    hdr = recv_exact(s, 2)
    if len(hdr) < 2:
        return None
    body = recv_exact(s, struct.unpack("!H", hdr)[0])
    return body if len(body) == struct.unpack("!H", hdr)[0] else None


def pipelined(port, n, build):
    """Sends n UDP queries to 127.0.0.1:port over one connected socket, WINDOW of them in
    flight, build(i, qid) making query i's packet with DNS id qid (i & 0xFFFF).  When
    nothing has come for 0.2 s, each query unanswered for more than 0.5 s is sent again, up
    to 4 sends in all; after DEADLINE seconds it stops, whatever happens.  Returns (the raw
    reply to each query in order, None for one never answered; packets sent, retries
    included)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect(("127.0.0.1", port))
    results = [None] * n
    pending = {}  # qid -> (index, sent at, tries)
    nxt, sent = 0, 0
    end = time.monotonic() + DEADLINE

    def send(i, tries):
        nonlocal sent
        s.send(build(i, i & 0xFFFF))
        sent += 1
        pending[i & 0xFFFF] = (i, time.monotonic(), tries)

    while (nxt < n or pending) and time.monotonic() < end:
        while nxt < n and len(pending) < WINDOW and (nxt & 0xFFFF) not in pending:
            send(nxt, 1)
            nxt += 1
        s.settimeout(0.2)
        try:
            msg = s.recv(65535)
        except socket.timeout:
            now = time.monotonic()
            for qid, (i, t, tries) in list(pending.items()):
                if now - t > 0.5:  # lost on loopback under load: ask again, a few times
                    del pending[qid]
                    if tries < 4:
                        send(i, tries + 1)
            continue
        if len(msg) < 12:
            continue
        qid = struct.unpack("!H", msg[:2])[0]
        if qid in pending:
            results[pending.pop(qid)[0]] = msg
    s.close()
    return results, sent


def wait_closed(s, timeout):
    """Reads until the peer closes; returns (closed, seconds waited, bytes received)."""
    s.settimeout(timeout)
    start, got = time.monotonic(), b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True, time.monotonic() - start, got
            got += chunk
    except socket.timeout:
        return False, time.monotonic() - start, got
    except ConnectionResetError:
        return True, time.monotonic() - start, got
