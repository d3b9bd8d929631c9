# -*- coding: utf-8 -*-
"""Vault auth parity with community.hashi_vault, without a Vault: token_file (reading, modes, errors, re-reading a
rewritten file), auth_method=none, the dict form of retries, and the request shapes of ldap and aws_iam against a
tiny local HTTP server that speaks Vault's login API (no LDAP server or AWS account here)."""
import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._auth import (
    AwsIamAuth,
    auth_method,
    read_token_file,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._client import (
    RETRY_METHODS,
    RETRY_STATUS,
    parse_retries,
    retry_kwargs,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

TOKEN = "hvs.canary-token-file-0123456789"


def sink(path, token=TOKEN, mode=0o600):
    path.write_text(token + "\n")
    os.chmod(str(path), mode)
    return str(path)


# -- token_file ------------------------------------------------------------------------------------------------
def test_token_file_is_read_stripped(tmp_path):
    token, stamp = read_token_file(sink(tmp_path / "t"))
    assert token == TOKEN and stamp


@pytest.mark.parametrize("case, why", [
    ("missing", "does not exist"),
    ("empty", "is empty"),
    ("world", "accessible to other users (mode 0644)"),
    ("directory", "not a regular file"),
    ("words", "not hold a single token"),
])
def test_token_file_errors_name_the_file_and_cause_never_the_token(tmp_path, case, why):
    path = tmp_path / "t"
    if case == "empty":
        sink(path, token="  ")
    elif case == "world":
        sink(path, mode=0o644)
    elif case == "directory":
        path.mkdir()
    elif case == "words":
        sink(path, token=TOKEN + " " + TOKEN)
    with pytest.raises(InvalidOption) as err:
        read_token_file(str(path))
    assert why in str(err.value) and str(path) in str(err.value) and TOKEN not in str(err.value)


def test_group_readable_token_file_is_fine_as_vault_agent_writes_it(tmp_path):
    assert read_token_file(sink(tmp_path / "t", mode=0o640))[0] == TOKEN


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_token_file(tmp_path):
    with pytest.raises(InvalidOption, match="is not readable"):
        read_token_file(sink(tmp_path / "t", mode=0o200))


def test_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    sink(tmp_path / ".vault-token")
    auth = auth_method({"auth_method": "token", "token_file": "~/.vault-token"})
    auth.validate()
    assert auth.token()[0] == TOKEN and auth.who() == "token_file=%s" % (tmp_path / ".vault-token")
    assert auth.secret_material() == ""  # the file's token changes; the path names the identity


def test_vault_token_file_is_never_read_without_opt_in(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    sink(tmp_path / ".vault-token")
    backend = VaultBackend({"url": "http://127.0.0.1:1"}, environ={})
    with pytest.raises(InvalidOption, match="needs a token"):
        backend.validate()


def test_token_file_wins_over_vault_token_from_the_environment_but_not_over_an_option(tmp_path):
    path = sink(tmp_path / "t")
    backend = VaultBackend({"url": "http://127.0.0.1:1", "token_file": path}, environ={"VAULT_TOKEN": "from-env"})
    backend.validate()
    assert backend.client().token == TOKEN
    both = VaultBackend({"url": "http://127.0.0.1:1", "token_file": path, "token": "given"}, environ={})
    with pytest.raises(InvalidOption, match="takes token or token_file, not both"):
        both.validate()


def test_rewritten_token_file_is_picked_up_by_a_running_client(tmp_path):
    path = sink(tmp_path / "sink")
    backend = VaultBackend({"url": "http://127.0.0.1:1", "token_file": path}, environ={})
    assert backend.client().token == TOKEN
    # Vault Agent writes a new file and renames it over the sink (new inode)
    sink(tmp_path / "sink.tmp", token="hvs.renewed")
    os.replace(str(tmp_path / "sink.tmp"), path)
    assert backend.client().token == "hvs.renewed"
    # in place, same size: the modification time tells
    with open(path, "w") as handle:
        handle.write("hvs.rotated")
    os.utime(path, ns=(1, 10 ** 18))
    assert backend.client().token == "hvs.rotated"
    # a sink missing for a moment keeps the token the client has
    os.unlink(path)
    assert backend.client().token == "hvs.rotated"


# -- none ------------------------------------------------------------------------------------------------------
def test_none_sends_no_token():
    given = VaultBackend({"url": "http://127.0.0.1:1", "auth_method": "none", "token": "given"}, environ={})
    with pytest.raises(InvalidOption, match="sends no token"):
        given.validate()  # a token given with auth_method=none is a contradiction, said so
    # VAULT_TOKEN that is only in the environment (AWX injects it) is not sent
    backend = VaultBackend({"url": "http://127.0.0.1:1", "auth_method": "none"}, environ={"VAULT_TOKEN": "ambient"})
    assert backend.client().token in ("", None)
    assert "auth none" in backend.where()


# -- retries ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (None, 3), ("", 3), (0, 0), ("5", 5),
    ({"total": 5}, {"total": 5}),
    ('{"total": 2, "backoff_factor": 0}', {"total": 2, "backoff_factor": 0.0}),
    ({"total": 4, "status_forcelist": [503, "429"], "allowed_methods": ["get", "POST"], "backoff_factor": "0.2"},
     {"total": 4, "status_forcelist": [429, 503], "allowed_methods": ["GET", "POST"], "backoff_factor": 0.2}),
    ({"method_whitelist": None}, {"allowed_methods": None}),
    ({"respect_retry_after_header": False, "connect": 1}, {"respect_retry_after_header": False, "connect": 1}),
])
def test_retries_parse(value, expected):
    assert parse_retries(value) == expected


@pytest.mark.parametrize("value, why", [
    (-1, "at least 0"), ("many", "must be an integer, or a dict"), (True, "a count or a dict"),
    ({"totl": 3}, "unknown keys totl"), ({"total": -2}, "total must be an integer of at least 0"),
    ({"backoff_factor": "slow"}, "backoff_factor must be a number"),
    ({"status_forcelist": ["x"]}, "status_forcelist"), ({"status_forcelist": [42]}, "status_forcelist"),
    ({"allowed_methods": "GET"}, "allowed_methods must be a list"), ("{nope", "does not parse"),
])
def test_retries_errors(value, why):
    with pytest.raises(InvalidOption, match=why):
        parse_retries(value)


def test_retry_kwargs_map_onto_our_defaults():
    count = retry_kwargs(2)
    assert count["total"] == count["connect"] == count["read"] == count["status"] == 2
    assert count["allowed_methods"] == RETRY_METHODS and tuple(count["status_forcelist"]) == RETRY_STATUS
    custom = retry_kwargs(parse_retries({"total": 6, "status_forcelist": [503], "backoff_factor": 0}))
    assert custom["total"] == custom["status"] == 6 and custom["status_forcelist"] == (503,)
    assert custom["backoff_factor"] == 0 and custom["allowed_methods"] == RETRY_METHODS  # reads only, still
    assert retry_kwargs({"allowed_methods": None})["allowed_methods"] is None


def test_retries_dict_reaches_the_client():
    backend = VaultBackend({"url": "http://127.0.0.1:1", "token": "t",
                            "retries": {"total": 7, "status_forcelist": [503]}}, environ={})
    retry = backend.client().session.adapters["http://"].max_retries
    assert retry.total == 7 and retry.status == 7 and tuple(retry.status_forcelist) == (503,)


# -- ldap and aws_iam: the request shapes against a local server that speaks Vault's login API ------------------
class _Vault(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):  # noqa: N802  # a KV read that only the token "hvs.new" may do
        self.seen.append((self.path, dict(self.headers), None))
        allowed = self.headers.get("X-Vault-Token") == "hvs.new"
        answer = json.dumps({"data": {"ok": True}} if allowed else {"errors": ["permission denied"]})
        self.send_response(200 if allowed else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.seen.append((self.path, dict(self.headers), body))
        if self.path.endswith("/revoke-self"):
            self.send_response(204)
            self.end_headers()
            return
        answer = json.dumps({"auth": {"client_token": "hvs.login-token", "lease_duration": 60, "renewable": True}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_vault():
    _Vault.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Vault)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1], _Vault.seen
    server.shutdown()
    server.server_close()


def test_ldap_login_request_shape(fake_vault):
    url, seen = fake_vault
    backend = VaultBackend({"url": url, "auth_method": "ldap", "username": "alice", "password": "pw-canary",
                            "mount_point": "corp-ldap"}, environ={})
    assert backend.client().token == "hvs.login-token"
    path, _headers, body = seen[0]
    assert path == "/v1/auth/corp-ldap/login/alice" and body == {"password": "pw-canary"}
    assert "auth ldap at auth/corp-ldap" in backend.where() and "pw-canary" not in backend.login_identity()
    backend._release()  # no run cache: the login token is revoked at the end of the task
    assert seen[-1][0] == "/v1/auth/token/revoke-self" and seen[-1][1].get("X-Vault-Token") == "hvs.login-token"


def test_ldap_needs_username_and_password():
    with pytest.raises(InvalidOption, match="auth_method=ldap needs password"):
        VaultBackend({"url": "http://127.0.0.1:1", "auth_method": "ldap", "username": "alice"}, environ={}).validate()


def _decoded(payload):
    return (base64.b64decode(payload["iam_request_url"]).decode(), base64.b64decode(payload["iam_request_body"]).decode(),
            json.loads(base64.b64decode(payload["iam_request_headers"])))


def test_aws_iam_login_is_a_sigv4_signed_get_caller_identity(fake_vault):
    pytest.importorskip("botocore")
    url, seen = fake_vault
    backend = VaultBackend({"url": url, "auth_method": "aws_iam", "role": "deployer", "aws_access_key": "AKIDEXAMPLE",
                            "aws_secret_key": "secret-canary", "aws_session_token": "session-canary",
                            "aws_iam_server_id": "vault.example.com"}, environ={})
    assert backend.client().token == "hvs.login-token"
    path, _headers, payload = seen[0]
    assert path == "/v1/auth/aws/login"
    assert payload["role"] == "deployer" and payload["iam_http_request_method"] == "POST"
    request_url, body, headers = _decoded(payload)
    assert request_url == "https://sts.amazonaws.com/" and body == "Action=GetCallerIdentity&Version=2011-06-15"
    auth = headers["Authorization"][0]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") and "/us-east-1/sts/aws4_request" in auth
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-vault-aws-iam-server-id" in signed and "x-amz-date" in signed
    assert headers["X-Vault-AWS-IAM-Server-ID"] == ["vault.example.com"]
    assert headers["X-Amz-Security-Token"] == ["session-canary"] and "X-Amz-Date" in headers
    assert "secret-canary" not in json.dumps(payload)  # the secret key signs, it is never sent
    assert "secret-canary" not in backend.login_identity() and "session-canary" not in backend.login_identity()
    backend._release()


def test_aws_iam_region_and_credential_chain(monkeypatch):
    pytest.importorskip("botocore")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    payload = AwsIamAuth({"aws_region": "eu-west-1"}).login_payload()
    request_url, _body, headers = _decoded(payload)
    assert request_url == "https://sts.eu-west-1.amazonaws.com/" and "role" not in payload
    assert "Credential=AKIDFROMENV/" in headers["Authorization"][0] and "/eu-west-1/sts/" in headers["Authorization"][0]


def test_aws_iam_half_given_keys_are_refused():
    with pytest.raises(InvalidOption, match="aws_access_key and aws_secret_key together"):
        auth_method({"auth_method": "aws_iam", "aws_access_key": "AKID"}).validate()


def test_a_denied_request_is_sent_again_when_the_sink_got_a_new_token(fake_vault, tmp_path):
    url, seen = fake_vault
    path = sink(tmp_path / "sink", token="hvs.old")
    backend = VaultBackend({"url": url, "token_file": path, "retries": 0}, environ={})
    client = backend.client()
    sink(tmp_path / "sink.tmp", token="hvs.new")  # the agent rewrites the sink between client() and the request
    os.replace(str(tmp_path / "sink.tmp"), path)
    assert backend.with_login(client.adapter.get, "/v1/secret/data/x")["data"] == {"ok": True}
    assert [h.get("X-Vault-Token") for _p, h, _b in seen] == ["hvs.old", "hvs.new"]
