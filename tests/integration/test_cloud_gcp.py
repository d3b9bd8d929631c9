# -*- coding: utf-8 -*-
"""Google Secret Manager through ansible-playbook against drongo (REST only): what only GCP has: JSON keys,
versions, lookups by name, reference and resource name, disabled, destroyed and missing versions, a denial as the
service sends it. Module writes (check -> apply -> apply again -> clean up, labels) and the leak suite are
test_cloud_stores.py's, with GCP's differences in cloud_helpers.GcpStore. Set-up and checks use
google-cloud-secret-manager directly.

drongo differs from the real service (TESTING.md) where noted: ``latest`` resolves to the newest *enabled* version
(the real service takes the newest and fails when it is disabled: the backend reports that as deleted, see
tests/unit/.../test_gcp.py), ``data_crc32c`` is 0 (not verified then), and there is no IAM (denials come from a
stand-in server below).
"""
import json

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from tests.harness.cloud_helpers import Denier, play, prefix, sha  # noqa: F401 pylint: disable=unused-import

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


def test_service_account_info_inline_dict_or_json_text(ansible, gcp, gsm, prefix):
    """The service-account JSON given inline (as AWX credentials and vaulted variables give it), as a dict and as
    its JSON text: google-auth signs a JWT with its key and exchanges it at the key's token_uri (a stand-in token
    endpoint here, as drongo has none) for the bearer token drongo accepts. The private key never shows up in any
    output, and the key is never written to a file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    key_canary = pem.splitlines()[5]  # a line of the key's body
    proj = gcp["project"]
    create(gsm, proj, prefix + "-sa", CANARY)
    with Denier(200, {"access_token": "ya29.from-the-token-endpoint", "token_type": "Bearer", "expires_in": 3600}) as token:
        sa = {"type": "service_account", "project_id": proj, "private_key_id": "k1", "private_key": pem,
              "client_email": "deployer@%s.iam.gserviceaccount.com" % proj, "client_id": "1", "token_uri": token.url}
        env = dict((k, v) for k, v in gcp["env"].items() if k != "CLOUDSDK_AUTH_ACCESS_TOKEN")
        tasks = play("""
            - name: read
              ansible.builtin.assert:
                that:
                  - lookup('agentarea.secrets.gcp', '%(p)s-sa', service_account_info=sa) | hash('sha256') == '%(h)s'
                  - lookup('agentarea.secrets.gcp', '%(p)s-sa', service_account_info=sa | to_json) | hash('sha256') == '%(h)s'
                quiet: true
            - name: write
              agentarea.secrets.secret:
                ref: gcp://%(proj)s/%(p)s-sa-written
                value: "%(c)s"
                service_account_info: "{{ sa | to_json }}"
              register: write
        """ % {"p": prefix, "h": sha(CANARY), "proj": proj, "c": CANARY2})
        canaries = ALL + [key_canary]
        checked = ansible.playbook(tasks, extra_vars={"sa": sa}, env=env, check=True, canaries=canaries).task("write")
        assert checked["changed"] and checked["action"] == "created"
        written = ansible.playbook(tasks, extra_vars={"sa": sa}, env=env, canaries=canaries).task("write")
        assert written["changed"] and access(gsm, proj, prefix + "-sa-written") == CANARY2
        again = ansible.playbook(tasks, extra_vars={"sa": sa}, env=env, canaries=canaries,
                                 verbosity=3).task("write")
        assert not again["changed"]
        # not JSON: an error that does not quote it
        bad = ansible.playbook(play("""
            - name: bad
              agentarea.secrets.secret: {ref: "gcp://%s/%s-sa-x", value: x, service_account_info: "{{ broken }}"}
              ignore_errors: true
        """ % (proj, prefix)), extra_vars={"broken": '{"private_key": "' + key_canary + '"'}, env=env,
            canaries=canaries).task("bad")
        assert "service_account_info must be the credentials JSON" in bad["msg"]
    for name in (prefix + "-sa", prefix + "-sa-written"):
        gsm.delete_secret(name="projects/%s/secrets/%s" % (proj, name))
