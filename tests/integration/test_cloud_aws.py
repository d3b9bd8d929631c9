# -*- coding: utf-8 -*-
"""AWS Secrets Manager through ansible-playbook against moto's server: what only AWS has: JSON keys, lookups with
batch reads, staging labels (AWSPENDING, promotion, AWSPREVIOUS, a stale AWSPENDING), missing, denied (moto's IAM
enforcement) and deleted secrets, lazy SDK imports. Module writes (check -> apply -> apply again -> clean up, tags)
and the leak suite are test_cloud_stores.py's, with AWS's differences in cloud_helpers.AwsStore. Set-up and checks
use boto3 directly.

moto differs from the real service in ways the code does not rely on (TESTING.md): after a promotion with
UpdateSecretVersionStage a read *without* VersionStage (and a BatchGetSecretValue) still answers the old version,
and AWSPENDING stays on the promoted version. The backend always names the stage and removes AWSPENDING itself, and
takes a batch answer only when it says AWSCURRENT, so the assertions below hold for both.
"""
import base64
import io
import json
import os
import urllib.request
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
from tests.harness.cloud_helpers import play, prefix, sha  # noqa: F401 pylint: disable=unused-import

CANARY = "canary-3f9d21b7-aws"
CANARY2 = "canary-8c0e77a4-aws"
CANARY3 = "canary-51aa09d2-aws"
ALL = [CANARY, CANARY2, CANARY3]


@pytest.fixture(scope="module")
def aws(harness):
    return harness.start("aws")


def client(info, service="secretsmanager", key=None, secret=None):
    return boto3.client(service, endpoint_url=info["url"], region_name=info["region"],
                        aws_access_key_id=key or info["access_key"], aws_secret_access_key=secret or info["secret_key"])


@pytest.fixture(scope="module")
def sm(aws):
    sm = client(aws)
    # A region that holds no secret at all makes readers fail ("wrong region?", test_faults_cloud.py); moto starts
    # empty, and the check-mode run below reads before anything exists. A real account's region holds secrets.
    try:
        sm.create_secret(Name="agentarea-tests/region-holds-secrets", SecretString="-")
    except ClientError:
        pass  # already there
    return sm


def backend(info):
    """The backend as the rotation engine builds it (its staging-label API has no module of its own yet)."""
    return AwsBackend({"region": info["region"], "endpoint_url": info["url"], "access_key": info["access_key"],
                       "secret_key": info["secret_key"], "timeout": 10}, environ={})


def value(sm, name, stage="AWSCURRENT"):
    return sm.get_secret_value(SecretId=name, VersionStage=stage)["SecretString"]


def stages(sm, name):
    return dict((k, sorted(v)) for k, v in sm.describe_secret(SecretId=name)["VersionIdsToStages"].items())


def test_lookups_json_keys_arns_batches_and_stages(ansible, aws, sm, prefix):
    created = sm.create_secret(Name=prefix + "/database", SecretString=json.dumps({"user": "app", "password": CANARY}))
    sm.put_secret_value(SecretId=prefix + "/database", SecretString=json.dumps({"user": "app", "password": CANARY2}))
    sm.create_secret(Name=prefix + "/token", SecretString=CANARY3)
    sm.create_secret(Name=prefix + "/jwt", SecretString=CANARY)
    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            password: "{{ lookup('agentarea.secrets.aws', '%(p)s/database', key='password') }}"
            whole: "{{ lookup('agentarea.secrets.aws', '%(p)s/database') }}"
            previous: "{{ lookup('agentarea.secrets.aws', '%(p)s/database#password', version_stage='AWSPREVIOUS') }}"
            by_version: "{{ lookup('agentarea.secrets.aws', '%(p)s/database', version_id='%(v1)s', key='password') }}"
            by_arn: "{{ lookup('agentarea.secrets.aws', '%(arn)s', key='password') }}"
            by_ref: "{{ lookup('agentarea.secrets.secret', 'aws://%(p)s/token') }}"
            batch: "{{ query('agentarea.secrets.aws', '%(p)s/token', '%(p)s/jwt', '%(p)s/nope', on_missing='skip') }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - password | hash('sha256') == '%(h2)s'
              - whole.user == 'app' and whole.password | hash('sha256') == '%(h2)s'
              - previous | hash('sha256') == '%(h)s'
              - by_version | hash('sha256') == '%(h)s'
              - by_arn | hash('sha256') == '%(h2)s'
              - by_ref | hash('sha256') == '%(h3)s'
              - batch | map('hash', 'sha256') | list == ['%(h3)s', '%(h)s']
            quiet: true
    """ % {"p": prefix, "arn": created["ARN"], "v1": created["VersionId"], "h": sha(CANARY), "h2": sha(CANARY2),
           "h3": sha(CANARY3)})
    ansible.playbook(reads, env=aws["env"], canaries=ALL)
    # options as lookup arguments instead of the environment; keys from a named profile
    (ansible.home / ".aws").mkdir(exist_ok=True)
    (ansible.home / ".aws" / "credentials").write_text(
        "[agentarea]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    explicit = play("""
        - name: explicit
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.aws', '%(p)s/database', key='password', endpoint_url='%(url)s',
                         region='%(region)s', profile='agentarea') | hash('sha256') == '%(h2)s'
            quiet: true
    """ % {"p": prefix, "url": aws["url"], "region": aws["region"], "h2": sha(CANARY2)})
    ansible.playbook(explicit, canaries=ALL)
    for name in ("database", "token", "jwt"):
        sm.delete_secret(SecretId="%s/%s" % (prefix, name), ForceDeleteWithoutRecovery=True)


def test_bypath_and_nested_lookup_shapes(ansible, aws, sm, prefix):
    """amazon.aws's ``bypath``: one dict of full name to current value of the secrets under a path (not a sibling
    whose name only starts the same); scheduled deletions left out, binary as base64 text, ``key`` picks one name, a
    path holding nothing is missing, stages and versions refused. amazon.aws's ``nested``: a dotted path into the
    JSON, from the term or the key; a missing step names the path. join: one string of text values. With the run
    cache (the broker) and without."""
    app = prefix + "/app/"
    sm.create_secret(Name=app + "db", SecretString=json.dumps({"password": CANARY,
                                                               "replicas": [{"password": CANARY2}]}))
    sm.create_secret(Name=app + "token", SecretString=CANARY2)
    sm.create_secret(Name=app + "blob", SecretBinary=CANARY3.encode())
    sm.create_secret(Name=app + "gone", SecretString=CANARY3)
    sm.delete_secret(SecretId=app + "gone", RecoveryWindowInDays=7)
    sm.create_secret(Name=prefix + "/other", SecretString=CANARY3)
    sm.create_secret(Name=prefix + "/application", SecretString=CANARY3)  # a sibling: not under app/
    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            all: "{{ lookup('agentarea.secrets.aws', '%(app)s', bypath=true) }}"
            via_ref: "{{ lookup('agentarea.secrets.secret', 'aws://%(app)s?bypath=true') }}"
            one: "{{ lookup('agentarea.secrets.aws', '%(app)s', bypath=true, key='%(app)stoken') }}"
            nothing: "{{ query('agentarea.secrets.aws', '%(p)s/nothing/', bypath=true, on_missing='skip') }}"
            deep: "{{ lookup('agentarea.secrets.aws', '%(app)sdb.password', nested=true) }}"
            deep_key: "{{ lookup('agentarea.secrets.aws', '%(app)sdb', key='replicas.0.password', nested=true) }}"
            deep_ref: "{{ lookup('agentarea.secrets.secret', 'aws://%(app)sdb#replicas.0.password?nested=true') }}"
            joined: "{{ lookup('agentarea.secrets.aws', '%(app)stoken', '%(app)sdb#password', join=true) }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - all.keys() | sort == ['%(app)sblob', '%(app)sdb', '%(app)stoken']
              - (all['%(app)sdb'] | from_json).password | hash('sha256') == '%(h)s'
              - all['%(app)stoken'] | hash('sha256') == '%(h2)s'
              - all['%(app)sblob'] | b64decode | hash('sha256') == '%(h3)s'
              - via_ref == all
              - one | hash('sha256') == '%(h2)s'
              - nothing == []
              - deep | hash('sha256') == '%(h)s'
              - deep_key | hash('sha256') == '%(h2)s' and deep_ref == deep_key
              - joined | hash('sha256') == '%(hj)s'
            quiet: true
        - name: join of a JSON object
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.aws', '%(app)stoken', '%(app)sdb', join=true) }}"
          register: join_json
          ignore_errors: true
        - name: a nested step that is not there
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.aws', '%(app)sdb.replicas.3.password', nested=true) }}"
          register: no_step
          ignore_errors: true
        - name: a stage with bypath
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.aws', '%(app)s', bypath=true, version_stage='AWSPREVIOUS') }}"
          register: staged
          ignore_errors: true
        - name: nothing under the prefix
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.aws', '%(p)s/nothing/', bypath=true) }}"
          register: missing
          ignore_errors: true
    """ % {"p": prefix, "app": app, "h": sha(CANARY), "h2": sha(CANARY2), "h3": sha(CANARY3),
           "hj": sha(CANARY2 + CANARY)})
    for run_cache in (True, False):
        run = ansible.playbook(reads, env=aws["env"], canaries=ALL, run_cache=run_cache)
        staged, missing = run.task("a stage with bypath"), run.task("nothing under the prefix")
        assert staged["_status"] == "failed" and "?bypath= reads the current values" in staged["msg"], staged
        assert "aws://%s" % app.rstrip("/") in staged["msg"]
        assert missing["_status"] == "failed" and "no secret under %s/nothing/" % prefix in missing["msg"], missing
        no_step = run.task("a nested step that is not there")
        assert no_step["_status"] == "failed" and "'replicas' has no '3'" in no_step["msg"], no_step
        join_json = run.task("join of a JSON object")
        assert join_json["_status"] == "failed" and "join needs text values, and '%sdb' is a JSON object" % app \
            in join_json["msg"], join_json
        assert "Traceback" not in run.output
    for name in ("db", "token", "blob", "gone"):
        sm.delete_secret(SecretId=app + name, ForceDeleteWithoutRecovery=True)
    for name in ("other", "application"):
        sm.delete_secret(SecretId="%s/%s" % (prefix, name), ForceDeleteWithoutRecovery=True)


def test_staging_labels_pending_promote_previous_and_stale_pending(ansible, aws, sm, prefix):
    name = prefix + "/database"
    first = sm.create_secret(Name=name, SecretString=json.dumps({"user": "app", "password": CANARY}))["VersionId"]
    pending = play("""
        - name: pending
          agentarea.secrets.secret:
            ref: aws://%(p)s#password?stage=AWSPENDING
            value: "%(c2)s"
          register: pending
    """ % {"p": name, "c2": CANARY2})
    env = aws["env"]
    assert ansible.playbook(pending, env=env, check=True, canaries=ALL).task("pending")["changed"]
    assert list(stages(sm, name).values()) == [["AWSCURRENT"]]
    written = ansible.playbook(pending, env=env, canaries=ALL).task("pending")
    assert written["changed"] and written["version"] != first
    assert stages(sm, name) == {first: ["AWSCURRENT"], written["version"]: ["AWSPENDING"]}
    assert json.loads(value(sm, name, "AWSPENDING")) == {"user": "app", "password": CANARY2}  # other fields kept
    assert json.loads(value(sm, name))["password"] == CANARY  # readers still get the current value
    assert not ansible.playbook(pending, env=env, canaries=ALL).task("pending")["changed"]

    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            current: "{{ lookup('agentarea.secrets.aws', '%(p)s', key='password') }}"
            pending: "{{ lookup('agentarea.secrets.aws', '%(p)s', key='password', version_stage='AWSPENDING',
                                on_missing='skip') | default('none', true) }}"
            previous: "{{ lookup('agentarea.secrets.aws', '%(p)s', key='password', version_stage='AWSPREVIOUS',
                                 on_missing='skip') | default('none', true) }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that: "[current | hash('sha256'), pending | hash('sha256'), previous | hash('sha256')] == %(expected)s"
            quiet: true
    """)
    none = sha("none")
    ansible.playbook(reads % {"p": name, "expected": [sha(CANARY), sha(CANARY2), none]}, env=env, canaries=ALL)

    # finish: what the rotation engine calls
    promoted = backend(aws).promote(parse_ref("aws://" + name))
    assert promoted.version == written["version"] and promoted.metadata == {"previous_version": first, "changed": True}
    assert stages(sm, name) == {first: ["AWSPREVIOUS"], written["version"]: ["AWSCURRENT"]}
    assert json.loads(value(sm, name))["password"] == CANARY2
    assert backend(aws).promote(parse_ref("aws://" + name), written["version"]).metadata["changed"] is False
    ansible.playbook(reads % {"p": name, "expected": [sha(CANARY2), none, sha(CANARY)]}, env=env, canaries=ALL)

    # an abandoned rotation left AWSPENDING behind: clear it, current and previous stay
    stale = sm.put_secret_value(SecretId=name, SecretString=CANARY3, VersionStages=["AWSPENDING"])["VersionId"]
    b = backend(aws)
    assert b.pending(parse_ref("aws://" + name)).version == stale
    assert not b.clear_pending(parse_ref("aws://" + name), version_id=first)
    assert b.clear_pending(parse_ref("aws://" + name), version_id=stale)
    assert not any("AWSPENDING" in s for s in stages(sm, name).values())
    assert not b.clear_pending(parse_ref("aws://" + name))
    assert json.loads(value(sm, name))["password"] == CANARY2

    # put_pending with a token is idempotent (a resumed rotation writes the same pending version again)
    token = "00000000-0000-4000-8000-%012d" % int(os.getpid())
    one = b.put_pending(parse_ref("aws://%s#password" % name), CANARY3, token=token)
    two = b.put_pending(parse_ref("aws://%s#password" % name), CANARY3, token=token)
    assert one.version == two.version == token and stages(sm, name)[token] == ["AWSPENDING"]

    info = ansible.playbook(play("""
        - name: info
          agentarea.secrets.secret_info: {ref: "aws://%s"}
          register: info
    """ % name), env=env, canaries=ALL).task("info")
    assert {v["version"]: v["stages"] for v in info["versions"]} == {
        first: ["AWSPREVIOUS"], written["version"]: ["AWSCURRENT"], token: ["AWSPENDING"]}
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_missing_and_deleted_secrets_follow_on_missing_and_on_deleted(ansible, aws, sm, prefix):
    sm.create_secret(Name=prefix + "/old", SecretString=CANARY)
    sm.delete_secret(SecretId=prefix + "/old", RecoveryWindowInDays=7)
    tasks = play("""
        - name: skipped
          ansible.builtin.set_fact:
            got: "{{ query('agentarea.secrets.aws', '%(p)s/nope', '%(p)s/old', on_missing='skip', on_deleted='warn') }}"
        - name: missing
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.aws', '%(p)s/nope') }}"}
          ignore_errors: true
        - name: deleted
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.secret', 'aws://%(p)s/old') }}"}
          ignore_errors: true
        - name: info
          agentarea.secrets.secret_info: {ref: "aws://%(p)s/old"}
          register: info
        - name: recreate
          agentarea.secrets.secret: {ref: "aws://%(p)s/old", value: x}
          ignore_errors: true
        - name: absent again
          agentarea.secrets.secret: {ref: "aws://%(p)s/old", state: absent}
          register: absent
    """ % {"p": prefix})
    result = ansible.playbook(tasks, env=aws["env"], canaries=ALL)
    assert result.task("skipped")["ansible_facts"]["got"] == []
    assert "scheduled for deletion on" in result.output and "(skipped)" in result.output
    assert "'aws://%s/nope': reading: no such secret" % prefix in result.task("missing")["msg"]
    assert "scheduled for deletion" in result.task("deleted")["msg"]
    assert result.task("info")["state"] == "deleted" and not result.task("info")["exists"]
    assert result.task("recreate")["_status"] == "failed" and "restore it" in result.task("recreate")["msg"]
    assert not result.task("absent again")["changed"]
    sm.delete_secret(SecretId=prefix + "/old", ForceDeleteWithoutRecovery=True)


@pytest.fixture
def aws_iam(harness):
    """moto with IAM enforcement. Set-up runs with enforcement off (``/moto-api/reset-auth``), the playbooks with it
    on; the harness's initial allowance is restored afterwards for other tests."""
    info = harness.start("aws_iam")

    def reset_auth(count):
        req = urllib.request.Request(info["url"] + "/moto-api/reset-auth", data=str(count).encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]

    previous = reset_auth("inf")
    info = dict(info, enforce=lambda: reset_auth(0), relax=lambda: reset_auth("inf"))
    try:
        yield info
    finally:
        reset_auth(int(float(previous)))


def test_denied_by_iam(ansible, aws_iam, prefix):
    iam, sm = client(aws_iam, "iam"), client(aws_iam)
    keys = {}
    # moto evaluates IAM policies per action (resource ARNs are not checked): the reader may call GetSecretValue
    # only (not DescribeSecret, not BatchGetSecretValue), the outsider nothing.
    for user, actions in (("reader", ["secretsmanager:GetSecretValue"]), ("outsider", ["sts:GetCallerIdentity"])):
        iam.create_user(UserName=prefix + user)
        iam.put_user_policy(UserName=prefix + user, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        key = iam.create_access_key(UserName=prefix + user)["AccessKey"]
        keys[user] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    for name in ("a", "b"):
        sm.create_secret(Name="%s/%s" % (prefix, name), SecretString=CANARY)
    env = dict(aws_iam["env"])
    tasks = play("""
        - name: read
          ansible.builtin.assert:
            that: "query('agentarea.secrets.aws', '%(p)s/a', '%(p)s/b') | map('hash', 'sha256') | list == ['%(h)s'] * 2"
            quiet: true
        - name: missing
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.aws', '%(p)s/nope', on_missing='skip') | default('ok') }}"}
        - name: info
          agentarea.secrets.secret_info: {ref: "aws://%(p)s/a"}
          register: info
          ignore_errors: true
    """ % {"p": prefix, "h": sha(CANARY)})
    aws_iam["enforce"]()
    # the batch is denied, so each secret is read on its own, which the reader may do
    reader = ansible.playbook(tasks, env=dict(env, **keys["reader"]), canaries=ALL + [keys["reader"]["AWS_SECRET_ACCESS_KEY"]])
    assert reader.task("info")["_status"] == "failed" and reader.task("info")["state"] == "denied"
    assert "access denied" in reader.task("info")["msg"]

    outsider = play("""
        - name: denied
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.aws', '%(p)s/a') }}"}
          ignore_errors: true
        - name: warned
          ansible.builtin.set_fact:
            got: "{{ query('agentarea.secrets.aws', '%(p)s/a', on_denied='warn') }}"
    """ % {"p": prefix})
    result = ansible.playbook(outsider, env=dict(env, **keys["outsider"]), canaries=ALL + [keys["outsider"]["AWS_SECRET_ACCESS_KEY"]])
    assert "'aws://%s/a': reading: access denied" % prefix in result.task("denied")["msg"]
    assert result.task("warned")["ansible_facts"]["got"] == [] and "(skipped)" in result.output
    aws_iam["relax"]()


def test_a_playbook_that_reads_vault_never_imports_the_cloud_sdks(ansible, harness, tmp_path, aws, sm, prefix):
    """Poisoned boto3/botocore/azure/google packages on PYTHONPATH: reading Vault and files still works (nothing
    imports them), while the AWS lookup reports the missing dependency by name."""
    import hvac

    vault = harness.start("vault")
    hvac.Client(url=vault["url"], token=vault["token"]).secrets.kv.v2.create_or_update_secret(
        prefix + "/app", {"password": CANARY})
    poison = tmp_path / "poison"
    marker = tmp_path / "imported"
    for package in ("boto3", "botocore", "azure", "google"):
        (poison / package).mkdir(parents=True)
        (poison / package / "__init__.py").write_text(
            "open(%r, 'a').write(%r)\nraise ImportError('poisoned for the test')\n" % (str(marker), package + "\n"))
    env = {"PYTHONPATH": str(poison), "VAULT_ADDR": vault["url"], "VAULT_TOKEN": vault["token"]}
    env.update(aws["env"])
    reads = play("""
        - name: vault
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/app', key='password') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.secret', 'vault://secret/%(p)s/app#password') | hash('sha256') == '%(h)s'
            quiet: true
        - name: info
          agentarea.secrets.secret_info: {ref: "vault://secret/%(p)s/app#password"}
    """ % {"p": prefix, "h": sha(CANARY)})
    ansible.playbook(reads, env=env, canaries=ALL)
    assert not marker.exists(), marker.read_text()
    aws_read = play("""
        - name: aws
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.aws', 'anything') }}"}
          ignore_errors: true
    """)
    result = ansible.playbook(aws_read, env=env, canaries=ALL)
    assert "the Python package 'boto3' is required" in result.task("aws")["msg"]
    assert set(marker.read_text().split()) == {"boto3"}  # (the run cache may also try to preload it for later tasks)


POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"},
                                                  "Action": "secretsmanager:DeleteSecret", "Resource": "*"}]}


def normalised(text):
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) if text else None


def replicas(sm, name):
    return sorted(r["Region"] for r in sm.describe_secret(SecretId=name).get("ReplicationStatus") or [])


def test_description_resource_policy_and_replicas(ansible, aws, sm, prefix):
    """description, resource_policy (normalised JSON) and replica_regions on create, then alone on an existing secret
    (no new version): check -> apply -> again; a policy written differently but equal changes nothing."""
    name = prefix + "/props"
    task = play("""
        - name: props
          agentarea.secrets.secret:
            ref: aws://%(n)s
            value: "%(c)s"
            description: database credentials
            resource_policy: %(policy)s
            replica_regions: [us-west-2]
          register: props
    """ % {"n": name, "c": CANARY, "policy": json.dumps(POLICY)})
    env = aws["env"]
    checked = ansible.playbook(task, env=env, check=True, diff=True, canaries=ALL).task("props")
    assert checked["changed"] and checked["action"] == "created"
    with pytest.raises(ClientError):
        sm.describe_secret(SecretId=name)
    made = ansible.playbook(task, env=env, canaries=ALL).task("props")
    desc = sm.describe_secret(SecretId=name)
    assert made["changed"] and desc["Description"] == "database credentials" and replicas(sm, name) == ["us-west-2"]
    assert normalised(sm.get_resource_policy(SecretId=name)["ResourcePolicy"]) == normalised(json.dumps(POLICY))
    assert not ansible.playbook(task, env=env, canaries=ALL).task("props")["changed"]
    # the same policy as JSON text with another key order and spacing: unchanged
    reordered = json.dumps(dict(reversed(list(POLICY.items()))), indent=2)
    same = task.replace("resource_policy: %s" % json.dumps(POLICY), "resource_policy: %s" % json.dumps(reordered))
    assert not ansible.playbook(same, env=env, canaries=ALL).task("props")["changed"]

    moved = (task.replace("database credentials", "rotated by the platform team")
             .replace("resource_policy: %s" % json.dumps(POLICY), "resource_policy: {}")
             .replace("[us-west-2]", "[eu-west-1, {region: ap-southeast-2}]"))
    checked = ansible.playbook(moved, env=env, check=True, diff=True, canaries=ALL).task("props")
    assert checked["changed"] and checked["action"] == "tagged"
    after = checked["diff"]["after"]["properties"]
    assert after["description"] == "rotated by the platform team" and after["resource_policy"] is None
    assert after["replica_regions"] == ["ap-southeast-2", "eu-west-1"]
    assert replicas(sm, name) == ["us-west-2"] and sm.describe_secret(SecretId=name)["Description"] == "database credentials"
    applied = ansible.playbook(moved, env=env, canaries=ALL).task("props")
    assert applied["changed"] and applied["action"] == "tagged" and applied["version"] == made["version"]
    desc = sm.describe_secret(SecretId=name)
    assert desc["Description"] == "rotated by the platform team" and replicas(sm, name) == ["ap-southeast-2", "eu-west-1"]
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    assert len(desc["VersionIdsToStages"]) == 1
    assert not ansible.playbook(moved, env=env, canaries=ALL).task("props")["changed"]
    # a new value keeps them
    rotated = ansible.playbook(moved.replace(CANARY, CANARY2), env=env, canaries=ALL).task("props")
    assert rotated["action"] == "updated" and value(sm, name) == CANARY2
    assert replicas(sm, name) == ["ap-southeast-2", "eu-west-1"]
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["ap-southeast-2", "eu-west-1"])
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_binary_secrets_read_and_written_as_base64(ansible, aws, sm, prefix):
    raw, raw2 = (CANARY + "\x00\xff").encode("latin-1"), (CANARY3 + "\x01\xfe").encode("latin-1")
    b64, b64_2 = base64.b64encode(raw).decode(), base64.b64encode(raw2).decode()
    name = prefix + "/blob"
    sm.create_secret(Name=name, SecretBinary=raw)
    reads = play("""
        - name: read
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.aws', '%(n)s', binary_encoding='base64') | hash('sha256') == '%(h)s'
            quiet: true
        - name: write
          agentarea.secrets.secret:
            ref: aws://%(n)s
            value: "%(v)s"
            binary_encoding: base64
          register: write
    """ % {"n": name, "h": sha(b64), "v": b64_2})
    env, canaries = aws["env"], ALL + [b64, b64_2]
    checked = ansible.playbook(reads, env=env, check=True, canaries=canaries).task("write")
    assert checked["changed"] and checked["action"] == "updated"
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == raw
    written = ansible.playbook(reads, env=env, canaries=canaries).task("write")
    got = sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
    assert written["changed"] and got["SecretBinary"] == raw2 and "SecretString" not in got
    assert not ansible.playbook(reads.replace(sha(b64), sha(b64_2)), env=env, canaries=canaries).task("write")["changed"]
    bad = ansible.playbook(play("""
        - name: bad
          agentarea.secrets.secret: {ref: "aws://%s", value: "not base64 %s", binary_encoding: base64}
          ignore_errors: true
    """ % (name, CANARY)), env=env, canaries=canaries).task("bad")
    assert "binary_encoding=base64: the value is not valid base64" in bad["msg"]
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


@pytest.fixture(scope="module")
def rotation_lambda(aws):
    """A Lambda function in moto, invoked without Docker (moto's simple Lambda backend), to point rotation at."""
    urllib.request.urlopen(urllib.request.Request(aws["url"] + "/moto-api/config", method="POST",
                                                  data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                                  headers={"Content-Type": "application/json"}))
    iam = client(aws, "iam")
    role = iam.create_role(RoleName="agentarea-rotator-%s" % os.getpid(), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return None\n")
    fn = client(aws, "lambda").create_function(FunctionName="agentarea-rotator-%s" % os.getpid(), Runtime="python3.12",
                                               Role=role, Handler="index.handler", Code={"ZipFile": buf.getvalue()})
    return fn["FunctionArn"]


def test_lambda_rotation_configuration_and_the_engine_leaves_it_alone(ansible, aws, sm, prefix, rotation_lambda):
    name = prefix + "/lambda-rotated"
    sm.create_secret(Name=name, SecretString=CANARY)
    task = play("""
        - name: rotation
          agentarea.secrets.secret:
            ref: aws://%(n)s
            value: "%(c)s"
            rotation_lambda: "%(fn)s"
            rotation_interval: 30
          register: rotation
    """ % {"n": name, "c": CANARY, "fn": rotation_lambda})
    env = aws["env"]
    checked = ansible.playbook(task, env=env, check=True, diff=True, canaries=ALL).task("rotation")
    assert checked["changed"] and checked["action"] == "tagged"
    assert checked["diff"]["after"]["properties"]["rotation"] == {"lambda": rotation_lambda, "interval": 30}
    assert not sm.describe_secret(SecretId=name).get("RotationEnabled")
    assert ansible.playbook(task, env=env, canaries=ALL).task("rotation")["changed"]
    desc = sm.describe_secret(SecretId=name)
    assert desc["RotationEnabled"] and desc["RotationLambdaARN"] == rotation_lambda
    assert desc["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert value(sm, name) == CANARY
    assert not ansible.playbook(task, env=env, canaries=ALL).task("rotation")["changed"]
    assert ansible.playbook(task.replace("rotation_interval: 30", "rotation_interval: 7"), env=env,
                            canaries=ALL).task("rotation")["changed"]
    assert sm.describe_secret(SecretId=name)["RotationRules"]["AutomaticallyAfterDays"] == 7

    rotate = play("""
        - name: rotate
          agentarea.secrets.rotate: {store: "aws://%(n)s", kind: static}
          ignore_errors: true
    """ % {"n": name})
    for check in (True, False):
        refused = ansible.playbook(rotate, env=env, check=check, canaries=ALL).task("rotate")
        assert refused.get("error") == "InvalidOption" and not refused.get("changed")
        assert "aws://%s is rotated by AWS Secrets Manager with the Lambda function %s" % (name, rotation_lambda) \
            in refused["msg"] and "rotate_lambda_managed: true" in refused["msg"]
    assert value(sm, name) == CANARY
    # DIFF: moto's RotateSecret (RotateImmediately=false) leaves an AWSPENDING copy of the value behind; the real
    # service's testSecret step removes the version it makes. Removed here as the service would have.
    for version, labels in stages(sm, name).items():
        if "AWSPENDING" in labels:
            sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=version)
    told = ansible.playbook(rotate.replace("kind: static}", "kind: static, rotate_lambda_managed: true}"), env=env,
                            check=True, canaries=ALL).task("rotate")
    assert not told.get("error") and told["changed"], told.get("msg")

    off = "".join(line for line in task.replace('"%s"' % rotation_lambda, '""').splitlines(True)
                  if "rotation_interval" not in line)
    assert ansible.playbook(off, env=env, canaries=ALL).task("rotation")["changed"]
    assert not sm.describe_secret(SecretId=name).get("RotationEnabled")
    assert not ansible.playbook(off, env=env, canaries=ALL).task("rotation")["changed"]
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_secret_list_in_a_region(ansible, aws, sm, prefix):
    for i in range(4):
        sm.create_secret(Name="%s/list/%d" % (prefix, i), SecretString=CANARY, Description="n%d" % i,
                         Tags=[{"Key": "team", "Value": "a" if i % 2 else "b"}])
    listed = ansible.playbook(play("""
        - name: list
          agentarea.secrets.secret_list: {store: "aws://", name_prefix: "%(p)s/list/", tags: {team: a}}
        - name: regex
          agentarea.secrets.secret_list: {store: "aws://", name_regex: "^%(p)s/list/[0-2]$"}
    """ % {"p": prefix}), env=aws["env"], check=True, canaries=ALL)
    rows = listed.task("list")["secrets"]
    assert [r["name"] for r in rows] == ["%s/list/1" % prefix, "%s/list/3" % prefix]
    assert rows[0]["description"] == "n1" and rows[0]["tags"] == {"team": "a"} and rows[0]["ref"] == "aws://%s/list/1" % prefix
    assert listed.task("regex")["count"] == 3
    for i in range(4):
        sm.delete_secret(SecretId="%s/list/%d" % (prefix, i), ForceDeleteWithoutRecovery=True)
