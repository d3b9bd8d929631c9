# -*- coding: utf-8 -*-
"""What the end-to-end AgentArea scenario (test_e2e_agentarea.py) needs around the collection: a small
OpenAI-style key service, the catalog, and the set-up and checks of every system with its own SDK or client
(hvac, psycopg, redis-py, the kubernetes client, the docker SDK, HTTP) - never with the code under test."""
import base64
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import docker
import dotenv
import hvac
import psycopg
import redis
from docker.types import EndpointSpec, ServiceMode, UpdateConfig
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from psycopg import sql

NS = "agentarea"
MOUNT = "secret"
PREFIX = "agentarea"                     # secret/agentarea/<entry>
DB_USER = "agentarea_user"
DB_NAME = "agentarea"
REDIS_USER = "agentarea"
API = "agentarea-api"                    # the Deployment and the swarm service
WEB = "agentarea-web"                    # the Deployment that serves TLS
APP_SECRET = "agentarea-secrets"
TLS_SECRET = "agentarea-tls"
DOCKER_SECRET = "db_password"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ENTRIES = ("database", "jwt", "openai", "redis", "tls", "webhook")


#: the key service's client: URL, admin token file and path as arguments, the key on stdin (as the api_key target
#: hands it to a command), exit code 0 when the service accepted the call
HOOK_SCRIPT = """import json, sys, urllib.request
url, token_file, path = sys.argv[1:4]
with open(token_file) as handle:
    token = handle.read().strip()
req = urllib.request.Request(url + path, data=json.dumps({"key": sys.stdin.read()}).encode(), method="POST",
                             headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=10) as resp:
        sys.exit(0 if resp.status in (201, 204) else 1)
except Exception as exc:
    sys.stderr.write("%s failed: %s\\n" % (path, type(exc).__name__))
    sys.exit(1)
"""


def wait_for(predicate, timeout=120.0, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s" % what)


# --- an OpenAI-style API: keys are registered (issued), used and revoked over HTTP ------------------------------
class KeyService:
    """``POST /v1/keys`` and ``POST /v1/keys/revoke`` ({"key": ...}, admin bearer token) register and revoke a
    key; ``GET /v1/models`` answers 200 to a live key's bearer token and 401 to anything else."""

    def __init__(self):
        self.admin_token = "adm-" + secrets.token_hex(16)
        self.live, self.revoked = set(), set()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=None):
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _bearer(self):
                auth = self.headers.get("Authorization") or ""
                return auth[7:] if auth.startswith("Bearer ") else None

            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path != "/v1/models":
                    return self._answer(404)
                ok = self._bearer() in service.live
                return self._answer(200 if ok else 401, {"data": []} if ok else {"error": "invalid_api_key"})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self._bearer() != service.admin_token:
                    return self._answer(401)
                key = body.get("key")
                if not key:
                    return self._answer(400)
                if self.path == "/v1/keys":
                    service.live.add(key)
                    return self._answer(201, {"id": "key-%d" % (len(service.live) + len(service.revoked))})
                if self.path == "/v1/keys/revoke":
                    known = key in service.live or key in service.revoked
                    service.live.discard(key)
                    service.revoked.add(key)
                    return self._answer(204 if known else 404)
                return self._answer(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def works(self, key):
        """Whether the service accepts ``key`` (a real call, as a client would make it)."""
        req = urllib.request.Request(self.url + "/v1/models", headers={"Authorization": "Bearer %s" % key})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status == 200
        except urllib.error.HTTPError as exc:
            assert exc.code == 401, exc
            return False

    def hooks(self, directory):
        """``target`` of the api_key entry. Registering and revoking need the service's admin token: a small
        command (the provider's CLI, as it were) reads it from a 0600 file, so the catalog holds no credential
        (the roles hand catalog entries around as loop items and facts, see test_e2e_agentarea.py). The test hook
        is a plain HTTP call with the key as bearer token."""
        directory.mkdir(parents=True, exist_ok=True)
        token_file = directory / "openai-admin-token"
        with open(os.open(str(token_file), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(self.admin_token)
        script = directory / "openai-keys.py"
        script.write_text(HOOK_SCRIPT)
        command = [sys.executable, str(script), self.url, str(token_file)]
        return {"register": {"command": command + ["/v1/keys"]},
                "test": {"url": self.url + "/v1/models", "headers": {"Authorization": "Bearer {secret}"},
                         "status_codes": [200]},
                "revoke": {"command": command + ["/v1/keys/revoke"]}}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- the catalog --------------------------------------------------------------------------------------------------
def db_url_template(pg):
    return "postgresql://{username}:{password:url}@%s:%d/%s" % (pg["host"], pg["port"], DB_NAME)


def redis_url_template(rd):
    return "redis://{username}:{password:url}@%s:%d/0" % (rd["host"], rd["port"])


def catalog(stack):
    """The AgentArea deployment's secrets, Vault (OpenBao) the source of truth of each."""
    pg, rd, env_file, tls_dir = stack.pg_info, stack.redis_info, str(stack.env_file), stack.tls_dir
    restart_api = {"restart": ["deployment/%s" % API]}
    return [
        {"name": "database", "owner": "platform-team", "purpose": "API and worker access to the main database",
         "store": "vault://%s/%s/database" % (MOUNT, PREFIX), "kind": "postgres",
         "target": {"host": pg["host"], "port": pg["port"], "username": DB_USER, "database": DB_NAME,
                    "admin": "vault://%s/%s/db-admin" % (MOUNT, PREFIX), "sslmode": "disable",
                    "url_template": "postgresql://{username}:{password_url}@{host}:{port}/{database}"},
         "rotation": {"every": "30d"},
         "consumers": [
             dict({"k8s": {"namespace": NS, "secret": APP_SECRET, "key": "database-url",
                           "template": db_url_template(pg)}}, **restart_api),
             {"docker": {"secret": DOCKER_SECRET, "services": [API], "field": "password"}},
             {"env_file": {"path": env_file, "key": "DATABASE_URL", "template": db_url_template(pg)}}],
         "tags": ["agentarea", "prod", "database"]},
        {"name": "jwt", "owner": "identity-team", "purpose": "signs and verifies the API's access tokens",
         "store": "vault://%s/%s/jwt" % (MOUNT, PREFIX), "kind": "jwt", "target": {"algorithm": "HS256"},
         "rotation": {"every": "90d"},
         "consumers": [
             dict({"k8s": {"namespace": NS, "secret": APP_SECRET, "key": "jwt-secret", "field": "active_k"}},
                  **restart_api),
             {"env_file": {"path": env_file, "key": "JWT_SECRET", "field": "active_k"}}],
         "tags": ["agentarea", "prod", "auth"]},
        {"name": "openai", "owner": "ml-team", "purpose": "LLM calls of the agents (OpenAI API key)",
         "store": "vault://%s/%s/openai#api_key" % (MOUNT, PREFIX), "kind": "api_key",
         "target": stack.keys.hooks(stack.base / "hooks"), "rotation": {"every": "60d"},
         "consumers": [
             dict({"k8s": {"namespace": NS, "secret": APP_SECRET, "key": "openai-api-key"}}, **restart_api),
             {"env_file": {"path": env_file, "key": "OPENAI_API_KEY"}}],
         "tags": ["agentarea", "prod", "external"]},
        {"name": "redis", "owner": "platform-team", "purpose": "task queue and cache (Redis ACL user)",
         "store": "vault://%s/%s/redis" % (MOUNT, PREFIX), "kind": "redis",
         "target": {"host": rd["host"], "port": rd["port"], "username": REDIS_USER,
                    "admin": "vault://%s/%s/redis-admin" % (MOUNT, PREFIX),
                    "acl_rules": ["~agentarea:*", "+@all"]},
         "rotation": {"every": "30d"},
         "consumers": [
             dict({"k8s": {"namespace": NS, "secret": APP_SECRET, "key": "redis-url",
                           "template": redis_url_template(rd)}}, **restart_api),
             {"env_file": {"path": env_file, "key": "REDIS_PASSWORD", "field": "password"}}],
         "tags": ["agentarea", "prod", "cache"]},
        {"name": "tls", "owner": "platform-team", "purpose": "HTTPS of the web front end (certificate and key)",
         "store": "vault://%s/%s/tls" % (MOUNT, PREFIX), "kind": "tls",
         "generate": {"kind": "tls", "common_name": "agentarea.internal",
                      "sans": ["agentarea.internal", "127.0.0.1"], "days": 90},
         "rotation": {"every": "60d"},
         "consumers": [
             dict({"k8s": {"namespace": NS, "secret": TLS_SECRET, "key": "tls.crt", "field": "certificate"}},
                  restart=["deployment/%s" % WEB]),
             dict({"k8s": {"namespace": NS, "secret": TLS_SECRET, "key": "tls.key", "field": "private_key"}},
                  restart=["deployment/%s" % WEB]),
             {"file": {"path": "%s/tls.crt" % tls_dir, "field": "certificate", "mode": "0644",
                       "allow_world_access": True}},  # a public certificate
             {"file": {"path": "%s/tls.key" % tls_dir, "field": "private_key", "mode": "0600"}}],
         "tags": ["agentarea", "prod", "tls"]},
        {"name": "webhook", "owner": "integrations-team", "purpose": "verifies signatures of incoming webhooks",
         "store": "vault://%s/%s/webhook#secret" % (MOUNT, PREFIX), "kind": "static",
         "generate": {"kind": "hex", "bits": 256}, "rotation": {"every": "180d"},
         "consumers": [
             dict({"k8s": {"namespace": NS, "secret": APP_SECRET, "key": "webhook-secret"}}, **restart_api),
             {"env_file": {"path": env_file, "key": "WEBHOOK_SECRET"}}],
         "tags": ["agentarea", "web"]},
    ]


# --- the systems ----------------------------------------------------------------------------------------------------
ROTATOR_POLICY = """
path "%(m)s/data/%(p)s/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "%(m)s/metadata/%(p)s/*" { capabilities = ["read", "list", "update", "delete"] }
""" % {"m": MOUNT, "p": PREFIX}


class Stack:
    """The servers (from the harness), clients of each, and the AgentArea workloads the scenario needs."""

    def __init__(self, harness, base):
        infos = harness.start_many(["vault", "postgres", "redis", "k8s"])
        self.vault_info, self.pg_info = infos["vault"], infos["postgres"]
        self.redis_info, self.k8s_info = infos["redis"], infos["k8s"]
        self.docker_info = harness.start("docker")
        self.base = base
        self.env_file = base / "srv" / ".env"
        self.tls_dir = base / "srv" / "tls"
        self.vault = hvac.Client(url=self.vault_info["url"], token=self.vault_info["token"])
        api = k8s_config.new_client_from_config(config_file=self.k8s_info["kubeconfig"])
        self.k8s_api = api
        self.core, self.apps = k8s_client.CoreV1Api(api), k8s_client.AppsV1Api(api)
        self.docker = docker.DockerClient(base_url=self.docker_info["docker_host"])
        self.redis_admin = redis.Redis(host=self.redis_info["host"], port=self.redis_info["port"],
                                       password=self.redis_info["password"])
        self.keys = KeyService()
        self.token = None

    # -- set-up and tear-down -------------------------------------------------------------------------------------
    def reset(self):
        """Remove whatever an earlier run left (the harness may be shared by the whole session)."""
        self.remove_service()
        for s in self.docker.secrets.list():
            if s.name == DOCKER_SECRET or s.name.startswith(DOCKER_SECRET + "_v"):
                s.remove()
        kv = self.vault.secrets.kv.v2
        try:
            names = kv.list_secrets(PREFIX, mount_point=MOUNT)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            names = []
        for name in names:
            kv.delete_metadata_and_all_versions("%s/%s" % (PREFIX, name), mount_point=MOUNT)
        with self.pg_admin() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (DB_USER,))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(DB_USER)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        self.redis_admin.execute_command("ACL", "DELUSER", REDIS_USER)
        for kind, name in (("deployment", API), ("deployment", WEB)):
            self._delete(getattr(self.apps, "delete_namespaced_%s" % kind), name)
        for name in (APP_SECRET, TLS_SECRET):
            self._delete(self.core.delete_namespaced_secret, name)

    @staticmethod
    def _delete(method, name):
        try:
            method(name, NS)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def setup(self):
        """Seed Vault with the admin credentials, give the run a token of its own (least privilege), and start
        the workloads: two Deployments, a TLS Secret of type kubernetes.io/tls, a swarm service, a .env file."""
        self.reset()
        kv = self.vault.secrets.kv.v2
        kv.create_or_update_secret("%s/db-admin" % PREFIX, {"username": self.pg_info["user"],
                                                            "password": self.pg_info["password"]},
                                   mount_point=MOUNT)
        kv.create_or_update_secret("%s/redis-admin" % PREFIX, {"username": "default",
                                                               "password": self.redis_info["password"]},
                                   mount_point=MOUNT)
        self.vault.sys.create_or_update_policy("agentarea-rotator", ROTATOR_POLICY)
        self.token = self.vault.auth.token.create(policies=["agentarea-rotator"], ttl="1h")["auth"]["client_token"]
        for name in (API, WEB):
            self.apps.create_namespaced_deployment(NS, {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name}},
                                      "spec": {"containers": [{"name": "app", "image": "agentarea/%s:1" % name}]}}}})
        self.core.create_namespaced_secret(NS, {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                                                "metadata": {"name": TLS_SECRET, "labels": {"app": WEB}},
                                                "data": {"tls.crt": "", "tls.key": ""}})
        self.env_file.parent.mkdir(parents=True, exist_ok=True)
        self.env_file.write_text("# agentarea\nLOG_LEVEL=info\n")
        # the API runs before it has any secret; provisioning mounts /run/secrets/db_password into it
        self.docker.services.create(
            self.docker_info["image"], name=API, command=["/bin/busybox", "sleep", "3600"], networks=["host"],
            endpoint_spec=EndpointSpec(), mode=ServiceMode("replicated", 1), stop_grace_period=0,
            update_config=UpdateConfig(parallelism=1, delay=0, monitor=1000000000, order="stop-first"))
        wait_for(self.container, what="a running task of %s" % API)

    def remove_service(self):
        try:
            self.docker.services.get(API).remove()
        except docker.errors.NotFound:
            return
        wait_for(lambda: not self.docker.containers.list(
            all=True, ignore_removed=True, filters={"label": "com.docker.swarm.service.name=%s" % API}),
            what="containers of %s gone" % API)

    def teardown(self):
        try:
            self.reset()
            if self.token:
                self.vault.auth.token.revoke(self.token)
        finally:
            self.keys.close()
            self.redis_admin.close()
            self.docker.close()
            self.k8s_api.close()

    # -- what each system holds --------------------------------------------------------------------------------------
    def connection(self):
        return {"url": self.vault_info["url"], "token": self.token, "kubeconfig": self.k8s_info["kubeconfig"],
                "docker_host": self.docker_info["docker_host"]}

    def pg_admin(self):
        return psycopg.connect(host=self.pg_info["host"], port=self.pg_info["port"], user=self.pg_info["user"],
                               password=self.pg_info["password"], dbname="postgres", autocommit=True)

    def pg_login(self, user, password):
        return psycopg.connect(host=self.pg_info["host"], port=self.pg_info["port"], user=user, password=password,
                               dbname=DB_NAME, connect_timeout=5, sslmode="disable")

    def pg_ok(self, user, password):
        try:
            self.pg_login(user, password).close()
            return True
        except psycopg.OperationalError:
            return False

    def pg_sessions(self, user):
        with self.pg_admin() as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (user,)).fetchone()[0]

    def redis_login(self, user, password):
        return redis.Redis(host=self.redis_info["host"], port=self.redis_info["port"], username=user,
                           password=password, socket_timeout=5)

    def redis_ok(self, user, password):
        try:
            self.redis_login(user, password).ping()
            return True
        except redis.exceptions.AuthenticationError:
            return False

    def redis_sessions(self, user):
        return sum(1 for c in self.redis_admin.client_list() if c.get("user") == user)

    def vault_read(self, entry):
        try:
            return self.vault.secrets.kv.v2.read_secret_version(
                "%s/%s" % (PREFIX, entry), mount_point=MOUNT, raise_on_deleted_version=True)["data"]["data"]
        except hvac.exceptions.InvalidPath:
            return None

    def vault_version(self, entry):
        try:
            meta = self.vault.secrets.kv.v2.read_secret_metadata("%s/%s" % (PREFIX, entry), mount_point=MOUNT)
            return meta["data"]["current_version"]
        except hvac.exceptions.InvalidPath:
            return 0

    def k8s_secret(self, name):
        try:
            obj = self.core.read_namespaced_secret(name, NS)
        except ApiException as exc:
            if exc.status == 404:
                return None, None
            raise
        return dict((k, base64.b64decode(v).decode()) for k, v in (obj.data or {}).items()), obj.type

    def deployment(self, name):
        dep = self.apps.read_namespaced_deployment(name, NS)
        annotations = dep.spec.template.metadata.annotations or {}
        return {"generation": dep.metadata.generation, "observed": dep.status.observed_generation,
                "restarted_at": annotations.get(RESTARTED_AT), "updated": dep.status.updated_replicas}

    def container(self):
        """ID of the one running task's container of the swarm service, or None."""
        tasks = [t for t in self.docker.api.tasks(filters={"service": API, "desired-state": "running"})
                 if t["Status"]["State"] == "running"]
        return tasks[0]["Status"]["ContainerStatus"]["ContainerID"] if len(tasks) == 1 else None

    def docker_read(self, path="/run/secrets/%s" % DOCKER_SECRET):
        """What the running task reads (``docker exec cat``), with its container ID."""
        cid = wait_for(self.container, what="a running task of %s" % API)
        code, output = self.docker.containers.get(cid).exec_run(["/bin/busybox", "cat", path])
        return cid, (output.decode() if code == 0 else None)

    def service_secrets(self):
        spec = self.docker.api.inspect_service(API)["Spec"]["TaskTemplate"]["ContainerSpec"]
        return [(r["SecretName"], r["File"]["Name"]) for r in spec.get("Secrets") or []]

    def snapshot(self):
        """Every value and every fact the assertions look at, read from each system itself."""
        store = dict((e, self.vault_read(e)) for e in ENTRIES)
        jwt = store["jwt"]
        active = None
        if jwt:
            keys = jwt["keys"] if isinstance(jwt["keys"], list) else json.loads(jwt["keys"])
            active = [k for k in keys if k["kid"] == jwt["active"]][0]
        app, app_type = self.k8s_secret(APP_SECRET)
        tls, tls_type = self.k8s_secret(TLS_SECRET)
        cid, mounted = self.docker_read()
        return {
            "store": store, "jwt_active": active,
            "versions": dict((e, self.vault_version(e)) for e in ENTRIES),
            "k8s": app or {}, "k8s_type": app_type, "tls": tls or {}, "tls_type": tls_type,
            "env": dotenv.dotenv_values(self.env_file),
            "files": dict((n, (self.tls_dir / n).read_text() if (self.tls_dir / n).exists() else None)
                          for n in ("tls.crt", "tls.key")),
            "container": cid, "mounted": mounted, "service_secrets": self.service_secrets(),
            "deployments": {API: self.deployment(API), WEB: self.deployment(WEB)},
        }


def values_of(snap):
    """The secret values a snapshot knows (canaries for the leak check), including a line of the PEM key body
    (a JSON dump would escape the newlines of the whole PEM)."""
    store = snap["store"]
    out = []
    if store["database"]:
        out += [store["database"]["password"], store["database"]["url"]]
    if snap["jwt_active"]:
        out.append(snap["jwt_active"]["k"])
    for entry, field in (("openai", "api_key"), ("webhook", "secret"), ("redis", "password")):
        if store[entry]:
            out.append(store[entry][field])
    if store["tls"]:
        key = store["tls"]["private_key"]
        out += [key, key.splitlines()[1]]
    return out
