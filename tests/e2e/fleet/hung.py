# hung.py — a control socket that accepts connections and reads requests but never
# answers: fleet.sh's server that hangs.  Usage: hung.py SOCKET READY-FILE
# SPDX-License-Identifier: MIT
import selectors
import socket
import sys

sock_path, ready = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(16)
open(ready, "w").close()
sel = selectors.DefaultSelector()
sel.register(srv, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is srv:
            conn, _ = srv.accept()
            sel.register(conn, selectors.EVENT_READ)
        elif not key.fileobj.recv(4096):  # the client gave up
            sel.unregister(key.fileobj)
            key.fileobj.close()
