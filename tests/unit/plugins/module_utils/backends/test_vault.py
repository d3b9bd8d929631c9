# -*- coding: utf-8 -*-
"""Vault backend, pure logic: options and their sources, validation, identities, references, error mapping."""
import os
import time

import hvac
import pytest
import requests

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured,
    BackendUnavailable,
    InvalidOption,
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretDeleted,
    SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault import _client as _vault_client
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend

TOKEN = "s.canary-token-2b9f"
URL = "https://vault.example.invalid:8200"


def backend(environ=None, **options):
    options.setdefault("url", URL)
    full = dict((name, spec.get("default")) for name, spec in VaultBackend.ARGSPEC.items())
    full.update(options)
    return VaultBackend(full, environ=environ or {})


def test_environment_fills_unset_options_collection_names_first():
    env = {"VAULT_ADDR": "http://native:8200", "ANSIBLE_AGENTAREA_SECRETS_VAULT_URL": "http://ours:8200",
           "VAULT_TOKEN": TOKEN, "VAULT_NAMESPACE": "team1", "VAULT_CACERT": "/ca.pem"}
    b = VaultBackend({}, environ=env)
    assert b.options["url"] == "http://ours:8200"
    assert (b.options["token"], b.options["namespace"], b.options["ca_cert"]) == (TOKEN, "team1", "/ca.pem")
    assert VaultBackend({"url": "http://arg:8200"}, environ=env).options["url"] == "http://arg:8200"
    assert VaultBackend({}, environ={"VAULT_ADDR": "http://native:8200"}).options["url"] == "http://native:8200"


@pytest.mark.parametrize("options,message", [
    ({"url": None}, "no Vault address"),
    ({"url": "vault.internal:8200", "token": TOKEN}, "must start with http"),
    ({}, "needs a token"),
    ({"auth_method": "approle"}, "needs role_id"),
    ({"auth_method": "userpass", "username": "u"}, "needs password"),
    ({"auth_method": "jwt", "role": "r"}, "needs jwt"),
    ({"auth_method": "kubernetes", "role": "r", "kubernetes_token_path": "/nonexistent/token"}, "is not readable"),
    ({"auth_method": "cert"}, "needs client_cert"),
    ({"token": TOKEN, "kv_version": 3}, "kv_version must be 1 or 2"),
    ({"token": TOKEN, "retries": -1}, "retries must be at least 0"),
    ({"token": TOKEN, "client_key": "/k.pem"}, "client_key needs client_cert"),
    ({"token": TOKEN, "engine": "dynamic"}, "needs the agentarea.secrets.run_cache callback"),
    ({"token": TOKEN, "destroy_versions": ["one"]}, "destroy_versions must be"),
    ({"token": TOKEN, "validate_certs": "maybe"}, "validate_certs must be a boolean"),
])
def test_validate_names_what_is_wrong_without_network(options, message):
    with pytest.raises(InvalidOption) as err:
        backend(**options).validate()
    assert message in str(err.value)
    assert TOKEN not in str(err.value)


def test_validate_accepts_each_auth_method(tmp_path):
    token_file = tmp_path / "sa-token"
    token_file.write_text("header.payload.sig")
    cases = [
        {"token": TOKEN},
        {"auth_method": "approle", "role_id": "rid", "secret_id": "sid"},
        {"auth_method": "approle", "role_id": "rid"},
        {"auth_method": "userpass", "username": "u", "password": "p"},
        {"auth_method": "jwt", "role": "ci", "jwt": "a.b.c"},
        {"auth_method": "kubernetes", "role": "app", "kubernetes_token_path": str(token_file)},
        {"auth_method": "kubernetes", "role": "app", "jwt": "a.b.c", "kubernetes_token_path": "/nope"},
        {"auth_method": "cert", "client_cert": "/c.pem", "client_key": "/k.pem"},
        {"token": TOKEN, "engine": "dynamic", "keep_lease": True},
        {"token": TOKEN, "validate_certs": "false", "keep_token": "yes"},
    ]
    for options in cases:
        b = backend(**options)
        b.validate()
    assert b.options["validate_certs"] is False and b.options["keep_token"] is True


def test_destroy_versions():
    assert backend(token=TOKEN).destroy_versions() is None
    assert backend(token=TOKEN, destroy_versions=["3", "1", "3"]).destroy_versions() == [1, 3]
    assert backend(token=TOKEN, destroy_versions=["all"]).destroy_versions() == "all"


def test_identity_never_holds_a_credential_and_tells_credentials_apart():
    secrets_ = {"token": TOKEN, "secret_id": "sid-canary", "password": "pw-canary", "jwt": "jwt.canary.x"}
    ids = set()
    for options in ({"token": TOKEN}, {"token": TOKEN + "x"},
                    {"auth_method": "approle", "role_id": "rid", "secret_id": "sid-canary"},
                    {"auth_method": "userpass", "username": "u", "password": "pw-canary"},
                    {"auth_method": "jwt", "role": "ci", "jwt": "jwt.canary.x"},
                    {"token": TOKEN, "namespace": "team1"}, {"token": TOKEN, "engine": "dynamic"}):
        ident = backend(**options).identity()
        assert not any(v in ident for v in secrets_.values()), ident
        ids.add(ident)
    assert len(ids) == 7
    assert backend(token=TOKEN).identity() == backend(token=TOKEN).identity()
    assert "approle at auth/approle" in backend(auth_method="approle", role_id="rid").identity()


def test_bare_lookup_terms_are_paths_under_the_mount():
    b = backend(token=TOKEN)
    assert str(b.ref_from_term("agentarea/database", key="url")) == "vault://secret/agentarea/database#url"
    assert str(b.ref_from_term("database", version=3)) == "vault://secret/database?version=3"
    assert str(backend(token=TOKEN, mount="team/kv").ref_from_term("app")) == "vault://team/kv/app"
    full = b.ref_from_term("vault://kv1/app#k", key="other")
    assert (full.location, full.key) == ("kv1/app", "k")
    assert str(backend(token=TOKEN, engine="dynamic").ref_from_term("database/creds/ro")) == \
        "vault://database/creds/ro"


def test_locate_without_network_when_kv_version_is_known():
    b = backend(token=TOKEN, kv_version=2)
    assert b.locate(parse_ref("vault://secret/a/b")) == ("secret", "a/b", 2)
    assert b.locate(parse_ref("vault://kv/a?kv_version=1")) == ("kv", "a", 1)
    assert backend(token=TOKEN, kv_version=2, mount="team/kv").locate(parse_ref("vault://team/kv/a")) == \
        ("team/kv", "a", 2)
    assert b.locate(parse_ref("vault://team/kv/a?mount=team/kv")) == ("team/kv", "a", 2)
    with pytest.raises(InvalidReference):
        b.locate(parse_ref("vault://other/a?mount=team/kv"))


def _hvac_error(cls, errors, json=None):
    return cls(errors=errors, method="get", url=URL + "/v1/secret/data/app", json=json)


@pytest.mark.parametrize("exc,expected,text", [
    (_hvac_error(hvac.exceptions.InvalidPath, []), SecretNotFound, "not found"),
    (_hvac_error(hvac.exceptions.Forbidden, ["1 error occurred:\n\t* permission denied\n\n"]), SecretAccessDenied,
     "permission denied"),
    (_hvac_error(hvac.exceptions.InvalidRequest, ["check-and-set parameter did not match the current version"]),
     SecretConflict, "changed since it was read"),
    (_hvac_error(hvac.exceptions.InternalServerError, ["boom"]), BackendUnavailable, "unavailable"),
    (_hvac_error(hvac.exceptions.VaultDown, ["sealed"]), BackendUnavailable, "unavailable"),
    (_hvac_error(hvac.exceptions.InvalidRequest, ["value 'hunter2-canary' is not allowed"]), SecretError,
     "InvalidRequest"),
    (requests.exceptions.ConnectionError("refused"), BackendUnavailable, "cannot reach Vault"),
    # what OpenBao 2.7 answers for a namespace and a mount that do not exist: configuration, not "missing"
    (_hvac_error(hvac.exceptions.InvalidPath, ["namespace not found"]), BackendMisconfigured,
     "the namespace does not exist"),
    (_hvac_error(hvac.exceptions.InvalidPath, ['no handler for route "nomount/data/x". route entry not found.']),
     BackendMisconfigured, "the mount does not exist"),
    (requests.exceptions.SSLError("bad cert"), BackendUnavailable, "set ca_cert"),
])
def test_error_mapping_names_where_and_never_echoes_vault_text(exc, expected, text):
    b = backend(token=TOKEN, namespace="team1")
    err = _vault_client.map_error(exc, b.where("secret", "agentarea/db", "read"), ref="vault://secret/agentarea/db")
    assert err.__class__ is expected
    message = str(err)
    assert text in message
    for part in ("mount 'secret'", "path 'agentarea/db'", "namespace 'team1'", "auth token", URL):
        assert part in message
    assert TOKEN not in message and "hunter2-canary" not in message


def test_login_failures_are_denied_with_a_known_reason():
    b = backend(auth_method="approle", role_id="rid", secret_id="sid-canary")
    exc = _hvac_error(hvac.exceptions.InvalidRequest, ["invalid role or secret ID"])
    err = _vault_client.map_error(exc, b.where(what="login"), login=True)
    assert isinstance(err, SecretAccessDenied)
    assert "login failed" in str(err) and "invalid role_id or secret_id" in str(err)
    assert "approle at auth/approle" in str(err) and "sid-canary" not in str(err)


def test_deleted_and_destroyed_versions_are_deleted_not_missing():
    b = backend(token=TOKEN, kv_version=2)
    ref = parse_ref("vault://secret/app")
    for meta, word in (({"version": 3, "deletion_time": "2026-01-01T00:00:00Z", "destroyed": False}, "deleted"),
                       ({"version": 2, "deletion_time": "", "destroyed": True}, "destroyed")):
        err = b._missing(_hvac_error(hvac.exceptions.InvalidPath, [], {"data": {"data": None, "metadata": meta}}),
                         ref, "secret", "app", None)
        assert isinstance(err, SecretDeleted) and word in str(err)
    err = b._missing(_hvac_error(hvac.exceptions.InvalidPath, [], {"errors": []}), ref, "secret", "app", "9")
    assert isinstance(err, SecretNotFound) and "version 9 does not exist" in str(err)


def test_unknown_namespace_or_mount_is_a_configuration_error_not_a_missing_secret():
    b = backend(token=TOKEN, kv_version=2, namespace="team9")
    ref = parse_ref("vault://nomount/app")
    for text, said in (("namespace not found", "the namespace does not exist"),
                       ('no handler for route "nomount/data/app". route entry not found.', "the mount does not exist")):
        err = b._missing(_hvac_error(hvac.exceptions.InvalidPath, [text], {"errors": [text]}), ref, "nomount", "app",
                         None)
        assert isinstance(err, BackendMisconfigured) and not isinstance(err, SecretNotFound)
        assert err.category == "error"                      # on_missing / on_denied never apply to it
        for part in (said, "mount 'nomount'", "namespace 'team9'", URL, "vault://nomount/app"):
            assert part in str(err)
    assert isinstance(b._missing(_hvac_error(hvac.exceptions.InvalidPath, [], {"errors": []}), ref, "secret",
                                 "app", None), SecretNotFound)


def test_client_carries_tls_proxies_timeout_and_retries():
    client = _vault_client.new_client({"url": URL, "ca_cert": "/ca.pem", "client_cert": "/c.pem",
                                       "client_key": "/k.pem", "timeout": 7, "retries": 4,
                                       "proxies": "http://proxy:3128", "namespace": "team1"})
    session = client.adapter.session
    assert session.verify == "/ca.pem" and session.cert == ("/c.pem", "/k.pem")
    assert session.proxies["https"] == "http://proxy:3128"
    retry = session.get_adapter(URL).max_retries
    assert retry.total == 4 and 503 in retry.status_forcelist and 412 in retry.status_forcelist
    assert retry.allowed_methods == {"GET", "HEAD", "OPTIONS", "LIST"}  # reads only: see the next test
    assert client.adapter.namespace == "team1" and client.adapter.token == ""
    insecure = _vault_client.new_client({"url": URL, "validate_certs": False, "ca_cert": "/ca.pem"})
    assert insecure.adapter.session.verify is False


def test_writes_are_not_retried_reads_are():
    """Issue 12: a check-and-set write whose answer was lost (502) was sent again, failed its check-and-set and
    was reported as "nothing was written" although the first one had landed."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Flaky(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.command)
            first = seen.count(self.command) == 1
            body = b'{"errors": []}' if first else b'{"data": {"version": 2}}'
            self.send_response(502 if first else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        client = _vault_client.new_client({"url": url, "retries": 3, "timeout": 5}, token="t")
        with pytest.raises(hvac.exceptions.BadGateway):
            client.secrets.kv.v2.create_or_update_secret("p", secret={"a": "b"}, cas=1, mount_point="secret")
        assert seen == ["POST"]
        client.adapter.get("/v1/secret/data/p")
        assert seen == ["POST", "GET", "GET"]
    finally:
        server.shutdown()
        server.server_close()


def test_hvac_never_falls_back_to_the_token_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    (tmp_path / ".vault-token").write_text(TOKEN)
    client = _vault_client.new_client({"url": URL})
    assert client.adapter.token == ""


class _FakeToken:
    def __init__(self, ttl):
        self.calls, self.ttl = 0, ttl

    def renew_self(self):
        self.calls += 1
        return {"auth": {"lease_duration": self.ttl, "renewable": True}}


class _FakeClient:
    def __init__(self, ttl=60):
        self.token = None
        self.auth = type("A", (), {})()
        self.auth.token = _FakeToken(ttl)


def test_cached_login_is_renewed_near_its_ttl_and_replaced_when_expired():
    b = backend(auth_method="approle", role_id="rid")
    now = time.time()
    fresh = {"token": "t1", "ttl": 60, "expires": now + 50, "renewable": True}
    client = _FakeClient()
    assert b._reuse(client, fresh) is fresh and client.auth.token.calls == 0
    near = dict(fresh, expires=now + 10)
    renewed = b._reuse(client, near)
    assert client.auth.token.calls == 1 and renewed["expires"] > now + 55 and renewed["renewals"] == 1
    assert b._reuse(client, dict(fresh, expires=now + 2)) is None   # under min(5 s, 10 % of the TTL)
    assert b._reuse(client, dict(fresh, expires=0)) is not None   # no TTL: never expires
    assert b._reuse(client, None) is None


def test_kubernetes_token_file_is_read_at_login_not_in_the_identity(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("sa.jwt.canary\n")
    b = backend(auth_method="kubernetes", role="app", kubernetes_token_path=str(token_file))
    assert "sa.jwt.canary" not in b.identity()
    assert b.auth()._jwt() == "sa.jwt.canary"
    assert os.path.basename(str(token_file)) in b.identity()
