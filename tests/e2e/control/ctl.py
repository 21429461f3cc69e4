# ctl.py — the python side of control.sh: measured traffic splits over UDP, raw control socket
# clients (bad lines, a silent client, a flood of clients, a writer that kills the server
# mid-change), a strict reader of the state file, and a JSON picker.  Stdlib only.
# SPDX-License-Identifier: MIT
"""Subcommands (PORT is the server's UDP port on 127.0.0.1, SOCK its control socket):

  split PORT QNAME N ADDR=WEIGHT...
      N A queries; TAP results: every answer is one address of ADDR...; each ADDR's count is
      within 5 standard deviations of the binomial mean, or exactly 0 for weight 0.
  only PORT QNAME N LABEL ADDR...
      N A queries; one TAP result that every answer is exactly the set ADDR...
  count PORT QNAME N
      N A queries; prints "SENT ANSWERED": packets sent (retries included) and replies.
  bad SOCK
      Bad request lines written to the socket directly; TAP results that each gets an
      "error" status line with a clear reason and the connection closed.
  silent SOCK
      Connects and sends nothing; shows that a second client is answered meanwhile and that
      the silent one is cut off after about 10 s (waited for at most 15 s).
  trickle SOCK
      Sends a line one byte a second, never its newline; shows that the server cuts it off
      about 10 s after it connected, though bytes keep coming (waited for at most 15 s).
  noread SOCK
      Sends "status" and never reads the reply (which must be bigger than the socket's
      buffer); shows that the server closes the connection about 10 s after the reply
      began (waited for at most 15 s), with the reply cut short.
  flood SOCK N REPLY-FILE
      N clients connect at once and send "status"; TAP results that each gets either the
      full reply in REPLY-FILE (status line included) or the "too many clients" error.
  cap SOCK N
      Opens N connections that send nothing, one after the other; TAP results that those past
      the server's 64 get the "too many control clients" error at once while the first ones
      are held open, and that a held one is still answered.
  crash SOCK PID FIRST MAX-KILL-MS
      Sets "weight api us-east-1" to FIRST, FIRST+1, ... back to back, one request per
      connection, and SIGKILLs PID at a random moment within MAX-KILL-MS ms.  Prints
      "ACKED INFLIGHT": the last value the server said ok to (- for none) and the value it
      was asked for when it died (- for none).
  state FILE [PATH]
      Parses a state file strictly (the format of server/statefile.h); prints it as JSON
      {"version": 1, "drained": [...], "services": {NAME: {"weights": {...}, "drained": [...]}}},
      or its value at PATH (as for jget), or an error on stderr with exit status 1.
  jget PATH
      Reads JSON on stdin; PATH is /-separated keys, where a key applied to a list picks the
      item whose "name" or "region" is that key; prints the value as JSON.
  replay FILE
      Prints FILE (the saved output of a helper that ran in the background) for py_tap.
"""

import json
import math
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import dnswire  # noqa: E402

SILENT_LIMIT = 15.0  # seconds the silent client waits to be cut off
BUSY = b"error\ntoo many control clients at once; try again\n"


def tap(cond, desc, *notes):
    sys.stdout.flush()
    dnswire.check(cond, desc, *notes)
    sys.stdout.flush()


# ---- DNS ----------------------------------------------------------------------------------

def make_query(qid, qname):
    q = dnswire.header(qid, 0, 1, 0, 0, 1)
    return q + dnswire.encode_name(qname) + struct.pack("!HH", 1, 1) + dnswire.opt_rr()


def run(port, qname, n):
    """Sends n A queries for qname, pipelined and retried as dnswire.pipelined() does.
    Returns (replies in order, None for unanswered; packets sent)."""
    raw, sent = dnswire.pipelined(port, n, lambda _i, qid: make_query(qid, qname))
    return [None if m is None else dnswire.parse(m) for m in raw], sent


def answer_addrs(p):
    return sorted(socket.inet_ntop(socket.AF_INET, rd) for _n, t, _ttl, rd in p["answer"] if t == 1)


def cmd_split(port, qname, n, specs):
    weights = {}
    for spec in specs:
        addr, w = spec.split("=")
        weights[addr] = float(w)
    total = sum(weights.values())
    t0 = time.monotonic()
    replies, _ = run(port, qname, n)
    counts = {a: 0 for a in weights}
    other, lost = [], 0
    for p in replies:
        if p is None:
            lost += 1
            continue
        got = answer_addrs(p)
        if len(got) == 1 and got[0] in counts:
            counts[got[0]] += 1
        else:
            other.append(got)
    answered = n - lost
    dnswire.note("%s: %d queries in %.2f s: %s" % (qname, n, time.monotonic() - t0, counts))
    tap(lost == 0 and not other,
        "%s: all %d queries answered, each with one of %s" % (qname, n, " ".join(weights)),
        "unanswered: %d; other answers (first 5): %r" % (lost, other[:5]))
    for a, w in weights.items():
        p = w / total
        if p == 0:
            tap(counts[a] == 0, "%s: weight 0 region %s got exactly 0 of %d"
                % (qname, a, answered), "counts: %r" % counts)
            continue
        mean, sd = answered * p, math.sqrt(answered * p * (1 - p))
        tap(abs(counts[a] - mean) <= 5 * sd,
            "%s: %s got %d of %d (expected %.0f ± 5σ = %.0f)"
            % (qname, a, counts[a], answered, mean, 5 * sd), "counts: %r" % counts)


def cmd_only(port, qname, n, label, addrs):
    want = sorted(addrs)
    replies, _ = run(port, qname, n)
    seen = {}
    for p in replies:
        key = "unanswered" if p is None else " ".join(answer_addrs(p)) or "(empty)"
        seen[key] = seen.get(key, 0) + 1
    tap(seen == {" ".join(want): n}, "%s: all %d answers are %s" % (label, n, " ".join(want)),
        "answers seen: %r" % seen)


def cmd_count(port, qname, n):
    replies, sent = run(port, qname, n)
    print(sent, sum(1 for p in replies if p is not None))


# ---- the control socket -------------------------------------------------------------------

def connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking: a full backlog makes it wait, not fail
    s.settimeout(timeout)
    return s


def read_all(s):
    """Everything until the server closes: (data, how it ended)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "eof"
        data += chunk


def request(path, payload, timeout=5.0):
    """Sends payload (all of it, if the server reads it) and reads the reply to the end."""
    s = connect(path, timeout)
    send_err = None
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError) as e:
        send_err = e.__class__.__name__  # the server refused before reading everything
    data, how = read_all(s)
    s.close()
    return data, how, send_err


def cmd_bad(path):
    cases = [
        ("weight -1", b"weight api us-east-1 -1\n", r"weight must be a whole number from 0"),
        ("weight 10^9", b"weight api us-east-1 1000000000\n",
         r"weight must be a whole number from 0 to 1000000"),
        ("weight abc", b"weight api us-east-1 abc\n", r"weight must be a whole number"),
        ("weight past 2^64", b"weight api us-east-1 99999999999999999999999\n",
         r"weight must be a whole number"),
        ("weight with arguments missing", b"weight api\n", r"usage: weight SERVICE REGION N"),
        ("drain with no region", b"drain\n", r"usage: drain REGION"),
        ("weight of an unknown service", b"weight nosuch us-east-1 5\n", r'no service "nosuch"'),
        ("weight of an unknown region", b"weight api nowhere 5\n", r'no region "nowhere"'),
        ("drain of an unknown region", b"drain nowhere\n", r'no region "nowhere"'),
        ("an unknown command", b"frobnicate\n", r'unknown command "frobnicate"'),
        ("an empty line", b"\n", r"empty request"),
        ("--json with an unknown service", b"--json weight nosuch us-east-1 5\n",
         r'^\{"error": "no service \\"nosuch\\"; see status"\}$'),
        ("binary garbage with a newline", b"\x00\xff\xfe\x01\x7f garbage \x80\x9b[2J\n",
         r"control or non-ASCII bytes"),
        ("64 KiB of random bytes without a newline",
         bytes(random.Random(7).getrandbits(8) for _ in range(65536)).replace(b"\n", b"\0"),
         r"request line longer than 4096 bytes|control or non-ASCII bytes"),
        ("a 1 MiB line", b"status " + b"A" * (1 << 20) + b"\n",
         r"request line longer than 4096 bytes"),
        ("4097 bytes without a newline", b"B" * 4097, r"request line longer than 4096 bytes"),
        # The limit holds however the bytes arrive: here the whole line, newline included,
        # comes in one write, so the server reads it all at once.
        ("a 5008-byte line sent in one write", b"version" + b" " * 5000 + b"\n",
         r"request line longer than 4096 bytes"),
    ]
    for desc, payload, pattern in cases:
        t0 = time.monotonic()
        data, how, send_err = request(path, payload)
        status, _, body = data.partition(b"\n")
        text = body.decode("utf-8", "replace").strip()
        tap(status == b"error" and re.search(pattern, text, re.M) and how in ("eof", "reset"),
            "raw %s: \"error\" and a reason (%s), then the connection closed%s"
            % (desc, text.splitlines()[0][:70] if text else "none",
               " (the server stopped reading: %s)" % send_err if send_err else ""),
            "reply: %r" % data[:300], "ended by: %s after %.1f s" % (how, time.monotonic() - t0))


def cmd_silent(path):
    t0 = time.monotonic()
    s = connect(path, SILENT_LIMIT)
    print("# silent client connected")
    sys.stdout.flush()
    # While it sits there, another client is served at once.
    data, how, _ = request(path, b"version\n", 3.0)
    t1 = time.monotonic()
    s.setblocking(False)
    try:
        still_open = s.recv(1) is None
    except BlockingIOError:
        still_open = True
    except OSError:
        still_open = False
    s.setblocking(True)
    s.settimeout(SILENT_LIMIT - (time.monotonic() - t0))
    tap(data.startswith(b"ok\nmeridiand ") and how == "eof" and still_open,
        "a second client is answered (%.0f ms) while a silent one is connected"
        % ((t1 - t0) * 1000), "reply: %r, ended by %s, silent still open: %s"
        % (data, how, still_open))
    rest, how = read_all(s)
    took = time.monotonic() - t0
    tap(how in ("eof", "reset") and 8.0 <= took <= SILENT_LIMIT,
        "a client that sends nothing is cut off after %.1f s (limit 10 s)" % took,
        "ended by: %s, data: %r" % (how, rest[:200]))


def cmd_trickle(path):
    t0 = time.monotonic()
    s = connect(path, 1.0)
    print("# trickling client connected")
    sys.stdout.flush()
    how, sent = "still open", 0
    while time.monotonic() - t0 < SILENT_LIMIT:
        try:
            s.sendall(b"version"[sent % 7:sent % 7 + 1])
            sent += 1
            chunk = s.recv(4096)  # waits up to 1 s: the pace of the trickle
            if not chunk:
                how = "eof"
                break
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError) as e:
            how = e.__class__.__name__
            break
    took = time.monotonic() - t0
    tap(how != "still open" and 8.0 <= took <= SILENT_LIMIT - 2,
        "a client sending one byte a second is cut off %.1f s after it connected (limit "
        "10 s for the whole line)" % took, "ended by: %s after %d bytes" % (how, sent))


def cmd_noread(path):
    s = connect(path, SILENT_LIMIT)
    s.sendall(b"status\n")
    t0 = time.monotonic()
    p = select.poll()
    p.register(s, select.POLLRDHUP if hasattr(select, "POLLRDHUP") else select.POLLHUP)
    hup = False
    while not hup and time.monotonic() - t0 < SILENT_LIMIT:
        for _, ev in p.poll(200):
            hup = bool(ev & (select.POLLHUP | getattr(select, "POLLRDHUP", 0)))
    took = time.monotonic() - t0
    data, how = read_all(s)
    s.close()
    tap(hup and 8.0 <= took <= SILENT_LIMIT and how in ("eof", "reset"),
        "a client that never reads its reply is closed %.1f s after sending its line "
        "(limit 10 s to read the reply)" % took,
        "closed: %s; then read %d bytes, ended by %s" % (hup, len(data), how))


def cmd_flood(path, n, reply_file):
    with open(reply_file, "rb") as f:
        full = b"ok\n" + f.read()
    results = [None] * n
    start = threading.Barrier(n)

    def client(i):
        try:
            start.wait(10)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.settimeout(15.0)
            s.sendall(b"status\n")  # a refused client is read too: no reset
            results[i] = read_all(s)
            s.close()
        except Exception as e:  # noqa: BLE001 — every failure is a result here
            results[i] = (b"", "exception %r" % e)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, 20.0 - (time.monotonic() - t0)))
    took = time.monotonic() - t0
    full_n = sum(1 for r in results if r and r[0] == full and r[1] == "eof")
    busy_n = sum(1 for r in results if r and r[0] == BUSY and r[1] == "eof")
    other = [r for r in results if not r or r[1] != "eof" or (r[0] != full and r[0] != BUSY)]
    dnswire.note("%d clients at once: %d full replies, %d busy, %.2f s" % (n, full_n, busy_n, took))
    tap(full_n + busy_n == n and full_n > 0,
        "%d clients at once: each got the full status or \"too many control clients\" "
        "and an end of file, never a reset (%d full, %d busy)" % (n, full_n, busy_n),
        "other outcomes (first 3): %r" % [(r[0][:120], r[1]) if r else "hung" for r in other][:3])


def cmd_cap(path, n, limit=64):
    conns = [connect(path, 5.0) for _ in range(n)]
    # The busy ones are answered and closed as soon as they are accepted; held ones hear
    # nothing.  Wait until at least n - limit of them have spoken, for at most 3 s.
    spoke = {}
    end = time.monotonic() + 3.0
    while len(spoke) < n - limit and time.monotonic() < end:
        ready, _, _ = select.select([c for c in conns if c not in spoke], [], [], 0.1)
        for c in ready:
            spoke[c] = read_all(c)
    # Then until none speaks for 0.3 s: another client of ours may hold a slot too, and an
    # extra refusal among the first ones would be a finding.
    while True:
        ready, _, _ = select.select([c for c in conns if c not in spoke], [], [], 0.3)
        if not ready:
            break
        for c in ready:
            spoke[c] = read_all(c)
    held = [i for i, c in enumerate(conns) if c not in spoke]
    busy = [i for i, c in enumerate(conns) if c in spoke and spoke[c] == (BUSY, "eof")]
    odd = [(i, spoke[c]) for i, c in enumerate(conns) if c in spoke and spoke[c] != (BUSY, "eof")]
    dnswire.note("%d silent clients: %d held open, %d refused as busy (first refused: #%s)"
                 % (n, len(held), len(busy), busy[0] if busy else "-"))
    tap(not odd and n - limit <= len(busy) and len(held) <= limit and
        held == list(range(len(held))),
        "%d clients at once, none sending: at most %d held, the later %d told \"too many "
        "control clients\" at once" % (n, limit, len(busy)),
        "held: %r" % held, "odd replies: %r" % odd[:3])
    data = b""
    if held:
        c = conns[held[0]]
        c.sendall(b"version\n")
        data, _ = read_all(c)
    tap(data.startswith(b"ok\nmeridiand "), "a held client that finally sends its line is answered",
        "reply: %r" % data)
    for c in conns:
        c.close()


def cmd_crash(path, pid, first, max_kill_ms):
    acked, inflight = None, None
    done = threading.Event()

    def killer():
        done.wait(random.uniform(0.0, max_kill_ms / 1000.0))
        os.kill(pid, signal.SIGKILL)

    k = threading.Thread(target=killer, daemon=True)
    k.start()
    value = first
    end = time.monotonic() + 5.0
    while k.is_alive() and time.monotonic() < end:
        inflight = value
        try:
            data, _how, _ = request(path, b"weight api us-east-1 %d\n" % value, 2.0)
        except OSError:
            break  # the server is gone: nobody listens on the socket any more
        if not data.startswith(b"ok\n"):
            break
        acked, inflight = value, None
        value += 1
    done.set()
    k.join()
    print("%s %s" % ("-" if acked is None else acked, "-" if inflight is None else inflight))


# ---- the state file -------------------------------------------------------------------------

NAME = r"[A-Za-z0-9_.-]{1,253}"


def flow_list(text, where):
    m = re.fullmatch(r"\[(.*)\]", text)
    if not m:
        raise ValueError("%s: not a flow list: %r" % (where, text))
    items = [x.strip() for x in m.group(1).split(",")] if m.group(1).strip() else []
    for x in items:
        if not re.fullmatch(NAME, x):
            raise ValueError("%s: bad name %r" % (where, x))
    if len(set(items)) != len(items):
        raise ValueError("%s: duplicate item" % where)
    return items


def flow_map(text, where):
    m = re.fullmatch(r"\{(.*)\}", text)
    if not m:
        raise ValueError("%s: not a flow map: %r" % (where, text))
    out = {}
    for item in [x.strip() for x in m.group(1).split(",")] if m.group(1).strip() else []:
        mm = re.fullmatch(r"(%s): (0|[1-9][0-9]{0,6})" % NAME, item)
        if not mm or int(mm.group(2)) > 1000000 or mm.group(1) in out:
            raise ValueError("%s: bad weight %r" % (where, item))
        out[mm.group(1)] = int(mm.group(2))
    return out


def parse_state(text):
    """The state file as a dict; ValueError on anything the format does not allow."""
    if not text.endswith("\n"):
        raise ValueError("does not end with a newline (truncated?)")
    st = {"version": None, "drained": [], "services": {}}
    section, svc = None, None
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % no
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r"( *)([A-Za-z0-9_.-]+):(?: (.*))?", line)
        if not m:
            raise ValueError("%s: cannot read %r" % (where, line))
        indent, key, value = len(m.group(1)), m.group(2), m.group(3)
        if indent == 0:
            section, svc = key, None
            if key == "version" and value == "1":
                st["version"] = 1
            elif key == "drained" and value is not None:
                st["drained"] = flow_list(value, where)
            elif key == "services" and value in (None, "{}"):
                pass
            else:
                raise ValueError("%s: unexpected %r" % (where, line))
        elif indent == 2 and section == "services" and value is None:
            if key in st["services"]:
                raise ValueError("%s: service %s twice" % (where, key))
            svc = key
            st["services"][svc] = {"weights": {}, "drained": []}
        elif indent == 4 and svc and key == "weights" and value is not None:
            st["services"][svc]["weights"] = flow_map(value, where)
        elif indent == 4 and svc and key == "drained" and value is not None:
            st["services"][svc]["drained"] = flow_list(value, where)
        else:
            raise ValueError("%s: unexpected %r" % (where, line))
    if st["version"] != 1:
        raise ValueError("no version: 1")
    return st


def pick(v, path):
    for key in [k for k in path.split("/") if k]:
        if isinstance(v, list):
            v = next(x for x in v if key in (x.get("name"), x.get("region")))
        else:
            v = v[key]
    return v


def cmd_state(path, where):
    try:
        with open(path, encoding="utf-8") as f:
            st = parse_state(f.read())
        print(json.dumps(pick(st, where), sort_keys=True))
    except (OSError, ValueError, UnicodeDecodeError, KeyError) as e:
        print("%s: %s: %s" % (path, e.__class__.__name__, e), file=sys.stderr)
        sys.exit(1)


def cmd_jget(path):
    text = sys.stdin.read()
    try:
        print(json.dumps(pick(json.loads(text), path), sort_keys=True))
    except (ValueError, KeyError, StopIteration) as e:
        print("no %s in %r (%s)" % (path, text[:200], e.__class__.__name__))
        sys.exit(1)


def main(argv):
    cmd, a = argv[1], argv[2:]
    if cmd == "split":
        cmd_split(int(a[0]), a[1], int(a[2]), a[3:])
    elif cmd == "only":
        cmd_only(int(a[0]), a[1], int(a[2]), a[3], a[4:])
    elif cmd == "count":
        cmd_count(int(a[0]), a[1], int(a[2]))
    elif cmd == "bad":
        cmd_bad(a[0])
    elif cmd == "silent":
        cmd_silent(a[0])
    elif cmd == "trickle":
        cmd_trickle(a[0])
    elif cmd == "noread":
        cmd_noread(a[0])
    elif cmd == "flood":
        cmd_flood(a[0], int(a[1]), a[2])
    elif cmd == "cap":
        cmd_cap(a[0], int(a[1]))
    elif cmd == "crash":
        cmd_crash(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif cmd == "state":
        cmd_state(a[0], a[1] if len(a) > 1 else "")
    elif cmd == "jget":
        cmd_jget(a[0])
    elif cmd == "replay":
        with open(a[0], encoding="utf-8", errors="replace") as f:
            sys.stdout.write(f.read())
    else:
        raise SystemExit("unknown subcommand " + cmd)


if __name__ == "__main__":
    main(sys.argv)
