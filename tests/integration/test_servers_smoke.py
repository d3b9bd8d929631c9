"""Smoke tests for the test harness: each service answers its own SDK the way the plugins will use it."""

import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

pytest_plugins = ["tests.harness.conftest_plugin"]
pytestmark = pytest.mark.integration


def wait_for(predicate, timeout=30.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s" % what)


# --- Vault (OpenBao) ---------------------------------------------------------------------------------------
def test_vault_kv_and_audit(harness):
    import hvac

    v = harness.start("vault")
    client = hvac.Client(url=v["url"], token=v["token"])
    client.secrets.kv.v2.create_or_update_secret(path="smoke/db", secret={"password": "pw1"})
    read = client.secrets.kv.v2.read_secret_version(path="smoke/db", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"password": "pw1"}
    entries = [json.loads(line) for line in open(v["audit_log"]) if line.strip()]
    assert any(e.get("request", {}).get("path") == "secret/data/smoke/db" for e in entries)
    assert "pw1" not in open(v["audit_log"]).read()  # values are HMAC'd in the audit log


def test_vault_tls(harness):
    import hvac

    v = harness.start("vault_tls")
    client = hvac.Client(url=v["url"], token=v["token"], verify=v["ca_cert"])
    assert client.is_authenticated()
    assert client.sys.read_health_status(method="GET")["initialized"] is True


def test_vault_kubernetes_auth_via_fake_tokenreview(harness):
    import hvac
    import jwt

    v, k = harness.start("vault"), harness.start("k8s")
    client = hvac.Client(url=v["url"], token=v["token"])
    if "kubernetes/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("kubernetes")
    ca_pem = open(harness.start("azure")["ca_cert"]).read()  # any PEM: bao insists on one
    client.auth.kubernetes.configure(kubernetes_host=k["url"], kubernetes_ca_cert=ca_pem,
                                     token_reviewer_jwt=k["token"], disable_local_ca_jwt=True)
    client.auth.kubernetes.create_role("app", bound_service_account_names=["app"],
                                       bound_service_account_namespaces=["agentarea"], policies=["default"])
    claims = {"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:agentarea:app",
              "kubernetes.io/serviceaccount/namespace": "agentarea",
              "kubernetes.io/serviceaccount/service-account.name": "app",
              "kubernetes.io/serviceaccount/service-account.uid": str(uuid.uuid4())}
    from cryptography.hazmat.primitives.asymmetric import ec

    # bao only parses asymmetric JWTs; the fake's TokenReview does not verify the signature.
    token = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    login = hvac.Client(url=v["url"]).auth.kubernetes.login("app", token, use_token=False)
    assert login["auth"]["metadata"]["service_account_namespace"] == "agentarea"


# --- AWS (moto) --------------------------------------------------------------------------------------------
def _aws(info, service, **kw):
    import boto3

    args = dict(endpoint_url=info["url"], region_name=info["region"], aws_access_key_id=info["access_key"],
                aws_secret_access_key=info["secret_key"])
    args.update(kw)
    return boto3.client(service, **args)


def test_aws_secretsmanager(harness):
    a = harness.start("aws")
    sm = _aws(a, "secretsmanager")
    sm.create_secret(Name="smoke/db", SecretString="pw1")
    assert sm.get_secret_value(SecretId="smoke/db", VersionStage="AWSCURRENT")["SecretString"] == "pw1"


def test_aws_iam_enforcement(harness):
    from botocore.exceptions import ClientError

    a = harness.start("aws_iam")
    assert a["initial_no_auth"] == 4
    iam = _aws(a, "iam")
    iam.create_user(UserName="writer")  # unauthenticated calls 1-4 set the scene
    key = iam.create_access_key(UserName="writer")["AccessKey"]
    iam.put_user_policy(UserName="writer", PolicyName="create-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:CreateSecret", "Resource": "*"}]}))
    iam.get_user(UserName="writer")
    sm = _aws(a, "secretsmanager", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    sm.create_secret(Name="smoke/iam", SecretString="pw1")
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="smoke/iam")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- Google Secret Manager (drongo) ------------------------------------------------------------------------
def test_gcp_secret_manager(harness):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import secretmanager

    g = harness.start("gcp")
    c = secretmanager.SecretManagerServiceClient(transport="rest", credentials=AnonymousCredentials(),
                                                 client_options={"api_endpoint": g["url"]})
    parent = "projects/%s" % g["project"]
    c.create_secret(request={"parent": parent, "secret_id": "smoke-db",
                             "secret": {"replication": {"automatic": {}}}})
    c.add_secret_version(request={"parent": parent + "/secrets/smoke-db", "payload": {"data": b"pw1"}})
    got = c.access_secret_version(name=parent + "/secrets/smoke-db/versions/latest")
    assert got.payload.data == b"pw1"


# --- Azure Key Vault (our fake) ----------------------------------------------------------------------------
class StaticToken:
    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", int(time.time()) + 3600)


def test_azure_keyvault(harness):
    from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
    from azure.keyvault.secrets import SecretClient

    z = harness.start("azure")
    # The unauthenticated first request gets the bearer challenge.
    ctx = ssl.create_default_context(cafile=z["ca_cert"])
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(z["url"] + "/secrets?api-version=7.5", context=ctx)
    assert e.value.code == 401
    assert 'resource="https://vault.azure.net"' in e.value.headers["WWW-Authenticate"]

    c = SecretClient(z["url"], StaticToken(), verify_challenge_resource=False, connection_verify=z["ca_cert"])
    v1 = c.set_secret("smoke-db", "pw1", content_type="text/plain", tags={"owner": "test"})
    assert len(v1.properties.version) == 32
    v2 = c.set_secret("smoke-db", "pw2")
    assert c.get_secret("smoke-db").value == "pw2"
    assert c.get_secret("smoke-db", v1.properties.version).value == "pw1"
    assert {p.version for p in c.list_properties_of_secret_versions("smoke-db")} == \
        {v1.properties.version, v2.properties.version}
    for n in range(3):
        c.set_secret("smoke-page-%d" % n, "x")
    pages = [list(page) for page in c.list_properties_of_secrets(max_page_size=2).by_page()]
    # the server is shared by the session: other tests' secrets may be listed too
    assert len(pages) >= 2 and all(len(page) <= 2 for page in pages)
    assert {"smoke-page-0", "smoke-page-1", "smoke-page-2"} <= {p.name for page in pages for p in page}

    c.update_secret_properties("smoke-db", enabled=False, tags={"state": "off"})
    with pytest.raises(HttpResponseError) as e:
        c.get_secret("smoke-db")
    assert e.value.status_code == 403 and "disabled" in str(e.value)
    c.update_secret_properties("smoke-db", enabled=True)

    deleted = c.begin_delete_secret("smoke-db").result()
    assert deleted.recovery_id.endswith("/deletedsecrets/smoke-db") and deleted.scheduled_purge_date
    with pytest.raises(ResourceNotFoundError):
        c.get_secret("smoke-db")
    with pytest.raises(ResourceExistsError):
        c.set_secret("smoke-db", "pw3")
    assert c.get_deleted_secret("smoke-db").name == "smoke-db"
    c.begin_recover_deleted_secret("smoke-db").result()
    assert c.get_secret("smoke-db").value == "pw2"
    c.begin_delete_secret("smoke-db").result()
    c.purge_deleted_secret("smoke-db")
    with pytest.raises(ResourceNotFoundError):
        c.get_deleted_secret("smoke-db")


# --- Kubernetes (our fake) ---------------------------------------------------------------------------------
def _deployment(name, env):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "api", "image": "busybox:1",
                                                           "env": env}]}}}}


def test_kubernetes(harness):
    from kubernetes import client, config, dynamic, watch
    from kubernetes.client.rest import ApiException

    k = harness.start("k8s")
    api_client = config.new_client_from_config(config_file=k["kubeconfig"])
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    ns = "agentarea"

    s = core.create_namespaced_secret(ns, {"metadata": {"name": "smoke", "labels": {"app": "smoke"}},
                                           "stringData": {"password": "pw1"}})
    assert s.data == {"password": "cHcx"} and s.type == "Opaque" and s.metadata.uid
    with pytest.raises(ApiException) as e:
        core.create_namespaced_secret(ns, {"metadata": {"name": "smoke"}, "data": {}})
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "AlreadyExists"
    stale = s.metadata.resource_version
    core.patch_namespaced_secret("smoke", ns, {"stringData": {"password": "pw2"}})
    s.metadata.resource_version = stale
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_secret("smoke", ns, s)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"
    assert [i.metadata.name for i in core.list_namespaced_secret(ns, label_selector="app=smoke").items] == ["smoke"]
    assert core.list_namespaced_secret(ns, field_selector="metadata.name=nope").items == []
    with pytest.raises(ApiException) as e:
        core.create_namespaced_secret("nope", {"metadata": {"name": "x"}})
    assert e.value.status == 404
    core.create_namespaced_secret(ns, {"metadata": {"name": "frozen"}, "immutable": True, "data": {"k": "dg=="}})
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_secret("frozen", ns, {"data": {"k": "dzI="}})
    assert e.value.status == 422
    assert core.delete_namespaced_secret("frozen", ns)["status"] == "Success"

    d = apps.create_namespaced_deployment(ns, _deployment("api", [{"name": "A", "value": "1"}]))
    assert d.metadata.generation == 1
    # Strategic merge: containers merge by name, so env survives an image change.
    d = apps.patch_namespaced_deployment("api", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "image": "busybox:2"}]}}}})
    assert d.spec.template.spec.containers[0].env[0].name == "A" and d.metadata.generation == 2
    restarted = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    d = apps.patch_namespaced_deployment("api", ns, {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": restarted}}}}})
    gen = d.metadata.generation
    assert gen == 3

    def rolled_out():
        st = apps.read_namespaced_deployment_status("api", ns).status
        return (st.observed_generation or 0) >= gen and st.updated_replicas == 2 and st.available_replicas == 2
    wait_for(rolled_out, timeout=10, what="rollout")

    # A stuck rollout never gets there.
    apps.patch_namespaced_deployment("api", ns, {"spec": {"template": {"metadata": {"annotations": {
        "fake.agentarea.io/stuck": "true"}}}}})
    time.sleep(1.2)
    st = apps.read_namespaced_deployment("api", ns).status
    assert st.updated_replicas < 2

    stream = watch.Watch().stream(core.list_namespaced_secret, ns, field_selector="metadata.name=smoke",
                                  timeout_seconds=1)
    events = [ev["type"] for ev in stream]
    assert events == ["ADDED"]

    dyn = dynamic.DynamicClient(api_client)
    es = dyn.resources.get(api_version="external-secrets.io/v1beta1", kind="ExternalSecret")
    es.create(namespace=ns, body={"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
                                  "metadata": {"name": "smoke"},
                                  "spec": {"secretStoreRef": {"name": "vault", "kind": "SecretStore"},
                                           "target": {"name": "smoke"}, "refreshInterval": "1h"}})
    es.patch(namespace=ns, name="smoke", body={"metadata": {"annotations": {"force-sync": "1"}}},
             content_type="application/merge-patch+json")
    wait_for(lambda: (es.get(namespace=ns, name="smoke").status or {}).get("refreshTime"), timeout=5,
             what="ExternalSecret status")
    secrets_res = dyn.resources.get(api_version="v1", kind="Secret")
    assert "smoke" in [i.metadata.name for i in secrets_res.get(namespace=ns).items]

    unauth = client.ApiClient(client.Configuration(host=k["url"]))
    with pytest.raises(ApiException) as e:
        client.CoreV1Api(unauth).list_namespaced_secret(ns)
    assert e.value.status == 401


# --- databases and Redis -----------------------------------------------------------------------------------
def test_postgres(harness):
    import psycopg

    p = harness.start("postgres")
    with psycopg.connect(host=p["host"], port=p["port"], user=p["user"], password=p["password"],
                         dbname="postgres") as conn:
        assert conn.execute("select current_user").fetchone()[0] == "postgres"


def test_mysql(harness):
    import pymysql

    m = harness.start("mysql")
    conn = pymysql.connect(host=m["host"], port=m["port"], user=m["user"], password=m["password"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone()[0].startswith("root@")
    finally:
        conn.close()
    sock = pymysql.connect(unix_socket=m["socket"], user=m["user"], password=m["password"])
    sock.close()


def test_redis(harness):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    r = harness.start("redis")
    admin = redis.Redis(host=r["host"], port=r["port"], password=r["password"])
    assert admin.ping()
    admin.acl_setuser("app", enabled=True, passwords=["+apppw"], commands=["+@all"], keys=["*"])
    assert redis.Redis(host=r["host"], port=r["port"], username="app", password="apppw").ping()
    with pytest.raises(redis.AuthenticationError):
        # redis-py retries AuthenticationError (a ConnectionError) with backoff by default: ~5 s
        redis.Redis(host=r["host"], port=r["port"], username="app", password="wrong",
                    retry=Retry(NoBackoff(), 0)).ping()


# --- Docker swarm ------------------------------------------------------------------------------------------
@pytest.mark.xdist_group("swarm")  # one swarm per host: one xdist worker
def test_docker_swarm_secret(harness):
    import docker
    from docker.types import SecretReference

    d = harness.start("docker")
    cli = docker.DockerClient(base_url=d["docker_host"])
    secret = cli.secrets.create(name="smoke_pw", data=b"pw1", labels={"owner": "smoke"})
    svc = cli.services.create(d["image"], name="smoke", networks=None, endpoint_spec=None,
                              secrets=[SecretReference(secret.id, "smoke_pw")], stop_grace_period=0,
                              mode=docker.types.ServiceMode("replicated", 1),
                              maxreplicas=None)
    try:
        def running_container():
            tasks = [t for t in svc.tasks() if t["Status"]["State"] == "running"]
            return tasks and tasks[0]["Status"]["ContainerStatus"]["ContainerID"]
        cid = wait_for(running_container, timeout=60, interval=0.3, what="service task")
        code, output = cli.containers.get(cid).exec_run(["/bin/busybox", "cat", "/run/secrets/smoke_pw"])
        assert code == 0 and output == b"pw1"
    finally:
        svc.remove()
        wait_for(lambda: not cli.containers.list(all=True, ignore_removed=True,
                                                 filters={"label": "com.docker.swarm.service.name=smoke"}),
                 timeout=30, interval=0.3, what="service containers gone")
        secret.remove()
        cli.close()


# --- pass --------------------------------------------------------------------------------------------------
def test_pass(harness):
    import os

    p = harness.start("pass")
    env = dict(os.environ, **p["env"])
    subprocess.run(["pass", "insert", "--multiline", "smoke/db"], input=b"pw1\nuser: bob\n", env=env, check=True,
                   capture_output=True)
    shown = subprocess.run(["pass", "show", "smoke/db"], env=env, check=True, capture_output=True).stdout
    assert shown == b"pw1\nuser: bob\n"
    assert open(os.path.join(p["store_dir"], ".gpg-id")).read().strip() == p["key_id"]
