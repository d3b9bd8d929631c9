# -*- coding: utf-8 -*-
"""External Secrets objects from short descriptions: every provider, store kinds, remote references, the
comparison that tolerates server defaults, merge patches and the force-sync wait condition."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _external_secret as eso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption


def test_vault_store_with_each_auth():
    base = {"name": "vault", "provider": "vault", "server": "https://v:8200"}
    store = eso.render_store(dict(base, auth={"token": "vault-token"}), "agentarea")
    assert store == {"kind": "SecretStore", "metadata": {"name": "vault", "namespace": "agentarea"},
                     "spec": {"provider": {"vault": {"server": "https://v:8200", "path": "secret", "version": "v2",
                                                     "auth": {"tokenSecretRef": {"name": "vault-token",
                                                                                 "key": "token"}}}}}}
    k8s = eso.render_store(dict(base, auth={"kubernetes": {"role": "app"}}, vault_namespace="team",
                                ca_bundle="PEM"), "agentarea")["spec"]["provider"]["vault"]
    assert k8s["auth"] == {"kubernetes": {"mountPath": "kubernetes", "role": "app"}}
    assert k8s["namespace"] == "team" and k8s["caBundle"] == "UEVN"
    approle = eso.render_store(dict(base, auth={"approle": {"role_id": "r", "secret": "approle#secret-id"}}),
                               "agentarea")["spec"]["provider"]["vault"]["auth"]
    assert approle == {"appRole": {"path": "approle", "roleId": "r",
                                   "secretRef": {"name": "approle", "key": "secret-id"}}}
    with pytest.raises(InvalidOption, match="one of token, kubernetes, approle"):
        eso.render_store(dict(base, auth={"ldap": {}}), "agentarea")


def test_cloud_stores_and_cluster_scope():
    aws = eso.render_store({"name": "a", "provider": "aws", "region": "eu-west-1", "role": "arn:aws:iam::1:role/x",
                            "auth": {"service_account": "eso"}}, "agentarea")["spec"]["provider"]["aws"]
    assert aws == {"service": "SecretsManager", "region": "eu-west-1", "role": "arn:aws:iam::1:role/x",
                   "auth": {"jwt": {"serviceAccountRef": {"name": "eso"}}}}
    azure = eso.render_store({"name": "z", "provider": "azure", "vault_url": "https://kv", "auth_type": "ManagedIdentity",
                              "identity_id": "id-1"}, "agentarea")["spec"]["provider"]["azurekv"]
    assert azure == {"vaultUrl": "https://kv", "authType": "ManagedIdentity", "identityId": "id-1"}
    cluster = eso.render_store({"name": "g", "kind": "ClusterSecretStore", "provider": "gcp", "project_id": "p",
                                "auth": {"workload_identity": {"cluster_location": "eu", "cluster_name": "c",
                                                               "service_account": "eso"}}}, "external-secrets")
    assert cluster["metadata"] == {"name": "g"} and cluster["kind"] == "ClusterSecretStore"
    assert cluster["spec"]["provider"]["gcpsm"]["auth"]["workloadIdentity"] == {
        "clusterLocation": "eu", "clusterName": "c",
        "serviceAccountRef": {"name": "eso", "namespace": "external-secrets"}}
    with pytest.raises(InvalidOption, match="must say the namespace of each Secret .*auth.secretRef"):
        eso.render_store({"name": "g", "kind": "ClusterSecretStore", "provider": "gcp", "project_id": "p",
                          "auth": {"credentials": "gcp-creds#key.json"}}, None)
    placed = eso.render_store({"name": "g", "kind": "ClusterSecretStore", "provider": "gcp", "project_id": "p",
                               "auth": {"credentials": "ops/gcp-creds#key.json"}}, None)
    assert placed["spec"]["provider"]["gcpsm"]["auth"]["secretRef"]["secretAccessKeySecretRef"]["namespace"] == "ops"
    with pytest.raises(InvalidOption, match="store.region is required for the aws provider"):
        eso.render_store({"name": "a", "provider": "aws"}, "agentarea")
    with pytest.raises(InvalidOption, match="a SecretStore needs namespace"):
        eso.render_store({"name": "a", "provider": "gcp", "project_id": "p"}, None)
    extra = eso.render_store({"name": "a", "provider": "aws", "region": "r", "provider_spec": {"prefix": "app/"}},
                             "ns")["spec"]["provider"]["aws"]
    assert extra["prefix"] == "app/"


def test_secret_key_refs():
    assert eso.secret_key_ref("creds#key", "x") == {"name": "creds", "key": "key"}
    assert eso.secret_key_ref("ops/creds#key", "x") == {"name": "creds", "key": "key", "namespace": "ops"}
    expected = {"name": "c", "key": "k", "namespace": "ns"}
    assert eso.secret_key_ref({"name": "c", "key": "k"}, "x", namespace="ns") == expected
    with pytest.raises(InvalidOption, match="name#key"):
        eso.secret_key_ref("creds", "x")


@pytest.mark.parametrize("given", ["hvs.CAESIraw-vault-token-canary", {"token": "raw-canary-in-a-map"}])
def test_a_credential_given_instead_of_a_reference_is_never_echoed(given):
    """Issue 12 item 12: the error named the field and echoed the value with %r - often the credential itself."""
    base = {"name": "v", "provider": "vault", "server": "https://vault:8200", "auth": {"token": given}}
    with pytest.raises(InvalidOption, match="store.auth.token: give the Kubernetes Secret") as exc:
        eso.render_store(base, "agentarea")
    assert "canary" not in str(exc.value) and "hvs." not in str(exc.value)


def test_store_auth_is_no_log():
    from ansible_collections.agentarea.secrets.plugins.modules import external_secret
    assert external_secret.argument_spec()["store"]["options"]["auth"]["no_log"] is True


def test_external_secret_rendering():
    obj = eso.render_external_secret({
        "name": "app", "namespace": "agentarea", "secret_store": "vault", "secret_store_kind": "ClusterSecretStore",
        "data": {"b": "agentarea/db#url?version=2", "a": {"key": "agentarea/jwt", "decoding_strategy": "Base64"}},
        "data_from": ["agentarea/openai", {"find": {"name": {"regexp": "^x"}}}], "target": "app-secrets",
        "deletion_policy": "Retain"})
    assert obj["spec"]["data"] == [
        {"secretKey": "a", "remoteRef": {"key": "agentarea/jwt", "decodingStrategy": "Base64"}},
        {"secretKey": "b", "remoteRef": {"key": "agentarea/db", "property": "url", "version": "2"}}]
    assert obj["spec"]["dataFrom"] == [{"extract": {"key": "agentarea/openai"}}, {"find": {"name": {"regexp": "^x"}}}]
    assert obj["spec"]["target"] == {"name": "app-secrets", "creationPolicy": "Owner", "deletionPolicy": "Retain"}
    assert obj["spec"]["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}
    with pytest.raises(InvalidOption, match="needs data or data_from"):
        eso.render_external_secret({"name": "x", "namespace": "n", "secret_store": "s"})


def test_contains_tolerates_server_defaults_and_merge_patch_removes_the_rest():
    have = {"refreshInterval": "1h", "target": {"name": "a", "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": [{"secretKey": "k", "remoteRef": {"key": "x", "conversionStrategy": "Default"}}]}
    want = {"refreshInterval": "1h", "target": {"name": "a", "creationPolicy": "Owner"},
            "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}]}
    assert eso.contains(have, want)
    assert not eso.contains(have, dict(want, data=[]))
    patch = eso.merge_patch({"a": 1, "b": {"c": 1, "d": 2}, "e": [1]}, {"b": {"c": 1}, "e": [2]})
    assert patch == {"a": None, "b": {"d": None}, "e": [2]}


def test_synced_since():
    ready = {"type": "Ready", "status": "True"}
    obj = {"status": {"conditions": [ready], "syncedResourceVersion": "1-abc", "refreshTime": "2026-01-01T00:00:10Z"}}
    t = 1767225610.0  # 2026-01-01T00:00:10Z
    assert eso.synced_since(obj, "1-old", t + 100)             # a new synced version
    assert not eso.synced_since(obj, "1-abc", t + 5)          # same version, refreshed before the force
    assert eso.synced_since(obj, "1-abc", t + 0.7)            # refreshTime has whole seconds
    obj["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    assert not eso.synced_since(obj, "1-old", t)
    assert eso.force_sync_value(1700000000.25) == "1700000000.250"


class FakeCustomObjects:
    """Just enough of K8sBackend.call for CustomObjectsApi: one ExternalSecret that syncs when annotated."""

    def __init__(self):
        self.obj = {"metadata": {"name": "app", "namespace": "ns", "resourceVersion": "1", "annotations": {}},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}], "syncedResourceVersion": "1-a"}}
        self.calls = []

    def call(self, api, method, *args, **kwargs):
        self.calls.append((method, kwargs.get("_content_type")))
        if method == "get_namespaced_custom_object":
            return self.obj
        if method == "patch_namespaced_custom_object":
            self.obj["metadata"]["annotations"].update(args[5]["metadata"]["annotations"])
            self.obj["status"]["syncedResourceVersion"] = "1-b"
            return self.obj
        raise AssertionError(method)


def test_consumers_force_sync_annotates_and_waits():
    from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _consumers

    fake = FakeCustomObjects()
    assert _consumers.force_sync(fake, "ns", "app", check_mode=True) and len(fake.calls) == 1
    value = _consumers.force_sync(fake, "ns", "app", wait=True, timeout=5)
    assert fake.obj["metadata"]["annotations"]["force-sync"] == value
    assert ("patch_namespaced_custom_object", "application/merge-patch+json") in fake.calls


class FakeOneObject(FakeCustomObjects):
    def __init__(self, spec):
        super(FakeOneObject, self).__init__()
        self.obj["spec"] = spec
        self.patches = []

    def call(self, api, method, *args, **kwargs):
        if method == "patch_namespaced_custom_object":
            self.patches.append(args[5])
            return self.obj
        return super(FakeOneObject, self).call(api, method, *args, **kwargs)


def test_a_field_no_longer_described_is_removed():
    fake = FakeOneObject({"data": [{"secretKey": "a", "remoteRef": {"key": "x"}}],
                          "dataFrom": [{"extract": {"key": "y"}}], "refreshInterval": "1h"})
    objects = eso.CustomObjects(fake, "externalsecrets", "v1")
    desired = {"kind": "ExternalSecret", "metadata": {"name": "app", "namespace": "ns"},
               "spec": {"data": [{"secretKey": "a", "remoteRef": {"key": "x"}}], "refreshInterval": "1h"}}
    action, _before, _after = objects.ensure(desired)
    assert action == "updated" and fake.patches[0]["spec"] == {"dataFrom": None}
    fake.obj["spec"].pop("dataFrom")
    assert objects.ensure(desired)[0] == "none"
