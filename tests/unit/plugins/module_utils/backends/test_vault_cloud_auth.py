# -*- coding: utf-8 -*-
"""Vault's azure and gcp auth methods without a Vault or a cloud: options and their errors, where the identity token
comes from (given, service principal, App Service, IMDS, service-account key, GCE metadata) against the fake
endpoints of tests/fakes/cloud_identity.py, the JWT signed with a service-account key, the login request shape
against the tiny Vault of test_vault_auth_methods, and errors that name the method, mount, URL and cause and
never a credential or a token."""
import json
import os
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._auth import (
    DEFAULT_AZURE_RESOURCE,
    GCP_JWT_LIFETIME,
    AzureAuth,
    GcpAuth,
    IdentityError,
    auth_method,
    fetch_identity,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    SecretAccessDenied,
)
from tests.fakes.cloud_identity import CloudIdentity
from tests.harness.servers.common import free_port

from .test_vault_auth_methods import fake_vault  # noqa: F401  pylint: disable=unused-import

SECRET = "sp-secret-canary-0123"
HEADER = "identity-header-canary-4567"
ENV = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST",
       "GCE_METADATA_HOST")


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def cloud(key, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    fake = CloudIdentity(pem(key), identity_header=HEADER, principals={"sp-1": SECRET})
    host = fake.start()
    yield fake, host
    fake.stop()


def account(key, **extra):
    return dict({"type": "service_account", "private_key_id": "kid-1", "private_key": pem(key),
                 "client_email": "deploy@agentarea-prod.iam.gserviceaccount.com"}, **extra)


def claims(token, key, audience):
    return jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=audience)


# -- options ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options, why", [
    ({"auth_method": "azure"}, "auth_method=azure needs role"),
    ({"auth_method": "gcp"}, "auth_method=gcp needs role"),
    ({"auth_method": "azure", "role": "r", "azure_client_secret": SECRET, "azure_client_id": "c"},
     "needs azure_client_id and azure_tenant_id"),
    ({"auth_method": "azure", "role": "r", "azure_resource": "management.azure.com"}, "azure_resource must be a URL"),
    ({"auth_method": "gcp", "role": "r", "gcp_service_account_info": "{not json " + SECRET},
     "gcp_service_account_info is not a service-account key: not JSON"),
    ({"auth_method": "gcp", "role": "r", "gcp_service_account_info": {"type": "authorized_user", "x": SECRET}},
     "is not a service-account key"),
    ({"auth_method": "gcp", "role": "r", "gcp_service_account_info": "{}", "gcp_credentials_file": "/x"},
     "not both"),
    ({"auth_method": "gcp", "role": "r", "gcp_credentials_file": "/nonexistent/sa.json"},
     "cannot read gcp_credentials_file '/nonexistent/sa.json'"),
])
def test_options_are_checked_without_network_and_never_quoted(options, why):
    with pytest.raises(InvalidOption) as err:
        VaultBackend(dict(options, url="http://127.0.0.1:1"), environ={}).validate()
    assert why in str(err.value) and SECRET not in str(err.value)


def test_role_id_names_the_role_as_in_community_hashi_vault():
    auth = auth_method({"auth_method": "gcp", "role_id": "deployer", "jwt": "a.b.c"})
    auth.validate()
    assert auth.role() == "deployer" and auth.who() == "role=deployer" and auth.audience() == "vault/deployer"
    assert auth_method({"auth_method": "azure", "role": "r", "role_id": "ignored"}).role() == "r"


def test_identity_separates_credentials_without_showing_them():
    one = VaultBackend({"url": "http://v:8200", "auth_method": "azure", "role": "r", "azure_tenant_id": "t",
                        "azure_client_id": "c", "azure_client_secret": SECRET}, environ={})
    two = VaultBackend(dict(one.options, azure_client_secret="other"), environ={})
    assert SECRET not in one.login_identity() and one.login_identity() != two.login_identity()
    assert "azure at auth/azure" in one.login_identity() and "azure_client_id=c" in one.login_identity()


def test_options_from_the_environment():
    backend = VaultBackend({"url": "http://v:8200"}, environ={
        "ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD": "azure", "ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE": "r",
        "ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_CLIENT_ID": "mi-1",
        "ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_RESOURCE": "https://vault.example/"})
    backend.validate()
    assert backend.auth().resource() == "https://vault.example/" and backend.auth().source() == "managed identity"
    assert AzureAuth({"role": "r"}).resource() == DEFAULT_AZURE_RESOURCE == "https://management.azure.com/"


def test_a_service_account_key_injected_as_json_text_by_an_awx_credential(key):
    info = account(key)
    backend = VaultBackend({"url": "http://v:8200"}, environ={
        "ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD": "gcp", "ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE": "deployer",
        "ANSIBLE_AGENTAREA_SECRETS_VAULT_GCP_SERVICE_ACCOUNT_INFO": json.dumps(info),
        "ANSIBLE_AGENTAREA_SECRETS_VAULT_AZURE_CLIENT_SECRET": ""})  # AWX sets every injector, empty or not
    backend.validate()
    assert backend.auth().account() == info
    assert info["private_key"] not in backend.login_identity() and "deployer" in backend.login_identity()


# -- where the azure token comes from ---------------------------------------------------------------------------
def test_a_given_jwt_is_used_as_it_is(cloud):
    fake, _host = cloud
    assert AzureAuth({"role": "r", "jwt": "x.y.z"}).azure_token() == "x.y.z"
    assert GcpAuth({"role": "r", "jwt": "x.y.z"}).gcp_token() == "x.y.z"
    assert fake.seen == []


def test_imds_with_a_user_assigned_identity(cloud, key, monkeypatch):
    fake, host = cloud
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://" + host)
    token = AzureAuth({"role": "r", "azure_client_id": "mi-7"}).azure_token()
    assert claims(token, key, DEFAULT_AZURE_RESOURCE)["sub"] == "mi-7"
    assert fake.seen[0]["metadata"] == "true" and fake.seen[0]["query"] == {
        "api-version": "2018-02-01", "resource": DEFAULT_AZURE_RESOURCE, "client_id": "mi-7"}


def test_a_throttled_imds_is_asked_again_up_to_retries(cloud, monkeypatch):
    fake, host = cloud
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://" + host)
    fake.throttle = 1
    assert AzureAuth({"role": "r", "retries": 2}).azure_token().count(".") == 2
    assert [s["kind"] for s in fake.seen] == ["imds", "imds"]
    fake.throttle = 1
    with pytest.raises(IdentityError) as err:
        AzureAuth({"role": "r", "retries": 0}).azure_token()
    assert "refused (HTTP 429, too_many_requests)" in err.value.cause and err.value.unavailable


def test_app_service_wins_over_imds_when_both_variables_are_set(cloud, key, monkeypatch):
    fake, host = cloud
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://" + host)
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://%s/msi/token" % host)
    monkeypatch.setenv("IDENTITY_HEADER", HEADER)
    auth = AzureAuth({"role": "r", "azure_resource": "https://vault.example/"})
    assert auth.source() == "App Service managed identity"
    assert claims(auth.azure_token(), key, "https://vault.example/")["sub"] == "mi-app-service"
    assert [s["kind"] for s in fake.seen] == ["appservice"] and fake.seen[0]["header_ok"]
    monkeypatch.setenv("IDENTITY_HEADER", "wrong")
    with pytest.raises(IdentityError) as err:
        auth.azure_token()
    assert "App Service managed identity endpoint (IDENTITY_ENDPOINT) refused (HTTP 401, UnauthorizedRequest)" \
        in err.value.cause and not err.value.unavailable and "wrong" not in err.value.cause


def test_service_principal_client_credentials(cloud, key, monkeypatch):
    fake, host = cloud
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "http://" + host)
    options = {"role": "r", "azure_tenant_id": "t-1", "azure_client_id": "sp-1", "azure_client_secret": SECRET}
    assert claims(AzureAuth(options).azure_token(), key, DEFAULT_AZURE_RESOURCE)["sub"] == "sp-sp-1"
    assert fake.seen[0]["query"] == {"tenant": "t-1", "client_id": "sp-1", "grant_type": "client_credentials",
                                     "scope": "https://management.azure.com//.default"}
    with pytest.raises(IdentityError) as err:
        AzureAuth(dict(options, azure_client_secret="wrong-" + SECRET)).azure_token()
    text = err.value.cause
    assert "the Azure AD token endpoint refused (HTTP 401, invalid_client)" in text and SECRET not in text
    assert "AADSTS" not in text  # the description is not shown: only the OAuth error code


# -- gcp ------------------------------------------------------------------------------------------------------------
def test_gce_metadata_identity_token(cloud, key, monkeypatch):
    fake, host = cloud
    monkeypatch.setenv("GCE_METADATA_HOST", host)
    token = GcpAuth({"role": "deployer"}).gcp_token()
    assert claims(token, key, "vault/deployer")["google"]["compute_engine"]["instance_name"] == "agentarea-vm"
    assert fake.seen[0]["flavor"] == "Google" and fake.seen[0]["query"] == {"audience": "vault/deployer",
                                                                            "format": "full"}


@pytest.mark.parametrize("form", ["dict", "json", "file"])
def test_service_account_key_signs_a_short_lived_jwt(key, form, tmp_path):
    pytest.importorskip("google.auth")
    info = account(key)
    options = {"role": "deployer"}
    if form == "file":
        path = tmp_path / "sa.json"
        path.write_text(json.dumps(info))
        options["gcp_credentials_file"] = str(path)
    else:
        options["gcp_service_account_info"] = info if form == "dict" else json.dumps(info)
    auth = GcpAuth(options)
    auth.validate()
    token = auth.gcp_token()
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    body = claims(token, key, "vault/deployer")
    assert body["sub"] == info["client_email"] and 0 < body["exp"] - time.time() <= GCP_JWT_LIFETIME <= 900
    assert "iat" in body


def test_a_service_account_key_that_is_no_rsa_key(key):
    pytest.importorskip("google.auth")
    auth = GcpAuth({"role": "r", "gcp_service_account_info": account(key, private_key="-----BEGIN PRIVATE KEY-----\n"
                                                                                      "bm90IGEga2V5\n-----END PRIVATE KEY-----\n")})
    with pytest.raises(InvalidOption, match="not a usable RSA key"):
        auth.gcp_token()


# -- fetching, and the errors of a login ----------------------------------------------------------------------------
def test_fetch_errors_name_the_endpoint_and_cause_never_the_headers():
    dead = "http://127.0.0.1:%d/metadata/identity/oauth2/token" % free_port()
    with pytest.raises(IdentityError) as err:
        fetch_identity("the managed identity endpoint (IMDS)", dead, {"Metadata": HEADER}, 5,
                       params={"resource": "r"})
    assert err.value.unavailable and "the managed identity endpoint (IMDS) did not answer (%s)" % dead in err.value.cause
    assert "connection refused" in err.value.cause and HEADER not in err.value.cause


def test_an_answer_without_a_token(cloud, monkeypatch):
    _fake, host = cloud
    with pytest.raises(IdentityError, match="answered without a token"):
        fetch_identity("the thing", "http://%s/metadata/identity/oauth2/token" % host, {"Metadata": "true"}, 5,
                       params={"resource": "r", "api-version": "2018-02-01"}, field="no_such_field")


def test_login_request_shape_and_errors_name_method_mount_and_url(cloud, fake_vault, monkeypatch):  # noqa: F811
    fake, host = cloud
    url, seen = fake_vault
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://" + host)
    backend = VaultBackend({"url": url, "auth_method": "azure", "role": "r", "mount_point": "corp-azure",
                            "azure_subscription_id": "s", "azure_resource_group_name": "g", "azure_vmss_name": "ss"},
                           environ={})
    backend.validate()
    assert backend.client().token == "hvs.login-token"
    path, _headers, body = seen[0]
    assert path == "/v1/auth/corp-azure/login" and body["jwt"] == fake.issued[0]
    sent = {k: v for k, v in body.items() if k != "jwt"}
    assert sent == {"role": "r", "subscription_id": "s", "resource_group_name": "g", "vmss_name": "ss"}
    backend._release()

    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:%d" % free_port())
    down = VaultBackend({"url": url, "auth_method": "gcp", "role": "r"}, environ={})
    with pytest.raises(BackendUnavailable) as err:
        down.client()
    assert "login failed (login, root namespace, auth gcp at auth/gcp, at %s): the GCE metadata server did not " \
           "answer" % url in str(err.value)

    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "http://" + host)
    refused = VaultBackend({"url": url, "auth_method": "azure", "role": "r", "azure_tenant_id": "t",
                            "azure_client_id": "sp-1", "azure_client_secret": "wrong-" + SECRET}, environ={})
    with pytest.raises(SecretAccessDenied) as err:
        refused.client()
    assert "auth azure at auth/azure" in str(err.value) and "refused (HTTP 401, invalid_client)" in str(err.value)
    assert SECRET not in str(err.value)
    assert os.environ.get("IDENTITY_HEADER") is None
