# -*- coding: utf-8 -*-
"""Kubernetes backend, pure logic: option sources (K8S_AUTH_*, KUBECONFIG, ANSIBLE_AGENTAREA_SECRETS_K8S_*),
the choice between host, kubeconfig and in-cluster configuration, identities, decoding and error mapping."""
import base64
import json

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s import _backend as _k8s, _client as _k8s_client
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import K8sBackend, label_patch

TOKEN = "canary-sa-token-5d1e"


def backend(environ=None, **options):
    b = K8sBackend(options, environ=environ or {})
    b.validate()
    return b


def kubeconfig(tmp_path, server="https://k8s.example.invalid:6443", name="kc"):
    path = tmp_path / name
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "a",
        "clusters": [{"name": "c", "cluster": {"server": server}}, {"name": "d", "cluster": {"server": server + "1"}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}},
                     {"name": "b", "context": {"cluster": "d", "user": "u"}}]}))
    return str(path)


def test_options_come_from_kubernetes_core_variables_then_ours_first():
    env = {"K8S_AUTH_KUBECONFIG": "/a", "KUBECONFIG": "/b", "K8S_AUTH_CONTEXT": "prod",
           "K8S_AUTH_VERIFY_SSL": "no", "K8S_AUTH_SSL_CA_CERT": "/ca.pem"}
    b = backend(env)
    assert b.options["kubeconfig"] == "/a" and b.options["context"] == "prod"
    assert b.options["validate_certs"] is False and b.options["ca_cert"] == "/ca.pem"
    env["ANSIBLE_AGENTAREA_SECRETS_K8S_KUBECONFIG"] = "/ours"
    assert backend(env).options["kubeconfig"] == "/ours"
    assert backend({"KUBECONFIG": "/b"}).options["kubeconfig"] == "/b"
    assert backend(env, kubeconfig="/given").options["kubeconfig"] == "/given"  # an option wins


def test_validation_without_network():
    with pytest.raises(InvalidOption, match="host must be a URL"):
        backend(host="k8s.example:6443")
    with pytest.raises(InvalidOption, match="validate_certs must be a boolean"):
        backend({"K8S_AUTH_VERIFY_SSL": "maybe"})
    with pytest.raises(InvalidOption, match="in_cluster cannot be combined"):
        backend(in_cluster=True, context="prod")


def test_source_host_kubeconfig_or_in_cluster(tmp_path, monkeypatch):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setattr(_k8s_client, "SA_DIR", str(sa))
    pod = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    assert backend().source() == "kubeconfig"
    assert backend(host="https://k8s:6443").source() == "host"
    assert backend(pod).source() == "in_cluster"                    # AWX on Kubernetes: automatic
    assert backend(pod, in_cluster=False).source() == "kubeconfig"   # unless switched off
    assert backend(dict(pod, KUBECONFIG="/kc")).source() == "kubeconfig"
    assert backend(in_cluster=True).source() == "in_cluster"


def test_in_cluster_configuration_uses_the_service_account(tmp_path, monkeypatch):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(_k8s_client, "SA_DIR", str(sa))
    cfg = backend({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}).configuration()
    assert cfg.host == "https://10.0.0.1:443" and cfg.ca_file == str(sa / "ca.crt")
    assert cfg.credentials() == ("Bearer " + TOKEN, None)


def test_kubeconfig_context_and_overrides(tmp_path):
    path = kubeconfig(tmp_path)
    assert backend(kubeconfig=path).configuration().host == "https://k8s.example.invalid:6443"
    assert backend(kubeconfig=path, context="b").configuration().host == "https://k8s.example.invalid:64431"
    cfg = backend(kubeconfig=path, host="https://other:6443", api_key="t2", validate_certs=False).configuration()
    assert cfg.host == "https://other:6443" and cfg.verify is False
    assert cfg.credentials()[0] == "Bearer t2"  # not the kubeconfig's token
    # several files joined with ':' as in KUBECONFIG
    second = kubeconfig(tmp_path, name="kc2")
    assert backend({"KUBECONFIG": "%s:%s" % (tmp_path / "missing", second)}).configuration().host
    with pytest.raises(InvalidOption, match="the kubeconfig /nope does not exist"):
        backend(kubeconfig="/nope").configuration()
    with pytest.raises(InvalidOption, match="cannot load the Kubernetes configuration"):
        backend(kubeconfig=path, context="missing").configuration()


def test_identity_never_holds_a_credential(tmp_path):
    ident = backend(host="https://k8s:6443", api_key=TOKEN).identity()
    assert TOKEN not in ident and "https://k8s:6443" in ident
    assert backend(kubeconfig="/kc", context="prod").identity() != backend(kubeconfig="/kc").identity()


def api_exception(status, reason, message):
    return _k8s_client.ApiError(status, reason, json.dumps({"kind": "Status", "reason": reason, "message": message,
                                                            "code": status}))


@pytest.mark.parametrize("status,cls", [(404, SecretNotFound), (403, SecretAccessDenied), (401, SecretAccessDenied),
                                        (409, SecretConflict), (422, InvalidOption), (500, BackendUnavailable)])
def test_api_errors_are_typed_and_keep_only_the_status_message(status, cls):
    err = _k8s.api_error(api_exception(status, "Reason", 'secrets "x" is wrong'), ref="k8s://a/x", what="Secret a/x")
    assert isinstance(err, cls) and 'Secret a/x: secrets "x" is wrong' in str(err)


def test_connection_errors_name_the_cause_not_the_request():
    import urllib3
    err = _k8s.api_error(urllib3.exceptions.MaxRetryError(None, "/api/v1/secrets?body=canary"))
    assert isinstance(err, BackendUnavailable) and "canary" not in str(err) and "MaxRetryError" in str(err)


def test_secret_from_object_decodes_and_marks_binary_values_uncacheable():
    obj = {"metadata": {"name": "s", "resourceVersion": "7", "creationTimestamp": "2026-01-01T00:00:00Z",
                        "labels": {"app": "x"}, "uid": "u",
                        "managedFields": [{"time": "2026-01-02T00:00:00Z"}, {"time": "2026-01-03T00:00:00Z"}]},
           "type": "Opaque", "data": {"text": base64.b64encode(b"hello").decode(), "bin": base64.b64encode(b"\xff\x00").decode()}}
    secret = K8sBackend.secret_from_object(obj)
    assert secret.value == {"text": "hello", "bin": b"\xff\x00"} and secret.version == "7"
    assert secret.metadata["tags"] == {"app": "x"} and secret.metadata["keys"] == ["bin", "text"]
    assert secret.metadata["cache"] is False and secret.updated.day == 3
    assert "hello" not in repr(secret)


def test_select_and_references():
    secret = K8sBackend.secret_from_object({"metadata": {}, "data": {"a": base64.b64encode(b'{"x": 1}').decode()}})
    b = backend()
    assert b.select(secret, parse_ref("k8s://ns/s")) == {"a": '{"x": 1}'}  # keys as stored, no JSON decoding
    assert b.select(secret, parse_ref("k8s://ns/s#a")) == '{"x": 1}'
    with pytest.raises(SecretNotFound, match="the Secret has no key 'b' \\(keys: a\\)"):
        b.select(secret, parse_ref("k8s://ns/s#b"))
    assert b.ref_from_term("ns/s", key="a") == parse_ref("k8s://ns/s#a")
    with pytest.raises(InvalidReference):
        b.ref_from_term("vault://secret/x")


def test_label_patch_removes_what_is_not_wanted():
    assert label_patch({"a": "1", "b": "2"}, {"a": "3"}) == {"a": "3", "b": None}
