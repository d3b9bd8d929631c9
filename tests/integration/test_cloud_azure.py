# -*- coding: utf-8 -*-
"""Azure Key Vault through ansible-playbook against our HTTPS fake (tests/fakes/azure_keyvault.py) with its 401
challenge: what only Azure has: content type and expiry, JSON keys, versions, lookups by name (vault_url) and by
reference, disabled, soft-deleted, missing and denied secrets. Module writes (check -> apply -> apply again -> clean
up, soft delete and purge) and the leak suite are test_cloud_stores.py's, with Azure's differences in
cloud_helpers.AzureStore. Set-up and checks use azure-keyvault-secrets directly.

The vault is https://127.0.0.1:<port>, outside the Key Vault domains, so the backend turns the SDK's challenge
check off on its own (verify_challenge_resource=False); every run here depends on that. Credentials: the fake
accepts any bearer token, so the runs use the ``access_token`` option (a token obtained elsewhere, as with
``az account get-access-token``), which is also a canary. A token starting with ``deny-`` is the fake's identity
without permissions.
"""
import datetime
import json
import time

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._azure import AzureBackend
from tests.harness.cloud_helpers import play, prefix, sha  # noqa: F401 pylint: disable=unused-import

CANARY = "canary-19e4c2d0-azure"
CANARY2 = "canary-7b3a55e9-azure"
CANARY3 = "canary-c4d80f16-azure"
TOKEN = "eyJ0eXAiOi.canary-token-8e2d4a"
ALL = [CANARY, CANARY2, CANARY3, TOKEN]


class StaticToken:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("setup-token", int(time.time()) + 3600)


@pytest.fixture(scope="module")
def azure(harness):
    info = harness.start("azure")
    host = info["url"].split("://", 1)[1]
    return dict(info, host=host, env={"ANSIBLE_AGENTAREA_SECRETS_AZURE_ACCESS_TOKEN": TOKEN,
                                      "ANSIBLE_AGENTAREA_SECRETS_AZURE_CA_CERT": info["ca_cert"],
                                      "AZURE_KEYVAULT_URL": info["url"]})


@pytest.fixture(scope="module")
def kv(azure):
    return SecretClient(azure["url"], StaticToken(), verify_challenge_resource=False, connection_verify=azure["ca_cert"])


def versions(kv, name):
    return sorted(kv.list_properties_of_secret_versions(name), key=lambda p: p.created_on)


def purge(kv, *names):
    for name in names:
        try:
            kv.begin_delete_secret(name).wait()
        except ResourceNotFoundError:
            pass
        try:
            kv.purge_deleted_secret(name)
        except ResourceNotFoundError:
            pass


def test_content_type_and_expiry_alone_change_no_version(ansible, azure, kv, prefix):
    """Azure's own properties (the shared module test in test_cloud_stores.py covers values and tags): the content
    type alone is detected and applied to the current version; a new value keeps it; the backend's
    property_changes/set_properties do the same for the content type and the expiry."""
    writes = play("""
        - name: whole
          agentarea.secrets.secret:
            ref: azure://%(h)s/%(p)s-database
            value: {url: "postgresql://db:5432/agentarea", password: "%(c)s"}
            tags: {owner: platform-team, rotation: 7d}
            content_type: application/json
          register: whole
    """ % {"h": azure["host"], "p": prefix, "c": CANARY})
    env = azure["env"]
    # the secret as the module writes it (compact sorted JSON), set up with the SDK
    stored = json.dumps({"password": CANARY, "url": "postgresql://db:5432/agentarea"}, sort_keys=True, separators=(",", ":"))
    whole = {"version": kv.set_secret(prefix + "-database", stored, tags={"owner": "platform-team", "rotation": "7d"},
                                      content_type="application/json").properties.version}

    # the content type alone: detected and applied to the current version, no new version
    retyped = writes.replace("content_type: application/json", "content_type: application/vnd.agentarea+json")
    typed = ansible.playbook(retyped, env=env, diff=True, canaries=ALL).task("whole")
    assert typed["changed"] and typed["action"] == "tagged" and typed["version"] == whole["version"]
    assert kv.get_secret(prefix + "-database").properties.content_type == "application/vnd.agentarea+json"
    assert len(versions(kv, prefix + "-database")) == 1
    assert not ansible.playbook(retyped, env=env, canaries=ALL).task("whole")["changed"]

    # a new value: a new version that keeps tags and content type
    rotated = retyped.replace('password: "%s"' % CANARY, 'password: "%s"' % CANARY3)
    updated = ansible.playbook(rotated, env=env, canaries=ALL).task("whole")
    assert updated["action"] == "updated" and updated["previous_version"] == whole["version"]
    latest = kv.get_secret(prefix + "-database")
    assert json.loads(latest.value)["password"] == CANARY3 and latest.properties.version == updated["version"]
    assert latest.properties.tags["rotation"] == "7d"
    assert latest.properties.content_type == "application/vnd.agentarea+json"

    # content type or expiry alone: the backend detects and applies them without a new version (the secret module
    # compares values and tags; this is the API it would call for these properties)
    backend = AzureBackend({"access_token": "t", "ca_cert": azure["ca_cert"], "content_type": "text/plain",
                            "expires": "2031-01-31T00:00:00Z", "timeout": 10}, environ={})
    ref = parse_ref("azure://%s/%s-database" % (azure["host"], prefix))
    assert set(backend.property_changes(backend.read(ref))) == {"content_type", "expires"}
    backend.set_properties(ref)
    props = kv.get_secret(prefix + "-database").properties
    assert props.content_type == "text/plain" and props.expires_on.year == 2031
    assert props.version == updated["version"] and props.tags["rotation"] == "7d"
    assert backend.property_changes(backend.read(ref)) == {}
    purge(kv, prefix + "-database")


def test_lookups_by_name_and_reference_versions_and_json_keys(ansible, azure, kv, prefix):
    v1 = kv.set_secret(prefix + "-db", json.dumps({"user": "app", "password": CANARY})).properties.version
    kv.set_secret(prefix + "-db", json.dumps({"user": "app", "password": CANARY2}))
    kv.set_secret(prefix + "-token", CANARY3)
    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            password: "{{ lookup('agentarea.secrets.azure', '%(p)s-db', key='password') }}"
            whole: "{{ lookup('agentarea.secrets.azure', '%(p)s-db') }}"
            first: "{{ lookup('agentarea.secrets.azure', '%(p)s-db', key='password', version='%(v1)s') }}"
            by_ref: "{{ lookup('agentarea.secrets.secret', 'azure://%(h)s/%(p)s-token') }}"
            pair: "{{ lookup('agentarea.secrets.azure', '%(h)s/%(p)s-db#password?version=%(v1)s') }}"
            several: "{{ query('agentarea.secrets.azure', '%(p)s-token', '%(p)s-nope', on_missing='skip') }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - password | hash('sha256') == '%(h2)s'
              - whole.user == 'app' and whole.password | hash('sha256') == '%(h2)s'
              - first | hash('sha256') == '%(h1)s' and pair | hash('sha256') == '%(h1)s'
              - by_ref | hash('sha256') == '%(h3)s'
              - several | map('hash', 'sha256') | list == ['%(h3)s']
            quiet: true
    """ % {"h": azure["host"], "p": prefix, "v1": v1, "h1": sha(CANARY), "h2": sha(CANARY2), "h3": sha(CANARY3)})
    ansible.playbook(reads, env=azure["env"], canaries=ALL)
    # options given to the call, the token from a variable
    explicit = play("""
        - name: explicit
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.azure', '%(p)s-db', key='password', vault_url='%(url)s', ca_cert='%(ca)s',
                         auth='access_token', access_token=token) | hash('sha256') == '%(h2)s'
            quiet: true
    """ % {"p": prefix, "url": azure["url"], "ca": azure["ca_cert"], "h2": sha(CANARY2)},
        vars_="token: \"{{ lookup('env', 'T') }}\"")
    ansible.playbook(explicit, env={"T": TOKEN}, canaries=ALL)
    purge(kv, prefix + "-db", prefix + "-token")


def test_disabled_soft_deleted_missing_and_denied(ansible, azure, kv, prefix):
    kv.set_secret(prefix + "-off", CANARY)
    kv.update_secret_properties(prefix + "-off", enabled=False)
    kv.set_secret(prefix + "-gone", CANARY2)
    kv.begin_delete_secret(prefix + "-gone").wait()
    kv.set_secret(prefix + "-ok", CANARY3)
    tasks = play("""
        - name: disabled
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-off') }}"}
          ignore_errors: true
        - name: soft deleted
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-gone') }}"}
          ignore_errors: true
        - name: missing
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-nope') }}"}
          ignore_errors: true
        - name: skipped
          ansible.builtin.set_fact:
            got: "{{ query('agentarea.secrets.azure', '%(p)s-off', '%(p)s-gone', '%(p)s-nope', on_deleted='warn',
                           on_missing='skip') }}"
        - name: info disabled
          agentarea.secrets.secret_info: {ref: "azure://%(h)s/%(p)s-off"}
          register: info_off
        - name: info gone
          agentarea.secrets.secret_info: {ref: "azure://%(h)s/%(p)s-gone"}
          register: info_gone
        - name: recreate soft deleted
          agentarea.secrets.secret: {ref: "azure://%(h)s/%(p)s-gone", value: x}
          ignore_errors: true
        - name: denied
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-ok', access_token='deny-me') }}"}
          ignore_errors: true
        - name: denied skipped
          ansible.builtin.set_fact:
            denied: "{{ query('agentarea.secrets.azure', '%(p)s-ok', access_token='deny-me', on_denied='skip') }}"
    """ % {"h": azure["host"], "p": prefix})
    result = ansible.playbook(tasks, env=azure["env"], canaries=ALL)
    assert "reading: the secret (this version) is disabled" in result.task("disabled")["msg"]
    assert "soft-deleted on" in result.task("soft deleted")["msg"]
    assert "reading: no such secret or version" in result.task("missing")["msg"]
    assert result.task("skipped")["ansible_facts"]["got"] == [] and result.output.count("(skipped)") >= 2
    assert result.task("info disabled")["state"] == "deleted" and result.task("info gone")["state"] == "deleted"
    assert "soft-deleted; recover or purge it first, or set recover_if_need" in result.task("recreate soft deleted")["msg"]
    assert "access denied (Forbidden): The user, group or application" in result.task("denied")["msg"]
    assert result.task("denied skipped")["ansible_facts"]["denied"] == []
    kv.update_secret_properties(prefix + "-off", enabled=True)
    purge(kv, prefix + "-off", prefix + "-gone", prefix + "-ok")


def test_valid_from_is_written_and_alone_changes_no_version(ansible, azure, kv, prefix):
    """``valid_from`` (nbf) on a new secret, then alone (applied to the current version): check -> apply -> again."""
    name = prefix + "-nbf"
    task = play("""
        - name: nbf
          agentarea.secrets.secret:
            ref: azure://%(h)s/%(n)s
            value: "%(c)s"
            valid_from: "2027-01-01T00:00:00Z"
            expires: "2028-01-01T00:00:00Z"
          register: nbf
    """ % {"h": azure["host"], "n": name, "c": CANARY})
    env = azure["env"]
    checked = ansible.playbook(task, env=env, check=True, diff=True, canaries=ALL).task("nbf")
    assert checked["changed"] and checked["action"] == "created"
    with pytest.raises(ResourceNotFoundError):
        kv.get_secret(name)
    made = ansible.playbook(task, env=env, canaries=ALL).task("nbf")
    props = kv.get_secret(name).properties
    assert made["changed"] and props.not_before.isoformat().startswith("2027-01-01T00:00:00")
    assert props.expires_on.year == 2028
    assert not ansible.playbook(task, env=env, canaries=ALL).task("nbf")["changed"]

    moved = task.replace("2027-01-01T00:00:00Z", "2027-06-01T00:00:00Z")
    checked = ansible.playbook(moved, env=env, check=True, diff=True, canaries=ALL).task("nbf")
    assert checked["changed"] and checked["action"] == "tagged"
    assert checked["diff"]["after"]["properties"] == {"not_before": "2027-06-01T00:00:00Z"}
    assert kv.get_secret(name).properties.not_before.month == 1
    retimed = ansible.playbook(moved, env=env, canaries=ALL).task("nbf")
    assert retimed["changed"] and retimed["action"] == "tagged" and retimed["version"] == made["version"]
    assert kv.get_secret(name).properties.not_before.month == 6 and len(versions(kv, name)) == 1
    assert not ansible.playbook(moved, env=env, canaries=ALL).task("nbf")["changed"]
    bad = ansible.playbook(task.replace("2027-01-01T00:00:00Z", "next tuesday") + "      ignore_errors: true\n",
                           env=env, canaries=ALL).task("nbf")
    assert "valid_from must be an ISO 8601 date" in bad.get("msg", ""), bad
    purge(kv, name)


def test_recover_if_need_recovers_a_soft_deleted_secret_then_writes(ansible, azure, kv, prefix):
    """A soft-deleted secret: without recover_if_need the write fails naming the option (test above); with it the
    secret is recovered (POST deletedsecrets/{name}/recover), keeps its tags and gets the new version."""
    name = prefix + "-back"
    old = kv.set_secret(name, CANARY, tags={"owner": "platform-team"}, content_type="text/plain").properties.version
    kv.begin_delete_secret(name).wait()
    task = play("""
        - name: back
          agentarea.secrets.secret:
            ref: azure://%(h)s/%(n)s
            value: "%(c)s"
            recover_if_need: true
          register: back
    """ % {"h": azure["host"], "n": name, "c": CANARY2})
    env = azure["env"]
    checked = ansible.playbook(task, env=env, check=True, diff=True, canaries=ALL).task("back")
    assert checked["changed"] and checked["action"] == "created"
    assert kv.get_deleted_secret(name).name == name  # check mode recovered nothing
    written = ansible.playbook(task, env=env, canaries=ALL).task("back")
    assert written["changed"] and written["version"] != old
    latest = kv.get_secret(name)
    assert latest.value == CANARY2 and latest.properties.version == written["version"]
    assert latest.properties.tags == {"owner": "platform-team"} and latest.properties.content_type == "text/plain"
    assert [p.version for p in versions(kv, name)] == [old, written["version"]]
    with pytest.raises(ResourceNotFoundError):
        kv.get_deleted_secret(name)
    again = ansible.playbook(task, env=env, canaries=ALL).task("back")
    assert not again["changed"] and again["version"] == written["version"]
    # a secret that is not deleted at all: the option changes nothing
    other = task.replace(name, prefix + "-fresh")
    assert ansible.playbook(other, env=env, canaries=ALL).task("back")["action"] == "created"
    purge(kv, name, prefix + "-fresh")


def test_secret_list_filters_pages_and_never_values(ansible, azure, kv, prefix):
    """secret_list over GET {vault}/secrets: 27 secrets are two pages of the fake's 25 (nextLink followed); filters
    by prefix, regex, tags and enabled; properties without values."""
    names = ["%s-list-%02d" % (prefix, i) for i in range(27)]
    for i, name in enumerate(names):
        kv.set_secret(name, CANARY if i % 2 else CANARY2, tags={"team": "a" if i % 3 == 0 else "b"},
                      content_type="text/plain" if i == 3 else None)
    kv.update_secret_properties(names[5], enabled=False)
    kv.update_secret_properties(names[6], expires_on=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    kv.set_secret(prefix + "-other", CANARY3, tags={"team": "a"})
    tasks = play("""
        - name: all
          agentarea.secrets.secret_list: {store: "azure://%(h)s", name_prefix: "%(p)s-list-"}
          register: all
        - name: team a
          agentarea.secrets.secret_list: {store: "azure://%(h)s", name_prefix: "%(p)s-", tags: {team: a}}
        - name: regex
          agentarea.secrets.secret_list: {store: "azure://%(h)s", name_regex: "^%(p)s-list-0[0-4]$"}
        - name: disabled
          agentarea.secrets.secret_list: {store: "azure://%(h)s", name_prefix: "%(p)s-", enabled: false}
        - name: tag present
          agentarea.secrets.secret_list: {store: "azure://%(h)s", name_prefix: "%(p)s-", tags: {team: null}}
        - name: bad regex
          agentarea.secrets.secret_list: {store: "azure://%(h)s", name_regex: "("}
          ignore_errors: true
        - name: bad store
          agentarea.secrets.secret_list: {store: "file:///tmp"}
          ignore_errors: true
    """ % {"h": azure["host"], "p": prefix})
    result = ansible.playbook(tasks, env=azure["env"], check=True, canaries=ALL, verbosity=3)
    listed = result.task("all")
    assert not listed["changed"] and listed["count"] == 27 and [r["name"] for r in listed["secrets"]] == names
    rows = dict((r["name"], r) for r in listed["secrets"])
    assert rows[names[3]]["content_type"] == "text/plain" and rows[names[3]]["tags"] == {"team": "a"}
    assert rows[names[5]]["enabled"] is False and rows[names[6]]["expires"] == "2030-01-01T00:00:00Z"
    assert rows[names[0]]["ref"] == "azure://%s/%s" % (azure["host"], names[0])
    assert all("value" not in r for r in listed["secrets"])
    team_a = [r["name"] for r in result.task("team a")["secrets"]]
    assert team_a == [n for i, n in enumerate(names) if i % 3 == 0] + [prefix + "-other"]
    assert [r["name"] for r in result.task("regex")["secrets"]] == names[:5]
    assert [r["name"] for r in result.task("disabled")["secrets"]] == [names[5]]
    assert result.task("tag present")["count"] == 28
    assert "name_regex is not a valid regular expression" in result.task("bad regex")["msg"]
    assert "store must be azure://<vault> or aws://" in result.task("bad store")["msg"]
    purge(kv, prefix + "-other", *names)
