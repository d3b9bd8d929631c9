# -*- coding: utf-8 -*-
"""access_policy (Vault part) and vault_audit connect through the Vault backend: they log in with AppRole against
OpenBao from the harness, given as task options or through the ansible_agentarea_secrets_vault_* variables, and
revoke the login token when the module ends."""
import hvac

from tests.integration.test_vault_auth import setup_approle
from tests.harness.vault_helpers import Audit

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

OPTION = "ansible_agentarea_secrets_vault_"

ADMIN_POLICY = """
path "sys/audit" { capabilities = ["read", "sudo"] }
path "sys/audit/*" { capabilities = ["create", "update", "delete", "sudo"] }
path "sys/policy/%(p)s*" { capabilities = ["create", "read", "update", "delete"] }
path "sys/policies/acl/%(p)s*" { capabilities = ["create", "read", "update", "delete"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
"""

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: audit device
      agentarea.secrets.vault_audit:
        path: file
        file_path: "{{ audit_file }}"
        auth_method: "{{ method | default(omit) }}"
        role_id: "{{ role_id | default(omit) }}"
        secret_id: "{{ secret_id | default(omit) }}"
    - name: policies
      agentarea.secrets.access_policy:
        catalog: "{{ catalog }}"
        identities: "{{ identities }}"
        systems: [vault]
        state: "{{ state | default('present') }}"
        auth_method: "{{ method | default(omit) }}"
        role_id: "{{ role_id | default(omit) }}"
        secret_id: "{{ secret_id | default(omit) }}"
"""


def _setup(vault, root, prefix):
    root.sys.create_or_update_policy(prefix, ADMIN_POLICY % {"p": prefix})
    options = setup_approle(root, prefix)
    catalog = [{"name": "api", "store": "vault://secret/%s/api#password" % prefix}]
    identities = [{"name": "api", "secrets": ["api"], "vault": {"policy": prefix + "-api"}}]
    return options, {"catalog": catalog, "identities": identities, "audit_file": vault["audit_log"]}


def _check_round(ansible, env, evars, secrets_, root, prefix, audit):
    first = ansible.playbook(PLAY, extra_vars=evars, env=env, canaries=secrets_)
    assert not first.task("audit device")["changed"] and first.task("audit device")["file_audit_enabled"]
    assert first.task("policies")["changed"]
    assert "secret/data/%s/api" % prefix in root.sys.read_policy(prefix + "-api")["data"]["rules"]
    again = ansible.playbook(PLAY, extra_vars=evars, env=env, canaries=secrets_)
    assert not again.task("policies")["changed"]
    gone = ansible.playbook(PLAY, extra_vars=dict(evars, state="absent"), env=env, canaries=secrets_)
    assert gone.task("policies")["changed"]
    # one AppRole login per module run, each token revoked at the end: never a root token
    assert audit.count("auth/approle/login") == 6 and audit.count("auth/token/revoke-self") == 6
    assert prefix + "-api" not in root.sys.list_policies()["data"]["policies"]


def test_approle_task_options(ansible, vault, root, prefix):
    options, evars = _setup(vault, root, prefix)
    evars.update(method="approle", role_id=options[OPTION + "role_id"], secret_id=options[OPTION + "secret_id"])
    audit = Audit(vault["audit_log"])
    _check_round(ansible, {"VAULT_ADDR": vault["url"]}, evars, [options[OPTION + "secret_id"], vault["token"]],
                 root, prefix, audit)


def test_approle_from_the_variables(ansible, vault, root, prefix):
    """The action plugins fill the connection options from the same variables the lookups read (url included)."""
    options, evars = _setup(vault, root, prefix)
    evars.update(options, **{OPTION + "url": vault["url"]})
    audit = Audit(vault["audit_log"])
    _check_round(ansible, {}, evars, [options[OPTION + "secret_id"], vault["token"]], root, prefix, audit)
    assert isinstance(root, hvac.Client)
