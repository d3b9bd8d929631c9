# -*- coding: utf-8 -*-
"""A loopback HTTP proxy that injects faults in front of one of the harness's servers (OpenBao, moto, drongo, the
Kubernetes fake): the tool of the fault tests (issue 12's lost responses, issue 14's fault suite).

It listens on 127.0.0.1 (plain HTTP, no TLS) and forwards every request to ``upstream`` (an ``http://`` URL on a
loopback address), keeping the method, path, headers (``Host`` included, so AWS signatures stay valid) and body.
Rules, matched in the order they were added, change what happens to the requests they match:

- ``delay``   wait ``seconds`` (at most 60), then forward
- ``reset``   close the client's connection with a TCP reset, without forwarding
- ``status``  answer ``status`` (502, 429, 503, ...) with a small JSON body, without forwarding; ``body_text``
              replaces the body and ``reply_headers`` (a dict) adds headers, e.g. AWS's own throttling answer:
              ``status=400, body_text='{"__type":"ThrottlingException","message":"Rate exceeded"}',
              reply_headers={"x-amzn-ErrorType": "ThrottlingException"}``
- ``lost``    forward (the upstream server does the work), then drop its response: answer ``status`` (502 by
              default) or, with ``status=None``, reset the connection -- "the write landed, the answer was lost"

A rule matches a request by ``method`` and ``path`` (regular expressions, ``re.search`` on the method and on the
path with its query string), optionally ``headers`` (a dict of header name -> regular expression; AWS's JSON API
names the operation in ``X-Amz-Target``, its path is always ``/``) and ``body`` (a regular expression searched in
the request body decoded as latin-1), waits until the rule given as ``after`` (in-process only) has fired, lets
the first ``skip`` matches through, then fires on the next ``times`` matches
(``None``: on every match) and, with ``every=N``, only on every N-th of them (a share of the requests). A rule
that has fired ``times`` times stays in ``rules`` (its ``fired`` count is there to assert on) but fires no more.

In-process::

    from tests.harness.faultproxy import FaultProxy

    with FaultProxy(bao["url"]) as proxy:                      # proxy.url -> "http://127.0.0.1:<port>"
        rule = proxy.add("lost", method="POST|PUT", path=r"^/v1/secret/data/app/db$")   # the next one
        proxy.add("lost", headers={"X-Amz-Target": "UpdateSecretVersionStage"}, body="AWSCURRENT")
        proxy.add("status", status=503, times=None, after=rule)   # and after it, every request: 503
        proxy.add("delay", seconds=2, times=None)              # every request, 2 s later
        proxy.add("status", status=429, path="^/", every=3, times=None)   # a third of the requests throttled
        ...                                                    # point the client at proxy.url
        assert rule.fired == 1
        proxy.requests                                         # [(method, path, what happened), ...]
        proxy.clear()

From another process (``python -m tests.harness.faultproxy --upstream URL [--port N] --control FILE``), or when
the proxy runs in this process but the test wants to drive it through a file: ``FaultProxy(url,
control=path)`` reads ``path`` (a JSON list of rules, each a dict of ``add()``'s arguments) whenever its
modification time changes, and replaces all rules with it; an empty list clears them. ``--port-file`` writes the
port once listening (use port 0 for a free one).

Bounded on purpose: loopback addresses only (listen and upstream), at most 64 rules, delays of at most 60 s,
request bodies of at most 64 MiB, an upstream timeout (30 s by default). It is a test tool: no TLS, no CONNECT,
no HTTP/2; every response it passes on is sent whole with a ``Content-Length`` (upstream chunking is undone).
"""

import argparse
import http.client
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ACTIONS = ("delay", "reset", "status", "lost")
MAX_RULES = 64
MAX_DELAY = 60.0
MAX_BODY = 64 * 1024 * 1024
LOOPBACK = ("127.0.0.1", "localhost", "::1")
HOP_BY_HOP = ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length")


class Rule:
    """One fault: what to do (``action``) to which requests (``method``, ``path``), how often."""

    def __init__(self, action, method=".*", path=".*", times=1, skip=0, every=1, seconds=0.0, status=502,
                 headers=None, body=None, after=None, body_text=None, reply_headers=None):
        if action not in ACTIONS:
            raise ValueError("action must be one of %s" % ", ".join(ACTIONS))
        if times is not None and not 1 <= int(times) <= 100000:
            raise ValueError("times must be None (every match) or 1..100000")
        if not 0 <= float(seconds) <= MAX_DELAY:
            raise ValueError("seconds must be 0..%d" % MAX_DELAY)
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError("status must be an HTTP status")
        if int(every) < 1 or int(skip) < 0:
            raise ValueError("every must be >= 1 and skip >= 0")
        self.action, self.seconds, self.status = action, float(seconds), status
        self.method, self.path = re.compile(method, re.I), re.compile(path)
        self.headers = dict((str(k).lower(), re.compile(v)) for k, v in (headers or {}).items())
        self.body = re.compile(body) if body else None
        self.after = after
        self.body_text = None if body_text is None else str(body_text)
        self.reply_headers = [(str(k), str(v)) for k, v in (reply_headers or {}).items()]
        self.times, self.skip, self.every = (None if times is None else int(times)), int(skip), int(every)
        self.matched = 0   # matching requests seen
        self.fired = 0     # of which the fault was applied to

    def take(self, method, path, headers=None, body=b""):
        """Whether this rule fires for the request (and count it)."""
        if self.after is not None and not self.after.fired:
            return False
        if not (self.method.search(method) and self.path.search(path)):
            return False
        for name, pattern in self.headers.items():
            if not pattern.search((headers or {}).get(name) or ""):
                return False
        if self.body is not None and not self.body.search(body.decode("latin-1")):
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.matched += 1
        if self.matched <= self.skip or (self.matched - self.skip) % self.every:
            return False
        self.fired += 1
        return True

    def __repr__(self):
        return "Rule(%s %s %s fired=%d)" % (self.action, self.method.pattern, self.path.pattern, self.fired)


def _loopback(host):
    if host not in LOOPBACK and not str(host).startswith("127."):
        raise ValueError("the fault proxy only talks to loopback addresses (got %s)" % host)


class FaultProxy:
    """The proxy (see the module docstring). ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, upstream, port=0, control=None, timeout=30.0):
        parts = urlsplit(upstream)
        if parts.scheme != "http":
            raise ValueError("upstream must be an http:// URL (the proxy does not speak TLS)")
        _loopback(parts.hostname)
        self.upstream = (parts.hostname, parts.port or 80)
        self.control = control
        self.timeout = float(timeout)
        self.rules = []
        self.requests = []
        self._lock = threading.Lock()
        self._control_mtime = None
        self._server = ThreadingHTTPServer(("127.0.0.1", int(port)), self._handler_class())
        self._server.daemon_threads = True
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # -- control -----------------------------------------------------------------------------------------------
    def add(self, action, **kwargs):
        """Add a rule (arguments as ``Rule``); returns it, so a test can assert on ``rule.fired``."""
        rule = Rule(action, **kwargs)
        with self._lock:
            if len(self.rules) >= MAX_RULES:
                raise ValueError("at most %d rules" % MAX_RULES)
            self.rules.append(rule)
        return rule

    def clear(self):
        with self._lock:
            self.rules = []

    def _reload(self):
        if not self.control:
            return
        try:
            mtime = os.stat(self.control).st_mtime_ns
        except OSError:
            return
        if mtime == self._control_mtime:
            return
        with open(self.control) as handle:
            specs = json.load(handle)
        rules = [Rule(**spec) for spec in specs[:MAX_RULES]]
        with self._lock:
            self._control_mtime = mtime
            self.rules = rules

    def _decide(self, method, path, headers, body):
        self._reload()
        with self._lock:
            for rule in self.rules:
                if rule.take(method, path, headers, body):
                    return rule
        return None

    def _log(self, method, path, what):
        with self._lock:
            self.requests.append((method, path, what))

    # -- life ------------------------------------------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- the handler -------------------------------------------------------------------------------------------
    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise ValueError("request body too large")
                return self.rfile.read(length) if length else b""

            def _reset(self):
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass

            def _answer(self, status, body, headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self, body):
                conn = http.client.HTTPConnection(proxy.upstream[0], proxy.upstream[1], timeout=proxy.timeout)
                try:
                    conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() not in HOP_BY_HOP:
                            conn.putheader(name, value)
                    if body or self.command in ("POST", "PUT", "PATCH"):
                        conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body or None)
                    resp = conn.getresponse()
                    data = resp.read()
                    headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                    return resp.status, data, headers
                finally:
                    conn.close()

            def _handle(self):
                body = self._body()
                headers = dict((k.lower(), v) for k, v in self.headers.items())
                rule = proxy._decide(self.command, self.path, headers, body)
                what = rule.action if rule else "forward"
                if rule is not None and rule.action == "delay":
                    time.sleep(rule.seconds)
                if rule is not None and rule.action == "reset":
                    proxy._log(self.command, self.path, "reset")
                    return self._reset()
                if rule is not None and rule.action == "status":
                    proxy._log(self.command, self.path, "status %d" % rule.status)
                    body = (rule.body_text.encode() if rule.body_text is not None
                            else json.dumps({"errors": ["injected by the fault proxy"]}).encode())
                    names = set(k.lower() for k, _v in rule.reply_headers)
                    extra = [] if "content-type" in names else [("Content-Type", "application/json")]
                    return self._answer(rule.status, body, extra + rule.reply_headers)
                try:
                    status, data, headers = self._forward(body)
                except (OSError, http.client.HTTPException):
                    proxy._log(self.command, self.path, "upstream unreachable")
                    return self._answer(502, b'{"errors": ["upstream unreachable"]}',
                                        [("Content-Type", "application/json")])
                if rule is not None and rule.action == "lost":
                    proxy._log(self.command, self.path, "lost %d" % status)
                    if rule.status is None:
                        return self._reset()
                    return self._answer(rule.status, b'{"errors": ["response lost by the fault proxy"]}',
                                        [("Content-Type", "application/json")])
                proxy._log(self.command, self.path, "%s %d" % (what, status))
                return self._answer(status, data, headers)

            def handle_one_request(self):
                try:
                    return super().handle_one_request()
                except (ConnectionError, socket.timeout):
                    self.close_connection = True
                    return None

            def __getattr__(self, name):
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

        return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="loopback fault-injecting HTTP proxy (see the module docstring)")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control", help="JSON file of rules, re-read when it changes")
    parser.add_argument("--port-file", help="write the listening port here")
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, port=args.port, control=args.control)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as handle:
            handle.write(str(proxy.port))
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        proxy._server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
