# -*- coding: utf-8 -*-
"""Kubernetes through ansible-playbook against our fake API server (tests/fakes/kube_apiserver.py): k8s_secret
from literals, files, env files, TLS and registry credentials; immutable + append_hash; resourceVersion conflicts
retried; strategic merge keeping other fields; the k8s lookup and k8s:// references in the generic plugins;
rollout restart + wait (and a stuck rollout timing out); External Secrets objects + force-sync. Every case runs
check -> apply -> apply again (unchanged) -> clean up; state is set up and checked with the kubernetes SDK."""
import base64
import datetime
import hashlib
import json
import uuid

import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from tests.harness.leak import run_leak_suite

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


# --- k8s_secret: generic ----------------------------------------------------------------------------------------
def test_k8s_secret_literals_files_env_file_check_apply_again_cleanup(ansible, k8s, uid):
    name = "app-" + uid
    files = {"db_password.txt": CANARY2, "conf/a.txt": "alpha", "conf/b.txt": "beta",
             "app.env": "# comment\nAPI_TOKEN=%s\nQUOTED=\"kept\"\n" % CANARY3,
             "compose.env": "export JWT_SECRET='%s' # inline\n" % CANARY3}
    tasks = play("""
- name: secret
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(name)s
    data: {database-url: "postgresql://agentarea:%(c)s@db/agentarea", replicas: 3, enabled: true}
    from_files: [db_password.txt, "openai-api-key=db_password.txt", {path: conf}]
    from_env_file: [app.env]
    labels: {app.kubernetes.io/part-of: agentarea}
    annotations: {owner: platform-team}
  register: secret
- name: dotenv
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(name)s-dotenv
    from_env_file: compose.env
    env_file_format: dotenv
  register: dotenv
""" % {"ns": NS, "name": name, "c": CANARY})
    canaries, allowed = [CANARY, CANARY2, CANARY3], ["db_password.txt", "app.env", "compose.env"]
    env = k8s["env"]
    check = ansible.playbook(tasks, env=env, check=True, diff=True, files=files, canaries=canaries,
                             allowed_files=allowed)
    assert check.task("secret")["changed"] and check.task("secret")["action"] == "created"
    assert gone(k8s["core"], name)

    first = ansible.playbook(tasks, env=env, diff=True, verbosity=4, files=files, canaries=canaries,
                             allowed_files=allowed)
    res = first.task("secret")
    assert res["action"] == "created" and res["type"] == "Opaque"
    assert res["keys"] == sorted(["database-url", "replicas", "enabled", "db_password.txt", "openai-api-key",
                                  "a.txt", "b.txt", "API_TOKEN", "QUOTED"])
    assert all(fp.startswith("hmac-sha256:") for fp in res["fingerprints"].values())
    data, obj = decoded(k8s["core"], name)
    assert data == {"database-url": "postgresql://agentarea:%s@db/agentarea" % CANARY, "replicas": "3",
                    "enabled": "true", "db_password.txt": CANARY2, "openai-api-key": CANARY2, "a.txt": "alpha",
                    "b.txt": "beta", "API_TOKEN": CANARY3, "QUOTED": '"kept"'}  # kubectl keeps quotes
    assert obj.type == "Opaque" and obj.metadata.labels == {"app.kubernetes.io/part-of": "agentarea"}
    assert obj.metadata.annotations == {"owner": "platform-team"}
    assert decoded(k8s["core"], name + "-dotenv")[0] == {"JWT_SECRET": CANARY3}  # compose semantics

    second = ansible.playbook(tasks, env=env, diff=True, files=files, canaries=canaries, allowed_files=allowed)
    assert not second.task("secret")["changed"] and second.task("secret")["action"] == "none"
    assert not second.task("dotenv")["changed"]
    assert k8s["core"].read_namespaced_secret(name, NS).metadata.resource_version == obj.metadata.resource_version

    # Someone else adds a label, an annotation and a key; a partial update keeps all of them (strategic merge).
    foreign = {"metadata": {"labels": {"team": "x"}, "annotations": {"note": "y"}}, "stringData": {"extra": "z"}}
    k8s["core"].patch_namespaced_secret(name, NS, foreign)
    partial = play("""
- name: partial
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(name)s
    data: {replicas: 4}
    purge_keys: false
  register: partial
""" % {"ns": NS, "name": name})
    res = ansible.playbook(partial, env=env, diff=True, canaries=canaries).task("partial")
    assert res["updated_keys"] == ["replicas"] and res["removed_keys"] == [] and res["added_keys"] == []
    data, obj = decoded(k8s["core"], name)
    assert data["replicas"] == "4" and data["extra"] == "z" and data["API_TOKEN"] == CANARY3
    assert obj.metadata.labels["team"] == "x" and obj.metadata.annotations["note"] == "y"
    diff = res["diff"]
    assert diff["before"]["keys"]["replicas"] != diff["after"]["keys"]["replicas"]
    assert set(diff["after"]["keys"]) == set(data)

    # The full description again: the foreign key goes (purge_keys), the foreign label stays.
    again = ansible.playbook(tasks, env=env, files=files, canaries=canaries, allowed_files=allowed)
    assert again.task("secret")["removed_keys"] == ["extra"] and again.task("secret")["updated_keys"] == ["replicas"]
    assert decoded(k8s["core"], name)[1].metadata.labels["team"] == "x"

    cleanup = play("""
- name: remove
  agentarea.secrets.k8s_secret: {namespace: %(ns)s, name: "{{ item }}", state: absent}
  loop: ["%(name)s", "%(name)s-dotenv"]
  register: removed
""" % {"ns": NS, "name": name})
    assert ansible.playbook(cleanup, env=env, check=True).task("remove")["changed"]
    assert decoded(k8s["core"], name)[0]
    ansible.playbook(cleanup, env=env)
    assert gone(k8s["core"], name) and gone(k8s["core"], name + "-dotenv")
    assert not ansible.playbook(cleanup, env=env).task("remove")["changed"]


def _tls_pair(common_name="api.agentarea.test"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_k8s_secret_env_file_errors_name_the_line_never_its_content(ansible, k8s, uid, tmp_path):
    """Issue 12 item 7: an unquoted PEM line in an env file was quoted in the error; a file that is not UTF-8
    crashed the module with a raw UnicodeDecodeError."""
    pem = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC+%s/kq" % CANARY.replace("-", "")
    (tmp_path / "latin1.env").write_bytes(b"A=1\nB=caf\xe9-%s\n" % CANARY2.encode())
    tasks = play("""
- name: pem
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: pem-%(uid)s
    from_env_file: [pem.env]
    env_file_format: "{{ fmt }}"
  register: pem
  ignore_errors: true
- name: latin1
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: latin1-%(uid)s
    from_env_file: ["%(latin1)s"]
    env_file_format: "{{ fmt }}"
  register: latin1
  ignore_errors: true
""" % {"ns": NS, "uid": uid, "latin1": tmp_path / "latin1.env"})
    for fmt in ("kubectl", "dotenv"):
        res = ansible.playbook(tasks, env=k8s["env"], extra_vars={"fmt": fmt}, verbosity=4,
                               files={"pem.env": "OK=1\nTLS_KEY=-----BEGIN PRIVATE KEY-----\n%s\n" % pem},
                               canaries=[pem, pem[:20], CANARY, CANARY2], allowed_files=["pem.env"])
        assert "pem.env: line 3" in res.task("pem")["msg"], res
        assert "latin1.env: line 2 is not UTF-8 text" in res.task("latin1")["msg"], res
        assert "Traceback" not in res.output and "UnicodeDecodeError" not in res.output
    assert gone(k8s["core"], "pem-" + uid) and gone(k8s["core"], "latin1-" + uid)


def test_k8s_secret_tls_and_dockerconfigjson(ansible, k8s, uid):
    cert, key = _tls_pair()
    other_cert, _other_key = _tls_pair("other.test")
    key_canary = key.strip().splitlines()[1]  # a line of the private key must never show up
    tasks = play("""
- name: tls
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: tls-%(uid)s
    tls_cert: "{{ tls_cert }}"
    tls_key: "{{ tls_key }}"
  register: tls
- name: registry
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: pull-%(uid)s
    registry: ghcr.io
    registry_username: agentarea-bot
    registry_password: "%(c)s"
  register: registry
""" % {"ns": NS, "uid": uid, "c": CANARY})
    ev = {"tls_cert": cert, "tls_key": key}
    env = k8s["env"]
    check = ansible.playbook(tasks, env=env, extra_vars=ev, check=True, diff=True, canaries=[CANARY, key_canary])
    assert check.task("tls")["changed"] and gone(k8s["core"], "tls-" + uid)
    first = ansible.playbook(tasks, env=env, extra_vars=ev, diff=True, verbosity=4, canaries=[CANARY, key_canary])
    assert first.task("tls")["type"] == "kubernetes.io/tls" and first.task("tls")["keys"] == ["tls.crt", "tls.key"]
    data, obj = decoded(k8s["core"], "tls-" + uid)
    assert obj.type == "kubernetes.io/tls" and data == {"tls.crt": cert, "tls.key": key}
    data, obj = decoded(k8s["core"], "pull-" + uid)
    assert obj.type == "kubernetes.io/dockerconfigjson"
    auths = json.loads(data[".dockerconfigjson"])["auths"]
    assert auths == {"ghcr.io": {"username": "agentarea-bot", "password": CANARY,
                                 "auth": base64.b64encode(("agentarea-bot:" + CANARY).encode()).decode()}}
    second = ansible.playbook(tasks, env=env, extra_vars=ev, canaries=[CANARY, key_canary])
    assert not second.task("tls")["changed"] and not second.task("registry")["changed"]

    mismatch = play("""
- name: mismatch
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: tls-%(uid)s
    tls_cert: "{{ other_cert }}"
    tls_key: "{{ tls_key }}"
""" % {"ns": NS, "uid": uid})
    failed = ansible.playbook(mismatch, env=env, extra_vars=dict(ev, other_cert=other_cert), expect_rc=2,
                              canaries=[CANARY, key_canary])
    assert "tls_key does not match the public key of tls_cert" in failed.output
    # a type change cannot happen in place: a clear failure, or a recreation with force
    retype = play("""
- name: retype
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: tls-%(uid)s
    data: {plain: value}
    force: "{{ force }}"
  register: retype
""" % {"ns": NS, "uid": uid})
    failed = ansible.playbook(retype, env=env, extra_vars={"force": False}, expect_rc=2)
    assert "its type is kubernetes.io/tls, not Opaque (type cannot change)" in failed.output
    done = ansible.playbook(retype, env=env, extra_vars={"force": True}).task("retype")
    assert done["action"] == "recreated" and k8s["core"].read_namespaced_secret("tls-" + uid, NS).type == "Opaque"
    for n in ("tls-" + uid, "pull-" + uid):
        k8s["core"].delete_namespaced_secret(n, NS)


def test_k8s_secret_immutable_and_append_hash(ansible, k8s, uid):
    base = "hashed-" + uid
    tasks = play("""
- name: hashed
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(base)s
    data: {jwt-secret: "{{ value }}"}
    immutable: true
    append_hash: true
  register: hashed
""" % {"ns": NS, "base": base})
    env = k8s["env"]
    check = ansible.playbook(tasks, env=env, extra_vars={"value": CANARY}, check=True, canaries=[CANARY])
    name1 = check.task("hashed")["name"]
    assert name1.startswith(base + "-") and len(name1) == len(base) + 11 and gone(k8s["core"], name1)
    first = ansible.playbook(tasks, env=env, extra_vars={"value": CANARY}, diff=True, canaries=[CANARY])
    assert first.task("hashed")["name"] == name1 and first.task("hashed")["action"] == "created"
    data, obj = decoded(k8s["core"], name1)
    assert obj.immutable is True and data == {"jwt-secret": CANARY}
    assert obj.metadata.labels == {"agentarea.secrets/name": base}
    # the suffix is a keyed HMAC, not a hash anyone can recompute from a guess
    assert name1[-10:] not in hashlib.sha256(CANARY.encode()).hexdigest()
    assert not ansible.playbook(tasks, env=env, extra_vars={"value": CANARY}).task("hashed")["changed"]

    second = ansible.playbook(tasks, env=env, extra_vars={"value": CANARY2}, canaries=[CANARY, CANARY2])
    name2 = second.task("hashed")["name"]
    assert name2 != name1 and decoded(k8s["core"], name2)[0] == {"jwt-secret": CANARY2}
    assert decoded(k8s["core"], name1)[0] == {"jwt-secret": CANARY}  # pods still rolling may mount the old one

    # an immutable Secret without append_hash cannot take new data: a clear failure
    plain = play("""
- name: frozen
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(name)s
    data: {jwt-secret: "{{ value }}"}
    immutable: true
""" % {"ns": NS, "name": name1})
    failed = ansible.playbook(plain, env=env, extra_vars={"value": CANARY3}, expect_rc=2,
                              canaries=[CANARY, CANARY3])
    assert "it is immutable and its data differs" in failed.output and "append_hash" in failed.output

    cleanup = play("""
- name: remove all hashed
  agentarea.secrets.k8s_secret: {namespace: %(ns)s, name: %(base)s, append_hash: true, state: absent}
  register: removed
""" % {"ns": NS, "base": base})
    res = ansible.playbook(cleanup, env=env).task("remove all hashed")
    assert sorted(res["deleted"]) == sorted([name1, name2])
    assert gone(k8s["core"], name1) and gone(k8s["core"], name2)
    assert not ansible.playbook(cleanup, env=env).task("remove all hashed")["changed"]


def test_k8s_secret_retries_resource_version_conflicts(ansible, k8s, uid):
    name = "busy-" + uid
    # The fake's concurrent-writes annotation makes "someone else" write the Secret right before each of our next
    # two writes, so our patch (carrying the resourceVersion we read) gets a real 409 twice.
    k8s["core"].create_namespaced_secret(NS, {"metadata": {"name": name, "labels": {"owner": "other-team"},
                                                           "annotations": {"fake.agentarea.io/concurrent-writes": "2"}},
                                              "stringData": {"kept": "by-someone-else"}})
    tasks = play("""
- name: update
  agentarea.secrets.k8s_secret:
    namespace: %(ns)s
    name: %(name)s
    data: {token: "%(c)s"}
    labels: {app: agentarea}
    purge_keys: false
  register: update
""" % {"ns": NS, "name": name, "c": CANARY})
    res = ansible.playbook(tasks, env=k8s["env"], diff=True, canaries=[CANARY]).task("update")
    assert res["changed"] and res["conflicts"] == 2 and res["added_keys"] == ["token"]
    data, obj = decoded(k8s["core"], name)
    assert data == {"kept": "by-someone-else", "token": CANARY}
    assert obj.metadata.labels == {"owner": "other-team", "app": "agentarea"}
    assert obj.metadata.annotations["fake.agentarea.io/concurrent-writes"] == "0"
    assert not ansible.playbook(tasks, env=k8s["env"], canaries=[CANARY]).task("update")["changed"]

    # The generic secret module writes with check-and-set: a concurrent change is reported, never overwritten.
    k8s["core"].patch_namespaced_secret(name, NS, {"metadata": {"annotations": {
        "fake.agentarea.io/concurrent-writes": "1"}}})
    cas = play("""
- name: cas
  agentarea.secrets.secret: {ref: "k8s://%(ns)s/%(name)s#token", value: "%(c)s"}
""" % {"ns": NS, "name": name, "c": CANARY2})
    failed = ansible.playbook(cas, env=k8s["env"], expect_rc=2, canaries=[CANARY, CANARY2])
    assert "SecretConflict" in failed.output and "changed since it was read" in failed.output
    assert decoded(k8s["core"], name)[0]["token"] == CANARY
    k8s["core"].delete_namespaced_secret(name, NS)


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
