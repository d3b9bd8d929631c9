# -*- coding: utf-8 -*-
"""k8s_secret through ansible-playbook against our fake API server (tests/fakes/): from literals, files, env files,
TLS and registry credentials; immutable + append_hash; resourceVersion conflicts retried; strategic merge keeping
other fields. Every case runs check -> apply -> apply again (unchanged) -> clean up; state is set up and checked
with the kubernetes SDK (tests/harness/k8s.py)."""
import base64
import datetime
import hashlib
import json

from tests.harness.k8s import CANARY, CANARY2, CANARY3, NS, decoded, gone, play

pytest_plugins = ["tests.harness.k8s"]  # k8s, uid


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
