# -*- coding: utf-8 -*-
"""The database engine's desired-state logic (vault_database) without a server: durations as Vault reads them,
what is compared and written, the order of removal, check mode, and diffs that never hold a password."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._database import DatabaseEngine, seconds
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretNotFound


class FakeVault:
    def __init__(self, data=None):
        self.data = dict(data or {})
        self.calls = []

    def api_read(self, path):
        if path not in self.data:
            raise SecretNotFound("nothing", ref="vault://" + path, backend="vault")
        return {"data": self.data[path]}

    def api_list(self, path):
        keys = sorted(k.rsplit("/", 1)[1] for k in self.data if k.rsplit("/", 1)[0] == path)
        if not keys:
            raise SecretNotFound("nothing", ref="vault://" + path, backend="vault")
        return keys

    def api_write(self, path, data):
        self.calls.append(("write", path, data))

    def api_delete(self, path):
        self.calls.append(("delete", path))


CONN = {"name": "app", "state": "present", "plugin_name": "postgresql-database-plugin",
        "connection_url": "postgresql://{{username}}:{{password}}@db/app", "username": "admin",
        "password": "s3cret-pw", "update_password": "on_create", "options": {"max_open_connections": 3}}
HELD = {"plugin_name": "postgresql-database-plugin", "allowed_roles": [], "password_policy": "",
        "plugin_version": "", "root_credentials_rotate_statements": [],
        "connection_details": {"connection_url": "postgresql://{{username}}:{{password}}@db/app",
                               "username": "admin", "max_open_connections": 3}}


@pytest.mark.parametrize("text, want", [(3600, 3600), ("3600", 3600), ("90m", 5400), ("1h30m", 5400), ("7d", 604800),
                                        ("1.5h", 5400), (None, None)])
def test_seconds(text, want):
    assert seconds(text) == want


@pytest.mark.parametrize("text", ["1 hour", "h", "10x", True, "1h-"])
def test_seconds_refuses(text):
    with pytest.raises(InvalidOption):
        seconds(text)


def test_create_writes_everything_and_rotates_on_write():
    vault = FakeVault()
    result, before, after = DatabaseEngine(vault, "db").apply({"connection": CONN, "rotate_root": "on_write"}, False)
    assert result["connection"]["action"] == "created" and result["connection"]["password_written"]
    assert result["rotated_root"] and result["changed"]
    path, body = vault.calls[0][1], vault.calls[0][2]
    assert path == "db/config/app" and body["password"] == "s3cret-pw" and body["max_open_connections"] == 3
    assert vault.calls[1] == ("write", "db/rotate-root/app", {})
    assert after["config/app"]["password"] == "<hidden>" and after["config/app"]["max_open_connections"] == "<hidden>"
    assert "s3cret-pw" not in repr((result, before, after))


def test_unchanged_connection_keeps_its_password_and_writes_nothing():
    vault = FakeVault({"db/config/app": HELD})
    result, _b, _a = DatabaseEngine(vault, "db").apply({"connection": CONN, "rotate_root": "on_write"}, False)
    assert result["changed"] is False and result["connection"]["action"] == "unchanged" and vault.calls == []


def test_update_password_always_writes_it_and_a_field_change_writes_that_field():
    vault = FakeVault({"db/config/app": HELD})
    conn = dict(CONN, update_password="always", allowed_roles=["ro"])
    result, before, after = DatabaseEngine(vault, "db").apply({"connection": conn}, True)
    assert result["connection"]["changed_fields"] == ["allowed_roles", "password"]
    assert before["config/app"] == {"allowed_roles": [], "password": "<hidden>"} and vault.calls == []  # check mode


def test_role_durations_compare_in_seconds_and_creation_needs_statements():
    vault = FakeVault({"database/roles/ro": {"db_name": "app", "default_ttl": 5400, "max_ttl": 7200,
                                             "creation_statements": ["x"]}})
    engine = DatabaseEngine(vault)
    role = {"name": "ro", "state": "present", "default_ttl": "90m", "max_ttl": "2h", "creation_statements": ["x"]}
    assert engine.plan_role("roles", role, "app")[:2] == ("unchanged", [])
    assert engine.plan_role("roles", dict(role, max_ttl="3h"), "app")[:2] == ("updated", ["max_ttl"])
    with pytest.raises(InvalidOption, match="creation_statements"):
        engine.plan_role("roles", {"name": "new", "state": "present"}, "app")
    with pytest.raises(InvalidOption, match="username"):
        engine.plan_role("static-roles", {"name": "new", "state": "present"}, "app")
    with pytest.raises(InvalidOption, match="db_name"):
        engine.plan_role("roles", {"name": "new", "state": "present", "creation_statements": ["x"]}, None)


def test_removing_a_connection_revokes_its_roles_leases_then_deletes_roles_first():
    vault = FakeVault({"db/config/app": HELD, "db/roles/ro": {"db_name": "app"}, "db/roles/other": {"db_name": "x"}})
    spec = {"connection": {"name": "app", "state": "absent"}, "roles": [{"name": "ro", "state": "absent"}]}
    result, _b, _a = DatabaseEngine(vault, "db").apply(spec, False)
    assert [c[:2] for c in vault.calls] == [
        ("write", "sys/leases/revoke-prefix/db/creds/ro"), ("delete", "db/roles/ro"),
        ("write", "sys/leases/revoke-prefix/db/creds/ro"), ("delete", "db/config/app")]
    assert result["connection"]["action"] == "deleted"


def test_a_password_in_the_url_is_hidden_in_the_diff():
    vault = FakeVault()
    conn = dict(CONN, connection_url="postgresql://admin:hunter2@db/app")
    _r, _b, after = DatabaseEngine(vault, "db").apply({"connection": conn}, True)
    assert after["config/app"]["connection_url"] == "postgresql://admin:<hidden>@db/app"


def test_actions_need_a_connection():
    with pytest.raises(InvalidOption, match="connection.name"):
        DatabaseEngine(FakeVault()).apply({"rotate_root": "always"}, False)
