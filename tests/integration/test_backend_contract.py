# -*- coding: utf-8 -*-
"""The backend contract (CONTRIBUTING.md, core/_backend.py), one parametrised set of tests run against every backend
in core/_registry.py that has a real server or our fake here. The backend classes are driven directly in Python (no
ansible-playbook per step), built as modules build them: the class from the registry, options validated, the
environment given explicitly (so nothing of the developer's leaks in).

What each store needs and what it offers is one row of ``STORES`` below; the tests read only the row. Per store:
- CAPABILITIES honoured: every operation a backend does not declare raises NotSupported (typed), and the row's
  capabilities are the class's (a backend that gains or loses one must change the row);
- write then read returns the value (and a version where the store versions values);
- ``read`` of a missing secret raises SecretNotFound naming the reference and the backend;
- a write with a stale ``cas`` is refused (SecretConflict) where the backend declares check-and-set, and a
  ``cas=CAS_CREATE`` write of a secret that exists is refused;
- describe / versions / list / set_tags / delete do what they are declared to do;
- ``identity()`` holds no credential;
- no error message, ``repr`` or ``describe()`` holds a value (canaries).

Docker (write-only: no read, a fingerprint label instead) needs the swarm: its case carries
``xdist_group("swarm")`` and runs only where the swarm tests run.
"""
import uuid

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_DELETE, CAP_LIST, CAP_METADATA, CAP_READ, CAP_STAGES, CAP_VERSIONS, CAP_WRITE, CAS_CREATE, Secret)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    NotSupported, SecretConflict, SecretError, SecretNotFound)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class

CANARY = "canary-2b8e6f10-contract"
CANARY2 = "canary-a41c93d7-contract"
CANARY3 = "canary-5d07e2b9-contract"
CREDENTIAL = "canary-cred-7e19c4a2"  # given as the credential where the store accepts any (never in identity())
CANARIES = [CANARY, CANARY2, CANARY3]

ALL_CAPS = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_STAGES, CAP_CAS, CAP_LIST, CAP_METADATA))


def _caps(*names):
    return frozenset(names)


# One row per store. ``service``: the harness service (None: no server). ``options(info, tmp)``: the backend's
# options. ``location(info, tmp, name)``: the reference of secret ``name`` (no key). ``shape``: ``map`` (values are
# maps, read through ``#password``) or ``text``. ``caps``: the class's CAPABILITIES. ``versioned``: write and read
# return a version. ``cas``: ``version`` (a stale version is refused), ``create`` (only CAS_CREATE is checked: the
# store keeps no versions) or None. ``tags``: set_tags works (on this mount/store). ``listing(info, tmp, name)``:
# (prefix, the entry ``name`` appears as). ``credentials(info)``: strings identity() must not contain.
STORES = {
    "vault-kv2": dict(
        service="vault", scheme="vault",
        options=lambda i, t: {"url": i["url"], "token": i["token"], "timeout": 10, "retries": 0},
        location=lambda i, t, n: "vault://secret/contract/%s" % n,
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA),
        versioned=True, cas="version", tags=True,
        listing=lambda i, t, n: ("secret/contract", "secret/contract/%s" % n),
        credentials=lambda i: [i["token"]]),
    # KV v1: the same class (so the same CAPABILITIES), but the mount keeps no versions and no custom metadata
    "vault-kv1": dict(
        service="vault", scheme="vault",
        options=lambda i, t: {"url": i["url"], "token": i["token"], "timeout": 10, "retries": 0, "kv_version": 1},
        location=lambda i, t, n: "vault://kv1/contract/%s" % n,
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA),
        versioned=False, cas="create", tags=False, prepare="kv1_mount",
        listing=lambda i, t, n: ("kv1/contract", "kv1/contract/%s" % n),
        credentials=lambda i: [i["token"]]),
    "aws": dict(
        service="aws", scheme="aws",
        options=lambda i, t: {"region": i["region"], "endpoint_url": i["url"], "access_key": i["access_key"],
                              "secret_key": CREDENTIAL, "timeout": 10, "retries": 0, "force_delete": True},
        location=lambda i, t, n: "aws://contract/%s" % n,
        shape="map", caps=ALL_CAPS,
        versioned=True, cas="version", tags=True, prepare="region_holds_secrets",
        listing=lambda i, t, n: ("contract/", "contract/%s" % n),
        credentials=lambda i: [CREDENTIAL]),
    # SSM Parameter Store on the same moto server: JSON values read through #password, no staging labels (labels
    # are ?label= selectors, not the rotation engine's stages); hierarchical names are listed fully qualified
    "ssm": dict(
        service="aws", scheme="ssm",
        options=lambda i, t: {"region": i["region"], "ssm_endpoint_url": i["url"], "access_key": i["access_key"],
                              "secret_key": CREDENTIAL, "timeout": 10, "retries": 0},
        location=lambda i, t, n: "ssm://contract/%s" % n,
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA),
        versioned=True, cas="version", tags=True,
        listing=lambda i, t, n: ("contract/", "/contract/%s" % n),
        credentials=lambda i: [CREDENTIAL]),
    "azure": dict(
        service="azure", scheme="azure",
        options=lambda i, t: {"vault_url": i["url"], "access_token": CREDENTIAL, "ca_cert": i["ca_cert"],
                              "timeout": 10, "force_delete": True},
        location=lambda i, t, n: "azure://%s/%s" % (i["url"].split("://", 1)[1], n),
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA),
        versioned=True, cas="version", tags=True,
        listing=lambda i, t, n: (n, n),
        credentials=lambda i: [CREDENTIAL]),
    "gcp": dict(
        service="gcp", scheme="gcp",
        options=lambda i, t: {"project": i["project"], "api_endpoint": i["url"], "access_token": CREDENTIAL,
                              "timeout": 10},
        location=lambda i, t, n: "gcp://%s/%s" % (i["project"], n),
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_VERSIONS, CAP_CAS, CAP_LIST, CAP_METADATA),
        versioned=True, cas="version", tags=True,
        listing=lambda i, t, n: (n, n),
        credentials=lambda i: [CREDENTIAL]),
    "k8s": dict(
        service="k8s", scheme="k8s",
        options=lambda i, t: {"kubeconfig": i["kubeconfig"], "timeout": 10},
        location=lambda i, t, n: "k8s://agentarea/%s" % n,
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_CAS, CAP_LIST, CAP_METADATA),
        versioned=True, cas="version", tags=True,
        listing=lambda i, t, n: ("agentarea/%s" % n, "agentarea/%s" % n),
        credentials=lambda i: [i["token"]]),
    "pass": dict(
        service="pass", scheme="pass",
        options=lambda i, t: {"password_store_dir": i["store_dir"], "gnupghome": i["gnupghome"], "timeout": 30},
        location=lambda i, t, n: "pass://contract/%s" % n,
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_LIST),
        versioned=False, cas=None, tags=False,
        listing=lambda i, t, n: ("contract", "contract/%s" % n),
        credentials=lambda i: []),
    "file": dict(
        service=None, scheme="file",
        options=lambda i, t: {},
        location=lambda i, t, n: "file://%s/%s.json" % (t, n),
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE),
        versioned=False, cas=None, tags=False, listing=None,
        credentials=lambda i: []),
    "dotenv": dict(
        service=None, scheme="dotenv",
        options=lambda i, t: {},
        location=lambda i, t, n: "dotenv://%s/%s.env" % (t, n),
        shape="map", caps=_caps(CAP_READ, CAP_WRITE, CAP_DELETE, CAP_LIST),
        versioned=False, cas=None, tags=False, delete_key="password",
        listing=lambda i, t, n: ("%s/%s.env" % (t, n), "password"),
        credentials=lambda i: []),
    # read-only: the value comes from the environment the backend is given (see ``environ`` below)
    "env": dict(
        service=None, scheme="env",
        options=lambda i, t: {},
        location=lambda i, t, n: "env://%s" % n.upper().replace("-", "_"),
        shape="text", caps=_caps(CAP_READ),
        versioned=False, cas=None, tags=False, listing=None,
        credentials=lambda i: []),
    # write-only (no read): describe() gives the fingerprint label; needs the swarm (see test_docker_contract)
    "docker": dict(
        service="docker", scheme="docker",
        options=lambda i, t: {"docker_host": i["docker_host"], "fingerprint_key": CREDENTIAL, "timeout": 30},
        location=lambda i, t, n: "docker://%s" % n,
        shape="text", caps=_caps(CAP_WRITE, CAP_DELETE, CAP_LIST, CAP_METADATA),
        versioned=True, cas=None, tags=True,
        listing=lambda i, t, n: (n, n),
        credentials=lambda i: [CREDENTIAL]),
}
SERVER_STORES = [name for name in STORES if name != "docker"]
OPERATIONS = (  # capability -> how the test calls the operation on a reference
    (CAP_READ, lambda b, ref: b.read(ref)),
    (CAP_WRITE, lambda b, ref: b.write(ref, {"password": CANARY})),
    (CAP_DELETE, lambda b, ref: b.delete(ref)),
    (CAP_VERSIONS, lambda b, ref: b.versions(ref)),
    (CAP_LIST, lambda b, ref: b.list("")),
    (CAP_METADATA, lambda b, ref: b.set_tags(ref, {"owner": "contract"})),
)


class Store:
    """One row made concrete: the backend built as a module builds it, names, references and clean-up."""

    def __init__(self, name, row, info, tmp, environ):
        self.name, self.row, self.info, self.tmp = name, row, info, str(tmp)
        cls = backend_class(row["scheme"])
        self.environ = environ
        self.backend = cls(row["options"](info, self.tmp), environ=environ)
        self.backend.validate()
        self.created = []

    def new_name(self):
        name = "aa-%s" % uuid.uuid4().hex[:12]
        self.created.append(name)
        return name

    def location(self, name):
        return self.row["location"](self.info, self.tmp, name)

    def ref(self, name, key=None):
        text = self.location(name)
        if key is not None:
            text += "#" + key
        return parse_ref(text)

    def value(self, secret, name):
        """The value a read returned, as the test wrote it."""
        if self.row["shape"] == "map":
            return self.backend.select(secret, self.ref(name, "password"))
        return self.backend.select(secret, self.ref(name))

    def put(self, name, value, **kwargs):
        """Write ``value`` (the ``password`` field for map stores)."""
        if self.row["scheme"] == "env":
            self.environ[self.location(name).split("://", 1)[1]] = value
            return Secret(None)
        if self.row["shape"] == "map":
            return self.backend.write(self.ref(name), {"password": value, "user": "app"}, **kwargs)
        return self.backend.write(self.ref(name), value, **kwargs)

    def cleanup(self):
        if CAP_DELETE not in self.row["caps"]:
            return
        for name in self.created:
            try:
                if self.row["scheme"] == "dotenv":
                    for key in ("password", "user"):
                        self.backend.delete(self.ref(name, key))
                else:
                    self.backend.delete(self.ref(name))
            except SecretError:
                pass


@pytest.fixture(scope="module")
def kv1_mount(harness):
    import hvac

    info = harness.start("vault")
    client = hvac.Client(url=info["url"], token=info["token"])
    if "kv1/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    return info


@pytest.fixture(scope="module")
def region_holds_secrets(harness):
    """A region that holds no secret at all makes readers fail ("wrong region?"); a real account's region holds
    secrets, moto starts empty."""
    import boto3
    from botocore.exceptions import ClientError

    info = harness.start("aws")
    sm = boto3.client("secretsmanager", endpoint_url=info["url"], region_name=info["region"],
                      aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])
    try:
        sm.create_secret(Name="agentarea-tests/region-holds-secrets", SecretString="-")
    except ClientError:
        pass  # already there


# (the row's ``prepare``: a module fixture that readies the store, e.g. a KV v1 mount)
@pytest.fixture(params=SERVER_STORES)
def store(request, harness, tmp_path):
    row = STORES[request.param]
    if row.get("prepare"):
        request.getfixturevalue(row["prepare"])
    info = harness.start(row["service"]) if row["service"] else {}
    s = Store(request.param, row, info, tmp_path, environ={})
    try:
        yield s
    finally:
        s.cleanup()
        s.backend.close()


def assert_no_canary(*texts):
    for text in texts:
        for canary in CANARIES:
            assert canary not in str(text), "a value leaked: %r" % (text,)


def assert_error_names(exc, ref, backend):
    """A typed error that names the reference and the store, and holds no value."""
    text = str(exc)
    assert isinstance(exc, SecretError), repr(exc)
    assert exc.backend == backend and str(ref.without_key()).split("?", maxsplit=1)[0].split("#")[0] in text, text
    assert backend in text and "Traceback" not in text, text
    assert_no_canary(text, repr(exc))


# -- the contract ---------------------------------------------------------------------------------------------------
def test_capabilities_declared_and_undeclared_operations_raise_not_supported(store):
    cls = type(store.backend)
    assert cls.CAPABILITIES == store.row["caps"], "CAPABILITIES changed: update the row in STORES"
    name = store.new_name()
    ref = store.ref(name)
    for capability, call in OPERATIONS:
        if capability in cls.CAPABILITIES:
            continue
        with pytest.raises(NotSupported) as err:
            call(store.backend, ref)
        assert err.value.backend == cls.NAME and cls.NAME in str(err.value)
    assert (CAP_STAGES in cls.CAPABILITIES) == hasattr(store.backend, "promote")


def test_write_then_read_returns_value_and_version(store):
    name = store.new_name()
    written = store.put(name, CANARY)
    assert isinstance(written, Secret)
    assert_no_canary(repr(written), written.describe())
    secret = store.backend.read(store.ref(name))
    assert store.value(secret, name) == CANARY
    assert_no_canary(repr(secret), secret.describe())
    if store.row["versioned"]:
        assert secret.version and written.version == secret.version
    if CAP_WRITE not in store.row["caps"]:
        return
    again = store.put(name, CANARY2)
    secret2 = store.backend.read(store.ref(name))
    assert store.value(secret2, name) == CANARY2
    if store.row["versioned"]:
        assert again.version == secret2.version and secret2.version != secret.version
    # many reads at once: the same answers in order, a missing one as its error (not raised)
    missing = store.ref(store.new_name())
    got = store.backend.read_many([store.ref(name), missing])
    assert store.value(got[0], name) == CANARY2 and isinstance(got[1], SecretNotFound)


def test_read_of_a_missing_secret_raises_secret_not_found_naming_reference_and_backend(store):
    ref = store.ref(store.new_name())
    with pytest.raises(SecretNotFound) as err:
        store.backend.read(ref)
    assert_error_names(err.value, ref, store.backend.NAME)
    if CAP_READ in store.row["caps"] and store.row["shape"] == "map" and CAP_WRITE in store.row["caps"]:
        # a key the secret lacks: also SecretNotFound, naming the reference, never a value
        name = store.new_name()
        store.put(name, CANARY)
        keyed = store.ref(name, "nope")
        with pytest.raises(SecretNotFound) as err:
            store.backend.select(store.backend.read(store.ref(name)), keyed)
        assert_error_names(err.value, keyed, store.backend.NAME)


def test_check_and_set_refuses_a_stale_write(store):
    if CAP_WRITE not in store.row["caps"]:
        pytest.skip("%s is read-only" % store.name)
    name = store.new_name()
    if store.row["cas"] is None:
        assert CAP_CAS not in store.row["caps"]
        return
    assert CAP_CAS in store.row["caps"]
    first = store.put(name, CANARY, cas=CAS_CREATE)
    with pytest.raises(SecretConflict) as err:
        store.put(name, CANARY2, cas=CAS_CREATE)  # it exists now
    assert_error_names(err.value, store.ref(name), store.backend.NAME)
    assert store.value(store.backend.read(store.ref(name)), name) == CANARY
    if store.row["cas"] != "version":
        return
    stale = first.version
    second = store.put(name, CANARY2, cas=stale)
    assert second.version != stale
    with pytest.raises(SecretConflict) as err:
        store.put(name, CANARY3, cas=stale)
    assert_error_names(err.value, store.ref(name), store.backend.NAME)
    assert store.value(store.backend.read(store.ref(name)), name) == CANARY2


def test_describe_versions_list_set_tags_and_delete_as_declared(store):
    caps, b = store.row["caps"], store.backend
    name = store.new_name()
    ref = store.ref(name)
    if CAP_WRITE in caps:
        first = store.put(name, CANARY)
        store.put(name, CANARY2)
    else:
        first = store.put(name, CANARY)
    described = b.describe(ref)
    assert described.value is None and isinstance(described, Secret)
    assert_no_canary(repr(described), described.describe())
    if store.row["versioned"]:
        assert described.version == b.read(ref).version
    if CAP_VERSIONS in caps:
        versions = b.versions(ref)
        assert_no_canary(versions)
        if store.row["versioned"]:
            assert [v["version"] for v in versions][-2:][0] == first.version and len(versions) == 2
            assert versions[-1]["version"] == described.version  # newest last
        else:
            assert versions == []  # KV v1 keeps none
    if CAP_LIST in caps:
        prefix, entry = store.row["listing"](store.info, store.tmp, name)
        listed = b.list(prefix)
        assert entry in listed and not any(c in str(listed) for c in CANARIES)
    if CAP_METADATA in caps:
        if store.row["tags"]:
            b.set_tags(ref, {"owner": "contract", "team": "x"})
            assert b.describe(ref).metadata.get("tags", {}).get("owner") == "contract"
            b.set_tags(ref, {"owner": "other"})
            assert b.describe(ref).metadata["tags"].get("owner") == "other"
            if CAP_VERSIONS in caps and store.row["versioned"]:  # (k8s's resourceVersion moves with any change)
                assert b.describe(ref).version == described.version  # tags are no new version
            if CAP_READ in caps:
                assert store.value(b.read(ref), name) == CANARY2
        else:
            with pytest.raises(NotSupported) as err:
                b.set_tags(ref, {"owner": "contract"})
            assert_error_names(err.value, ref, b.NAME)
    if CAP_DELETE in caps:
        # a .env file is deleted a variable at a time (row's delete_key)
        gone = store.ref(name, store.row["delete_key"]) if store.row.get("delete_key") else ref
        assert b.delete(gone)
        with pytest.raises(SecretError) as err:  # missing, or deleted where the store keeps it recoverable
            b.select(b.read(ref), gone) if CAP_READ in caps else b.describe(ref)
        assert_no_canary(str(err.value))
        assert not b.delete(gone) or store.row["scheme"] == "vault"  # KV v2's soft delete answers True again


def test_identity_holds_no_credential(store):
    ident = store.backend.identity()
    assert isinstance(ident, str) and ident
    secrets = [v for k, v in store.backend.options.items()
               if store.backend.ARGSPEC.get(k, {}).get("no_log") is True and isinstance(v, str) and v]
    secrets += store.row["credentials"](store.info)
    for secret in secrets:
        assert secret not in ident, "identity() holds a credential: %r" % ident
    # two backends of the same store and credentials share it (the cache key)
    twin = type(store.backend)(store.row["options"](store.info, store.tmp), environ=dict(store.environ))
    assert twin.identity() == ident


def test_errors_never_hold_the_value(store):
    """Errors raised around a secret whose value is a canary: a key it lacks, a stale write, a write that cannot
    be made, a reference that does not parse for this store."""
    if CAP_WRITE not in store.row["caps"]:
        store.put("aa-canary", CANARY)
        secret = store.backend.read(store.ref("aa-canary"))
        with pytest.raises(SecretError) as err:
            secret.select("nope", ref=store.ref("aa-canary"), backend=store.backend.NAME)
        assert_no_canary(str(err.value), repr(err.value))
        return
    name = store.new_name()
    store.put(name, CANARY)
    errors = []
    for attempt in (
            lambda: store.backend.select(store.backend.read(store.ref(name)), store.ref(name, "nope")),
            lambda: store.put(name, CANARY2, cas=CAS_CREATE),
            lambda: store.backend.write(store.ref(name), CANARY3, cas="999999") if store.row["shape"] == "map" else None,
    ):
        try:
            attempt()
        except SecretError as exc:
            errors.append(exc)
        except Exception as exc:  # pylint: disable=broad-except
            pytest.fail("an untyped error escaped: %s" % type(exc).__name__)
    assert errors, "no attempt failed"
    for exc in errors:
        assert_no_canary(str(exc), repr(exc), exc.args)


# -- Docker: write-only, on the swarm -------------------------------------------------------------------------------
@pytest.mark.xdist_group("swarm")
def test_docker_contract(harness, tmp_path):
    row = STORES["docker"]
    store = Store("docker", row, harness.start("docker"), tmp_path, environ={})
    b = store.backend
    try:
        assert type(b).CAPABILITIES == row["caps"]
        name = store.new_name()
        ref = store.ref(name)
        for capability, call in OPERATIONS:
            if capability not in row["caps"]:
                with pytest.raises(NotSupported):
                    call(b, ref)
        with pytest.raises(SecretNotFound) as err:
            b.describe(ref)
        assert_error_names(err.value, ref, b.NAME)
        written = b.write(ref, CANARY, metadata={"owner": "contract"})
        assert_no_canary(repr(written), written.describe())
        described = b.describe(ref)
        assert described.value is None and described.metadata.get("fingerprint")
        assert_no_canary(repr(described), described.describe())
        prefix, entry = row["listing"](store.info, store.tmp, name)
        assert entry in b.list(prefix)
        b.set_tags(ref, {"owner": "other"})
        assert b.describe(ref).metadata["tags"].get("owner") == "other"
        assert CREDENTIAL not in b.identity()
        assert b.delete(ref)
        with pytest.raises(SecretNotFound):
            b.describe(ref)
    finally:
        store.cleanup()
        b.close()
