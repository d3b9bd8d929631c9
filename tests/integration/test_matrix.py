# -*- coding: utf-8 -*-
"""The controller matrix's scenarios: option handling and lookups, compact enough to run under every ansible-core
release line the collection claims (`make matrix` runs this file with each line's ansible-playbook through
AGENTAREA_ANSIBLE_BIN; in `make test` it runs under the main venv's ansible-core like every other test).

Vault lookups with a token and with AppRole, the `secret` lookup over vault:// and aws://, the local dotenv, file
and env lookups, the `secret` and `secret_info` modules on localhost, options from keywords, variables and the
environment in their documented order, and variables that are templates (as group_vars hold them). Set-up and
checks use hvac and boto3; canaries must appear in no output."""
import json

import hvac
import pytest

from tests.harness.ansible_runner import ANSIBLE_PYTHON, VENV_BIN
from tests.harness.vault_helpers import Audit, ensure_auth, env_for, play, read_policy, sha
from tests.unit.plugins.plugin_utils.test_lookup_config import check_loader_skips_the_parse

pytest_plugins = ["tests.harness.vault_fixtures", "tests.harness.aws_fixtures"]  # vault, root, prefix; aws, sm

CANARY = "canary-6a1f0c93-matrix"
CANARY2 = "canary-e27b4d58-matrix"
OPTION = "ansible_agentarea_secrets_vault_"


def approle(root, prefix):
    """A policy that reads the test's paths and an AppRole that holds it: (role_id, secret_id)."""
    read_policy(root, prefix, "secret/data/%s/*" % prefix)
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl="5m", token_max_ttl="10m")
    return (root.auth.approle.read_role_id(prefix)["data"]["role_id"],
            root.auth.approle.generate_secret_id(prefix)["data"]["secret_id"])


def test_vault_lookups_token_approle_and_option_precedence(ansible, vault, root, prefix):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", {"password": CANARY, "user": "agentarea"})
    role_id, secret_id = approle(root, prefix)
    token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
    reads = play("""
        - name: token from the environment, vault and secret lookups
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/db', key='password') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.secret', 'vault://secret/%(p)s/db#user') == 'agentarea'
              - lookup('agentarea.secrets.vault', '%(p)s/db').password | hash('sha256') == '%(h)s'
              - query('agentarea.secrets.secret', 'vault://secret/%(p)s/db#user', 'vault://secret/%(p)s/nope',
                      on_missing='skip') == ['agentarea']
            quiet: true
        - name: approle from variables
          vars:
            %(o)sauth_method: approle
            %(o)srole_id: "%(role_id)s"
            %(o)ssecret_id: "%(secret_id)s"
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/db', key='password') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.secret', 'vault://secret/%(p)s/db#password') | hash('sha256') == '%(h)s'
            quiet: true
        - name: keywords above variables, variables above the environment
          vars:
            %(o)surl: http://127.0.0.1:9
            %(o)stoken: not-a-token
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/db', key='user', url='%(url)s', auth_method='approle',
                       role_id='%(role_id)s', secret_id='%(secret_id)s') == 'agentarea'
            quiet: true
    """ % {"p": prefix, "h": sha(CANARY), "o": OPTION, "role_id": role_id, "secret_id": secret_id,
           "url": vault["url"]})
    audit = Audit(vault["audit_log"])
    env = dict(env_for(vault, token=False), VAULT_TOKEN=token)
    ansible.playbook(reads, env=env, canaries=[CANARY, secret_id, token])
    # the run cache (the callback, the broker) works under this core: one login per identity, one read per reference
    assert audit.count("auth/approle/login") == 1
    assert audit.count("secret/data/%s/db" % prefix) == 2  # one per identity (token, approle)
    assert audit.count("auth/token/revoke-self") == 1

    bad = play("""
        - name: a wrong secret_id is one clear error
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='user', auth_method='approle',
                     role_id='%(role_id)s', secret_id='wrong-' ~ '%(tail)s') }}"
    """ % {"p": prefix, "role_id": role_id, "tail": secret_id[-6:]})
    failed = ansible.playbook(bad, env=env_for(vault, token=False), expect_rc=2, canaries=[CANARY, secret_id])
    assert "invalid role_id or secret_id" in failed.output and "Traceback" not in failed.output, failed


def test_templated_variables_reach_lookups_rendered(ansible, vault, root, aws, sm, prefix):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", {"password": CANARY})
    sm.create_secret(Name=prefix + "/api", SecretString=json.dumps({"key": CANARY2}))
    role_id, secret_id = approle(root, prefix)
    reads = play("""
        - name: options that are templates, as group_vars hold them
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/db', key='password') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.secret', 'aws://%(p)s/api#key') | hash('sha256') == '%(h2)s'
              - lookup('agentarea.secrets.aws', '%(p)s/api', key='key') | hash('sha256') == '%(h2)s'
            quiet: true
    """ % {"p": prefix, "h": sha(CANARY), "h2": sha(CANARY2)}, vars_="""
        %(o)surl: "{{ lookup('ansible.builtin.env', 'MATRIX_VAULT_URL') }}"
        %(o)sauth_method: "{{ vault_auth }}"
        %(o)srole_id: "{{ vault_role_id }}"
        %(o)ssecret_id: "{{ vault_secret_id }}"
        vault_auth: approle
        ansible_agentarea_secrets_aws_endpoint_url: "{{ aws_url }}"
        ansible_agentarea_secrets_aws_region: "{{ aws_region | default('us-east-1') }}"
        ansible_agentarea_secrets_aws_access_key: "{{ aws_keys.id }}"
        ansible_agentarea_secrets_aws_secret_key: "{{ aws_keys.secret }}"
    """ % {"o": OPTION})
    extra = {"vault_role_id": role_id, "vault_secret_id": secret_id, "aws_url": aws["url"],
             "aws_keys": {"id": aws["access_key"], "secret": aws["secret_key"]}}
    ansible.playbook(reads, extra_vars=extra, env={"MATRIX_VAULT_URL": vault["url"]},
                     canaries=[CANARY, CANARY2, secret_id])
    sm.delete_secret(SecretId=prefix + "/api", ForceDeleteWithoutRecovery=True)


def test_secret_lookup_over_aws(ansible, aws, sm, prefix):
    sm.create_secret(Name=prefix + "/api", SecretString=json.dumps({"key": CANARY, "user": "agentarea"}))
    sm.create_secret(Name=prefix + "/plain", SecretString=CANARY2)
    reads = play("""
        - name: read
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.secret', 'aws://%(p)s/api#key') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.secret', 'aws://%(p)s/plain') | hash('sha256') == '%(h2)s'
              - lookup('agentarea.secrets.aws', '%(p)s/api').user == 'agentarea'
              - query('agentarea.secrets.aws', '%(p)s/api', '%(p)s/missing', key='user', on_missing='skip')
                == ['agentarea']
            quiet: true
        - name: a missing secret fails naming it
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.secret', 'aws://%(p)s/missing') }}"
          ignore_errors: true
          register: missing
        - name: check the error
          ansible.builtin.assert:
            that: missing is failed and '%(p)s/missing' in missing.msg
    """ % {"p": prefix, "h": sha(CANARY), "h2": sha(CANARY2)})
    ansible.playbook(reads, env=aws["env"], canaries=[CANARY, CANARY2])
    for name in ("api", "plain"):
        sm.delete_secret(SecretId="%s/%s" % (prefix, name), ForceDeleteWithoutRecovery=True)


def test_local_lookups(ansible):
    files = {
        ".env.local": 'export DATABASE_URL="postgresql://agentarea:%s@db/agentarea" # main db\n'
                      "JSON_SECRET='{\"password\": \"%s\"}'\n" % (CANARY, CANARY2),
        "secrets/db_password.txt": CANARY + "\n",
        "secrets/api.json": '{"key": "%s"}' % CANARY2,
    }
    reads = play("""
        - name: read
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.dotenv', 'DATABASE_URL', file='.env.local') | hash('sha256') == '%(url)s'
              - (lookup('agentarea.secrets.secret', 'dotenv://.env.local#JSON_SECRET') | from_json).password
                | hash('sha256') == '%(h2)s'
              - lookup('agentarea.secrets.file', 'secrets/db_password.txt') | hash('sha256') == '%(h)s'
              - lookup('agentarea.secrets.file', 'secrets/api.json', key='key') | hash('sha256') == '%(h2)s'
              - lookup('agentarea.secrets.secret', 'file://secrets/api.json').key | hash('sha256') == '%(h2)s'
              - lookup('agentarea.secrets.env', 'APP_TOKEN') | hash('sha256') == '%(h2)s'
              - lookup('agentarea.secrets.env', 'DB_PASSWORD') | hash('sha256') == '%(h)s'
              - query('agentarea.secrets.secret', 'env://APP_TOKEN', 'env://NOPE', on_missing='skip') | length == 1
              - query('agentarea.secrets.env', 'NOPE', 'APP_TOKEN', on_missing=missing_policy) | length == 1
            quiet: true
        - name: controller
          ansible.builtin.debug:
            msg: "{{ ansible_playbook_python }}"
    """ % {"h": sha(CANARY), "h2": sha(CANARY2), "url": sha("postgresql://agentarea:%s@db/agentarea" % CANARY)},
        vars_="missing_policy: skip")
    result = ansible.playbook(reads, env={"APP_TOKEN": CANARY2, "DB_PASSWORD_FILE": "secrets/db_password.txt"},
                              files=files, canaries=[CANARY, CANARY2],
                              allowed_files=[".env.local", "secrets/db_password.txt", "secrets/api.json"])
    # the run used the ansible-core under test (make matrix: the release line's venv)
    assert result.task("controller")["msg"].startswith(str(VENV_BIN.parent)), result.task("controller")


def test_modules_secret_and_secret_info_check_apply_again_cleanup(ansible, vault, root, prefix):
    writes = play("""
        - name: write
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/app
            value: {password: "%(c)s", user: agentarea}
            tags: {owner: platform-team}
          register: write
        - name: info
          agentarea.secrets.secret_info:
            ref: vault://secret/%(p)s/app#password
          register: info
    """ % {"p": prefix, "c": CANARY})
    env = env_for(vault)
    check = ansible.playbook(writes, env=env, check=True, diff=True, canaries=[CANARY])
    assert check.task("write")["changed"] and check.task("info")["state"] == "missing"
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version(prefix + "/app", raise_on_deleted_version=True)

    first = ansible.playbook(writes, env=env, diff=True, canaries=[CANARY])
    assert first.task("write")["changed"] and first.task("write")["version"] == "1"
    data = root.secrets.kv.v2.read_secret_version(prefix + "/app", raise_on_deleted_version=True)["data"]
    assert data["data"] == {"password": CANARY, "user": "agentarea"}
    info = first.task("info")
    assert info["exists"] and info["version"] == "1" and info["metadata"]["tags"] == {"owner": "platform-team"}

    again = ansible.playbook(writes, env=env, diff=True, canaries=[CANARY])
    assert not again.task("write")["changed"] and again.task("info")["fingerprint"] == info["fingerprint"]

    cleanup = play("""
        - name: remove
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/app
            state: absent
            destroy_versions: [all]
          register: removed
        - name: interpreter
          ansible.builtin.setup:
            gather_subset: ["!all", "!min", python]
    """ % {"p": prefix})
    removed = ansible.playbook(cleanup, env=env)
    assert removed.task("remove")["changed"]
    # modules ran with the interpreter under test (make matrix: the release line's venv python)
    assert removed.task("interpreter")["ansible_facts"]["ansible_python"]["executable"] == ANSIBLE_PYTHON
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_metadata(prefix + "/app")


def test_lookup_options_known_without_parsing_their_documentation(tmp_path):
    """Under this ansible-core too, a worker learns a lookup's options from plugin_utils/_lookup_config.py, not by
    parsing its documentation, and gets the same definitions."""
    check_loader_skips_the_parse(tmp_path, python=ANSIBLE_PYTHON)
