# -*- coding: utf-8 -*-
"""What the AWS, Azure and GCP integration tests share: servers from the harness, SDK clients for set-up and checks
(never the code under test), plays, and a tiny HTTP server that answers every request the way a cloud API denies
one (for emulators that have no IAM)."""
import hashlib
import json
import textwrap
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def sha(text):
    """Playbooks compare values by hash, so neither the playbook nor its output holds a canary."""
    return hashlib.sha256(text.encode()).hexdigest()


def play(tasks, vars_=None):
    """One play on localhost; ``tasks`` is YAML text."""
    def indent(block):
        return "\n".join("    " + line for line in textwrap.dedent(block).strip("\n").splitlines()) + "\n"

    text = "- hosts: localhost\n  gather_facts: false\n"
    if vars_:
        text += "  vars:\n" + indent(vars_)
    return text + "  tasks:\n" + indent(tasks)


@pytest.fixture
def prefix():
    return "agentarea-%s" % uuid.uuid4().hex[:10]


class Denier:
    """An HTTP server on 127.0.0.1 that answers everything with ``status`` and a JSON ``body``."""

    def __init__(self, status, body, headers=None):
        payload = json.dumps(body).encode()
        extra = dict(headers or {})

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
