# -*- coding: utf-8 -*-
"""Kubernetes through ansible-playbook against our fake API server (tests/fakes/): the k8s lookup and k8s://
references in the generic plugins; rollout restart + wait (and a stuck rollout timing out); External Secrets
objects + force-sync; the leak suite over every Kubernetes plugin. k8s_secret itself is test_k8s_secret.py. Every
case runs check -> apply -> apply again (unchanged) -> clean up; state is set up and checked with the kubernetes
SDK (tests/harness/k8s.py)."""

import pytest
from kubernetes.client.rest import ApiException

from tests.harness.k8s import CANARY, CANARY2, CANARY3, NS, decoded, play, sha
from tests.harness.leak import run_leak_suite

pytest_plugins = ["tests.harness.k8s"]  # k8s, uid


# --- lookups and k8s:// references -------------------------------------------------------------------------------
def test_lookup_and_generic_plugins_with_k8s_refs(ansible, k8s, uid):
    name = "refs-" + uid
    k8s["core"].create_namespaced_secret(NS, {"metadata": {"name": name},
                                              "stringData": {"database-url": CANARY, "jwt-secret": CANARY2}})
    tasks = play("""
- name: read
  ansible.builtin.set_fact:
    one: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s', key='database-url') }}"
    whole: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s') }}"
    term_key: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s#jwt-secret') }}"
    ref: "{{ lookup('agentarea.secrets.secret', 'k8s://%(ns)s/%(name)s#database-url') }}"
    skipped: "{{ query('agentarea.secrets.k8s', '%(ns)s/nope-%(uid)s', on_missing='skip') }}"
  no_log: true
- name: check
  ansible.builtin.assert:
    that:
      - one | hash('sha256') == '%(h1)s'
      - term_key | hash('sha256') == '%(h2)s'
      - ref == one and whole['database-url'] == one and whole['jwt-secret'] == term_key
      - skipped == []
    quiet: true
- name: write one key
  agentarea.secrets.secret: {ref: "k8s://%(ns)s/%(name)s#openai-api-key", value: "%(c3)s", tags: {app: agentarea}}
  register: write
- name: info
  agentarea.secrets.secret_info: {ref: "k8s://%(ns)s/%(name)s#openai-api-key"}
  register: info
- name: loop over keys
  ansible.builtin.set_fact:
    fp: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s', key=item) | agentarea.secrets.fingerprint }}"
  loop: [database-url, jwt-secret]
""" % {"ns": NS, "name": name, "uid": uid, "h1": sha(CANARY), "h2": sha(CANARY2), "c3": CANARY3})
    canaries = [CANARY, CANARY2, CANARY3]
    check = ansible.playbook(tasks, env=k8s["env"], check=True, diff=True, canaries=canaries)
    assert check.task("write one key")["changed"] and "openai-api-key" not in decoded(k8s["core"], name)[0]
    first = ansible.playbook(tasks, env=k8s["env"], diff=True, canaries=canaries)
    assert first.task("write one key")["action"] == "created"  # the key is new (the Secret existed)
    data, obj = decoded(k8s["core"], name)
    assert data["openai-api-key"] == CANARY3 and data["database-url"] == CANARY
    assert obj.metadata.labels == {"app": "agentarea"}
    info = first.task("info")
    assert info["exists"] and info["fingerprint"] == first.task("write one key")["fingerprint"]
    assert info["metadata"]["keys"] == ["database-url", "jwt-secret", "openai-api-key"]
    assert info["version"] == obj.metadata.resource_version
    second = ansible.playbook(tasks, env=k8s["env"], canaries=canaries)
    assert not second.task("write one key")["changed"]

    errors = play("""
- name: missing key
  ansible.builtin.debug:
    msg: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s', key='nope') }}"
""" % {"ns": NS, "name": name})
    failed = ansible.playbook(errors, env=k8s["env"], expect_rc=2, canaries=canaries)
    assert "the Secret has no key 'nope' (keys: database-url, jwt-secret, openai-api-key)" in failed.output
    nokube = ansible.playbook(errors, env={"KUBECONFIG": "/nonexistent/kubeconfig"}, expect_rc=2,
                              canaries=canaries)
    assert "the kubeconfig /nonexistent/kubeconfig does not exist" in nokube.output

    # host + bearer token from the kubernetes.core variables (an AWX Kubernetes credential), no kubeconfig
    token = k8s["info"]["token"]
    by_token = play("""
- name: by token
  ansible.builtin.set_fact:
    url: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s', key='database-url') }}"
  no_log: true
- name: check
  ansible.builtin.assert: {that: ["url | hash('sha256') == '%(h1)s'"], quiet: true}
""" % {"ns": NS, "name": name, "h1": sha(CANARY)})
    env = {"K8S_AUTH_HOST": k8s["info"]["url"], "K8S_AUTH_API_KEY": token}
    ansible.playbook(by_token, env=env, verbosity=4, canaries=canaries + [token])
    denied = ansible.playbook(by_token, env=dict(env, K8S_AUTH_API_KEY="wrong-" + token), expect_rc=2, verbosity=4,
                              canaries=canaries + [token])
    assert "HTTP 401; check the credentials and RBAC" in denied.output
    k8s["core"].delete_namespaced_secret(name, NS)


# --- rollout ------------------------------------------------------------------------------------------------------
def _workload(name, replicas=2, stuck=False, env_value="1"):
    tmpl_annotations = {"team": "platform"}
    if stuck:
        tmpl_annotations["fake.agentarea.io/stuck"] = "true"
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}, "annotations": tmpl_annotations},
                                  "spec": {"containers": [{"name": "app", "image": "busybox:1",
                                                           "env": [{"name": "MODE", "value": env_value}]}]}}}}


def test_rollout_restart_waits_and_a_stuck_rollout_times_out(ansible, k8s, uid):
    apps = k8s["apps"]
    names = {"api": "api-" + uid, "worker": "worker-" + uid, "db": "db-" + uid, "agent": "agent-" + uid,
             "stuck": "stuck-" + uid}
    apps.create_namespaced_deployment(NS, _workload(names["api"]))
    apps.create_namespaced_deployment(NS, _workload(names["worker"], replicas=1))
    apps.create_namespaced_stateful_set(NS, _workload(names["db"]))
    ds = _workload(names["agent"])
    ds["spec"].pop("replicas")
    apps.create_namespaced_daemon_set(NS, ds)
    apps.create_namespaced_deployment(NS, _workload(names["stuck"], stuck=True))
    tasks = play("""
- name: deployments
  agentarea.secrets.rollout: {kind: deployment, namespace: %(ns)s, name: ["%(api)s", "%(worker)s"], timeout: 30}
  register: deployments
- name: statefulset
  agentarea.secrets.rollout: {kind: statefulset, namespace: %(ns)s, name: "%(db)s", timeout: 30}
  register: statefulset
- name: daemonset
  agentarea.secrets.rollout: {kind: daemonset, namespace: %(ns)s, name: "%(agent)s", timeout: 30}
  register: daemonset
""" % dict(names, ns=NS))
    gen_before = apps.read_namespaced_deployment(names["api"], NS).metadata.generation
    check = ansible.playbook(tasks, env=k8s["env"], check=True)
    assert check.task("deployments")["restarted"] == ["deployment/%s/%s" % (NS, names["api"]),
                                                      "deployment/%s/%s" % (NS, names["worker"])]
    assert apps.read_namespaced_deployment(names["api"], NS).metadata.generation == gen_before

    run = ansible.playbook(tasks, env=k8s["env"], diff=True)
    dep = run.task("deployments")
    assert dep["changed"] and [w["converged"] for w in dep["workloads"]] == [True, True]
    assert set(dep["durations"]) == {"deployment/%s/%s" % (NS, names["api"]), "deployment/%s/%s" % (NS, names["worker"])}
    assert all(0 <= d < 30 for d in dep["durations"].values())
    api = apps.read_namespaced_deployment(names["api"], NS)
    annotations = api.spec.template.metadata.annotations
    assert annotations["kubectl.kubernetes.io/restartedAt"] == dep["workloads"][0]["restarted_at"]
    # strategic merge patch: the template's other annotations and the container's env are untouched
    assert annotations["team"] == "platform" and api.spec.template.spec.containers[0].env[0].value == "1"
    assert api.metadata.generation == gen_before + 1 and api.status.observed_generation == gen_before + 1
    assert run.task("statefulset")["workloads"][0]["converged"] and run.task("daemonset")["workloads"][0]["converged"]
    again = ansible.playbook(tasks, env=k8s["env"])  # a restart is an action: it happens again, and finishes
    assert apps.read_namespaced_deployment(names["api"], NS).metadata.generation == gen_before + 2
    assert again.task("deployments")["changed"]

    stuck = play("""
- name: stuck
  agentarea.secrets.rollout: {kind: deployment, namespace: %(ns)s, name: ["%(api)s", "%(stuck)s"], timeout: 3}
""" % dict(names, ns=NS))
    failed = ansible.playbook(stuck, env=k8s["env"], expect_rc=2)
    assert "timed out after 3s waiting for deployment %s/%s (1 out of 2 new replicas have been updated)" % (
        NS, names["stuck"]) in failed.output
    res = failed.task("stuck")
    assert [(w["name"], w["converged"]) for w in res["workloads"]] == [(names["api"], True), (names["stuck"], False)]
    missing = play("""
- name: missing
  agentarea.secrets.rollout: {kind: statefulset, namespace: %(ns)s, name: ["%(db)s", "nope-%(uid)s"]}
""" % dict(names, ns=NS, uid=uid))
    gen_db = apps.read_namespaced_stateful_set(names["db"], NS).metadata.generation
    failed = ansible.playbook(missing, env=k8s["env"], expect_rc=2)
    assert 'statefulsets.apps "nope-%s" not found' % uid in failed.output
    assert apps.read_namespaced_stateful_set(names["db"], NS).metadata.generation == gen_db  # nothing restarted
    for kind, name in (("deployment", "api"), ("deployment", "worker"), ("stateful_set", "db"),
                       ("daemon_set", "agent"), ("deployment", "stuck")):
        getattr(apps, "delete_namespaced_%s" % kind)(names[name], NS)


# --- External Secrets -------------------------------------------------------------------------------------------
def test_external_secret_store_objects_and_force_sync(ansible, k8s, uid):
    custom = k8s["custom"]
    store, es = "vault-" + uid, "agentarea-" + uid
    tasks = play("""
- name: vault store and external secret
  agentarea.secrets.external_secret:
    namespace: %(ns)s
    store:
      name: %(store)s
      provider: vault
      server: https://vault.internal:8200
      auth: {kubernetes: {role: agentarea, service_account: external-secrets}}
    name: %(es)s
    data:
      database-url: agentarea/database#url
      jwt-secret: {key: agentarea/jwt, property: secret, version: "3"}
    data_from: [agentarea/openai]
    refresh_interval: 15m
    labels: {app.kubernetes.io/part-of: agentarea}
    wait: true
  register: vault
- name: other providers
  agentarea.secrets.external_secret:
    namespace: %(ns)s
    store: "{{ item }}"
  loop:
    - {name: aws-%(uid)s, provider: aws, region: eu-west-1, auth: {access_key_id: "aws-creds#access-key-id",
       secret_access_key: "aws-creds#secret-access-key"}}
    - {name: azure-%(uid)s, provider: azure, vault_url: "https://agentarea.vault.azure.net", tenant_id: t-1,
       auth_type: ServicePrincipal, auth: {client_id: "azure-creds#client-id", client_secret: "azure-creds#client-secret"}}
    - {name: gcp-%(uid)s, kind: ClusterSecretStore, provider: gcp, project_id: agentarea-prod,
       auth: {credentials: "gcp-creds#key.json"}}
  loop_control: {label: "{{ item.name }}"}
  register: others
""" % {"ns": NS, "store": store, "es": es, "uid": uid})
    env = k8s["env"]
    check = ansible.playbook(tasks, env=env, check=True, diff=True)
    assert check.task("vault store and external secret")["external_secret"]["action"] == "created"
    listed = custom.list_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets")["items"]
    assert all(i["metadata"]["name"] != es for i in listed)

    first = ansible.playbook(tasks, env=env, diff=True)
    res = first.task("vault store and external secret")
    assert res["store"]["action"] == "created" and res["external_secret"]["action"] == "created"
    assert [w["converged"] for w in res["waited"]] == [True, True]
    obj = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets", es)
    assert obj["spec"] == {
        "refreshInterval": "15m", "secretStoreRef": {"name": store, "kind": "SecretStore"},
        "target": {"name": es, "creationPolicy": "Owner"},
        "data": [{"secretKey": "database-url", "remoteRef": {"key": "agentarea/database", "property": "url"}},
                 {"secretKey": "jwt-secret", "remoteRef": {"key": "agentarea/jwt", "property": "secret",
                                                           "version": "3"}}],
        "dataFrom": [{"extract": {"key": "agentarea/openai"}}]}
    assert obj["metadata"]["labels"] == {"app.kubernetes.io/part-of": "agentarea"}
    st = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "secretstores", store)
    assert st["spec"]["provider"] == {"vault": {"server": "https://vault.internal:8200", "path": "secret",
                                                "version": "v2", "auth": {"kubernetes": {
                                                    "mountPath": "kubernetes", "role": "agentarea",
                                                    "serviceAccountRef": {"name": "external-secrets"}}}}}
    aws = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "secretstores", "aws-" + uid)
    assert aws["spec"]["provider"]["aws"] == {"service": "SecretsManager", "region": "eu-west-1", "auth": {
        "secretRef": {"accessKeyIDSecretRef": {"name": "aws-creds", "key": "access-key-id"},
                      "secretAccessKeySecretRef": {"name": "aws-creds", "key": "secret-access-key"}}}}
    azure = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "secretstores", "azure-" + uid)
    assert azure["spec"]["provider"]["azurekv"]["authSecretRef"]["clientSecret"] == {"name": "azure-creds",
                                                                                     "key": "client-secret"}
    gcp = custom.get_cluster_custom_object("external-secrets.io", "v1", "clustersecretstores", "gcp-" + uid)
    assert gcp["spec"]["provider"]["gcpsm"] == {"projectID": "agentarea-prod", "auth": {"secretRef": {
        "secretAccessKeySecretRef": {"name": "gcp-creds", "key": "key.json", "namespace": NS}}}}

    second = ansible.playbook(tasks, env=env, diff=True)
    assert not second.task("vault store and external secret")["changed"]
    assert not second.task("other providers")["changed"]

    sync = play("""
- name: force sync
  agentarea.secrets.external_secret:
    namespace: %(ns)s
    name: %(es)s
    secret_store: %(store)s
    data:
      database-url: agentarea/database#url
      jwt-secret: {key: agentarea/jwt, property: secret, version: "3"}
    data_from: [agentarea/openai]
    refresh_interval: 15m
    force_sync: true
    wait: true
  register: sync
""" % {"ns": NS, "store": store, "es": es})
    before = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets", es)
    assert ansible.playbook(sync, env=env, check=True).task("force sync")["changed"]
    assert "force-sync" not in (custom.get_namespaced_custom_object(
        "external-secrets.io", "v1", NS, "externalsecrets", es)["metadata"].get("annotations") or {})
    res = ansible.playbook(sync, env=env).task("force sync")
    assert res["changed"] and res["external_secret"]["action"] == "none" and res["waited"][0]["converged"]
    after = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets", es)
    assert after["metadata"]["annotations"]["force-sync"] == res["force_synced"]
    assert after["status"]["syncedResourceVersion"] != before["status"]["syncedResourceVersion"]

    cleanup = play("""
- name: remove
  agentarea.secrets.external_secret:
    namespace: %(ns)s
    name: %(es)s
    store: {name: "{{ item.name }}", provider: vault, kind: "{{ item.kind }}"}
    state: absent
  loop:
    - {name: %(store)s, kind: SecretStore}
    - {name: aws-%(uid)s, kind: SecretStore}
    - {name: azure-%(uid)s, kind: SecretStore}
    - {name: gcp-%(uid)s, kind: ClusterSecretStore}
  register: removed
""" % {"ns": NS, "store": store, "es": es, "uid": uid})
    assert ansible.playbook(cleanup, env=env).task("remove")["changed"]
    with pytest.raises(ApiException):
        custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets", es)
    with pytest.raises(ApiException):
        custom.get_cluster_custom_object("external-secrets.io", "v1", "clustersecretstores", "gcp-" + uid)
    assert not ansible.playbook(cleanup, env=env).task("remove")["changed"]


# --- the leak suite -------------------------------------------------------------------------------------------------
def test_k8s_plugins_leak_nothing(ansible, k8s, uid):
    """-vvvv --diff, check mode and JSON results over every Kubernetes plugin, with a failing task and a loop."""
    name = "leak-" + uid
    leak = play("""
- name: write
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(name)s
    data: {password: "{{ c1 }}"}
    from_env_file: app.env
    registry: ghcr.io
    registry_username: bot
    registry_password: "{{ c2 }}"
- name: read it back
  ansible.builtin.set_fact:
    back: "{{ lookup('agentarea.secrets.k8s', '%(ns)s/%(name)s', key='password') }}"
  no_log: true
- name: generic write and info
  agentarea.secrets.secret: {ref: "k8s://%(ns)s/%(name)s-generic#token", value: "{{ c3 }}"}
- name: info
  agentarea.secrets.secret_info: {ref: "k8s://%(ns)s/%(name)s-generic#token"}
- name: a loop (items are names; a value in a loop item would be printed by Ansible itself)
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: "%(name)s-{{ item }}"
    data: {value: "{{ {'a': c1, 'b': c2}[item] }}"}
  loop: [a, b]
- name: rollout of nothing
  agentarea.secrets.rollout: {kind: deployment, namespace: %(ns)s, name: "none-%(uid)s"}
  ignore_errors: true
- name: store and external secret
  agentarea.secrets.external_secret:
    namespace: %(ns)s
    store: {name: "leak-%(uid)s", provider: vault, server: "https://v:8200", auth: {token: "vault-token#token"}}
    name: %(name)s-es
    data: {password: "agentarea/db#password"}
- name: a failing write (no such namespace)
  agentarea.secrets.k8s_secret:
    namespace: nope-%(uid)s
    name: %(name)s
    data: {password: "{{ c1 }}"}
""" % {"ns": NS, "name": name, "uid": uid}, vars_files=["canaries.yml"])
    run_leak_suite(ansible, leak, [CANARY, CANARY2, CANARY3], env=k8s["env"],
                   files={"app.env": "API_TOKEN=%s\n" % CANARY3,
                          "canaries.yml": "c1: %s\nc2: %s\nc3: %s\n" % (CANARY, CANARY2, CANARY3)},
                   expect_rc=2, allowed_files=["app.env", "canaries.yml"])
    for n in (name, name + "-generic", name + "-a", name + "-b"):
        k8s["core"].delete_namespaced_secret(n, NS)
    k8s["custom"].delete_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets", name + "-es")
    k8s["custom"].delete_namespaced_custom_object("external-secrets.io", "v1", NS, "secretstores", "leak-" + uid)
