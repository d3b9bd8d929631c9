# -*- coding: utf-8 -*-
"""Kubernetes misconfiguration is a configuration error, not a missing secret: a kubeconfig context that does not
exist, a 404 about a namespace, and the namespace argument of the client's calls."""
import json

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured, InvalidOption, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s import _backend as _k8s, _client as _k8s_client

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: good, context: {cluster: c, user: u}}, {name: other, context: {cluster: c, user: u}}]
current-context: good
"""


def test_a_context_that_does_not_exist_names_the_ones_that_do(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    backend = _k8s.K8sBackend({"kubeconfig": str(path), "context": "nope"}, environ={})
    with pytest.raises(InvalidOption) as err:
        backend.client()
    assert "no context 'nope'" in str(err.value) and "good, other" in str(err.value)
    assert not isinstance(err.value, SecretNotFound)
    assert _k8s.K8sBackend({"kubeconfig": str(path), "context": "other"}, environ={}).client() is not None


class ApiException(Exception):
    def __init__(self, status, body):
        super().__init__(status)
        self.status, self.body, self.reason = status, json.dumps(body), "NotFound"


def test_a_404_about_the_namespace_is_a_configuration_error():
    exc = ApiException(404, {"kind": "Status", "reason": "NotFound", "message": 'namespaces "nope" not found',
                             "details": {"name": "nope", "kind": "namespaces"}})
    err = _k8s_client.api_error(exc, ref="k8s://nope/db")
    assert isinstance(err, BackendMisconfigured) and 'namespaces "nope" not found' in str(err)
    secret = ApiException(404, {"kind": "Status", "reason": "NotFound", "message": 'secrets "db" not found',
                                "details": {"name": "db", "kind": "secrets"}})
    assert isinstance(_k8s_client.api_error(secret, ref="k8s://app/db"), SecretNotFound)


@pytest.mark.parametrize("method, args, namespace", [
    ("read_namespaced_secret", ("db", "app"), "app"),
    ("patch_namespaced_secret", ("db", "app", {}), "app"),
    ("delete_namespaced_secret", ("db", "app"), "app"),
    ("create_namespaced_secret", ("app", {}), "app"),
    ("list_namespaced_secret", ("app",), "app"),
    ("read_namespace", ("app",), None),
])
def test_namespace_argument(method, args, namespace):
    assert _k8s._namespace_arg(method, args) == namespace


def test_a_missing_secret_in_a_missing_namespace_is_misconfigured(monkeypatch):
    backend = _k8s.K8sBackend({"host": "http://127.0.0.1:1"}, environ={})
    calls = []

    class Core:
        def read_namespaced_secret(self, name, namespace, **kwargs):
            raise ApiException(404, {"message": 'secrets "%s" not found' % name, "details": {"kind": "secrets"}})

        def read_namespace(self, namespace, **kwargs):
            calls.append(namespace)
            if namespace != "app":
                raise ApiException(404, {"message": 'namespaces "%s" not found' % namespace})

    monkeypatch.setattr(backend, "api", lambda name: Core())
    with pytest.raises(SecretNotFound):
        backend.read(backend.ref_from_term("app/db"))
    for _attempt in range(2):
        with pytest.raises(BackendMisconfigured) as err:
            backend.read(backend.ref_from_term("nope/db"))
        assert "namespace 'nope' does not exist" in str(err.value) and "k8s://nope/db" in str(err.value)
    assert calls == ["app", "nope"]  # asked once per namespace
