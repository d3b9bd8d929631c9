# -*- coding: utf-8 -*-
"""Azure credentials, pure logic: authorities and clouds, the choice of credential and its options, certificate
files that do not load, and token failures described without values."""
import types

import pytest
from azure.core.exceptions import ClientAuthenticationError

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretAccessDenied
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends import _azure_auth
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._azure import AzureBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._azure_auth import (
    authority_url, credential, vault_suffix,
)
from tests.harness.servers.tls import make_client_certificate

PASSWORD = "canary-pw-3f9a-azure-unit"


def backend(environ=None, **options):
    full = dict((name, spec.get("default")) for name, spec in AzureBackend.ARGSPEC.items())
    full.update(options)
    return AzureBackend(full, environ=environ or {})


@pytest.mark.parametrize("value,url,suffix", [
    (None, None, ".vault.azure.net"),
    ("AzureCloud", "https://login.microsoftonline.com", ".vault.azure.net"),
    ("azurechinacloud", "https://login.chinacloudapi.cn", ".vault.azure.cn"),
    ("AzureUSGovernment", "https://login.microsoftonline.us", ".vault.usgovcloudapi.net"),
    ("login.microsoftonline.us/", "https://login.microsoftonline.us", ".vault.usgovcloudapi.net"),
    ("https://adfs.stack.internal/adfs", "https://adfs.stack.internal/adfs", ".vault.azure.net"),
    ("http://login.example", ValueError, ".vault.azure.net"),
])
def test_authorities_and_their_vaults(value, url, suffix):
    if url is ValueError:
        with pytest.raises(ValueError, match="https URL"):
            authority_url(value)
    else:
        assert authority_url(value) == url
    assert vault_suffix(value) == suffix


def test_sovereign_authority_names_the_vault_of_a_bare_name():
    b = backend(authority="AzureChinaCloud", vault_url="https://kv.vault.azure.cn/")
    assert b.vault_url(parse_ref("azure://kv/db")) == "https://kv.vault.azure.cn"
    assert b.vault_url(parse_ref("azure://other/db")) == "https://other.vault.azure.cn"
    assert str(b.ref_from_term("db")) == "azure://kv/db"
    assert backend().vault_url(parse_ref("azure://other/db")) == "https://other.vault.azure.net"


def test_choice_environment_validation_and_identity():
    env = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": "/etc/sp.pem",
           "AZURE_CLIENT_CERTIFICATE_PASSWORD": PASSWORD, "AZURE_AUTHORITY_HOST": "login.microsoftonline.us"}
    b = AzureBackend({}, environ=env)
    assert b._auth() == "client_certificate" and b.options["client_certificate_password"] == PASSWORD
    b.validate()
    ident = b.identity()
    assert ident.startswith("azure|client_certificate|c@t|") and ident.endswith("|https://login.microsoftonline.us")
    assert PASSWORD not in ident and "/etc/sp.pem" not in ident
    assert AzureBackend({"client_certificate": "/other.pem"}, environ=env).identity() != ident
    # azure-identity's EnvironmentCredential order: a client secret first
    assert AzureBackend({}, environ=dict(env, AZURE_CLIENT_SECRET="s"))._auth() == "client_secret"
    with pytest.raises(InvalidOption, match="auth=client_certificate needs tenant_id, client_id"):
        backend(client_certificate="/etc/sp.pem").validate()
    with pytest.raises(InvalidOption, match="authority must be an https URL"):
        backend(authority="http://login.example").validate()


class FakeIdentity:
    made = []

    def __getattr__(self, name):
        def make(*args, **kwargs):
            self.made.append((name, args, kwargs))
            return types.SimpleNamespace(name=name)
        return make


@pytest.mark.parametrize("authority,discovery_off,verify", [
    (None, None, None),
    ("AzureUSGovernment", False, None),
    ("https://127.0.0.1:8443", True, "/ca.pem"),
])
def test_credential_options(monkeypatch, authority, discovery_off, verify):
    FakeIdentity.made = []
    monkeypatch.setattr(_azure_auth, "requires", lambda *a, **k: FakeIdentity())
    options = {"tenant_id": "t", "client_id": "c", "client_certificate": "/sp.pem", "client_secret": "s",
               "client_certificate_password": PASSWORD, "authority": authority, "ca_cert": "/ca.pem"}
    credential(options, "client_certificate")
    credential(options, "client_secret")
    credential(options, "default")
    (cert, args, kwargs), (secret, _a, skw), (default, _a2, dkw) = FakeIdentity.made
    assert cert == "CertificateCredential" and args == ("t", "c", "/sp.pem")
    assert kwargs.pop("password") == PASSWORD.encode()
    assert kwargs == skw and secret == "ClientSecretCredential"
    assert kwargs.get("authority") == authority_url(authority)
    assert kwargs.get("disable_instance_discovery") is discovery_off
    assert kwargs.get("connection_verify") == verify
    assert default == "DefaultAzureCredential" and "disable_instance_discovery" not in dkw


def test_certificate_files_that_do_not_load(tmp_path):
    encrypted, _crt = make_client_certificate(str(tmp_path), "enc", password=PASSWORD)
    plain, _crt = make_client_certificate(str(tmp_path), "plain")
    pfx, _crt = make_client_certificate(str(tmp_path), "pfx", password=PASSWORD, pkcs12=True)
    base = {"tenant_id": "t", "client_id": "c"}
    for path in (encrypted, pfx):  # both load with the password
        credential(dict(base, client_certificate=path, client_certificate_password=PASSWORD), "client_certificate")
    cases = [(dict(client_certificate=encrypted, client_certificate_password="wrong"), "wrong client_certificate_password"),
             (dict(client_certificate=encrypted), "set client_certificate_password"),
             (dict(client_certificate=plain, client_certificate_password=PASSWORD), "not encrypted"),
             (dict(client_certificate=pfx, client_certificate_password="wrong"), "PKCS12"),
             (dict(client_certificate=str(tmp_path / "nope.pem")), "no such file")]
    with open(encrypted) as f:
        key_line = f.read().splitlines()[1]
    for options, why in cases:
        with pytest.raises(InvalidOption) as err:
            credential(dict(base, **options), "client_certificate")
        text = str(err.value)
        assert why in text and options["client_certificate"] in text and "tenant t" in text, text
        assert PASSWORD not in text and "PRIVATE KEY" not in text and key_line not in text


@pytest.mark.parametrize("exc,text", [
    (ClientAuthenticationError(message="Authentication failed: AADSTS700027: Client assertion failed signature "
                                       "validation. [Reason - The key was not found., Thumbprint: 'x']"),
     "AADSTS700027: Client assertion failed signature validation."),
    (ClientAuthenticationError(message="Authentication failed: AADSTS7000215: Invalid client secret provided."),
     "AADSTS7000215: Invalid client secret provided."),
    (ClientAuthenticationError(message="Authentication failed: connection refused"), "ClientAuthenticationError"),
])
def test_token_failures_name_vault_client_tenant_and_cause(exc, text):
    b = backend(client_certificate="/sp.pem", tenant_id="t", client_id="c", client_certificate_password=PASSWORD)
    err = b._error(exc, parse_ref("azure://kv/db"), "reading")
    assert isinstance(err, SecretAccessDenied)
    message = str(err)
    assert "reading https://kv.vault.azure.net: Entra ID gave no token to the client_certificate credential" in message
    assert "client c, tenant t, authority https://login.microsoftonline.com" in message and text in message
    assert "Thumbprint" not in message and PASSWORD not in message
