# backend.py — fake probe targets for health.sh: an HTTP(S) server whose answer a control
# file decides, a TCP listener that accepts and closes, and a black hole that accepts and
# never replies.  SPDX-License-Identifier: MIT
"""Usage:
  backend.py http ADDR PORT DIR [CERT KEY]
      HTTP (HTTPS with CERT and KEY) on ADDR:PORT.  Each request reads DIR/answer, a line
      "STATUS [BODY]" (default "200 OK") or "hang" (read the request, never answer),
      answers with it, and appends "STATUS HOST" to DIR/requests.  "endless TEXT" answers
      200 with TEXT and then bytes without end, until the client stops taking them, and
      appends "endless BYTES" (how many were sent) instead.
  backend.py tcp ADDR PORT DIR
      Accepts connections on ADDR:PORT and closes them; appends "accept ADDR TIME" to
      DIR/requests per connection (TIME: seconds since the epoch).
  backend.py blackhole PORT DIR ADDR...
      Listens on PORT at every ADDR, accepts, never sends a byte, and closes only when
      the peer does; DIR/requests gets "accept ADDR TIME" per accepted connection.

Each writes DIR/ready once every socket is bound, and runs until killed."""

import http.server
import os
import selectors
import socket
import ssl
import sys
import time


def append(directory, line):
    with open(os.path.join(directory, "requests"), "a") as f:
        f.write(line + "\n")


def ready(directory):
    tmp = os.path.join(directory, "ready.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, os.path.join(directory, "ready"))


def http_main(addr, port, directory, cert=None, key=None):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                with open(os.path.join(directory, "answer")) as f:
                    line = f.readline().strip()
            except FileNotFoundError:
                line = ""
            if line == "hang":
                append(directory, "hang %s" % self.headers.get("Host", "-"))
                time.sleep(30)  # longer than any probe waits; the thread is a daemon
                return
            if line.startswith("endless"):
                self.endless(line[8:].encode())
                return
            status, _, body = (line or "200 OK").partition(" ")
            code = int(status)
            data = b"" if code in (204, 304) else (body + "\n").encode()
            append(directory, "%d %s" % (code, self.headers.get("Host", "-")))
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            if code not in (204, 304):
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def endless(self, text):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            sent, block = 0, b"x" * 65536
            try:
                self.wfile.write(text)
                sent = len(text)
                while sent < 1 << 33:  # 8 GiB: a bound for a client that never stops
                    self.wfile.write(block)
                    sent += len(block)
            except OSError:
                pass
            append(directory, "endless %d" % sent)
            self.close_connection = True

        def log_message(self, *args):
            pass  # the requests file is the log

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a probe that hangs up early is not news

    srv = Server((addr, port), Handler)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        # The handshake runs in accept(); a client that refuses the certificate makes
        # accept() raise, which socketserver shrugs off.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ready(directory)
    srv.serve_forever()


def listeners(addrs, port):
    socks = []
    for addr in addrs:
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1024)
        s.setblocking(False)
        socks.append(s)
    return socks


def tcp_main(addr, port, directory, hold):
    """Accepts on every listener; closes at once, or (hold) only once the peer closes."""
    sel = selectors.DefaultSelector()
    for s in listeners(addr, port):
        sel.register(s, selectors.EVENT_READ, "listen")
    ready(directory)
    while True:
        for key, _ in sel.select():
            if key.data == "listen":
                try:
                    conn, _ = key.fileobj.accept()
                except OSError:
                    continue
                append(directory, "accept %s %.6f" % (conn.getsockname()[0], time.time()))
                if hold:
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, "conn")
                else:
                    conn.close()
            else:
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the peer gave up: let the socket go
                    sel.unregister(key.fileobj)
                    key.fileobj.close()


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "http" and len(argv) in (5, 7):
        http_main(argv[2], int(argv[3]), argv[4], *argv[5:7])
    elif mode == "tcp" and len(argv) == 5:
        tcp_main([argv[2]], int(argv[3]), argv[4], hold=False)
    elif mode == "blackhole" and len(argv) >= 5:
        tcp_main(argv[4:], int(argv[2]), argv[3], hold=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except KeyboardInterrupt:
        pass
