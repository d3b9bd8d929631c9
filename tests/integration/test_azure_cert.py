# -*- coding: utf-8 -*-
"""Azure Key Vault with service principal credentials through ansible-playbook, against the harness's ``azure_ad``
service: our Key Vault fake with its own Entra ID tenant (tests/fakes/azure_ad.py) that verifies client secrets and
certificate assertions (the JWT's signature against the registered certificate, its thumbprint, aud, iss, sub and
expiry), and a vault that accepts only the tokens that tenant issued.

One playbook: the certificate credential from azure-identity's own variables (``AZURE_CLIENT_CERTIFICATE_PATH``, the
tenant's ``AZURE_AUTHORITY_HOST``) with its password in an inventory variable, for a lookup and the ``secret``
module (check -> apply -> apply again); the client secret credential; a certificate the app does not know, a wrong
password and a token the vault did not issue, refused with the cause. The key's password, the PEM key, the client
secret and the values never appear in the output (-vvvv). Set-up and checks use the SDK directly.
"""
import json

import pytest
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient

from tests.harness.cloud_helpers import play, prefix, sha  # noqa: F401 pylint: disable=unused-import
from tests.harness.servers.tls import make_client_certificate

CANARY = "canary-5d1e7a90-azcert"
CANARY2 = "canary-b83f0c24-azcert"


@pytest.fixture(scope="module")
def azure_ad(harness):
    return harness.start("azure_ad")


@pytest.fixture(scope="module")
def kv(azure_ad):
    cred = ClientSecretCredential(azure_ad["tenant_id"], azure_ad["client_id"], azure_ad["client_secret"],
                                  authority=azure_ad["authority"], disable_instance_discovery=True,
                                  connection_verify=azure_ad["ca_cert"])
    return SecretClient(azure_ad["url"], cred, verify_challenge_resource=False, connection_verify=azure_ad["ca_cert"])


def purge(kv, *names):
    for name in names:
        try:
            kv.begin_delete_secret(name).wait()
            kv.purge_deleted_secret(name)
        except ResourceNotFoundError:
            pass


def key_lines(path):
    """Lines of the PEM private key (encrypted or not) in ``path``: none may appear in any output."""
    with open(path) as f:
        text = f.read()
    body = text.split("-----BEGIN ", 1)[1].split("-----END ", 1)[0]
    return [line for line in body.splitlines()[1:] if len(line) >= 40][:3]


def test_certificate_and_client_secret_credentials(ansible, azure_ad, kv, prefix, tmp_path):
    ad = azure_ad
    with pytest.raises(ClientAuthenticationError):  # the vault checks tokens: one it did not issue is refused
        SecretClient(ad["url"], ClientSecretCredential(ad["tenant_id"], ad["client_id"], "wrong-secret",
                                                       authority=ad["authority"], disable_instance_discovery=True,
                                                       connection_verify=ad["ca_cert"]),
                     verify_challenge_resource=False, connection_verify=ad["ca_cert"]).get_secret("x")
    kv.set_secret(prefix + "-db", json.dumps({"user": "app", "password": CANARY}))
    # not registered with the app (encrypted with the same password, which the runs set for every certificate)
    stranger, _public = make_client_certificate(str(tmp_path), "stranger", password=ad["client_certificate_password"])
    name = prefix + "-new"
    tasks = play("""
        - name: certificate lookup
          ansible.builtin.set_fact:
            password: "{{ lookup('agentarea.secrets.azure', '%(p)s-db', key='password') }}"
          no_log: true
        - name: certificate write (check)
          agentarea.secrets.secret: {ref: "azure://%(h)s/%(n)s", value: "%(c2)s"}
          check_mode: true
          register: checked
        - name: certificate write
          agentarea.secrets.secret: {ref: "azure://%(h)s/%(n)s", value: "%(c2)s"}
          register: written
        - name: certificate write again
          agentarea.secrets.secret: {ref: "azure://%(h)s/%(n)s", value: "%(c2)s"}
          register: again
        - name: client secret lookup
          ansible.builtin.set_fact:
            by_secret: "{{ lookup('agentarea.secrets.secret', 'azure://%(h)s/%(n)s', auth='client_secret',
                                  client_secret=lookup('env', 'CS')) }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that: [password | hash('sha256') == '%(h1)s', by_secret | hash('sha256') == '%(h2)s']
            quiet: true
        - name: unknown certificate
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-db', client_certificate='%(stranger)s') }}"
          ignore_errors: true
        - name: unknown certificate module
          agentarea.secrets.secret_info: {ref: "azure://%(h)s/%(p)s-db", client_certificate: "%(stranger)s"}
          ignore_errors: true
        - name: wrong password
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-db', client_certificate_password='not-it') }}"
          ignore_errors: true
        - name: foreign token
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.azure', '%(p)s-db', access_token='eyJhbGciOi.not-issued.here') }}"
          ignore_errors: true
    """ % {"h": ad["url"].split("://", 1)[1], "p": prefix, "n": name, "c2": CANARY2, "h1": sha(CANARY),
           "h2": sha(CANARY2), "stranger": stranger},
        vars_="ansible_agentarea_secrets_azure_client_certificate_password: \"{{ lookup('env', 'PW') }}\"")
    env = {"AZURE_TENANT_ID": ad["tenant_id"], "AZURE_CLIENT_ID": ad["client_id"],
           "AZURE_CLIENT_CERTIFICATE_PATH": ad["client_certificate"], "AZURE_AUTHORITY_HOST": ad["authority"],
           "AZURE_KEYVAULT_URL": ad["url"], "ANSIBLE_AGENTAREA_SECRETS_AZURE_CA_CERT": ad["ca_cert"],
           "PW": ad["client_certificate_password"], "CS": ad["client_secret"]}
    canaries = [CANARY, CANARY2, ad["client_secret"], ad["client_certificate_password"]]
    canaries += key_lines(ad["client_certificate"]) + key_lines(stranger)
    result = ansible.playbook(tasks, env=env, diff=True, verbosity=4, canaries=canaries)

    assert result.task("certificate write (check)")["changed"]
    assert result.task("certificate write")["changed"] and result.task("certificate write")["action"] == "created"
    assert not result.task("certificate write again")["changed"]
    assert kv.get_secret(name).value == CANARY2 and len(list(kv.list_properties_of_secret_versions(name))) == 1
    for task in ("unknown certificate", "unknown certificate module"):
        msg = result.task(task)["msg"]
        assert "AADSTS700027" in msg and "signature validation" in msg, msg
        assert ad["url"] in msg and ad["tenant_id"] in msg and ad["client_id"] in msg, msg
        assert "client_certificate credential" in msg and "Traceback" not in msg, msg
    msg = result.task("wrong password")["msg"]
    assert "cannot load the certificate and its key" in msg and ad["client_certificate"] in msg, msg
    assert "client_certificate_password" in msg and ad["tenant_id"] in msg, msg
    msg = result.task("foreign token")["msg"]
    assert "access denied (Unauthorized)" in msg and "AKV10000" in msg, msg
    assert "Traceback" not in result.output
    purge(kv, prefix + "-db", name)
