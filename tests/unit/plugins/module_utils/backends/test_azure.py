# -*- coding: utf-8 -*-
"""Azure Key Vault backend, pure logic: vault URLs, references, credentials (Key Vault scopes only, cached tokens),
challenge verification by host, property changes, and the mapping of azure-core errors."""
import time
import types

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import CredentialUnavailableError

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretDeleted,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends import _azure
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._azure import AzureBackend, _VaultCredential
from tests.unit.plugins.module_utils.backends.fakes import FakeCache

CANARY = "canary-71c2-azure-unit"


def backend(environ=None, **options):
    full = dict((name, spec.get("default")) for name, spec in AzureBackend.ARGSPEC.items())
    full.update(options)
    return AzureBackend(full, environ=environ or {})


@pytest.mark.parametrize("ref,vault_url,expected", [
    ("azure://agentarea-vault/db", None, "https://agentarea-vault.vault.azure.net"),
    ("azure://agentarea-vault/db", "https://agentarea-vault.vault.azure.cn/", "https://agentarea-vault.vault.azure.cn"),
    ("azure://agentarea-vault/db", "https://other.vault.azure.cn/", "https://agentarea-vault.vault.azure.net"),
    ("azure://kv.privatelink.internal/db", None, "https://kv.privatelink.internal"),
    ("azure://127.0.0.1:18600/db", None, "https://127.0.0.1:18600"),
])
def test_vault_urls(ref, vault_url, expected):
    assert backend(vault_url=vault_url).vault_url(parse_ref(ref)) == expected


def test_lookup_terms():
    b = backend(vault_url="https://agentarea-vault.vault.azure.net/")
    assert str(b.ref_from_term("database-url", key="password")) == "azure://agentarea-vault/database-url#password"
    assert str(b.ref_from_term("other-vault/x", version="abc")) == "azure://other-vault/x?version=abc"
    assert str(b.ref_from_term("azure://v/x?version=1", version="2")) == "azure://v/x?version=1"
    assert str(backend(vault_url="https://127.0.0.1:8443").ref_from_term("db")) == "azure://127.0.0.1:8443/db"
    with pytest.raises(InvalidOption, match="needs vault_url"):
        backend().ref_from_term("database-url")
    with pytest.raises(InvalidReference, match="1-127 letters"):
        backend()._name(parse_ref("azure://v/under_score"))


@pytest.mark.parametrize("options,message", [
    ({"auth": "client_secret", "client_id": "c"}, "needs tenant_id, client_secret"),
    ({"auth": "access_token"}, "needs access_token"),
    ({"expires": "next tuesday"}, "ISO 8601"),
    ({"vault_url": "http://kv.internal"}, "must start with https"),
])
def test_validate(options, message):
    with pytest.raises(InvalidOption, match=message):
        backend(**options).validate()


def test_auth_inferred_environment_and_identity_without_credentials():
    b = AzureBackend({}, environ={"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": CANARY,
                                  "AZURE_KEYVAULT_URL": "https://v.vault.azure.net"})
    assert b._auth() == "client_secret" and b.options["vault_url"] == "https://v.vault.azure.net"
    assert CANARY not in b.identity() and "c@t" in b.identity()
    assert backend(access_token=CANARY)._auth() == "access_token"
    assert CANARY not in backend(access_token=CANARY).identity()
    assert backend()._auth() == "default"
    assert backend(validate_certs="false", environ={}).validate() is None


class CountingCredential:
    def __init__(self):
        self.calls = 0

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        self.calls += 1
        return AccessToken("tok-%d" % self.calls, int(time.time()) + 3600)


def test_credential_serves_key_vault_scopes_only_and_caches_tokens_for_the_run():
    inner, cache = CountingCredential(), FakeCache()
    cred = _VaultCredential(inner, cache=cache, ident="id")
    assert cred.get_token("https://vault.azure.net/.default", tenant_id="t").token == "tok-1"
    assert _VaultCredential(inner, cache=cache, ident="id").get_token("https://vault.azure.net/.default",
                                                                      tenant_id="t").token == "tok-1"
    assert inner.calls == 1  # a second task (a new backend) takes the run's token
    for scope in ("https://management.azure.com/.default", "https://graph.microsoft.com/.default"):
        with pytest.raises(ClientAuthenticationError, match="only Key Vault scopes"):
            cred.get_token(scope)
    assert _VaultCredential(token=CANARY).get_token("https://vault.usgovcloudapi.net/.default").token == CANARY


def test_challenge_verification_is_off_only_outside_key_vault_domains(monkeypatch):
    made = []

    class RecordingClient:
        def __init__(self, url, credential, **kwargs):
            made.append((url, kwargs))

    monkeypatch.setattr(_azure, "_sdk", lambda ref=None: (RecordingClient, None))
    b = backend(access_token="t", ca_cert="/ca.pem")
    b._client = _VaultCredential(token="t")
    b._kv(parse_ref("azure://agentarea-vault/x"))
    b._kv(parse_ref("azure://127.0.0.1:8443/x"))
    b._kv(parse_ref("azure://127.0.0.1:8443/y"))  # one client per vault
    assert [(u, k["verify_challenge_resource"], k["connection_verify"]) for u, k in made] == [
        ("https://agentarea-vault.vault.azure.net", True, "/ca.pem"), ("https://127.0.0.1:8443", False, "/ca.pem")]
    made.clear()
    b2 = backend(access_token="t", ca_cert="/ca.pem", validate_certs=False)
    b2._client = _VaultCredential(token="t")
    b2._kv(parse_ref("azure://v/x"))
    assert made[0][1]["connection_verify"] is False


def test_property_changes():
    secret = Secret("v", "1", metadata={"content_type": "text/plain", "expires": None})
    b = backend(content_type="application/json", expires="2027-01-31T00:00:00+00:00")
    assert b.property_changes(secret) == {"content_type": ("text/plain", "application/json"),
                                          "expires": (None, "2027-01-31T00:00:00Z")}
    assert backend(content_type="text/plain").property_changes(secret) == {}
    assert backend().property_changes(secret) == {}


def http_error(status, code="", inner="", message=""):
    exc = HttpResponseError(message="(%s) %s" % (code, message))
    exc.status_code = status
    exc.error = types.SimpleNamespace(code=code, message=message, innererror={"code": inner} if inner else {})
    return exc


@pytest.mark.parametrize("exc,kind,text", [
    (ResourceNotFoundError("(SecretNotFound) A secret with (name/id) db was not found"), SecretNotFound, "no such"),
    (http_error(403, "Forbidden", "SecretDisabled", "Operation get is not allowed on a disabled secret."),
     SecretDeleted, "disabled"),
    (http_error(403, "Forbidden", "AccessDenied", "The user ... does not have secrets get permission"),
     SecretAccessDenied, "does not have secrets get permission"),
    (http_error(401, "Unauthorized"), SecretAccessDenied, "access denied"),
    (http_error(409, "Conflict", "ObjectIsDeletedButRecoverable", "Secret db is currently in a deleted state"),
     SecretDeleted, "soft-deleted"),
    (http_error(409, "Conflict"), SecretConflict, "Conflict"),
    (CredentialUnavailableError("EnvironmentCredential authentication unavailable"), InvalidOption,
     "no Azure credential available"),
    (ValueError("challenge resource 'vault.azure.net' does not match"), InvalidOption, "ValueError"),
    (http_error(500, "InternalError", message=CANARY), BackendUnavailable, "InternalError"),
])
def test_errors(exc, kind, text):
    err = backend()._error(exc, parse_ref("azure://v/db"), "reading")
    assert isinstance(err, kind) and text in str(err) and "'azure://v/db'" in str(err)
    if kind is not SecretAccessDenied:
        assert CANARY not in str(err)
