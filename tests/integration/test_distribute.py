# -*- coding: utf-8 -*-
"""distribute: store -> Kubernetes Secret keys, .env entries and secret files, with templates and fields; drift in
check mode; restarts of what changed; idempotent; no value in any output."""
import base64
import json

import dotenv
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from tests.harness.leak import run_leak_suite

PASSWORD = "canary-pw-9c1d/@:x"
USER = "agentarea_user"


def test_distribute_to_k8s_env_and_file(ansible, harness, tmp_path):
    k8s = harness.start("k8s")
    store = tmp_path / "store.json"
    store.write_text(json.dumps({"username": USER, "password": PASSWORD}))
    env_file, secret_file = tmp_path / ".env", tmp_path / "secrets" / "db_password.txt"
    env_file.write_text("# app\nKEEP=1\n")
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: push
          agentarea.secrets.distribute:
            name: database
            store: "file://%(store)s"
            kubeconfig: "%(kubeconfig)s"
            restart: true
            restart_timeout: 60
            consumers:
              - k8s: {namespace: agentarea, secret: agentarea-secrets, key: database-url,
                      template: "postgresql://{username}:{password:url}@db:5432/agentarea"}
                restart: [deployment/agentarea-api]
              - env_file: {path: "%(env)s", key: DATABASE_PASSWORD, field: password}
              - file: {path: "%(file)s", field: password, mode: "0400"}
          register: push
    """ % {"store": store, "kubeconfig": k8s["kubeconfig"], "env": env_file, "file": secret_file}

    k8s_config.load_kube_config(config_file=k8s["kubeconfig"])
    apps = k8s_client.AppsV1Api()
    apps.create_namespaced_deployment("agentarea", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agentarea-api"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}},
                              "spec": {"containers": [{"name": "api", "image": "agentarea/api:1"}]}}}})
    generation = apps.read_namespaced_deployment("agentarea-api", "agentarea").metadata.generation
    check = ansible.playbook(play, check=True, diff=True, canaries=[PASSWORD])
    report = check.task("push")
    assert report["changed"] and report["drifted"] == 3
    assert [c["state"] for c in report["consumers"]] == ["missing", "missing", "missing"]
    assert not secret_file.exists()

    first = ansible.playbook(play, diff=True, canaries=[PASSWORD]).task("push")
    assert [c["state"] for c in first["consumers"]] == ["updated"] * 3
    assert first["restarts"] == [{"kind": "deployment", "name": "agentarea-api", "namespace": "agentarea"}]
    assert [w["name"] for w in first["restarted"]] == ["agentarea-api"]
    assert apps.read_namespaced_deployment("agentarea-api", "agentarea").metadata.generation > generation
    data = k8s_client.CoreV1Api().read_namespaced_secret("agentarea-secrets", "agentarea").data
    url = base64.b64decode(data["database-url"]).decode()
    assert url == "postgresql://%s:canary-pw-9c1d%%2F%%40%%3Ax@db:5432/agentarea" % USER
    assert dotenv.dotenv_values(env_file) == {"KEEP": "1", "DATABASE_PASSWORD": PASSWORD}
    assert secret_file.read_text() == PASSWORD and oct(secret_file.stat().st_mode & 0o777) == "0o400"

    second = ansible.playbook(play, canaries=[PASSWORD]).task("push")
    assert not second["changed"] and second["restarts"] == [] and second["drifted"] == 0
    assert "restarted" not in second

    # someone edits the .env by hand: drift is reported in check mode, repaired on apply
    dotenv.set_key(str(env_file), "DATABASE_PASSWORD", "tampered")
    drift = ansible.playbook(play, check=True, canaries=[PASSWORD]).task("push")
    assert [c["state"] for c in drift["consumers"]] == ["in_sync", "drifted", "in_sync"]
    assert drift["restarts"] == []
    run_leak_suite(ansible, play, [PASSWORD])
    assert dotenv.dotenv_values(env_file)["DATABASE_PASSWORD"] == PASSWORD


def test_bad_consumer_names_entry_and_field(ansible, tmp_path):
    store = tmp_path / "store.json"
    store.write_text(json.dumps({"username": USER, "password": PASSWORD}))
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: push
          agentarea.secrets.distribute:
            name: database
            store: "file://%s"
            consumers:
              - env_file: {path: /tmp/x.env, key: URL, template: "{user}:{password}"}
    """ % store
    result = ansible.playbook(play, expect_rc=2, canaries=[PASSWORD])
    assert "catalog entry 'database' consumers[0]: the template names {user}" in result.output
