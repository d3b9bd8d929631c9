# -*- coding: utf-8 -*-
"""Our Kubernetes REST client without a server: kubeconfig files merged as kubectl merges them, relative paths, exec
credential plugins (cached until they expire), token files read again, client certificates given as data (written
0600 to a private directory for a moment, then removed), the service account, and the REST paths, query parameters
and content types of the SDK-named calls."""
import base64
import json
import os
import stat
import sys
import time

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s import _client

TOKEN = "canary-k8s-client-token-91b2"


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def config(tmp_path, environ=None, **opts):
    return _client.configuration(opts, environ or {})


def test_several_kubeconfigs_merge_first_wins_and_paths_are_relative_to_their_file(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    first = write(one / "config", {
        "clusters": [{"name": "c", "cluster": {"server": "https://first:6443/", "certificate-authority": "ca.pem"}}],
        "users": [{"name": "u", "user": {"tokenFile": "token"}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}]})  # no current-context here
    second = write(two / "config", """
apiVersion: v1
kind: Config
current-context: b
clusters:
- {name: c, cluster: {server: 'https://second:6443'}}
- name: d
  cluster: {server: 'https://other:6443', insecure-skip-tls-verify: true, tls-server-name: api.internal}
users:
- {name: u, user: {token: not-this-one}}
- {name: v, user: {username: admin, password: pw}}
contexts:
- {name: a, context: {cluster: d, user: v}}
- {name: b, context: {cluster: c, user: u}}
""")
    (one / "token").write_text(TOKEN + "\n")
    kubeconfig = os.pathsep.join([str(tmp_path / "missing"), first, second])
    cfg = config(tmp_path, kubeconfig=kubeconfig)  # current-context b (from the second file), cluster c and user u (first)
    assert cfg.host == "https://first:6443" and cfg.ca_file == str(one / "ca.pem") and cfg.verify is True
    assert cfg.credentials() == ("Bearer " + TOKEN, None)
    cfg = config(tmp_path, kubeconfig=kubeconfig, context="a")  # context a of the first file wins
    assert cfg.host == "https://first:6443"
    with pytest.raises(InvalidOption, match="has no context 'nope' \\(it has: a, b\\)"):
        config(tmp_path, kubeconfig=kubeconfig, context="nope")
    only_second = config(tmp_path, kubeconfig=second, context="a")
    assert only_second.host == "https://other:6443" and only_second.verify is False
    assert only_second.tls_server_name == "api.internal"
    assert only_second.credentials()[0] == "Basic " + base64.b64encode(b"admin:pw").decode()
    assert TOKEN not in repr(cfg)


def test_kubeconfig_errors_name_the_problem_not_a_credential(tmp_path):
    path = write(tmp_path / "kc", {"clusters": [], "users": [{"name": "u", "user": {"token": TOKEN}}],
                                   "contexts": [{"name": "a", "context": {"cluster": "gone", "user": "u"}}],
                                   "current-context": "a"})
    with pytest.raises(InvalidOption, match="Expected object with name gone in kube-config/clusters list") as err:
        config(tmp_path, kubeconfig=path)
    assert TOKEN not in str(err.value)
    empty = write(tmp_path / "empty", {"clusters": [], "contexts": []})
    with pytest.raises(InvalidOption, match="cannot load the Kubernetes configuration \\(kubeconfig\\).*current-context"):
        config(tmp_path, kubeconfig=empty)
    bad = write(tmp_path / "bad", "clusters: [\n  - {name: x\n")
    with pytest.raises(InvalidOption, match="is not valid YAML"):
        config(tmp_path, kubeconfig=bad)


def test_options_override_the_kubeconfig(tmp_path):
    path = write(tmp_path / "kc", {"clusters": [{"name": "c", "cluster": {"server": "https://k:6443",
                                                                          "certificate-authority-data": "LS0t"}}],
                                   "users": [{"name": "u", "user": {"exec": {"command": "/bin/false"}}}],
                                   "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
                                   "current-context": "a"})
    cfg = config(tmp_path, kubeconfig=path, host="https://other:6443/", api_key="Bearer " + TOKEN,
                 ca_cert=str(tmp_path / "ca.pem"), validate_certs=False)
    assert cfg.host == "https://other:6443" and cfg.ca_file == str(tmp_path / "ca.pem") and cfg.ca_data is None
    assert cfg.verify is False and cfg.exec_plugin is None  # the token replaces the exec plugin
    assert cfg.credentials() == ("Bearer " + TOKEN, None)


def exec_plugin(tmp_path, expires, api_version="client.authentication.k8s.io/v1", status=0):
    """A credential plugin: counts its runs, echoes its argument and an env variable into the token."""
    script = tmp_path / "plugin.py"
    script.write_text("""#!%s
import json, os, sys
with open(os.environ["COUNT_FILE"], "a") as f:
    f.write("x")
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
assert info["kind"] == "ExecCredential" and info["spec"] == {"interactive": False}
print("plugin stderr: %%s" %% sys.argv[1], file=sys.stderr)
if %d:
    sys.exit(%d)
status = {"token": "%s-" + sys.argv[1] + "-" + os.environ["FROM_ENV"]}
if %r:
    status["expirationTimestamp"] = %r
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}))
""" % (sys.executable, status, status, TOKEN, expires, expires))
    script.chmod(0o700)
    count = tmp_path / "count"
    count.write_text("")
    kc = write(tmp_path / "kc", {
        "clusters": [{"name": "c", "cluster": {"server": "https://k:6443"}}],
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": api_version, "command": "./plugin.py", "args": ["arg1"],
            "env": [{"name": "FROM_ENV", "value": "env1"}, {"name": "COUNT_FILE", "value": str(count)}]}}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}], "current-context": "a"})
    return kc, count


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_token_is_kept_until_it_expires(tmp_path, api_version):
    kc, count = exec_plugin(tmp_path, iso(time.time() + 3600), api_version)
    cfg = config(tmp_path, kubeconfig=kc)
    assert count.read_text() == ""  # loading the configuration runs nothing
    assert cfg.credentials() == ("Bearer %s-arg1-env1" % TOKEN, None)
    assert cfg.credentials()[0] == "Bearer %s-arg1-env1" % TOKEN
    assert count.read_text() == "x"  # cached: its expirationTimestamp is an hour away
    cfg.forget()  # after a 401
    cfg.credentials()
    assert count.read_text() == "xx"


def test_an_expired_exec_credential_is_asked_for_again(tmp_path):
    kc, count = exec_plugin(tmp_path, iso(time.time() - 5))
    cfg = config(tmp_path, kubeconfig=kc)
    cfg.credentials()
    cfg.credentials()
    assert count.read_text() == "xx"


def test_a_failing_exec_plugin_is_a_configuration_error_without_its_output(tmp_path):
    kc, _count = exec_plugin(tmp_path, None, status=3)
    cfg = config(tmp_path, kubeconfig=kc)
    with pytest.raises(_client.ConfigError) as err:
        cfg.credentials()
    assert "the exec plugin plugin.py failed (exit status 3)" in str(err.value) and "stderr" not in str(err.value)
    transport = _client.Transport(cfg)
    with pytest.raises(InvalidOption, match="cannot load the Kubernetes credentials"):
        transport.request("GET", "/api/v1/namespaces")


def test_token_files_are_read_again(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("one")
    kc = write(tmp_path / "kc", {"clusters": [{"name": "c", "cluster": {"server": "http://k:80"}}],
                                 "users": [{"name": "u", "user": {"tokenFile": str(token)}}],
                                 "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
                                 "current-context": "a"})
    cfg = config(tmp_path, kubeconfig=kc)
    assert cfg.credentials()[0] == "Bearer one"
    token.write_text("two")
    assert cfg.credentials()[0] == "Bearer one"  # within a minute: kept
    monkeypatch.setattr(_client, "TOKEN_FILE_TTL", -1)
    assert cfg.credentials()[0] == "Bearer two"


def test_service_account(tmp_path, monkeypatch):
    monkeypatch.setattr(_client, "SA_DIR", str(tmp_path))
    (tmp_path / "token").write_text(TOKEN)
    (tmp_path / "ca.crt").write_text("ca")
    cfg = config(tmp_path, {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, in_cluster=True)
    assert cfg.host == "https://[fd00::1]:443" and cfg.ca_file == str(tmp_path / "ca.crt")
    assert cfg.credentials() == ("Bearer " + TOKEN, None)
    with pytest.raises(InvalidOption, match="\\(in_cluster\\): Service host/port is not set"):
        config(tmp_path, {}, in_cluster=True)


def test_client_certificate_data_is_written_0600_to_a_private_directory_and_removed(tmp_path):
    seen = []

    class Recorder:
        def load_cert_chain(self, certfile, keyfile=None):
            for path in (certfile, keyfile):
                seen.append((path, stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
                             open(path).read()))

    _client.load_cert_data(Recorder(), "CERT PEM", b"KEY PEM")
    assert [(mode, dmode, text) for _p, mode, dmode, text in seen] == [(0o600, 0o700, "CERT PEM"), (0o600, 0o700, "KEY PEM")]
    assert not any(os.path.exists(p) for p, _m, _d, _t in seen) and not os.path.exists(os.path.dirname(seen[0][0]))

    class Failing:
        def load_cert_chain(self, certfile, keyfile=None):
            seen.append((certfile,))
            raise ValueError("bad PEM")

    with pytest.raises(ValueError):
        _client.load_cert_data(Failing(), "CERT", "KEY")
    assert not os.path.exists(seen[-1][0])  # removed on failure too


def test_client_certificate_data_from_a_kubeconfig_loads(tmp_path):
    from tests.harness.servers.tls import make_tls_chain
    ca, cert, key = make_tls_chain(str(tmp_path / "certs"))

    def b64(path):
        with open(path, "rb") as f:
            return base64.b64encode(f.read()).decode()

    kc = write(tmp_path / "kc", {"clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443",
                                                                        "certificate-authority-data": b64(ca)}}],
                                 "users": [{"name": "u", "user": {"client-certificate-data": b64(cert),
                                                                  "client-key-data": b64(key)}}],
                                 "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
                                 "current-context": "a"})
    cfg = config(tmp_path, kubeconfig=kc)
    assert cfg.cert_data.startswith("-----BEGIN CERTIFICATE") and cfg.credentials() == (None, None)
    ctx = _client.ssl_context(cfg)
    assert ctx.verify_mode == _client.ssl.CERT_REQUIRED and ctx.get_ca_certs()
    files = dict(cfg.__dict__, cert_data=None, key_data=None, cert_file=cert, key_file=key)
    cfg.__dict__.update(files)
    _client.ssl_context(cfg)


class Recording:
    def __init__(self):
        self.calls = []

    def request(self, method, path, query=None, body=None, content_type=None, timeout=30):
        self.calls.append((method, path, query, content_type, body, timeout))
        return {"ok": True}


def test_sdk_named_calls_become_rest_requests():
    t = Recording()
    core, apps, rbac, custom = (_client.Api(t, g) for g in ("core", "apps", "rbac", "custom"))
    assert core.read_namespaced_secret("db", "app", _preload_content=False, _request_timeout=5) == {"ok": True}
    core.create_namespaced_secret("app", {"a": 1}, dry_run="All")
    core.patch_namespaced_secret("db", "app", {"data": {"k": None}})
    core.patch_namespaced_secret("db", "app", [{"op": "remove", "path": "/data/k"}])
    core.delete_namespaced_secret("db", "app", body={"preconditions": {"resourceVersion": "3"}})
    core.list_namespaced_secret("app", label_selector="a=b")
    core.read_namespace("app")
    apps.patch_namespaced_stateful_set("db", "app", {"spec": {}})
    apps.read_namespaced_daemon_set("agent", "app")
    rbac.list_role_binding_for_all_namespaces(label_selector="x=y")
    rbac.replace_namespaced_role("r", "app", {"rules": []})
    custom.patch_namespaced_custom_object("external-secrets.io", "v1", "app", "externalsecrets", "es", {"spec": {}})
    custom.get_cluster_custom_object("external-secrets.io", "v1", "clustersecretstores", "store")
    custom.create_namespaced_custom_object("external-secrets.io", "v1", "app", "externalsecrets", {"x": 1})
    assert [c[:4] for c in t.calls] == [
        ("GET", "/api/v1/namespaces/app/secrets/db", [], None),
        ("POST", "/api/v1/namespaces/app/secrets", [("dryRun", "All")], None),
        ("PATCH", "/api/v1/namespaces/app/secrets/db", [], "application/strategic-merge-patch+json"),
        ("PATCH", "/api/v1/namespaces/app/secrets/db", [], "application/json-patch+json"),
        ("DELETE", "/api/v1/namespaces/app/secrets/db", [], None),
        ("GET", "/api/v1/namespaces/app/secrets", [("labelSelector", "a=b")], None),
        ("GET", "/api/v1/namespaces/app", [], None),
        ("PATCH", "/apis/apps/v1/namespaces/app/statefulsets/db", [], "application/strategic-merge-patch+json"),
        ("GET", "/apis/apps/v1/namespaces/app/daemonsets/agent", [], None),
        ("GET", "/apis/rbac.authorization.k8s.io/v1/rolebindings", [("labelSelector", "x=y")], None),
        ("PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/app/roles/r", [], None),
        ("PATCH", "/apis/external-secrets.io/v1/namespaces/app/externalsecrets/es", [], "application/merge-patch+json"),
        ("GET", "/apis/external-secrets.io/v1/clustersecretstores/store", [], None),
        ("POST", "/apis/external-secrets.io/v1/namespaces/app/externalsecrets", [], None),
    ]
    assert t.calls[0][5] == 5 and t.calls[4][4] == {"preconditions": {"resourceVersion": "3"}}
    with pytest.raises(AttributeError):
        core.frobnicate_namespaced_secret  # noqa: B018 - not a verb


def test_parse_time():
    assert _client.parse_time("1970-01-01T00:01:00Z") == 60
    assert _client.parse_time("1970-01-01T01:00:00.123456+01:00") == 0
    assert _client.parse_time("soon") is None and _client.parse_time(None) is None
