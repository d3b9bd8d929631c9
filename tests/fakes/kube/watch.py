# -*- coding: utf-8 -*-
"""Watches: chunked JSON lines of events from the store's event log, mixed into the request handler."""
import bisect
import json
import time

from tests.fakes.kube.errors import ApiError
from tests.fakes.kube.resources import out


class WatchMixin:
    """Mixed into the request handler: ``_watch()`` streams the ``cluster``'s events."""

    def _watch(self, res, version, ns, query):
        """Stream watch events as chunked JSON lines until timeoutSeconds."""
        c = self.cluster
        match = c.select(res, ns, query)
        timeout = min(int(query.get("timeoutSeconds") or 1800), 3600)
        start = query.get("resourceVersion")
        pending = []
        with c.lock:
            if start in (None, "", "0"):
                pending = [{"type": "ADDED", "object": out(res, version, o)}
                           for k, o in sorted(c.store(res).items()) if match(k, o)]
                last = c.rv
            else:
                last = int(start)
                if c.event_rvs and last < c.event_rvs[0] - 1:
                    pending = [{"type": "ERROR", "object": ApiError(
                        410, "Expired", "too old resource version: %d (%d)" % (last, c.event_rvs[0])).status()}]
                    timeout = 0
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + timeout
        try:
            while True:
                for ev in pending:
                    data = json.dumps(ev).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                pending = []
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with c.cond:
                    idx = bisect.bisect_right(c.event_rvs, last)
                    if idx == len(c.events):
                        c.cond.wait(timeout=min(remaining, 1.0))
                        continue
                    for rv, kind, r, obj in c.events[idx:]:
                        last = rv
                        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                        if r is res and match(key, obj):
                            pending.append({"type": kind, "object": out(res, version, obj)})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
