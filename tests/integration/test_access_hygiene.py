# -*- coding: utf-8 -*-
"""Least privilege through ansible-playbook: access policies proved against OpenBao, moto with resource-level IAM
enforcement and the Kubernetes fake; and the access role. The audit device and the monitoring report are in test_store_audit.py, the secret scan and
the hygiene role in test_hygiene_scan.py."""
import json
import os
import secrets
import subprocess
import sys
import time
import uuid

import pytest

from tests.harness.leak import run_leak_suite

CANARY_A = "canary-%s-api" % secrets.token_hex(8)
CANARY_B = "canary-%s-worker" % secrets.token_hex(8)

POLICY_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: policies
      agentarea.secrets.access_policy:
        catalog: "{{ catalog }}"
        identities: "{{ identities }}"
        systems: "{{ systems }}"
        state: "{{ state | default('present') }}"
        output_dir: "{{ output_dir | default(omit) }}"
        aws_account_id: "{{ account | default(omit) }}"
        region: "{{ region | default(omit) }}"
"""


def uid():
    return uuid.uuid4().hex[:8]


def actions(result):
    return {p["id"]: p["action"] for p in result.task("policies")["policies"]}


# --- Vault / OpenBao ---------------------------------------------------------------------------------------
@pytest.fixture
def vault(harness):
    import hvac

    info = harness.start("vault")
    client = hvac.Client(url=info["url"], token=info["token"])
    return info, client


def vault_token(client, policies):
    return client.auth.token.create(policies=policies, no_default_policy=True, ttl="10m")["auth"]["client_token"]


def test_vault_policies_enforced(ansible, vault):
    import hvac
    import hvac.exceptions

    info, admin = vault
    run = uid()
    base = "aa-%s" % run
    admin.secrets.kv.v2.create_or_update_secret("%s/api" % base, secret={"password": CANARY_A}, mount_point="secret")
    admin.secrets.kv.v2.create_or_update_secret("%s/worker" % base, secret={"password": CANARY_B},
                                                mount_point="secret")
    if "approle/" not in admin.sys.list_auth_methods()["data"]:
        admin.sys.enable_auth_method("approle")
    admin.auth.approle.create_or_update_approle("worker-%s" % run, token_policies=["default"], token_ttl="10m")
    catalog = [{"name": "api", "owner": "platform", "store": "vault://secret/%s/api#password" % base},
               {"name": "worker", "owner": "data", "store": "vault://secret/%s/worker" % base}]
    prefix = "aa-%s-" % run
    identities = [{"name": "api", "secrets": ["api"], "vault": {"policy": prefix + "api"}},
                  {"name": "worker", "owners": ["data"], "vault": {"policy": prefix + "worker",
                                                                   "approle": "worker-%s" % run}},
                  {"name": "rotation", "rotation": True, "vault": {"policy": prefix + "rotation"}}]
    evars = {"catalog": catalog, "identities": identities, "systems": ["vault"]}
    env = info["env"]
    canaries = [CANARY_A, CANARY_B]

    check = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, check=True, diff=True, canaries=canaries)
    assert set(actions(check).values()) == {"created"}
    assert (prefix + "api") not in admin.sys.list_policies()["data"]["policies"]
    assert 'path "secret/data/%s/api"' % base in check.stdout  # the diff shows the policy

    first = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, diff=True, canaries=canaries)
    assert set(actions(first).values()) == {"created"}
    assert first.task("policies")["changed"]
    again = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=canaries)
    assert set(actions(again).values()) == {"unchanged"} and not again.task("policies")["changed"]

    rules = admin.sys.read_policy(prefix + "api")["data"]["rules"]
    assert 'path "secret/data/%s/api"' % base in rules and "lookup-self" in rules and "worker" not in rules

    # the consumer reads its secret and is denied its neighbour's
    api = hvac.Client(url=info["url"], token=vault_token(admin, [prefix + "api"]))
    got = api.secrets.kv.v2.read_secret_version("%s/api" % base, mount_point="secret", raise_on_deleted_version=True)
    assert got["data"]["data"]["password"] == CANARY_A
    assert api.auth.token.lookup_self()["data"]["policies"] == [prefix + "api"]
    with pytest.raises(hvac.exceptions.Forbidden):
        api.secrets.kv.v2.read_secret_version("%s/worker" % base, mount_point="secret", raise_on_deleted_version=True)
    with pytest.raises(hvac.exceptions.Forbidden):
        api.secrets.kv.v2.create_or_update_secret("%s/api" % base, secret={"password": "x"}, mount_point="secret")

    # the AppRole got the worker policy; its login reads the worker secret only
    role_id = admin.auth.approle.read_role_id("worker-%s" % run)["data"]["role_id"]
    secret_id = admin.auth.approle.generate_secret_id("worker-%s" % run)["data"]["secret_id"]
    worker = hvac.Client(url=info["url"])
    worker.auth.approle.login(role_id=role_id, secret_id=secret_id)
    assert worker.secrets.kv.v2.read_secret_version("%s/worker" % base, mount_point="secret",
                                                    raise_on_deleted_version=True)["data"]["data"]
    with pytest.raises(hvac.exceptions.Forbidden):
        worker.secrets.kv.v2.read_secret_version("%s/api" % base, mount_point="secret", raise_on_deleted_version=True)

    # the rotation identity reads and updates both, writes the pending slot, and nothing else
    rot = hvac.Client(url=info["url"], token=vault_token(admin, [prefix + "rotation"]))
    rot.secrets.kv.v2.create_or_update_secret("%s/api" % base, secret={"password": CANARY_A}, mount_point="secret")
    rot.secrets.kv.v2.read_secret_metadata("%s/worker" % base, mount_point="secret")
    slot = rot.secrets.kv.v2.create_or_update_secret("%s/api__pending" % base, secret={"rotation": "{}"},
                                                     mount_point="secret", cas=0)
    rot.secrets.kv.v2.create_or_update_secret("%s/api__pending" % base, secret={"rotation": "{}", "value": "null"},
                                              mount_point="secret", cas=slot["data"]["version"])
    with pytest.raises(hvac.exceptions.Forbidden):
        rot.secrets.kv.v2.delete_metadata_and_all_versions("%s/api__pending" % base, mount_point="secret")
    with pytest.raises(hvac.exceptions.Forbidden):
        rot.secrets.kv.v2.create_or_update_secret("%s/other" % base, secret={"x": "y"}, mount_point="secret")

    # review files instead of applying: written once, unchanged the second time
    out_dir = ansible.base / "policies"
    files = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, output_dir=str(out_dir)), env={},
                             canaries=canaries)
    assert set(actions(files).values()) == {"created"}
    assert (out_dir / "vault" / (prefix + "api.hcl")).read_text() == rules
    files = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, output_dir=str(out_dir)), env={},
                             canaries=canaries)
    assert set(actions(files).values()) == {"unchanged"}

    # a policy someone else wrote is not overwritten
    admin.sys.create_or_update_policy(prefix + "api", 'path "secret/data/*" {\n  capabilities = ["read"]\n}\n')
    clash = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, expect_rc=2, canaries=canaries)
    assert "not created by agentarea.secrets" in clash.stdout
    admin.sys.delete_policy(prefix + "api")

    gone = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=canaries)
    assert actions(gone)[("vault/policy/%sworker" % prefix)] == "deleted"
    policies = admin.sys.list_policies()["data"]["policies"]
    assert not [p for p in policies if p.startswith(prefix)]
    assert (prefix + "worker") not in admin.auth.approle.read_role("worker-%s" % run)["data"]["token_policies"]
    again = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=canaries)
    assert not again.task("policies")["changed"]
    admin.auth.approle.delete_role("worker-%s" % run)
    for name in ("api", "worker", "api__pending"):
        admin.secrets.kv.v2.delete_metadata_and_all_versions("%s/%s" % (base, name), mount_point="secret")


# --- Kubernetes (the fake stores RBAC objects but does not enforce RBAC) -----------------------------------
@pytest.fixture
def k8s(harness):
    from kubernetes import client, config

    info = harness.start("k8s")
    api = config.new_client_from_config(config_file=info["kubeconfig"])
    return info, client.RbacAuthorizationV1Api(api), client.CoreV1Api(api)


def test_k8s_roles_with_exact_resource_names(ansible, k8s):
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    info, rbac, core = k8s
    run = uid()
    ns, ns2 = "aa-%s" % run, "aa-%s-b" % run
    for name in (ns, ns2):
        core.create_namespace({"metadata": {"name": name}})
    for name in ("api-secrets", "worker-secrets", "neighbour-secrets"):
        core.create_namespaced_secret(ns, {"metadata": {"name": name}, "stringData": {"password": CANARY_A}})
    catalog = [{"name": "api", "store": "vault://secret/agentarea/api",
                "consumers": [{"k8s": {"namespace": ns, "secret": "api-secrets", "key": "password"}},
                              {"docker": {"secret": "api_password"}}]},
               {"name": "worker", "store": "k8s://%s/worker-secrets#password" % ns},
               {"name": "neighbour", "store": "k8s://%s/neighbour-secrets" % ns}]
    identities = [{"name": "api", "secrets": ["api"], "k8s": {"service_account": "agentarea-api", "namespace": ns}},
                  {"name": "rotation", "secrets": ["api", "worker"], "rotation": True,
                   "k8s": {"user": "secrets-rotator"}}]
    evars = {"catalog": catalog, "identities": identities, "systems": ["k8s"]}
    env = info["env"]

    check = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, check=True, diff=True, canaries=[CANARY_A])
    assert set(actions(check).values()) == {"created"} and len(actions(check)) == 4
    assert not rbac.list_namespaced_role(ns).items
    first = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=[CANARY_A])
    assert set(actions(first).values()) == {"created"}
    again = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=[CANARY_A])
    assert set(actions(again).values()) == {"unchanged"} and not again.task("policies")["changed"]

    # exactly the consumer's Secret, read only; the neighbour is not named. The fake does not enforce RBAC, so
    # this checks the objects a real API server would enforce, not a denial.
    role = rbac.read_namespaced_role("agentarea-secrets-api", ns)
    assert [(r.api_groups, r.resources, r.resource_names, r.verbs) for r in role.rules] == [
        ([""], ["secrets"], ["api-secrets"], ["get"])]
    binding = rbac.read_namespaced_role_binding("agentarea-secrets-api", ns)
    assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [("ServiceAccount", "agentarea-api", ns)]
    assert (binding.role_ref.kind, binding.role_ref.name) == ("Role", "agentarea-secrets-api")
    rot = rbac.read_namespaced_role("agentarea-secrets-rotation", ns)
    assert [(r.resource_names, r.verbs) for r in rot.rules] == [
        (["api-secrets", "worker-secrets"], ["get", "patch", "update"]),
        (["worker-secrets-pending-password", "worker-secrets-previous-password"], ["get", "patch", "update"]),
        (None, ["create"])]
    assert all("neighbour-secrets" not in (r.resource_names or []) for r in role.rules + rot.rules)

    # a hand edit is put back; the consumer copy moving to another namespace moves the Role with it
    role.rules[0].resource_names.append("neighbour-secrets")
    rbac.replace_namespaced_role("agentarea-secrets-api", ns, role)
    fixed = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, diff=True, canaries=[CANARY_A])
    assert actions(fixed)["k8s/Role/%s/agentarea-secrets-api" % ns] == "updated"
    assert rbac.read_namespaced_role("agentarea-secrets-api", ns).rules[0].resource_names == ["api-secrets"]
    catalog[0]["consumers"][0]["k8s"]["namespace"] = ns2
    moved = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=[CANARY_A])
    assert actions(moved)["k8s/Role/%s/agentarea-secrets-api" % ns] == "deleted"
    assert actions(moved)["k8s/Role/%s/agentarea-secrets-api" % ns2] == "created"
    with pytest.raises(ApiException):
        rbac.read_namespaced_role("agentarea-secrets-api", ns)

    # a Role that someone else made is not taken over
    rbac.create_namespaced_role(ns, client.V1Role(metadata=client.V1ObjectMeta(name="agentarea-secrets-ops"),
                                                  rules=[]))
    ops = dict(evars, identities=identities + [{"name": "ops", "secrets": ["neighbour"],
                                                "k8s": {"group": "ops", "namespace": ns}}])
    clash = ansible.playbook(POLICY_PLAY, extra_vars=ops, env=env, expect_rc=2, canaries=[CANARY_A])
    assert "not created by agentarea.secrets" in clash.stdout
    rbac.delete_namespaced_role("agentarea-secrets-ops", ns)

    gone = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=[CANARY_A])
    assert set(actions(gone).values()) == {"deleted"}
    for name in (ns, ns2):
        assert not rbac.list_namespaced_role(name).items and not rbac.list_namespaced_role_binding(name).items
    again = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=[CANARY_A])
    assert not again.task("policies")["changed"]
    for name in (ns, ns2):
        core.delete_namespace(name)


# --- AWS: moto with IAM enforcement (see tests/fakes/moto_iam_resources.py for why it is patched) -----------
@pytest.fixture
def moto_iam(tmp_path):
    """A moto server of this test's own, with resource-level enforcement for Secrets Manager; the first four
    requests are unauthenticated (they create the administrator)."""
    import boto3

    from tests.harness.servers import free_port, http_ok, kill_pid

    port = free_port()
    url = "http://127.0.0.1:%d" % port
    log = open(tmp_path / "moto.log", "w")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, os.path.join(root, "tests", "fakes", "moto_iam_resources.py"),
                             "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4", MOTO_PORT=str(port)))
    try:
        for _attempt in range(200):
            if http_ok(url + "/moto-api/"):
                break
            proc.poll()
            assert proc.returncode is None, (tmp_path / "moto.log").read_text()
            time.sleep(0.05)
        kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                  aws_secret_access_key="testing")
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.get_user(UserName="admin")  # the fourth free call; from now on every call is authorised
        yield {"url": url, "region": "us-east-1", "access_key": key["AccessKeyId"],
               "secret_key": key["SecretAccessKey"]}
    finally:
        kill_pid(proc.pid)
        log.close()


def aws_clients(info, access_key, secret_key):
    import boto3

    kw = dict(endpoint_url=info["url"], region_name=info["region"], aws_access_key_id=access_key,
              aws_secret_access_key=secret_key)
    return boto3.client("iam", **kw), boto3.client("secretsmanager", **kw)


def assert_denied(call, **kwargs):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert err.value.response["Error"]["Code"] in ("403", "AccessDenied", "AccessDeniedException")


def test_iam_policies_enforced(ansible, moto_iam):
    info = moto_iam
    iam, sm = aws_clients(info, info["access_key"], info["secret_key"])
    run = uid()
    names = {n: "aa/%s/%s" % (run, n) for n in ("api", "api-admin", "worker")}
    for n, name in names.items():
        sm.create_secret(Name=name, SecretString=CANARY_A if n == "api" else CANARY_B)
    keys = {}
    for who in ("api", "rotation"):
        iam.create_user(UserName="%s-%s" % (who, run))
        keys[who] = iam.create_access_key(UserName="%s-%s" % (who, run))["AccessKey"]
    catalog = [{"name": n, "store": "aws://%s" % name} for n, name in names.items()]
    identities = [{"name": "api-%s" % run, "secrets": ["api"], "aws": {"user": "api-%s" % run}},
                  {"name": "rotation-%s" % run, "rotation": True, "secrets": ["api", "worker"],
                   "aws": {"user": "rotation-%s" % run}}]
    evars = {"catalog": catalog, "identities": identities, "systems": ["aws"]}
    env = {"AWS_ENDPOINT_URL": info["url"], "AWS_REGION": info["region"], "AWS_ACCESS_KEY_ID": info["access_key"],
           "AWS_SECRET_ACCESS_KEY": info["secret_key"]}
    canaries = [CANARY_A, CANARY_B, info["secret_key"]]

    def ours():
        return sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"] if run in p["PolicyName"])

    check = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, check=True, diff=True, canaries=canaries)
    assert set(actions(check).values()) == {"created"} and not ours()
    assert "secret:aa/%s/api-??????" % run in check.stdout
    first = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=canaries)
    assert set(actions(first).values()) == {"created"}
    assert ours() == ["agentarea-secrets-api-%s" % run, "agentarea-secrets-rotation-%s" % run]
    again = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=canaries)
    assert set(actions(again).values()) == {"unchanged"} and not again.task("policies")["changed"]

    # the consumer reads its own secret, and gets 403 on its neighbours, even the one whose name starts the same
    api_sm = aws_clients(info, keys["api"]["AccessKeyId"], keys["api"]["SecretAccessKey"])[1]
    assert api_sm.get_secret_value(SecretId=names["api"], VersionStage="AWSCURRENT")["SecretString"] == CANARY_A
    api_sm.describe_secret(SecretId=names["api"])
    assert_denied(api_sm.get_secret_value, SecretId=names["api-admin"])
    assert_denied(api_sm.get_secret_value, SecretId=names["worker"])
    assert_denied(api_sm.put_secret_value, SecretId=names["api"], SecretString="x")
    # the rotation identity writes a pending version and promotes it; still no access to the neighbour
    rot_sm = aws_clients(info, keys["rotation"]["AccessKeyId"], keys["rotation"]["SecretAccessKey"])[1]
    new = rot_sm.put_secret_value(SecretId=names["worker"], SecretString=CANARY_A, VersionStages=["AWSPENDING"])
    current = [v for v, s in rot_sm.describe_secret(SecretId=names["worker"])["VersionIdsToStages"].items()
               if "AWSCURRENT" in s][0]
    rot_sm.update_secret_version_stage(SecretId=names["worker"], VersionStage="AWSCURRENT",
                                       MoveToVersionId=new["VersionId"], RemoveFromVersionId=current)
    assert_denied(rot_sm.get_secret_value, SecretId=names["api-admin"])

    # a change becomes a new default version; old versions are pruned to IAM's five
    arn = [p for p in first.task("policies")["policies"] if p["identity"] == "api-%s" % run][0]["arn"]
    for i in range(5):
        evars["identities"][0]["secrets"] = ["api", "worker"] if i % 2 == 0 else ["api"]
        changed = ansible.playbook(POLICY_PLAY, extra_vars=evars, env=env, canaries=canaries)
        assert actions(changed)["aws/iam_policy/agentarea-secrets-api-%s" % run] == "updated"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5 and [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v6"]
    # the default version is the last one, which grants the worker secret too
    assert api_sm.get_secret_value(SecretId=names["worker"], VersionStage="AWSCURRENT")["SecretString"] == CANARY_A
    assert_denied(api_sm.get_secret_value, SecretId=names["api-admin"])

    gone = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=canaries)
    assert set(actions(gone).values()) == {"deleted"} and not ours()
    assert not iam.list_attached_user_policies(UserName="api-%s" % run)["AttachedPolicies"]
    again = ansible.playbook(POLICY_PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=canaries)
    assert not again.task("policies")["changed"]


# --- the access role ---------------------------------------------------------------------------------------
ACCESS_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: agentarea.secrets.access
"""


def test_access_role(ansible, vault, k8s, tmp_path):
    import hvac
    import hvac.exceptions

    vinfo, admin = vault
    kinfo, rbac, _core = k8s
    run = uid()
    admin.secrets.kv.v2.create_or_update_secret("aa-%s/db" % run, secret={"password": CANARY_A},
                                                mount_point="secret")
    audit_log = tmp_path / "audit.jsonl"
    audit_log.write_text(json.dumps({"time": "2026-01-01T10:00:00Z", "actor": "ci@runner", "action": "read",
                                     "ref": "vault://secret/aa-%s/db" % run, "outcome": "ok"}) + "\n")
    evars = {
        "agentarea_secrets_catalog": [
            {"name": "database", "owner": "platform", "store": "vault://secret/aa-%s/db#password" % run,
             "consumers": [{"k8s": {"namespace": "agentarea", "secret": "aa-%s-db" % run, "key": "url"}}]},
            {"name": "jwt", "owner": "platform", "store": "aws://agentarea/%s/jwt" % run}],
        "access_identities": [
            {"name": "api-%s" % run, "secrets": ["database", "jwt"], "vault": {},
             "k8s": {"service_account": "agentarea-api", "namespace": "agentarea"}, "aws": {"role": "api"}}],
        "access_systems": ["vault", "k8s"],
        "access_vault_audit": True,
        "access_vault_audit_file_path": vinfo["audit_log"],
        "access_audit_log": str(audit_log),
    }
    env = dict(vinfo["env"], **kinfo["env"])
    canaries = [CANARY_A, vinfo["token"], kinfo["token"]]
    name = "agentarea-secrets-api-%s" % run

    check = ansible.playbook(ACCESS_PLAY, extra_vars=evars, env=env, check=True, canaries=canaries)
    assert check.task("agentarea.secrets.access : Write the Vault policies")["changed"]
    assert name not in admin.sys.list_policies()["data"]["policies"]
    first = ansible.playbook(ACCESS_PLAY, extra_vars=evars, env=env, canaries=canaries)
    assert first.task("agentarea.secrets.access : Write the Kubernetes Roles and RoleBindings")["changed"]
    assert rbac.read_namespaced_role(name, "agentarea").rules[0].resource_names == ["aa-%s-db" % run]
    monitoring = first.task("agentarea.secrets.access : Summarise who read which secret")
    assert monitoring["reads"] == 0  # the event is older than the window
    again = ansible.playbook(ACCESS_PLAY, extra_vars=evars, env=env, canaries=canaries)
    assert "changed=0" in again.stdout

    token = admin.auth.token.create(policies=[name], no_default_policy=True, ttl="5m")["auth"]["client_token"]
    api = hvac.Client(url=vinfo["url"], token=token)
    assert api.secrets.kv.v2.read_secret_version("aa-%s/db" % run, mount_point="secret",
                                                 raise_on_deleted_version=True)["data"]["data"]["password"] == CANARY_A

    # review files for all three systems, AWS without credentials (account and region given)
    out_dir = tmp_path / "review"
    review = dict(evars, access_systems=["vault", "k8s", "aws"], access_output_dir=str(out_dir),
                  access_aws_account_id="123456789012", access_aws_region="eu-west-1", access_vault_audit=False,
                  access_audit_log="")
    ansible.playbook(ACCESS_PLAY, extra_vars=review, env={}, canaries=canaries)
    doc = json.loads((out_dir / "aws" / (name + ".json")).read_text())
    assert doc["Statement"][0]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:agentarea/%s/jwt-??????" % run]
    assert sorted(p.name for p in (out_dir / "k8s").iterdir()) == [
        "agentarea.role.%s.json" % name, "agentarea.rolebinding.%s.json" % name]
    assert "changed=0" in ansible.playbook(ACCESS_PLAY, extra_vars=review, env={}, canaries=canaries).stdout

    results = run_leak_suite(ansible, ACCESS_PLAY.replace("  roles:", "  vars: %s\n  roles:" % json.dumps(
        dict(evars, access_state="absent"))), canaries, env=env)
    assert name not in admin.sys.list_policies()["data"]["policies"]
    assert not [r for r in rbac.list_namespaced_role("agentarea").items if r.metadata.name == name]
    assert results[-1].rc == 0
    with pytest.raises(hvac.exceptions.Forbidden):
        api.secrets.kv.v2.read_secret_version("aa-%s/db" % run, mount_point="secret", raise_on_deleted_version=True)
    admin.secrets.kv.v2.delete_metadata_and_all_versions("aa-%s/db" % run, mount_point="secret")
