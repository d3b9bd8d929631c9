# -*- coding: utf-8 -*-
"""agentarea.secrets.rotate through ansible-playbook against the harness's real PostgreSQL, MariaDB, Redis and
OpenBao, and the local stores: every strategy, faults at every phase boundary, kill -9, two rotations at once,
check mode, the leak suite. Set-up and checks use the servers' own SDKs, never the code under test."""
import base64
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import quote

import jwt
import pytest
from psycopg import sql

from tests.harness.leak import run_leak_suite
# aws, bao, maria, pg and rds are fixtures
from tests.harness.rotate_helpers import (  # noqa: F401 pylint: disable=unused-import
    Background, audit_actions, aws, aws_stage, bao, bao_env, bao_read, bao_slot_history, bao_slot_value, bao_versions, kill9_module,
    maria, pg, rds, rotate, token, uid, wait_for,
)
from tests.harness.servers import free_port

pytest_plugins = ["tests.harness.conftest_plugin"]
pytestmark = pytest.mark.integration


def run(ansible, case, extra=None, **kw):
    args = dict(case.args)
    args.update(extra or {})
    if "target" in (extra or {}):
        args["target"] = dict(case.args["target"], **extra["target"])
    kw.setdefault("canaries", case.canaries)
    return rotate(ansible, args, env=case.env, **kw)


# -- PostgreSQL + OpenBao ---------------------------------------------------------------------------------
@pytest.fixture
def pgcase(pg, bao, tmp_path):
    info, client = bao
    n = uid()
    app, adm, prefix = "app_" + n, "adm_" + n, "agentarea-rotate-" + n
    old, admin_pw = token(), token()
    pg.create_role(app, old)
    pg.create_role(adm, admin_pw, "CREATEROLE")
    # every statement of the admin's sessions reaches the server log: proof that no plaintext is sent
    pg.execute(sql.SQL("ALTER ROLE {} SET log_statement = 'all'").format(sql.Identifier(adm)))
    kv = client.secrets.kv.v2
    kv.create_or_update_secret(prefix + "/database", mount_point="secret",
                               secret={"username": app, "password": old, "url": "postgresql://stale", "note": "kept"})
    kv.create_or_update_secret(prefix + "/db-admin", mount_point="secret",
                               secret={"username": adm, "password": admin_pw})
    case = SimpleNamespace(app=app, adm=adm, old=old, admin_pw=admin_pw, prefix=prefix, client=client,
                           env=bao_env(info), canaries=[old, admin_pw], audit=str(tmp_path / "audit.log"))
    case.args = {
        "store": "vault://secret/%s/database" % prefix, "kind": "postgres", "audit_log": case.audit,
        "target": {"host": pg.info["host"], "port": pg.info["port"], "database": "postgres",
                   "admin": "vault://secret/%s/db-admin" % prefix,
                   "url_template": "postgresql://{username}:{password_url}@{host}:{port}/{database}"},
    }
    case.current = lambda: bao_read(client, prefix + "/database")
    case.pending = lambda: bao_slot_value(client, prefix + "/database__pending")
    case.previous = lambda: bao_slot_value(client, prefix + "/database__previous")
    yield case
    pg.drop_roles(app + "_a", app + "_b", app, adm)
    for path in ("database", "database__pending", "database__previous", "db-admin", "fresh", "fresh__pending"):
        try:
            kv.delete_metadata_and_all_versions(prefix + "/" + path, mount_point="secret")
        except Exception:  # noqa: BLE001
            pass


def test_postgres_single_check_apply_again(ansible, pg, pgcase):
    case = pgcase
    plan = run(ansible, case, check=True)
    assert plan["changed"] and plan["plan"]["steps"][0].startswith("create")
    assert bao_versions(case.client, case.prefix + "/database") == 1 and pg.ok(case.app, case.old)

    res = ansible.playbook(rotate_play(case), env=case.env, canaries=case.canaries, diff=True)
    r = res.task("rotate")
    cur = case.current()
    ansible.assert_no_leak(res, [cur["password"]])
    assert r["changed"] and r["action"] == "rotated" and r["strategy_used"] == "single"
    assert r["old"]["version"] == "1" and r["new"]["version"] == "2"
    assert r["new"]["fingerprint"] != r["old"]["fingerprint"] and r["new"]["username"] == case.app
    assert pg.ok(case.app, cur["password"]) and not pg.ok(case.app, case.old)
    assert cur["note"] == "kept" and cur["url"] == "postgresql://%s:%s@%s:%s/postgres" % (
        case.app, quote(cur["password"], safe=""), pg.info["host"], pg.info["port"])
    assert case.pending() is None and case.previous() is None       # contracted at once: the old value is gone
    assert bao_slot_value(case.client, case.prefix + "/database__previous", version=1)["password"] == case.old
    assert set(r["timings"]) >= {"lock", "create", "set", "test", "finish"}
    assert audit_actions(case.audit) == ["rotate.lock", "rotate.create", "rotate.set", "rotate.test",
                                         "rotate.finish", "rotate.contract"]
    log = pg.log_text()
    assert "SCRAM-SHA-256$" in log and cur["password"] not in log    # the verifier was sent, never the password

    again = run(ansible, case, {"min_age": "1d"})
    assert not again["changed"] and again["action"] == "skipped" and again["next_due"]
    assert bao_versions(case.client, case.prefix + "/database") == 2


def rotate_play(case, extra=None):
    from tests.harness.rotate_helpers import play
    args = dict(case.args, **(extra or {}))
    return play(args)


def test_postgres_alternating_and_contract(ansible, pg, pgcase):
    case = pgcase
    args = {"strategy": "alternating", "target": {"username": case.app}}
    first = run(ansible, case, args)
    cur = case.current()
    assert first["new"]["username"] == case.app + "_a" and cur["username"] == case.app + "_a"
    assert pg.ok(case.app + "_a", cur["password"]) and pg.ok(case.app, case.old)    # old still valid
    early = run(ansible, case, dict(args, overlap="1h", contract=True))
    assert not early["changed"] and "overlap runs until" in early["contract"]["reason"]
    second = run(ansible, case, args)        # overlap 0: contracts the first rotation, then rotates
    assert second["contract"]["performed"] and not pg.ok(case.app, case.old)
    cur2 = case.current()
    assert cur2["username"] == case.app + "_b" and pg.ok(case.app + "_b", cur2["password"])
    assert pg.ok(case.app + "_a", cur["password"])                                    # previous, until contract
    done = run(ansible, case, dict(args, contract=True))
    assert done["changed"] and done["action"] == "contracted" and not pg.ok(case.app + "_a", cur["password"])
    again = run(ansible, case, dict(args, contract=True))
    assert not again["changed"] and "already contracted" in again["contract"]["reason"]
    ansible_leaks = [cur["password"], cur2["password"]]
    assert all(p not in json.dumps([first, second, done]) for p in ansible_leaks)


def test_postgres_rehearse_changes_nothing_consumers_see(ansible, pg, pgcase):
    case = pgcase
    r = run(ansible, case, {"rehearse": True})
    assert r["action"] == "rehearsed" and not r["changed"]
    assert r["rehearsal"] == {"rotation": "ok", "rollback": "ok", "old_credential_works": True,
                              "new_credential_rejected": True}
    assert bao_versions(case.client, case.prefix + "/database") == 1 and pg.ok(case.app, case.old)
    assert case.pending() is None
    assert audit_actions(case.audit)[-4:] == ["rotate.create", "rotate.set", "rotate.test", "rotate.rollback"]


# -- faults at every phase boundary ------------------------------------------------------------------------------
def assert_healthy(pg, case, version):
    """The store holds a working credential, at the expected version, with no pending slot left."""
    cur = case.current()
    assert pg.ok(cur["username"], cur["password"])
    assert bao_versions(case.client, case.prefix + "/database") == version
    assert case.pending() is None
    return cur


def test_store_refuses_the_final_write(ansible, pg, pgcase, bao):
    info, client = bao
    case = pgcase
    policy = """
    path "secret/data/{p}/database" {{ capabilities = ["read"] }}
    path "secret/data/{p}/database__*" {{ capabilities = ["create", "read", "update", "delete"] }}
    path "secret/metadata/{p}/*" {{ capabilities = ["read", "list"] }}
    path "secret/data/{p}/db-admin" {{ capabilities = ["read"] }}
    """.format(p=case.prefix)
    client.sys.create_or_update_policy("rotate-" + case.prefix, policy)
    limited = client.auth.token.create(policies=["rotate-" + case.prefix], ttl="10m")["auth"]["client_token"]
    r = rotate(ansible, case.args, env=bao_env(info, limited), expect_rc=2, canaries=case.canaries + [limited])
    rb = r["rolled_back"]
    assert r["_status"] == "failed" and r["error"] == "SecretAccessDenied" and r["action"] == "rolled_back"
    assert rb["failed_in"] == "finish" and rb["target_reverted"] is True and rb["old_credential_works"] is True
    assert rb["pending_cleared"] is True and case.previous() is None
    assert pg.ok(case.app, case.old)
    assert_healthy(pg, case, 1)
    fixed = run(ansible, case)                                      # a second run, allowed to write, completes
    assert fixed["action"] == "rotated" and fixed["resumed"] is None
    assert_healthy(pg, case, 2)


def test_target_unreachable(ansible, pg, pgcase):
    case = pgcase
    r = run(ansible, case, {"target": {"port": free_port()}}, expect_rc=2)
    assert "cannot reach PostgreSQL" in r["msg"]
    assert r["rolled_back"]["target_reverted"].startswith("not needed") and r["rolled_back"]["pending_cleared"]
    assert pg.ok(case.app, case.old)
    assert_healthy(pg, case, 1)
    assert run(ansible, case)["action"] == "rotated"
    assert_healthy(pg, case, 2)


def test_test_login_fails(ansible, pg, pgcase):
    case = pgcase
    r = run(ansible, case, {"target": {"test_query": "SELECT 1 FROM no_such_table"}}, expect_rc=2)
    rb = r["rolled_back"]
    assert rb["failed_in"] == "test" and rb["target_reverted"] is True and rb["old_credential_works"] is True
    assert pg.ok(case.app, case.old)
    assert_healthy(pg, case, 1)
    assert run(ansible, case)["action"] == "rotated"
    assert_healthy(pg, case, 2)


@pytest.mark.parametrize("point, outcome", [("create", "rolled_back"), ("set", "completed"), ("test", "completed"),
                                            ("finish:previous", "completed"), ("finish:promote", "completed")])
def test_killed_at_a_phase_boundary_then_resumed(ansible, pg, pgcase, point, outcome):
    case = pgcase
    died = ansible.playbook(rotate_play(case), env=dict(case.env, AGENTAREA_SECRETS_ROTATION_FAULT=point + ":exit"),
                            canaries=case.canaries, expect_rc=None)
    assert died.rc != 0
    pending = case.pending()
    assert pending is not None                                      # the new value survived the crash
    assert pg.ok(case.app, case.old) or pg.ok(case.app, pending["password"])
    plan = run(ansible, case, check=True)                           # check mode: says it would resume, changes nothing
    assert plan["plan"]["steps"][0].startswith("resume") and case.pending() == pending
    r = run(ansible, case, canaries=case.canaries + [pending["password"]])
    assert r["resumed"]["outcome"] == outcome and r["resumed"]["rotation_id"]
    cur = assert_healthy(pg, case, 2)
    if outcome == "completed":
        assert cur["password"] == pending["password"] and r["action"] == "resumed"
    else:
        assert cur["password"] not in (case.old, pending["password"]) and r["action"] == "rotated"
    assert not pg.ok(case.app, case.old)


def test_kill_minus_9_between_set_and_finish(ansible, pg, pgcase):
    case = pgcase
    bg = Background(ansible, dict(case.args), env=case.env, fault="set:sleep=60")
    wait_for(lambda: "rotate.set" in audit_actions(case.audit), what="the set phase")
    assert kill9_module()
    died = bg.join()
    assert died.rc != 0
    pending = case.pending()
    assert pg.ok(case.app, pending["password"]) and not pg.ok(case.app, case.old)    # single: target on new
    r = run(ansible, case)
    assert r["resumed"]["outcome"] == "completed" and r["resumed"]["pending_works"] is True
    assert r["resumed"]["current_works"] is False
    assert assert_healthy(pg, case, 2)["password"] == pending["password"]


def test_two_rotations_at_once(ansible, pg, pgcase):
    case = pgcase
    first = Background(ansible, dict(case.args), env=case.env, fault="create:sleep=30")
    claimed = wait_for(case.pending, what="the first run's pending slot")
    second = run(ansible, case, expect_rc=2)
    assert "another run holds the rotation" in second["msg"] and second["rolled_back"] is None
    assert case.pending() == claimed                                # the second run touched nothing
    done = first.join()
    assert done.rc == 0 and done.task("rotate")["action"] == "rotated"
    assert assert_healthy(pg, case, 2)["password"] == claimed["password"]


def test_leak_suite_over_rotate(ansible, pg, pgcase):
    case = pgcase
    failing = rotate_play(case, {"target": dict(case.args["target"], test_query="SELECT 1 FROM missing")})
    results = run_leak_suite(ansible, failing, case.canaries, env=case.env)
    assert results[0].rc != 0 and results[1].rc == 0                # the rotation fails; check mode only plans
    assert bao_versions(case.client, case.prefix + "/database") == 1
    results += run_leak_suite(ansible, rotate_play(case), case.canaries, env=case.env)
    history = bao_slot_history(case.client, case.prefix + "/database__previous")
    seen = [case.current()["password"]] + [v["password"] for v in history]
    for result in results:
        ansible.assert_no_leak(result, seen)


# -- MariaDB, with a file store and an admin credential from a file ---------------------------------------------------
@pytest.fixture
def mycase(maria, tmp_path):
    user, old, n = "my_" + uid(), token(), uid()
    maria.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, old))
    (tmp_path / "admin.json").write_text(json.dumps({"username": maria.info["user"],
                                                     "password": maria.info["password"]}))
    store = tmp_path / ("db-%s.json" % n)
    store.write_text(json.dumps({"username": user, "password": old}))
    case = SimpleNamespace(user=user, old=old, store=store, env={}, canaries=[old, maria.info["password"]],
                           audit=str(tmp_path / "audit.log"))
    case.args = {"store": "file://%s" % store, "kind": "mysql", "audit_log": case.audit,
                 "target": {"host": maria.info["host"], "port": maria.info["port"],
                            "admin": "file://%s" % (tmp_path / "admin.json")}}
    case.current = lambda: json.loads(store.read_text())
    yield case
    maria.execute("DROP USER IF EXISTS %s@'%%'", (user,))


def test_mysql_overlap_falls_back_to_single_on_mariadb(ansible, maria, mycase, tmp_path):
    case = mycase
    before = case.store.read_text()
    plan = run(ansible, case, {"strategy": "overlap"}, check=True)
    assert plan["changed"] and case.store.read_text() == before
    general = os.path.join(os.path.dirname(maria.info["socket"]), "general-%s.log" % uid())   # mysqld may write there
    maria.execute("SET GLOBAL general_log_file = %s", (general,))
    maria.execute("SET GLOBAL general_log = 1")
    try:
        r = run(ansible, case, {"strategy": "overlap"})
    finally:
        maria.execute("SET GLOBAL general_log = 0")
    cur = case.current()
    assert r["strategy"] == "overlap" and r["strategy_used"] == "single"
    assert any("MariaDB" in note for note in r["notes"])
    assert maria.ok(case.user, cur["password"]) and not maria.ok(case.user, case.old)
    log = open(general, errors="replace").read()
    assert "IDENTIFIED BY PASSWORD" in log and cur["password"] not in log       # only the hash reached the server
    again = run(ansible, case, {"strategy": "overlap", "min_age": "1h"})
    assert not again["changed"] and case.current() == cur


def test_mysql_read_only_store_then_second_run(ansible, maria, mycase):
    case = mycase
    if subprocess.run(["chattr", "+i", str(case.store)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        r = run(ansible, case, expect_rc=2)
    finally:
        subprocess.run(["chattr", "-i", str(case.store)], check=True)
    assert r["rolled_back"]["failed_in"] == "finish" and r["rolled_back"]["old_credential_works"] is True
    assert maria.ok(case.user, case.old) and case.current()["password"] == case.old
    assert not os.path.exists(str(case.store) + "__pending")
    assert run(ansible, case)["action"] == "rotated"
    assert maria.ok(case.user, case.current()["password"])


def test_mysql_two_rotations_at_once_on_a_local_store(ansible, maria, mycase):
    case = mycase
    first = Background(ansible, dict(case.args), fault="create:sleep=30")
    wait_for(lambda: os.path.exists(str(case.store) + "__pending"), what="the pending file")
    second = run(ansible, case, expect_rc=2)
    assert "another rotation of this secret is running on this host" in second["msg"]
    assert first.join().rc == 0
    assert maria.ok(case.user, case.current()["password"]) and not maria.ok(case.user, case.old)


# -- Redis, with a pass store -----------------------------------------------------------------------------------------------
@pytest.fixture
def rcase(rds, harness, tmp_path):
    info = harness.start("pass")
    env = {"PASSWORD_STORE_DIR": info["store_dir"], "GNUPGHOME": info["gnupghome"]}
    run_env = dict(os.environ, **env)
    user, old, n = "app_" + uid(), token(), uid()
    rds.admin.acl_setuser(user, enabled=True, passwords=["+" + old], commands=["+@all"], keys=["*"])
    entry, admin_entry = "agentarea/redis-" + n, "agentarea/redis-admin-" + n
    for name, text in ((entry, "%s\nusername: %s\n" % (old, user)), (admin_entry, rds.info["password"] + "\n")):
        subprocess.run(["pass", "insert", "--multiline", "--force", name], input=text, text=True, env=run_env,
                       check=True, capture_output=True)

    def show(name):
        proc = subprocess.run(["pass", "show", name], env=run_env, capture_output=True, text=True, check=False)
        return proc.stdout if proc.returncode == 0 else None
    case = SimpleNamespace(user=user, old=old, env=env, canaries=[old, rds.info["password"]], show=show,
                           audit=str(tmp_path / "audit.log"))
    case.args = {"store": "pass://" + entry, "kind": "redis", "strategy": "overlap", "audit_log": case.audit,
                 "target": {"host": rds.info["host"], "port": rds.info["port"], "admin": "pass://" + admin_entry}}
    case.current = lambda: show(entry).split("\n")[0]
    case.entry = entry
    yield case
    rds.admin.acl_deluser(user)
    for name in (entry, admin_entry, entry + "__pending", entry + "__previous"):
        subprocess.run(["pass", "rm", "-f", name], env=run_env, capture_output=True, check=False)


def test_redis_overlap_then_contract(ansible, rds, rcase):
    case = rcase
    plan = run(ansible, case, check=True)
    assert plan["changed"] and case.current() == case.old
    r = run(ansible, case)
    new = case.current()
    assert r["action"] == "rotated" and "username: %s" % case.user in case.show(case.entry)
    assert rds.ok(case.user, new) and rds.ok(case.user, case.old)                 # both during the overlap
    c = run(ansible, case, {"contract": True})
    assert c["changed"] and not rds.ok(case.user, case.old) and rds.ok(case.user, new)
    assert not run(ansible, case, {"contract": True})["changed"]
    again = run(ansible, case, {"min_age": "1h"})
    assert not again["changed"] and case.current() == new


def test_redis_rehearse_and_kill_after_set(ansible, rds, rcase):
    case = rcase
    r = run(ansible, case, {"rehearse": True})
    assert r["rehearsal"]["new_credential_rejected"] and case.current() == case.old and rds.ok(case.user, case.old)
    died = ansible.playbook(rotate_play(case), env=dict(case.env, AGENTAREA_SECRETS_ROTATION_FAULT="set:exit"),
                            expect_rc=None, canaries=case.canaries)
    assert died.rc != 0 and rds.ok(case.user, case.old)                          # overlap: old still works
    resumed = run(ansible, case)
    assert resumed["resumed"]["outcome"] == "completed" and rds.ok(case.user, case.current())


def test_redis_requirepass_of_the_default_user(ansible, rds, tmp_path):
    store = tmp_path / "redis-default.json"
    original = rds.info["password"]
    store.write_text(json.dumps({"username": "default", "password": original}))
    args = {"store": "file://%s" % store, "kind": "redis", "target": {"host": rds.info["host"],
                                                                      "port": rds.info["port"]}}
    new = None
    try:
        r = rotate(ansible, args, canaries=[original])
        new = json.loads(store.read_text())["password"]
        assert r["action"] == "rotated" and rds.ok("default", new) and not rds.ok("default", original)
    finally:
        if new:
            import redis
            redis.Redis(host=rds.info["host"], port=rds.info["port"], password=new).config_set("requirepass",
                                                                                               original)
    assert rds.ok("default", original)


# -- JWT, static values, API keys ------------------------------------------------------------------------------------
def test_jwt_key_set_with_jwks(ansible, tmp_path):
    store, jwks_path = tmp_path / "jwt-keys.json", tmp_path / "public" / "jwks.json"
    args = {"store": "file://%s" % store, "kind": "jwt", "strategy": "overlap",
            "target": {"algorithm": "ES256", "jwks_path": str(jwks_path)}}
    plan = rotate(ansible, args, check=True)
    assert plan["changed"] and not store.exists()
    first = rotate(ansible, args)
    keys1 = json.loads(store.read_text())
    old = keys1["keys"][0]
    second = rotate(ansible, args, canaries=[old["private_key"].splitlines()[1]])
    keys2 = json.loads(store.read_text())
    assert second["new"]["active_kid"] == keys2["active"] != keys1["active"] and len(keys2["keys"]) == 2
    published = jwt.PyJWKSet.from_dict(json.loads(jwks_path.read_text()))
    token_old = jwt.encode({"sub": "x"}, old["private_key"], algorithm="ES256", headers={"kid": old["kid"]})
    assert jwt.decode(token_old, published[old["kid"]].key, algorithms=["ES256"])     # old still verifies
    assert oct(os.stat(str(jwks_path)).st_mode & 0o777) == "0o644" and "private" not in jwks_path.read_text()
    done = rotate(ansible, dict(args, contract=True))
    assert done["changed"] and [k["kid"] for k in json.loads(store.read_text())["keys"]] == [keys2["active"]]
    assert [k["kid"] for k in json.loads(jwks_path.read_text())["keys"]] == [keys2["active"]]
    assert not rotate(ansible, dict(args, contract=True))["changed"]
    assert first["action"] == "rotated"


def test_static_and_bare_jwt_secret_in_a_dotenv(ansible, tmp_path):
    env_file = tmp_path / ".env"
    session, jwt_secret = token(), base64.urlsafe_b64encode(os.urandom(32)).decode()
    env_file.write_text("SESSION_SECRET=%s\nJWT_SECRET=%s\nOTHER=keep\n" % (session, jwt_secret))
    static = {"store": "dotenv://%s#SESSION_SECRET" % env_file, "kind": "static", "strategy": "overlap",
              "target": {"publish_previous": "dotenv://%s#SESSION_SECRET_PREVIOUS" % env_file}}
    bare = {"store": "dotenv://%s#JWT_SECRET" % env_file, "kind": "jwt", "target": {"algorithm": "HS256"}}
    canaries = [session, jwt_secret]
    assert rotate(ansible, static, check=True, canaries=canaries)["changed"]
    assert session in env_file.read_text()
    rotate(ansible, static, canaries=canaries)
    r = rotate(ansible, bare, canaries=canaries)
    import dotenv
    values = dotenv.dotenv_values(str(env_file))
    assert values["SESSION_SECRET_PREVIOUS"] == session and values["SESSION_SECRET"] != session
    assert values["JWT_SECRET"] != jwt_secret and values["OTHER"] == "keep" and r["strategy_used"] == "single"
    young = rotate(ansible, dict(static, min_age="1d"), check=True)   # issue 16: min_age in check mode
    assert not young["changed"] and young["plan"]["steps"] == [] and young["next_due"]
    assert not rotate(ansible, dict(static, min_age="1d"))["changed"]
    assert rotate(ansible, dict(static, contract=True))["changed"]
    assert "SESSION_SECRET_PREVIOUS" not in dotenv.dotenv_values(str(env_file))
    assert not rotate(ansible, dict(static, contract=True))["changed"]


class KeyProvider(BaseHTTPRequestHandler):
    """A third party's API: register, revoke, and an endpoint that only a valid key may call."""

    keys = set()

    def _json(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

    def do_POST(self):  # noqa: N802
        body = self._json()
        if self.path == "/register":
            self.keys.add(body["key"])
        elif self.path == "/revoke":
            self.keys.discard(body["key"])
        self.send_response(204 if self.path in ("/register", "/revoke") else 404)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        ok = self.path == "/me" and self.headers.get("X-Api-Key") in self.keys
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_api_key_hooks(ansible, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeyProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    old = token()
    KeyProvider.keys = {old}
    store = tmp_path / "api_key.txt"
    store.write_text(old + "\n")
    hook = {"method": "POST", "body": {"key": "{secret}"}}
    args = {"store": "file://%s" % store, "kind": "api_key", "strategy": "overlap",
            "target": {"register": dict(hook, url=base + "/register"), "revoke": dict(hook, url=base + "/revoke"),
                       "test": {"url": base + "/me", "headers": {"X-Api-Key": "{secret}"}}}}
    try:
        failing = dict(args, target=dict(args["target"], test={"url": base + "/nope"}))
        r = rotate(ansible, failing, expect_rc=2, canaries=[old])
        assert r["rolled_back"]["target_reverted"] is True and KeyProvider.keys == {old}    # new one revoked
        rotate(ansible, args, canaries=[old])
        new = store.read_text().strip()
        assert KeyProvider.keys == {old, new}
        assert rotate(ansible, dict(args, contract=True))["changed"] and KeyProvider.keys == {new}
    finally:
        server.shutdown()


def test_batch_rotations_fail_and_roll_back_one_entry_only(ansible, tmp_path):
    """Issue 17: `rotations` runs many rotations in one call, each with its own phases. An api_key whose test hook
    fails is rolled back (its new key revoked, its store unchanged) while the static entries beside it rotate; the
    call fails naming it with the value-free message; check mode changes nothing; a second run with min_age changes
    nothing; no value in any output."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeyProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    old_key = token()
    KeyProvider.keys = {old_key}
    (tmp_path / "api_key.txt").write_text(old_key + "\n")
    olds = {}
    for name in ("one", "two", "three"):
        olds[name] = token()
        (tmp_path / name).write_text(olds[name] + "\n")
    canaries = [old_key] + list(olds.values())
    hook = {"method": "POST", "body": {"key": "{secret}"}}
    items = [{"name": name, "store": "file://%s" % (tmp_path / name)} for name in ("one", "two")]
    items.append({"name": "provider", "store": "file://%s" % (tmp_path / "api_key.txt"), "kind": "api_key",
                  "strategy": "overlap",
                  "target": {"register": dict(hook, url=base + "/register"), "revoke": dict(hook, url=base + "/revoke"),
                             "test": {"url": base + "/nope"}}})
    items.append({"name": "three", "store": "file://%s" % (tmp_path / "three")})
    args = {"rotations": items, "kind": "static", "concurrency": 2}
    try:
        plan = rotate(ansible, args, check=True, canaries=canaries)
        assert plan["changed"] and [r["name"] for r in plan["results"]] == ["one", "two", "provider", "three"]
        assert all(r["action"] == "rotate" for r in plan["results"])
        assert all((tmp_path / n).read_text().strip() == v for n, v in olds.items())

        failed = rotate(ansible, args, expect_rc=2, canaries=canaries)
        by_name = dict((r["name"], r) for r in failed["results"])
        assert failed["failed_count"] == 1 and by_name["provider"]["failed"]
        assert by_name["provider"]["rolled_back"]["performed"] and by_name["provider"]["rolled_back"]["target_reverted"]
        assert "provider: " in failed["msg"] and "api_key.txt" in by_name["provider"]["msg"]
        assert KeyProvider.keys == {old_key} and (tmp_path / "api_key.txt").read_text().strip() == old_key
        for name in ("one", "two", "three"):
            assert by_name[name]["action"] == "rotated" and not by_name[name].get("failed")
            assert (tmp_path / name).read_text().strip() != olds[name]
        statics = [i for i in items if i["name"] != "provider"]
        again = rotate(ansible, {"rotations": statics, "kind": "static", "min_age": "1d"}, canaries=canaries)
        assert not again["changed"] and [r["action"] for r in again["results"]] == ["skipped"] * 3
    finally:
        server.shutdown()


# -- AWS Secrets Manager: AWSPENDING / AWSCURRENT / AWSPREVIOUS are the slots ------------------------------------------
def test_aws_stages_kill_after_set_and_foreign_pending(ansible, pg, aws, tmp_path):
    info, client = aws
    app, adm, old, admin_pw, n = "app_" + uid(), "adm_" + uid(), token(), token(), uid()
    pg.create_role(app, old)
    pg.create_role(adm, admin_pw, "CREATEROLE")
    name, admin_name = "agentarea/%s/database" % n, "agentarea/%s/db-admin" % n
    client.create_secret(Name=name, SecretString=json.dumps({"username": app, "password": old}))
    client.create_secret(Name=admin_name, SecretString=json.dumps({"username": adm, "password": admin_pw}))
    args = {"store": "aws://" + name, "kind": "postgres",
            "target": {"host": pg.info["host"], "port": pg.info["port"], "admin": "aws://" + admin_name}}
    case = SimpleNamespace(args=args, env=info["env"], canaries=[old, admin_pw])
    try:
        died = ansible.playbook(rotate_play(case), env=dict(case.env, AGENTAREA_SECRETS_ROTATION_FAULT="set:exit"),
                                expect_rc=None, canaries=case.canaries)
        assert died.rc != 0
        pending = json.loads(aws_stage(client, name, "AWSPENDING"))
        assert json.loads(aws_stage(client, name, "AWSCURRENT"))["password"] == old      # readers still get old
        assert pg.ok(app, pending["password"])
        r = run(ansible, case)
        assert r["resumed"]["outcome"] == "completed" and r["pending_ref"].endswith("?stage=AWSPENDING")
        current = json.loads(aws_stage(client, name, "AWSCURRENT"))
        assert current["password"] == pending["password"] and pg.ok(app, current["password"])
        assert json.loads(aws_stage(client, name, "AWSPREVIOUS"))["password"] == old
        assert aws_stage(client, name, "AWSPENDING") is None
        tags = dict((t["Key"], t["Value"]) for t in client.describe_secret(SecretId=name).get("Tags") or [])
        assert "agentarea-rotation" not in tags and "agentarea-previous" in tags
        # a rotation Lambda's AWSPENDING is never touched
        client.put_secret_value(SecretId=name, SecretString=json.dumps({"username": app, "password": "x"}),
                                VersionStages=["AWSPENDING"])
        r = run(ansible, case, expect_rc=2)
        assert "not by agentarea.secrets" in r["msg"] and aws_stage(client, name, "AWSPENDING")
        assert pg.ok(app, current["password"])
    finally:
        pg.drop_roles(app, adm)
        for secret in (name, admin_name):
            client.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)


# -- the other stores: a static value rotated three times (slots are reused, the previous one contracted) --------------
def cloud_store(harness, svc, name):
    info = harness.start(svc)
    if svc == "k8s":
        return "k8s://default/%s#session" % name, info["env"]
    if svc == "gcp":
        return "gcp://%s/%s" % (info["project"], name), {
            "ANSIBLE_AGENTAREA_SECRETS_GCP_API_ENDPOINT": info["url"], "GOOGLE_CLOUD_PROJECT": info["project"],
            "CLOUDSDK_AUTH_ACCESS_TOKEN": "ya29.test"}
    return "azure://%s/%s" % (info["url"].split("://", 1)[1], name), {
        "ANSIBLE_AGENTAREA_SECRETS_AZURE_ACCESS_TOKEN": "eyJ0.test", "AZURE_KEYVAULT_URL": info["url"],
        "ANSIBLE_AGENTAREA_SECRETS_AZURE_CA_CERT": info["ca_cert"]}


@pytest.mark.parametrize("svc", ["k8s", "gcp", "azure"])
def test_static_rotation_on_other_stores(ansible, harness, svc):
    store, env = cloud_store(harness, svc, "rot-" + uid())
    seed = token()
    playbook = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "seed", "agentarea.secrets.secret": {"ref": store, "value": "{{ seed }}"}},
        {"name": "rotate", "agentarea.secrets.rotate": {"store": store, "kind": "static", "strategy": "overlap"},
         "register": "r", "loop": [1, 2, 3]},
        {"name": "info", "agentarea.secrets.secret_info": {"ref": store}},
    ]}]
    res = ansible.playbook(playbook, env=env, extra_vars={"seed": seed}, canaries=[seed], diff=True)
    runs = res.task("rotate")["results"]
    assert [r["action"] for r in runs] == ["rotated"] * 3
    assert runs[0]["contract"] is None and all(r["contract"]["performed"] for r in runs[1:])
    assert res.task("info")["fingerprint"] == runs[-1]["new"]["fingerprint"]


# -- a first credential: the store holds nothing yet, the admin creates the account ------------------------------------
def test_first_credential_is_created_by_the_admin(ansible, pg, pgcase, maria, tmp_path):
    case = pgcase
    fresh = "new_" + uid()
    args = dict(case.args, store="vault://secret/%s/fresh" % case.prefix,
                target=dict(case.args["target"], username=fresh))
    plan = rotate(ansible, args, env=case.env, check=True, canaries=case.canaries)
    assert plan["changed"] and bao_read(case.client, case.prefix + "/fresh") is None
    try:
        r = rotate(ansible, args, env=case.env, canaries=case.canaries)
        cur = bao_read(case.client, case.prefix + "/fresh")
        assert r["action"] == "rotated" and r["old"]["fingerprint"] is None and cur["username"] == fresh
        assert pg.ok(fresh, cur["password"]) and any("created role" in n for n in r["notes"])
    finally:
        pg.drop_roles(fresh)
    # MariaDB, the password alone in a .env entry
    user = "my_" + uid()
    env_file = tmp_path / ".env"
    env_file.write_text("OTHER=keep\n")
    (tmp_path / "admin.json").write_text(json.dumps({"username": maria.info["user"],
                                                     "password": maria.info["password"]}))
    margs = {"store": "dotenv://%s#DB_PASSWORD" % env_file, "kind": "mysql",
             "target": {"host": maria.info["host"], "port": maria.info["port"], "username": user,
                        "admin": "file://%s" % (tmp_path / "admin.json")}}
    try:
        rotate(ansible, margs, canaries=[maria.info["password"]])
        import dotenv
        values = dotenv.dotenv_values(str(env_file))
        assert values["OTHER"] == "keep" and maria.ok(user, values["DB_PASSWORD"])
    finally:
        maria.execute("DROP USER IF EXISTS %s@'%%'", (user,))
