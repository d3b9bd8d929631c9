# -*- coding: utf-8 -*-
"""The Vault client resolves what the environment says about its one URL once (proxies, NO_PROXY, the CA bundle)
instead of on every request, with the precedence requests itself applies."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._client import new_client

URL = "https://vault.example.invalid:8200"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def client(**conn):
    conn.setdefault("url", URL)
    return new_client(dict(conn, timeout=5, retries=0))


def sent(c, name):
    """What the hvac adapter passes to requests with every call."""
    return c.adapter._kwargs.get(name)  # pylint: disable=protected-access


def test_environment_proxies_apply_once_and_no_proxy_is_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:3128")
    c = client()
    assert c.adapter.session.trust_env is False
    assert sent(c, "proxies")["https"] == "http://env-proxy:3128"
    assert client(proxies="http://given:3128").adapter.session.proxies["https"] == "http://given:3128"
    monkeypatch.setenv("NO_PROXY", ".example.invalid")
    assert not (sent(client(), "proxies") or {}).get("https")


def test_ca_bundle_from_the_environment_unless_given_or_verification_is_off(monkeypatch):
    assert sent(client(), "verify") is True
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/pki/bundle.pem")
    assert sent(client(), "verify") == "/etc/pki/bundle.pem"
    assert client().adapter.session.verify == "/etc/pki/bundle.pem"
    assert sent(client(ca_cert="/srv/vault-ca.pem"), "verify") == "/srv/vault-ca.pem"
    assert sent(client(validate_certs=False), "verify") is False
