"""A fake of the Microsoft identity platform (Entra ID, v2 endpoints) for one tenant, good enough for azure-identity's
ClientSecretCredential and CertificateCredential (MSAL's client credentials flow), served by the Key Vault fake
(tests/fakes/azure_keyvault.py ``--aad CONFIG``) on its own port.

What MSAL asks, in order (with ``disable_instance_discovery=True`` and ``authority=https://<fake>``):
``GET /<tenant>/v2.0/.well-known/openid-configuration`` (tenant discovery), then
``POST /<tenant>/oauth2/v2.0/token`` with ``grant_type=client_credentials``, ``scope=https://vault.azure.net/.default``
and either ``client_secret`` or a ``client_assertion`` (a JWT signed by the certificate's key, PS256 with an
``x5t#S256`` header, or RS256 with ``x5t``). The assertion is verified against the application's registered
certificates: thumbprint, signature, ``aud`` (the token endpoint), ``iss`` = ``sub`` = the client id, ``exp``/``nbf``.

CONFIG (JSON): ``{"tenant": "<id>", "applications": [{"client_id": "...", "client_secret": "...",
"certificates": ["<PEM path>", ...]}]}``. The Key Vault fake then accepts only bearer tokens issued here.

Every place where this differs from the real service carries a ``DIFF:`` comment.
"""

import base64
import hmac
import json
import secrets
import time
import uuid
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

KV_AUDIENCE = "https://vault.azure.net"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_LIFETIME = 3599


class AadError(Exception):
    """An OAuth error answer: ``error`` plus an AADSTS code and description, as Entra ID sends them."""

    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description

    def body(self):
        return {"error": self.error, "error_description": "AADSTS%d: %s" % (self.code, self.description),
                "error_codes": [self.code], "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
                "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}


def _b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Directory:
    """One tenant: its applications (client secrets and certificates) and the key that signs the tokens it issues."""

    def __init__(self, tenant, applications):
        self.tenant = tenant
        self.apps = {}
        for app in applications:
            certs = []
            for path in app.get("certificates") or ():
                with open(path, "rb") as f:
                    certs.append(x509.load_pem_x509_certificate(f.read()))
            self.apps[app["client_id"]] = {"secret": app.get("client_secret"), "certificates": certs}
        # DIFF: Entra ID signs access tokens with RS256 keys published at the tenant's jwks_uri; the only relying
        # party here is our Key Vault fake, in the same process, so a random HMAC key does.
        self._key = secrets.token_bytes(32)

    @classmethod
    def from_file(cls, path):
        with open(path) as f:
            config = json.load(f)
        return cls(config["tenant"], config.get("applications") or [])

    def issuer(self):
        return "https://sts.windows.net/%s/" % self.tenant

    # --- HTTP ---
    def handles(self, path):
        parts = path.split("?", 1)[0].strip("/").split("/")
        return parts[1:] in (["v2.0", ".well-known", "openid-configuration"], ["oauth2", "v2.0", "token"])

    def handle(self, method, path, base, raw_body):
        """(status, JSON body) for a request to one of the paths :meth:`handles`."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        try:
            if parts[0] != self.tenant:
                # DIFF: Entra ID also knows "common", "organizations" and tenant domain names.
                raise AadError(400, "invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have "
                               "the correct tenant ID and are signing into the correct cloud." % parts[0])
            if parts[1] == "v2.0" and method == "GET":
                return 200, self._openid_configuration(base)
            if parts[1] == "oauth2" and method == "POST":
                form = {k: v[-1] for k, v in parse_qs(raw_body.decode("utf-8", "replace")).items()}
                return 200, self._token(form, "%s/%s/oauth2/v2.0/token" % (base, self.tenant))
            raise AadError(405, "invalid_request", 900561, "The endpoint only accepts %s requests."
                           % ("GET" if parts[1] == "v2.0" else "POST"))
        except AadError as e:
            return e.status, e.body()

    def _openid_configuration(self, base):
        root = "%s/%s" % (base, self.tenant)
        # DIFF: a subset of the real document (MSAL reads the endpoints and the issuer).
        return {"token_endpoint": root + "/oauth2/v2.0/token",
                "authorization_endpoint": root + "/oauth2/v2.0/authorize",
                "device_authorization_endpoint": root + "/oauth2/v2.0/devicecode",
                "end_session_endpoint": root + "/oauth2/v2.0/logout",
                "jwks_uri": root + "/discovery/v2.0/keys", "issuer": "%s/%s/v2.0" % (base, self.tenant),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com"}

    def _token(self, form, endpoint):
        if form.get("grant_type") != "client_credentials":
            # DIFF: only the client credentials grant is implemented.
            raise AadError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'."
                           % form.get("grant_type"))
        client_id = form.get("client_id") or ""
        app = self.apps.get(client_id)
        if app is None:
            raise AadError(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in "
                           "the directory '%s'." % (client_id, self.tenant))
        scope = form.get("scope") or ""
        resource = scope.split(" ")[0]
        if not resource.endswith("/.default") or resource[:-len("/.default")].rstrip("/") != KV_AUDIENCE:
            # DIFF: the real service issues tokens for every resource the tenant knows; here only Key Vault.
            raise AadError(400, "invalid_scope", 500011, "The resource principal named %s was not found in the "
                           "tenant named %s." % (resource[:-len("/.default")] or scope, self.tenant))
        if form.get("client_assertion"):
            self._check_assertion(app, client_id, form, endpoint)
        elif form.get("client_secret") is not None:
            if not app["secret"] or not hmac.compare_digest(form["client_secret"].encode(), app["secret"].encode()):
                raise AadError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                               "being sent in the request is the client secret value, not the client secret ID, for "
                               "a secret added to app '%s'." % client_id)
        else:
            raise AadError(401, "invalid_client", 7000218, "The request body must contain the following parameter: "
                           "'client_assertion' or 'client_secret'.")
        now = int(time.time())
        claims = {"aud": KV_AUDIENCE, "iss": self.issuer(), "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME,
                  "appid": client_id, "tid": self.tenant, "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
                  "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)), "ver": "1.0"}
        return {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "ext_expires_in": TOKEN_LIFETIME,
                "access_token": jwt.encode(claims, self._key, algorithm="HS256")}

    def _check_assertion(self, app, client_id, form, endpoint):
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise AadError(400, "invalid_request", 50027, "client_assertion_type must be %s." % ASSERTION_TYPE)
        try:
            header = jwt.get_unverified_header(form["client_assertion"])
        except jwt.PyJWTError:
            raise AadError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
        # base64url, with or without padding (MSAL pads)
        sha256, sha1 = ((header.get(k) or "").rstrip("=") or None for k in ("x5t#S256", "x5t"))
        cert = None
        for candidate in app["certificates"]:
            if sha256 == _b64(candidate.fingerprint(hashes.SHA256())) or sha1 == _b64(
                    candidate.fingerprint(hashes.SHA1())):  # nosec: SHA-1 is the x5t thumbprint, an identifier
                cert = candidate
                break
        if cert is None:
            raise AadError(401, "invalid_client", 700027, "Client assertion failed signature validation. [Reason - "
                           "The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure "
                           "Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]"
                           % (sha1 or sha256, client_id))
        try:
            claims = jwt.decode(form["client_assertion"], cert.public_key(), algorithms=["PS256", "RS256"],
                                audience=endpoint, options={"require": ["exp", "aud", "iss", "sub"]}, leeway=300)
        except jwt.InvalidAudienceError:
            raise AadError(401, "invalid_client", 700212, "No matching federated identity record found for "
                           "presented assertion audience '%s'." % endpoint) from None
        except jwt.ExpiredSignatureError:
            raise AadError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.") \
                from None
        except jwt.InvalidSignatureError:
            raise AadError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from None
        except jwt.PyJWTError as e:
            raise AadError(401, "invalid_client", 50027, "JWT token is invalid or malformed: %s." % e) from None
        if claims["iss"] != client_id or claims["sub"] != client_id:
            raise AadError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match "
                           "'client_id' parameter.")

    # --- the relying party (Key Vault) ---
    def check_token(self, token):
        """None when ``token`` is a valid Key Vault token issued here, else why not (AKV's wording)."""
        try:
            jwt.decode(token, self._key, algorithms=["HS256"], audience=[KV_AUDIENCE, KV_AUDIENCE + "/"],
                       issuer=self.issuer(), options={"require": ["exp", "aud", "iss"]})
        except jwt.InvalidAudienceError:
            return "AKV10022: Invalid audience."
        except jwt.InvalidIssuerError:
            return "AKV10032: Invalid issuer."
        except jwt.ExpiredSignatureError:
            return "AKV10020: Token expired."
        except jwt.PyJWTError:
            # DIFF: the real service's codes for a bad signature or a malformed token vary by API version.
            return "AKV10000: Invalid token: bad signature or format."
        return None
