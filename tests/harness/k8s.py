# -*- coding: utf-8 -*-
"""What the Kubernetes tests share (tests/integration/test_k8s.py, test_k8s_secret.py): the fake API server of
tests/fakes/ started once per module (``k8s``: the SDK clients that set up and check state, independently of the
code under test, and the environment that points the collection at it), a play wrapper and Secret readers."""
import base64
import hashlib
import uuid

import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

CANARY = "canary-4c1e9b77-k8s"
CANARY2 = "canary-d20f6a13-k8s"
CANARY3 = "canary-8e5b0c49-k8s"
NS = "agentarea"


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def play(tasks, vars_files=()):
    head = "- hosts: localhost\n  gather_facts: false\n"
    if vars_files:
        head += "  vars_files: [%s]\n" % ", ".join(vars_files)
    return head + "  tasks:\n" + "\n".join(
        "    " + line if line.strip() else line for line in tasks.strip("\n").splitlines()) + "\n"


@pytest.fixture(scope="module")
def k8s(harness):
    info = harness.start("k8s")
    api = k8s_config.new_client_from_config(config_file=info["kubeconfig"])
    yield {"info": info, "core": k8s_client.CoreV1Api(api), "apps": k8s_client.AppsV1Api(api),
           "custom": k8s_client.CustomObjectsApi(api), "env": {"KUBECONFIG": info["kubeconfig"]}}
    api.close()


@pytest.fixture
def uid():
    return uuid.uuid4().hex[:8]


def decoded(core, name):
    s = core.read_namespaced_secret(name, NS)
    return dict((k, base64.b64decode(v).decode()) for k, v in (s.data or {}).items()), s


def gone(core, name):
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_secret(name, NS)
    return exc.value.status == 404
