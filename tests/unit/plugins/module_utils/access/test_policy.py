# -*- coding: utf-8 -*-
"""Policies rendered from the catalog (no servers), the compare-then-write step and IAM version pruning."""
import datetime
import json

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.access import _apply as _policy_apply
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretConflict
from ansible_collections.agentarea.secrets.plugins.module_utils.access._policy import (
    body_text,
    object_id,
    render,
    vault_paths,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import connection_argspec
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref

CATALOG = [
    {"name": "database", "owner": "platform", "tags": ["prod"], "store": "vault://secret/agentarea/database#url",
     "consumers": [{"k8s": {"namespace": "agentarea", "secret": "agentarea-secrets", "key": "database-url"}},
                   {"docker": {"secret": "db_password"}}, {"env_file": {"path": "/srv/.env", "key": "DB"}}]},
    {"name": "jwt", "owner": "platform", "store": "aws://agentarea/prod/jwt"},
    {"name": "kv1", "owner": "data", "store": "vault://legacy/app/token?kv_version=1"},
    {"name": "k8s-native", "owner": "data", "store": "k8s://jobs/job-token"},
    {"name": "k8s-keyed", "owner": "data", "store": "k8s://jobs/job-keys#Signing_Key"},
    {"name": "no-store", "owner": "data"},
]


def by_id(objects):
    return dict((object_id(o), o) for o in objects)


def test_vault_consumer_policy_reads_exactly_its_paths():
    objs = render(CATALOG, [{"name": "api", "secrets": ["database", "kv1", "jwt"], "vault": {}}], systems=["vault"])
    assert [object_id(o) for o in objs] == ["vault/policy/agentarea-secrets-api"]
    text = objs[0]["body"]
    assert text.startswith("# Managed by agentarea.secrets")
    assert 'path "secret/data/agentarea/database" {\n  capabilities = ["read"]\n}' in text
    assert 'path "legacy/app/token" {\n  capabilities = ["read"]\n}' in text
    assert 'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}' in text
    assert "metadata" not in text and "jwt" not in text.split("# Secrets:")[1].split("\n", 1)[1]
    assert objs[0]["secrets"] == ["database", "kv1"]


def test_vault_rotation_policy_updates_data_metadata_and_slots():
    objs = render(CATALOG, [{"name": "rotation", "rotation": True, "vault": {"policy": "rotate-all"}}],
                  systems=["vault"])
    text = objs[0]["body"]
    assert objs[0]["name"] == "rotate-all"
    assert 'path "secret/data/agentarea/database" {\n  capabilities = ["create", "read", "update"]\n}' in text
    assert 'path "secret/metadata/agentarea/database" {\n  capabilities = ["read", "update"]\n}' in text
    assert 'path "secret/data/agentarea/database__*" {\n  capabilities = ["create", "read", "update"]\n}' in text
    assert "delete" not in text and "auth/token/renew-self" in text
    assert 'path "legacy/app/token__*"' in text  # kv1: no metadata path
    no_slots = render(CATALOG, [{"name": "r", "rotation": True, "vault": {}}], systems=["vault"],
                      rotation_slots=False)[0]["body"]
    assert "__*" not in no_slots


def test_vault_paths_mount_option():
    assert vault_paths(parse_ref("vault://team/a/kv/app/db?mount=team/a/kv")) == (
        "team/a/kv/data/app/db", "team/a/kv/metadata/app/db")
    with pytest.raises(InvalidOption):
        vault_paths(parse_ref("vault://secret/app?mount=other"))


def test_k8s_role_names_exactly_the_consumer_secrets():
    objs = by_id(render(CATALOG, [{"name": "API", "secrets": ["database", "k8s-native"],
                                   "k8s": {"service_account": "agentarea-api", "namespace": "agentarea"}}],
                        systems=["k8s"]))
    assert sorted(objs) == ["k8s/Role/agentarea/agentarea-secrets-api", "k8s/Role/jobs/agentarea-secrets-api",
                            "k8s/RoleBinding/agentarea/agentarea-secrets-api",
                            "k8s/RoleBinding/jobs/agentarea-secrets-api"]
    role = objs["k8s/Role/agentarea/agentarea-secrets-api"]["body"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["agentarea-secrets"],
                              "verbs": ["get"]}]
    assert role["metadata"]["labels"]["secrets.agentarea.io/identity"] == "api"
    binding = objs["k8s/RoleBinding/jobs/agentarea-secrets-api"]["body"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "agentarea-api", "namespace": "agentarea"}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "agentarea-secrets-api"}


def test_k8s_rotation_role_slots_and_create():
    objs = by_id(render(CATALOG, [{"name": "rot", "rotation": True, "k8s": {"group": "rotators"}}],
                        systems=["k8s"]))
    rules = objs["k8s/Role/jobs/agentarea-secrets-rot"]["body"]["rules"]
    assert rules[0] == {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["job-keys", "job-token"],
                        "verbs": ["get", "patch", "update"]}
    assert rules[1]["resourceNames"] == ["job-keys-pending-signing-key", "job-keys-previous-signing-key",
                                         "job-token-pending", "job-token-previous"]
    assert rules[1]["verbs"] == ["get", "patch", "update"]  # slots are overwritten, never deleted
    assert rules[2] == {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}
    # a consumer copy is not a store: no slots, no create
    assert len(objs["k8s/Role/agentarea/agentarea-secrets-rot"]["body"]["rules"]) == 1
    subject = objs["k8s/RoleBinding/jobs/agentarea-secrets-rot"]["body"]["subjects"][0]
    assert subject == {"kind": "Group", "name": "rotators", "apiGroup": "rbac.authorization.k8s.io"}


def test_aws_policy_arns_with_suffix_wildcard():
    objs = render(CATALOG, [{"name": "api", "tags": ["prod"], "owners": ["platform"], "aws": {"role": "api"}},
                            {"name": "rot", "rotation": True, "aws": {"user": "rotator", "policy": "rot-policy"}}],
                  systems=["aws"], region="eu-west-1", account="123456789012")
    api, rot = objs
    assert api["body"]["Statement"] == [{
        "Sid": "ReadSecrets", "Effect": "Allow",
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "Resource": ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:agentarea/prod/jwt-??????"]}]
    assert api["attach"] == {"role": "api"} and rot["name"] == "rot-policy" and rot["attach"] == {"user": "rotator"}
    assert rot["body"]["Statement"] == [{
        "Sid": "RotateSecrets", "Effect": "Allow",
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                   "secretsmanager:TagResource", "secretsmanager:UntagResource",
                   "secretsmanager:UpdateSecretVersionStage"],
        "Resource": ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:agentarea/prod/jwt-??????"]}]
    with pytest.raises(InvalidOption, match="account id"):
        render(CATALOG, [{"name": "api", "secrets": ["jwt"], "aws": {}}], systems=["aws"])
    arn = "arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf"
    exact = render([{"name": "x", "store": "aws://" + arn}], [{"name": "a", "secrets": ["x"], "aws": {}}],
                   systems=["aws"])
    assert exact[0]["body"]["Statement"][0]["Resource"] == [arn]
    empty = render(CATALOG, [{"name": "a", "secrets": ["database"], "aws": {}}], systems=["aws"])[0]
    assert empty["body"]["Statement"][0]["Effect"] == "Deny" and empty["secrets"] == []


@pytest.mark.parametrize("identities, message", [
    ([{"name": "a", "vault": {}}], "selects no secrets"),
    ([{"name": "a", "secrets": ["nope"], "vault": {}}], "not in the catalog"),
    ([{"name": "a", "secrets": ["jwt"], "vault": {}}, {"name": "a", "secrets": ["jwt"]}], "appears twice"),
    ([{"name": "a", "secrets": ["database"], "k8s": {"service_account": "x"}}], "needs k8s.namespace"),
])
def test_invalid_identities(identities, message):
    with pytest.raises(InvalidOption, match=message):
        render(CATALOG, identities)


def test_selection_by_glob_and_body_text_is_stable():
    objs = render(CATALOG, [{"name": "a", "secrets": ["k8s-*", "data*"], "vault": {}, "k8s": {"user": "u"}}])
    assert objs[0]["secrets"] == ["database"]
    assert body_text(objs[1]) == json.dumps(objs[1]["body"], indent=2, sort_keys=True) + "\n"
    assert render(CATALOG, [{"name": "a", "secrets": ["k8s-*"], "vault": {}}]) == \
        render(CATALOG, [{"name": "a", "secrets": ["k8s-*"], "vault": {}}])


def test_connection_options_only_and_per_store_forms():
    spec = connection_argspec(("vault", "k8s", "aws"))
    for name in ("auth_method", "role_id", "secret_id", "jwt", "assume_role_arn", "in_cluster",
                 "vault_ca_cert", "vault_validate_certs", "k8s_ca_cert", "k8s_validate_certs", "ca_cert"):
        assert name in spec
    for name in ("kv_version", "engine", "mount", "version_stage", "version_id", "force_delete", "kms_key_id",
                 "destroy_versions", "keep_lease", "azure_ca_cert"):
        assert name not in spec
    assert spec["secret_id"]["no_log"] and spec["secret_key"]["no_log"] and spec["api_key"]["no_log"]
    assert "vault_ca_cert" not in connection_argspec(("k8s", "aws"))


def _params(**given):
    params = dict((name, None) for name in connection_argspec(("vault", "k8s", "aws")))
    params.update(given)
    return params


def test_backends_read_their_own_environment_and_per_store_options(monkeypatch):
    for name, value in (("VAULT_ADDR", "http://v"), ("VAULT_CACERT", "/v.pem"), ("K8S_AUTH_SSL_CA_CERT", "/k.pem"),
                        ("K8S_AUTH_VERIFY_SSL", "no"), ("AWS_REGION", "eu-west-3"), ("VAULT_TOKEN", "t")):
        monkeypatch.setenv(name, value)
    assert _policy_apply.configured_backend(_params(), "vault").options["ca_cert"] == "/v.pem"
    k8s = _policy_apply.configured_backend(_params(), "k8s").options
    assert k8s["ca_cert"] == "/k.pem" and k8s["validate_certs"] is False
    # a Vault-only TLS setting leaves Kubernetes verification alone; the plain form applies to both
    params = _params(vault_validate_certs=False, k8s_validate_certs=True)
    assert _policy_apply.configured_backend(params, "vault").options["validate_certs"] is False
    assert _policy_apply.configured_backend(params, "k8s").options["validate_certs"] is True
    params = _params(validate_certs=False)
    assert _policy_apply.configured_backend(params, "k8s").options["validate_certs"] is False
    approle = _policy_apply.configured_backend(_params(auth_method="approle", role_id="r", secret_id="s"), "vault")
    assert approle.auth().NAME == "approle"
    assert _policy_apply.configured_backend(_params(), "aws").options["region"] == "eu-west-3"


def test_iam_endpoint_only_when_the_task_gives_it():
    assert _policy_apply.iam_endpoint({"endpoint_url": None}, {"AWS_ENDPOINT_URL": "http://sm"}) is None
    assert _policy_apply.iam_endpoint({"endpoint_url": None},
                                      {"ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL": "http://x"}) == "http://x"
    assert _policy_apply.iam_endpoint({"endpoint_url": "http://given"}, {}) == "http://given"


# -- writers against in-memory stand-ins -----------------------------------------------------------------------
class FakeIam:
    def __init__(self):
        self.versions = []
        self.calls = []

    def list_policy_versions(self, PolicyArn):
        return {"Versions": [dict(v) for v in self.versions]}

    def delete_policy_version(self, PolicyArn, VersionId):
        self.calls.append(("delete", VersionId))
        self.versions = [v for v in self.versions if v["VersionId"] != VersionId]


def test_iam_prune_keeps_the_default_and_the_newest():
    writer = _policy_apply.IamPolicies(None, account="1")
    fake = FakeIam()
    start = datetime.datetime(2026, 1, 1)
    fake.versions = [{"VersionId": "v%d" % i, "IsDefaultVersion": i == 5,
                      "CreateDate": start + datetime.timedelta(days=i)} for i in range(1, 6)]
    writer._clients = (fake, None)
    assert writer.prune("arn", keep=3) == ["v1"]
    assert [v["VersionId"] for v in fake.versions] == ["v2", "v3", "v4", "v5"]
    assert writer.prune("arn", keep=0) == ["v2", "v3", "v4"]
    assert [v["VersionId"] for v in fake.versions] == ["v5"]


def test_compare_then_write():
    wrote = []
    assert _policy_apply._desired("a", "a", "present", False, wrote.append, None)["action"] == "unchanged"
    assert _policy_apply._desired(None, "a", "present", True, wrote.append, None)["action"] == "created"
    assert wrote == []  # check mode
    assert _policy_apply._desired("a", "b", "present", False, wrote.append, None)["action"] == "updated"
    assert wrote == [False]
    assert _policy_apply._desired(None, None, "absent", False, None, None)["action"] == "unchanged"


class FakeVaultSys:
    def __init__(self, rules):
        self.rules = rules

    def read_policy(self, name):
        return {"data": {"rules": self.rules}}


def test_vault_policy_of_someone_else_is_not_overwritten():
    writer = _policy_apply.VaultPolicies(None)
    writer._client = type("C", (), {"sys": FakeVaultSys('path "*" { capabilities = ["sudo"] }')})()
    obj = render(CATALOG, [{"name": "a", "secrets": ["database"], "vault": {}}], systems=["vault"])[0]
    with pytest.raises(SecretConflict, match="not created by agentarea.secrets"):
        writer.ensure(obj, "present", True)
    writer.takeover = True
    assert writer.ensure(obj, "present", True)["action"] == "updated"


def test_write_file_review(tmp_path):
    obj = render(CATALOG, [{"name": "a", "secrets": ["jwt"], "aws": {}}], systems=["aws"], region="r",
                 account="1")[0]
    (tmp_path / "aws").mkdir()
    assert _policy_apply.write_file(obj, str(tmp_path), "present", True)["action"] == "created"
    assert not (tmp_path / "aws" / "agentarea-secrets-a.json").exists()
    assert _policy_apply.write_file(obj, str(tmp_path), "present", False)["action"] == "created"
    assert _policy_apply.write_file(obj, str(tmp_path), "present", False)["action"] == "unchanged"
    assert _policy_apply.write_file(obj, str(tmp_path), "absent", False)["action"] == "deleted"


def test_rotation_slots_are_where_the_rotation_engine_puts_them():
    """Held to _rotation_state.slot_ref, the rotation engine's own naming."""
    import fnmatch

    from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import slot_ref

    objs = by_id(render(CATALOG, [{"name": "rot", "rotation": True, "vault": {}, "k8s": {"user": "u"}}],
                        systems=["vault", "k8s"]))
    vault_globs = [line.split('"')[1] for line in objs["vault/policy/agentarea-secrets-rot"]["body"].splitlines()
                   if line.startswith("path ")]
    k8s_names = [n for rule in objs["k8s/Role/jobs/agentarea-secrets-rot"]["body"]["rules"]
                 for n in rule.get("resourceNames", [])]
    for entry in CATALOG:
        ref = parse_ref(entry["store"]) if entry.get("store") else None
        for slot in ("pending", "previous"):
            if ref is not None and ref.scheme == "vault" and ref.param("kv_version") != "1":
                mount, rest = slot_ref(ref, slot).location.split("/", 1)
                assert any(fnmatch.fnmatchcase("%s/data/%s" % (mount, rest), g) for g in vault_globs)
            if ref is not None and ref.scheme == "k8s":
                assert slot_ref(ref, slot).parts[1] in k8s_names
