"""A fake of the Azure Key Vault secrets data-plane API, good enough for azure-keyvault-secrets' SecretClient.

Standalone: ``python tests/fakes/azure_keyvault.py --port P --cert C --key K`` (``--port 0 --port-file F``
picks a free port and writes it to F). HTTPS only, because the SDK refuses bearer tokens over plain HTTP.

Clients need ``verify_challenge_resource=False`` (the challenge names vault.azure.net, not 127.0.0.1) and
``connection_verify=<CA bundle>``. Any bearer token is accepted unless ``--token`` is given; a token that starts
with ``deny-`` is an identity without permissions (403 Forbidden, as for a missing access policy or RBAC role).
With ``--aad CONFIG`` the same port also serves a tenant's Entra ID token endpoint (tests/fakes/azure_ad.py), the
401 challenge names it, and only bearer tokens it issued (signature, audience, issuer, expiry) are accepted.

Every place where this differs from the real service carries a ``DIFF:`` comment.
"""

import argparse
import base64
import json
import os
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, quote, urlencode, urlsplit

if __package__ in (None, ""):  # run as a script: import tests.* from the repository root, not from tests/fakes
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.fakes.fake_http import FakeHandler, add_port_arguments, listen, serve_forever  # noqa: E402
from tests.fakes.azure_ad import Directory  # noqa: E402

NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90
MAX_PAGE = 25
MAX_VALUE_BYTES = 25 * 1024
NOT_FOUND_HELP = ("If you recently deleted this secret you may be able to recover it using the correct recovery "
                  "command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")


class AkvError(Exception):
    def __init__(self, status, code, message, inner=None):
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.inner:
            err["innererror"] = {"code": self.inner}
        return {"error": err}


def not_found(name, version=None):
    ref = name if version is None else "%s/%s" % (name, version)
    return AkvError(404, "SecretNotFound",
                    "A secret with (name/id) %s was not found in this key vault. %s" % (ref, NOT_FOUND_HELP))


def deleted_not_found(name):
    # DIFF: wording of the real message for a missing deleted secret is "Deleted Secret not found" in some
    # API versions; the code (SecretNotFound, 404) is what clients rely on.
    return AkvError(404, "SecretNotFound", "Deleted Secret not found: %s" % name)


class Vault:
    """The state: live secrets (name -> list of versions, oldest first) and soft-deleted ones."""

    def __init__(self):
        self.lock = threading.RLock()
        self.secrets = {}
        self.deleted = {}  # name -> {"versions": [...], "deletedDate": t, "scheduledPurgeDate": t}

    @staticmethod
    def new_version(value, content_type=None, attributes=None, tags=None):
        now = int(time.time())
        attrs = {"enabled": True, "created": now, "updated": now}
        for k in ("enabled", "nbf", "exp"):
            if attributes and attributes.get(k) is not None:
                attrs[k] = attributes[k]
        return {"version": uuid.uuid4().hex, "value": value, "contentType": content_type, "attributes": attrs,
                "tags": tags}


def bundle(base, name, ver, with_value=True, versioned_id=True):
    attrs = dict(ver["attributes"], recoveryLevel=RECOVERY_LEVEL, recoverableDays=RECOVERABLE_DAYS)
    out = {"id": "%s/secrets/%s" % (base, name) + ("/" + ver["version"] if versioned_id else ""),
           "attributes": attrs}
    if with_value:
        out["value"] = ver["value"]
    if ver.get("contentType") is not None:
        out["contentType"] = ver["contentType"]
    if ver.get("tags") is not None:
        out["tags"] = ver["tags"]
    return out


def deleted_bundle(base, name, entry, item=False):
    out = bundle(base, name, entry["versions"][-1], with_value=False, versioned_id=not item)
    out.update({"recoveryId": "%s/deletedsecrets/%s" % (base, name), "deletedDate": entry["deletedDate"],
                "scheduledPurgeDate": entry["scheduledPurgeDate"]})
    return out


class Handler(FakeHandler):
    server_version = "FakeAzureKeyVault/1.0"
    vault = None  # set by serve()
    token = None
    directory = None  # an azure_ad.Directory with --aad

    def setup(self):
        # The TLS handshake runs here, in the request's thread, so one stalled client cannot block accept().
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    # --- plumbing ---
    def _send(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-keyvault-service-version", "1.9.0.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise AkvError(400, "BadParameter", "The request body is not valid JSON.") from None

    def _base(self):
        # Resource ids are built from the Host header, like the real service builds them from the vault URL.
        return "https://%s" % (self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1])

    def _authorised(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return False
        if self.directory is not None:
            self._token_error = self.directory.check_token(auth[7:].strip())
            return self._token_error is None
        # DIFF: the real service validates the JWT (issuer, audience, expiry); we accept any bearer token
        # unless --token was given.
        return self.token is None or auth[7:].strip() == self.token

    def _dispatch(self, method):
        if self.directory is not None and self.directory.handles(self.path):
            length = int(self.headers.get("Content-Length") or 0)
            self._send(*self.directory.handle(method, self.path, self._base(),
                                              self.rfile.read(length) if length else b""))
            return
        try:
            self._body_cache = self._body()
            self._token_error = None
            if not self._authorised():
                authority = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
                if self.directory is not None:  # DIFF: the real challenge names login.microsoftonline.com
                    authority = "%s/%s" % (self._base(), self.directory.tenant)
                challenge = 'Bearer authorization="%s", resource="https://vault.azure.net"' % authority
                self._send(401, {"error": {"code": "Unauthorized", "message": self._token_error
                                           or "AKV10000: Request is missing a Bearer or PoP token."}},
                           {"WWW-Authenticate": challenge})
                return
            if (self.headers.get("Authorization") or "")[7:].strip().startswith("deny-"):
                # DIFF: the real service decides by access policy or RBAC role; here a bearer token starting with
                # "deny-" stands for an identity with no permission on the vault, answered as the service does.
                raise AkvError(403, "Forbidden", "The user, group or application 'appid=00000000-0000-0000-0000-"
                               "000000000000' does not have secrets %s permission on key vault 'fake'."
                               % ("get" if method == "GET" else "set"), inner="AccessDenied")
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if "api-version" not in query:
                # DIFF: message approximated; the real service also rejects unknown api-version values.
                raise AkvError(400, "BadParameter", "The 'api-version' query parameter is missing.")
            parts = url.path.split("/")[1:]
            status, body = self._route(method, parts, query)
            self._send(status, body)
        except AkvError as e:
            self._send(e.status, e.body())

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_POST(self):
        self._dispatch("POST")

    # --- routing ---
    def _route(self, method, parts, query):
        v = self.vault
        body = self._body_cache
        # A trailing empty segment is "no version": the SDK sends GET /secrets/NAME/ for the latest version.
        if parts and parts[0] == "secrets":
            rest = parts[1:]
            if not rest or rest == [""]:
                if method == "GET":
                    return 200, self._list_secrets(query)
            elif rest == ["restore"] and method == "POST":
                return self._restore(body)
            else:
                name = rest[0]
                self._check_name(name)
                if len(rest) == 1 or (len(rest) == 2 and rest[1] == ""):
                    if method == "PUT":
                        return self._set(name, body)
                    if method == "DELETE":
                        return self._delete(name)
                    if method in ("GET", "PATCH"):
                        return self._version_op(method, name, None, body)
                elif len(rest) == 2 and rest[1] == "versions" and method == "GET":
                    return 200, self._list_versions(name, query)
                elif len(rest) == 2 and rest[1] == "backup" and method == "POST":
                    return self._backup(name)
                elif len(rest) == 2 and method in ("GET", "PATCH"):
                    return self._version_op(method, name, rest[1], body)
        elif parts and parts[0] == "deletedsecrets":
            rest = [p for p in parts[1:] if p]
            if not rest and method == "GET":
                return 200, self._list_deleted(query)
            if rest:
                self._check_name(rest[0])
                with v.lock:
                    entry = v.deleted.get(rest[0])
                    if len(rest) == 1 and method == "GET":
                        if not entry:
                            raise deleted_not_found(rest[0])
                        return 200, deleted_bundle(self._base(), rest[0], entry)
                    if len(rest) == 1 and method == "DELETE":
                        if not entry:
                            raise deleted_not_found(rest[0])
                        del v.deleted[rest[0]]
                        return 204, None
                    if len(rest) == 2 and rest[1] == "recover" and method == "POST":
                        if not entry:
                            raise deleted_not_found(rest[0])
                        del v.deleted[rest[0]]
                        v.secrets[rest[0]] = entry["versions"]
                        # DIFF: the real service recovers asynchronously (GET may 404 for a few seconds).
                        return 200, bundle(self._base(), rest[0], entry["versions"][-1], with_value=False)
        # DIFF: the real service answers unknown routes with various 400/404/405 bodies.
        raise AkvError(404, "NotFound", "The requested resource was not found: %s %s" % (method, self.path))

    @staticmethod
    def _check_name(name):
        if not NAME_RE.match(name):
            raise AkvError(400, "BadParameter", "The request URI contains an invalid name: %s" % name)

    @staticmethod
    def _attributes(body):
        attrs = body.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise AkvError(400, "BadParameter", "Property attributes has invalid value")
        for k in ("nbf", "exp"):
            if attrs.get(k) is not None and not isinstance(attrs[k], int):
                raise AkvError(400, "BadParameter", "Property %s has invalid value" % k)
        return attrs

    def _set(self, name, body):
        value = body.get("value")
        if not isinstance(value, str):
            raise AkvError(400, "BadParameter", "Property value is required")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise AkvError(400, "BadParameter", "Secret value is too large (max %d bytes)" % MAX_VALUE_BYTES)
        tags = body.get("tags")
        if tags is not None and (not isinstance(tags, dict) or len(tags) > 15):
            raise AkvError(400, "BadParameter", "Property tags has invalid value")
        ver = self.vault.new_version(value, body.get("contentType"), self._attributes(body), tags)
        with self.vault.lock:
            if name in self.vault.deleted:
                raise AkvError(409, "Conflict",
                               "Secret %s is currently in a deleted but recoverable state, and its name cannot be "
                               "reused; in this state, the secret can only be recovered or purged." % name,
                               inner="ObjectIsDeletedButRecoverable")
            self.vault.secrets.setdefault(name, []).append(ver)
        return 200, bundle(self._base(), name, ver)

    def _find(self, name, version):
        versions = self.vault.secrets.get(name)
        if not versions:
            raise not_found(name)
        if version is None:
            return versions[-1]
        for ver in versions:
            if ver["version"] == version:
                return ver
        raise not_found(name, version)

    def _version_op(self, method, name, version, body):
        with self.vault.lock:
            ver = self._find(name, version)
            if method == "GET":
                if not ver["attributes"]["enabled"]:
                    raise AkvError(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                                   inner="SecretDisabled")
                # DIFF (none): like the real service, nbf/exp are informational for secrets and not enforced.
                return 200, bundle(self._base(), name, ver)
            attrs = self._attributes(body)
            for k in ("enabled", "nbf", "exp"):
                if k in attrs:
                    if attrs[k] is None:
                        ver["attributes"].pop(k, None)
                    else:
                        ver["attributes"][k] = attrs[k]
            if "contentType" in body:
                ver["contentType"] = body["contentType"]
            if "tags" in body:
                ver["tags"] = body["tags"]
            ver["attributes"]["updated"] = int(time.time())
            return 200, bundle(self._base(), name, ver, with_value=False)

    def _delete(self, name):
        with self.vault.lock:
            versions = self.vault.secrets.pop(name, None)
            if not versions:
                raise not_found(name)
            now = int(time.time())
            entry = {"versions": versions, "deletedDate": now,
                     "scheduledPurgeDate": now + RECOVERABLE_DAYS * 86400}
            # DIFF: nothing is ever purged automatically at scheduledPurgeDate.
            self.vault.deleted[name] = entry
            return 200, deleted_bundle(self._base(), name, entry)

    def _backup(self, name):
        with self.vault.lock:
            versions = self.vault.secrets.get(name)
            if not versions:
                raise not_found(name)
            # DIFF: the real blob is opaque and encrypted to the vault's geography; ours is plain JSON.
            blob = json.dumps({"name": name, "versions": versions}).encode()
            return 200, {"value": base64.urlsafe_b64encode(blob).decode().rstrip("=")}

    def _restore(self, body):
        try:
            raw = body["value"]
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            name, versions = data["name"], data["versions"]
        except (KeyError, TypeError, ValueError):
            raise AkvError(400, "BadParameter", "Backup blob contains invalid or corrupt version.") from None
        with self.vault.lock:
            if name in self.vault.secrets or name in self.vault.deleted:
                raise AkvError(409, "Conflict", "Secret %s already exists." % name)
            self.vault.secrets[name] = versions
            return 200, bundle(self._base(), name, versions[-1], with_value=False)

    # --- paging ---
    def _page(self, items, query, path):
        try:
            size = int(query.get("maxresults", MAX_PAGE))
            skip = int(query.get("$skiptoken", "0") or 0)
        except ValueError:
            raise AkvError(400, "BadParameter", "maxresults/$skiptoken has an invalid value") from None
        if not 1 <= size <= MAX_PAGE:
            raise AkvError(400, "BadParameter", "Invalid value for maxresults: %d (1..%d)" % (size, MAX_PAGE))
        page = items[skip:skip + size]
        next_link = None
        if skip + size < len(items):
            # DIFF: the real $skiptoken is an opaque base64 blob; ours is an offset.
            params = {"api-version": query["api-version"], "$skiptoken": str(skip + size), "maxresults": size}
            next_link = "%s%s?%s" % (self._base(), path, urlencode(params, quote_via=quote))
        return {"value": page, "nextLink": next_link}

    def _list_secrets(self, query):
        with self.vault.lock:
            base = self._base()
            items = [bundle(base, n, vs[-1], with_value=False, versioned_id=False)
                     for n, vs in sorted(self.vault.secrets.items())]
        return self._page(items, query, "/secrets")

    def _list_versions(self, name, query):
        with self.vault.lock:
            versions = self.vault.secrets.get(name)
            if not versions:
                # DIFF: the real service returns an empty list for an unknown name in some API versions.
                raise not_found(name)
            base = self._base()
            items = [bundle(base, name, ver, with_value=False) for ver in versions]
        return self._page(items, query, "/secrets/%s/versions" % name)

    def _list_deleted(self, query):
        with self.vault.lock:
            base = self._base()
            items = [deleted_bundle(base, n, e, item=True) for n, e in sorted(self.vault.deleted.items())]
        return self._page(items, query, "/deletedsecrets")


def serve(port, cert, key, token=None, port_file=None, host="127.0.0.1", aad=None):
    directory = Directory.from_file(aad) if aad else None
    handler = type("BoundHandler", (Handler,), {"vault": Vault(), "token": token, "directory": directory})
    return listen(handler, port, port_file, host, tls=(cert, key))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Azure Key Vault (secrets API) over HTTPS")
    add_port_arguments(ap)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", help="accept only this bearer token (default: any)")
    ap.add_argument("--aad", metavar="CONFIG", help="serve this tenant's Entra ID token endpoint (JSON: see "
                    "tests/fakes/azure_ad.py) and accept only the tokens it issues")
    args = ap.parse_args(argv)
    server = serve(args.port, args.cert, args.key, args.token, args.port_file, aad=args.aad)
    serve_forever(server, "fake Azure Key Vault on https://127.0.0.1:%d")


if __name__ == "__main__":
    main()
