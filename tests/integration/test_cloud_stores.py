# -*- coding: utf-8 -*-
"""What AWS Secrets Manager (moto), Azure Key Vault (tests/fakes/azure_keyvault.py) and Google Secret Manager
(drongo) share, as one test per shape run over the three stores: module writes (check -> apply -> apply again ->
retag -> new value -> clean up) and the leak suite. What differs between the stores is data in
cloud_helpers.CloudStore (AwsStore, AzureStore, GcpStore); what only one store has stays in its own file
(test_cloud_aws.py, test_cloud_azure.py, test_cloud_gcp.py). Set-up and checks use each store's SDK."""
import json

from tests.harness.cloud_helpers import cloud, play, prefix  # noqa: F401 pylint: disable=unused-import
from tests.harness.leak import run_leak_suite


def test_module_check_apply_again_tags_update_and_cleanup(ansible, cloud, prefix):  # noqa: F811
    c, (c1, c2, c3) = cloud, cloud.canaries[:3]
    canaries = list(cloud.canaries)
    writes = play("""
        - name: whole
          agentarea.secrets.secret:
            ref: %(whole)s
            value: {url: "postgresql://db:5432/agentarea", password: "%(c)s"}
            tags: {owner: platform-team, rotation: 30d}
            %(extra)s
          register: whole
        - name: field
          agentarea.secrets.secret:
            ref: %(field)s#api_key
            value: "%(c2)s"
          register: field
        - name: info
          agentarea.secrets.secret_info:
            ref: %(whole)s#password
          register: info
    """ % {"whole": c.ref(prefix, "database"), "field": c.ref(prefix, "openai"), "c": c1, "c2": c2,
           "extra": c.whole_extra})
    env = c.env
    check = ansible.playbook(writes, env=env, check=True, diff=True, canaries=canaries)
    assert check.task("whole")["changed"] and check.task("whole")["action"] == "created"
    assert check.task("field")["changed"] and check.task("info")["state"] == "missing"
    assert not c.exists(prefix, "database")

    first = ansible.playbook(writes, env=env, diff=True, canaries=canaries)
    whole = first.task("whole")
    assert whole["changed"] and whole["action"] == "created" and "value" not in whole
    assert json.loads(c.value(prefix, "database")) == {"url": "postgresql://db:5432/agentarea", "password": c1}
    assert whole["version"] == (c.first_version or c.current_version(prefix, "database"))
    assert c.tags(prefix, "database") == {"owner": "platform-team", "rotation": "30d"}
    assert json.loads(c.value(prefix, "openai")) == {"api_key": c2}
    info = first.task("info")
    assert info["exists"] and info["state"] == "present" and info["version"] == whole["version"]
    assert info["metadata"]["tags"] == {"owner": "platform-team", "rotation": "30d"}
    assert info["created"] and info["updated"] and info["fingerprint"].startswith("hmac-sha256:")
    for fact, expected in c.info_metadata.items():
        assert info["metadata"][fact] == expected, fact

    again = ansible.playbook(writes, env=env, diff=True, canaries=canaries)
    assert not again.task("whole")["changed"] and not again.task("field")["changed"]
    assert again.task("whole")["action"] == "none" and again.task("info")["fingerprint"] == info["fingerprint"]
    assert c.versions(prefix, "database") == [whole["version"]]
    c.check_first_versions(prefix, info, whole)

    # tags alone: applied without a new version
    retag = writes.replace("rotation: 30d", "rotation: 7d")
    assert ansible.playbook(retag, env=env, check=True, canaries=canaries).task("whole")["action"] == "tagged"
    assert c.tags(prefix, "database")["rotation"] == "30d"
    tagged = ansible.playbook(retag, env=env, canaries=canaries).task("whole")
    assert tagged["changed"] and tagged["action"] == "tagged" and tagged["version"] == whole["version"]
    assert c.tags(prefix, "database")["rotation"] == "7d" and c.versions(prefix, "database") == [whole["version"]]
    c.check_tagged(prefix, "database")
    assert not ansible.playbook(retag, env=env, canaries=canaries).task("whole")["changed"]

    # a new value: a new version that keeps the tags; the old one stays readable
    rotated = retag.replace('password: "%s"' % c1, 'password: "%s"' % c3)
    result = ansible.playbook(rotated, env=env, diff=True, canaries=canaries)
    updated = result.task("whole")
    assert updated["action"] == "updated" and updated["previous_version"] == whole["version"]
    assert updated["version"] == (c.second_version or c.current_version(prefix, "database"))
    assert json.loads(c.value(prefix, "database"))["password"] == c3
    assert json.loads(c.value(prefix, "database", whole["version"]))["password"] == c1
    assert c.tags(prefix, "database")["rotation"] == "7d"
    assert [v["version"] for v in result.task("info")["versions"]] == [whole["version"], updated["version"]]
    c.check_rotated(prefix, "database", whole["version"])
    assert not ansible.playbook(rotated, env=env, canaries=canaries).task("whole")["changed"]

    cleanup = play("""
        - name: soft
          agentarea.secrets.secret: {ref: "%(soft)s", state: absent%(soft_options)s}
          register: soft
        - name: purged
          agentarea.secrets.secret: {ref: "%(purged)s", state: absent%(purge_options)s}
          register: purged
        - name: info
          agentarea.secrets.secret_info: {ref: "%(soft)s"}
          register: info
    """ % {"soft": c.ref(prefix, "openai"), "purged": c.ref(prefix, "database"), "soft_options": c.soft_options,
           "purge_options": c.purge_options})
    checked = ansible.playbook(cleanup, env=env, check=True, canaries=canaries)
    assert checked.task("soft")["changed"] and checked.task("purged")["changed"]
    assert c.exists(prefix, "openai") and c.exists(prefix, "database")
    done = ansible.playbook(cleanup, env=env, canaries=canaries)
    assert done.task("soft")["changed"] and done.task("purged")["changed"]
    c.check_removed(prefix, "openai", "database")
    assert done.task("info")["state"] == c.soft_state
    again = ansible.playbook(cleanup, env=env, canaries=canaries)
    assert not again.task("soft")["changed"] and not again.task("purged")["changed"]
    c.purge(prefix, "openai", "database")


def test_leak_suite_every_plugin(ansible, cloud, prefix):  # noqa: F811
    c = cloud
    c.create(prefix, "app", json.dumps({"password": c.canaries[0], "url": "postgresql://db"}))
    tasks = """
        - name: lookups
          ansible.builtin.set_fact:
            a: "{{ lookup('%(l)s', '%(t)s', key='password') }}"
            b: "{{ lookup('agentarea.secrets.secret', '%(r)s') }}"
            %(extra)s
          no_log: true
        - name: loop
          ansible.builtin.assert: {that: item | length > 0, quiet: true}
          loop: "{{ query('%(l)s', '%(t)s', '%(t)s', key='password') }}"
          loop_control: {label: password}
          no_log: true
        - name: write
          agentarea.secrets.secret: {ref: "%(w)s#token", value: "{{ lookup('env', 'C2') }}", tags: {owner: x}}
        %(tasks)s
        - name: info
          agentarea.secrets.secret_info: {ref: "%(w)s#token"}
        - name: failing module
          agentarea.secrets.secret: {ref: "%(r)s?version=%(bad)s", value: "{{ lookup('env', 'C2') }}"}
          ignore_errors: true
        - name: failing lookup
          ansible.builtin.debug: {msg: "{{ lookup('%(l)s', '%(t)s', key='nope') }}"}
          ignore_errors: true
    """
    fill = {"l": c.lookup(), "t": c.term(prefix, "app"), "r": c.ref(prefix, "app"), "w": c.ref(prefix, "written"),
            "bad": c.bad_version}
    fill["extra"] = c.leak_lookup_extra % fill
    fill["tasks"] = (c.leak_tasks_extra % fill).strip()
    # values to write come from the environment, so the playbook text (which error messages quote) holds none
    env = dict(c.env, C2=c.canaries[1], **c.leak_env_extra)
    results = run_leak_suite(ansible, play(tasks % fill), list(c.canaries), env=env)
    assert "the secret has no key 'nope' (keys: password, url)" in results[0].output
    assert json.loads(c.value(prefix, "written")) == {"token": c.canaries[1]}
    c.purge(prefix, "app", "written")
