# propagate.py — times weight changes through one node until two others answer them, for
# fleet_etcd.sh: queries go straight over UDP, so the time measured is the fleet's, not
# that of starting dig.  SPDX-License-Identifier: MIT
"""Usage: propagate.py MERIDIANCTL SOCKET PORT... -- N
Sets api's weight of region a to 0 and 1000000 in turn N times through the node at
SOCKET; after each acknowledgement, queries api.example.com A on 127.0.0.1:PORT for each
PORT until every one answers the new choice (b: 127.0.0.42, a: 127.0.0.41), 5 s at most.
Prints one line: "p50 MS p99 MS late N cmd_p50 MS cmd_p99 MS", times from the
acknowledgement, late: changes not seen everywhere within 5 s of it, cmd_: times from
sending the command (its compare-and-swap included)."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dnswire  # noqa: E402


def answers(sock, port, qid):
    sock.sendto(dnswire.query("api.example.com", qid=qid), ("127.0.0.1", port))
    while True:
        reply, _ = sock.recvfrom(4096)
        if dnswire.parse_header(reply)["id"] == qid:
            return dnswire.addresses(reply)


def seen_everywhere(sock, ports, want, deadline):
    qid = 1
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        port = waiting[0]
        qid = qid % 65535 + 1
        try:
            if answers(sock, port, qid) == [want]:
                waiting.pop(0)
        except OSError:
            pass
    return not waiting


def main():
    ctl, socket_path = sys.argv[1], sys.argv[2]
    sep = sys.argv.index("--")
    ports = [int(p) for p in sys.argv[3:sep]]
    n = int(sys.argv[sep + 1])
    sock = dnswire.udp_socket("127.0.0.1", 1.0)
    lat, cmd, late = [], [], 0
    for i in range(n):
        weight, want = ("0", "127.0.0.42") if i % 2 == 0 else ("1000000", "127.0.0.41")
        sent = time.monotonic()
        if subprocess.run([ctl, "-s", socket_path, "weight", "api", "a", weight],
                          stdout=subprocess.DEVNULL).returncode != 0:
            late += 1
            continue
        t0 = time.monotonic()  # etcd has committed the change
        if not seen_everywhere(sock, ports, want, t0 + 5.0):
            late += 1
        lat.append((time.monotonic() - t0) * 1000)
        cmd.append((time.monotonic() - sent) * 1000)
    print("p50 %.0f p99 %.0f late %d cmd_p50 %.0f cmd_p99 %.0f"
          % (pick(lat, 0.50), pick(lat, 0.99), late, pick(cmd, 0.50), pick(cmd, 0.99)))


def pick(values, q):
    """The q quantile of values (nearest rank); 0 for none."""
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0


if __name__ == "__main__":
    main()
