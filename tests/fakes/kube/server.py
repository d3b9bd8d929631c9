# -*- coding: utf-8 -*-
"""The HTTP side: authentication, discovery, routing of resource paths to the store, and the command line."""
import argparse
import hashlib
import json
import uuid
from urllib.parse import parse_qs, urlsplit

from tests.fakes.fake_http import FakeHandler, add_port_arguments, listen, serve_forever
from tests.fakes.kube.auth import jwt_claims, sa_identity, token_review
from tests.fakes.kube.errors import ApiError, bad_request
from tests.fakes.kube.resources import GROUPS, out
from tests.fakes.kube.store import Cluster
from tests.fakes.kube.watch import WatchMixin


class Handler(WatchMixin, FakeHandler):
    server_version = "FakeKubeAPIServer/1.0"
    cluster = None  # set by serve()

    def _send(self, code, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        try:
            if parts in (["healthz"], ["livez"], ["readyz"]):
                return self._send(200, "ok", "text/plain; charset=utf-8")
            if parts == ["version"]:
                return self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake",
                                        "gitCommit": "0" * 40, "gitTreeState": "clean",
                                        "buildDate": "2024-04-17T00:00:00Z", "goVersion": "go1.22.2",
                                        "compiler": "gc", "platform": "linux/amd64"})
            auth = self.headers.get("Authorization") or ""
            bearer = auth[7:].strip() if auth.startswith("Bearer ") else ""
            is_review = parts == ["apis", "authentication.k8s.io", "v1", "tokenreviews"]
            # DIFF: a service-account JWT is accepted (unverified) only to call TokenReview, which is what
            # OpenBao's kubernetes auth does when no separate reviewer token is configured.
            if bearer != self.cluster.token and not (is_review and bearer and all(sa_identity(
                    jwt_claims(bearer) or {})[:2])):
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if is_review and method == "POST":
                return self._send(201, token_review(json.loads(raw or b"{}")))
            return self._route(method, parts, query, raw)
        except ApiError as e:
            return self._send(e.code, e.status())
        except Exception as e:  # a bug in the fake: answer like the real server's 500, keep serving
            self.log_message("internal error: %r", e)
            return self._send(500, ApiError(500, "InternalError", "Internal error occurred: %r" % e).status())

    def _route(self, method, parts, query, raw):
        if method == "GET" and parts == ["api"]:
            return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "%s:%d" % self.server.server_address[:2]}]})
        if method == "GET" and parts == ["apis"]:
            return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                self._group(g) for g in GROUPS if g]})
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 2:
            group = parts[1]
            if len(parts) == 2 and method == "GET" and group in GROUPS:
                return self._send(200, dict(self._group(group), kind="APIGroup", apiVersion="v1"))
            if len(parts) < 3:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            version, rest = parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        resources = GROUPS.get(group, {}).get(version)
        if resources is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if not rest:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                               "resource", {})
            return self._send(200, self._resource_list(group, version, resources))
        by_plural = {r.plural: r for r in resources}
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in by_plural and by_plural[rest[2]].namespaced:
            ns, rest = rest[1], rest[2:]
        res = by_plural.get(rest[0])
        if res is None or len(rest) > 3 or (len(rest) == 3 and not (rest[2] == "status" and res.status)):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if res.namespaced and ns is None and (name or method != "GET"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        c = self.cluster
        if name is None and method == "GET" and (query.get("watch") or "").lower() in ("true", "1"):
            return self._watch(res, version, ns, query)
        with c.lock:
            if name is None:
                if method == "GET":
                    meta, items = c.list(res, ns, query)
                    return self._send(200, {"kind": res.kind + "List",
                                            "apiVersion": "%s/%s" % (group, version) if group else version,
                                            "metadata": meta, "items": [out(res, version, o, True) for o in items]})
                if method == "POST" and "create" in res.verbs:
                    return self._send(201, out(res, version, c._create(res, ns, self._json(raw), query)))
                if method == "DELETE" and "deletecollection" in res.verbs:
                    meta, items = c.list(res, ns, query)
                    for o in items:
                        c.delete(res, o["metadata"].get("namespace"), o["metadata"]["name"], None, query)
                    return self._send(200, {"kind": res.kind + "List", "apiVersion": "%s/%s" % (group, version)
                                            if group else version, "metadata": {"resourceVersion": str(c.rv)},
                                            "items": [out(res, version, o, True) for o in items]})
            else:
                if method == "GET":
                    return self._send(200, out(res, version, c.get(res, ns, name)))
                if method == "PUT":
                    return self._send(200, out(res, version, c.update(res, ns, name, self._json(raw), query, sub)))
                if method == "PATCH":
                    ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                    code, obj = c.patch(res, ns, name, raw, ctype, query, sub)
                    return self._send(code, out(res, version, obj))
                if method == "DELETE" and sub is None:
                    result = c.delete(res, ns, name, self._json(raw) if raw else None, query)
                    return self._send(200, result if result.get("kind") == "Status" else out(res, version, result))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                       {})

    @staticmethod
    def _json(raw):
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise bad_request("the body of the request was in an unknown format") from None

    @staticmethod
    def _group(group):
        versions = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in GROUPS[group]]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    @staticmethod
    def _resource_list(group, version, resources):
        items = []
        for r in resources:
            items.append({"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                          "kind": r.kind, "verbs": r.verbs, "shortNames": r.short,
                          "storageVersionHash": hashlib.sha256(r.qualified.encode()).hexdigest()[:11]})
            if r.status:
                items.append({"name": r.plural + "/status", "singularName": "", "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (group, version) if group else version, "resources": items}

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


def serve(port, token, rollout_delay=0.5, port_file=None, host="127.0.0.1"):
    handler = type("BoundHandler", (Handler,), {"cluster": Cluster(token, rollout_delay)})
    return listen(handler, port, port_file, host)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Kubernetes API server")
    add_port_arguments(ap)
    ap.add_argument("--token", required=True, help="the bearer token clients must send")
    ap.add_argument("--rollout-delay", type=float, default=0.5, help="seconds until a workload rollout converges")
    args = ap.parse_args(argv)
    server = serve(args.port, args.token, args.rollout_delay, args.port_file)
    serve_forever(server, "fake Kubernetes API on http://127.0.0.1:%d")
