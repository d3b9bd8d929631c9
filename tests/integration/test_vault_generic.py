# -*- coding: utf-8 -*-
"""Any Vault/OpenBao path through ansible-playbook: the vault_read and vault_list lookups and the vault_read and
vault_write modules against the harness's OpenBao. Transit encrypt -> decrypt with only the named fields coming
back, listing, sys/mounts, an AppRole secret-id issued and used, errors that name the path and the store (missing,
denied, a 400 whose text would echo the request), check mode that writes nothing, and canaries in the request
``data`` that never appear in any output (-vvv included) or registered result. Set-up and checks use hvac."""
import base64
import json

import hvac
import pytest

from tests.harness.vault_helpers import (
    Audit,
    ensure_auth,
    ensure_engine,
    env_for,
    play,
    read_policy,
)

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CANARY = "canary-5be0c1d7-vaultgen"
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()


@pytest.fixture
def transit_key(root, prefix):
    ensure_engine(root, "transit", "transit")
    root.secrets.transit.create_key(prefix)
    yield prefix
    root.secrets.transit.update_key_configuration(prefix, deletion_allowed=True)
    root.secrets.transit.delete_key(prefix)


def test_transit_round_trip_returns_only_the_named_fields(ansible, vault, root, transit_key):
    key = transit_key
    playbook = play("""
        - name: encrypt
          agentarea.secrets.vault_write:
            path: transit/encrypt/%(k)s
            data: {plaintext: "{{ plain_b64 }}"}
            return_fields: [ciphertext]
          changed_when: false
          register: enc
        - name: decrypt
          agentarea.secrets.vault_write:
            path: transit/decrypt/%(k)s
            data: {ciphertext: "{{ enc.data.ciphertext }}"}
            return_fields: [plaintext]
          changed_when: false
          no_log: true
          register: dec
        - name: round trip
          ansible.builtin.assert:
            that: dec.data.plaintext == plain_b64
            quiet: true
        - name: key version (lookup)
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault_read', 'transit/keys/%(k)s', key='latest_version') }}"
        - name: key type (module)
          agentarea.secrets.vault_read:
            path: transit/keys/%(k)s
            return_fields: [type, latest_version]
          register: key_info
        - name: keys (list)
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault_list', 'transit/keys') }}"
        - name: mounts
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault_read', 'sys/mounts') | dict2items | map(attribute='key') | list }}"
    """ % {"k": key})
    # the playbook and the extra-vars file are the only places the canary is written; -vvvv shows module arguments
    result = ansible.playbook(playbook, env=env_for(vault), extra_vars={"plain_b64": CANARY_B64}, verbosity=4,
                              canaries=[CANARY, CANARY_B64])
    enc = result.task("encrypt")
    assert set(enc["data"]) == {"ciphertext"} and enc["data"]["ciphertext"].startswith("vault:v1:")
    assert enc["changed"] is False and enc["path"] == "transit/encrypt/%s" % key
    assert enc["invocation"]["module_args"]["data"] == {"plaintext": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    # what the module returned decrypts (checked with hvac) to the plaintext sent
    back = root.secrets.transit.decrypt_data(key, enc["data"]["ciphertext"])["data"]["plaintext"]
    assert back == CANARY_B64
    assert result.task("round trip")["_status"] == "ok"
    assert result.task("key version (lookup)")["msg"] == 1
    info = result.task("key type (module)")
    assert info["data"] == {"type": "aes256-gcm96", "latest_version": 1} and info["changed"] is False
    assert "keys" in info["fields"] and "name" in info["fields"]
    assert key in result.task("keys (list)")["msg"]
    assert "transit/" in result.task("mounts")["msg"]


def test_approle_secret_id_is_issued_and_works(ansible, vault, root, prefix):
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(prefix, token_policies=["default"], token_ttl="5m")
    role_id = root.auth.approle.read_role_id(prefix)["data"]["role_id"]
    playbook = play("""
        - name: role id
          ansible.builtin.copy:
            content: "{{ lookup('agentarea.secrets.vault_read', 'auth/approle/role/%(p)s/role-id#role_id') }}"
            dest: role_id.txt
            mode: "0600"
        - name: issue
          agentarea.secrets.vault_write:
            path: auth/approle/role/%(p)s/secret-id
            data: {metadata: '{"job": "%(p)s"}'}
            return_fields: [secret_id, secret_id_accessor]
          no_log: true
          register: issued
        - name: keep it for the test
          ansible.builtin.copy: {content: "{{ issued.data.secret_id }} {{ issued.data.secret_id_accessor }}",
                                 dest: secret_id.txt, mode: "0600"}
          no_log: true
        - name: accessors
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault_list', 'auth/approle/role/%(p)s/secret-id') }}"
        - name: the role id, wrapped for a machine to unwrap once
          agentarea.secrets.vault_read:
            path: auth/approle/role/%(p)s/role-id
            wrap_ttl: 5m
            return_fields: [wrap_info.token, wrap_info.ttl]
          no_log: true
          register: wrapped
        - name: keep the wrapping token for the test
          ansible.builtin.copy:
            content: "{{ wrapped.data['wrap_info.token'] }} {{ wrapped.data['wrap_info.ttl'] }} {{ wrapped.data | length }}"
            dest: wrapped.txt
            mode: "0600"
          no_log: true
    """ % {"p": prefix})
    result = ansible.playbook(playbook, env=env_for(vault), verbosity=3, allowed_files=["secret_id.txt"])
    assert (result.workdir / "role_id.txt").read_text() == role_id
    # the wrapped read: the response never held the role id, and the token unwraps to it once
    token, ttl, fields = (result.workdir / "wrapped.txt").read_text().split()
    assert ttl == "300" and fields == "2"
    unwrapped = hvac.Client(url=vault["url"], token=token).sys.unwrap()
    assert unwrapped["data"]["role_id"] == role_id
    secret_id, accessor = (result.workdir / "secret_id.txt").read_text().split()
    # the issued secret ID is nowhere but in the file the play wrote (output, registered results, temp files)
    ansible.assert_no_leak(result, [secret_id], allowed_files=["secret_id.txt"])
    assert secret_id not in json.dumps(result.results)
    assert result.task("issue")["changed"] is True
    client = hvac.Client(url=vault["url"])
    assert client.auth.approle.login(role_id, secret_id)["auth"]["client_token"]
    assert accessor in result.task("accessors")["msg"]


def test_errors_name_the_path_and_the_store_and_never_the_data(ansible, vault, root, prefix, transit_key):
    key = transit_key
    root.sys.create_or_update_policy(prefix, 'path "transit/keys/*" { capabilities = ["read", "list"] }')
    token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
    tasks = {
        "missing lookup": "ansible.builtin.debug: {msg: \"{{ lookup('agentarea.secrets.vault_read', "
                          "'transit/keys/%s-nope') }}\"}" % key,
        "missing skipped": "ansible.builtin.debug: {msg: \"{{ lookup('agentarea.secrets.vault_read', "
                           "'transit/keys/%s-nope', on_missing='skip') | default('none', true) }}\"}" % key,
        "no mount": "ansible.builtin.debug: {msg: \"{{ lookup('agentarea.secrets.vault_list', "
                    "'%s-nomount/keys') }}\"}" % prefix,
        "denied write": "agentarea.secrets.vault_write: {path: transit/encrypt/%s, data: {plaintext: %s},"
                        " return_fields: [ciphertext]}" % (key, CANARY_B64),
        "denied read": "agentarea.secrets.vault_read: {path: sys/auth}",
        "bad request": "agentarea.secrets.vault_write: {path: transit/decrypt/%s, data: {ciphertext: "
                       "'vault:v1:%s'}}" % (key, CANARY),
        "echoing request": "agentarea.secrets.vault_write: {path: sys/mounts/%s-bad, data: {type: %s}}"
                           % (prefix, CANARY),
        "missing field": "agentarea.secrets.vault_write: {path: transit/encrypt/%s, data: {plaintext: %s},"
                         " return_fields: [nope]}" % (key, CANARY_B64),
    }
    text = "\n".join("- name: %s\n  %s\n  ignore_errors: true\n  register: r" % (name, body)
                     for name, body in tasks.items())
    # the denied ones with a token whose policy only reads transit/keys; the rest with root
    env = env_for(vault)
    result = ansible.playbook(play(text), env=env, verbosity=3, canaries=[CANARY, CANARY_B64])
    denied = ansible.playbook(play(text), env=dict(env, VAULT_TOKEN=token), verbosity=3,
                              canaries=[CANARY, CANARY_B64])
    url = vault["url"]

    def failed(res, name, where=True):
        task = res.task(name)
        assert task["_status"] == "failed", task
        assert "Traceback" not in task["msg"] and (url in task["msg"] or not where)
        return task["msg"]

    msg = failed(result, "missing lookup")
    assert "vault 'vault://transit/keys/%s-nope'" % key in msg and "nothing at this path" in msg
    assert result.task("missing skipped")["msg"] == "none"
    msg = failed(result, "no mount")
    assert "%s-nomount/keys" % prefix in msg and "configuration error" in msg
    msg = failed(denied, "denied write")
    assert "vault 'vault://transit/encrypt/%s'" % key in msg and "permission denied" in msg
    msg = failed(denied, "denied read")
    assert "vault 'vault://sys/auth'" in msg and "permission denied" in msg
    msg = failed(result, "bad request")
    assert "HTTP 400" in msg and "transit/decrypt/%s" % key in msg and "invalid ciphertext" in msg
    # Vault's text echoes the engine type sent: kept, with the value cut out
    msg = failed(result, "echoing request")
    assert "HTTP 400" in msg and "sys/mounts/%s-bad" % prefix in msg and "<value>" in msg
    msg = failed(result, "missing field", where=False)
    assert "written, but the response has no field 'nope' (it has: " in msg and "ciphertext" in msg
    assert result.task("missing field")["changed"] is True and result.task("missing field")["data"] == {}


def test_check_mode_writes_nothing_then_the_write_lands(ansible, vault, root, prefix):
    mount = "%s-transit" % prefix
    playbook = play("""
        - name: enable
          agentarea.secrets.vault_write:
            path: sys/mounts/%s
            data: {type: transit, description: "%s"}
          register: enabled
    """ % (mount, CANARY))
    audit = Audit(vault["audit_log"])
    check = ansible.playbook(playbook, env=env_for(vault), check=True, canaries=[CANARY])
    assert check.task("enable")["changed"] is True and check.task("enable")["data"] == {}
    assert mount + "/" not in root.sys.list_mounted_secrets_engines()["data"]
    assert audit.count("sys/mounts/%s" % mount) == 0
    try:
        applied = ansible.playbook(playbook, env=env_for(vault), canaries=[CANARY])
        assert applied.task("enable")["changed"] is True and applied.task("enable")["data"] == {}
        mounts = root.sys.list_mounted_secrets_engines()["data"]
        assert mounts[mount + "/"]["type"] == "transit" and mounts[mount + "/"]["description"] == CANARY
    finally:
        root.sys.disable_secrets_engine(mount)


def test_reads_are_cached_per_run_and_a_write_drops_them(ansible, vault, root, transit_key):
    key = transit_key
    read = """
        - name: read %(n)s
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault_read', 'transit/keys/%(k)s', key='latest_version') }}
                  {{ lookup('agentarea.secrets.vault_list', 'transit/keys') | length }}"
    """
    playbook = play("\n".join([read % {"n": 1, "k": key}, read % {"n": 2, "k": key}, """
        - name: rotate
          agentarea.secrets.vault_write: {path: "transit/keys/%(k)s/rotate"}
    """ % {"k": key}, read % {"n": 3, "k": key}]))
    audit = Audit(vault["audit_log"])
    result = ansible.playbook(playbook, env=env_for(vault), canaries=[CANARY])
    assert result.task("read 1")["msg"].split()[0] == result.task("read 2")["msg"].split()[0] == "1"
    assert result.task("read 3")["msg"].split()[0] == "2"           # the write dropped the cached read
    assert audit.count("transit/keys/%s" % key, "read") == 2        # tasks 1 and 2 share one read
    assert audit.count("transit/keys/", "list") == 2                # Vault logs a list with its slash
    # writes are never cached nor retried: one request
    assert audit.count("transit/keys/%s/rotate" % key) == 1


def test_vault_token_creates_child_orphan_and_wrapped_tokens_into_stores(ansible, vault, root, prefix, tmp_path):
    """community.hashi_vault.vault_token_create, value-free: the token goes to a store, never to the result or the
    output; check mode creates nothing; a store that cannot take it fails before a token exists; a failed write
    revokes the token it made."""
    policy = read_policy(root, prefix, "secret/data/%s/*" % prefix)
    out = tmp_path / "out"
    out.mkdir()
    audit_log = tmp_path / "audit.jsonl"
    playbook = play("""
        - name: check
          agentarea.secrets.vault_token: {policies: ["%(pol)s"], ttl: 1h, dest: "file://%(out)s/checked"}
          check_mode: true
        - name: wrapped write
          agentarea.secrets.vault_write:
            path: auth/token/create
            data: {policies: ["%(pol)s"], ttl: 10m}
            wrap_ttl: 5m
            return_fields: [wrap_info.accessor, wrap_info.ttl]
        - name: child
          agentarea.secrets.vault_token:
            policies: ["%(pol)s"]
            ttl: 1h
            display_name: deploy
            meta: {job: "7"}
            dest: "file://%(out)s/child"
            audit_log: "%(log)s"
        - name: orphan
          agentarea.secrets.vault_token:
            policies: ["%(pol)s"]
            no_default_policy: true
            orphan: true
            num_uses: 5
            dest: "file://%(out)s/orphan"
            keep_token: true
        - name: wrapped
          agentarea.secrets.vault_token: {policies: ["%(pol)s"], ttl: 10m, wrap_ttl: 5m, dest: "file://%(out)s/wrapped"}
        - name: read-only store
          agentarea.secrets.vault_token: {policies: ["%(pol)s"], dest: "env://HOME"}
          ignore_errors: true
        - name: failed write
          agentarea.secrets.vault_token:
            policies: ["%(pol)s"]
            dest: "file://%(out)s/child/not-a-directory"
            audit_log: "%(log)s"
          ignore_errors: true
    """ % {"pol": policy, "out": out, "log": audit_log})
    result = ansible.playbook(playbook, env=env_for(vault), verbosity=3)
    check = result.task("check")
    assert check["changed"] and not (out / "checked").exists() and "accessor" not in check
    # vault_write's wrap_ttl (community.hashi_vault's): the response is wrapped, only the named fields come back
    wrapped_write = result.task("wrapped write")["data"]
    assert sorted(wrapped_write) == ["wrap_info.accessor", "wrap_info.ttl"] and wrapped_write["wrap_info.ttl"] == 300
    child, orphan, wrapped = (result.task(n) for n in ("child", "orphan", "wrapped"))
    tokens = {n: (out / n).read_text().strip() for n in ("child", "orphan", "wrapped")}
    ansible.assert_no_leak(result, list(tokens.values()))
    for task in (child, orphan, wrapped):
        assert task["changed"] and task["fingerprint"].startswith("hmac-sha256:")
        assert not any(t in json.dumps(task) for t in tokens.values())
    assert oct((out / "child").stat().st_mode & 0o777) == "0o600"
    looked = root.auth.token.lookup(tokens["child"])["data"]
    assert looked["accessor"] == child["accessor"] and sorted(looked["policies"]) == sorted(["default", policy])
    assert looked["meta"] == {"job": "7"} and looked["display_name"] == "token-deploy" and not looked["orphan"]
    assert 3500 < child["ttl"] <= 3600 and child["expires"].endswith("Z") and child["orphan"] is False
    looked = root.auth.token.lookup(tokens["orphan"])["data"]
    assert looked["orphan"] and looked["policies"] == [policy] and looked["num_uses"] == 5 and orphan["orphan"]
    assert wrapped["wrapped"] and wrapped["wrap_accessor"] and "accessor" not in wrapped
    unwrapped = hvac.Client(url=vault["url"], token=tokens["wrapped"]).sys.unwrap()["auth"]
    assert policy in unwrapped["policies"] and unwrapped["client_token"] not in result.output
    read_only = result.task("read-only store")
    assert read_only["_status"] == "failed" and "env://HOME" in read_only["msg"]
    failed = result.task("failed write")
    assert failed["_status"] == "failed" and "not-a-directory" in failed["msg"]
    events = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [e["outcome"] for e in events] == ["created", "error"]
    # the token whose write failed was revoked: its accessor is gone
    with pytest.raises(hvac.exceptions.VaultError):
        root.auth.token.lookup_accessor(events[1]["accessor"])
    assert not any(t in audit_log.read_text() for t in tokens.values())
    for name in ("child", "orphan"):
        root.auth.token.revoke(tokens[name])
