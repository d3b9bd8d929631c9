# -*- coding: utf-8 -*-
"""agentarea.secrets.revoke through ansible-playbook against the harness's OpenBao, moto (IAM), PostgreSQL, MariaDB
and Redis. Each case: check mode (nothing changes) -> apply -> apply again (unchanged) -> clean up. Set-up and
checks use the servers' own SDKs (hvac, boto3, psycopg, PyMySQL, redis-py), never the code under test. Vault tasks
run with a least-privilege token holding only the policy the module documents."""
import json

import boto3
import hvac
import psycopg
import pymysql
import pytest
import redis
from psycopg import sql

from tests.harness.leak import run_leak_suite
from tests.harness.rotate_helpers import (  # noqa: F401  pylint: disable=unused-import
    bao, maria, pg, rds, token, uid,
)
from tests.harness.servers import free_port
from tests.harness.vault_helpers import ensure_auth, ensure_engine

pytest_plugins = ["tests.harness.conftest_plugin"]
pytestmark = pytest.mark.integration

# What the module's documentation says its Vault token needs, and nothing else.
REVOKER_POLICY = """
path "auth/token/lookup-accessor" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
path "auth/token/accessors" { capabilities = ["list", "sudo"] }
path "sys/leases/lookup" { capabilities = ["update"] }
path "sys/leases/lookup/*" { capabilities = ["list", "sudo"] }
path "sys/leases/revoke-prefix/*" { capabilities = ["update", "sudo"] }
path "sys/leases/revoke-force/*" { capabilities = ["update", "sudo"] }
"""


def play(args, check_mode=None, name="revoke"):
    task = {"name": name, "agentarea.secrets.revoke": args, "ignore_errors": True}
    if check_mode is not None:
        task["check_mode"] = check_mode
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def revoke(ansible, args, env=None, canaries=(), check=False, fails=False, **kw):
    """One revoke task (errors ignored, so a failure's result can be checked too); its registered result."""
    res = ansible.playbook(play(args), env=env, check=check, canaries=canaries, **kw)
    out = res.task("revoke")
    assert "Traceback" not in res.output, res
    assert out["_status"] == ("failed" if fails else "ok"), res
    return out


def token_works(url, value):
    try:
        hvac.Client(url=url, token=value).auth.token.lookup_self()
        return True
    except hvac.exceptions.Forbidden:
        return False


# -- OpenBao -------------------------------------------------------------------------------------------------------
@pytest.fixture
def vcase(bao):
    """A root client for set-up, and a revoker token with REVOKER_POLICY for the module."""
    info, root = bao
    n = uid()
    root.sys.create_or_update_policy("revoker-" + n, REVOKER_POLICY)
    revoker = root.auth.token.create(policies=["revoker-" + n], ttl="1h", no_parent=True)["auth"]["client_token"]
    case = type("VaultCase", (), {})()
    case.n, case.info, case.root, case.url = n, info, root, info["url"]
    case.revoker = revoker
    case.env = {"VAULT_ADDR": info["url"]}
    case.args = {"token": revoker}
    case.canaries = [revoker, info["token"]]
    yield case
    root.auth.token.revoke(revoker)
    root.sys.delete_policy("revoker-" + n)


def approle_login(case, mount, role):
    rid = case.root.auth.approle.read_role_id(role, mount_point=mount)["data"]["role_id"]
    sid = case.root.auth.approle.generate_secret_id(role, mount_point=mount)["data"]["secret_id"]
    case.canaries.append(sid)
    auth = hvac.Client(url=case.url).auth.approle.login(rid, sid, mount_point=mount)["auth"]
    case.canaries.append(auth["client_token"])
    return auth


def test_vault_tokens_by_accessor_and_by_role(ansible, vcase):
    case, root, n = vcase, vcase.root, vcase.n
    ensure_auth(root, "approle")
    for role in ("leaked-" + n, "other-" + n):
        root.auth.approle.create_or_update_approle(role, token_policies=["default"], token_ttl="1h")
    leaked = [approle_login(case, "approle", "leaked-" + n) for dummy in range(2)]
    other = approle_login(case, "approle", "other-" + n)
    root.auth.token.create_or_update_role("tr-" + n, allowed_policies=["default"])
    by_role = root.auth.token.create(role_name="tr-" + n, policies=["default"], ttl="1h")["auth"]
    root.sys.create_or_update_policy("parent-" + n, 'path "auth/token/create" { capabilities = ["update"] }')
    plain = root.auth.token.create(policies=["default", "parent-" + n], ttl="1h")["auth"]
    child = hvac.Client(url=case.url, token=plain["client_token"]).auth.token.create(policies=["default"], ttl="1h")
    case.canaries += [by_role["client_token"], plain["client_token"], child["auth"]["client_token"]]
    revoked = [t["client_token"] for t in leaked]
    revoked += [by_role["client_token"], plain["client_token"], child["auth"]["client_token"]]
    args = dict(case.args, vault={
        "accessors": [plain["accessor"], "no-such-accessor-" + n],
        "roles": [{"mount": "approle", "name": "leaked-" + n}, {"mount": "token", "name": "tr-" + n}]})

    plan = revoke(ansible, args, env=case.env, canaries=case.canaries, check=True, diff=True)
    assert plan["changed"] and plan["summary"]["vault_tokens"] == 4, plan
    acc = plan["vault"]["accessors"]
    assert acc[0]["state"] == "would_revoke" and acc[0]["path"] == "auth/token/create" and acc[1]["state"] == "none"
    roles = plan["vault"]["roles"]
    assert roles[0]["tokens"] == 2 and sorted(roles[0]["accessors"]) == sorted(t["accessor"] for t in leaked)
    assert roles[1] == {"mount": "token", "name": "tr-" + n, "tokens": 1, "state": "would_revoke"}
    assert all(token_works(case.url, t) for t in revoked + [other["client_token"]])

    done = revoke(ansible, args, env=case.env, canaries=case.canaries, diff=True)
    assert done["changed"] and done["summary"]["vault_tokens"] == 4
    assert [a["state"] for a in done["vault"]["accessors"]] == ["revoked", "none"]
    assert [r["state"] for r in done["vault"]["roles"]] == ["revoked", "revoked"]
    assert done["diff"]["before"]["vault role approle/leaked-%s" % n] == {"live_tokens": 2}
    assert done["diff"]["after"]["vault role approle/leaked-%s" % n] == {"live_tokens": 0}
    assert not any(token_works(case.url, t) for t in revoked)          # the child went with its parent
    assert token_works(case.url, other["client_token"]) and token_works(case.url, case.revoker)

    again = revoke(ansible, args, env=case.env, canaries=case.canaries)
    assert not again["changed"] and again["summary"]["vault_tokens"] == 0
    assert [r["state"] for r in again["vault"]["roles"]] == ["none", "none"]

    root.auth.token.revoke(other["client_token"])
    for role in ("leaked-" + n, "other-" + n):
        root.auth.approle.delete_role(role)
    root.auth.token.delete_role("tr-" + n)
    root.sys.delete_policy("parent-" + n)


@pytest.fixture
def dbengine(bao, pg):
    """OpenBao's database engine issuing PostgreSQL roles (a mount of its own per test)."""
    info, root = bao
    n = uid()
    mount, role, admin, admin_pw = "db-rvk-" + n, "agentarea-ro", "vaultadm_" + n, token()
    pg.create_role(admin, admin_pw, "CREATEROLE")
    ensure_engine(root, "database", mount)
    root.secrets.database.configure(
        "pg", "postgresql-database-plugin", allowed_roles=[role], username=admin, password=admin_pw,
        verify_connection=True, mount_point=mount,
        connection_url="postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable" % pg.info["port"])
    root.secrets.database.create_role(
        role, db_name="pg", default_ttl="1h", max_ttl="2h", mount_point=mount,
        creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                             "'{{expiration}}';"])
    yield mount, role, admin_pw
    root.sys.disable_secrets_engine(mount)
    pg.drop_roles(admin)


def test_vault_prefixes_dynamic_leases_and_auth_logins(ansible, vcase, dbengine, pg):
    case, root, n = vcase, vcase.root, vcase.n
    mount, role, admin_pw = dbengine
    case.canaries.append(admin_pw)
    creds = [root.secrets.database.generate_credentials(role, mount_point=mount) for dummy in range(2)]
    case.canaries += [c["data"]["password"] for c in creds]
    assert all(pg.ok(c["data"]["username"], c["data"]["password"]) for c in creds)
    auth_mount = "approle-" + n
    ensure_auth(root, "approle", auth_mount)
    root.auth.approle.create_or_update_approle("app", token_policies=["default"], token_ttl="1h",
                                               mount_point=auth_mount)
    logins = [approle_login(case, auth_mount, "app") for dummy in range(3)]
    prefix = "%s/creds/%s" % (mount, role)
    args = dict(case.args, vault={"prefixes": [prefix, "auth/%s/login" % auth_mount]})

    plan = revoke(ansible, args, env=case.env, canaries=case.canaries, check=True)
    leases, logins_item = plan["vault"]["prefixes"]
    assert plan["changed"] and plan["summary"] == {"vault_tokens": 3, "vault_leases": 2, "aws_access_keys": 0,
                                                   "db_sessions": 0, "logins_disabled": 0}
    assert leases["leases"] == 2 and sorted(leases["lease_ids"]) == sorted(c["lease_id"] for c in creds)
    assert logins_item["leases"] == 3 and "lease_ids" not in logins_item      # ids derived from tokens: counts only
    assert all(pg.ok(c["data"]["username"], c["data"]["password"]) for c in creds)
    assert all(token_works(case.url, t["client_token"]) for t in logins)

    done = revoke(ansible, args, env=case.env, canaries=case.canaries)
    assert done["changed"] and [p["state"] for p in done["vault"]["prefixes"]] == ["revoked", "revoked"]
    assert not any(pg.ok(c["data"]["username"], c["data"]["password"]) for c in creds)   # Vault dropped the roles
    assert not any(token_works(case.url, t["client_token"]) for t in logins)

    again = revoke(ansible, args, env=case.env, canaries=case.canaries)
    assert not again["changed"] and [p["leases"] for p in again["vault"]["prefixes"]] == [0, 0]
    root.sys.disable_auth_method(auth_mount)


def test_one_failure_does_not_stop_the_other_revocations(ansible, vcase):
    case = vcase
    plain = case.root.auth.token.create(policies=["default"], ttl="1h")["auth"]
    case.canaries.append(plain["client_token"])
    args = dict(case.args, vault={"accessors": [plain["accessor"]]},
                sessions=[{"kind": "redis", "host": "127.0.0.1", "port": free_port(), "username": "app",
                           "admin_username": "default", "admin_password": "canary-unused-" + case.n}])
    res = revoke(ansible, args, env=case.env, canaries=case.canaries + ["canary-unused-" + case.n], fails=True)
    assert res["changed"]
    assert res["vault"]["accessors"][0]["state"] == "revoked" and not token_works(case.url, plain["client_token"])
    assert len(res["errors"]) == 1 and "cannot reach Redis" in res["errors"][0] and "1 step(s) failed" in res["msg"]
    assert res["sessions"][0]["state"] == "failed"


# -- AWS IAM (moto) ---------------------------------------------------------------------------------------------------
@pytest.fixture
def iam_user(harness):
    info = harness.start("aws")
    iam = boto3.client("iam", endpoint_url=info["url"], region_name=info["region"],
                       aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])
    user = "leaked-" + uid()
    iam.create_user(UserName=user)
    keys = [iam.create_access_key(UserName=user)["AccessKey"] for dummy in range(2)]
    yield info, iam, user, keys
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)


def test_aws_iam_keys_deactivated_then_deleted_keeping_one(ansible, iam_user):
    info, iam, user, keys = iam_user
    old, new = keys[0]["AccessKeyId"], keys[1]["AccessKeyId"]
    canaries = [k["SecretAccessKey"] for k in keys]
    # moto authenticates any key, Inactive or not, so the checks read the keys' status with boto3

    def status():
        return dict((k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"])

    args = {"access_key": info["access_key"], "secret_key": info["secret_key"], "region": info["region"],
            "aws_iam": {"user": user, "keep_access_key_ids": [new, "AKIANOTHISUSERS0000"], "endpoint_url": info["url"]}}
    plan = revoke(ansible, args, canaries=canaries, check=True, diff=True)
    assert plan["changed"] and plan["summary"]["aws_access_keys"] == 1
    states = dict((k["access_key_id"], k["state"]) for k in plan["aws_iam"]["keys"])
    assert states == {old: "would_deactivate", new: "kept"} and plan["aws_iam"]["kept"] == [new]
    assert plan["aws_iam"]["keep_not_found"] == ["AKIANOTHISUSERS0000"] and plan["notes"]
    assert all("created" in k and "last_used" in k for k in plan["aws_iam"]["keys"])
    assert status() == {old: "Active", new: "Active"}

    done = revoke(ansible, args, canaries=canaries, diff=True)
    assert done["changed"] and status() == {old: "Inactive", new: "Active"}
    assert done["diff"]["after"]["aws_iam user %s" % user]["access_keys"] == {old: "Inactive", new: "Active"}
    again = revoke(ansible, args, canaries=canaries)
    assert not again["changed"] and dict((k["access_key_id"], k["state"]) for k in again["aws_iam"]["keys"]) == {
        old: "none", new: "kept"}

    args["aws_iam"]["action"] = "delete"
    plan = revoke(ansible, args, canaries=canaries, check=True)
    assert plan["changed"] and status() == {old: "Inactive", new: "Active"}
    done = revoke(ansible, args, canaries=canaries)
    assert done["changed"] and done["summary"]["aws_access_keys"] == 1 and status() == {new: "Active"}
    again = revoke(ansible, args, canaries=canaries)
    assert not again["changed"] and status() == {new: "Active"}


# -- PostgreSQL -------------------------------------------------------------------------------------------------------
def alive(conn, statement="SELECT 1"):
    try:
        if isinstance(conn, redis.Redis):
            conn.ping()
        elif isinstance(conn, psycopg.Connection):
            conn.execute(statement)
        else:
            with conn.cursor() as cur:
                cur.execute(statement)
        return True
    except (psycopg.Error, pymysql.err.MySQLError, redis.exceptions.RedisError):
        return False


def test_postgres_sessions_ended_and_login_disabled(ansible, pg, bao):
    info, root = bao
    n = uid()
    app, adm, password, admin_pw = "app_" + n, "adm_" + n, token(), token()
    pg.create_role(app, password)
    pg.create_role(adm, admin_pw, "CREATEROLE")
    pg.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(adm)))
    prefix = "agentarea-revoke-" + n
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db-admin", mount_point="secret",
                                               secret={"username": adm, "password": admin_pw})
    env = {"VAULT_ADDR": info["url"], "VAULT_TOKEN": info["token"]}
    canaries = [password, admin_pw, info["token"]]
    sessions = [psycopg.connect(host=pg.info["host"], port=pg.info["port"], user=app, password=password,
                                dbname="postgres", autocommit=True) for dummy in range(2)]
    args = {"sessions": [{"kind": "postgres", "host": pg.info["host"], "port": pg.info["port"], "username": app,
                          "admin": "vault://secret/%s/db-admin" % prefix, "disable_login": True}]}

    plan = revoke(ansible, args, env=env, canaries=canaries, check=True)
    item = plan["sessions"][0]
    assert plan["changed"] and item["state"] == "would_revoke" and item["sessions"] == 2
    assert item["login"] == "would_disable" and sorted(c["id"] for c in item["clients"]) == sorted(
        s.info.backend_pid for s in sessions)
    assert all(alive(s) for s in sessions) and pg.ok(app, password)

    done = revoke(ansible, args, env=env, canaries=canaries, diff=True)
    item = done["sessions"][0]
    assert done["changed"] and item["ended"] == 2 and item["login"] == "disabled"
    assert done["summary"]["db_sessions"] == 2 and done["summary"]["logins_disabled"] == 1
    assert not any(alive(s) for s in sessions) and not pg.ok(app, password)
    assert done["diff"]["before"]["postgres sessions of %s at %s:%s" % (app, pg.info["host"], pg.info["port"])] == {
        "sessions": 2, "login": "enabled"}

    again = revoke(ansible, args, env=env, canaries=canaries)
    assert not again["changed"] and again["sessions"][0]["sessions"] == 0 and again["sessions"][0]["login"] == "disabled"

    with pg.admin() as conn:
        assert conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (app,)).fetchone() == (False,)
    for s in sessions:
        s.close()
    pg.drop_roles(app, adm)
    root.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/db-admin", mount_point="secret")


# -- MariaDB ----------------------------------------------------------------------------------------------------------
def test_mariadb_connections_killed_and_account_locked(ansible, maria):
    n = uid()
    app, password = "app_" + n, token()
    maria.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (app, password))
    conns = [maria.connect(app, password) for dummy in range(2)]
    canaries = [password, maria.info["password"]]
    args = {"sessions": [{"kind": "mysql", "host": maria.info["host"], "port": maria.info["port"], "username": app,
                          "admin_username": maria.info["user"], "admin_password": maria.info["password"],
                          "disable_login": True}]}

    plan = revoke(ansible, args, canaries=canaries, check=True)
    item = plan["sessions"][0]
    assert plan["changed"] and item["sessions"] == 2 and item["login"] == "would_disable"
    assert sorted(c["id"] for c in item["clients"]) == sorted(c.thread_id() for c in conns)
    assert all(alive(c) for c in conns) and maria.ok(app, password)

    done = revoke(ansible, args, canaries=canaries)
    assert done["changed"] and done["sessions"][0]["ended"] == 2 and done["sessions"][0]["login"] == "disabled"
    assert not any(alive(c) for c in conns) and not maria.ok(app, password)
    assert "ACCOUNT LOCK" in maria.execute("SHOW CREATE USER %s@'%%'", (app,))[0][0]

    again = revoke(ansible, args, canaries=canaries)
    assert not again["changed"] and again["sessions"][0]["sessions"] == 0
    maria.execute("DROP USER %s@'%%'", (app,))


# -- Redis ------------------------------------------------------------------------------------------------------------
def redis_case(rds):
    n = uid()
    user, password = "app-" + n, token()
    rds.admin.execute_command("ACL", "SETUSER", user, "on", ">" + password, "~*", "+@all")
    conns = []
    for dummy in range(2):
        conn = redis.Redis(host=rds.info["host"], port=rds.info["port"], username=user, password=password,
                           socket_timeout=5)
        conn.ping()
        conns.append(conn)
    args = {"sessions": [{"kind": "redis", "host": rds.info["host"], "port": rds.info["port"], "username": user,
                          "admin_password": rds.info["password"], "admin_username": "default",
                          "disable_login": True}]}
    return user, password, conns, args


def test_redis_clients_killed_and_passwords_reset(ansible, rds):
    user, password, conns, args = redis_case(rds)
    canaries = [password, rds.info["password"]]

    plan = revoke(ansible, args, canaries=canaries, check=True)
    assert plan["changed"] and plan["sessions"][0]["sessions"] == 2 and plan["sessions"][0]["login"] == "would_disable"
    assert len([c for c in rds.admin.client_list() if c["user"] == user]) == 2 and rds.ok(user, password)

    done = revoke(ansible, args, canaries=canaries)
    assert done["changed"] and done["sessions"][0]["ended"] == 2
    assert not [c for c in rds.admin.client_list() if c["user"] == user] and not rds.ok(user, password)
    assert rds.admin.acl_getuser(user)["passwords"] == []

    again = revoke(ansible, args, canaries=canaries)
    assert not again["changed"] and again["sessions"][0]["login"] == "disabled"
    # what a rotation does: a new password works again
    rds.admin.execute_command("ACL", "SETUSER", user, ">" + password + "-new")
    assert rds.ok(user, password + "-new")
    rds.admin.acl_deluser(user)


# -- leaks ------------------------------------------------------------------------------------------------------------
def test_no_token_password_or_key_secret_leaks(ansible, vcase, rds, pg):
    case = vcase
    user, password, dummy, args = redis_case(rds)
    n = uid()
    app, pg_password = "leak_" + n, token()
    pg.create_role(app, pg_password)
    pg_session = psycopg.connect(host=pg.info["host"], port=pg.info["port"], user=app, password=pg_password,
                                 dbname="postgres")
    plain = case.root.auth.token.create(policies=["default"], ttl="1h")["auth"]
    canaries = case.canaries + [plain["client_token"], password, rds.info["password"], pg_password,
                                pg.info["password"]]
    # secrets reach the task through templates, as in a real playbook (a literal in the playbook would be shown
    # by ANSIBLE_DISPLAY_ARGS_TO_STDOUT before any module runs)
    env = dict(case.env, REVOKER_TOKEN=case.revoker, REDIS_ADMIN=rds.info["password"], PG_ADMIN=pg.info["password"])
    args["token"] = "{{ lookup('env', 'REVOKER_TOKEN') }}"
    args["sessions"][0]["admin_password"] = "{{ lookup('env', 'REDIS_ADMIN') }}"
    args["vault"] = {"accessors": [plain["accessor"]], "prefixes": ["auth/token/create/none-" + n]}
    args["sessions"] = args["sessions"] + [{
        "kind": "postgres", "host": pg.info["host"], "port": pg.info["port"], "username": app,
        "admin_username": pg.info["user"], "admin_password": "{{ lookup('env', 'PG_ADMIN') }}", "disable_login": True}]
    results = run_leak_suite(ansible, play(args), canaries, env=env)
    first = results[0].task("revoke")
    assert first["changed"] and first["summary"]["vault_tokens"] == 1 and first["summary"]["db_sessions"] == 3
    assert all(not r.task("revoke")["changed"] for r in results[1:])
    assert not token_works(case.url, plain["client_token"]) and not alive(pg_session)
    rds.admin.acl_deluser(user)
    pg.drop_roles(app)
    print(json.dumps(first["summary"]))
