# -*- coding: utf-8 -*-
"""Docker secrets, pure logic: version families and names, re-pointing a service's secret references, pruning
that never touches a version in use, and option handling. The swarm itself is in tests/integration/test_docker.py."""
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _docker_secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    InvalidReference,
    SecretConflict,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._docker import (
    LABEL_FINGERPRINT,
    LABEL_NAME,
    LABEL_VERSION,
    DockerBackend,
    SecretVersion,
    docker_error,
    user_labels,
    version_name,
)


def info(id_, name, number=None, logical="db", fp=None, extra=None):
    labels = dict(extra or {})
    if number is not None:
        labels.update({LABEL_NAME: logical, LABEL_VERSION: str(number)})
    if fp:
        labels[LABEL_FINGERPRINT] = fp
    return {"ID": id_, "Spec": {"Name": name, "Labels": labels}, "Version": {"Index": 11},
            "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z"}


def test_version_names_and_parsing():
    assert [version_name("db", n) for n in (1, 2, 10)] == ["db", "db_v2", "db_v10"]
    assert SecretVersion(info("a", "db"), "db").number == 1          # created by other tools: version 1
    assert SecretVersion(info("b", "db_v3", 3), "db").number == 3
    assert SecretVersion(info("c", "db_v9"), "db").number == 0      # unlabelled look-alike: not ours
    assert user_labels({"owner": "x", LABEL_FINGERPRINT: "f"}) == {"owner": "x"}


def test_names_are_validated_and_keys_refused():
    b = DockerBackend({})
    assert b.logical_name(parse_ref("docker://db_password")) == "db_password"
    with pytest.raises(InvalidReference, match="is one value"):
        b.logical_name(parse_ref("docker://db#key"))
    with pytest.raises(InvalidReference, match="at most 59 characters"):
        b.logical_name(parse_ref("docker://" + "x" * 60))


def test_options_from_docker_environment():
    b = DockerBackend({}, environ={"DOCKER_HOST": "tcp://m:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/c"})
    b.validate()
    assert b.options["docker_host"] == "tcp://m:2376" and b.options["docker_tls_verify"] is True
    assert b.identity() == "docker:tcp://m:2376"
    with pytest.raises(InvalidOption, match="docker_tls_verify must be a boolean"):
        DockerBackend({"docker_tls_verify": "perhaps"}).validate()


def test_repoint_keeps_target_file_and_other_secrets():
    file_spec = {"Name": "db_password", "UID": "1000", "GID": "1000", "Mode": 0o400}
    refs = [{"SecretID": "old", "SecretName": "db", "File": file_spec},
            {"SecretID": "other", "SecretName": "api_key", "File": {"Name": "api_key"}}]
    new, changed = _docker_secret.repoint(refs, {"old"}, ("new", "db_v2"), {"Name": "db"})
    assert changed and new == [{"SecretID": "other", "SecretName": "api_key", "File": {"Name": "api_key"}},
                               {"SecretID": "new", "SecretName": "db_v2", "File": file_spec}]
    assert _docker_secret.repoint(new, {"old", "new"}, ("new", "db_v2"), {"Name": "db"}) == (new, False)
    added, changed = _docker_secret.repoint([], {"old"}, ("new", "db_v2"), {"Name": "db", "Mode": 0o444})
    assert changed and added == [{"SecretID": "new", "SecretName": "db_v2", "File": {"Name": "db", "Mode": 0o444}}]


class FakeSwarm(DockerBackend):
    """A DockerBackend whose API calls are served from memory."""

    def __init__(self, secrets, services):
        super(FakeSwarm, self).__init__({"fingerprint_key": "k"})
        self.secrets_, self.services_ = secrets, services
        self.removed = []

    def api(self, method, *args, **kwargs):
        if method == "secrets":
            return list(self.secrets_)
        if method == "services":
            return self.services_
        if method == "remove_secret":
            if any(args[0] == s["SecretID"] for svc in self.services_
                   for s in svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]):
                raise SecretConflict("in use")
            self.removed.append(args[0])
            return True
        raise AssertionError(method)


def svc(name, *ids):
    return {"Spec": {"Name": name, "TaskTemplate": {"ContainerSpec": {"Secrets": [{"SecretID": i} for i in ids]}}}}


def test_prune_never_removes_a_version_in_use_and_keeps_the_newest():
    fam = [SecretVersion(info(str(n), version_name("db", n), n), "db") for n in (1, 2, 3)]
    swarm = FakeSwarm([], [svc("legacy", "1")])
    removed, in_use = swarm.prune(fam[:2], keep=0)
    assert removed == ["db_v2"] and in_use == {"db": ["legacy"]}
    swarm = FakeSwarm([], [])
    assert swarm.prune(fam[:2], keep=1) == (["db"], {})  # the newest old one is kept
    swarm = FakeSwarm([], [])
    assert swarm.prune(fam[:2], keep=0, check_mode=True) == (["db_v2", "db"], {}) and swarm.removed == []


def test_delete_refuses_while_in_use():
    swarm = FakeSwarm([info("1", "db", 1, fp="f")], [svc("api", "1")])
    with pytest.raises(SecretConflict, match="in use, not removed: db by api"):
        swarm.delete(parse_ref("docker://db"))
    with pytest.raises(SecretConflict, match="not removed, in use: db by api"):
        _docker_secret.remove(swarm, "db")


def test_describe_reports_the_newest_version_with_its_fingerprint():
    swarm = FakeSwarm([info("1", "db", 1, fp="f1", extra={"owner": "x"}), info("2", "db_v2", 2, fp="f2")], [])
    described = swarm.describe(parse_ref("docker://db"))
    assert described.version == "2" and described.metadata["fingerprint"] == "f2"
    assert described.metadata["versions"] == ["db", "db_v2"] and described.metadata["secret_name"] == "db_v2"


def test_docker_errors_are_typed():
    class Err(Exception):
        status_code = 400
        explanation = "rpc error: secret 'db' is in use by the following service: api"
    err = docker_error(Err(), what="removing db")
    assert isinstance(err, InvalidOption) and "removing db: rpc error" in str(err)


def test_read_source(tmp_path):
    path = tmp_path / "v"
    path.write_bytes(b"\x00binary")
    assert _docker_secret.read_source(None, str(path)) == b"\x00binary"
    assert _docker_secret.read_source("v", None) == "v"
    with pytest.raises(InvalidOption, match="cannot read src"):
        _docker_secret.read_source(None, str(tmp_path / "missing"))
