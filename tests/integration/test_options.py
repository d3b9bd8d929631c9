# -*- coding: utf-8 -*-
"""One configuration for lookups and modules, through ansible-playbook against OpenBao: connection variables
holding templates (from group_vars files and play vars, with values from other variables and ``lookup('env')``)
are templated before use by lookups and modules alike, and the precedence that docs/options.md states holds for
both: task arguments > module_defaults (modules) > ``ansible_agentarea_secrets_*`` variables >
``ANSIBLE_AGENTAREA_SECRETS_*`` environment > ini (lookups) > the store's native environment (``VAULT_ADDR``).
Credentials passed through variables never show, even at -vvvv."""
import textwrap

import pytest

from tests.harness.vault_helpers import Audit, ensure_auth, sha

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CANARY = "canary-61c0d2e8-options"
CANARY2 = "canary-f7a4b913-options"
BAD_URL = "http://127.0.0.1:9"  # the discard port: nothing answers there

CONNECTION_VARS = """
ansible_agentarea_secrets_vault_url: "{{ lookup('env', 'OPTIONS_VAULT_ADDR') }}"
ansible_agentarea_secrets_vault_auth_method: approle
ansible_agentarea_secrets_vault_role_id: "{{ vault_role_id }}"
ansible_agentarea_secrets_vault_secret_id: "{{ vault_secret_id }}"
"""

TASKS = """
- name: read with the lookup
  ansible.builtin.assert:
    that: lookup('agentarea.secrets.vault', '%(p)s/db', key='password') | hash('sha256') == '%(h)s'
    quiet: true
- name: metadata with the module
  agentarea.secrets.secret_info:
    ref: vault://secret/%(p)s/db
  register: info
- name: the module saw the secret
  ansible.builtin.assert:
    that: [info.exists, "info.version == '1'"]
    quiet: true
- name: write in check mode
  agentarea.secrets.secret:
    ref: vault://secret/%(p)s/new#password
    value: "{{ new_value }}"
  check_mode: true
  register: check
- name: write
  agentarea.secrets.secret:
    ref: vault://secret/%(p)s/new#password
    value: "{{ new_value }}"
  register: write
- name: write again
  agentarea.secrets.secret:
    ref: vault://secret/%(p)s/new#password
    value: "{{ new_value }}"
  register: again
- name: changed once
  ansible.builtin.assert:
    that: [check is changed, write is changed, again is not changed]
    quiet: true
"""


def indent(text, spaces):
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def approle(root, prefix):
    """An AppRole whose token may read and write under the test's prefix only."""
    rules = ['path "secret/%s/%s/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
             % (part, prefix) for part in ("data", "metadata")]
    root.sys.create_or_update_policy(prefix, "\n".join(rules))
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl="5m", token_max_ttl="10m")
    role_id = root.auth.approle.read_role_id(prefix)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(prefix)["data"]["secret_id"]
    return role_id, secret_id


@pytest.mark.parametrize("where", ["group_vars files", "play vars"])
def test_templated_connection_variables_configure_lookups_and_modules(ansible, vault, root, prefix, where):
    """No VAULT_ADDR, no token in the environment: the URL comes from ``lookup('env')`` and the AppRole
    credentials from other variables (an ansible-vault file's usual shape), through templates in the connection
    variables. The lookup and both modules log in with them; the secret_id never shows, even at -vvvv."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    role_id, secret_id = approle(root, prefix)
    tasks = TASKS % {"p": prefix, "h": sha(CANARY)}
    extra = {"new_value": CANARY2}
    if where == "group_vars files":
        play = "- hosts: all\n  gather_facts: false\n  tasks:\n" + indent(tasks, 4) + "\n"
        files = {"inventory/hosts.ini": "web1 ansible_connection=local\n",
                 "inventory/group_vars/all/connection.yml": CONNECTION_VARS,
                 "inventory/group_vars/all/credentials.yml": "vault_role_id: %s\nvault_secret_id: %s\n"
                                                             % (role_id, secret_id)}
        args = ["-i", "inventory/hosts.ini", "--limit", "web1"]
        allowed = ["inventory/group_vars/all/credentials.yml"]
    else:
        play = ("- hosts: localhost\n  gather_facts: false\n  vars:\n" + indent(CONNECTION_VARS, 4)
                + "\n  tasks:\n" + indent(tasks, 4) + "\n")
        files, args, allowed = None, [], []
        extra.update(vault_role_id=role_id, vault_secret_id=secret_id)
    audit = Audit(vault["audit_log"])
    result = ansible.playbook(play, env={"OPTIONS_VAULT_ADDR": vault["url"]}, extra_vars=extra, files=files,
                              args=args, verbosity=4, canaries=[CANARY, CANARY2, secret_id], allowed_files=allowed)
    assert "web1" in result.output if where == "group_vars files" else "localhost" in result.output
    assert root.secrets.kv.v2.read_secret_version(prefix + "/new", raise_on_deleted_version=True)[
        "data"]["data"]["password"] == CANARY2
    # the lookup, the module reading metadata and the three writes all logged in with the templated AppRole
    assert audit.count("auth/approle/login") >= 5
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/new", mount_point="secret")
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/db", mount_point="secret")


LOOKUP_LAYERS = ["task argument", "variable", "collection environment", "ini", "native environment"]
MODULE_LAYERS = ["task argument", "module_defaults", "variable", "collection environment", "native environment"]


def layered_play(kind, layer, prefix, good):
    """A play where the URL at ``layer`` is right and every layer below it names a server that is not there:
    the task passes only if ``layer`` wins over all of them."""
    layers = LOOKUP_LAYERS if kind == "lookup" else MODULE_LAYERS
    at = layers.index(layer)

    def url(name):
        if name not in layers or layers.index(name) < at:
            return None
        return good if name == layer else BAD_URL
    env = {"VAULT_TOKEN": "root-token"}
    if url("native environment"):
        env["VAULT_ADDR"] = url("native environment")
    if url("collection environment"):
        env["ANSIBLE_AGENTAREA_SECRETS_VAULT_URL"] = url("collection environment")
    # modules never read ini: a wrong URL there changes nothing for them
    ini = url("ini") if kind == "lookup" else BAD_URL
    files = {"ansible.cfg": "[agentarea_secrets_vault]\nurl = %s\n" % ini} if ini else {}
    play = "- hosts: localhost\n  gather_facts: false\n  vars:\n    good_url: %s\n" % good
    if url("variable"):
        play += "    ansible_agentarea_secrets_vault_url: \"{{ '%s' if '%s' == 'bad' else good_url }}\"\n" % (
            BAD_URL, "good" if url("variable") == good else "bad")
    if url("module_defaults"):
        play += "  module_defaults:\n    group/agentarea.secrets.secrets:\n      url: %s\n" % url("module_defaults")
    task_url = url("task argument")
    if kind == "lookup":
        kwarg = ", url='%s'" % task_url if task_url else ""
        play += ("  tasks:\n    - name: read\n      ansible.builtin.assert:\n        that: lookup('agentarea."
                 "secrets.vault', '%s/db', key='password'%s) | hash('sha256') == '%s'\n        quiet: true\n"
                 % (prefix, kwarg, sha(CANARY)))
    else:
        play += ("  tasks:\n    - name: read\n      agentarea.secrets.secret_info:\n        ref: vault://secret/%s/db\n"
                 "%s      register: info\n    - name: found\n      ansible.builtin.assert: {that: info.exists}\n"
                 % (prefix, "        url: %s\n" % task_url if task_url else ""))
    return play, env, files


@pytest.mark.parametrize("kind, layer", [("lookup", layer) for layer in LOOKUP_LAYERS]
                         + [("module", layer) for layer in MODULE_LAYERS])
def test_precedence_is_the_same_for_lookups_and_modules(ansible, vault, root, prefix, kind, layer):
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    play, env, files = layered_play(kind, layer, prefix, vault["url"])
    ansible.playbook(play, env=env, files=files, canaries=[CANARY])
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/db", mount_point="secret")


def test_a_wrong_url_in_a_lower_layer_is_what_fails(ansible, vault, root, prefix):
    """The check of the precedence test: with the right URL nowhere, the same plays fail on the wrong one."""
    play, env, files = layered_play("module", "variable", prefix, BAD_URL)
    result = ansible.playbook(play, env=env, files=files, expect_rc=2)
    assert "127.0.0.1:9" in result.output
