"""Fake cloud identity endpoints that hand out JWTs signed by a test key, for Vault's azure and gcp logins:

- Azure IMDS: ``GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=C]`` with the
  header ``Metadata: true`` (what ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` points at);
- App Service: ``GET /msi/token?api-version=2019-08-01&resource=R`` with ``X-IDENTITY-HEADER`` (``IDENTITY_ENDPOINT``);
- Azure AD: ``POST /<tenant>/oauth2/v2.0/token`` (client credentials; ``AZURE_AUTHORITY_HOST``);
- the GCE metadata server: ``GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=A&format=full``
  with ``Metadata-Flavor: Google`` (``GCE_METADATA_HOST``).

Each answers as the real one does (JSON with ``access_token``, or the bare JWT), refuses a request without its header
as the real one does, and records what it was asked (never the header's secret) in ``seen``. The claims: ``aud`` the
resource or audience, ``sub`` the identity. Run in a test's thread (``CloudIdentity(key_pem, ...).start()``) or as
``python tests/fakes/cloud_identity.py --key K --port 0 --port-file F``.
"""

import argparse
import json
import os
import sys
import threading
import time
import urllib.parse

import jwt

if __package__ in (None, ""):  # run as a script: import tests.* from the repository root, not from tests/fakes
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.fakes.fake_http import FakeHandler, add_port_arguments, listen, serve_forever  # noqa: E402

TENANT = "7f0c1a52-0000-4000-8000-agentarea000"
SYSTEM_IDENTITY = "mi-system-assigned"
GCE_SUBJECT = "112233445566778899"
GCE_EMAIL = "agentarea-vm@agentarea-prod.iam.gserviceaccount.com"


class CloudIdentity:
    """The fake's state: the signing key, the App Service header secret, the service principals it knows
    (client_id -> secret), what it was asked, and the tokens it issued (to assert that none leaks)."""

    def __init__(self, key_pem, identity_header="", principals=None, kid="fake-cloud-identity"):
        self.key_pem = key_pem
        self.identity_header = identity_header
        self.principals = dict(principals or {})
        self.kid = kid
        self.seen = []
        self.issued = []
        self.throttle = 0  # answer this many of the next IMDS requests with 429, as a throttled IMDS does
        self.server = None

    def sign(self, claims):
        now = int(time.time())
        token = jwt.encode(dict({"iat": now, "nbf": now - 5, "exp": now + 600}, **claims), self.key_pem,
                           algorithm="RS256", headers={"kid": self.kid})
        self.issued.append(token)
        return token

    def azure_token(self, resource, subject, tenant=TENANT):
        return {"access_token": self.sign({"aud": resource, "sub": subject, "oid": subject,
                                           "iss": "https://sts.windows.net/%s/" % tenant, "tid": tenant}),
                "token_type": "Bearer", "expires_in": "3599", "resource": resource}

    def handler(self):
        fake = self

        class Handler(FakeHandler):
            def _answer(self, status, body, content_type="application/json", headers=None):
                data = (json.dumps(body) if not isinstance(body, str) else body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _record(self, kind, query, **extra):
                fake.seen.append(dict({"kind": kind, "method": self.command, "path": self.path.split("?")[0],
                                       "query": query}, **extra))

            def do_GET(self):  # pylint: disable=invalid-name
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/metadata/identity/oauth2/token":
                    self._record("imds", query, metadata=self.headers.get("Metadata"))
                    if self.headers.get("Metadata") != "true":
                        return self._answer(400, {"error": "invalid_request",
                                                  "error_description": "Required metadata header not specified"})
                    if query.get("api-version") != "2018-02-01" or not query.get("resource"):
                        return self._answer(400, {"error": "invalid_request"})
                    if fake.throttle > 0:
                        fake.throttle -= 1
                        return self._answer(429, {"error": "too_many_requests"})
                    return self._answer(200, fake.azure_token(query["resource"],
                                                              query.get("client_id") or SYSTEM_IDENTITY))
                if url.path == "/msi/token":
                    good = fake.identity_header and self.headers.get("X-IDENTITY-HEADER") == fake.identity_header
                    self._record("appservice", query, header_ok=bool(good))
                    if not good:
                        return self._answer(401, {"error": {"code": "UnauthorizedRequest"}})
                    return self._answer(200, fake.azure_token(query["resource"],
                                                              query.get("client_id") or "mi-app-service"))
                if url.path == "/computeMetadata/v1/instance/service-accounts/default/identity":
                    self._record("gce", query, flavor=self.headers.get("Metadata-Flavor"))
                    if self.headers.get("Metadata-Flavor") != "Google":
                        return self._answer(403, "Missing Metadata-Flavor:Google header.", "text/html")
                    if not query.get("audience"):
                        return self._answer(400, "non-empty audience parameter required", "text/html")
                    claims = {"aud": query["audience"], "sub": GCE_SUBJECT, "azp": GCE_SUBJECT, "email": GCE_EMAIL,
                              "iss": "https://accounts.google.com"}
                    if query.get("format") == "full":
                        claims["google"] = {"compute_engine": {"project_id": "agentarea-prod", "zone": "europe-west1-b",
                                                               "instance_id": "4455667788990011223",
                                                               "instance_name": "agentarea-vm"}}
                    return self._answer(200, fake.sign(claims), "application/text", {"Metadata-Flavor": "Google"})
                self._record("unknown", query)
                return self._answer(404, {"error": "not_found"})

            def do_POST(self):  # pylint: disable=invalid-name
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
                parts = url.path.strip("/").split("/")
                if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                    client_id = form.get("client_id")
                    self._record("aad", {"tenant": parts[0], "client_id": client_id, "scope": form.get("scope"),
                                         "grant_type": form.get("grant_type")})
                    if form.get("grant_type") != "client_credentials" or not form.get("scope", "").endswith("/.default"):
                        return self._answer(400, {"error": "invalid_request"})
                    if fake.principals.get(client_id) is None or fake.principals[client_id] != form.get("client_secret"):
                        return self._answer(401, {"error": "invalid_client",
                                                  "error_description": "AADSTS7000215: Invalid client secret provided."})
                    body = fake.azure_token(form["scope"][:-len("/.default")], "sp-" + client_id, tenant=parts[0])
                    body.pop("resource")
                    return self._answer(200, body)
                self._record("unknown", {})
                return self._answer(404, {"error": "not_found"})

        return Handler

    def start(self, port=0):
        """Serve in a daemon thread; returns ``host:port``."""
        self.server = listen(self.handler(), port)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return "127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--key", required=True, help="PEM file of the RSA key that signs the tokens")
    ap.add_argument("--identity-header", default="", help="the X-IDENTITY-HEADER App Service requests must carry")
    add_port_arguments(ap)
    args = ap.parse_args()
    with open(args.key) as handle:
        fake = CloudIdentity(handle.read(), identity_header=args.identity_header)
    serve_forever(listen(fake.handler(), args.port, args.port_file), "fake cloud identity endpoints on port %d")


if __name__ == "__main__":
    main()
