# -*- coding: utf-8 -*-
"""Vault client under faults, pure logic: 429 / sealed / standby / timeouts told apart in messages, retries counted
(and carried into audit events), login tokens renewed or replaced near their TTL and after a lost login, login
failures never skippable. No server: hvac's adapter is replaced where a request would be made."""
import time

import hvac
import pytest
import requests
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _audit
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import BackendUnavailable, SecretAccessDenied
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault import _client as _vault_client
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend

URL = "https://vault.example.invalid:8200"


def backend(**options):
    options.setdefault("url", URL)
    full = dict((name, spec.get("default")) for name, spec in VaultBackend.ARGSPEC.items())
    full.update(options)
    return VaultBackend(full, environ={})


def err(cls, errors):
    return cls(errors=errors, method="get", url=URL + "/v1/secret/data/app")


WHERE = "read, mount 'secret', path 'app', root namespace, auth token, at %s" % URL


@pytest.mark.parametrize("exc, says, never", [
    (err(hvac.exceptions.RateLimitExceeded, ["injected"]), "rate-limited (HTTP 429)", ("sealed", "standby")),
    (err(hvac.exceptions.VaultDown, ["Vault is sealed"]), "Vault is sealed (HTTP 503)", ("standby", "rate-limited")),
    (err(hvac.exceptions.VaultDown, ["local node not active but active cluster node not found"]),
     "standby or unavailable (HTTP 503)", ("sealed", "rate-limited")),
    (err(hvac.exceptions.VaultDown, ["something else"]), "Vault is unavailable (HTTP 503)",
     ("sealed", "standby", "rate-limited")),
    (err(hvac.exceptions.PreconditionFailed, []), "has not caught up", ("sealed", "rate-limited")),
])
def test_status_answers_are_told_apart(exc, says, never):
    error = _vault_client.map_error(exc, WHERE, ref="vault://secret/app", retried=3)
    assert isinstance(error, BackendUnavailable)
    text = str(error)
    assert says in text and "after 3 retries with back-off" in text and URL in text and "vault://secret/app" in text
    for word in never:
        assert word not in text.split("(%s)" % WHERE, maxsplit=1)[0].lower()


def test_timeouts_say_timed_out_with_the_limit_and_the_retries():
    direct = requests.exceptions.ReadTimeout("read timed out")
    assert "timed out: Vault did not answer within timeout=1 s (" in str(
        _vault_client.map_error(direct, WHERE, timeout=1))
    wrapped = requests.exceptions.ConnectionError(MaxRetryError(None, "/v1/x", ReadTimeoutError(None, "/v1/x", "t")))
    text = str(_vault_client.map_error(wrapped, WHERE, retried=2, timeout=1))
    assert "timed out" in text and "within timeout=1 s after 2 retries" in text
    refused = requests.exceptions.ConnectionError("refused")
    assert "cannot reach Vault" in str(_vault_client.map_error(refused, WHERE))


def test_login_failures_are_errors_not_denials():
    b = backend(auth_method="approle", role_id="rid", secret_id="sid-canary")
    exc = err(hvac.exceptions.InvalidRequest, ["invalid secret id"])
    error = _vault_client.map_error(exc, b.where(what="login"), login=True)
    assert isinstance(error, SecretAccessDenied) and error.category == "error"  # on_denied: skip never skips it
    assert "used up" in str(error) and "approle at auth/approle" in str(error) and "sid-canary" not in str(error)


def test_counting_retry_counts_allowed_retries_only():
    tally = {"retries": 0}
    retry = _vault_client.counting_retry_class(Retry)(total=2, status_forcelist=(429,), raise_on_status=False)
    retry.tally = tally
    once = retry.increment("GET", "/v1/x", error=ReadTimeoutError(None, "/v1/x", "t"))
    twice = once.increment("GET", "/v1/x", error=ReadTimeoutError(None, "/v1/x", "t"))
    assert tally["retries"] == 2 and twice.tally is tally
    with pytest.raises(MaxRetryError):
        twice.increment("GET", "/v1/x", error=ReadTimeoutError(None, "/v1/x", "t"))
    assert tally["retries"] == 2


def test_new_client_shares_the_tally():
    tally = {"retries": 0}
    client = _vault_client.new_client({"url": URL, "retries": 3, "timeout": 5}, tally=tally)
    adapter = client.adapter.session.get_adapter(URL)
    assert adapter.max_retries.tally is tally and adapter.max_retries.total == 3


def test_audit_events_carry_the_retries_of_their_reference(tmp_path):
    _audit._RETRIES.clear()
    ref = parse_ref("vault://secret/app/db#password")
    _audit.note_retries(ref.without_key(), 2)
    _audit.note_retries(parse_ref("vault://secret/app/other"), 0)
    log = _audit.AuditLog(str(tmp_path / "a.jsonl"))
    log.emit("read", "ok", backend="vault", ref=ref)
    log.emit("read", "ok", backend="vault", ref=parse_ref("vault://secret/app/other#k"))
    events = _audit.read_events(str(tmp_path / "a.jsonl"))
    assert events[0]["retries"] == 2 and "retries" not in events[1]
    _audit._RETRIES.clear()


class FakeToken:
    def __init__(self, renew=None, lookup_fails=False):
        self.renewed = 0
        self.renew = renew
        self.lookup_fails = lookup_fails

    def renew_self(self):
        self.renewed += 1
        if self.renew is None:
            raise err(hvac.exceptions.Forbidden, ["permission denied"])
        return {"auth": {"lease_duration": self.renew}}

    def lookup_self(self):
        if self.lookup_fails:
            raise err(hvac.exceptions.Forbidden, ["permission denied"])
        return {"data": {}}


class FakeClient:
    def __init__(self, token):
        self.token = "t0"
        self.auth = type("Auth", (), {"token": token})()


def approle_backend(entry, client, logins):
    b = backend(auth_method="approle", role_id="rid", secret_id="sid")
    b._login_entry = dict(entry)
    b._owned = b._login_entry
    b._client = client

    def login(_client, _auth):
        logins.append(1)
        return {"token": "t%d" % (len(logins)), "ttl": 60, "expires": time.time() + 60, "renewable": True,
                "renewals": 0}
    b._login = login
    return b


def test_a_token_near_its_ttl_is_renewed_before_the_next_request():
    token = FakeToken(renew=60)
    logins = []
    b = approle_backend({"token": "t0", "ttl": 6, "expires": time.time() + 1.5, "renewable": True}, FakeClient(token),
                        logins)
    b.client()
    assert token.renewed == 1 and not logins and b._login_entry["ttl"] == 60


def test_a_non_renewable_token_near_its_ttl_is_replaced_by_a_new_login():
    token = FakeToken(renew=60)
    logins = []
    b = approle_backend({"token": "t0", "ttl": 6, "expires": time.time() + 1.5, "renewable": False},
                        FakeClient(token), logins)
    client = b.client()
    assert token.renewed == 0 and logins == [1] and client.token == "t1"


def test_a_fresh_token_is_left_alone():
    token = FakeToken(renew=60)
    logins = []
    b = approle_backend({"token": "t0", "ttl": 60, "expires": time.time() + 50, "renewable": True},
                        FakeClient(token), logins)
    b.client()
    assert token.renewed == 0 and not logins


def test_a_lost_login_is_redone_once_and_the_request_repeated():
    logins = []
    token = FakeToken(lookup_fails=True)
    b = approle_backend({"token": "t0", "ttl": 60, "expires": time.time() + 50, "renewable": True},
                        FakeClient(token), logins)
    calls = []

    def request():
        calls.append(b._client.token)
        if len(calls) == 1:
            raise err(hvac.exceptions.Forbidden, ["permission denied"])
        return "ok"
    assert b.with_login(request) == "ok"
    assert calls == ["t0", "t1"] and logins == [1]


def test_a_real_denial_is_not_retried():
    logins = []
    b = approle_backend({"token": "t0", "ttl": 60, "expires": time.time() + 50, "renewable": True},
                        FakeClient(FakeToken(lookup_fails=False)), logins)

    def request():
        raise err(hvac.exceptions.Forbidden, ["permission denied"])
    with pytest.raises(hvac.exceptions.Forbidden):
        b.with_login(request)
    assert not logins


def test_a_given_token_is_never_replaced():
    b = backend(token="given")
    b._client = FakeClient(FakeToken(lookup_fails=True))
    assert b.login_lost() is False
