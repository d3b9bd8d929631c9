# -*- coding: utf-8 -*-
"""Vault/OpenBao auth through ansible-playbook: every auth method logs in for real (counted in OpenBao's audit
log), one login and one read for 50 tasks, token renewal near its TTL, revocation at the end of the run,
namespaces, TLS with ca_cert; community.hashi_vault's token_file, none, token_validate, retries' dict form; azure and
gcp against fake identity endpoints (OpenBao's jwt method plays Vault's azure and gcp methods)."""
import json
import os
import threading
import time
import uuid

import hvac
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.harness.faultproxy import FaultProxy
from tests.harness.vault_helpers import (
    Audit,
    ca_and_client_cert,
    ensure_auth,
    ensure_engine,
    env_for,
    play,
    public_pem,
    read_policy,
    rsa_key,
    sha,
)

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CANARY = "canary-5be0a9d3-vault-auth"
OPTION = "ansible_agentarea_secrets_vault_"
READ_TWICE = """
    - name: read
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(p)s/db', key='v') | hash('sha256') == '%(h)s'
        quiet: true
    - name: read another
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(p)s/other', key='v') == 'other'
        quiet: true
"""


def seed(client, prefix):
    client.secrets.kv.v2.create_or_update_secret(prefix + "/db", {"v": CANARY})
    client.secrets.kv.v2.create_or_update_secret(prefix + "/other", {"v": "other"})
    return read_policy(client, prefix, "secret/data/%s/*" % prefix)


def setup_approle(client, prefix, **role):
    ensure_auth(client, "approle")
    client.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl=role.get("ttl", "5m"),
                                                 token_max_ttl="10m")
    role_id = client.auth.approle.read_role_id(prefix)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(prefix)["data"]["secret_id"]
    return {OPTION + "auth_method": "approle", OPTION + "role_id": role_id, OPTION + "secret_id": secret_id}


def setup_userpass(client, prefix, tmp_path):
    ensure_auth(client, "userpass")
    password = "pw-" + uuid.uuid4().hex
    client.auth.userpass.create_or_update_user(prefix, password, policies=[prefix])
    return {OPTION + "auth_method": "userpass", OPTION + "username": prefix, OPTION + "password": password}


def setup_jwt(client, prefix, tmp_path):
    ensure_auth(client, "jwt")
    key = rsa_key()
    client.auth.jwt.configure(jwt_validation_pubkeys=[public_pem(key)], bound_issuer="https://ci.agentarea.test")
    client.auth.jwt.create_role(prefix, role_type="jwt", user_claim="sub", bound_audiences=["agentarea"],
                                bound_claims={"project": "agentarea"}, token_policies=[prefix], allowed_redirect_uris=[])
    now = int(time.time())
    token = jwt.encode({"iss": "https://ci.agentarea.test", "aud": "agentarea", "sub": "pipeline-42",
                        "project": "agentarea", "iat": now, "nbf": now - 5, "exp": now + 600}, key, algorithm="RS256")
    return {OPTION + "auth_method": "jwt", OPTION + "role": prefix, OPTION + "jwt": token}


def setup_kubernetes(client, prefix, tmp_path, k8s):
    ensure_auth(client, "kubernetes")
    any_pem = open(ca_and_client_cert(tmp_path, "k8s-ca")["ca"]).read()  # bao insists on some CA PEM
    client.auth.kubernetes.configure(kubernetes_host=k8s["url"], kubernetes_ca_cert=any_pem,
                                     token_reviewer_jwt=k8s["token"], disable_local_ca_jwt=True)
    client.auth.kubernetes.create_role(prefix, bound_service_account_names=["agentarea-api"],
                                       bound_service_account_namespaces=["agentarea"], policies=[prefix])
    claims = {"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:agentarea:agentarea-api",
              "kubernetes.io/serviceaccount/namespace": "agentarea",
              "kubernetes.io/serviceaccount/service-account.name": "agentarea-api",
              "kubernetes.io/serviceaccount/service-account.uid": str(uuid.uuid4())}
    token_file = tmp_path / "sa-token"
    token_file.write_text(jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"))
    return {OPTION + "auth_method": "kubernetes", OPTION + "role": prefix,
            OPTION + "kubernetes_token_path": str(token_file)}


@pytest.mark.parametrize("method", ["token", "approle", "userpass", "jwt", "kubernetes"])
def test_each_auth_method_logs_in_once_and_is_revoked(ansible, harness, vault, root, prefix, tmp_path, method):
    seed(root, prefix)
    env = env_for(vault, token=False)
    if method == "token":
        token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
        env["VAULT_TOKEN"], options, secret = token, {}, token
    elif method == "approle":
        options = setup_approle(root, prefix)
        secret = options[OPTION + "secret_id"]
    elif method == "kubernetes":
        options = setup_kubernetes(root, prefix, tmp_path, harness.start("k8s"))
        secret = None
    else:
        options = globals()["setup_" + method](root, prefix, tmp_path)
        secret = options[OPTION + ("password" if method == "userpass" else "jwt")]
    audit = Audit(vault["audit_log"])
    result = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, extra_vars=options,
                              canaries=[CANARY, secret], verbosity=3)
    login = "auth/%s/login" % method + ("/" + prefix if method == "userpass" else "")
    assert audit.count(login) == (0 if method == "token" else 1), result
    assert audit.count("secret/data/%s/db" % prefix) == 1
    assert audit.count("auth/token/revoke-self") == (0 if method == "token" else 1)
    if method == "token":
        assert sorted(root.auth.token.lookup(token)["data"]["policies"]) == sorted(["default", prefix])  # kept


def test_cert_auth_over_tls_with_ca_cert(ansible, harness, prefix, tmp_path):
    tls = harness.start("vault_tls")
    client = hvac.Client(url=tls["url"], token=tls["token"], verify=tls["ca_cert"])
    seed(client, prefix)
    ensure_auth(client, "cert")
    pki = ca_and_client_cert(tmp_path, prefix)
    client.auth.cert.create_ca_certificate_role(prefix, certificate=open(pki["ca"]).read(), token_policies=[prefix])
    options = {OPTION + "auth_method": "cert", OPTION + "client_cert": pki["cert"],
               OPTION + "client_key": pki["key"], OPTION + "role": prefix}
    audit = Audit(tls["audit_log"])
    ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env_for(tls, token=False),
                     extra_vars=options, canaries=[CANARY])
    assert audit.count("auth/cert/login") == 1 and audit.count("auth/token/revoke-self") == 1
    assert audit.count("secret/data/%s/db" % prefix) == 1

    no_ca = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env={"VAULT_ADDR": tls["url"]},
                             extra_vars=options, canaries=[CANARY], expect_rc=2)
    assert "TLS verification failed" in no_ca.output and "set ca_cert" in no_ca.output


def test_modules_log_in_from_the_environment_as_awx_injects_it(ansible, vault, root, prefix):
    """A custom AWX credential type injects ANSIBLE_AGENTAREA_SECRETS_VAULT_* variables; each module run logs in once
    and revokes its token when the module exits."""
    policy = seed(root, prefix)
    root.sys.create_or_update_policy(policy, 'path "secret/data/%s/*" { capabilities = ["create", "read", "update"] }'
                                     '\npath "secret/metadata/%s/*" { capabilities = ["read", "update"] }'
                                     % (prefix, prefix))
    options = setup_approle(root, prefix)
    env = dict(env_for(vault, token=False), **{name.upper(): value for name, value in options.items()})
    write = play("""
        - name: write
          agentarea.secrets.secret: {ref: "vault://secret/%s/module#k", value: from-module}
          register: write
    """ % prefix)
    audit = Audit(vault["audit_log"])
    assert ansible.playbook(write, env=env, check=True).task("write")["changed"]
    assert ansible.playbook(write, env=env).task("write")["changed"]
    assert not ansible.playbook(write, env=env).task("write")["changed"]
    assert audit.count("auth/approle/login") == 3 and audit.count("auth/token/revoke-self") == 3
    assert root.secrets.kv.v2.read_secret_version(prefix + "/module", raise_on_deleted_version=True)[
        "data"]["data"] == {"k": "from-module"}


def test_failed_logins_are_clear(ansible, vault, root, prefix, tmp_path):
    seed(root, prefix)
    approle = setup_approle(root, prefix)
    approle[OPTION + "secret_id"] = "not-" + approle[OPTION + "secret_id"]
    userpass = setup_userpass(root, prefix, tmp_path)
    userpass[OPTION + "password"] = "wrong-password-canary"
    for options, why in ((approle, "invalid role_id or secret_id"), (userpass, "invalid username or password")):
        result = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env_for(vault, token=False),
                                  extra_vars=options, expect_rc=2, canaries=[CANARY, "wrong-password-canary"])
        method = options[OPTION + "auth_method"]
        assert "login failed (login, root namespace, auth %s at auth/%s" % (method, method) in result.output
        assert why in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("where", ["play", "group_vars"])
def test_fifty_tasks_one_login_one_read(ansible, vault, root, prefix, where):
    """The lazy-templating trap: a variable holding a lookup is evaluated again by every task that uses it."""
    seed(root, prefix)
    options = setup_approle(root, prefix)
    tasks = "\n".join("""
        - name: use %d
          ansible.builtin.assert: {that: database_password | length > 0, quiet: true}""" % i for i in range(50))
    variable = "database_password: \"{{ lookup('agentarea.secrets.vault', '%s/db', key='v') }}\"\n" % prefix
    playbook = play(tasks, vars_=variable if where == "play" else None)
    files = {"group_vars/all.yml": variable} if where == "group_vars" else None
    audit = Audit(vault["audit_log"])
    ansible.playbook(playbook, env=env_for(vault, token=False), extra_vars=options, canaries=[CANARY], files=files)
    assert audit.count("auth/approle/login") == 1
    assert audit.count("secret/data/%s/db" % prefix) == 1
    assert audit.count("auth/token/revoke-self") == 1
    if where == "group_vars":
        return
    audit = Audit(vault["audit_log"])
    result = ansible.playbook(playbook, env=env_for(vault, token=False), extra_vars=options, canaries=[CANARY],
                              run_cache=False)
    # without the callback the run's broker (started by the first lookup) logs in once and reads once; it
    # revokes its token just after ansible-playbook exits
    deadline = time.time() + 10
    while audit.count("auth/token/revoke-self") < 1 and time.time() < deadline:
        time.sleep(0.1)
    assert audit.count("auth/approle/login") == 1 and audit.count("secret/data/%s/db" % prefix) == 1
    assert audit.count("auth/token/revoke-self") == 1
    assert "run cache is not enabled" not in result.output


def test_token_renewed_near_its_ttl_and_kept_on_request(ansible, vault, root, prefix):
    seed(root, prefix)
    options = setup_approle(root, prefix, ttl="9s")
    tasks = READ_TWICE.replace("    - name: read another", "    - name: wait\n      ansible.builtin.pause: {seconds: 6.5}"
                               "\n    - name: read another")
    audit = Audit(vault["audit_log"])
    ansible.playbook(play(tasks % {"p": prefix, "h": sha(CANARY)}), env=env_for(vault, token=False),
                     extra_vars=options, canaries=[CANARY])
    assert audit.count("auth/approle/login") == 1
    assert audit.count("auth/token/renew-self") == 1
    assert audit.count("secret/data/%s/other" % prefix) == 1 and audit.count("auth/token/revoke-self") == 1

    audit = Audit(vault["audit_log"])
    options[OPTION + "keep_token"] = True
    ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env_for(vault, token=False),
                     extra_vars=options, canaries=[CANARY])
    assert audit.count("auth/approle/login") == 1 and audit.count("auth/token/revoke-self") == 0


def test_namespaces(ansible, vault, root, prefix):
    namespace = "team-" + prefix[-8:]
    root.sys.create_namespace(namespace)
    scoped = hvac.Client(url=vault["url"], token=vault["token"], namespace=namespace)
    ensure_engine(scoped, "kv", "secret", options={"version": "2"})
    seed(scoped, prefix)
    options = setup_approle(scoped, prefix)
    reads = play("""
        - name: token in the namespace
          ansible.builtin.assert:
            that:
              - lookup('agentarea.secrets.vault', '%(p)s/db', key='v', namespace='%(ns)s') | hash('sha256') == '%(h)s'
              - query('agentarea.secrets.vault', '%(p)s/db', key='v', on_missing='skip') == []
            quiet: true
        - name: approle in the namespace
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%(p)s/other', key='v', namespace='%(ns)s', auth_method='approle',
                         role_id=role_id, secret_id=secret_id) == 'other'
            quiet: true
    """ % {"p": prefix, "ns": namespace, "h": sha(CANARY)})
    creds = {"role_id": options[OPTION + "role_id"], "secret_id": options[OPTION + "secret_id"]}
    audit = Audit(vault["audit_log"])
    ansible.playbook(reads, env=env_for(vault), extra_vars=creds, canaries=[CANARY])
    assert any(r.get("namespace", {}).get("path") == namespace + "/" and r["path"] == "auth/approle/login"
               for r in audit.requests())

    write = play("""
        - name: write
          agentarea.secrets.secret: {ref: "vault://secret/%s/written#k", value: in-namespace}
          register: write
    """ % prefix)
    env = dict(env_for(vault), VAULT_NAMESPACE=namespace)
    assert ansible.playbook(write, env=env, check=True).task("write")["changed"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        scoped.secrets.kv.v2.read_secret_version(prefix + "/written", raise_on_deleted_version=True)
    assert ansible.playbook(write, env=env).task("write")["changed"]
    assert scoped.secrets.kv.v2.read_secret_version(prefix + "/written", raise_on_deleted_version=True)[
        "data"]["data"] == {"k": "in-namespace"}
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version(prefix + "/written", raise_on_deleted_version=True)
    assert not ansible.playbook(write, env=env).task("write")["changed"]
    scoped.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/written")


# -- community.hashi_vault parity: token_file, none, token_validate, retries' dict form, aws_iam -----------------
def write_token(path, token, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    os.chmod(str(path), mode)
    return str(path)


def test_token_file_is_a_vault_agent_sink_rewritten_mid_run(ansible, vault, root, prefix, tmp_path):
    """Vault Agent renews or replaces its token and rewrites the sink (a new file renamed over the old one): the
    tasks after the rewrite use the new token, lookups and modules alike, and neither token is ever shown."""
    seed(root, prefix)
    root.sys.create_or_update_policy(prefix + "-after", 'path "secret/data/%s/other" { capabilities = ["read"] }\n'
                                     'path "secret/data/%s/module" { capabilities = ["create", "read", "update"] }\n'
                                     'path "secret/metadata/%s/module" { capabilities = ["read", "update"] }\n'
                                     'path "sys/internal/ui/mounts/*" { capabilities = ["read"] }'
                                     % (prefix, prefix, prefix))
    before = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]  # reads db only
    after = root.auth.token.create(policies=[prefix + "-after"], ttl="10m")["auth"]["client_token"]
    agent = tmp_path / "agent"
    sink = write_token(agent / "sink", before, mode=0o640)  # Vault Agent's default sink mode
    write_token(agent / "sink.new", after, mode=0o640)
    tasks = """
        - name: read with the first token
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%(p)s/db', key='v') | hash('sha256') == '%(h)s'
            quiet: true
        - name: the agent renews and rewrites its sink
          ansible.builtin.command: {argv: [mv, "%(dir)s/sink.new", "%(dir)s/sink"]}
          changed_when: false
        - name: read with the new token
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%(p)s/other', key='v') == 'other'
            quiet: true
        - name: write
          agentarea.secrets.secret: {ref: "vault://secret/%(p)s/module#k", value: from-sink}
          register: write
    """ % {"p": prefix, "h": sha(CANARY), "dir": agent}
    env = dict(env_for(vault, token=False), ANSIBLE_AGENTAREA_SECRETS_VAULT_TOKEN_FILE=sink)
    result = ansible.playbook(play(tasks), env=env, canaries=[CANARY, before, after], verbosity=3)
    assert result.task("write")["changed"]
    assert root.secrets.kv.v2.read_secret_version(prefix + "/module", raise_on_deleted_version=True)[
        "data"]["data"] == {"k": "from-sink"}
    assert root.auth.token.lookup(after)["data"]["policies"]  # a given token is never revoked

    os.chmod(sink, 0o644)
    loose = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, expect_rc=2,
                             canaries=[CANARY, before, after])
    assert "token_file '%s' is accessible to other users (mode 0644)" % sink in loose.output
    assert "Traceback" not in loose.output
    os.unlink(sink)
    gone = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, expect_rc=2,
                            canaries=[CANARY, before, after])
    assert "token_file '%s' does not exist" % sink in gone.output


def test_vault_token_is_read_only_when_asked_for(ansible, vault, root, prefix, tmp_path):
    """After `vault login`, ~/.vault-token holds the token: read when token_file names it (~ expanded), never
    behind the user's back."""
    seed(root, prefix)
    token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
    home = tmp_path / "user-home"
    write_token(home / ".vault-token", token)
    env = dict(env_for(vault, token=False), HOME=str(home))
    implicit = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, expect_rc=2,
                                canaries=[CANARY, token])
    assert "auth_method=token needs a token" in implicit.output
    audit = Audit(vault["audit_log"])
    ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, canaries=[CANARY, token],
                     extra_vars={OPTION + "token_file": "~/.vault-token"}, verbosity=3)
    assert audit.count("secret/data/%s/db" % prefix) == 1


class AgentProxy:
    """A Vault-Agent-like listener (``use_auto_auth_token``): forwards every request to OpenBao with its own token,
    and records whether the client sent one."""

    def __init__(self, upstream, token):
        import http.client
        import urllib.parse
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        target = urllib.parse.urlsplit(upstream)
        seen = self.client_tokens = []

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append(self.headers.get("X-Vault-Token"))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("x-vault-token", "host")}
                headers["X-Vault-Token"] = token
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_auth_none_behind_a_vault_agent(ansible, vault, root, prefix):
    seed(root, prefix)
    token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
    agent = AgentProxy(vault["url"], token)
    try:
        env = {"VAULT_ADDR": agent.url, "VAULT_TOKEN": "ambient-token-canary"}  # AWX-style leftovers are not sent
        ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env,
                         canaries=[CANARY, token, "ambient-token-canary"],
                         extra_vars={OPTION + "auth_method": "none", OPTION + "token_validate": True}, verbosity=3)
        assert agent.client_tokens and set(agent.client_tokens) == {None}  # the client never sent a token
    finally:
        agent.close()


def test_token_validate_names_a_revoked_token(ansible, vault, root, prefix, tmp_path):
    seed(root, prefix)
    token = root.auth.token.create(policies=[prefix], ttl="10m")["auth"]["client_token"]
    root.auth.token.revoke(token)
    for source in ("env", "file"):
        env = env_for(vault, token=False)
        extra = {OPTION + "token_validate": True}
        if source == "env":
            env["VAULT_TOKEN"] = token
        else:
            extra[OPTION + "token_file"] = write_token(tmp_path / "sink", token)
        audit = Audit(vault["audit_log"])
        result = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, extra_vars=extra,
                                  expect_rc=2, canaries=[CANARY, token])
        said = "the token from token_file" if source == "file" else "the token"
        assert "token_validate failed (token_validate (lookup-self), root namespace, auth token" in result.output
        assert "%s is invalid, expired or revoked" % said in result.output and vault["url"] in result.output
        assert audit.count("auth/token/lookup-self") >= 1 and audit.count("secret/data/%s/db" % prefix) == 0
        assert "Traceback" not in result.output


def test_retries_in_community_hashi_vault_dict_form(ansible, vault, root, prefix):
    seed(root, prefix)
    with FaultProxy(vault["url"]) as proxy:
        env = dict(env_for(vault), VAULT_ADDR=proxy.url)
        retries = {"total": 2, "backoff_factor": 0, "status_forcelist": [503]}
        rule = proxy.add("status", status=503, method="GET", path=r"^/v1/secret/data/%s/db" % prefix, times=2)
        ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, canaries=[CANARY],
                         extra_vars={OPTION + "retries": retries})
        assert rule.fired == 2

        # the same as JSON text from the environment, one retry short
        proxy.clear()
        proxy.add("status", status=503, method="GET", path=r"^/v1/secret/data/%s/db" % prefix, times=2)
        env["ANSIBLE_AGENTAREA_SECRETS_VAULT_RETRIES"] = json.dumps(dict(retries, total=1))
        short = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, expect_rc=2,
                                 canaries=[CANARY])
        assert "after 1 retry with back-off" in short.output and "Traceback" not in short.output

        bad = ansible.playbook(play(READ_TWICE % {"p": prefix, "h": sha(CANARY)}), env=env, expect_rc=2,
                               extra_vars={OPTION + "retries": {"totl": 3}})
        assert "retries has unknown keys totl" in bad.output


# -- azure and gcp: OpenBao ships neither plugin, but both are a JWT check on the server side -------------------------
# OpenBao's own jwt auth method, mounted at auth/azure and auth/gcp and trusting the fake endpoints' signing key (and a
# service-account key), plays Vault's azure and gcp methods: the client fetches its identity token the documented way
# from a fake IMDS / App Service / Azure AD / GCE metadata server (tests/fakes/cloud_identity.py), sends the documented
# login (OpenBao ignores the VM fields azure sends, with a warning), and OpenBao validates the JWT and issues a token.
CLOUD_TASKS = """
    - name: azure via IMDS (user-assigned identity, the VM's fields)
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='azure', role='%(p)s',
                     azure_client_id='mi-user-assigned', azure_subscription_id='sub-1', azure_resource_group_name='rg-1',
                     azure_vm_name='vm-1') | hash('sha256') == '%(h)s'
        quiet: true
    - name: azure via a service principal (role_id as community.hashi_vault names the role)
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='azure', role_id='%(p)s',
                     azure_tenant_id='tenant-1', azure_client_id='sp-1', azure_client_secret=sp_secret)
              | hash('sha256') == '%(h)s'
        quiet: true
    - name: gcp via the GCE metadata server
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='gcp', role='%(p)s')
              | hash('sha256') == '%(h)s'
        quiet: true
    - name: gcp with a service-account key file
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='gcp', role='%(p)s',
                     gcp_credentials_file=sa_file) | hash('sha256') == '%(h)s'
        quiet: true
    - name: module, azure via App Service's IDENTITY_ENDPOINT
      agentarea.secrets.secret_info: {ref: "vault://secret/%(p)s/db", auth_method: azure, role: "%(p)s"}
      environment: {IDENTITY_ENDPOINT: "http://%(fake)s/msi/token"}  # IDENTITY_HEADER is the run's (-vvv shows these)
      register: appservice
    - name: module, gcp with the service-account key inline (as an AWX credential injects it)
      agentarea.secrets.secret_info:
        ref: "vault://secret/%(p)s/db"
        auth_method: gcp
        role: "%(p)s"
        gcp_service_account_info: "{{ sa_json }}"
      check_mode: true
      register: inline
    - name: the metadata server does not answer
      agentarea.secrets.secret_info: {ref: "vault://secret/%(p)s/db", auth_method: gcp, role: "%(p)s"}
      environment: {GCE_METADATA_HOST: "127.0.0.1:%(dead)d"}
      register: down
      ignore_errors: true
    - name: a role the server does not know
      ansible.builtin.debug:
        msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='azure', role='nosuch-%(p)s') }}"
      register: norole
      ignore_errors: true
    - name: a key the server does not trust
      ansible.builtin.debug:
        msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='gcp', role='%(p)s',
                 gcp_service_account_info=other_sa_json) }}"
      register: wrongkey
      ignore_errors: true
    - name: a token for another resource
      ansible.builtin.debug:
        msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='azure', role='%(p)s',
                 azure_resource='https://vault.azure.net') }}"
      register: audience
      ignore_errors: true
    - name: a wrong client secret
      ansible.builtin.debug:
        msg: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='v', auth_method='azure', role='%(p)s',
                 azure_tenant_id='tenant-1', azure_client_id='sp-1', azure_client_secret='wrong-' ~ sp_secret) }}"
      register: badsecret
      ignore_errors: true
"""


def service_account(key, email):
    from cryptography.hazmat.primitives import serialization
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "agentarea-prod", "private_key_id": uuid.uuid4().hex,
            "private_key": pem, "client_email": email, "client_id": "1234567890",
            "token_uri": "https://oauth2.googleapis.com/token"}


def test_azure_and_gcp_logins_against_fake_identity_endpoints(ansible, vault, root, prefix, tmp_path):
    from cryptography.hazmat.primitives import serialization

    from tests.fakes.cloud_identity import CloudIdentity
    from tests.harness.servers.common import free_port

    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", {"v": CANARY})
    read_policy(root, prefix, "secret/data/%s/*" % prefix, "secret/metadata/%s/*" % prefix)
    cloud_key, sa_key, other_key = rsa_key(), rsa_key(), rsa_key()
    sp_secret, identity_header = "sp-secret-" + uuid.uuid4().hex, "idh-" + uuid.uuid4().hex
    fake = CloudIdentity(cloud_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode(),
                         identity_header=identity_header, principals={"sp-1": sp_secret})
    host = fake.start()
    try:
        for path, audience, keys in (("azure", "https://management.azure.com/", [cloud_key]),
                                     ("gcp", "vault/" + prefix, [cloud_key, sa_key])):
            ensure_auth(root, "jwt", path=path)
            root.auth.jwt.configure(jwt_validation_pubkeys=[public_pem(k) for k in keys], path=path)
            root.auth.jwt.create_role(prefix, role_type="jwt", user_claim="sub", bound_audiences=[audience],
                                      token_policies=[prefix], allowed_redirect_uris=[], path=path)
        sa = service_account(sa_key, "deploy@agentarea-prod.iam.gserviceaccount.com")
        sa_file = tmp_path / "sa.json"
        sa_file.write_text(json.dumps(sa))
        os.chmod(str(sa_file), 0o600)
        other = service_account(other_key, "other@agentarea-prod.iam.gserviceaccount.com")
        env = dict(env_for(vault, token=False), AZURE_POD_IDENTITY_AUTHORITY_HOST="http://" + host,
                   AZURE_AUTHORITY_HOST="http://" + host, GCE_METADATA_HOST=host, IDENTITY_HEADER=identity_header)
        extra = {"sp_secret": sp_secret, "sa_file": str(sa_file),
                 "sa_json": json.dumps(sa), "other_sa_json": json.dumps(other)}
        key_body = sa["private_key"].splitlines()[5]
        audit = Audit(vault["audit_log"])
        result = ansible.playbook(play(CLOUD_TASKS % {"p": prefix, "h": sha(CANARY), "fake": host,
                                                      "dead": free_port()}),
                                  env=env, extra_vars=extra, verbosity=3,
                                  canaries=[CANARY, sp_secret, identity_header, key_body,
                                            other["private_key"].splitlines()[5]])
    finally:
        fake.stop()
    for token in fake.issued:  # the identity tokens the fake handed out never show either
        ansible.assert_no_leak(result, [token])
    # the identity tokens were asked for the documented way
    kinds = [s["kind"] for s in fake.seen]
    imds = [s for s in fake.seen if s["kind"] == "imds"]
    assert imds and all(s["metadata"] == "true" and s["query"]["api-version"] == "2018-02-01" for s in imds), imds
    assert imds[0]["query"] == {"api-version": "2018-02-01", "resource": "https://management.azure.com/",
                                "client_id": "mi-user-assigned"}
    assert sorted(set(s["query"]["resource"] for s in imds)) == ["https://management.azure.com/",
                                                                 "https://vault.azure.net"]
    assert [s["query"]["scope"] for s in fake.seen if s["kind"] == "aad"][0] == "https://management.azure.com//.default"
    assert [s["header_ok"] for s in fake.seen if s["kind"] == "appservice"] == [True]
    gce = [s for s in fake.seen if s["kind"] == "gce"]
    assert gce and all(s["flavor"] == "Google" and s["query"] == {"audience": "vault/" + prefix, "format": "full"}
                       for s in gce)
    assert "unknown" not in kinds
    # and the logins OpenBao saw: the azure one with the VM's fields, each token revoked
    logins = [r for r in audit.requests() if r.get("path") == "auth/azure/login"]
    assert any({"role", "jwt", "subscription_id", "resource_group_name", "vm_name"} <= set(r.get("data") or {})
               for r in logins), logins
    assert len(logins) == 5 and audit.count("auth/gcp/login") == 4  # no login when no identity token was had
    assert audit.count("auth/token/revoke-self") == 6  # every token of a successful login (4 lookups, 2 modules)
    for name in ("module, azure via App Service's IDENTITY_ENDPOINT",
                 "module, gcp with the service-account key inline (as an AWX credential injects it)"):
        assert result.task(name)["state"] == "present" and str(result.task(name)["version"]) == "1"
    down = result.task("the metadata server does not answer")["msg"]
    assert "login failed (login, root namespace, auth gcp at auth/gcp, at %s)" % vault["url"] in down, down
    assert "the GCE metadata server did not answer" in down and "connection refused" in down, down
    norole = result.task("a role the server does not know")["msg"]
    assert "auth azure at auth/azure" in norole and "no such role" in norole, norole
    wrongkey = result.task("a key the server does not trust")["msg"]
    assert "auth gcp at auth/gcp" in wrongkey and "the JWT was rejected" in wrongkey, wrongkey
    audience = result.task("a token for another resource")["msg"]
    assert "auth azure at auth/azure" in audience and "the JWT was rejected (audience)" in audience, audience
    badsecret = result.task("a wrong client secret")["msg"]
    assert "the Azure AD token endpoint refused (HTTP 401, invalid_client)" in badsecret, badsecret
    for msg in (down, norole, wrongkey, audience, badsecret):
        assert "Traceback" not in msg
