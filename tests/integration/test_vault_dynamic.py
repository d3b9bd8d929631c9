# -*- coding: utf-8 -*-
"""Dynamic PostgreSQL credentials from OpenBao's database engine against the harness's PostgreSQL: issued once per
run, used to log in during the run, refused after it ends (the lease is revoked) unless keep_lease."""
import sys
import time
import uuid

import psycopg
import pytest
from psycopg import sql

from tests.harness.vault_helpers import (
    Audit,
    ensure_engine,
    env_for,
    play,
    read_policy,
)

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

OPTION = "ansible_agentarea_secrets_vault_"
ROLE = "agentarea-ro"
# a task that logs in with the credential: the password goes in on stdin (never in argv or `environment:`, which
# Ansible itself prints at -vvv); the script fails unless the server says it is that user
LOGIN = """
    - name: log in %(n)d
      ansible.builtin.command:
        argv: ["%(py)s", "-c", "import sys, psycopg; u = sys.argv[1]; c = psycopg.connect(host='127.0.0.1',
               port=%(port)d, dbname='postgres', user=u, password=sys.stdin.read()); assert
               c.execute('select current_user').fetchone()[0] == u", "{{ db.username }}"]
        stdin: "{{ db.password }}"
        stdin_add_newline: false
      changed_when: false
      no_log: true
"""


@pytest.fixture(scope="module")
def database(harness, root):
    pg = harness.start("postgres")
    admin_password = "vault-admin-" + uuid.uuid4().hex
    with psycopg.connect(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"],
                         dbname="postgres", autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS vaultadmin")
        conn.execute(sql.SQL("CREATE ROLE vaultadmin WITH LOGIN CREATEROLE PASSWORD {}").format(
            sql.Literal(admin_password)))
    ensure_engine(root, "database", "database")
    root.secrets.database.configure(
        "agentarea-pg", "postgresql-database-plugin", allowed_roles=[ROLE], username="vaultadmin",
        password=admin_password, verify_connection=True,
        connection_url="postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable" % pg["port"])
    root.secrets.database.create_role(
        ROLE, db_name="agentarea-pg", default_ttl="10m", max_ttl="1h",
        creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                             "'{{expiration}}';", "GRANT CONNECT ON DATABASE postgres TO \"{{name}}\";"])
    read_policy(root, "agentarea-db-ro", "database/creds/%s" % ROLE)
    return pg


def pg_roles(pg, name):
    with psycopg.connect(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"],
                         dbname="postgres") as conn:
        return conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (name,)).fetchone()[0]


def can_log_in(pg, username, password):
    try:
        psycopg.connect(host=pg["host"], port=pg["port"], user=username, password=password, dbname="postgres").close()
    except psycopg.OperationalError:
        return False
    return True


def dynamic_play(pg, extra=""):
    tasks = "\n".join(LOGIN % {"n": n, "py": sys.executable, "port": pg["port"]} for n in (1, 2, 3))
    tasks += """
    - name: lease
      ansible.builtin.debug: {msg: "{{ db.lease_id }} {{ db.lease_duration }} {{ db.username }}"}
    - name: keep the credential for the test to try after the run
      ansible.builtin.copy: {content: "{{ db.username }} {{ db.password }}", dest: creds.txt, mode: "0600"}
      no_log: true
    """
    lookup = "{{ lookup('agentarea.secrets.vault', 'database/creds/%s', engine='dynamic'%s) }}" % (ROLE, extra)
    return play(tasks, vars_='db: "%s"' % lookup)


def run_dynamic(ansible, vault, pg, env, options, extra="", run_cache=True):
    audit = Audit(vault["audit_log"])
    result = ansible.playbook(dynamic_play(pg, extra), env=env, extra_vars=options, allowed_files=["creds.txt"],
                              verbosity=4, run_cache=run_cache)
    username, password = (result.workdir / "creds.txt").read_text().split(" ", 1)
    lease_id, ttl, shown_user = result.task("lease")["msg"].split()
    assert lease_id.startswith("database/creds/%s/" % ROLE) and int(ttl) == 600 and shown_user == username
    for n in (1, 2, 3):
        assert result.task("log in %d" % n)["_status"] == "ok"      # logged in during the run
    assert audit.count("database/creds/%s" % ROLE) == 1            # one credential for the whole run
    assert password not in result.output and "clean-up of" not in result.output
    return result, username, password, lease_id, audit


@pytest.mark.parametrize("auth", ["token", "approle"])
def test_dynamic_credentials_revoked_when_the_run_ends(ansible, vault, root, database, auth):
    env, options = env_for(vault), {}
    if auth == "approle":
        env = env_for(vault, token=False)
        if "approle/" not in root.sys.list_auth_methods()["data"]:
            root.sys.enable_auth_method("approle")
        root.auth.approle.create_or_update_approle("agentarea-db", token_policies=["agentarea-db-ro"])
        options = {OPTION + "auth_method": "approle",
                   OPTION + "role_id": root.auth.approle.read_role_id("agentarea-db")["data"]["role_id"],
                   OPTION + "secret_id": root.auth.approle.generate_secret_id("agentarea-db")["data"]["secret_id"]}
    _result, username, password, lease_id, audit = run_dynamic(ansible, vault, database, env, options)
    # revoked: the lease itself with the given token; with its login token otherwise
    assert audit.count("sys/leases/revoke") == 1
    if auth == "approle":
        assert audit.count("auth/token/revoke-self") == 1
    deadline = time.monotonic() + 10
    while pg_roles(database, username) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pg_roles(database, username) == 0
    assert not can_log_in(database, username, password)
    with pytest.raises(Exception):
        root.sys.read_lease(lease_id)


def test_keep_lease_leaves_the_credential_valid(ansible, vault, root, database):
    _result, username, password, lease_id, audit = run_dynamic(ansible, vault, database, env_for(vault), {},
                                                               extra=", keep_lease=true")
    assert audit.count("sys/leases/revoke") == 0
    assert can_log_in(database, username, password)
    root.sys.revoke_lease(lease_id)
    assert not can_log_in(database, username, password)


def test_dynamic_without_the_callback_is_revoked_by_the_broker(ansible, vault, root, database):
    """No configuration: the run's broker holds the lease and revokes it when ansible-playbook ends."""
    _result, username, password, lease_id, audit = run_dynamic(ansible, vault, database, env_for(vault), {},
                                                               run_cache=False)
    deadline = time.monotonic() + 10
    while (audit.count("sys/leases/revoke") < 1 or pg_roles(database, username)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert audit.count("sys/leases/revoke") == 1
    assert not can_log_in(database, username, password)


def test_dynamic_without_a_broker_needs_keep_lease(ansible, vault, database, tmp_path):
    """Where the broker cannot start (lookups read directly), nothing would revoke the lease: refused."""
    env = dict(env_for(vault), ANSIBLE_AGENTAREA_SECRETS_BROKER_DIR=str(tmp_path / "absent" / "x"))
    result = ansible.playbook(dynamic_play(database), env=env, run_cache=False, expect_rc=2)
    assert "engine=dynamic needs the agentarea.secrets.run_cache callback" in result.output
