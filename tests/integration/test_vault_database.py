# -*- coding: utf-8 -*-
"""The vault_database module against the harness's OpenBao and PostgreSQL: check mode writes nothing and diffs
without passwords; a connection, a dynamic role and a static role are created, Vault rotates the root credential at
once (the password the task gave stops working), a second run changes nothing, one changed field is written alone,
the dynamic role issues credentials that log in and the static role's user logs in with Vault's password, a static
role is rotated now, a connection Vault cannot verify fails naming the path and PostgreSQL's reason without the
password, and everything is removed again. Canary passwords never appear in any output (-vvv included)."""
import sys
import uuid

import psycopg
import pytest
from psycopg import sql

from tests.harness.vault_helpers import env_for, ensure_engine, play

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

ADMIN_PASSWORD = "canary-dbadmin-" + uuid.uuid4().hex[:12]
WRONG_PASSWORD = "canary-dbwrong-" + uuid.uuid4().hex[:12]
APP_PASSWORD = "canary-dbapp-" + uuid.uuid4().hex[:12]

# logs in with a credential read in the task: the password goes in on stdin (never in argv)
LOGIN = """
- name: %(name)s
  ansible.builtin.command:
    argv: ["%(py)s", "-c", "import sys, psycopg; u = sys.argv[1]; c = psycopg.connect(host='127.0.0.1',
           port=%(port)d, dbname='postgres', user=u, password=sys.stdin.read()); assert
           c.execute('select current_user').fetchone()[0] == u", "{{ %(var)s.username }}"]
    stdin: "{{ %(var)s.password }}"
    stdin_add_newline: false
  vars:
    %(var)s: "{{ lookup('agentarea.secrets.vault_read', '%(path)s') }}"
  changed_when: false
  no_log: true
"""


@pytest.fixture(scope="module")
def pg(harness):
    server = harness.start("postgres")
    with psycopg.connect(host=server["host"], port=server["port"], user=server["user"],
                         password=server["password"], dbname="postgres", autocommit=True) as conn:
        for role, password, extra in (("vdbadmin", ADMIN_PASSWORD, "CREATEROLE"), ("vdbapp", APP_PASSWORD, "")):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("CREATE ROLE {} WITH LOGIN %s PASSWORD {}" % extra).format(
                sql.Identifier(role), sql.Literal(password)))
        # the static role's user: the admin must be able to change its password
        conn.execute("GRANT vdbapp TO vdbadmin WITH ADMIN OPTION")
    return server


def can_log_in(pg, user, password):
    try:
        psycopg.connect(host=pg["host"], port=pg["port"], user=user, password=password, dbname="postgres").close()
    except psycopg.OperationalError:
        return False
    return True


def setup_task(mount, port, name="set up", role_ttl="1h", extra="", options="{max_open_connections: 3}"):
    return """
- name: %(name)s
  agentarea.secrets.vault_database:
    mount: %(mount)s
    connection:
      name: app
      plugin_name: postgresql-database-plugin
      connection_url: "postgresql://{{ '{{username}}' }}:{{ '{{password}}' }}@127.0.0.1:%(port)d/postgres?sslmode=disable"
      username: vdbadmin
      password: "{{ admin_password }}"
      allowed_roles: [ro, app]
      verify_connection: true
      options: %(options)s
    roles:
      - name: ro
        creation_statements:
          - CREATE ROLE "{{ '{{name}}' }}" WITH LOGIN PASSWORD '{{ '{{password}}' }}' VALID UNTIL '{{ '{{expiration}}' }}';
        default_ttl: %(ttl)s
        max_ttl: 2h
    static_roles:
      - {name: app, username: vdbapp, rotation_period: 24h}
    rotate_root: on_write%(extra)s
  register: %(reg)s
""" % {"name": name, "mount": mount, "port": port, "ttl": role_ttl, "extra": extra, "options": options,
       "reg": name.replace(" ", "_")}


def test_database_engine_set_up_idempotent_and_removed(ansible, vault, root, prefix, pg):
    mount = prefix + "-db"
    ensure_engine(root, "database", mount)
    env = env_for(vault)
    canaries = [ADMIN_PASSWORD, WRONG_PASSWORD, APP_PASSWORD]
    extra_vars = {"admin_password": ADMIN_PASSWORD, "wrong_password": WRONG_PASSWORD}
    try:
        # check mode: reports what it would create, diffs without the password, writes nothing
        # a plugin setting named like a credential is masked in the result and its invocation (-vvv)
        key_canary = "canary-dbkey-" + uuid.uuid4().hex[:12]
        options = "{max_open_connections: 3, private_key: %s}" % key_canary
        check = ansible.playbook(play(setup_task(mount, pg["port"], options=options)), env=env, check=True,
                                 diff=True, extra_vars=extra_vars, canaries=canaries + [key_canary], verbosity=3)
        planned = check.task("set up")
        assert planned["changed"] is True and planned["rotated_root"] is True
        assert planned["connection"]["action"] == "created" and planned["connection"]["password_written"] is True
        assert [r["action"] for r in planned["roles"] + planned["static_roles"]] == ["created", "created"]
        after = planned["diff"]["after"]
        assert after["config/app"]["password"] == "<hidden>" and after["config/app"]["private_key"] == "<hidden>"
        assert after["roles/ro"]["default_ttl"] == "1h" and planned["diff"]["before"]["config/app"] == "absent"
        assert root.list("%s/config" % mount) is None
        assert can_log_in(pg, "vdbadmin", ADMIN_PASSWORD)

        tasks = "\n".join([
            setup_task(mount, pg["port"]),
            setup_task(mount, pg["port"], name="again"),
            setup_task(mount, pg["port"], name="ttl check", role_ttl="90m"),
            setup_task(mount, pg["port"], name="ttl", role_ttl="90m"),
            LOGIN % {"name": "dynamic login", "py": sys.executable, "port": pg["port"], "var": "creds",
                     "path": "%s/creds/ro" % mount},
            LOGIN % {"name": "static login", "py": sys.executable, "port": pg["port"], "var": "static",
                     "path": "%s/static-creds/app" % mount},
            """
- name: rotate the static role now
  agentarea.secrets.vault_database: {mount: %(m)s, rotate_static_roles: [app]}
  register: rotated
- name: a connection Vault cannot verify
  agentarea.secrets.vault_database:
    mount: %(m)s
    connection:
      name: broken
      plugin_name: postgresql-database-plugin
      connection_url: "postgresql://{{ '{{username}}' }}:{{ '{{password}}' }}@127.0.0.1:%(p)d/postgres?sslmode=disable"
      username: vdbadmin
      password: "{{ wrong_password }}"
  register: broken
  ignore_errors: true
- name: remove
  agentarea.secrets.vault_database:
    mount: %(m)s
    connection: {name: app, state: absent}
    roles: [{name: ro, state: absent}]
    static_roles: [{name: app, state: absent}]
  register: removed
- name: remove again
  agentarea.secrets.vault_database:
    mount: %(m)s
    connection: {name: app, state: absent}
    roles: [{name: ro, state: absent}]
  register: removed_again
""" % {"m": mount, "p": pg["port"]}])
        # the ttl check task runs in check mode by itself
        tasks = tasks.replace("  register: ttl_check\n", "  register: ttl_check\n  check_mode: true\n")
        run = ansible.playbook(play(tasks), env=env, diff=True, extra_vars=extra_vars, canaries=canaries,
                               verbosity=3)
        created = run.task("set up")
        assert created["changed"] is True and created["rotated_root"] is True
        assert created["connection"]["action"] == "created"
        # Vault rotated the admin password: the one the task gave no longer works
        assert not can_log_in(pg, "vdbadmin", ADMIN_PASSWORD)
        again = run.task("again")
        assert again["changed"] is False and again["rotated_root"] is False
        assert again["connection"]["action"] == "unchanged"
        assert [r["action"] for r in again["roles"] + again["static_roles"]] == ["unchanged", "unchanged"]
        ttl_check = run.task("ttl check")
        assert ttl_check["changed"] is True and ttl_check["roles"][0]["changed_fields"] == ["default_ttl"]
        assert ttl_check["diff"]["before"]["roles/ro"] == {"default_ttl": 3600}
        ttl = run.task("ttl")
        assert ttl["changed"] is True and ttl["connection"]["action"] == "unchanged"
        assert ttl["roles"] == [{"name": "ro", "action": "updated", "changed_fields": ["default_ttl"]}]
        assert run.task("dynamic login")["_status"] == "ok" and run.task("static login")["_status"] == "ok"
        assert not can_log_in(pg, "vdbapp", APP_PASSWORD)          # Vault took the static role's user over
        assert run.task("rotate the static role now")["rotated_static_roles"] == ["app"]
        broken = run.task("a connection Vault cannot verify")
        assert broken["_status"] == "failed", broken
        assert "vault://%s/config/broken" % mount in broken["msg"] and "password authentication failed" in broken["msg"]
        assert "Traceback" not in broken["msg"]
        removed = run.task("remove")
        assert removed["changed"] is True and removed["connection"]["action"] == "deleted"
        assert [r["action"] for r in removed["roles"] + removed["static_roles"]] == ["deleted", "deleted"]
        assert run.task("remove again")["changed"] is False
        assert root.list("%s/config" % mount) is None
        # the dynamic role's lease was revoked before the connection went, so its database user is gone too
        with psycopg.connect(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"],
                             dbname="postgres") as conn:
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'v-%%-ro-%%'").fetchone()[0] == 0
    finally:
        root.sys.disable_secrets_engine(mount)
