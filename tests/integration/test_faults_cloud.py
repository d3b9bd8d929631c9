# -*- coding: utf-8 -*-
"""Faults at run time in AWS Secrets Manager and Kubernetes (issue 14), through ansible-playbook: moto behind the
harness's fault proxy (tests/harness/faultproxy.py) throttles a share of the requests, every request, or the batch
reads, answers a batch with a partial error list, or is slower than the configured timeout; an AWS region that holds
no secrets, a kubeconfig context and a namespace that do not exist. Each run either completes correctly (every
value read is the stored one) or fails with a message naming the reference, the store and the cause: never a
"missing" secret that ``on_missing: skip`` hides, never green having done nothing. Set-up and checks use boto3 and
the kubernetes client, never the code under test."""
import json
import time

import boto3
import pytest

from tests.harness.faultproxy import FaultProxy
from tests.harness.cloud_helpers import play, prefix, sha  # noqa: F401 pylint: disable=unused-import

CANARY = "canary-5e1f0b2c-faults-cloud"
CANARIES = [CANARY + "-%d" % i for i in range(6)]
pytest_plugins = ["tests.harness.aws_fixtures"]  # aws, sm

EMPTY_REGION = "eu-north-1"  # moto keeps each region apart: nothing is ever created there

# AWS's own throttling answer (HTTP 400, the error type in the body and in x-amzn-ErrorType)
THROTTLED = {"status": 400, "body_text": json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}),
             "reply_headers": {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ThrottlingException"}}


def amz(operation):
    return {"X-Amz-Target": r"^secretsmanager\.%s$" % operation}


@pytest.fixture
def secrets(sm, prefix):
    """Six secrets holding canaries; names sorted as the batch sends them."""
    names = ["%s/s%d" % (prefix, i) for i in range(len(CANARIES))]
    for name, value in zip(names, CANARIES):
        sm.create_secret(Name=name, SecretString=value)
    yield names
    for name in names:
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


@pytest.fixture
def proxy(aws):
    with FaultProxy(aws["url"]) as p:
        yield p


def env_for(aws, proxy):
    return dict(aws["env"], AWS_ENDPOINT_URL=proxy.url)


def reads(names, options=""):
    """Three single lookups (GetSecretValue each), then one query of every name (batch reads of the others: the
    run cache has the first three)."""
    terms = ", ".join("'%s'" % n for n in names)
    return play("""
        - name: read
          ansible.builtin.set_fact:
            singles:
              - "{{ lookup('agentarea.secrets.aws', '%(n0)s'%(opts)s) }}"
              - "{{ lookup('agentarea.secrets.aws', '%(n1)s'%(opts)s) }}"
              - "{{ lookup('agentarea.secrets.aws', '%(n2)s'%(opts)s) }}"
          no_log: true
        - name: query
          ansible.builtin.set_fact:
            all: "{{ query('agentarea.secrets.aws', %(terms)s%(opts)s) }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - singles | map('hash', 'sha256') | list == %(first)s
              - all | map('hash', 'sha256') | list == %(hashes)s
            quiet: true
    """ % {"n0": names[0], "n1": names[1], "n2": names[2], "terms": terms, "opts": options,
           "first": json.dumps([sha(c) for c in CANARIES[:3]]),
           "hashes": json.dumps([sha(c) for c in CANARIES[:len(names)]])})


def failed(result, task):
    record = result.task(task)
    assert record["_status"] == "failed", record
    return record["msg"]


# -- 1. throttling ----------------------------------------------------------------------------------------------------
def test_throttling_on_a_share_of_requests_is_retried_and_every_value_read(ansible, aws, proxy, secrets):
    get = proxy.add("status", headers=amz("GetSecretValue"), every=2, times=None, **THROTTLED)
    # HTTP 429 with a body that is not AWS's (no error type): botocore's standard mode retries it too
    batch = proxy.add("status", status=429, headers=amz("BatchGetSecretValue"), times=1)
    # retry_mode from AWS_RETRY_MODE (adaptive: the client also slows down while throttled)
    ansible.playbook(reads(secrets), env=dict(env_for(aws, proxy), AWS_RETRY_MODE="adaptive"), canaries=CANARIES)
    assert get.fired >= 1 and batch.fired >= 1, proxy.requests


def test_throttled_on_every_request_fails_naming_reference_and_store(ansible, aws, proxy, secrets):
    proxy.add("status", times=None, **THROTTLED)
    text = play("""
        - name: single
          ansible.builtin.set_fact:
            one: "{{ lookup('agentarea.secrets.aws', '%(n)s', retries=1) }}"
          ignore_errors: true
        - name: skipped
          ansible.builtin.set_fact:
            all: "{{ query('agentarea.secrets.aws', '%(n)s', '%(m)s', retries=1, on_missing='skip') }}"
          ignore_errors: true
        - name: info
          agentarea.secrets.secret_info:
            ref: "aws://%(n)s"
            retries: 0
          ignore_errors: true
    """ % {"n": secrets[0], "m": secrets[1]})
    started = time.monotonic()
    r = ansible.playbook(text, env=env_for(aws, proxy), canaries=CANARIES)
    assert time.monotonic() - started < 90
    for task in ("single", "skipped", "info"):
        msg = failed(r, task)
        assert "throttled by AWS (ThrottlingException, HTTP 400)" in msg and secrets[0] in msg, msg
        assert "aws" in msg and "missing" not in msg, msg
    assert "still after 2 attempt(s)" in failed(r, "single")
    assert "still after 1 attempt(s)" in failed(r, "info")


def test_batch_throttled_is_split_and_a_partial_batch_error_is_read_per_id(ansible, aws, proxy, secrets):
    # every batch that names the last secret is throttled for good: 6 -> 3 + 3 -> the last half splits again
    last = proxy.add("status", headers=amz("BatchGetSecretValue"), body=secrets[-1], times=None, **THROTTLED)
    ansible.playbook(reads(secrets, ", retries=0"), env=env_for(aws, proxy), canaries=CANARIES)
    batches = [r for r in proxy.requests if r[2].startswith("status")]
    assert last.fired == 3, proxy.requests  # [s0..s5], [s3, s4, s5], [s4, s5]; [s5] alone is read with a Get
    assert len(batches) >= 3
    proxy.clear()
    proxy.requests.clear()
    # a batch that answers 200 with every id under Errors (AWS's partial failure): each id is read on its own
    errors = [{"SecretId": n, "ErrorCode": "ThrottlingException", "Message": "Rate exceeded"} for n in secrets]
    partial = proxy.add("status", status=200, headers=amz("BatchGetSecretValue"), times=None,
                        body_text=json.dumps({"SecretValues": [], "Errors": errors}),
                        reply_headers={"Content-Type": "application/x-amz-json-1.1"})
    ansible.playbook(reads(secrets), env=env_for(aws, proxy), canaries=CANARIES)
    assert partial.fired >= 1


# -- 2. an AWS region that holds no secrets ----------------------------------------------------------------------------
def test_a_region_with_no_secrets_is_a_configuration_error_not_missing(ansible, aws, sm, secrets, tmp_path):
    target = tmp_path / "app.env"
    text = play("""
        - name: lookup
          ansible.builtin.set_fact:
            db: "{{ lookup('agentarea.secrets.aws', 'app/db', region='%(r)s') }}"
          ignore_errors: true
        - name: skip
          ansible.builtin.set_fact:
            db: "{{ query('agentarea.secrets.aws', 'app/db', 'app/other', region='%(r)s', on_missing='skip') }}"
          ignore_errors: true
        - name: info
          agentarea.secrets.secret_info:
            ref: aws://app/db
            region: "%(r)s"
          ignore_errors: true
        - name: distribute
          agentarea.secrets.distribute:
            name: database
            store: aws://app/db#password
            region: "%(r)s"
            consumers:
              - env_file: {path: "%(t)s", key: DB_PASSWORD}
          ignore_errors: true
        - name: create-check
          agentarea.secrets.secret:
            ref: aws://app/db
            value: "{{ pw }}"
            region: "%(r)s"
          check_mode: true
          register: create
        - name: populated
          ansible.builtin.set_fact:
            nothing: "{{ query('agentarea.secrets.aws', 'app/db-%(n)s', on_missing='skip') }}"
    """ % {"r": EMPTY_REGION, "t": target, "n": secrets[0].replace("/", "-")})
    r = ansible.playbook(text, extra_vars={"pw": CANARY}, env=aws["env"], canaries=CANARIES + [CANARY])
    for task in ("lookup", "skip", "info", "distribute"):
        msg = failed(r, task)
        assert "region %s at %s holds no secrets at all: wrong region" % (EMPTY_REGION, aws["url"]) in msg, msg
        assert "aws" in msg and "app/db" in msg, msg
    assert not target.exists()
    # the secret module creates the first secret of a region (here only checked), and a populated region still
    # says "missing" for a secret it does not hold, so on_missing applies there
    assert r.task("create-check")["changed"] and r.task("create-check")["action"] == "created"
    assert r.task("populated")["ansible_facts"]["nothing"] == []
    assert sm.list_secrets(MaxResults=1)["SecretList"]  # the default region holds secrets
    empty = boto3.client("secretsmanager", endpoint_url=aws["url"], region_name=EMPTY_REGION,
                         aws_access_key_id=aws["access_key"], aws_secret_access_key=aws["secret_key"])
    assert empty.list_secrets()["SecretList"] == []


# -- 3. Kubernetes: a context and a namespace that do not exist --------------------------------------------------------
@pytest.fixture(scope="module")
def k8s(harness):
    return harness.start("k8s")


def test_k8s_context_and_namespace_that_do_not_exist_are_configuration_errors(ansible, k8s):
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    core = k8s_client.CoreV1Api(k8s_config.new_client_from_config(config_file=k8s["kubeconfig"]))
    text = play("""
        - name: ns-lookup
          ansible.builtin.set_fact:
            x: "{{ lookup('agentarea.secrets.k8s', 'nope-ns/db') }}"
          ignore_errors: true
        - name: ns-skip
          ansible.builtin.set_fact:
            x: "{{ query('agentarea.secrets.k8s', 'nope-ns/db', on_missing='skip') }}"
          ignore_errors: true
        - name: ns-info
          agentarea.secrets.secret_info:
            ref: k8s://nope-ns/db
          ignore_errors: true
        - name: ns-write-check
          agentarea.secrets.k8s_secret:
            namespace: nope-ns
            name: db
            data: {password: "{{ pw }}"}
          check_mode: true
          ignore_errors: true
        - name: ns-absent
          agentarea.secrets.k8s_secret:
            namespace: nope-ns
            name: db
            state: absent
          ignore_errors: true
        - name: ctx-lookup
          ansible.builtin.set_fact:
            x: "{{ query('agentarea.secrets.k8s', 'agentarea/db', context='nope', on_missing='skip') }}"
          ignore_errors: true
        - name: ctx-info
          agentarea.secrets.secret_info:
            ref: k8s://agentarea/db
            context: nope
          ignore_errors: true
    """)
    r = ansible.playbook(text, extra_vars={"pw": CANARY}, env=k8s["env"], canaries=[CANARY])
    for task in ("ns-lookup", "ns-skip", "ns-info", "ns-write-check", "ns-absent"):
        msg = failed(r, task)
        assert "nope-ns" in msg and "does not exist" in msg or 'namespaces "nope-ns" not found' in msg, (task, msg)
        assert "wrong namespace or wrong cluster" in msg and "k8s" in msg, (task, msg)
    for task in ("ns-lookup", "ns-skip", "ns-info"):
        assert "k8s://nope-ns/db" in failed(r, task)
    for task in ("ctx-lookup", "ctx-info"):
        msg = failed(r, task)
        assert "has no context 'nope' (it has: fake): wrong context or wrong kubeconfig?" in msg, (task, msg)
    # (a missing Secret in a namespace that exists stays "missing": test_k8s.py skips one with on_missing)
    assert "nope-ns" not in [n.metadata.name for n in core.list_namespace().items]


# -- 4. a store slower than the timeout -------------------------------------------------------------------------------
def test_slow_store_beyond_the_timeout_fails_in_bounded_time(ansible, aws, proxy, secrets):
    proxy.add("delay", seconds=5, headers=amz("GetSecretValue"), times=None)
    text = play("""
        - name: slow
          ansible.builtin.set_fact:
            one: "{{ lookup('agentarea.secrets.aws', '%(n)s', timeout=1, retries=1) }}"
          ignore_errors: true
    """ % {"n": secrets[0]})
    started = time.monotonic()
    r = ansible.playbook(text, env=env_for(aws, proxy), canaries=CANARIES)
    elapsed = time.monotonic() - started
    msg = failed(r, "slow")
    assert "no answer within 1 s (timeout), 2 attempt(s)" in msg and secrets[0] in msg and "aws" in msg, msg
    assert elapsed < 30, elapsed  # 2 attempts of 1 s and a back-off, plus ansible-playbook's own start
