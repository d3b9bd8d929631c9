# -*- coding: utf-8 -*-
"""What makes lookups cheap, through ansible-playbook against OpenBao: the run's broker reads remote stores and
does the lookup call whole (no worker imports their SDKs, our backends or the core modules), the run_cache
callback imports the lookup plugins the run uses in the main process (found in the playbook, learned from the
workers, or named in ``preload``), a playbook that reads Vault never imports another backend's SDK, and the run
cache still reads once per run, drops values after our modules change a store, checks local files for changes and
honours ``cache: false``.
A test-only lookup (``lookup_plugins/loaded_modules.py``) reports what a worker has in ``sys.modules``."""
import json
import os
from pathlib import Path

import pytest

from tests.harness.vault_helpers import env_for

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CANARY = "canary-7c1d55e0-perf"
CANARY2 = "canary-0be3a9f2-perf"
LOOKUP_PLUGINS = str(Path(__file__).parent / "lookup_plugins")
OTHER_SDKS = ["boto3", "botocore", "google.cloud", "google.auth", "azure", "azure.identity",
              "azure.keyvault.secrets", "kubernetes", "docker"]
#: our Vault backend's module, and the core modules a lookup needs where it builds references itself: the broker
#: does a Vault lookup call whole (references, read, selection), so no worker imports them
VAULT_BACKEND = "ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend"
CORE = ["ansible_collections.agentarea.secrets.plugins.module_utils.core._registry",
        "ansible_collections.agentarea.secrets.plugins.module_utils.core._refs"]
WATCHED = ["hvac", "ansible_collections.agentarea.secrets.plugins.lookup.vault", VAULT_BACKEND] + CORE + OTHER_SDKS


def watched():
    return ", ".join("'%s'" % name for name in WATCHED)


def env(vault, **extra):
    out = dict(env_for(vault), ANSIBLE_LOOKUP_PLUGINS=LOOKUP_PLUGINS)
    out.update(extra)
    return out


def reads(vault, path, since):
    """Reads of secret/data/<path> in OpenBao's audit log after line ``since``."""
    count = 0
    with open(vault["audit_log"]) as handle:
        for number, line in enumerate(handle):
            if number < since:
                continue
            entry = json.loads(line)
            if entry.get("type") == "response" and entry.get("request", {}).get("path") == "secret/data/" + path:
                count += 1
    return count


def audit_lines(vault):
    with open(vault["audit_log"]) as handle:
        return sum(1 for _line in handle)


@pytest.mark.parametrize("mode", ["found in the playbook", "learned from a worker", "preload: vault",
                                  "preload: none"])
def test_preloading_imports_only_what_the_run_uses(ansible, vault, root, prefix, mode):
    """Task 1 looks at its worker before and after a Vault lookup; task 2, a fresh worker, shows what it
    inherited from the main process. The broker reads Vault, so no worker imports hvac (nor any other SDK)."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    # a lookup whose name is a variable is invisible to the playbook scan: only learning can find it
    name = "vault_lookup" if mode in ("learned from a worker", "preload: vault") else "'agentarea.secrets.vault'"
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        vault_lookup: agentarea.secrets.vault
      tasks:
        - name: first
          ansible.builtin.set_fact:
            first: "{{ [lookup('loaded_modules', %(w)s), lookup(%(name)s, '%(p)s/db', key='password'),
                        lookup('loaded_modules', %(w)s)] }}"
        - name: second
          ansible.builtin.set_fact:
            second: "{{ lookup('loaded_modules', %(w)s) }}"
        - name: report
          ansible.builtin.debug:
            msg: "{{ {'before': first[0], 'after': first[2], 'second': second, 'ok': first[1] == secret} | to_json }}"
          vars:
            secret: "%(c)s"
    """ % {"w": watched(), "name": name, "p": prefix, "c": CANARY}
    extra = {"preload: vault": {"ANSIBLE_AGENTAREA_SECRETS_PRELOAD": "vault"},
             "preload: none": {"ANSIBLE_AGENTAREA_SECRETS_PRELOAD": "none"}}.get(mode, {})
    result = ansible.playbook(play, env=env(vault, **extra))
    seen = json.loads(result.task("report")["msg"])
    assert seen["ok"]
    before, after, second = seen["before"], seen["after"], seen["second"]
    for where in (before, after, second):
        assert not set(where["loaded"]) & set(OTHER_SDKS), (mode, where)
    # the run's broker reads Vault: no worker imports its SDK, and the main process does not preload it either
    for where in (before, after, second):
        assert "hvac" not in where["loaded"], (mode, where)
    assert before["pid"] == after["pid"] != second["pid"]
    if mode != "preload: none":
        assert "ansible_collections.agentarea.secrets.plugins.lookup.vault" in second["loaded"]
    # the broker builds the references and selects the key: no worker imports our backend or the core modules
    for where in (before, after, second):
        assert not set(where["loaded"]) & set([VAULT_BACKEND] + CORE), (mode, where)
    # the run's cache directory (learned names included) is gone with the run
    assert second["run_dir"] and not os.path.exists(second["run_dir"])


def test_held_variable_loops_and_cache_false(ansible, vault, root, prefix):
    """A held lookup referenced by three tasks and a loop over one secret read it once per run; with
    ``cache: false`` every reference reads again (a worker keeps its client between loop items, never values)."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    uses = "".join("""
        - name: use %d
          ansible.builtin.assert:
            that: held == '%s'
            quiet: true""" % (i, CANARY) for i in range(3))
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        held: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='password', cache=%(cache)s) }}"
      tasks:%(uses)s
        - name: loop
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%(p)s/db', key='password', cache=%(cache)s) == '%(c)s'
            quiet: true
          loop: [1, 2, 3, 4]
    """
    for cache, expected in (("true", 1), ("false", 7)):
        since = audit_lines(vault)
        result = ansible.playbook(play % {"p": prefix, "c": CANARY, "cache": cache, "uses": uses}, env=env(vault),
                                  canaries=[CANARY])
        assert reads(vault, prefix + "/db", since) == expected, (cache, result)
        assert "run cache is not enabled" not in result.output


def test_values_change_after_our_module_writes_and_local_files_are_checked(ansible, vault, root, prefix, tmp_path):
    """Cached values are dropped when a task of this collection changes a store; a local file changed by any
    other means is read again (its freshness token changed)."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(CANARY + "\n")
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        held: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='password') }}"
        local: "{{ lookup('agentarea.secrets.file', '%(f)s') }}"
      tasks:
        - name: before
          ansible.builtin.assert:
            that: [held == '%(c)s', local == '%(c)s']
            quiet: true
        - name: write with our module
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/db#password
            value: "%(c2)s"
        - name: write the file by other means
          ansible.builtin.copy:
            content: "%(c2)s\\n"
            dest: "%(f)s"
            mode: "0600"
        - name: after
          ansible.builtin.assert:
            that: [held == '%(c2)s', local == '%(c2)s']
            quiet: true
    """ % {"p": prefix, "c": CANARY, "c2": CANARY2, "f": secret_file}
    since = audit_lines(vault)
    ansible.playbook(play, env=env(vault), canaries=[CANARY, CANARY2])
    total = reads(vault, prefix + "/db", since)
    # what the module reads by itself, for the same write
    since = audit_lines(vault)
    ansible.playbook("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: write with our module
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/db#password
            value: "%(c)s"
    """ % {"p": prefix, "c": CANARY}, env=env(vault), canaries=[CANARY, CANARY2])
    module = reads(vault, prefix + "/db", since)
    # the lookups read once before the write and once after it, not once per reference
    assert total == module + 2, (total, module)


def test_loop_items_resolve_their_own_options(ansible, vault, root, prefix):
    """A worker reuses resolved options only for the same arguments and the same values of the variables the
    options read: an item that turns the cache off through a variable reads again."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: loop
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%(p)s/db', key='password') == '%(c)s'
            quiet: true
          loop: [true, false, false, true, true]
          loop_control:
            loop_var: ansible_agentarea_secrets_cache  # the option's own variable, a different value per item
    """ % {"p": prefix, "c": CANARY}
    since = audit_lines(vault)
    ansible.playbook(play, env=env(vault), canaries=[CANARY])
    assert reads(vault, prefix + "/db", since) == 3  # the first item, then the two with the cache off


FLEET_HOSTS, FLEET_SECRETS = 40, 20


@pytest.mark.parametrize("pattern", ["one call with every term", "a loop of single lookups"])
def test_a_fleet_logs_in_once_and_reads_each_secret_once(ansible, vault, root, prefix, pattern):
    """40 hosts read the same 20 secrets with ``forks: 10`` and AppRole: workers that miss the run cache at the
    same moment wait for the one that logs in or reads, so the run costs exactly 1 login and 20 reads."""
    from tests.harness.vault_helpers import Audit, ensure_auth, read_policy, sha
    names = ["%s/s%02d" % (prefix, i) for i in range(FLEET_SECRETS)]
    for i, name in enumerate(names):
        root.secrets.kv.v2.create_or_update_secret(name, secret={"v": "%s-%02d" % (CANARY, i)}, mount_point="secret")
    read_policy(root, prefix, "secret/data/%s/*" % prefix)
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl="5m", token_max_ttl="10m")
    role_id = root.auth.approle.read_role_id(prefix)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(prefix)["data"]["secret_id"]
    inventory = "[fleet]\n" + "".join("h%02d ansible_connection=local\n" % i for i in range(FLEET_HOSTS))
    expected = [sha("%s-%02d" % (CANARY, i)) for i in range(FLEET_SECRETS)]  # values stay out of the results
    if pattern == "one call with every term":
        check = "query('agentarea.secrets.vault', *names, key='v') | map('hash', 'sha256') | list == expected"
        loop = ""
    else:
        check = "lookup('agentarea.secrets.vault', item.0, key='v') | hash('sha256') == item.1"
        loop = ('\n          loop: "{{ names | zip(expected) | list }}"'
                '\n          loop_control: {label: "{{ item.0 }}"}')
    play = """
    - hosts: fleet
      gather_facts: false
      vars:
        names: %(names)s
        expected: %(expected)s
      tasks:
        - name: read
          ansible.builtin.assert:
            that: %(check)s
            quiet: true%(loop)s
    """ % {"names": json.dumps(names), "expected": json.dumps(expected), "check": json.dumps(check), "loop": loop}
    audit = Audit(vault["audit_log"])
    ansible.playbook(play, env=dict(env_for(vault, token=False)), files={"inventory.ini": inventory},
                     args=["-i", "inventory.ini", "--forks", "10"], canaries=[CANARY],
                     extra_vars={"ansible_agentarea_secrets_vault_auth_method": "approle",
                                 "ansible_agentarea_secrets_vault_role_id": role_id,
                                 "ansible_agentarea_secrets_vault_secret_id": secret_id})
    assert audit.count("auth/approle/login") == 1
    assert [audit.count("secret/data/" + name) for name in names] == [1] * FLEET_SECRETS
    assert audit.count("auth/token/revoke-self") == 1


def test_a_failed_write_drops_cached_values(ansible, vault, root, prefix):
    """A task of our write modules that fails may have committed its write (a rotation that failed after
    promotion, a lost answer, ``failed_when``): later lookups must read the store again, not the cached value."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        held: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='password') }}"
      tasks:
        - name: before
          ansible.builtin.assert: {that: "held == old_value", quiet: true}
        - name: write, then fail
          agentarea.secrets.secret:
            ref: vault://secret/%(p)s/db#password
            value: "{{ new_value }}"  # a failed task's source is printed: never a literal value in it
          failed_when: true
          ignore_errors: true
        - name: after
          ansible.builtin.assert: {that: "held == new_value", quiet: true}
    """ % {"p": prefix}
    ansible.playbook(play, env=env(vault), canaries=[CANARY, CANARY2],
                     extra_vars={"old_value": CANARY, "new_value": CANARY2})
    assert root.secrets.kv.v2.read_secret_version(prefix + "/db", raise_on_deleted_version=True)[
        "data"]["data"]["password"] == CANARY2
