# backend.py — a probe target for fleet_etcd.sh that answers each prober by its source
# address: 503 to every address listed in DIR/refuse, 200 to the rest.
# SPDX-License-Identifier: MIT
"""Usage: backend.py ADDR PORT DIR   (writes DIR/ready once bound; runs until killed)"""

import http.server
import os
import sys


def main(addr, port, directory):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                with open(os.path.join(directory, "refuse")) as f:
                    refused = f.read().split()
            except FileNotFoundError:
                refused = []
            code = 503 if self.client_address[0] in refused else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((addr, int(port)), Handler)
    server.daemon_threads = True
    with open(os.path.join(directory, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(directory, "ready.tmp"), os.path.join(directory, "ready"))
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
