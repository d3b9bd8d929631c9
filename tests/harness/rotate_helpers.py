# -*- coding: utf-8 -*-
"""What the rotation integration tests share: the servers from the harness, set-up and checks done with the
servers' own SDKs (psycopg, PyMySQL, redis-py, hvac), playbooks with one rotate task, and background runs that
a test can kill (kill -9 of the module process) or race."""
import json
import os
import secrets
import signal
import threading
import time
import uuid

import hvac
import psycopg
import pymysql
import pytest
import redis
from psycopg import sql

FAULT_ENV = "AGENTAREA_SECRETS_ROTATION_FAULT"


def token():
    return "t" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def uid():
    return uuid.uuid4().hex[:8]


def play(args, name="rotate", environment=None, check_mode=None):
    task = {"name": name, "agentarea.secrets.rotate": args}
    if environment:
        task["environment"] = environment
    if check_mode is not None:
        task["check_mode"] = check_mode
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def rotate(ansible, args, env=None, expect_rc=0, fault=None, canaries=(), **kw):
    """One rotate task through ansible-playbook; returns its registered result."""
    environment = {FAULT_ENV: fault} if fault else None
    res = ansible.playbook(play(args, environment=environment), env=env, expect_rc=expect_rc, canaries=canaries, **kw)
    return res.task("rotate")


def wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)


class Background:
    """An ansible.playbook(...) call in a thread (the runner is blocking)."""

    def __init__(self, ansible, args, env=None, fault=None):
        self.result = None
        self.error = None

        def run():
            try:
                self.result = ansible.playbook(play(args, environment={FAULT_ENV: fault} if fault else None),
                                               env=env, expect_rc=None)
            except Exception as exc:  # noqa: BLE001 - reported by join()
                self.error = exc
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout=300):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the background playbook did not finish"
        if self.error:
            raise self.error
        return self.result


def module_pids():
    """PIDs of rotate module processes that descend from this test process."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"AnsiballZ_rotate" not in cmd:
            continue
        pid = int(entry)
        while pid > 1:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    pid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                break
            if pid == me:
                found.append(int(entry))
                break
    return found


def kill9_module(timeout=60):
    pids = wait_for(module_pids, timeout, "the rotate module process")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids


def audit_actions(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line)["action"] for line in f if line.strip()]


# -- PostgreSQL -----------------------------------------------------------------------------------------------
class Pg:
    def __init__(self, info):
        self.info = info

    def admin(self):
        return psycopg.connect(host=self.info["host"], port=self.info["port"], user=self.info["user"],
                               password=self.info["password"], dbname="postgres", autocommit=True)

    def ok(self, user, password):
        try:
            psycopg.connect(host=self.info["host"], port=self.info["port"], user=user, password=password,
                            dbname="postgres", connect_timeout=5).close()
            return True
        except psycopg.OperationalError:
            return False

    def execute(self, statement, *args):
        with self.admin() as conn:
            conn.execute(statement, args or None)

    def create_role(self, name, password, *options):
        self.execute(sql.SQL("CREATE ROLE {} LOGIN %s PASSWORD {}" % " ".join(options)).format(
            sql.Identifier(name), sql.Literal(password)))

    def drop_roles(self, *names):
        with self.admin() as conn:
            for name in names:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))

    def log_text(self):
        with open(self.info["log"], errors="replace") as f:
            return f.read()


@pytest.fixture(scope="module")
def pg(harness):
    return Pg(harness.start("postgres"))


# -- OpenBao ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bao(harness):
    info = harness.start("vault")
    return info, hvac.Client(url=info["url"], token=info["token"])


def bao_read(client, path):
    """The live data at secret/<path>, or None (missing or deleted)."""
    try:
        kv = client.secrets.kv.v2
        return kv.read_secret_version(path, mount_point="secret", raise_on_deleted_version=True)["data"]["data"]
    except hvac.exceptions.InvalidPath:
        return None


def bao_versions(client, path):
    try:
        return client.secrets.kv.v2.read_secret_metadata(path, mount_point="secret")["data"]["current_version"]
    except hvac.exceptions.InvalidPath:
        return 0


def bao_slot_value(client, path, version=None):
    if version is None:
        data = bao_read(client, path)
    else:
        data = client.secrets.kv.v2.read_secret_version(path, version=version, mount_point="secret",
                                                        raise_on_deleted_version=True)["data"]["data"]
    return None if data is None else json.loads(data["value"])


def bao_slot_history(client, path):
    """Every value a slot has held (its KV v2 versions), oldest first."""
    try:
        last = client.secrets.kv.v2.read_secret_metadata(path, mount_point="secret")["data"]["current_version"]
    except hvac.exceptions.InvalidPath:
        return []
    values = [bao_slot_value(client, path, n) for n in range(1, last + 1)]
    return [v for v in values if v is not None]


def bao_env(info, token_value=None):
    return {"VAULT_ADDR": info["url"], "VAULT_TOKEN": token_value or info["token"]}


# -- MariaDB and Redis --------------------------------------------------------------------------------------
class Maria:
    def __init__(self, info):
        self.info = info

    def connect(self, user=None, password=None):
        return pymysql.connect(host=self.info["host"], port=self.info["port"], user=user or self.info["user"],
                               password=self.info["password"] if password is None else password, autocommit=True,
                               connect_timeout=5)

    def ok(self, user, password):
        try:
            self.connect(user, password).close()
            return True
        except pymysql.err.OperationalError:
            return False

    def execute(self, statement, args=None):
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args)
                return cur.fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def maria(harness):
    return Maria(harness.start("mysql"))


class Rds:
    def __init__(self, info):
        self.info = info
        self.admin = redis.Redis(host=info["host"], port=info["port"], password=info["password"])

    def ok(self, user, password):
        try:
            redis.Redis(host=self.info["host"], port=self.info["port"], username=user, password=password,
                        socket_timeout=5).ping()
            return True
        except redis.exceptions.AuthenticationError:
            return False


@pytest.fixture(scope="module")
def rds(harness):
    return Rds(harness.start("redis"))


# -- AWS Secrets Manager (moto) ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws(harness):
    import boto3
    info = harness.start("aws")
    client = boto3.client("secretsmanager", endpoint_url=info["url"], region_name=info["region"],
                          aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])
    return info, client


def aws_stage(client, name, stage):
    """The value at a staging label (always named: moto's unnamed read lags behind a promotion), or None."""
    try:
        return client.get_secret_value(SecretId=name, VersionStage=stage)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return None
