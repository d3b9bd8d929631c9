"""What every fake server in tests/fakes shares: the request handler's base, listening on a port (plain HTTP or
TLS), the port file the harness waits for, the ``--port``/``--port-file`` options and the serving loop.

A fake runs as ``python tests/fakes/<fake>.py`` (or ``python tests/fakes/<package>``) from the harness
(tests/harness/servers/): ``--port 0 --port-file F`` picks a free port and writes it to F once listening.
"""

import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle, the access log on stderr (the harness keeps it in the service's log)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: avoid 40 ms delayed-ACK stalls

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        sys.stderr.write("%s - %s\n" % (self.log_date_time_string(), fmt % args))


def listen(handler, port, port_file=None, host="127.0.0.1", tls=None):
    """A threading server of ``handler`` on ``host:port``; ``tls=(cert, key)`` serves HTTPS (the handshake is left
    to the request's thread: see the handler's ``setup``). Writes the bound port to ``port_file`` atomically."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, port_file)
    return server


def add_port_arguments(ap):
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")


def serve_forever(server, banner):
    """Print ``banner`` (``%d`` is the bound port) on stderr and serve until interrupted."""
    sys.stderr.write(banner % server.server_address[1] + "\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
