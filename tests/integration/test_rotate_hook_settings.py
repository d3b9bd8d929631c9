# -*- coding: utf-8 -*-
"""Issue 12 item 3: the settings of api_key hooks (env, url, body, headers) carry the provider's admin tokens.
They must not reach any output - not the module's result (its ``invocation`` included), not the json stdout
callback at default verbosity, not -vvvv - whether the rotate module is called directly or by the rotate and
emergency roles, which pass catalog ``target`` values straight into it."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.harness.rotate_helpers import rotate, token

pytestmark = pytest.mark.integration

JSON_CALLBACK = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}


class Provider(BaseHTTPRequestHandler):
    """A provider whose admin API wants a token in the URL, one in a header and one in the body."""

    keys = set()
    tokens = {}

    def _authorised(self, body):
        return (("token=%s" % self.tokens["url"]) in self.path
                and self.headers.get("Authorization") == "Bearer %s" % self.tokens["header"]
                and body.get("admin_token") == self.tokens["body"])

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        status = 401
        if self._authorised(body):
            status = 204
            if self.path.startswith("/register"):
                self.keys.add(body["key"])
            elif self.path.startswith("/revoke"):
                self.keys.discard(body["key"])
        self.send_response(status)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        self.send_response(200 if self.path == "/me" and self.headers.get("X-Api-Key") in self.keys else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(tmp_path):
    Provider.tokens = {"url": token(), "header": token(), "body": token(), "env": token()}
    Provider.keys = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    # the test hook: a command that needs the provider token from its environment (outside the run's directories)
    expected = tmp_path / "expected-env-token"
    expected.write_text(Provider.tokens["env"])
    script = tmp_path / "test_key.py"
    script.write_text(
        "import os, sys, urllib.request\n"
        "assert os.environ.get('PROVIDER_TOKEN') == open(sys.argv[1]).read()\n"
        "req = urllib.request.Request(sys.argv[2] + '/me', headers={'X-Api-Key': os.environ['AGENTAREA_ROTATION_SECRET']})\n"
        "urllib.request.urlopen(req)\n")
    t = Provider.tokens

    def hook(path):
        return {"url": "%s/%s?token=%s" % (base, path, t["url"]), "method": "POST",
                "headers": {"Authorization": "Bearer %s" % t["header"]},
                "body": {"key": "{secret}", "admin_token": t["body"]}}

    target = {"register": hook("register"), "revoke": hook("revoke"),
              "test": {"command": [sys.executable, str(script), str(expected), base], "env": {"PROVIDER_TOKEN": t["env"]}}}
    yield target, list(t.values())
    server.shutdown()


def test_hook_settings_never_reach_output(ansible, provider, tmp_path):
    target, canaries = provider
    old = token()
    Provider.keys = {old}
    store = tmp_path / "api_key.txt"
    store.write_text(old + "\n")
    args = {"store": "file://%s" % store, "kind": "api_key", "strategy": "overlap", "target": target}
    canaries = canaries + [old]
    # a failing run (the test hook rejects the key) at -vvvv: the rollback revokes the new key, nothing leaks
    failing = dict(args, target=dict(target, test=dict(target["test"], env={"PROVIDER_TOKEN": "wrong"})))
    failed = rotate(ansible, failing, env=JSON_CALLBACK, verbosity=4, expect_rc=2, canaries=canaries)
    assert failed["rolled_back"]["target_reverted"] is True and Provider.keys == {old}
    # the json stdout callback shows each result whole, invocation included, at default verbosity
    done = rotate(ansible, args, env=JSON_CALLBACK, canaries=canaries)
    new = store.read_text().strip()
    assert done["action"] == "rotated", done
    assert new != old and Provider.keys == {old, new}
    assert rotate(ansible, dict(args, contract=True), verbosity=4, canaries=canaries + [new])["changed"]
    assert Provider.keys == {new}


def catalog(base, target):
    return [{"name": "provider-key", "owner": "platform", "purpose": "calls the provider", "kind": "api_key",
             "store": "file://%s/store/provider_key.txt" % base, "target": target, "tags": ["provider"],
             "rotation": {"every": "30d", "strategy": "overlap"}}]


@pytest.mark.parametrize("verbosity", [0, 4])
def test_roles_keep_catalog_targets_out_of_output(ansible, provider, tmp_path, verbosity):
    target, canaries = provider
    old = token()
    Provider.keys = {old}
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "provider_key.txt").write_text(old + "\n")
    extra = {"agentarea_secrets_catalog": catalog(tmp_path, target),
             "agentarea_secrets_report_dir": str(tmp_path / "reports"),
             "agentarea_secrets_audit_log": str(tmp_path / "reports" / "audit.jsonl")}
    canaries = canaries + [old]
    ansible.playbook("agentarea.secrets.rotate", extra_vars=dict(extra, rotate_names=["provider-key"]),
                     env=JSON_CALLBACK, verbosity=verbosity, canaries=canaries)
    rotated = (tmp_path / "store" / "provider_key.txt").read_text().strip()
    assert rotated != old and rotated in Provider.keys   # the role contracts at once (overlap 0)
    ansible.playbook("agentarea.secrets.emergency", env=JSON_CALLBACK, verbosity=verbosity,
                     extra_vars=dict(extra, emergency_confirm="YES", emergency_incident="INC-7",
                                     emergency_names=["provider-key"]),
                     canaries=canaries + [rotated])
    final = (tmp_path / "store" / "provider_key.txt").read_text().strip()
    assert final not in (old, rotated) and final in Provider.keys
