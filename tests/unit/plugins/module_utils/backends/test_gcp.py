# -*- coding: utf-8 -*-
"""Google Secret Manager backend, pure logic against a stub client: references, CRC32C, the real service's
``latest`` semantics, check-and-set, labels, and the mapping of google-api-core errors."""
import types

import pytest
from google.api_core import exceptions as gexc

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAS_CREATE
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    SecretAccessDenied,
    SecretConflict,
    SecretDeleted,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._gcp import GcpBackend, crc32c

CANARY = "canary-c0ff-gcp-unit"


class Stub:
    """Secret Manager as the real service behaves: ``latest`` is the newest version whatever its state."""

    def __init__(self, versions=(), labels=None, crc=True):
        self.versions = [dict(data=d, state=s) for d, s in versions]  # version n is versions[n-1]
        self.labels = labels
        self.crc = crc
        self.calls = []

    def _number(self, name):
        v = name.rsplit("/", 1)[1]
        if not self.versions:
            raise gexc.NotFound("Secret [%s] not found or has no versions." % name)
        n = len(self.versions) if v == "latest" else int(v)
        if not 1 <= n <= len(self.versions):
            raise gexc.NotFound("Secret Version [%s] not found." % name)
        return n

    def access_secret_version(self, request, timeout=None):
        self.calls.append(("access", request["name"]))
        n = self._number(request["name"])
        version = self.versions[n - 1]
        if version["state"] != "ENABLED":
            raise gexc.FailedPrecondition("Secret Version [...] is in %s state." % version["state"])
        crc = crc32c(version["data"]) if self.crc is True else self.crc
        return types.SimpleNamespace(name="projects/123/secrets/db/versions/%d" % n,
                                     payload=types.SimpleNamespace(data=version["data"], data_crc32c=crc))

    def get_secret_version(self, request, timeout=None):
        n = self._number(request["name"])
        return types.SimpleNamespace(name="v/%d" % n, state=types.SimpleNamespace(name=self.versions[n - 1]["state"]),
                                     create_time=None)

    def get_secret(self, request, timeout=None):
        self.calls.append(("get_secret",))
        if self.labels is None:
            raise gexc.NotFound("Secret [%s] not found." % request["name"])
        return types.SimpleNamespace(labels=self.labels, annotations={}, create_time=None)

    def create_secret(self, request, timeout=None):
        self.calls.append(("create_secret", request["secret_id"], dict(request["secret"]["labels"])))
        self.labels = request["secret"]["labels"]
        return types.SimpleNamespace()

    def update_secret(self, request, timeout=None):
        self.calls.append(("update_secret", dict(request["secret"]["labels"]), tuple(request["update_mask"]["paths"])))
        return types.SimpleNamespace(labels=request["secret"]["labels"], create_time=None)

    def add_secret_version(self, request, timeout=None):
        payload = request["payload"]
        self.calls.append(("add", payload["data"], payload["data_crc32c"]))
        self.versions.append(dict(data=payload["data"], state="ENABLED"))
        return types.SimpleNamespace(name="projects/p/secrets/db/versions/%d" % len(self.versions))


def backend(stub=None, **options):
    full = dict((name, spec.get("default")) for name, spec in GcpBackend.ARGSPEC.items())
    full.update(project="my-project", **options)
    b = GcpBackend(full, environ={})
    b._client = stub
    return b


def test_crc32c_is_castagnoli():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_lookup_terms():
    b = backend()
    assert str(b.ref_from_term("database-url", key="url")) == "gcp://my-project/database-url#url"
    assert str(b.ref_from_term("other/db")) == "gcp://other/db"
    assert str(b.ref_from_term("projects/p2/secrets/db/versions/3")) == "gcp://p2/db?version=3"
    assert str(b.ref_from_term("projects/p2/secrets/db", version="latest")) == "gcp://p2/db?version=latest"
    assert str(b.ref_from_term("gcp://p3/db?version=2", version="5")) == "gcp://p3/db?version=2"


def test_environment_fills_options_collection_names_first():
    env = {"GOOGLE_CLOUD_PROJECT": "native", "GOOGLE_APPLICATION_CREDENTIALS": "/sa.json",
           "CLOUDSDK_AUTH_ACCESS_TOKEN": CANARY}
    b = GcpBackend({}, environ=env)
    assert (b.options["project"], b.options["credentials_file"], b.options["access_token"]) == \
        ("native", "/sa.json", CANARY)
    assert CANARY not in b.identity()
    env["ANSIBLE_AGENTAREA_SECRETS_GCP_PROJECT"] = "ours"
    assert GcpBackend({}, environ=env).options["project"] == "ours"
    assert GcpBackend({}, environ={"ANSIBLE_AGENTAREA_SECRETS_GCP_TRANSPORT": "grpc"}).options["transport"] == "grpc"
    assert GcpBackend({}, environ={}).identity() == "gcp||rest|adc"  # unset means REST


def test_reads_latest_and_verifies_checksums_when_sent():
    stub = Stub([(b"one", "ENABLED"), (CANARY.encode(), "ENABLED")], labels={"env": "prod"})
    secret = backend(stub).read(parse_ref("gcp://p/db"))
    assert (secret.value, secret.version, secret.metadata["tags"]) == (CANARY, "2", {"env": "prod"})
    assert stub.calls[0] == ("access", "projects/p/secrets/db/versions/latest")
    bad = Stub([(b"one", "ENABLED")], crc=12345)
    with pytest.raises(BackendUnavailable, match="checksum"):
        backend(bad).read(parse_ref("gcp://p/db"))
    # emulators send 0 (drongo): nothing to verify
    assert backend(Stub([(b"one", "ENABLED")], crc=0)).read_many([parse_ref("gcp://p/db")])[0].value == "one"
    assert backend(Stub([(b"\xff\x00", "ENABLED")])).read_many([parse_ref("gcp://p/db")])[0].value == b"\xff\x00"


def test_latest_disabled_is_deleted_as_in_the_real_service():
    """The real service resolves ``latest`` to the newest version and fails when it is disabled; drongo falls back
    to the newest enabled one (see test_cloud_gcp.py). Both end up here as the service answers."""
    stub = Stub([(b"one", "ENABLED"), (b"two", "DISABLED")], labels={})
    (out,) = backend(stub).read_many([parse_ref("gcp://p/db")])
    assert isinstance(out, SecretDeleted) and "version latest is disabled" in str(out)
    (out,) = backend(Stub([(b"", "DESTROYED")])).read_many([parse_ref("gcp://p/db?version=1")])
    assert isinstance(out, SecretDeleted) and "destroyed" in str(out)
    (out,) = backend(Stub([(b"one", "ENABLED")])).read_many([parse_ref("gcp://p/db?version=7")])
    assert isinstance(out, SecretNotFound)


def test_write_creates_with_labels_adds_versions_with_checksums_and_checks_cas():
    stub = Stub()
    b = backend(stub)
    assert b.write(parse_ref("gcp://p/db"), {"password": CANARY}, cas=CAS_CREATE, metadata={"env": "prod"}).version == "1"
    data = ('{"password":"%s"}' % CANARY).encode()
    assert stub.calls[-2:] == [("create_secret", "db", {"env": "prod"}), ("add", data, crc32c(data))]
    with pytest.raises(SecretConflict, match="latest version 1, expected create"):
        b.write(parse_ref("gcp://p/db"), "x", cas=CAS_CREATE)
    with pytest.raises(SecretConflict, match="expected 7"):
        b.write(parse_ref("gcp://p/db"), "x", cas="7")
    b.write(parse_ref("gcp://p/db#user"), "app", cas="1", metadata={"env": "dev"})
    assert ("update_secret", {"env": "dev"}, ("labels",)) in stub.calls
    assert stub.versions[-1]["data"] == ('{"password":"%s","user":"app"}' % CANARY).encode()


def test_create_on_an_existing_empty_secret_adds_the_first_version():
    """Terraform often creates the secret without a version: CAS_CREATE must still write the first one."""
    stub = Stub(labels={})
    assert backend(stub).write(parse_ref("gcp://p/db"), "v", cas=CAS_CREATE).version == "1"


@pytest.mark.parametrize("exc,kind,text", [
    (gexc.NotFound("Secret [projects/p/secrets/db] not found."), SecretNotFound, "no such secret"),
    (gexc.PermissionDenied("Permission 'secretmanager.versions.access' denied for resource"), SecretAccessDenied,
     "secretmanager.versions.access"),
    (gexc.Unauthenticated("Request had invalid authentication credentials."), SecretAccessDenied, "Unauthenticated"),
    (gexc.Conflict("Secret [db] already exists."), SecretConflict, "already exists"),
    (gexc.ServiceUnavailable(CANARY), BackendUnavailable, "ServiceUnavailable"),
])
def test_errors(exc, kind, text):
    err = backend()._error(exc, parse_ref("gcp://p/db"), "reading")
    assert isinstance(err, kind) and text in str(err) and "'gcp://p/db'" in str(err)
    assert CANARY not in str(err)


def test_default_credentials_missing_is_an_option_error():
    from google.auth.exceptions import DefaultCredentialsError
    err = backend()._error(DefaultCredentialsError("Could not automatically determine credentials"), None, "connecting")
    assert isinstance(err, InvalidOption) and "access_token or credentials_file" in str(err)


class RegionalStub(Stub):
    """Records the resource names of every call: drongo (the local server) has no regional API, so the request
    paths for ``location`` are checked here against Google's REST reference
    (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.locations.secrets)."""

    def create_secret(self, request, timeout=None):
        self.calls.append(("create_secret", request["parent"], request["secret_id"], dict(request["secret"])))
        self.labels = request["secret"]["labels"]
        return types.SimpleNamespace()

    def get_secret(self, request, timeout=None):
        self.calls.append(("get_secret", request["name"]))
        return super(RegionalStub, self).get_secret(request, timeout)

    def add_secret_version(self, request, timeout=None):
        self.calls.append(("add_to", request["parent"]))
        return super(RegionalStub, self).add_secret_version(request, timeout)

    def list_secrets(self, request, timeout=None):
        self.calls.append(("list", request["parent"]))
        return [types.SimpleNamespace(name=request["parent"] + "/secrets/db")]


def test_regional_secrets_use_location_paths_and_the_regional_endpoint():
    stub = RegionalStub()
    b = backend(stub, location="europe-west1")
    assert b.endpoint() == "secretmanager.europe-west1.rep.googleapis.com"
    assert backend(location="europe-west1", api_endpoint="https://psc.internal").endpoint() == "https://psc.internal"
    assert backend().endpoint() is None
    b.write(parse_ref("gcp://p/db"), CANARY, cas=CAS_CREATE, metadata={"env": "prod"})
    assert ("create_secret", "projects/p/locations/europe-west1", "db", {"labels": {"env": "prod"}}) in stub.calls
    assert ("add_to", "projects/p/locations/europe-west1/secrets/db") in stub.calls
    assert b.read(parse_ref("gcp://p/db")).value == CANARY
    assert ("access", "projects/p/locations/europe-west1/secrets/db/versions/latest") in stub.calls
    assert ("get_secret", "projects/p/locations/europe-west1/secrets/db") in stub.calls
    assert b.list() == ["db"] and ("list", "projects/my-project/locations/europe-west1") in stub.calls
    # global secrets keep their replication policy
    glob = RegionalStub()
    backend(glob).write(parse_ref("gcp://p/db"), "x")
    assert ("create_secret", "projects/p", "db", {"labels": {}, "replication": {"automatic": {}}}) in glob.calls
    # resource names: a regional one needs its location
    assert str(b.ref_from_term("projects/p2/locations/europe-west1/secrets/db/versions/3")) == "gcp://p2/db?version=3"
    with pytest.raises(InvalidOption, match="set location to us-east1"):
        b.ref_from_term("projects/p2/locations/us-east1/secrets/db")
    assert "@europe-west1" in b.identity() and "@" not in backend().identity()
    with pytest.raises(InvalidOption, match="location must be a Google Cloud region"):
        backend(location="europe west1").validate()


def service_account_info():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "sa-project", "private_key_id": "k1", "private_key": pem,
            "client_email": "deployer@sa-project.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token"}


@pytest.mark.parametrize("as_text", [False, True])
def test_service_account_info_inline_never_touches_the_disk(as_text, monkeypatch, tmp_path):
    import json
    import tempfile
    info = service_account_info()
    given = json.dumps(info) if as_text else info

    def no_disk(*args, **kwargs):
        raise AssertionError("a temporary file was made")
    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile"):
        monkeypatch.setattr(tempfile, name, no_disk)
    b = GcpBackend({"service_account_info": given, "location": "us-east1", "timeout": 5,
                    "credentials_file": str(tmp_path / "not-read.json")}, environ={})
    b.validate()
    client = b.client()
    creds = client._transport._credentials
    assert creds.service_account_email == "deployer@sa-project.iam.gserviceaccount.com"
    assert "secretmanager.us-east1.rep.googleapis.com" in client._transport._host
    assert b.project() == "sa-project"
    assert info["private_key"] not in b.identity() and "deployer" not in b.identity()
    assert b.identity().startswith("gcp||rest|info:")
    assert list(tmp_path.iterdir()) == []


def test_service_account_info_errors_never_quote_it():
    for bad in ('{"type": "service_account", "private_key": "%s"' % CANARY, ["x"], '{"private_key": "%s"}' % CANARY):
        with pytest.raises(InvalidOption) as info:
            GcpBackend({"service_account_info": bad}, environ={}).validate()
        assert CANARY not in str(info.value) and "service_account_info must be" in str(info.value)
    env = GcpBackend({}, environ={"ANSIBLE_AGENTAREA_SECRETS_GCP_SERVICE_ACCOUNT_INFO": '{"type": "x"}',
                                  "ANSIBLE_AGENTAREA_SECRETS_GCP_LOCATION": "asia-east1"})
    assert env.options["service_account_info"] == '{"type": "x"}' and env.options["location"] == "asia-east1"
