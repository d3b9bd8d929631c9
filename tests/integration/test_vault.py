# -*- coding: utf-8 -*-
"""Vault/OpenBao KV through ansible-playbook: module writes (check -> apply -> apply again -> clean up), both
lookups, KV v1 and v2, version pinning, check-and-set, delete/undelete/destroy, missing and denied paths,
retries, and the leak suite. Auth methods, namespaces and TLS: test_vault_auth.py; dynamic credentials:
test_vault_dynamic.py."""
import hvac
import pytest

from tests.harness.leak import run_leak_suite
from tests.harness.vault_helpers import (
    Proxy,
    ensure_engine,
    env_for,
    play,
    read_policy,
    sha,
)

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CANARY = "canary-0d41c7e2-vault"
CANARY2 = "canary-93ab51f4-vault"


def kv2(root, path):
    return root.secrets.kv.v2.read_secret_version(path, raise_on_deleted_version=True)["data"]


def test_kv2_module_check_apply_again_lookups_and_cleanup(ansible, vault, root, prefix):
    writes = play("""
        - name: whole
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/database
            value: {url: "postgresql://db:5432/agentarea", password: "%(c)s"}
            tags: {owner: platform-team, rotation: 30d}
          register: whole
        - name: field
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/openai#api_key
            value: "%(c2)s"
          register: field
        - name: info
          agentarea.secrets.secret_info:
            ref: vault://secret/%(p)s/database#password
          register: info
    """ % {"p": prefix, "c": CANARY, "c2": CANARY2})
    env = env_for(vault)
    check = ansible.playbook(writes, env=env, check=True, diff=True, canaries=[CANARY, CANARY2])
    assert check.task("whole")["changed"] and check.task("whole")["action"] == "created"
    assert check.task("field")["changed"] and check.task("info")["state"] == "missing"
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv2(root, prefix + "/database")

    first = ansible.playbook(writes, env=env, diff=True, canaries=[CANARY, CANARY2])
    assert first.task("whole")["version"] == "1" and first.task("field")["action"] == "created"
    data = kv2(root, prefix + "/database")
    assert data["data"] == {"url": "postgresql://db:5432/agentarea", "password": CANARY}
    assert data["metadata"]["custom_metadata"] == {"owner": "platform-team", "rotation": "30d"}
    assert kv2(root, prefix + "/openai")["data"] == {"api_key": CANARY2}
    info = first.task("info")
    assert info["exists"] and info["version"] == "1" and info["metadata"]["tags"]["owner"] == "platform-team"
    assert info["metadata"]["kv_version"] == 2 and info["versions"][0]["state"] == "current"

    again = ansible.playbook(writes, env=env, diff=True, canaries=[CANARY, CANARY2])
    assert not again.task("whole")["changed"] and not again.task("field")["changed"]
    assert root.secrets.kv.v2.read_secret_metadata(prefix + "/database")["data"]["current_version"] == 1
    assert again.task("info")["fingerprint"] == info["fingerprint"]

    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            url: "{{ lookup('agentarea.secrets.vault', '%(p)s/database', key='url') }}"
            whole: "{{ lookup('agentarea.secrets.vault', '%(p)s/database') }}"
            ref_field: "{{ lookup('agentarea.secrets.secret', 'vault://secret/%(p)s/database#password') }}"
            two: "{{ query('agentarea.secrets.vault', '%(p)s/database', '%(p)s/openai', key='api_key',
                           on_missing='skip') }}"
            full_term: "{{ lookup('agentarea.secrets.vault', 'vault://secret/%(p)s/openai#api_key') }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - url == 'postgresql://db:5432/agentarea'
              - whole.password | hash('sha256') == '%(h)s' and whole | length == 2
              - ref_field | hash('sha256') == '%(h)s'
              - two | map('hash', 'sha256') | list == ['%(h2)s']
              - full_term | hash('sha256') == '%(h2)s'
            quiet: true
    """ % {"p": prefix, "h": sha(CANARY), "h2": sha(CANARY2)})
    ansible.playbook(reads, env=env, canaries=[CANARY, CANARY2])

    retag = writes.replace("rotation: 30d", "rotation: 7d")
    tagged = ansible.playbook(retag, env=env, canaries=[CANARY, CANARY2])
    assert tagged.task("whole")["action"] == "tagged"
    meta = root.secrets.kv.v2.read_secret_metadata(prefix + "/database")["data"]
    assert meta["custom_metadata"]["rotation"] == "7d" and meta["current_version"] == 1

    cleanup = play("""
        - name: remove
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/%(name)s
            state: absent
            destroy_versions: [all]
          register: removed
          loop: [database, openai]
          loop_control: {loop_var: name}
    """.replace("%(name)s", "{{ name }}") % {"p": prefix})
    assert ansible.playbook(cleanup, env=env).task("remove")["changed"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_metadata(prefix + "/database")
    assert not ansible.playbook(cleanup, env=env).task("remove")["changed"]


def test_kv1_module_and_lookups(ansible, vault, root, prefix):
    ensure_engine(root, "kv", "kv1", options={"version": "1"})
    writes = play("""
        - name: write
          agentarea.secrets.secret:
            ref: vault://kv1/%(p)s/app#token
            value: "%(c)s"
          register: write
        - name: info
          agentarea.secrets.secret_info:
            ref: vault://kv1/%(p)s/app#token
          register: info
    """ % {"p": prefix, "c": CANARY})
    env = env_for(vault)
    assert ansible.playbook(writes, env=env, check=True, canaries=[CANARY]).task("write")["changed"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v1.read_secret(prefix + "/app", mount_point="kv1")
    first = ansible.playbook(writes, env=env, canaries=[CANARY])
    assert first.task("write")["changed"] and first.task("info")["metadata"]["kv_version"] == 1
    assert first.task("info")["versions"] == []
    assert root.secrets.kv.v1.read_secret(prefix + "/app", mount_point="kv1")["data"] == {"token": CANARY}
    assert not ansible.playbook(writes, env=env, canaries=[CANARY]).task("write")["changed"]

    reads = play("""
        - name: check
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/app', key='token', mount='kv1') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.vault', '%(p)s/app', key='token', mount='kv1', kv_version=1)
                | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.secret', 'vault://kv1/%(p)s/app#token') | hash('sha256') == '%(h)s'
            quiet: true
    """ % {"p": prefix, "h": sha(CANARY)})
    ansible.playbook(reads, env=env, canaries=[CANARY])
    remove = play("""
        - name: remove
          agentarea.secrets.secret: {ref: "vault://kv1/%s/app", state: absent}
    """ % prefix)
    assert ansible.playbook(remove, env=env).task("remove")["changed"]
    assert not ansible.playbook(remove, env=env).task("remove")["changed"]


def test_version_pinning(ansible, vault, root, prefix):
    for value in ("one", "two", CANARY):
        root.secrets.kv.v2.create_or_update_secret(prefix + "/pinned", {"v": value})
    tasks = """
        - name: check
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/pinned', key='v', version=1) == 'one'
              - lookup('agentarea.secrets.secret', 'vault://secret/%(p)s/pinned#v?version=2') == 'two'
              - lookup('agentarea.secrets.vault', '%(p)s/pinned', key='v') | hash('sha256') == '%(h)s'
              - query('agentarea.secrets.vault', '%(p)s/pinned', version=9, on_missing='skip') == []
            quiet: true
        - name: info
          agentarea.secrets.secret_info: {ref: "vault://secret/%(p)s/pinned?version=1"}
          register: info
        - name: missing version
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/pinned', version=9) }}"
    """ % {"p": prefix, "h": sha(CANARY)}
    result = ansible.playbook(play(tasks), env=env_for(vault), canaries=[CANARY], expect_rc=2)
    info = result.task("info")
    assert info["version"] == "1" and [v["state"] for v in info["versions"]] == ["previous", "previous", "current"]
    assert "version 9 does not exist" in result.output and "mount 'secret'" in result.output
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/pinned")


def test_check_and_set_conflict_never_overwrites(ansible, vault, root, prefix):
    """Another writer gets in between the module's read and its write: the write fails, the other value stays."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/cas", {"v": "old"})
    raced = []

    def racer(method, path):
        if method in ("POST", "PUT") and path.startswith("/v1/secret/data/%s/" % prefix) and path not in raced:
            raced.append(path)
            root.secrets.kv.v2.create_or_update_secret(path.split("/data/", 1)[1], {"v": "theirs"})
        return None

    writes = play("""
        - name: update
          agentarea.secrets.secret: {ref: "vault://secret/%(p)s/cas#v", value: "%(c)s"}
          register: update
          ignore_errors: true
        - name: create
          agentarea.secrets.secret: {ref: "vault://secret/%(p)s/new#v", value: "%(c)s"}
          register: create
          ignore_errors: true
    """ % {"p": prefix, "c": CANARY})
    with Proxy(vault["url"], racer) as proxy:
        env = dict(env_for(vault), VAULT_ADDR=proxy.url)
        assert ansible.playbook(writes, env=env, check=True, canaries=[CANARY]).task("update")["changed"]
        result = ansible.playbook(writes, env=env, canaries=[CANARY])
    for name in ("update", "create"):
        task = result.task(name)
        assert task["_status"] == "failed" and task["error"] == "SecretConflict", task
        assert "nothing was written" in task["msg"] and "mount 'secret'" in task["msg"]
    assert kv2(root, prefix + "/cas")["data"] == {"v": "theirs"}
    assert kv2(root, prefix + "/new")["data"] == {"v": "theirs"}
    # without a race the next run writes on top of what it read, and the one after changes nothing
    assert ansible.playbook(writes, env=env_for(vault), canaries=[CANARY]).task("update")["changed"]
    assert not ansible.playbook(writes, env=env_for(vault), canaries=[CANARY]).task("update")["changed"]
    for path in ("cas", "new"):
        root.secrets.kv.v2.delete_metadata_and_all_versions("%s/%s" % (prefix, path))


def test_delete_undelete_destroy(ansible, vault, root, prefix):
    path = prefix + "/lifecycle"
    for value in (CANARY, "second"):
        root.secrets.kv.v2.create_or_update_secret(path, {"v": value})
    env = env_for(vault)
    delete = play("""
        - name: delete
          agentarea.secrets.secret: {ref: "vault://secret/%s", state: absent}
          register: delete
    """ % path)
    assert ansible.playbook(delete, env=env, check=True).task("delete")["changed"]
    assert kv2(root, path)["data"] == {"v": "second"}
    assert ansible.playbook(delete, env=env).task("delete")["changed"]
    assert root.secrets.kv.v2.read_secret_metadata(path)["data"]["versions"]["2"]["deletion_time"]
    assert not ansible.playbook(delete, env=env).task("delete")["changed"]

    read = play("""
        - name: read
          ansible.builtin.debug:
            msg: "{{ query('agentarea.secrets.vault', '%s', key='v', on_deleted=on_deleted) | length }}"
    """ % path)
    failed = ansible.playbook(read, env=env, extra_vars={"on_deleted": "error"}, expect_rc=2)
    assert "version 2 is deleted" in failed.output and "Traceback" not in failed.output
    assert ansible.playbook(read, env=env, extra_vars={"on_deleted": "skip"}).task("read")["msg"] in (0, "0")

    root.secrets.kv.v2.undelete_secret_versions(path, [2])
    assert ansible.playbook(read, env=env, extra_vars={"on_deleted": "error"}).task("read")["msg"] in (1, "1")

    destroy = play("""
        - name: destroy
          agentarea.secrets.secret:
            ref: vault://secret/%s?version=1
            state: absent
            destroy_versions: [1]
          register: destroy
    """ % path)
    assert ansible.playbook(destroy, env=env, check=True, canaries=[CANARY]).task("destroy")["changed"]
    assert not root.secrets.kv.v2.read_secret_metadata(path)["data"]["versions"]["1"]["destroyed"]
    assert ansible.playbook(destroy, env=env, canaries=[CANARY]).task("destroy")["changed"]
    versions = root.secrets.kv.v2.read_secret_metadata(path)["data"]["versions"]
    assert versions["1"]["destroyed"] and not versions["2"]["deletion_time"]
    assert not ansible.playbook(destroy, env=env, canaries=[CANARY]).task("destroy")["changed"]
    pinned = play("""
        - name: read
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault', '%s', version=1) }}"
    """ % path)
    assert "version 1 is destroyed" in ansible.playbook(pinned, env=env, canaries=[CANARY], expect_rc=2).output
    root.secrets.kv.v2.delete_metadata_and_all_versions(path)


@pytest.mark.parametrize("policy,expect_rc,expected", [("error", 2, "no secret at this path"),
                                                       ("warn", 0, "(skipped)"), ("skip", 0, None)])
def test_missing_path_under_each_on_missing(ansible, vault, root, prefix, policy, expect_rc, expected):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/here", {"v": CANARY})
    tasks = """
        - name: read
          ansible.builtin.set_fact:
            found: "{{ query('agentarea.secrets.vault', '%(p)s/here', '%(p)s/gone', key='v', on_missing='%(o)s') }}"
            via_ref: "{{ query('agentarea.secrets.secret', 'vault://secret/%(p)s/gone#v', on_missing='%(o)s') }}"
          no_log: true
        - name: count
          ansible.builtin.assert: {that: [found | length == 1, via_ref | length == 0], quiet: true}
    """ % {"p": prefix, "o": policy}
    result = ansible.playbook(play(tasks), env=env_for(vault), canaries=[CANARY], expect_rc=expect_rc)
    if expected:
        assert expected in result.output and "path '%s/gone'" % prefix in result.output
    if policy == "skip":
        assert "gone" not in result.output
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/here")


def test_denied_path(ansible, vault, root, prefix):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/allowed", {"v": "ok"})
    root.secrets.kv.v2.create_or_update_secret(prefix + "/denied", {"v": CANARY})
    read_policy(root, prefix, "secret/data/%s/allowed" % prefix, deny=["secret/data/%s/denied" % prefix])
    token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
    tasks = """
        - name: skip
          ansible.builtin.assert:
            that: query('agentarea.secrets.vault', '%(p)s/allowed', '%(p)s/denied', key='v', on_denied='skip') == ['ok']
            quiet: true
        - name: info
          agentarea.secrets.secret_info: {ref: "vault://secret/%(p)s/denied"}
          register: info
          ignore_errors: true
        - name: write
          agentarea.secrets.secret: {ref: "vault://secret/%(p)s/denied#v", value: changed}
          register: write
          ignore_errors: true
        - name: error
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/denied', key='v') }}"}
    """ % {"p": prefix}
    result = ansible.playbook(play(tasks), env=dict(env_for(vault), VAULT_TOKEN=token), canaries=[CANARY, token],
                              expect_rc=2, verbosity=4)
    assert result.task("info")["state"] == "denied" and result.task("write")["error"] == "SecretAccessDenied"
    assert "permission denied (read, mount 'secret', path '%s/denied', root namespace, auth token" % prefix \
        in result.output
    assert kv2(root, prefix + "/denied")["data"] == {"v": CANARY}
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/allowed")
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/denied")


def test_retries_with_back_off_then_a_clear_error_and_proxies(ansible, vault, root, prefix):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/flaky", {"v": "ok"})
    answered = []

    def flaky(method, path):
        if path.startswith("/v1/secret/data/%s/flaky" % prefix) and len(answered) < 2:
            answered.append(path)
            return 503, {"errors": ["Vault is sealed"]}
        return None

    tasks = """
        - name: read
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%s/flaky', key='v', retries=retries) == 'ok'
    """ % prefix
    with Proxy(vault["url"], flaky) as proxy:
        env = dict(env_for(vault), VAULT_ADDR=proxy.url)
        ansible.playbook(play(tasks), env=env, extra_vars={"retries": 2})
        assert len(answered) == 2
        answered.clear()
        failed = ansible.playbook(play(tasks), env=env, extra_vars={"retries": 0}, expect_rc=2)
    assert "Vault is sealed (HTTP 503)" in failed.output and "path '%s/flaky'" % prefix in failed.output
    closed = ansible.playbook(play(tasks), env=dict(env_for(vault), VAULT_ADDR="http://127.0.0.1:9"),
                              extra_vars={"retries": 1}, expect_rc=2)
    assert "cannot reach Vault" in closed.output and "http://127.0.0.1:9" in closed.output

    seen = []
    proxied = play("""
        - name: through a proxy
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%s/flaky', key='v', proxies=proxy) == 'ok'
    """ % prefix)
    with Proxy(vault["url"], lambda method, path: seen.append(path)) as forward:
        ansible.playbook(proxied, env=env_for(vault), extra_vars={"proxy": forward.url})
    assert any(p.startswith(vault["url"] + "/v1/secret/data/%s/flaky" % prefix) for p in seen), seen
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/flaky")


def test_leak_suite_every_vault_plugin(ansible, vault, root, prefix):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/app", {"password": CANARY, "url": "postgresql://db"})
    tasks = """
        - name: lookups
          ansible.builtin.set_fact:
            a: "{{ lookup('agentarea.secrets.vault', '%(p)s/app', key='password') }}"
            b: "{{ lookup('agentarea.secrets.secret', 'vault://secret/%(p)s/app') }}"
          no_log: true
        - name: loop
          ansible.builtin.assert: {that: item | length > 0, quiet: true}
          loop: "{{ query('agentarea.secrets.vault', '%(p)s/app', '%(p)s/app', key='password') }}"
          loop_control: {label: password}
          no_log: true
        - name: write
          agentarea.secrets.secret: {ref: "vault://secret/%(p)s/written#token", value: "{{ new_token }}"}
        - name: info
          agentarea.secrets.secret_info: {ref: "vault://secret/%(p)s/written#token"}
        - name: failing module
          agentarea.secrets.secret: {ref: "vault://secret/%(p)s/app?version=1", value: "{{ new_token }}"}
          ignore_errors: true
        - name: failing lookup
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/app', key='nope') }}"}
          ignore_errors: true
    """ % {"p": prefix}
    playbook = play(tasks, vars_="new_token: %s" % CANARY2)  # the playbook file itself is not scanned
    results = run_leak_suite(ansible, playbook, [CANARY, CANARY2, vault["token"]], env=env_for(vault))
    assert "the secret has no key 'nope' (keys: password, url)" in results[0].output
    assert kv2(root, prefix + "/written")["data"] == {"token": CANARY2}
    for path in ("app", "written"):
        root.secrets.kv.v2.delete_metadata_and_all_versions("%s/%s" % (prefix, path))
