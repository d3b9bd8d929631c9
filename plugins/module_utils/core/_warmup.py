# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A one-shot HTTP server on the loopback interface, for ``SecretBackend.preload()``.

The first request an SDK makes in a process is several times slower than the next ones (lazily built state:
compiled patterns, parsers, caches). Ansible forks a worker per task, so every task would pay it. A backend's
``preload()`` runs in the controller's main process before the workers fork: it can send one request of the kind
its lookups send to this server - never to a real store, never with a credential - and every worker inherits the
warmed state. Best effort: any failure only means the workers warm up by themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import threading


@contextlib.contextmanager
def loopback(body, content_type='application/json', requests=1, timeout=2.0):
    """Yields ``http://127.0.0.1:<port>``, which answers ``requests`` requests (one per connection) with 200 and
    ``body`` (bytes)."""
    # pylint: disable=import-outside-toplevel
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get('Content-Length') or 0)
            if length:
                self.rfile.read(length)
            self.send_response(200)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(body)))
            self.send_header('Connection', 'close')
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

    Handler.timeout = timeout
    server = HTTPServer(('127.0.0.1', 0), Handler)
    server.timeout = timeout

    def serve():
        for _request in range(requests):
            server.handle_request()

    thread = threading.Thread(target=serve, name='agentarea-secrets-warmup')
    thread.daemon = True
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        thread.join(timeout * (requests + 1))
        server.server_close()
