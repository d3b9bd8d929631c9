# -*- coding: utf-8 -*-
"""Google Secret Manager through ansible-playbook against drongo (REST only): module writes (check -> apply ->
apply again -> clean up), labels, JSON keys, versions, lookups by name, reference and resource name, disabled,
destroyed and missing versions, a denial as the service sends it, and the leak suite. Set-up and checks use
google-cloud-secret-manager directly.

drongo differs from the real service (TESTING.md) where noted: ``latest`` resolves to the newest *enabled* version
(the real service takes the newest and fails when it is disabled: the backend reports that as deleted, see
tests/unit/.../test_gcp.py), ``data_crc32c`` is 0 (not verified then), and there is no IAM (denials come from a
stand-in server below).
"""
import json

import pytest
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from tests.integration.cloud_helpers import Denier, play, prefix, sha  # noqa: F401 pylint: disable=unused-import
from tests.harness.leak import run_leak_suite

CANARY = "canary-6a0b44e1-gcp"
CANARY2 = "canary-d27c9f35-gcp"
CANARY3 = "canary-0e8813fb-gcp"
TOKEN = "ya29.canary-token-5b7c01"  # drongo accepts any bearer token; it must never show up anywhere
ALL = [CANARY, CANARY2, CANARY3, TOKEN]


@pytest.fixture(scope="module")
def gcp(harness):
    info = harness.start("gcp")
    return dict(info, env={"ANSIBLE_AGENTAREA_SECRETS_GCP_API_ENDPOINT": info["url"],
                           "GOOGLE_CLOUD_PROJECT": info["project"], "CLOUDSDK_AUTH_ACCESS_TOKEN": TOKEN})


@pytest.fixture(scope="module")
def gsm(gcp):
    return secretmanager.SecretManagerServiceClient(transport="rest", credentials=AnonymousCredentials(),
                                                    client_options={"api_endpoint": gcp["url"]})


def create(gsm, project, secret_id, *values, labels=None):
    gsm.create_secret(request={"parent": "projects/" + project, "secret_id": secret_id,
                               "secret": {"replication": {"automatic": {}}, "labels": labels or {}}})
    return [gsm.add_secret_version(request={"parent": "projects/%s/secrets/%s" % (project, secret_id),
                                            "payload": {"data": v.encode()}}).name for v in values]


def access(gsm, project, secret_id, version="latest"):
    return gsm.access_secret_version(name="projects/%s/secrets/%s/versions/%s"
                                     % (project, secret_id, version)).payload.data.decode()


def versions(gsm, project, secret_id):
    return {v.name.rsplit("/", 1)[1]: v.state.name
            for v in gsm.list_secret_versions(request={"parent": "projects/%s/secrets/%s" % (project, secret_id)})}


def test_module_check_apply_again_labels_update_and_cleanup(ansible, gcp, gsm, prefix):
    proj = gcp["project"]
    writes = play("""
        - name: whole
          agentarea.secrets.secret:
            ref: gcp://%(proj)s/%(p)s-database
            value: {url: "postgresql://db:5432/agentarea", password: "%(c)s"}
            tags: {owner: platform-team, rotation: 30d}
          register: whole
        - name: field
          agentarea.secrets.secret:
            ref: gcp://%(proj)s/%(p)s-openai#api_key
            value: "%(c2)s"
        - name: info
          agentarea.secrets.secret_info:
            ref: gcp://%(proj)s/%(p)s-database#password
          register: info
    """ % {"proj": proj, "p": prefix, "c": CANARY, "c2": CANARY2})
    env = gcp["env"]
    check = ansible.playbook(writes, env=env, check=True, diff=True, canaries=ALL)
    assert check.task("whole")["action"] == "created" and check.task("info")["state"] == "missing"
    with pytest.raises(NotFound):
        gsm.get_secret(name="projects/%s/secrets/%s-database" % (proj, prefix))

    first = ansible.playbook(writes, env=env, diff=True, canaries=ALL)
    assert first.task("whole")["changed"] and first.task("whole")["version"] == "1"
    assert json.loads(access(gsm, proj, prefix + "-database")) == {"url": "postgresql://db:5432/agentarea",
                                                                   "password": CANARY}
    secret = gsm.get_secret(name="projects/%s/secrets/%s-database" % (proj, prefix))
    assert dict(secret.labels) == {"owner": "platform-team", "rotation": "30d"}
    assert json.loads(access(gsm, proj, prefix + "-openai")) == {"api_key": CANARY2}
    info = first.task("info")
    assert info["exists"] and info["version"] == "1" and info["metadata"]["tags"]["owner"] == "platform-team"
    assert [(v["version"], v["state"]) for v in info["versions"]] == [("1", "ENABLED")]
    assert info["created"] and info["updated"] and info["metadata"]["state"] == "ENABLED"

    again = ansible.playbook(writes, env=env, diff=True, canaries=ALL)
    assert not again.task("whole")["changed"] and not again.task("field")["changed"]
    assert versions(gsm, proj, prefix + "-database") == {"1": "ENABLED"}

    relabel = writes.replace("rotation: 30d", "rotation: 7d")
    assert ansible.playbook(relabel, env=env, check=True, canaries=ALL).task("whole")["action"] == "tagged"
    tagged = ansible.playbook(relabel, env=env, canaries=ALL)
    assert tagged.task("whole")["action"] == "tagged"
    labels = gsm.get_secret(name="projects/%s/secrets/%s-database" % (proj, prefix)).labels
    assert labels["rotation"] == "7d" and versions(gsm, proj, prefix + "-database") == {"1": "ENABLED"}

    rotated = relabel.replace('password: "%s"' % CANARY, 'password: "%s"' % CANARY3)
    updated = ansible.playbook(rotated, env=env, canaries=ALL)
    assert updated.task("whole")["action"] == "updated" and updated.task("whole")["version"] == "2"
    assert updated.task("whole")["previous_version"] == "1"
    assert json.loads(access(gsm, proj, prefix + "-database"))["password"] == CANARY3
    assert [v["version"] for v in updated.task("info")["versions"]] == ["1", "2"]  # oldest first
    assert not ansible.playbook(rotated, env=env, canaries=ALL).task("whole")["changed"]

    cleanup = play("""
        - name: remove
          agentarea.secrets.secret: {ref: "gcp://%(proj)s/%(p)s-{{ name }}", state: absent}
          register: removed
          loop: [database, openai]
          loop_control: {loop_var: name}
    """ % {"proj": proj, "p": prefix})
    assert ansible.playbook(cleanup, env=env, check=True).task("remove")["changed"]
    assert ansible.playbook(cleanup, env=env).task("remove")["changed"]
    with pytest.raises(NotFound):
        gsm.get_secret(name="projects/%s/secrets/%s-database" % (proj, prefix))
    assert not ansible.playbook(cleanup, env=env).task("remove")["changed"]


def test_lookups_versions_json_keys_and_resource_names(ansible, gcp, gsm, prefix):
    proj = gcp["project"]
    create(gsm, proj, prefix + "-db", json.dumps({"user": "app", "password": CANARY}),
           json.dumps({"user": "app", "password": CANARY2}))
    create(gsm, proj, prefix + "-token", CANARY3)
    reads = play("""
        - name: read
          ansible.builtin.set_fact:
            latest: "{{ lookup('agentarea.secrets.gcp', '%(p)s-db', key='password') }}"
            whole: "{{ lookup('agentarea.secrets.gcp', '%(p)s-db') }}"
            first: "{{ lookup('agentarea.secrets.gcp', '%(p)s-db', key='password', version='1') }}"
            resource: "{{ lookup('agentarea.secrets.gcp', 'projects/%(proj)s/secrets/%(p)s-db/versions/1', key='password') }}"
            by_ref: "{{ lookup('agentarea.secrets.secret', 'gcp://%(proj)s/%(p)s-token?version=latest') }}"
            several: "{{ query('agentarea.secrets.gcp', '%(proj)s/%(p)s-token', '%(p)s-nope', on_missing='skip') }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - latest | hash('sha256') == '%(h2)s'
              - whole.user == 'app' and whole.password | hash('sha256') == '%(h2)s'
              - first | hash('sha256') == '%(h)s' and resource | hash('sha256') == '%(h)s'
              - by_ref | hash('sha256') == '%(h3)s'
              - several | map('hash', 'sha256') | list == ['%(h3)s']
            quiet: true
    """ % {"proj": proj, "p": prefix, "h": sha(CANARY), "h2": sha(CANARY2), "h3": sha(CANARY3)})
    ansible.playbook(reads, env=gcp["env"], canaries=ALL)
    # the same through lookup arguments: project, endpoint and token given to the call
    explicit = play("""
        - name: explicit
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.gcp', '%(p)s-db', key='password', project='%(proj)s',
                         api_endpoint='%(url)s', access_token=token) | hash('sha256') == '%(h2)s'
            quiet: true
    """ % {"proj": proj, "p": prefix, "url": gcp["url"], "h2": sha(CANARY2)}, vars_="token: \"{{ lookup('env', 'T') }}\"")
    ansible.playbook(explicit, env={"T": TOKEN}, canaries=ALL)
    for name in ("db", "token"):
        gsm.delete_secret(name="projects/%s/secrets/%s-%s" % (proj, prefix, name))


def test_disabled_destroyed_and_missing_versions(ansible, gcp, gsm, prefix):
    proj = gcp["project"]
    names = create(gsm, proj, prefix + "-db", CANARY, CANARY2)
    gsm.disable_secret_version(name=names[1])
    create(gsm, proj, prefix + "-old", CANARY3, CANARY3)
    tasks = play("""
        - name: disabled
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.gcp', '%(p)s-db', version='2') }}"}
          ignore_errors: true
        - name: skipped
          ansible.builtin.set_fact:
            got: "{{ query('agentarea.secrets.gcp', '%(p)s-db?version=2', '%(p)s-nope', on_deleted='warn',
                           on_missing='skip') }}"
        - name: latest
          ansible.builtin.assert:
            # DIFF (drongo): latest is the newest *enabled* version here; the real service answers FAILED_PRECONDITION
            # for a disabled newest version, which the lookup reports as deleted.
            that: lookup('agentarea.secrets.gcp', '%(p)s-db') | hash('sha256') == '%(h)s'
            quiet: true
        - name: info
          agentarea.secrets.secret_info: {ref: "gcp://%(proj)s/%(p)s-db?version=2"}
          register: info
        - name: destroy
          agentarea.secrets.secret: {ref: "gcp://%(proj)s/%(p)s-old?version=1", state: absent}
          register: destroy
        - name: destroyed
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.gcp', '%(p)s-old', version='1') }}"}
          ignore_errors: true
        - name: missing
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.gcp', '%(p)s-db', version='9') }}"}
          ignore_errors: true
    """ % {"proj": proj, "p": prefix, "h": sha(CANARY)})
    destroy_only = play("""
        - name: destroy
          agentarea.secrets.secret: {ref: "gcp://%(proj)s/%(p)s-old?version=1", state: absent}
    """ % {"proj": proj, "p": prefix})
    check = ansible.playbook(destroy_only, env=gcp["env"], check=True, canaries=ALL)
    assert check.task("destroy")["changed"] and versions(gsm, proj, prefix + "-old")["1"] == "ENABLED"
    result = ansible.playbook(tasks, env=gcp["env"], canaries=ALL)
    assert "'gcp://%s/%s-db?version=2': version 2 is disabled" % (proj, prefix) in result.task("disabled")["msg"]
    assert result.task("skipped")["ansible_facts"]["got"] == [] and "(skipped)" in result.output
    assert result.task("info")["state"] == "deleted"
    assert result.task("destroy")["changed"] and versions(gsm, proj, prefix + "-old") == {"1": "DESTROYED",
                                                                                          "2": "ENABLED"}
    assert "version 1 is destroyed" in result.task("destroyed")["msg"]
    assert "no such secret or version" in result.task("missing")["msg"]
    again = ansible.playbook(tasks, env=gcp["env"], canaries=ALL)
    assert not again.task("destroy")["changed"]
    for name in ("db", "old"):
        gsm.delete_secret(name="projects/%s/secrets/%s-%s" % (proj, prefix, name))


def test_denied_as_the_service_denies(ansible, gcp):
    """drongo has no IAM: a stand-in answers like Secret Manager does for a principal without access."""
    body = {"error": {"code": 403, "status": "PERMISSION_DENIED",
                      "message": "Permission 'secretmanager.versions.access' denied for resource "
                                 "'projects/p/secrets/db/versions/latest' (or it may not exist)."}}
    with Denier(403, body) as denier:
        env = dict(gcp["env"], ANSIBLE_AGENTAREA_SECRETS_GCP_API_ENDPOINT=denier.url)
        tasks = play("""
            - name: denied
              ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.gcp', 'p/db') }}"}
              ignore_errors: true
            - name: skipped
              ansible.builtin.set_fact:
                got: "{{ query('agentarea.secrets.gcp', 'p/db', on_denied='skip') }}"
            - name: info
              agentarea.secrets.secret_info: {ref: "gcp://p/db"}
              ignore_errors: true
        """)
        result = ansible.playbook(tasks, env=env, canaries=ALL)
    assert "'gcp://p/db': reading: access denied" in result.task("denied")["msg"]
    assert "secretmanager.versions.access" in result.task("denied")["msg"]
    assert result.task("skipped")["ansible_facts"]["got"] == []
    assert result.task("info")["state"] == "denied"


def test_leak_suite_every_gcp_plugin(ansible, gcp, gsm, prefix):
    proj = gcp["project"]
    create(gsm, proj, prefix + "-app", json.dumps({"password": CANARY, "url": "postgresql://db"}))
    tasks = """
        - name: lookups
          ansible.builtin.set_fact:
            a: "{{ lookup('agentarea.secrets.gcp', '%(p)s-app', key='password') }}"
            b: "{{ lookup('agentarea.secrets.secret', 'gcp://%(proj)s/%(p)s-app') }}"
          no_log: true
        - name: loop
          ansible.builtin.assert: {that: item | length > 0, quiet: true}
          loop: "{{ query('agentarea.secrets.gcp', '%(p)s-app', '%(p)s-app', key='password') }}"
          loop_control: {label: password}
          no_log: true
        - name: write
          agentarea.secrets.secret: {ref: "gcp://%(proj)s/%(p)s-written#token", value: "{{ lookup('env', 'C2') }}",
                                     tags: {owner: x}}
        - name: info
          agentarea.secrets.secret_info: {ref: "gcp://%(proj)s/%(p)s-written#token"}
        - name: failing module
          agentarea.secrets.secret: {ref: "gcp://%(proj)s/%(p)s-app?version=1", value: "{{ lookup('env', 'C2') }}"}
          ignore_errors: true
        - name: failing lookup
          ansible.builtin.debug: {msg: "{{ lookup('agentarea.secrets.gcp', '%(p)s-app', key='nope') }}"}
          ignore_errors: true
    """ % {"proj": proj, "p": prefix}
    results = run_leak_suite(ansible, play(tasks), ALL, env=dict(gcp["env"], C2=CANARY2))
    assert "the secret has no key 'nope' (keys: password, url)" in results[0].output
    assert json.loads(access(gsm, proj, prefix + "-written")) == {"token": CANARY2}
    for name in ("app", "written"):
        gsm.delete_secret(name="projects/%s/secrets/%s-%s" % (proj, prefix, name))
