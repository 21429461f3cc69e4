# udprelay.py — a UDP relay that counts: what a resolver sends to 127.0.0.1:LISTEN goes on
# to 127.0.0.1:TARGET, and the replies come back.  On SIGTERM it writes the number of
# queries relayed to COUNTFILE and exits.  The resolver mix counts its upstream queries
# this way, the same for every server.  Stdlib only.
# SPDX-License-Identifier: MIT
"""Usage: udprelay.py LISTEN TARGET COUNTFILE"""

import selectors
import signal
import socket
import sys


def main(argv):
    listen, target, countfile = int(argv[1]), int(argv[2]), argv[3]
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", listen))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect(("127.0.0.1", target))
    count = 0
    waiting = {}  # DNS id -> the resolver's address

    def stop(_sig, _frame):
        with open(countfile, "w") as f:
            f.write("%d\n" % count)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    sel = selectors.DefaultSelector()
    sel.register(front, selectors.EVENT_READ)
    sel.register(back, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is front:
                msg, addr = front.recvfrom(65535)
                if len(msg) >= 12:
                    waiting[msg[:2]] = addr
                    back.send(msg)
                    count += 1
            else:
                try:
                    msg = back.recv(65535)
                except OSError:
                    continue
                addr = waiting.pop(msg[:2], None)
                if addr:
                    front.sendto(msg, addr)


if __name__ == "__main__":
    main(sys.argv)
