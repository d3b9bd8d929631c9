# -*- coding: utf-8 -*-
"""The collection run as AWX runs it: every job template that awx/configure.yml creates, launched through the real
ansible-runner with the environment rendered from the collection's credential types by AWX's rules
(tests/harness/awx.py), the fields users leave empty left empty, extra vars as a launch prompt or the survey
passes them. Each job's status, rc and set_stats are checked, the store is read back with its SDK, and no value
reaches stdout, job_events or any file the job left."""
import hashlib
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import hvac
import pytest
import yaml

from tests.harness import awx
from tests.harness.vault_helpers import ensure_auth

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

REPO = Path(__file__).resolve().parents[2]
FINGERPRINT_KEY = secrets.token_hex(32)


def catalog(prefix, store, app):
    return [{"name": "webhook", "owner": "platform", "purpose": "verifies webhooks", "kind": "static",
             "store": store, "generate": {"kind": "hex", "bits": 256}, "rotation": {"every": "30d"},
             "consumers": [{"env_file": {"path": str(app / ".env"), "key": "WEBHOOK_SECRET"}}], "tags": ["web"]}]


class VaultStore:
    def __init__(self, client, prefix):
        self.client, self.path = client, "%s/webhook" % prefix
        self.ref = "vault://secret/%s#value" % self.path

    def read(self):
        kv = self.client.secrets.kv.v2
        data = kv.read_secret_version(path=self.path, mount_point="secret", raise_on_deleted_version=True)["data"]
        return data["data"]["value"], data["metadata"]["version"]


class AwsStore:
    def __init__(self, client, prefix):
        self.client, self.name = client, "%s/webhook" % prefix
        self.ref = "aws://%s" % self.name

    def read(self):
        # the stage explicitly: moto's get_secret_value without it still returns the value before a promotion
        got = self.client.get_secret_value(SecretId=self.name, VersionStage="AWSCURRENT")
        return got["SecretString"], got["VersionId"]


@pytest.fixture(scope="module")
def aws(harness):
    return harness.start("aws")


def vault_token(vault, root, prefix):
    ctype = awx.credential_type("vault")
    return [("vault", awx.ui_inputs(ctype, url=vault["url"], token=vault["token"]))], [vault["token"]], {}


def vault_approle(vault, root, prefix):
    """AppRole, as an AWX credential created through the API (no token, no namespace, no CA: absent, not empty),
    with a policy limited to the prefix."""
    ensure_auth(root, "approle")
    rules = ['path "secret/data/%s/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }',
             'path "secret/metadata/%s/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }',
             'path "secret/delete/%s/*" { capabilities = ["update"] }',
             'path "secret/undelete/%s/*" { capabilities = ["update"] }',
             'path "secret/destroy/%s/*" { capabilities = ["update"] }']
    root.sys.create_or_update_policy(prefix, "\n".join(r % prefix for r in rules)
                                     + '\npath "sys/internal/ui/mounts/*" { capabilities = ["read"] }\n')
    root.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl="10m", token_max_ttl="20m")
    role_id = root.auth.approle.read_role_id(prefix)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(prefix)["data"]["secret_id"]
    inputs = {"url": vault["url"], "auth_method": "approle", "role_id": role_id, "secret_id": secret_id}
    return [("vault", inputs)], [secret_id], {}


def aws_keys(aws, prefix):
    ctype = awx.credential_type("aws")
    return [("aws", awx.ui_inputs(ctype, access_key=aws["access_key"], secret_key=aws["secret_key"],
                                  endpoint_url=aws["url"]))], [], {}


def aws_role(aws, prefix):
    iam = boto3.client("iam", endpoint_url=aws["url"], region_name=aws["region"],
                       aws_access_key_id=aws["access_key"], aws_secret_access_key=aws["secret_key"])
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, ' \
            '"Action": "sts:AssumeRole"}]}'
    arn = iam.create_role(RoleName=prefix, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    ctype = awx.credential_type("aws")
    return [("aws", awx.ui_inputs(ctype, access_key=aws["access_key"], secret_key=aws["secret_key"],
                                  assume_role_arn=arn, endpoint_url=aws["url"]))], [], {
        # STS is reached the way boto3 finds it (the credential's endpoint is Secrets Manager's): here moto
        # stands in for the public STS endpoint, which the EE would reach without any setting
        "AWS_ENDPOINT_URL_STS": aws["url"]}


class Launcher:
    """Launches the job templates of awx/configure.yml, numbering jobs like AWX and checking each for leaks."""

    def __init__(self, base, collections_path, credentials, canaries, credential_secrets, ee_env=None):
        self.base, self.collections_path, self.ee_env = base, collections_path, ee_env
        self.credentials = credentials + [("fingerprint", {"key": FINGERPRINT_KEY})]
        self.canaries, self.credential_secrets = canaries, credential_secrets + [FINGERPRINT_KEY]
        self.templates = {t["playbook"]: t for t in awx.job_templates()}
        self.launched = set()
        self.count = 0

    def launch(self, playbook, inventory_vars, extra_vars=None, survey_answers=None, expect="successful",
               timeout=300, launch_type="manual"):
        template = self.templates[playbook]
        if template.get("survey"):
            extra_vars = awx.survey_extra_vars(awx.emergency_survey(), survey_answers, extra_vars)
        self.count += 1
        job = awx.run_job(self.base, playbook, self.credentials, extra_vars=extra_vars,
                          inventory_vars=inventory_vars, collections_path=self.collections_path,
                          job_id=self.count, template_name=template["name"], timeout=timeout,
                          launch_type=launch_type, ee_env=self.ee_env)
        self.launched.add(playbook)
        job.assert_no_leak(self.canaries, self.credential_secrets)
        assert job.status == expect, job
        assert (job.rc == 0) == (expect == "successful"), job
        return job


def cycle(launcher, store, prefix, app):
    """provision -> audit -> sync -> scheduled rotate (nothing due) -> rotate by name -> drill -> emergency."""
    inv = {"agentarea_secrets_catalog": catalog(prefix, store.ref, app)}
    canaries = launcher.canaries

    job = launcher.launch("playbooks/provision.yml", inv)
    value, version = store.read()
    canaries.append(value)
    assert job.stats.get("agentarea_secrets_provision") is not None, job
    assert value in (app / ".env").read_text()

    job = launcher.launch("playbooks/audit.yml", inv)
    assert job.stats["agentarea_secrets_audit"]["missing"] == [], job.stats
    assert job.stats["agentarea_secrets_audit"]["compliant"] == 1, job.stats

    job = launcher.launch("playbooks/sync.yml", inv)
    assert "agentarea_secrets_sync" in job.stats, job

    job = launcher.launch("playbooks/rotate.yml", inv, launch_type="scheduled")  # the weekly schedule: nothing due
    assert store.read() == (value, version)
    assert job.stats.get("agentarea_secrets_rotate") == [], job

    # launched with extra vars (ask_variables_on_launch): a named rotation rotates now
    job = launcher.launch("playbooks/rotate.yml", inv, extra_vars={"rotate_names": ["webhook"]})
    rotated, rotated_version = store.read()
    canaries.append(rotated)
    assert rotated != value and rotated_version != version, job
    assert any(line.startswith("webhook | rotated") for line in job.stats["agentarea_secrets_rotate"]), job.stats
    assert rotated in (app / ".env").read_text()

    job = launcher.launch("playbooks/drill.yml", inv)
    assert [r["passed"] for r in job.stats["agentarea_secrets_drill"]] == [True], job.stats
    assert store.read()[0] == rotated

    # emergency, the remaining template, is launched through its survey in the tests below
    assert launcher.launched == set(launcher.templates) - {"playbooks/emergency.yml"}
    return rotated


def provisioned(vault, root, prefix, collections_path, tmp_path):
    credentials, credential_secrets, _ee = vault_token(vault, root, prefix)
    launcher = Launcher(tmp_path, collections_path, credentials, [], credential_secrets)
    store = VaultStore(root, prefix)
    inv = {"agentarea_secrets_catalog": catalog(prefix, store.ref, tmp_path / "app")}
    launcher.launch("playbooks/provision.yml", inv)
    launcher.canaries.append(store.read()[0])
    return launcher, store, inv


@pytest.mark.parametrize("login", [vault_token, vault_approle], ids=["token", "approle"])
def test_vault_jobs(login, vault, root, prefix, collections_path, tmp_path):
    credentials, credential_secrets, _ee = login(vault, root, prefix)
    launcher = Launcher(tmp_path, collections_path, credentials, [], credential_secrets)
    cycle(launcher, VaultStore(root, prefix), prefix, tmp_path / "app")


@pytest.mark.parametrize("login", [aws_keys, aws_role], ids=["keys", "role"])
def test_aws_jobs(login, aws, prefix, collections_path, tmp_path):
    credentials, credential_secrets, ee_env = login(aws, prefix)
    client = boto3.client("secretsmanager", endpoint_url=aws["url"], region_name=aws["region"],
                          aws_access_key_id=aws["access_key"], aws_secret_access_key=aws["secret_key"])
    launcher = Launcher(tmp_path, collections_path, credentials, [], credential_secrets, ee_env)
    cycle(launcher, AwsStore(client, prefix), prefix, tmp_path / "app")


@pytest.mark.parametrize("scope", [{"emergency_names": "webhook"}, {"emergency_tags": "all"}], ids=["names", "all"])
def test_emergency_survey(scope, vault, root, prefix, collections_path, tmp_path):
    """The survey answered the way an operator answers it: YES, names comma-separated and tags left empty (or
    names left empty and the tag 'all' that the survey offers). The rotations run async under ansible-runner's
    private HOME, which is not the password database's home of the user."""
    launcher, store, inv = provisioned(vault, root, prefix, collections_path, tmp_path)
    before = store.read()
    job = launcher.launch("playbooks/emergency.yml", inv, survey_answers=dict(
        scope, emergency_confirm="YES", emergency_incident="INC-1"))
    leaked = store.read()
    launcher.canaries.append(leaked[0])
    job.assert_no_leak(launcher.canaries, launcher.credential_secrets)
    assert leaked[0] != before[0] and leaked[1] != before[1], job
    stats = job.stats.get("agentarea_secrets_emergency")
    assert stats and stats["rotated"] == ["webhook"] and stats["not_rotated"] == [], job
    assert str(stats["consumers_in_sync"]) == "True", stats
    assert leaked[0] in (tmp_path / "app" / ".env").read_text()


def test_emergency_survey_without_confirmation_fails(vault, root, prefix, collections_path, tmp_path):
    """An operator who launches the emergency template without typing YES gets a failed job at once, not a job that
    waits on ansible-runner's pseudo-terminal for an answer nobody can give."""
    launcher, store, inv = provisioned(vault, root, prefix, collections_path, tmp_path)
    before = store.read()
    job = launcher.launch("playbooks/emergency.yml", inv, survey_answers={"emergency_incident": "INC-2"},
                          expect="failed", timeout=120)  # a job killed at its timeout ends "timeout", not "failed"
    assert "Not confirmed: nothing was revoked or rotated" in job.stdout, job
    assert store.read() == before


def test_provision_failure_with_inline_credentials_in_the_target(vault, root, prefix, collections_path, tmp_path):
    """A catalog entry whose target holds inline admin tokens (the register hook's environment and, against the
    advice, its command's arguments, which the module's argument spec cannot know to hide): provision cannot create
    it (the hook fails). The job fails naming the entry and the hook's value-free error; the target reaches neither
    stdout nor job_events (which hold each task's arguments unless the task is no_log), in this job or in the audit
    and sync jobs that describe the same catalog."""
    admin_token, arg_token = "canary-admin-%s" % secrets.token_hex(8), "canary-arg-%s" % secrets.token_hex(8)
    store = VaultStore(root, prefix)
    entry = {"name": "partner-api", "owner": "platform", "purpose": "calls the partner API", "kind": "api_key",
             "store": "vault://secret/%s/partner#value" % prefix,
             "target": {"register": {"command": ["/bin/sh", "-c", "exit 3", "issue-key", "--admin-token", arg_token],
                                     "env": {"ADMIN_TOKEN": admin_token}},
                        "test": {"url": "http://127.0.0.1:9/v1/me?api_key=%s" % admin_token}}}
    credentials, credential_secrets, _ee = vault_token(vault, root, prefix)
    launcher = Launcher(tmp_path, collections_path, credentials, [admin_token, arg_token], credential_secrets)
    inv = {"agentarea_secrets_catalog": [entry]}
    job = launcher.launch("playbooks/provision.yml", inv, expect="failed")
    assert "creating failed for partner-api" in job.stdout, job
    assert "target.register failed: exit code 3" in job.stdout.split("creating failed for partner-api", 1)[1], job
    # the other templates that describe the catalog (audit: the entry is missing; sync: nothing to push)
    job = launcher.launch("playbooks/audit.yml", inv, expect="failed")
    assert job.stats["agentarea_secrets_audit"]["missing"] == ["partner-api"], job.stats
    launcher.launch("playbooks/sync.yml", inv)
    with pytest.raises(hvac.exceptions.InvalidPath):
        store.client.secrets.kv.v2.read_secret_version(path="%s/partner" % prefix, mount_point="secret",
                                                       raise_on_deleted_version=True)


READ_BOTH_WAYS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: lookup
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.secret', '%(ref)s') | hash('sha256') == '%(sha)s'
        quiet: true
    - name: module
      agentarea.secrets.secret_info:
        ref: "%(ref)s"
      register: info
    - name: found
      ansible.builtin.assert:
        that: info.exists
"""


@pytest.mark.parametrize("login", [vault_token, vault_approle, aws_keys, aws_role],
                         ids=["vault-token", "vault-approle", "aws-keys", "aws-role"])
def test_lookups_and_modules_read_with_the_injected_environment(login, request, root, prefix, collections_path,
                                                                tmp_path):
    """A lookup and a module, with nothing but what the credential injects (optional fields empty or absent)."""
    value = "canary-%s" % secrets.token_hex(8)
    if login.__name__.startswith("vault"):
        vault = request.getfixturevalue("vault")
        credentials, credential_secrets, ee_env = login(vault, root, prefix)
        root.secrets.kv.v2.create_or_update_secret(path="%s/webhook" % prefix, secret={"value": value})
        ref = VaultStore(root, prefix).ref
    else:
        aws = request.getfixturevalue("aws")
        credentials, credential_secrets, ee_env = login(aws, prefix)
        boto3.client("secretsmanager", endpoint_url=aws["url"], region_name=aws["region"],
                     aws_access_key_id=aws["access_key"], aws_secret_access_key=aws["secret_key"]).create_secret(
            Name="%s/webhook" % prefix, SecretString=value)
        ref = "aws://%s/webhook" % prefix
    playbook = READ_BOTH_WAYS % {"ref": ref, "sha": hashlib.sha256(value.encode()).hexdigest()}
    job = awx.run_job(tmp_path, "read.yml", credentials + [("fingerprint", {"key": FINGERPRINT_KEY})],
                      collections_path=collections_path, project_files={"read.yml": playbook}, ee_env=ee_env)
    job.assert_no_leak([value], credential_secrets + [FINGERPRINT_KEY])
    assert job.status == "successful" and job.rc == 0, job


READ_THREE_WAYS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: vault lookup
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(path)s', key='value') | hash('sha256') == '%(sha)s'
        quiet: true
""" + READ_BOTH_WAYS.split("tasks:\n", 1)[1]

#: A credential type of a user's own (AWX's Credential Types page), as sites write them for a Vault behind their
#: own CA: every optional field feeds one ANSIBLE_AGENTAREA_SECRETS_* variable, which AWX sets empty when the field
#: is left empty.
SITE_VAULT_TYPE = {
    "name": "Site Vault",
    "kind": "cloud",
    "inputs": {"fields": [{"id": "url", "type": "string", "label": "Vault address"},
                          {"id": "token", "type": "string", "label": "Token", "secret": True},
                          {"id": "vault_namespace", "type": "string", "label": "Namespace"},
                          {"id": "ca_cert", "type": "string", "label": "CA certificate (PEM)", "multiline": True},
                          {"id": "validate_certs", "type": "string", "label": "Verify TLS (empty: verify)"},
                          {"id": "timeout", "type": "string", "label": "Timeout (seconds)"}],
               "required": ["url", "token"]},
    "injectors": {"file": {"template.ca": "{{ ca_cert }}"},
                  "env": {"ANSIBLE_AGENTAREA_SECRETS_VAULT_URL": "{{ url }}",
                          "ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN": "{{ token }}",
                          "ANSIBLE_AGENTAREA_SECRETS_VAULT_NAMESPACE": "{{ vault_namespace }}",
                          "ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT": "{{ tower.filename.ca if ca_cert else '' }}",
                          "ANSIBLE_AGENTAREA_SECRETS_VAULT_VALIDATE_CERTS": "{{ validate_certs }}",
                          "ANSIBLE_AGENTAREA_SECRETS_TIMEOUT": "{{ timeout }}"}},
}


def test_credential_fields_left_empty_are_unset(harness, collections_path, tmp_path):
    """A field left empty injects an empty variable; that is "not set", for the lookups as for the modules.

    The user fills only the address and the token: the CA comes from the execution environment (VAULT_CACERT,
    below the credential), TLS is verified, the timeout is the default. An empty
    ANSIBLE_AGENTAREA_SECRETS_VAULT_VALIDATE_CERTS used to reach the lookups as False (TLS verification off) and an
    empty CA variable hid VAULT_CACERT from them. Without the CA in the environment the same job must then fail in
    the first lookup, on TLS verification."""
    vault = harness.start("vault_tls")
    root = hvac.Client(url=vault["url"], token=vault["token"], verify=vault["ca_cert"])
    prefix = "agentarea-%s" % secrets.token_hex(5)
    value = "canary-%s" % secrets.token_hex(8)
    root.secrets.kv.v2.create_or_update_secret(path="%s/webhook" % prefix, secret={"value": value})
    token = root.auth.token.create(ttl="10m")["auth"]["client_token"]
    inputs = awx.ui_inputs(SITE_VAULT_TYPE, url=vault["url"], token=token)
    ctype = SITE_VAULT_TYPE
    credentials = [(ctype, inputs), ("fingerprint", {"key": FINGERPRINT_KEY})]
    ref = "vault://secret/%s/webhook#value" % prefix
    playbook = READ_THREE_WAYS % {"ref": ref, "path": "%s/webhook" % prefix,
                                  "sha": hashlib.sha256(value.encode()).hexdigest()}

    job = awx.run_job(tmp_path, "read.yml", credentials, collections_path=collections_path, job_id=1,
                      project_files={"read.yml": playbook}, ee_env={"VAULT_CACERT": vault["ca_cert"]})
    env, _args = awx.inject_credential(ctype, inputs, tmp_path / "render")
    for name in ("VAULT_VALIDATE_CERTS", "TIMEOUT", "VAULT_CA_CERT", "VAULT_NAMESPACE"):
        assert env["ANSIBLE_AGENTAREA_SECRETS_" + name] == "", name  # set, and empty
    job.assert_no_leak([value], [token, FINGERPRINT_KEY])
    assert job.status == "successful" and job.rc == 0, job

    job = awx.run_job(tmp_path, "read.yml", credentials, collections_path=collections_path, job_id=2,
                      project_files={"read.yml": playbook})
    job.assert_no_leak([value], [token, FINGERPRINT_KEY])
    assert job.status == "failed", job
    failed = [e for e in job.events if e.get("event") == "runner_on_failed"]
    assert [e["event_data"]["task"] for e in failed] == ["vault lookup"], job
    assert "TLS verification failed" in job.stdout, job


def test_vault_namespace_left_empty_reaches_the_root_namespace(vault, root, prefix, collections_path, tmp_path):
    """The reported bug, end to end: a Vault credential whose Namespace is empty (the usual case). With the field
    named `namespace`, VAULT_NAMESPACE was "<class 'jinja2.utils.Namespace'>" and every entry looked missing."""
    root.secrets.kv.v2.create_or_update_secret(path="%s/webhook" % prefix, secret={"value": "canary-" + prefix})
    credentials, credential_secrets, _ee = vault_token(vault, root, prefix)
    assert credentials[0][1].get("vault_namespace", "") == ""
    launcher = Launcher(tmp_path, collections_path, credentials, ["canary-" + prefix], credential_secrets)
    inv = {"agentarea_secrets_catalog": catalog(prefix, VaultStore(root, prefix).ref, tmp_path / "app")}
    job = launcher.launch("playbooks/audit.yml", inv)
    assert job.stats["agentarea_secrets_audit"]["missing"] == [], job.stats
    assert "missing from its store" not in job.stdout, job


def test_ansible_builder_create(tmp_path):
    """CI builds the execution environment's context the way the definition's header says (``make build``, then
    ansible-builder in awx/); building the image needs its base image from a registry, out of reach here."""
    tree = tmp_path / "repo"
    shutil.copytree(REPO / "awx", tree / "awx")
    for name in ("requirements.txt", "bindep.txt"):
        shutil.copy(REPO / name, tree / name)
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                    str(tree / "dist"), str(REPO)], check=True, capture_output=True, text=True)
    context = tmp_path / "context"
    proc = subprocess.run([str(bin_dir / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c",
                           str(context), "--output-filename", "Containerfile"], capture_output=True, text=True,
                          cwd=str(tree / "awx"), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No matches" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    assert "quay.io/ansible/awx-ee" in containerfile
    build = context / "_build"
    # the collection the EE installs is the one this tree builds, at galaxy.yml's version
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert [c["name"] for c in galaxy["collections"]] == ["collections/agentarea-secrets-%s.tar.gz" % version]
    assert (build / "collections" / ("agentarea-secrets-%s.tar.gz" % version)).is_file()
    python_reqs = (build / "requirements.txt").read_text()
    for sdk in ("hvac", "boto3", "azure-identity", "google-cloud-secret-manager"):
        assert sdk in python_reqs, sdk
    assert (build / "bindep.txt").read_text() == (REPO / "bindep.txt").read_text()
    assert "ansible-runner" in containerfile and "ansible-core" in containerfile
    # the collection's whole range (meta/runtime.yml), the base image's Python choosing the release
    requires = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]
    assert '"ansible-core%s ' % re.sub(r"\.0$", "", requires) in containerfile, containerfile
    assert "ansible-core>=2.17,<" not in containerfile, containerfile
